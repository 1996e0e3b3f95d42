/* Requests: many clips analysed in parallel (one worker analyzer per clip, OpenMP), gathered
 * in request order into one result whose events are merged across contiguous clips. */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer.h"

typedef struct vmo_request_clip {
    char *path;
    double wall_start; /* NaN: from the clip's tag or file name */
} vmo_request_clip;

struct vmo_request {
    vmo_request_clip *clips;
    int count, cap;
    vmo_errbuf err;
};

int vmo_request_create(vmo_request **out)
{
    if (!out)
        return VMO_ERR_INVALID_ARG;
    *out = calloc(1, sizeof(vmo_request));
    return *out ? VMO_OK : VMO_ERR_NO_MEMORY;
}

void vmo_request_destroy(vmo_request **prq)
{
    if (!prq || !*prq)
        return;
    vmo_request *rq = *prq;
    for (int i = 0; i < rq->count; i++)
        free(rq->clips[i].path);
    free(rq->clips);
    free(rq);
    *prq = NULL;
}

const char *vmo_request_last_error(const vmo_request *rq)
{
    return rq ? rq->err.msg : "";
}

int vmo_request_add_clip(vmo_request *rq, const char *path, double wall_start)
{
    if (!rq || !path || !*path)
        return VMO_ERR_INVALID_ARG;
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

/* Moves clip `index` of src to the end of dst. */
static int take_clip(vmo_result *dst, vmo_result *src, int index)
{
    if (dst->nclips == dst->cap_clips) {
        int cap = dst->cap_clips ? dst->cap_clips * 2 : 16;
        vmo_clip_data *grown = realloc(dst->clips, sizeof(*grown) * (size_t)cap);
        if (!grown)
            return VMO_ERR_NO_MEMORY;
        dst->clips = grown;
        dst->cap_clips = cap;
        /* info's string pointers point into the clips' own strings: unaffected by moving
         * the array, since they point at heap strings, not into the array. */
    }
    dst->clips[dst->nclips++] = src->clips[index];
    memset(&src->clips[index], 0, sizeof(vmo_clip_data));
    return VMO_OK;
}

typedef struct clip_outcome {
    vmo_result *res;
    int status;
    vmo_errbuf err;
} clip_outcome;

static void analyse_clip(vmo_analyzer *an, const vmo_request_clip *rc, int index,
                         pthread_mutex_t *lock, clip_outcome *out)
{
    vmo_analyzer *worker = NULL;
    out->status = vmo_analyzer_worker(an, lock, index, rc->wall_start, &worker);
    if (out->status != VMO_OK) {
        vmo_err_set(&out->err, out->status, "out of memory");
        return;
    }
    out->status = vmo_analyzer_scan_file(worker, rc->path, &out->res);
    vmo_err_copy(&out->err, &worker->err);
    vmo_analyzer_destroy(&worker);
}

/* Decoder threads per clip when clips already run in parallel: share the cores. */
static int jobs_for(const vmo_analyzer *an, int nclips)
{
    int jobs = an->cfg.settings.jobs > 0 ? (int)an->cfg.settings.jobs : omp_get_num_procs();
    return VMO_MAX(1, VMO_MIN(jobs, nclips));
}

static int gather(vmo_analyzer *an, const vmo_request *rq, clip_outcome *outs, vmo_result *res)
{
    for (int i = 0; i < rq->count; i++) {
        clip_outcome *o = &outs[i];
        if (o->res && o->res->nclips == 1) {
            if (take_clip(res, o->res, 0) != VMO_OK)
                return vmo_err_set(&an->err, VMO_ERR_NO_MEMORY, "out of memory");
            continue;
        }
        /* The clip could not be analysed: it stays in the answer with its error. */
        vmo_clip_data *c = vmo_result_add_clip(res, rq->clips[i].path, "");
        if (!c || vmo_clip_set_error(c, o->status, o->err.msg) != VMO_OK)
            return vmo_err_set(&an->err, VMO_ERR_NO_MEMORY, "out of memory");
        c->info.wall_start = rq->clips[i].wall_start;
    }
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
    vmo_result *res = NULL;
    int rc = vmo_result_new(&res, &an->cfg.settings, &an->cfg.zones, an->zone_count,
                            an->zone_names);
    if (rc != VMO_OK)
        return vmo_err_set(&an->err, rc, "out of memory");
    clip_outcome *outs = calloc((size_t)(rq->count ? rq->count : 1), sizeof(clip_outcome));
    if (!outs) {
        vmo_result_destroy(&res);
        return vmo_err_set(&an->err, VMO_ERR_NO_MEMORY, "out of memory");
    }
    pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    const int jobs = jobs_for(an, rq->count);
    const int64_t saved_threads = an->cfg.settings.threads;
    if (jobs > 1 && saved_threads == 0)
        an->cfg.settings.threads = VMO_MAX(1, omp_get_num_procs() / jobs);
    an->clip_total = rq->count;
    /* Dynamic scheduling: clips differ a lot in length. Results land in their own slot, so
     * the order of the answer does not depend on the thread count. */
#pragma omp parallel for schedule(dynamic, 1) num_threads(jobs)
    for (int i = 0; i < rq->count; i++)
        analyse_clip(an, &rq->clips[i], i, &lock, &outs[i]);
    an->cfg.settings.threads = saved_threads;
    an->clip_total = 1;
    rc = gather(an, rq, outs, res);
    for (int i = 0; i < rq->count; i++)
        vmo_result_destroy(&outs[i].res);
    free(outs);
    pthread_mutex_destroy(&lock);
    if (rc == VMO_OK && vmo_result_finalize(res) != VMO_OK)
        rc = vmo_err_set(&an->err, VMO_ERR_NO_MEMORY, "out of memory");
    if (rc != VMO_OK) {
        vmo_result_destroy(&res);
        return rc;
    }
    *out = res;
    if (atomic_load(an->cancel_src))
        return vmo_err_set(&an->err, VMO_ERR_CANCELLED, "the request was cancelled");
    return VMO_OK;
}
