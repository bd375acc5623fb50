/*
 * libslate - service-layer traffic engineering for service meshes.
 * SPDX-License-Identifier: Apache-2.0
 */
/**
 * @file status.h
 * @brief The status codes every libslate function returns, and their text.
 *
 * `SLATE_OK` is zero; every error is a distinct positive value that is never
 * reused for another meaning, so a number in a log or on the wire stays
 * meaningful across versions. Codes are grouped by module in ranges of ten or
 * more; new codes are appended inside their range.
 */
#ifndef SLATE_STATUS_H
#define SLATE_STATUS_H

#include "slate/export.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum slate_status {
    SLATE_OK = 0,

    /* General (1-19). */
    SLATE_EINVAL = 1,      /**< a required pointer is NULL or an argument is malformed */
    SLATE_ENOSPC = 2,      /**< the caller's buffer or region is too small */
    SLATE_EALIGN = 3,      /**< the caller's memory is not aligned as documented */
    SLATE_ERANGE = 4,      /**< a parameter is outside its documented range */
    SLATE_EBADMAGIC = 5,   /**< a region does not start with the expected magic */
    SLATE_EBADVERSION = 6, /**< a region's layout version is not one this library reads */
    SLATE_EBADSIZE = 7,    /**< a region's recorded sizes disagree with its length or params */
    SLATE_ECORRUPT = 8,    /**< a region's contents violate an invariant */
    SLATE_EMISMATCH = 9,   /**< two structures cannot be combined (different params) */

    /* Rate estimator (20-29). */
    SLATE_ELATE = 20,     /**< a timestamp older than the window; it was counted as late */
    SLATE_EOVERFLOW = 21, /**< a counter saturated; the count is a lower bound */

    /* Weighted region sampler (40-49). */
    SLATE_EWEIGHT_NAN = 40,  /**< a weight is NaN */
    SLATE_EWEIGHT_INF = 41,  /**< a weight is infinite */
    SLATE_EWEIGHT_NEG = 42,  /**< a weight is negative */
    SLATE_EWEIGHT_ZERO = 43, /**< every weight is zero */
    SLATE_ETOOMANY = 44,     /**< more entries than the structure's capacity */
    SLATE_EEMPTY = 45,       /**< no entries at all */
    SLATE_EDUPLICATE = 46,   /**< the same key appears twice */

    /* Keys and trace sampling (50-59). */
    SLATE_ETRACEID = 50, /**< a trace id is empty, too long or not hexadecimal */

    /* Protobuf codec (60-99). */
    SLATE_ETRUNCATED = 60, /**< the input ends inside a tag, value or field */
    SLATE_EVARINT = 61,    /**< a varint is longer than 10 bytes or overflows 64 bits */
    SLATE_ELENGTH = 62,    /**< a length prefix points past the end of its enclosing message */
    SLATE_EWIRETYPE = 63,  /**< a field arrived with a wire type its schema does not allow */
    SLATE_EUTF8 = 64,      /**< a string field is not valid UTF-8 */
    SLATE_EDEPTH = 65,     /**< messages nest deeper than the configured limit */
    SLATE_ECOUNT = 66,     /**< a repeated field has more elements than the configured limit */
    SLATE_ESTRLEN = 67,    /**< a string or bytes field is longer than the configured limit */
    SLATE_EFIELD = 68,     /**< field number 0, or a number outside 1..2^29-1 */
    SLATE_EVALUE = 69,     /**< a value is outside the range its field allows */
    SLATE_EMISSING = 70,   /**< a field the message cannot do without is absent */
    SLATE_EGROUP = 71,     /**< a (deprecated) group wire type, which no slate message uses */

    /* Legacy SLATE text bodies (100-119). */
    SLATE_ESYNTAX = 100, /**< a line does not have the shape its body type requires */
    SLATE_ENUMBER = 101, /**< a number field is not a valid, finite number in range */

    /* Names (120-139). */
    SLATE_ENAME = 120, /**< a name breaks the rules of its kind (see name.h) */

    /* Controller optimiser (160-179). */
    SLATE_EINFEASIBLE = 160, /**< no routing satisfies the constraints (capacity, placement) */
    SLATE_ESOLVER = 161,     /**< the LP solver stopped without an optimum (limit, numerics) */
    SLATE_ECYCLE = 162,      /**< the call graph has a cycle */

    SLATE_STATUS_LAST_ /**< not a status; one past the largest value */
} slate_status;

/**
 * @brief A short, static, human-readable description of a status.
 * @return never NULL; an unknown value yields "unknown status". Cost: O(1).
 */
SLATE_API const char *slate_strerror(slate_status status);

/**
 * @brief The status's symbolic name ("SLATE_EVARINT"), for logs and HTTP bodies.
 * @return never NULL; an unknown value yields "SLATE_E?". Cost: O(1).
 */
SLATE_API const char *slate_status_name(slate_status status);

#ifdef __cplusplus
}
#endif

#endif /* SLATE_STATUS_H */
