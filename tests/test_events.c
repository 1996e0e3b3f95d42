/* Event segmentation: hysteresis, merge gap, minimum length, clip edges, noise floor, peak-
 * relative end, maximum length, and the final join across contiguous clips. Scores are
 * synthesized, so every expectation is exact. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "events.h"
#include "tutil.h"

#define FPS 25.0
#define DT (1.0 / FPS)

static vmo_settings test_settings(void)
{
    vmo_settings s;
    vmo_settings_default(&s);
    s.noise_floor = 0;
    s.min_pixels = 0;
    return s;
}

/* Runs one zone of scores (fractions) through a detector; area 10000 pixels. */
typedef struct run_out {
    vmo_clip_event *ev;
    int n;
    int started, ended;
} run_out;

static int count_live(void *user, int what, const vmo_clip_event *ev)
{
    (void)ev;
    run_out *o = user;
    if (what == VMO_EVENT_STARTED)
        o->started++;
    else
        o->ended++;
    return 0;
}

static run_out detect(const vmo_settings *s, const float *scores, int n)
{
    run_out o = { 0 };
    vmo_detector d;
    uint64_t area[1] = { 10000 };
    vmo_detector_init(&d, s, 1, area, DT, count_live, &o);
    for (int i = 0; i < n; i++) {
        float changed = scores[i];
        uint32_t px = (uint32_t)lround(changed * 10000.0);
        float mad = 0;
        vmo_scored_frame f = { .index = i, .t = i * DT, .zone_count = 1, .changed = &changed,
                               .mad = &mad, .pixels = &px, .near = &px, .area = area };
        vmo_detector_push(&d, &f);
    }
    vmo_detector_finish(&d);
    o.ev = vmo_detector_take_events(&d, &o.n);
    vmo_detector_free(&d);
    return o;
}

/* scores: `n` frames at `base`, with [a, b] set to `level`. */
static float *scores_with(int n, float base, int a, int b, float level)
{
    float *s = malloc(sizeof(float) * (size_t)n);
    for (int i = 0; i < n; i++)
        s[i] = (i >= a && i <= b) ? level : base;
    return s;
}

START_TEST(event_edges_are_first_and_last_active_frame)
{
    vmo_settings s = test_settings();
    float *sc = scores_with(200, 0, 50, 99, 0.05f);
    run_out o = detect(&s, sc, 200);
    ck_assert_int_eq(o.n, 1);
    ck_assert_int_eq(o.ev[0].start_frame, 50);
    ck_assert_int_eq(o.ev[0].end_frame, 99);
    ck_assert_double_eq_tol(o.ev[0].start, 50 * DT, 1e-9);
    ck_assert_double_eq_tol(o.ev[0].peak, 0.05, 1e-6);
    ck_assert_int_eq(o.started, 1);
    ck_assert_int_eq(o.ended, 1);
    ck_assert_uint_eq(o.ev[0].flags & (VMO_EVENT_AT_CLIP_START | VMO_EVENT_AT_CLIP_END), 0);
    free(o.ev);
    free(sc);
}
END_TEST

START_TEST(hysteresis_moves_start_back_and_holds_above_end_level)
{
    vmo_settings s = test_settings();
    s.start_level = 0.01;
    s.end_level = 0.002;
    float *sc = scores_with(200, 0, 40, 49, 0.004f); /* a ramp below the start level */
    for (int i = 50; i < 80; i++)
        sc[i] = 0.02f;
    for (int i = 80; i < 90; i++)
        sc[i] = 0.003f; /* above the end level: still the event */
    run_out o = detect(&s, sc, 200);
    ck_assert_int_eq(o.n, 1);
    ck_assert_int_eq(o.ev[0].start_frame, 40);
    ck_assert_int_eq(o.ev[0].end_frame, 89);
    free(o.ev);
    free(sc);
}
END_TEST

START_TEST(below_start_level_is_no_event)
{
    vmo_settings s = test_settings();
    s.start_level = 0.01;
    float *sc = scores_with(200, 0, 40, 140, 0.009f);
    run_out o = detect(&s, sc, 200);
    ck_assert_int_eq(o.n, 0);
    free(o.ev);
    free(sc);
}
END_TEST

START_TEST(merge_gap_joins_close_events_only)
{
    vmo_settings s = test_settings();
    s.merge_gap = 1.0;
    float *sc = scores_with(400, 0, 20, 49, 0.05f);
    for (int i = 70; i < 100; i++) /* 20 frames (0.8 s) after: merged */
        sc[i] = 0.05f;
    for (int i = 200; i < 230; i++) /* 100 frames after: separate */
        sc[i] = 0.05f;
    run_out o = detect(&s, sc, 400);
    ck_assert_int_eq(o.n, 2);
    ck_assert_int_eq(o.ev[0].start_frame, 20);
    ck_assert_int_eq(o.ev[0].end_frame, 99);
    ck_assert_int_eq(o.ev[1].start_frame, 200);
    /* mean covers the gap frames too: 60 frames at 0.05 over 80 frames */
    ck_assert_double_eq_tol(o.ev[0].sum / o.ev[0].nframes, 0.05 * 60 / 80, 1e-6);
    free(o.ev);
    free(sc);
}
END_TEST

START_TEST(short_events_dropped_unless_at_clip_edges)
{
    vmo_settings s = test_settings();
    s.min_length = 0.2; /* 5 frames */
    float *sc = scores_with(200, 0, 100, 102, 0.05f); /* 3 frames: dropped */
    sc[3] = sc[4] = 0.05f;                            /* near the start: kept, flagged */
    sc[196] = sc[197] = 0.05f;                        /* near the end: kept, flagged */
    run_out o = detect(&s, sc, 200);
    ck_assert_int_eq(o.n, 2);
    ck_assert(o.ev[0].flags & VMO_EVENT_AT_CLIP_START);
    ck_assert(o.ev[1].flags & VMO_EVENT_AT_CLIP_END);
    ck_assert_int_eq(o.started, 0); /* too short to be confirmed live */
    free(o.ev);
    free(sc);
}
END_TEST

START_TEST(end_ratio_cuts_a_faint_tail)
{
    vmo_settings s = test_settings();
    s.end_ratio = 0.03;
    float *sc = scores_with(300, 0, 50, 99, 0.2f);
    for (int i = 100; i < 140; i++)
        sc[i] = 0.004f; /* 2% of the peak: refinement noise, not motion */
    run_out o = detect(&s, sc, 300);
    ck_assert_int_eq(o.n, 1);
    ck_assert_int_eq(o.ev[0].end_frame, 99);
    free(o.ev);
    s.end_ratio = 0;
    o = detect(&s, sc, 300);
    ck_assert_int_eq(o.ev[0].end_frame, 139);
    free(o.ev);
    free(sc);
}
END_TEST

START_TEST(noise_floor_follows_noise_that_rises_slowly)
{
    /* Quiet for 10 s, then the sensor's noise rises over 40 s to ~0.3% (night falls),
     * well above start_level; then one real burst. Only the burst is an event. */
    vmo_settings s = test_settings();
    s.start_level = 0.0005;
    const int n = 2000;
    float *sc = malloc(sizeof(float) * n);
    uint32_t seed = tu_seed();
    for (int i = 0; i < n; i++) {
        double base = i < 250 ? 0.0001 : i < 1250 ? 0.0001 + 0.003 * (i - 250) / 1000.0 : 0.0031;
        sc[i] = (float)(base * (0.8 + (tu_rand(&seed) % 1000) * 0.0004));
    }
    for (int i = 1500; i < 1600; i++)
        sc[i] = 0.05f;
    s.noise_floor = 1;
    run_out o = detect(&s, sc, n);
    ck_assert_int_eq(o.n, 1);
    ck_assert_int_ge(o.ev[0].start_frame, 1490);
    ck_assert_int_le(o.ev[0].end_frame, 1610);
    free(o.ev);
    s.noise_floor = 0; /* without it the noise is motion */
    o = detect(&s, sc, n);
    ck_assert_int_ge(o.n, 1);
    ck_assert_int_lt(o.ev[0].start_frame, 1250);
    free(o.ev);
    free(sc);
}
END_TEST

START_TEST(a_faint_tail_after_an_event_does_not_restart_it)
{
    vmo_settings s = test_settings();
    float *sc = scores_with(400, 0, 50, 99, 0.2f);
    for (int i = 100; i < 200; i++)
        sc[i] = 0.004f; /* 4 s of refinement noise, 2% of the peak */
    for (int i = 300; i < 330; i++)
        sc[i] = 0.002f; /* after a quiet spell, a faint but real mover */
    run_out o = detect(&s, sc, 400);
    ck_assert_int_eq(o.n, 2);
    ck_assert_int_eq(o.ev[0].end_frame, 99);
    ck_assert_int_eq(o.ev[1].start_frame, 300);
    free(o.ev);
    free(sc);
}
END_TEST

START_TEST(max_length_splits)
{
    vmo_settings s = test_settings();
    s.max_length = 2.0; /* 50 frames */
    float *sc = scores_with(300, 0, 10, 129, 0.05f);
    run_out o = detect(&s, sc, 300);
    ck_assert_int_eq(o.n, 3);
    for (int i = 0; i < 2; i++) {
        ck_assert(o.ev[i].flags & VMO_EVENT_SPLIT);
        ck_assert_double_le(o.ev[i].end - o.ev[i].start + DT, 2.0 + 1e-9);
    }
    ck_assert_int_eq(o.ev[2].end_frame, 129);
    free(o.ev);
    free(sc);
}
END_TEST

START_TEST(min_pixels_ignores_tiny_changes)
{
    vmo_settings s = test_settings();
    s.min_pixels = 8;
    float *sc = scores_with(200, 0, 50, 99, 0.0005f); /* 5 pixels of 10000 */
    run_out o = detect(&s, sc, 200);
    ck_assert_int_eq(o.n, 0);
    free(o.ev);
    free(sc);
}
END_TEST

/* ---- across clips ---- */

static vmo_clip_event clip_event(int64_t a, int64_t b, uint32_t flags, double peak)
{
    vmo_clip_event e;
    memset(&e, 0, sizeof(e));
    e.kind = VMO_EVENT_MOTION;
    e.start_frame = a;
    e.end_frame = b;
    e.start = a * DT;
    e.end = b * DT;
    e.peak = peak;
    e.peak_t = e.start;
    e.nframes = b - a + 1;
    e.sum = peak * (double)e.nframes;
    e.flags = flags;
    e.keyframe = e.keyframe_pre = 0;
    return e;
}

START_TEST(events_crossing_a_file_boundary_join)
{
    vmo_settings s = test_settings();
    vmo_clip_event a[2] = { clip_event(61, 130, 0, 0.1),
                            clip_event(203, 249, VMO_EVENT_AT_CLIP_END, 0.2) };
    vmo_clip_event b[1] = { clip_event(1, 82, VMO_EVENT_AT_CLIP_START, 0.3) };
    vmo_finalize_clip clips[2] = {
        { 1000.0, 10.0, DT, a, 2 },
        { 1010.0, 10.0, DT, b, 1 },
    };
    vmo_final_events fe;
    ck_assert_int_eq(vmo_events_finalize(&s, clips, 2, NULL, &fe), VMO_OK);
    ck_assert_int_eq(fe.count, 2);
    vmo_event *e = &fe.events[1];
    ck_assert_int_eq(e->clip, 0);
    ck_assert_int_eq(e->end_clip, 1);
    ck_assert_int_eq(e->source_count, 2);
    ck_assert(e->flags & VMO_EVENT_CROSSES_FILES);
    ck_assert_double_eq_tol(e->wall_start, 1000.0 + 203 * DT, 1e-9);
    ck_assert_double_eq_tol(e->wall_end, 1010.0 + 82 * DT, 1e-9);
    ck_assert_double_eq_tol(e->peak, 0.3, 1e-9);
    ck_assert_int_eq(e->peak_clip, 1);
    const vmo_event_source *src = &fe.sources[fe.first[1]];
    ck_assert_int_eq(src[0].clip, 0);
    ck_assert_double_eq_tol(src[0].start, 203 * DT, 1e-9);
    ck_assert_double_eq_tol(src[0].clip_end, 10.0, 1e-9);
    ck_assert_int_eq(src[1].clip, 1);
    ck_assert_double_eq_tol(src[1].clip_start, 0.0, 1e-9);
    ck_assert_double_eq_tol(src[1].end, 82 * DT, 1e-9);
    vmo_final_events_free(&fe);

    /* The same two clips 5 s apart: no join. */
    clips[1].wall_start = 1015.0;
    ck_assert_int_eq(vmo_events_finalize(&s, clips, 2, NULL, &fe), VMO_OK);
    ck_assert_int_eq(fe.count, 3);
    vmo_final_events_free(&fe);

    /* Without wall-clock times nothing can join, and order is by clip. */
    clips[0].wall_start = clips[1].wall_start = NAN;
    ck_assert_int_eq(vmo_events_finalize(&s, clips, 2, NULL, &fe), VMO_OK);
    ck_assert_int_eq(fe.count, 3);
    ck_assert_int_eq(fe.events[2].clip, 1);
    vmo_final_events_free(&fe);
}
END_TEST

START_TEST(finalize_does_not_depend_on_clip_order)
{
    vmo_settings s = test_settings();
    vmo_clip_event a[1] = { clip_event(203, 249, VMO_EVENT_AT_CLIP_END, 0.2) };
    vmo_clip_event b[1] = { clip_event(1, 82, VMO_EVENT_AT_CLIP_START, 0.3) };
    vmo_finalize_clip fwd[2] = { { 1000.0, 10.0, DT, a, 1 }, { 1010.0, 10.0, DT, b, 1 } };
    vmo_finalize_clip rev[2] = { fwd[1], fwd[0] };
    vmo_final_events f1, f2;
    ck_assert_int_eq(vmo_events_finalize(&s, fwd, 2, NULL, &f1), VMO_OK);
    ck_assert_int_eq(vmo_events_finalize(&s, rev, 2, NULL, &f2), VMO_OK);
    ck_assert_int_eq(f1.count, 1);
    ck_assert_int_eq(f2.count, 1);
    ck_assert_double_eq(f1.events[0].wall_start, f2.events[0].wall_start);
    ck_assert_double_eq(f1.events[0].wall_end, f2.events[0].wall_end);
    vmo_final_events_free(&f1);
    vmo_final_events_free(&f2);
}
END_TEST

START_TEST(short_pieces_join_into_a_long_enough_event)
{
    vmo_settings s = test_settings();
    s.min_length = 0.2;
    /* 3 frames at the end of one clip + 3 at the start of the next: 6 frames together. */
    vmo_clip_event a[1] = { clip_event(247, 249, VMO_EVENT_AT_CLIP_END, 0.2) };
    vmo_clip_event b[1] = { clip_event(0, 2, VMO_EVENT_AT_CLIP_START, 0.2) };
    vmo_finalize_clip clips[2] = { { 1000.0, 10.0, DT, a, 1 }, { 1010.0, 10.0, DT, b, 1 } };
    vmo_final_events fe;
    ck_assert_int_eq(vmo_events_finalize(&s, clips, 2, NULL, &fe), VMO_OK);
    ck_assert_int_eq(fe.count, 1);
    vmo_final_events_free(&fe);
    clips[1].nevents = 0; /* alone, 3 frames are too short */
    ck_assert_int_eq(vmo_events_finalize(&s, clips, 2, NULL, &fe), VMO_OK);
    ck_assert_int_eq(fe.count, 0);
    vmo_final_events_free(&fe);
}
END_TEST

START_TEST(a_relative_window_cuts_each_clip_on_its_own)
{
    /* An event crossing from clip 0 (8.12 s..end) into clip 1 (..3.28 s); the window is
     * 0..2 s of each clip: only clip 1's part is inside it, and nothing joins. */
    vmo_settings s = test_settings();
    vmo_clip_event a[1] = { clip_event(203, 249, VMO_EVENT_AT_CLIP_END, 0.2) };
    vmo_clip_event b[1] = { clip_event(1, 82, VMO_EVENT_AT_CLIP_START, 0.3) };
    vmo_finalize_clip clips[2] = { { 1000.0, 10.0, DT, a, 1 }, { 1010.0, 10.0, DT, b, 1 } };
    vmo_window w = { 0.0, 2.0, 0 };
    vmo_final_events fe;
    ck_assert_int_eq(vmo_events_finalize(&s, clips, 2, &w, &fe), VMO_OK);
    ck_assert_int_eq(fe.count, 1);
    ck_assert_int_eq(fe.events[0].clip, 1);
    ck_assert_int_eq(fe.events[0].source_count, 1);
    ck_assert_double_eq_tol(fe.events[0].start, 1 * DT, 1e-9);
    ck_assert_double_eq_tol(fe.events[0].end, 2.0, 1e-9);
    ck_assert(fe.events[0].flags & VMO_EVENT_CLIPPED);
    vmo_final_events_free(&fe);
}
END_TEST

START_TEST(padding_is_clamped_to_the_clips)
{
    vmo_settings s = test_settings();
    s.pre_roll = s.post_roll = 2.0;
    vmo_clip_event a[1] = { clip_event(10, 240, 0, 0.2) };
    vmo_finalize_clip clips[1] = { { NAN, 10.0, DT, a, 1 } };
    vmo_final_events fe;
    ck_assert_int_eq(vmo_events_finalize(&s, clips, 1, NULL, &fe), VMO_OK);
    ck_assert_int_eq(fe.count, 1);
    ck_assert_double_eq_tol(fe.events[0].clip_start, 0.0, 1e-9);
    ck_assert_double_eq_tol(fe.events[0].clip_end, 10.0, 1e-9);
    ck_assert(isnan(fe.events[0].wall_start));
    vmo_final_events_free(&fe);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("events");
    TCase *tc = tcase_create("detector");
    tcase_add_test(tc, event_edges_are_first_and_last_active_frame);
    tcase_add_test(tc, hysteresis_moves_start_back_and_holds_above_end_level);
    tcase_add_test(tc, below_start_level_is_no_event);
    tcase_add_test(tc, merge_gap_joins_close_events_only);
    tcase_add_test(tc, short_events_dropped_unless_at_clip_edges);
    tcase_add_test(tc, end_ratio_cuts_a_faint_tail);
    tcase_add_test(tc, noise_floor_follows_noise_that_rises_slowly);
    tcase_add_test(tc, a_faint_tail_after_an_event_does_not_restart_it);
    tcase_add_test(tc, max_length_splits);
    tcase_add_test(tc, min_pixels_ignores_tiny_changes);
    suite_add_tcase(s, tc);
    TCase *tf = tcase_create("finalize");
    tcase_add_test(tf, events_crossing_a_file_boundary_join);
    tcase_add_test(tf, finalize_does_not_depend_on_clip_order);
    tcase_add_test(tf, short_pieces_join_into_a_long_enough_event);
    tcase_add_test(tf, padding_is_clamped_to_the_clips);
    tcase_add_test(tf, a_relative_window_cuts_each_clip_on_its_own);
    suite_add_tcase(s, tf);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
