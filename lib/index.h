/* Motion index: a sidecar file (CLIP.vmoidx) holding, per analysed frame, the near and far
 * changed-pixel counts of every cell of a VMO_GRID_W x VMO_GRID_H grid, so that later
 * requests are answered without decoding. Format: docs/index-format.md. */
#ifndef VMO_INDEX_H
#define VMO_INDEX_H

#include <stdint.h>

#include "config.h"
#include "score.h"
#include "zones.h"

#define VMO_INDEX_VERSION 1
#define VMO_INDEX_SUFFIX ".vmoidx"

/* The clip's identity: its size, and SHA-256 over the size and its first and last 64 KiB
 * (cheap enough to check for every clip of a day's archive). */
typedef struct vmo_clip_identity {
    uint64_t size;
    uint8_t hash[32];
} vmo_clip_identity;

int vmo_clip_identity_of(const char *path, vmo_clip_identity *id, vmo_errbuf *err);

/* What an index says about its clip (the header). */
typedef struct vmo_index_header {
    uint32_t version;
    vmo_clip_identity clip;
    int32_t grid_w, grid_h;
    int32_t analysis_w, analysis_h;
    int32_t K;
    uint32_t flags;        /* VMO_CLIP_TRUNCATED / DAMAGED / RESIZED of the scan */
    int64_t frames;        /* decoded */
    int64_t analysed;      /* recorded */
    double duration, fps;
    int32_t width, height, rotation;
    char codec[16];
    double wall_start;     /* of the scan (tag, file name or caller), NaN if unknown */
    int32_t wall_source;
    /* The scan-level settings the counts depend on. */
    int32_t s_width, s_threshold, s_blur, s_adaptive, s_lighting, s_stream;
    double s_long_baseline, s_fps;
    uint64_t payload_size, payload_raw;
    uint32_t payload_crc;
} vmo_index_header;

/* ---- writing (during a scan) ---- */
typedef struct vmo_index_writer vmo_index_writer;

/* Starts the index of `clip_path` under a temporary name next to it. The masks of `zones`
 * are recorded (the counts leave them out). */
int vmo_index_writer_open(vmo_index_writer **out, const char *clip_path, const vmo_settings *s,
                          const vmo_zone_set *zones, vmo_errbuf *err);
/* Frames in order, with their grids; keyframes as decoded (any order relative to frames). */
int vmo_index_writer_frame(vmo_index_writer *w, const vmo_scored_frame *f, int analysis_w,
                           int analysis_h);
int vmo_index_writer_keyframe(vmo_index_writer *w, double t);
/* commit: write the header, fsync and rename into place; else remove the temporary file.
 * Either way the writer is freed. */
int vmo_index_writer_close(vmo_index_writer **w, const vmo_clip_info *clip, int K, int commit,
                           vmo_errbuf *err);

/* ---- reading ---- */

/* Reads and checks the header and the payload's checksum. VMO_ERR_NOT_FOUND (no index),
 * VMO_ERR_INDEX_CORRUPT (checksums, magic, sizes), VMO_ERR_UNSUPPORTED (another version). */
int vmo_index_read_header(const char *index_path, vmo_index_header *h, vmo_errbuf *err);
/* The index describes this clip (identity) and was made with settings compatible with `s`
 * (the counts depend on width, threshold, blur, lighting, long baseline, fps cap, stream).
 * VMO_ERR_INDEX_STALE otherwise. */
int vmo_index_matches(const vmo_index_header *h, const char *clip_path, const vmo_settings *s,
                      vmo_errbuf *err);

/* Replays the recorded frames as scored frames for `zones` (zone counts approximated from
 * the grid: docs/index-format.md gives the bound), calling frame() for each and keyframe()
 * for each keyframe in time order. A non-zero return of a callback stops (cancel). */
typedef struct vmo_index_sink {
    void *user;
    int (*frame)(void *user, const vmo_scored_frame *f);
    void (*keyframe)(void *user, double t);
    /* The zone map changed (new analysis size): areas for the detector. */
    void (*zones)(void *user, int zone_count, const uint64_t *area);
} vmo_index_sink;
int vmo_index_replay(const char *index_path, const vmo_index_header *h,
                     const vmo_zone_set *zones, const vmo_index_sink *sink, vmo_errbuf *err);

#endif
