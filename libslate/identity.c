/*
 * libslate - a proxy's service, region and pod from what it knows (identity.h).
 * SPDX-License-Identifier: Apache-2.0
 */
#include "slate/identity.h"

slate_status slate_identity_pick(slate_name_kind kind, const char *const *values,
                                 const size_t *lens, size_t n, size_t *index, const char **why)
{
    if (why)
        *why = "";
    if (n > 0 && (!values || !lens || !index))
        return SLATE_EINVAL;
    const char *probe_why = NULL;
    if (slate_name_check(kind, "", 0, &probe_why) == SLATE_EINVAL)
        return SLATE_EINVAL;
    slate_status first_bad = SLATE_EMISSING;
    for (size_t i = 0; i < n; i++) {
        if (!values[i] || lens[i] == 0)
            continue;
        const char *w = "";
        slate_status st = slate_name_check(kind, values[i], lens[i], &w);
        if (st == SLATE_OK) {
            *index = i;
            if (why)
                *why = "";
            return SLATE_OK;
        }
        if (first_bad == SLATE_EMISSING) {
            first_bad = SLATE_ENAME;
            *index = i;
            if (why)
                *why = w;
        }
    }
    return first_bad;
}
