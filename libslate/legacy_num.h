/*
 * libslate - service-layer traffic engineering for service meshes.
 * SPDX-License-Identifier: Apache-2.0
 */
/*
 * Internal: strict, locale-independent number parsing and formatting for the
 * legacy text codec (legacy.c). No strtod, no printf, no locale, no
 * allocation; the same results on every platform, wasm32 included.
 *
 * Decimal text is converted exactly: a number is read as an integer scaled by
 * a power of ten and rounded half-to-even at the last kept digit. Conversions
 * to double round once, to nearest-even.
 */
#ifndef SLATE_LEGACY_NUM_H
#define SLATE_LEGACY_NUM_H

#include <stddef.h>
#include <stdint.h>

#include "slate/export.h"
#include "slate/status.h"

/* Largest text any formatter below writes: "18446744073709551615" plus sign,
 * point and an exponent fit easily. */
#define SLATE_LNUM_BUF 48u

/*
 * Parse an unsigned decimal integer: one or more ASCII digits, nothing else
 * (no sign, no space, no "0x"). Leading zeros are accepted.
 * SLATE_ENUMBER: empty, a non-digit, or above UINT64_MAX.
 */
SLATE_NODISCARD slate_status slate_lnum_u64(const char *s, size_t n, uint64_t *out);

/*
 * Parse a non-negative decimal number and return round_half_even(value * 10^scale):
 *   digits [ "." digits ] [ ("e" | "E") [ "+" | "-" ] digits ]
 * with at least one digit before or after the point (".5" and "5." are
 * accepted). No sign, no "inf"/"nan", no hex, no spaces. The result is exact:
 * digits beyond the kept precision only decide the rounding. A mantissa of 0
 * with any exponent is 0.
 * SLATE_ENUMBER: malformed, negative, or a result above `max`.
 * `scale` is at most 18.
 */
SLATE_NODISCARD slate_status slate_lnum_decimal(const char *s, size_t n, unsigned scale,
                                                uint64_t max, uint64_t *out);

/* 10^k for k <= 19. */
uint64_t slate_lnum_pow10(unsigned k);

/*
 * The double nearest to n * 10^k (k <= 9), ties to even. Exact whenever the
 * product is below 2^53.
 */
double slate_lnum_scaled_to_double(uint64_t n, unsigned k);

/*
 * The inverse: an integer n <= UINT64_MAX with slate_lnum_scaled_to_double(n, k)
 * == d when one exists (so a double produced by decoding survives re-encoding),
 * otherwise round_half_even(d / 10^k) computed exactly. k <= 9.
 * SLATE_EVALUE: d is NaN, infinite, negative, or d / 10^k rounds above UINT64_MAX.
 */
SLATE_NODISCARD slate_status slate_lnum_double_to_scaled(double d, unsigned k, uint64_t *out);

/* Write v in decimal into buf (room for 20 bytes); return the length. */
size_t slate_lnum_fmt_u64(char *buf, uint64_t v);

/*
 * Write n / 10^scale with exactly `scale` digits after the point, as C's and
 * Go's "%.<scale>f" do ("12.500000"); scale 1..18. Return the length.
 */
size_t slate_lnum_fmt_fixed(char *buf, uint64_t n, unsigned scale);

/*
 * Write n / 10^scale in the shortest exact form: no exponent, trailing zeros
 * of the fraction dropped, no point when the value is whole ("12", "12.5",
 * "0.000001"). Return the length.
 */
size_t slate_lnum_fmt_short(char *buf, uint64_t n, unsigned scale);

/*
 * Write n / 10^scale as Python's repr() writes the float nearest to it, for
 * values with at most 15 significant digits (every n <= 10^15): "1.0", "0.0",
 * "0.25", "0.0001", "1e-05", "1.5e-05". Return the length.
 */
size_t slate_lnum_fmt_pyrepr(char *buf, uint64_t n, unsigned scale);

#endif /* SLATE_LEGACY_NUM_H */
