/*
 * Endpoint keys over arbitrary service, method and path bytes.
 *
 * Input: u16le service length, u16le method length, then the service bytes,
 * the method bytes, and the rest is the path (lengths are clamped to what is
 * there). Invariants checked:
 * - the key function returns OK or SLATE_ERANGE (a name over
 *   SLATE_KEY_MAX_NAME), and is deterministic;
 * - stripping the query is idempotent, and the key of the stripped path, and
 *   of the path cut to SLATE_KEY_MAX_PATH, is the key of the path;
 * - the truncation flag is set exactly when the stripped path is longer than
 *   SLATE_KEY_MAX_PATH;
 * - the key does not depend on the case of the service, and equals XXH3 of
 *   the canonical string documented in key.h, rebuilt here.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdint.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "slate/key.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if (!(x))                                                                                  \
            __builtin_trap();                                                                      \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 4)
        return 0;
    size_t sl = (size_t)data[0] | (size_t)data[1] << 8;
    size_t ml = (size_t)data[2] | (size_t)data[3] << 8;
    size_t rest = size - 4;
    if (sl > rest)
        sl = rest;
    rest -= sl;
    if (ml > rest)
        ml = rest;
    rest -= ml;
    /* Separate exact-size copies so an over-read of any field is caught. */
    char *svc = malloc(sl + 1), *met = malloc(ml + 1), *path = malloc(rest + 1);
    char *lower = malloc(sl + 1);
    if (!svc || !met || !path || !lower)
        goto out;
    memcpy(svc, data + 4, sl);
    memcpy(met, data + 4 + sl, ml);
    memcpy(path, data + 4 + sl + ml, rest);

    uint64_t k1 = 0, k2 = 0;
    unsigned f1 = 7, f2 = 7;
    slate_status st = slate_endpoint_key(svc, sl, met, ml, path, rest, &k1, &f1);
    if (sl > SLATE_KEY_MAX_NAME || ml > SLATE_KEY_MAX_NAME) {
        CHECK(st == SLATE_ERANGE);
        CHECK(k1 == 0 && f1 == 7);
        goto out;
    }
    CHECK(st == SLATE_OK);
    CHECK(slate_endpoint_key(svc, sl, met, ml, path, rest, &k2, &f2) == SLATE_OK);
    CHECK(k1 == k2 && f1 == f2);

    size_t plen = slate_path_len(path, rest);
    CHECK(plen <= rest);
    CHECK(slate_path_len(path, plen) == plen);
    for (size_t i = 0; i < plen; i++)
        CHECK(path[i] != '?' && path[i] != '#');
    CHECK(plen == rest || path[plen] == '?' || path[plen] == '#');
    CHECK(f1 == (plen > SLATE_KEY_MAX_PATH ? SLATE_KEY_PATH_TRUNCATED : 0u));
    size_t cut = plen < SLATE_KEY_MAX_PATH ? plen : SLATE_KEY_MAX_PATH;
    CHECK(slate_endpoint_key(svc, sl, met, ml, path, plen, &k2, NULL) == SLATE_OK && k2 == k1);
    CHECK(slate_endpoint_key(svc, sl, met, ml, path, cut, &k2, &f2) == SLATE_OK && k2 == k1);
    CHECK(f2 == 0);

    for (size_t i = 0; i < sl; i++)
        lower[i] = (svc[i] >= 'A' && svc[i] <= 'Z') ? (char)(svc[i] - 'A' + 'a') : svc[i];
    CHECK(slate_endpoint_key(lower, sl, met, ml, path, rest, &k2, NULL) == SLATE_OK && k2 == k1);

    /* The canonical string of key.h, rebuilt independently. */
    unsigned char canon[2 + 255 + 2 + 255 + 2 + 256];
    size_t o = 0;
    canon[o++] = (unsigned char)sl;
    canon[o++] = (unsigned char)(sl >> 8);
    memcpy(canon + o, lower, sl);
    o += sl;
    canon[o++] = (unsigned char)ml;
    canon[o++] = (unsigned char)(ml >> 8);
    memcpy(canon + o, met, ml);
    o += ml;
    canon[o++] = (unsigned char)cut;
    canon[o++] = (unsigned char)(cut >> 8);
    memcpy(canon + o, path, cut);
    o += cut;
    CHECK(XXH3_64bits(canon, o) == k1);
out:
    free(svc);
    free(met);
    free(path);
    free(lower);
    return 0;
}
