/* The public API end to end, through the shared library only: options, zones, scans of
 * synthesized clips, the push API, requests, callbacks, cancellation, bad input, JSON. */
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <jansson.h>

#include <vidmotion/vidmotion.h>

#include "tutil.h"

/* A 32x32 white box crossing a static noisy grey background between t = 1 s and t = 3 s,
 * inside the band y = 40..72 of a 320x240 frame. Nothing else changes. */
#define BOX_ARGS                                                                             \
    "-f lavfi -i color=c=0x707070:s=320x240:r=25:d=4,noise=alls=40:allf=u "                 \
    "-f lavfi -i color=c=white:s=32x32:r=25:d=4 "                                            \
    "-filter_complex \"[0][1]overlay=x='if(lt(t,1),20,if(lt(t,3),20+(t-1)*100,220))':y=40\" " \
    "-c:v libx264 -crf 18 -g 1000 -pix_fmt yuv420p -movflags +faststart"

static const char *box_clip(void)
{
    return tu_clip("api_box.mp4", BOX_ARGS);
}

static vmo_analyzer *analyzer_with(const char *const *zones, int nzones, int frames)
{
    vmo_config *cfg = NULL;
    ck_assert_int_eq(vmo_config_create(&cfg), VMO_OK);
    for (int i = 0; i < nzones; i++) {
        const char *eq = strchr(zones[i], '=');
        char name[64];
        snprintf(name, sizeof(name), "%.*s", (int)(eq - zones[i]), zones[i]);
        ck_assert_msg(vmo_config_add_zone(cfg, name, VMO_ZONE_INCLUDE, eq + 1) == VMO_OK, "%s",
                      vmo_config_last_error(cfg));
    }
    ck_assert_int_eq(vmo_config_set_int(cfg, "frames", frames), VMO_OK);
    vmo_analyzer *an = NULL;
    ck_assert_int_eq(vmo_analyzer_create(cfg, &an), VMO_OK);
    vmo_config_destroy(&cfg);
    ck_assert_ptr_null(cfg);
    return an;
}

START_TEST(version_and_status_texts)
{
    ck_assert_uint_eq(vmo_version(), VMO_VERSION);
    char want[32];
    snprintf(want, sizeof(want), "%d.%d.%d", VMO_VERSION_MAJOR, VMO_VERSION_MINOR,
             VMO_VERSION_PATCH);
    ck_assert_str_eq(vmo_version_string(), want);
    for (int code = 0; code >= VMO_ERR_BAD_MANIFEST; code--) {
        const char *text = vmo_strerror(code);
        ck_assert_ptr_nonnull(text);
        ck_assert_str_ne(text, "unknown error");
    }
    ck_assert_str_eq(vmo_strerror(12345), "unknown error");
}
END_TEST

START_TEST(options_by_name)
{
    vmo_config *cfg;
    ck_assert_int_eq(vmo_config_create(&cfg), VMO_OK);
    int64_t v;
    double d;
    ck_assert_int_eq(vmo_config_get_int(cfg, "width", &v), VMO_OK);
    ck_assert_int_eq(v, 320);
    ck_assert_int_eq(vmo_config_set_int(cfg, "width", 640), VMO_OK);
    ck_assert_int_eq(vmo_config_get_int(cfg, "width", &v), VMO_OK);
    ck_assert_int_eq(v, 640);
    ck_assert_int_eq(vmo_config_set_int(cfg, "width", 5), VMO_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(vmo_config_last_error(cfg), "width"));
    ck_assert_int_eq(vmo_config_set_double(cfg, "threshold", 2.5), VMO_ERR_INVALID_ARG);
    ck_assert_int_eq(vmo_config_set_int(cfg, "no_such_option", 1), VMO_ERR_UNKNOWN_OPTION);
    ck_assert_int_eq(vmo_config_set_string(cfg, "lighting", "off"), VMO_OK);
    ck_assert_int_eq(vmo_config_get_int(cfg, "lighting", &v), VMO_OK);
    ck_assert_int_eq(v, 0);
    ck_assert_int_eq(vmo_config_set_string(cfg, "merge_gap", "0.5"), VMO_OK);
    ck_assert_int_eq(vmo_config_get_double(cfg, "merge_gap", &d), VMO_OK);
    ck_assert_double_eq(d, 0.5);
    ck_assert_int_eq(vmo_config_set_string(cfg, "merge_gap", "half"), VMO_ERR_INVALID_ARG);
    int n = vmo_config_option_count();
    ck_assert_int_gt(n, 10);
    for (int i = 0; i < n; i++) {
        vmo_option_info oi = { .struct_size = sizeof(oi) };
        ck_assert_int_eq(vmo_config_option_info(i, &oi), VMO_OK);
        ck_assert_ptr_nonnull(oi.name);
        ck_assert_double_le(oi.min_value, oi.default_value);
        ck_assert_double_ge(oi.max_value, oi.default_value);
    }
    /* An older caller's smaller struct is filled only as far as it reaches. */
    struct {
        uint32_t struct_size;
        int32_t type;
    } old = { sizeof(old), -7 };
    ck_assert_int_eq(vmo_config_option_info(0, (vmo_option_info *)&old), VMO_OK);
    ck_assert_int_ne(old.type, -7);
    vmo_option_info bad = { .struct_size = 2 };
    ck_assert_int_eq(vmo_config_option_info(0, &bad), VMO_ERR_INVALID_ARG);
    vmo_config_destroy(&cfg);
}
END_TEST

START_TEST(zone_errors_and_names)
{
    vmo_config *cfg;
    ck_assert_int_eq(vmo_config_create(&cfg), VMO_OK);
    ck_assert_int_eq(vmo_config_zone_count(cfg), 1);
    ck_assert_str_eq(vmo_config_zone_name(cfg, 0), "frame");
    ck_assert_int_eq(vmo_config_add_zone(cfg, "door", VMO_ZONE_INCLUDE, "0,0,0.5,1.5"),
                     VMO_ERR_BAD_ZONE);
    ck_assert_int_eq(vmo_config_add_zone(cfg, "door", VMO_ZONE_INCLUDE, "poly:0,0;1,1;0.5,0.5"),
                     VMO_ERR_BAD_ZONE);
    ck_assert_int_eq(vmo_config_add_zone_rect(cfg, "door", VMO_ZONE_INCLUDE, 0.5, 0, 0.2, 1),
                     VMO_ERR_BAD_ZONE);
    ck_assert_int_eq(vmo_config_add_zone(cfg, "door", VMO_ZONE_INCLUDE, "0,0,0.5,1"), VMO_OK);
    ck_assert_int_eq(vmo_config_add_zone(cfg, "door", VMO_ZONE_INCLUDE, "0,0,0.5,1"),
                     VMO_ERR_BAD_ZONE);
    double tri[] = { 0.5, 0, 1, 1, 0, 1 };
    ck_assert_int_eq(vmo_config_add_zone_polygon(cfg, "tri", VMO_ZONE_INCLUDE, tri, 3), VMO_OK);
    ck_assert_int_eq(vmo_config_add_zone(cfg, "street", VMO_ZONE_EXCLUDE, "0,0,1,0.2"), VMO_OK);
    ck_assert_int_eq(vmo_config_zone_count(cfg), 2);
    ck_assert_str_eq(vmo_config_zone_name(cfg, 1), "tri");
    ck_assert_ptr_null(vmo_config_zone_name(cfg, 2));
    ck_assert_int_eq(vmo_config_add_zones_json(cfg, "{\"zones\": [{\"name\": 3}]}"),
                     VMO_ERR_BAD_ZONE);
    ck_assert_int_eq(vmo_config_zone_count(cfg), 2);
    vmo_config_clear_zones(cfg);
    ck_assert_int_eq(vmo_config_zone_count(cfg), 1);
    vmo_config_destroy(&cfg);
}
END_TEST

static double zone_peak(const vmo_result *res, int zone)
{
    vmo_series s = { .struct_size = sizeof(s) };
    ck_assert_int_eq(vmo_result_series(res, 0, zone, &s), VMO_OK);
    double peak = 0;
    for (uint32_t i = 0; i < s.count; i++)
        peak = s.changed[i] > peak ? s.changed[i] : peak;
    return peak;
}

START_TEST(zones_the_box_crosses_score_and_others_stay_zero)
{
    const char *zones[] = { "band=0,0.1,1,0.35", "left=0,0,0.25,1", "bottom=0,0.6,1,1",
                            "corner=poly:0.8,0.7;1,0.7;1,1" };
    vmo_analyzer *an = analyzer_with(zones, 4, 1);
    vmo_result *res = NULL;
    ck_assert_int_eq(vmo_analyzer_scan_file(an, box_clip(), &res), VMO_OK);
    vmo_clip_info ci = { .struct_size = sizeof(ci) };
    ck_assert_int_eq(vmo_result_clip(res, 0, &ci), VMO_OK);
    ck_assert_int_eq(ci.status, VMO_OK);
    ck_assert_int_eq(ci.frames, 100);
    ck_assert_int_eq(ci.analysed, 100);
    ck_assert_int_eq(ci.width, 320);
    ck_assert_double_eq_tol(ci.duration, 4.0, 1e-6);
    ck_assert_str_eq(ci.codec, "h264");
    ck_assert(isnan(ci.wall_start));
    ck_assert_int_eq(vmo_result_zone_count(res), 4);
    ck_assert_double_gt(zone_peak(res, 0), 0.01);
    ck_assert_double_gt(zone_peak(res, 1), 0.001);
    ck_assert_double_eq(zone_peak(res, 2), 0.0);
    ck_assert_double_eq(zone_peak(res, 3), 0.0);
    /* One event in the band, from about 1 s to 3 s. */
    int found = 0;
    for (int i = 0; i < vmo_result_event_count(res); i++) {
        vmo_event ev = { .struct_size = sizeof(ev) };
        ck_assert_int_eq(vmo_result_event(res, i, &ev), VMO_OK);
        ck_assert_int_ne(ev.zone, 2);
        ck_assert_int_ne(ev.zone, 3);
        if (ev.zone == 0 && ev.kind == VMO_EVENT_MOTION) {
            found++;
            ck_assert_double_eq_tol(ev.start, 1.0, 0.09);
            ck_assert_double_eq_tol(ev.end, 3.0, 0.09);
            ck_assert_double_eq_tol(ev.clip_start, ev.start - 2.0 < 0 ? 0 : ev.start - 2.0, 1e-9);
            ck_assert_double_le(ev.keyframe, ev.start);
            ck_assert_double_ge(ev.peak, ev.mean);
        }
    }
    ck_assert_int_eq(found, 1);
    vmo_result_destroy(&res);
    ck_assert_ptr_null(res);
    vmo_analyzer_destroy(&an);
}
END_TEST

START_TEST(privacy_mask_is_never_analysed)
{
    vmo_config *cfg;
    ck_assert_int_eq(vmo_config_create(&cfg), VMO_OK);
    ck_assert_int_eq(vmo_config_add_zone(cfg, "road", VMO_ZONE_EXCLUDE, "0,0,1,0.4"), VMO_OK);
    ck_assert_int_eq(vmo_config_set_int(cfg, "frames", 1), VMO_OK);
    vmo_analyzer *an;
    ck_assert_int_eq(vmo_analyzer_create(cfg, &an), VMO_OK);
    vmo_config_destroy(&cfg);
    vmo_result *res;
    ck_assert_int_eq(vmo_analyzer_scan_file(an, box_clip(), &res), VMO_OK);
    ck_assert_str_eq(vmo_result_zone_name(res, 0), "frame");
    ck_assert_double_eq(zone_peak(res, 0), 0.0); /* the box only moves under the mask */
    ck_assert_int_eq(vmo_result_event_count(res), 0);
    vmo_result_destroy(&res);
    vmo_analyzer_destroy(&an);
}
END_TEST

START_TEST(variable_frame_rate_timestamps_are_exact)
{
    const char *vfr = tu_clip("api_vfr_nob.mkv",
                              "-f lavfi -i testsrc2=s=160x120:r=25:d=2 "
                              "-vf \"setpts='(N*0.04+if(gte(N,20),0.37,0)+if(gte(N,35),0.11,0))/TB'\" "
                              "-fps_mode passthrough -c:v libx264 -bf 0 -crf 30");
    vmo_analyzer *an = analyzer_with(NULL, 0, 1);
    vmo_result *res;
    ck_assert_int_eq(vmo_analyzer_scan_file(an, vfr, &res), VMO_OK);
    vmo_series s = { .struct_size = sizeof(s) };
    ck_assert_int_eq(vmo_result_series(res, 0, 0, &s), VMO_OK);
    char *probe = tu_capture("ffprobe -v error -select_streams v:0 -show_entries "
                             "frame=pts_time -of csv=p=0 '%s'", vfr);
    ck_assert_ptr_nonnull(probe);
    char *line = probe;
    uint32_t i = 0;
    double first = NAN;
    for (; i < s.count && *line; i++) {
        double t = strtod(line, &line);
        if (isnan(first))
            first = t;
        ck_assert_msg(fabs(s.t[i] - (t - first)) < 1e-6, "frame %u: %f vs %f", i, s.t[i],
                      t - first);
        while (*line && (*line < '0' || *line > '9')) /* "0.04,\n\n" */
            line++;
    }
    ck_assert_uint_eq(i, s.count);
    ck_assert_uint_eq(s.count, 50);
    free(probe);
    vmo_result_destroy(&res);
    vmo_analyzer_destroy(&an);
}
END_TEST

START_TEST(fps_cap_spreads_analysed_frames_evenly)
{
    vmo_config *cfg;
    ck_assert_int_eq(vmo_config_create(&cfg), VMO_OK);
    ck_assert_int_eq(vmo_config_set_double(cfg, "fps", 10), VMO_OK);
    ck_assert_int_eq(vmo_config_set_int(cfg, "frames", 1), VMO_OK);
    vmo_analyzer *an;
    ck_assert_int_eq(vmo_analyzer_create(cfg, &an), VMO_OK);
    vmo_config_destroy(&cfg);
    vmo_result *res;
    ck_assert_int_eq(vmo_analyzer_scan_file(an, box_clip(), &res), VMO_OK);
    vmo_clip_info ci = { .struct_size = sizeof(ci) };
    ck_assert_int_eq(vmo_result_clip(res, 0, &ci), VMO_OK);
    ck_assert_int_eq(ci.frames, 100);
    ck_assert_int_eq(ci.analysed, 40);
    vmo_series s = { .struct_size = sizeof(s) };
    ck_assert_int_eq(vmo_result_series(res, 0, 0, &s), VMO_OK);
    ck_assert_uint_eq(s.count, 40);
    for (uint32_t i = 1; i < s.count; i++) {
        double gap = s.t[i] - s.t[i - 1];
        ck_assert_double_ge(gap, 0.08 - 1e-9); /* 25 fps frames, one due every 0.1 s */
        ck_assert_double_le(gap, 0.12 + 1e-9);
        ck_assert_int_gt(s.index[i], s.index[i - 1]);
    }
    /* The box still makes one event. */
    ck_assert_int_eq(vmo_result_event_count(res), 1);
    vmo_result_destroy(&res);
    vmo_analyzer_destroy(&an);
}
END_TEST

START_TEST(heatmap_counts_where_the_box_moved)
{
    vmo_config *cfg;
    ck_assert_int_eq(vmo_config_create(&cfg), VMO_OK);
    ck_assert_int_eq(vmo_config_set_int(cfg, "heatmap", 1), VMO_OK);
    vmo_analyzer *an;
    ck_assert_int_eq(vmo_analyzer_create(cfg, &an), VMO_OK);
    vmo_config_destroy(&cfg);
    vmo_result *res;
    ck_assert_int_eq(vmo_analyzer_scan_file(an, box_clip(), &res), VMO_OK);
    const uint32_t *heat;
    int w, h;
    ck_assert_int_eq(vmo_result_heatmap(res, 0, &heat, &w, &h), VMO_OK);
    ck_assert_int_eq(w, VMO_GRID_W);
    ck_assert_int_eq(h, VMO_GRID_H);
    /* The box crosses rows y = 40..72 of 240: grid rows 3..5; nothing moves elsewhere. */
    uint32_t inside = 0, outside = 0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            *(y >= 2 && y <= 6 ? &inside : &outside) += heat[y * w + x];
    ck_assert_uint_gt(inside, 100);
    ck_assert_uint_eq(outside, 0);
    vmo_result_destroy(&res);
    /* Without the option there is none. */
    ck_assert_int_eq(vmo_analyzer_set_frame_callback(an, NULL, NULL), VMO_OK);
    vmo_analyzer_destroy(&an);
    vmo_analyzer *plain = analyzer_with(NULL, 0, 0);
    ck_assert_int_eq(vmo_analyzer_scan_file(plain, box_clip(), &res), VMO_OK);
    ck_assert_int_eq(vmo_result_heatmap(res, 0, &heat, &w, &h), VMO_ERR_STATE);
    vmo_result_destroy(&res);
    vmo_analyzer_destroy(&plain);
}
END_TEST

START_TEST(probe_reads_the_header_only)
{
    vmo_clip_info ci = { .struct_size = sizeof(ci) };
    ck_assert_int_eq(vmo_probe_file(box_clip(), &ci), VMO_OK);
    ck_assert_int_eq(ci.status, VMO_OK);
    ck_assert_str_eq(ci.codec, "h264");
    ck_assert_int_eq(ci.width, 320);
    ck_assert_int_eq(ci.height, 240);
    ck_assert_double_eq_tol(ci.duration, 4.0, 1e-6);
    ck_assert_double_eq_tol(ci.fps, 25.0, 1e-6);
    ck_assert_int_eq(ci.frames, 0);
    ck_assert_int_eq(ci.wall_source, VMO_WALL_NONE);
    ck_assert(isnan(ci.wall_start));
    const char *named = tu_clip("api_cam_20260704T140000Z.mp4",
                                "-f lavfi -i testsrc2=s=160x120:r=25:d=1 -c:v libx264 -crf 30");
    ck_assert_int_eq(vmo_probe_file(named, &ci), VMO_OK);
    ck_assert_int_eq(ci.wall_source, VMO_WALL_FILENAME);
    ck_assert_double_eq_tol(ci.wall_start, 1783173600.0, 1e-6);
    char missing[1200];
    snprintf(missing, sizeof(missing), "%s/cam_20260704T140000Z.mp4", tu_tmpdir());
    ck_assert_int_eq(vmo_probe_file(missing, &ci), VMO_ERR_NOT_FOUND);
    ck_assert_int_eq(ci.status, VMO_ERR_NOT_FOUND);
    ck_assert_int_eq(ci.wall_source, VMO_WALL_FILENAME); /* a name still tells the time */
    ck_assert_int_eq(vmo_probe_file(NULL, &ci), VMO_ERR_INVALID_ARG);
}
END_TEST

/* ---- push API ---- */

typedef struct live_events {
    int started, ended;
} live_events;

static int on_live(void *user, int what, const vmo_event *ev)
{
    live_events *le = user;
    ck_assert_int_eq(ev->struct_size, sizeof(*ev));
    if (what == VMO_EVENT_STARTED)
        le->started++;
    else
        le->ended++;
    return 0;
}

START_TEST(push_api_matches_the_decoded_scan)
{
    const char *zones[] = { "band=0,0.1,1,0.35" };
    vmo_analyzer *an = analyzer_with(zones, 1, 1);
    vmo_result *scan;
    ck_assert_int_eq(vmo_analyzer_scan_file(an, box_clip(), &scan), VMO_OK);
    /* The same frames, decoded by the ffmpeg tool, pushed as Y planes. */
    char raw[1200];
    snprintf(raw, sizeof(raw), "%s/box.yuv", tu_tmpdir());
    ck_assert_int_eq(tu_run("ffmpeg -nostdin -v error -y -i '%s' -f rawvideo -pix_fmt yuv420p '%s'",
                            box_clip(), raw),
                     0);
    size_t size;
    uint8_t *yuv = tu_read_file(raw, &size);
    ck_assert_ptr_nonnull(yuv);
    const size_t frame_bytes = 320 * 240 * 3 / 2;
    ck_assert_uint_eq(size, frame_bytes * 100);
    live_events le = { 0 };
    ck_assert_int_eq(vmo_analyzer_set_event_callback(an, on_live, &le), VMO_OK);
    for (int i = 0; i < 100; i++) {
        vmo_frame f = { .struct_size = sizeof(f), .width = 320, .height = 240, .stride = 320,
                        .luma = yuv + frame_bytes * (size_t)i, .pts = 3600 * i,
                        .time_base_num = 1, .time_base_den = 90000,
                        .flags = i == 0 ? VMO_FRAME_KEY : 0 };
        ck_assert_int_eq(vmo_analyzer_push_frame(an, &f), VMO_OK);
    }
    vmo_result *pushed;
    ck_assert_int_eq(vmo_analyzer_push_finish(an, "doorbell", 1.7e9, &pushed), VMO_OK);
    vmo_series a = { .struct_size = sizeof(a) }, b = { .struct_size = sizeof(b) };
    ck_assert_int_eq(vmo_result_series(scan, 0, 0, &a), VMO_OK);
    ck_assert_int_eq(vmo_result_series(pushed, 0, 0, &b), VMO_OK);
    ck_assert_uint_eq(a.count, b.count);
    for (uint32_t i = 0; i < a.count; i++) {
        ck_assert_double_eq_tol(a.t[i], b.t[i], 1e-9);
        ck_assert_msg(a.changed[i] == b.changed[i], "frame %u: %g vs %g", i, a.changed[i],
                      b.changed[i]);
        ck_assert(a.mad[i] == b.mad[i]);
    }
    ck_assert_int_eq(vmo_result_event_count(scan), vmo_result_event_count(pushed));
    ck_assert_int_eq(le.started, 1);
    ck_assert_int_eq(le.ended, 1);
    vmo_clip_info ci = { .struct_size = sizeof(ci) };
    ck_assert_int_eq(vmo_result_clip(pushed, 0, &ci), VMO_OK);
    ck_assert_str_eq(ci.path, "doorbell");
    ck_assert_int_eq(ci.wall_source, VMO_WALL_CALLER);
    vmo_event ev = { .struct_size = sizeof(ev) };
    ck_assert_int_eq(vmo_result_event(pushed, 0, &ev), VMO_OK);
    ck_assert_double_eq_tol(ev.wall_start, 1.7e9 + ev.start, 1e-6);
    free(yuv);
    vmo_result_destroy(&scan);
    vmo_result_destroy(&pushed);
    vmo_analyzer_destroy(&an);
}
END_TEST

/* ---- lighting: a global change is not motion, a large close object is ---- */

#define LW 320
#define LH 240

/* A textured static scene with fresh sensor noise in every frame; from frame `light_at`, for
 * 1.5 s (ramping over 4 frames) a lamp makes it brighter (gain 1.3, offset +12); a dark object
 * covering 60% x 80% of the frame walks in from the left from frame `object_at`. */
static void synth_frame(uint8_t *y, int i, int light_at, int object_at, uint32_t *rng)
{
    const int off_at = light_at + 38; /* a 1.5 s flash: its middle frames differ from frames
                                         a second before and after, as motion would */
    const double ramp = light_at < 0 || i < light_at ? 0
                        : i < off_at                 ? fmin(1.0, (i - light_at + 1) / 4.0)
                                                     : fmax(0.0, 1.0 - (i - off_at + 1) / 4.0);
    const double gain = 1.0 + 0.3 * ramp, offset = 12.0 * ramp;
    const int obj_right = object_at < 0 || i < object_at ? -1 : (i - object_at) * 12;
    for (int r = 0; r < LH; r++)
        for (int c = 0; c < LW; c++) {
            /* a fixed pattern: bricks of different greys */
            double v = 60 + ((r / 16 * 37 + (c + (r / 16 % 2) * 12) / 24 * 53) % 120);
            if (obj_right >= 0 && c < obj_right && c >= obj_right - (int)(0.6 * LW) &&
                r >= LH / 10 && r < LH * 9 / 10)
                v = 25 + ((r / 6 + c / 6) % 2) * 10; /* a dark coat with a little texture */
            v = v * gain + offset + (double)(tu_rand(rng) % 7) - 3.0;
            y[r * LW + c] = (uint8_t)fmin(255.0, fmax(0.0, v));
        }
}

static vmo_result *push_synth(int frames, int light_at, int object_at)
{
    vmo_analyzer *an = analyzer_with(NULL, 0, 0);
    uint8_t *y = malloc(LW * LH);
    uint32_t rng = tu_seed();
    for (int i = 0; i < frames; i++) {
        synth_frame(y, i, light_at, object_at, &rng);
        vmo_frame f = { .struct_size = sizeof(f), .width = LW, .height = LH, .stride = LW,
                        .luma = y, .pts = 40000 * i, .flags = i % 50 ? 0 : VMO_FRAME_KEY };
        ck_assert_int_eq(vmo_analyzer_push_frame(an, &f), VMO_OK);
    }
    free(y);
    vmo_result *res;
    ck_assert_int_eq(vmo_analyzer_push_finish(an, "synthetic", NAN, &res), VMO_OK);
    vmo_analyzer_destroy(&an);
    return res;
}

/* Counts the events of each kind; *first_motion is the first motion event's start (NaN). */
static void count_kinds(const vmo_result *res, int *motion, int *lighting, double *first_motion)
{
    *motion = *lighting = 0;
    *first_motion = NAN;
    for (int e = 0; e < vmo_result_event_count(res); e++) {
        vmo_event ev = { .struct_size = sizeof(ev) };
        ck_assert_int_eq(vmo_result_event(res, e, &ev), VMO_OK);
        if (ev.kind == VMO_EVENT_LIGHTING) {
            ck_assert_int_eq(ev.zone, -1);
            ++*lighting;
        } else if (++*motion == 1) {
            *first_motion = ev.start;
        }
    }
}

START_TEST(a_lamp_is_lighting_not_motion_and_a_close_object_is_motion)
{
    int motion, lighting;
    double start;
    /* 8 s at 25 fps, the lamp at 3 s. */
    vmo_result *lamp = push_synth(200, 75, -1);
    count_kinds(lamp, &motion, &lighting, &start);
    ck_assert_int_eq(motion, 0);
    ck_assert_int_ge(lighting, 1);
    /* A result with a lighting change (zone -1) saves and loads. */
    uint8_t *data;
    size_t size;
    ck_assert_int_eq(vmo_result_save(lamp, &data, &size), VMO_OK);
    vmo_result *back;
    ck_assert_int_eq(vmo_result_load(data, size, &back), VMO_OK);
    ck_assert_int_eq(vmo_result_event_count(back), vmo_result_event_count(lamp));
    vmo_free(data);
    vmo_result_destroy(&back);
    vmo_result_destroy(&lamp);

    /* The same scene with a person walking up close instead: motion, from ~3 s. */
    vmo_result *person = push_synth(200, -1, 75);
    count_kinds(person, &motion, &lighting, &start);
    ck_assert_int_ge(motion, 1);
    ck_assert_double_eq_tol(start, 3.0, 0.2);
    vmo_result_destroy(&person);
}
END_TEST

START_TEST(push_api_rejects_bad_frames)
{
    vmo_analyzer *an = analyzer_with(NULL, 0, 0);
    uint8_t plane[64 * 48] = { 0 };
    vmo_frame f = { .struct_size = sizeof(f), .width = 64, .height = 48, .stride = 32,
                    .luma = plane };
    ck_assert_int_eq(vmo_analyzer_push_frame(an, &f), VMO_ERR_INVALID_ARG);
    f.stride = 64;
    f.luma = NULL;
    ck_assert_int_eq(vmo_analyzer_push_frame(an, &f), VMO_ERR_INVALID_ARG);
    f.luma = plane;
    f.pts = 10;
    ck_assert_int_eq(vmo_analyzer_push_frame(an, &f), VMO_OK);
    ck_assert_int_eq(vmo_analyzer_push_frame(an, &f), VMO_ERR_INVALID_ARG); /* same pts */
    ck_assert_ptr_nonnull(strstr(vmo_analyzer_last_error(an), "pts"));
    vmo_result *res;
    ck_assert_int_eq(vmo_analyzer_scan_file(an, box_clip(), &res), VMO_ERR_STATE);
    ck_assert_int_eq(vmo_analyzer_push_finish(an, NULL, NAN, &res), VMO_OK);
    vmo_result_destroy(&res);
    ck_assert_int_eq(vmo_analyzer_push_finish(an, NULL, NAN, &res), VMO_ERR_STATE);
    vmo_analyzer_destroy(&an);
}
END_TEST

/* ---- callbacks, cancellation ---- */

static int stop_after_30(void *user, const vmo_frame_report *r)
{
    int *n = user;
    ck_assert_ptr_nonnull(r->plane);
    ck_assert_int_eq(r->plane_width, 320);
    ck_assert_int_ge(r->plane_stride, r->plane_width);
    return ++*n >= 30;
}

START_TEST(a_callback_can_cancel_and_the_partial_result_survives)
{
    vmo_analyzer *an = analyzer_with(NULL, 0, 1);
    int n = 0;
    ck_assert_int_eq(vmo_analyzer_set_frame_callback(an, stop_after_30, &n), VMO_OK);
    vmo_result *res = NULL;
    ck_assert_int_eq(vmo_analyzer_scan_file(an, box_clip(), &res), VMO_ERR_CANCELLED);
    ck_assert_ptr_nonnull(res);
    vmo_clip_info ci = { .struct_size = sizeof(ci) };
    ck_assert_int_eq(vmo_result_clip(res, 0, &ci), VMO_OK);
    ck_assert(ci.flags & VMO_CLIP_CANCELLED);
    ck_assert_int_lt(ci.frames, 100);
    ck_assert_int_eq(n, 30);
    vmo_result_destroy(&res);
    /* The next scan starts afresh. */
    ck_assert_int_eq(vmo_analyzer_set_frame_callback(an, NULL, NULL), VMO_OK);
    ck_assert_int_eq(vmo_analyzer_scan_file(an, box_clip(), &res), VMO_OK);
    vmo_result_destroy(&res);
    vmo_analyzer_destroy(&an);
}
END_TEST

/* ---- bad input ---- */

static void expect_scan_error(const char *path, int code)
{
    vmo_analyzer *an = analyzer_with(NULL, 0, 0);
    vmo_result *res = (vmo_result *)&res;
    int rc = vmo_analyzer_scan_file(an, path, &res);
    ck_assert_msg(rc == code, "%s: got %d (%s: %s), want %d", path, rc, vmo_strerror(rc),
                  vmo_analyzer_last_error(an), code);
    ck_assert_ptr_null(res);
    ck_assert_str_ne(vmo_analyzer_last_error(an), "");
    vmo_analyzer_destroy(&an);
}

static const char *scratch(const char *name, const void *data, size_t size)
{
    static char path[8][1200];
    static int k;
    char *p = path[k++ % 8];
    snprintf(p, sizeof(path[0]), "%s/%s", tu_tmpdir(), name);
    ck_assert_int_eq(tu_write_file(p, data, size), 0);
    return p;
}

START_TEST(each_bad_input_has_its_own_error)
{
    char missing[1200];
    snprintf(missing, sizeof(missing), "%s/does-not-exist.mp4", tu_tmpdir());
    expect_scan_error(missing, VMO_ERR_NOT_FOUND);
    expect_scan_error(scratch("empty.mp4", "", 0), VMO_ERR_EMPTY);
    uint8_t noise[4096];
    uint32_t seed = tu_seed();
    for (size_t i = 0; i < sizeof(noise); i++)
        noise[i] = (uint8_t)tu_rand(&seed);
    expect_scan_error(scratch("random.mp4", noise, sizeof(noise)), VMO_ERR_CORRUPT);
    const char text[] = "This is a text file, renamed to look like a video.\n";
    expect_scan_error(scratch("text.mkv", text, sizeof(text) - 1), VMO_ERR_NOT_MEDIA);
    expect_scan_error(tu_clip("api_audio.m4a", "-f lavfi -i sine=d=1 -c:a aac"),
                      VMO_ERR_NO_VIDEO);
}
END_TEST

START_TEST(truncated_file_reports_frames_before_the_cut)
{
    /* Index at the front, media data cut at 60%: the frames before the cut decode. */
    const char *whole = tu_clip("api_long.mp4", "-f lavfi -i testsrc2=s=320x240:r=25:d=8 "
                                                "-c:v libx264 -crf 30 -movflags +faststart");
    size_t size;
    uint8_t *data = tu_read_file(whole, &size);
    ck_assert_ptr_nonnull(data);
    const char *cut = scratch("cut.mp4", data, size * 6 / 10);
    free(data);
    vmo_analyzer *an = analyzer_with(NULL, 0, 0);
    vmo_result *res;
    ck_assert_int_eq(vmo_analyzer_scan_file(an, cut, &res), VMO_OK);
    vmo_clip_info ci = { .struct_size = sizeof(ci) };
    ck_assert_int_eq(vmo_result_clip(res, 0, &ci), VMO_OK);
    ck_assert_int_eq(ci.status, VMO_ERR_TRUNCATED);
    ck_assert(ci.flags & VMO_CLIP_TRUNCATED);
    ck_assert_ptr_nonnull(ci.error);
    ck_assert_int_gt(ci.frames, 50);
    ck_assert_int_lt(ci.frames, 200);
    vmo_result_destroy(&res);
    vmo_analyzer_destroy(&an);
}
END_TEST

/* ---- custom I/O ---- */

typedef struct membuf {
    const uint8_t *data;
    int64_t size, pos;
} membuf;

static int mem_read(void *opaque, uint8_t *buf, int size)
{
    membuf *m = opaque;
    int64_t n = m->size - m->pos < size ? m->size - m->pos : size;
    memcpy(buf, m->data + m->pos, (size_t)n);
    m->pos += n;
    return (int)n;
}

static int64_t mem_seek(void *opaque, int64_t offset, int whence)
{
    membuf *m = opaque;
    if (whence == VMO_SEEK_SIZE)
        return m->size;
    int64_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? m->pos : m->size;
    if (base + offset < 0 || base + offset > m->size)
        return -1;
    return m->pos = base + offset;
}

START_TEST(memory_input_gives_the_same_result_as_the_file)
{
    vmo_analyzer *an = analyzer_with(NULL, 0, 1);
    size_t size;
    uint8_t *data = tu_read_file(box_clip(), &size);
    membuf m = { data, (int64_t)size, 0 };
    vmo_io io = { sizeof(io), &m, mem_read, mem_seek };
    vmo_result *a, *b;
    ck_assert_int_eq(vmo_analyzer_scan_file(an, box_clip(), &a), VMO_OK);
    ck_assert_int_eq(vmo_analyzer_scan_io(an, &io, box_clip(), &b), VMO_OK);
    char *ja, *jb;
    ck_assert_int_eq(vmo_result_to_json(a, VMO_JSON_FRAMES, &ja), VMO_OK);
    ck_assert_int_eq(vmo_result_to_json(b, VMO_JSON_FRAMES, &jb), VMO_OK);
    ck_assert_str_eq(ja, jb);
    vmo_free(ja);
    vmo_free(jb);
    vmo_result_destroy(&a);
    vmo_result_destroy(&b);
    free(data);
    vmo_analyzer_destroy(&an);
}
END_TEST

/* ---- requests ---- */

static char *request_json(int jobs, const char *const *paths, int n)
{
    vmo_config *cfg;
    ck_assert_int_eq(vmo_config_create(&cfg), VMO_OK);
    ck_assert_int_eq(vmo_config_set_int(cfg, "jobs", jobs), VMO_OK);
    vmo_analyzer *an;
    ck_assert_int_eq(vmo_analyzer_create(cfg, &an), VMO_OK);
    vmo_config_destroy(&cfg);
    vmo_request *rq;
    ck_assert_int_eq(vmo_request_create(&rq), VMO_OK);
    for (int i = 0; i < n; i++)
        ck_assert_int_eq(vmo_request_add_clip(rq, paths[i], NAN), VMO_OK);
    vmo_result *res;
    ck_assert_int_eq(vmo_analyzer_run_request(an, rq, &res), VMO_OK);
    char *json;
    ck_assert_int_eq(vmo_result_to_json(res, 0, &json), VMO_OK);
    vmo_result_destroy(&res);
    vmo_request_destroy(&rq);
    vmo_analyzer_destroy(&an);
    return json;
}

START_TEST(request_order_does_not_depend_on_threads)
{
    char missing[1200];
    snprintf(missing, sizeof(missing), "%s/missing.mp4", tu_tmpdir());
    const char *paths[] = {
        box_clip(), missing,
        tu_clip("api_other.mkv", "-f lavfi -i testsrc2=s=160x120:r=10:d=2 -c:v mpeg4"),
        tu_clip("api_box_copy.mp4", BOX_ARGS),
    };
    char *one = request_json(1, paths, 4);
    char *two = request_json(2, paths, 4);
    ck_assert_str_eq(one, two);
    json_error_t err;
    json_t *root = json_loads(one, 0, &err);
    ck_assert_ptr_nonnull(root);
    json_t *clips = json_object_get(root, "clips");
    ck_assert_int_eq(json_array_size(clips), 4);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(clips, 1), "status")),
                     "error");
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(clips, 1),
                                                        "error_code")),
                     VMO_ERR_NOT_FOUND);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(clips, 0), "status")),
                     "ok");
    ck_assert(json_is_array(json_object_get(root, "segments")));
    json_decref(root);
    vmo_free(one);
    vmo_free(two);
}
END_TEST

START_TEST(json_contract_fields)
{
    vmo_analyzer *an = analyzer_with(NULL, 0, 1);
    vmo_result *res;
    ck_assert_int_eq(vmo_analyzer_scan_file(an, box_clip(), &res), VMO_OK);
    char *text;
    ck_assert_int_eq(vmo_result_to_json(res, VMO_JSON_FRAMES, &text), VMO_OK);
    json_error_t err;
    json_t *root = json_loads(text, 0, &err);
    ck_assert_msg(root != NULL, "%s", err.text);
    ck_assert_str_eq(json_string_value(json_object_get(root, "vidmotion")), vmo_version_string());
    json_t *clip = json_array_get(json_object_get(root, "clips"), 0);
    const char *keys[] = { "path", "frames", "analysed", "duration", "width", "height",
                           "wall_start", "status", "error" };
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        ck_assert_msg(json_object_get(clip, keys[i]) != NULL, "clip.%s missing", keys[i]);
    json_t *seg = json_array_get(json_object_get(root, "segments"), 0);
    ck_assert_ptr_nonnull(seg);
    const char *skeys[] = { "clip", "zone", "start", "end", "peak", "mean" };
    for (size_t i = 0; i < sizeof(skeys) / sizeof(skeys[0]); i++)
        ck_assert_msg(json_object_get(seg, skeys[i]) != NULL, "segment.%s missing", skeys[i]);
    json_t *frames = json_object_get(root, "frames");
    ck_assert_int_eq(json_array_size(frames), 100);
    json_t *f = json_array_get(frames, 0);
    const char *fkeys[] = { "clip", "t", "zone", "changed", "mad" };
    for (size_t i = 0; i < sizeof(fkeys) / sizeof(fkeys[0]); i++)
        ck_assert_msg(json_object_get(f, fkeys[i]) != NULL, "frame.%s missing", fkeys[i]);
    json_decref(root);
    vmo_free(text);
    vmo_result_destroy(&res);
    vmo_analyzer_destroy(&an);
}
END_TEST

START_TEST(null_arguments_are_errors_not_crashes)
{
    vmo_result *res = NULL;
    ck_assert_int_eq(vmo_config_create(NULL), VMO_ERR_INVALID_ARG);
    ck_assert_int_eq(vmo_analyzer_create(NULL, NULL), VMO_ERR_INVALID_ARG);
    ck_assert_int_eq(vmo_analyzer_scan_file(NULL, "x", &res), VMO_ERR_INVALID_ARG);
    ck_assert_int_eq(vmo_result_clip_count(NULL), 0);
    ck_assert_int_eq(vmo_result_event(NULL, 0, NULL), VMO_ERR_INVALID_ARG);
    ck_assert_int_eq(vmo_result_to_json(NULL, 0, NULL), VMO_ERR_INVALID_ARG);
    vmo_result_destroy(NULL);
    vmo_result_destroy(&res);
    vmo_analyzer_destroy(NULL);
    vmo_config_destroy(NULL);
    vmo_request_destroy(NULL);
    ck_assert_str_eq(vmo_analyzer_last_error(NULL), "");
}
END_TEST

/* Atomic: the callback may run on FFmpeg's and the decoder's threads at once. */
static atomic_int log_count;

static void count_log(void *user, int level, const char *msg)
{
    (void)user;
    (void)level;
    ck_assert_ptr_nonnull(msg);
    atomic_fetch_add(&log_count, 1);
}

START_TEST(ffmpeg_log_goes_to_the_callback_only)
{
    vmo_set_log_callback(count_log, NULL, VMO_LOG_DEBUG);
    vmo_analyzer *an = analyzer_with(NULL, 0, 0);
    vmo_result *res;
    ck_assert_int_eq(vmo_analyzer_scan_file(an, box_clip(), &res), VMO_OK);
    ck_assert_int_gt(atomic_load(&log_count), 0);
    vmo_result_destroy(&res);
    vmo_set_log_callback(NULL, NULL, VMO_LOG_ERROR);
    vmo_analyzer_destroy(&an);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("api");
    TCase *tc = tcase_create("api");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, version_and_status_texts);
    tcase_add_test(tc, options_by_name);
    tcase_add_test(tc, zone_errors_and_names);
    tcase_add_test(tc, zones_the_box_crosses_score_and_others_stay_zero);
    tcase_add_test(tc, privacy_mask_is_never_analysed);
    tcase_add_test(tc, variable_frame_rate_timestamps_are_exact);
    tcase_add_test(tc, fps_cap_spreads_analysed_frames_evenly);
    tcase_add_test(tc, heatmap_counts_where_the_box_moved);
    tcase_add_test(tc, probe_reads_the_header_only);
    tcase_add_test(tc, push_api_matches_the_decoded_scan);
    tcase_add_test(tc, push_api_rejects_bad_frames);
    tcase_add_test(tc, a_lamp_is_lighting_not_motion_and_a_close_object_is_motion);
    tcase_add_test(tc, a_callback_can_cancel_and_the_partial_result_survives);
    tcase_add_test(tc, each_bad_input_has_its_own_error);
    tcase_add_test(tc, truncated_file_reports_frames_before_the_cut);
    tcase_add_test(tc, memory_input_gives_the_same_result_as_the_file);
    tcase_add_test(tc, request_order_does_not_depend_on_threads);
    tcase_add_test(tc, json_contract_fields);
    tcase_add_test(tc, null_arguments_are_errors_not_crashes);
    tcase_add_test(tc, ffmpeg_log_goes_to_the_callback_only);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
