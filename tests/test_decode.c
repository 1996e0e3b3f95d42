/* Decoding: the codec/container matrix, stream selection, exact timestamps (VFR against
 * ffprobe), the bad-input classification, truncation, damage, custom I/O, seeking, skip
 * modes and mid-stream size changes. Every clip is synthesized by FFmpeg (tu_clip). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <check.h>
#include <libavutil/frame.h>
#include <libavutil/imgutils.h>

#include "decode.h"
#include "prepare.h"
#include "tutil.h"

#define MAX_FRAMES 512

/* ---- fixtures --------------------------------------------------------------------------- */

#define SRC(size, secs) "-f lavfi -i testsrc2=s=" size ":r=25:d=" secs " "
#define X264            "-c:v libx264 -pix_fmt yuv420p -g 25 "

static const char *clip_h264_mp4(void)
{
    return tu_clip("h264.mp4", SRC("160x120", "2") X264);
}

/* 4 s, a keyframe every second, index at the front. */
static const char *clip_long_mp4(void)
{
    return tu_clip("long.mp4", SRC("160x120", "4") X264 "-movflags +faststart");
}

static const char *clip_h264_ts(void)
{
    return tu_clip("h264.ts", SRC("160x120", "2") X264);
}

static const char *clip_mpeg4_avi(void)
{
    return tu_clip("mpeg4.avi", SRC("160x120", "2") "-c:v mpeg4 -q:v 5 -g 12");
}

/* ---- decoding into a record ------------------------------------------------------------- */

typedef struct frame_rec {
    double t;
    int64_t index;
    int key, damaged, w, h, format;
    uint64_t hash;
} frame_rec;

typedef struct run {
    int open_ret; /* vmo_decoder_open_*() */
    int ret;      /* the last vmo_decoder_next() */
    int n;
    frame_rec f[MAX_FRAMES];
    int truncated;
    int64_t errors;
    vmo_media_info info;
    char msg[512];
} run;

/* FNV-1a of the visible luma bytes: equal frames, equal hashes. */
static uint64_t luma_hash(const AVFrame *f)
{
    uint64_t h = 1469598103934665603ull;
    const int bytes = av_image_get_linesize(f->format, f->width, 0);
    for (int y = 0; y < f->height; y++) {
        const uint8_t *row = f->data[0] + (ptrdiff_t)y * f->linesize[0];
        for (int x = 0; x < bytes; x++)
            h = (h ^ row[x]) * 1099511628211ull;
    }
    return h;
}

/* Decodes what is left; every frame also goes through the preparer, so each decoder's pixel
 * format is exercised end to end. */
static void run_frames(vmo_decoder *d, run *r, int limit)
{
    vmo_preparer *prep;
    ck_assert_int_eq(vmo_preparer_create(&prep), VMO_OK);
    vmo_decoded_frame fr;
    vmo_errbuf err = { "" };
    while (r->n < limit && (r->ret = vmo_decoder_next(d, &fr, &err)) == 1) {
        ck_assert_int_lt(r->n, MAX_FRAMES);
        const AVFrame *f = fr.frame;
        frame_rec *rec = &r->f[r->n++];
        *rec = (frame_rec){ fr.t,     fr.index,  fr.key,    fr.damaged,
                            f->width, f->height, f->format, luma_hash(f) };
        vmo_plane p;
        int w, h;
        vmo_analysis_size(f->width, f->height, 64, &w, &h);
        ck_assert_int_eq(vmo_plane_alloc(&p, w, h), VMO_OK);
        ck_assert_msg(vmo_preparer_run(prep, f, &p, &err) == VMO_OK, "prepare: %s", err.msg);
        vmo_plane_free(&p);
    }
    snprintf(r->msg, sizeof(r->msg), "%s", err.msg);
    r->truncated = vmo_decoder_truncated(d);
    r->errors = vmo_decoder_errors(d);
    vmo_preparer_destroy(&prep);
}

static run *run_new(void)
{
    run *r = calloc(1, sizeof(*r));
    ck_assert_ptr_nonnull(r);
    return r;
}

static run *finish_open(vmo_decoder *d, int open_ret, const vmo_errbuf *err)
{
    run *r = run_new();
    r->open_ret = open_ret;
    if (open_ret < 0) {
        ck_assert_ptr_null(d);
        snprintf(r->msg, sizeof(r->msg), "%s", err->msg);
        ck_assert_msg(err->msg[0] != '\0', "error %d without a message", open_ret);
        return r;
    }
    r->info = *vmo_decoder_info(d);
    run_frames(d, r, MAX_FRAMES);
    vmo_decoder_close(&d);
    ck_assert_ptr_null(d);
    return r;
}

static run *decode_file(const char *path, const vmo_decoder_opts *opts)
{
    vmo_decoder *d = NULL;
    vmo_errbuf err = { "" };
    const int ret = vmo_decoder_open_file(&d, path, opts, &err);
    return finish_open(d, ret, &err);
}

static int open_code(const char *path)
{
    run *r = decode_file(path, NULL);
    const int ret = r->open_ret;
    free(r);
    return ret;
}

static void assert_increasing(const run *r, const char *what)
{
    for (int i = 1; i < r->n; i++)
        ck_assert_msg(r->f[i].t > r->f[i - 1].t, "%s: t[%d]=%.6f after t[%d]=%.6f", what, i,
                      r->f[i].t, i - 1, r->f[i - 1].t);
}

/* ---- memory I/O ------------------------------------------------------------------------- */

typedef struct mem {
    uint8_t *data;
    int64_t size, pos;
    int fail; /* read returns an error */
} mem;

static int mem_read(void *opaque, uint8_t *buf, int size)
{
    mem *m = opaque;
    if (m->fail)
        return -1;
    /* odd chunk sizes, as a network source would give */
    int64_t n = VMO_MIN((int64_t)size, VMO_MIN(m->size - m->pos, (int64_t)4093));
    memcpy(buf, m->data + m->pos, (size_t)n);
    m->pos += n;
    return (int)n;
}

static int64_t mem_seek(void *opaque, int64_t offset, int whence)
{
    mem *m = opaque;
    int64_t pos;
    switch (whence) {
    case VMO_SEEK_SIZE:
        return m->size;
    case SEEK_SET:
        pos = offset;
        break;
    case SEEK_CUR:
        pos = m->pos + offset;
        break;
    case SEEK_END:
        pos = m->size + offset;
        break;
    default:
        return -1;
    }
    if (pos < 0 || pos > m->size)
        return -1;
    return m->pos = pos;
}

static mem mem_load(const char *path)
{
    size_t size;
    mem m = { tu_read_file(path, &size), 0, 0, 0 };
    ck_assert_ptr_nonnull(m.data);
    m.size = (int64_t)size;
    return m;
}

static run *decode_mem(mem *m, int seekable)
{
    vmo_io io = { sizeof(vmo_io), m, mem_read, seekable ? mem_seek : NULL };
    vmo_decoder *d = NULL;
    vmo_errbuf err = { "" };
    const int ret = vmo_decoder_open_io(&d, &io, NULL, &err);
    return finish_open(d, ret, &err);
}

/* ---- helpers for files made here -------------------------------------------------------- */

static const char *tmp_path(const char *name)
{
    static char path[8][1200];
    static int next;
    char *p = path[next++ % 8];
    snprintf(p, sizeof(path[0]), "%s/%s", tu_tmpdir(), name);
    return p;
}

static const char *write_tmp(const char *name, const void *data, size_t size)
{
    const char *p = tmp_path(name);
    ck_assert_int_eq(tu_write_file(p, data, size), 0);
    return p;
}

/* The first `size` bytes of a file, as a new file. */
static const char *cut_file(const char *src, int64_t size, const char *name)
{
    size_t n;
    uint8_t *data = tu_read_file(src, &n);
    ck_assert_ptr_nonnull(data);
    ck_assert_int_le(size, (int64_t)n);
    const char *p = write_tmp(name, data, (size_t)size);
    free(data);
    return p;
}

static int64_t file_size(const char *path)
{
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    return st.st_size;
}

/* Frames ffprobe (FFmpeg 5.1 itself) decodes from a file; 0 when it reads none. */
static int ffprobe_count(const char *path)
{
    char *out = tu_capture("ffprobe -v quiet -count_frames -select_streams v:0 -show_entries "
                           "stream=nb_read_frames -of csv=p=0 '%s'",
                           path);
    ck_assert_ptr_nonnull(out);
    const int n = atoi(out); /* "N/A" reads as 0 */
    free(out);
    return n;
}

/* ---- the codec and container matrix ----------------------------------------------------- */

static const struct {
    const char *name, *args, *codec;
    int frames;
    int64_t nb_frames; /* declared by the container, -1: not checked */
} matrix[] = {
    { "h264.mp4", SRC("160x120", "2") X264, "h264", 50, 50 },
    { "h264.mkv", SRC("160x120", "2") X264, "h264", 50, -1 },
    { "h264.ts", SRC("160x120", "2") X264, "h264", 50, -1 },
    { "hevc.mkv", SRC("160x120", "2") "-c:v libx265 -x265-params log-level=error", "hevc", 50, -1 },
    { "hevc.mp4", SRC("160x120", "2") "-c:v libx265 -x265-params log-level=error -tag:v hvc1",
      "hevc", 50, 50 },
    { "vp9.webm", SRC("160x120", "2") "-c:v libvpx-vp9 -deadline realtime -cpu-used 8 -b:v 300k",
      "vp9", 50, -1 },
    { "av1.mkv", SRC("160x120", "2") "-c:v libaom-av1 -cpu-used 8 -b:v 300k", NULL, 50, -1 },
    { "av1.mp4", SRC("64x64", "1") "-c:v libsvtav1 -preset 12", NULL, 25, 25 },
    { "mpeg4.avi", SRC("160x120", "2") "-c:v mpeg4 -q:v 5 -g 12", "mpeg4", 50, 50 },
    { "mjpeg.avi", SRC("160x120", "2") "-c:v mjpeg -pix_fmt yuvj420p -q:v 5", "mjpeg", 50, 50 },
    { "cinepak.avi", SRC("96x64", "2") "-c:v cinepak", "cinepak", 50, 50 },
    { "mpeg2.mpg", SRC("160x120", "2") "-c:v mpeg2video -q:v 5", "mpeg2video", 50, -1 },
    { "vp8.webm", SRC("160x120", "2") "-c:v libvpx -deadline realtime -b:v 300k", "vp8", 50, -1 },
    { "h264_422_10.mkv", SRC("160x120", "1") "-c:v libx264 -pix_fmt yuv422p10le", "h264", 25, -1 },
};

START_TEST(codec_matrix)
{
    const char *path = tu_clip(matrix[_i].name, matrix[_i].args);
    run *r = decode_file(path, NULL);
    const char *name = matrix[_i].name;
    ck_assert_msg(r->open_ret == VMO_OK, "%s: open %d: %s", name, r->open_ret, r->msg);
    ck_assert_msg(r->ret == 0, "%s: next %d: %s", name, r->ret, r->msg);
    ck_assert_msg(r->n == matrix[_i].frames, "%s: %d frames, want %d", name, r->n,
                  matrix[_i].frames);
    assert_increasing(r, name);
    ck_assert_double_eq_tol(r->f[0].t, 0.0, 1e-9);
    ck_assert_double_eq_tol(r->f[r->n - 1].t, (r->n - 1) / 25.0, 1e-3);
    ck_assert(r->f[0].key);
    for (int i = 0; i < r->n; i++) {
        ck_assert_int_eq(r->f[i].index, i);
        ck_assert(!r->f[i].damaged);
    }
    ck_assert_msg(!r->truncated, "%s: complete file reported truncated: %s", name, r->msg);
    ck_assert_int_eq(r->errors, 0);
    ck_assert_int_eq(r->info.width, r->f[0].w);
    ck_assert_int_eq(r->info.height, r->f[0].h);
    ck_assert_double_eq_tol(r->info.fps, 25.0, 1e-6);
    ck_assert_double_eq_tol(r->info.duration, matrix[_i].frames / 25.0, 0.05);
    if (matrix[_i].nb_frames >= 0)
        ck_assert_int_eq(r->info.nb_frames, matrix[_i].nb_frames);
    if (matrix[_i].codec)
        ck_assert_str_eq(r->info.codec, matrix[_i].codec);
    ck_assert_int_eq(r->info.size_bytes, file_size(path));
    ck_assert_int_eq(r->info.has_audio, 0);
    ck_assert_int_eq(r->info.rotation, 0);
    ck_assert(isnan(r->info.creation_time));
    free(r);
}
END_TEST

/* Any thread count gives the same frames. */
START_TEST(threads_agree)
{
    const char *path = clip_h264_mp4();
    static const int counts[] = { 1, 3, 0 };
    run *ref = NULL;
    for (size_t i = 0; i < VMO_ARRAY_SIZE(counts); i++) {
        const vmo_decoder_opts o = { -1, counts[i], VMO_SKIP_NONE };
        run *r = decode_file(path, &o);
        ck_assert_int_eq(r->n, 50);
        if (!ref) {
            ref = r;
            continue;
        }
        for (int k = 0; k < r->n; k++) {
            ck_assert_double_eq(r->f[k].t, ref->f[k].t);
            ck_assert(r->f[k].hash == ref->f[k].hash);
        }
        free(r);
    }
    free(ref);
}
END_TEST

/* ---- streams ---------------------------------------------------------------------------- */

/* Audio first, so the video is stream 1. */
static const char *clip_av(void)
{
    return tu_clip("av.mp4", "-f lavfi -i sine=f=440:d=2 " SRC(
                                 "160x120", "2") "-map 0:a -map 1:v -c:a aac " X264 "-shortest");
}

START_TEST(audio_video_selection)
{
    const char *path = clip_av();
    run *r = decode_file(path, NULL);
    ck_assert_int_eq(r->open_ret, VMO_OK);
    ck_assert_int_eq(r->info.stream_index, 1);
    ck_assert_int_eq(r->info.has_audio, 1);
    ck_assert_int_eq(r->n, 50);
    ck_assert_int_eq(r->truncated, 0);
    free(r);

    vmo_decoder_opts o = { 1, 0, VMO_SKIP_NONE };
    r = decode_file(path, &o);
    ck_assert_int_eq(r->open_ret, VMO_OK);
    ck_assert_int_eq(r->n, 50);
    free(r);

    o.stream_index = 0; /* the audio */
    r = decode_file(path, &o);
    ck_assert_int_eq(r->open_ret, VMO_ERR_NO_VIDEO);
    free(r);
    o.stream_index = 7;
    r = decode_file(path, &o);
    ck_assert_int_eq(r->open_ret, VMO_ERR_INVALID_ARG);
    free(r);
}
END_TEST

START_TEST(no_video)
{
    ck_assert_int_eq(open_code(tu_clip("audio.m4a", "-f lavfi -i sine=d=1 -c:a aac")),
                     VMO_ERR_NO_VIDEO);
    /* cover art is not a video stream */
    const char *mp3 = tu_clip("cover.mp3", "-f lavfi -i sine=d=1 -f lavfi -i "
                                           "color=c=blue:s=64x64:d=0.04 -map 0:a -map 1:v "
                                           "-c:a libmp3lame -c:v mjpeg -frames:v 1 "
                                           "-disposition:v:0 attached_pic");
    ck_assert_int_eq(open_code(mp3), VMO_ERR_NO_VIDEO);
}
END_TEST

/* ---- timestamps ------------------------------------------------------------------------- */

/* Irregular frame intervals (18..62 ms) in millisecond time bases: t must equal ffprobe's
 * best_effort_timestamp_time, minus the stream start, for every frame. */
#define VFR_ARGS                                                                                   \
    SRC("64x48", "2")                                                                              \
    "-vf \"settb=1/1000,setpts='(N*40+mod(N*N*7\\,23))/1000/TB'\" -fps_mode passthrough "          \
    "-enc_time_base 1:1000 " X264

static void check_vfr(const char *path)
{
    char *probe = tu_capture("ffprobe -v error -select_streams v:0 -show_entries "
                             "frame=best_effort_timestamp_time -of csv=p=0 '%s'",
                             path);
    char *start = tu_capture("ffprobe -v error -select_streams v:0 -show_entries "
                             "stream=start_time -of csv=p=0 '%s'",
                             path);
    ck_assert_ptr_nonnull(probe);
    ck_assert_ptr_nonnull(start);
    const double t0 = atof(start);
    run *r = decode_file(path, NULL);
    ck_assert_int_eq(r->ret, 0);
    int n = 0, irregular = 0;
    for (char *line = strtok(probe, "\n"); line; line = strtok(NULL, "\n")) {
        if (line[0] < '0' || line[0] > '9')
            continue; /* side data lines */
        ck_assert_int_lt(n, r->n);
        ck_assert_msg(fabs(r->f[n].t - (atof(line) - t0)) < 1e-6,
                      "%s frame %d: t %.6f, "
                      "ffprobe %s",
                      path, n, r->f[n].t, line);
        if (n > 1 && fabs((r->f[n].t - r->f[n - 1].t) - (r->f[1].t - r->f[0].t)) > 1e-4)
            irregular++;
        n++;
    }
    ck_assert_int_eq(n, r->n);
    ck_assert_int_eq(n, 50);
    ck_assert_int_gt(irregular, 10);
    ck_assert_int_eq(r->truncated, 0);
    free(r);
    free(probe);
    free(start);
}

START_TEST(variable_frame_rate)
{
    check_vfr(tu_clip("vfr_ms.mkv", VFR_ARGS));
    check_vfr(tu_clip("vfr_ms.mp4", VFR_ARGS));
}
END_TEST

/* ---- bad input -------------------------------------------------------------------------- */

START_TEST(bad_missing_and_unreadable)
{
    ck_assert_int_eq(open_code("/nonexistent/dir/clip.mp4"), VMO_ERR_NOT_FOUND);
    ck_assert_int_eq(open_code(tmp_path("missing.mp4")), VMO_ERR_NOT_FOUND);
    ck_assert_int_eq(open_code(tu_tmpdir()), VMO_ERR_IO); /* a directory */
    if (geteuid() != 0) {                                 /* root reads anything */
        const char *p = cut_file(clip_h264_mp4(), 1000, "noperm.mp4");
        ck_assert_int_eq(chmod(p, 0), 0);
        ck_assert_int_eq(open_code(p), VMO_ERR_IO);
    }
    vmo_decoder *d = NULL;
    vmo_errbuf err = { "" };
    const vmo_decoder_opts bad = { -1, -2, VMO_SKIP_NONE };
    ck_assert_int_eq(vmo_decoder_open_file(&d, clip_h264_mp4(), &bad, &err), VMO_ERR_INVALID_ARG);
    ck_assert_int_eq(vmo_decoder_open_file(&d, NULL, NULL, &err), VMO_ERR_INVALID_ARG);
    ck_assert_ptr_null(d);
}
END_TEST

START_TEST(bad_content)
{
    ck_assert_int_eq(open_code(write_tmp("empty.mp4", "", 0)), VMO_ERR_EMPTY);

    /* fixed seed: the bytes must not vary between runs */
    uint8_t noise[4096];
    uint32_t s = 12345;
    for (size_t i = 0; i < sizeof(noise); i++)
        noise[i] = (uint8_t)tu_rand(&s);
    ck_assert_int_eq(open_code(write_tmp("random.mp4", noise, sizeof(noise))), VMO_ERR_CORRUPT);
    ck_assert_int_eq(open_code(write_tmp("random.mkv", noise, sizeof(noise))), VMO_ERR_CORRUPT);

    static const char text[] = "This is not a video.\nIt is a text file renamed .mkv.\n";
    ck_assert_int_eq(open_code(write_tmp("text.mkv", text, strlen(text))), VMO_ERR_NOT_MEDIA);
    ck_assert_int_eq(open_code(write_tmp("text.mp4", text, strlen(text))), VMO_ERR_NOT_MEDIA);
    /* FFmpeg would show a .txt as ANSI art */
    ck_assert_int_eq(open_code(write_tmp("notes.txt", text, strlen(text))), VMO_ERR_NOT_MEDIA);
    static const char utf8[] = "Überwachungskamera: Einfahrt — nicht ein Video ✓\n";
    ck_assert_int_eq(open_code(write_tmp("utf8.avi", utf8, strlen(utf8))), VMO_ERR_NOT_MEDIA);
    static const char pdf[] = "%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n\x00\x01";
    ck_assert_int_eq(open_code(write_tmp("doc.mp4", pdf, sizeof(pdf))), VMO_ERR_NOT_MEDIA);
}
END_TEST

/* Headers announcing absurd pictures are refused before anything is allocated. A Y4M header
 * is text, which must not be mistaken for "not media" when it probes with certainty. */
START_TEST(bad_limits)
{
    static const char wide[] = "YUV4MPEG2 W16400 H16 F25:1 C420jpeg\nFRAME\n";
    static const char huge[] = "YUV4MPEG2 W16000 H16000 F25:1 C420jpeg\nFRAME\n";
    ck_assert_int_eq(open_code(write_tmp("wide.y4m", wide, strlen(wide))), VMO_ERR_LIMIT);
    ck_assert_int_eq(open_code(write_tmp("huge.y4m", huge, strlen(huge))), VMO_ERR_LIMIT);
}
END_TEST

/* An AVI whose codec tag nobody knows. */
START_TEST(bad_unknown_codec)
{
    size_t n;
    uint8_t *data = tu_read_file(clip_mpeg4_avi(), &n);
    ck_assert_ptr_nonnull(data);
    int replaced = 0;
    for (size_t i = 0; i + 4 <= 4096 && i + 4 <= n; i++)
        if (!memcmp(data + i, "FMP4", 4)) {
            memcpy(data + i, "QQQQ", 4);
            replaced++;
        }
    ck_assert_int_gt(replaced, 0);
    ck_assert_int_eq(open_code(write_tmp("unknown.avi", data, n)), VMO_ERR_UNSUPPORTED);
    free(data);
}
END_TEST

static int64_t find_box(const char *path, const char *type)
{
    size_t n;
    uint8_t *data = tu_read_file(path, &n);
    ck_assert_ptr_nonnull(data);
    int64_t at = -1;
    for (size_t i = 4; i + 4 <= n && at < 0; i++)
        if (!memcmp(data + i, type, 4))
            at = (int64_t)i - 4;
    free(data);
    ck_assert_int_ge(at, 0);
    return at;
}

/* A faststart MP4 cut at several points: the frames before the cut (as many as FFmpeg's own
 * ffprobe decodes) come out, then the end, and truncated is set. */
START_TEST(truncated_mp4)
{
    const char *src = clip_long_mp4();
    const int64_t size = file_size(src);
    static const int percent[] = { 5, 30, 60, 90 };
    for (size_t i = 0; i < VMO_ARRAY_SIZE(percent); i++) {
        char name[64];
        snprintf(name, sizeof(name), "cut%d.mp4", percent[i]);
        const char *p = cut_file(src, size * percent[i] / 100, name);
        const int want = ffprobe_count(p);
        run *r = decode_file(p, NULL);
        ck_assert_int_eq(r->open_ret, VMO_OK);
        ck_assert_msg(r->n == want, "%s: %d frames, ffprobe %d", name, r->n, want);
        ck_assert_msg(r->ret == (want ? 0 : VMO_ERR_TRUNCATED), "%s: %d %s", name, r->ret, r->msg);
        ck_assert_int_eq(r->truncated, 1);
        ck_assert_msg(strstr(r->msg, "truncated") != NULL, "%s: message '%s'", name, r->msg);
        ck_assert_int_lt(r->n, 100);
        assert_increasing(r, name);
        /* on the frame grid; B-frames just before the cut may be missing */
        for (int k = 0; k < r->n; k++) {
            ck_assert_double_eq_tol(r->f[k].t * 25, llround(r->f[k].t * 25), 1e-6);
            if (k < r->n - 4)
                ck_assert_double_eq_tol(r->f[k].t, k / 25.0, 1e-6);
        }
        free(r);
    }
    /* the 60% cut keeps most of the clip */
    {
        const char *p = tmp_path("cut60.mp4");
        run *r = decode_file(p, NULL);
        ck_assert_int_ge(r->n, 50);
        free(r);
    }
    /* only the header and the mdat box header: no frame, the data ends first */
    const int64_t mdat = find_box(src, "mdat");
    run *r = decode_file(cut_file(src, mdat + 8, "header_only.mp4"), NULL);
    ck_assert_int_eq(r->open_ret, VMO_OK);
    ck_assert_int_eq(r->ret, VMO_ERR_TRUNCATED);
    ck_assert_int_eq(r->n, 0);
    ck_assert_int_eq(r->truncated, 1);
    free(r);
    /* cut inside the header itself */
    const int64_t moov = find_box(src, "moov");
    ck_assert_int_lt(moov, mdat);
    for (int64_t at = moov + 8; at < mdat; at += (mdat - moov) / 7) {
        char name[64];
        snprintf(name, sizeof(name), "in_moov_%lld.mp4", (long long)at);
        ck_assert_int_eq(open_code(cut_file(src, at, name)), VMO_ERR_TRUNCATED);
    }
}
END_TEST

/* The index at the end (the default of FFmpeg and of many recorders): a cut loses it. */
START_TEST(truncated_mp4_index_at_end)
{
    const char *src = tu_clip("moov_end.mp4", SRC("160x120", "2") X264);
    ck_assert_int_gt(find_box(src, "moov"), find_box(src, "mdat"));
    const char *p = cut_file(src, file_size(src) * 60 / 100, "moov_end_cut.mp4");
    vmo_decoder *d = NULL;
    vmo_errbuf err = { "" };
    ck_assert_int_eq(vmo_decoder_open_file(&d, p, NULL, &err), VMO_ERR_TRUNCATED);
    ck_assert_msg(strstr(err.msg, "moov") != NULL, "message: %s", err.msg);
}
END_TEST

/* Other containers: Matroska (declared duration), AVI (declared frame count). */
START_TEST(truncated_other_containers)
{
    static const char *const names[][2] = {
        { "h264.mkv", "cut60.mkv" },
        { "mpeg4.avi", "cut60.avi" },
    };
    for (size_t i = 0; i < VMO_ARRAY_SIZE(names); i++) {
        const char *src = NULL;
        for (size_t k = 0; k < VMO_ARRAY_SIZE(matrix); k++)
            if (!strcmp(matrix[k].name, names[i][0]))
                src = tu_clip(matrix[k].name, matrix[k].args);
        ck_assert_ptr_nonnull(src);
        const char *p = cut_file(src, file_size(src) * 60 / 100, names[i][1]);
        run *r = decode_file(p, NULL);
        ck_assert_int_eq(r->open_ret, VMO_OK);
        ck_assert_int_eq(r->ret, 0);
        ck_assert_msg(r->truncated == 1, "%s not reported truncated", names[i][1]);
        ck_assert_int_gt(r->n, 10);
        ck_assert_int_lt(r->n, 50);
        assert_increasing(r, names[i][1]);
        free(r);
    }
}
END_TEST

/* Overwritten blocks in the middle of an AVI: most frames decode, the damage is counted. */
START_TEST(damaged_avi)
{
    size_t n;
    uint8_t *data = tu_read_file(clip_mpeg4_avi(), &n);
    ck_assert_ptr_nonnull(data);
    uint32_t s = 777;
    static const int at[] = { 30, 50, 70 };
    for (size_t b = 0; b < VMO_ARRAY_SIZE(at); b++)
        for (size_t i = 0; i < 2048; i++)
            data[n * (size_t)at[b] / 100 + i] = (uint8_t)tu_rand(&s);
    const char *p = write_tmp("damaged.avi", data, n);
    free(data);
    run *r = decode_file(p, NULL);
    ck_assert_int_eq(r->open_ret, VMO_OK);
    ck_assert_msg(r->ret == 0, "%d %s", r->ret, r->msg);
    ck_assert_int_ge(r->n, 40);
    ck_assert_int_le(r->n, 50);
    ck_assert_int_ge(r->errors, 1);
    ck_assert_int_eq(r->truncated, 0);
    int damaged = 0;
    for (int i = 0; i < r->n; i++)
        damaged += r->f[i].damaged;
    ck_assert_int_le(damaged, r->errors);
    free(r);
}
END_TEST

/* Video packets full of noise: nothing decodes, and it must end, not spin. */
START_TEST(hostile_noise_packets)
{
    size_t n;
    uint8_t *data = tu_read_file(clip_h264_ts(), &n);
    ck_assert_ptr_nonnull(data);
    uint32_t s = 99;
    for (size_t off = 0; off + 188 <= n; off += 188) {
        const int pid = (data[off + 1] & 0x1f) << 8 | data[off + 2];
        if (pid == 0x100) /* FFmpeg's video PID: keep PAT/PMT so the stream is still found */
            for (size_t i = off + 4; i < off + 188; i++)
                data[i] = (uint8_t)tu_rand(&s);
    }
    run *r = decode_file(write_tmp("noise.ts", data, n), NULL);
    free(data);
    ck_assert_int_eq(r->n, 0);
    ck_assert_msg(r->open_ret < 0 || r->ret == VMO_ERR_DECODE, "open %d next %d: %s", r->open_ret,
                  r->ret, r->msg);
    free(r);
}
END_TEST

START_TEST(tiny_and_odd_sizes)
{
    run *r = decode_file(tu_clip("1x1.mkv", SRC("64x48", "0.4") "-vf scale=1:1 -c:v libx264 "
                                                                "-pix_fmt yuv444p"),
                         NULL);
    ck_assert_int_eq(r->ret, 0);
    ck_assert_int_eq(r->n, 10);
    ck_assert_int_eq(r->f[0].w, 1);
    ck_assert_int_eq(r->f[0].h, 1);
    free(r);
    r = decode_file(tu_clip("odd.mkv", SRC("320x240", "0.4") "-vf scale=321:241 -c:v libx264 "
                                                             "-pix_fmt yuv444p"),
                    NULL);
    ck_assert_int_eq(r->ret, 0);
    ck_assert_int_eq(r->n, 10);
    ck_assert_int_eq(r->f[0].w, 321);
    ck_assert_int_eq(r->f[0].h, 241);
    free(r);
}
END_TEST

/* ---- metadata --------------------------------------------------------------------------- */

static int ffprobe_rotation(const char *path)
{
    char *out = tu_capture("ffprobe -v error -select_streams v:0 -show_entries "
                           "stream_side_data=rotation -of csv=p=0 '%s'",
                           path);
    ck_assert_ptr_nonnull(out);
    const int r = atoi(out);
    free(out);
    return r;
}

START_TEST(rotation_and_creation_time)
{
    static const int angles[] = { 90, 180, 270 };
    for (size_t i = 0; i < VMO_ARRAY_SIZE(angles); i++) {
        char name[32], args[1400];
        snprintf(name, sizeof(name), "rot%d.mp4", angles[i]);
        snprintf(args, sizeof(args),
                 "-i '%s' -c copy -metadata:s:v:0 rotate=%d "
                 "-metadata creation_time=2025-11-02T23:59:50Z",
                 clip_h264_mp4(), angles[i]);
        const char *p = tu_clip(name, args);
        run *r = decode_file(p, NULL);
        ck_assert_int_eq(r->open_ret, VMO_OK);
        ck_assert_int_eq(r->info.rotation, angles[i]);
        ck_assert_int_eq(r->info.rotation, (ffprobe_rotation(p) % 360 + 360) % 360);
        ck_assert_double_eq_tol(r->info.creation_time, 1762127990.0, 1e-6);
        ck_assert_int_eq(r->n, 50);
        free(r);
    }
    /* Matroska keeps fractions of a second (and the tag is the container's) */
    char args[1400];
    snprintf(args, sizeof(args), "-i '%s' -c copy -metadata creation_time=2025-11-02T23:59:50.25Z",
             clip_h264_mp4());
    run *r = decode_file(tu_clip("created.mkv", args), NULL);
    ck_assert_double_eq_tol(r->info.creation_time, 1762127990.25, 1e-3);
    ck_assert_int_eq(r->info.rotation, 0);
    free(r);
}
END_TEST

/* ---- custom I/O ------------------------------------------------------------------------- */

static void assert_same_frames(const run *a, const run *b)
{
    ck_assert_int_eq(a->n, b->n);
    ck_assert_int_eq(a->ret, b->ret);
    for (int i = 0; i < a->n; i++) {
        ck_assert_double_eq(a->f[i].t, b->f[i].t);
        ck_assert(a->f[i].hash == b->f[i].hash);
        ck_assert_int_eq(a->f[i].key, b->f[i].key);
    }
}

START_TEST(custom_io)
{
    static const struct {
        const char *(*clip)(void);
        int seekable;
    } cases[] = {
        { clip_h264_mp4, 1 }, { clip_long_mp4, 0 }, { clip_h264_ts, 0 }, { clip_h264_ts, 1 }
    };
    for (size_t i = 0; i < VMO_ARRAY_SIZE(cases); i++) {
        const char *path = cases[i].clip();
        run *ref = decode_file(path, NULL);
        mem m = mem_load(path);
        run *r = decode_mem(&m, cases[i].seekable);
        ck_assert_msg(r->open_ret == VMO_OK, "%s: %s", path, r->msg);
        assert_same_frames(ref, r);
        ck_assert_int_eq(r->truncated, 0);
        ck_assert_int_eq(r->info.size_bytes, cases[i].seekable ? m.size : -1);
        free(m.data);
        free(ref);
        free(r);
    }
}
END_TEST

START_TEST(custom_io_bad)
{
    mem m = { (uint8_t *)"", 0, 0, 0 };
    run *r = decode_mem(&m, 1);
    ck_assert_int_eq(r->open_ret, VMO_ERR_EMPTY);
    free(r);
    r = decode_mem(&m, 0);
    ck_assert_int_eq(r->open_ret, VMO_ERR_EMPTY);
    free(r);

    static char text[] = "not a video at all, just words\n";
    mem t = { (uint8_t *)text, (int64_t)strlen(text), 0, 0 };
    r = decode_mem(&t, 0);
    ck_assert_int_eq(r->open_ret, VMO_ERR_NOT_MEDIA);
    free(r);

    mem f = mem_load(clip_h264_mp4());
    f.fail = 1;
    r = decode_mem(&f, 1);
    ck_assert_int_eq(r->open_ret, VMO_ERR_IO);
    free(r);
    free(f.data);

    /* a cut file through caller I/O: the same frames as from the path, and truncated */
    mem cut = mem_load(clip_long_mp4());
    cut.size = cut.size * 60 / 100;
    r = decode_mem(&cut, 1);
    run *ref = decode_file(cut_file(clip_long_mp4(), cut.size, "io_cut60.mp4"), NULL);
    assert_same_frames(ref, r);
    ck_assert_int_eq(r->truncated, 1);
    ck_assert_int_gt(r->n, 50);
    free(ref);
    free(r);
    free(cut.data);

    /* a cut header is found through caller I/O too */
    mem c = mem_load(clip_long_mp4());
    c.size = find_box(clip_long_mp4(), "moov") + 100;
    r = decode_mem(&c, 1);
    ck_assert_int_eq(r->open_ret, VMO_ERR_TRUNCATED);
    free(r);
    free(c.data);

    vmo_io io = { 4, NULL, mem_read, NULL }; /* struct_size too small for read */
    vmo_decoder *d = NULL;
    ck_assert_int_eq(vmo_decoder_open_io(&d, &io, NULL, NULL), VMO_ERR_INVALID_ARG);
    ck_assert_ptr_null(d);
}
END_TEST

/* ---- seeking and skipping --------------------------------------------------------------- */

static int next_frame(vmo_decoder *d, vmo_decoded_frame *f)
{
    vmo_errbuf err = { "" };
    const int ret = vmo_decoder_next(d, f, &err);
    ck_assert_msg(ret >= 0, "next: %d %s", ret, err.msg);
    return ret;
}

/* After a seek the first frame is a keyframe at or before the target (keyframes every 1 s),
 * with an index that matches its time, and the frames after it follow in order. */
static void check_seeks(const char *path, int indexed)
{
    vmo_decoder *d = NULL;
    vmo_errbuf err = { "" };
    ck_assert_int_eq(vmo_decoder_open_file(&d, path, NULL, &err), VMO_OK);
    static const double targets[] = { 2.5, 0.0, 3.96, 1.0, 100.0, 0.7, 1.5 };
    vmo_decoded_frame f;
    for (size_t i = 0; i < VMO_ARRAY_SIZE(targets); i++) {
        const double t = targets[i];
        ck_assert_int_eq(vmo_decoder_seek(d, t, &err), VMO_OK);
        ck_assert_msg(next_frame(d, &f) == 1, "%s: nothing after seek %.2f", path, t);
        ck_assert_msg(f.key, "%s: seek %.2f gave a non-key frame at %.3f", path, t, f.t);
        /* with an index, on the nearest keyframe; MPEG-TS may land on an earlier one */
        ck_assert_msg(f.t <= t + 1e-6 && (!indexed || f.t > VMO_MIN(t, 4.0) - 1.0 - 1e-6),
                      "%s: seek %.2f landed at %.3f", path, t, f.t);
        ck_assert_int_eq(f.index, llround(f.t * 25));
        const double first = f.t;
        const int64_t index = f.index;
        for (int k = 1; k <= 5 && next_frame(d, &f) == 1; k++) {
            ck_assert_double_eq_tol(f.t, first + k / 25.0, 1e-6);
            ck_assert_int_eq(f.index, index + k);
        }
    }
    /* run to the end, then seek again */
    while (next_frame(d, &f) == 1)
        ;
    ck_assert_int_eq(vmo_decoder_truncated(d), 0);
    ck_assert_int_eq(vmo_decoder_seek(d, 2.0, &err), VMO_OK);
    ck_assert_int_eq(next_frame(d, &f), 1);
    ck_assert(f.key && f.t <= 2.0 + 1e-6);
    if (indexed)
        ck_assert_double_eq_tol(f.t, 2.0, 1e-6);
    vmo_decoder_close(&d);
}

START_TEST(seek)
{
    check_seeks(clip_long_mp4(), 1);
    check_seeks(tu_clip("long.mkv", SRC("160x120", "4") X264), 1);
    check_seeks(tu_clip("long.ts", SRC("160x120", "4") X264), 0);
}
END_TEST

START_TEST(skip_modes)
{
    const char *path = clip_long_mp4();
    vmo_decoder_opts o = { -1, 0, VMO_SKIP_NONKEY };
    run *r = decode_file(path, &o);
    ck_assert_int_eq(r->ret, 0);
    ck_assert_int_eq(r->n, 4); /* one keyframe per second */
    for (int i = 0; i < r->n; i++) {
        ck_assert(r->f[i].key);
        ck_assert_double_eq_tol(r->f[i].t, i, 1e-6);
    }
    ck_assert_int_eq(r->truncated, 0);
    free(r);
    for (int skip = VMO_SKIP_NONREF; skip <= VMO_SKIP_BIDIR; skip++) {
        o.skip = skip;
        r = decode_file(path, &o);
        ck_assert_int_eq(r->ret, 0);
        ck_assert_int_gt(r->n, 4);
        ck_assert_int_lt(r->n, 100); /* x264's B-frames are dropped */
        assert_increasing(r, "skip");
        ck_assert_int_eq(r->truncated, 0);
        free(r);
    }
}
END_TEST

/* Two MPEG-TS recordings of different sizes appended byte-wise: both sizes come out, and
 * time keeps going forward across the restarted clock. */
START_TEST(resolution_change)
{
    const char *a = tu_clip("seg_a.ts", SRC("160x120", "1") X264);
    const char *b = tu_clip("seg_b.ts", SRC("96x72", "1") X264);
    size_t na, nb;
    uint8_t *da = tu_read_file(a, &na), *db = tu_read_file(b, &nb);
    ck_assert(da && db);
    uint8_t *both = malloc(na + nb);
    memcpy(both, da, na);
    memcpy(both + na, db, nb);
    run *r = decode_file(write_tmp("both.ts", both, na + nb), NULL);
    free(da);
    free(db);
    free(both);
    ck_assert_int_eq(r->ret, 0);
    ck_assert_int_eq(r->n, 50);
    int big = 0, small = 0;
    for (int i = 0; i < r->n; i++) {
        big += r->f[i].w == 160 && r->f[i].h == 120;
        small += r->f[i].w == 96 && r->f[i].h == 72;
    }
    ck_assert_int_eq(big, 25);
    ck_assert_int_eq(small, 25);
    assert_increasing(r, "both.ts");
    ck_assert_int_eq(r->truncated, 0);
    ck_assert_double_eq_tol(r->f[25].t - r->f[24].t, 0.04, 1e-6);
    free(r);
}
END_TEST

START_TEST(null_safety)
{
    vmo_decoder *d = NULL;
    vmo_decoder_close(&d);
    vmo_decoder_close(NULL);
    ck_assert_ptr_null(vmo_decoder_info(NULL));
    ck_assert_int_eq(vmo_decoder_truncated(NULL), 0);
    ck_assert_int_eq(vmo_decoder_errors(NULL), 0);
    vmo_decoded_frame f;
    ck_assert_int_eq(vmo_decoder_next(NULL, &f, NULL), VMO_ERR_INVALID_ARG);
    ck_assert_int_eq(vmo_decoder_seek(NULL, 1.0, NULL), VMO_ERR_INVALID_ARG);
}
END_TEST

static Suite *decode_suite(void)
{
    Suite *s = suite_create("decode");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 300);
    tcase_add_loop_test(tc, codec_matrix, 0, (int)VMO_ARRAY_SIZE(matrix));
    tcase_add_test(tc, threads_agree);
    tcase_add_test(tc, audio_video_selection);
    tcase_add_test(tc, no_video);
    tcase_add_test(tc, variable_frame_rate);
    tcase_add_test(tc, bad_missing_and_unreadable);
    tcase_add_test(tc, bad_content);
    tcase_add_test(tc, bad_limits);
    tcase_add_test(tc, bad_unknown_codec);
    tcase_add_test(tc, truncated_mp4);
    tcase_add_test(tc, truncated_mp4_index_at_end);
    tcase_add_test(tc, truncated_other_containers);
    tcase_add_test(tc, damaged_avi);
    tcase_add_test(tc, hostile_noise_packets);
    tcase_add_test(tc, tiny_and_odd_sizes);
    tcase_add_test(tc, rotation_and_creation_time);
    tcase_add_test(tc, custom_io);
    tcase_add_test(tc, custom_io_bad);
    tcase_add_test(tc, seek);
    tcase_add_test(tc, skip_modes);
    tcase_add_test(tc, resolution_change);
    tcase_add_test(tc, null_safety);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(decode_suite());
    srunner_run_all(sr, CK_NORMAL);
    const int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
