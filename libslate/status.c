/*
 * libslate - service-layer traffic engineering for service meshes.
 * SPDX-License-Identifier: Apache-2.0
 */
#include "slate/status.h"
#include "slate/version.h"

/* One row per status of status.h, in order; tests/test_status.c checks that none is missing. */
static const struct {
    slate_status code;
    const char *name;
    const char *text;
} slate_status_table[] = {
    {SLATE_OK, "SLATE_OK", "success"},
    {SLATE_EINVAL, "SLATE_EINVAL", "a required pointer is NULL or an argument is malformed"},
    {SLATE_ENOSPC, "SLATE_ENOSPC", "the caller's buffer or region is too small"},
    {SLATE_EALIGN, "SLATE_EALIGN", "the caller's memory is not aligned as documented"},
    {SLATE_ERANGE, "SLATE_ERANGE", "a parameter is outside its documented range"},
    {SLATE_EBADMAGIC, "SLATE_EBADMAGIC", "a region does not start with the expected magic"},
    {SLATE_EBADVERSION, "SLATE_EBADVERSION",
     "a region's layout version is not one this library reads"},
    {SLATE_EBADSIZE, "SLATE_EBADSIZE",
     "a region's recorded sizes disagree with its length or params"},
    {SLATE_ECORRUPT, "SLATE_ECORRUPT", "a region's contents violate an invariant"},
    {SLATE_EMISMATCH, "SLATE_EMISMATCH", "two structures cannot be combined (different params)"},
    {SLATE_ELATE, "SLATE_ELATE", "a timestamp older than the window; it was counted as late"},
    {SLATE_EOVERFLOW, "SLATE_EOVERFLOW", "a counter saturated; the count is a lower bound"},
    {SLATE_EWEIGHT_NAN, "SLATE_EWEIGHT_NAN", "a weight is NaN"},
    {SLATE_EWEIGHT_INF, "SLATE_EWEIGHT_INF", "a weight is infinite"},
    {SLATE_EWEIGHT_NEG, "SLATE_EWEIGHT_NEG", "a weight is negative"},
    {SLATE_EWEIGHT_ZERO, "SLATE_EWEIGHT_ZERO", "every weight is zero"},
    {SLATE_ETOOMANY, "SLATE_ETOOMANY", "more entries than the structure's capacity"},
    {SLATE_EEMPTY, "SLATE_EEMPTY", "no entries at all"},
    {SLATE_EDUPLICATE, "SLATE_EDUPLICATE", "the same key appears twice"},
    {SLATE_ETRACEID, "SLATE_ETRACEID", "a trace id is empty, too long or not hexadecimal"},
    {SLATE_ETRUNCATED, "SLATE_ETRUNCATED", "the input ends inside a tag, value or field"},
    {SLATE_EVARINT, "SLATE_EVARINT", "a varint is longer than 10 bytes or overflows 64 bits"},
    {SLATE_ELENGTH, "SLATE_ELENGTH",
     "a length prefix points past the end of its enclosing message"},
    {SLATE_EWIRETYPE, "SLATE_EWIRETYPE",
     "a field arrived with a wire type its schema does not allow"},
    {SLATE_EUTF8, "SLATE_EUTF8", "a string field is not valid UTF-8"},
    {SLATE_EDEPTH, "SLATE_EDEPTH", "messages nest deeper than the configured limit"},
    {SLATE_ECOUNT, "SLATE_ECOUNT", "a repeated field has more elements than the configured limit"},
    {SLATE_ESTRLEN, "SLATE_ESTRLEN", "a string or bytes field is longer than the configured limit"},
    {SLATE_EFIELD, "SLATE_EFIELD", "field number 0, or a number outside 1..2^29-1"},
    {SLATE_EVALUE, "SLATE_EVALUE", "a value is outside the range its field allows"},
    {SLATE_EMISSING, "SLATE_EMISSING", "a field the message cannot do without is absent"},
    {SLATE_EGROUP, "SLATE_EGROUP", "a (deprecated) group wire type, which no slate message uses"},
    {SLATE_ESYNTAX, "SLATE_ESYNTAX", "a line does not have the shape its body type requires"},
    {SLATE_ENUMBER, "SLATE_ENUMBER", "a number field is not a valid, finite number in range"},
    {SLATE_EINFEASIBLE, "SLATE_EINFEASIBLE",
     "no routing satisfies the constraints (capacity, placement)"},
    {SLATE_ESOLVER, "SLATE_ESOLVER", "the LP solver stopped without an optimum (limit, numerics)"},
    {SLATE_ENAME, "SLATE_ENAME", "a name breaks the rules of its kind"},
    {SLATE_ECYCLE, "SLATE_ECYCLE", "the call graph has a cycle"},
};

#define SLATE_STATUS_COUNT (sizeof slate_status_table / sizeof slate_status_table[0])

const char *slate_strerror(slate_status status)
{
    for (unsigned i = 0; i < SLATE_STATUS_COUNT; i++)
        if (slate_status_table[i].code == status)
            return slate_status_table[i].text;
    return "unknown status";
}

const char *slate_status_name(slate_status status)
{
    for (unsigned i = 0; i < SLATE_STATUS_COUNT; i++)
        if (slate_status_table[i].code == status)
            return slate_status_table[i].name;
    return "SLATE_E?";
}

unsigned slate_version_number(void)
{
    return SLATE_VERSION_NUMBER;
}

const char *slate_version_string(void)
{
    return SLATE_VERSION_STRING;
}
