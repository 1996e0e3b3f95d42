/* Requests over several clips: wall-clock windows, skipped and partly decoded clips, events
 * joined across file boundaries and cut to the window, and every bad request's error. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include <vidmotion/vidmotion.h>

#include "tutil.h"

/* One 12 s recording cut into three 4 s files (the way cameras write them), a box moving
 * from 3 s to 9 s: the motion crosses both file boundaries. Wall clock from creation_time.
 * The source is encoded once; the parts are re-encoded from it so each starts with a
 * keyframe. */
#define T0 1783173600.0 /* 2026-07-04T14:00:00Z */
#define SRC_ARGS                                                                               \
    "-f lavfi -i color=c=0x606060:s=320x240:r=25:d=12,noise=alls=30:allf=u "                  \
    "-f lavfi -i color=c=white:s=24x24:r=25:d=12 "                                             \
    "-filter_complex \"[0][1]overlay=x='if(lt(t,3),20,if(lt(t,9),20+(t-3)*40,260))':y=100\" " \
    "-c:v libx264 -crf 16 -g 25 -pix_fmt yuv420p"

static const char *part(int k)
{
    static char name[3][64];
    static const char *path[3];
    if (path[k])
        return path[k];
    const char *src = tu_clip("rq_source.mp4", SRC_ARGS);
    char args[1500];
    snprintf(name[k], sizeof(name[k]), "rq_cam_20260704T14000%dZ.mp4", 4 * k);
    snprintf(args, sizeof(args),
             "-i '%s' -ss %d -t 4 -c:v libx264 -crf 16 -g 25 -pix_fmt yuv420p "
             "-metadata creation_time=2026-07-04T14:00:0%dZ",
             src, 4 * k, 4 * k);
    return path[k] = tu_clip(name[k], args);
}

static vmo_analyzer *analyzer(void)
{
    vmo_config *cfg;
    ck_assert_int_eq(vmo_config_create(&cfg), VMO_OK);
    ck_assert_int_eq(vmo_config_add_zone(cfg, "band", VMO_ZONE_INCLUDE, "0,0.3,1,0.6"), VMO_OK);
    ck_assert_int_eq(vmo_config_add_zone(cfg, "sky", VMO_ZONE_INCLUDE, "0,0,1,0.2"), VMO_OK);
    vmo_analyzer *an;
    ck_assert_int_eq(vmo_analyzer_create(cfg, &an), VMO_OK);
    vmo_config_destroy(&cfg);
    return an;
}

static vmo_request *request_of_parts(void)
{
    vmo_request *rq;
    ck_assert_int_eq(vmo_request_create(&rq), VMO_OK);
    for (int k = 0; k < 3; k++)
        ck_assert_int_eq(vmo_request_add_clip(rq, part(k), NAN), VMO_OK);
    return rq;
}

static vmo_result *run(vmo_analyzer *an, vmo_request *rq)
{
    vmo_result *res = NULL;
    int rc = vmo_analyzer_run_request(an, rq, &res);
    ck_assert_msg(rc == VMO_OK, "%s: %s", vmo_strerror(rc), vmo_analyzer_last_error(an));
    return res;
}

static int motion_events(const vmo_result *res, int zone, vmo_event *first)
{
    int n = 0;
    for (int i = 0; i < vmo_result_event_count(res); i++) {
        vmo_event ev = { .struct_size = sizeof(ev) };
        ck_assert_int_eq(vmo_result_event(res, i, &ev), VMO_OK);
        if (ev.kind == VMO_EVENT_MOTION && ev.zone == zone && n++ == 0 && first)
            *first = ev;
    }
    return n;
}

START_TEST(motion_across_two_file_boundaries_is_one_event)
{
    vmo_analyzer *an = analyzer();
    vmo_request *rq = request_of_parts();
    vmo_result *res = run(an, rq);
    ck_assert_int_eq(vmo_result_clip_count(res), 3);
    for (int k = 0; k < 3; k++) {
        vmo_clip_info ci = { .struct_size = sizeof(ci) };
        ck_assert_int_eq(vmo_result_clip(res, k, &ci), VMO_OK);
        ck_assert_int_eq(ci.wall_source, VMO_WALL_TAG);
        ck_assert_double_eq_tol(ci.wall_start, T0 + 4 * k, 1e-6);
        ck_assert_uint_eq(ci.flags & (VMO_CLIP_SKIPPED | VMO_CLIP_PARTIAL), 0);
    }
    vmo_event ev;
    ck_assert_int_eq(motion_events(res, 0, &ev), 1);
    ck_assert_int_eq(motion_events(res, 1, NULL), 0);
    ck_assert_int_eq(ev.source_count, 3);
    ck_assert(ev.flags & VMO_EVENT_CROSSES_FILES);
    ck_assert_int_eq(ev.clip, 0);
    ck_assert_int_eq(ev.end_clip, 2);
    ck_assert_double_eq_tol(ev.wall_start, T0 + 3.0, 0.1);
    ck_assert_double_eq_tol(ev.wall_end, T0 + 9.0, 0.1);
    ck_assert_double_eq_tol(ev.start, 3.0, 0.1);
    ck_assert_double_eq_tol(ev.end, 1.0, 0.1);
    vmo_event_source s[3];
    for (int k = 0; k < 3; k++) {
        s[k].struct_size = sizeof(s[k]);
        ck_assert_int_eq(vmo_result_event_source(res, 0, k, &s[k]), VMO_OK);
        ck_assert_int_eq(s[k].clip, k);
    }
    ck_assert_double_eq_tol(s[1].start, 0.0, 0.1); /* frame 0 of a file has no past */
    ck_assert_double_eq_tol(s[1].end, 3.96, 0.05);
    vmo_result_destroy(&res);

    /* Reversed order in the request: the same answer. */
    vmo_request *rev;
    ck_assert_int_eq(vmo_request_create(&rev), VMO_OK);
    for (int k = 2; k >= 0; k--)
        ck_assert_int_eq(vmo_request_add_clip(rev, part(k), NAN), VMO_OK);
    res = run(an, rev);
    vmo_event ev2;
    ck_assert_int_eq(motion_events(res, 0, &ev2), 1);
    ck_assert_double_eq(ev.wall_start, ev2.wall_start);
    ck_assert_double_eq(ev.wall_end, ev2.wall_end);
    vmo_result_destroy(&res);
    vmo_request_destroy(&rev);
    vmo_request_destroy(&rq);
    vmo_analyzer_destroy(&an);
}
END_TEST

START_TEST(window_skips_and_cuts)
{
    vmo_analyzer *an = analyzer();
    vmo_request *rq = request_of_parts();
    ck_assert_int_eq(vmo_request_set_window(rq, "2026-07-04T14:00:05.5Z",
                                            "2026-07-04T14:00:06.5Z"),
                     VMO_OK);
    vmo_result *res = run(an, rq);
    vmo_clip_info ci[3];
    for (int k = 0; k < 3; k++) {
        ci[k].struct_size = sizeof(ci[k]);
        ck_assert_int_eq(vmo_result_clip(res, k, &ci[k]), VMO_OK);
    }
    ck_assert(ci[0].flags & VMO_CLIP_SKIPPED);
    ck_assert_int_eq(ci[0].frames, 0);
    ck_assert(ci[2].flags & VMO_CLIP_SKIPPED);
    /* Decoded from the keyframe before 14:00:05.5 - 1 s (the long baseline) to 14:00:07.5. */
    ck_assert(ci[1].flags & VMO_CLIP_PARTIAL);
    ck_assert_int_lt(ci[1].frames, 100);
    ck_assert_int_gt(ci[1].frames, 50);
    vmo_event ev;
    ck_assert_int_eq(motion_events(res, 0, &ev), 1);
    ck_assert(ev.flags & VMO_EVENT_CLIPPED);
    ck_assert_double_eq_tol(ev.wall_start, T0 + 5.5, 1e-6);
    ck_assert_double_eq_tol(ev.wall_end, T0 + 6.5, 1e-6);
    ck_assert_double_eq_tol(ev.start, 1.5, 1e-6);
    ck_assert_double_eq_tol(ev.end, 2.5, 1e-6);
    ck_assert_double_lt(ev.whole_wall_start, ev.wall_start);
    ck_assert_double_gt(ev.whole_wall_end, ev.wall_end);
    vmo_result_destroy(&res);

    /* A window ending at the first boundary: the event is cut at the window's edge. */
    ck_assert_int_eq(vmo_request_set_window_wall(rq, T0 + 2.0, T0 + 3.5), VMO_OK);
    res = run(an, rq);
    ck_assert_int_eq(motion_events(res, 0, &ev), 1);
    ck_assert_double_eq_tol(ev.wall_end, T0 + 3.5, 1e-6);
    ck_assert_double_eq_tol(ev.wall_start, T0 + 3.0, 0.1);
    vmo_result_destroy(&res);

    /* Nothing in the window: no event, the clips are still listed. */
    ck_assert_int_eq(vmo_request_set_window_wall(rq, T0 + 9.5, T0 + 11.0), VMO_OK);
    res = run(an, rq);
    ck_assert_int_eq(motion_events(res, 0, NULL), 0);
    ck_assert_int_eq(vmo_result_clip_count(res), 3);
    vmo_result_destroy(&res);
    vmo_request_destroy(&rq);
    vmo_analyzer_destroy(&an);
}
END_TEST

START_TEST(relative_window_applies_to_each_clip)
{
    vmo_analyzer *an = analyzer();
    vmo_request *rq;
    ck_assert_int_eq(vmo_request_create(&rq), VMO_OK);
    ck_assert_int_eq(vmo_request_add_clip(rq, part(0), NAN), VMO_OK);
    ck_assert_int_eq(vmo_request_set_window(rq, "00:00:03.5", "3.9"), VMO_OK);
    vmo_result *res = run(an, rq);
    vmo_event ev;
    ck_assert_int_eq(motion_events(res, 0, &ev), 1);
    ck_assert_double_eq_tol(ev.start, 3.5, 1e-6);
    ck_assert_double_eq_tol(ev.end, 3.9, 1e-6);
    vmo_result_destroy(&res);
    vmo_request_destroy(&rq);
    vmo_analyzer_destroy(&an);
}
END_TEST

typedef struct progress_log {
    int finished[8];
    int calls;
} progress_log;

static int count_progress(void *user, int clip, int clip_count, int64_t done, int64_t total)
{
    progress_log *p = user;
    ck_assert_int_eq(clip_count, 3);
    ck_assert(clip >= 0 && clip < 3);
    p->calls++;
    if (done == total)
        p->finished[clip]++;
    return 0;
}

START_TEST(progress_ends_every_clip_once_skipped_ones_too)
{
    vmo_analyzer *an = analyzer();
    progress_log log = { { 0 }, 0 };
    ck_assert_int_eq(vmo_analyzer_set_progress_callback(an, count_progress, &log), VMO_OK);
    vmo_request *rq = request_of_parts();
    ck_assert_int_eq(vmo_request_set_window_wall(rq, T0 + 5.0, T0 + 6.0), VMO_OK);
    vmo_result *res = run(an, rq);
    for (int k = 0; k < 3; k++)
        ck_assert_int_ge(log.finished[k], 1); /* clips 0 and 2 were skipped */
    vmo_result_destroy(&res);
    vmo_request_destroy(&rq);
    vmo_analyzer_destroy(&an);
}
END_TEST

START_TEST(request_zones_selection_and_sensitivity)
{
    vmo_analyzer *an = analyzer();
    vmo_request *rq = request_of_parts();
    ck_assert_int_eq(vmo_request_select_zone(rq, "sky"), VMO_OK);
    vmo_result *res = run(an, rq);
    ck_assert_int_eq(vmo_result_zone_count(res), 1);
    ck_assert_str_eq(vmo_result_zone_name(res, 0), "sky");
    ck_assert_int_eq(motion_events(res, 0, NULL), 0);
    vmo_result_destroy(&res);
    vmo_request_destroy(&rq);

    rq = request_of_parts();
    ck_assert_int_eq(vmo_request_add_zone(rq, "left", VMO_ZONE_INCLUDE, "0,0,0.5,1"), VMO_OK);
    ck_assert_int_eq(vmo_request_set_double(rq, "pre_roll", 0.5), VMO_OK);
    ck_assert_int_eq(vmo_request_set_double(rq, "sensitivity", 2.0), VMO_OK);
    ck_assert_int_eq(vmo_request_set_double(rq, "sensitivity", 0), VMO_ERR_INVALID_ARG);
    ck_assert_int_eq(vmo_request_set_double(rq, "bogus", 1), VMO_ERR_UNKNOWN_OPTION);
    res = run(an, rq);
    ck_assert_int_eq(vmo_result_zone_count(res), 1);
    ck_assert_str_eq(vmo_result_zone_name(res, 0), "left");
    vmo_event ev;
    ck_assert_int_eq(motion_events(res, 0, &ev), 1);
    ck_assert_double_eq_tol(ev.clip_start, ev.start - 0.5, 1e-6);
    vmo_result_destroy(&res);
    vmo_request_destroy(&rq);
    vmo_analyzer_destroy(&an);
}
END_TEST

static void expect_run_error(vmo_analyzer *an, vmo_request *rq, int code, const char *word)
{
    vmo_result *res = (vmo_result *)&res;
    int rc = vmo_analyzer_run_request(an, rq, &res);
    ck_assert_msg(rc == code, "got %s (%s), want %s", vmo_strerror(rc),
                  vmo_analyzer_last_error(an), vmo_strerror(code));
    ck_assert_ptr_null(res);
    ck_assert_msg(strstr(vmo_analyzer_last_error(an), word), "'%s' lacks '%s'",
                  vmo_analyzer_last_error(an), word);
}

START_TEST(bad_requests_get_clear_errors)
{
    vmo_analyzer *an = analyzer();
    vmo_request *rq = request_of_parts();
    ck_assert_int_eq(vmo_request_set_window(rq, "2026-07-04T14:00:07Z", "2026-07-04T14:00:05Z"),
                     VMO_ERR_BAD_WINDOW);
    ck_assert_ptr_nonnull(strstr(vmo_request_last_error(rq), "before"));
    ck_assert_int_eq(vmo_request_set_window(rq, "2026-07-04T14:00:05Z", "12"),
                     VMO_ERR_BAD_WINDOW);
    ck_assert_int_eq(vmo_request_set_window(rq, "yesterday", NULL), VMO_ERR_BAD_TIME);
    ck_assert_int_eq(vmo_request_set_window(rq, "2026-02-30T00:00:00Z", NULL), VMO_ERR_BAD_TIME);
    ck_assert_int_eq(vmo_request_add_zone(rq, "x", VMO_ZONE_INCLUDE, "0,0,1.5,1"),
                     VMO_ERR_BAD_ZONE);
    ck_assert_int_eq(vmo_request_add_zone(rq, "x", VMO_ZONE_INCLUDE, "poly:0,0;0.5,0.5;1,1"),
                     VMO_ERR_BAD_ZONE);
    ck_assert_int_eq(vmo_request_select_zone(rq, "porch"), VMO_OK);
    expect_run_error(an, rq, VMO_ERR_UNKNOWN_ZONE, "porch");
    vmo_request_destroy(&rq);

    /* The same file twice. */
    rq = request_of_parts();
    ck_assert_int_eq(vmo_request_add_clip(rq, part(1), NAN), VMO_OK);
    expect_run_error(an, rq, VMO_ERR_OVERLAP, "same file");
    vmo_request_destroy(&rq);

    /* Two clips covering the same wall-clock time. */
    ck_assert_int_eq(vmo_request_create(&rq), VMO_OK);
    ck_assert_int_eq(vmo_request_add_clip(rq, part(0), NAN), VMO_OK);
    ck_assert_int_eq(vmo_request_add_clip(rq, part(1), T0 + 2.0), VMO_OK);
    expect_run_error(an, rq, VMO_ERR_OVERLAP, "overlap");
    vmo_request_destroy(&rq);

    /* A clip without any wall-clock time, asked a wall-clock window. */
    const char *anon = tu_clip("rq_anon.mp4", "-f lavfi -i testsrc2=s=160x120:r=25:d=1 "
                                              "-c:v libx264 -crf 30");
    ck_assert_int_eq(vmo_request_create(&rq), VMO_OK);
    ck_assert_int_eq(vmo_request_add_clip(rq, anon, NAN), VMO_OK);
    ck_assert_int_eq(vmo_request_set_window_wall(rq, T0, T0 + 10), VMO_OK);
    expect_run_error(an, rq, VMO_ERR_NO_TIME_SOURCE, "wall-clock");
    /* Given by the caller, it is fine. */
    vmo_request_destroy(&rq);
    ck_assert_int_eq(vmo_request_create(&rq), VMO_OK);
    ck_assert_int_eq(vmo_request_add_clip(rq, anon, T0), VMO_OK);
    ck_assert_int_eq(vmo_request_set_window_wall(rq, T0, T0 + 10), VMO_OK);
    vmo_result *res = run(an, rq);
    vmo_clip_info ci = { .struct_size = sizeof(ci) };
    ck_assert_int_eq(vmo_result_clip(res, 0, &ci), VMO_OK);
    ck_assert_int_eq(ci.wall_source, VMO_WALL_CALLER);
    vmo_result_destroy(&res);
    vmo_request_destroy(&rq);
    vmo_analyzer_destroy(&an);
}
END_TEST

START_TEST(file_name_time_is_used_without_a_tag)
{
    const char *named = tu_clip("rq_front_2026-07-04_14-30-00.mkv",
                                "-f lavfi -i testsrc2=s=160x120:r=25:d=1 -c:v libx264 -crf 30");
    vmo_analyzer *an = analyzer();
    vmo_request *rq;
    ck_assert_int_eq(vmo_request_create(&rq), VMO_OK);
    ck_assert_int_eq(vmo_request_add_clip(rq, named, NAN), VMO_OK);
    vmo_result *res = run(an, rq);
    vmo_clip_info ci = { .struct_size = sizeof(ci) };
    ck_assert_int_eq(vmo_result_clip(res, 0, &ci), VMO_OK);
    ck_assert_int_eq(ci.wall_source, VMO_WALL_FILENAME);
    ck_assert_double_eq_tol(ci.wall_start, T0 + 1800.0, 1e-6);
    vmo_result_destroy(&res);
    vmo_request_destroy(&rq);
    vmo_analyzer_destroy(&an);
}
END_TEST

static char *json_of(const vmo_result *res)
{
    char *j;
    ck_assert_int_eq(vmo_result_to_json(res, VMO_JSON_FRAMES, &j), VMO_OK);
    return j;
}

static vmo_result *request_over(vmo_analyzer *an, const int *parts, int n, const char *from,
                                const char *to)
{
    vmo_request *rq;
    ck_assert_int_eq(vmo_request_create(&rq), VMO_OK);
    for (int i = 0; i < n; i++)
        ck_assert_int_eq(vmo_request_add_clip(rq, part(parts[i]), NAN), VMO_OK);
    if (from || to)
        ck_assert_int_eq(vmo_request_set_window(rq, from, to), VMO_OK);
    vmo_result *res = run(an, rq);
    vmo_request_destroy(&rq);
    return res;
}

START_TEST(merged_parts_equal_one_request_whatever_the_split)
{
    vmo_analyzer *an = analyzer();
    const int all[] = { 0, 1, 2 };
    const char *from = "2026-07-04T14:00:02Z", *to = "2026-07-04T14:00:11Z";
    vmo_result *whole = request_over(an, all, 3, from, to);
    char *want = json_of(whole);
    /* Every split into contiguous runs, as workers would get them. */
    const int splits[][2] = { { 1, 3 }, { 2, 3 }, { 1, 2 } };
    for (size_t k = 0; k < sizeof(splits) / sizeof(splits[0]); k++) {
        const int a = splits[k][0], b = splits[k][1];
        vmo_result *p[3];
        int np = 0;
        p[np++] = request_over(an, all, a, from, to);
        p[np++] = request_over(an, all + a, b - a, from, to);
        if (b < 3)
            p[np++] = request_over(an, all + b, 3 - b, from, to);
        /* Through bytes, as between processes. */
        vmo_result *loaded[3];
        for (int i = 0; i < np; i++) {
            uint8_t *data;
            size_t size;
            ck_assert_int_eq(vmo_result_save(p[i], &data, &size), VMO_OK);
            ck_assert_int_eq(vmo_result_load(data, size, &loaded[i]), VMO_OK);
            vmo_free(data);
        }
        vmo_result *merged;
        ck_assert_int_eq(vmo_result_merge((const vmo_result *const *)loaded, np, &merged),
                         VMO_OK);
        char *got = json_of(merged);
        ck_assert_str_eq(got, want);
        vmo_free(got);
        vmo_result_destroy(&merged);
        for (int i = 0; i < np; i++) {
            vmo_result_destroy(&p[i]);
            vmo_result_destroy(&loaded[i]);
        }
    }
    vmo_free(want);
    vmo_result_destroy(&whole);
    vmo_analyzer_destroy(&an);
}
END_TEST

START_TEST(saved_results_are_checked_when_loaded)
{
    vmo_analyzer *an = analyzer();
    const int one[] = { 1 };
    vmo_result *res = request_over(an, one, 1, NULL, NULL);
    uint8_t *data;
    size_t size;
    ck_assert_int_eq(vmo_result_save(res, &data, &size), VMO_OK);
    vmo_result *back;
    ck_assert_int_eq(vmo_result_load(data, size, &back), VMO_OK);
    char *a = json_of(res), *b = json_of(back);
    ck_assert_str_eq(a, b);
    vmo_free(a);
    vmo_free(b);
    vmo_result_destroy(&back);
    for (size_t at = 0; at < size; at += size / 17 + 1) {
        data[at] ^= 0x40;
        ck_assert_int_eq(vmo_result_load(data, size, &back), VMO_ERR_CORRUPT);
        ck_assert_ptr_null(back);
        data[at] ^= 0x40;
    }
    ck_assert_int_eq(vmo_result_load(data, size / 2, &back), VMO_ERR_CORRUPT);
    ck_assert_int_eq(vmo_result_load(data, 3, &back), VMO_ERR_CORRUPT);
    vmo_free(data);

    /* Parts analysed differently cannot be merged. */
    vmo_config *cfg;
    ck_assert_int_eq(vmo_config_create(&cfg), VMO_OK);
    ck_assert_int_eq(vmo_config_set_int(cfg, "threshold", 9), VMO_OK);
    vmo_analyzer *other;
    ck_assert_int_eq(vmo_analyzer_create(cfg, &other), VMO_OK);
    vmo_config_destroy(&cfg);
    vmo_result *odd = request_over(other, one, 1, NULL, NULL);
    const vmo_result *parts[2] = { res, odd };
    vmo_result *merged = (vmo_result *)&merged;
    ck_assert_int_eq(vmo_result_merge(parts, 2, &merged), VMO_ERR_INVALID_ARG);
    ck_assert_ptr_null(merged);
    /* The same clip in two parts would count its motion twice. */
    const vmo_result *twice[2] = { res, res };
    merged = (vmo_result *)&merged;
    ck_assert_int_eq(vmo_result_merge(twice, 2, &merged), VMO_ERR_OVERLAP);
    ck_assert_ptr_null(merged);
    vmo_result_destroy(&odd);
    vmo_analyzer_destroy(&other);
    vmo_result_destroy(&res);
    vmo_analyzer_destroy(&an);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("request");
    TCase *tc = tcase_create("request");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, motion_across_two_file_boundaries_is_one_event);
    tcase_add_test(tc, window_skips_and_cuts);
    tcase_add_test(tc, relative_window_applies_to_each_clip);
    tcase_add_test(tc, request_zones_selection_and_sensitivity);
    tcase_add_test(tc, progress_ends_every_clip_once_skipped_ones_too);
    tcase_add_test(tc, bad_requests_get_clear_errors);
    tcase_add_test(tc, file_name_time_is_used_without_a_tag);
    tcase_add_test(tc, merged_parts_equal_one_request_whatever_the_split);
    tcase_add_test(tc, saved_results_are_checked_when_loaded);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
