/* A decode thread that feeds frames to the analyzer through a small queue, so that frame
 * preparation and scoring (on the caller's thread) run while the next frames decode: on two
 * cores a scan then costs about what decoding alone does. Frames are passed by reference
 * (av_frame_ref): no picture is copied. Callbacks stay on the caller's thread. */
#ifndef VMO_FEEDER_H
#define VMO_FEEDER_H

#include "decode.h"

typedef struct vmo_feeder vmo_feeder;

/* Starts decoding `dec` on a thread of its own; the feeder owns the decoder's use until
 * vmo_feeder_stop(). depth: frames decoded ahead (>= 1). */
int vmo_feeder_start(vmo_feeder **out, vmo_decoder *dec, int depth, vmo_errbuf *err);
/* Same contract as vmo_decoder_next(): 1 with a frame (valid until the next call), 0 at the
 * end, < 0 on a fatal error (message in err). */
int vmo_feeder_next(vmo_feeder *f, vmo_decoded_frame *out, vmo_errbuf *err);
/* Stops the thread (at once if it is still decoding), frees queued frames, joins. The
 * decoder can be used again afterwards (truncation, error counts). */
void vmo_feeder_stop(vmo_feeder **f);

#endif
