/* Frame preparation: analysis sizes, planes, the libyuv luma path and every pixel-format path
 * of vmo_preparer_run(), checked against the 8-bit luma path or a box average computed here. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <libavutil/frame.h>
#include <libavutil/pixdesc.h>

#include "prepare.h"
#include "tutil.h"

/* ---- helpers ---------------------------------------------------------------------------- */

/* A smooth picture with some texture: gradients plus a soft pattern, values 16..235. */
static uint8_t *make_luma(int w, int h, uint32_t seed)
{
    uint8_t *y = malloc((size_t)w * h);
    ck_assert_ptr_nonnull(y);
    for (int r = 0; r < h; r++)
        for (int c = 0; c < w; c++) {
            const double v = 16 + 150.0 * c / (w > 1 ? w - 1 : 1) + 40.0 * r / (h > 1 ? h - 1 : 1) +
                             20 * sin(c * 0.21 + r * 0.13);
            y[(size_t)r * w + c] = (uint8_t)VMO_CLAMP((int)lround(v), 0, 255);
        }
    (void)seed;
    return y;
}

static AVFrame *alloc_frame(enum AVPixelFormat fmt, int w, int h)
{
    AVFrame *f = av_frame_alloc();
    ck_assert_ptr_nonnull(f);
    f->format = fmt;
    f->width = w;
    f->height = h;
    ck_assert_int_eq(av_frame_get_buffer(f, 0), 0);
    /* Defined padding too: swscale's SIMD reads past the row ends (harmlessly), and valgrind
     * would flag it. */
    for (int i = 0; i < AV_NUM_DATA_POINTERS && f->buf[i]; i++)
        memset(f->buf[i]->data, 0, f->buf[i]->size);
    /* Chroma and alpha planes: neutral, they must not matter. */
    const AVPixFmtDescriptor *d = av_pix_fmt_desc_get(fmt);
    for (int p = 1; p < 4 && f->data[p]; p++) {
        if (d->flags & AV_PIX_FMT_FLAG_PAL)
            break;
        const int rows = p == 3 ? h : -((-h) >> d->log2_chroma_h);
        memset(f->data[p], 0x80, (size_t)f->linesize[p] * rows);
    }
    return f;
}

/* The same picture in any of the tested formats. Gray RGB so that luma is the gray level;
 * high bit depth gets random low bits, which rounding must absorb. */
static AVFrame *frame_from_luma(enum AVPixelFormat fmt, const uint8_t *y, int w, int h,
                                uint32_t *rng)
{
    AVFrame *f = alloc_frame(fmt, w, h);
    for (int r = 0; r < h; r++) {
        const uint8_t *s = y + (size_t)r * w;
        uint8_t *row = f->data[0] + (ptrdiff_t)r * f->linesize[0];
        uint16_t *row16 = (uint16_t *)row;
        for (int c = 0; c < w; c++) {
            switch (fmt) {
            case AV_PIX_FMT_YUV420P10LE:
                row16[c] = (uint16_t)(s[c] * 4 + (tu_rand(rng) & 3));
                break;
            case AV_PIX_FMT_YUV420P10BE: {
                const unsigned v = s[c] * 4u + (tu_rand(rng) & 3);
                row[2 * c] = (uint8_t)(v >> 8);
                row[2 * c + 1] = (uint8_t)v;
                break;
            }
            case AV_PIX_FMT_YUV420P12LE:
                row16[c] = (uint16_t)(s[c] * 16 + (tu_rand(rng) & 15));
                break;
            case AV_PIX_FMT_GRAY16LE:
                row16[c] = (uint16_t)(s[c] * 256 + (tu_rand(rng) & 255));
                break;
            case AV_PIX_FMT_GRAY16BE:
                row[2 * c] = s[c];
                row[2 * c + 1] = (uint8_t)tu_rand(rng);
                break;
            case AV_PIX_FMT_UYVY422:
                row[2 * c] = 128;
                row[2 * c + 1] = s[c];
                break;
            case AV_PIX_FMT_YUYV422:
                row[2 * c] = s[c];
                row[2 * c + 1] = 128;
                break;
            case AV_PIX_FMT_P010LE:
                row16[c] = (uint16_t)((s[c] * 4 + (tu_rand(rng) & 3)) << 6);
                break;
            case AV_PIX_FMT_RGB24:
                memset(row + 3 * c, s[c], 3);
                break;
            case AV_PIX_FMT_BGRA:
                memset(row + 4 * c, s[c], 3);
                row[4 * c + 3] = 255;
                break;
            default: /* 8-bit luma plane, and pal8 indices */
                row[c] = s[c];
            }
        }
    }
    if (fmt == AV_PIX_FMT_PAL8) {
        uint32_t *pal = (uint32_t *)f->data[1];
        for (uint32_t i = 0; i < 256; i++)
            pal[i] = 0xff000000u | i << 16 | i << 8 | i;
    }
    return f;
}

static int max_diff(const vmo_plane *a, const vmo_plane *b)
{
    ck_assert_int_eq(a->width, b->width);
    ck_assert_int_eq(a->height, b->height);
    int worst = 0;
    for (int r = 0; r < a->height; r++)
        for (int c = 0; c < a->width; c++) {
            const int d = abs(a->data[r * a->stride + c] - b->data[r * b->stride + c]);
            worst = VMO_MAX(worst, d);
        }
    return worst;
}

/* ---- sizes and planes ------------------------------------------------------------------- */

START_TEST(analysis_size)
{
    static const struct {
        int sw, sh, target, w, h;
    } cases[] = {
        { 1920, 1080, 320, 320, 180 }, { 640, 480, 320, 320, 240 }, { 321, 241, 160, 160, 120 },
        { 100, 50, 320, 100, 50 },     { 1, 1, 320, 1, 1 },         { 1000, 1, 10, 10, 1 },
        { 3, 1000, 2, 2, 667 },        { 640, 480, 0, 640, 480 },   { 2, 3, 1, 1, 2 },
    };
    for (size_t i = 0; i < VMO_ARRAY_SIZE(cases); i++) {
        int w, h;
        vmo_analysis_size(cases[i].sw, cases[i].sh, cases[i].target, &w, &h);
        ck_assert_msg(w == cases[i].w && h == cases[i].h, "%dx%d -> %d: got %dx%d, want %dx%d",
                      cases[i].sw, cases[i].sh, cases[i].target, w, h, cases[i].w, cases[i].h);
    }
}
END_TEST

START_TEST(plane_alloc)
{
    static const int widths[] = { 1, 63, 64, 65, 160, 321 };
    for (size_t i = 0; i < VMO_ARRAY_SIZE(widths); i++) {
        vmo_plane p;
        ck_assert_int_eq(vmo_plane_alloc(&p, widths[i], 7), VMO_OK);
        ck_assert_int_eq(p.stride % 64, 0);
        ck_assert_int_ge(p.stride, widths[i]);
        ck_assert_int_eq((int)((uintptr_t)p.data % 64), 0);
        /* zeroed, and the last row may be over-read by 64 bytes (valgrind checks the size) */
        const uint8_t *last = p.data + 6 * p.stride;
        for (int c = 0; c < widths[i] + 64; c++)
            ck_assert_int_eq(last[c], 0);
        vmo_plane_free(&p);
        ck_assert_ptr_null(p.data);
    }
    vmo_plane p;
    ck_assert_int_eq(vmo_plane_alloc(&p, 0, 5), VMO_ERR_INVALID_ARG);
    ck_assert_int_eq(vmo_plane_alloc(&p, 5, -1), VMO_ERR_INVALID_ARG);
    vmo_plane_free(&p);
    vmo_plane_free(NULL);
}
END_TEST

/* Exact 2x2 box average (libyuv rounds (a+b+c+d+2)/4) on an even size. */
START_TEST(luma8_box_average)
{
    const int w = 64, h = 48;
    uint8_t *y = make_luma(w, h, 1);
    vmo_plane dst;
    ck_assert_int_eq(vmo_plane_alloc(&dst, w / 2, h / 2), VMO_OK);
    ck_assert_int_eq(vmo_prepare_luma8(y, w, w, h, &dst), VMO_OK);
    for (int r = 0; r < h / 2; r++)
        for (int c = 0; c < w / 2; c++) {
            const uint8_t *s = y + (2 * r) * w + 2 * c;
            const int want = (s[0] + s[1] + s[w] + s[w + 1] + 2) / 4;
            ck_assert_int_le(abs(dst.data[r * dst.stride + c] - want), 1);
        }
    vmo_plane_free(&dst);
    free(y);
}
END_TEST

START_TEST(luma8_copy_and_tiny)
{
    const uint8_t one = 77;
    vmo_plane dst;
    ck_assert_int_eq(vmo_plane_alloc(&dst, 1, 1), VMO_OK);
    ck_assert_int_eq(vmo_prepare_luma8(&one, 1, 1, 1, &dst), VMO_OK);
    ck_assert_int_eq(dst.data[0], 77);
    vmo_plane_free(&dst);

    uint8_t *y = make_luma(33, 9, 2);
    ck_assert_int_eq(vmo_plane_alloc(&dst, 33, 9), VMO_OK);
    ck_assert_int_eq(vmo_prepare_luma8(y, 33, 33, 9, &dst), VMO_OK);
    for (int r = 0; r < 9; r++)
        ck_assert_mem_eq(dst.data + r * dst.stride, y + r * 33, 33);
    /* never upscale, reject nonsense */
    ck_assert_int_eq(vmo_prepare_luma8(y, 33, 20, 9, &dst), VMO_ERR_INVALID_ARG);
    ck_assert_int_eq(vmo_prepare_luma8(y, 10, 33, 9, &dst), VMO_ERR_INVALID_ARG);
    ck_assert_int_eq(vmo_prepare_luma8(NULL, 33, 33, 9, &dst), VMO_ERR_INVALID_ARG);
    vmo_plane_free(&dst);
    free(y);
}
END_TEST

/* A bottom-up image (pointer at the top row, negative stride) gives the same plane. */
START_TEST(luma8_negative_stride)
{
    static const int sizes[][4] = { { 321, 241, 160, 0 }, { 64, 48, 64, 0 }, { 640, 480, 320, 0 } };
    for (size_t i = 0; i < VMO_ARRAY_SIZE(sizes); i++) {
        const int w = sizes[i][0], h = sizes[i][1];
        uint8_t *y = make_luma(w, h, 3);
        const int stride = w + 7;
        uint8_t *flipped = malloc((size_t)stride * h);
        for (int r = 0; r < h; r++)
            memcpy(flipped + (size_t)(h - 1 - r) * stride, y + (size_t)r * w, (size_t)w);
        int dw, dh;
        vmo_analysis_size(w, h, sizes[i][2], &dw, &dh);
        vmo_plane a, b;
        ck_assert_int_eq(vmo_plane_alloc(&a, dw, dh), VMO_OK);
        ck_assert_int_eq(vmo_plane_alloc(&b, dw, dh), VMO_OK);
        ck_assert_int_eq(vmo_prepare_luma8(y, w, w, h, &a), VMO_OK);
        ck_assert_int_eq(vmo_prepare_luma8(flipped + (size_t)(h - 1) * stride, -stride, w, h, &b),
                         VMO_OK);
        ck_assert_int_eq(max_diff(&a, &b), 0);
        vmo_plane_free(&a);
        vmo_plane_free(&b);
        free(flipped);
        free(y);
    }
}
END_TEST

/* ---- pixel formats ---------------------------------------------------------------------- */

static const struct {
    enum AVPixelFormat fmt;
    int tolerance; /* against the 8-bit luma path of the same picture */
} formats[] = {
    { AV_PIX_FMT_YUV420P, 0 },
    { AV_PIX_FMT_YUVJ420P, 0 },
    { AV_PIX_FMT_YUV422P, 0 },
    { AV_PIX_FMT_YUV444P, 0 },
    { AV_PIX_FMT_YUV411P, 0 },
    { AV_PIX_FMT_YUV440P, 0 },
    { AV_PIX_FMT_NV12, 0 },
    { AV_PIX_FMT_NV21, 0 },
    { AV_PIX_FMT_GRAY8, 0 },
    { AV_PIX_FMT_YUVA420P, 0 },
    { AV_PIX_FMT_YUV420P10LE, 1 },
    { AV_PIX_FMT_P010LE, 1 },
    /* swscale's RGB -> gray rounding: gray RGB gives its level back within 1. */
    { AV_PIX_FMT_RGB24, 1 },
    { AV_PIX_FMT_BGRA, 1 },
    { AV_PIX_FMT_PAL8, 1 },
    { AV_PIX_FMT_YUYV422, 0 },
    { AV_PIX_FMT_GRAY16LE, 1 },
    { AV_PIX_FMT_YUV420P12LE, 1 },
    { AV_PIX_FMT_YUV420P10BE, 1 },
    { AV_PIX_FMT_GRAY16BE, 1 },
    { AV_PIX_FMT_UYVY422, 0 },
};

static const int sizes[][3] = {
    { 64, 48, 32 }, { 321, 241, 160 }, { 320, 240, 320 }, { 1, 1, 320 }, { 97, 3, 40 },
};

START_TEST(pixel_formats)
{
    const enum AVPixelFormat fmt = formats[_i].fmt;
    uint32_t rng = tu_seed();
    vmo_preparer *prep;
    ck_assert_int_eq(vmo_preparer_create(&prep), VMO_OK);
    /* Several sizes through one preparer: its cached state must follow size changes. */
    for (size_t s = 0; s < VMO_ARRAY_SIZE(sizes); s++) {
        const int w = sizes[s][0], h = sizes[s][1];
        uint8_t *y = make_luma(w, h, (uint32_t)s);
        AVFrame *f = frame_from_luma(fmt, y, w, h, &rng);
        int dw, dh;
        vmo_analysis_size(w, h, sizes[s][2], &dw, &dh);
        vmo_plane want, got;
        ck_assert_int_eq(vmo_plane_alloc(&want, dw, dh), VMO_OK);
        ck_assert_int_eq(vmo_plane_alloc(&got, dw, dh), VMO_OK);
        ck_assert_int_eq(vmo_prepare_luma8(y, w, w, h, &want), VMO_OK);
        vmo_errbuf err = { "" };
        ck_assert_msg(vmo_preparer_run(prep, f, &got, &err) == VMO_OK, "%s: %s",
                      av_get_pix_fmt_name(fmt), err.msg);
        const int d = max_diff(&want, &got);
        ck_assert_msg(d <= formats[_i].tolerance, "%s %dx%d -> %dx%d: max diff %d > %d",
                      av_get_pix_fmt_name(fmt), w, h, dw, dh, d, formats[_i].tolerance);
        vmo_plane_free(&want);
        vmo_plane_free(&got);
        av_frame_free(&f);
        free(y);
    }
    vmo_preparer_destroy(&prep);
    ck_assert_ptr_null(prep);
}
END_TEST

/* Colours: RGB must become a sensible luma (BT.601 weights), not e.g. the green channel. */
START_TEST(rgb_is_luma)
{
    static const struct {
        uint8_t r, g, b;
        int luma;
    } colours[] = { { 255, 0, 0, 76 },
                    { 0, 255, 0, 150 },
                    { 0, 0, 255, 29 },
                    { 255, 255, 255, 255 },
                    { 0, 0, 0, 0 } };
    vmo_preparer *prep;
    ck_assert_int_eq(vmo_preparer_create(&prep), VMO_OK);
    for (size_t i = 0; i < VMO_ARRAY_SIZE(colours); i++) {
        AVFrame *f = alloc_frame(AV_PIX_FMT_RGB24, 40, 30);
        for (int r = 0; r < 30; r++)
            for (int c = 0; c < 40; c++) {
                uint8_t *px = f->data[0] + r * f->linesize[0] + 3 * c;
                px[0] = colours[i].r;
                px[1] = colours[i].g;
                px[2] = colours[i].b;
            }
        vmo_plane p;
        ck_assert_int_eq(vmo_plane_alloc(&p, 20, 15), VMO_OK);
        ck_assert_int_eq(vmo_preparer_run(prep, f, &p, NULL), VMO_OK);
        for (int r = 0; r < 15; r++)
            for (int c = 0; c < 20; c++)
                ck_assert_int_le(abs(p.data[r * p.stride + c] - colours[i].luma), 2);
        vmo_plane_free(&p);
        av_frame_free(&f);
    }
    vmo_preparer_destroy(&prep);
}
END_TEST

/* A bottom-up AVFrame (negative linesize) on the zero-copy and 16-bit paths. */
START_TEST(frame_negative_linesize)
{
    static const enum AVPixelFormat fmts[] = { AV_PIX_FMT_YUV420P, AV_PIX_FMT_YUV420P10LE };
    uint32_t rng = 5;
    vmo_preparer *prep;
    ck_assert_int_eq(vmo_preparer_create(&prep), VMO_OK);
    for (size_t i = 0; i < VMO_ARRAY_SIZE(fmts); i++) {
        const int w = 96, h = 64;
        uint8_t *y = make_luma(w, h, 9);
        uint8_t *flip = malloc((size_t)w * h);
        for (int r = 0; r < h; r++)
            memcpy(flip + (size_t)r * w, y + (size_t)(h - 1 - r) * w, (size_t)w);
        AVFrame *f = frame_from_luma(fmts[i], flip, w, h, &rng);
        /* view the stored picture bottom-up: it shows y again */
        f->data[0] += (ptrdiff_t)(h - 1) * f->linesize[0];
        f->linesize[0] = -f->linesize[0];
        vmo_plane want, got;
        ck_assert_int_eq(vmo_plane_alloc(&want, 48, 32), VMO_OK);
        ck_assert_int_eq(vmo_plane_alloc(&got, 48, 32), VMO_OK);
        ck_assert_int_eq(vmo_prepare_luma8(y, w, w, h, &want), VMO_OK);
        ck_assert_int_eq(vmo_preparer_run(prep, f, &got, NULL), VMO_OK);
        ck_assert_int_le(max_diff(&want, &got), fmts[i] == AV_PIX_FMT_YUV420P ? 0 : 1);
        f->linesize[0] = -f->linesize[0];
        f->data[0] -= (ptrdiff_t)(h - 1) * f->linesize[0];
        vmo_plane_free(&want);
        vmo_plane_free(&got);
        av_frame_free(&f);
        free(flip);
        free(y);
    }
    vmo_preparer_destroy(&prep);
}
END_TEST

START_TEST(preparer_errors)
{
    vmo_preparer *prep;
    ck_assert_int_eq(vmo_preparer_create(&prep), VMO_OK);
    AVFrame *f = alloc_frame(AV_PIX_FMT_YUV420P, 64, 48);
    vmo_plane big;
    ck_assert_int_eq(vmo_plane_alloc(&big, 128, 96), VMO_OK);
    vmo_errbuf err = { "" };
    ck_assert_int_eq(vmo_preparer_run(prep, f, &big, &err), VMO_ERR_INVALID_ARG);
    ck_assert(err.msg[0] != '\0');
    ck_assert_int_eq(vmo_preparer_run(prep, NULL, &big, &err), VMO_ERR_INVALID_ARG);
    vmo_plane_free(&big);
    av_frame_free(&f);
    vmo_preparer_destroy(&prep);
    vmo_preparer_destroy(&prep);
    vmo_preparer_destroy(NULL);
}
END_TEST

static Suite *prepare_suite(void)
{
    Suite *s = suite_create("prepare");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, analysis_size);
    tcase_add_test(tc, plane_alloc);
    tcase_add_test(tc, luma8_box_average);
    tcase_add_test(tc, luma8_copy_and_tiny);
    tcase_add_test(tc, luma8_negative_stride);
    tcase_add_loop_test(tc, pixel_formats, 0, (int)VMO_ARRAY_SIZE(formats));
    tcase_add_test(tc, rgb_is_luma);
    tcase_add_test(tc, frame_negative_linesize);
    tcase_add_test(tc, preparer_errors);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(prepare_suite());
    srunner_run_all(sr, CK_NORMAL);
    const int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
