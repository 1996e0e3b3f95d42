/* Time strings: seconds, HH:MM:SS.mmm, ISO-8601 wall-clock; timestamps in file names. */
#ifndef VMO_TIMEFMT_H
#define VMO_TIMEFMT_H

#include <stddef.h>

#include "internal.h"

/* "12.5", "90", "01:02:03.250", "02:03.5" -> seconds, *kind = VMO_TIME_RELATIVE;
 * "2025-11-02T23:59:52.44Z", "2025-11-02 23:59:52+01:00", "20251102T235952Z" -> POSIX
 * seconds, *kind = VMO_TIME_WALL (no zone designator means UTC). Leading/trailing spaces are
 * allowed; anything else gives VMO_ERR_BAD_TIME. Negative, NaN and infinite values fail.
 * Details:
 *  - Relative: plain decimals only ("1e2", "+5", "0x10", "12." fail), at most 1e12 s.
 *    "M:SS[.f]" and "H:MM:SS[.f]": the leading field is unbounded (up to 9 digits, so
 *    "90:00" is 90 minutes), the others are exactly two digits below 60.
 *  - Wall: "YYYY-MM-DD" (midnight UTC), "YYYY-MM-DD{T,t,space}HH:MM[:SS[.f]]" and basic
 *    "YYYYMMDDTHHMMSS[.f]", then optionally "Z", "+HH", "+HHMM" or "+HH:MM" ('-' too,
 *    up to 23:59). A bare "20251102" is a number of seconds, not a date. Dates are checked
 *    (leap years included); hour 24 and second 60 are rejected, as are times before 1970.
 *  - At most 64 characters after trimming: longer text fails without being scanned. */
int vmo_time_parse(const char *text, double *seconds, int *kind);

/* Finds a wall-clock timestamp in the last path component ('/' or '\\' separated):
 * YYYYMMDDTHHMMSS[Z], YYYY-MM-DDTHH:MM:SS, YYYY-MM-DD_HH-MM-SS, YYYYMMDD_HHMMSS,
 * YYYYMMDD-HHMMSS (also "YYYY-MM-DD HH:MM:SS" and '-' between the clock fields), with
 * optional fractional seconds (".f", 1 to 9 digits); UTC unless an offset follows. Returns
 * VMO_OK and POSIX seconds, or VMO_ERR_NO_TIME_SOURCE when none is found or the date is
 * invalid. A stamp must start and end a run of digits (so "1920x1080" or a 9-digit id never
 * match); the first valid stamp wins. Offsets ("+0200", "-05:00") and "Z" are read only
 * after the ISO forms with 'T': after "_" or "-" forms a trailing "-0100" is more likely a
 * camera or sequence number, and the stamp stays UTC. */
int vmo_time_from_filename(const char *path, double *posix);

/* POSIX seconds -> "2025-11-02T23:59:52.440Z" (milliseconds, UTC). buf of >= 32 bytes.
 * Milliseconds are rounded to nearest, halves away from zero, carrying into the second,
 * day and year. NaN, infinities, years outside 0000..9999 and buffers under 25 bytes give
 * "". Returns buf. */
char *vmo_time_format_iso(double posix, char *buf, size_t size);

/* Days since 1970-01-01 of a proleptic Gregorian date (no time zone database needed). */
long long vmo_days_from_civil(long long y, unsigned m, unsigned d);

/* Reads an unsigned plain decimal number ("12", "0.25", ".5": no sign, exponent, hex, "inf"
 * or "nan") at s, independent of the C locale. Returns the first character after it, or
 * NULL (and *value = 0) when s does not start with one. Any length is safe: huge values
 * come out as +inf, so callers range-check the result. Shared with the zone parser. */
const char *vmo_scan_decimal(const char *s, double *value);

#endif
