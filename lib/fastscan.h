/* Fast scan (the "fast" option; docs/fast-scan.md): finds the events of a clip from its
 * compressed stream and decodes only what that cannot settle.
 *
 *  1. Survey, one pass: every video packet's time, size and type (read anyway by the
 *     demuxer), and only the keyframes decoded (skip_frame = NONKEY, about a tenth of a
 *     full decode). Consecutive keyframes are compared per zone: a zone whose keyframes
 *     differ had motion somewhere in that GOP.
 *  2. Packets: a frame whose packet is several times the size of the idle ones changed.
 *     B-frames are the clean signal (an idle B-frame is a few bytes; codecs refine a still
 *     picture in P-frames, not in B-frames); where there are none, runs of P-frames. The
 *     packets are trusted only if, in every GOP whose keyframes differ, the frames found
 *     active hold most of the bytes over the idle sizes.
 *  3. Plan, per GOP and zone: where the keyframes and the packets agree, the packets give the
 *     event's frames (no decoding); a GOP in the middle of a run of changed GOPs is motion
 *     throughout; everything else (a run's first or last GOP without a packet signal, packet
 *     activity that no keyframe difference explains, lighting changes, the last GOP when the
 *     packets are not reliable) is decoded in full and scored like a full scan.
 *  4. One timeline in presentation order: decoded frames through the run's scorer, the other
 *     frames as estimated scores straight to the run's detector, so events, keyframes,
 *     padding, live callbacks and the joins across clips are the full scan's code.
 * When the stream cannot tell (a codec whose decoder cannot decode keyframes only, or has
 * nothing else; input that cannot seek; no timestamps, or timestamps that jump; a resolution
 * change; motion nearly everywhere), the clip is scanned in full instead, from a decoder
 * opened again, and the log says why. */
#ifndef VMO_FASTSCAN_H
#define VMO_FASTSCAN_H

#include "analyzer.h"
#include "decode.h"
#include "prepare.h"

/* vmo_fastscan_run() could not use the stream's signals: the decoder is as freshly opened
 * (vmo_decoder_rewind), and the run is untouched. */
#define VMO_FASTSCAN_FALLBACK 1

/* Scans the clip of `dec` into `run` (whose scorer and detector exist) the fast way; the
 * clip gets VMO_CLIP_FAST. Returns VMO_OK, an error as the full frame loop would, or
 * VMO_FASTSCAN_FALLBACK. */
int vmo_fastscan_run(vmo_run *run, vmo_decoder *dec, vmo_preparer *prep);

#endif
