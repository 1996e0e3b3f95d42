/* Export: cuts motion events out of their clips into new files, with a manifest.
 *
 * Each event becomes one output. Its parts (one per source clip) are read packet by packet
 * after a seek to the keyframe before the padded start, and pass through one of three
 * plans:
 *   copy     packets are copied from that keyframe to the padded end;
 *   smart    (mode "precise") the frames between the padded start and the next IDR frame
 *            are decoded and re-encoded with libx264, everything after is copied; a tail
 *            that cannot be cut at the exact frame (B-frames referring past it) is
 *            re-encoded the same way;
 *   full     every frame in the span is decoded (and redacted) and re-encoded.
 * Packets are grouped into "chunks" that start at a video keyframe (an IDR frame in the
 * smart plan, the only place where a re-encoded and a copied run can meet). A chunk is
 * either copied (buffered until its end, so the tail can be judged) or re-encoded
 * (streamed through the decoder and encoder).
 *
 * In the smart plan the re-encoded runs and the copied runs form one H.264 stream: libx264
 * is set to the source's profile and level and to an SPS/PPS id the source does not use,
 * its parameter sets join the source's in the avcC extradata (valid for mp4 and mkv), and
 * its Annex B packets are rewritten with the source's NAL length size.
 *
 * Files are written under a temporary name and renamed only when the whole run succeeded,
 * the manifest last: it is the commit point (see vmo_export_run). */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>

#include "export.h"
#include "smartcut.h"

#define EX_MAX_STREAMS 32
#define EX_IO_BUFFER   32768
/* A copied chunk (one GOP) is buffered to judge its tail; past this it is written early. */
#define EX_CHUNK_CAP ((size_t)256 << 20)
/* libx264 quality of re-encoded frames: visually lossless for the short smart-cut heads,
 * a little lighter for whole re-encodes (docs/export.md states the PSNR bound). */
#define EX_CRF_SMART "16"
#define EX_CRF_FULL  "18"

static const AVRational us_q = { 1, 1000000 };

/* ------------------------------------------------------------------------------------------
 * Handle and options
 * ---------------------------------------------------------------------------------------- */

static void items_free(vmo_export *ex, int rollback);

int vmo_export_create(vmo_export **out)
{
    if (!out)
        return VMO_ERR_INVALID_ARG;
    *out = calloc(1, sizeof(vmo_export));
    if (!*out)
        return VMO_ERR_NO_MEMORY;
    vmo_log_init_ffmpeg();
    return VMO_OK;
}

void vmo_export_destroy(vmo_export **pex)
{
    if (!pex || !*pex)
        return;
    vmo_export *ex = *pex;
    items_free(ex, 0);
    free(ex->dir);
    free(ex->manifest);
    free(ex->case_ref);
    free(ex);
    *pex = NULL;
}

const char *vmo_export_last_error(const vmo_export *ex)
{
    return ex ? ex->err.msg : "";
}

static int set_owned(vmo_export *ex, char **field, const char *value)
{
    char *copy = NULL;
    if (value && *value) {
        copy = vmo_strdup(value);
        if (!copy)
            return vmo_err_set(&ex->err, VMO_ERR_NO_MEMORY, "out of memory");
    }
    free(*field);
    *field = copy;
    return VMO_OK;
}

static int pick(const char *value, const char *const *names, int count)
{
    for (int i = 0; i < count; i++)
        if (!strcmp(value, names[i]))
            return i;
    return -1;
}

static int set_choice(vmo_export *ex, int *field, const char *name, const char *value,
                      const char *const *names, int count)
{
    int v = value ? pick(value, names, count) : -1;
    if (v < 0)
        return vmo_err_set(&ex->err, VMO_ERR_INVALID_ARG, "export option \"%s\": bad value '%s'",
                           name, value ? value : "(null)");
    *field = v;
    return VMO_OK;
}

static const char *const format_names[] = { "mp4", "mkv" };
static const char *const mode_names[] = { "copy", "precise", "reencode" };
static const char *const redact_names[] = { "none", "black", "pixelate" };

const char *vmo_export_mode_name(int mode)
{
    return mode_names[VMO_CLAMP(mode, 0, 2)];
}

const char *vmo_export_redact_name(int redact)
{
    return redact_names[VMO_CLAMP(redact, 0, 2)];
}

const char *vmo_export_format_name(int format)
{
    return format_names[VMO_CLAMP(format, 0, 1)];
}

static int set_flag(vmo_export *ex, int *field, const char *name, int64_t value)
{
    if (value != 0 && value != 1)
        return vmo_err_set(&ex->err, VMO_ERR_INVALID_ARG, "export option \"%s\" is 0 or 1", name);
    *field = (int)value;
    return VMO_OK;
}

int vmo_export_set_string(vmo_export *ex, const char *name, const char *value)
{
    if (!ex || !name)
        return VMO_ERR_INVALID_ARG;
    vmo_err_clear(&ex->err);
    if (!strcmp(name, "dir"))
        return set_owned(ex, &ex->dir, value);
    if (!strcmp(name, "manifest"))
        return set_owned(ex, &ex->manifest, value);
    if (!strcmp(name, "case"))
        return set_owned(ex, &ex->case_ref, value);
    if (!strcmp(name, "format"))
        return set_choice(ex, &ex->format, name, value, format_names, 2);
    if (!strcmp(name, "mode"))
        return set_choice(ex, &ex->mode, name, value, mode_names, 3);
    if (!strcmp(name, "redact"))
        return set_choice(ex, &ex->redact, name, value, redact_names, 3);
    if (!strcmp(name, "overwrite") || !strcmp(name, "thumbnails")) {
        char *end = NULL;
        long v = value ? strtol(value, &end, 10) : -1;
        if (!value || end == value || *end)
            return vmo_err_set(&ex->err, VMO_ERR_INVALID_ARG,
                               "export option \"%s\": expected 0 or 1", name);
        return vmo_export_set_int(ex, name, v);
    }
    return vmo_err_set(&ex->err, VMO_ERR_UNKNOWN_OPTION, "no export option \"%s\"", name);
}

int vmo_export_set_int(vmo_export *ex, const char *name, int64_t value)
{
    if (!ex || !name)
        return VMO_ERR_INVALID_ARG;
    vmo_err_clear(&ex->err);
    if (!strcmp(name, "overwrite"))
        return set_flag(ex, &ex->overwrite, name, value);
    if (!strcmp(name, "thumbnails"))
        return set_flag(ex, &ex->thumbnails, name, value);
    return vmo_err_set(&ex->err, VMO_ERR_UNKNOWN_OPTION, "no integer export option \"%s\"", name);
}

int vmo_export_output_count(const vmo_export *ex)
{
    return ex ? ex->nitems : 0;
}

int vmo_export_output(const vmo_export *ex, int index, vmo_export_output_info *out)
{
    if (!ex || !out || index < 0 || index >= ex->nitems)
        return VMO_ERR_INVALID_ARG;
    const vmo_export_item *it = &ex->items[index];
    vmo_export_output_info o;
    memset(&o, 0, sizeof(o));
    o.struct_size = sizeof(o);
    o.event = it->event;
    o.path = it->path;
    o.sha256 = it->path ? it->sha256 : NULL;
    o.thumbnail = it->thumb;
    o.size_bytes = it->path ? it->size_bytes : 0;
    o.duration = it->duration;
    o.wall_start = it->wall_start;
    o.wall_end = it->wall_end;
    o.reencoded = it->reencoded != VMO_REENC_NONE;
    return vmo_copy_sized(out, &o, sizeof(o));
}

const char *vmo_export_manifest_path(const vmo_export *ex)
{
    return ex ? ex->manifest_written : NULL;
}

/* ------------------------------------------------------------------------------------------
 * Inputs: a source read through a counting AVIOContext
 * ---------------------------------------------------------------------------------------- */

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

static int src_read(void *opaque, uint8_t *buf, int size)
{
    ex_input *in = opaque;
    ssize_t n;
    do
        n = read(in->fd, buf, (size_t)size);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return AVERROR(errno);
    if (n == 0)
        return AVERROR_EOF;
    *in->counter += (uint64_t)n;
    return (int)n;
}

static int64_t src_seek(void *opaque, int64_t offset, int whence)
{
    ex_input *in = opaque;
    if (whence & AVSEEK_SIZE) {
        struct stat st;
        return fstat(in->fd, &st) == 0 ? (int64_t)st.st_size : AVERROR(errno);
    }
    off_t r = lseek(in->fd, (off_t)offset, whence & ~AVSEEK_FORCE);
    return r < 0 ? AVERROR(errno) : (int64_t)r;
}

static void input_close(ex_input *in)
{
    avformat_close_input(&in->fmt);
    if (in->io) {
        av_freep(&in->io->buffer);
        avio_context_free(&in->io);
    }
    if (in->fd >= 0)
        close(in->fd);
    in->fd = -1;
}

static int av_err(vmo_errbuf *err, int code, int averr, const char *what, const char *path)
{
    char msg[AV_ERROR_MAX_STRING_SIZE];
    av_strerror(averr, msg, sizeof(msg));
    if (averr == AVERROR(ENOMEM))
        code = VMO_ERR_NO_MEMORY;
    return vmo_err_set(err, code, "%s %s: %s", what, path, msg);
}

static void input_timing(ex_input *in)
{
    AVStream *st = in->vst;
    in->origin = st->start_time;
    if (in->origin == AV_NOPTS_VALUE && in->fmt->start_time != AV_NOPTS_VALUE)
        in->origin = av_rescale_q(in->fmt->start_time, AV_TIME_BASE_Q, st->time_base);
    if (in->origin == AV_NOPTS_VALUE)
        in->origin = 0;
    AVRational fr = st->avg_frame_rate.num > 0 ? st->avg_frame_rate : st->r_frame_rate;
    if (fr.num <= 0 || fr.den <= 0)
        fr = (AVRational){ 25, 1 };
    in->fdur = VMO_MAX(1, av_rescale_q(1, av_inv_q(fr), st->time_base));
}

static int input_open(ex_input *in, const char *path, uint64_t *counter, vmo_errbuf *err)
{
    memset(in, 0, sizeof(*in));
    in->counter = counter;
    in->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (in->fd < 0) {
        int e = errno;
        return vmo_err_set(err, e == ENOENT ? VMO_ERR_NOT_FOUND : VMO_ERR_IO,
                           "cannot open source %s: %s", path, strerror(e));
    }
    uint8_t *buf = av_malloc(EX_IO_BUFFER);
    in->io = buf ? avio_alloc_context(buf, EX_IO_BUFFER, 0, in, src_read, NULL, src_seek) : NULL;
    in->fmt = avformat_alloc_context();
    if (!in->io || !in->fmt) {
        if (!in->io)
            av_free(buf);
        input_close(in);
        return vmo_err_set(err, VMO_ERR_NO_MEMORY, "out of memory");
    }
    in->fmt->pb = in->io;
    int ret = avformat_open_input(&in->fmt, path, NULL, NULL);
    if (ret >= 0)
        ret = avformat_find_stream_info(in->fmt, NULL);
    if (ret < 0) {
        input_close(in);
        return av_err(err, VMO_ERR_CORRUPT, ret, "cannot read source", path);
    }
    in->vidx = av_find_best_stream(in->fmt, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
    if (in->vidx < 0) {
        input_close(in);
        return vmo_err_set(err, VMO_ERR_NO_VIDEO, "source %s has no video stream", path);
    }
    in->vst = in->fmt->streams[in->vidx];
    input_timing(in);
    return VMO_OK;
}

/* Clip seconds -> the video stream's time base. */
static int64_t input_ts(const ex_input *in, double seconds)
{
    return in->origin + av_rescale_q(llround(seconds * 1e6), us_q, in->vst->time_base);
}

static double input_sec(const ex_input *in, int64_t ts)
{
    return (double)(ts - in->origin) * av_q2d(in->vst->time_base);
}

/* ------------------------------------------------------------------------------------------
 * The job: one event exported to one output
 * ---------------------------------------------------------------------------------------- */

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

static int job_fail(ex_job *j, int averr, const char *what)
{
    if (j->item->file.write_errno)
        return vmo_err_errno(j->err, j->item->file.write_errno, "cannot write",
                             j->item->file.tmp_path);
    if (averr == AVERROR(ENOSPC) || averr == AVERROR(EFBIG) || averr == AVERROR(EDQUOT) ||
        averr == AVERROR(EACCES) || averr == AVERROR(EROFS))
        return vmo_err_errno(j->err, AVUNERROR(averr), what, j->item->file.tmp_path);
    return av_err(j->err, VMO_ERR_IO, averr, what, j->item->file.final_path);
}

/* ---- output file ---- */

static int out_write(void *opaque, uint8_t *buf, int size)
{
    vmo_afile *f = opaque;
    if (vmo_afile_write(f, buf, (size_t)size, NULL) != VMO_OK)
        return AVERROR(f->write_errno);
    return size;
}

static int64_t out_seek(void *opaque, int64_t offset, int whence)
{
    vmo_afile *f = opaque;
    if (whence & AVSEEK_SIZE) {
        struct stat st;
        return fstat(f->fd, &st) == 0 ? (int64_t)st.st_size : AVERROR(errno);
    }
    off_t r = lseek(f->fd, (off_t)offset, whence & ~AVSEEK_FORCE);
    return r < 0 ? AVERROR(errno) : (int64_t)r;
}

static int output_open(ex_job *j)
{
    vmo_afile *f = &j->item->file;
    int rc = vmo_afile_open(f, j->item->path, j->err);
    if (rc != VMO_OK)
        return rc;
    const char *name = j->ex->format == VMO_FMT_MKV ? "matroska" : "mp4";
    int ret = avformat_alloc_output_context2(&j->ofmt, NULL, name, f->tmp_path);
    uint8_t *buf = ret >= 0 ? av_malloc(EX_IO_BUFFER) : NULL;
    j->oio = buf ? avio_alloc_context(buf, EX_IO_BUFFER, 1, f, NULL, out_write, out_seek) : NULL;
    if (!j->oio) {
        av_free(buf);
        return vmo_err_set(j->err, VMO_ERR_NO_MEMORY, "out of memory");
    }
    j->ofmt->pb = j->oio;
    j->ofmt->flags |= AVFMT_FLAG_CUSTOM_IO;
    return VMO_OK;
}

static void output_close(ex_job *j)
{
    avformat_free_context(j->ofmt);
    j->ofmt = NULL;
    if (j->oio) {
        av_freep(&j->oio->buffer);
        avio_context_free(&j->oio);
    }
}

static void iso_time(double posix, char *buf, size_t size)
{
    time_t secs = (time_t)floor(posix);
    struct tm tm;
    gmtime_r(&secs, &tm);
    long usec = lround((posix - (double)secs) * 1e6);
    if (usec > 999999)
        usec = 999999;
    snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, usec);
}

/* The header waits for the first packet: creation_time is the wall clock of the first
 * output frame, known only once the cut is found. */
static int output_header(ex_job *j)
{
    if (j->header_written)
        return VMO_OK;
    if (!isnan(j->item->wall_start)) {
        char iso[64];
        iso_time(j->item->wall_start, iso, sizeof(iso));
        av_dict_set(&j->ofmt->metadata, "creation_time", iso, 0);
    }
    AVDictionary *opts = NULL;
    if (j->ex->format == VMO_FMT_MP4)
        av_dict_set(&opts, "movflags", "+faststart", 0);
    int ret = avformat_write_header(j->ofmt, &opts);
    av_dict_free(&opts);
    if (ret < 0)
        return job_fail(j, ret, "cannot write the header of");
    j->header_written = 1;
    return VMO_OK;
}

/* Writes a packet whose timestamps are on the output timeline in time base `tb`. */
static int write_out(ex_job *j, int oi, AVPacket *pkt, AVRational tb)
{
    int rc = output_header(j);
    if (rc != VMO_OK)
        return rc;
    ex_ostream *o = &j->os[oi];
    av_packet_rescale_ts(pkt, tb, o->st->time_base);
    pkt->stream_index = o->st->index;
    pkt->pos = -1;
    if (pkt->dts != AV_NOPTS_VALUE && o->last_dts != AV_NOPTS_VALUE && pkt->dts <= o->last_dts) {
        /* Only at a join between files or runs: audio overlapping the previous part is
         * dropped, video nudged (its order is right, the rounding was not). */
        if (!o->main) {
            av_packet_unref(pkt);
            return VMO_OK;
        }
        pkt->dts = o->last_dts + 1;
        if (pkt->pts != AV_NOPTS_VALUE && pkt->pts < pkt->dts)
            pkt->pts = pkt->dts;
    }
    if (pkt->dts != AV_NOPTS_VALUE)
        o->last_dts = pkt->dts;
    int ret = av_interleaved_write_frame(j->ofmt, pkt);
    if (ret < 0)
        return job_fail(j, ret, "cannot write");
    return VMO_OK;
}

/* ---- timeline ---- */

/* Offset from the part's source timestamps (time base tb) to the output timeline. */
static int64_t part_offset(const ex_job *j, AVRational tb)
{
    return av_rescale_q(j->base_us, us_q, tb) - av_rescale_q(j->origin, j->in.vst->time_base, tb);
}

static void note(ex_job *j, const char *text)
{
    char *notes = j->item->notes;
    size_t n = strlen(notes);
    snprintf(notes + n, sizeof(j->item->notes) - n, "%s%s", n ? "; " : "", text);
}

/* The part's first output frame is known: it anchors the part on the output timeline, and
 * for the first part, the output's wall clock. */
static void set_origin(ex_job *j, int64_t pts)
{
    j->origin = pts;
    if (j->part == 0 && !isnan(j->wall0))
        j->item->wall_start = j->wall0 + input_sec(&j->in, pts);
}

/* A subtitle shown when the output starts (or still shown at its end) is kept, cut to the
 * output's span. */
static void clip_subtitle(const ex_job *j, AVPacket *pkt, AVRational tb)
{
    if (pkt->duration <= 0)
        return;
    int64_t from = av_rescale_q(j->origin, j->in.vst->time_base, tb);
    int64_t to = av_rescale_q(j->aud_hi, j->in.vst->time_base, tb);
    int64_t end = pkt->pts + pkt->duration;
    if (pkt->pts < from && end > from) {
        pkt->pts = pkt->dts = from;
        pkt->duration = end - from;
    }
    if (end > to && pkt->pts < to)
        pkt->duration = to - pkt->pts;
}

static int write_other(ex_job *j, AVPacket *pkt)
{
    AVStream *st = j->in.fmt->streams[pkt->stream_index];
    int oi = j->map[pkt->stream_index];
    if (st->codecpar->codec_type == AVMEDIA_TYPE_SUBTITLE)
        clip_subtitle(j, pkt, st->time_base);
    int64_t t = av_rescale_q(pkt->pts, st->time_base, j->in.vst->time_base);
    if (t < j->origin || t >= j->aud_hi) {
        av_packet_unref(pkt);
        return VMO_OK;
    }
    int64_t off = part_offset(j, st->time_base);
    pkt->pts += off;
    if (pkt->dts != AV_NOPTS_VALUE)
        pkt->dts += off;
    return write_out(j, oi, pkt, st->time_base);
}

static int pending_push(ex_job *j, AVPacket *pkt)
{
    if (j->npending == j->cappending) {
        int cap = j->cappending ? j->cappending * 2 : 64;
        AVPacket **grown = realloc(j->pending, sizeof(*grown) * (size_t)cap);
        if (!grown)
            return vmo_err_set(j->err, VMO_ERR_NO_MEMORY, "out of memory");
        j->pending = grown;
        j->cappending = cap;
    }
    AVPacket *copy = av_packet_clone(pkt);
    if (!copy)
        return vmo_err_set(j->err, VMO_ERR_NO_MEMORY, "out of memory");
    j->pending[j->npending++] = copy;
    av_packet_unref(pkt);
    return VMO_OK;
}

static void packets_clear(AVPacket **list, int *n)
{
    for (int i = 0; i < *n; i++)
        av_packet_free(&list[i]);
    *n = 0;
}

static int pending_flush(ex_job *j)
{
    if (j->origin == AV_NOPTS_VALUE)
        return VMO_OK;
    int rc = VMO_OK;
    for (int i = 0; i < j->npending && rc == VMO_OK; i++)
        rc = write_other(j, j->pending[i]);
    packets_clear(j->pending, &j->npending);
    return rc;
}

/* ---- decoding and encoding ---- */

static int decoder_open(ex_job *j)
{
    const AVCodec *codec = avcodec_find_decoder(j->in.vst->codecpar->codec_id);
    if (!codec)
        return vmo_err_set(j->err, VMO_ERR_UNSUPPORTED, "no decoder for %s",
                           avcodec_get_name(j->in.vst->codecpar->codec_id));
    j->dec = avcodec_alloc_context3(codec);
    if (!j->dec)
        return vmo_err_set(j->err, VMO_ERR_NO_MEMORY, "out of memory");
    int ret = avcodec_parameters_to_context(j->dec, j->in.vst->codecpar);
    if (ret >= 0) {
        j->dec->pkt_timebase = j->in.vst->time_base;
        j->dec->thread_count = 0;
        ret = avcodec_open2(j->dec, codec, NULL);
    }
    if (ret < 0)
        return av_err(j->err, VMO_ERR_DECODE, ret, "cannot open the decoder for",
                      j->res->clips[j->item->parts[j->part].clip].path);
    return VMO_OK;
}

static const AVCodec *full_encoder(const AVCodecParameters *par)
{
    const AVCodec *c = avcodec_find_encoder_by_name("libx264");
    return c ? c : avcodec_find_encoder(par->codec_id);
}

static enum AVPixelFormat encoder_pix_fmt(const AVCodec *c, enum AVPixelFormat want)
{
    if (!c->pix_fmts)
        return want;
    for (const enum AVPixelFormat *p = c->pix_fmts; *p != AV_PIX_FMT_NONE; p++)
        if (*p == want)
            return want;
    for (const enum AVPixelFormat *p = c->pix_fmts; *p != AV_PIX_FMT_NONE; p++)
        if (*p == AV_PIX_FMT_YUV420P)
            return *p;
    return c->pix_fmts[0];
}

/* Encoder for the first source's video geometry. Smart encoders copy the source's profile
 * and level and use an SPS/PPS id the source does not. */
static int encoder_open(ex_job *j, AVCodecContext **out)
{
    const AVCodecParameters *par = j->in.vst->codecpar;
    const AVCodec *codec =
        j->plan == PLAN_SMART ? avcodec_find_encoder_by_name("libx264") : full_encoder(par);
    if (!codec)
        return vmo_err_set(j->err, VMO_ERR_UNSUPPORTED, "no encoder for the re-encode");
    AVCodecContext *c = avcodec_alloc_context3(codec);
    if (!c)
        return vmo_err_set(j->err, VMO_ERR_NO_MEMORY, "out of memory");
    enum AVPixelFormat fmt = par->format >= 0 ? par->format : AV_PIX_FMT_YUV420P;
    c->pix_fmt = encoder_pix_fmt(codec, fmt);
    c->width = par->width;
    c->height = par->height;
    c->sample_aspect_ratio = par->sample_aspect_ratio;
    c->color_range = par->color_range;
    c->color_primaries = par->color_primaries;
    c->color_trc = par->color_trc;
    c->colorspace = par->color_space;
    c->chroma_sample_location = par->chroma_location;
    c->time_base = j->enc_tb;
    AVRational fr = j->in.vst->avg_frame_rate;
    if (fr.num > 0 && fr.den > 0)
        c->framerate = fr;
    c->max_b_frames = 0; /* dts == pts: simple joins with copied packets */
    c->gop_size = 250;
    if (j->ofmt->oformat->flags & AVFMT_GLOBALHEADER)
        c->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    AVDictionary *o = NULL;
    if (!strcmp(codec->name, "libx264")) {
        av_dict_set(&o, "preset", "fast", 0);
        av_dict_set(&o, "crf", j->plan == PLAN_SMART ? EX_CRF_SMART : EX_CRF_FULL, 0);
    }
    if (j->plan == PLAN_SMART) {
        char params[64];
        snprintf(params, sizeof(params), "sps-id=%d:level=%d.%d", j->sps_id, par->level / 10,
                 par->level % 10);
        av_dict_set(&o, "profile", j->profile, 0);
        av_dict_set(&o, "x264-params", params, 0);
        c->flags |= AV_CODEC_FLAG_GLOBAL_HEADER; /* its SPS/PPS go to the joint avcC */
    }
    int ret = avcodec_open2(c, codec, &o);
    av_dict_free(&o);
    if (ret < 0) {
        avcodec_free_context(&c);
        return av_err(j->err, VMO_ERR_UNSUPPORTED, ret, "cannot open encoder", codec->name);
    }
    *out = c;
    return VMO_OK;
}

static int encoded_packet(ex_job *j, AVPacket *pkt)
{
    /* Without a duration, mp4's edit list ends at the last frame's start and hides it. */
    if (pkt->duration <= 0)
        pkt->duration = j->enc_dur;
    if (j->plan == PLAN_SMART) {
        int ret = vmo_annexb_to_mp4(pkt, j->nal_len);
        if (ret < 0) {
            av_packet_unref(pkt);
            return av_err(j->err, VMO_ERR_UNSUPPORTED, ret, "cannot repack", "x264 output");
        }
        pkt->dts = pkt->pts - j->shift;
    }
    int oi = 0; /* the main video stream is always output stream 0 */
    return write_out(j, oi, pkt, j->enc_tb);
}

static int encoder_drain(ex_job *j, const AVFrame *frame)
{
    int ret = avcodec_send_frame(j->enc, frame);
    if (ret < 0 && !(ret == AVERROR_EOF && !frame))
        return av_err(j->err, VMO_ERR_IO, ret, "encoder failed on", j->item->file.final_path);
    for (;;) {
        ret = avcodec_receive_packet(j->enc, j->opkt);
        if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF)
            return VMO_OK;
        if (ret < 0)
            return av_err(j->err, VMO_ERR_IO, ret, "encoder failed on", j->item->file.final_path);
        int rc = encoded_packet(j, j->opkt);
        if (rc != VMO_OK)
            return rc;
    }
}

/* Converts a decoded frame to the encoder's format and size when they differ. */
static int frame_for_encoder(ex_job *j, AVFrame *src, AVFrame **out)
{
    AVCodecContext *c = j->enc;
    if (src->format == c->pix_fmt && src->width == c->width && src->height == c->height) {
        int ret = av_frame_make_writable(src);
        *out = src;
        return ret < 0 ? vmo_err_set(j->err, VMO_ERR_NO_MEMORY, "out of memory") : VMO_OK;
    }
    j->sws = sws_getCachedContext(j->sws, src->width, src->height, src->format, c->width, c->height,
                                  c->pix_fmt, SWS_BICUBIC, NULL, NULL, NULL);
    if (!j->conv)
        j->conv = av_frame_alloc();
    if (!j->sws || !j->conv)
        return vmo_err_set(j->err, VMO_ERR_NO_MEMORY, "cannot convert frames");
    av_frame_unref(j->conv);
    j->conv->format = c->pix_fmt;
    j->conv->width = c->width;
    j->conv->height = c->height;
    if (av_frame_get_buffer(j->conv, 0) < 0)
        return vmo_err_set(j->err, VMO_ERR_NO_MEMORY, "out of memory");
    sws_scale(j->sws, (const uint8_t *const *)src->data, src->linesize, 0, src->height,
              j->conv->data, j->conv->linesize);
    av_frame_copy_props(j->conv, src);
    j->conv->color_range = c->color_range;
    *out = j->conv;
    return VMO_OK;
}

static int redact(ex_job *j, AVFrame *f)
{
    if (j->ex->redact == VMO_REDACT_NONE)
        return VMO_OK;
    if (!j->mask || j->mask_w != f->width || j->mask_h != f->height) {
        int rc;
        free(j->mask);
        j->mask = vmo_redact_mask(&j->res->zones, f->width, f->height, &rc);
        j->mask_w = f->width;
        j->mask_h = f->height;
        if (rc != VMO_OK)
            return vmo_err_set(j->err, rc, "out of memory");
    }
    if (vmo_redact_frame(f, j->mask, j->ex->redact) != VMO_OK)
        return vmo_err_set(j->err, VMO_ERR_UNSUPPORTED, "cannot redact frames of format %s",
                           av_get_pix_fmt_name(f->format));
    return VMO_OK;
}

static int on_frame(ex_job *j, AVFrame *f)
{
    int64_t pts = f->best_effort_timestamp;
    if (pts == AV_NOPTS_VALUE || pts < j->lo || pts >= j->hi)
        return VMO_OK;
    if (j->origin == AV_NOPTS_VALUE)
        set_origin(j, pts);
    if (pts < j->origin)
        return VMO_OK;
    j->last_end = VMO_MAX(j->last_end, pts + j->in.fdur);
    AVFrame *e = NULL;
    int rc = frame_for_encoder(j, f, &e);
    if (rc == VMO_OK)
        rc = redact(j, e);
    if (rc != VMO_OK)
        return rc;
    e->pts = av_rescale_q(pts - j->origin, j->in.vst->time_base, j->enc_tb) +
             av_rescale_q(j->base_us, us_q, j->enc_tb);
    e->pict_type = AV_PICTURE_TYPE_NONE;
    e->key_frame = 0;
    j->item->frames_encoded++;
    j->tail_frames += j->in_tail;
    return encoder_drain(j, e);
}

static int decode_packet(ex_job *j, const AVPacket *pkt)
{
    int ret = avcodec_send_packet(j->dec, pkt);
    if (ret < 0 && ret != AVERROR_EOF && ret != AVERROR_INVALIDDATA)
        return av_err(j->err, VMO_ERR_DECODE, ret, "cannot decode",
                      j->res->clips[j->item->parts[j->part].clip].path);
    for (;;) {
        ret = avcodec_receive_frame(j->dec, j->frame);
        if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF)
            return VMO_OK;
        if (ret < 0)
            continue; /* a damaged frame: the next one may decode */
        int rc = on_frame(j, j->frame);
        av_frame_unref(j->frame);
        if (rc != VMO_OK)
            return rc;
    }
}

/* Re-encoded runs: a smart run has its own encoder (drained at its end); a full re-encode
 * keeps one decoder per part and one encoder for the whole output. */
static int encode_run_begin(ex_job *j, int after_copy)
{
    if (!j->dec) {
        int rc = decoder_open(j);
        if (rc != VMO_OK)
            return rc;
    } else if (after_copy) {
        avcodec_flush_buffers(j->dec); /* packets were skipped since its last use */
    }
    if (j->enc)
        return VMO_OK;
    int rc = encoder_open(j, &j->enc);
    if (rc == VMO_OK && (j->enc->extradata_size != j->enc_ps_size ||
                         memcmp(j->enc->extradata, j->enc_ps, (size_t)j->enc_ps_size)))
        rc = vmo_err_set(j->err, VMO_ERR_UNSUPPORTED,
                         "libx264 gave different parameter sets for the same settings");
    return rc;
}

static int encode_run_end(ex_job *j)
{
    int rc = decode_packet(j, NULL);
    avcodec_flush_buffers(j->dec);
    if (rc == VMO_OK && j->plan == PLAN_SMART) {
        rc = encoder_drain(j, NULL);
        avcodec_free_context(&j->enc);
    }
    return rc;
}

/* ---- chunks ---- */

static int chunk_push(ex_job *j, AVPacket *pkt)
{
    if (j->nbuf == j->capbuf) {
        int cap = j->capbuf ? j->capbuf * 2 : 256;
        AVPacket **grown = realloc(j->buf, sizeof(*grown) * (size_t)cap);
        if (!grown)
            return vmo_err_set(j->err, VMO_ERR_NO_MEMORY, "out of memory");
        j->buf = grown;
        j->capbuf = cap;
    }
    AVPacket *copy = av_packet_alloc();
    if (!copy)
        return vmo_err_set(j->err, VMO_ERR_NO_MEMORY, "out of memory");
    av_packet_move_ref(copy, pkt);
    j->buf[j->nbuf++] = copy;
    j->buf_bytes += (size_t)copy->size;
    return VMO_OK;
}

static int copy_video(ex_job *j, AVPacket *pkt)
{
    int64_t off = part_offset(j, j->in.vst->time_base);
    if (pkt->duration <= 0)
        pkt->duration = j->in.fdur;
    j->last_end = VMO_MAX(j->last_end, pkt->pts + pkt->duration);
    pkt->pts += off;
    if (pkt->dts != AV_NOPTS_VALUE)
        pkt->dts += off;
    j->item->frames_copied++;
    return write_out(j, 0, pkt, j->in.vst->time_base);
}

static int video_at(const ex_job *j, int i)
{
    return j->buf[i]->stream_index == j->in.vidx;
}

/* Index of the last video packet (decode order) to copy: the last one shown before the end.
 * *unclean counts packets up to it shown after the end (frames the tail refers to). The
 * copy plan then also takes the frames shown between the end and those, so the copied
 * frames stay contiguous. */
static int chunk_tail(const ex_job *j, int *unclean)
{
    int last = -1;
    for (int i = 0; i < j->nbuf; i++)
        if (video_at(j, i) && j->buf[i]->pts < j->hi)
            last = i;
    for (int grown = j->plan == PLAN_COPY; grown;) {
        int64_t top = INT64_MIN;
        grown = 0;
        for (int i = 0; i <= last; i++)
            if (video_at(j, i))
                top = VMO_MAX(top, j->buf[i]->pts);
        for (int i = last + 1; i < j->nbuf; i++)
            if (video_at(j, i) && j->buf[i]->pts <= top) {
                last = i;
                grown = 1;
            }
    }
    *unclean = 0;
    for (int i = 0; i <= last; i++)
        if (video_at(j, i) && j->buf[i]->pts >= j->hi)
            (*unclean)++;
    return last;
}

static int chunk_copy_video(ex_job *j, int last, int unclean)
{
    if (j->origin == AV_NOPTS_VALUE) {
        int64_t first = INT64_MAX;
        for (int i = 0; i <= last; i++)
            if (j->buf[i]->stream_index == j->in.vidx)
                first = VMO_MIN(first, j->buf[i]->pts);
        if (first != INT64_MAX)
            set_origin(j, first);
    }
    j->extra_frames += unclean;
    for (int i = 0; i <= last; i++) {
        AVPacket *p = j->buf[i];
        if (p->stream_index != j->in.vidx)
            continue;
        int rc = p->pts >= j->origin ? copy_video(j, p) : VMO_OK;
        av_packet_unref(p);
        if (rc != VMO_OK)
            return rc;
    }
    return VMO_OK;
}

static int chunk_encode_video(ex_job *j)
{
    int rc = encode_run_begin(j, 1);
    j->in_tail = 1;
    for (int i = 0; i < j->nbuf && rc == VMO_OK; i++)
        if (j->buf[i]->stream_index == j->in.vidx)
            rc = decode_packet(j, j->buf[i]);
    if (rc == VMO_OK)
        rc = encode_run_end(j);
    j->in_tail = 0;
    return rc;
}

static int chunk_finish(ex_job *j)
{
    int rc = VMO_OK;
    if (j->chunk == CH_COPY && j->nbuf > 0) {
        int unclean;
        int last = chunk_tail(j, &unclean);
        if (unclean && j->plan == PLAN_SMART && !j->chunk_flushed)
            rc = chunk_encode_video(j);
        else
            rc = chunk_copy_video(j, last, unclean);
    }
    if (rc == VMO_OK)
        rc = pending_flush(j);
    for (int i = 0; i < j->nbuf && rc == VMO_OK; i++)
        if (j->buf[i]->stream_index != j->in.vidx && j->buf[i]->data)
            rc = write_other(j, j->buf[i]);
    packets_clear(j->buf, &j->nbuf);
    j->buf_bytes = 0;
    return rc;
}

static int chunk_state_for(ex_job *j, const AVPacket *key)
{
    if (j->plan == PLAN_COPY)
        return CH_COPY;
    if (j->plan == PLAN_FULL)
        return CH_ENCODE;
    if (key->pts < j->lo)
        return CH_ENCODE; /* the head: frames before the start are in this GOP */
    if (j->part > 0 && j->nchunks == 0 && !vmo_packet_is_idr(j->in.vst->codecpar, key, j->nal_len))
        return CH_ENCODE; /* a file that cannot be joined by copying */
    return CH_COPY;
}

/* A keyframe where a new chunk may start (smart plan: IDR frames only). */
static int chunk_boundary(ex_job *j, const AVPacket *pkt)
{
    if (!(pkt->flags & AV_PKT_FLAG_KEY))
        return 0;
    if (j->plan != PLAN_SMART || j->nchunks == 0)
        return 1;
    return vmo_packet_is_idr(j->in.vst->codecpar, pkt, j->nal_len);
}

static int chunk_begin(ex_job *j, const AVPacket *key)
{
    if (j->origin == AV_NOPTS_VALUE && key->pts <= j->seek_ts) {
        /* Still before the start (the seek went further back than needed): restart. */
        packets_clear(j->buf, &j->nbuf);
        j->buf_bytes = 0;
        j->first_key = key->pts;
        if (j->dec)
            avcodec_flush_buffers(j->dec);
        j->chunk = CH_NONE;
    }
    int rc = chunk_finish(j);
    int state = chunk_state_for(j, key);
    if (rc == VMO_OK && j->chunk == CH_ENCODE && state == CH_COPY)
        rc = encode_run_end(j);
    if (rc == VMO_OK && state == CH_ENCODE && j->chunk != CH_ENCODE)
        rc = encode_run_begin(j, j->chunk == CH_COPY);
    j->chunk = state;
    j->chunk_flushed = 0;
    j->nchunks++;
    return rc;
}

static int on_video(ex_job *j, AVPacket *pkt)
{
    if (pkt->pts == AV_NOPTS_VALUE)
        pkt->pts = pkt->dts;
    if (j->first_key == AV_NOPTS_VALUE) {
        if (!(pkt->flags & AV_PKT_FLAG_KEY) || pkt->pts == AV_NOPTS_VALUE) {
            av_packet_unref(pkt);
            return VMO_OK;
        }
        if (pkt->pts > j->seek_ts && j->target > j->in.origin) {
            av_packet_unref(pkt);
            j->retry = 1;
            return VMO_OK;
        }
        j->first_key = pkt->pts;
        if (j->plan == PLAN_SMART && pkt->dts != AV_NOPTS_VALUE)
            j->shift = av_rescale_q(pkt->pts - pkt->dts, j->in.vst->time_base, j->enc_tb);
    }
    int64_t reach = pkt->dts != AV_NOPTS_VALUE ? pkt->dts : pkt->pts - 16 * j->in.fdur;
    if (pkt->pts < j->first_key || reach >= j->hi) {
        /* Leading pictures of the first keyframe refer to frames before it; and once the
         * decode time passes the end, no later packet is shown before it. */
        j->video_done |= reach >= j->hi;
        av_packet_unref(pkt);
        return VMO_OK;
    }
    int rc = VMO_OK;
    if (chunk_boundary(j, pkt))
        rc = chunk_begin(j, pkt);
    if (rc != VMO_OK)
        return rc;
    if (j->chunk == CH_ENCODE) {
        rc = decode_packet(j, pkt);
        av_packet_unref(pkt);
        return rc == VMO_OK ? pending_flush(j) : rc;
    }
    rc = chunk_push(j, pkt);
    if (rc == VMO_OK && j->buf_bytes > EX_CHUNK_CAP) {
        /* A huge GOP: write what is buffered; its tail can no longer be re-encoded. */
        int chunk = j->chunk;
        rc = chunk_finish(j);
        j->chunk = chunk;
        j->chunk_flushed = 1;
    }
    return rc;
}

static int on_other(ex_job *j, AVPacket *pkt)
{
    int si = pkt->stream_index;
    AVStream *st = j->in.fmt->streams[si];
    if (pkt->pts == AV_NOPTS_VALUE)
        pkt->pts = pkt->dts;
    if (pkt->pts == AV_NOPTS_VALUE) {
        av_packet_unref(pkt);
        return VMO_OK;
    }
    int64_t t = av_rescale_q(pkt->pts, st->time_base, j->in.vst->time_base);
    if (t >= j->aud_hi)
        j->passed[si] = 1;
    if (st->codecpar->codec_type == AVMEDIA_TYPE_VIDEO && !j->started[si]) {
        if (!(pkt->flags & AV_PKT_FLAG_KEY) || t < j->lo) {
            av_packet_unref(pkt);
            return VMO_OK;
        }
        j->started[si] = 1;
    }
    if (j->chunk == CH_COPY)
        return chunk_push(j, pkt);
    if (j->origin == AV_NOPTS_VALUE)
        return pending_push(j, pkt);
    return write_other(j, pkt);
}

/* Enough read: the video passed its end and so did every other stream (or a second of
 * interleaving slack went by). */
static int part_done(const ex_job *j, const AVPacket *pkt)
{
    if (!j->video_done)
        return 0;
    AVStream *st = j->in.fmt->streams[pkt->stream_index];
    int64_t t = av_rescale_q(pkt->dts != AV_NOPTS_VALUE ? pkt->dts : pkt->pts, st->time_base,
                             j->in.vst->time_base);
    if (t != AV_NOPTS_VALUE && input_sec(&j->in, t) > input_sec(&j->in, j->aud_hi) + 1.0)
        return 1;
    for (unsigned i = 0; i < j->in.fmt->nb_streams && i < EX_MAX_STREAMS; i++)
        if (j->map[i] >= 0 && (int)i != j->in.vidx && !j->passed[i])
            return 0;
    return 1;
}

/* ---- one part (one source file) ---- */

static int seek_start(ex_job *j, int64_t target)
{
    int ret = avformat_seek_file(j->in.fmt, j->in.vidx, INT64_MIN, target, target, 0);
    if (ret < 0)
        ret = avformat_seek_file(j->in.fmt, j->in.vidx, INT64_MIN, target, target, AVSEEK_FLAG_ANY);
    return ret < 0 ? ret : 0;
}

static int read_part(ex_job *j)
{
    int rc = VMO_OK;
    while (rc == VMO_OK && !j->retry) {
        int ret = av_read_frame(j->in.fmt, j->pkt);
        if (ret == AVERROR_EOF || ret == AVERROR(EIO) || ret == AVERROR_INVALIDDATA)
            break; /* the end, or a truncated file: keep what was read */
        if (ret < 0)
            return av_err(j->err, VMO_ERR_IO, ret, "cannot read",
                          j->res->clips[j->item->parts[j->part].clip].path);
        int si = j->pkt->stream_index;
        if (si >= EX_MAX_STREAMS || j->map[si] < 0) {
            av_packet_unref(j->pkt);
            continue;
        }
        int done = part_done(j, j->pkt);
        if (done) {
            av_packet_unref(j->pkt);
            break;
        }
        rc = si == j->in.vidx ? on_video(j, j->pkt) : on_other(j, j->pkt);
    }
    return rc;
}

static int part_finish(ex_job *j)
{
    int rc = chunk_finish(j);
    if (rc == VMO_OK && j->chunk == CH_ENCODE)
        rc = j->plan == PLAN_SMART ? encode_run_end(j) : decode_packet(j, NULL);
    j->chunk = CH_NONE;
    if (rc == VMO_OK && j->origin == AV_NOPTS_VALUE)
        return vmo_err_set(j->err, VMO_ERR_DECODE, "no frame of %s lies in the exported span",
                           j->res->clips[j->item->parts[j->part].clip].path);
    if (rc == VMO_OK)
        rc = pending_flush(j);
    return rc;
}

/* Maps the part's streams onto the output's by media type and rank. */
static void part_map(ex_job *j)
{
    int rank[AVMEDIA_TYPE_NB] = { 0 };
    for (unsigned i = 0; i < j->in.fmt->nb_streams && i < EX_MAX_STREAMS; i++) {
        const AVStream *st = j->in.fmt->streams[i];
        int type = st->codecpar->codec_type;
        j->map[i] = -1;
        j->started[i] = j->passed[i] = 0;
        if ((int)i == j->in.vidx) {
            j->map[i] = 0;
            continue;
        }
        if (type < 0 || type >= AVMEDIA_TYPE_NB)
            continue;
        int r = rank[type]++;
        for (int o = 1; o < j->nos; o++)
            if (j->os[o].type == type && j->os[o].ordinal == r &&
                j->os[o].st->codecpar->codec_id == st->codecpar->codec_id)
                j->map[i] = o;
    }
}

/* Bounds of part `p` in the source: smart and full plans start at the exact frame, the copy
 * plan at the keyframe before it. */
static void part_bounds(ex_job *j, const vmo_export_part *p)
{
    ex_input *in = &j->in;
    int64_t half = in->fdur / 2;
    int last = j->part == j->nparts - 1;
    j->lo = j->part == 0 ? input_ts(in, p->start) - half : INT64_MIN / 2;
    j->hi = input_ts(in, p->end) + half;
    /* Padded ends fall on a frame (its start) or, at a clip's end, on the end of the last
     * frame; other streams stop at the end of the last frame either way. */
    j->aud_hi = last ? input_ts(in, p->end) + in->fdur : input_ts(in, p->end);
    j->seek_ts = j->part == 0 ? j->lo + in->fdur - 1 : in->origin;
    if (j->plan == PLAN_COPY)
        j->lo = INT64_MIN / 2; /* everything from the keyframe on */
}

static void part_reset(ex_job *j)
{
    packets_clear(j->pending, &j->npending);
    memset(j->started, 0, sizeof(j->started));
    memset(j->passed, 0, sizeof(j->passed));
    j->retry = 0;
    j->first_key = j->origin = AV_NOPTS_VALUE;
    j->last_end = INT64_MIN;
    j->video_done = 0;
    j->nchunks = 0;
    j->chunk = CH_NONE;
}

/* Seek targets: the start, then 1, 3, 7 and 15 s before it, then the file's start, for
 * demuxers that land after the keyframe wanted (no index). */
static int64_t seek_target(const ex_job *j, int attempt)
{
    int64_t step = av_rescale_q(1000000, us_q, j->in.vst->time_base);
    int64_t target = attempt < 5 ? j->seek_ts - step * ((1 << attempt) - 1) : j->in.origin;
    return VMO_MAX(target, j->in.origin);
}

/* Reads the part, retrying from further back when the seek landed after the start. */
static int part_read(ex_job *j)
{
    int rc = VMO_OK;
    for (int attempt = 0; attempt < 6; attempt++) {
        part_reset(j);
        j->target = j->in.origin;
        if (j->part == 0) {
            j->target = seek_target(j, attempt);
            if (seek_start(j, j->target) < 0)
                j->target = j->in.origin; /* not seekable: read on from here */
        }
        rc = read_part(j);
        if (rc != VMO_OK || !j->retry)
            break;
    }
    return rc;
}

static int part_run(ex_job *j)
{
    const vmo_export_part *p = &j->item->parts[j->part];
    const vmo_clip_data *clip = &j->res->clips[p->clip];
    int rc = VMO_OK;
    if (j->part > 0 || !j->in.fmt)
        rc = input_open(&j->in, clip->path, &j->ex->bytes_demuxed, j->err);
    if (rc != VMO_OK)
        return rc;
    part_bounds(j, p);
    part_map(j);
    rc = part_read(j);
    if (rc == VMO_OK)
        rc = part_finish(j);
    if (rc != VMO_OK)
        return rc;
    /* What was taken from this file, and where the next part starts on the timeline. */
    vmo_export_part *done = &j->item->parts[j->part];
    done->start = input_sec(&j->in, j->origin);
    done->end = input_sec(&j->in, j->last_end);
    j->base_us += av_rescale_q(j->last_end - j->origin, j->in.vst->time_base, us_q);
    avcodec_free_context(&j->dec);
    input_close(&j->in);
    return VMO_OK;
}

/* ---- output streams ---- */

static int add_stream(ex_job *j, const AVStream *in, int type, int ordinal, int main)
{
    if (j->nos >= EX_MAX_STREAMS)
        return VMO_OK;
    AVStream *st = avformat_new_stream(j->ofmt, NULL);
    if (!st || avcodec_parameters_copy(st->codecpar, in->codecpar) < 0)
        return vmo_err_set(j->err, VMO_ERR_NO_MEMORY, "out of memory");
    st->codecpar->codec_tag = 0; /* let the muxer pick the tag of its container */
    st->time_base = in->time_base;
    st->disposition = in->disposition;
    av_dict_copy(&st->metadata, in->metadata, 0);
    for (int i = 0; i < in->nb_side_data; i++) {
        const AVPacketSideData *sd = &in->side_data[i];
        uint8_t *dst = av_stream_new_side_data(st, sd->type, sd->size);
        if (!dst)
            return vmo_err_set(j->err, VMO_ERR_NO_MEMORY, "out of memory");
        memcpy(dst, sd->data, sd->size);
    }
    j->os[j->nos++] = (ex_ostream){ st, type, ordinal, main, AV_NOPTS_VALUE };
    return VMO_OK;
}

/* Every stream of the first source that the container can hold; the main video first. */
static int add_streams(ex_job *j)
{
    int rc = add_stream(j, j->in.vst, AVMEDIA_TYPE_VIDEO, -1, 1);
    int rank[AVMEDIA_TYPE_NB] = { 0 };
    for (unsigned i = 0; rc == VMO_OK && i < j->in.fmt->nb_streams; i++) {
        const AVStream *st = j->in.fmt->streams[i];
        int type = st->codecpar->codec_type;
        if ((int)i == j->in.vidx || type < 0 || type >= AVMEDIA_TYPE_NB)
            continue;
        int r = rank[type]++;
        if (type != AVMEDIA_TYPE_AUDIO && type != AVMEDIA_TYPE_SUBTITLE &&
            type != AVMEDIA_TYPE_VIDEO && type != AVMEDIA_TYPE_DATA)
            continue;
        if ((st->disposition & AV_DISPOSITION_ATTACHED_PIC) ||
            avformat_query_codec(j->ofmt->oformat, st->codecpar->codec_id, FF_COMPLIANCE_NORMAL) !=
                1) {
            char what[128];
            snprintf(what, sizeof(what), "stream %u (%s) dropped: the container cannot hold it", i,
                     avcodec_get_name(st->codecpar->codec_id));
            note(j, what);
            continue;
        }
        rc = add_stream(j, st, type, r, 0);
    }
    return rc;
}

/* The smart plan's video stream: the source's avcC joined with libx264's parameter sets. */
static int smart_extradata(ex_job *j)
{
    const AVCodecParameters *par = j->in.vst->codecpar;
    vmo_avcc_info a;
    vmo_avcc_parse(par->extradata, par->extradata_size, &a);
    int rc = encoder_open(j, &j->enc);
    if (rc != VMO_OK)
        return rc;
    j->enc_ps = av_memdup(j->enc->extradata, (size_t)j->enc->extradata_size);
    j->enc_ps_size = j->enc->extradata_size;
    uint8_t *joint;
    int size;
    if (!j->enc_ps || vmo_avcc_join(par->extradata, par->extradata_size, &a, j->enc, &joint, &size))
        return vmo_err_set(j->err, VMO_ERR_UNSUPPORTED, "cannot join parameter sets");
    AVCodecParameters *op = j->os[0].st->codecpar;
    av_freep(&op->extradata);
    op->extradata = joint;
    op->extradata_size = size;
    return VMO_OK;
}

/* The full plan's video stream takes the encoder's parameters. */
static int full_stream(ex_job *j)
{
    int rc = encoder_open(j, &j->enc);
    if (rc != VMO_OK)
        return rc;
    AVStream *st = j->os[0].st;
    if (avcodec_parameters_from_context(st->codecpar, j->enc) < 0)
        return vmo_err_set(j->err, VMO_ERR_NO_MEMORY, "out of memory");
    st->codecpar->codec_tag = 0;
    st->time_base = j->enc_tb;
    return VMO_OK;
}

/* ---- plan ---- */

static int same_video(const AVCodecParameters *a, const AVCodecParameters *b)
{
    return a->codec_id == b->codec_id && a->width == b->width && a->height == b->height &&
           a->format == b->format && a->extradata_size == b->extradata_size &&
           (!a->extradata_size || !memcmp(a->extradata, b->extradata, (size_t)a->extradata_size));
}

/* Whether every later source can be appended by copying packets. */
static int parts_compatible(ex_job *j, int *compatible)
{
    *compatible = 1;
    for (int p = 1; p < j->item->nparts && *compatible; p++) {
        ex_input other;
        int rc = input_open(&other, j->res->clips[j->item->parts[p].clip].path,
                            &j->ex->bytes_demuxed, j->err);
        if (rc != VMO_OK)
            return rc;
        *compatible = same_video(j->in.vst->codecpar, other.vst->codecpar);
        input_close(&other);
    }
    return VMO_OK;
}

static void set_reason(ex_job *j, int reenc, const char *why)
{
    j->item->reencoded = reenc;
    snprintf(j->item->reason, sizeof(j->item->reason), "%s", why);
}

static int choose_plan(ex_job *j)
{
    int compatible;
    int rc = parts_compatible(j, &compatible);
    if (rc != VMO_OK)
        return rc;
    j->plan = PLAN_FULL;
    if (j->ex->redact != VMO_REDACT_NONE) {
        if (vmo_redact_has_masks(&j->res->zones)) {
            set_reason(j, VMO_REENC_ALL, "privacy masks redacted");
            return VMO_OK;
        }
        note(j, "redaction asked, but the result has no privacy mask: nothing to redact");
    }
    if (j->ex->mode == VMO_MODE_REENCODE) {
        set_reason(j, VMO_REENC_ALL, "re-encode requested");
        return VMO_OK;
    }
    if (!compatible) {
        set_reason(j, VMO_REENC_ALL, "the source files differ in video parameters");
        return VMO_OK;
    }
    if (j->ex->mode == VMO_MODE_COPY) {
        j->plan = PLAN_COPY;
        return VMO_OK;
    }
    vmo_avcc_info a;
    const char *why = vmo_smartcut_obstacle(j->in.vst->codecpar, &a);
    if (*why) {
        set_reason(j, VMO_REENC_ALL, why);
        return VMO_OK;
    }
    j->plan = PLAN_SMART;
    j->nal_len = a.nal_len;
    j->sps_id = vmo_smartcut_sps_id(&a);
    j->profile = vmo_smartcut_profile(j->in.vst->codecpar);
    return VMO_OK;
}

/* ---- the job ---- */

static void job_free(ex_job *j)
{
    packets_clear(j->buf, &j->nbuf);
    packets_clear(j->pending, &j->npending);
    free(j->buf);
    free(j->pending);
    avcodec_free_context(&j->dec);
    avcodec_free_context(&j->enc);
    av_freep(&j->enc_ps);
    sws_freeContext(j->sws);
    av_frame_free(&j->conv);
    av_frame_free(&j->frame);
    av_packet_free(&j->pkt);
    av_packet_free(&j->opkt);
    free(j->mask);
    input_close(&j->in);
    output_close(j);
}

static int job_setup(ex_job *j)
{
    j->pkt = av_packet_alloc();
    j->opkt = av_packet_alloc();
    j->frame = av_frame_alloc();
    if (!j->pkt || !j->opkt || !j->frame)
        return vmo_err_set(j->err, VMO_ERR_NO_MEMORY, "out of memory");
    const vmo_clip_data *clip0 = &j->res->clips[j->item->parts[0].clip];
    int rc = input_open(&j->in, clip0->path, &j->ex->bytes_demuxed, j->err);
    if (rc == VMO_OK)
        rc = choose_plan(j);
    if (rc == VMO_OK)
        rc = output_open(j);
    if (rc != VMO_OK)
        return rc;
    j->wall0 = clip0->info.wall_start;
    j->enc_tb = j->in.vst->time_base;
    j->enc_dur = j->in.fdur;
    rc = add_streams(j);
    if (rc == VMO_OK && j->plan == PLAN_SMART)
        rc = smart_extradata(j);
    if (rc == VMO_OK && j->plan == PLAN_FULL)
        rc = full_stream(j);
    return rc;
}

static int job_close(ex_job *j)
{
    int rc = VMO_OK;
    if (j->plan == PLAN_FULL && j->enc)
        rc = encoder_drain(j, NULL);
    if (rc == VMO_OK && !j->header_written)
        return vmo_err_set(j->err, VMO_ERR_DECODE, "nothing to export for event %d",
                           j->item->event);
    if (rc == VMO_OK) {
        int ret = av_write_trailer(j->ofmt);
        if (ret >= 0)
            avio_flush(j->oio);
        if (ret >= 0 && j->oio->error < 0)
            ret = j->oio->error;
        if (ret < 0)
            rc = job_fail(j, ret, "cannot finish");
    }
    if (rc == VMO_OK)
        rc = vmo_afile_finish(&j->item->file, j->err);
    return rc;
}

/* Why a smart cut re-encoded what it did. */
static void smart_reason(ex_job *j)
{
    vmo_export_item *it = j->item;
    int64_t head = it->frames_encoded - j->tail_frames;
    it->reencoded = it->frames_copied > 0 ? VMO_REENC_PARTIAL : VMO_REENC_ALL;
    if (it->frames_copied == 0) {
        snprintf(it->reason, sizeof(it->reason),
                 "precise cut: no part of the span can be copied (no IDR frame inside, or "
                 "B-frames refer past its end)");
        return;
    }
    char part[2][128] = { "", "" };
    if (head > 0)
        snprintf(part[0], sizeof(part[0]), "%lld frame(s) before the first IDR frame",
                 (long long)head);
    if (j->tail_frames > 0)
        snprintf(part[1], sizeof(part[1]),
                 "%s%lld frame(s) of the last GOP (its B-frames refer past the end)",
                 head > 0 ? " and " : "", (long long)j->tail_frames);
    snprintf(it->reason, sizeof(it->reason), "precise cut: %s%s re-encoded", part[0], part[1]);
}

static void job_summary(ex_job *j)
{
    vmo_export_item *it = j->item;
    it->duration = (double)j->base_us / 1e6;
    it->wall_end = it->wall_start + it->duration;
    if (j->plan == PLAN_SMART && it->frames_encoded > 0)
        smart_reason(j);
    if (j->extra_frames > 0) {
        char text[128];
        snprintf(text, sizeof(text),
                 "%lld frame(s) after the end copied: B-frames before them refer to them",
                 (long long)j->extra_frames);
        note(j, text);
    }
}

/* Exports one item (its parts already filled from the event). */
static int export_item(vmo_export *ex, const vmo_result *res, vmo_export_item *it)
{
    ex_job j;
    memset(&j, 0, sizeof(j));
    j.ex = ex;
    j.res = res;
    j.item = it;
    j.err = &ex->err;
    j.nparts = it->nparts;
    j.in.fd = -1;
    it->wall_start = it->wall_end = NAN;
    int rc = job_setup(&j);
    for (j.part = 0; rc == VMO_OK && j.part < j.nparts; j.part++)
        rc = part_run(&j);
    j.part = j.nparts - 1;
    if (rc == VMO_OK)
        rc = job_close(&j);
    if (rc == VMO_OK)
        job_summary(&j);
    job_free(&j);
    return rc;
}

/* ------------------------------------------------------------------------------------------
 * Runs: naming, existence checks, hashing, commit
 * ---------------------------------------------------------------------------------------- */

static void items_free(vmo_export *ex, int rollback)
{
    for (int i = 0; i < ex->nitems; i++) {
        vmo_export_item *it = &ex->items[i];
        vmo_afile_discard(&it->file, rollback);
        vmo_afile_discard(&it->thumb_file, rollback);
        free(it->path);
        free(it->thumb);
        free(it->parts);
    }
    free(ex->items);
    ex->items = NULL;
    ex->nitems = 0;
    for (int i = 0; i < ex->nsources; i++)
        free(ex->sources[i].path);
    free(ex->sources);
    ex->sources = NULL;
    ex->nsources = 0;
    free(ex->manifest_written);
    ex->manifest_written = NULL;
}

static char *path_join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", name);
    return p;
}

/* "ev003-porch-20260704T140002.440Z": event index, zone, wall-clock start (else the clip
 * second), so names sort by time and never depend on the source file names. */
static void item_name(const vmo_result *res, int index, const vmo_event *ev, char *buf, size_t size)
{
    const char *zone = vmo_result_zone_name(res, ev->zone);
    char when[48];
    const vmo_clip_data *c = &res->clips[ev->clip];
    if (!isnan(c->info.wall_start)) {
        double w = c->info.wall_start + ev->clip_start;
        time_t secs = (time_t)floor(w);
        struct tm tm;
        gmtime_r(&secs, &tm);
        snprintf(when, sizeof(when), "%04d%02d%02dT%02d%02d%02d.%03dZ", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                 VMO_MIN(999, (int)lround((w - (double)secs) * 1000)));
    } else {
        snprintf(when, sizeof(when), "clip%d-t%.3f", ev->clip, ev->clip_start);
    }
    snprintf(buf, size, "ev%03d-%s-%s", index, zone ? zone : "zone", when);
}

static int item_parts(const vmo_result *res, int e, const vmo_event *ev, vmo_export_item *it)
{
    it->parts = calloc((size_t)VMO_MAX(1, ev->source_count), sizeof(vmo_export_part));
    if (!it->parts)
        return VMO_ERR_NO_MEMORY;
    for (int s = 0; s < ev->source_count; s++) {
        vmo_event_source src = { .struct_size = sizeof(src) };
        if (vmo_result_event_source(res, e, s, &src) != VMO_OK)
            return VMO_ERR_INVALID_ARG;
        it->parts[s] = (vmo_export_part){ src.clip, src.clip_start, src.clip_end };
    }
    it->nparts = ev->source_count;
    if (it->nparts == 0) {
        it->parts[0] = (vmo_export_part){ ev->clip, ev->clip_start, ev->clip_end };
        it->nparts = 1;
    }
    return VMO_OK;
}

static int plan_item(vmo_export *ex, const vmo_result *res, int e, int clips, int thumbs)
{
    vmo_event ev = { .struct_size = sizeof(ev) };
    vmo_result_event(res, e, &ev);
    vmo_export_item *it = &ex->items[ex->nitems++];
    memset(it, 0, sizeof(*it));
    vmo_afile_init(&it->file);
    vmo_afile_init(&it->thumb_file);
    it->event = e;
    it->wall_start = it->wall_end = NAN;
    char name[160], file[200];
    item_name(res, e, &ev, name, sizeof(name));
    if (clips) {
        snprintf(file, sizeof(file), "%s.%s", name, format_names[ex->format]);
        if (!(it->path = path_join(ex->dir, file)))
            return VMO_ERR_NO_MEMORY;
    }
    if (thumbs) {
        snprintf(file, sizeof(file), "%s.png", name);
        if (!(it->thumb = path_join(ex->dir, file)))
            return VMO_ERR_NO_MEMORY;
    }
    return item_parts(res, e, &ev, it);
}

static int check_free(vmo_export *ex, const char *path)
{
    if (!path || ex->overwrite)
        return VMO_OK;
    struct stat st;
    if (lstat(path, &st) == 0)
        return vmo_err_set(&ex->err, VMO_ERR_EXISTS, "%s exists (set \"overwrite\" to replace it)",
                           path);
    return VMO_OK;
}

/* Names every output, and refuses before any work when one exists. */
static int plan_run(vmo_export *ex, const vmo_result *res, int clips, int thumbs)
{
    int n = vmo_result_event_count(res);
    ex->items = calloc((size_t)VMO_MAX(1, n), sizeof(vmo_export_item));
    if (!ex->items)
        return vmo_err_set(&ex->err, VMO_ERR_NO_MEMORY, "out of memory");
    for (int e = 0; e < n; e++) {
        vmo_event ev = { .struct_size = sizeof(ev) };
        vmo_result_event(res, e, &ev);
        if (ev.kind != VMO_EVENT_MOTION)
            continue;
        if (plan_item(ex, res, e, clips, thumbs) != VMO_OK)
            return vmo_err_set(&ex->err, VMO_ERR_NO_MEMORY, "out of memory");
    }
    for (int i = 0; i < ex->nitems; i++) {
        int rc = check_free(ex, ex->items[i].path);
        if (rc == VMO_OK)
            rc = check_free(ex, ex->items[i].thumb);
        if (rc != VMO_OK)
            return rc;
        for (int k = 0; k < i; k++)
            if (ex->items[i].path && !strcmp(ex->items[i].path, ex->items[k].path))
                return vmo_err_set(&ex->err, VMO_ERR_INVALID_ARG, "two outputs named %s",
                                   ex->items[i].path);
    }
    return VMO_OK;
}

static int check_dir(vmo_export *ex)
{
    if (!ex->dir)
        return vmo_err_set(&ex->err, VMO_ERR_INVALID_ARG, "export option \"dir\" is not set");
    struct stat st;
    if (stat(ex->dir, &st) != 0)
        return vmo_err_set(&ex->err, errno == ENOENT ? VMO_ERR_NOT_FOUND : VMO_ERR_IO,
                           "output folder %s: %s", ex->dir, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return vmo_err_set(&ex->err, VMO_ERR_INVALID_ARG, "output folder %s is not a folder",
                           ex->dir);
    return VMO_OK;
}

static int write_thumb(vmo_export *ex, const vmo_result *res, vmo_export_item *it)
{
    vmo_event ev = { .struct_size = sizeof(ev) };
    vmo_result_event(res, it->event, &ev);
    int clip = ev.peak_clip >= 0 && ev.peak_clip < res->nclips ? ev.peak_clip : ev.clip;
    if (!it->path) /* a preview: its one frame is the peak */
        it->wall_start = it->wall_end = res->clips[clip].info.wall_start + ev.peak_time;
    int rc = vmo_afile_open(&it->thumb_file, it->thumb, &ex->err);
    if (rc == VMO_OK)
        rc = vmo_thumbnail_write(res->clips[clip].path, ev.peak_time, &res->zones, ex->redact,
                                 &it->thumb_file, &ex->err);
    if (rc == VMO_OK)
        rc = vmo_afile_finish(&it->thumb_file, &ex->err);
    if (rc == VMO_OK)
        rc = vmo_sha256_file(it->thumb_file.tmp_path, it->thumb_sha256, &it->thumb_size, &ex->err);
    return rc;
}

static int export_all(vmo_export *ex, const vmo_result *res)
{
    for (int i = 0; i < ex->nitems; i++) {
        vmo_export_item *it = &ex->items[i];
        int rc = VMO_OK;
        if (it->path) {
            rc = export_item(ex, res, it);
            if (rc == VMO_OK)
                rc = vmo_sha256_file(it->file.tmp_path, it->sha256, &it->size_bytes, &ex->err);
        }
        if (rc == VMO_OK && it->thumb)
            rc = write_thumb(ex, res, it);
        if (rc != VMO_OK)
            return rc;
    }
    return VMO_OK;
}

/* Sources of the outputs, each hashed once. */
static int hash_sources(vmo_export *ex, const vmo_result *res)
{
    ex->sources = calloc((size_t)VMO_MAX(1, res->nclips), sizeof(vmo_export_source));
    if (!ex->sources)
        return vmo_err_set(&ex->err, VMO_ERR_NO_MEMORY, "out of memory");
    for (int c = 0; c < res->nclips; c++) {
        int used = 0;
        for (int i = 0; i < ex->nitems && !used; i++)
            for (int p = 0; p < ex->items[i].nparts; p++)
                used |= ex->items[i].parts[p].clip == c;
        if (!used)
            continue;
        vmo_export_source *s = &ex->sources[ex->nsources++];
        s->clip = c;
        char *abs = realpath(res->clips[c].path, NULL);
        s->path = abs ? abs : vmo_strdup(res->clips[c].path);
        if (!s->path)
            return vmo_err_set(&ex->err, VMO_ERR_NO_MEMORY, "out of memory");
        int rc = vmo_sha256_file(res->clips[c].path, s->sha256, &s->size_bytes, &ex->err);
        if (rc != VMO_OK)
            return rc;
    }
    return VMO_OK;
}

static int fsync_folder(const char *dir, vmo_errbuf *err)
{
    char *probe = path_join(dir, "x"); /* vmo_fsync_dir syncs the folder of a path */
    int rc = probe ? vmo_fsync_dir(probe, err) : vmo_err_set(err, VMO_ERR_NO_MEMORY, "no memory");
    free(probe);
    return rc;
}

/* Renames everything into place, the manifest last (the commit point). */
static int commit_all(vmo_export *ex, vmo_afile *manifest)
{
    int rc = VMO_OK;
    for (int i = 0; i < ex->nitems && rc == VMO_OK; i++) {
        if (ex->items[i].path)
            rc = vmo_afile_commit(&ex->items[i].file, ex->overwrite, &ex->err);
        if (rc == VMO_OK && ex->items[i].thumb)
            rc = vmo_afile_commit(&ex->items[i].thumb_file, ex->overwrite, &ex->err);
    }
    if (rc == VMO_OK)
        rc = fsync_folder(ex->dir, &ex->err);
    if (rc == VMO_OK && manifest)
        rc = vmo_afile_commit(manifest, ex->overwrite, &ex->err);
    if (rc == VMO_OK && manifest)
        rc = vmo_fsync_dir(manifest->final_path, &ex->err);
    return rc;
}

static char *manifest_path(const vmo_export *ex)
{
    return ex->manifest ? vmo_strdup(ex->manifest) : path_join(ex->dir, "manifest.json");
}

static int run_common(vmo_export *ex, const vmo_result *res, int clips)
{
    items_free(ex, 0);
    ex->bytes_demuxed = 0;
    vmo_err_clear(&ex->err);
    int rc = check_dir(ex);
    if (rc != VMO_OK)
        return rc;
    char *mpath = clips ? manifest_path(ex) : NULL;
    if (clips && !mpath)
        return vmo_err_set(&ex->err, VMO_ERR_NO_MEMORY, "out of memory");
    rc = plan_run(ex, res, clips, clips ? ex->thumbnails : 1);
    if (rc == VMO_OK)
        rc = check_free(ex, mpath);
    if (rc == VMO_OK && clips)
        rc = hash_sources(ex, res);
    if (rc == VMO_OK)
        rc = export_all(ex, res);
    vmo_afile manifest;
    vmo_afile_init(&manifest);
    if (rc == VMO_OK && clips) {
        rc = vmo_afile_open(&manifest, mpath, &ex->err);
        if (rc == VMO_OK)
            rc = vmo_manifest_write(ex, res, &manifest, &ex->err);
        if (rc == VMO_OK)
            rc = vmo_afile_finish(&manifest, &ex->err);
    }
    if (rc == VMO_OK)
        rc = commit_all(ex, clips ? &manifest : NULL);
    if (rc == VMO_OK && clips) {
        ex->manifest_written = mpath;
        mpath = NULL;
    }
    /* Failure: nothing of this run stays, neither temporary files nor renamed ones. */
    vmo_afile_discard(&manifest, rc != VMO_OK);
    free(mpath);
    if (rc != VMO_OK)
        items_free(ex, 1);
    else
        for (int i = 0; i < ex->nitems; i++) {
            vmo_afile_discard(&ex->items[i].file, 0);
            vmo_afile_discard(&ex->items[i].thumb_file, 0);
        }
    return rc;
}

int vmo_export_run(vmo_export *ex, const vmo_result *res)
{
    if (!ex || !res)
        return VMO_ERR_INVALID_ARG;
    return run_common(ex, res, 1);
}

int vmo_export_thumbnails(vmo_export *ex, const vmo_result *res)
{
    if (!ex || !res)
        return VMO_ERR_INVALID_ARG;
    return run_common(ex, res, 0);
}
