/* Analysis planes: sizing, allocation, and the 8-bit luma downscale. libyuv only, no FFmpeg:
 * this file also serves the push API, where firmware hands us its own luma planes. */
#include <stdlib.h>
#include <string.h>

#include <libyuv/planar_functions.h>
#include <libyuv/scale.h>

#include "prepare.h"

/* Rows start on a cache line and SIMD kernels may read a whole vector past a row's end. */
#define PLANE_ALIGN    64
#define PLANE_OVERREAD 64

void vmo_analysis_size(int src_w, int src_h, int target_w, int *w, int *h)
{
    if (src_w <= 0 || src_h <= 0) {
        *w = 0;
        *h = 0;
        return;
    }
    const int64_t width = target_w > 0 ? VMO_MIN(target_w, src_w) : src_w;
    /* round(width * src_h / src_w) in integers: no double rounding surprises at .5 */
    const int64_t height = (2 * width * src_h + src_w) / (2 * (int64_t)src_w);
    *w = (int)width;
    *h = (int)VMO_MAX(height, 1);
}

int vmo_plane_alloc(vmo_plane *p, int width, int height)
{
    if (!p)
        return VMO_ERR_INVALID_ARG;
    memset(p, 0, sizeof(*p));
    if (width <= 0 || height <= 0)
        return VMO_ERR_INVALID_ARG;
    const int64_t stride = ((int64_t)width + PLANE_ALIGN - 1) / PLANE_ALIGN * PLANE_ALIGN;
    const int64_t bytes = stride * height + PLANE_OVERREAD;
    if (stride > INT32_MAX || bytes > (int64_t)1 << 31)
        return VMO_ERR_LIMIT;
    /* aligned_alloc wants a multiple of the alignment; bytes already is one. */
    p->data = aligned_alloc(PLANE_ALIGN, (size_t)bytes);
    if (!p->data)
        return VMO_ERR_NO_MEMORY;
    memset(p->data, 0, (size_t)bytes);
    p->width = width;
    p->height = height;
    p->stride = (int)stride;
    return VMO_OK;
}

void vmo_plane_free(vmo_plane *p)
{
    if (!p)
        return;
    free(p->data);
    memset(p, 0, sizeof(*p));
}

int vmo_prepare_luma8(const uint8_t *src, int stride, int w, int h, vmo_plane *dst)
{
    if (!src || !dst || !dst->data || w <= 0 || h <= 0 || stride == 0 ||
        (stride > 0 ? stride : -stride) < w)
        return VMO_ERR_INVALID_ARG;
    /* Never upscale: a bigger destination means the caller sized it for another source. */
    if (dst->width <= 0 || dst->height <= 0 || dst->width > w || dst->height > h ||
        dst->stride < dst->width)
        return VMO_ERR_INVALID_ARG;
    /* A negative stride (bottom-up image, src at its top row) is plain pointer arithmetic
     * for libyuv; only a negative height would mean "flip". */
    if (dst->width == w && dst->height == h)
        CopyPlane(src, stride, dst->data, dst->stride, w, h);
    else
        ScalePlane(src, stride, w, h, dst->data, dst->stride, dst->width, dst->height, kFilterBox);
    return VMO_OK;
}
