/* Events: per-zone segmentation of scored frames, and the final merge across clips.
 *
 * Within one clip, a detector runs per zone, online (it serves live callbacks too):
 *   - a noise floor tracks the zone's idle score (running mean and mean deviation), and
 *     raises the start and end levels above it;
 *   - hysteresis: an event starts at start_level and continues while the score stays above
 *     end_level; its start is moved back over the frames just before it where neighbouring
 *     frames already differed above end_level (the far difference cannot be trusted there:
 *     it sees the coming motion in its future);
 *   - events closer than merge_gap merge; events shorter than min_length are dropped unless
 *     they touch the clip's start or end (a neighbouring clip may continue them);
 *   - an event reaching max_length is split.
 * The final step (vmo_events_finalize) joins events across contiguous clips by wall-clock
 * time, applies min_length to the joined events, pads them and lists their sources. It
 * depends only on the per-clip event lists, so any partitioning of clips over processes
 * gives the same answer. */
#ifndef VMO_EVENTS_H
#define VMO_EVENTS_H

#include <stdint.h>

#include "config.h"
#include "score.h"

/* An event inside one clip (already merged within the clip). */
typedef struct vmo_clip_event {
    int32_t kind;        /* VMO_EVENT_MOTION or VMO_EVENT_LIGHTING */
    int32_t zone;        /* reported zone; -1 for lighting */
    uint32_t flags;      /* VMO_EVENT_AT_CLIP_START/END, VMO_EVENT_SPLIT */
    int32_t reserved;
    int64_t start_frame, end_frame;
    double start, end;   /* clip seconds of the first and last frame with motion */
    double peak, peak_t;
    double sum;          /* sum of scores over frames start..end */
    int64_t nframes;     /* frames start..end */
    double keyframe;     /* keyframe at or before start, NaN if unknown */
    double keyframe_pre; /* keyframe at or before max(first, start - pre_roll), NaN if unknown */
} vmo_clip_event;

typedef int (*vmo_live_event_fn)(void *user, int what, const vmo_clip_event *ev);

enum { VMO_HISTORY = 64, VMO_KEYFRAMES = 1024 };

typedef struct vmo_track_frame {
    int64_t index;
    double t;
    float score;
    uint32_t pixels;
    float near_score;   /* the part seen between neighbouring frames (t +/- 1) */
    uint32_t near;
} vmo_track_frame;

typedef struct vmo_zone_track {
    double level, dev;      /* noise floor: running mean and mean deviation of idle scores */
    double after_level;     /* after an event: end_ratio x its peak, until the zone is quiet */
    double after_t;
    int64_t idle_n;
    int open;               /* an event is open */
    int confirmed;          /* it reached min_length (live "started" sent) */
    vmo_clip_event ev;      /* the open event, up to its last active frame */
    double sum_all;         /* score sum including frames after the last active one */
    int64_t n_all;
    vmo_track_frame hist[VMO_HISTORY]; /* recent idle frames, for moving a start back */
    int hist_head, hist_n;
} vmo_zone_track;

typedef struct vmo_detector {
    vmo_settings s;
    int zone_count;
    uint64_t area[VMO_MAX_ZONES];
    double frame_dur;       /* nominal frame interval */
    vmo_zone_track track[VMO_MAX_ZONES + 1]; /* the last one tracks lighting */
    double keys[VMO_KEYFRAMES];
    int key_head, key_n;
    double first_t, last_t;
    int64_t first_index, last_index;
    int64_t frames;
    vmo_clip_event *events;
    int nevents, cap;
    int edge_start, edge_end; /* the analysed range starts / ends with the clip (else events
                                 touching it are cut by the range, not by the clip) */
    vmo_live_event_fn live;
    void *live_user;
    int failed;             /* out of memory while storing an event */
} vmo_detector;

void vmo_detector_init(vmo_detector *d, const vmo_settings *s, int zone_count,
                       const uint64_t *area, double frame_dur, vmo_live_event_fn live,
                       void *live_user);
/* Zone areas may change mid-clip (new resolution): the tracks keep their state. */
void vmo_detector_set_areas(vmo_detector *d, int zone_count, const uint64_t *area);
/* A keyframe at clip time t (every decoded keyframe, analysed or not, in decode order). */
void vmo_detector_keyframe(vmo_detector *d, double t);
/* Returns non-zero if the live callback asked to cancel. */
int vmo_detector_push(vmo_detector *d, const vmo_scored_frame *f);
/* Closes open events at the end of the clip. Returns non-zero on cancel. */
int vmo_detector_finish(vmo_detector *d);
/* Hands the events over (caller frees with free()); the detector keeps none. */
vmo_clip_event *vmo_detector_take_events(vmo_detector *d, int *count);
void vmo_detector_free(vmo_detector *d);

/* ---- across clips ---- */
typedef struct vmo_finalize_clip {
    double wall_start;     /* NaN when unknown: such a clip joins nothing */
    double duration;       /* seconds of video in the clip (padding stays inside) */
    double frame_dur;
    const vmo_clip_event *events;
    int nevents;
} vmo_finalize_clip;

typedef struct vmo_final_events {
    vmo_event *events;
    int count;
    vmo_event_source *sources; /* events[i] uses sources[first[i] .. first[i] + n - 1] */
    int *first;
    int nsources;
} vmo_final_events;

/* Window to clip events to (requests); NaN bounds mean none. Times are wall-clock when
 * wall != 0, else clip seconds. */
typedef struct vmo_window {
    double from, to;
    int wall;
} vmo_window;

int vmo_events_finalize(const vmo_settings *s, const vmo_finalize_clip *clips, int nclips,
                        const vmo_window *window, vmo_final_events *out);
void vmo_final_events_free(vmo_final_events *fe);

#endif
