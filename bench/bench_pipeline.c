/* bench_pipeline: a full scan against decode-only, same process, same decoder settings, same
 * clip, with the runs interleaved.
 *
 *   bench_pipeline [--reps N] [--threads 1,0] [--proto-threads 1] [--modes LIST]
 *                  [--json FILE] CLIP...
 *   bench_pipeline scan-once CLIP THREADS     one default scan (the memory bench execs it)
 *
 * Modes (timed with every decoder-thread setting of --threads, 0 = one per core; split and
 * the prototypes only with those of --proto-threads):
 *   decode    the library's own decoder (vmo_decoder_open_file, vmo_decoder_next to the
 *             end, close): exactly the decoding a scan does, and nothing else
 *   scan      vmo_analyzer_scan_file at default settings, with the option "threads" set
 *             (by default the library decodes on a thread of its own: option "pipeline")
 *   scan-serial  the same with "pipeline" 0: decoding, preparation and scoring on one
 *             thread (skipped when the library has no such option)
 *   split     a replica of the serial scan loop (analyzer.c) built from the same internal
 *             calls, with decoding, vmo_preparer_run and scoring + events timed
 *             apart per frame; its events are checked against the scan's, so the replica
 *             is known to do the scan's work
 *   pipe      prototype: the same loop with preparation and scoring on a second thread,
 *             fed frame references by the decoding thread (queue of 4): what the library's
 *             "pipeline" option does, kept as a reference for it
 *   pipe-prep prototype: preparation stays on the decoding thread (the frame is still in
 *             cache), only the small analysis plane goes to the scoring thread
 * Every round runs every (mode, threads) pair once, in an order that rotates from round to
 * round, so a slow spell of a shared machine spoils a few samples of everything rather than
 * all samples of one mode. Ratios are taken per round (scan_i / decode_i) and their median
 * reported beside the ratio of medians. Wall and CPU time (all threads) are both reported:
 * the CPU time is what a busy machine disturbs least.
 *
 * After the rounds, the scorer's building blocks are timed on two real analysis planes of
 * the clip (copy, blur, block means, the kernels, a replica of the noise estimate) to show
 * where the scoring time goes. */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libavutil/frame.h>

#include "bench_common.h"
#include "config.h"
#include "cpu.h"
#include "decode.h"
#include "events.h"
#include "kernels/diff.h"
#include "prepare.h"
#include "score.h"

#define MAX_CLIPS    4
#define MAX_THREADS  4
#define QUEUE_DEPTH  4
#define MICRO_BATCH  0.002 /* seconds per timed batch of a building block */
#define MICRO_ROUNDS 41

enum { MODE_DECODE, MODE_SCAN, MODE_SCAN_SERIAL, MODE_SPLIT, MODE_PIPE, MODE_PIPE_PREP, NMODES };
static const char *const mode_names[NMODES] = { "decode", "scan", "scan-serial",
                                                "split",  "pipe", "pipe-prep" };

/* ------------------------------------------------------------------------------------------
 * Events of a run, to check the replica and the prototypes against the real scan
 * ---------------------------------------------------------------------------------------- */

#define MAX_EVENTS 256
typedef struct event_list {
    int n;
    double start[MAX_EVENTS], end[MAX_EVENTS];
    int zone[MAX_EVENTS], kind[MAX_EVENTS];
} event_list;

static void events_from_clip(event_list *l, const vmo_clip_event *ev, int n)
{
    l->n = 0;
    for (int i = 0; i < n && l->n < MAX_EVENTS; i++, l->n++) {
        l->start[l->n] = ev[i].start;
        l->end[l->n] = ev[i].end;
        l->zone[l->n] = ev[i].zone;
        l->kind[l->n] = ev[i].kind;
    }
}

static void events_from_result(event_list *l, const vmo_result *res)
{
    l->n = 0;
    const int n = vmo_result_event_count(res);
    for (int i = 0; i < n && l->n < MAX_EVENTS; i++) {
        vmo_event ev = { .struct_size = sizeof(ev) };
        if (vmo_result_event(res, i, &ev) != VMO_OK)
            continue;
        l->start[l->n] = ev.start;
        l->end[l->n] = ev.end;
        l->zone[l->n] = ev.zone;
        l->kind[l->n] = ev.kind;
        l->n++;
    }
}

/* Same events (kind, zone, start, end to the microsecond) in the same order. The final
 * merge may order or join events differently from the detector's list, so a mismatch is
 * reported, not fatal. */
static int events_equal(const event_list *a, const event_list *b)
{
    if (a->n != b->n)
        return 0;
    for (int i = 0; i < a->n; i++)
        if (a->kind[i] != b->kind[i] || a->zone[i] != b->zone[i] ||
            fabs(a->start[i] - b->start[i]) > 1e-6 || fabs(a->end[i] - b->end[i]) > 1e-6)
            return 0;
    return 1;
}

/* ------------------------------------------------------------------------------------------
 * decode and scan
 * ---------------------------------------------------------------------------------------- */

static int open_decoder(const char *path, int threads, vmo_decoder **dec)
{
    vmo_decoder_opts opts = { .stream_index = -1, .threads = threads, .skip = VMO_SKIP_NONE };
    vmo_errbuf err = { { 0 } };
    const int rc = vmo_decoder_open_file(dec, path, &opts, &err);
    if (rc != VMO_OK)
        fprintf(stderr, "bench_pipeline: %s: %s\n", path, err.msg);
    return rc;
}

/* Frames decoded, or < 0. */
static int64_t run_decode(const char *path, int threads)
{
    vmo_decoder *dec = NULL;
    if (open_decoder(path, threads, &dec) != VMO_OK)
        return -1;
    vmo_errbuf err = { { 0 } };
    vmo_decoded_frame df;
    int64_t frames = 0;
    int rc;
    while ((rc = vmo_decoder_next(dec, &df, &err)) == 1)
        frames++;
    vmo_decoder_close(&dec);
    return rc < 0 ? rc : frames;
}

/* serial: the option "pipeline" off (decoding on the scanning thread). */
static vmo_analyzer *make_analyzer(int threads, int serial)
{
    vmo_config *cfg = NULL;
    vmo_analyzer *an = NULL;
    if (vmo_config_create(&cfg) == VMO_OK &&
        vmo_config_set_int(cfg, "threads", threads) == VMO_OK &&
        (!serial || vmo_config_set_int(cfg, "pipeline", 0) == VMO_OK))
        vmo_analyzer_create(cfg, &an);
    vmo_config_destroy(&cfg);
    return an;
}

static int have_pipeline_option(void)
{
    vmo_config *cfg = NULL;
    const int ok =
        vmo_config_create(&cfg) == VMO_OK && vmo_config_set_int(cfg, "pipeline", 0) == VMO_OK;
    vmo_config_destroy(&cfg);
    return ok;
}

/* Frames decoded, or < 0. The analyzer is made before the clock starts (it is cheap, but
 * not part of what a scan of many clips pays per clip). */
static int64_t run_scan(const char *path, int threads, int serial, event_list *events,
                        double *t_wall, double *t_cpu)
{
    vmo_analyzer *an = make_analyzer(threads, serial);
    if (!an)
        return VMO_ERR_NO_MEMORY;
    vmo_result *res = NULL;
    const double w0 = bench_wall(), c0 = bench_cpu();
    const int rc = vmo_analyzer_scan_file(an, path, &res);
    *t_wall = bench_wall() - w0;
    *t_cpu = bench_cpu() - c0;
    int64_t frames = rc;
    if (rc == VMO_OK) {
        vmo_clip_info info = { .struct_size = sizeof(info) };
        vmo_result_clip(res, 0, &info);
        frames = info.frames;
        if (events)
            events_from_result(events, res);
    } else {
        fprintf(stderr, "bench_pipeline: scan %s: %s\n", path, vmo_analyzer_last_error(an));
    }
    vmo_result_destroy(&res);
    vmo_analyzer_destroy(&an);
    return frames;
}

/* ------------------------------------------------------------------------------------------
 * The scan's analysis stages, as analyzer.c chains them (scorer -> detector)
 * ---------------------------------------------------------------------------------------- */

typedef struct stages {
    vmo_config *cfg;
    vmo_preparer *prep;
    vmo_scorer *scorer;
    vmo_detector det;
    int have_det;
    vmo_errbuf err;
} stages;

static int on_scored(void *user, const vmo_scored_frame *f)
{
    stages *st = user;
    return vmo_detector_push(&st->det, f);
}

/* Default settings, the clip's frame rate, the analyzer's CPU flags: what scan_decoder and
 * run_start_scoring set up. */
static int stages_init(stages *st, double fps)
{
    memset(st, 0, sizeof(*st));
    if (vmo_config_create(&st->cfg) != VMO_OK || vmo_preparer_create(&st->prep) != VMO_OK)
        return VMO_ERR_NO_MEMORY;
    const vmo_settings *s = &st->cfg->settings;
    const double rate = fps > 0 ? fps : 25.0;
    int rc = vmo_scorer_create(&st->scorer, s, &st->cfg->zones, rate, vmo_cpu_effective(),
                               on_scored, st, &st->err);
    if (rc != VMO_OK)
        return rc;
    const uint64_t area[VMO_MAX_ZONES] = { 0 };
    vmo_detector_init(&st->det, s, vmo_config_zone_count(st->cfg), area, 1.0 / rate, NULL, NULL);
    st->have_det = 1;
    return VMO_OK;
}

static void stages_free(stages *st)
{
    vmo_scorer_destroy(&st->scorer);
    if (st->have_det)
        vmo_detector_free(&st->det);
    vmo_preparer_destroy(&st->prep);
    vmo_config_destroy(&st->cfg);
}

/* scorer_begin as run_plane_begin does it (the detector learns the zone areas). */
static int stages_begin(stages *st, int w, int h, vmo_plane **plane)
{
    int rc = vmo_scorer_begin(st->scorer, w, h, plane, &st->err);
    if (rc == VMO_OK) {
        const vmo_zone_map *map = vmo_scorer_zone_map(st->scorer);
        vmo_detector_set_areas(&st->det, map->zone_count, map->zone_area);
    }
    return rc;
}

static void analysis_size(const stages *st, const struct AVFrame *f, int *w, int *h)
{
    vmo_analysis_size(f->width, f->height, (int)st->cfg->settings.width, w, h);
}

/* Flushes the scorer and the detector; the events land in *events. */
static void stages_finish(stages *st, event_list *events)
{
    vmo_scorer_flush(st->scorer, &st->err);
    vmo_detector_finish(&st->det);
    int n = 0;
    vmo_clip_event *ev = vmo_detector_take_events(&st->det, &n);
    events_from_clip(events, ev, n);
    free(ev);
}

/* ------------------------------------------------------------------------------------------
 * split: the scan loop with its stages timed apart
 * ---------------------------------------------------------------------------------------- */

typedef struct split_times {
    double decode, prepare, score; /* seconds over the clip */
    int64_t frames;
    event_list events;
    /* Two consecutive analysis planes and one decoded frame of the middle of the clip, kept
     * for the building-block timings. */
    vmo_plane keep[2];
    struct AVFrame *keep_frame;
} split_times;

static void keep_planes(split_times *out, int64_t n, int64_t middle, const vmo_plane *p,
                        const struct AVFrame *f)
{
    if (n != middle && n != middle + 1)
        return;
    vmo_plane *k = &out->keep[n - middle];
    if (!k->data && vmo_plane_alloc(k, p->width, p->height) != VMO_OK)
        return;
    for (int y = 0; y < p->height; y++)
        memcpy(k->data + (ptrdiff_t)y * k->stride, p->data + (ptrdiff_t)y * p->stride,
               (size_t)p->width);
    if (n == middle && !out->keep_frame)
        out->keep_frame = av_frame_clone(f);
}

static int64_t run_split(const char *path, int threads, split_times *out)
{
    vmo_decoder *dec = NULL;
    if (open_decoder(path, threads, &dec) != VMO_OK)
        return -1;
    const vmo_media_info *mi = vmo_decoder_info(dec);
    const int64_t middle = mi->nb_frames > 2 ? mi->nb_frames / 2 : 0;
    stages st;
    int rc = stages_init(&st, mi->fps);
    vmo_decoded_frame df;
    double t0 = bench_wall();
    while (rc == VMO_OK && (rc = vmo_decoder_next(dec, &df, &st.err)) == 1) {
        const double t1 = bench_wall();
        if (df.key)
            vmo_detector_keyframe(&st.det, df.t);
        int w, h;
        analysis_size(&st, df.frame, &w, &h);
        vmo_plane *plane;
        rc = stages_begin(&st, w, h, &plane);
        if (rc == VMO_OK)
            rc = vmo_preparer_run(st.prep, df.frame, plane, &st.err);
        const double t2 = bench_wall();
        if (rc == VMO_OK)
            rc = vmo_scorer_end(st.scorer, df.index, df.t, df.key ? VMO_FRAME_KEY : 0, &st.err);
        const double t3 = bench_wall();
        if (rc == VMO_OK) /* the scorer blurs a copy: the prepared plane is intact */
            keep_planes(out, out->frames, middle, plane, df.frame);
        out->decode += t1 - t0;
        out->prepare += t2 - t1;
        out->score += t3 - t2;
        out->frames++;
        t0 = bench_wall();
    }
    const double t4 = bench_wall();
    if (rc == 0) {
        stages_finish(&st, &out->events);
        out->score += bench_wall() - t4;
    } else {
        fprintf(stderr, "bench_pipeline: split %s: %s\n", path, st.err.msg);
    }
    stages_free(&st);
    vmo_decoder_close(&dec);
    return rc == 0 ? out->frames : -1;
}

/* ------------------------------------------------------------------------------------------
 * pipe / pipe-prep: prototype of a two-stage scan (decoding thread -> scoring thread)
 * ---------------------------------------------------------------------------------------- */

typedef struct queue_item {
    struct AVFrame *frame; /* pipe: a reference to the decoded frame */
    vmo_plane plane;       /* pipe-prep: the prepared analysis plane */
    int64_t index;
    double t;
    int key;
} queue_item;

typedef struct queue {
    pthread_mutex_t lock;
    pthread_cond_t not_empty, not_full;
    queue_item items[QUEUE_DEPTH];
    int head, count;
    int done;   /* the producer has finished */
    int failed; /* the consumer stopped on an error */
} queue;

typedef struct pipe_ctx {
    queue q;
    stages st;
    int prep_on_decoder;
    event_list events;
    int64_t scored;
} pipe_ctx;

/* The slot the producer fills next, waiting while the queue is full; NULL when the consumer
 * has failed. */
static queue_item *queue_reserve(queue *q)
{
    pthread_mutex_lock(&q->lock);
    while (q->count == QUEUE_DEPTH && !q->failed)
        pthread_cond_wait(&q->not_full, &q->lock);
    queue_item *it = q->failed ? NULL : &q->items[(q->head + q->count) % QUEUE_DEPTH];
    pthread_mutex_unlock(&q->lock);
    return it;
}

static void queue_commit(queue *q)
{
    pthread_mutex_lock(&q->lock);
    q->count++;
    pthread_cond_signal(&q->not_empty);
    pthread_mutex_unlock(&q->lock);
}

static void queue_finish(queue *q)
{
    pthread_mutex_lock(&q->lock);
    q->done = 1;
    pthread_cond_signal(&q->not_empty);
    pthread_mutex_unlock(&q->lock);
}

/* The oldest item, or NULL at the end. It stays in its slot until queue_release. */
static queue_item *queue_peek(queue *q)
{
    pthread_mutex_lock(&q->lock);
    while (q->count == 0 && !q->done)
        pthread_cond_wait(&q->not_empty, &q->lock);
    queue_item *it = q->count ? &q->items[q->head] : NULL;
    pthread_mutex_unlock(&q->lock);
    return it;
}

static void queue_release(queue *q, int failed)
{
    pthread_mutex_lock(&q->lock);
    if (failed)
        q->failed = 1;
    else {
        q->head = (q->head + 1) % QUEUE_DEPTH;
        q->count--;
    }
    pthread_cond_signal(&q->not_full);
    pthread_mutex_unlock(&q->lock);
}

/* Consumer side of one item: (prepare,) score, detector. */
static int pipe_score(pipe_ctx *c, queue_item *it)
{
    stages *st = &c->st;
    if (it->key)
        vmo_detector_keyframe(&st->det, it->t);
    int w = it->plane.width, h = it->plane.height;
    if (it->frame)
        analysis_size(st, it->frame, &w, &h);
    vmo_plane *plane;
    int rc = stages_begin(st, w, h, &plane);
    if (rc == VMO_OK && it->frame) {
        rc = vmo_preparer_run(st->prep, it->frame, plane, &st->err);
        av_frame_free(&it->frame);
    } else if (rc == VMO_OK) {
        for (int y = 0; y < h; y++)
            memcpy(plane->data + (ptrdiff_t)y * plane->stride,
                   it->plane.data + (ptrdiff_t)y * it->plane.stride, (size_t)w);
    }
    if (rc == VMO_OK)
        rc = vmo_scorer_end(st->scorer, it->index, it->t, it->key ? VMO_FRAME_KEY : 0, &st->err);
    c->scored++;
    return rc;
}

static void *pipe_consumer(void *arg)
{
    pipe_ctx *c = arg;
    queue_item *it;
    while ((it = queue_peek(&c->q)) != NULL) {
        const int rc = pipe_score(c, it);
        queue_release(&c->q, rc != VMO_OK);
        if (rc != VMO_OK)
            return NULL;
    }
    stages_finish(&c->st, &c->events);
    return NULL;
}

/* Producer side of one decoded frame. */
static int pipe_produce(pipe_ctx *c, const vmo_decoded_frame *df)
{
    queue_item *it = queue_reserve(&c->q);
    if (!it)
        return VMO_ERR_CANCELLED;
    it->index = df->index;
    it->t = df->t;
    it->key = df->key;
    if (!c->prep_on_decoder) {
        it->frame = av_frame_clone(df->frame);
        if (!it->frame)
            return VMO_ERR_NO_MEMORY;
    } else {
        int w, h;
        analysis_size(&c->st, df->frame, &w, &h);
        if (it->plane.width != w || it->plane.height != h) {
            vmo_plane_free(&it->plane);
            if (vmo_plane_alloc(&it->plane, w, h) != VMO_OK)
                return VMO_ERR_NO_MEMORY;
        }
        /* In pipe-prep only this thread uses the preparer (it keeps scratch state). */
        const int rc = vmo_preparer_run(c->st.prep, df->frame, &it->plane, &c->st.err);
        if (rc != VMO_OK)
            return rc;
    }
    queue_commit(&c->q);
    return VMO_OK;
}

static int64_t run_pipe(const char *path, int threads, int prep_on_decoder, event_list *events)
{
    vmo_decoder *dec = NULL;
    if (open_decoder(path, threads, &dec) != VMO_OK)
        return -1;
    pipe_ctx *c = calloc(1, sizeof(*c));
    if (!c) {
        vmo_decoder_close(&dec);
        return VMO_ERR_NO_MEMORY;
    }
    pthread_mutex_init(&c->q.lock, NULL);
    pthread_cond_init(&c->q.not_empty, NULL);
    pthread_cond_init(&c->q.not_full, NULL);
    c->prep_on_decoder = prep_on_decoder;
    int rc = stages_init(&c->st, vmo_decoder_info(dec)->fps);
    pthread_t th;
    const int started = rc == VMO_OK && pthread_create(&th, NULL, pipe_consumer, c) == 0;
    vmo_errbuf err = { { 0 } };
    vmo_decoded_frame df;
    int64_t frames = 0;
    while (started && (rc = vmo_decoder_next(dec, &df, &err)) == 1) {
        frames++;
        if ((rc = pipe_produce(c, &df)) != VMO_OK)
            break;
    }
    queue_finish(&c->q);
    if (started)
        pthread_join(th, NULL);
    const int ok = started && rc == 0 && !c->q.failed && c->scored == frames;
    if (ok)
        *events = c->events;
    for (int i = 0; i < QUEUE_DEPTH; i++) {
        av_frame_free(&c->q.items[i].frame);
        vmo_plane_free(&c->q.items[i].plane);
    }
    stages_free(&c->st);
    pthread_cond_destroy(&c->q.not_full);
    pthread_cond_destroy(&c->q.not_empty);
    pthread_mutex_destroy(&c->q.lock);
    free(c);
    vmo_decoder_close(&dec);
    if (!ok)
        fprintf(stderr, "bench_pipeline: pipe %s failed\n", path);
    return ok ? frames : -1;
}

/* ------------------------------------------------------------------------------------------
 * Building blocks of the scorer, on real planes
 * ---------------------------------------------------------------------------------------- */

/* score.c's pair_noise (a static function): RMS of |d| <= 12 over every other pixel of every
 * other row. A replica, so its time is an estimate of the original's. */
static double noise_replica(const vmo_plane *a, const vmo_plane *b)
{
    uint64_t sq = 0, n = 0;
    for (int y = 0; y < a->height; y += 2) {
        const uint8_t *ra = a->data + (ptrdiff_t)y * a->stride;
        const uint8_t *rb = b->data + (ptrdiff_t)y * b->stride;
        for (int x = 0; x < a->width; x += 2) {
            const int d = ra[x] > rb[x] ? ra[x] - rb[x] : rb[x] - ra[x];
            if (d <= 12) {
                sq += (uint64_t)(d * d);
                n++;
            }
        }
    }
    return n ? sqrt((double)sq / (double)n) : 0.0;
}

enum { BLK_PREPARE, BLK_COPY, BLK_BLUR, BLK_MEANS, BLK_FIT, BLK_NOISE, BLK_DIFF, BLK_AND, NBLOCKS };
static const struct {
    const char *name;
    int per_frame; /* calls per analysed frame in the scorer (0: preparation, not scoring) */
} blocks[NBLOCKS] = {
    { "prepare (hot cache)", 0 }, { "copy to blur slot", 1 }, { "blur121", 1 },
    { "block means", 1 },         { "light fit", 2 },         { "noise (replica)", 2 },
    { "diff_row plane", 1 },      { "and_row plane", 2 },
};

typedef struct micro_ctx {
    vmo_plane a, b, c, work; /* two real planes, a third (b again), a scratch plane */
    const struct AVFrame *frame;
    vmo_preparer *prep;
    vmo_zone_map map;
    VmoDiffDSP dsp;
    uint8_t *tmp;
    float means_a[VMO_LIGHT_MAX_BLOCKS], means_b[VMO_LIGHT_MAX_BLOCKS];
    int block_size, nblocks;
    vmo_light_work light;
    uint64_t cnt[256], sum[256];
    vmo_errbuf err;
    double sink;
} micro_ctx;

static void copy_plane(const vmo_plane *src, vmo_plane *dst)
{
    for (int y = 0; y < src->height; y++)
        memcpy(dst->data + (ptrdiff_t)y * dst->stride, src->data + (ptrdiff_t)y * src->stride,
               (size_t)src->width);
}

static void run_block(micro_ctx *m, int blk)
{
    const int w = m->a.width, h = m->a.height;
    switch (blk) {
    case BLK_PREPARE:
        vmo_preparer_run(m->prep, m->frame, &m->work, &m->err);
        break;
    case BLK_COPY:
        copy_plane(&m->a, &m->work);
        break;
    case BLK_BLUR:
        vmo_blur121(&m->work, m->tmp);
        break;
    case BLK_MEANS:
        m->sink += vmo_light_block_means(&m->a, m->block_size, m->means_a);
        break;
    case BLK_FIT: {
        vmo_light_fit fit;
        vmo_light_fit_means(m->means_a, m->means_b, m->nblocks, 4, &m->light, &fit);
        m->sink += fit.gain;
        break;
    }
    case BLK_NOISE:
        m->sink += noise_replica(&m->a, &m->b);
        break;
    case BLK_DIFF:
        for (int y = 0; y < h; y++)
            m->dsp.diff_row(m->b.data + (ptrdiff_t)y * m->b.stride,
                            m->a.data + (ptrdiff_t)y * m->a.stride, m->map.labels + y * w, w, 4,
                            m->cnt, m->sum);
        break;
    case BLK_AND:
        for (int y = 0; y < h; y++)
            m->dsp.and_row(
                m->a.data + (ptrdiff_t)y * m->a.stride, m->b.data + (ptrdiff_t)y * m->b.stride,
                m->c.data + (ptrdiff_t)y * m->c.stride, m->map.labels + y * w, w, 4, 4, m->cnt);
        break;
    default:
        break;
    }
}

/* Seconds per call of a block: median over rounds of batches of about MICRO_BATCH. */
static double time_block(micro_ctx *m, int blk)
{
    int reps = 1;
    for (;;) {
        const double t0 = bench_wall();
        for (int r = 0; r < reps; r++)
            run_block(m, blk);
        if (bench_wall() - t0 >= MICRO_BATCH || reps >= 1 << 20)
            break;
        reps *= 2;
    }
    double v[MICRO_ROUNDS];
    for (int k = 0; k < MICRO_ROUNDS; k++) {
        const double t0 = bench_wall();
        for (int r = 0; r < reps; r++)
            run_block(m, blk);
        v[k] = (bench_wall() - t0) / reps;
    }
    return bench_summarize(v, MICRO_ROUNDS).median;
}

static int micro_init(micro_ctx *m, const split_times *sp)
{
    memset(m, 0, sizeof(*m));
    const int w = sp->keep[0].width, h = sp->keep[0].height;
    vmo_config *cfg = NULL;
    vmo_errbuf err = { { 0 } };
    if (!sp->keep[0].data || !sp->keep[1].data || !sp->keep_frame ||
        vmo_config_create(&cfg) != VMO_OK)
        return -1;
    int rc = vmo_zone_map_build(&m->map, &cfg->zones, w, h, &err);
    vmo_config_destroy(&cfg);
    m->a = sp->keep[0];
    m->b = sp->keep[1];
    m->frame = sp->keep_frame;
    if (rc != VMO_OK || vmo_plane_alloc(&m->c, w, h) || vmo_plane_alloc(&m->work, w, h) ||
        vmo_preparer_create(&m->prep) || !(m->tmp = malloc(2 * (size_t)w + 64)))
        return -1;
    copy_plane(&m->a, &m->c); /* the future frame: like the past, as in an idle scene */
    vmo_diff_dsp_init(&m->dsp, vmo_cpu_effective());
    m->block_size = vmo_light_block_size(w, h);
    m->nblocks = vmo_light_block_means(&m->a, m->block_size, m->means_a);
    vmo_light_block_means(&m->b, m->block_size, m->means_b);
    return 0;
}

static void micro_free(micro_ctx *m)
{
    vmo_zone_map_free(&m->map);
    vmo_plane_free(&m->c);
    vmo_plane_free(&m->work);
    vmo_preparer_destroy(&m->prep);
    free(m->tmp);
}

/* {"blocks": {name: {"us": .., "per_frame": ..}}, "scorer_estimate_us": ..}; NULL when the
 * planes are missing. */
static json_t *micro_blocks(const split_times *sp, double *estimate_us)
{
    micro_ctx *m = calloc(1, sizeof(*m));
    if (!m || micro_init(m, sp) != 0) {
        if (m)
            micro_free(m);
        free(m);
        return NULL;
    }
    json_t *obj = json_object();
    double est = 0;
    printf("\n  scorer building blocks at %dx%d (real planes, hot cache; us per call):\n",
           m->a.width, m->a.height);
    for (int b = 0; b < NBLOCKS; b++) {
        const double us = time_block(m, b) * 1e6;
        est += us * blocks[b].per_frame;
        printf("    %-22s %8.1f us  x%d per frame\n", blocks[b].name, us, blocks[b].per_frame);
        json_object_set_new(
            obj, blocks[b].name,
            json_pack("{s:o, s:i}", "us", bench_real(us, 2), "per_frame", blocks[b].per_frame));
    }
    printf("    %-22s %8.1f us per frame (sum of the blocks x calls)\n", "scorer estimate", est);
    *estimate_us = est;
    micro_free(m);
    free(m);
    return obj;
}

/* ------------------------------------------------------------------------------------------
 * Rounds
 * ---------------------------------------------------------------------------------------- */

typedef struct job {
    int mode, threads;
    bench_series s;
    int64_t frames;
    int events_ok; /* -1 not checked, 0 differ, 1 same as the scan */
    /* split: seconds of each stage over the clip, per round */
    double split_dec[BENCH_MAX_REPS], split_prep[BENCH_MAX_REPS], split_score[BENCH_MAX_REPS];
} job;

typedef struct clip_run {
    const char *path;
    job jobs[NMODES * MAX_THREADS];
    int njobs;
    event_list scan_events;
    int have_scan_events;
    split_times keep; /* planes for the building blocks (from the first split run) */
} clip_run;

static int check_frames(job *j, int64_t frames, const char *path)
{
    if (frames < 0)
        return -1;
    if (j->frames && frames != j->frames) {
        fprintf(stderr, "bench_pipeline: %s: %s gave %lld frames, then %lld\n", path,
                mode_names[j->mode], (long long)j->frames, (long long)frames);
        return -1;
    }
    j->frames = frames;
    return 0;
}

static void note_events(clip_run *cr, job *j, const event_list *ev)
{
    if (!cr->have_scan_events)
        return;
    const int same = events_equal(ev, &cr->scan_events);
    j->events_ok = j->events_ok == -1 ? same : (j->events_ok && same);
}

/* Frames, or < 0. */
static int64_t run_split_job(clip_run *cr, job *j)
{
    split_times sp;
    memset(&sp, 0, sizeof(sp));
    const int64_t frames = run_split(cr->path, j->threads, &sp);
    if (frames > 0) {
        const int r = j->s.n;
        j->split_dec[r] = sp.decode;
        j->split_prep[r] = sp.prepare;
        j->split_score[r] = sp.score;
        note_events(cr, j, &sp.events);
    }
    if (!cr->keep.keep_frame && sp.keep_frame) {
        cr->keep = sp; /* takes the planes and the frame */
    } else {
        vmo_plane_free(&sp.keep[0]);
        vmo_plane_free(&sp.keep[1]);
        av_frame_free(&sp.keep_frame);
    }
    return frames;
}

static int run_job(clip_run *cr, job *j)
{
    double wall = 0, cpu = 0;
    const double w0 = bench_wall(), c0 = bench_cpu();
    int64_t frames = -1;
    event_list ev;
    switch (j->mode) {
    case MODE_DECODE:
        frames = run_decode(cr->path, j->threads);
        break;
    case MODE_SCAN:
    case MODE_SCAN_SERIAL:
        frames = run_scan(cr->path, j->threads, j->mode == MODE_SCAN_SERIAL, &ev, &wall, &cpu);
        if (frames > 0)
            note_events(cr, j, &ev);
        break;
    case MODE_SPLIT:
        frames = run_split_job(cr, j);
        break;
    default:
        frames = run_pipe(cr->path, j->threads, j->mode == MODE_PIPE_PREP, &ev);
        if (frames > 0)
            note_events(cr, j, &ev);
        break;
    }
    if (j->mode != MODE_SCAN && j->mode != MODE_SCAN_SERIAL) {
        wall = bench_wall() - w0;
        cpu = bench_cpu() - c0;
    }
    if (check_frames(j, frames, cr->path) != 0)
        return -1;
    bench_series_add(&j->s, wall, cpu);
    return 0;
}

/* The scan runs first once, untimed: it warms the file cache and gives the reference events
 * the other modes are checked against. */
static int warm_up(clip_run *cr)
{
    double w, c;
    const int64_t frames = run_scan(cr->path, 1, 0, &cr->scan_events, &w, &c);
    if (frames <= 0)
        return -1;
    cr->have_scan_events = 1;
    printf("%s: %lld frames, %d events; warm-up scan %.2f s\n", cr->path, (long long)frames,
           cr->scan_events.n, w);
    return 0;
}

static int run_rounds(clip_run *cr, int reps)
{
    for (int r = 0; r < reps; r++) {
        for (int k = 0; k < cr->njobs; k++) {
            job *j = &cr->jobs[(r + k) % cr->njobs];
            if (run_job(cr, j) != 0)
                return -1;
        }
        fprintf(stderr, "  round %d/%d done (load %.2f)\n", r + 1, reps, bench_load_average());
    }
    return 0;
}

/* ------------------------------------------------------------------------------------------
 * Report
 * ---------------------------------------------------------------------------------------- */

static const job *find_job(const clip_run *cr, int mode, int threads)
{
    for (int i = 0; i < cr->njobs; i++)
        if (cr->jobs[i].mode == mode && cr->jobs[i].threads == threads)
            return &cr->jobs[i];
    return NULL;
}

/* Median over rounds of this job's time / the decode's time of the same round. */
static bench_stats paired_ratio(const job *j, const job *ref, int use_cpu)
{
    double v[BENCH_MAX_REPS];
    const int n = VMO_MIN(j->s.n, ref->s.n);
    for (int i = 0; i < n; i++)
        v[i] = use_cpu ? j->s.cpu[i] / ref->s.cpu[i] : j->s.wall[i] / ref->s.wall[i];
    return bench_summarize(v, n);
}

static json_t *split_json(const job *j, double estimate_us)
{
    double d[BENCH_MAX_REPS], p[BENCH_MAX_REPS], s[BENCH_MAX_REPS];
    const double per = 1e3 / (double)j->frames; /* seconds over the clip -> ms per frame */
    for (int i = 0; i < j->s.n; i++) {
        d[i] = j->split_dec[i] * per;
        p[i] = j->split_prep[i] * per;
        s[i] = j->split_score[i] * per;
    }
    const bench_stats sd = bench_summarize(d, j->s.n), sp = bench_summarize(p, j->s.n),
                      ss = bench_summarize(s, j->s.n);
    printf("  split (threads %d), ms per frame: decode %.3f, prepare %.3f, score+events %.3f"
           " -> prepare %.1f%%, score %.1f%% of decode\n",
           j->threads, sd.median, sp.median, ss.median, 100 * sp.median / sd.median,
           100 * ss.median / sd.median);
    /* With the stages on a second core, the decoding thread keeps only its own work: the
     * scan would take max(decode, prepare + score) per frame, plus hand-over costs. */
    const double hidden = VMO_MAX(sd.median, sp.median + ss.median) / sd.median;
    const double prep_stays = VMO_MAX(sd.median + sp.median, ss.median) / sd.median;
    printf("  two-thread estimate from these: %.3f x decode (stages on thread 2), %.3f x "
           "(prepare on the decoding thread)\n",
           hidden, prep_stays);
    return json_pack(
        "{s:i, s:o, s:o, s:o, s:o, s:o, s:o}", "threads", j->threads, "decode_ms_per_frame",
        bench_stats_json(&sd, 4), "prepare_ms_per_frame", bench_stats_json(&sp, 4),
        "score_events_ms_per_frame", bench_stats_json(&ss, 4), "two_thread_estimate_stages_moved",
        bench_real(hidden, 4), "two_thread_estimate_prepare_stays", bench_real(prep_stays, 4),
        "scorer_blocks_estimate_us_per_frame", bench_real(estimate_us, 2));
}

static json_t *job_json(const clip_run *cr, const job *j)
{
    const bench_stats w = bench_series_wall(&j->s), c = bench_series_cpu(&j->s);
    const job *dec = find_job(cr, MODE_DECODE, j->threads);
    json_t *o = json_pack("{s:s, s:i, s:I, s:o, s:o, s:o}", "mode", mode_names[j->mode], "threads",
                          j->threads, "frames", (json_int_t)j->frames, "fps_median",
                          bench_real(j->frames / w.median, 2), "wall_s", bench_stats_json(&w, 4),
                          "cpu_s", bench_stats_json(&c, 4));
    if (dec && j != dec) {
        const bench_stats rw = paired_ratio(j, dec, 0), rc = paired_ratio(j, dec, 1);
        json_object_set_new(o, "ratio_to_decode_wall", bench_stats_json(&rw, 4));
        json_object_set_new(o, "ratio_to_decode_cpu", bench_stats_json(&rc, 4));
        json_object_set_new(o, "ratio_of_medians_wall",
                            bench_real(w.median / bench_series_wall(&dec->s).median, 4));
        /* The fastest run of each is the least disturbed one: on a busy machine the ratio
         * of minima is the best estimate of the undisturbed ratio. */
        json_object_set_new(o, "ratio_of_minima_wall",
                            bench_real(w.min / bench_series_wall(&dec->s).min, 4));
    }
    if (j->events_ok >= 0)
        json_object_set_new(o, "events_same_as_scan", json_boolean(j->events_ok));
    return o;
}

static void print_job(const clip_run *cr, const job *j)
{
    const bench_stats w = bench_series_wall(&j->s), c = bench_series_cpu(&j->s);
    const job *dec = find_job(cr, MODE_DECODE, j->threads);
    char ratio[64] = "";
    if (dec && j != dec) {
        const bench_stats rw = paired_ratio(j, dec, 0), rc = paired_ratio(j, dec, 1);
        snprintf(ratio, sizeof(ratio), "%6.3f [%5.3f-%5.3f] %6.3f", rw.median, rw.min, rw.max,
                 rc.median);
    }
    printf("  %-10s %3d %8.1f %8.3f [%6.3f-%6.3f] %7.3f  %-30s %s\n", mode_names[j->mode],
           j->threads, j->frames / w.median, w.median, w.min, w.max, c.median, ratio,
           j->events_ok < 0 ? ""
           : j->events_ok   ? "events = scan"
                            : "EVENTS DIFFER");
}

static json_t *report_clip(clip_run *cr)
{
    printf("\n%s\n  %-10s %3s %8s %8s %15s %7s  %-30s\n", cr->path, "mode", "thr", "fps", "wall s",
           "[min-max]", "cpu s", "x decode wall [min-max] cpu");
    json_t *jobs = json_array();
    for (int i = 0; i < cr->njobs; i++) {
        print_job(cr, &cr->jobs[i]);
        json_array_append_new(jobs, job_json(cr, &cr->jobs[i]));
    }
    double est = NAN;
    json_t *blocks_obj = cr->keep.keep_frame ? micro_blocks(&cr->keep, &est) : NULL;
    json_t *splits = json_array();
    for (int i = 0; i < cr->njobs; i++)
        if (cr->jobs[i].mode == MODE_SPLIT)
            json_array_append_new(splits, split_json(&cr->jobs[i], est));
    return json_pack("{s:s, s:o, s:o, s:o}", "clip", cr->path, "runs", jobs, "split", splits,
                     "scorer_blocks", blocks_obj ? blocks_obj : json_null());
}

/* ------------------------------------------------------------------------------------------
 * Options
 * ---------------------------------------------------------------------------------------- */

typedef struct options {
    int reps;
    int threads[MAX_THREADS], nthreads;
    int proto_threads[MAX_THREADS], nproto; /* where split and the prototypes run */
    int modes[NMODES], nmodes;
    const char *json;
    const char *clips[MAX_CLIPS];
    int nclips;
} options;

/* "1,0" into list; returns -1 when empty or too long. */
static int parse_int_list(int *list, int *n, char *text)
{
    *n = 0;
    for (char *t = strtok(text, ","); t; t = strtok(NULL, ",")) {
        if (*n == MAX_THREADS)
            return -1;
        list[(*n)++] = atoi(t);
    }
    return *n ? 0 : -1;
}

static int parse_modes(options *o, char *list)
{
    o->nmodes = 0;
    for (char *t = strtok(list, ","); t; t = strtok(NULL, ",")) {
        int m = 0;
        while (m < NMODES && strcmp(t, mode_names[m]))
            m++;
        if (m == NMODES || o->nmodes == NMODES)
            return -1;
        o->modes[o->nmodes++] = m;
    }
    return o->nmodes ? 0 : -1;
}

static int parse_options(options *o, int argc, char **argv)
{
    static char default_threads[] = "1,0", default_proto[] = "1",
                default_modes[] = "decode,scan,scan-serial,split,pipe,pipe-prep";
    memset(o, 0, sizeof(*o));
    o->reps = 5;
    parse_int_list(o->threads, &o->nthreads, default_threads);
    parse_int_list(o->proto_threads, &o->nproto, default_proto);
    parse_modes(o, default_modes);
    for (int i = 1; i < argc; i++) {
        int bad = 0;
        if (!strcmp(argv[i], "--reps") && i + 1 < argc)
            o->reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
            bad = parse_int_list(o->threads, &o->nthreads, argv[++i]);
        else if (!strcmp(argv[i], "--proto-threads") && i + 1 < argc)
            bad = parse_int_list(o->proto_threads, &o->nproto, argv[++i]);
        else if (!strcmp(argv[i], "--modes") && i + 1 < argc)
            bad = parse_modes(o, argv[++i]);
        else if (!strcmp(argv[i], "--json") && i + 1 < argc)
            o->json = argv[++i];
        else if (argv[i][0] != '-' && o->nclips < MAX_CLIPS)
            o->clips[o->nclips++] = argv[i];
        else
            bad = 1;
        if (bad)
            return -1;
    }
    return o->nclips && o->reps >= 1 && o->reps <= BENCH_MAX_REPS ? 0 : -1;
}

static int in_list(const int *list, int n, int v)
{
    for (int i = 0; i < n; i++)
        if (list[i] == v)
            return 1;
    return 0;
}

/* split and the prototypes run only with the decoder threads of --proto-threads (default
 * 1): with frame threads on every core there is no idle core for a second stage to hide
 * in, and the rounds stay short. */
static void plan_jobs(clip_run *cr, const options *o)
{
    const int serial = have_pipeline_option();
    if (!serial)
        printf("scan-serial: skipped (the library has no option \"pipeline\")\n");
    for (int t = 0; t < o->nthreads; t++)
        for (int m = 0; m < o->nmodes; m++) {
            if (o->modes[m] == MODE_SCAN_SERIAL && !serial)
                continue;
            if (o->modes[m] >= MODE_SPLIT && !in_list(o->proto_threads, o->nproto, o->threads[t]))
                continue;
            job *j = &cr->jobs[cr->njobs++];
            memset(j, 0, sizeof(*j));
            j->mode = o->modes[m];
            j->threads = o->threads[t];
            j->events_ok = -1;
        }
}

/* One default scan, nothing else: the memory bench execs this and reads its peak RSS. */
static int scan_once(const char *path, int threads)
{
    double w, c;
    const int64_t frames = run_scan(path, threads, 0, NULL, &w, &c);
    if (frames <= 0)
        return 1;
    printf("%lld frames in %.3f s\n", (long long)frames, w);
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0); /* keep the table in order with stderr */
    if (argc == 4 && !strcmp(argv[1], "scan-once"))
        return scan_once(argv[2], atoi(argv[3]));
    options o;
    if (parse_options(&o, argc, argv) != 0) {
        fprintf(stderr,
                "usage: %s [--reps N] [--threads 1,0] [--proto-threads 1] "
                "[--modes %s,%s,%s,%s,%s,%s] [--json FILE] CLIP...\n"
                "       %s scan-once CLIP THREADS\n",
                argv[0], mode_names[0], mode_names[1], mode_names[2], mode_names[3], mode_names[4],
                mode_names[5], argv[0]);
        return 2;
    }
    json_t *clips = json_array();
    static clip_run runs[MAX_CLIPS];
    for (int c = 0; c < o.nclips; c++) {
        clip_run *cr = &runs[c];
        cr->path = o.clips[c];
        plan_jobs(cr, &o);
        if (warm_up(cr) != 0 || run_rounds(cr, o.reps) != 0)
            return 1;
        json_array_append_new(clips, report_clip(cr));
        vmo_plane_free(&cr->keep.keep[0]);
        vmo_plane_free(&cr->keep.keep[1]);
        av_frame_free(&cr->keep.keep_frame);
    }
    printf("\nmedians of %d interleaved rounds; x decode = median over rounds of (mode time /"
           " decode time of the same round, same threads)\n",
           o.reps);
    json_t *doc = json_pack("{s:s, s:o, s:i, s:o, s:o}", "benchmark", "bench_pipeline", "machine",
                            bench_machine_json(), "reps", o.reps, "settings", bench_settings_json(),
                            "clips", clips);
    if (o.json && bench_write_json(o.json, doc) != 0)
        return 1;
    if (!o.json)
        json_decref(doc);
    return 0;
}
