/* The analyzer handle: scans files and caller I/O (decode -> prepare -> score -> events),
 * and frames pushed by the caller (prepare -> score -> events, no FFmpeg). */
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libavutil/frame.h>

#include "analyzer.h"
#include "cpu.h"
#include "decode.h"
#include "fastscan.h"
#include "feeder.h"
#include "index.h"
#include "probe.h"
#include "timefmt.h"

/* ------------------------------------------------------------------------------------------
 * Handle
 * ---------------------------------------------------------------------------------------- */

int vmo_analyzer_create(const vmo_config *cfg, vmo_analyzer **out)
{
    if (!out)
        return VMO_ERR_INVALID_ARG;
    *out = NULL;
    if (!cfg)
        return VMO_ERR_INVALID_ARG;
    vmo_analyzer *an = calloc(1, sizeof(*an));
    if (!an)
        return VMO_ERR_NO_MEMORY;
    an->cfg.settings = cfg->settings;
    if (vmo_zone_set_copy(&an->cfg.zones, &cfg->zones) != VMO_OK) {
        free(an);
        return VMO_ERR_NO_MEMORY;
    }
    an->zone_count = vmo_config_zone_count(&an->cfg);
    for (int z = 0; z < an->zone_count; z++)
        an->zone_names[z] = vmo_config_zone_name(&an->cfg, z);
    an->cpu = vmo_cpu_effective();
    an->cancel_src = &an->cancel;
    an->wall_override = NAN;
    an->wall_source = VMO_WALL_CALLER;
    an->range_from = an->range_to = NAN;
    an->clip_total = 1;
    vmo_log_init_ffmpeg();
    *out = an;
    return VMO_OK;
}

int vmo_analyzer_worker(vmo_analyzer *parent, const vmo_config *cfg, pthread_mutex_t *cb_lock,
                        const vmo_worker_plan *plan, vmo_analyzer **out)
{
    int rc = vmo_analyzer_create(cfg, out);
    if (rc != VMO_OK)
        return rc;
    vmo_analyzer *an = *out;
    an->cpu = parent->cpu;
    an->cancel_src = parent->cancel_src;
    an->cb_lock = cb_lock;
    an->clip_base = plan->clip_base;
    an->clip_total = parent->clip_total;
    an->wall_override = plan->wall_override;
    an->wall_source = plan->wall_source;
    an->range_from = plan->range_from;
    an->range_to = plan->range_to;
    an->write_index = plan->write_index;
    an->frame_fn = parent->frame_fn;
    an->frame_user = parent->frame_user;
    an->event_fn = parent->event_fn;
    an->event_user = parent->event_user;
    an->progress_fn = parent->progress_fn;
    an->progress_user = parent->progress_user;
    return VMO_OK;
}

static void cb_enter(const vmo_analyzer *an)
{
    if (an->cb_lock)
        pthread_mutex_lock(an->cb_lock);
}

static void cb_leave(const vmo_analyzer *an)
{
    if (an->cb_lock)
        pthread_mutex_unlock(an->cb_lock);
}

static int cancel_requested(const vmo_analyzer *an)
{
    return atomic_load_explicit(an->cancel_src, memory_order_relaxed);
}

static void run_free(vmo_run *run);

void vmo_analyzer_destroy(vmo_analyzer **pan)
{
    if (!pan || !*pan)
        return;
    vmo_analyzer *an = *pan;
    if (an->pushing) /* a pushed stream that was never finished: its result is still ours */
        vmo_result_destroy(&an->push.res);
    run_free(&an->push);
    vmo_plane_free(&an->push_first);
    vmo_zone_set_clear(&an->cfg.zones);
    free(an);
    *pan = NULL;
}

const char *vmo_analyzer_last_error(const vmo_analyzer *an)
{
    return an ? an->err.msg : "";
}

int vmo_analyzer_set_frame_callback(vmo_analyzer *an, vmo_frame_fn fn, void *user)
{
    if (!an)
        return VMO_ERR_INVALID_ARG;
    an->frame_fn = fn;
    an->frame_user = user;
    return VMO_OK;
}

int vmo_analyzer_set_event_callback(vmo_analyzer *an, vmo_event_fn fn, void *user)
{
    if (!an)
        return VMO_ERR_INVALID_ARG;
    an->event_fn = fn;
    an->event_user = user;
    return VMO_OK;
}

int vmo_analyzer_set_progress_callback(vmo_analyzer *an, vmo_progress_fn fn, void *user)
{
    if (!an)
        return VMO_ERR_INVALID_ARG;
    an->progress_fn = fn;
    an->progress_user = user;
    return VMO_OK;
}

void vmo_analyzer_cancel(vmo_analyzer *an)
{
    if (an)
        atomic_store(an->cancel_src, 1);
}

/* ------------------------------------------------------------------------------------------
 * One clip: scored frames -> events, series, callbacks
 * ---------------------------------------------------------------------------------------- */

static vmo_clip_data *run_clip(vmo_run *run)
{
    return &run->res->clips[run->clip];
}

static void clip_event_to_public(const vmo_run *run, const vmo_clip_event *ce, vmo_event *ev)
{
    memset(ev, 0, sizeof(*ev));
    ev->struct_size = sizeof(*ev);
    ev->kind = ce->kind;
    ev->flags = ce->flags;
    ev->zone = ce->zone;
    ev->clip = ev->end_clip = ev->peak_clip = run->an->clip_base + run->clip;
    ev->start = ce->start;
    ev->end = ce->end;
    ev->clip_start = VMO_MAX(0.0, ce->start - run->an->cfg.settings.pre_roll);
    ev->clip_end = ce->end + run->an->cfg.settings.post_roll;
    ev->wall_start = run->wall_start + ce->start;
    ev->wall_end = run->wall_start + ce->end;
    ev->peak = ce->peak;
    ev->mean = ce->nframes ? ce->sum / (double)ce->nframes : 0;
    ev->keyframe = ce->keyframe;
    ev->clip_keyframe = ce->keyframe_pre;
    ev->peak_time = ce->peak_t;
    ev->source_count = 1;
    ev->start_frame = ce->start_frame;
    ev->end_frame = ce->end_frame;
}

static int on_live_event(void *user, int what, const vmo_clip_event *ce)
{
    vmo_run *run = user;
    if (!run->an->event_fn || run->cancelled)
        return 0;
    vmo_event ev;
    clip_event_to_public(run, ce, &ev);
    cb_enter(run->an);
    int rc = run->an->event_fn(run->an->event_user, what, &ev);
    cb_leave(run->an);
    if (rc)
        atomic_store(run->an->cancel_src, 1);
    return rc;
}

static int report_frame(vmo_run *run, const vmo_scored_frame *f)
{
    vmo_analyzer *an = run->an;
    vmo_frame_report rep;
    memset(&rep, 0, sizeof(rep));
    rep.struct_size = sizeof(rep);
    rep.flags = f->flags;
    rep.clip = an->clip_base + run->clip;
    rep.zone_count = f->zone_count;
    rep.index = f->index;
    rep.t = f->t;
    rep.wall = run->wall_start + f->t;
    rep.changed = f->changed;
    rep.mad = f->mad;
    rep.zone_names = an->zone_names;
    if (f->plane) {
        rep.plane = f->plane->data;
        rep.plane_width = f->plane->width;
        rep.plane_height = f->plane->height;
        rep.plane_stride = f->plane->stride;
    }
    cb_enter(an);
    int rc = an->frame_fn(an->frame_user, &rep);
    cb_leave(an);
    return rc;
}

/* A cell counts a frame as moving when at least this many of its pixels changed. */
#define HEAT_MIN_PIXELS 2

static void heat_add(vmo_run *run, const vmo_scored_frame *f)
{
    for (int c = 0; c < VMO_GRID_CELLS; c++)
        run->heat[c] += VMO_MAX(f->grid_near[c], f->grid_far[c]) >= HEAT_MIN_PIXELS;
}

static void index_add(vmo_run *run, const vmo_scored_frame *f)
{
    int rc = f->plane ? vmo_index_writer_frame(run->index, f, f->plane->width, f->plane->height)
                      : VMO_ERR_STATE;
    if (rc != VMO_OK && !run->index_failed)
        run->index_failed = rc;
}

static int on_scored(void *user, const vmo_scored_frame *f)
{
    vmo_run *run = user;
    vmo_clip_data *clip = run_clip(run);
    if (run->heat && f->grid_near)
        heat_add(run, f);
    if (run->index && !run->index_failed)
        index_add(run, f);
    int cancel = vmo_detector_push(&run->det, f) && !run->cancelled;
    if (run->an->cfg.settings.frames &&
        vmo_clip_add_frame(clip, f->index, f->t, (uint8_t)f->flags, f->zone_count, f->changed,
                           f->mad) != VMO_OK)
        run->failed = 1;
    /* After a cancel, frames still waiting for their future reach the events and series
     * (the partial result stays whole), but the caller hears nothing more. */
    if (run->an->frame_fn && !run->cancelled && report_frame(run, f))
        cancel = 1;
    if (cancel) {
        run->cancelled = 1;
        atomic_store(run->an->cancel_src, 1); /* the whole request, not just this clip */
    }
    return cancel;
}

void vmo_analyzer_clip_done(vmo_analyzer *an, pthread_mutex_t *cb_lock, int clip, int64_t frames)
{
    if (!an->progress_fn || cancel_requested(an))
        return;
    if (cb_lock)
        pthread_mutex_lock(cb_lock);
    if (an->progress_fn(an->progress_user, clip, an->clip_total, frames, frames))
        atomic_store(an->cancel_src, 1);
    if (cb_lock)
        pthread_mutex_unlock(cb_lock);
}

/* The last report of a clip says done == total, so a caller can count finished clips. */
static void run_report_done(vmo_run *run)
{
    vmo_analyzer *an = run->an;
    vmo_analyzer_clip_done(an, an->cb_lock, an->clip_base + run->clip,
                           run_clip(run)->info.frames);
}

static int run_begin(vmo_run *run, vmo_analyzer *an, vmo_result *res, const char *path,
                     const char *codec, int clip_count)
{
    memset(run, 0, sizeof(*run));
    run->an = an;
    run->res = res;
    run->clip_count = clip_count;
    run->wall_start = NAN;
    vmo_clip_data *clip = vmo_result_add_clip(res, path, codec);
    if (!clip)
        return vmo_err_set(&an->err, VMO_ERR_NO_MEMORY, "out of memory");
    run->clip = res->nclips - 1;
    return VMO_OK;
}

/* Starts scoring once the nominal frame rate is known. */
/* The analysed frame rate: the clip's, capped by the "fps" option. */
static double analysed_rate(const vmo_settings *s, double fps)
{
    double rate = fps > 0 ? fps : 25.0;
    return (s->fps > 0 && s->fps < rate) ? s->fps : rate;
}

/* Events (and the heatmap) of one clip, whatever feeds them: a scorer or an index. */
static int run_start_detector(vmo_run *run, double fps)
{
    vmo_analyzer *an = run->an;
    vmo_clip_data *clip = run_clip(run);
    clip->frame_dur = 1.0 / analysed_rate(&an->cfg.settings, fps);
    clip->info.fps = fps;
    uint64_t area[VMO_MAX_ZONES] = { 0 };
    vmo_detector_init(&run->det, &an->cfg.settings, an->zone_count, area, clip->frame_dur,
                      on_live_event, run);
    run->have_det = 1;
    if (an->cfg.settings.heatmap) {
        run->heat = calloc(VMO_GRID_CELLS, sizeof(uint32_t));
        if (!run->heat)
            return vmo_err_set(&an->err, VMO_ERR_NO_MEMORY, "out of memory");
    }
    return VMO_OK;
}

static int run_start_scoring(vmo_run *run, double fps)
{
    vmo_analyzer *an = run->an;
    int rc = run_start_detector(run, fps);
    if (rc != VMO_OK)
        return rc;
    rc = vmo_scorer_create(&run->scorer, &an->cfg.settings, &an->cfg.zones,
                           analysed_rate(&an->cfg.settings, fps), an->cpu, on_scored, run,
                           &an->err);
    if (rc == VMO_OK && (run->heat || run->index))
        vmo_scorer_enable_grid(run->scorer);
    return rc;
}

/* fps cap: analyse a frame when it is due, so skipped frames spread evenly. */
static int run_frame_due(vmo_run *run, double t)
{
    const double cap = run->an->cfg.settings.fps;
    if (!(cap > 0))
        return 1;
    if (t + 1e-6 < run->next_due)
        return 0;
    run->next_due += 1.0 / cap;
    if (run->next_due < t)
        run->next_due = t + 1.0 / cap; /* resynchronise after a gap */
    return 1;
}

/* Scores one prepared plane: the caller fills it between the two calls. */
static int run_plane_begin(vmo_run *run, int w, int h, vmo_plane **plane)
{
    int rc = vmo_scorer_begin(run->scorer, w, h, plane, &run->an->err);
    if (rc != VMO_OK)
        return rc;
    const vmo_zone_map *map = vmo_scorer_zone_map(run->scorer);
    vmo_detector_set_areas(&run->det, map->zone_count, map->zone_area);
    vmo_clip_data *clip = run_clip(run);
    if (clip->info.analysis_width && (clip->info.analysis_width != w ||
                                      clip->info.analysis_height != h))
        clip->info.flags |= VMO_CLIP_RESIZED;
    if (!clip->info.analysis_width) {
        clip->info.analysis_width = w;
        clip->info.analysis_height = h;
    }
    return VMO_OK;
}

static int run_plane_end(vmo_run *run, int64_t index, double t, uint32_t flags)
{
    vmo_clip_data *clip = run_clip(run);
    if (run->analysed == 0)
        clip->first_t = t;
    run->analysed++;
    int rc = vmo_scorer_end(run->scorer, index, t, flags, &run->an->err);
    if (rc == VMO_ERR_CANCELLED)
        run->cancelled = 1;
    return rc;
}

/* Ends the clip: flushes scores and events into the result. */
static int run_finish(vmo_run *run)
{
    int rc = VMO_OK;
    vmo_clip_data *clip = run_clip(run);
    if (run->scorer && vmo_scorer_flush(run->scorer, &run->an->err) == VMO_ERR_CANCELLED)
        run->cancelled = 1;
    if (run->have_det) {
        if (vmo_detector_finish(&run->det))
            run->cancelled = 1;
        if (run->det.failed)
            run->failed = 1;
        clip->events = vmo_detector_take_events(&run->det, &clip->nevents);
    }
    clip->info.analysed = run->analysed;
    if (run->cancelled)
        clip->info.flags |= VMO_CLIP_CANCELLED;
    clip->heat = run->heat;
    run->heat = NULL;
    if (run->failed)
        rc = vmo_err_set(&run->an->err, VMO_ERR_NO_MEMORY, "out of memory storing results");
    return rc;
}

/* Commits the index of a whole, uncancelled scan; drops it otherwise. A scan whose index
 * cannot be written still succeeds: the index is an optimisation, the clip is analysed. */
static void run_close_index(vmo_run *run, int scan_ok)
{
    if (!run->index)
        return;
    vmo_clip_data *clip = run_clip(run);
    const int whole = scan_ok && !run->cancelled && !run->index_failed &&
                      !(clip->info.flags & (VMO_CLIP_PARTIAL | VMO_CLIP_CANCELLED));
    vmo_errbuf err;
    int rc = vmo_index_writer_close(&run->index, &clip->info,
                                    run->scorer ? vmo_scorer_k(run->scorer) : 0, whole, &err);
    if (whole && rc != VMO_OK)
        vmo_log(VMO_LOG_WARNING, "%s", err.msg);
}

static void run_free(vmo_run *run)
{
    if (run->index)
        vmo_index_writer_close(&run->index, NULL, 0, 0, NULL);
    free(run->heat);
    run->heat = NULL;
    vmo_scorer_destroy(&run->scorer);
    if (run->have_det)
        vmo_detector_free(&run->det);
    run->have_det = 0;
}

static int zone_names_result(vmo_analyzer *an, vmo_result **res)
{
    int rc = vmo_result_new(res, &an->cfg.settings, &an->cfg.zones, an->zone_count,
                            an->zone_names);
    if (rc != VMO_OK)
        return vmo_err_set(&an->err, rc, "out of memory");
    return VMO_OK;
}

/* ------------------------------------------------------------------------------------------
 * Scanning decoded clips
 * ---------------------------------------------------------------------------------------- */

static void clip_set_media_info(vmo_run *run, const vmo_media_info *mi, const char *path)
{
    vmo_clip_data *clip = run_clip(run);
    clip->info.width = mi->width;
    clip->info.height = mi->height;
    clip->info.rotation = mi->rotation;
    clip->info.fps = mi->fps;
    clip->info.size_bytes = mi->size_bytes;
    vmo_wall_start_of(path, run->an->wall_override, run->an->wall_source, mi,
                      &clip->info.wall_start, &clip->info.wall_source);
    run->wall_start = clip->info.wall_start;
}

static void maybe_progress(vmo_run *run, int64_t done, int64_t total)
{
    vmo_analyzer *an = run->an;
    if (!an->progress_fn)
        return;
    double now = vmo_now();
    if (now - an->last_progress < 0.25 && done > 0)
        return;
    an->last_progress = now;
    cb_enter(an);
    if (an->progress_fn(an->progress_user, an->clip_base + run->clip, run->clip_count, done,
                        total)) {
        run->cancelled = 1;
        atomic_store(an->cancel_src, 1);
    }
    cb_leave(an);
}

/* A request's window: start at the keyframe before the range (the long baseline needs
 * frames before it too) and stop after it. */
static int run_seek_range(vmo_run *run, vmo_decoder *dec)
{
    vmo_analyzer *an = run->an;
    const double margin = an->cfg.settings.long_baseline;
    if (isnan(an->range_from) || an->range_from - margin <= 0)
        return VMO_OK;
    run->det.edge_start = 0;
    run_clip(run)->info.flags |= VMO_CLIP_PARTIAL;
    return vmo_decoder_seek(dec, an->range_from - margin, &an->err);
}

static int run_past_range(vmo_run *run, double t)
{
    const vmo_analyzer *an = run->an;
    if (isnan(an->range_to) || t <= an->range_to + an->cfg.settings.long_baseline)
        return 0;
    run->det.edge_end = 0;
    run_clip(run)->info.flags |= VMO_CLIP_PARTIAL;
    return 1;
}

/* Frames decoded ahead by the feeder: enough to ride out a slow frame, few enough to keep
 * memory close to a plain decode's. */
#define FEEDER_DEPTH 4

/* Decode on a thread of its own when there is a core for it. */
static int use_feeder(const vmo_analyzer *an)
{
    return an->cfg.settings.pipeline && sysconf(_SC_NPROCESSORS_ONLN) >= 2;
}

static int next_frame(vmo_decoder *dec, vmo_feeder *feeder, vmo_decoded_frame *df,
                      vmo_errbuf *err)
{
    return feeder ? vmo_feeder_next(feeder, df, err) : vmo_decoder_next(dec, df, err);
}

/* Where the frame loop stands. */
typedef vmo_loop_state loop_state;

/* One decoded frame: bookkeeping, keyframes, and (when due) preparation and scoring. */
static int run_one_frame(vmo_run *run, vmo_preparer *prep, const vmo_decoded_frame *df,
                         loop_state *ls)
{
    vmo_analyzer *an = run->an;
    vmo_clip_data *clip = run_clip(run);
    ls->frames++;
    if (!isnan(ls->prev_t) && df->t > ls->prev_t)
        clip->frame_dur = df->t - ls->prev_t;
    ls->prev_t = ls->last_t = df->t;
    if (df->key) {
        vmo_detector_keyframe(&run->det, df->t);
        if (run->index && vmo_index_writer_keyframe(run->index, df->t) != VMO_OK &&
            !run->index_failed)
            run->index_failed = VMO_ERR_IO;
    }
    if (!run_frame_due(run, df->t))
        return VMO_OK;
    int w, h;
    vmo_analysis_size(df->frame->width, df->frame->height, (int)an->cfg.settings.width, &w, &h);
    vmo_plane *plane;
    int rc = run_plane_begin(run, w, h, &plane);
    if (rc == VMO_OK)
        rc = vmo_preparer_run(prep, df->frame, plane, &an->err);
    if (rc == VMO_OK)
        rc = run_plane_end(run, df->index, df->t, df->key ? VMO_FRAME_KEY : 0);
    if (rc == VMO_OK)
        maybe_progress(run, ls->frames, ls->total);
    return rc;
}

/* Frames until the end, the range's end, a cancel or an error. */
static int run_frames(vmo_run *run, vmo_decoder *dec, vmo_feeder *feeder, vmo_preparer *prep,
                      loop_state *ls)
{
    vmo_analyzer *an = run->an;
    vmo_decoded_frame df;
    while (!run->cancelled && !run->failed) {
        if (cancel_requested(an)) {
            run->cancelled = 1;
            break;
        }
        int rc = next_frame(dec, feeder, &df, &an->err);
        if (rc == 0)
            break;
        if (rc < 0) {
            if (ls->frames == 0)
                return rc;
            /* Decoding broke down after some frames: keep them, say so. */
            vmo_clip_set_error(run_clip(run), rc, an->err.msg);
            run_clip(run)->info.flags |= VMO_CLIP_DAMAGED;
            break;
        }
        if (run_past_range(run, df.t))
            break;
        rc = run_one_frame(run, prep, &df, ls);
        if (rc == VMO_ERR_CANCELLED)
            break;
        if (rc != VMO_OK)
            return rc;
    }
    return VMO_OK;
}

/* What the decoder learnt about the clip once it has stopped. */
static int run_clip_facts(vmo_run *run, vmo_decoder *dec, const loop_state *ls)
{
    vmo_clip_data *clip = run_clip(run);
    const vmo_media_info *mi = vmo_decoder_info(dec);
    clip->info.frames = ls->frames;
    clip->info.duration = ls->frames ? ls->last_t - clip->first_t + clip->frame_dur : 0;
    if (clip->info.flags & VMO_CLIP_PARTIAL) {
        /* Only part was decoded: the clip still spans its declared length. */
        clip->info.duration = VMO_MAX(mi->duration, ls->last_t + clip->frame_dur);
        clip->first_t = 0;
    }
    if (vmo_decoder_truncated(dec)) {
        clip->info.flags |= VMO_CLIP_TRUNCATED;
        if (clip->info.status == VMO_OK)
            vmo_clip_set_error(clip, VMO_ERR_TRUNCATED,
                               "the file ends early: frames up to the cut were analysed");
    }
    if (vmo_decoder_errors(dec) > 0)
        clip->info.flags |= VMO_CLIP_DAMAGED;
    if (ls->frames == 0)
        return vmo_err_set(&run->an->err, VMO_ERR_DECODE, "no video frame could be decoded");
    return VMO_OK;
}

/* Decodes and analyses every frame of dec (in the range, if any) into run's clip. */
static int run_decode_loop(vmo_run *run, vmo_decoder *dec, vmo_preparer *prep)
{
    vmo_analyzer *an = run->an;
    const vmo_media_info *mi = vmo_decoder_info(dec);
    loop_state ls = { 0, mi->nb_frames > 0 ? mi->nb_frames : (int64_t)(mi->duration * mi->fps),
                      0, NAN };
    vmo_feeder *feeder = NULL;
    int rc = run_seek_range(run, dec);
    if (rc == VMO_OK && use_feeder(an))
        rc = vmo_feeder_start(&feeder, dec, FEEDER_DEPTH, &an->err);
    if (rc == VMO_OK)
        rc = run_frames(run, dec, feeder, prep, &ls);
    /* The decoder is the feeder's until it stops; its state is read after. */
    vmo_feeder_stop(&feeder);
    return rc == VMO_OK ? run_clip_facts(run, dec, &ls) : rc;
}

int vmo_run_frame(vmo_run *run, vmo_preparer *prep, const vmo_decoded_frame *df, vmo_loop_state *ls)
{
    return run_one_frame(run, prep, df, ls);
}

int vmo_run_frame_due(vmo_run *run, double t)
{
    return run_frame_due(run, t);
}

void vmo_run_progress(vmo_run *run, int64_t done, int64_t total)
{
    maybe_progress(run, done, total);
}

int vmo_run_clip_facts(vmo_run *run, vmo_decoder *dec, const vmo_loop_state *ls)
{
    return run_clip_facts(run, dec, ls);
}

/* The fast scan when asked (it falls back here when the stream's signals are unusable).
 * A motion index or a heatmap needs every frame measured: those scans stay full. */
static int run_scan_loop(vmo_run *run, vmo_decoder *dec, vmo_preparer *prep)
{
    if (run->an->cfg.settings.fast && !run->index && !run->heat) {
        const int rc = vmo_fastscan_run(run, dec, prep);
        if (rc != VMO_FASTSCAN_FALLBACK)
            return rc;
    }
    return run_decode_loop(run, dec, prep);
}

static int scan_decoder(vmo_analyzer *an, vmo_decoder *dec, const char *name, vmo_result **out)
{
    vmo_result *res = NULL;
    vmo_preparer *prep = NULL;
    vmo_run run;
    int rc = zone_names_result(an, &res);
    if (rc != VMO_OK)
        return rc;
    const vmo_media_info *mi = vmo_decoder_info(dec);
    rc = run_begin(&run, an, res, name, mi->codec, an->clip_total);
    if (rc == VMO_OK)
        rc = vmo_preparer_create(&prep) == VMO_OK
                 ? VMO_OK
                 : vmo_err_set(&an->err, VMO_ERR_NO_MEMORY, "out of memory");
    if (rc == VMO_OK) {
        clip_set_media_info(&run, mi, name);
        if (an->write_index && isnan(an->range_from) && isnan(an->range_to))
            rc = vmo_index_writer_open(&run.index, name, &an->cfg.settings, &an->cfg.zones,
                                       &an->err);
    }
    if (rc == VMO_OK)
        rc = run_start_scoring(&run, mi->fps);
    if (rc == VMO_OK)
        rc = run_scan_loop(&run, dec, prep);
    if (rc == VMO_OK)
        rc = run_finish(&run);
    run_close_index(&run, rc == VMO_OK);
    if (rc == VMO_OK)
        run_report_done(&run);
    if (rc == VMO_OK)
        rc = vmo_result_finalize(res) == VMO_OK
                 ? VMO_OK
                 : vmo_err_set(&an->err, VMO_ERR_NO_MEMORY, "out of memory");
    int cancelled = run.cancelled;
    run_free(&run);
    vmo_preparer_destroy(&prep);
    if (rc != VMO_OK) {
        vmo_result_destroy(&res);
        return rc;
    }
    *out = res;
    if (cancelled)
        return vmo_err_set(&an->err, VMO_ERR_CANCELLED, "the scan was cancelled");
    return VMO_OK;
}

static void decoder_opts(const vmo_analyzer *an, vmo_decoder_opts *o)
{
    o->stream_index = (int)an->cfg.settings.stream;
    o->threads = (int)an->cfg.settings.threads;
    o->skip = VMO_SKIP_NONE;
}

int vmo_analyzer_scan_file(vmo_analyzer *an, const char *path, vmo_result **out)
{
    if (out)
        *out = NULL;
    if (!an || !path || !out)
        return VMO_ERR_INVALID_ARG;
    if (an->pushing)
        return vmo_err_set(&an->err, VMO_ERR_STATE, "a pushed stream is open: finish it first");
    vmo_err_clear(&an->err);
    if (!an->cb_lock)
        atomic_store(an->cancel_src, 0);
    vmo_decoder_opts opts;
    decoder_opts(an, &opts);
    vmo_decoder *dec = NULL;
    int rc = vmo_decoder_open_file(&dec, path, &opts, &an->err);
    if (rc != VMO_OK)
        return rc;
    rc = scan_decoder(an, dec, path, out);
    vmo_decoder_close(&dec);
    return rc;
}

int vmo_analyzer_scan_io(vmo_analyzer *an, const vmo_io *io, const char *name,
                         vmo_result **out)
{
    if (out)
        *out = NULL;
    if (!an || !io || !io->read || !out)
        return VMO_ERR_INVALID_ARG;
    if (an->pushing)
        return vmo_err_set(&an->err, VMO_ERR_STATE, "a pushed stream is open: finish it first");
    vmo_err_clear(&an->err);
    atomic_store(an->cancel_src, 0);
    vmo_decoder_opts opts;
    decoder_opts(an, &opts);
    vmo_decoder *dec = NULL;
    int rc = vmo_decoder_open_io(&dec, io, &opts, &an->err);
    if (rc != VMO_OK)
        return rc;
    const int saved = an->write_index; /* an index sits next to a file; there is none */
    an->write_index = 0;
    rc = scan_decoder(an, dec, name ? name : "", out);
    an->write_index = saved;
    vmo_decoder_close(&dec);
    return rc;
}

/* ------------------------------------------------------------------------------------------
 * Push API
 * ---------------------------------------------------------------------------------------- */

static int push_validate(vmo_analyzer *an, const vmo_frame *f)
{
    if (f->struct_size < offsetof(vmo_frame, flags) + sizeof(f->flags))
        return vmo_err_set(&an->err, VMO_ERR_INVALID_ARG, "vmo_frame.struct_size too small");
    if (!f->luma || f->width <= 0 || f->height <= 0 || f->stride < f->width)
        return vmo_err_set(&an->err, VMO_ERR_INVALID_ARG,
                           "frame needs a luma plane, width > 0, height > 0, stride >= width");
    if (f->width > 16384 || f->height > 16384)
        return vmo_err_set(&an->err, VMO_ERR_LIMIT, "frame of %dx%d is too large", f->width,
                           f->height);
    if ((f->time_base_num == 0) != (f->time_base_den == 0) || f->time_base_num < 0 ||
        f->time_base_den < 0)
        return vmo_err_set(&an->err, VMO_ERR_INVALID_ARG, "invalid time base %d/%d",
                           f->time_base_num, f->time_base_den);
    if (an->pushing && an->push_count > 0 && f->pts <= an->push_last_pts)
        return vmo_err_set(&an->err, VMO_ERR_INVALID_ARG,
                           "pts must increase (got %lld after %lld)", (long long)f->pts,
                           (long long)an->push_last_pts);
    return VMO_OK;
}

static int push_open(vmo_analyzer *an, const vmo_frame *f)
{
    vmo_result *res = NULL;
    int rc = zone_names_result(an, &res);
    if (rc != VMO_OK)
        return rc;
    rc = run_begin(&an->push, an, res, "", "", 1);
    if (rc != VMO_OK) {
        vmo_result_destroy(&res);
        return rc;
    }
    an->push_tb = f->time_base_num ? (double)f->time_base_num / f->time_base_den : 1e-6;
    an->push_first_pts = f->pts;
    an->push_count = 0;
    an->pushing = 1;
    atomic_store(an->cancel_src, 0);
    return VMO_OK;
}

/* Prepares and scores one pushed frame (the scorer exists). */
static int push_score(vmo_analyzer *an, const uint8_t *luma, int stride, int fw, int fh,
                      int64_t index, double t, uint32_t flags)
{
    vmo_run *run = &an->push;
    int w, h;
    vmo_analysis_size(fw, fh, (int)an->cfg.settings.width, &w, &h);
    vmo_plane *plane;
    int rc = run_plane_begin(run, w, h, &plane);
    if (rc == VMO_OK)
        rc = vmo_prepare_luma8(luma, stride, fw, fh, plane);
    if (rc == VMO_OK)
        rc = run_plane_end(run, index, t, flags);
    return rc;
}

/* The frame rate sets the long baseline in frames: it is estimated from the first two
 * pushed frames, so the first one waits in push_first. */
static int push_start_scoring(vmo_analyzer *an, double second_t)
{
    double fps = second_t > an->push_first_t ? 1.0 / (second_t - an->push_first_t) : 25.0;
    int rc = run_start_scoring(&an->push, fps);
    if (rc != VMO_OK)
        return rc;
    if (an->push_first_flags & VMO_FRAME_KEY)
        vmo_detector_keyframe(&an->push.det, an->push_first_t);
    const vmo_plane *p = &an->push_first;
    return push_score(an, p->data, p->stride, p->width, p->height, 0, an->push_first_t,
                      an->push_first_flags);
}

int vmo_analyzer_push_frame(vmo_analyzer *an, const vmo_frame *frame)
{
    if (!an || !frame)
        return VMO_ERR_INVALID_ARG;
    vmo_err_clear(&an->err);
    int rc = push_validate(an, frame);
    if (rc != VMO_OK)
        return rc;
    if (!an->pushing && (rc = push_open(an, frame)) != VMO_OK)
        return rc;
    if (cancel_requested(an))
        return vmo_err_set(&an->err, VMO_ERR_CANCELLED, "cancelled");
    vmo_run *run = &an->push;
    double t = (double)(frame->pts - an->push_first_pts) * an->push_tb;
    uint32_t flags = frame->flags & VMO_FRAME_KEY;
    int64_t index = an->push_count;
    an->push_last_pts = frame->pts;
    an->push_count++;
    vmo_clip_data *clip = run_clip(run);
    clip->info.frames = an->push_count;
    clip->info.duration = t + clip->frame_dur;
    if (!clip->info.width) {
        clip->info.width = frame->width;
        clip->info.height = frame->height;
    }
    if (index > 0 && !run->scorer && (rc = push_start_scoring(an, t)) != VMO_OK)
        return rc;
    if (flags & VMO_FRAME_KEY && run->have_det)
        vmo_detector_keyframe(&run->det, t);
    if (!run_frame_due(run, t))
        return VMO_OK;
    if (index == 0) {
        /* Hold the first frame until the second gives the frame rate. */
        vmo_plane_free(&an->push_first);
        if (vmo_plane_alloc(&an->push_first, frame->width, frame->height) != VMO_OK)
            return vmo_err_set(&an->err, VMO_ERR_NO_MEMORY, "out of memory");
        for (int y = 0; y < frame->height; y++)
            memcpy(an->push_first.data + (ptrdiff_t)y * an->push_first.stride,
                   frame->luma + (ptrdiff_t)y * frame->stride, (size_t)frame->width);
        an->push_first_t = t;
        an->push_first_flags = flags;
        return VMO_OK;
    }
    rc = push_score(an, frame->luma, frame->stride, frame->width, frame->height, index, t,
                    flags);
    if (rc == VMO_ERR_CANCELLED)
        return vmo_err_set(&an->err, rc, "cancelled by a callback");
    return rc;
}

int vmo_analyzer_push_finish(vmo_analyzer *an, const char *name, double wall_start,
                             vmo_result **out)
{
    if (out)
        *out = NULL;
    if (!an || !out)
        return VMO_ERR_INVALID_ARG;
    if (!an->pushing)
        return vmo_err_set(&an->err, VMO_ERR_STATE, "no frame was pushed");
    vmo_run *run = &an->push;
    int rc = VMO_OK;
    if (!run->scorer && an->push_count > 0)
        rc = push_start_scoring(an, an->push_first_t);
    vmo_clip_data *clip = run_clip(run);
    if (name) {
        char *copy = vmo_strdup(name);
        if (copy) {
            free(clip->path);
            clip->path = copy;
            clip->info.path = copy;
        }
    }
    if (!isnan(wall_start)) {
        clip->info.wall_start = wall_start;
        clip->info.wall_source = VMO_WALL_CALLER;
        run->wall_start = wall_start;
    }
    if (rc == VMO_OK)
        rc = run_finish(run);
    vmo_result *res = run->res;
    if (rc == VMO_OK && vmo_result_finalize(res) != VMO_OK)
        rc = vmo_err_set(&an->err, VMO_ERR_NO_MEMORY, "out of memory");
    int cancelled = run->cancelled;
    run_free(run);
    vmo_plane_free(&an->push_first);
    an->pushing = 0;
    memset(run, 0, sizeof(*run));
    if (rc != VMO_OK) {
        vmo_result_destroy(&res);
        return rc;
    }
    *out = res;
    return cancelled ? vmo_err_set(&an->err, VMO_ERR_CANCELLED, "cancelled") : VMO_OK;
}

/* ------------------------------------------------------------------------------------------
 * Motion index
 * ---------------------------------------------------------------------------------------- */

int vmo_analyzer_index_file(vmo_analyzer *an, const char *path, vmo_result **out)
{
    if (out)
        *out = NULL;
    if (!an || !path)
        return VMO_ERR_INVALID_ARG;
    vmo_result *res = NULL;
    const int saved = an->write_index;
    an->write_index = 1;
    int rc = vmo_analyzer_scan_file(an, path, &res);
    an->write_index = saved;
    if (rc == VMO_OK) {
        /* The scan succeeds even when its index could not be written: check it is there. */
        vmo_index_header h;
        char ipath[4096];
        snprintf(ipath, sizeof(ipath), "%s%s", path, VMO_INDEX_SUFFIX);
        vmo_errbuf err;
        if (vmo_index_read_header(ipath, &h, &err) != VMO_OK)
            rc = vmo_err_set(&an->err, VMO_ERR_IO, "the index of %s was not written: %s",
                             path, err.msg);
    }
    if (out)
        *out = res;
    else
        vmo_result_destroy(&res);
    return rc;
}

typedef struct replay_ctx {
    vmo_run *run;
} replay_ctx;

static int replay_frame(void *user, const vmo_scored_frame *f)
{
    replay_ctx *ctx = user;
    ctx->run->analysed++;
    return on_scored(ctx->run, f);
}

static void replay_keyframe(void *user, double t)
{
    replay_ctx *ctx = user;
    vmo_detector_keyframe(&ctx->run->det, t);
}

static void replay_zones(void *user, int zone_count, const uint64_t *area)
{
    replay_ctx *ctx = user;
    vmo_detector_set_areas(&ctx->run->det, zone_count, area);
}

static void clip_from_index(vmo_run *run, const vmo_index_header *h)
{
    vmo_clip_data *clip = run_clip(run);
    clip->info.frames = h->frames;
    clip->info.duration = h->duration;
    clip->info.width = h->width;
    clip->info.height = h->height;
    clip->info.rotation = h->rotation;
    clip->info.analysis_width = h->analysis_w;
    clip->info.analysis_height = h->analysis_h;
    clip->info.size_bytes = (int64_t)h->clip.size;
    clip->info.flags |= VMO_CLIP_INDEXED | h->flags;
    clip->info.wall_start = run->an->wall_override;
    clip->info.wall_source = isnan(run->an->wall_override) ? VMO_WALL_NONE
                                                            : run->an->wall_source;
    run->wall_start = run->an->wall_override;
    if (h->flags & VMO_CLIP_TRUNCATED)
        vmo_clip_set_error(clip, VMO_ERR_TRUNCATED,
                           "the file ends early: frames up to the cut were analysed");
}

int vmo_analyzer_replay_index(vmo_analyzer *an, const char *clip_path, const char *index_path,
                              const vmo_index_header *h, vmo_result **out)
{
    *out = NULL;
    vmo_result *res = NULL;
    vmo_run run;
    int rc = zone_names_result(an, &res);
    if (rc != VMO_OK)
        return rc;
    rc = run_begin(&run, an, res, clip_path, h->codec, an->clip_total);
    if (rc == VMO_OK) {
        clip_from_index(&run, h);
        rc = run_start_detector(&run, h->fps);
    }
    if (rc == VMO_OK) {
        replay_ctx ctx = { &run };
        vmo_index_sink sink = { &ctx, replay_frame, replay_keyframe, replay_zones };
        rc = vmo_index_replay(index_path, h, &an->cfg.zones, &sink, &an->err);
        if (rc == VMO_ERR_CANCELLED) {
            run.cancelled = 1;
            rc = VMO_OK;
        }
    }
    if (rc == VMO_OK)
        rc = run_finish(&run);
    if (rc == VMO_OK)
        run_report_done(&run);
    if (rc == VMO_OK && vmo_result_finalize(res) != VMO_OK)
        rc = vmo_err_set(&an->err, VMO_ERR_NO_MEMORY, "out of memory");
    run_free(&run);
    if (rc != VMO_OK) {
        vmo_result_destroy(&res);
        return rc;
    }
    *out = res;
    return VMO_OK;
}
