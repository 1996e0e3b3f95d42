/* Redaction: the privacy masks of a request (its exclude zones) blacked out or pixelated in
 * decoded frames, so that exported clips and thumbnails never show what the masks hide. */
#ifndef VMO_REDACT_H
#define VMO_REDACT_H

#include <stdint.h>

#include "zones.h"

struct AVFrame;

enum { VMO_REDACT_NONE = 0, VMO_REDACT_BLACK = 1, VMO_REDACT_PIXELATE = 2 };

/* Whether `zones` has a privacy mask (an exclude zone): without one there is nothing to
 * redact, and nothing needs re-encoding for it. */
int vmo_redact_has_masks(const vmo_zone_set *zones);
/* Union of the exclude zones of `zones` rasterized at width x height (1 = masked), or NULL
 * when there is none (*status VMO_OK) or on allocation failure (*status set). */
uint8_t *vmo_redact_mask(const vmo_zone_set *zones, int width, int height, int *status);
/* Blanks (black) or pixelates the masked pixels of a frame in place. The frame must be
 * writable, 8-bit planar YUV (any subsampling, full or limited range) or packed RGB24. */
int vmo_redact_frame(struct AVFrame *frame, const uint8_t *mask, int redact);

#endif
