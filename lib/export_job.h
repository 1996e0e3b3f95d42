/* The export job: one event exported to one output (internal to the export_*.c files).
 *
 * Each event becomes one output. Its parts (one per source clip) are read packet by packet
 * after a seek to the keyframe before the padded start, and pass through one of three
 * plans:
 *   copy     packets are copied from that keyframe to the padded end;
 *   smart    (mode "precise") the frames between the padded start and the next IDR frame
 *            are decoded and re-encoded with libx264, everything after is copied; a tail
 *            that cannot be cut at the exact frame (B-frames referring past it) is
 *            re-encoded the same way (smartcut.h: how both runs form one H.264 stream);
 *   full     every frame in the span is decoded (and redacted) and re-encoded.
 * Packets are grouped into "chunks" that start at a video keyframe (an IDR frame in the
 * smart plan, the only place where a re-encoded and a copied run can meet). A chunk is
 * either copied (buffered until its end, so the tail can be judged) or re-encoded
 * (streamed through the decoder and encoder).
 *
 * Files:
 *   export_job.c     the job: plan, output streams, parts in order, finish, summary
 *   export_part.c    one part: bounds, seeking, packets into chunks
 *   export_codec.c   decoding and encoding (the re-encoded runs)
 *   export_mux.c     the muxer writing the output file, and the output timeline
 *   export_input.c   a source read through a counting AVIOContext
 *
 * The output is written through atomic.h under a temporary name; the run (export_run.c)
 * commits it with the others. */
#ifndef VMO_EXPORT_JOB_H
#define VMO_EXPORT_JOB_H

#include <stdint.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>

#include "export.h"

struct SwsContext;

#define EX_MAX_STREAMS 32
#define EX_IO_BUFFER   32768
#define EX_US_Q        ((AVRational){ 1, 1000000 })

/* ---- export_input.c ---- */

typedef struct ex_input {
    AVFormatContext *fmt;
    AVIOContext *io;
    int fd;
    uint64_t *counter; /* bytes read, for the "seek, do not read it all" guarantee */
    int vidx;
    AVStream *vst;
    int64_t origin; /* pts of clip second 0: the stream's start, as the decoder counts */
    int64_t fdur;   /* nominal frame duration (vst time base) */
} ex_input;

/* Opens the source at `path`; the demuxer's reads are added to *counter. */
int vmo_exin_open(ex_input *in, const char *path, uint64_t *counter, vmo_errbuf *err);
/* Safe on a failed or closed input. */
void vmo_exin_close(ex_input *in);
/* Clip seconds -> the video stream's time base, and back. */
int64_t vmo_exin_ts(const ex_input *in, double seconds);
double vmo_exin_sec(const ex_input *in, int64_t ts);

/* ---- the job ---- */

enum { PLAN_COPY = 0, PLAN_SMART = 1, PLAN_FULL = 2 };
enum { CH_NONE = 0, CH_COPY = 1, CH_ENCODE = 2 };

typedef struct ex_ostream {
    AVStream *st;
    int type, ordinal; /* media type and rank among the first source's streams of that type */
    int main;          /* the exported video stream */
    int64_t last_dts;  /* output time base */
} ex_ostream;

typedef struct ex_job {
    vmo_export *ex;
    const vmo_result *res;
    vmo_export_item *item;
    vmo_errbuf *err;
    int plan;
    /* output */
    AVFormatContext *ofmt;
    AVIOContext *oio;
    ex_ostream os[EX_MAX_STREAMS];
    int nos;
    int header_written;
    double wall0; /* wall clock of the first source's clip second 0, NaN if unknown */
    /* the part being read */
    ex_input in;
    int part, nparts;
    int map[EX_MAX_STREAMS];     /* input stream -> os index, -1 = dropped */
    int started[EX_MAX_STREAMS]; /* secondary video streams wait for a keyframe */
    int passed[EX_MAX_STREAMS];  /* saw a packet past the end */
    int64_t lo, hi, aud_hi;      /* frames with lo <= pts < hi; other streams up to aud_hi */
    int64_t seek_ts;             /* the keyframe wanted is at or before this */
    int64_t target;              /* where the current attempt seeked to */
    int retry;                   /* the seek landed after seek_ts: seek further back */
    int64_t first_key;           /* pts of the part's first keyframe, NOPTS before */
    int64_t origin;              /* pts of the part's first output frame, NOPTS until known */
    int64_t last_end;            /* pts + duration of the part's last output frame */
    int64_t base_us;             /* output time of the part's first frame */
    int video_done;
    int nchunks;
    /* the current chunk */
    int chunk;
    AVPacket **buf;
    int nbuf, capbuf;
    size_t buf_bytes;
    int chunk_flushed;  /* a copied chunk too large to buffer was written early */
    AVPacket **pending; /* other streams' packets waiting for the origin */
    int npending, cappending;
    /* transcoding */
    AVCodecContext *dec, *enc;
    AVRational enc_tb;
    int64_t enc_dur; /* a frame's duration in enc_tb (the source may be closed) */
    int64_t shift;   /* smart: dts = pts - shift for encoded packets (enc_tb) */
    uint8_t *enc_ps; /* smart: the first encoder's extradata, to check later ones */
    int enc_ps_size;
    int nal_len, sps_id;
    const char *profile;
    struct SwsContext *sws;
    AVFrame *conv, *frame;
    AVPacket *pkt;  /* the packet read */
    AVPacket *opkt; /* the encoder's output */
    uint8_t *mask;
    int mask_w, mask_h;
    int64_t extra_frames; /* frames copied past the end (B-frame references, copy plan) */
    int in_tail;          /* re-encoding a tail that could not be cut by copying */
    int64_t tail_frames;  /* frames re-encoded there */
} ex_job;

/* ---- export_job.c ---- */
/* An FFmpeg error as a status (code, or VMO_ERR_NO_MEMORY for ENOMEM) and a message. */
int vmo_av_err(vmo_errbuf *err, int code, int averr, const char *what, const char *path);
/* A failed write to the output: the errno of the file when it has one, so a full disk is
 * VMO_ERR_NO_SPACE whichever layer saw it first. */
int vmo_job_fail(ex_job *j, int averr, const char *what);

/* ---- export_part.c ---- */
/* Reads part j->part into the output; then the next part starts where it ended. */
int vmo_job_part_run(ex_job *j);

/* ---- export_codec.c ---- */
/* Opens an encoder for the first source's video (smart: its profile, level, SPS/PPS id). */
int vmo_job_encoder_open(ex_job *j, AVCodecContext **out);
/* Sends a frame (NULL: the end) to the encoder and writes what comes out. */
int vmo_job_encoder_drain(ex_job *j, const AVFrame *frame);
/* Decodes a packet (NULL: the end) and encodes the frames inside the part's span. */
int vmo_job_decode_packet(ex_job *j, const AVPacket *pkt);
/* A re-encoded run starts (after a copied chunk when `after_copy`) and ends. */
int vmo_job_encode_run_begin(ex_job *j, int after_copy);
int vmo_job_encode_run_end(ex_job *j);

/* ---- export_mux.c ---- */
/* Creates the output's temporary file and a muxer writing into it. */
int vmo_job_output_open(ex_job *j);
void vmo_job_output_close(ex_job *j);
/* Writes a packet of output stream `oi` whose timestamps are on the output timeline in
 * time base `tb` (the header first, once). */
int vmo_job_write_out(ex_job *j, int oi, AVPacket *pkt, AVRational tb);
/* Offset from the part's source timestamps (time base tb) to the output timeline. */
int64_t vmo_job_part_offset(const ex_job *j, AVRational tb);
/* The part's first output frame is `pts`. */
void vmo_job_set_origin(ex_job *j, int64_t pts);
/* A packet of a stream other than the main video, written when inside the output's span. */
int vmo_job_write_other(ex_job *j, AVPacket *pkt);
/* Such packets wait (pending) until the part's origin is known, then are flushed. */
int vmo_job_pending_push(ex_job *j, AVPacket *pkt);
int vmo_job_pending_flush(ex_job *j);
void vmo_packets_clear(AVPacket **list, int *n);

#endif
