/* The export job: one event exported to one output. Chooses the plan, sets up the output's
 * streams, runs its parts in order (export_part.c) and finishes the file; export_job.h
 * describes the plans and chunks. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libswscale/swscale.h>

#include "export_job.h"
#include "smartcut.h"

/* ---- errors ---- */

int vmo_av_err(vmo_errbuf *err, int code, int averr, const char *what, const char *path)
{
    char msg[AV_ERROR_MAX_STRING_SIZE];
    av_strerror(averr, msg, sizeof(msg));
    if (averr == AVERROR(ENOMEM))
        code = VMO_ERR_NO_MEMORY;
    return vmo_err_set(err, code, "%s %s: %s", what, path, msg);
}

int vmo_job_fail(ex_job *j, int averr, const char *what)
{
    if (j->item->file.write_errno)
        return vmo_err_errno(j->err, j->item->file.write_errno, "cannot write",
                             j->item->file.tmp_path);
    if (averr == AVERROR(ENOSPC) || averr == AVERROR(EFBIG) || averr == AVERROR(EDQUOT) ||
        averr == AVERROR(EACCES) || averr == AVERROR(EROFS))
        return vmo_err_errno(j->err, AVUNERROR(averr), what, j->item->file.tmp_path);
    return vmo_av_err(j->err, VMO_ERR_IO, averr, what, j->item->file.final_path);
}

/* ---- notes ---- */

static void note(ex_job *j, const char *text)
{
    char *notes = j->item->notes;
    size_t n = strlen(notes);
    snprintf(notes + n, sizeof(j->item->notes) - n, "%s%s", n ? "; " : "", text);
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

/* Every stream of the first source that the container can hold; the main video first. Only
 * the first EX_MAX_STREAMS input streams can be mapped (export_part.c), and the output holds
 * as many: the others are dropped, and the notes say how many. */
static int add_streams(ex_job *j)
{
    int rc = add_stream(j, j->in.vst, AVMEDIA_TYPE_VIDEO, -1, 1);
    int rank[AVMEDIA_TYPE_NB] = { 0 }, over = 0;
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
        if (i >= EX_MAX_STREAMS || j->nos >= EX_MAX_STREAMS) {
            over++;
            continue;
        }
        rc = add_stream(j, st, type, r, 0);
    }
    if (over > 0) {
        char what[128];
        snprintf(what, sizeof(what), "%d stream(s) dropped: an output holds %d at most", over,
                 EX_MAX_STREAMS);
        note(j, what);
    }
    return rc;
}

/* The smart plan's video stream: the source's avcC joined with libx264's parameter sets. */
static int smart_extradata(ex_job *j)
{
    const AVCodecParameters *par = j->in.vst->codecpar;
    vmo_avcc_info a;
    vmo_avcc_parse(par->extradata, par->extradata_size, &a);
    int rc = vmo_job_encoder_open(j, &j->enc);
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
    int rc = vmo_job_encoder_open(j, &j->enc);
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
        int rc = vmo_exin_open(&other, j->res->clips[j->item->parts[p].clip].path,
                               &j->ex->bytes_demuxed, j->err);
        if (rc != VMO_OK)
            return rc;
        *compatible = same_video(j->in.vst->codecpar, other.vst->codecpar);
        vmo_exin_close(&other);
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
    vmo_packets_clear(j->buf, &j->nbuf);
    vmo_packets_clear(j->pending, &j->npending);
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
    vmo_exin_close(&j->in);
    vmo_job_output_close(j);
}

static int job_setup(ex_job *j)
{
    j->pkt = av_packet_alloc();
    j->opkt = av_packet_alloc();
    j->frame = av_frame_alloc();
    if (!j->pkt || !j->opkt || !j->frame)
        return vmo_err_set(j->err, VMO_ERR_NO_MEMORY, "out of memory");
    const vmo_clip_data *clip0 = &j->res->clips[j->item->parts[0].clip];
    int rc = vmo_exin_open(&j->in, clip0->path, &j->ex->bytes_demuxed, j->err);
    if (rc == VMO_OK)
        rc = choose_plan(j);
    if (rc == VMO_OK)
        rc = vmo_job_output_open(j);
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
        rc = vmo_job_encoder_drain(j, NULL);
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
            rc = vmo_job_fail(j, ret, "cannot finish");
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
    /* Both parts are short (numbers and fixed words): they fit the reason with room. */
    char head_text[64] = "", tail_text[96] = "";
    if (head > 0)
        snprintf(head_text, sizeof(head_text), "%lld frame(s) before the first IDR frame",
                 (long long)head);
    if (j->tail_frames > 0)
        snprintf(tail_text, sizeof(tail_text),
                 "%s%lld frame(s) of the last GOP (its B-frames refer past the end)",
                 head > 0 ? " and " : "", (long long)j->tail_frames);
    snprintf(it->reason, sizeof(it->reason), "precise cut: %s%s re-encoded", head_text,
             tail_text);
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
int vmo_export_job_run(vmo_export *ex, const vmo_result *res, vmo_export_item *it)
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
        rc = vmo_job_part_run(&j);
    j.part = j.nparts - 1;
    if (rc == VMO_OK)
        rc = job_close(&j);
    if (rc == VMO_OK)
        job_summary(&j);
    job_free(&j);
    return rc;
}
