/* Analysis settings (the option table behind vmo_config_set_*) and the config handle. */
#ifndef VMO_CONFIG_H
#define VMO_CONFIG_H

#include <stdint.h>

#include "internal.h"
#include "zones.h"

/* Every option of the public API, in one struct. Integers and booleans are int64_t and
 * reals are double so the option table can address them generically. */
typedef struct vmo_settings {
    /* preparation and scoring */
    int64_t width;        /* analysis width in pixels */
    int64_t threshold;    /* pixel threshold on |a - b| after the blur */
    int64_t adaptive_threshold; /* raise it per frame pair to 3.5 x the pair's noise */
    int64_t blur;         /* 3x3 box blur passes before differencing (noise suppression) */
    double fps;           /* analyse at most this many frames per second; 0 = all */
    double long_baseline; /* seconds between the frames of the long difference; 0 = off */
    int64_t lighting;     /* compensate and report global lighting changes */
    /* decoding */
    int64_t threads; /* decoder threads, 0 = one per core */
    int64_t stream;  /* video stream index, -1 = automatic */
    int64_t jobs;    /* clips analysed in parallel by a request, 0 = one per core */
    int64_t pipeline; /* decode on a thread of its own while the caller's thread scores */
    /* events */
    double start_level;  /* changed fraction that starts an event (before the noise floor) */
    double end_level;    /* changed fraction below which an event ends */
    double end_ratio;    /* ... or below this fraction of the event's own peak */
    int64_t min_pixels;  /* changed pixels an event frame needs at least, at analysis size */
    int64_t noise_floor; /* adapt the levels to each zone's own noise */
    double min_length;   /* seconds; shorter events are dropped */
    double merge_gap;    /* seconds; events closer than this merge */
    double pre_roll;     /* seconds of padding before (clip_start) */
    double post_roll;    /* seconds of padding after (clip_end) */
    double max_length;   /* seconds; longer events are split; 0 = never */
    /* results */
    int64_t frames;  /* keep per-frame scores in the result */
    int64_t heatmap; /* count, per grid cell, the frames with motion */
    /* scan mode */
    int64_t fast; /* fast scan (fastscan.c): packets and keyframes, decode around motion */
} vmo_settings;

struct vmo_config {
    vmo_settings settings;
    vmo_zone_set zones;
    vmo_errbuf err;
};

/* Settings with every option at its default. */
void vmo_settings_default(vmo_settings *s);

#endif
