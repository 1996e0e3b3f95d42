/* Requests: "was there motion in zone Z between T1 and T2?" over a camera's archive.
 *
 * A run plans every clip first, from its container header only (probe): its wall-clock
 * start and length decide whether it is skipped (outside a wall-clock window), decoded in
 * part (seek to the keyframe before the window, stop after it) or whole. Request errors
 * (unknown zone, no time source, duplicate or overlapping clips) are found in that plan,
 * before anything is decoded. Clips then run in parallel (OpenMP), one worker analyzer
 * each, and are gathered in request order into one result whose events are joined across
 * contiguous clips and cut to the window. */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analyzer.h"
#include "decode.h"
#include "index.h"
#include "probe.h"
#include "timefmt.h"

typedef struct vmo_request_clip {
    char *path;
    double wall_start; /* given by the caller, NaN: from the clip's tag or file name */
} vmo_request_clip;

struct vmo_request {
    vmo_request_clip *clips;
    int count, cap;
    vmo_window window;
    int window_kind;         /* 0, VMO_TIME_WALL or VMO_TIME_RELATIVE */
    vmo_zone_set zones;      /* zones defined on the request (replace the analyzer's) */
    char **select;           /* names of the zones to report, or none = all */
    int nselect;
    double sensitivity;
    double min_length, merge_gap, pre_roll, post_roll; /* NaN: the analyzer's */
    int use_index, write_index;
    vmo_errbuf err;
};

int vmo_request_create(vmo_request **out)
{
    if (!out)
        return VMO_ERR_INVALID_ARG;
    vmo_request *rq = calloc(1, sizeof(vmo_request));
    *out = rq;
    if (!rq)
        return VMO_ERR_NO_MEMORY;
    rq->window = (vmo_window){ NAN, NAN, 0 };
    rq->sensitivity = 1.0;
    rq->min_length = rq->merge_gap = rq->pre_roll = rq->post_roll = NAN;
    return VMO_OK;
}

void vmo_request_destroy(vmo_request **prq)
{
    if (!prq || !*prq)
        return;
    vmo_request *rq = *prq;
    for (int i = 0; i < rq->count; i++)
        free(rq->clips[i].path);
    free(rq->clips);
    for (int i = 0; i < rq->nselect; i++)
        free(rq->select[i]);
    free(rq->select);
    vmo_zone_set_clear(&rq->zones);
    free(rq);
    *prq = NULL;
}

const char *vmo_request_last_error(const vmo_request *rq)
{
    return rq ? rq->err.msg : "";
}

int vmo_request_add_clip(vmo_request *rq, const char *path, double wall_start)
{
    if (!rq)
        return VMO_ERR_INVALID_ARG;
    if (!path || !*path)
        return vmo_err_set(&rq->err, VMO_ERR_INVALID_ARG, "a clip needs a path");
    if (isinf(wall_start))
        return vmo_err_set(&rq->err, VMO_ERR_INVALID_ARG, "wall-clock start must be finite");
    if (rq->count == rq->cap) {
        int cap = rq->cap ? rq->cap * 2 : 16;
        vmo_request_clip *grown = realloc(rq->clips, sizeof(*grown) * (size_t)cap);
        if (!grown)
            return vmo_err_set(&rq->err, VMO_ERR_NO_MEMORY, "out of memory");
        rq->clips = grown;
        rq->cap = cap;
    }
    char *copy = vmo_strdup(path);
    if (!copy)
        return vmo_err_set(&rq->err, VMO_ERR_NO_MEMORY, "out of memory");
    rq->clips[rq->count++] = (vmo_request_clip){ copy, wall_start };
    return VMO_OK;
}

/* ---- window ---- */

static int set_window(vmo_request *rq, double from, double to, int kind)
{
    if (!isnan(from) && !isnan(to) && to < from)
        return vmo_err_set(&rq->err, VMO_ERR_BAD_WINDOW,
                           "the window ends (%.3f) before it starts (%.3f)", to, from);
    if ((!isnan(from) && (isinf(from) || from < 0)) || (!isnan(to) && (isinf(to) || to < 0)))
        return vmo_err_set(&rq->err, VMO_ERR_BAD_WINDOW, "window bounds must be finite and >= 0");
    rq->window = (vmo_window){ from, to, kind == VMO_TIME_WALL };
    rq->window_kind = (isnan(from) && isnan(to)) ? 0 : kind;
    return VMO_OK;
}

int vmo_request_set_window_wall(vmo_request *rq, double from, double to)
{
    return rq ? set_window(rq, from, to, VMO_TIME_WALL) : VMO_ERR_INVALID_ARG;
}

int vmo_request_set_window_clip(vmo_request *rq, double from, double to)
{
    return rq ? set_window(rq, from, to, VMO_TIME_RELATIVE) : VMO_ERR_INVALID_ARG;
}

static int parse_bound(vmo_request *rq, const char *text, const char *which, double *v,
                       int *kind)
{
    *v = NAN;
    *kind = 0;
    if (!text)
        return VMO_OK;
    if (vmo_time_parse(text, v, kind) != VMO_OK)
        return vmo_err_set(&rq->err, VMO_ERR_BAD_TIME,
                           "window %s '%s': not seconds, HH:MM:SS.mmm or ISO-8601", which, text);
    return VMO_OK;
}

int vmo_request_set_window(vmo_request *rq, const char *from, const char *to)
{
    if (!rq)
        return VMO_ERR_INVALID_ARG;
    double a, b;
    int ka, kb;
    int rc = parse_bound(rq, from, "start", &a, &ka);
    if (rc == VMO_OK)
        rc = parse_bound(rq, to, "end", &b, &kb);
    if (rc != VMO_OK)
        return rc;
    if (ka && kb && ka != kb)
        return vmo_err_set(&rq->err, VMO_ERR_BAD_WINDOW,
                           "the window mixes a wall-clock time and a clip-relative time");
    return set_window(rq, a, b, ka ? ka : kb ? kb : VMO_TIME_WALL);
}

/* ---- zones and options ---- */

int vmo_request_add_zone(vmo_request *rq, const char *name, int kind, const char *spec)
{
    if (!rq)
        return VMO_ERR_INVALID_ARG;
    if (!name || !spec)
        return vmo_err_set(&rq->err, VMO_ERR_INVALID_ARG, "a zone needs a name and a spec");
    return vmo_zone_set_add_spec(&rq->zones, name, kind, spec, &rq->err);
}

int vmo_request_select_zone(vmo_request *rq, const char *name)
{
    if (!rq)
        return VMO_ERR_INVALID_ARG;
    if (!name || !*name)
        return vmo_err_set(&rq->err, VMO_ERR_INVALID_ARG, "a zone to select needs a name");
    char **grown = realloc(rq->select, sizeof(char *) * (size_t)(rq->nselect + 1));
    if (!grown)
        return vmo_err_set(&rq->err, VMO_ERR_NO_MEMORY, "out of memory");
    rq->select = grown;
    if (!(rq->select[rq->nselect] = vmo_strdup(name)))
        return vmo_err_set(&rq->err, VMO_ERR_NO_MEMORY, "out of memory");
    rq->nselect++;
    return VMO_OK;
}

int vmo_request_set_double(vmo_request *rq, const char *name, double value)
{
    if (!rq)
        return VMO_ERR_INVALID_ARG;
    if (!name)
        return vmo_err_set(&rq->err, VMO_ERR_INVALID_ARG, "a request option needs a name");
    struct {
        const char *name;
        double *field;
        double min, max;
    } reals[] = {
        { "sensitivity", &rq->sensitivity, 1e-3, 1e3 },
        { "min_length", &rq->min_length, 0, 86400 },
        { "merge_gap", &rq->merge_gap, 0, 86400 },
        { "pre_roll", &rq->pre_roll, 0, 3600 },
        { "post_roll", &rq->post_roll, 0, 3600 },
    };
    for (size_t i = 0; i < VMO_ARRAY_SIZE(reals); i++) {
        if (strcmp(name, reals[i].name))
            continue;
        if (!(value >= reals[i].min && value <= reals[i].max))
            return vmo_err_set(&rq->err, VMO_ERR_INVALID_ARG,
                               "request option '%s' must be between %g and %g", name,
                               reals[i].min, reals[i].max);
        *reals[i].field = value;
        return VMO_OK;
    }
    int *flag = !strcmp(name, "use_index") ? &rq->use_index
                : !strcmp(name, "write_index") ? &rq->write_index : NULL;
    if (!flag)
        return vmo_err_set(&rq->err, VMO_ERR_UNKNOWN_OPTION, "unknown request option '%s'",
                           name);
    if (value != 0 && value != 1)
        return vmo_err_set(&rq->err, VMO_ERR_INVALID_ARG, "request option '%s' is 0 or 1", name);
    *flag = (int)value;
    return VMO_OK;
}

/* The analyzer's config with the request's overrides: settings, zones, selection. */
static int effective_config(const vmo_analyzer *an, const vmo_request *rq, vmo_config *cfg,
                            vmo_errbuf *err)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->settings = an->cfg.settings;
    vmo_settings *s = &cfg->settings;
    s->start_level /= rq->sensitivity;
    s->end_level /= rq->sensitivity;
    if (!isnan(rq->min_length))
        s->min_length = rq->min_length;
    if (!isnan(rq->merge_gap))
        s->merge_gap = rq->merge_gap;
    if (!isnan(rq->pre_roll))
        s->pre_roll = rq->pre_roll;
    if (!isnan(rq->post_roll))
        s->post_roll = rq->post_roll;
    const vmo_zone_set *src = rq->zones.count ? &rq->zones : &an->cfg.zones;
    if (!rq->nselect)
        return vmo_zone_set_copy(&cfg->zones, src) == VMO_OK
                   ? VMO_OK
                   : vmo_err_set(err, VMO_ERR_NO_MEMORY, "out of memory");
    for (int k = 0; k < rq->nselect; k++) {
        int found = !strcmp(rq->select[k], "frame") && vmo_zone_set_include_count(src) == 0;
        for (int i = 0; i < src->count && !found; i++)
            found = src->zones[i].kind == VMO_ZONE_INCLUDE &&
                    !strcmp(src->zones[i].name, rq->select[k]);
        if (!found)
            return vmo_err_set(err, VMO_ERR_UNKNOWN_ZONE, "no zone named '%s'", rq->select[k]);
    }
    /* Keep the selected include zones and every privacy mask. */
    for (int i = 0; i < src->count; i++) {
        const vmo_zone *z = &src->zones[i];
        int keep = z->kind == VMO_ZONE_EXCLUDE;
        for (int k = 0; k < rq->nselect && !keep; k++)
            keep = !strcmp(z->name, rq->select[k]);
        if (keep && vmo_zone_set_add_polygon(&cfg->zones, z->name, z->kind, z->xy, z->npoints,
                                             err) != VMO_OK) {
            vmo_zone_set_clear(&cfg->zones);
            return VMO_ERR_NO_MEMORY;
        }
    }
    return VMO_OK;
}

/* ---- planning ---- */

typedef struct clip_plan {
    int status;           /* VMO_OK, or the probe's error (the clip fails on its own) */
    vmo_errbuf err;
    double wall;          /* NaN: unknown */
    int wall_source;
    double duration;      /* declared, 0 if unknown */
    int skip;             /* outside the window: not decoded */
    vmo_worker_plan work;
    struct stat st;
    int have_st;
    char *index_path;         /* a valid index answers the clip, or NULL */
    vmo_index_header index;
} clip_plan;

static void probe_clip(const vmo_request_clip *rc, clip_plan *p)
{
    vmo_media_info mi;
    p->wall = NAN;
    p->have_st = stat(rc->path, &p->st) == 0;
    p->status = vmo_media_probe(rc->path, -1, &mi, &p->err);
    p->duration = p->status == VMO_OK ? mi.duration : 0;
    vmo_wall_start_of(rc->path, rc->wall_start, VMO_WALL_CALLER,
                      p->status == VMO_OK ? &mi : NULL, &p->wall, &p->wall_source);
}

/* Which part of the clip the window needs, in clip seconds. */
static void plan_range(const vmo_request *rq, clip_plan *p)
{
    const vmo_window *w = &rq->window;
    p->work.range_from = p->work.range_to = NAN;
    p->work.wall_override = p->wall;
    p->work.wall_source = p->wall_source;
    if (rq->window_kind == VMO_TIME_RELATIVE) {
        p->work.range_from = w->from;
        p->work.range_to = w->to;
        return;
    }
    if (rq->window_kind != VMO_TIME_WALL || isnan(p->wall))
        return;
    const double end = p->duration > 0 ? p->wall + p->duration : INFINITY;
    if ((!isnan(w->to) && p->wall > w->to) || (!isnan(w->from) && end < w->from)) {
        p->skip = 1;
        return;
    }
    if (!isnan(w->from) && w->from > p->wall)
        p->work.range_from = w->from - p->wall;
    if (!isnan(w->to) && w->to < end)
        p->work.range_to = w->to - p->wall;
}

/* The same file twice, or two clips covering the same time: the answer would count the
 * same motion twice. Two cameras' archives belong in two requests. */
static int check_overlaps(const vmo_request *rq, const clip_plan *plan, vmo_errbuf *err)
{
    const double slack = 0.5; /* container durations and creation_time are rounded */
    for (int i = 0; i < rq->count; i++)
        for (int j = i + 1; j < rq->count; j++) {
            const clip_plan *a = &plan[i], *b = &plan[j];
            if (!strcmp(rq->clips[i].path, rq->clips[j].path) ||
                (a->have_st && b->have_st && a->st.st_dev == b->st.st_dev &&
                 a->st.st_ino == b->st.st_ino))
                return vmo_err_set(err, VMO_ERR_OVERLAP, "'%s' and '%s' are the same file",
                                   rq->clips[i].path, rq->clips[j].path);
            if (isnan(a->wall) || isnan(b->wall) || a->duration <= 0 || b->duration <= 0)
                continue;
            double overlap = VMO_MIN(a->wall + a->duration, b->wall + b->duration) -
                             VMO_MAX(a->wall, b->wall);
            if (overlap > slack)
                return vmo_err_set(err, VMO_ERR_OVERLAP,
                                   "'%s' and '%s' overlap by %.2f s of wall-clock time",
                                   rq->clips[i].path, rq->clips[j].path, overlap);
        }
    return VMO_OK;
}

/* A valid index (checksums, the clip's identity, the same analysis settings) answers the
 * clip without decoding it; anything else is decoded, and may get an index written. */
static void plan_index(const vmo_request *rq, const vmo_request_clip *rc,
                       const vmo_settings *s, clip_plan *p)
{
    if (p->skip || p->status != VMO_OK)
        return;
    p->work.write_index = rq->write_index;
    if (!rq->use_index)
        return;
    size_t n = strlen(rc->path) + sizeof(VMO_INDEX_SUFFIX);
    char *path = malloc(n);
    if (!path)
        return;
    snprintf(path, n, "%s%s", rc->path, VMO_INDEX_SUFFIX);
    vmo_errbuf err;
    if (vmo_index_read_header(path, &p->index, &err) == VMO_OK &&
        vmo_index_matches(&p->index, rc->path, s, &err) == VMO_OK) {
        p->index_path = path;
        p->work.index_path = path;
        p->work.index = &p->index;
        return;
    }
    if (access(path, F_OK) == 0)
        vmo_log(VMO_LOG_WARNING, "not using %s: %s", path, err.msg);
    free(path);
}

static int plan_request(const vmo_request *rq, const vmo_settings *s, clip_plan *plan,
                        vmo_errbuf *err)
{
#pragma omp parallel for schedule(dynamic, 4)
    for (int i = 0; i < rq->count; i++)
        probe_clip(&rq->clips[i], &plan[i]);
    int rc = check_overlaps(rq, plan, err);
    if (rc != VMO_OK)
        return rc;
    for (int i = 0; i < rq->count; i++) {
        plan[i].work.clip_base = i;
        if (rq->window_kind == VMO_TIME_WALL && isnan(plan[i].wall) && plan[i].status == VMO_OK)
            return vmo_err_set(err, VMO_ERR_NO_TIME_SOURCE,
                               "'%s' has no wall-clock start (no creation_time tag, no time "
                               "in its name, none given) for a wall-clock window",
                               rq->clips[i].path);
        plan_range(rq, &plan[i]);
        plan_index(rq, &rq->clips[i], s, &plan[i]);
    }
    return VMO_OK;
}

/* ---- running ---- */

typedef struct clip_outcome {
    vmo_result *res;
    int status;
    vmo_errbuf err;
} clip_outcome;

static void analyse_clip(vmo_analyzer *an, const vmo_config *cfg, const vmo_request_clip *rc,
                         const clip_plan *plan, pthread_mutex_t *lock, clip_outcome *out)
{
    vmo_analyzer *worker = NULL;
    out->status = vmo_analyzer_worker(an, cfg, lock, &plan->work, &worker);
    if (out->status != VMO_OK) {
        vmo_err_set(&out->err, out->status, "out of memory");
        return;
    }
    if (plan->index_path) {
        out->status = vmo_analyzer_replay_index(worker, rc->path, plan->index_path, &plan->index,
                                                &out->res);
        if (out->status != VMO_OK) /* the index broke after all: decode instead */
            vmo_log(VMO_LOG_WARNING, "%s: %s", plan->index_path, worker->err.msg);
    }
    if (!out->res)
        out->status = vmo_analyzer_scan_file(worker, rc->path, &out->res);
    vmo_err_copy(&out->err, &worker->err);
    vmo_analyzer_destroy(&worker);
}

/* A clip that was not decoded (skipped, or failed on its own) stays in the answer. */
static int add_undecoded(vmo_result *res, const vmo_request_clip *rc, const clip_plan *p,
                         const clip_outcome *o)
{
    vmo_clip_data *c = vmo_result_add_clip(res, rc->path, "");
    if (!c)
        return VMO_ERR_NO_MEMORY;
    c->info.wall_start = p->wall;
    c->info.wall_source = isnan(p->wall) ? VMO_WALL_NONE : p->wall_source;
    c->info.duration = p->duration;
    if (p->skip) {
        c->info.flags |= VMO_CLIP_SKIPPED;
        return VMO_OK;
    }
    int status = p->status != VMO_OK ? p->status : o->status;
    const char *msg = p->status != VMO_OK ? p->err.msg : o->err.msg;
    return vmo_clip_set_error(c, status, msg);
}

static int gather(vmo_analyzer *an, const vmo_request *rq, const clip_plan *plan,
                  clip_outcome *outs, vmo_result *res)
{
    for (int i = 0; i < rq->count; i++) {
        clip_outcome *o = &outs[i];
        int rc = (o->res && o->res->nclips == 1)
                     ? vmo_result_take_clip(res, o->res, 0)
                     : add_undecoded(res, &rq->clips[i], &plan[i], o);
        if (rc != VMO_OK)
            return vmo_err_set(&an->err, VMO_ERR_NO_MEMORY, "out of memory");
    }
    return VMO_OK;
}

/* Clips in parallel: each lands in its own slot, so the answer's order does not depend on
 * the thread count. Decoder threads share the cores with the clip workers. */
static void run_clips(vmo_analyzer *an, const vmo_request *rq, vmo_config *cfg,
                      const clip_plan *plan, clip_outcome *outs)
{
    pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    int todo = 0;
    for (int i = 0; i < rq->count; i++)
        todo += !plan[i].skip && plan[i].status == VMO_OK;
    int jobs = an->cfg.settings.jobs > 0 ? (int)an->cfg.settings.jobs : omp_get_num_procs();
    jobs = VMO_MAX(1, VMO_MIN(jobs, todo));
    if (jobs > 1 && cfg->settings.threads == 0)
        cfg->settings.threads = VMO_MAX(1, omp_get_num_procs() / jobs);
    if (jobs > 1)
        cfg->settings.pipeline = 0; /* the cores are busy with other clips */
    an->clip_total = rq->count;
#pragma omp parallel for schedule(dynamic, 1) num_threads(jobs)
    for (int i = 0; i < rq->count; i++) {
        if (!plan[i].skip && plan[i].status == VMO_OK)
            analyse_clip(an, cfg, &rq->clips[i], &plan[i], &lock, &outs[i]);
        if (!outs[i].res) /* not decoded: its progress still ends */
            vmo_analyzer_clip_done(an, &lock, i, 0);
    }
    an->clip_total = 1;
    pthread_mutex_destroy(&lock);
}

static int run_planned(vmo_analyzer *an, const vmo_request *rq, vmo_config *cfg,
                       const clip_plan *plan, vmo_result **out)
{
    const char *names[VMO_MAX_ZONES];
    const int nzones = vmo_config_zone_count(cfg);
    for (int z = 0; z < nzones; z++)
        names[z] = vmo_config_zone_name(cfg, z);
    vmo_result *res = NULL;
    int rc = vmo_result_new(&res, &cfg->settings, &cfg->zones, nzones, names);
    clip_outcome *outs = calloc((size_t)VMO_MAX(rq->count, 1), sizeof(clip_outcome));
    if (rc != VMO_OK || !outs) {
        vmo_result_destroy(&res);
        free(outs);
        return vmo_err_set(&an->err, VMO_ERR_NO_MEMORY, "out of memory");
    }
    res->window = rq->window;
    run_clips(an, rq, cfg, plan, outs);
    rc = gather(an, rq, plan, outs, res);
    for (int i = 0; i < rq->count; i++)
        vmo_result_destroy(&outs[i].res);
    free(outs);
    if (rc == VMO_OK && vmo_result_finalize(res) != VMO_OK)
        rc = vmo_err_set(&an->err, VMO_ERR_NO_MEMORY, "out of memory");
    if (rc != VMO_OK) {
        vmo_result_destroy(&res);
        return rc;
    }
    *out = res;
    return VMO_OK;
}

int vmo_analyzer_run_request(vmo_analyzer *an, const vmo_request *rq, vmo_result **out)
{
    if (out)
        *out = NULL;
    if (!an || !rq || !out)
        return VMO_ERR_INVALID_ARG;
    if (an->pushing)
        return vmo_err_set(&an->err, VMO_ERR_STATE, "a pushed stream is open: finish it first");
    vmo_err_clear(&an->err);
    atomic_store(an->cancel_src, 0);
    vmo_config cfg;
    int rc = effective_config(an, rq, &cfg, &an->err);
    if (rc != VMO_OK)
        return rc;
    clip_plan *plan = calloc((size_t)VMO_MAX(rq->count, 1), sizeof(clip_plan));
    if (!plan)
        rc = vmo_err_set(&an->err, VMO_ERR_NO_MEMORY, "out of memory");
    if (rc == VMO_OK)
        rc = plan_request(rq, &cfg.settings, plan, &an->err);
    if (rc == VMO_OK)
        rc = run_planned(an, rq, &cfg, plan, out);
    for (int i = 0; plan && i < rq->count; i++)
        free(plan[i].index_path);
    free(plan);
    vmo_zone_set_clear(&cfg.zones);
    if (rc != VMO_OK)
        return rc;
    if (atomic_load(an->cancel_src))
        return vmo_err_set(&an->err, VMO_ERR_CANCELLED, "the request was cancelled");
    return VMO_OK;
}
