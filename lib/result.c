/* Result handle: construction by the analyzer, accessors of the public API. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "result.h"

int vmo_result_new(vmo_result **out, const vmo_settings *s, const vmo_zone_set *zones,
                   int zone_count, const char *const *zone_names)
{
    *out = NULL;
    vmo_result *r = calloc(1, sizeof(*r));
    if (!r)
        return VMO_ERR_NO_MEMORY;
    r->settings = *s;
    if (zones && vmo_zone_set_copy(&r->zones, zones) != VMO_OK) {
        free(r);
        return VMO_ERR_NO_MEMORY;
    }
    r->window = (vmo_window){ NAN, NAN, 0 };
    r->zone_count = zone_count;
    r->zone_names = calloc((size_t)zone_count + 1, sizeof(char *));
    if (!r->zone_names) {
        vmo_zone_set_clear(&r->zones);
        free(r);
        return VMO_ERR_NO_MEMORY;
    }
    for (int z = 0; z < zone_count; z++) {
        r->zone_names[z] = vmo_strdup(zone_names[z]);
        if (!r->zone_names[z]) {
            vmo_result_destroy(&r);
            return VMO_ERR_NO_MEMORY;
        }
    }
    *out = r;
    return VMO_OK;
}

static void clip_free(vmo_clip_data *c)
{
    free(c->path);
    free(c->error);
    free(c->codec);
    free(c->events);
    free(c->t);
    free(c->findex);
    free(c->fflags);
    free(c->changed);
    free(c->mad);
    free(c->heat);
}

void vmo_result_destroy(vmo_result **pr)
{
    if (!pr || !*pr)
        return;
    vmo_result *r = *pr;
    for (int i = 0; i < r->nclips; i++)
        clip_free(&r->clips[i]);
    free(r->clips);
    for (int z = 0; r->zone_names && z < r->zone_count; z++)
        free(r->zone_names[z]);
    free(r->zone_names);
    vmo_zone_set_clear(&r->zones);
    vmo_final_events_free(&r->final);
    free(r);
    *pr = NULL;
}

/* Clip strings live in the clip; info's pointers are refreshed whenever they change. */
static void clip_sync_strings(vmo_clip_data *c)
{
    c->info.path = c->path;
    c->info.codec = c->codec ? c->codec : "";
    c->info.error = c->error;
}

vmo_clip_data *vmo_result_add_clip(vmo_result *r, const char *path, const char *codec)
{
    if (r->nclips == r->cap_clips) {
        int cap = r->cap_clips ? r->cap_clips * 2 : 4;
        vmo_clip_data *grown = realloc(r->clips, sizeof(*grown) * (size_t)cap);
        if (!grown)
            return NULL;
        r->clips = grown;
        r->cap_clips = cap;
        for (int i = 0; i < r->nclips; i++)
            clip_sync_strings(&r->clips[i]);
    }
    vmo_clip_data *c = &r->clips[r->nclips];
    memset(c, 0, sizeof(*c));
    c->path = vmo_strdup(path ? path : "");
    c->codec = vmo_strdup(codec ? codec : "");
    if (!c->path || !c->codec) {
        free(c->path);
        free(c->codec);
        return NULL;
    }
    c->info.struct_size = sizeof(c->info);
    c->info.wall_start = NAN;
    c->info.size_bytes = -1;
    c->frame_dur = 0.04;
    c->zone_count = r->zone_count;
    clip_sync_strings(c);
    r->nclips++;
    return c;
}

int vmo_result_take_clip(vmo_result *dst, vmo_result *src, int index)
{
    if (dst->nclips == dst->cap_clips) {
        int cap = dst->cap_clips ? dst->cap_clips * 2 : 16;
        vmo_clip_data *grown = realloc(dst->clips, sizeof(*grown) * (size_t)cap);
        if (!grown)
            return VMO_ERR_NO_MEMORY;
        dst->clips = grown;
        dst->cap_clips = cap;
    }
    /* info's string pointers point at the clip's heap strings: moving the struct keeps
     * them valid. */
    dst->clips[dst->nclips++] = src->clips[index];
    memset(&src->clips[index], 0, sizeof(vmo_clip_data));
    return VMO_OK;
}

int vmo_result_append_clips(vmo_result *dst, vmo_result *src)
{
    for (int i = 0; i < src->nclips; i++)
        if (vmo_result_take_clip(dst, src, i) != VMO_OK)
            return VMO_ERR_NO_MEMORY;
    return VMO_OK;
}

int vmo_clip_set_error(vmo_clip_data *c, int status, const char *message)
{
    char *copy = vmo_strdup(message && *message ? message : vmo_strerror(status));
    if (!copy)
        return VMO_ERR_NO_MEMORY;
    free(c->error);
    c->error = copy;
    c->info.status = status;
    clip_sync_strings(c);
    return VMO_OK;
}

static int series_grow(vmo_clip_data *c)
{
    uint32_t cap = c->cap ? c->cap * 2 : 256;
    size_t nz = (size_t)c->zone_count;
    double *t = realloc(c->t, sizeof(double) * cap);
    if (t)
        c->t = t;
    int64_t *ix = realloc(c->findex, sizeof(int64_t) * cap);
    if (ix)
        c->findex = ix;
    uint8_t *fl = realloc(c->fflags, cap);
    if (fl)
        c->fflags = fl;
    float *ch = malloc(sizeof(float) * cap * nz);
    float *md = malloc(sizeof(float) * cap * nz);
    if (!t || !ix || !fl || !ch || !md) {
        free(ch);
        free(md);
        return VMO_ERR_NO_MEMORY;
    }
    /* Zone-major layout, so each zone's series is one contiguous array. */
    for (size_t z = 0; z < nz && c->cap; z++) {
        memcpy(ch + z * cap, c->changed + z * c->cap, sizeof(float) * c->nframes);
        memcpy(md + z * cap, c->mad + z * c->cap, sizeof(float) * c->nframes);
    }
    free(c->changed);
    free(c->mad);
    c->changed = ch;
    c->mad = md;
    c->cap = cap;
    return VMO_OK;
}

int vmo_clip_add_frame(vmo_clip_data *c, int64_t index, double t, uint8_t flags,
                       int zone_count, const float *changed, const float *mad)
{
    if (c->nframes == c->cap && series_grow(c) != VMO_OK)
        return VMO_ERR_NO_MEMORY;
    uint32_t i = c->nframes++;
    c->t[i] = t;
    c->findex[i] = index;
    c->fflags[i] = flags;
    for (int z = 0; z < c->zone_count; z++) {
        c->changed[(size_t)z * c->cap + i] = z < zone_count ? changed[z] : 0.0f;
        c->mad[(size_t)z * c->cap + i] = z < zone_count ? mad[z] : 0.0f;
    }
    return VMO_OK;
}

int vmo_result_finalize(vmo_result *r)
{
    vmo_finalize_clip *fc = calloc((size_t)(r->nclips ? r->nclips : 1), sizeof(*fc));
    if (!fc)
        return VMO_ERR_NO_MEMORY;
    for (int i = 0; i < r->nclips; i++) {
        const vmo_clip_data *c = &r->clips[i];
        fc[i] = (vmo_finalize_clip){ c->info.wall_start, c->info.duration, c->frame_dur,
                                     c->events, c->nevents };
    }
    vmo_final_events_free(&r->final);
    int rc = vmo_events_finalize(&r->settings, fc, r->nclips, &r->window, &r->final);
    free(fc);
    return rc;
}

/* ---- public accessors ---- */

int vmo_result_clip_count(const vmo_result *res)
{
    return res ? res->nclips : 0;
}

int vmo_result_clip(const vmo_result *res, int index, vmo_clip_info *info)
{
    if (!res || !info || index < 0 || index >= res->nclips)
        return VMO_ERR_INVALID_ARG;
    return vmo_copy_sized(info, &res->clips[index].info, sizeof(vmo_clip_info));
}

int vmo_result_zone_count(const vmo_result *res)
{
    return res ? res->zone_count : 0;
}

const char *vmo_result_zone_name(const vmo_result *res, int zone)
{
    if (!res || zone < 0 || zone >= res->zone_count)
        return NULL;
    return res->zone_names[zone];
}

int vmo_result_event_count(const vmo_result *res)
{
    return res ? res->final.count : 0;
}

int vmo_result_event(const vmo_result *res, int index, vmo_event *event)
{
    if (!res || !event || index < 0 || index >= res->final.count)
        return VMO_ERR_INVALID_ARG;
    return vmo_copy_sized(event, &res->final.events[index], sizeof(vmo_event));
}

int vmo_result_event_source(const vmo_result *res, int event, int source,
                            vmo_event_source *out)
{
    if (!res || !out || event < 0 || event >= res->final.count)
        return VMO_ERR_INVALID_ARG;
    const vmo_event *ev = &res->final.events[event];
    if (source < 0 || source >= ev->source_count)
        return VMO_ERR_INVALID_ARG;
    return vmo_copy_sized(out, &res->final.sources[res->final.first[event] + source],
                          sizeof(vmo_event_source));
}

int vmo_result_heatmap(const vmo_result *res, int clip, const uint32_t **counts, int *width,
                       int *height)
{
    if (!res || !counts || clip < 0 || clip >= res->nclips)
        return VMO_ERR_INVALID_ARG;
    if (!res->clips[clip].heat)
        return VMO_ERR_STATE;
    *counts = res->clips[clip].heat;
    if (width)
        *width = VMO_GRID_W;
    if (height)
        *height = VMO_GRID_H;
    return VMO_OK;
}

int vmo_result_series(const vmo_result *res, int clip, int zone, vmo_series *out)
{
    if (!res || !out || clip < 0 || clip >= res->nclips || zone < 0 ||
        zone >= res->zone_count)
        return VMO_ERR_INVALID_ARG;
    const vmo_clip_data *c = &res->clips[clip];
    vmo_series s = { sizeof(s), c->nframes, c->t,
                     c->changed ? c->changed + (size_t)zone * c->cap : NULL,
                     c->mad ? c->mad + (size_t)zone * c->cap : NULL, c->fflags, c->findex };
    return vmo_copy_sized(out, &s, sizeof(s));
}
