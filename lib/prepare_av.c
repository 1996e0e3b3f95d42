/* Any decoded AVFrame -> the 8-bit luma analysis plane. Three paths, cheapest first:
 *  - 8-bit planar or semi-planar YUV and gray: the luma plane as it is (zero copy) into
 *    vmo_prepare_luma8(). This is what cameras send, so a scan costs little beyond decoding.
 *  - 9..16-bit luma (yuv420p10le, p010le, gray12le...): box downscale in 16 bits, then
 *    scale the small plane to 8 bits, honouring LSB (yuv420p10) and MSB (p010) alignment.
 *  - everything else (RGB, packed YUV, palette, big-endian): swscale to full-size GRAY8,
 *    then the same box filter. Not fast, but correct and consistent with the other paths.
 * No range conversion: full-range (yuvj) and limited-range luma are differenced alike. */
#include <stdlib.h>
#include <string.h>

#include <libavutil/frame.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>
#include <libyuv/planar_functions.h>
#include <libyuv/scale.h>

#include "prepare.h"

struct vmo_preparer {
    struct SwsContext *sws;
    uint16_t *scratch16; /* downscaled high-bit-depth luma */
    size_t scratch16_size;
    vmo_plane gray;   /* full-size luma of the generic path */
    vmo_plane chroma; /* and its chroma when it goes through YUV420P */
};

int vmo_preparer_create(vmo_preparer **out)
{
    if (!out)
        return VMO_ERR_INVALID_ARG;
    *out = calloc(1, sizeof(**out));
    return *out ? VMO_OK : VMO_ERR_NO_MEMORY;
}

void vmo_preparer_destroy(vmo_preparer **p)
{
    if (!p || !*p)
        return;
    sws_freeContext((*p)->sws);
    free((*p)->scratch16);
    vmo_plane_free(&(*p)->gray);
    vmo_plane_free(&(*p)->chroma);
    free(*p);
    *p = NULL;
}

enum { PATH_LUMA8, PATH_LUMA16, PATH_SWSCALE, PATH_NONE };

/* Which path serves a pixel format. Decided from the descriptor, so formats FFmpeg adds later
 * fall into the right one. */
static int choose_path(const AVPixFmtDescriptor *desc)
{
    if (!desc || (desc->flags & AV_PIX_FMT_FLAG_HWACCEL))
        return PATH_NONE;
    const AVComponentDescriptor *y = &desc->comp[0];
    const uint64_t generic = AV_PIX_FMT_FLAG_RGB | AV_PIX_FMT_FLAG_PAL | AV_PIX_FMT_FLAG_BE |
                             AV_PIX_FMT_FLAG_BITSTREAM | AV_PIX_FMT_FLAG_FLOAT |
                             AV_PIX_FMT_FLAG_BAYER;
    if ((desc->flags & generic) || desc->nb_components < 1 || y->plane != 0 || y->offset != 0)
        return PATH_SWSCALE;
    if (y->step == 1 && y->depth == 8 && y->shift == 0)
        return PATH_LUMA8;
    if (y->step == 2 && y->depth > 8 && y->depth + y->shift <= 16)
        return PATH_LUMA16;
    return PATH_SWSCALE;
}

static int check_dst(const AVFrame *frame, const vmo_plane *dst, vmo_errbuf *err)
{
    if (!dst || !dst->data || dst->width <= 0 || dst->height <= 0 || dst->width > frame->width ||
        dst->height > frame->height || dst->stride < dst->width)
        return vmo_err_set(err, VMO_ERR_INVALID_ARG,
                           "analysis plane %dx%d does not fit a %dx%d frame", dst ? dst->width : 0,
                           dst ? dst->height : 0, frame->width, frame->height);
    return VMO_OK;
}

static int grow_scratch16(vmo_preparer *p, size_t count)
{
    if (count <= p->scratch16_size)
        return VMO_OK;
    uint16_t *buf = malloc(count * sizeof(*buf));
    if (!buf)
        return VMO_ERR_NO_MEMORY;
    free(p->scratch16);
    p->scratch16 = buf;
    p->scratch16_size = count;
    return VMO_OK;
}

/* 16-bit luma: downscale first (fewer pixels to convert), then v >> (shift + depth - 8)
 * as libyuv's multiply-high: scale = 65536 >> bits (16384 for 10-bit LSB, 256 for P010). */
static int run_luma16(vmo_preparer *p, const AVFrame *frame, const AVComponentDescriptor *y,
                      vmo_plane *dst, vmo_errbuf *err)
{
    const int bits = y->shift + y->depth - 8;
    const int scale = 65536 >> bits;
    const uint16_t *src = (const uint16_t *)frame->data[0];
    const int src_stride = frame->linesize[0] / 2;
    if (dst->width == frame->width && dst->height == frame->height) {
        Convert16To8Plane(src, src_stride, dst->data, dst->stride, scale, dst->width, dst->height);
        return VMO_OK;
    }
    if (grow_scratch16(p, (size_t)dst->width * dst->height) < 0)
        return vmo_err_set(err, VMO_ERR_NO_MEMORY, "out of memory");
    ScalePlane_16(src, src_stride, frame->width, frame->height, p->scratch16, dst->width,
                  dst->width, dst->height, kFilterBox);
    Convert16To8Plane(p->scratch16, dst->width, dst->data, dst->stride, scale, dst->width,
                      dst->height);
    return VMO_OK;
}

/* swscale's GRAY8 is full range: from YUV it would stretch limited-range luma, which the
 * other paths copy as it is. So YUV goes to YUV420P (same range, luma untouched), and only
 * RGB, palette and gray sources go to GRAY8 (RGB: 0.299 R + 0.587 G + 0.114 B). */
static enum AVPixelFormat generic_target(const AVPixFmtDescriptor *desc)
{
    if ((desc->flags & (AV_PIX_FMT_FLAG_RGB | AV_PIX_FMT_FLAG_PAL)) || desc->nb_components <= 2)
        return AV_PIX_FMT_GRAY8;
    return AV_PIX_FMT_YUV420P;
}

/* (Re)allocates a scratch plane when the frame size changed. */
static int ensure_plane(vmo_plane *pl, int w, int h)
{
    if (pl->data && pl->width == w && pl->height == h)
        return VMO_OK;
    vmo_plane_free(pl);
    return vmo_plane_alloc(pl, w, h);
}

/* Generic path: swscale makes full-size luma, then the same libyuv box filter as every other
 * path. Downscaling in swscale (SWS_AREA) would save a pass, but its filter differs from
 * libyuv's box by up to 8 levels on non-integer ratios, and a picture should give the same
 * analysis plane whatever its pixel format. These formats are rare (RGB codecs, cinepak,
 * PNG, packed or big-endian YUV), so the extra pass is cheap. */
static int run_swscale(vmo_preparer *p, const AVFrame *frame, const AVPixFmtDescriptor *desc,
                       vmo_plane *dst, vmo_errbuf *err)
{
    const int w = frame->width, h = frame->height;
    const enum AVPixelFormat target = generic_target(desc);
    const int direct = dst->width == w && dst->height == h;
    int ret = direct ? VMO_OK : ensure_plane(&p->gray, w, h);
    if (ret == VMO_OK && target != AV_PIX_FMT_GRAY8) /* U rows, then V rows */
        ret = ensure_plane(&p->chroma, (w + 1) / 2, 2 * ((h + 1) / 2));
    if (ret < 0)
        return vmo_err_set(err, ret, "cannot allocate scratch planes for %dx%d", w, h);
    vmo_plane *out = direct ? dst : &p->gray;
    p->sws = sws_getCachedContext(p->sws, w, h, frame->format, w, h, target,
                                  SWS_POINT | SWS_ACCURATE_RND, NULL, NULL, NULL);
    if (!p->sws)
        return vmo_err_set(err, VMO_ERR_UNSUPPORTED, "no luma conversion from %s", desc->name);
    const int cs = p->chroma.stride;
    uint8_t *const v = p->chroma.data ? p->chroma.data + (size_t)cs * ((h + 1) / 2) : NULL;
    uint8_t *const planes[4] = { out->data, p->chroma.data, v, NULL };
    const int strides[4] = { out->stride, cs, cs, 0 };
    const int rows = sws_scale(p->sws, (const uint8_t *const *)frame->data, frame->linesize, 0, h,
                               planes, strides);
    if (rows != h)
        return vmo_err_set(err, VMO_ERR_UNSUPPORTED, "luma conversion from %s failed", desc->name);
    if (direct)
        return VMO_OK;
    ret = vmo_prepare_luma8(out->data, out->stride, w, h, dst);
    return ret < 0 ? vmo_err_set(err, ret, "luma downscale failed") : VMO_OK;
}

int vmo_preparer_run(vmo_preparer *p, const struct AVFrame *frame, vmo_plane *dst, vmo_errbuf *err)
{
    if (!p || !frame || !frame->data[0] || frame->width <= 0 || frame->height <= 0)
        return vmo_err_set(err, VMO_ERR_INVALID_ARG, "no preparer or frame");
    int ret = check_dst(frame, dst, err);
    if (ret < 0)
        return ret;
    const AVPixFmtDescriptor *desc = av_pix_fmt_desc_get(frame->format);
    switch (choose_path(desc)) {
    case PATH_LUMA8:
        ret =
            vmo_prepare_luma8(frame->data[0], frame->linesize[0], frame->width, frame->height, dst);
        return ret < 0 ? vmo_err_set(err, ret, "luma downscale failed") : VMO_OK;
    case PATH_LUMA16:
        return run_luma16(p, frame, &desc->comp[0], dst, err);
    case PATH_SWSCALE:
        return run_swscale(p, frame, desc, dst, err);
    default:
        return vmo_err_set(err, VMO_ERR_UNSUPPORTED, "pixel format %s has no usable luma",
                           desc ? desc->name : "unknown");
    }
}
