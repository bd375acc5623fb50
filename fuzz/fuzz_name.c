/*
 * The naming rules over arbitrary bytes.
 *
 * Input: one byte selecting the kind (mod 6, so an unknown kind is tried
 * too), then the name. Invariants checked:
 * - the result is OK, SLATE_ENAME, or SLATE_EINVAL for an unknown kind only;
 * - `why` is "" exactly on success;
 * - an accepted service, region or pod is at most 63 bytes and holds only
 *   bytes that may appear in a Kubernetes label value; an accepted method or
 *   path holds no byte outside visible ASCII;
 * - a service is accepted only if it is also a valid region (a DNS-1123
 *   label is a label value), and the check reads only `len` bytes (the
 *   input is copied to an exact-size heap block so ASan sees any over-read).
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "slate/name.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if (!(x))                                                                                  \
            __builtin_trap();                                                                      \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    slate_name_kind kind = (slate_name_kind)(data[0] % 6);
    size_t n = size - 1;
    char *s = malloc(n ? n : 1);
    if (!s)
        return 0;
    if (n)
        memcpy(s, data + 1, n);
    const char *why = NULL;
    slate_status st = slate_name_check(kind, s, n, &why);
    CHECK(why != NULL);
    if (kind == 0) {
        CHECK(st == SLATE_EINVAL);
    } else {
        CHECK(st == SLATE_OK || st == SLATE_ENAME);
        CHECK((st == SLATE_OK) == (why[0] == '\0'));
    }
    if (st == SLATE_OK && kind != 0) {
        for (size_t i = 0; i < n; i++)
            CHECK(s[i] > 0x20 && s[i] < 0x7f);
        if (kind == SLATE_NAME_SERVICE || kind == SLATE_NAME_REGION || kind == SLATE_NAME_POD) {
            CHECK(n <= SLATE_NAME_MAX_LABEL);
            for (size_t i = 0; i < n; i++)
                CHECK(strchr("-_.", s[i]) || (s[i] >= '0' && s[i] <= '9') ||
                      (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z'));
        }
        if (kind == SLATE_NAME_SERVICE)
            CHECK(slate_name_check(SLATE_NAME_REGION, s, n, NULL) == SLATE_OK);
    }
    free(s);
    return 0;
}
