/* The bad-input matrix: every kind of broken, hostile or unusual input, scanned through the
 * public API (vmo_analyzer_scan_file), gets its documented status, clip status and flags,
 * and either no frame, part of the frames or all of them. One table drives the test and
 * the table of docs/bad-input.md ("The matrix"): `test_badinput --markdown` prints the
 * rows, and the doc_in_sync test fails when the document does not hold them.
 *
 * The inputs are fixtures named bad_* in $VMO_FIXTURES, made from clips synthesized by
 * FFmpeg, so scripts/ci-valgrind.sh finds them with the other fixtures. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <check.h>

#include <vidmotion/vidmotion.h>

#include "tutil.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* 2 s at 25 fps: 50 frames when intact. */
#define SRC(size) "-f lavfi -i testsrc2=s=" size ":r=25:d=2 "
#define X264      "-c:v libx264 -preset ultrafast -g 25 -pix_fmt yuv420p "
#define FULL      50

/* What a scan delivers. */
enum { NO_FRAMES, SOME_FRAMES, ALL_FRAMES };

typedef struct bad_case bad_case;
struct bad_case {
    const char *name;   /* fixture file name */
    const char *input;  /* for the document */
    /* Makes the input: FFmpeg arguments for tu_clip, or a function deriving it. */
    const char *args;
    const char *(*derive)(const bad_case *c);
    const char *base;   /* the intact clip (bases[]) a derived input is made from */
    int percent;        /* cut or damage position, percent of the base's size */
    int rc;             /* vmo_analyzer_scan_file() */
    int status;         /* the clip's status, when a result is delivered */
    uint32_t flags;     /* clip flags that must be set (and no other of TRUNCATED,
                           DAMAGED, RESIZED) */
    int frames;         /* NO_FRAMES, SOME_FRAMES or ALL_FRAMES */
};

/* ---- making inputs ---------------------------------------------------------------------- */

static const char *fixture_path(const char *name)
{
    static char path[64][1200];
    static int next;
    const char *dir = getenv("VMO_FIXTURES");
    char *p = path[next++ % 64];
    snprintf(p, sizeof(path[0]), "%s/%s", dir && *dir ? dir : "fixtures", name);
    return p;
}

/* Writes a fixture atomically (parallel test programs share the directory). */
static const char *put_fixture(const char *name, const void *data, size_t size)
{
    const char *path = fixture_path(name);
    char tmp[1300];
    snprintf(tmp, sizeof(tmp), "%s.tmp%ld", path, (long)getpid());
    ck_assert_int_eq(tu_write_file(tmp, data, size), 0);
    ck_assert_msg(rename(tmp, path) == 0, "rename %s: %s", tmp, strerror(errno));
    return path;
}

/* The intact clips that inputs are derived from: 160x120, 50 frames. */
static const struct {
    const char *name, *args;
} bases[] = {
    { "bad_base.mp4", SRC("160x120") X264 "-movflags +faststart" }, /* index first */
    { "bad_moov_end.mp4", SRC("160x120") X264 },                    /* index last */
    { "bad_base.mkv", SRC("160x120") X264 },
    { "bad_base.ts", SRC("160x120") X264 },
    { "bad_base.avi", SRC("160x120") "-c:v mpeg4 -q:v 5 -g 12" },
    { "bad_base_mjpeg.avi", SRC("160x120") "-c:v mjpeg -q:v 5 -pix_fmt yuvj420p" },
};

static const char *base_path(const bad_case *c)
{
    for (size_t i = 0; i < ARRAY_SIZE(bases); i++)
        if (!strcmp(bases[i].name, c->base))
            return tu_clip(bases[i].name, bases[i].args);
    ck_abort_msg("%s: no base clip %s", c->name, c->base);
    return NULL;
}

static uint8_t *read_base(const bad_case *c, size_t *n)
{
    uint8_t *data = tu_read_file(base_path(c), n);
    ck_assert_ptr_nonnull(data);
    return data;
}

static const char *make_empty(const bad_case *c)
{
    return put_fixture(c->name, "", 0);
}

/* Fixed seed: the same bytes every run. */
static const char *make_random(const bad_case *c)
{
    uint8_t noise[4096];
    uint32_t s = 12345;
    for (size_t i = 0; i < sizeof(noise); i++)
        noise[i] = (uint8_t)tu_rand(&s);
    return put_fixture(c->name, noise, sizeof(noise));
}

static const char *make_text(const bad_case *c)
{
    static const char text[] = "Driveway camera, 4 July: nothing to see.\nThis is a text file.\n";
    return put_fixture(c->name, text, strlen(text));
}

static const char *make_pdf(const bad_case *c)
{
    static const char pdf[] = "%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\n";
    return put_fixture(c->name, pdf, sizeof(pdf) - 1);
}

/* A Y4M header announcing a 16000x16000 picture: refused before any allocation. */
static const char *make_huge(const bad_case *c)
{
    static const char y4m[] = "YUV4MPEG2 W16000 H16000 F25:1 C420jpeg\nFRAME\n";
    return put_fixture(c->name, y4m, strlen(y4m));
}

/* The first `percent` of the base clip. */
static const char *make_cut(const bad_case *c)
{
    size_t n;
    uint8_t *data = read_base(c, &n);
    const char *p = put_fixture(c->name, data, n * (size_t)c->percent / 100);
    free(data);
    return p;
}

static size_t find_box(const uint8_t *data, size_t n, const char *type)
{
    for (size_t i = 4; i + 4 <= n; i++)
        if (!memcmp(data + i, type, 4))
            return i - 4;
    ck_abort_msg("no %s box", type);
    return 0;
}

/* A complete MP4 whose moov box is renamed "free": the media data without its index. */
static const char *make_no_moov(const bad_case *c)
{
    size_t n;
    uint8_t *data = read_base(c, &n);
    memcpy(data + find_box(data, n, "moov") + 4, "free", 4);
    const char *p = put_fixture(c->name, data, n);
    free(data);
    return p;
}

/* Cut a few bytes into the moov box (index at the front). */
static const char *make_cut_in_moov(const bad_case *c)
{
    size_t n;
    uint8_t *data = read_base(c, &n);
    const char *p = put_fixture(c->name, data, find_box(data, n, "moov") + 200);
    free(data);
    return p;
}

/* An MP4 cut just after its header: the index survives, the frames do not. */
static const char *make_header_only(const bad_case *c)
{
    size_t n;
    uint8_t *data = read_base(c, &n);
    const char *p = put_fixture(c->name, data, find_box(data, n, "mdat") + 8);
    free(data);
    return p;
}

/* 2 KB of noise written over an AVI at `percent` and every 20 % after, up to 70 %: the
 * index at the end (idx1) stays intact. */
static const char *make_damaged(const bad_case *c)
{
    size_t n;
    uint8_t *data = read_base(c, &n);
    uint32_t s = 777;
    for (int at = c->percent; at < 80; at += 20)
        for (size_t i = 0; i < 2048 && n * (size_t)at / 100 + i < n; i++)
            data[n * (size_t)at / 100 + i] = (uint8_t)tu_rand(&s);
    const char *p = put_fixture(c->name, data, n);
    free(data);
    return p;
}

/* Two MPEG-TS recordings of different sizes appended byte-wise: a mid-stream change. */
static const char *make_resized(const bad_case *c)
{
    const char *a = tu_clip("bad_seg_160.ts", "-f lavfi -i testsrc2=s=160x120:r=25:d=1 " X264);
    const char *b = tu_clip("bad_seg_96.ts", "-f lavfi -i testsrc2=s=96x72:r=25:d=1 " X264);
    size_t na, nb;
    uint8_t *da = tu_read_file(a, &na), *db = tu_read_file(b, &nb);
    ck_assert(da && db);
    uint8_t *both = malloc(na + nb);
    ck_assert_ptr_nonnull(both);
    memcpy(both, da, na);
    memcpy(both + na, db, nb);
    const char *p = put_fixture(c->name, both, na + nb);
    free(da);
    free(db);
    free(both);
    return p;
}

/* Noise in every video packet of an MPEG-TS (PAT/PMT kept, so the stream is found). */
static const char *make_noise_ts(const bad_case *c)
{
    size_t n;
    uint8_t *data = read_base(c, &n);
    uint32_t s = 99;
    for (size_t off = 0; off + 188 <= n; off += 188) {
        const int pid = (data[off + 1] & 0x1f) << 8 | data[off + 2];
        if (pid == 0x100) /* FFmpeg's video PID */
            for (size_t i = off + 4; i < off + 188; i++)
                data[i] = (uint8_t)tu_rand(&s);
    }
    const char *p = put_fixture(c->name, data, n);
    free(data);
    return p;
}

/* An AVI whose codec tag nobody knows. */
static const char *make_unknown_codec(const bad_case *c)
{
    size_t n;
    uint8_t *data = read_base(c, &n);
    for (size_t i = 0; i + 4 <= n && i < 4096; i++)
        if (!memcmp(data + i, "FMP4", 4))
            memcpy(data + i, "QQQQ", 4);
    const char *p = put_fixture(c->name, data, n);
    free(data);
    return p;
}

/* The AVI's stream header (BITMAPINFOHEADER in strf) and main header (avih) announce
 * 40000x30000, far over the limits; the bitstream itself is unchanged. */
static const char *make_huge_avi(const bad_case *c)
{
    size_t n;
    uint8_t *data = read_base(c, &n);
    static const uint8_t w[4] = { 0x40, 0x9c, 0, 0 }, h[4] = { 0x30, 0x75, 0, 0 };
    const size_t avih = find_box(data, n, "avih") + 4; /* RIFF chunks: "avih" then size */
    memcpy(data + avih + 8 + 32, w, 4);                /* dwWidth, dwHeight */
    memcpy(data + avih + 8 + 36, h, 4);
    const size_t strf = find_box(data, n, "strf") + 4;
    memcpy(data + strf + 8 + 4, w, 4); /* biWidth, biHeight */
    memcpy(data + strf + 8 + 8, h, 4);
    const char *p = put_fixture(c->name, data, n);
    free(data);
    return p;
}

/* Every JPEG frame header (SOF0) of an MJPEG AVI announces 60000x60000: huge pictures in
 * the middle of the stream, past the container's header. */
static const char *make_huge_mjpeg(const bad_case *c)
{
    size_t n;
    uint8_t *data = read_base(c, &n);
    int patched = 0;
    for (size_t i = 0; i + 9 <= n; i++)
        if (data[i] == 0xff && data[i + 1] == 0xc0 && data[i + 4] == 8) {
            data[i + 5] = data[i + 7] = 0xea; /* height, width: 0xea60 = 60000 */
            data[i + 6] = data[i + 8] = 0x60;
            patched++;
        }
    ck_assert_int_gt(patched, 10);
    const char *p = put_fixture(c->name, data, n);
    free(data);
    return p;
}

/* FFmpeg 5.1 sets the display matrix from "rotate" only when it copies the stream. */
static const char *make_rotated(const bad_case *c)
{
    char args[1400];
    snprintf(args, sizeof(args), "-i '%s' -c copy -metadata:s:v:0 rotate=90", base_path(c));
    return tu_clip(c->name, args);
}

static const char *make_missing(const bad_case *c)
{
    return fixture_path(c->name); /* never created */
}

/* ---- the matrix ------------------------------------------------------------------------- */

#define MP4_BASE "bad_base.mp4"
#define AVI_BASE "bad_base.avi"
#define TS_BASE  "bad_base.ts"
#define MKV_BASE "bad_base.mkv"

/* clang-format off */
static const bad_case cases[] = {
    { "bad_missing.mp4", "a path that does not exist",
      NULL, make_missing, NULL, 0, VMO_ERR_NOT_FOUND, 0, 0, NO_FRAMES },
    { "bad_empty.mp4", "empty file (0 bytes)",
      NULL, make_empty, NULL, 0, VMO_ERR_EMPTY, 0, 0, NO_FRAMES },
    { "bad_random.mp4", "4 KB of random bytes named .mp4",
      NULL, make_random, NULL, 0, VMO_ERR_CORRUPT, 0, 0, NO_FRAMES },
    { "bad_random.mkv", "4 KB of random bytes named .mkv",
      NULL, make_random, NULL, 0, VMO_ERR_CORRUPT, 0, 0, NO_FRAMES },
    { "bad_text.mkv", "a text file renamed .mkv",
      NULL, make_text, NULL, 0, VMO_ERR_NOT_MEDIA, 0, 0, NO_FRAMES },
    { "bad_text.mp4", "a text file renamed .mp4",
      NULL, make_text, NULL, 0, VMO_ERR_NOT_MEDIA, 0, 0, NO_FRAMES },
    { "bad_doc.mp4", "a PDF renamed .mp4",
      NULL, make_pdf, NULL, 0, VMO_ERR_NOT_MEDIA, 0, 0, NO_FRAMES },
    { "bad_audio_only.m4a", "audio only (AAC in MP4)",
      "-f lavfi -i sine=d=1 -c:a aac", NULL, NULL, 0, VMO_ERR_NO_VIDEO, 0, 0, NO_FRAMES },
    { "bad_audio_only.mp4", "audio only, named .mp4",
      "-f lavfi -i sine=d=1 -c:a aac", NULL, NULL, 0, VMO_ERR_NO_VIDEO, 0, 0, NO_FRAMES },
    { "bad_unknown_codec.avi", "AVI with an unknown codec tag",
      NULL, make_unknown_codec, AVI_BASE, 0, VMO_ERR_UNSUPPORTED, 0, 0, NO_FRAMES },
    { "bad_huge.y4m", "header announcing 16000x16000",
      NULL, make_huge, NULL, 0, VMO_ERR_LIMIT, 0, 0, NO_FRAMES },
    { "bad_huge_header.avi", "AVI headers announcing 40000x30000 over 160x120 MPEG-4",
      NULL, make_huge_avi, AVI_BASE, 0, VMO_OK, VMO_OK, 0, ALL_FRAMES },
    { "bad_huge_frames.avi", "every MJPEG frame announcing 60000x60000",
      NULL, make_huge_mjpeg, "bad_base_mjpeg.avi", 0, VMO_ERR_DECODE, 0, 0, NO_FRAMES },
    { "bad_cut05.mp4", "MP4 (index first) cut at 5 %, inside the first frame",
      NULL, make_cut, MP4_BASE, 5, VMO_ERR_TRUNCATED, 0, 0, NO_FRAMES },
    { "bad_cut30.mp4", "MP4 (index first) cut at 30 %",
      NULL, make_cut, MP4_BASE, 30, VMO_OK, VMO_ERR_TRUNCATED, VMO_CLIP_TRUNCATED, SOME_FRAMES },
    { "bad_cut60.mp4", "MP4 (index first) cut at 60 %",
      NULL, make_cut, MP4_BASE, 60, VMO_OK, VMO_ERR_TRUNCATED, VMO_CLIP_TRUNCATED, SOME_FRAMES },
    { "bad_cut90.mp4", "MP4 (index first) cut at 90 %",
      NULL, make_cut, MP4_BASE, 90, VMO_OK, VMO_ERR_TRUNCATED, VMO_CLIP_TRUNCATED, SOME_FRAMES },
    { "bad_header_only.mp4", "MP4 cut right after its header",
      NULL, make_header_only, MP4_BASE, 0, VMO_ERR_TRUNCATED, 0, 0, NO_FRAMES },
    { "bad_cut_in_moov.mp4", "MP4 cut inside its header (moov)",
      NULL, make_cut_in_moov, MP4_BASE, 0, VMO_ERR_TRUNCATED, 0, 0, NO_FRAMES },
    { "bad_moov_missing_cut.mp4", "MP4 (index last) cut at 60 %: moov missing",
      NULL, make_cut, "bad_moov_end.mp4", 60,
      VMO_ERR_TRUNCATED, 0, 0, NO_FRAMES },
    { "bad_moov_missing.mp4", "complete MP4 whose moov box is renamed",
      NULL, make_no_moov, MP4_BASE, 0, VMO_ERR_TRUNCATED, 0, 0, NO_FRAMES },
    { "bad_cut60.mkv", "Matroska cut at 60 %",
      NULL, make_cut, MKV_BASE, 60, VMO_OK, VMO_ERR_TRUNCATED, VMO_CLIP_TRUNCATED,
      SOME_FRAMES },
    { "bad_cut60.avi", "AVI cut at 60 %",
      NULL, make_cut, AVI_BASE, 60, VMO_OK, VMO_ERR_TRUNCATED,
      VMO_CLIP_TRUNCATED | VMO_CLIP_DAMAGED, SOME_FRAMES },
    { "bad_cut60.ts", "MPEG-TS cut at 60 % (undetectable)",
      NULL, make_cut, TS_BASE, 60, VMO_OK, VMO_OK, VMO_CLIP_DAMAGED, SOME_FRAMES },
    { "bad_damaged.avi", "AVI with 2 KB of noise at 30, 50 and 70 %",
      NULL, make_damaged, AVI_BASE, 30, VMO_OK, VMO_OK, VMO_CLIP_DAMAGED, SOME_FRAMES },
    { "bad_noise_packets.ts", "MPEG-TS whose video packets are all noise",
      NULL, make_noise_ts, TS_BASE, 0, VMO_ERR_DECODE, 0, 0, NO_FRAMES },
    { "bad_1x1.mkv", "a 1x1 picture",
      SRC("64x48") "-vf scale=1:1 -c:v libx264 -preset ultrafast -pix_fmt yuv444p", NULL, NULL,
      0, VMO_OK, VMO_OK, 0, ALL_FRAMES },
    { "bad_odd_size.mkv", "an odd size (321x241)",
      SRC("320x240") "-vf scale=321:241 -c:v libx264 -preset ultrafast -pix_fmt yuv444p", NULL,
      NULL, 0, VMO_OK, VMO_OK, 0, ALL_FRAMES },
    { "bad_resized.ts", "resolution change mid-stream (160x120, then 96x72)",
      NULL, make_resized, NULL, 0, VMO_OK, VMO_OK, VMO_CLIP_RESIZED, ALL_FRAMES },
    { "bad_10bit.mkv", "10-bit 4:2:0 H.264",
      SRC("160x120") "-c:v libx264 -preset ultrafast -pix_fmt yuv420p10le", NULL, NULL, 0,
      VMO_OK, VMO_OK, 0, ALL_FRAMES },
    { "bad_10bit_hevc.mp4", "10-bit 4:2:0 HEVC",
      SRC("160x120") "-c:v libx265 -preset ultrafast -x265-params log-level=error "
      "-pix_fmt yuv420p10le -tag:v hvc1", NULL, NULL, 0, VMO_OK, VMO_OK, 0, ALL_FRAMES },
    { "bad_rotated.mp4", "rotated 90 degrees (display matrix)",
      NULL, make_rotated, MP4_BASE, 0, VMO_OK, VMO_OK, 0, ALL_FRAMES },
};
/* clang-format on */

/* ---- running ---------------------------------------------------------------------------- */

static const char *make(const bad_case *c)
{
    return c->derive ? c->derive(c) : tu_clip(c->name, c->args);
}

static vmo_analyzer *new_analyzer(void)
{
    vmo_config *cfg = NULL;
    vmo_analyzer *an = NULL;
    ck_assert_int_eq(vmo_config_create(&cfg), VMO_OK);
    ck_assert_int_eq(vmo_config_add_zone(cfg, "left", VMO_ZONE_INCLUDE, "0,0,0.5,1"), VMO_OK);
    ck_assert_int_eq(vmo_analyzer_create(cfg, &an), VMO_OK);
    vmo_config_destroy(&cfg);
    return an;
}

static const uint32_t checked_flags = VMO_CLIP_TRUNCATED | VMO_CLIP_DAMAGED | VMO_CLIP_RESIZED;

START_TEST(matrix)
{
    const bad_case *c = &cases[_i];
    const char *path = make(c);
    vmo_analyzer *an = new_analyzer();
    vmo_result *res = NULL;
    const int rc = vmo_analyzer_scan_file(an, path, &res);
    const char *msg = vmo_analyzer_last_error(an);
    ck_assert_msg(rc == c->rc, "%s: scan %d (%s), want %d (%s): %s", c->name, rc,
                  vmo_strerror(rc), c->rc, vmo_strerror(c->rc), msg);
    if (rc != VMO_OK) {
        ck_assert_ptr_null(res);
        ck_assert_msg(msg[0] != '\0', "%s: error %d without a message", c->name, rc);
        ck_assert_int_eq(c->frames, NO_FRAMES);
        vmo_analyzer_destroy(&an);
        return;
    }
    ck_assert_int_eq(vmo_result_clip_count(res), 1);
    vmo_clip_info ci = { .struct_size = sizeof(ci) };
    ck_assert_int_eq(vmo_result_clip(res, 0, &ci), VMO_OK);
    ck_assert_msg(ci.status == c->status, "%s: clip status %d, want %d: %s", c->name, ci.status,
                  c->status, ci.error ? ci.error : "");
    ck_assert_msg((ci.flags & checked_flags) == c->flags, "%s: flags %#x, want %#x", c->name,
                  ci.flags & checked_flags, c->flags);
    ck_assert_msg(ci.status == VMO_OK || (ci.error && ci.error[0]), "%s: no message", c->name);
    switch (c->frames) {
    case ALL_FRAMES:
        ck_assert_msg(ci.frames == FULL, "%s: %lld frames, want %d", c->name,
                      (long long)ci.frames, FULL);
        break;
    case SOME_FRAMES:
        ck_assert_msg(ci.frames > 0 && ci.frames < FULL, "%s: %lld frames, want 1..%d", c->name,
                      (long long)ci.frames, FULL - 1);
        break;
    default:
        ck_assert_int_eq(ci.frames, 0);
    }
    if (!strcmp(c->name, "bad_rotated.mp4"))
        ck_assert_int_eq(ci.rotation, 90);
    if (!strcmp(c->name, "bad_huge_header.avi")) /* the bitstream's size wins */
        ck_assert(ci.width == 160 && ci.height == 120);
    if (!strcmp(c->name, "bad_1x1.mkv"))
        ck_assert(ci.width == 1 && ci.height == 1 && ci.analysis_width >= 1);
    /* whatever was decoded is usable: JSON of it renders */
    char *json = NULL;
    ck_assert_int_eq(vmo_result_to_json(res, VMO_JSON_FRAMES, &json), VMO_OK);
    vmo_free(json);
    vmo_result_destroy(&res);
    vmo_analyzer_destroy(&an);
}
END_TEST

/* The same inputs through a request: a bad clip fails alone, with the same status. */
START_TEST(request_keeps_going)
{
    vmo_analyzer *an = new_analyzer();
    vmo_request *rq = NULL;
    ck_assert_int_eq(vmo_request_create(&rq), VMO_OK);
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
        ck_assert_int_eq(vmo_request_add_clip(rq, make(&cases[i]), NAN), VMO_OK);
    vmo_result *res = NULL;
    ck_assert_int_eq(vmo_analyzer_run_request(an, rq, &res), VMO_OK);
    ck_assert_int_eq(vmo_result_clip_count(res), (int)ARRAY_SIZE(cases));
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        vmo_clip_info ci = { .struct_size = sizeof(ci) };
        ck_assert_int_eq(vmo_result_clip(res, (int)i, &ci), VMO_OK);
        const int want = cases[i].rc != VMO_OK ? cases[i].rc : cases[i].status;
        ck_assert_msg(ci.status == want, "%s: %d in a request, %d alone", cases[i].name,
                      ci.status, want);
    }
    vmo_result_destroy(&res);
    vmo_request_destroy(&rq);
    vmo_analyzer_destroy(&an);
}
END_TEST

/* ---- the document ----------------------------------------------------------------------- */

static const char *status_name(int code)
{
    static const char *const names[] = {
        "VMO_OK",          "VMO_ERR_INVALID_ARG", "VMO_ERR_NO_MEMORY",  "VMO_ERR_IO",
        "VMO_ERR_NOT_FOUND", "VMO_ERR_EMPTY",     "VMO_ERR_CORRUPT",    "VMO_ERR_NOT_MEDIA",
        "VMO_ERR_NO_VIDEO", "VMO_ERR_DECODE",     "VMO_ERR_UNSUPPORTED", "VMO_ERR_TRUNCATED",
    };
    return code <= 0 && -code < (int)ARRAY_SIZE(names) ? names[-code]
           : code == VMO_ERR_LIMIT                    ? "VMO_ERR_LIMIT"
                                                      : "?";
}

static void flag_names(uint32_t flags, char *buf, size_t size)
{
    snprintf(buf, size, "%s%s%s%s", flags & VMO_CLIP_TRUNCATED ? "TRUNCATED " : "",
             flags & VMO_CLIP_DAMAGED ? "DAMAGED " : "", flags & VMO_CLIP_RESIZED ? "RESIZED " : "",
             flags ? "" : "-");
    const size_t n = strlen(buf);
    if (n && buf[n - 1] == ' ')
        buf[n - 1] = '\0';
}

/* One row of the document's table. */
static void markdown_row(const bad_case *c, char *buf, size_t size)
{
    static const char *const decodes[] = { "fails, no frame", "partially", "all 50 frames" };
    char flags[64];
    flag_names(c->flags, flags, sizeof(flags));
    if (c->rc != VMO_OK)
        snprintf(buf, size, "| %s | `%s` | `%s` | - | - | %s |", c->input, c->name,
                 status_name(c->rc), decodes[c->frames]);
    else
        snprintf(buf, size, "| %s | `%s` | `VMO_OK` | `%s` | %s | %s |", c->input, c->name,
                 status_name(c->status), flags, decodes[c->frames]);
}

static void print_markdown(void)
{
    puts("| input | fixture | scan returns | clip status | clip flags | decodes |");
    puts("|---|---|---|---|---|---|");
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        char row[512];
        markdown_row(&cases[i], row, sizeof(row));
        puts(row);
    }
}

START_TEST(doc_in_sync)
{
    char *doc = tu_read_file(VMO_SOURCE_DIR "/docs/bad-input.md", NULL);
    ck_assert_ptr_nonnull(doc);
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        char row[512];
        markdown_row(&cases[i], row, sizeof(row));
        ck_assert_msg(strstr(doc, row) != NULL,
                      "docs/bad-input.md lacks the row (tests/test_badinput --markdown):\n%s", row);
    }
    free(doc);
}
END_TEST

static Suite *badinput_suite(void)
{
    Suite *s = suite_create("badinput");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 300);
    tcase_add_loop_test(tc, matrix, 0, (int)ARRAY_SIZE(cases));
    tcase_add_test(tc, request_keeps_going);
    tcase_add_test(tc, doc_in_sync);
    suite_add_tcase(s, tc);
    return s;
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "--markdown")) {
        print_markdown();
        return EXIT_SUCCESS;
    }
    SRunner *sr = srunner_create(badinput_suite());
    srunner_run_all(sr, CK_NORMAL);
    const int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
