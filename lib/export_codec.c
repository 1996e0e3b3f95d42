/* Export decoding and encoding: the re-encoded runs of the smart and full plans. Frames are
 * decoded, kept when inside the part's span, converted to the encoder's format, redacted and
 * encoded; the encoder's packets go to the output's main video stream. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>

#include "export_job.h"
#include "smartcut.h"

/* libx264 quality of re-encoded frames: visually lossless for the short smart-cut heads,
 * a little lighter for whole re-encodes (docs/export.md states the PSNR bound). */
#define EX_CRF_SMART "16"
#define EX_CRF_FULL  "18"

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
        return vmo_av_err(j->err, VMO_ERR_DECODE, ret, "cannot open the decoder for",
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
/* The source's picture: format, size, aspect, colour and rate, on the output's time base. */
static void encoder_picture(const ex_job *j, const AVCodec *codec, AVCodecContext *c)
{
    const AVCodecParameters *par = j->in.vst->codecpar;
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
}

/* How to encode: quality, and for a smart cut what makes its frames join the source's. */
static void encoder_options(const ex_job *j, const AVCodec *codec, AVCodecContext *c,
                            AVDictionary **o)
{
    const AVCodecParameters *par = j->in.vst->codecpar;
    c->max_b_frames = 0; /* dts == pts: simple joins with copied packets */
    c->gop_size = 250;
    if (j->ofmt->oformat->flags & AVFMT_GLOBALHEADER)
        c->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    if (!strcmp(codec->name, "libx264")) {
        av_dict_set(o, "preset", "fast", 0);
        av_dict_set(o, "crf", j->plan == PLAN_SMART ? EX_CRF_SMART : EX_CRF_FULL, 0);
    }
    if (j->plan == PLAN_SMART) {
        char params[64];
        snprintf(params, sizeof(params), "sps-id=%d:level=%d.%d", j->sps_id, par->level / 10,
                 par->level % 10);
        av_dict_set(o, "profile", j->profile, 0);
        av_dict_set(o, "x264-params", params, 0);
        c->flags |= AV_CODEC_FLAG_GLOBAL_HEADER; /* its SPS/PPS go to the joint avcC */
    }
}

int vmo_job_encoder_open(ex_job *j, AVCodecContext **out)
{
    const AVCodec *codec = j->plan == PLAN_SMART ? avcodec_find_encoder_by_name("libx264")
                                                 : full_encoder(j->in.vst->codecpar);
    if (!codec)
        return vmo_err_set(j->err, VMO_ERR_UNSUPPORTED, "no encoder for the re-encode");
    AVCodecContext *c = avcodec_alloc_context3(codec);
    if (!c)
        return vmo_err_set(j->err, VMO_ERR_NO_MEMORY, "out of memory");
    AVDictionary *o = NULL;
    encoder_picture(j, codec, c);
    encoder_options(j, codec, c, &o);
    int ret = avcodec_open2(c, codec, &o);
    av_dict_free(&o);
    if (ret < 0) {
        avcodec_free_context(&c);
        return vmo_av_err(j->err, VMO_ERR_UNSUPPORTED, ret, "cannot open encoder", codec->name);
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
            return vmo_av_err(j->err, VMO_ERR_UNSUPPORTED, ret, "cannot repack", "x264 output");
        }
        pkt->dts = pkt->pts - j->shift;
    }
    int oi = 0; /* the main video stream is always output stream 0 */
    return vmo_job_write_out(j, oi, pkt, j->enc_tb);
}

int vmo_job_encoder_drain(ex_job *j, const AVFrame *frame)
{
    int ret = avcodec_send_frame(j->enc, frame);
    if (ret < 0 && !(ret == AVERROR_EOF && !frame))
        return vmo_av_err(j->err, VMO_ERR_IO, ret, "encoder failed on", j->item->file.final_path);
    for (;;) {
        ret = avcodec_receive_packet(j->enc, j->opkt);
        if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF)
            return VMO_OK;
        if (ret < 0)
            return vmo_av_err(j->err, VMO_ERR_IO, ret, "encoder failed on",
                              j->item->file.final_path);
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
        vmo_job_set_origin(j, pts);
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
             av_rescale_q(j->base_us, EX_US_Q, j->enc_tb);
    e->pict_type = AV_PICTURE_TYPE_NONE;
    e->key_frame = 0;
    j->item->frames_encoded++;
    j->tail_frames += j->in_tail;
    return vmo_job_encoder_drain(j, e);
}

int vmo_job_decode_packet(ex_job *j, const AVPacket *pkt)
{
    int ret = avcodec_send_packet(j->dec, pkt);
    if (ret < 0 && ret != AVERROR_EOF && ret != AVERROR_INVALIDDATA)
        return vmo_av_err(j->err, VMO_ERR_DECODE, ret, "cannot decode",
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
int vmo_job_encode_run_begin(ex_job *j, int after_copy)
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
    int rc = vmo_job_encoder_open(j, &j->enc);
    if (rc == VMO_OK && (j->enc->extradata_size != j->enc_ps_size ||
                         memcmp(j->enc->extradata, j->enc_ps, (size_t)j->enc_ps_size)))
        rc = vmo_err_set(j->err, VMO_ERR_UNSUPPORTED,
                         "libx264 gave different parameter sets for the same settings");
    return rc;
}

int vmo_job_encode_run_end(ex_job *j)
{
    int rc = vmo_job_decode_packet(j, NULL);
    avcodec_flush_buffers(j->dec);
    if (rc == VMO_OK && j->plan == PLAN_SMART) {
        rc = vmo_job_encoder_drain(j, NULL);
        avcodec_free_context(&j->enc);
    }
    return rc;
}
