/* Time strings: every accepted form with exact values, rejects, file-name timestamps, ISO
 * formatting and rounding, and the public wrappers. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "timefmt.h"
#include "tutil.h"

/* POSIX seconds of 2025-11-02T23:59:50Z (cam2_20251102T235950Z.mp4) and friends. */
#define T_CAM2        1762127990.0
#define T_20251102    1762041600.0
#define T_20260704_14 1783173600.0

static double parse_ok(const char *text, int want_kind)
{
    double v = -1.0;
    int kind = 0;
    const int rc = vmo_time_parse(text, &v, &kind);
    ck_assert_msg(rc == VMO_OK, "'%s' rejected (%d)", text, rc);
    ck_assert_msg(kind == want_kind, "'%s': kind %d, expected %d", text, kind, want_kind);
    return v;
}

static void expect_time(const char *text, int kind, double want)
{
    const double v = parse_ok(text, kind);
    ck_assert_msg(v == want, "'%s' -> %.6f, expected %.6f", text, v, want);
}

static void expect_bad(const char *text)
{
    double v = 0;
    int kind = 0;
    ck_assert_msg(vmo_time_parse(text, &v, &kind) == VMO_ERR_BAD_TIME, "'%s' accepted (%.6f)", text,
                  v);
}

START_TEST(relative_forms)
{
    expect_time("12.5", VMO_TIME_RELATIVE, 12.5);
    expect_time("90", VMO_TIME_RELATIVE, 90);
    expect_time("0", VMO_TIME_RELATIVE, 0);
    expect_time(".25", VMO_TIME_RELATIVE, 0.25);
    expect_time("0.1", VMO_TIME_RELATIVE, 0.1);
    expect_time("01:02:03.250", VMO_TIME_RELATIVE, 3723.25);
    expect_time("1:02:03", VMO_TIME_RELATIVE, 3723);
    expect_time("02:03.5", VMO_TIME_RELATIVE, 123.5);
    expect_time("0:00", VMO_TIME_RELATIVE, 0);
    expect_time("90:00", VMO_TIME_RELATIVE, 5400);     /* leading field is unbounded */
    expect_time("25:00:00", VMO_TIME_RELATIVE, 90000); /* hours too */
    expect_time("  7 \t\n", VMO_TIME_RELATIVE, 7);
    expect_time("20251102", VMO_TIME_RELATIVE, 20251102); /* a number, not a date */
    expect_time("000000000000012.5", VMO_TIME_RELATIVE, 12.5);
    expect_time("1.00000000000000000000000000001", VMO_TIME_RELATIVE, 1.0);
    expect_time("999999999999", VMO_TIME_RELATIVE, 999999999999.0);
}
END_TEST

START_TEST(wall_forms)
{
    expect_time("2025-11-02T23:59:50Z", VMO_TIME_WALL, T_CAM2);
    expect_time("2025-11-02T23:59:52.44Z", VMO_TIME_WALL, 1762127992.44);
    expect_time("2025-11-02 23:59:52", VMO_TIME_WALL, 1762127992);
    expect_time("2025-11-02t23:59:52z", VMO_TIME_WALL, 1762127992);
    expect_time("2025-11-02T23:59", VMO_TIME_WALL, 1762127940);
    expect_time("2025-11-02T23:59Z", VMO_TIME_WALL, 1762127940);
    expect_time("2025-11-02", VMO_TIME_WALL, T_20251102);
    expect_time("20251102T235952Z", VMO_TIME_WALL, 1762127992);
    expect_time("20251102T235952", VMO_TIME_WALL, 1762127992);
    expect_time("20251102T235952.5Z", VMO_TIME_WALL, 1762127992.5);
    expect_time("1970-01-01T00:00:00Z", VMO_TIME_WALL, 0);
    expect_time("2026-07-04T14:00:00Z", VMO_TIME_WALL, T_20260704_14);
    expect_time("9999-12-31T23:59:59Z", VMO_TIME_WALL, 253402300799.0);
    expect_time(" 2025-11-02T23:59:50Z ", VMO_TIME_WALL, T_CAM2);
}
END_TEST

START_TEST(wall_offsets)
{
    expect_time("2025-11-02T23:59:52+01:00", VMO_TIME_WALL, 1762127992 - 3600);
    expect_time("2025-11-02T23:59:52+0100", VMO_TIME_WALL, 1762127992 - 3600);
    expect_time("2025-11-02T23:59:52+01", VMO_TIME_WALL, 1762127992 - 3600);
    expect_time("2025-11-02T23:59:52-05:30", VMO_TIME_WALL, 1762127992 + 19800);
    expect_time("2025-11-02T23:59:52.44-00:00", VMO_TIME_WALL, 1762127992.44);
    expect_time("20251102T235952+0100", VMO_TIME_WALL, 1762127992 - 3600);
    expect_time("2026-07-04 16:05:00+02:00", VMO_TIME_WALL, T_20260704_14 + 300);
    /* An offset can cross midnight and the year. */
    expect_time("2026-01-01T00:30:00+01:00", VMO_TIME_WALL,
                (double)vmo_days_from_civil(2025, 12, 31) * 86400 + 23.5 * 3600);
    /* Before 1970 in its zone, after it in UTC. */
    expect_time("1969-12-31T23:00:00-02:00", VMO_TIME_WALL, 3600);
}
END_TEST

START_TEST(leap_years)
{
    expect_time("2024-02-29", VMO_TIME_WALL, 1709164800);
    expect_time("2400-02-29", VMO_TIME_WALL, 13574563200.0);
    expect_time("2000-02-29", VMO_TIME_WALL, 951782400);
    expect_bad("2025-02-29");
    expect_bad("2100-02-29");
    expect_bad("2025-02-30");
    expect_bad("2025-04-31");
    ck_assert_int_eq(vmo_days_from_civil(1970, 1, 1), 0);
    ck_assert_int_eq(vmo_days_from_civil(1969, 12, 31), -1);
    ck_assert_int_eq(vmo_days_from_civil(2000, 3, 1), 11017);
    ck_assert_int_eq(vmo_days_from_civil(1, 1, 1), -719162);
}
END_TEST

START_TEST(rejects)
{
    static const char *const bad[] = {
        "",
        "   ",
        "-1",
        "-0.5",
        "+5",
        "1e2",
        "1E2",
        "nan",
        "NaN",
        "inf",
        "infinity",
        "0x10",
        "12.",
        ".",
        "..5",
        "1.2.3",
        "12abc",
        "12 5",
        "1,5",
        "1:60",
        "1:2",
        "1:",
        ":30",
        "1::00",
        "01:02:03:04",
        "1:02:3",
        "1:02.",
        "1:02:03.5.1",
        "2025-13-01",
        "2025-00-10",
        "2025-11-00",
        "2025-11-32",
        "2025-11-02T24:00:00Z",
        "2025-11-02T23:60:00Z",
        "2025-11-02T23:59:60Z",
        "2025-11-02T23:59:52+24:00",
        "2025-11-02T23:59:52+01:60",
        "2025-11-02T23:59:52 Z",
        "2025-11-02T23:59:52+1",
        "2025-11-02T23:59:52+010",
        "2025-11-02T",
        "2025-11-02T23",
        "2025-11-02T23:5",
        "2025-11-02T23:59.5",
        "2025-11-02T23:59:52.",
        "2025-11-02T23:59:52ZZ",
        "2025-11-02X23:59:52",
        "2025-11-2",
        "25-11-02",
        "20251102T2359Z",
        "20251102 235952",
        "2025-11-02T23:59:52Zjunk",
        "1969-12-31T23:59:59Z",
        "0000-01-01",
        "1234-",
        "T",
        "9999999999999",
        "99999999999999999999999999999999",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        expect_bad(bad[i]);
}
END_TEST

START_TEST(rejects_long_and_odd)
{
    /* Very long inputs: digits, zeros of a fraction, blanks. None may crash or overflow. */
    const size_t n = 100000;
    char *s = malloc(n + 1);
    ck_assert_ptr_nonnull(s);
    memset(s, '9', n);
    s[n] = '\0';
    expect_bad(s);
    memset(s, '0', n);
    s[1] = '.';
    s[n - 1] = '1';
    expect_bad(s); /* too long, even though it is a small number */
    memset(s, ' ', n);
    expect_bad(s);
    memset(s, ':', n);
    expect_bad(s);
    free(s);
    expect_bad("999999999:59:59");
    expect_bad("1234567890:00"); /* ten digits in the leading field */
}
END_TEST

START_TEST(embedded_nul_and_null)
{
    expect_time("12\0"
                "5",
                VMO_TIME_RELATIVE, 12);
    ck_assert_int_eq(vmo_time_parse(NULL, NULL, NULL), VMO_ERR_BAD_TIME);
    double v = 0;
    ck_assert_int_eq(vmo_time_parse("5", &v, NULL), VMO_OK); /* outputs are optional */
    ck_assert(v == 5);
}
END_TEST

static void expect_name(const char *path, double want)
{
    double v = -1;
    const int rc = vmo_time_from_filename(path, &v);
    ck_assert_msg(rc == VMO_OK, "'%s': no timestamp found (%d)", path, rc);
    ck_assert_msg(v == want, "'%s' -> %.6f, expected %.6f", path, v, want);
}

static void expect_no_name(const char *path)
{
    double v = -1;
    const int rc = vmo_time_from_filename(path, &v);
    ck_assert_msg(rc == VMO_ERR_NO_TIME_SOURCE, "'%s': found %.6f", path, v);
}

START_TEST(filename_positive)
{
    const double t = T_20260704_14;
    expect_name("cam2_20251102T235950Z.mp4", T_CAM2);
    expect_name("/work/shared/testdata/cam2_20251102T235950Z.mp4", T_CAM2);
    expect_name("cam2_20251103T000000Z.mp4", T_CAM2 + 10);
    expect_name("cam1_20260704T140000Z.mp4", t);
    expect_name("front_2026-07-04_14-00-00.mkv", t);
    expect_name("20260704_140000.mp4", t);
    expect_name("20260704-140000.mp4", t);
    expect_name("2026-07-04T14:00:00Z.mp4", t);
    expect_name("2026-07-04T14-00-00.mp4", t);
    expect_name("rec/2026-07-04 14:00:00.mov", t);
    expect_name("C:\\rec\\cam_20260704T140000.mp4", t);
    expect_name("cam1_20260704T140000.250Z.mp4", t + 0.25);
    expect_name("20260704_140000.5.mp4", t + 0.5);
    /* Offsets after ISO ('T') stamps. */
    expect_name("cam_20260704T160000+0200.mp4", t);
    expect_name("2026-07-04T16:00:00+02:00.mp4", t);
    expect_name("cam_20260704T090000-05:00.mp4", t);
    /* No 'T': a trailing "-0100" is a suffix (camera, sequence), not an offset. */
    expect_name("20260704_140000-0100.mp4", t);
    expect_name("20260704-140000-01.mp4", t);
    /* Other digit runs do not get in the way. */
    expect_name("cam_1920x1080_20260704_140000.mp4", t);
    expect_name("cam12_20260704_140000_001.mp4", t);
    expect_name("x_20261340_140000_20260704_140000.mp4", t);   /* first one invalid */
    expect_name("rec_20260704_140000_20260704_141500.mp4", t); /* first valid one wins */
    expect_name("RecM01_20260704_140000_141500_6D28808_1A2B3C.mp4", t);
}
END_TEST

START_TEST(filename_negative)
{
    static const char *const none[] = {
        "clip.mp4",
        "",
        "/",
        "cam_1920x1080.mp4",
        "cam2_.mp4",
        "20260704.mp4",
        "cam12345678_140000.mp4",
        "20261304_140000.mp4",
        "20260230_140000.mp4",
        "20260704_240000.mp4",
        "20260704_136000.mp4",
        "20260704_135960.mp4",
        "120260704_140000.mp4",
        "20260704_1400001.mp4",
        "20260704x140000.mp4",
        "2026-07-04_14:00-00.mp4",
        "2026-07-04_14_00_00.mp4",
        "19691231_235959.mp4",
        "/rec/20260704_140000/clip.mp4",
        "C:\\rec\\20260704_140000\\clip.mp4",
        "20260704_140000.1234567890.mp4",
        "2026-07-04.mp4",
        "cam_2026070_140000.mp4",
        /* Cut short at every length (a fuzzer found a read past the end here once). */
        "2026-07-04T1",
        "2026-07-04T14",
        "2026-07-04T14:",
        "2026-07-04T14:0",
        "2026-07-04T14:00:0",
        "2025-19-02T\x99",
        "20260704T1",
        "20260704T14000",
        "2026-07-04_",
    };
    for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++)
        expect_no_name(none[i]);
    ck_assert_int_eq(vmo_time_from_filename(NULL, NULL), VMO_ERR_NO_TIME_SOURCE);
}
END_TEST

START_TEST(filename_long)
{
    /* Long names of digits and separators: linear scan, no overflow. */
    const size_t n = 200000;
    char *s = malloc(n + 32);
    ck_assert_ptr_nonnull(s);
    for (size_t i = 0; i < n; i++)
        s[i] = "2026070_-T:1 "[i % 13];
    s[n] = '\0';
    expect_no_name(s);
    strcpy(s + n, "_20260704T140000Z");
    s[n - 1] = 'x';
    expect_name(s, T_20260704_14);
    free(s);
}
END_TEST

static void expect_iso(double posix, const char *want)
{
    char buf[32];
    memset(buf, 'x', sizeof(buf));
    ck_assert_ptr_eq(vmo_time_format_iso(posix, buf, sizeof(buf)), buf);
    ck_assert_msg(!strcmp(buf, want), "%.6f -> '%s', expected '%s'", posix, buf, want);
}

START_TEST(format_iso)
{
    expect_iso(1762127992.44, "2025-11-02T23:59:52.440Z");
    expect_iso(T_CAM2, "2025-11-02T23:59:50.000Z");
    expect_iso(0, "1970-01-01T00:00:00.000Z");
    expect_iso(-0.0, "1970-01-01T00:00:00.000Z");
    expect_iso(-1, "1969-12-31T23:59:59.000Z");
    expect_iso(-0.0004, "1970-01-01T00:00:00.000Z");
    expect_iso(-0.0006, "1969-12-31T23:59:59.999Z");
    expect_iso(1709164800 + 43200.5, "2024-02-29T12:00:00.500Z");
    expect_iso(253402300799.0, "9999-12-31T23:59:59.000Z");
    expect_iso(NAN, "");
    expect_iso(INFINITY, "");
    expect_iso(-INFINITY, "");
    expect_iso(1e300, "");
    expect_iso(253402300799.9996, ""); /* would round into the year 10000 */
}
END_TEST

START_TEST(format_rounding)
{
    expect_iso(1762127992.0004, "2025-11-02T23:59:52.000Z");
    expect_iso(1762127992.0005, "2025-11-02T23:59:52.001Z");
    expect_iso(1762127992.0015, "2025-11-02T23:59:52.002Z");
    expect_iso(1762127992.9994, "2025-11-02T23:59:52.999Z");
    expect_iso(1762127992.9995, "2025-11-02T23:59:53.000Z"); /* carry into the second */
    expect_iso(1762127999.9995, "2025-11-03T00:00:00.000Z"); /* ... the day */
    expect_iso(1767225599.9999, "2026-01-01T00:00:00.000Z"); /* ... the year */
    expect_iso(1.0005, "1970-01-01T00:00:01.001Z");
}
END_TEST

START_TEST(format_small_buffer)
{
    char buf[8] = "xxxxxxx";
    ck_assert_ptr_eq(vmo_time_format_iso(0, buf, sizeof(buf)), buf);
    ck_assert_str_eq(buf, ""); /* never a truncated time */
    ck_assert_ptr_null(vmo_time_format_iso(0, NULL, 32));
}
END_TEST

START_TEST(format_parse_round_trip)
{
    uint32_t seed = tu_seed();
    char buf[32];
    for (int i = 0; i < 20000; i++) {
        /* Whole milliseconds from 1970 to about 2106. */
        const int64_t ms =
            ((int64_t)tu_rand(&seed) << 10 | (tu_rand(&seed) & 1023)) % 4294967296000LL;
        const double posix = (double)ms / 1000.0;
        vmo_time_format_iso(posix, buf, sizeof(buf));
        const double back = parse_ok(buf, VMO_TIME_WALL);
        /* Both sides round decimal milliseconds, in different steps: allow an ulp. */
        ck_assert_msg(back - posix < 1e-6 && posix - back < 1e-6, "%s: %.6f != %.6f (seed %u)", buf,
                      back, posix, seed);
    }
}
END_TEST

START_TEST(scan_decimal)
{
    double v;
    ck_assert_ptr_null(vmo_scan_decimal("", &v));
    ck_assert_ptr_null(vmo_scan_decimal("-1", &v));
    ck_assert_ptr_null(vmo_scan_decimal(".", &v));
    ck_assert_ptr_null(vmo_scan_decimal("nan", &v));
    const char *s = "0.666667,";
    ck_assert_ptr_eq(vmo_scan_decimal(s, &v), s + 8);
    ck_assert(v == 0.666667);
    s = "5.x";
    ck_assert_ptr_eq(vmo_scan_decimal(s, &v), s + 1);
    ck_assert(v == 5);
    ck_assert_ptr_nonnull(vmo_scan_decimal("123456789012345678901234567890", &v));
    ck_assert(v > 1.2345678901234e29 && v < 1.2345678901235e29);
    char big[600];
    memset(big, '9', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    ck_assert_ptr_nonnull(vmo_scan_decimal(big, &v));
    ck_assert(isinf(v));
    big[0] = '0';
    big[1] = '.';
    for (size_t i = 2; i < sizeof(big) - 2; i++)
        big[i] = '0';
    ck_assert_ptr_nonnull(vmo_scan_decimal(big, &v));
    ck_assert(v == 0); /* 9e-597 underflows */
    /* Correctly rounded in the usual range, whatever the locale. */
    ck_assert_ptr_nonnull(vmo_scan_decimal("0.1", &v));
    ck_assert(v == 0.1);
    ck_assert_ptr_nonnull(vmo_scan_decimal("0.3", &v));
    ck_assert(v == 0.3);
    ck_assert_ptr_nonnull(vmo_scan_decimal("1762127992.44", &v));
    ck_assert(v == 1762127992.44);
}
END_TEST

START_TEST(public_wrappers)
{
    double v = 0;
    int kind = 0;
    char buf[32];
    ck_assert_int_eq(vmo_parse_time("2025-11-02T23:59:50Z", &v, &kind), VMO_OK);
    ck_assert(v == T_CAM2);
    ck_assert_int_eq(kind, VMO_TIME_WALL);
    ck_assert_int_eq(vmo_parse_time("1:30", &v, &kind), VMO_OK);
    ck_assert(v == 90);
    ck_assert_int_eq(kind, VMO_TIME_RELATIVE);
    ck_assert_int_eq(vmo_parse_time("junk", &v, &kind), VMO_ERR_BAD_TIME);
    ck_assert(isnan(v));
    ck_assert_int_eq(kind, 0);
    ck_assert_int_eq(vmo_parse_time(NULL, &v, &kind), VMO_ERR_INVALID_ARG);
    ck_assert_int_eq(vmo_parse_time("1", NULL, &kind), VMO_ERR_INVALID_ARG);
    ck_assert_int_eq(vmo_parse_time("1", &v, NULL), VMO_ERR_INVALID_ARG);

    ck_assert_int_eq(vmo_format_time(1762127992.44, buf, sizeof(buf)), VMO_OK);
    ck_assert_str_eq(buf, "2025-11-02T23:59:52.440Z");
    ck_assert_int_eq(vmo_format_time(NAN, buf, sizeof(buf)), VMO_ERR_INVALID_ARG);
    ck_assert_str_eq(buf, "");
    ck_assert_int_eq(vmo_format_time(0, NULL, 32), VMO_ERR_INVALID_ARG);
    ck_assert_int_eq(vmo_format_time(0, buf, 31), VMO_ERR_INVALID_ARG);
    ck_assert_str_eq(buf, "");
    ck_assert_int_eq(vmo_format_time(0, buf, 0), VMO_ERR_INVALID_ARG);
}
END_TEST

static Suite *time_suite(void)
{
    Suite *s = suite_create("time");
    TCase *tc = tcase_create("parse");
    tcase_add_test(tc, relative_forms);
    tcase_add_test(tc, wall_forms);
    tcase_add_test(tc, wall_offsets);
    tcase_add_test(tc, leap_years);
    tcase_add_test(tc, rejects);
    tcase_add_test(tc, rejects_long_and_odd);
    tcase_add_test(tc, embedded_nul_and_null);
    tcase_add_test(tc, scan_decimal);
    suite_add_tcase(s, tc);
    tc = tcase_create("filename");
    tcase_add_test(tc, filename_positive);
    tcase_add_test(tc, filename_negative);
    tcase_add_test(tc, filename_long);
    suite_add_tcase(s, tc);
    tc = tcase_create("format");
    tcase_add_test(tc, format_iso);
    tcase_add_test(tc, format_rounding);
    tcase_add_test(tc, format_small_buffer);
    tcase_add_test(tc, format_parse_round_trip);
    tcase_add_test(tc, public_wrappers);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(time_suite());
    srunner_run_all(sr, CK_NORMAL);
    const int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
