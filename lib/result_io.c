/* Results to bytes and back (vmo_result_save / vmo_result_load), and the merge of results
 * of disjoint clip sets (vmo_result_merge). A saved result holds what its final events are
 * computed from: settings, zones, window and each clip's info and events (plus series and
 * heatmap when present); loading recomputes the final events, so a merge of loaded parts
 * is exactly what one request over all the clips gives.
 *
 * Format: "VMORESLT", u32 version, then little-endian fields, then the CRC-32 of all the
 * bytes before it. Every read is bounds-checked: the bytes may come from anywhere. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "result.h"

#define RESULT_VERSION 1
static const char result_magic[8] = { 'V', 'M', 'O', 'R', 'E', 'S', 'L', 'T' };

/* ------------------------------------------------------------------------------------------
 * Writing
 * ---------------------------------------------------------------------------------------- */

typedef struct wbuf {
    uint8_t *p;
    size_t len, cap;
    int failed;
} wbuf;

static void put(wbuf *b, const void *data, size_t n)
{
    if (b->failed)
        return;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n)
            cap *= 2;
        uint8_t *q = realloc(b->p, cap);
        if (!q) {
            b->failed = 1;
            return;
        }
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->len, data, n);
    b->len += n;
}

static void put_u32(wbuf *b, uint32_t v)
{
    uint8_t x[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
    put(b, x, 4);
}

static void put_u64(wbuf *b, uint64_t v)
{
    put_u32(b, (uint32_t)v);
    put_u32(b, (uint32_t)(v >> 32));
}

static void put_i64(wbuf *b, int64_t v)
{
    put_u64(b, (uint64_t)v);
}

static void put_f64(wbuf *b, double v)
{
    uint64_t u;
    memcpy(&u, &v, 8);
    put_u64(b, u);
}

static void put_str(wbuf *b, const char *s)
{
    uint32_t n = s ? (uint32_t)strlen(s) : UINT32_MAX;
    put_u32(b, n);
    if (s)
        put(b, s, n);
}

/* Settings field by field (no padding bytes, no layout dependence). */
static void put_settings(wbuf *b, const vmo_settings *s)
{
    const int64_t ints[] = { s->width, s->threshold, s->adaptive_threshold, s->blur,
                             s->lighting, s->threads, s->stream, s->jobs, s->min_pixels,
                             s->noise_floor, s->frames, s->heatmap, s->pipeline };
    const double reals[] = { s->fps, s->long_baseline, s->start_level, s->end_level,
                             s->end_ratio, s->min_length, s->merge_gap, s->pre_roll,
                             s->post_roll, s->max_length };
    put_u32(b, VMO_ARRAY_SIZE(ints));
    for (size_t i = 0; i < VMO_ARRAY_SIZE(ints); i++)
        put_i64(b, ints[i]);
    put_u32(b, VMO_ARRAY_SIZE(reals));
    for (size_t i = 0; i < VMO_ARRAY_SIZE(reals); i++)
        put_f64(b, reals[i]);
}

static void put_zones(wbuf *b, const vmo_zone_set *z)
{
    put_u32(b, (uint32_t)z->count);
    for (int i = 0; i < z->count; i++) {
        put_str(b, z->zones[i].name);
        put_u32(b, (uint32_t)z->zones[i].kind);
        put_u32(b, z->zones[i].npoints);
        for (uint32_t k = 0; k < 2 * z->zones[i].npoints; k++)
            put_f64(b, z->zones[i].xy[k]);
    }
}

static void put_event(wbuf *b, const vmo_clip_event *e)
{
    put_u32(b, (uint32_t)e->kind);
    put_u32(b, (uint32_t)e->zone);
    put_u32(b, e->flags);
    put_i64(b, e->start_frame);
    put_i64(b, e->end_frame);
    const double r[] = { e->start, e->end, e->peak, e->peak_t, e->sum, e->keyframe,
                         e->keyframe_pre };
    for (size_t i = 0; i < VMO_ARRAY_SIZE(r); i++)
        put_f64(b, r[i]);
    put_i64(b, e->nframes);
}

static void put_clip(wbuf *b, const vmo_clip_data *c)
{
    const vmo_clip_info *ci = &c->info;
    put_str(b, c->path);
    put_str(b, c->error);
    put_str(b, c->codec);
    put_u32(b, (uint32_t)ci->status);
    put_u32(b, ci->flags);
    put_u32(b, (uint32_t)ci->wall_source);
    put_i64(b, ci->frames);
    put_i64(b, ci->analysed);
    put_f64(b, ci->duration);
    put_f64(b, ci->fps);
    put_f64(b, ci->wall_start);
    const int32_t dims[] = { ci->width, ci->height, ci->rotation, ci->analysis_width,
                             ci->analysis_height };
    for (size_t i = 0; i < VMO_ARRAY_SIZE(dims); i++)
        put_u32(b, (uint32_t)dims[i]);
    put_i64(b, ci->size_bytes);
    put_f64(b, c->first_t);
    put_f64(b, c->frame_dur);
    put_u32(b, (uint32_t)c->nevents);
    for (int i = 0; i < c->nevents; i++)
        put_event(b, &c->events[i]);
    put_u32(b, c->nframes);
    put_u32(b, (uint32_t)c->zone_count);
    for (uint32_t i = 0; i < c->nframes; i++) {
        put_i64(b, c->findex[i]);
        put_f64(b, c->t[i]);
        put(b, &c->fflags[i], 1);
        for (int z = 0; z < c->zone_count; z++) {
            uint32_t u;
            memcpy(&u, &c->changed[(size_t)z * c->cap + i], 4);
            put_u32(b, u);
            memcpy(&u, &c->mad[(size_t)z * c->cap + i], 4);
            put_u32(b, u);
        }
    }
    put_u32(b, c->heat ? VMO_GRID_CELLS : 0);
    for (int i = 0; c->heat && i < VMO_GRID_CELLS; i++)
        put_u32(b, c->heat[i]);
}

int vmo_result_save(const vmo_result *res, uint8_t **data, size_t *size)
{
    if (data)
        *data = NULL;
    if (!res || !data || !size)
        return VMO_ERR_INVALID_ARG;
    wbuf b = { 0 };
    put(&b, result_magic, 8);
    put_u32(&b, RESULT_VERSION);
    put_settings(&b, &res->settings);
    put_zones(&b, &res->zones);
    put_u32(&b, (uint32_t)res->zone_count);
    for (int z = 0; z < res->zone_count; z++)
        put_str(&b, res->zone_names[z]);
    put_f64(&b, res->window.from);
    put_f64(&b, res->window.to);
    put_u32(&b, (uint32_t)res->window.wall);
    put_u32(&b, (uint32_t)res->nclips);
    for (int i = 0; i < res->nclips; i++)
        put_clip(&b, &res->clips[i]);
    put_u32(&b, b.failed ? 0 : (uint32_t)crc32(0, b.p, (uInt)b.len));
    if (b.failed) {
        free(b.p);
        return VMO_ERR_NO_MEMORY;
    }
    *data = b.p;
    *size = b.len;
    return VMO_OK;
}

/* ------------------------------------------------------------------------------------------
 * Reading
 * ---------------------------------------------------------------------------------------- */

typedef struct rbuf {
    const uint8_t *p;
    size_t len, pos;
    int bad;
} rbuf;

static const uint8_t *take(rbuf *b, size_t n)
{
    if (b->bad || n > b->len - b->pos) {
        b->bad = 1;
        return NULL;
    }
    const uint8_t *p = b->p + b->pos;
    b->pos += n;
    return p;
}

static uint32_t get_u32(rbuf *b)
{
    const uint8_t *p = take(b, 4);
    return p ? (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                   (uint32_t)p[3] << 24
             : 0;
}

static uint64_t get_u64(rbuf *b)
{
    uint64_t lo = get_u32(b);
    return lo | (uint64_t)get_u32(b) << 32;
}

static double get_f64(rbuf *b)
{
    uint64_t u = get_u64(b);
    double v;
    memcpy(&v, &u, 8);
    return v;
}

/* A count of items each at least `min_bytes` long: at most what is left can hold. */
static uint32_t get_count(rbuf *b, size_t min_bytes, uint32_t limit)
{
    uint32_t n = get_u32(b);
    if (n > limit || (size_t)n * min_bytes > b->len - b->pos)
        b->bad = 1;
    return b->bad ? 0 : n;
}

static char *get_str(rbuf *b)
{
    uint32_t n = get_u32(b);
    if (n == UINT32_MAX || b->bad)
        return NULL;
    const uint8_t *p = take(b, n);
    char *s = p ? malloc((size_t)n + 1) : NULL;
    if (!s) {
        b->bad = 1;
        return NULL;
    }
    memcpy(s, p, n);
    s[n] = '\0';
    if (strlen(s) != n) { /* embedded NUL */
        free(s);
        b->bad = 1;
        return NULL;
    }
    return s;
}

/* ---- value checks: the structure can be right and the numbers hostile ---- */

/* Seconds beyond any clip or wall clock (31,000 years): with frame intervals of at least
 * FRAME_DUR_MIN, frame counts derived from such times stay far inside int64_t. */
#define TIME_MAX 1e12
#define FRAME_DUR_MIN 1e-6
#define FRAME_DUR_MAX 86400.0
#define FRAME_MAX ((int64_t)1 << 53)

static int time_ok(double t)
{
    return t >= 0 && t <= TIME_MAX; /* false for NaN */
}

static int time_or_nan_ok(double t)
{
    return isnan(t) || time_ok(t);
}

/* Wall-clock starts and window ends are what callers gave (any finite value is accepted
 * there): only infinities are refused. */
static int wall_ok(double t)
{
    return !isinf(t);
}

/* Every setting inside its option's range (the option table of config.c). */
static int settings_ok(const vmo_settings *s)
{
    vmo_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.settings = *s;
    for (int i = 0; i < vmo_config_option_count(); i++) {
        vmo_option_info o = { .struct_size = sizeof(o) };
        double v;
        if (vmo_config_option_info(i, &o) != VMO_OK ||
            vmo_config_get_double(&cfg, o.name, &v) != VMO_OK ||
            !(v >= o.min_value && v <= o.max_value))
            return 0;
    }
    return 1;
}

static int event_ok(const vmo_clip_event *e)
{
    return time_ok(e->start) && time_ok(e->end) && e->start <= e->end && time_ok(e->peak_t) &&
           e->peak >= 0 && e->peak <= 1 && e->sum >= 0 && e->sum <= TIME_MAX &&
           time_or_nan_ok(e->keyframe) && time_or_nan_ok(e->keyframe_pre) &&
           e->start_frame >= 0 && e->start_frame <= e->end_frame && e->end_frame <= FRAME_MAX &&
           e->nframes >= 0 && e->nframes <= FRAME_MAX;
}

static int clip_ok(const vmo_clip_data *c)
{
    const vmo_clip_info *ci = &c->info;
    return time_ok(ci->duration) && time_ok(c->first_t) && c->frame_dur >= FRAME_DUR_MIN &&
           c->frame_dur <= FRAME_DUR_MAX && ci->fps >= 0 && ci->fps <= 1e6 &&
           wall_ok(ci->wall_start) && ci->frames >= 0 && ci->frames <= FRAME_MAX &&
           ci->analysed >= 0 && ci->analysed <= ci->frames && ci->status <= VMO_OK;
}

static void get_settings(rbuf *b, vmo_settings *s)
{
    int64_t *ints[] = { &s->width, &s->threshold, &s->adaptive_threshold, &s->blur,
                        &s->lighting, &s->threads, &s->stream, &s->jobs, &s->min_pixels,
                        &s->noise_floor, &s->frames, &s->heatmap, &s->pipeline };
    double *reals[] = { &s->fps, &s->long_baseline, &s->start_level, &s->end_level,
                        &s->end_ratio, &s->min_length, &s->merge_gap, &s->pre_roll,
                        &s->post_roll, &s->max_length };
    vmo_settings_default(s);
    if (get_u32(b) != VMO_ARRAY_SIZE(ints))
        b->bad = 1;
    for (size_t i = 0; i < VMO_ARRAY_SIZE(ints) && !b->bad; i++)
        *ints[i] = (int64_t)get_u64(b);
    if (get_u32(b) != VMO_ARRAY_SIZE(reals))
        b->bad = 1;
    for (size_t i = 0; i < VMO_ARRAY_SIZE(reals) && !b->bad; i++)
        *reals[i] = get_f64(b);
    if (!b->bad && !settings_ok(s))
        b->bad = 1;
}

static int get_zones(rbuf *b, vmo_zone_set *z)
{
    uint32_t n = get_count(b, 12, 2 * VMO_MAX_ZONES);
    for (uint32_t i = 0; i < n && !b->bad; i++) {
        char *name = get_str(b);
        int kind = (int)get_u32(b);
        uint32_t np = get_count(b, 16, VMO_ZONE_MAX_POINTS);
        double *xy = !b->bad && np ? malloc(sizeof(double) * 2 * np) : NULL;
        for (uint32_t k = 0; xy && k < 2 * np; k++)
            xy[k] = get_f64(b);
        vmo_errbuf err;
        if (!name || !xy || b->bad ||
            vmo_zone_set_add_polygon(z, name, kind, xy, np, &err) != VMO_OK)
            b->bad = 1;
        free(name);
        free(xy);
    }
    return b->bad ? VMO_ERR_CORRUPT : VMO_OK;
}

/* A motion event is in one of the result's zones; a lighting change is the frame's (-1). */
static int event_zone_valid(const vmo_clip_event *e, int zone_count)
{
    return e->kind == VMO_EVENT_LIGHTING ? e->zone == -1 : e->zone >= 0 && e->zone < zone_count;
}

static void get_event(rbuf *b, vmo_clip_event *e)
{
    memset(e, 0, sizeof(*e));
    e->kind = (int32_t)get_u32(b);
    e->zone = (int32_t)get_u32(b);
    e->flags = get_u32(b);
    e->start_frame = (int64_t)get_u64(b);
    e->end_frame = (int64_t)get_u64(b);
    double *r[] = { &e->start, &e->end, &e->peak, &e->peak_t, &e->sum, &e->keyframe,
                    &e->keyframe_pre };
    for (size_t i = 0; i < VMO_ARRAY_SIZE(r); i++)
        *r[i] = get_f64(b);
    e->nframes = (int64_t)get_u64(b);
    if ((e->kind != VMO_EVENT_MOTION && e->kind != VMO_EVENT_LIGHTING) || !event_ok(e))
        b->bad = 1;
}

static int get_series(rbuf *b, vmo_clip_data *c, int zone_count)
{
    uint32_t n = get_count(b, 17, UINT32_MAX / 2);
    if ((int)get_u32(b) != zone_count && n > 0)
        b->bad = 1;
    float ch[VMO_MAX_ZONES], md[VMO_MAX_ZONES];
    for (uint32_t i = 0; i < n && !b->bad; i++) {
        int64_t index = (int64_t)get_u64(b);
        double t = get_f64(b);
        const uint8_t *fl = take(b, 1);
        for (int z = 0; z < zone_count; z++) {
            uint32_t u = get_u32(b), v = get_u32(b);
            memcpy(&ch[z], &u, 4);
            memcpy(&md[z], &v, 4);
        }
        const double prev = c->nframes ? c->t[c->nframes - 1] : 0;
        for (int z = 0; z < zone_count; z++)
            if (!(ch[z] >= 0 && ch[z] <= 1 && md[z] >= 0 && md[z] <= 255))
                b->bad = 1;
        if (!time_ok(t) || t < prev || index < 0 || index > FRAME_MAX)
            b->bad = 1;
        if (b->bad || !fl || vmo_clip_add_frame(c, index, t, *fl, zone_count, ch, md) != VMO_OK)
            b->bad = 1;
    }
    return b->bad ? VMO_ERR_CORRUPT : VMO_OK;
}

static int get_clip(rbuf *b, vmo_result *r)
{
    char *path = get_str(b), *error = get_str(b), *codec = get_str(b);
    vmo_clip_data *c = b->bad ? NULL : vmo_result_add_clip(r, path, codec);
    int rc = c ? VMO_OK : VMO_ERR_CORRUPT;
    if (c) {
        vmo_clip_info *ci = &c->info;
        ci->status = (int32_t)get_u32(b);
        ci->flags = get_u32(b);
        ci->wall_source = (int32_t)get_u32(b);
        ci->frames = (int64_t)get_u64(b);
        ci->analysed = (int64_t)get_u64(b);
        ci->duration = get_f64(b);
        ci->fps = get_f64(b);
        ci->wall_start = get_f64(b);
        int32_t *dims[] = { &ci->width, &ci->height, &ci->rotation, &ci->analysis_width,
                            &ci->analysis_height };
        for (size_t i = 0; i < VMO_ARRAY_SIZE(dims); i++)
            *dims[i] = (int32_t)get_u32(b);
        ci->size_bytes = (int64_t)get_u64(b);
        c->first_t = get_f64(b);
        c->frame_dur = get_f64(b);
        if (error && vmo_clip_set_error(c, ci->status, error) != VMO_OK)
            b->bad = 1;
        uint32_t ne = get_count(b, 80, 1u << 24);
        c->events = ne ? calloc(ne, sizeof(vmo_clip_event)) : NULL;
        if (ne && !c->events)
            b->bad = 1;
        for (uint32_t i = 0; i < ne && !b->bad; i++)
            get_event(b, &c->events[i]);
        c->nevents = b->bad ? 0 : (int)ne;
        for (int i = 0; i < c->nevents; i++)
            if (!event_zone_valid(&c->events[i], r->zone_count))
                b->bad = 1;
        get_series(b, c, r->zone_count);
        uint32_t nh = get_u32(b);
        if (nh != 0 && nh != VMO_GRID_CELLS)
            b->bad = 1;
        if (nh && !b->bad && !(c->heat = calloc(VMO_GRID_CELLS, sizeof(uint32_t))))
            b->bad = 1;
        for (uint32_t i = 0; c->heat && i < nh && !b->bad; i++)
            c->heat[i] = get_u32(b);
        if (!clip_ok(c))
            b->bad = 1;
        rc = b->bad ? VMO_ERR_CORRUPT : VMO_OK;
    }
    free(path);
    free(error);
    free(codec);
    return rc;
}

static int load_body(rbuf *b, vmo_result **out)
{
    vmo_settings s;
    get_settings(b, &s);
    vmo_zone_set zones = { 0 };
    int rc = b->bad ? VMO_ERR_CORRUPT : get_zones(b, &zones);
    uint32_t nz = rc == VMO_OK ? get_count(b, 4, VMO_MAX_ZONES) : 0;
    char *names[VMO_MAX_ZONES] = { 0 };
    for (uint32_t z = 0; z < nz && !b->bad; z++)
        if (!(names[z] = get_str(b)))
            b->bad = 1;
    vmo_result *r = NULL;
    if (!b->bad && nz > 0 &&
        vmo_result_new(&r, &s, &zones, (int)nz, (const char *const *)names) != VMO_OK)
        b->bad = 1;
    if (nz == 0)
        b->bad = 1;
    if (r) {
        r->window.from = get_f64(b);
        r->window.to = get_f64(b);
        r->window.wall = (int)get_u32(b);
        if (!wall_ok(r->window.from) || !wall_ok(r->window.to) || r->window.from < 0 ||
            r->window.to < 0)
            b->bad = 1;
        uint32_t nc = get_count(b, 64, 1u << 24);
        for (uint32_t i = 0; i < nc && !b->bad; i++)
            get_clip(b, r);
    }
    for (uint32_t z = 0; z < nz; z++)
        free(names[z]);
    vmo_zone_set_clear(&zones);
    if (b->bad || (r && vmo_result_finalize(r) != VMO_OK)) {
        vmo_result_destroy(&r);
        return VMO_ERR_CORRUPT;
    }
    *out = r;
    return VMO_OK;
}

int vmo_result_load(const uint8_t *data, size_t size, vmo_result **out)
{
    if (out)
        *out = NULL;
    if (!data || !out)
        return VMO_ERR_INVALID_ARG;
    if (size < 16 || memcmp(data, result_magic, 8) != 0)
        return VMO_ERR_CORRUPT;
    rbuf crc = { data + size - 4, 4, 0, 0 };
    if (get_u32(&crc) != (uint32_t)crc32(0, data, (uInt)(size - 4)))
        return VMO_ERR_CORRUPT;
    rbuf b = { data, size - 4, 8, 0 };
    if (get_u32(&b) != RESULT_VERSION)
        return VMO_ERR_UNSUPPORTED;
    return load_body(&b, out);
}

/* ------------------------------------------------------------------------------------------
 * Merging
 * ---------------------------------------------------------------------------------------- */

/* Settings that change the answer must agree; threads, jobs and what is collected (frames,
 * heatmap) may differ between parts. */
static int same_analysis(const vmo_result *a, const vmo_result *b)
{
    vmo_settings x = a->settings, y = b->settings;
    x.threads = y.threads = 0;
    x.jobs = y.jobs = 0;
    x.frames = y.frames = 0;
    x.heatmap = y.heatmap = 0;
    x.pipeline = y.pipeline = 0;
    x.fast = y.fast = 0; /* how clips were scanned: each one says (VMO_CLIP_FAST); not saved */
    if (memcmp(&x, &y, sizeof(x)) != 0 || a->zone_count != b->zone_count)
        return 0;
    for (int z = 0; z < a->zone_count; z++)
        if (strcmp(a->zone_names[z], b->zone_names[z]) != 0)
            return 0;
    if (a->zones.count != b->zones.count)
        return 0;
    for (int i = 0; i < a->zones.count; i++) {
        const vmo_zone *p = &a->zones.zones[i], *q = &b->zones.zones[i];
        if (strcmp(p->name, q->name) || p->kind != q->kind || p->npoints != q->npoints ||
            memcmp(p->xy, q->xy, sizeof(double) * 2 * p->npoints) != 0)
            return 0;
    }
    const vmo_window *u = &a->window, *v = &b->window;
    return u->wall == v->wall && (u->from == v->from || (isnan(u->from) && isnan(v->from))) &&
           (u->to == v->to || (isnan(u->to) && isnan(v->to)));
}

static int cmp_path(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The parts hold disjoint sets of clips: a file in two parts would count its motion twice
 * (and a request refuses the same file twice too). Unnamed clips (pushed streams without
 * a name: path "") cannot be compared and are let through. Sorted, so a million clips stay
 * cheap. */
static int clips_disjoint(const vmo_result *const *parts, int count)
{
    size_t total = 0;
    for (int i = 0; i < count; i++)
        total += (size_t)parts[i]->nclips;
    const char **paths = malloc(sizeof(char *) * (total ? total : 1));
    if (!paths)
        return VMO_ERR_NO_MEMORY;
    size_t n = 0;
    for (int i = 0; i < count; i++)
        for (int c = 0; c < parts[i]->nclips; c++)
            paths[n++] = parts[i]->clips[c].path ? parts[i]->clips[c].path : "";
    qsort(paths, n, sizeof(char *), cmp_path);
    int rc = VMO_OK;
    for (size_t k = 1; k < n && rc == VMO_OK; k++)
        if (paths[k][0] && !strcmp(paths[k - 1], paths[k]))
            rc = VMO_ERR_OVERLAP;
    free(paths);
    return rc;
}

int vmo_result_merge(const vmo_result *const *parts, int count, vmo_result **out)
{
    if (out)
        *out = NULL;
    if (!parts || count < 1 || !out)
        return VMO_ERR_INVALID_ARG;
    for (int i = 0; i < count; i++)
        if (!parts[i] || !same_analysis(parts[0], parts[i]))
            return VMO_ERR_INVALID_ARG;
    int rc = clips_disjoint(parts, count);
    if (rc != VMO_OK)
        return rc;
    /* A copy through the serialized form: one code path for every field. */
    vmo_result *merged = NULL;
    uint8_t *data = NULL;
    size_t size;
    rc = vmo_result_save(parts[0], &data, &size);
    if (rc == VMO_OK)
        rc = vmo_result_load(data, size, &merged);
    free(data);
    for (int i = 1; rc == VMO_OK && i < count; i++) {
        vmo_result *copy = NULL;
        rc = vmo_result_save(parts[i], &data, &size);
        if (rc == VMO_OK)
            rc = vmo_result_load(data, size, &copy);
        free(data);
        data = NULL;
        if (rc == VMO_OK)
            rc = vmo_result_append_clips(merged, copy);
        vmo_result_destroy(&copy);
    }
    if (rc == VMO_OK)
        rc = vmo_result_finalize(merged);
    if (rc != VMO_OK) {
        vmo_result_destroy(&merged);
        return rc == VMO_ERR_CORRUPT ? VMO_ERR_NO_MEMORY : rc;
    }
    *out = merged;
    return VMO_OK;
}
