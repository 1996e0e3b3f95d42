/* Scoring: analysis planes in, per-zone motion scores out.
 *
 * For every analysed frame t of a stream (planes blurred first), with K frames being about
 * "long_baseline" seconds, a pixel of frame t counts as changed when it differs by more
 * than the threshold from a past frame AND from a future frame, at two distances:
 *   near(t) = pixels with |B(t) - B(t-1)| > thr and |B(t+1) - B(t)| > thr  (fast motion)
 *   far(t)  = pixels with |B(t) - B(t-K)| > thr and |B(t+K) - B(t)| > thr  (slow motion)
 *   changed(t) = max(near(t), far(t)) / zone area
 * A moving object covers, at t, pixels that were different before and will be different
 * after; so does nothing else:
 *   - a slow mover changes almost nothing between consecutive frames but a lot over a
 *     second, and far() finds it without smearing the event K frames past its end (after
 *     the end, the future no longer differs);
 *   - sensor noise exceeding the threshold with probability p survives with p squared;
 *   - a keyframe refreshing the codec's noise, or the codec refining a still picture after
 *     motion, differs from one side only.
 * Global lighting changes are compensated per pair before differencing (vmo_light_fit).
 *
 * The measurement (vmo_scorer) and the combination (vmo_combine_frame) are separate so that
 * a motion index, which stores near and far counts on a grid, reproduces the same scores. */
#ifndef VMO_SCORE_H
#define VMO_SCORE_H

#include <stdint.h>

#include "config.h"
#include "prepare.h"
#include "zones.h"

#define VMO_GRID_CELLS (VMO_GRID_W * VMO_GRID_H)

/* Raw measures of one frame, before combination. */
typedef struct vmo_raw_frame {
    int64_t index;
    double t;
    uint32_t flags;                 /* VMO_FRAME_* */
    float light;                    /* lighting change magnitude, 0 when none */
    uint64_t sad[VMO_MAX_ZONES];    /* sum of |d| vs the previous frame (mad) */
    uint32_t near[VMO_MAX_ZONES];   /* changed vs the previous and the next frame */
    uint32_t far[VMO_MAX_ZONES];    /* changed vs the frame K before and the frame K after */
    const vmo_plane *plane;         /* its analysis plane while it waits, or NULL */
    /* The same counts per cell of the VMO_GRID_W x VMO_GRID_H grid over the whole picture
     * (privacy masks left out), when the scorer measures the grid (index, heatmap). */
    uint32_t grid_near[VMO_GRID_CELLS];
    uint32_t grid_far[VMO_GRID_CELLS];
} vmo_raw_frame;

/* A final, scored frame. Arrays hold zone_count values and are valid during the call. */
typedef struct vmo_scored_frame {
    int64_t index;
    double t;
    uint32_t flags;
    float light;
    int zone_count;
    const float *changed;    /* fraction of the zone's pixels */
    const float *mad;        /* mean |d| vs the previous frame over the zone */
    const uint32_t *pixels;  /* changed pixels behind `changed` */
    const uint32_t *near;    /* of which seen at the near (t +/- 1) distance */
    const uint64_t *area;    /* zone areas in pixels */
    const vmo_plane *plane;  /* analysis plane (unblurred), NULL when replayed from an index */
    const uint32_t *grid_near; /* per-cell counts (VMO_GRID_CELLS), NULL without the grid */
    const uint32_t *grid_far;
} vmo_scored_frame;

typedef int (*vmo_scored_fn)(void *user, const vmo_scored_frame *frame);

/* Storage for one combined frame's per-zone values. */
typedef struct vmo_combined {
    float changed[VMO_MAX_ZONES], mad[VMO_MAX_ZONES];
    uint32_t pixels[VMO_MAX_ZONES];
} vmo_combined;

/* Raw measures -> the scored frame handed to events (pointers into `store`). */
void vmo_combine_frame(const vmo_raw_frame *f, int zone_count, const uint64_t *area,
                       vmo_combined *store, vmo_scored_frame *out);

/* ---- scorer: planes -> raw frames -> scored frames ---- */
typedef struct vmo_scorer vmo_scorer;

/* fps: nominal analysed frames per second (sets K). cpu: VMO_CPU_* flags for the kernels. */
int vmo_scorer_create(vmo_scorer **out, const vmo_settings *s, const vmo_zone_set *zones,
                      double fps, unsigned cpu, vmo_scored_fn emit, void *user,
                      vmo_errbuf *err);
void vmo_scorer_destroy(vmo_scorer **sc);
/* Plane to fill with the next frame (w x h). A new size flushes the stream so far and
 * restarts differencing with zones rasterized again. */
int vmo_scorer_begin(vmo_scorer *sc, int w, int h, vmo_plane **plane, vmo_errbuf *err);
/* The plane from begin() is filled: measure it. Emits frames that became final. */
int vmo_scorer_end(vmo_scorer *sc, int64_t index, double t, uint32_t flags, vmo_errbuf *err);
/* End of stream: emits every waiting frame. */
int vmo_scorer_flush(vmo_scorer *sc, vmo_errbuf *err);
/* Measure per-cell counts too (for a motion index or a heatmap). Before the first frame. */
void vmo_scorer_enable_grid(vmo_scorer *sc);
/* The long-baseline distance K in frames. */
int vmo_scorer_k(const vmo_scorer *sc);
/* Zone count and areas of the current zone map (0 before the first frame). */
const vmo_zone_map *vmo_scorer_zone_map(const vmo_scorer *sc);

/* ---- building blocks, exposed for tests and benches ---- */
/* In-place [1 2 1] x [1 2 1] / 16 blur with replicated borders; tmp holds 2 * w bytes. */
void vmo_blur121(vmo_plane *p, uint8_t *tmp);

/* Global photometric fit between two planes: cur ~= gain * ref + offset over block means.
 * lit = 1 when most of the frame changed and one gain/offset explains most blocks. */
#define VMO_LIGHT_MAX_BLOCKS 1024
typedef struct vmo_light_fit {
    double gain, offset;
    double agree;     /* fraction of blocks the model explains */
    double changed;   /* fraction of blocks whose mean moved by more than the threshold */
    double explained; /* fraction of those changed blocks that the model explains */
    int lit;
} vmo_light_fit;
typedef struct vmo_light_work {
    float a[VMO_LIGHT_MAX_BLOCKS], b[VMO_LIGHT_MAX_BLOCKS];
    float resid[VMO_LIGHT_MAX_BLOCKS], sorted[VMO_LIGHT_MAX_BLOCKS];
    uint8_t keep[VMO_LIGHT_MAX_BLOCKS];
} vmo_light_work;
/* Block size for a w x h plane (>= 16, at most VMO_LIGHT_MAX_BLOCKS blocks). */
int vmo_light_block_size(int w, int h);
/* Means of the bs x bs blocks of p in raster order; returns their count. */
int vmo_light_block_means(const vmo_plane *p, int bs, float *means);
void vmo_light_fit_means(const float *ref, const float *cur, int n, int threshold,
                         vmo_light_work *work, vmo_light_fit *fit);
void vmo_light_fit_planes(const vmo_plane *ref, const vmo_plane *cur, int threshold,
                          vmo_light_work *work, vmo_light_fit *fit);

#endif
