/* Export: stream copy, precise (smart) cut, full re-encode, redaction, exports across files,
 * the manifest and its verification, thumbnails, and the atomic-write guarantees (existing
 * files, unwritable folder, full disk, a killed process). Results are built through the
 * internal API so that no test depends on the detector. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <jansson.h>

#include "export.h"
#include "result.h"
#include "tutil.h"

/* Lowest PSNR (luma, dB) accepted for a re-encoded frame against its source frame. The
 * smart-cut head is encoded at CRF 16 and a full re-encode at CRF 18; on testsrc2 (a hard,
 * detailed source) both stay well above this (docs/export.md). */
#define PSNR_BOUND 38.0

#define W           320
#define H           240
#define FPS         25
#define FRAME_BYTES (W * H * 3 / 2)

/* ---- fixtures ---- */

static const char *subtitle_file(void)
{
    static char path[1024];
    const char *dir = getenv("VMO_FIXTURES");
    snprintf(path, sizeof(path), "%s/ex_subs.srt", dir && *dir ? dir : "fixtures");
    const char *srt = "1\n00:00:01,000 --> 00:00:11,000\nfront door\n\n";
    ck_assert_int_eq(tu_write_file(path, srt, strlen(srt)), 0);
    return path;
}

/* testsrc2 (every frame differs, so an off-by-one shows) with x264 B-frames, a 2 s GOP, AAC
 * audio and a subtitle track; its creation_time is 2026-07-04T14:00:00Z. */
static const char *clip_main(const char *ext)
{
    char args[2048], name[64];
    snprintf(name, sizeof(name), "ex_main.%s", ext);
    snprintf(args, sizeof(args),
             "-f lavfi -i testsrc2=size=%dx%d:rate=%d -f lavfi -i sine=frequency=440:"
             "sample_rate=48000 -i '%s' -t 12 -map 0:v -map 1:a -map 2:s -c:v libx264 -g 50 "
             "-keyint_min 50 -sc_threshold 0 -pix_fmt yuv420p -c:a aac -b:a 64k -c:s %s "
             "-metadata creation_time=2026-07-04T14:00:00Z",
             W, H, FPS, subtitle_file(), strcmp(ext, "mp4") ? "srt" : "mov_text");
    return tu_clip(name, args);
}

/* Two clips of one camera, back to back: frames 0..149 and 150..299 of the same source. */
static const char *clip_split(int second)
{
    char args[1024];
    snprintf(args, sizeof(args),
             "-f lavfi -i testsrc2=size=%dx%d:rate=%d -f lavfi -i sine=frequency=440:"
             "sample_rate=48000 -vf trim=start_frame=%d:end_frame=%d,setpts=PTS-STARTPTS "
             "-af atrim=start=%d:end=%d,asetpts=PTS-STARTPTS -c:v libx264 -g 50 -keyint_min 50 "
             "-sc_threshold 0 -pix_fmt yuv420p -c:a aac -b:a 64k",
             W, H, FPS, second ? 150 : 0, second ? 300 : 150, second ? 6 : 0, second ? 12 : 6);
    return tu_clip(second ? "ex_split_b.mp4" : "ex_split_a.mp4", args);
}

static const char *clip_mpeg4(void)
{
    return tu_clip("ex_mpeg4.mp4", "-f lavfi -i testsrc2=size=320x240:rate=25 -t 6 -c:v mpeg4 "
                                   "-q:v 3 -g 50");
}

static const char *clip_hevc(void)
{
    return tu_clip("ex_hevc.mp4", "-f lavfi -i testsrc2=size=320x240:rate=25 -f lavfi -i "
                                  "sine=frequency=440:sample_rate=48000 -t 6 -c:v libx265 "
                                  "-x265-params log-level=error:keyint=50 -tag:v hvc1 -c:a aac");
}

/* Like most cameras: Main profile without B-frames, 1 s GOP. */
static const char *clip_camera(void)
{
    return tu_clip("ex_camera.mp4", "-f lavfi -i testsrc2=size=320x240:rate=25 -t 8 -c:v "
                                    "libx264 -profile:v main -bf 0 -g 25 -keyint_min 25 "
                                    "-sc_threshold 0 -pix_fmt yuv420p");
}

/* 33 audio streams, then the video: its stream index is past the 32 streams an output
 * holds. */
static const char *clip_many_streams(void)
{
    char args[1200];
    int n = snprintf(args, sizeof(args),
                     "-f lavfi -i sine=frequency=300:sample_rate=8000 -f "
                     "lavfi -i testsrc2=size=160x120:rate=25 -t 4 ");
    for (int i = 0; i < 33; i++)
        n += snprintf(args + n, sizeof(args) - (size_t)n, "-map 0:a ");
    snprintf(args + n, sizeof(args) - (size_t)n,
             "-map 1:v -c:a pcm_s16le -c:v libx264 -g 25 -pix_fmt yuv420p");
    return tu_clip("ex_many_streams.mkv", args);
}

/* An hour of video and audio (a minute looped by stream copy: made in about a second). */
static const char *clip_long(void)
{
    const char *base =
        tu_clip("ex_base60.mp4", "-f lavfi -i testsrc2=size=160x120:rate=10 -f lavfi -i "
                                 "sine=frequency=300:sample_rate=16000 -t 60 -c:v libx264 -preset "
                                 "veryfast -crf 38 -g 20 -pix_fmt yuv420p -c:a aac -b:a 12k");
    char args[1200];
    snprintf(args, sizeof(args), "-stream_loop 59 -i '%s' -c copy", base);
    return tu_clip("ex_long.mp4", args);
}

/* ---- results built by hand ---- */

typedef struct fixture {
    vmo_zone_set zones;
    vmo_result *res;
} fixture;

static void fx_init(fixture *fx, double pre, double post)
{
    memset(fx, 0, sizeof(*fx));
    vmo_settings s;
    vmo_settings_default(&s);
    s.pre_roll = pre;
    s.post_roll = post;
    s.min_length = 0;
    s.merge_gap = 0.5;
    ck_assert_int_eq(vmo_zone_set_add_spec(&fx->zones, "porch", VMO_ZONE_INCLUDE, "0,0,1,1", NULL),
                     VMO_OK);
    const char *names[] = { "porch" };
    ck_assert_int_eq(vmo_result_new(&fx->res, &s, &fx->zones, 1, names), VMO_OK);
}

static void fx_mask(fixture *fx, const char *spec)
{
    ck_assert_int_eq(vmo_zone_set_add_spec(&fx->res->zones, "mask1", VMO_ZONE_EXCLUDE, spec, NULL),
                     VMO_OK);
}

static vmo_clip_data *fx_clip(fixture *fx, const char *path, double duration, double fps,
                              double wall)
{
    vmo_clip_data *c = vmo_result_add_clip(fx->res, path, "h264");
    ck_assert_ptr_nonnull(c);
    c->info.duration = duration;
    c->info.fps = fps;
    c->info.frames = (int64_t)llround(duration * fps);
    c->info.width = W;
    c->info.height = H;
    c->info.wall_start = wall;
    c->info.wall_source = isnan(wall) ? VMO_WALL_NONE : VMO_WALL_TAG;
    c->frame_dur = 1.0 / fps;
    c->first_t = 0;
    return c;
}

/* A motion event on frames [start, end] (seconds) of `c`. */
static void fx_event(vmo_clip_data *c, double start, double end, double peak_t, uint32_t flags)
{
    vmo_clip_event *grown = realloc(c->events, sizeof(*grown) * (size_t)(c->nevents + 1));
    ck_assert_ptr_nonnull(grown);
    c->events = grown;
    vmo_clip_event *e = &c->events[c->nevents++];
    memset(e, 0, sizeof(*e));
    e->kind = VMO_EVENT_MOTION;
    e->zone = 0;
    e->flags = flags;
    e->start = start;
    e->end = end;
    e->start_frame = llround(start / c->frame_dur);
    e->end_frame = llround(end / c->frame_dur);
    e->peak = 0.5;
    e->peak_t = peak_t;
    e->nframes = e->end_frame - e->start_frame + 1;
    e->sum = 0.2 * (double)e->nframes;
    e->keyframe = NAN;
    e->keyframe_pre = NAN;
}

static void fx_done(fixture *fx)
{
    ck_assert_int_eq(vmo_result_finalize(fx->res), VMO_OK);
}

static void fx_free(fixture *fx)
{
    vmo_result_destroy(&fx->res);
    vmo_zone_set_clear(&fx->zones);
}

static double wall_of(const char *iso)
{
    double t;
    int kind;
    ck_assert_int_eq(vmo_parse_time(iso, &t, &kind), VMO_OK);
    return t;
}

/* ---- helpers ---- */

static char *fresh_dir(const char *name)
{
    static int n;
    char *dir = malloc(1200);
    snprintf(dir, 1200, "%s/%s.%d", tu_tmpdir(), name, ++n);
    tu_run("rm -rf '%s'", dir);
    ck_assert_int_eq(mkdir(dir, 0755), 0);
    return dir;
}

static vmo_export *new_export(const char *dir, const char *mode, const char *format)
{
    vmo_export *ex = NULL;
    ck_assert_int_eq(vmo_export_create(&ex), VMO_OK);
    ck_assert_int_eq(vmo_export_set_string(ex, "dir", dir), VMO_OK);
    ck_assert_int_eq(vmo_export_set_string(ex, "mode", mode), VMO_OK);
    ck_assert_int_eq(vmo_export_set_string(ex, "format", format), VMO_OK);
    ck_assert_int_eq(vmo_export_set_string(ex, "case", "CASE-2026-0042"), VMO_OK);
    return ex;
}

static void run_ok(vmo_export *ex, const vmo_result *res)
{
    int rc = vmo_export_run(ex, res);
    ck_assert_msg(rc == VMO_OK, "export failed: %s: %s", vmo_strerror(rc),
                  vmo_export_last_error(ex));
}

static vmo_export_output_info output0(const vmo_export *ex)
{
    vmo_export_output_info o = { .struct_size = sizeof(o) };
    ck_assert_int_eq(vmo_export_output(ex, 0, &o), VMO_OK);
    return o;
}

static void assert_decodes_cleanly(const char *path)
{
    char *err = tu_capture("ffmpeg -nostdin -v error -i '%s' -f null - 2>&1", path);
    ck_assert_ptr_nonnull(err);
    ck_assert_msg(err[0] == '\0', "ffmpeg reports errors decoding %s:\n%s", path, err);
    free(err);
    err = tu_capture("ffprobe -v error -show_streams -show_format '%s' 2>&1 >/dev/null", path);
    ck_assert_msg(err && err[0] == '\0', "ffprobe reports errors on %s:\n%s", path, err);
    free(err);
}

static json_t *probe(const char *path)
{
    char *out = tu_capture("ffprobe -v error -show_entries stream=codec_type,codec_name,"
                           "start_time:format=duration:format_tags=creation_time -of json '%s'",
                           path);
    ck_assert_ptr_nonnull(out);
    json_error_t jerr;
    json_t *j = json_loads(out, 0, &jerr);
    ck_assert_msg(j != NULL, "ffprobe output: %s", out);
    free(out);
    return j;
}

static int count_streams(json_t *p, const char *type)
{
    json_t *streams = json_object_get(p, "streams");
    int n = 0;
    for (size_t i = 0; i < json_array_size(streams); i++)
        n += !strcmp(json_string_value(json_object_get(json_array_get(streams, i), "codec_type")),
                     type);
    return n;
}

static double probe_duration(json_t *p)
{
    return atof(json_string_value(json_object_get(json_object_get(p, "format"), "duration")));
}

/* pts and key flag of the first video frame. */
static void first_frame(const char *path, double *pts, int *key)
{
    char *out = tu_capture("ffprobe -v error -select_streams v:0 -show_frames -read_intervals "
                           "%%+#1 -show_entries frame=pts_time,key_frame -of csv=p=0 '%s'",
                           path);
    ck_assert_ptr_nonnull(out);
    ck_assert_int_eq(sscanf(out, "%d,%lf", key, pts), 2);
    free(out);
}

/* Decoded frames (yuv420p, no frame dropped or duplicated) of `path` after filter `vf`. */
static uint8_t *raw_frames(const char *path, const char *vf, int *count)
{
    char out[1200];
    snprintf(out, sizeof(out), "%s/raw.%d.yuv", tu_tmpdir(), (int)getpid());
    int rc = tu_run("ffmpeg -nostdin -v error -y -i '%s' -map 0:v:0 %s%s -fps_mode passthrough "
                    "-pix_fmt yuv420p -f rawvideo '%s'",
                    path, vf ? "-vf " : "", vf ? vf : "", out);
    ck_assert_int_eq(rc, 0);
    size_t size = 0;
    uint8_t *data = tu_read_file(out, &size);
    ck_assert_ptr_nonnull(data);
    unlink(out);
    *count = (int)(size / FRAME_BYTES);
    return data;
}

static double psnr_y(const uint8_t *a, const uint8_t *b)
{
    double se = 0;
    for (int i = 0; i < W * H; i++) {
        double d = (double)a[i] - (double)b[i];
        se += d * d;
    }
    return se == 0 ? INFINITY : 10 * log10(255.0 * 255.0 * W * H / se);
}

/* The output holds exactly source frames [first, last]: copied frames bit-exact, the
 * re-encoded ones within PSNR_BOUND. Returns the lowest PSNR seen. */
static double assert_frames(const char *out, const char *src, int first, int last,
                            int64_t copied_at_least)
{
    char vf[128];
    snprintf(vf, sizeof(vf), "trim=start_frame=%d:end_frame=%d", first, last + 1);
    int n_out, n_src;
    uint8_t *o = raw_frames(out, NULL, &n_out);
    uint8_t *s = raw_frames(src, vf, &n_src);
    ck_assert_int_eq(n_src, last - first + 1);
    ck_assert_msg(n_out == n_src, "output has %d frames, expected %d (source %d..%d)", n_out, n_src,
                  first, last);
    double low = INFINITY;
    int exact = 0;
    for (int i = 0; i < n_out; i++) {
        double p = psnr_y(o + (size_t)i * FRAME_BYTES, s + (size_t)i * FRAME_BYTES);
        exact += !memcmp(o + (size_t)i * FRAME_BYTES, s + (size_t)i * FRAME_BYTES, FRAME_BYTES);
        ck_assert_msg(p >= PSNR_BOUND, "frame %d (source %d): PSNR %.2f dB < %.1f", i, first + i, p,
                      PSNR_BOUND);
        low = fmin(low, p);
    }
    ck_assert_msg(exact >= copied_at_least, "%d bit-exact frames, expected >= %lld", exact,
                  (long long)copied_at_least);
    free(o);
    free(s);
    return low;
}

static json_t *load_manifest(const vmo_export *ex)
{
    json_error_t jerr;
    json_t *m = json_load_file(vmo_export_manifest_path(ex), 0, &jerr);
    ck_assert_msg(m != NULL, "manifest: %s", jerr.text);
    return m;
}

static json_t *manifest_output(json_t *m, int i)
{
    return json_array_get(json_object_get(m, "outputs"), (size_t)i);
}

/* Names in `dir` (hidden temporaries included), sorted, one per line. */
static char *listing(const char *dir)
{
    return tu_capture("ls -A '%s' | sort", dir);
}

/* ======================================================================================= */

START_TEST(copy_mp4_keeps_streams_and_sync)
{
    const char *src = clip_main("mp4");
    fixture fx;
    fx_init(&fx, 1.2, 1.2);
    fx_event(fx_clip(&fx, src, 12.0, FPS, wall_of("2026-07-04T14:00:00Z")), 5.0, 7.0, 6.0, 0);
    fx_done(&fx);
    char *dir = fresh_dir("copy");
    vmo_export *ex = new_export(dir, "copy", "mp4");
    run_ok(ex, fx.res);
    ck_assert_int_eq(vmo_export_output_count(ex), 1);
    vmo_export_output_info o = output0(ex);
    ck_assert_int_eq(o.reencoded, 0);
    assert_decodes_cleanly(o.path);

    json_t *p = probe(o.path);
    ck_assert_int_eq(count_streams(p, "video"), 1);
    ck_assert_int_eq(count_streams(p, "audio"), 1);
    ck_assert_int_eq(count_streams(p, "subtitle"), 1);
    /* Keyframe at or before 3.8 s is 2.0 s; the end is 8.2 s (plus B-frame references). */
    double request = 8.2 + 0.04 - 3.8, dur = probe_duration(p);
    ck_assert_msg(dur >= request - 0.05 && dur <= request + 2.0 + 0.2, "duration %.3f", dur);
    ck_assert_msg(fabs(o.duration - dur) < 0.1, "reported %.3f, probed %.3f", o.duration, dur);
    const char *ct = json_string_value(
        json_object_get(json_object_get(json_object_get(p, "format"), "tags"), "creation_time"));
    ck_assert_ptr_nonnull(ct);
    ck_assert_msg(!strncmp(ct, "2026-07-04T14:00:02", 19), "creation_time %s", ct);
    ck_assert_msg(fabs(o.wall_start - wall_of("2026-07-04T14:00:02Z")) < 1e-3, "wall %.3f",
                  o.wall_start);
    double pts;
    int key;
    first_frame(o.path, &pts, &key);
    ck_assert_int_eq(key, 1);
    ck_assert_msg(fabs(pts) < 1e-6, "first pts %.6f", pts);
    /* Copied frames are the source's own: frames 50 (2.0 s) to 205 (8.2 s), and maybe a few
     * after it that B-frames before 8.2 s refer to. */
    int copied = (int)ex->items[0].frames_copied;
    ck_assert_int_ge(copied, 156);
    assert_frames(o.path, src, 50, 50 + copied - 1, copied);
    json_decref(p);
    vmo_export_destroy(&ex);
    fx_free(&fx);
    free(dir);
}
END_TEST

START_TEST(copy_mkv)
{
    const char *src = clip_main("mkv");
    fixture fx;
    fx_init(&fx, 1.0, 1.0);
    fx_event(fx_clip(&fx, src, 12.0, FPS, wall_of("2026-07-04T14:00:00Z")), 3.0, 5.0, 4.0, 0);
    fx_done(&fx);
    char *dir = fresh_dir("copymkv");
    vmo_export *ex = new_export(dir, "copy", "mkv");
    run_ok(ex, fx.res);
    vmo_export_output_info o = output0(ex);
    ck_assert_ptr_nonnull(strstr(o.path, ".mkv"));
    assert_decodes_cleanly(o.path);
    json_t *p = probe(o.path);
    ck_assert_int_eq(count_streams(p, "video"), 1);
    ck_assert_int_eq(count_streams(p, "audio"), 1);
    ck_assert_int_eq(count_streams(p, "subtitle"), 1);
    double pts;
    int key;
    first_frame(o.path, &pts, &key);
    ck_assert_int_eq(key, 1);
    ck_assert_msg(fabs(pts) < 1e-6, "first pts %.6f", pts);
    ck_assert_msg(fabs(o.wall_start - wall_of("2026-07-04T14:00:02Z")) < 1e-3, "wall %.3f",
                  o.wall_start);
    json_decref(p);
    vmo_export_destroy(&ex);
    fx_free(&fx);
    free(dir);
}
END_TEST

/* Frame-exact: the output holds exactly frames 95 (3.8 s) to 205 (8.2 s). */
static void precise_case(const char *ext)
{
    const char *src = clip_main(ext);
    fixture fx;
    fx_init(&fx, 1.2, 1.2);
    fx_event(fx_clip(&fx, src, 12.0, FPS, wall_of("2026-07-04T14:00:00Z")), 5.0, 7.0, 6.0, 0);
    fx_done(&fx);
    char *dir = fresh_dir("precise");
    vmo_export *ex = new_export(dir, "precise", ext);
    run_ok(ex, fx.res);
    vmo_export_output_info o = output0(ex);
    ck_assert_int_eq(o.reencoded, 1);
    const vmo_export_item *it = &ex->items[0];
    ck_assert_int_eq(it->reencoded, VMO_REENC_PARTIAL);
    ck_assert_int_ge(it->frames_encoded, 5); /* frames 95..99 at least */
    assert_decodes_cleanly(o.path);
    double low = assert_frames(o.path, src, 95, 205, it->frames_copied);
    fprintf(stderr, "precise %s: %lld frames copied, %lld re-encoded, lowest PSNR %.2f dB\n", ext,
            (long long)it->frames_copied, (long long)it->frames_encoded, low);
    json_t *p = probe(o.path);
    ck_assert_int_eq(count_streams(p, "audio"), 1);
    double dur = probe_duration(p);
    ck_assert_msg(fabs(dur - 4.44) < 0.08, "duration %.3f", dur);
    double pts;
    int key;
    first_frame(o.path, &pts, &key);
    ck_assert_int_eq(key, 1);
    ck_assert_msg(fabs(pts) < 1e-6, "first pts %.6f", pts);
    ck_assert_msg(fabs(o.wall_start - wall_of("2026-07-04T14:00:03.8Z")) < 1e-3, "wall %.3f",
                  o.wall_start);
    json_t *m = load_manifest(ex);
    json_t *mo = manifest_output(m, 0);
    ck_assert_str_eq(json_string_value(json_object_get(mo, "reencoded")), "partial");
    ck_assert_ptr_nonnull(json_string_value(json_object_get(mo, "reencode_reason")));
    json_decref(m);
    json_decref(p);
    vmo_export_destroy(&ex);
    fx_free(&fx);
    free(dir);
}

START_TEST(precise_mp4_frame_exact)
{
    precise_case("mp4");
}
END_TEST

START_TEST(precise_mkv_frame_exact)
{
    precise_case("mkv");
}
END_TEST

/* A precise cut that starts on an IDR frame re-encodes nothing at the head. */
START_TEST(precise_on_keyframe_copies)
{
    const char *src = clip_main("mp4");
    fixture fx;
    fx_init(&fx, 1.0, 0.0);
    fx_event(fx_clip(&fx, src, 12.0, FPS, NAN), 5.0, 7.96, 6.0, 0);
    fx_done(&fx);
    char *dir = fresh_dir("precisekey");
    vmo_export *ex = new_export(dir, "precise", "mp4");
    run_ok(ex, fx.res);
    const vmo_export_item *it = &ex->items[0];
    assert_decodes_cleanly(it->path);
    /* 4.0 s .. 7.96 s: frames 100..199, the tail ends right before the IDR at 8.0 s. */
    assert_frames(it->path, src, 100, 199, 100);
    ck_assert_int_eq(it->frames_encoded, 0);
    ck_assert(isnan(it->wall_start));
    vmo_export_destroy(&ex);
    fx_free(&fx);
    free(dir);
}
END_TEST

/* No B-frames: the tail is always cut by copying; only the head is re-encoded. */
START_TEST(precise_camera_stream)
{
    const char *src = clip_camera();
    fixture fx;
    fx_init(&fx, 0.6, 0.6);
    fx_event(fx_clip(&fx, src, 8.0, FPS, NAN), 3.0, 5.0, 4.0, 0);
    fx_done(&fx);
    char *dir = fresh_dir("camera");
    vmo_export *ex = new_export(dir, "precise", "mp4");
    run_ok(ex, fx.res);
    const vmo_export_item *it = &ex->items[0];
    assert_decodes_cleanly(it->path);
    /* 2.4 s .. 5.6 s: frames 60..140; 60..74 re-encoded (IDR at 75), the rest copied. */
    assert_frames(it->path, src, 60, 140, 66);
    ck_assert_int_eq(it->frames_encoded, 15);
    ck_assert_int_eq(it->frames_copied, 66);
    vmo_export_destroy(&ex);
    fx_free(&fx);
    free(dir);
}
END_TEST

/* HEVC: copied as is; a precise cut falls back to a full re-encode, and says why. */
START_TEST(hevc_copy_and_precise)
{
    const char *src = clip_hevc();
    fixture fx;
    fx_init(&fx, 0.5, 0.5);
    fx_event(fx_clip(&fx, src, 6.0, FPS, NAN), 2.5, 3.5, 3.0, 0);
    fx_done(&fx);
    for (int precise = 0; precise < 2; precise++) {
        char *dir = fresh_dir("hevc");
        vmo_export *ex = new_export(dir, precise ? "precise" : "copy", precise ? "mkv" : "mp4");
        run_ok(ex, fx.res);
        const vmo_export_item *it = &ex->items[0];
        assert_decodes_cleanly(it->path);
        json_t *p = probe(it->path);
        ck_assert_int_eq(count_streams(p, "audio"), 1);
        json_decref(p);
        if (precise) {
            ck_assert_int_eq(it->reencoded, VMO_REENC_ALL);
            ck_assert_ptr_nonnull(strstr(it->reason, "H.264 only"));
            assert_frames(it->path, src, 50, 100, 0);
        } else {
            ck_assert_int_eq(it->reencoded, VMO_REENC_NONE);
            assert_frames(it->path, src, 50, 50 + (int)it->frames_copied - 1, it->frames_copied);
        }
        vmo_export_destroy(&ex);
        free(dir);
    }
    fx_free(&fx);
}
END_TEST

START_TEST(precise_unsupported_codec_reencodes_all)
{
    const char *src = clip_mpeg4();
    fixture fx;
    fx_init(&fx, 0.5, 0.5);
    fx_event(fx_clip(&fx, src, 6.0, FPS, NAN), 2.5, 3.5, 3.0, 0);
    fx_done(&fx);
    char *dir = fresh_dir("mpeg4");
    vmo_export *ex = new_export(dir, "precise", "mkv");
    run_ok(ex, fx.res);
    const vmo_export_item *it = &ex->items[0];
    ck_assert_int_eq(it->reencoded, VMO_REENC_ALL);
    ck_assert_ptr_nonnull(strstr(it->reason, "H.264 only"));
    assert_decodes_cleanly(it->path);
    double low = assert_frames(it->path, src, 50, 100, 0);
    fprintf(stderr, "mpeg4 -> full re-encode: lowest PSNR %.2f dB\n", low);
    vmo_export_destroy(&ex);
    fx_free(&fx);
    free(dir);
}
END_TEST

START_TEST(reencode_mode)
{
    const char *src = clip_main("mp4");
    fixture fx;
    fx_init(&fx, 1.2, 1.2);
    fx_event(fx_clip(&fx, src, 12.0, FPS, NAN), 5.0, 7.0, 6.0, 0);
    fx_done(&fx);
    char *dir = fresh_dir("reencode");
    vmo_export *ex = new_export(dir, "reencode", "mp4");
    run_ok(ex, fx.res);
    const vmo_export_item *it = &ex->items[0];
    ck_assert_int_eq(it->reencoded, VMO_REENC_ALL);
    assert_decodes_cleanly(it->path);
    double low = assert_frames(it->path, src, 95, 205, 0);
    fprintf(stderr, "full re-encode: lowest PSNR %.2f dB\n", low);
    json_t *p = probe(it->path);
    ck_assert_int_eq(count_streams(p, "audio"), 1);
    json_decref(p);
    vmo_export_destroy(&ex);
    fx_free(&fx);
    free(dir);
}
END_TEST

/* ---- across files ---- */

static void across_case(const char *mode, const char *format)
{
    const char *a = clip_split(0), *b = clip_split(1);
    double w = wall_of("2026-07-04T15:00:00Z");
    fixture fx;
    fx_init(&fx, 1.2, 1.2);
    fx_event(fx_clip(&fx, a, 6.0, FPS, w), 4.4, 5.96, 5.0, VMO_EVENT_AT_CLIP_END);
    fx_event(fx_clip(&fx, b, 6.0, FPS, w + 6.0), 0.0, 1.0, 0.5, VMO_EVENT_AT_CLIP_START);
    fx_done(&fx);
    ck_assert_int_eq(vmo_result_event_count(fx.res), 1);
    vmo_event ev = { .struct_size = sizeof(ev) };
    vmo_result_event(fx.res, 0, &ev);
    ck_assert_int_eq(ev.source_count, 2);
    char *dir = fresh_dir("across");
    vmo_export *ex = new_export(dir, mode, format);
    run_ok(ex, fx.res);
    ck_assert_int_eq(vmo_export_output_count(ex), 1);
    const vmo_export_item *it = &ex->items[0];
    ck_assert_int_eq(it->nparts, 2);
    assert_decodes_cleanly(it->path);
    /* Whole source: frames 0..299 of the two files; the event spans 3.2 s .. 7.2 s. */
    char whole[1200];
    snprintf(whole, sizeof(whole), "%s/whole.%d.mp4", tu_tmpdir(), (int)getpid());
    ck_assert_int_eq(tu_run("ffmpeg -nostdin -v error -y -i '%s' -i '%s' -filter_complex "
                            "'[0:v][1:v]concat=n=2:v=1:a=0' -c:v ffv1 -f matroska '%s'",
                            a, b, whole),
                     0);
    int first = !strcmp(mode, "copy") ? 50 : 80;
    int last = !strcmp(mode, "copy") ? first + (int)it->frames_copied - 1 : 205;
    ck_assert_int_ge(last, 205);
    double low = assert_frames(it->path, whole, first, last, it->frames_copied);
    fprintf(stderr, "across files (%s, %s): %lld copied, %lld re-encoded, lowest PSNR %.2f\n", mode,
            format, (long long)it->frames_copied, (long long)it->frames_encoded, low);
    json_t *p = probe(it->path);
    ck_assert_int_eq(count_streams(p, "audio"), 1);
    json_decref(p);
    json_t *m = load_manifest(ex);
    json_t *srcs = json_object_get(manifest_output(m, 0), "sources");
    ck_assert_int_eq(json_array_size(srcs), 2);
    ck_assert_int_eq(json_array_size(json_object_get(m, "sources")), 2);
    json_decref(m);
    unlink(whole);
    vmo_export_destroy(&ex);
    fx_free(&fx);
    free(dir);
}

START_TEST(across_files_copy)
{
    across_case("copy", "mp4");
}
END_TEST

START_TEST(across_files_precise)
{
    across_case("precise", "mkv");
}
END_TEST

/* ---- redaction ---- */

/* Mean and mean absolute deviation of a luma rectangle. */
static void rect_stats(const uint8_t *y, int x0, int y0, int x1, int y1, double *mean, double *mad)
{
    double sum = 0, dev = 0;
    int n = (x1 - x0) * (y1 - y0);
    for (int r = y0; r < y1; r++)
        for (int c = x0; c < x1; c++)
            sum += y[r * W + c];
    *mean = sum / n;
    for (int r = y0; r < y1; r++)
        for (int c = x0; c < x1; c++)
            dev += fabs(y[r * W + c] - *mean);
    *mad = dev / n;
}

static double region_psnr(const uint8_t *a, const uint8_t *b, int x0, int y0, int x1, int y1)
{
    double se = 0;
    for (int r = y0; r < y1; r++)
        for (int c = x0; c < x1; c++) {
            double d = (double)a[r * W + c] - b[r * W + c];
            se += d * d;
        }
    return se == 0 ? INFINITY : 10 * log10(255.0 * 255.0 * (x1 - x0) * (y1 - y0) / se);
}

static void redact_case(const char *how)
{
    const char *src = clip_main("mp4");
    fixture fx;
    fx_init(&fx, 0.5, 0.5);
    fx_mask(&fx, "0.5,0.25,1,0.75"); /* x 160..319, y 60..179 */
    fx_event(fx_clip(&fx, src, 12.0, FPS, NAN), 5.0, 6.0, 5.5, 0);
    fx_done(&fx);
    char *dir = fresh_dir("redact");
    vmo_export *ex = new_export(dir, "copy", "mp4");
    ck_assert_int_eq(vmo_export_set_string(ex, "redact", how), VMO_OK);
    ck_assert_int_eq(vmo_export_set_int(ex, "thumbnails", 1), VMO_OK);
    run_ok(ex, fx.res);
    const vmo_export_item *it = &ex->items[0];
    ck_assert_int_eq(it->reencoded, VMO_REENC_ALL);
    ck_assert_str_eq(it->reason, "privacy masks redacted");
    assert_decodes_cleanly(it->path);
    int n_out, n_src;
    uint8_t *o = raw_frames(it->path, NULL, &n_out);
    uint8_t *s = raw_frames(src, "trim=start_frame=112:end_frame=163", &n_src);
    ck_assert_int_eq(n_out, n_src);
    for (int f = 0; f < n_out; f += 10) {
        const uint8_t *oy = o + (size_t)f * FRAME_BYTES, *sy = s + (size_t)f * FRAME_BYTES;
        double mean, mad, smean, smad;
        rect_stats(oy, 168, 68, 312, 172, &mean, &mad); /* inside, away from the edges */
        if (!strcmp(how, "black")) {
            ck_assert_msg(fabs(mean - 16) < 2 && mad < 1.5, "frame %d: masked luma %.1f/%.1f", f,
                          mean, mad);
        } else {
            /* Pixelated: blocks of 10x10 (320 / 32) are flat, up to coding noise, unlike the
             * source's. */
            double sum = 0, ssum = 0;
            int blocks = 0;
            for (int by = 60; by + 10 <= 180; by += 10)
                for (int bx = 160; bx + 10 <= 320; bx += 10, blocks++) {
                    rect_stats(oy, bx, by, bx + 10, by + 10, &mean, &mad);
                    rect_stats(sy, bx, by, bx + 10, by + 10, &smean, &smad);
                    sum += mad;
                    ssum += smad;
                }
            ck_assert_msg(sum / blocks < 1.5 && ssum > 4 * sum,
                          "frame %d: mean block MAD %.2f (source %.2f)", f, sum / blocks,
                          ssum / blocks);
        }
        double outside = region_psnr(oy, sy, 0, 0, 150, 240);
        ck_assert_msg(outside >= PSNR_BOUND, "frame %d: unmasked PSNR %.2f", f, outside);
    }
    json_t *m = load_manifest(ex);
    json_t *zones = json_object_get(json_object_get(m, "request"), "zones");
    ck_assert_int_eq(json_array_size(zones), 2);
    json_t *mask = json_array_get(zones, 1);
    ck_assert_str_eq(json_string_value(json_object_get(mask, "kind")), "exclude");
    ck_assert_int_eq(json_array_size(json_object_get(mask, "polygon")), 4);
    ck_assert_str_eq(json_string_value(json_object_get(manifest_output(m, 0), "reencoded")), "all");
    json_decref(m);
    free(o);
    free(s);
    vmo_export_destroy(&ex);
    fx_free(&fx);
    free(dir);
}

START_TEST(redact_black)
{
    redact_case("black");
}
END_TEST

START_TEST(redact_pixelate)
{
    redact_case("pixelate");
}
END_TEST

/* ---- manifest ---- */

static char *sha_of(const char *path)
{
    char *out = tu_capture("sha256sum '%s' | cut -c1-64", path);
    ck_assert_ptr_nonnull(out);
    out[64] = '\0';
    return out;
}

START_TEST(manifest_records_and_verifies)
{
    const char *src = clip_main("mp4");
    fixture fx;
    fx_init(&fx, 1.0, 1.0);
    vmo_clip_data *c = fx_clip(&fx, src, 12.0, FPS, wall_of("2026-07-04T14:00:00Z"));
    fx_event(c, 2.0, 3.0, 2.5, 0);
    fx_event(c, 8.0, 9.0, 8.5, 0);
    fx.res->window =
        (vmo_window){ wall_of("2026-07-04T14:00:00Z"), wall_of("2026-07-04T14:00:12Z"), 1 };
    fx_done(&fx);
    char *dir = fresh_dir("manifest");
    vmo_export *ex = new_export(dir, "copy", "mp4");
    ck_assert_int_eq(vmo_export_set_int(ex, "thumbnails", 1), VMO_OK);
    run_ok(ex, fx.res);
    ck_assert_int_eq(vmo_export_output_count(ex), 2);
    json_t *m = load_manifest(ex);
    json_t *req = json_object_get(m, "request");
    ck_assert_str_eq(json_string_value(json_object_get(req, "case")), "CASE-2026-0042");
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(req, "window"), "from")),
                     "2026-07-04T14:00:00.000Z");
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(m, "software"), "version")),
                     vmo_version_string());
    ck_assert(json_is_real(json_object_get(json_object_get(m, "settings"), "pre_roll")));
    json_t *s0 = json_array_get(json_object_get(m, "sources"), 0);
    char *want = sha_of(src);
    ck_assert_str_eq(json_string_value(json_object_get(s0, "sha256")), want);
    free(want);
    for (int i = 0; i < 2; i++) {
        vmo_export_output_info o = { .struct_size = sizeof(o) };
        ck_assert_int_eq(vmo_export_output(ex, i, &o), VMO_OK);
        json_t *mo = manifest_output(m, i);
        want = sha_of(o.path);
        ck_assert_str_eq(o.sha256, want);
        ck_assert_str_eq(json_string_value(json_object_get(mo, "sha256")), want);
        free(want);
        ck_assert_str_eq(json_string_value(json_object_get(mo, "reencoded")), "none");
        ck_assert_ptr_nonnull(json_string_value(json_object_get(mo, "wall_start")));
        json_t *part = json_array_get(json_object_get(mo, "sources"), 0);
        ck_assert_int_eq(json_integer_value(json_object_get(part, "source")), 0);
        ck_assert(json_real_value(json_object_get(part, "end")) >
                  json_real_value(json_object_get(part, "start")));
        ck_assert_ptr_nonnull(o.thumbnail);
        json_t *p = probe(o.thumbnail);
        ck_assert_str_eq(json_string_value(json_object_get(
                             json_array_get(json_object_get(p, "streams"), 0), "codec_name")),
                         "png");
        json_decref(p);
    }
    json_decref(m);

    char *report = NULL;
    const char *mpath = vmo_export_manifest_path(ex);
    ck_assert_int_eq(vmo_verify_manifest(mpath, &report), VMO_OK);
    ck_assert_ptr_nonnull(strstr(report, "ok "));
    ck_assert_ptr_null(strstr(report, "MISMATCH"));
    vmo_free(report);

    /* One byte changed: a mismatch that names the file. */
    vmo_export_output_info o = output0(ex);
    size_t size;
    uint8_t *data = tu_read_file(o.path, &size);
    data[size / 2] ^= 0x40;
    ck_assert_int_eq(tu_write_file(o.path, data, size), 0);
    ck_assert_int_eq(vmo_verify_manifest(mpath, &report), VMO_ERR_MISMATCH);
    ck_assert_ptr_nonnull(strstr(report, "MISMATCH"));
    ck_assert_ptr_nonnull(strstr(report, "sha256"));
    vmo_free(report);
    data[size / 2] ^= 0x40;
    ck_assert_int_eq(tu_write_file(o.path, data, size), 0);
    ck_assert_int_eq(vmo_verify_manifest(mpath, NULL), VMO_OK);
    /* Deleted: a mismatch too. */
    ck_assert_int_eq(unlink(o.thumbnail), 0);
    ck_assert_int_eq(vmo_verify_manifest(mpath, &report), VMO_ERR_MISMATCH);
    ck_assert_ptr_nonnull(strstr(report, "missing"));
    vmo_free(report);
    free(data);
    /* Not a manifest. */
    ck_assert_int_eq(vmo_verify_manifest(o.path, NULL), VMO_ERR_BAD_MANIFEST);
    ck_assert_int_eq(vmo_verify_manifest("/nonexistent/manifest.json", NULL), VMO_ERR_NOT_FOUND);
    vmo_export_destroy(&ex);
    fx_free(&fx);
    free(dir);
}
END_TEST

/* ---- thumbnails ---- */

START_TEST(thumbnail_is_the_peak_frame)
{
    const char *src = clip_main("mp4");
    fixture fx;
    fx_init(&fx, 1.0, 1.0);
    fx_event(fx_clip(&fx, src, 12.0, FPS, NAN), 5.0, 7.0, 6.48, 0); /* peak: frame 162 */
    fx_done(&fx);
    char *dir = fresh_dir("thumb");
    vmo_export *ex = new_export(dir, "copy", "mp4");
    ck_assert_int_eq(vmo_export_thumbnails(ex, fx.res), VMO_OK);
    ck_assert_ptr_null(vmo_export_manifest_path(ex)); /* a preview: no record, no clip */
    vmo_export_output_info o = output0(ex);
    ck_assert_ptr_null(o.path);
    ck_assert_ptr_nonnull(o.thumbnail);
    int n_png, n_src;
    uint8_t *png = raw_frames(o.thumbnail, NULL, &n_png);
    uint8_t *s = raw_frames(src, "trim=start_frame=161:end_frame=164", &n_src);
    ck_assert_int_eq(n_png, 1);
    double at = psnr_y(png, s + FRAME_BYTES), before = psnr_y(png, s),
           after = psnr_y(png, s + 2 * FRAME_BYTES);
    ck_assert_msg(at > 40 && at > before + 10 && at > after + 10,
                  "PSNR vs frames 161/162/163: %.1f %.1f %.1f", before, at, after);
    char *names = listing(dir);
    ck_assert_msg(!strstr(names, ".part") && !strstr(names, "manifest"), "%s", names);
    free(names);
    free(png);
    free(s);
    vmo_export_destroy(&ex);
    fx_free(&fx);
    free(dir);
}
END_TEST

START_TEST(video_after_32_streams)
{
    const char *src = clip_many_streams();
    fixture fx;
    fx_init(&fx, 0.5, 0.5);
    fx_event(fx_clip(&fx, src, 4.0, 25, NAN), 1.0, 2.0, 1.5, 0);
    fx_done(&fx);
    char *dir = fresh_dir("streams");
    vmo_export *ex = new_export(dir, "copy", "mkv");
    run_ok(ex, fx.res);
    vmo_export_output_info o = output0(ex);
    assert_decodes_cleanly(o.path);
    json_t *p = probe(o.path);
    ck_assert_int_eq(count_streams(p, "video"), 1);
    ck_assert_int_eq(count_streams(p, "audio"), 31); /* 32 streams at most, the video first */
    json_decref(p);
    const vmo_export_item *it = &ex->items[0];
    ck_assert_int_ge(it->frames_copied, 25);
    ck_assert_msg(strstr(it->notes, "dropped"), "notes: %s", it->notes);
    vmo_export_destroy(&ex);
    fx_free(&fx);
    free(dir);
}
END_TEST

/* ---- seeking, not reading everything ---- */

/* Size of the top-level "moov" box of an MP4. */
static uint64_t moov_size(const char *path)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    uint8_t h[16];
    uint64_t pos = 0, found = 0;
    while (!found && fseeko(f, (off_t)pos, SEEK_SET) == 0 && fread(h, 1, 16, f) >= 8) {
        uint64_t size = ((uint64_t)h[0] << 24) | (h[1] << 16) | (h[2] << 8) | h[3];
        if (size == 1)
            for (int i = 8; i < 16; i++)
                size = (size << 8) | h[i];
        if (size < 8)
            break;
        if (!memcmp(h + 4, "moov", 4))
            found = size;
        pos += size;
    }
    fclose(f);
    ck_assert_msg(found > 0, "no moov in %s", path);
    return found;
}

START_TEST(long_file_seeks)
{
    const char *src = clip_long();
    struct stat st;
    ck_assert_int_eq(stat(src, &st), 0);
    fixture fx;
    fx_init(&fx, 2.0, 2.0);
    fx_event(fx_clip(&fx, src, 3600.0, 10, wall_of("2026-07-04T00:00:00Z")), 1802.0, 1808.0, 1805.0,
             0);
    fx_done(&fx);
    char *dir = fresh_dir("long");
    vmo_export *ex = new_export(dir, "copy", "mp4");
    double t0 = vmo_now();
    run_ok(ex, fx.res);
    double took = vmo_now() - t0;
    vmo_export_output_info o = output0(ex);
    assert_decodes_cleanly(o.path);
    fprintf(stderr,
            "10 s from a %.1f MB hour: demuxers read %llu bytes (%.2f%%; index %llu), "
            "%.2f s including hashing the source\n",
            (double)st.st_size / 1e6, (unsigned long long)ex->bytes_demuxed,
            100.0 * (double)ex->bytes_demuxed / (double)st.st_size,
            (unsigned long long)moov_size(src), took);
    /* The moov index is read whole (1.3 MB here); past it, the span and a look at the start
     * of the file (stream probing), not the hour. */
    uint64_t index = moov_size(src);
    ck_assert_msg(ex->bytes_demuxed < index + (uint64_t)st.st_size / 100,
                  "read %llu of %lld bytes (index %llu)", (unsigned long long)ex->bytes_demuxed,
                  (long long)st.st_size, (unsigned long long)index);
    ck_assert_msg(o.duration >= 10.0 && o.duration <= 10.0 + 2.0 + 0.5, "duration %.2f",
                  o.duration);
    vmo_export_destroy(&ex);
    fx_free(&fx);
    free(dir);
}
END_TEST

/* ---- nothing lost, nothing half-written ---- */

static void one_event(fixture *fx, const char *src)
{
    fx_init(fx, 1.0, 1.0);
    fx_event(fx_clip(fx, src, 12.0, FPS, NAN), 3.0, 6.0, 4.0, 0);
    fx_done(fx);
}

START_TEST(existing_outputs_refused_before_work)
{
    const char *src = clip_main("mp4");
    fixture fx;
    one_event(&fx, src);
    char *dir = fresh_dir("exists");
    vmo_export *ex = new_export(dir, "copy", "mp4");
    run_ok(ex, fx.res);
    char *before = tu_capture("ls -l --time-style=+%%s.%%N '%s' | sort", dir);
    ck_assert_int_eq(vmo_export_run(ex, fx.res), VMO_ERR_EXISTS);
    ck_assert_ptr_nonnull(strstr(vmo_export_last_error(ex), "exists"));
    ck_assert_int_eq(ex->bytes_demuxed, 0); /* refused before reading anything */
    char *after = tu_capture("ls -l --time-style=+%%s.%%N '%s' | sort", dir);
    ck_assert_str_eq(before, after);
    ck_assert_int_eq(vmo_export_set_int(ex, "overwrite", 1), VMO_OK);
    run_ok(ex, fx.res);
    ck_assert_int_eq(vmo_verify_manifest(vmo_export_manifest_path(ex), NULL), VMO_OK);
    free(before);
    free(after);
    vmo_export_destroy(&ex);
    fx_free(&fx);
    free(dir);
}
END_TEST

/* Runs an export in a child process prepared by `setup`; returns the child's status code
 * and its error message in msg. */
static int export_in_child(const char *dir, const vmo_result *res, const char *mode,
                           void (*setup)(void), char *msg, size_t msg_size)
{
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(fds[0]);
        setup();
        vmo_export *ex = NULL;
        vmo_export_create(&ex);
        vmo_export_set_string(ex, "dir", dir);
        vmo_export_set_string(ex, "mode", mode);
        int rc = vmo_export_run(ex, res);
        const char *e = vmo_export_last_error(ex);
        if (write(fds[1], e, strlen(e)) < 0)
            rc = 1;
        vmo_export_destroy(&ex);
        _exit(-rc);
    }
    close(fds[1]);
    ssize_t n = read(fds[0], msg, msg_size - 1);
    msg[n > 0 ? n : 0] = '\0';
    close(fds[0]);
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status));
    return -WEXITSTATUS(status);
}

static void drop_privileges(void)
{
    /* root ignores permissions: become nobody, as the camera user would be. */
    if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0))
        _exit(99);
}

START_TEST(unwritable_folder)
{
    const char *src = clip_main("mp4");
    ck_assert_int_eq(chmod(src, 0644), 0);
    fixture fx;
    one_event(&fx, src);
    char *dir = fresh_dir("readonly"), keep[1300], msg[600];
    snprintf(keep, sizeof(keep), "%s/keep.txt", dir);
    ck_assert_int_eq(tu_write_file(keep, "x", 1), 0);
    ck_assert_int_eq(chmod(dir, 0555), 0);
    int rc = export_in_child(dir, fx.res, "copy", drop_privileges, msg, sizeof(msg));
    ck_assert_msg(rc == VMO_ERR_IO && strstr(msg, "cannot create") &&
                      strstr(msg, "Permission denied"),
                  "got %s: %s", vmo_strerror(rc), msg);
    char *names = listing(dir);
    ck_assert_str_eq(names, "keep.txt\n");
    free(names);
    chmod(dir, 0755);
    fx_free(&fx);
    free(dir);
}
END_TEST

static void limit_file_size(void)
{
    struct rlimit rl = { 200 * 1024, 200 * 1024 };
    signal(SIGXFSZ, SIG_IGN); /* write() then fails with EFBIG instead of killing us */
    if (setrlimit(RLIMIT_FSIZE, &rl) != 0)
        _exit(98);
}

START_TEST(file_size_limit)
{
    const char *src = clip_main("mp4");
    fixture fx;
    one_event(&fx, src);
    for (int mode = 0; mode < 3; mode++) {
        static const char *modes[] = { "copy", "precise", "reencode" };
        char *dir = fresh_dir("fsize");
        char keep[1300];
        snprintf(keep, sizeof(keep), "%s/keep.txt", dir);
        ck_assert_int_eq(tu_write_file(keep, "x", 1), 0);
        char msg[600];
        int rc = export_in_child(dir, fx.res, modes[mode], limit_file_size, msg, sizeof(msg));
        ck_assert_msg(rc == VMO_ERR_NO_SPACE, "%s: got %s: %s", modes[mode], vmo_strerror(rc), msg);
        char *names = listing(dir);
        ck_assert_msg(!strcmp(names, "keep.txt\n"), "%s left: %s", modes[mode], names);
        free(names);
        free(dir);
    }
    fx_free(&fx);
}
END_TEST

static char tmpfs_dir[1200];

static void small_tmpfs(void)
{
    if (unshare(CLONE_NEWNS) != 0 || mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) != 0 ||
        mount("tmpfs", tmpfs_dir, "tmpfs", 0, "size=128k") != 0)
        _exit(97);
    char keep[1300];
    snprintf(keep, sizeof(keep), "%s/keep.txt", tmpfs_dir);
    FILE *f = fopen(keep, "w");
    if (!f || fputs("x", f) < 0 || fclose(f) != 0)
        _exit(96);
}

/* A full disk: in a private mount namespace so that nothing outside the child sees it. The
 * child checks what is left, since the mount dies with it. */
START_TEST(disk_full)
{
    const char *src = clip_main("mp4");
    fixture fx;
    one_event(&fx, src);
    char *dir = fresh_dir("tmpfs");
    snprintf(tmpfs_dir, sizeof(tmpfs_dir), "%s", dir);
    fflush(NULL);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        small_tmpfs();
        vmo_export *ex = NULL;
        vmo_export_create(&ex);
        vmo_export_set_string(ex, "dir", dir);
        int rc = vmo_export_run(ex, fx.res);
        if (rc != VMO_ERR_NO_SPACE)
            fprintf(stderr, "disk_full child: %s: %s\n", vmo_strerror(rc),
                    vmo_export_last_error(ex));
        vmo_export_destroy(&ex);
        char *names = listing(dir);
        int clean = names && !strcmp(names, "keep.txt\n");
        free(names);
        _exit(rc == VMO_ERR_NO_SPACE ? (clean ? 0 : 2) : 1);
    }
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status));
    if (WEXITSTATUS(status) == 97) {
        fprintf(stderr, "disk_full: cannot mount a tmpfs here; covered by file_size_limit\n");
    } else {
        ck_assert_msg(WEXITSTATUS(status) == 0, "child status %d (1: not NO_SPACE, 2: leftovers)",
                      WEXITSTATUS(status));
    }
    fx_free(&fx);
    free(dir);
}
END_TEST

static int has_final_files(const char *dir)
{
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        n += e->d_name[0] != '.'; /* temporaries are hidden: ".NAME.PID.N.part" */
    closedir(d);
    return n;
}

static int has_part_file(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL)
        n += strstr(e->d_name, ".part") != NULL;
    if (d)
        closedir(d);
    return n;
}

START_TEST(killed_mid_export)
{
    const char *src = clip_long();
    fixture fx;
    fx_init(&fx, 0, 0);
    fx_event(fx_clip(&fx, src, 3600.0, 10, NAN), 100.0, 400.0, 200.0, 0);
    fx_done(&fx);
    char *dir = fresh_dir("killed");
    fflush(NULL);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        vmo_export *ex = NULL;
        vmo_export_create(&ex);
        vmo_export_set_string(ex, "dir", dir);
        vmo_export_set_string(ex, "mode", "reencode");
        vmo_export_run(ex, fx.res);
        _exit(0);
    }
    /* Kill it as soon as it writes. */
    double t0 = vmo_now();
    while (!has_part_file(dir) && vmo_now() - t0 < 60)
        usleep(1000);
    ck_assert_int_eq(kill(pid, SIGKILL), 0);
    int status;
    waitpid(pid, &status, 0);
    ck_assert_msg(WIFSIGNALED(status), "the export finished before it could be killed");
    ck_assert_int_eq(has_final_files(dir), 0);
    fx_free(&fx);
    free(dir);
}
END_TEST

/* A killed run leaves hidden temporaries (".NAME.PID.N.part"). A later process that gets the
 * same pid (pids are reused; in a container the first process is always the same one) must
 * not be refused by them, nor remove them: they are not its files. */
START_TEST(stale_temporaries_do_not_block_a_run)
{
    enum { STALE = 200 };
    const char *src = clip_main("mp4");
    fixture fx;
    one_event(&fx, src);
    char *first = fresh_dir("stale"), *dir = fresh_dir("stale");
    vmo_export *ex = new_export(first, "copy", "mp4");
    run_ok(ex, fx.res);
    /* The temporaries this process would make next, left by a "previous" one. */
    char names[2][256], stale[1600];
    snprintf(names[0], sizeof(names[0]), "%s", strrchr(output0(ex).path, '/') + 1);
    snprintf(names[1], sizeof(names[1]), "%s", strrchr(vmo_export_manifest_path(ex), '/') + 1);
    for (int k = 0; k < 2; k++)
        for (int n = 1; n <= STALE; n++) {
            snprintf(stale, sizeof(stale), "%s/.%s.%ld.%d.part", dir, names[k], (long)getpid(), n);
            ck_assert_int_eq(tu_write_file(stale, "x", 1), 0);
        }
    ck_assert_int_eq(vmo_export_set_string(ex, "dir", dir), VMO_OK);
    run_ok(ex, fx.res);
    ck_assert_int_eq(vmo_verify_manifest(vmo_export_manifest_path(ex), NULL), VMO_OK);
    char *left = tu_capture("ls -A '%s' | grep -c '\\.part$'", dir);
    ck_assert_int_eq(atoi(left), 2 * STALE);
    free(left);
    vmo_export_destroy(&ex);
    fx_free(&fx);
    free(first);
    free(dir);
}
END_TEST

START_TEST(options_and_errors)
{
    vmo_export *ex = NULL;
    ck_assert_int_eq(vmo_export_create(&ex), VMO_OK);
    ck_assert_int_eq(vmo_export_set_string(ex, "mode", "fast"), VMO_ERR_INVALID_ARG);
    ck_assert_int_eq(vmo_export_set_string(ex, "colour", "red"), VMO_ERR_UNKNOWN_OPTION);
    ck_assert_int_eq(vmo_export_set_int(ex, "overwrite", 2), VMO_ERR_INVALID_ARG);
    ck_assert_int_eq(vmo_export_set_string(ex, "thumbnails", "1"), VMO_OK);
    fixture fx;
    one_event(&fx, clip_main("mp4"));
    ck_assert_int_eq(vmo_export_run(ex, fx.res), VMO_ERR_INVALID_ARG); /* no dir */
    ck_assert_int_eq(vmo_export_set_string(ex, "dir", "/nonexistent/folder"), VMO_OK);
    ck_assert_int_eq(vmo_export_run(ex, fx.res), VMO_ERR_NOT_FOUND);
    ck_assert_ptr_null(vmo_export_manifest_path(ex));
    ck_assert_int_eq(vmo_export_output_count(ex), 0);
    vmo_export_destroy(&ex);
    ck_assert_ptr_null(ex);
    vmo_export_destroy(NULL);
    fx_free(&fx);
}
END_TEST

static Suite *export_suite(void)
{
    Suite *s = suite_create("export");
    TCase *tc = tcase_create("copy");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, copy_mp4_keeps_streams_and_sync);
    tcase_add_test(tc, copy_mkv);
    tcase_add_test(tc, long_file_seeks);
    tcase_add_test(tc, video_after_32_streams);
    suite_add_tcase(s, tc);
    tc = tcase_create("precise");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, precise_mp4_frame_exact);
    tcase_add_test(tc, precise_mkv_frame_exact);
    tcase_add_test(tc, precise_on_keyframe_copies);
    tcase_add_test(tc, precise_unsupported_codec_reencodes_all);
    tcase_add_test(tc, precise_camera_stream);
    tcase_add_test(tc, hevc_copy_and_precise);
    tcase_add_test(tc, reencode_mode);
    tcase_add_test(tc, across_files_copy);
    tcase_add_test(tc, across_files_precise);
    tcase_add_test(tc, redact_black);
    tcase_add_test(tc, redact_pixelate);
    suite_add_tcase(s, tc);
    tc = tcase_create("record");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, manifest_records_and_verifies);
    tcase_add_test(tc, thumbnail_is_the_peak_frame);
    suite_add_tcase(s, tc);
    tc = tcase_create("atomic");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, options_and_errors);
    tcase_add_test(tc, existing_outputs_refused_before_work);
    tcase_add_test(tc, unwritable_folder);
    tcase_add_test(tc, file_size_limit);
    tcase_add_test(tc, disk_full);
    tcase_add_test(tc, killed_mid_export);
    tcase_add_test(tc, stale_temporaries_do_not_block_a_run);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(export_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    if (!failed && !getenv("VMO_KEEP_TMP"))
        tu_run("rm -rf '%s'", tu_tmpdir()); /* scratch exports (kept when a test failed) */
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
