/* Redaction (redact.h): a mask rasterized from the exclude zones, then applied plane by plane
 * in the frame's own format (the encoder's YUV, or the thumbnail's RGB24), right before the
 * frame is encoded: nothing redacted is ever converted again. */
#include <stdlib.h>

#include <libavutil/frame.h>
#include <libavutil/pixdesc.h>

#include "redact.h"

int vmo_redact_has_masks(const vmo_zone_set *zones)
{
    for (int z = 0; z < zones->count; z++)
        if (zones->zones[z].kind == VMO_ZONE_EXCLUDE)
            return 1;
    return 0;
}

uint8_t *vmo_redact_mask(const vmo_zone_set *zones, int width, int height, int *status)
{
    *status = VMO_OK;
    uint8_t *mask = NULL, *one = NULL;
    for (int z = 0; z < zones->count; z++) {
        const vmo_zone *zn = &zones->zones[z];
        if (zn->kind != VMO_ZONE_EXCLUDE)
            continue;
        if (!mask) {
            mask = calloc((size_t)width * (size_t)height, 1);
            one = malloc((size_t)width * (size_t)height);
            if (!mask || !one) {
                free(mask);
                free(one);
                *status = VMO_ERR_NO_MEMORY;
                return NULL;
            }
        }
        vmo_polygon_rasterize(zn->xy, zn->npoints, width, height, one);
        for (size_t i = 0; i < (size_t)width * (size_t)height; i++)
            mask[i] |= one[i];
    }
    free(one);
    return mask;
}

/* Mask of one plane: a plane sample is masked when any luma pixel it covers is, so chroma
 * never leaks around the edges of a mask. */
static uint8_t *plane_mask(const uint8_t *mask, int w, int h, int sx, int sy, int pw, int ph)
{
    uint8_t *pm = calloc((size_t)pw * (size_t)ph, 1);
    if (!pm)
        return NULL;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            if (mask[(size_t)y * w + x])
                pm[(size_t)(y >> sy) * pw + (x >> sx)] = 1;
    return pm;
}

typedef struct redact_plane_args {
    uint8_t *data;
    int linesize, width, height;
    int step; /* bytes per pixel (3 for RGB24, else 1) */
    const uint8_t *mask;
    int block;    /* pixelation block in this plane's samples; 0 = fill */
    uint8_t fill; /* black level of this plane */
} redact_plane_args;

static void fill_block(const redact_plane_args *a, int x0, int y0, int x1, int y1)
{
    for (int c = 0; c < a->step; c++) {
        uint64_t sum = 0, n = 0;
        for (int y = y0; y < y1; y++)
            for (int x = x0; x < x1; x++)
                if (a->mask[(size_t)y * a->width + x]) {
                    sum += a->data[(size_t)y * a->linesize + (size_t)x * a->step + c];
                    n++;
                }
        if (!n)
            return;
        uint8_t v = a->block ? (uint8_t)((sum + n / 2) / n) : a->fill;
        for (int y = y0; y < y1; y++)
            for (int x = x0; x < x1; x++)
                if (a->mask[(size_t)y * a->width + x])
                    a->data[(size_t)y * a->linesize + (size_t)x * a->step + c] = v;
    }
}

static void redact_plane(const redact_plane_args *a)
{
    /* Filling is pixelation with blocks of the whole plane and a constant value. */
    int bw = a->block ? a->block : a->width, bh = a->block ? a->block : a->height;
    for (int y = 0; y < a->height; y += bh)
        for (int x = 0; x < a->width; x += bw)
            fill_block(a, x, y, VMO_MIN(x + bw, a->width), VMO_MIN(y + bh, a->height));
}

/* Black of plane p: RGB 0, chroma 128, luma 16 in limited range and 0 in full range. */
static uint8_t black_level(int p, int rgb, int full)
{
    if (rgb)
        return 0;
    if (p)
        return 128;
    return full ? 0 : 16;
}

int vmo_redact_frame(AVFrame *frame, const uint8_t *mask, int redact)
{
    if (!mask || redact == VMO_REDACT_NONE)
        return VMO_OK;
    const AVPixFmtDescriptor *d = av_pix_fmt_desc_get(frame->format);
    if (!d)
        return VMO_ERR_UNSUPPORTED;
    int rgb = frame->format == AV_PIX_FMT_RGB24;
    if (!rgb && ((d->flags & (AV_PIX_FMT_FLAG_RGB | AV_PIX_FMT_FLAG_PAL)) ||
                 d->comp[0].depth != 8 || !(d->flags & AV_PIX_FMT_FLAG_PLANAR)))
        return VMO_ERR_UNSUPPORTED;
    int full = frame->color_range == AVCOL_RANGE_JPEG || frame->format == AV_PIX_FMT_YUVJ420P ||
               frame->format == AV_PIX_FMT_YUVJ422P || frame->format == AV_PIX_FMT_YUVJ444P;
    /* Pixelation blocks of about 1/32 of the width, at least 8 pixels: coarse enough that
     * faces and plates cannot be read. */
    int block = redact == VMO_REDACT_PIXELATE ? VMO_MAX(8, (frame->width + 31) / 32) : 0;
    int planes = rgb ? 1 : VMO_MIN(d->nb_components, 3);
    for (int p = 0; p < planes; p++) {
        int sx = p ? d->log2_chroma_w : 0, sy = p ? d->log2_chroma_h : 0;
        int pw = AV_CEIL_RSHIFT(frame->width, sx), ph = AV_CEIL_RSHIFT(frame->height, sy);
        uint8_t *pm = p ? plane_mask(mask, frame->width, frame->height, sx, sy, pw, ph) : NULL;
        if (p && !pm)
            return VMO_ERR_NO_MEMORY;
        redact_plane_args a = { .data = frame->data[p],
                                .linesize = frame->linesize[p],
                                .width = pw,
                                .height = ph,
                                .step = rgb ? 3 : 1,
                                .mask = p ? pm : mask,
                                .block = block ? VMO_MAX(1, block >> sx) : 0,
                                .fill = black_level(p, rgb, full) };
        redact_plane(&a);
        free(pm);
    }
    return VMO_OK;
}
