/* Time strings: seconds, HH:MM:SS.mmm, ISO-8601 wall-clock; timestamps in file names. */
#ifndef VMO_TIMEFMT_H
#define VMO_TIMEFMT_H

#include <stddef.h>

#include "internal.h"

/* "12.5", "90", "01:02:03.250", "02:03.5" -> seconds, *kind = VMO_TIME_RELATIVE;
 * "2025-11-02T23:59:52.44Z", "2025-11-02 23:59:52+01:00", "20251102T235952Z" -> POSIX
 * seconds, *kind = VMO_TIME_WALL (no zone designator means UTC). Leading/trailing spaces are
 * allowed; anything else gives VMO_ERR_BAD_TIME. Negative, NaN and infinite values fail. */
int vmo_time_parse(const char *text, double *seconds, int *kind);

/* Finds a wall-clock timestamp in the last path component: YYYYMMDDTHHMMSS[Z],
 * YYYY-MM-DDTHH:MM:SS, YYYY-MM-DD_HH-MM-SS, YYYYMMDD_HHMMSS, YYYYMMDD-HHMMSS, with optional
 * fractional seconds; UTC unless an offset follows. Returns VMO_OK and POSIX seconds, or
 * VMO_ERR_NO_TIME_SOURCE when none is found or the date is invalid. */
int vmo_time_from_filename(const char *path, double *posix);

/* POSIX seconds -> "2025-11-02T23:59:52.440Z" (milliseconds, UTC). buf of >= 32 bytes.
 * NaN gives "". Returns buf. */
char *vmo_time_format_iso(double posix, char *buf, size_t size);

/* Days since 1970-01-01 of a proleptic Gregorian date (no time zone database needed). */
long long vmo_days_from_civil(long long y, unsigned m, unsigned d);

#endif
