/* The analyzer handle's internals, shared with request.c (which runs one worker analyzer
 * per thread). */
#ifndef VMO_ANALYZER_H
#define VMO_ANALYZER_H

#include <pthread.h>
#include <stdatomic.h>

#include "config.h"
#include "decode.h"
#include "events.h"
#include "prepare.h"
#include "result.h"
#include "score.h"

/* State of one clip being analysed (a scanned file, or the pushed stream). */
typedef struct vmo_run {
    struct vmo_analyzer *an;
    vmo_result *res;
    int clip;              /* index in res */
    int clip_count;        /* clips in this scan or request (progress) */
    vmo_scorer *scorer;
    vmo_detector det;
    int have_det;
    double wall_start;     /* NaN when unknown */
    double next_due;       /* fps cap: clip time at which the next frame is due */
    int64_t analysed;
    int cancelled;
    int failed;            /* out of memory while storing results */
    struct vmo_index_writer *index; /* writing the clip's motion index, or NULL */
    int index_failed;      /* the index could not be written (VMO_ERR_*) */
    uint32_t *heat;        /* heatmap counts (VMO_GRID_CELLS), or NULL */
} vmo_run;

struct vmo_analyzer {
    vmo_config cfg;        /* private copy: settings and zones */
    int zone_count;
    const char *zone_names[VMO_MAX_ZONES];
    unsigned cpu;
    vmo_errbuf err;
    atomic_int cancel;
    atomic_int *cancel_src;   /* the flag scans watch: &cancel, or the parent's in a request */
    pthread_mutex_t *cb_lock; /* serializes callbacks of request workers; NULL otherwise */
    int clip_base;            /* index of the scanned clip in the request (reports) */
    int clip_total;           /* clips in the request (progress), 1 for a scan */
    double wall_override;     /* wall-clock start given by the caller, NaN if none */
    int wall_source;          /* VMO_WALL_* of wall_override */
    double range_from;        /* decode only this part of the clip (clip seconds), NaN: */
    double range_to;          /* from the start / to the end */
    int write_index;          /* write the motion index of scanned clips */
    vmo_frame_fn frame_fn;
    void *frame_user;
    vmo_event_fn event_fn;
    void *event_user;
    vmo_progress_fn progress_fn;
    void *progress_user;
    double last_progress;
    /* push API */
    vmo_run push;
    int pushing;
    int64_t push_first_pts, push_last_pts, push_count;
    double push_tb;
    vmo_plane push_first;  /* the first pushed frame, held until the frame rate is known */
    double push_first_t;
    uint32_t push_first_flags;
};

/* Where a clip's frame loop stands. */
typedef struct vmo_loop_state {
    int64_t frames, total;
    double last_t, prev_t;
} vmo_loop_state;

/* Steps of the frame loop of analyzer.c, for the fast scan (fastscan.c), which feeds the
 * same run with the frames it decodes. */
/* One decoded frame: bookkeeping, keyframes, and (when due) preparation and scoring. */
int vmo_run_frame(vmo_run *run, vmo_preparer *prep, const vmo_decoded_frame *df,
                  vmo_loop_state *ls);
/* The "fps" cap: 1 when a frame at clip time t is to be analysed (advances the schedule). */
int vmo_run_frame_due(vmo_run *run, double t);
/* Calls the progress callback (at most every 0.25 s). */
void vmo_run_progress(vmo_run *run, int64_t done, int64_t total);
/* Frame count, duration, truncation and damage of the clip once its loop has stopped. */
int vmo_run_clip_facts(vmo_run *run, vmo_decoder *dec, const vmo_loop_state *ls);

/* A request's plan for one clip. */
struct vmo_index_header;
typedef struct vmo_worker_plan {
    int clip_base;        /* the clip's index in the request */
    double wall_override; /* NaN: from the clip */
    int wall_source;      /* where wall_override came from (VMO_WALL_*) */
    double range_from;    /* NaN: whole clip */
    double range_to;
    int write_index;      /* write the clip's motion index when decoding it whole */
    const char *index_path; /* answer from this index (checked) instead of decoding, or NULL */
    const struct vmo_index_header *index;
} vmo_worker_plan;

/* Worker analyzer for a request: the request's effective config, the parent's callbacks
 * (serialized by cb_lock) and cancel flag. */
int vmo_analyzer_worker(vmo_analyzer *parent, const vmo_config *cfg, pthread_mutex_t *cb_lock,
                        const vmo_worker_plan *plan, vmo_analyzer **out);

/* Tells the progress callback (if any) that clip `clip` of the request is finished, with
 * `frames` frames (0 for a clip skipped or failed): done == total. */
void vmo_analyzer_clip_done(vmo_analyzer *an, pthread_mutex_t *cb_lock, int clip, int64_t frames);

/* Answers one clip from its motion index (header already checked): the same events as a
 * scan, with zone counts approximated on the grid. */
int vmo_analyzer_replay_index(vmo_analyzer *an, const char *clip_path, const char *index_path,
                              const struct vmo_index_header *h, vmo_result **out);

#endif
