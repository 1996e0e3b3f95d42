/*
 * vidmotion: motion analysis for video clips (doorbells, security cameras).
 *
 * This is the only public header. It defines a small, stable C ABI:
 *
 *  - Handles are opaque (vmo_config, vmo_analyzer, vmo_result, ...): their layout can grow
 *    without breaking callers.
 *  - Options are set by name (vmo_config_set_int("width", 320)); unknown names fail with
 *    VMO_ERR_UNKNOWN_OPTION instead of being silently ignored.
 *  - Structs that cross the ABI start with `uint32_t struct_size`. The caller sets it to
 *    sizeof(the struct it was compiled with); the library reads or writes only that many
 *    bytes, so a struct may gain fields at its end in a later minor version (docs/ABI.md).
 *  - Every function returns a vmo_status (0 = success, < 0 = error) unless documented
 *    otherwise. vmo_strerror() names a code; the handle's last_error() gives the detail.
 *  - The library never prints, exits or aborts. FFmpeg's own log is routed to the callback
 *    set with vmo_set_log_callback() and is silent by default.
 *
 * Ownership: whatever a vmo_*_create()/vmo_*_open() function returns through an out
 * parameter belongs to the caller and is released with the matching vmo_*_destroy(),
 * which accepts NULL and sets the caller's pointer to NULL. Strings and arrays returned
 * by accessor functions belong to the handle they came from and stay valid until that
 * handle is destroyed (or, where stated, until the next call on it). Buffers the library
 * allocates for the caller (vmo_*_to_json) are released with vmo_free().
 *
 * Threads: any number of handles may be used at once from different threads. One handle
 * must not be used from two threads at the same time, except for the functions marked
 * "thread-safe" (the cancel calls, vmo_strerror, vmo_version*, vmo_cpu_flags). Callbacks
 * run on the thread that called the function that invokes them, except during
 * vmo_analyzer_run_request(), where per-clip callbacks may run on worker threads (stated
 * there). Process-wide settings (vmo_set_log_callback, vmo_set_cpu_mask) should be made
 * before scans start.
 */
#ifndef VIDMOTION_VIDMOTION_H
#define VIDMOTION_VIDMOTION_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32) && defined(VMO_BUILDING_DLL)
#define VMO_API __declspec(dllexport)
#elif defined(__GNUC__) && __GNUC__ >= 4
#define VMO_API __attribute__((visibility("default")))
#else
#define VMO_API
#endif

/* ------------------------------------------------------------------------------------------
 * Version
 * ---------------------------------------------------------------------------------------- */

/* VMO_VERSION_MAJOR is the ABI major and the shared library's SONAME (libvidmotion.so.0):
 * it changes only when the ABI breaks. MINOR grows with every compatible addition. */
#define VMO_VERSION_MAJOR 0
#define VMO_VERSION_MINOR 1
#define VMO_VERSION_PATCH 0
#define VMO_VERSION_INT(a, b, c) (((uint32_t)(a) << 16) | ((uint32_t)(b) << 8) | (uint32_t)(c))
#define VMO_VERSION VMO_VERSION_INT(VMO_VERSION_MAJOR, VMO_VERSION_MINOR, VMO_VERSION_PATCH)

/* Version of the loaded library as VMO_VERSION_INT(major, minor, patch). Thread-safe. */
VMO_API uint32_t vmo_version(void);
/* "major.minor.patch", static storage. Thread-safe. */
VMO_API const char *vmo_version_string(void);

/* ------------------------------------------------------------------------------------------
 * Status codes. ABI values: append only, never renumber; a retired code keeps its slot.
 * ---------------------------------------------------------------------------------------- */
typedef enum vmo_status {
    VMO_OK = 0,
    VMO_ERR_INVALID_ARG = -1,     /* NULL handle, value out of range, malformed string */
    VMO_ERR_NO_MEMORY = -2,       /* an allocation failed */
    VMO_ERR_IO = -3,              /* reading or writing failed (permission, device error) */
    VMO_ERR_NOT_FOUND = -4,       /* the input file does not exist */
    VMO_ERR_EMPTY = -5,           /* the input has zero bytes */
    VMO_ERR_CORRUPT = -6,         /* damaged data: no container or stream could be read */
    VMO_ERR_NOT_MEDIA = -7,       /* the input is not a media file at all (e.g. text) */
    VMO_ERR_NO_VIDEO = -8,        /* a media file without a video stream (audio only) */
    VMO_ERR_DECODE = -9,          /* a video stream exists but no frame of it decodes */
    VMO_ERR_UNSUPPORTED = -10,    /* codec, pixel format or feature not available */
    VMO_ERR_TRUNCATED = -11,      /* the data ends early; frames before the cut are kept */
    VMO_ERR_UNKNOWN_OPTION = -12, /* no option of that name (or of that type) */
    VMO_ERR_BAD_ZONE = -13,       /* zone malformed, outside 0..1, degenerate or too many */
    VMO_ERR_UNKNOWN_ZONE = -14,   /* a zone name that is not defined */
    VMO_ERR_BAD_TIME = -15,       /* a time string that cannot be read */
    VMO_ERR_BAD_WINDOW = -16,     /* a time window that ends before it starts */
    VMO_ERR_NO_TIME_SOURCE = -17, /* wall-clock window asked, clip has no wall-clock start */
    VMO_ERR_OVERLAP = -18,        /* duplicate clips, or clips overlapping in time */
    VMO_ERR_CANCELLED = -19,      /* stopped by vmo_*_cancel() or a callback's return value */
    VMO_ERR_INDEX_STALE = -20,    /* a motion index that belongs to another version of a clip */
    VMO_ERR_INDEX_CORRUPT = -21,  /* a motion index that fails its checksum or format checks */
    VMO_ERR_EXISTS = -22,         /* the output exists and overwriting was not asked for */
    VMO_ERR_NO_SPACE = -23,       /* disk full or file size limit reached while writing */
    VMO_ERR_MISMATCH = -24,       /* verification found a size or hash that differs */
    VMO_ERR_STATE = -25,          /* the call is not valid in the handle's current state */
    VMO_ERR_LIMIT = -26,          /* a hard limit: frame dimensions, zone count, sizes */
    VMO_ERR_BAD_MANIFEST = -27    /* a manifest that is not valid JSON of the expected form */
} vmo_status;

/* Short English description of any status value (unknown values get a generic text).
 * Static storage: never NULL, never freed. Thread-safe. */
VMO_API const char *vmo_strerror(int status);

/* Releases memory the library allocated for the caller (e.g. vmo_result_to_json). */
VMO_API void vmo_free(void *ptr);

/* ------------------------------------------------------------------------------------------
 * Process-wide settings
 * ---------------------------------------------------------------------------------------- */

/* Log levels of the log callback (FFmpeg's levels mapped onto four). */
enum { VMO_LOG_ERROR = 0, VMO_LOG_WARNING = 1, VMO_LOG_INFO = 2, VMO_LOG_DEBUG = 3 };
typedef void (*vmo_log_fn)(void *user, int level, const char *message);

/* Routes the log of the library and of FFmpeg (av_log) to `fn` for messages at `max_level`
 * or more severe. fn == NULL (the default) drops everything. This replaces FFmpeg's log
 * callback for the whole process. `fn` may be called from any thread, concurrently. */
VMO_API void vmo_set_log_callback(vmo_log_fn fn, void *user, int max_level);

/* CPU features used by the SIMD kernels. */
#define VMO_CPU_SSE2 (1u << 0)
#define VMO_CPU_AVX2 (1u << 1)
#define VMO_CPU_NEON (1u << 8)

/* Features detected on this CPU (and OS), after the mask below. Thread-safe. */
VMO_API unsigned vmo_cpu_flags(void);
/* Restricts the kernels to the features in `mask` (0 = scalar C only, ~0u = everything the
 * CPU has). Affects analyzers created afterwards. The environment variable VMO_CPU_MASK
 * (a number, or "c", "sse2", "avx2", "neon") sets the initial mask. */
VMO_API void vmo_set_cpu_mask(unsigned mask);

/* ------------------------------------------------------------------------------------------
 * Time strings (the CLI's --from/--to)
 * ---------------------------------------------------------------------------------------- */
enum { VMO_TIME_RELATIVE = 1, VMO_TIME_WALL = 2 };
/* Reads "12.5" (seconds), "HH:MM:SS.mmm" or "MM:SS" (*kind = VMO_TIME_RELATIVE: seconds from a
 * clip's start) and ISO-8601 such as "2026-07-04T14:05:00Z" or "2026-07-04 16:05:00+02:00"
 * (*kind = VMO_TIME_WALL: POSIX seconds; no zone designator means UTC).
 * VMO_ERR_BAD_TIME otherwise. Thread-safe. */
VMO_API int vmo_parse_time(const char *text, double *seconds, int *kind);
/* POSIX seconds as ISO-8601 UTC with milliseconds ("2025-11-02T23:59:52.440Z") into buf
 * (at least 32 bytes). Thread-safe. */
VMO_API int vmo_format_time(double posix, char *buf, size_t size);

/* ------------------------------------------------------------------------------------------
 * Configuration: analysis settings and zones
 * ---------------------------------------------------------------------------------------- */
typedef struct vmo_config vmo_config;

/* Creates a configuration with every option at its default and no zones. */
VMO_API int vmo_config_create(vmo_config **out);
/* Deep copy of `cfg` (options and zones). */
VMO_API int vmo_config_clone(const vmo_config *cfg, vmo_config **out);
VMO_API void vmo_config_destroy(vmo_config **cfg);
/* Detail of the last error on this config; "" if none. Valid until the next call on it. */
VMO_API const char *vmo_config_last_error(const vmo_config *cfg);

/* Options by name. An integer option also accepts set_double with an integral value, and a
 * double option accepts set_int. Values outside the option's range give
 * VMO_ERR_INVALID_ARG; names that do not exist give VMO_ERR_UNKNOWN_OPTION.
 * set_string parses the value for numeric options ("320", "0.5", "true"). The options are
 * listed by vmo_config_option_info() and in docs/options.md. */
VMO_API int vmo_config_set_int(vmo_config *cfg, const char *name, int64_t value);
VMO_API int vmo_config_set_double(vmo_config *cfg, const char *name, double value);
VMO_API int vmo_config_set_string(vmo_config *cfg, const char *name, const char *value);
VMO_API int vmo_config_get_int(const vmo_config *cfg, const char *name, int64_t *value);
VMO_API int vmo_config_get_double(const vmo_config *cfg, const char *name, double *value);

enum { VMO_OPTION_INT = 0, VMO_OPTION_DOUBLE = 1, VMO_OPTION_BOOL = 2 };
typedef struct vmo_option_info {
    uint32_t struct_size;
    int32_t type;           /* VMO_OPTION_* */
    const char *name;       /* static storage */
    const char *help;       /* one line, static storage */
    double default_value;
    double min_value;
    double max_value;
} vmo_option_info;
/* Number of options, and the description of option `index` (0 <= index < count). */
VMO_API int vmo_config_option_count(void);
VMO_API int vmo_config_option_info(int index, vmo_option_info *info);

/* Zones. Coordinates are normalized to the frame (0..1, x to the right, y down), so a zone
 * survives resolution changes. An INCLUDE zone is reported on; an EXCLUDE zone (privacy
 * mask) is never analysed: its pixels are removed from every zone, including the implicit
 * whole-frame zone "frame" that is used when no include zone is defined. Pixels belong to
 * a zone when their centre is inside the polygon (even-odd rule). At most VMO_MAX_ZONES
 * zones of each kind. Names are 1..63 characters of [A-Za-z0-9_.-] and unique. */
#define VMO_MAX_ZONES 64
enum { VMO_ZONE_INCLUDE = 0, VMO_ZONE_EXCLUDE = 1 };

/* `spec` is "x0,y0,x1,y1" (a rectangle) or "poly:x,y;x,y;x,y[;...]" (a polygon of 3 or more
 * points). Errors: VMO_ERR_BAD_ZONE (malformed, outside 0..1, zero area, duplicate name,
 * too many zones). */
VMO_API int vmo_config_add_zone(vmo_config *cfg, const char *name, int kind, const char *spec);
VMO_API int vmo_config_add_zone_rect(vmo_config *cfg, const char *name, int kind, double x0,
                                     double y0, double x1, double y1);
/* `xy` holds npoints (x, y) pairs. */
VMO_API int vmo_config_add_zone_polygon(vmo_config *cfg, const char *name, int kind,
                                        const double *xy, uint32_t npoints);
/* Reads zones from a JSON document (the `--zones FILE` format, docs/zones.md):
 * {"zones": [{"name": "porch", "rect": [x0,y0,x1,y1]} | {"name": "p", "polygon": [[x,y],...]}
 *            ..., optional "exclude": true]}. All or nothing: on error no zone is added. */
VMO_API int vmo_config_add_zones_json(vmo_config *cfg, const char *json);
VMO_API void vmo_config_clear_zones(vmo_config *cfg);
/* Number of include zones as the analysis reports them (1 when none is defined: "frame"). */
VMO_API int vmo_config_zone_count(const vmo_config *cfg);
/* Name of reported zone `index`; NULL when out of range. Valid until the zones change. */
VMO_API const char *vmo_config_zone_name(const vmo_config *cfg, int index);

/* ------------------------------------------------------------------------------------------
 * Input from memory or custom storage
 * ---------------------------------------------------------------------------------------- */

/* Seek `whence` values: SEEK_SET/SEEK_CUR/SEEK_END of <stdio.h>, plus VMO_SEEK_SIZE, which
 * asks for the total size (return it, or a negative value if unknown). */
#define VMO_SEEK_SIZE 0x10000
typedef struct vmo_io {
    uint32_t struct_size;
    void *opaque;
    /* Reads up to `size` bytes into buf. Returns the count, 0 at the end, < 0 on error. */
    int (*read)(void *opaque, uint8_t *buf, int size);
    /* Returns the new position, or < 0 on error. NULL when the input cannot seek. */
    int64_t (*seek)(void *opaque, int64_t offset, int whence);
} vmo_io;

/* ------------------------------------------------------------------------------------------
 * Results: clips, events (segments) and per-frame scores
 * ---------------------------------------------------------------------------------------- */
typedef struct vmo_result vmo_result;

/* Where a clip's wall-clock start came from. */
enum {
    VMO_WALL_NONE = 0,     /* unknown: wall-clock fields are NaN */
    VMO_WALL_TAG = 1,      /* the container's creation_time tag */
    VMO_WALL_FILENAME = 2, /* a timestamp in the file name, e.g. cam1_20260704T140000Z.mp4 */
    VMO_WALL_CALLER = 3    /* given by the caller */
};

/* vmo_clip_info.flags */
#define VMO_CLIP_TRUNCATED (1u << 0) /* the data ended early; frames up to the cut are kept */
#define VMO_CLIP_DAMAGED (1u << 1)   /* some packets failed to decode and were skipped */
#define VMO_CLIP_SKIPPED (1u << 2)   /* outside the request's window: not decoded at all */
#define VMO_CLIP_PARTIAL (1u << 3)   /* only the part overlapping the window was decoded */
#define VMO_CLIP_INDEXED (1u << 4)   /* answered from its motion index, without decoding */
#define VMO_CLIP_RESIZED (1u << 5)   /* the resolution changed mid-stream */
#define VMO_CLIP_CANCELLED (1u << 6) /* the scan was cancelled; results up to there are kept */
/* The "fast" option scanned the clip (docs/fast-scan.md): events from packet sizes and
 * keyframes, decoded only around motion; per-frame scores and frame reports exist only for
 * the frames decoded. Without it after asking for "fast", the clip was scanned in full (the
 * stream could not tell; the log says why). */
#define VMO_CLIP_FAST (1u << 7)

typedef struct vmo_clip_info {
    uint32_t struct_size;
    int32_t status;       /* VMO_OK, VMO_ERR_TRUNCATED (partial), or the error of the clip */
    uint32_t flags;       /* VMO_CLIP_* */
    int32_t wall_source;  /* VMO_WALL_* */
    const char *path;     /* as given; owned by the result */
    const char *error;    /* message when status != VMO_OK, else NULL; owned by the result */
    const char *codec;    /* decoder name ("h264"), or "" (push API, index); owned */
    int64_t frames;       /* frames decoded */
    int64_t analysed;     /* frames analysed (fewer with the "fps" cap) */
    double duration;      /* seconds from the first to the end of the last decoded frame */
    double fps;           /* nominal frame rate, 0 when unknown */
    double wall_start;    /* POSIX seconds (UTC) of the clip's first frame, NaN if unknown */
    int32_t width;        /* coded picture size of the first frame */
    int32_t height;
    int32_t rotation;     /* display rotation in degrees (0, 90, 180, 270), metadata only */
    int32_t analysis_width; /* size of the analysis plane */
    int32_t analysis_height;
    int32_t reserved0;
    int64_t size_bytes;   /* file size, -1 when unknown (custom I/O without size) */
} vmo_clip_info;

/* vmo_event.kind */
enum {
    VMO_EVENT_MOTION = 0,   /* motion inside the zone */
    VMO_EVENT_LIGHTING = 1  /* a global lighting change (reported, not counted as motion) */
};
/* vmo_event.flags */
#define VMO_EVENT_AT_CLIP_START (1u << 0) /* starts within merge_gap of the clip's start */
#define VMO_EVENT_AT_CLIP_END (1u << 1)   /* ends within merge_gap of the clip's end */
#define VMO_EVENT_SPLIT (1u << 2)         /* cut at the "event.max_length" limit */
#define VMO_EVENT_CROSSES_FILES (1u << 3) /* spans contiguous clips (see the sources) */
#define VMO_EVENT_CLIPPED (1u << 4)       /* cut to the request's window */

typedef struct vmo_event {
    uint32_t struct_size;
    int32_t kind;        /* VMO_EVENT_* */
    uint32_t flags;      /* VMO_EVENT_* flags */
    int32_t zone;        /* index of the zone (vmo_result_zone_name); -1 for a lighting
                            change, which is the whole frame's */
    int32_t clip;        /* index of the clip holding the start */
    int32_t end_clip;    /* index of the clip holding the end (== clip unless it crosses) */
    double start;        /* seconds in `clip` of the first frame with motion */
    double end;          /* seconds in `end_clip` of the last frame with motion */
    double clip_start;   /* padded by pre-roll, in `clip` (>= 0) */
    double clip_end;     /* padded by post-roll, in `end_clip` (<= clip duration) */
    double wall_start;   /* POSIX seconds of `start`, NaN when the clip has no wall clock */
    double wall_end;     /* POSIX seconds of `end` */
    double peak;         /* highest changed fraction (0..1) inside the event */
    double mean;         /* mean changed fraction over the event's frames */
    double keyframe;     /* seconds in `clip` of the keyframe at or before `start`, NaN if
                            unknown (push API without VMO_FRAME_KEY) */
    double clip_keyframe; /* keyframe at or before `clip_start`: where a stream copy starts */
    double peak_time;    /* seconds in the clip holding the peak (`peak_clip`) */
    int32_t peak_clip;
    int32_t source_count; /* number of clips the event spans (vmo_result_event_source) */
    int64_t start_frame;  /* frame index of `start` in `clip` */
    int64_t end_frame;    /* frame index of `end` in `end_clip` */
    /* The whole event when it was cut to a request's window (VMO_EVENT_CLIPPED): its first
     * and last frame with motion in `whole_clip`/`whole_end_clip` seconds, and wall clock.
     * Equal to start/end otherwise. */
    double whole_start;
    double whole_end;
    double whole_wall_start;
    double whole_wall_end;
    int32_t whole_clip;
    int32_t whole_end_clip;
} vmo_event;

/* One clip's share of an event (an event crossing files has one per clip). */
typedef struct vmo_event_source {
    uint32_t struct_size;
    int32_t clip;
    double start;        /* unpadded offsets in that clip, seconds */
    double end;
    double clip_start;   /* padded offsets in that clip */
    double clip_end;
} vmo_event_source;

/* Per-frame scores of one zone of one clip, as parallel arrays owned by the result (no
 * copy: bindings can wrap them). Present only when the "frames" option was on. */
#define VMO_FRAME_KEY (1u << 0)      /* the decoder marked the frame as a keyframe */
#define VMO_FRAME_LIGHTING (1u << 1) /* a global lighting change was compensated */
#define VMO_FRAME_RESTART (1u << 2)  /* differencing restarted (first frame, new size) */
typedef struct vmo_series {
    uint32_t struct_size;
    uint32_t count;
    const double *t;       /* seconds from the clip's first frame */
    const float *changed;  /* changed fraction of the zone's pixels, 0..1 */
    const float *mad;      /* mean absolute difference to the previous frame, 0..255 */
    const uint8_t *flags;  /* VMO_FRAME_* */
    const int64_t *index;  /* frame numbers in the clip */
} vmo_series;

VMO_API void vmo_result_destroy(vmo_result **res);
VMO_API int vmo_result_clip_count(const vmo_result *res);
VMO_API int vmo_result_clip(const vmo_result *res, int index, vmo_clip_info *info);
VMO_API int vmo_result_zone_count(const vmo_result *res);
/* NULL when out of range. */
VMO_API const char *vmo_result_zone_name(const vmo_result *res, int zone);
/* Events, ordered by wall-clock (else clip order), then start, then zone. */
VMO_API int vmo_result_event_count(const vmo_result *res);
VMO_API int vmo_result_event(const vmo_result *res, int index, vmo_event *event);
VMO_API int vmo_result_event_source(const vmo_result *res, int event, int source,
                                    vmo_event_source *out);
VMO_API int vmo_result_series(const vmo_result *res, int clip, int zone, vmo_series *out);

/* How often each cell of a grid over the frame held motion in clip `clip` (the "heatmap"
 * option): *width x *height counts of frames, row-major, owned by the result. The grid is
 * VMO_GRID_W x VMO_GRID_H cells over the picture. VMO_ERR_STATE when not collected. */
#define VMO_GRID_W 32
#define VMO_GRID_H 18
VMO_API int vmo_result_heatmap(const vmo_result *res, int clip, const uint32_t **counts,
                               int *width, int *height);

/* Results to bytes and back, to move them between processes (e.g. Dask workers). The bytes
 * are versioned and checksummed; *data is released with vmo_free(). Load errors:
 * VMO_ERR_CORRUPT (damaged), VMO_ERR_UNSUPPORTED (another format version). */
VMO_API int vmo_result_save(const vmo_result *res, uint8_t **data, size_t *size);
VMO_API int vmo_result_load(const uint8_t *data, size_t size, vmo_result **out);

/* Merges results of disjoint sets of clips into the answer one request over all of them
 * would give: clips in the order of the parts, events joined across contiguous clips. The
 * parts must come from the same settings, zones and window (VMO_ERR_INVALID_ARG
 * otherwise), and no clip (path) may be in two parts (VMO_ERR_OVERLAP; unnamed pushed
 * streams are not compared). Thread-safe for distinct outputs. */
VMO_API int vmo_result_merge(const vmo_result *const *parts, int count, vmo_result **out);

/* What a clip is, from its container header alone (nothing is decoded): codec, size,
 * declared duration and frame rate, rotation, file size, and its wall-clock start
 * (creation_time, else a timestamp in the file name). Fills info (frames, analysed, path and
 * error stay 0/NULL; codec is static storage) and returns info->status: VMO_OK, or why the
 * clip cannot be opened (VMO_ERR_NOT_FOUND, VMO_ERR_EMPTY, VMO_ERR_NO_VIDEO, ...).
 * Thread-safe. */
VMO_API int vmo_probe_file(const char *path, vmo_clip_info *info);

/* ------------------------------------------------------------------------------------------
 * Analyzer: scans files, custom I/O, or frames pushed by the caller
 * ---------------------------------------------------------------------------------------- */
typedef struct vmo_analyzer vmo_analyzer;

/* `cfg` is copied; the caller may destroy it afterwards. Errors: VMO_ERR_BAD_ZONE when
 * the zones leave nothing to analyse. */
VMO_API int vmo_analyzer_create(const vmo_config *cfg, vmo_analyzer **out);
VMO_API void vmo_analyzer_destroy(vmo_analyzer **an);
/* Detail of the last error on this analyzer; "" if none. Valid until the next call on it. */
VMO_API const char *vmo_analyzer_last_error(const vmo_analyzer *an);

/* Per-frame report, given to the frame callback once the frame's scores are final. The
 * scores of frame t depend on frames up to about "long_baseline" seconds after it, so the
 * callback runs that much behind the decoder (and catches up when the clip ends). */
typedef struct vmo_frame_report {
    uint32_t struct_size;
    uint32_t flags;        /* VMO_FRAME_* */
    int32_t clip;          /* index of the clip in the current scan or request */
    int32_t zone_count;
    int64_t index;         /* frame number in the clip (decoded order of presentation) */
    double t;              /* seconds from the clip's first frame */
    double wall;           /* POSIX seconds, NaN when unknown */
    const float *changed;  /* zone_count values, 0..1 */
    const float *mad;      /* zone_count values */
    const uint8_t *plane;  /* the analysis plane (8-bit luma), valid during the call only */
    int32_t plane_width;
    int32_t plane_height;
    int32_t plane_stride;
    int32_t reserved0;
    const char *const *zone_names; /* zone_count names, valid during the call only */
} vmo_frame_report;
/* Return 0 to go on, non-zero to cancel the scan or the whole request (it then returns
 * VMO_ERR_CANCELLED, and the result so far is still delivered). The same holds for the
 * event and progress callbacks. */
typedef int (*vmo_frame_fn)(void *user, const vmo_frame_report *report);

/* Event report: a motion event starts or ends, as soon as it is known (live use). */
enum { VMO_EVENT_STARTED = 0, VMO_EVENT_ENDED = 1 };
typedef int (*vmo_event_fn)(void *user, int what, const vmo_event *event);

/* Progress: called about every 0.25 s of work. done/total in frames of the current clip
 * (total may be 0 if unknown), clip index, clip count. Every clip ends with one call where
 * done == total (0 and 0 for a clip a request skipped or could not open), so finished
 * clips can be counted. Non-zero return cancels. */
typedef int (*vmo_progress_fn)(void *user, int clip, int clip_count, int64_t done,
                               int64_t total);

VMO_API int vmo_analyzer_set_frame_callback(vmo_analyzer *an, vmo_frame_fn fn, void *user);
VMO_API int vmo_analyzer_set_event_callback(vmo_analyzer *an, vmo_event_fn fn, void *user);
VMO_API int vmo_analyzer_set_progress_callback(vmo_analyzer *an, vmo_progress_fn fn,
                                               void *user);

/* Asks a running scan or request on `an` to stop at the next frame. Thread-safe and
 * async-signal-safe: it only sets a flag. The flag is cleared when the next scan starts,
 * so a cancel before a scan has no effect on it. */
VMO_API void vmo_analyzer_cancel(vmo_analyzer *an);

/* Decodes and analyses one clip. On success *out receives a result with one clip; a
 * truncated or partly damaged clip is a success whose clip status/flags say so. On
 * failure *out is NULL and the code tells why (VMO_ERR_NOT_FOUND, VMO_ERR_EMPTY,
 * VMO_ERR_NOT_MEDIA, VMO_ERR_CORRUPT, VMO_ERR_NO_VIDEO, VMO_ERR_DECODE, ...), except for
 * VMO_ERR_CANCELLED, which still delivers the partial result. */
VMO_API int vmo_analyzer_scan_file(vmo_analyzer *an, const char *path, vmo_result **out);
/* Same from caller-supplied I/O. `name` labels the clip (may be NULL). `io` and its opaque
 * data must stay valid until the call returns. */
VMO_API int vmo_analyzer_scan_io(vmo_analyzer *an, const vmo_io *io, const char *name,
                                 vmo_result **out);

/* Push API (firmware): frames the caller already has, no FFmpeg on this path. */
typedef struct vmo_frame {
    uint32_t struct_size;
    int32_t width;            /* of the luma plane */
    int32_t height;
    int32_t stride;           /* bytes between rows (>= width) */
    const uint8_t *luma;      /* 8-bit luma (Y) plane; only read during the call */
    int64_t pts;              /* presentation time in time_base units, increasing */
    int32_t time_base_num;    /* e.g. 1/90000; 0/0 means microseconds */
    int32_t time_base_den;
    uint32_t flags;           /* VMO_FRAME_KEY if the caller knows it is a keyframe */
    int32_t reserved0;
} vmo_frame;
/* Analyses one frame. Scores reach the frame callback, and events the event callback, as
 * soon as they are final. A new size restarts differencing. */
VMO_API int vmo_analyzer_push_frame(vmo_analyzer *an, const vmo_frame *frame);
/* Ends the pushed stream: flushes pending frames and events and returns the result of the
 * stream since the first push (or the last finish). `name` labels the clip (may be NULL);
 * `wall_start` is its wall-clock start in POSIX seconds or NaN. */
VMO_API int vmo_analyzer_push_finish(vmo_analyzer *an, const char *name, double wall_start,
                                     vmo_result **out);

/* ------------------------------------------------------------------------------------------
 * Requests: a set of clips (a camera's archive), an optional time window, merged events
 * ---------------------------------------------------------------------------------------- */
typedef struct vmo_request vmo_request;

VMO_API int vmo_request_create(vmo_request **out);
VMO_API void vmo_request_destroy(vmo_request **rq);
/* Detail of the last error on this request; "" if none. Valid until the next call on it. */
VMO_API const char *vmo_request_last_error(const vmo_request *rq);
/* Adds a clip. wall_start: the clip's wall-clock start in POSIX seconds, or NaN to take it
 * from its creation_time tag, else from a timestamp in its file name. */
VMO_API int vmo_request_add_clip(vmo_request *rq, const char *path, double wall_start);

/* The time window: `from`/`to` as vmo_parse_time() reads them, both wall-clock (ISO-8601)
 * or both relative (seconds from each clip's first frame); NULL leaves an end open.
 * Clips entirely outside a wall-clock window are not decoded at all; clips partly inside
 * are decoded from the keyframe before the window's start to its end. Events are cut to
 * the window (VMO_EVENT_CLIPPED; the whole event stays in vmo_event.whole_*).
 * Errors: VMO_ERR_BAD_TIME, VMO_ERR_BAD_WINDOW (ends before it starts, or mixes kinds). */
VMO_API int vmo_request_set_window(vmo_request *rq, const char *from, const char *to);
/* The same with numbers: POSIX seconds (wall) or clip seconds; NaN leaves an end open. */
VMO_API int vmo_request_set_window_wall(vmo_request *rq, double from, double to);
VMO_API int vmo_request_set_window_clip(vmo_request *rq, double from, double to);
/* Zones defined on the request replace the analyzer's for this request (same rules as
 * vmo_config_add_zone; errors VMO_ERR_BAD_ZONE). */
VMO_API int vmo_request_add_zone(vmo_request *rq, const char *name, int kind, const char *spec);
/* Reports only the named zones (of the request's zones, else the analyzer's). A name
 * that does not exist fails the run with VMO_ERR_UNKNOWN_ZONE. */
VMO_API int vmo_request_select_zone(vmo_request *rq, const char *name);
/* Request options by name:
 *   "sensitivity"  > 0, default 1: event levels are divided by it (2 = twice as sensitive)
 *   "min_length", "merge_gap", "pre_roll", "post_roll": seconds, default the analyzer's
 *   "use_index"    1: answer clips that have a valid motion index from it, without decoding
 *                  (zone counts then come from the index's grid); default 0
 *   "write_index"  1: write the motion index of every clip decoded whole (default 0) */
VMO_API int vmo_request_set_double(vmo_request *rq, const char *name, double value);

/* Runs the request with the analyzer's settings and zones. Clips are analysed in parallel
 * (OpenMP; the "jobs" option), and the result lists every clip in the order added, each
 * with its own status: a clip that fails to decode does not fail the request. Events of
 * contiguous clips (by wall-clock time) that cross the boundary are merged into one.
 * Callbacks are never called concurrently, but may run on worker threads; their `clip`
 * is the clip's index in the request. Returns VMO_ERR_CANCELLED (with the partial
 * result) when cancelled. Request errors (checked before any decoding): VMO_ERR_BAD_WINDOW,
 * VMO_ERR_UNKNOWN_ZONE, VMO_ERR_NO_TIME_SOURCE (a wall-clock window and a clip without a
 * wall-clock start), VMO_ERR_OVERLAP (the same file twice, or clips overlapping in time). */
VMO_API int vmo_analyzer_run_request(vmo_analyzer *an, const vmo_request *rq,
                                     vmo_result **out);

/* ------------------------------------------------------------------------------------------
 * Motion index: a compact sidecar (CLIP.vmoidx) that answers later requests without decoding
 * ---------------------------------------------------------------------------------------- */

/* Scans `path` and writes its motion index next to it (path + ".vmoidx"), atomically. The
 * index holds, per analysed frame, changed-pixel counts on a VMO_GRID_W x VMO_GRID_H grid,
 * with the clip's identity (size and hash) and the analysis settings (docs/index-format.md).
 * *out (may be NULL) receives the scan's result. */
VMO_API int vmo_analyzer_index_file(vmo_analyzer *an, const char *path, vmo_result **out);

typedef struct vmo_index_info {
    uint32_t struct_size;
    int32_t status;        /* VMO_OK, VMO_ERR_INDEX_STALE, VMO_ERR_INDEX_CORRUPT, NOT_FOUND */
    int32_t version;       /* format version */
    int32_t grid_width;
    int32_t grid_height;
    int32_t analysis_width;
    int32_t analysis_height;
    int32_t reserved0;
    int64_t frames;        /* analysed frames recorded */
    int64_t clip_size;     /* size of the clip it describes */
    int64_t index_size;    /* bytes of the index file */
    double duration;
    double wall_start;     /* NaN if unknown */
} vmo_index_info;
/* Checks the index of `clip_path` (index_path NULL: clip_path + ".vmoidx") against the clip
 * and its own checksum, and describes it. Returns info->status. */
VMO_API int vmo_index_check(const char *clip_path, const char *index_path,
                            vmo_index_info *info);

/* ------------------------------------------------------------------------------------------
 * Export: cut events out of their clips without re-encoding, with a verifiable manifest
 * ---------------------------------------------------------------------------------------- */
typedef struct vmo_export vmo_export;

/* Options by name (vmo_export_set_string / _int):
 *   "dir"        output folder (must exist)                                  required
 *   "format"     "mp4" (default) or "mkv"
 *   "mode"       "copy" (default): packets copied from the keyframe at or before the padded
 *                start; "precise": frame-exact, only the partial GOP at the head re-encoded;
 *                "reencode": everything re-encoded
 *   "redact"     "none" (default), "black" or "pixelate": privacy masks (exclude zones of
 *                the result) blanked in the output; forces a re-encode of the video
 *   "case"       a case reference recorded in the manifest
 *   "manifest"   manifest path (default DIR/manifest.json)
 *   "overwrite"  1 to replace existing outputs (default 0: VMO_ERR_EXISTS)
 *   "thumbnails" 1 to also write one PNG per segment at its peak (default 0)
 * Outputs are written under a temporary name and renamed when complete; after a failure no
 * partial output remains. */
VMO_API int vmo_export_create(vmo_export **out);
VMO_API void vmo_export_destroy(vmo_export **ex);
VMO_API const char *vmo_export_last_error(const vmo_export *ex);
VMO_API int vmo_export_set_string(vmo_export *ex, const char *name, const char *value);
VMO_API int vmo_export_set_int(vmo_export *ex, const char *name, int64_t value);

/* Exports every motion event of `res` (one output per event, an event spanning contiguous
 * clips becomes one output) and writes the manifest. */
VMO_API int vmo_export_run(vmo_export *ex, const vmo_result *res);
/* Writes only the PNG thumbnails (one per motion event, at its peak): a preview before
 * anything is shared. */
VMO_API int vmo_export_thumbnails(vmo_export *ex, const vmo_result *res);

typedef struct vmo_export_output_info {
    uint32_t struct_size;
    int32_t event;          /* index of the event in the result */
    const char *path;       /* owned by the export handle */
    const char *sha256;     /* 64 hex digits */
    const char *thumbnail;  /* PNG path or NULL */
    int64_t size_bytes;
    double duration;        /* seconds */
    double wall_start;      /* POSIX seconds of its first frame, NaN if unknown */
    double wall_end;
    int32_t reencoded;      /* 1 when the video was (partly) re-encoded */
    int32_t reserved0;
} vmo_export_output_info;
/* Outputs of the last run (valid until the next run or destroy). After
 * vmo_export_thumbnails(), path and sha256 are NULL and wall_start/wall_end are the wall
 * clock of the thumbnail's frame. */
VMO_API int vmo_export_output_count(const vmo_export *ex);
VMO_API int vmo_export_output(const vmo_export *ex, int index, vmo_export_output_info *out);
/* Path of the manifest written by the last run; NULL before. */
VMO_API const char *vmo_export_manifest_path(const vmo_export *ex);

/* Hashes every file a manifest lists again. VMO_OK when all match; VMO_ERR_MISMATCH when a
 * size or hash differs or a file is missing; VMO_ERR_BAD_MANIFEST; VMO_ERR_NOT_FOUND.
 * *report (may be NULL) receives one line per file ("ok PATH" / "MISMATCH PATH: ..."),
 * released with vmo_free(). */
VMO_API int vmo_verify_manifest(const char *path, char **report);

/* ------------------------------------------------------------------------------------------
 * JSON
 * ---------------------------------------------------------------------------------------- */
#define VMO_JSON_FRAMES (1u << 0) /* include the per-frame scores ("frames") */
#define VMO_JSON_PRETTY (1u << 1) /* indent */
/* The result as the JSON document of the CLI's --json contract (docs/json.md). *json is
 * NUL-terminated and released with vmo_free(). */
VMO_API int vmo_result_to_json(const vmo_result *res, uint32_t flags, char **json);

#ifdef __cplusplus
}
#endif
#endif /* VIDMOTION_VIDMOTION_H */
