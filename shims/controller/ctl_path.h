/*
 * slate-controller: path normalisation, which bounds the cardinality of
 * endpoint paths.
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef CTL_PATH_H
#define CTL_PATH_H

#include <stddef.h>

/** Longest normalised path kept; longer paths end in "/{trunc}". */
#define CTL_PATH_MAX 200

/*
 * Normalises a request path so that ids do not make new endpoints:
 *   - the query string ("?...") and fragment ("#...") are dropped;
 *   - an empty path becomes "/";
 *   - each '/'-separated segment that looks like an id becomes "{id}":
 *       * all decimal digits ("/orders/12345"),
 *       * a UUID (8-4-4-4-12 hex digits, any case),
 *       * 12 or more hex digits with at least one decimal digit ("5d0f416cca2d80da"),
 *       * 20 or more of [A-Za-z0-9_-] with at least one digit and one letter
 *         (base64url tokens, ObjectIds, ULIDs);
 *   - segments named like gRPC methods ("hipstershop.CartService") and words are kept;
 *   - spaces, control bytes, comma, quote and backslash are
 *     percent-encoded (they would break the text formats paths travel in);
 *   - a result longer than CTL_PATH_MAX is cut at a segment boundary and
 *     "/{trunc}" appended.
 * Writes a NUL-terminated string of at most CTL_PATH_MAX + 9 bytes into `out`
 * (cap must be >= CTL_PATH_MAX + 16) and returns its length. O(len).
 */
size_t ctl_path_normalize(const char *path, size_t len, char *out, size_t cap);

#endif
