/* The option table: one row per option (name, type, field, default, range, help). Setters,
 * getters, enumeration and defaults are all driven by it, so adding an option is one row. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"

typedef struct vmo_option {
    const char *name;
    int type; /* VMO_OPTION_* */
    size_t offset;
    double def, min, max;
    const char *help;
} vmo_option;

#define OPT(name, type, field, def, min, max, help) \
    { name, type, offsetof(vmo_settings, field), def, min, max, help }

static const vmo_option options[] = {
    OPT("width", VMO_OPTION_INT, width, 320, 8, 4096,
        "analysis width in pixels (the height follows the aspect ratio; never upscaled)"),
    OPT("threshold", VMO_OPTION_INT, threshold, 4, 0, 255,
        "pixel difference (0-255) above which a pixel counts as changed"),
    OPT("adaptive_threshold", VMO_OPTION_BOOL, adaptive_threshold, 1, 0, 1,
        "raise the threshold of each frame pair above its own noise (3.5 sigma)"),
    OPT("blur", VMO_OPTION_INT, blur, 1, 0, 3,
        "passes of a 3x3 [1 2 1] blur before differencing, against sensor and codec noise"),
    OPT("fps", VMO_OPTION_DOUBLE, fps, 0, 0, 1000,
        "analyse at most this many frames per second (skipped frames spread evenly); 0 = all"),
    OPT("long_baseline", VMO_OPTION_DOUBLE, long_baseline, 1.0, 0, 10,
        "seconds between the frames of the long difference that finds slow movers; 0 = off"),
    OPT("lighting", VMO_OPTION_BOOL, lighting, 1, 0, 1,
        "treat a near-uniform brightness change over most of the frame as lighting, not motion"),
    OPT("threads", VMO_OPTION_INT, threads, 0, 0, 64, "decoder threads; 0 = one per core"),
    OPT("stream", VMO_OPTION_INT, stream, -1, -1, 1024,
        "index of the video stream to analyse; -1 = the best one"),
    OPT("jobs", VMO_OPTION_INT, jobs, 0, 0, 256,
        "clips a request analyses in parallel; 0 = one per core"),
    OPT("pipeline", VMO_OPTION_BOOL, pipeline, 1, 0, 1,
        "decode on a thread of its own while frames are scored (when there are 2+ cores)"),
    OPT("start_level", VMO_OPTION_DOUBLE, start_level, 0.0005, 0, 1,
        "changed fraction of a zone that starts an event (raised by the noise floor)"),
    OPT("end_level", VMO_OPTION_DOUBLE, end_level, 0.00025, 0, 1,
        "changed fraction below which an event ends (hysteresis; <= start_level)"),
    OPT("end_ratio", VMO_OPTION_DOUBLE, end_ratio, 0.03, 0, 1,
        "an event also ends below this fraction of its own peak (after a big motion, the "
        "codec's refinement of the still picture is not motion)"),
    OPT("min_pixels", VMO_OPTION_INT, min_pixels, 8, 0, 1 << 24,
        "changed pixels (at analysis size) a frame needs to count as motion"),
    OPT("noise_floor", VMO_OPTION_BOOL, noise_floor, 1, 0, 1,
        "adapt each zone's levels to its own sensor and compression noise"),
    OPT("min_length", VMO_OPTION_DOUBLE, min_length, 0.2, 0, 86400,
        "seconds: shorter events are dropped"),
    OPT("merge_gap", VMO_OPTION_DOUBLE, merge_gap, 1.0, 0, 86400,
        "seconds: events of a zone separated by at most this merge into one"),
    OPT("pre_roll", VMO_OPTION_DOUBLE, pre_roll, 2.0, 0, 3600,
        "seconds of padding before an event (clip_start, exports)"),
    OPT("post_roll", VMO_OPTION_DOUBLE, post_roll, 2.0, 0, 3600,
        "seconds of padding after an event (clip_end, exports)"),
    OPT("max_length", VMO_OPTION_DOUBLE, max_length, 0, 0, 86400,
        "seconds: longer events are split; 0 = never"),
    OPT("frames", VMO_OPTION_BOOL, frames, 0, 0, 1,
        "keep every analysed frame's scores in the result (memory grows with clip length)"),
    OPT("heatmap", VMO_OPTION_BOOL, heatmap, 0, 0, 1,
        "count, per cell of a 32x18 grid, the frames with motion (vmo_result_heatmap)"),
    OPT("fast", VMO_OPTION_BOOL, fast, 0, 0, 1,
        "fast scan: packet sizes and keyframes, full decoding only around motion "
        "(docs/fast-scan.md); per-frame scores only for the frames decoded"),
};

static const vmo_option *find_option(const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < VMO_ARRAY_SIZE(options); i++)
        if (!strcmp(options[i].name, name))
            return &options[i];
    return NULL;
}

static void store(vmo_settings *s, const vmo_option *o, double v)
{
    char *field = (char *)s + o->offset;
    if (o->type == VMO_OPTION_DOUBLE)
        memcpy(field, &v, sizeof(double));
    else {
        int64_t i = (int64_t)v;
        memcpy(field, &i, sizeof(int64_t));
    }
}

static double load(const vmo_settings *s, const vmo_option *o)
{
    const char *field = (const char *)s + o->offset;
    if (o->type == VMO_OPTION_DOUBLE) {
        double v;
        memcpy(&v, field, sizeof(double));
        return v;
    }
    int64_t i;
    memcpy(&i, field, sizeof(int64_t));
    return (double)i;
}

void vmo_settings_default(vmo_settings *s)
{
    memset(s, 0, sizeof(*s));
    for (size_t i = 0; i < VMO_ARRAY_SIZE(options); i++)
        store(s, &options[i], options[i].def);
}

int vmo_config_create(vmo_config **out)
{
    if (!out)
        return VMO_ERR_INVALID_ARG;
    *out = NULL;
    vmo_config *cfg = calloc(1, sizeof(*cfg));
    if (!cfg)
        return VMO_ERR_NO_MEMORY;
    vmo_settings_default(&cfg->settings);
    *out = cfg;
    return VMO_OK;
}

int vmo_config_clone(const vmo_config *cfg, vmo_config **out)
{
    if (!cfg || !out)
        return VMO_ERR_INVALID_ARG;
    *out = NULL;
    vmo_config *copy = calloc(1, sizeof(*copy));
    if (!copy)
        return VMO_ERR_NO_MEMORY;
    copy->settings = cfg->settings;
    if (vmo_zone_set_copy(&copy->zones, &cfg->zones) != VMO_OK) {
        free(copy);
        return VMO_ERR_NO_MEMORY;
    }
    *out = copy;
    return VMO_OK;
}

void vmo_config_destroy(vmo_config **cfg)
{
    if (!cfg || !*cfg)
        return;
    vmo_zone_set_clear(&(*cfg)->zones);
    free(*cfg);
    *cfg = NULL;
}

const char *vmo_config_last_error(const vmo_config *cfg)
{
    return cfg ? cfg->err.msg : "";
}

static int set_value(vmo_config *cfg, const char *name, double v)
{
    if (!cfg || !name)
        return VMO_ERR_INVALID_ARG;
    const vmo_option *o = find_option(name);
    if (!o)
        return vmo_err_set(&cfg->err, VMO_ERR_UNKNOWN_OPTION, "unknown option '%s'", name);
    if (isnan(v) || v < o->min || v > o->max)
        return vmo_err_set(&cfg->err, VMO_ERR_INVALID_ARG,
                           "option '%s' must be between %g and %g (got %g)", name, o->min,
                           o->max, v);
    if (o->type != VMO_OPTION_DOUBLE && v != floor(v))
        return vmo_err_set(&cfg->err, VMO_ERR_INVALID_ARG,
                           "option '%s' takes an integer (got %g)", name, v);
    store(&cfg->settings, o, v);
    return VMO_OK;
}

int vmo_config_set_int(vmo_config *cfg, const char *name, int64_t value)
{
    return set_value(cfg, name, (double)value);
}

int vmo_config_set_double(vmo_config *cfg, const char *name, double value)
{
    return set_value(cfg, name, value);
}

static int parse_bool(const char *s, double *v)
{
    static const char *yes[] = { "1", "true", "yes", "on" };
    static const char *no[] = { "0", "false", "no", "off" };
    for (size_t i = 0; i < VMO_ARRAY_SIZE(yes); i++) {
        if (!strcasecmp(s, yes[i])) {
            *v = 1;
            return 1;
        }
        if (!strcasecmp(s, no[i])) {
            *v = 0;
            return 1;
        }
    }
    return 0;
}

int vmo_config_set_string(vmo_config *cfg, const char *name, const char *value)
{
    if (!cfg || !name || !value)
        return VMO_ERR_INVALID_ARG;
    const vmo_option *o = find_option(name);
    if (!o)
        return vmo_err_set(&cfg->err, VMO_ERR_UNKNOWN_OPTION, "unknown option '%s'", name);
    double v;
    if (o->type == VMO_OPTION_BOOL && parse_bool(value, &v))
        return set_value(cfg, name, v);
    char *end;
    errno = 0;
    v = strtod(value, &end);
    if (end == value || *end != '\0' || errno == ERANGE)
        return vmo_err_set(&cfg->err, VMO_ERR_INVALID_ARG, "option '%s': '%s' is not a number",
                           name, value);
    return set_value(cfg, name, v);
}

static int get_value(const vmo_config *cfg, const char *name, double *value)
{
    const vmo_option *o = find_option(name);
    if (!cfg || !value)
        return VMO_ERR_INVALID_ARG;
    if (!o)
        return VMO_ERR_UNKNOWN_OPTION;
    *value = load(&cfg->settings, o);
    return VMO_OK;
}

int vmo_config_get_int(const vmo_config *cfg, const char *name, int64_t *value)
{
    double v;
    int rc = value ? get_value(cfg, name, &v) : VMO_ERR_INVALID_ARG;
    if (rc == VMO_OK)
        *value = (int64_t)v;
    return rc;
}

int vmo_config_get_double(const vmo_config *cfg, const char *name, double *value)
{
    return get_value(cfg, name, value);
}

int vmo_config_option_count(void)
{
    return (int)VMO_ARRAY_SIZE(options);
}

int vmo_config_option_info(int index, vmo_option_info *info)
{
    if (index < 0 || index >= (int)VMO_ARRAY_SIZE(options) || !info)
        return VMO_ERR_INVALID_ARG;
    const vmo_option *o = &options[index];
    vmo_option_info mine = { sizeof(mine), o->type, o->name, o->help, o->def, o->min, o->max };
    return vmo_copy_sized(info, &mine, sizeof(mine));
}

/* ---- zones ---- */

int vmo_config_add_zone(vmo_config *cfg, const char *name, int kind, const char *spec)
{
    if (!cfg || !name || !spec)
        return VMO_ERR_INVALID_ARG;
    return vmo_zone_set_add_spec(&cfg->zones, name, kind, spec, &cfg->err);
}

int vmo_config_add_zone_rect(vmo_config *cfg, const char *name, int kind, double x0, double y0,
                             double x1, double y1)
{
    if (!cfg || !name)
        return VMO_ERR_INVALID_ARG;
    if (!(x0 < x1) || !(y0 < y1))
        return vmo_err_set(&cfg->err, VMO_ERR_BAD_ZONE,
                           "zone '%s': a rectangle needs x0 < x1 and y0 < y1", name);
    const double xy[8] = { x0, y0, x1, y0, x1, y1, x0, y1 };
    return vmo_zone_set_add_polygon(&cfg->zones, name, kind, xy, 4, &cfg->err);
}

int vmo_config_add_zone_polygon(vmo_config *cfg, const char *name, int kind, const double *xy,
                                uint32_t npoints)
{
    if (!cfg || !name || !xy)
        return VMO_ERR_INVALID_ARG;
    return vmo_zone_set_add_polygon(&cfg->zones, name, kind, xy, npoints, &cfg->err);
}

int vmo_config_add_zones_json(vmo_config *cfg, const char *json)
{
    if (!cfg || !json)
        return VMO_ERR_INVALID_ARG;
    return vmo_zone_set_add_json(&cfg->zones, json, &cfg->err);
}

void vmo_config_clear_zones(vmo_config *cfg)
{
    if (cfg)
        vmo_zone_set_clear(&cfg->zones);
}

int vmo_config_zone_count(const vmo_config *cfg)
{
    if (!cfg)
        return 0;
    int n = vmo_zone_set_include_count(&cfg->zones);
    return n > 0 ? n : 1;
}

const char *vmo_config_zone_name(const vmo_config *cfg, int index)
{
    if (!cfg || index < 0)
        return NULL;
    int n = vmo_zone_set_include_count(&cfg->zones);
    if (n == 0)
        return index == 0 ? "frame" : NULL;
    for (int i = 0, k = 0; i < cfg->zones.count; i++) {
        if (cfg->zones.zones[i].kind != VMO_ZONE_INCLUDE)
            continue;
        if (k++ == index)
            return cfg->zones.zones[i].name;
    }
    return NULL;
}
