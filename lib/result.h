/* The result handle: clips with their per-clip events and optional per-frame scores, and the
 * final events computed from them. */
#ifndef VMO_RESULT_H
#define VMO_RESULT_H

#include "config.h"
#include "events.h"

typedef struct vmo_clip_data {
    vmo_clip_info info;   /* path/error/codec point at the strings below */
    char *path, *error, *codec;
    double first_t;       /* clip seconds of the first analysed frame */
    double frame_dur;     /* nominal frame interval */
    vmo_clip_event *events;
    int nevents;
    /* per-frame series (the "frames" option) */
    uint32_t nframes, cap;
    int zone_count;
    double *t;
    int64_t *findex;
    uint8_t *fflags;
    float *changed;       /* zone-major: changed[z * cap + i] */
    float *mad;
    uint32_t *heat;       /* VMO_GRID_CELLS frame counts (the "heatmap" option), or NULL */
} vmo_clip_data;

struct vmo_result {
    vmo_settings settings;
    vmo_zone_set zones;   /* the zones and privacy masks analysed (exports redact the masks) */
    int zone_count;
    char **zone_names;
    vmo_clip_data *clips;
    int nclips, cap_clips;
    vmo_window window;
    vmo_final_events final;
};

/* An empty result for the given settings, zone set and reported zone names. */
int vmo_result_new(vmo_result **out, const vmo_settings *s, const vmo_zone_set *zones,
                   int zone_count, const char *const *zone_names);
/* Appends a clip (copies path/codec) and returns it. */
vmo_clip_data *vmo_result_add_clip(vmo_result *r, const char *path, const char *codec);
int vmo_clip_set_error(vmo_clip_data *c, int status, const char *message);
/* Appends one frame's scores to the clip's series. */
int vmo_clip_add_frame(vmo_clip_data *c, int64_t index, double t, uint8_t flags,
                       int zone_count, const float *changed, const float *mad);
/* Moves clip `index` of src to the end of dst (src keeps an empty slot). */
int vmo_result_take_clip(vmo_result *dst, vmo_result *src, int index);
/* Moves every clip of src to the end of dst. */
int vmo_result_append_clips(vmo_result *dst, vmo_result *src);
/* Recomputes the final events from the clips' events. */
int vmo_result_finalize(vmo_result *r);

#endif
