/* Export parts: one source file's share of an output, read packet by packet after a seek to
 * the keyframe before its start, its packets grouped into chunks that are either copied or
 * re-encoded (export_job.h tells how). */
#include <stdlib.h>
#include <string.h>

#include "export_job.h"
#include "smartcut.h"

/* A copied chunk (one GOP) is buffered to judge its tail; past this it is written early. */
#define EX_CHUNK_CAP ((size_t)256 << 20)

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
    int64_t off = vmo_job_part_offset(j, j->in.vst->time_base);
    if (pkt->duration <= 0)
        pkt->duration = j->in.fdur;
    j->last_end = VMO_MAX(j->last_end, pkt->pts + pkt->duration);
    pkt->pts += off;
    if (pkt->dts != AV_NOPTS_VALUE)
        pkt->dts += off;
    j->item->frames_copied++;
    return vmo_job_write_out(j, 0, pkt, j->in.vst->time_base);
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
            vmo_job_set_origin(j, first);
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
    int rc = vmo_job_encode_run_begin(j, 1);
    j->in_tail = 1;
    for (int i = 0; i < j->nbuf && rc == VMO_OK; i++)
        if (j->buf[i]->stream_index == j->in.vidx)
            rc = vmo_job_decode_packet(j, j->buf[i]);
    if (rc == VMO_OK)
        rc = vmo_job_encode_run_end(j);
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
        rc = vmo_job_pending_flush(j);
    for (int i = 0; i < j->nbuf && rc == VMO_OK; i++)
        if (j->buf[i]->stream_index != j->in.vidx && j->buf[i]->data)
            rc = vmo_job_write_other(j, j->buf[i]);
    vmo_packets_clear(j->buf, &j->nbuf);
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
        vmo_packets_clear(j->buf, &j->nbuf);
        j->buf_bytes = 0;
        j->first_key = key->pts;
        if (j->dec)
            avcodec_flush_buffers(j->dec);
        j->chunk = CH_NONE;
    }
    int rc = chunk_finish(j);
    int state = chunk_state_for(j, key);
    if (rc == VMO_OK && j->chunk == CH_ENCODE && state == CH_COPY)
        rc = vmo_job_encode_run_end(j);
    if (rc == VMO_OK && state == CH_ENCODE && j->chunk != CH_ENCODE)
        rc = vmo_job_encode_run_begin(j, j->chunk == CH_COPY);
    j->chunk = state;
    j->chunk_flushed = 0;
    j->nchunks++;
    return rc;
}

/* Whether a video packet read before the part's first keyframe is that keyframe. Packets
 * before it cannot be decoded; a keyframe after the start means the seek landed too late
 * (j->retry: seek further back). */
static int first_keyframe(ex_job *j, const AVPacket *pkt)
{
    if (!(pkt->flags & AV_PKT_FLAG_KEY) || pkt->pts == AV_NOPTS_VALUE)
        return 0;
    if (pkt->pts > j->seek_ts && j->target > j->in.origin) {
        j->retry = 1;
        return 0;
    }
    j->first_key = pkt->pts;
    if (j->plan == PLAN_SMART && pkt->dts != AV_NOPTS_VALUE)
        j->shift = av_rescale_q(pkt->pts - pkt->dts, j->in.vst->time_base, j->enc_tb);
    return 1;
}

static int on_video(ex_job *j, AVPacket *pkt)
{
    if (pkt->pts == AV_NOPTS_VALUE)
        pkt->pts = pkt->dts;
    if (j->first_key == AV_NOPTS_VALUE && !first_keyframe(j, pkt)) {
        av_packet_unref(pkt);
        return VMO_OK;
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
        rc = vmo_job_decode_packet(j, pkt);
        av_packet_unref(pkt);
        return rc == VMO_OK ? vmo_job_pending_flush(j) : rc;
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
        return vmo_job_pending_push(j, pkt);
    return vmo_job_write_other(j, pkt);
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
    if (t != AV_NOPTS_VALUE && vmo_exin_sec(&j->in, t) > vmo_exin_sec(&j->in, j->aud_hi) + 1.0)
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
            return vmo_av_err(j->err, VMO_ERR_IO, ret, "cannot read",
                              j->res->clips[j->item->parts[j->part].clip].path);
        int si = j->pkt->stream_index;
        /* The video is always read, even past the first EX_MAX_STREAMS streams. */
        if (si != j->in.vidx && (si >= EX_MAX_STREAMS || j->map[si] < 0)) {
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
        rc = j->plan == PLAN_SMART ? vmo_job_encode_run_end(j) : vmo_job_decode_packet(j, NULL);
    j->chunk = CH_NONE;
    if (rc == VMO_OK && j->origin == AV_NOPTS_VALUE)
        return vmo_err_set(j->err, VMO_ERR_DECODE, "no frame of %s lies in the exported span",
                           j->res->clips[j->item->parts[j->part].clip].path);
    if (rc == VMO_OK)
        rc = vmo_job_pending_flush(j);
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
    j->lo = j->part == 0 ? vmo_exin_ts(in, p->start) - half : INT64_MIN / 2;
    j->hi = vmo_exin_ts(in, p->end) + half;
    /* Padded ends fall on a frame (its start) or, at a clip's end, on the end of the last
     * frame; other streams stop at the end of the last frame either way. */
    j->aud_hi = last ? vmo_exin_ts(in, p->end) + in->fdur : vmo_exin_ts(in, p->end);
    j->seek_ts = j->part == 0 ? j->lo + in->fdur - 1 : in->origin;
    if (j->plan == PLAN_COPY)
        j->lo = INT64_MIN / 2; /* everything from the keyframe on */
}

static void part_reset(ex_job *j)
{
    vmo_packets_clear(j->pending, &j->npending);
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
    int64_t step = av_rescale_q(1000000, EX_US_Q, j->in.vst->time_base);
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

int vmo_job_part_run(ex_job *j)
{
    const vmo_export_part *p = &j->item->parts[j->part];
    const vmo_clip_data *clip = &j->res->clips[p->clip];
    int rc = VMO_OK;
    if (j->part > 0 || !j->in.fmt)
        rc = vmo_exin_open(&j->in, clip->path, &j->ex->bytes_demuxed, j->err);
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
    done->start = vmo_exin_sec(&j->in, j->origin);
    done->end = vmo_exin_sec(&j->in, j->last_end);
    j->base_us += av_rescale_q(j->last_end - j->origin, j->in.vst->time_base, EX_US_Q);
    avcodec_free_context(&j->dec);
    vmo_exin_close(&j->in);
    return VMO_OK;
}
