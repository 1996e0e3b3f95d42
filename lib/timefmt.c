/* Time strings: relative offsets, ISO-8601 wall-clock times, timestamps in file names, and
 * ISO formatting. Calendar arithmetic is integer only (Howard Hinnant's days_from_civil and
 * civil_from_days), so nothing depends on the C locale, the TZ variable or timegm(), and
 * every parser reads a bounded number of digits: no input can overflow an integer. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "timefmt.h"

/* Longest time string accepted after trimming: an ISO time with an offset and nanoseconds
 * is 35 characters, so this leaves room without letting fuzzers make us scan megabytes. */
#define TIME_TEXT_MAX 64
/* Largest relative time, seconds (about 31700 years): anything above is a typo or an
 * attack, and the bound keeps every later sum exact enough. */
#define RELATIVE_MAX 1e12
/* Leading field of "H:MM:SS" / "M:SS": nine digits always fit an int64 product. */
#define LEAD_DIGITS_MAX 9
/* Fraction digits of a file-name timestamp (nanoseconds). */
#define NAME_FRACTION_MAX 9
/* Representable ISO years are 0000..9999: POSIX seconds of 0000-01-01 and 10000-01-01. */
#define ISO_MIN_POSIX (-62167219200.0)
#define ISO_MAX_POSIX 253402300800.0
#define ISO_LEN       24 /* "YYYY-MM-DDTHH:MM:SS.mmmZ" */

/* Decimal exponents beyond this give 0 or +inf for any mantissa of at most 19 digits. */
#define SCAN_EXP_LIMIT 400

static const double pow10_exact[23] = { 1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                        1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                        1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22 };

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* Reads exactly n digits at s (stops at the first non-digit, so never past the NUL). */
static int read_fixed(const char *s, int n, int *value)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!is_digit(s[i]))
            return 0;
        v = v * 10 + (s[i] - '0');
    }
    *value = v;
    return 1;
}

/* ------------------------------------------------------------------------------------------
 * Decimal numbers without strtod (which follows LC_NUMERIC and accepts nan, inf and hex)
 * ---------------------------------------------------------------------------------------- */

typedef struct decimal_acc {
    uint64_t mant; /* the first 19 significant digits */
    int sig;       /* significant digits in mant */
    int exp10;     /* value = mant * 10^exp10 */
} decimal_acc;

static void decimal_push(decimal_acc *acc, int digit, int fraction)
{
    if (acc->sig < 19) {
        if (acc->mant || digit) {
            acc->mant = acc->mant * 10 + (uint64_t)digit;
            acc->sig++;
        }
        /* Saturate: a million leading zeros must not wrap the exponent around. */
        if (fraction && acc->exp10 > -SCAN_EXP_LIMIT * 100)
            acc->exp10--;
    } else if (!fraction && acc->exp10 < SCAN_EXP_LIMIT * 100) {
        acc->exp10++; /* integer digits beyond the 19th only scale */
    }
}

/* mant * 10^exp10. With mant <= 2^53 and |exp10| <= 22 this is one correctly rounded
 * operation on exact values (Clinger's fast path), which covers every realistic input. */
static double decimal_value(const decimal_acc *acc)
{
    if (!acc->mant || acc->exp10 < -SCAN_EXP_LIMIT)
        return 0.0;
    if (acc->exp10 > SCAN_EXP_LIMIT)
        return INFINITY;
    double v = (double)acc->mant;
    int e = acc->exp10;
    for (; e > 22; e -= 22)
        v *= 1e22;
    for (; e < -22; e += 22)
        v /= 1e22;
    return e >= 0 ? v * pow10_exact[e] : v / pow10_exact[-e];
}

const char *vmo_scan_decimal(const char *s, double *value)
{
    decimal_acc acc = { 0, 0, 0 };
    int digits = 0;
    const char *p = s;

    *value = 0.0;
    for (; is_digit(*p); p++, digits++)
        decimal_push(&acc, *p - '0', 0);
    if (*p == '.' && is_digit(p[1]))
        for (p++; is_digit(*p); p++, digits++)
            decimal_push(&acc, *p - '0', 1);
    if (!digits)
        return NULL;
    *value = decimal_value(&acc);
    return p;
}

/* ------------------------------------------------------------------------------------------
 * Calendar
 * ---------------------------------------------------------------------------------------- */

long long vmo_days_from_civil(long long y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const long long era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);                       /* [0, 399] */
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; /* [0, 365] */
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;           /* [0, 146096] */
    return era * 146097 + (long long)doe - 719468;
}

static void civil_from_days(long long z, long long *y, unsigned *m, unsigned *d)
{
    z += 719468;
    const long long era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (long long)yoe + era * 400 + (*m <= 2);
}

static int is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
    static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/* A broken-down wall-clock time as read from text. */
typedef struct civil_time {
    int year, month, day, hour, minute, second;
    double fraction; /* [0, 1) */
    int offset;      /* seconds east of UTC */
} civil_time;

/* Validates the fields (hour 24 and leap second 60 are rejected: POSIX time has neither)
 * and converts to POSIX seconds. Times before 1970 are rejected as negative. */
static int civil_to_posix(const civil_time *t, double *posix)
{
    if (t->month < 1 || t->month > 12 || t->day < 1 || t->day > days_in_month(t->year, t->month) ||
        t->hour > 23 || t->minute > 59 || t->second > 59)
        return VMO_ERR_BAD_TIME;
    const long long days = vmo_days_from_civil(t->year, (unsigned)t->month, (unsigned)t->day);
    const long long secs = days * 86400 + t->hour * 3600 + t->minute * 60 + t->second - t->offset;
    const double v = (double)secs + t->fraction;
    if (v < 0)
        return VMO_ERR_BAD_TIME;
    *posix = v;
    return VMO_OK;
}

/* ------------------------------------------------------------------------------------------
 * vmo_time_parse
 * ---------------------------------------------------------------------------------------- */

/* "Z", "+HH", "+HHMM", "+HH:MM" (or '-'); nothing at all means UTC. NULL when malformed. */
static const char *parse_zone(const char *p, int *offset)
{
    int hh, mm = 0;
    *offset = 0;
    if (*p == 'Z' || *p == 'z')
        return p + 1;
    if (*p != '+' && *p != '-')
        return p;
    const int sign = *p == '-' ? -1 : 1;
    if (!read_fixed(p + 1, 2, &hh))
        return NULL;
    p += 3;
    if (*p == ':') {
        if (!read_fixed(p + 1, 2, &mm))
            return NULL;
        p += 3;
    } else if (is_digit(*p)) {
        if (!read_fixed(p, 2, &mm))
            return NULL;
        p += 2;
    }
    if (hh > 23 || mm > 59)
        return NULL;
    *offset = sign * (hh * 3600 + mm * 60);
    return p;
}

/* "HH:MM[:SS[.f]]" (extended) or "HHMMSS[.f]" (basic). */
static const char *parse_clock(const char *p, int basic, civil_time *t)
{
    if (basic) {
        if (!read_fixed(p, 2, &t->hour) || !read_fixed(p + 2, 2, &t->minute) ||
            !read_fixed(p + 4, 2, &t->second))
            return NULL;
        p += 6;
    } else {
        if (!read_fixed(p, 2, &t->hour) || p[2] != ':' || !read_fixed(p + 3, 2, &t->minute))
            return NULL;
        p += 5;
        if (*p != ':')
            return p; /* seconds are optional, and a fraction needs them */
        if (!read_fixed(p + 1, 2, &t->second))
            return NULL;
        p += 3;
    }
    if (*p == '.')
        p = vmo_scan_decimal(p, &t->fraction); /* ".5": NULL when no digit follows */
    return p;
}

/* ISO-8601: "YYYY-MM-DD", "YYYY-MM-DD[T| ]HH:MM[:SS[.f]][zone]", "YYYYMMDDTHHMMSS[.f][zone]". */
static int parse_wall(const char *s, double *posix)
{
    civil_time t = { 0, 0, 0, 0, 0, 0, 0.0, 0 };
    const char *p = s;
    const int basic = is_digit(s[4]);

    if (basic) {
        if (!read_fixed(p, 4, &t.year) || !read_fixed(p + 4, 2, &t.month) ||
            !read_fixed(p + 6, 2, &t.day) || (p[8] != 'T' && p[8] != 't'))
            return VMO_ERR_BAD_TIME;
        p += 9;
    } else {
        if (!read_fixed(p, 4, &t.year) || p[4] != '-' || !read_fixed(p + 5, 2, &t.month) ||
            p[7] != '-' || !read_fixed(p + 8, 2, &t.day))
            return VMO_ERR_BAD_TIME;
        p += 10;
        if (!*p)
            return civil_to_posix(&t, posix); /* date only: midnight UTC */
        if (*p != 'T' && *p != 't' && *p != ' ')
            return VMO_ERR_BAD_TIME;
        p++;
    }
    p = parse_clock(p, basic, &t);
    if (p)
        p = parse_zone(p, &t.offset);
    if (!p || *p)
        return VMO_ERR_BAD_TIME;
    return civil_to_posix(&t, posix);
}

/* "12.5", "90", "M:SS[.f]", "H:MM:SS[.f]": the leading field has any size (up to nine
 * digits), the following ones exactly two digits below 60. */
static int parse_relative(const char *s, double *seconds)
{
    double v;
    const char *p = s;

    if (!strchr(s, ':')) {
        p = vmo_scan_decimal(s, &v);
    } else {
        long long lead = 0, sub[2] = { 0, 0 };
        int digits = 0, fields = 0;
        double fraction = 0.0;
        for (; is_digit(*p); p++) {
            if (++digits > LEAD_DIGITS_MAX)
                return VMO_ERR_BAD_TIME;
            lead = lead * 10 + (*p - '0');
        }
        for (; digits && *p == ':'; p += 3) {
            int f;
            if (fields == 2 || !read_fixed(p + 1, 2, &f) || f > 59)
                return VMO_ERR_BAD_TIME;
            sub[fields++] = f;
        }
        if (!digits || !fields)
            return VMO_ERR_BAD_TIME;
        if (*p == '.')
            p = vmo_scan_decimal(p, &fraction);
        const long long whole =
            fields == 1 ? lead * 60 + sub[0] : lead * 3600 + sub[0] * 60 + sub[1];
        v = (double)whole + fraction;
    }
    if (!p || *p || !(v <= RELATIVE_MAX))
        return VMO_ERR_BAD_TIME;
    *seconds = v;
    return VMO_OK;
}

/* Wall-clock text starts "YYYY-" or "YYYYMMDDT"; a bare "20251102" stays a number. */
static int looks_like_date(const char *s)
{
    int v;
    if (!read_fixed(s, 4, &v))
        return 0;
    if (s[4] == '-')
        return 1;
    return read_fixed(s, 8, &v) && (s[8] == 'T' || s[8] == 't');
}

int vmo_time_parse(const char *text, double *seconds, int *kind)
{
    char buf[TIME_TEXT_MAX + 1];
    double v = 0.0;

    if (!text)
        return VMO_ERR_BAD_TIME;
    while (is_space(*text))
        text++;
    size_t len = strlen(text);
    while (len && is_space(text[len - 1]))
        len--;
    if (!len || len > TIME_TEXT_MAX)
        return VMO_ERR_BAD_TIME;
    memcpy(buf, text, len);
    buf[len] = '\0';

    const int wall = looks_like_date(buf);
    const int rc = wall ? parse_wall(buf, &v) : parse_relative(buf, &v);
    if (rc != VMO_OK)
        return rc;
    if (seconds)
        *seconds = v;
    if (kind)
        *kind = wall ? VMO_TIME_WALL : VMO_TIME_RELATIVE;
    return VMO_OK;
}

/* ------------------------------------------------------------------------------------------
 * vmo_time_from_filename
 * ---------------------------------------------------------------------------------------- */

/* The date and clock of a file-name stamp at p: "YYYYMMDD{T,_,-}HHMMSS" or
 * "YYYY-MM-DD{T,_,space}HH{:,-}MM{:,-}SS". Returns the end, or NULL. *iso is set when the
 * separator is 'T', the only form after which a zone designator is read. */
static const char *match_stamp_clock(const char *p, civil_time *t, int *iso)
{
    char sep;
    if (read_fixed(p, 4, &t->year) && read_fixed(p + 4, 2, &t->month) &&
        read_fixed(p + 6, 2, &t->day)) {
        sep = p[8];
        if (sep != 'T' && sep != 't' && sep != '_' && sep != '-')
            return NULL;
        if (!read_fixed(p + 9, 2, &t->hour) || !read_fixed(p + 11, 2, &t->minute) ||
            !read_fixed(p + 13, 2, &t->second))
            return NULL;
        *iso = sep == 'T' || sep == 't';
        return p + 15;
    }
    if (!read_fixed(p, 4, &t->year) || p[4] != '-' || !read_fixed(p + 5, 2, &t->month) ||
        p[7] != '-' || !read_fixed(p + 8, 2, &t->day))
        return NULL;
    sep = p[10];
    if (sep != 'T' && sep != 't' && sep != '_' && sep != ' ')
        return NULL;
    if (!read_fixed(p + 11, 2, &t->hour))
        return NULL;
    const char tsep = p[13]; /* in bounds only now: p[11] and p[12] were digits */
    if ((tsep != ':' && tsep != '-') || !read_fixed(p + 14, 2, &t->minute) || p[16] != tsep ||
        !read_fixed(p + 17, 2, &t->second))
        return NULL;
    *iso = sep == 'T' || sep == 't';
    return p + 19;
}

/* "+HHMM" or "+HH:MM" (or '-') after an ISO stamp, not followed by another digit. Anything
 * else leaves the stamp in UTC: a suffix such as "-01" is more likely a camera number. */
static const char *match_stamp_offset(const char *p, int *offset)
{
    int hh, mm;
    const int sign = *p == '-' ? -1 : 1;
    const char *q = p + 1;
    if ((*p != '+' && *p != '-') || !read_fixed(q, 2, &hh))
        return p;
    q += 2;
    if (*q == ':')
        q++;
    if (!read_fixed(q, 2, &mm) || is_digit(q[2]) || hh > 23 || mm > 59)
        return p;
    *offset = sign * (hh * 3600 + mm * 60);
    return q + 2;
}

static int match_stamp(const char *p, double *posix)
{
    civil_time t = { 0, 0, 0, 0, 0, 0, 0.0, 0 };
    int iso = 0;
    const char *q = match_stamp_clock(p, &t, &iso);
    if (!q)
        return 0;
    if (*q == '.' && is_digit(q[1])) {
        int n = 0;
        while (is_digit(q[1 + n]))
            n++;
        if (n > NAME_FRACTION_MAX)
            return 0;
        q = vmo_scan_decimal(q, &t.fraction);
    }
    if (is_digit(*q))
        return 0; /* part of a longer digit run: not a stamp */
    if (iso && (*q == 'Z' || *q == 'z'))
        q++;
    else if (iso)
        q = match_stamp_offset(q, &t.offset);
    return civil_to_posix(&t, posix) == VMO_OK;
}

int vmo_time_from_filename(const char *path, double *posix)
{
    if (!path || !posix)
        return VMO_ERR_NO_TIME_SOURCE;
    const char *base = path;
    for (const char *p = path; *p; p++)
        if (*p == '/' || *p == '\\')
            base = p + 1;
    /* Stamps start at the beginning of a digit run, so "cam12345678_..." or "1920x1080"
     * never yield a stamp from the middle of their digits; the first valid one wins. */
    for (const char *p = base; *p; p++) {
        if (!is_digit(*p) || (p > base && is_digit(p[-1])))
            continue;
        if (match_stamp(p, posix))
            return VMO_OK;
    }
    return VMO_ERR_NO_TIME_SOURCE;
}

/* ------------------------------------------------------------------------------------------
 * vmo_time_format_iso
 * ---------------------------------------------------------------------------------------- */

/* Nearest integer, halves away from zero, for |v| < 2^52 (no libm needed). */
static int64_t round_half_away(double v)
{
    int64_t t = (int64_t)v;         /* toward zero */
    const double f = v - (double)t; /* exact below 2^52 */
    if (f >= 0.5)
        t++;
    else if (f <= -0.5)
        t--;
    return t;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b) < 0)
        q--;
    return q;
}

char *vmo_time_format_iso(double posix, char *buf, size_t size)
{
    if (!buf || !size)
        return buf;
    buf[0] = '\0';
    /* NaN fails both comparisons; the range keeps four-digit years and exact int64 math. */
    if (size <= ISO_LEN || !(posix >= ISO_MIN_POSIX && posix < ISO_MAX_POSIX))
        return buf;
    const int64_t ms = round_half_away(posix * 1000.0);
    const int64_t days = floor_div(ms, 86400000);
    const int64_t in_day = ms - days * 86400000;
    long long y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    if (y > 9999)
        return buf; /* rounded up into the year 10000 */
    const int sec = (int)(in_day / 1000);
    snprintf(buf, size, "%04lld-%02u-%02uT%02d:%02d:%02d.%03dZ", y, m, d, sec / 3600, sec / 60 % 60,
             sec % 60, (int)(in_day % 1000));
    return buf;
}
