/* Events: per-zone online detection within a clip, and the final join across clips. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "events.h"

/* Noise floor: levels sit this many mean deviations above the zone's idle mean. */
#define FLOOR_K_START 6.0
#define FLOOR_K_END 3.0
/* Idle scores feed the floor clipped to mean + this many deviations, so a rare burst
 * cannot drag the floor up with it. */
#define FLOOR_CLIP_K 8.0
#define FLOOR_TAU_S 10.0

void vmo_detector_init(vmo_detector *d, const vmo_settings *s, int zone_count,
                       const uint64_t *area, double frame_dur, vmo_live_event_fn live,
                       void *live_user)
{
    memset(d, 0, sizeof(*d));
    d->s = *s;
    d->frame_dur = frame_dur > 0 ? frame_dur : 0.04;
    d->live = live;
    d->live_user = live_user;
    d->first_index = -1;
    d->edge_start = d->edge_end = 1;
    vmo_detector_set_areas(d, zone_count, area);
}

void vmo_detector_set_areas(vmo_detector *d, int zone_count, const uint64_t *area)
{
    d->zone_count = zone_count;
    memcpy(d->area, area, sizeof(uint64_t) * (size_t)zone_count);
}

void vmo_detector_free(vmo_detector *d)
{
    free(d->events);
    d->events = NULL;
    d->nevents = d->cap = 0;
}

vmo_clip_event *vmo_detector_take_events(vmo_detector *d, int *count)
{
    vmo_clip_event *ev = d->events;
    *count = d->nevents;
    d->events = NULL;
    d->nevents = d->cap = 0;
    return ev;
}

void vmo_detector_keyframe(vmo_detector *d, double t)
{
    d->keys[(d->key_head + d->key_n) % VMO_KEYFRAMES] = t;
    if (d->key_n < VMO_KEYFRAMES)
        d->key_n++;
    else
        d->key_head = (d->key_head + 1) % VMO_KEYFRAMES;
}

/* Latest remembered keyframe at or before t, NaN if none. */
static double keyframe_before(const vmo_detector *d, double t)
{
    for (int i = d->key_n - 1; i >= 0; i--) {
        double k = d->keys[(d->key_head + i) % VMO_KEYFRAMES];
        if (k <= t + 1e-9)
            return k;
    }
    return NAN;
}

static int store_event(vmo_detector *d, const vmo_clip_event *ev)
{
    if (d->nevents == d->cap) {
        int cap = d->cap ? d->cap * 2 : 16;
        vmo_clip_event *grown = realloc(d->events, sizeof(*grown) * (size_t)cap);
        if (!grown) {
            d->failed = 1;
            return VMO_ERR_NO_MEMORY;
        }
        d->events = grown;
        d->cap = cap;
    }
    d->events[d->nevents++] = *ev;
    return VMO_OK;
}

static double event_length(const vmo_detector *d, const vmo_clip_event *ev)
{
    return ev->end - ev->start + d->frame_dur;
}

/* After an event the codec keeps refining the still picture around where it ended: that
 * faint tail must not start a new event. Until the zone is quiet again, a new event needs
 * end_ratio x the last peak, a requirement that halves every AFTER_HALF_LIFE_S. */
#define AFTER_HALF_LIFE_S 10.0

/* Levels of one zone at time t: the configured ones, raised by the noise floor, by the
 * open event's peak, or by the last event's peak. */
static void zone_levels(const vmo_detector *d, const vmo_zone_track *tr, double t,
                        double *start, double *end)
{
    *start = d->s.start_level;
    *end = VMO_MIN(d->s.end_level, d->s.start_level);
    if (d->s.noise_floor) {
        *start = VMO_MAX(*start, tr->level + FLOOR_K_START * tr->dev);
        *end = VMO_MAX(*end, tr->level + FLOOR_K_END * tr->dev);
    }
    if (tr->open)
        *end = VMO_MAX(*end, d->s.end_ratio * tr->ev.peak);
    else if (tr->after_level > 0)
        *start = VMO_MAX(*start,
                         tr->after_level * exp2(-(t - tr->after_t) / AFTER_HALF_LIFE_S));
}

static void update_floor(const vmo_detector *d, vmo_zone_track *tr, double score)
{
    double clipped = VMO_MIN(score, tr->level + FLOOR_CLIP_K * tr->dev + 1e-6);
    double n_tau = FLOOR_TAU_S / d->frame_dur;
    tr->idle_n++;
    double alpha = 1.0 / VMO_MIN((double)tr->idle_n, n_tau);
    tr->level += alpha * (clipped - tr->level);
    tr->dev += alpha * (fabs(clipped - tr->level) - tr->dev);
}

static void history_push(vmo_zone_track *tr, const vmo_track_frame *f)
{
    tr->hist[(tr->hist_head + tr->hist_n) % VMO_HISTORY] = *f;
    if (tr->hist_n < VMO_HISTORY)
        tr->hist_n++;
    else
        tr->hist_head = (tr->hist_head + 1) % VMO_HISTORY;
}

static int live_call(vmo_detector *d, int what, const vmo_clip_event *ev)
{
    return d->live ? d->live(d->live_user, what, ev) : 0;
}

static void event_add_frame(vmo_clip_event *ev, const vmo_track_frame *f)
{
    if (f->score > ev->peak) {
        ev->peak = f->score;
        ev->peak_t = f->t;
    }
}

/* Opens an event at frame f, moved back over the idle frames just before it where
 * neighbouring frames already differed above the end level. */
static void open_event(vmo_detector *d, vmo_zone_track *tr, int kind, int zone,
                       const vmo_track_frame *f, double end_level, uint32_t min_px)
{
    vmo_clip_event *ev = &tr->ev;
    memset(ev, 0, sizeof(*ev));
    ev->kind = kind;
    ev->zone = zone;
    ev->start_frame = ev->end_frame = f->index;
    ev->start = ev->end = f->t;
    ev->peak = f->score;
    ev->peak_t = f->t;
    double sum = f->score;
    int64_t n = 1;
    while (tr->hist_n > 0) {
        const vmo_track_frame *h = &tr->hist[(tr->hist_head + tr->hist_n - 1) % VMO_HISTORY];
        if (h->near_score < end_level || h->near < min_px || h->index != ev->start_frame - 1)
            break;
        ev->start_frame = h->index;
        ev->start = h->t;
        event_add_frame(ev, h);
        sum += h->score;
        n++;
        tr->hist_n--;
    }
    tr->hist_n = 0;
    ev->sum = sum;
    ev->nframes = n;
    tr->sum_all = sum;
    tr->n_all = n;
    tr->open = 1;
    tr->confirmed = 0;
    /* The first frame cannot score (it has no past): "at the start" means close enough to
     * the start that the previous clip's motion may continue into it. */
    if (d->edge_start && ev->start - d->first_t <= d->s.merge_gap)
        ev->flags |= VMO_EVENT_AT_CLIP_START;
    ev->keyframe = keyframe_before(d, ev->start);
    ev->keyframe_pre = keyframe_before(d, VMO_MAX(d->first_t, ev->start - d->s.pre_roll));
}

/* Closes the open event of a track; drops it if it is too short and does not touch the
 * clip's edges. at_end: the clip ended while it was open. */
static int close_event(vmo_detector *d, vmo_zone_track *tr, int at_end)
{
    vmo_clip_event *ev = &tr->ev;
    tr->open = 0;
    tr->after_level = d->s.end_ratio * ev->peak;
    tr->after_t = ev->end;
    if (at_end && d->edge_end && d->last_t - ev->end <= d->s.merge_gap)
        ev->flags |= VMO_EVENT_AT_CLIP_END;
    int keep = event_length(d, ev) >= d->s.min_length ||
               (ev->flags & (VMO_EVENT_AT_CLIP_START | VMO_EVENT_AT_CLIP_END));
    int cancel = 0;
    if (keep)
        store_event(d, ev);
    if (tr->confirmed)
        cancel = live_call(d, VMO_EVENT_ENDED, ev);
    tr->confirmed = 0;
    return cancel;
}

/* One frame of one track. active/cont: the frame passes the start/end level. */
static int track_frame(vmo_detector *d, vmo_zone_track *tr, int kind, int zone,
                       const vmo_track_frame *f, double start_level, double end_level,
                       uint32_t min_px)
{
    int cancel = 0;
    const int starts = f->score >= start_level && f->pixels >= min_px;
    const int continues = f->score >= end_level && f->pixels >= (min_px + 1) / 2;
    if (tr->open) {
        vmo_clip_event *ev = &tr->ev;
        tr->sum_all += f->score;
        tr->n_all++;
        if (continues) {
            ev->end = f->t;
            ev->end_frame = f->index;
            event_add_frame(ev, f);
            ev->sum = tr->sum_all;
            ev->nframes = tr->n_all;
        } else if (f->t - ev->end > d->s.merge_gap) {
            cancel = close_event(d, tr, 0);
        }
        if (tr->open && d->s.max_length > 0 && event_length(d, ev) >= d->s.max_length) {
            ev->flags |= VMO_EVENT_SPLIT;
            cancel |= close_event(d, tr, 0);
        }
        if (tr->open && !tr->confirmed && event_length(d, ev) >= d->s.min_length) {
            tr->confirmed = 1;
            cancel |= live_call(d, VMO_EVENT_STARTED, ev);
        }
        return cancel;
    }
    if (starts) {
        open_event(d, tr, kind, zone, f, end_level, (min_px + 1) / 2);
        if (event_length(d, &tr->ev) >= d->s.min_length) {
            tr->confirmed = 1;
            cancel = live_call(d, VMO_EVENT_STARTED, &tr->ev);
        }
        return cancel;
    }
    if (!continues)
        tr->after_level = 0; /* quiet again */
    if (kind == VMO_EVENT_MOTION && d->s.noise_floor)
        update_floor(d, tr, f->score);
    history_push(tr, f);
    return 0;
}

int vmo_detector_push(vmo_detector *d, const vmo_scored_frame *f)
{
    if (d->first_index < 0) {
        d->first_index = f->index;
        d->first_t = f->t;
    }
    d->last_index = f->index;
    d->last_t = f->t;
    d->frames++;
    int cancel = 0;
    for (int z = 0; z < d->zone_count && z < f->zone_count; z++) {
        vmo_zone_track *tr = &d->track[z];
        double start_level, end_level;
        zone_levels(d, tr, f->t, &start_level, &end_level);
        uint32_t near = f->near ? f->near[z] : f->pixels[z];
        float near_score = d->area[z] ? (float)(near / (double)d->area[z]) : 0.0f;
        vmo_track_frame tf = { f->index, f->t, f->changed[z], f->pixels[z], near_score, near };
        cancel |= track_frame(d, tr, VMO_EVENT_MOTION, z, &tf, start_level, end_level,
                              (uint32_t)d->s.min_pixels);
    }
    if (d->s.lighting) {
        /* Lighting changes are reported as their own events (never as motion). */
        float light = (f->flags & VMO_FRAME_LIGHTING) ? VMO_MAX(f->light, 1e-3f) : 0.0f;
        uint32_t on = light > 0 ? 1u : 0u;
        vmo_track_frame tf = { f->index, f->t, light, on, light, on };
        cancel |= track_frame(d, &d->track[VMO_MAX_ZONES], VMO_EVENT_LIGHTING, -1, &tf, 1e-4,
                              1e-4, 1);
    }
    return cancel;
}

int vmo_detector_finish(vmo_detector *d)
{
    int cancel = 0;
    for (int z = 0; z <= VMO_MAX_ZONES; z++)
        if (d->track[z].open)
            cancel |= close_event(d, &d->track[z], 1);
    return cancel;
}

/* ------------------------------------------------------------------------------------------
 * Across clips
 * ---------------------------------------------------------------------------------------- */

typedef struct piece {
    int clip;
    const vmo_clip_event *ev;
    double wall_start, wall_end; /* NaN without wall clock */
} piece;

typedef struct final_builder {
    const vmo_settings *s;
    const vmo_finalize_clip *clips;
    vmo_final_events *out;
    int cap_events, cap_first, cap_sources;
} final_builder;

static int cmp_piece(const void *pa, const void *pb)
{
    const piece *a = pa, *b = pb;
    if (a->ev->kind != b->ev->kind)
        return a->ev->kind - b->ev->kind;
    if (a->ev->zone != b->ev->zone)
        return a->ev->zone - b->ev->zone;
    int aw = !isnan(a->wall_start), bw = !isnan(b->wall_start);
    if (aw && bw && a->wall_start != b->wall_start)
        return a->wall_start < b->wall_start ? -1 : 1;
    if (a->clip != b->clip)
        return a->clip - b->clip;
    return (a->ev->start > b->ev->start) - (a->ev->start < b->ev->start);
}

static int grow(void **p, int *cap, int need, size_t size)
{
    if (need <= *cap)
        return VMO_OK;
    int cap2 = *cap ? *cap : 16;
    while (cap2 < need)
        cap2 *= 2;
    void *q = realloc(*p, (size_t)cap2 * size);
    if (!q)
        return VMO_ERR_NO_MEMORY;
    *p = q;
    *cap = cap2;
    return VMO_OK;
}

/* Span of a piece on the window's time axis (wall clock or clip seconds). */
static void piece_span(const piece *p, const vmo_window *w, double *a, double *b)
{
    *a = w->wall ? p->wall_start : p->ev->start;
    *b = w->wall ? p->wall_end : p->ev->end;
}

static int window_set(const vmo_window *w)
{
    return w && (!isnan(w->from) || !isnan(w->to));
}

/* Window bound -> seconds in the piece's clip. */
static double window_to_clip(const vmo_finalize_clip *c, const vmo_window *w, double bound)
{
    return w->wall ? bound - c->wall_start : bound;
}

/* Pieces [a, b) of the sorted list form one event; the window (may be NULL) cuts it. */
static int emit_final(final_builder *fb, const piece *pc, int a, int b, const vmo_window *w)
{
    vmo_final_events *out = fb->out;
    const vmo_settings *s = fb->s;
    /* The pieces inside the window, [ia, ib). */
    int ia = a, ib = b;
    if (window_set(w)) {
        double lo, hi;
        while (ia < ib && (piece_span(&pc[ia], w, &lo, &hi), !isnan(w->from) && hi < w->from))
            ia++;
        while (ib > ia && (piece_span(&pc[ib - 1], w, &lo, &hi), !isnan(w->to) && lo > w->to))
            ib--;
        if (ia == ib)
            return VMO_OK; /* entirely outside the window */
    }
    if (grow((void **)&out->events, &fb->cap_events, out->count + 1, sizeof(vmo_event)) ||
        grow((void **)&out->first, &fb->cap_first, out->count + 1, sizeof(int)) ||
        grow((void **)&out->sources, &fb->cap_sources, out->nsources + (ib - ia),
             sizeof(vmo_event_source)))
        return VMO_ERR_NO_MEMORY;
    const piece *p0 = &pc[ia], *p1 = &pc[ib - 1];
    const vmo_finalize_clip *c0 = &fb->clips[p0->clip], *c1 = &fb->clips[p1->clip];
    vmo_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.struct_size = sizeof(ev);
    ev.kind = p0->ev->kind;
    ev.zone = p0->ev->zone;
    ev.clip = p0->clip;
    ev.end_clip = p1->clip;
    ev.start = p0->ev->start;
    ev.end = p1->ev->end;
    ev.start_frame = p0->ev->start_frame;
    ev.end_frame = p1->ev->end_frame;
    ev.wall_start = p0->wall_start;
    ev.wall_end = p1->wall_end;
    ev.whole_start = pc[a].ev->start;
    ev.whole_end = pc[b - 1].ev->end;
    ev.whole_wall_start = pc[a].wall_start;
    ev.whole_wall_end = pc[b - 1].wall_end;
    ev.whole_clip = pc[a].clip;
    ev.whole_end_clip = pc[b - 1].clip;
    if (window_set(w)) {
        double lo, hi;
        piece_span(p0, w, &lo, &hi);
        if (!isnan(w->from) && lo < w->from) {
            ev.start = window_to_clip(c0, w, w->from);
            ev.wall_start = c0->wall_start + ev.start;
            ev.start_frame = p0->ev->start_frame +
                             (int64_t)floor((ev.start - p0->ev->start) / c0->frame_dur + 0.5);
            ev.flags |= VMO_EVENT_CLIPPED;
        }
        piece_span(p1, w, &lo, &hi);
        if (!isnan(w->to) && hi > w->to) {
            ev.end = window_to_clip(c1, w, w->to);
            ev.wall_end = c1->wall_start + ev.end;
            ev.end_frame = p1->ev->end_frame -
                           (int64_t)floor((p1->ev->end - ev.end) / c1->frame_dur + 0.5);
            ev.flags |= VMO_EVENT_CLIPPED;
        }
        if (ia > a || ib < b)
            ev.flags |= VMO_EVENT_CLIPPED;
    }
    ev.clip_start = VMO_MAX(0.0, ev.start - s->pre_roll);
    ev.clip_end = VMO_MIN(c1->duration, ev.end + s->post_roll);
    ev.keyframe = (ev.flags & VMO_EVENT_CLIPPED) ? NAN : p0->ev->keyframe;
    ev.clip_keyframe = (ev.flags & VMO_EVENT_CLIPPED) ? NAN : p0->ev->keyframe_pre;
    ev.source_count = ib - ia;
    double sum = 0;
    int64_t n = 0;
    ev.peak = -1;
    for (int i = ia; i < ib; i++) {
        const vmo_clip_event *ce = pc[i].ev;
        sum += ce->sum;
        n += ce->nframes;
        if (ce->peak > ev.peak) {
            ev.peak = ce->peak;
            ev.peak_time = ce->peak_t;
            ev.peak_clip = pc[i].clip;
        }
        ev.flags |= ce->flags & VMO_EVENT_SPLIT;
        const vmo_finalize_clip *c = &fb->clips[pc[i].clip];
        vmo_event_source src = { sizeof(src), pc[i].clip,
                                 i == ia ? ev.start : ce->start,
                                 i == ib - 1 ? ev.end : ce->end,
                                 i == ia ? ev.clip_start : 0.0,
                                 i == ib - 1 ? ev.clip_end : c->duration };
        out->sources[out->nsources + (i - ia)] = src;
    }
    ev.mean = n > 0 ? sum / (double)n : 0;
    if (p0->ev->flags & VMO_EVENT_AT_CLIP_START)
        ev.flags |= VMO_EVENT_AT_CLIP_START;
    if (p1->ev->flags & VMO_EVENT_AT_CLIP_END)
        ev.flags |= VMO_EVENT_AT_CLIP_END;
    if (ib - ia > 1)
        ev.flags |= VMO_EVENT_CROSSES_FILES;
    out->first[out->count] = out->nsources;
    out->events[out->count++] = ev;
    out->nsources += ib - ia;
    return VMO_OK;
}

/* Whether piece q continues piece p across a clip boundary. A clip-relative window applies
 * to each clip on its own: nothing joins across clips then. */
static int joins(const vmo_settings *s, const vmo_window *w, const piece *p, const piece *q)
{
    if (p->clip == q->clip || isnan(p->wall_end) || isnan(q->wall_start))
        return 0;
    if (window_set(w) && !w->wall)
        return 0;
    if (!(p->ev->flags & VMO_EVENT_AT_CLIP_END) || !(q->ev->flags & VMO_EVENT_AT_CLIP_START))
        return 0;
    if (p->ev->flags & VMO_EVENT_SPLIT)
        return 0;
    return q->wall_start - p->wall_end <= s->merge_gap + 1e-6;
}

static double pieces_length(const final_builder *fb, const piece *pc, int a, int b)
{
    const piece *p0 = &pc[a], *p1 = &pc[b - 1];
    double dur = fb->clips[p1->clip].frame_dur;
    if (a + 1 == b || isnan(p0->wall_start))
        return p0->ev->end - p0->ev->start + dur;
    return p1->wall_end - p0->wall_start + dur;
}

/* Final order: by wall-clock start when known (else by clip, then start), then zone, with
 * lighting after motion at the same time. */
static _Thread_local const vmo_event *sort_base;

static int cmp_event_index(const void *pa, const void *pb)
{
    const vmo_event *a = &sort_base[*(const int *)pa], *b = &sort_base[*(const int *)pb];
    int aw = !isnan(a->wall_start), bw = !isnan(b->wall_start);
    if (aw && bw && a->wall_start != b->wall_start)
        return a->wall_start < b->wall_start ? -1 : 1;
    if (!(aw && bw) && a->clip != b->clip)
        return a->clip - b->clip;
    if (!(aw && bw) && a->start != b->start)
        return a->start < b->start ? -1 : 1;
    if (a->kind != b->kind)
        return a->kind - b->kind;
    return a->zone - b->zone;
}

static int sort_events(vmo_final_events *fe)
{
    int *order = malloc(sizeof(int) * (size_t)fe->count);
    vmo_event *ev = malloc(sizeof(vmo_event) * (size_t)fe->count);
    int *first = malloc(sizeof(int) * (size_t)fe->count);
    if (!order || !ev || !first) {
        free(order), free(ev), free(first);
        return VMO_ERR_NO_MEMORY;
    }
    for (int i = 0; i < fe->count; i++)
        order[i] = i;
    /* qsort has no context argument in C11; the base pointer is only read during the sort
     * and the sort runs under no lock, so keep it per thread. */
    sort_base = fe->events;
    qsort(order, (size_t)fe->count, sizeof(int), cmp_event_index);
    for (int i = 0; i < fe->count; i++) {
        ev[i] = fe->events[order[i]];
        first[i] = fe->first[order[i]];
    }
    free(order);
    free(fe->events);
    free(fe->first);
    fe->events = ev;
    fe->first = first;
    return VMO_OK;
}

int vmo_events_finalize(const vmo_settings *s, const vmo_finalize_clip *clips, int nclips,
                        const vmo_window *window, vmo_final_events *out)
{
    memset(out, 0, sizeof(*out));
    int total = 0;
    for (int c = 0; c < nclips; c++)
        total += clips[c].nevents;
    if (total == 0)
        return VMO_OK;
    piece *pc = malloc(sizeof(piece) * (size_t)total);
    if (!pc)
        return VMO_ERR_NO_MEMORY;
    int n = 0;
    for (int c = 0; c < nclips; c++)
        for (int i = 0; i < clips[c].nevents; i++) {
            const vmo_clip_event *ev = &clips[c].events[i];
            double w = clips[c].wall_start;
            pc[n++] = (piece){ c, ev, w + ev->start, w + ev->end };
        }
    qsort(pc, (size_t)n, sizeof(piece), cmp_piece);
    final_builder fb = { s, clips, out, 0, 0, 0 };
    int rc = VMO_OK;
    for (int a = 0; a < n && rc == VMO_OK;) {
        int b = a + 1;
        while (b < n && pc[b].ev->kind == pc[a].ev->kind && pc[b].ev->zone == pc[a].ev->zone &&
               joins(s, window, &pc[b - 1], &pc[b]) &&
               (s->max_length <= 0 || pieces_length(&fb, pc, a, b + 1) <= s->max_length))
            b++;
        if (pieces_length(&fb, pc, a, b) >= s->min_length)
            rc = emit_final(&fb, pc, a, b, window);
        a = b;
    }
    free(pc);
    if (rc == VMO_OK)
        rc = sort_events(out);
    if (rc != VMO_OK)
        vmo_final_events_free(out);
    return rc;
}

void vmo_final_events_free(vmo_final_events *fe)
{
    free(fe->events);
    free(fe->sources);
    free(fe->first);
    memset(fe, 0, sizeof(*fe));
}
