/* Thumbnails: the frame at an event's peak as PNG (FFmpeg's png encoder), for a preview
 * before anything is shared. The decoder seeks to the keyframe before the peak and decodes
 * up to the frame nearest to it. */
#include <math.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libswscale/swscale.h>

#include "atomic.h"
#include "redact.h"
#include "export.h"

typedef struct thumb_ctx {
    AVFormatContext *fmt;
    AVCodecContext *dec;
    AVStream *st;
    AVPacket *pkt;
    AVFrame *frame, *best, *rgb;
    int64_t target, half; /* the wanted pts and half a frame (stream time base) */
    vmo_errbuf *err;
    const char *path;
} thumb_ctx;

static void thumb_free(thumb_ctx *c)
{
    avcodec_free_context(&c->dec);
    avformat_close_input(&c->fmt);
    av_packet_free(&c->pkt);
    av_frame_free(&c->frame);
    av_frame_free(&c->best);
    av_frame_free(&c->rgb);
}

static int av_fail(thumb_ctx *c, int code, int averr, const char *what)
{
    char msg[AV_ERROR_MAX_STRING_SIZE];
    av_strerror(averr, msg, sizeof(msg));
    return vmo_err_set(c->err, averr == AVERROR(ENOMEM) ? VMO_ERR_NO_MEMORY : code,
                       "thumbnail of %s: %s: %s", c->path, what, msg);
}

/* Clip second t -> stream pts, counted from the stream's start as the analysis does. */
static void thumb_target(thumb_ctx *c, double t)
{
    AVStream *st = c->st;
    int64_t origin = st->start_time;
    if (origin == AV_NOPTS_VALUE && c->fmt->start_time != AV_NOPTS_VALUE)
        origin = av_rescale_q(c->fmt->start_time, AV_TIME_BASE_Q, st->time_base);
    if (origin == AV_NOPTS_VALUE)
        origin = 0;
    AVRational fr = st->avg_frame_rate.num > 0 ? st->avg_frame_rate : st->r_frame_rate;
    if (fr.num <= 0 || fr.den <= 0)
        fr = (AVRational){ 25, 1 };
    c->half = VMO_MAX(1, av_rescale_q(1, av_inv_q(fr), st->time_base) / 2);
    c->target = origin + av_rescale_q(llround(t * 1e6), (AVRational){ 1, 1000000 }, st->time_base);
}

static int thumb_open(thumb_ctx *c, double t)
{
    int ret = avformat_open_input(&c->fmt, c->path, NULL, NULL);
    if (ret >= 0)
        ret = avformat_find_stream_info(c->fmt, NULL);
    if (ret < 0)
        return av_fail(c, VMO_ERR_CORRUPT, ret, "cannot read");
    const AVCodec *codec = NULL;
    int idx = av_find_best_stream(c->fmt, AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0);
    if (idx < 0 || !codec)
        return vmo_err_set(c->err, VMO_ERR_NO_VIDEO, "thumbnail of %s: no video", c->path);
    c->st = c->fmt->streams[idx];
    c->dec = avcodec_alloc_context3(codec);
    c->pkt = av_packet_alloc();
    c->frame = av_frame_alloc();
    c->best = av_frame_alloc();
    if (!c->dec || !c->pkt || !c->frame || !c->best)
        return vmo_err_set(c->err, VMO_ERR_NO_MEMORY, "out of memory");
    ret = avcodec_parameters_to_context(c->dec, c->st->codecpar);
    c->dec->pkt_timebase = c->st->time_base;
    if (ret >= 0)
        ret = avcodec_open2(c->dec, codec, NULL);
    if (ret < 0)
        return av_fail(c, VMO_ERR_DECODE, ret, "cannot open the decoder");
    thumb_target(c, t);
    /* The keyframe at or before the frame nearest to t. */
    int64_t at = c->target + c->half - 1;
    if (avformat_seek_file(c->fmt, idx, INT64_MIN, at, at, 0) < 0)
        avformat_seek_file(c->fmt, idx, INT64_MIN, at, at, AVSEEK_FLAG_ANY);
    return VMO_OK;
}

/* 1 when the frame just received is the one wanted (kept in c->best). */
static int thumb_take(thumb_ctx *c)
{
    int64_t pts = c->frame->best_effort_timestamp;
    av_frame_unref(c->best);
    av_frame_move_ref(c->best, c->frame);
    return pts != AV_NOPTS_VALUE && pts >= c->target - c->half;
}

static int thumb_receive(thumb_ctx *c, int *found)
{
    for (;;) {
        int ret = avcodec_receive_frame(c->dec, c->frame);
        if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF)
            return VMO_OK;
        if (ret < 0)
            continue; /* damaged: try the next one */
        if (thumb_take(c)) {
            *found = 1;
            return VMO_OK;
        }
    }
}

/* Decodes up to the wanted frame; at the end of the file the last frame stands in. */
static int thumb_decode(thumb_ctx *c)
{
    int found = 0, ret = 0;
    while (!found && (ret = av_read_frame(c->fmt, c->pkt)) >= 0) {
        if (c->pkt->stream_index == c->st->index)
            avcodec_send_packet(c->dec, c->pkt);
        av_packet_unref(c->pkt);
        thumb_receive(c, &found);
    }
    if (!found) {
        avcodec_send_packet(c->dec, NULL);
        thumb_receive(c, &found);
    }
    if (!c->best->data[0])
        return vmo_err_set(c->err, VMO_ERR_DECODE, "thumbnail of %s: no frame decodes", c->path);
    return VMO_OK;
}

static int thumb_rgb(thumb_ctx *c, const vmo_zone_set *zones, int redact)
{
    AVFrame *s = c->best;
    c->rgb = av_frame_alloc();
    if (!c->rgb)
        return vmo_err_set(c->err, VMO_ERR_NO_MEMORY, "out of memory");
    c->rgb->format = AV_PIX_FMT_RGB24;
    c->rgb->width = s->width;
    c->rgb->height = s->height;
    struct SwsContext *sws = sws_getContext(s->width, s->height, s->format, s->width, s->height,
                                            AV_PIX_FMT_RGB24, SWS_BICUBIC, NULL, NULL, NULL);
    int rc = sws && av_frame_get_buffer(c->rgb, 0) >= 0 ? VMO_OK : VMO_ERR_NO_MEMORY;
    if (rc == VMO_OK)
        sws_scale(sws, (const uint8_t *const *)s->data, s->linesize, 0, s->height, c->rgb->data,
                  c->rgb->linesize);
    sws_freeContext(sws);
    if (rc != VMO_OK)
        return vmo_err_set(c->err, rc, "thumbnail of %s: cannot convert the frame", c->path);
    if (redact == VMO_REDACT_NONE)
        return VMO_OK;
    uint8_t *mask = vmo_redact_mask(zones, s->width, s->height, &rc);
    if (rc == VMO_OK)
        rc = vmo_redact_frame(c->rgb, mask, redact);
    free(mask);
    return rc == VMO_OK ? VMO_OK : vmo_err_set(c->err, rc, "thumbnail: cannot redact");
}

static int thumb_png(thumb_ctx *c, vmo_afile *f)
{
    const AVCodec *png = avcodec_find_encoder(AV_CODEC_ID_PNG);
    if (!png)
        return vmo_err_set(c->err, VMO_ERR_UNSUPPORTED, "FFmpeg has no PNG encoder");
    AVCodecContext *enc = avcodec_alloc_context3(png);
    if (!enc)
        return vmo_err_set(c->err, VMO_ERR_NO_MEMORY, "out of memory");
    enc->width = c->rgb->width;
    enc->height = c->rgb->height;
    enc->pix_fmt = AV_PIX_FMT_RGB24;
    enc->time_base = (AVRational){ 1, 25 };
    int ret = avcodec_open2(enc, png, NULL);
    if (ret >= 0)
        ret = avcodec_send_frame(enc, c->rgb);
    if (ret >= 0)
        ret = avcodec_send_frame(enc, NULL);
    if (ret >= 0)
        ret = avcodec_receive_packet(enc, c->pkt);
    avcodec_free_context(&enc);
    if (ret < 0)
        return av_fail(c, VMO_ERR_IO, ret, "PNG encoding failed");
    int rc = vmo_afile_write(f, c->pkt->data, (size_t)c->pkt->size, c->err);
    av_packet_unref(c->pkt);
    return rc;
}

int vmo_thumbnail_write(const char *path, double t, const vmo_zone_set *zones, int redact,
                        vmo_afile *f, vmo_errbuf *err)
{
    thumb_ctx c;
    memset(&c, 0, sizeof(c));
    c.err = err;
    c.path = path;
    int rc = thumb_open(&c, isfinite(t) ? t : 0);
    if (rc == VMO_OK)
        rc = thumb_decode(&c);
    if (rc == VMO_OK)
        rc = thumb_rgb(&c, zones, redact);
    if (rc == VMO_OK)
        rc = thumb_png(&c, f);
    thumb_free(&c);
    return rc;
}
