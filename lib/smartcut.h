/* Smart cut: the H.264 parameter-set and NAL work of export mode "precise".
 *
 * The frames between the cut and the next IDR frame are re-encoded with libx264, everything
 * after is copied, and both runs must form one valid H.264 stream. So libx264 is set to the
 * source's profile and level and to an SPS/PPS id the source does not use, its parameter
 * sets join the source's in the avcC extradata (valid for mp4 and mkv), and its Annex B
 * packets are rewritten with the source's NAL length size. */
#ifndef VMO_SMARTCUT_H
#define VMO_SMARTCUT_H

#include <stdint.h>

struct AVCodecContext;
struct AVCodecParameters;
struct AVPacket;

/* The source's avcC record: its parameter sets stay first in the joint record. */
typedef struct vmo_avcc_info {
    int nal_len;
    uint32_t sps_used; /* bit i: SPS id i present */
    uint8_t pps_used[256];
    const uint8_t *sps_start, *pps_start, *tail;
    int sps_bytes, pps_bytes, tail_bytes, nsps, npps;
} vmo_avcc_info;

/* Parses avcC extradata; -1 when it is not avcC (Annex B extradata or none) or malformed. */
int vmo_avcc_parse(const uint8_t *d, int size, vmo_avcc_info *a);

/* Why a precise cut of this source needs a full re-encode, "" when a smart cut works (then
 * *a describes its avcC). */
const char *vmo_smartcut_obstacle(const struct AVCodecParameters *par, vmo_avcc_info *a);
/* The SPS/PPS id for libx264: the first one the source uses for neither. */
int vmo_smartcut_sps_id(const vmo_avcc_info *a);
/* libx264's name of the source's profile ("baseline", "main" or "high"). */
const char *vmo_smartcut_profile(const struct AVCodecParameters *par);

/* avcC holding the source's parameter sets and those of `enc` (opened with global headers
 * and the id from vmo_smartcut_sps_id), in *out (av_malloc'ed, padded). 0, -1 when they
 * cannot be joined, or AVERROR(ENOMEM). */
int vmo_avcc_join(const uint8_t *src, int src_size, const vmo_avcc_info *a,
                  const struct AVCodecContext *enc, uint8_t **out, int *out_size);

/* Whether a packet (length-prefixed NAL units of nal_len bytes) starts a closed GOP. */
int vmo_packet_is_idr(const struct AVCodecParameters *par, const struct AVPacket *pkt, int nal_len);
/* Rewrites an encoder's Annex B packet in place as length-prefixed NAL units; 0 or AVERROR. */
int vmo_annexb_to_mp4(struct AVPacket *pkt, int nal_len);

#endif
