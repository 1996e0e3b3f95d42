/* Export output: the muxer writing into the output's atomic file, and the output timeline
 * (each part's timestamps shifted to follow the previous part; other streams' packets held
 * until the part's first video frame is known, then cut to the output's span). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "export_job.h"

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

int vmo_job_output_open(ex_job *j)
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

void vmo_job_output_close(ex_job *j)
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
        return vmo_job_fail(j, ret, "cannot write the header of");
    j->header_written = 1;
    return VMO_OK;
}

/* Writes a packet whose timestamps are on the output timeline in time base `tb`. */
int vmo_job_write_out(ex_job *j, int oi, AVPacket *pkt, AVRational tb)
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
        return vmo_job_fail(j, ret, "cannot write");
    return VMO_OK;
}

/* ---- timeline ---- */

/* Offset from the part's source timestamps (time base tb) to the output timeline. */
int64_t vmo_job_part_offset(const ex_job *j, AVRational tb)
{
    return av_rescale_q(j->base_us, EX_US_Q, tb) -
           av_rescale_q(j->origin, j->in.vst->time_base, tb);
}

/* The part's first output frame is known: it anchors the part on the output timeline, and
 * for the first part, the output's wall clock. */
void vmo_job_set_origin(ex_job *j, int64_t pts)
{
    j->origin = pts;
    if (j->part == 0 && !isnan(j->wall0))
        j->item->wall_start = j->wall0 + vmo_exin_sec(&j->in, pts);
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

int vmo_job_write_other(ex_job *j, AVPacket *pkt)
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
    int64_t off = vmo_job_part_offset(j, st->time_base);
    pkt->pts += off;
    if (pkt->dts != AV_NOPTS_VALUE)
        pkt->dts += off;
    return vmo_job_write_out(j, oi, pkt, st->time_base);
}

int vmo_job_pending_push(ex_job *j, AVPacket *pkt)
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

void vmo_packets_clear(AVPacket **list, int *n)
{
    for (int i = 0; i < *n; i++)
        av_packet_free(&list[i]);
    *n = 0;
}

int vmo_job_pending_flush(ex_job *j)
{
    if (j->origin == AV_NOPTS_VALUE)
        return VMO_OK;
    int rc = VMO_OK;
    for (int i = 0; i < j->npending && rc == VMO_OK; i++)
        rc = vmo_job_write_other(j, j->pending[i]);
    vmo_packets_clear(j->pending, &j->npending);
    return rc;
}
