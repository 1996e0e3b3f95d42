/* Fast scan (the "fast" option) against the full scan on synthesized clips: every event the
 * full scan finds is found with both boundaries within 0.5 s, through scans, zones and
 * requests with windows; streams whose signals cannot be used fall back to a full scan (same
 * answer, no VMO_CLIP_FAST); bad input fails the same way. docs/fast-scan.md describes the
 * method; a motion shorter than a GOP with no packet signal is its documented blind spot. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include <vidmotion/vidmotion.h>

#include "tutil.h"

#define MAX_BOUNDARY_S 0.5

/* A textured square over a soft grid, with sensor noise. It turns while it moves, as bodies
 * do: a codec cannot predict that from the last frame, so moving frames cost many more bytes
 * than idle ones (a square that only slides is predicted almost for free, and its packets
 * tell little; clips like that are handled too, by decoding more: see below).
 * Motion: 3.0-5.2 s across, 8.4-9.2 s out and back to the same place and angle (inside the
 * GOP 8-10 s: the keyframes around it are identical), 14.2-17.0 s back. GOP 2 s. */
#define MOVE_X                                                                                     \
    "if(lt(t,3),40,if(lt(t,5.2),40+(t-3)*60,if(lt(t,8.4),172,if(lt(t,9.2),172-100*sin(PI*(t-8.4)"  \
    "/0.8),if(lt(t,14.2),172,if(lt(t,17),172-(t-14.2)*40,60))))))"
#define MOVE_A                                                                                     \
    "if(lt(t,3),0,if(lt(t,5.2),(t-3)*2,if(lt(t,8.4),4.4,if(lt(t,9.2),4.4+1.5*sin(PI*(t-8.4)/0.8)," \
    "if(lt(t,14.2),4.4,if(lt(t,17),4.4-(t-14.2)*1.5,0.2))))))"
/* The same without the out-and-back motion. */
#define TWO_X                                                                                      \
    "if(lt(t,3),40,if(lt(t,5.2),40+(t-3)*60,if(lt(t,14.2),172,if(lt(t,17),172-(t-14.2)*40,60))))"
#define TWO_A                                                                                      \
    "if(lt(t,3),0,if(lt(t,5.2),(t-3)*2,if(lt(t,14.2),4.4,if(lt(t,17),4.4-(t-14.2)*1.5,0.2))))"
#define SCENE_OF(dur, x, a)                                                                        \
    "-f lavfi -i \"color=c=0x707070:s=320x240:r=25:d=" dur                                         \
    ",drawgrid=w=40:h=40:c=0x808080,gblur=sigma=1.5[bg];"                                          \
    "color=c=0xc0c0c0:s=64x64:r=25:d=" dur ",drawgrid=w=8:h=8:t=4:c=0x404040,"                     \
    "rotate=a='" a "':c=0x707070,gblur=sigma=1.5[obj];"                                            \
    "[bg][obj]overlay=x='" x "':y=90,noise=alls=3:allf=t,format=yuv420p\" "
#define SCENE(dur) SCENE_OF(dur, MOVE_X, MOVE_A)
#define X264(crf)  "-c:v libx264 -preset veryfast -crf " crf " -g 50 -sc_threshold 0 "

static const char *clip_b(void)
{
    return tu_clip("fast_b.mp4", SCENE("20") X264("22") "-movflags +faststart");
}

static const char *clip_p(void)
{
    return tu_clip("fast_p.mp4", SCENE("20") X264("22") "-bf 0");
}

/* ------------------------------------------------------------------------------------------
 * Scans and comparisons
 * ---------------------------------------------------------------------------------------- */

typedef struct events {
    int n;
    int zone[64], clip[64], end_clip[64];
    uint32_t flags[64];
    double start[64], end[64], wall_start[64];
} events;

static void take_events(const vmo_result *res, events *ev)
{
    memset(ev, 0, sizeof(*ev));
    for (int i = 0; i < vmo_result_event_count(res) && ev->n < 64; i++) {
        vmo_event e = { .struct_size = sizeof(e) };
        ck_assert_int_eq(vmo_result_event(res, i, &e), VMO_OK);
        if (e.kind != VMO_EVENT_MOTION)
            continue;
        ev->zone[ev->n] = e.zone;
        ev->clip[ev->n] = e.clip;
        ev->end_clip[ev->n] = e.end_clip;
        ev->flags[ev->n] = e.flags;
        ev->start[ev->n] = e.start;
        ev->end[ev->n] = e.end;
        ev->wall_start[ev->n] = e.wall_start;
        ev->n++;
    }
}

static void print_events(const char *what, const events *ev)
{
    fprintf(stderr, "%s:", what);
    for (int i = 0; i < ev->n; i++)
        fprintf(stderr, " [z%d c%d %.2f-%.2f c%d]", ev->zone[i], ev->clip[i], ev->start[i],
                ev->end[i], ev->end_clip[i]);
    fprintf(stderr, "\n");
}

/* Every full-scan event has a fast one of the same zone and clips with both boundaries
 * within MAX_BOUNDARY_S, and the fast scan finds nothing else. */
static void assert_same_events(const events *full, const events *fast)
{
    print_events("  full", full);
    print_events("  fast", fast);
    ck_assert_int_eq(fast->n, full->n);
    for (int i = 0; i < full->n; i++) {
        int found = 0;
        for (int j = 0; j < fast->n && !found; j++)
            found = fast->zone[j] == full->zone[i] && fast->clip[j] == full->clip[i] &&
                    fast->end_clip[j] == full->end_clip[i] &&
                    fabs(fast->start[j] - full->start[i]) <= MAX_BOUNDARY_S &&
                    fabs(fast->end[j] - full->end[i]) <= MAX_BOUNDARY_S;
        ck_assert_msg(found, "full-scan event %d (zone %d, %.2f-%.2f s) not found by the fast scan",
                      i, full->zone[i], full->start[i], full->end[i]);
    }
}

typedef struct scan_out {
    events ev;
    vmo_clip_info ci;
    int rc;
    int series;  /* frames in the per-frame series of zone 0, -1 without */
    int reports; /* frame callback calls */
    int live;    /* event callback calls */
} scan_out;

static int count_report(void *user, const vmo_frame_report *r)
{
    (void)r;
    ((scan_out *)user)->reports++;
    return 0;
}

static int count_live(void *user, int what, const vmo_event *e)
{
    (void)what;
    (void)e;
    ((scan_out *)user)->live++;
    return 0;
}

static vmo_config *config(int fast, const char *const *zones)
{
    vmo_config *cfg;
    ck_assert_int_eq(vmo_config_create(&cfg), VMO_OK);
    ck_assert_int_eq(vmo_config_set_int(cfg, "fast", fast), VMO_OK);
    for (int i = 0; zones && zones[i]; i += 2)
        ck_assert_int_eq(vmo_config_add_zone(cfg, zones[i], VMO_ZONE_INCLUDE, zones[i + 1]),
                         VMO_OK);
    return cfg;
}

static void scan_with(const vmo_config *cfg, const char *path, scan_out *out)
{
    memset(out, 0, sizeof(*out));
    vmo_analyzer *an;
    ck_assert_int_eq(vmo_analyzer_create(cfg, &an), VMO_OK);
    vmo_analyzer_set_frame_callback(an, count_report, out);
    vmo_analyzer_set_event_callback(an, count_live, out);
    vmo_result *res = NULL;
    out->rc = vmo_analyzer_scan_file(an, path, &res);
    out->series = -1;
    if (res) {
        take_events(res, &out->ev);
        out->ci.struct_size = sizeof(out->ci);
        ck_assert_int_eq(vmo_result_clip(res, 0, &out->ci), VMO_OK);
        vmo_series s = { .struct_size = sizeof(s) };
        if (vmo_result_series(res, 0, 0, &s) == VMO_OK)
            out->series = (int)s.count;
    }
    vmo_result_destroy(&res);
    vmo_analyzer_destroy(&an);
}

static void scan(const char *path, int fast, const char *const *zones, scan_out *out)
{
    vmo_config *cfg = config(fast, zones);
    scan_with(cfg, path, out);
    vmo_config_destroy(&cfg);
}

/* Full and fast scans of path must agree; returns whether the fast one was fast. */
static int fast_agrees(const char *path, const char *const *zones, scan_out *full, scan_out *fast)
{
    scan(path, 0, zones, full);
    scan(path, 1, zones, fast);
    ck_assert_int_eq(full->rc, VMO_OK);
    ck_assert_int_eq(fast->rc, VMO_OK);
    ck_assert_int_eq(full->ci.flags & VMO_CLIP_FAST, 0);
    ck_assert_int_eq(fast->ci.frames, full->ci.frames);
    ck_assert(fabs(fast->ci.duration - full->ci.duration) < 1e-6);
    assert_same_events(&full->ev, &fast->ev);
    return !!(fast->ci.flags & VMO_CLIP_FAST);
}

/* ------------------------------------------------------------------------------------------
 * Clips the packets describe
 * ---------------------------------------------------------------------------------------- */

/* B-frames: packet sizes give every boundary; only keyframes are decoded, except the GOP
 * of the out-and-back motion, which no keyframe difference explains (it is decoded). */
START_TEST(b_frames_find_every_event)
{
    scan_out full, fast;
    ck_assert(fast_agrees(clip_b(), NULL, &full, &fast));
    ck_assert_int_eq(full.ev.n, 3);
    ck_assert_int_lt(fast.ci.analysed, full.ci.analysed / 4);
    /* Live events are reported as by a full scan: a start and an end per event. */
    ck_assert_int_eq(fast.live, 2 * fast.ev.n);
}
END_TEST

/* No B-frames (most cameras): the P-frames carry the signal. */
START_TEST(p_frames_only_find_every_event)
{
    scan_out full, fast;
    ck_assert(fast_agrees(clip_p(), NULL, &full, &fast));
    ck_assert_int_eq(full.ev.n, 3);
    ck_assert_int_lt(fast.ci.analysed, full.ci.analysed / 4);
}
END_TEST

/* Two squares in two bands, moving at different times, and a zone nothing moves in: each
 * zone's events from the keyframes that changed in it and the packets of those GOPs. */
START_TEST(zones_get_their_own_events)
{
    const char *path = tu_clip(
        "fast_zones.mp4",
        "-f lavfi -i \"color=c=0x707070:s=320x240:r=25:d=16,drawgrid=w=40:h=40:c=0x808080,"
        "gblur=sigma=1.5[bg];color=c=0xc0c0c0:s=48x48:r=25:d=16,drawgrid=w=8:h=8:t=4:"
        "c=0x404040,split[o1][o2];[o1]rotate=a='if(between(t,3,5),(t-3)*2,if(gt(t,5),4,0))':"
        "c=0x707070,gblur=sigma=1.5[a];[o2]rotate=a='if(between(t,10,12.5),(t-10)*2,"
        "if(gt(t,12.5),5,0))':c=0x707070,gblur=sigma=1.5[b];"
        "[bg][a]overlay=x='if(between(t,3,5),30+(t-3)*50,if(gt(t,5),130,30))':y=20[t1];"
        "[t1][b]overlay=x='if(between(t,10,12.5),240-(t-10)*60,if(gt(t,12.5),90,240))':y=170,"
        "noise=alls=3:allf=t,format=yuv420p\" " X264("22"));
    static const char *const zones[] = { "top",    "0,0,1,0.4",     "bottom", "0,0.6,1,1",
                                         "middle", "0,0.42,1,0.58", NULL };
    scan_out full, fast;
    ck_assert(fast_agrees(path, zones, &full, &fast));
    ck_assert_int_eq(full.ev.n, 2);
    ck_assert_int_ne(full.ev.zone[0], full.ev.zone[1]);
}
END_TEST

/* ------------------------------------------------------------------------------------------
 * Clips it cannot read well: decoded more, or scanned in full
 * ---------------------------------------------------------------------------------------- */

/* All-intra (MJPEG): every frame a keyframe, nothing to skip: a full scan, no FAST flag. */
START_TEST(all_intra_falls_back_to_a_full_scan)
{
    const char *path = tu_clip("fast_mjpeg.avi", SCENE("12") "-c:v mjpeg -q:v 5");
    scan_out full, fast;
    ck_assert(!fast_agrees(path, NULL, &full, &fast));
    ck_assert_int_eq(fast.ci.analysed, full.ci.analysed);
}
END_TEST

/* MPEG-TS: the fast way while its timestamps run on; two recordings appended restart the
 * clock, which the decoder corrects frame by frame: packet and frame times then disagree at
 * a keyframe, and the clip is scanned in full. */
START_TEST(mpegts_with_a_timestamp_jump_is_scanned_in_full)
{
    const char *one = tu_clip("fast_ts.ts", SCENE("12") X264("22"));
    char args[1200];
    snprintf(args, sizeof(args), "-i 'concat:%s|%s' -c copy", one, one);
    const char *two = tu_clip("fast_ts_twice.ts", args);
    scan_out full, fast;
    ck_assert(fast_agrees(one, NULL, &full, &fast));
    ck_assert(!fast_agrees(two, NULL, &full, &fast));
    ck_assert_int_eq(full.ev.n, 2 * 2); /* out-and-back and the first motion, twice */
}
END_TEST

/* Noise coded in every frame (a high-quality encode): packets barely grow with motion and
 * cannot time it. The fast scan decodes the GOPs where keyframes change (or everything):
 * slower, as exact. (An out-and-back motion inside one GOP of such a clip is the blind spot
 * tested below.) */
START_TEST(uninformative_packets_are_not_trusted)
{
    const char *path = tu_clip("fast_noisy.mp4", SCENE_OF("20", TWO_X, TWO_A) X264("16"));
    scan_out full, fast;
    fast_agrees(path, NULL, &full, &fast);
    ck_assert_int_eq(full.ev.n, 2);
}
END_TEST

/* The documented blind spot: a motion that starts and ends inside one GOP, leaves the
 * keyframes identical, and does not make the packets larger than the noise does. A small
 * square goes out and back between two keyframes in a noisy, finely coded clip: the full
 * scan finds it, the fast scan cannot know it happened (no keyframe difference, no packet
 * signal) and does not decode that GOP. */
START_TEST(short_motion_without_packet_signal_is_missed)
{
    const char *path =
        tu_clip("fast_blind.mp4",
                "-f lavfi -i \"color=c=0x707070:s=320x240:r=25:d=12,drawgrid=w=40:h=40:c=0x808080,"
                "gblur=sigma=1.5[bg];color=c=0x909090:s=12x12:r=25:d=12[o];"
                "[bg][o]overlay=x='if(between(t,6.4,7.2),150+30*sin(PI*(t-6.4)/0.8),150)':y=120,"
                "noise=alls=8:allf=t,format=yuv420p\" " X264("14"));
    scan_out full, fast;
    scan(path, 0, NULL, &full);
    scan(path, 1, NULL, &fast);
    ck_assert_int_eq(full.rc, VMO_OK);
    ck_assert_int_eq(fast.rc, VMO_OK);
    print_events("  full", &full.ev);
    print_events("  fast", &fast.ev);
    ck_assert_int_eq(full.ev.n, 1);
    ck_assert(full.ev.start[0] > 6.2 && full.ev.end[0] < 7.4);
    ck_assert(fast.ci.flags & VMO_CLIP_FAST);
    ck_assert_int_eq(fast.ev.n, 0);
}
END_TEST

/* Caller I/O that cannot seek: the fast scan needs to go back, so it is a full scan. With a
 * seek function it is fast, and a fallback opens the input again through it. */
typedef struct mem {
    const uint8_t *data;
    size_t size, pos;
} mem;

static int mem_read(void *opaque, uint8_t *buf, int size)
{
    mem *m = opaque;
    const size_t left = m->size - m->pos;
    const size_t n = (size_t)size < left ? (size_t)size : left;
    memcpy(buf, m->data + m->pos, n);
    m->pos += n;
    return (int)n;
}

static int64_t mem_seek(void *opaque, int64_t offset, int whence)
{
    mem *m = opaque;
    const int64_t base = whence == SEEK_CUR   ? (int64_t)m->pos
                         : whence == SEEK_END ? (int64_t)m->size
                                              : 0;
    if (whence == VMO_SEEK_SIZE)
        return (int64_t)m->size;
    if (base + offset < 0 || base + offset > (int64_t)m->size)
        return -1;
    m->pos = (size_t)(base + offset);
    return (int64_t)m->pos;
}

/* Scans path from memory, fast, with or without a seek function; the events of a full scan
 * of the file must come out. Returns the clip's flags. */
static uint32_t scan_memory(const char *path, int seekable)
{
    size_t size;
    uint8_t *data = tu_read_file(path, &size);
    ck_assert_ptr_nonnull(data);
    scan_out file;
    scan(path, 0, NULL, &file);
    vmo_config *cfg = config(1, NULL);
    vmo_analyzer *an;
    ck_assert_int_eq(vmo_analyzer_create(cfg, &an), VMO_OK);
    mem m = { data, size, 0 };
    vmo_io io = { sizeof(io), &m, mem_read, seekable ? mem_seek : NULL };
    vmo_result *res = NULL;
    ck_assert_int_eq(vmo_analyzer_scan_io(an, &io, "stream", &res), VMO_OK);
    vmo_clip_info ci = { .struct_size = sizeof(ci) };
    ck_assert_int_eq(vmo_result_clip(res, 0, &ci), VMO_OK);
    ck_assert_int_eq(ci.frames, file.ci.frames);
    events ev;
    take_events(res, &ev);
    assert_same_events(&file.ev, &ev);
    vmo_result_destroy(&res);
    vmo_analyzer_destroy(&an);
    vmo_config_destroy(&cfg);
    free(data);
    return ci.flags;
}

START_TEST(caller_io_is_fast_when_it_can_seek)
{
    ck_assert_uint_eq(scan_memory(clip_b(), 0) & VMO_CLIP_FAST, 0);
    ck_assert(scan_memory(clip_b(), 1) & VMO_CLIP_FAST);
    /* A timestamp jump found after the survey: the input is opened again through the I/O. */
    const char *one = tu_clip("fast_ts.ts", SCENE("12") X264("22"));
    char args[1200];
    snprintf(args, sizeof(args), "-i 'concat:%s|%s' -c copy", one, one);
    ck_assert_uint_eq(scan_memory(tu_clip("fast_ts_twice.ts", args), 1) & VMO_CLIP_FAST, 0);
}
END_TEST

/* Damaged and hostile input: the same status as a full scan (and no crash or stall). */
START_TEST(bad_input_fails_as_a_full_scan_does)
{
    char path[4][1100];
    const char *dir = tu_tmpdir();
    snprintf(path[0], sizeof(path[0]), "%s/fast_empty.mp4", dir);
    snprintf(path[1], sizeof(path[1]), "%s/fast_random.mp4", dir);
    snprintf(path[2], sizeof(path[2]), "%s/fast_text.mkv", dir);
    snprintf(path[3], sizeof(path[3]), "%s/fast_cut.mp4", dir);
    uint8_t noise[4096];
    uint32_t seed = tu_seed();
    for (size_t i = 0; i < sizeof(noise); i++)
        noise[i] = (uint8_t)tu_rand(&seed);
    size_t size;
    uint8_t *mp4 = tu_read_file(clip_b(), &size);
    ck_assert_ptr_nonnull(mp4);
    ck_assert_int_eq(tu_write_file(path[0], "", 0), 0);
    ck_assert_int_eq(tu_write_file(path[1], noise, sizeof(noise)), 0);
    ck_assert_int_eq(tu_write_file(path[2], "not a video\n", 12), 0);
    ck_assert_int_eq(tu_write_file(path[3], mp4, size * 6 / 10), 0); /* index at the front */
    free(mp4);
    for (int i = 0; i < 4; i++) {
        scan_out full, fast;
        scan(path[i], 0, NULL, &full);
        scan(path[i], 1, NULL, &fast);
        ck_assert_msg(fast.rc == full.rc, "%s: %d vs %d", path[i], fast.rc, full.rc);
        if (full.rc != VMO_OK)
            continue;
        /* The cut file: frames up to the cut, flagged, the same events up to there. */
        ck_assert(full.ci.flags & VMO_CLIP_TRUNCATED);
        ck_assert(fast.ci.flags & VMO_CLIP_TRUNCATED);
        ck_assert_int_eq(fast.ci.status, full.ci.status);
        ck_assert_int_eq(fast.ci.frames, full.ci.frames);
        assert_same_events(&full.ev, &fast.ev);
    }
}
END_TEST

/* ------------------------------------------------------------------------------------------
 * Same results through every path
 * ---------------------------------------------------------------------------------------- */

/* The "frames" series and the frame callback exist only for the frames that were decoded
 * and scored; the clip says it was a fast scan. */
START_TEST(series_and_reports_cover_decoded_frames_only)
{
    scan_out full, fast;
    vmo_config *cfg = config(0, NULL);
    ck_assert_int_eq(vmo_config_set_int(cfg, "frames", 1), VMO_OK);
    scan_with(cfg, clip_b(), &full);
    ck_assert_int_eq(vmo_config_set_int(cfg, "fast", 1), VMO_OK);
    scan_with(cfg, clip_b(), &fast);
    vmo_config_destroy(&cfg);
    ck_assert_int_eq(full.series, (int)full.ci.frames);
    ck_assert_int_eq(full.reports, (int)full.ci.frames);
    ck_assert(fast.ci.flags & VMO_CLIP_FAST);
    ck_assert_int_ge(fast.series, 0);
    ck_assert_int_lt(fast.series, (int)fast.ci.frames / 2);
    ck_assert_int_eq(fast.reports, fast.series);
    assert_same_events(&full.ev, &fast.ev);
}
END_TEST

/* A motion index or a heatmap needs every frame: such scans are full even when fast. */
START_TEST(heatmap_scans_are_full)
{
    vmo_config *cfg = config(1, NULL);
    ck_assert_int_eq(vmo_config_set_int(cfg, "heatmap", 1), VMO_OK);
    scan_out out;
    scan_with(cfg, clip_b(), &out);
    vmo_config_destroy(&cfg);
    ck_assert_int_eq(out.rc, VMO_OK);
    ck_assert_int_eq(out.ci.flags & VMO_CLIP_FAST, 0);
    ck_assert_int_eq(out.ci.analysed, out.ci.frames);
}
END_TEST

/* A camera's archive: one recording cut into three 8 s files (wall clock from creation_time),
 * the second motion crossing the first boundary. Requests with a wall-clock window, a
 * relative window and none give the full scan's answer: clips decoded in part, events cut
 * to the window, joined across the files. */
#define T0 1783173600.0 /* 2026-07-04T14:00:00Z */

static const char *archive_part(int k)
{
    static char name[3][64];
    static const char *path[3];
    if (path[k])
        return path[k];
    const char *src = tu_clip("fast_archive_src.mp4", SCENE("24") X264("18"));
    char args[1500];
    snprintf(name[k], sizeof(name[k]), "fast_cam_20260704T1400%02dZ.mp4", 8 * k);
    snprintf(args, sizeof(args),
             "-i '%s' -ss %d -t 8 " X264("22") "-metadata creation_time=2026-07-04T14:00:%02dZ",
             src, 8 * k, 8 * k);
    return path[k] = tu_clip(name[k], args);
}

static void run_request(int fast, int window, events *ev, vmo_clip_info *ci)
{
    vmo_config *cfg = config(fast, NULL);
    vmo_analyzer *an;
    ck_assert_int_eq(vmo_analyzer_create(cfg, &an), VMO_OK);
    vmo_request *rq;
    ck_assert_int_eq(vmo_request_create(&rq), VMO_OK);
    for (int k = 0; k < 3; k++)
        ck_assert_int_eq(vmo_request_add_clip(rq, archive_part(k), NAN), VMO_OK);
    if (window == 1) /* 14:00:04.5 - 14:00:15.0 */
        ck_assert_int_eq(vmo_request_set_window_wall(rq, T0 + 4.5, T0 + 15.0), VMO_OK);
    else if (window == 2) /* the first 6 s of each clip */
        ck_assert_int_eq(vmo_request_set_window_clip(rq, 0, 6.0), VMO_OK);
    vmo_result *res = NULL;
    const int rc = vmo_analyzer_run_request(an, rq, &res);
    ck_assert_msg(rc == VMO_OK, "%s: %s", vmo_strerror(rc), vmo_analyzer_last_error(an));
    take_events(res, ev);
    for (int k = 0; k < 3; k++) {
        ci[k].struct_size = sizeof(ci[k]);
        ck_assert_int_eq(vmo_result_clip(res, k, &ci[k]), VMO_OK);
    }
    vmo_result_destroy(&res);
    vmo_request_destroy(&rq);
    vmo_analyzer_destroy(&an);
    vmo_config_destroy(&cfg);
}

START_TEST(requests_with_windows_agree)
{
    for (int window = 0; window < 3; window++) {
        events full, fast;
        vmo_clip_info cf[3], cs[3];
        fprintf(stderr, "window %d\n", window);
        run_request(0, window, &full, cf);
        run_request(1, window, &fast, cs);
        assert_same_events(&full, &fast);
        for (int i = 0; i < full.n; i++) /* the same cuts and joins */
            ck_assert_uint_eq(fast.flags[i] & (VMO_EVENT_CLIPPED | VMO_EVENT_CROSSES_FILES),
                              full.flags[i] & (VMO_EVENT_CLIPPED | VMO_EVENT_CROSSES_FILES));
        int fast_clips = 0;
        for (int k = 0; k < 3; k++) {
            ck_assert_uint_eq(cs[k].flags & (VMO_CLIP_SKIPPED | VMO_CLIP_PARTIAL),
                              cf[k].flags & (VMO_CLIP_SKIPPED | VMO_CLIP_PARTIAL));
            fast_clips += !!(cs[k].flags & VMO_CLIP_FAST);
        }
        ck_assert_int_gt(fast_clips, 0);
    }
}
END_TEST

/* A callback's cancel stops a fast scan too, with the result so far. */
static int cancel_at_first(void *user, int what, const vmo_event *e)
{
    (void)user;
    (void)e;
    return what == VMO_EVENT_STARTED;
}

START_TEST(cancel_keeps_the_partial_result)
{
    vmo_config *cfg = config(1, NULL);
    vmo_analyzer *an;
    ck_assert_int_eq(vmo_analyzer_create(cfg, &an), VMO_OK);
    vmo_analyzer_set_event_callback(an, cancel_at_first, NULL);
    vmo_result *res = NULL;
    ck_assert_int_eq(vmo_analyzer_scan_file(an, clip_b(), &res), VMO_ERR_CANCELLED);
    ck_assert_ptr_nonnull(res);
    vmo_clip_info ci = { .struct_size = sizeof(ci) };
    ck_assert_int_eq(vmo_result_clip(res, 0, &ci), VMO_OK);
    ck_assert(ci.flags & VMO_CLIP_CANCELLED);
    ck_assert(ci.flags & VMO_CLIP_FAST);
    vmo_result_destroy(&res);
    vmo_analyzer_destroy(&an);
    vmo_config_destroy(&cfg);
}
END_TEST

/* A fast result merges with saved ones (the bytes do not carry the option: each clip's flag
 * says how it was scanned) and with full-scan results. */
START_TEST(fast_results_merge_with_saved_and_full_ones)
{
    vmo_config *fast_cfg = config(1, NULL), *full_cfg = config(0, NULL);
    vmo_analyzer *fast, *full;
    ck_assert_int_eq(vmo_analyzer_create(fast_cfg, &fast), VMO_OK);
    ck_assert_int_eq(vmo_analyzer_create(full_cfg, &full), VMO_OK);
    vmo_result *a = NULL, *b = NULL, *c = NULL, *loaded = NULL, *merged = NULL;
    ck_assert_int_eq(vmo_analyzer_scan_file(fast, archive_part(0), &a), VMO_OK);
    ck_assert_int_eq(vmo_analyzer_scan_file(fast, archive_part(1), &b), VMO_OK);
    ck_assert_int_eq(vmo_analyzer_scan_file(full, archive_part(2), &c), VMO_OK);
    uint8_t *bytes;
    size_t size;
    ck_assert_int_eq(vmo_result_save(b, &bytes, &size), VMO_OK);
    ck_assert_int_eq(vmo_result_load(bytes, size, &loaded), VMO_OK);
    vmo_free(bytes);
    const vmo_result *parts[3] = { a, loaded, c };
    ck_assert_int_eq(vmo_result_merge(parts, 3, &merged), VMO_OK);
    vmo_clip_info ci = { .struct_size = sizeof(ci) };
    ck_assert_int_eq(vmo_result_clip(merged, 1, &ci), VMO_OK);
    ck_assert(ci.flags & VMO_CLIP_FAST);
    ck_assert_int_eq(vmo_result_clip(merged, 2, &ci), VMO_OK);
    ck_assert_int_eq(ci.flags & VMO_CLIP_FAST, 0);
    vmo_result *whole[] = { a, b, c, loaded, merged };
    for (size_t i = 0; i < sizeof(whole) / sizeof(whole[0]); i++)
        vmo_result_destroy(&whole[i]);
    vmo_analyzer_destroy(&fast);
    vmo_analyzer_destroy(&full);
    vmo_config_destroy(&fast_cfg);
    vmo_config_destroy(&full_cfg);
}
END_TEST

START_TEST(option_defaults_to_full)
{
    vmo_config *cfg;
    ck_assert_int_eq(vmo_config_create(&cfg), VMO_OK);
    int64_t v = -1;
    ck_assert_int_eq(vmo_config_get_int(cfg, "fast", &v), VMO_OK);
    ck_assert_int_eq(v, 0);
    ck_assert_int_eq(vmo_config_set_string(cfg, "fast", "true"), VMO_OK);
    ck_assert_int_eq(vmo_config_get_int(cfg, "fast", &v), VMO_OK);
    ck_assert_int_eq(v, 1);
    ck_assert_int_eq(vmo_config_set_int(cfg, "fast", 2), VMO_ERR_INVALID_ARG);
    vmo_config_destroy(&cfg);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("fastscan");
    TCase *tc = tcase_create("fastscan");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, option_defaults_to_full);
    tcase_add_test(tc, b_frames_find_every_event);
    tcase_add_test(tc, p_frames_only_find_every_event);
    tcase_add_test(tc, zones_get_their_own_events);
    tcase_add_test(tc, all_intra_falls_back_to_a_full_scan);
    tcase_add_test(tc, mpegts_with_a_timestamp_jump_is_scanned_in_full);
    tcase_add_test(tc, uninformative_packets_are_not_trusted);
    tcase_add_test(tc, short_motion_without_packet_signal_is_missed);
    tcase_add_test(tc, caller_io_is_fast_when_it_can_seek);
    tcase_add_test(tc, bad_input_fails_as_a_full_scan_does);
    tcase_add_test(tc, series_and_reports_cover_decoded_frames_only);
    tcase_add_test(tc, heatmap_scans_are_full);
    tcase_add_test(tc, requests_with_windows_agree);
    tcase_add_test(tc, cancel_keeps_the_partial_result);
    tcase_add_test(tc, fast_results_merge_with_saved_and_full_ones);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    const int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
