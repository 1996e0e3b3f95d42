/* Decoding with FFmpeg: open a path or caller I/O, pick the video stream, decode frames with
 * frame threads, report timestamps in seconds from the clip's first frame, seek to the
 * keyframe before a time, and classify failures into vmo_status codes. */
#ifndef VMO_DECODE_H
#define VMO_DECODE_H

#include <stdint.h>

#include "internal.h"

struct AVFrame;
typedef struct vmo_decoder vmo_decoder;

/* Frames the decoder may drop before decoding (fast scan). */
enum { VMO_SKIP_NONE = 0, VMO_SKIP_NONREF = 1, VMO_SKIP_BIDIR = 2, VMO_SKIP_NONKEY = 3 };

typedef struct vmo_decoder_opts {
    int stream_index; /* -1: the best video stream (av_find_best_stream) */
    int threads;      /* decoder threads; 0 = one per core */
    int skip;         /* VMO_SKIP_* */
} vmo_decoder_opts;

typedef struct vmo_media_info {
    int stream_index;
    int width;             /* coded size announced by the stream (frames may differ) */
    int height;
    int rotation;          /* 0, 90, 180, 270 (display matrix), metadata only */
    double fps;            /* avg_frame_rate, else r_frame_rate, else 0 */
    double duration;       /* declared duration of the video stream (s), 0 if unknown */
    int64_t nb_frames;     /* declared frame count, 0 if unknown */
    double creation_time;  /* POSIX seconds of the creation_time tag, NaN if absent */
    const char *codec;     /* decoder name, static */
    int64_t size_bytes;    /* input size, -1 if unknown */
    int has_audio;
} vmo_media_info;

typedef struct vmo_decoded_frame {
    const struct AVFrame *frame; /* borrowed until the next call on the decoder */
    double t;                    /* seconds from the clip's first frame (stream origin) */
    int64_t index;               /* frame number in the clip (estimated after a seek) */
    int key;                     /* keyframe */
    int damaged;                 /* the decoder concealed errors in it (counted in errors) */
} vmo_decoded_frame;

/* Errors: VMO_ERR_NOT_FOUND, VMO_ERR_IO, VMO_ERR_EMPTY, VMO_ERR_NOT_MEDIA, VMO_ERR_CORRUPT,
 * VMO_ERR_NO_VIDEO, VMO_ERR_UNSUPPORTED, VMO_ERR_LIMIT, VMO_ERR_NO_MEMORY, with a message in
 * err; VMO_ERR_TRUNCATED when an MP4 is cut inside its header (no frame can be read);
 * VMO_ERR_INVALID_ARG for bad options or a stream index out of range. docs/bad-input.md has
 * the whole matrix. */
int vmo_decoder_open_file(vmo_decoder **out, const char *path, const vmo_decoder_opts *opts,
                          vmo_errbuf *err);
int vmo_decoder_open_io(vmo_decoder **out, const vmo_io *io, const vmo_decoder_opts *opts,
                        vmo_errbuf *err);
const vmo_media_info *vmo_decoder_info(const vmo_decoder *dec);

/* Reads only the container header of `path` (no decoder is opened): the stream's declared
 * duration, frame rate, size and creation_time, cheaply, for planning a request. The same
 * errors as vmo_decoder_open_file for inputs that cannot be opened. info->codec is the
 * codec's name, static. */
int vmo_media_probe(const char *path, int stream_index, vmo_media_info *info, vmo_errbuf *err);

/* 1: a frame is in *out. 0: end of stream (see truncated/errors; when truncated, err says
 * why). < 0: fatal error (e.g. VMO_ERR_DECODE when nothing at all decodes,
 * VMO_ERR_TRUNCATED when the data ends before the first frame, VMO_ERR_LIMIT for a frame
 * over the size limit, VMO_ERR_NO_MEMORY). Damaged packets are skipped and counted, not
 * fatal; a stream that keeps failing ends with VMO_ERR_DECODE. */
int vmo_decoder_next(vmo_decoder *dec, vmo_decoded_frame *out, vmo_errbuf *err);

/* Seeks so that the next frames start at the keyframe at or before `t` seconds. */
int vmo_decoder_seek(vmo_decoder *dec, double t, vmo_errbuf *err);

/* ---- compressed-domain access (fast scan) ---- */

/* One packet of the video stream as the demuxer delivers it (decode order). */
enum { VMO_PACKET_KEY = 1 << 0, VMO_PACKET_DISPOSABLE = 1 << 1, VMO_PACKET_CORRUPT = 1 << 2 };
typedef struct vmo_packet_info {
    double t;        /* pts in seconds from the clip's origin, on the frames' clock; NaN
                    when unknown (no pts, or the origin not known yet). Formats with
                    timestamp discontinuities (MPEG-TS): the correction of a jump starts
                    with its first decoded frame, after some of its packets were read */
    double duration; /* seconds, 0 if unknown */
    int64_t pos;     /* byte position in the input, -1 if unknown */
    int32_t size;    /* bytes */
    uint32_t flags;  /* VMO_PACKET_* */
} vmo_packet_info;
typedef void (*vmo_packet_fn)(void *user, const vmo_packet_info *pkt);

/* Calls fn for every packet of the video stream read from now on, before it reaches the
 * decoder (also those that skip_frame then discards, so the sizes of every frame are seen
 * while only keyframes are decoded). fn runs on the thread that decodes. NULL stops it. */
void vmo_decoder_set_packet_fn(vmo_decoder *dec, vmo_packet_fn fn, void *user);
/* VMO_SKIP_NONKEY without the in-loop deblocking filter: keyframes that are only compared
 * with each other, after downscaling and a blur (about 10% cheaper on H.264). */
enum { VMO_SKIP_NONKEY_ROUGH = 4 };
/* Changes which frames the decoder drops (VMO_SKIP_*, VMO_SKIP_NONKEY_ROUGH), for the
 * packets sent from now on: meant right after open or after vmo_decoder_seek(). */
int vmo_decoder_set_skip(vmo_decoder *dec, int skip);
/* 1 when the input can seek (a file, or caller I/O with a seek function), else 0. */
int vmo_decoder_can_seek(const vmo_decoder *dec);
/* Opens the input again from its start with the same options: afterwards the decoder is as
 * vmo_decoder_open_*() left it (counters, truncation evidence, skip level, no observer), at
 * the same address. Files by their path; caller I/O must seek. On failure the decoder is
 * unchanged. */
int vmo_decoder_rewind(vmo_decoder *dec, vmo_errbuf *err);

/* After the end: 1 when the data ended early (truncated file), else 0. */
int vmo_decoder_truncated(const vmo_decoder *dec);
/* Packets that failed to decode and were skipped, plus frames delivered with concealed
 * errors (vmo_decoded_frame.damaged). */
int64_t vmo_decoder_errors(const vmo_decoder *dec);
void vmo_decoder_close(vmo_decoder **dec);

#endif
