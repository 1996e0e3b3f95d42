/* Frame preparation: any decoded picture -> an 8-bit luma analysis plane of a fixed width
 * (the height follows the aspect ratio). The 8-bit luma path uses libyuv's box filter and
 * needs no FFmpeg (push API); prepare_av.c handles every FFmpeg pixel format. */
#ifndef VMO_PREPARE_H
#define VMO_PREPARE_H

#include <stdint.h>

#include "internal.h"

typedef struct vmo_plane {
    uint8_t *data;
    int width;
    int height;
    int stride;
} vmo_plane;

/* Analysis size for a source of src_w x src_h and a requested width: width =
 * min(target, src_w) (never upscales), height = max(1, round(width * src_h / src_w)). */
void vmo_analysis_size(int src_w, int src_h, int target_w, int *w, int *h);

/* Allocates a plane (stride rounded up to 64, rows padded so SIMD may over-read 64 bytes). */
int vmo_plane_alloc(vmo_plane *p, int width, int height);
void vmo_plane_free(vmo_plane *p);

/* Box-filter downscale (or copy when the sizes match) of an 8-bit plane into dst, whose
 * width and height must come from vmo_analysis_size for this source. */
int vmo_prepare_luma8(const uint8_t *src, int stride, int w, int h, vmo_plane *dst);

/* FFmpeg frames of any pixel format. Holds conversion state (swscale, scratch planes). */
struct AVFrame;
typedef struct vmo_preparer vmo_preparer;
int vmo_preparer_create(vmo_preparer **out);
void vmo_preparer_destroy(vmo_preparer **p);
/* dst must be sized by vmo_analysis_size(frame->width, frame->height, ...). Errors:
 * VMO_ERR_UNSUPPORTED (no luma can be derived), VMO_ERR_NO_MEMORY. */
int vmo_preparer_run(vmo_preparer *p, const struct AVFrame *frame, vmo_plane *dst,
                     vmo_errbuf *err);

#endif
