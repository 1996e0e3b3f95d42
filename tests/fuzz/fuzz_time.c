/* Fuzz target: the time-string parser (vmo_parse_time: seconds, clock times, ISO-8601),
 * the timestamp finder for file names (vmo_time_from_filename), the locale-free decimal
 * scanner and the ISO formatter. Besides memory errors it checks that every accepted time
 * is in range and that wall-clock times survive formatting and parsing again (to the
 * millisecond the text keeps). */
#include <math.h>
#include <string.h>
#include <stdlib.h>

#include "fuzz.h"
#include "timefmt.h"

#define MAX_TEXT 4096
/* 10000-01-01T00:00:00Z: the first time ISO text with four-digit years cannot hold. */
#define YEAR_10000 253402300800.0

/* An accepted wall-clock time prints as ISO text that parses back to it. */
static void check_round_trip(double posix)
{
    char buf[32];
    const int rc = vmo_format_time(posix, buf, sizeof(buf));
    if (!(posix >= 0 && posix < YEAR_10000 - 0.0005)) {
        FUZZ_CHECK(rc != VMO_OK || posix < 0); /* years before 1970 may still print */
        return;
    }
    FUZZ_CHECK(rc == VMO_OK && strlen(buf) < sizeof(buf));
    double back;
    int kind;
    FUZZ_CHECK(vmo_parse_time(buf, &back, &kind) == VMO_OK);
    FUZZ_CHECK(kind == VMO_TIME_WALL);
    FUZZ_CHECK(fabs(back - posix) <= 0.0005 + posix * 1e-15);
}

static void parse(const char *text)
{
    double seconds;
    int kind;
    const int rc = vmo_parse_time(text, &seconds, &kind);
    FUZZ_CHECK(rc == VMO_OK || rc == VMO_ERR_BAD_TIME);
    if (rc != VMO_OK) {
        FUZZ_CHECK(isnan(seconds) && kind == 0);
        return;
    }
    FUZZ_CHECK(isfinite(seconds) && seconds >= 0);
    FUZZ_CHECK(kind == VMO_TIME_RELATIVE || kind == VMO_TIME_WALL);
    if (kind == VMO_TIME_RELATIVE)
        FUZZ_CHECK(seconds <= 1e12);
    else
        check_round_trip(seconds);
}

static void file_name(const char *text)
{
    double posix = -1;
    const int rc = vmo_time_from_filename(text, &posix);
    FUZZ_CHECK(rc == VMO_OK || rc == VMO_ERR_NO_TIME_SOURCE);
    if (rc == VMO_OK) {
        FUZZ_CHECK(isfinite(posix));
        check_round_trip(posix);
    }
}

static void decimal(const char *text)
{
    double v = -1;
    const char *end = vmo_scan_decimal(text, &v);
    if (!end) {
        FUZZ_CHECK(v == 0);
        return;
    }
    FUZZ_CHECK(end > text && end <= text + strlen(text));
    FUZZ_CHECK(v >= 0 && !isnan(v));
}

/* The first 8 bytes as a double (any bit pattern) through the formatter. */
static void format_raw(const uint8_t *data, size_t size)
{
    if (size < sizeof(double))
        return;
    double posix;
    memcpy(&posix, data, sizeof(posix));
    char buf[32];
    const int rc = vmo_format_time(posix, buf, sizeof(buf));
    FUZZ_CHECK(rc == VMO_OK || rc == VMO_ERR_INVALID_ARG);
    FUZZ_CHECK(memchr(buf, '\0', sizeof(buf)) != NULL);
    FUZZ_CHECK((rc == VMO_OK) == (buf[0] != '\0'));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_strndup(data, size, MAX_TEXT);
    parse(text);
    file_name(text);
    decimal(text);
    format_raw(data, size);
    free(text);
    return 0;
}
