/* Smart cut (smartcut.h): the H.264 bitstream work of precise mode. Only the start of a NAL
 * unit is ever parsed (parameter set ids), never slices: the cut happens at IDR frames, where
 * the copied and the re-encoded runs need nothing from each other but their parameter sets. */
#include <string.h>

#include <libavcodec/avcodec.h>

#include "smartcut.h"

/* ------------------------------------------------------------------------------------------
 * Bits and NAL units
 * ---------------------------------------------------------------------------------------- */

typedef struct bitreader {
    uint8_t buf[64]; /* the start of a NAL payload, emulation prevention removed */
    int size, pos;   /* pos in bits */
} bitreader;

static void br_init(bitreader *br, const uint8_t *nal, int size)
{
    br->size = br->pos = 0;
    int zeros = 0;
    for (int i = 0; i < size && br->size < (int)sizeof(br->buf); i++) {
        if (zeros >= 2 && nal[i] == 3) {
            zeros = 0;
            continue;
        }
        zeros = nal[i] == 0 ? zeros + 1 : 0;
        br->buf[br->size++] = nal[i];
    }
}

static int br_bit(bitreader *br)
{
    if (br->pos >= br->size * 8)
        return -1;
    int b = (br->buf[br->pos >> 3] >> (7 - (br->pos & 7))) & 1;
    br->pos++;
    return b;
}

/* Exp-Golomb ue(v); -1 on overrun. */
static int br_ue(bitreader *br)
{
    int zeros = 0, b;
    while ((b = br_bit(br)) == 0 && zeros < 31)
        zeros++;
    if (b < 0)
        return -1;
    uint32_t v = 0;
    for (int i = 0; i < zeros; i++) {
        int bit = br_bit(br);
        if (bit < 0)
            return -1;
        v = (v << 1) | (uint32_t)bit;
    }
    return (int)((1u << zeros) - 1 + v);
}

/* Next Annex B NAL unit in [*p, end): returns its start and size, or NULL at the end. */
static const uint8_t *annexb_next(const uint8_t **p, const uint8_t *end, int *size)
{
    const uint8_t *s = *p;
    while (end - s >= 3 && !(s[0] == 0 && s[1] == 0 && s[2] == 1))
        s++;
    if (end - s < 3)
        return NULL;
    s += 3;
    const uint8_t *e = s;
    while (end - e >= 3 && !(e[0] == 0 && e[1] == 0 && (e[2] == 1 || e[2] == 0)))
        e++;
    if (end - e < 3)
        e = end;
    *p = e;
    *size = (int)(e - s);
    return s;
}

/* ------------------------------------------------------------------------------------------
 * avcC parameter sets
 * ---------------------------------------------------------------------------------------- */

static int avcc_sets(const uint8_t **p, const uint8_t *end, int count, int pps, vmo_avcc_info *a)
{
    for (int i = 0; i < count; i++) {
        if (end - *p < 2)
            return -1;
        int len = ((*p)[0] << 8) | (*p)[1];
        if (end - *p < 2 + len || len < 2)
            return -1;
        bitreader br;
        br_init(&br, *p + 2 + (pps ? 1 : 4), len - (pps ? 1 : 4));
        int id = br_ue(&br);
        if (id < 0 || id > (pps ? 255 : 31))
            return -1;
        if (pps)
            a->pps_used[id] = 1;
        else
            a->sps_used |= 1u << id;
        *p += 2 + len;
    }
    return 0;
}

int vmo_avcc_parse(const uint8_t *d, int size, vmo_avcc_info *a)
{
    memset(a, 0, sizeof(*a));
    if (size < 7 || d[0] != 1)
        return -1; /* not avcC (Annex B extradata or none) */
    const uint8_t *p = d + 6, *end = d + size;
    a->nal_len = (d[4] & 3) + 1;
    a->nsps = d[5] & 31;
    a->sps_start = p;
    if (avcc_sets(&p, end, a->nsps, 0, a) < 0 || p >= end)
        return -1;
    a->sps_bytes = (int)(p - a->sps_start);
    a->npps = *p++;
    a->pps_start = p;
    if (avcc_sets(&p, end, a->npps, 1, a) < 0)
        return -1;
    a->pps_bytes = (int)(p - a->pps_start);
    a->tail = p;
    a->tail_bytes = (int)(end - p);
    return a->nsps > 0 && a->npps > 0 ? 0 : -1;
}

/* The SPS and PPS of libx264's Annex B extradata. */
static int x264_param_sets(const AVCodecContext *enc, const uint8_t **sps, int *sps_size,
                           const uint8_t **pps, int *pps_size)
{
    const uint8_t *p = enc->extradata, *end = p + enc->extradata_size, *nal;
    int n;
    *sps = *pps = NULL;
    while ((nal = annexb_next(&p, end, &n)) != NULL) {
        if (n > 0 && (nal[0] & 31) == 7 && !*sps) {
            *sps = nal;
            *sps_size = n;
        } else if (n > 0 && (nal[0] & 31) == 8 && !*pps) {
            *pps = nal;
            *pps_size = n;
        }
    }
    return *sps && *pps && *sps_size < 65536 && *pps_size < 65536 ? 0 : -1;
}

static uint8_t *put_set(uint8_t *w, const uint8_t *nal, int size)
{
    *w++ = (uint8_t)(size >> 8);
    *w++ = (uint8_t)size;
    memcpy(w, nal, (size_t)size);
    return w + size;
}

/* avcC holding the source's parameter sets and the encoder's (ids distinct). */
int vmo_avcc_join(const uint8_t *src, int src_size, const vmo_avcc_info *a,
                  const AVCodecContext *enc, uint8_t **out, int *out_size)
{
    const uint8_t *sps, *pps;
    int sps_n = 0, pps_n = 0;
    if (a->nsps >= 31 || a->npps >= 255 || x264_param_sets(enc, &sps, &sps_n, &pps, &pps_n))
        return -1;
    int size = src_size + 4 + sps_n + pps_n;
    uint8_t *d = av_mallocz((size_t)size + AV_INPUT_BUFFER_PADDING_SIZE);
    if (!d)
        return AVERROR(ENOMEM);
    memcpy(d, src, 5);
    d[5] = (uint8_t)(0xe0 | (a->nsps + 1));
    uint8_t *w = d + 6;
    memcpy(w, a->sps_start, (size_t)a->sps_bytes);
    w = put_set(w + a->sps_bytes, sps, sps_n);
    *w++ = (uint8_t)(a->npps + 1);
    memcpy(w, a->pps_start, (size_t)a->pps_bytes);
    w = put_set(w + a->pps_bytes, pps, pps_n);
    memcpy(w, a->tail, (size_t)a->tail_bytes);
    *out = d;
    *out_size = size;
    return 0;
}

/* ------------------------------------------------------------------------------------------
 * Packets
 * ---------------------------------------------------------------------------------------- */

/* Whether a packet starts a closed GOP: the only place where a decoder can switch from a
 * re-encoded run to copied packets (or from one file to the next) without references to
 * frames it never saw. Codecs without the notion treat every keyframe as such. */
int vmo_packet_is_idr(const AVCodecParameters *par, const AVPacket *pkt, int nal_len)
{
    if (!(pkt->flags & AV_PKT_FLAG_KEY))
        return 0;
    if (par->codec_id != AV_CODEC_ID_H264 && par->codec_id != AV_CODEC_ID_HEVC)
        return 1;
    const uint8_t *p = pkt->data, *end = p + pkt->size;
    while (nal_len > 0 && end - p > nal_len) {
        uint32_t len = 0;
        for (int i = 0; i < nal_len; i++)
            len = (len << 8) | p[i];
        p += nal_len;
        if (len == 0 || len > (uint32_t)(end - p))
            return 0;
        int type = par->codec_id == AV_CODEC_ID_H264 ? (p[0] & 31) : ((p[0] >> 1) & 63);
        if (par->codec_id == AV_CODEC_ID_H264 && type >= 1 && type <= 5)
            return type == 5;
        if (par->codec_id == AV_CODEC_ID_HEVC && type <= 21)
            return type >= 16 && type <= 20; /* BLA, IDR (not CRA: it may lead with RASL) */
        p += len;
    }
    return nal_len == 0; /* Annex B in the container: not smart-cut anyway */
}

/* Rewrites an encoder's Annex B packet as length-prefixed NAL units (the source's length
 * size), without the parameter sets, delimiters and SEI (x264's version SEI would switch
 * the decoder's x264 workarounds for the copied frames too). */
int vmo_annexb_to_mp4(AVPacket *pkt, int nal_len)
{
    const uint8_t *p = pkt->data, *end = p + pkt->size, *nal;
    int n, total = 0;
    while ((nal = annexb_next(&p, end, &n)) != NULL)
        total += nal_len + n;
    AVPacket *out = av_packet_alloc();
    if (!out || av_new_packet(out, total) < 0) {
        av_packet_free(&out);
        return AVERROR(ENOMEM);
    }
    uint8_t *w = out->data;
    p = pkt->data;
    while ((nal = annexb_next(&p, end, &n)) != NULL) {
        int type = n > 0 ? nal[0] & 31 : 0;
        if (n <= 0 || type == 6 || type == 7 || type == 8 || type == 9)
            continue;
        if (nal_len < 4 && (uint64_t)n >> (8 * nal_len)) {
            av_packet_free(&out);
            return AVERROR(ERANGE);
        }
        for (int i = nal_len - 1; i >= 0; i--)
            *w++ = (uint8_t)((uint32_t)n >> (8 * i));
        memcpy(w, nal, (size_t)n);
        w += n;
    }
    out->size = (int)(w - out->data);
    av_packet_copy_props(out, pkt);
    av_packet_unref(pkt);
    av_packet_move_ref(pkt, out);
    av_packet_free(&out);
    return 0;
}

/* ------------------------------------------------------------------------------------------
 * What a smart cut needs
 * ---------------------------------------------------------------------------------------- */

const char *vmo_smartcut_obstacle(const AVCodecParameters *par, vmo_avcc_info *a)
{
    if (par->codec_id != AV_CODEC_ID_H264)
        return "smart cut is implemented for H.264 only";
    if (!avcodec_find_encoder_by_name("libx264"))
        return "libx264 is not available";
    if (vmo_avcc_parse(par->extradata, par->extradata_size, a) < 0)
        return "the H.264 stream has no avcC parameter sets";
    if (par->format != AV_PIX_FMT_YUV420P && par->format != AV_PIX_FMT_YUVJ420P)
        return "only 8-bit 4:2:0 H.264 can be smart-cut";
    if (par->field_order != AV_FIELD_PROGRESSIVE && par->field_order != AV_FIELD_UNKNOWN)
        return "interlaced H.264 cannot be smart-cut";
    int prof = par->profile & ~FF_PROFILE_H264_CONSTRAINED;
    if (prof != FF_PROFILE_H264_BASELINE && prof != FF_PROFILE_H264_MAIN &&
        prof != FF_PROFILE_H264_HIGH)
        return "only Baseline, Main and High profile H.264 can be smart-cut";
    if (par->level <= 0)
        return "the H.264 level is unknown";
    return "";
}

int vmo_smartcut_sps_id(const vmo_avcc_info *a)
{
    /* x264 numbers its PPS like its SPS (sps-id), so the id must be free for both. */
    int id = 1;
    while (id < 31 && ((a->sps_used >> id) & 1 || a->pps_used[id]))
        id++;
    return id;
}

const char *vmo_smartcut_profile(const AVCodecParameters *par)
{
    int prof = par->profile & ~FF_PROFILE_H264_CONSTRAINED;
    return prof == FF_PROFILE_H264_HIGH   ? "high"
           : prof == FF_PROFILE_H264_MAIN ? "main"
                                          : "baseline";
}
