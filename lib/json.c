/* The JSON contract of results (docs/json.md): what `vidmotion scan --json` prints. Fields
 * are only ever added, never renamed or removed. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "jsonutil.h"
#include "result.h"
#include "timefmt.h"

json_t *vmo_json_seconds(double v)
{
    return isfinite(v) ? json_real(round(v * 1e6) / 1e6) : json_null();
}

json_t *vmo_json_score(double v)
{
    return isfinite(v) ? json_real(round(v * 1e6) / 1e6) : json_null();
}

json_t *vmo_json_wall(double posix)
{
    char buf[40];
    if (!isfinite(posix))
        return json_null();
    return json_string(vmo_time_format_iso(posix, buf, sizeof(buf)));
}

static const char *status_word(const vmo_clip_info *ci)
{
    if (ci->status == VMO_OK)
        return "ok";
    if (ci->status == VMO_ERR_TRUNCATED)
        return "truncated";
    return "error";
}

static const char *wall_source_word(int src)
{
    switch (src) {
    case VMO_WALL_TAG: return "creation_time";
    case VMO_WALL_FILENAME: return "filename";
    case VMO_WALL_CALLER: return "caller";
    default: return NULL;
    }
}

static json_t *clip_flags(uint32_t flags)
{
    static const struct {
        uint32_t bit;
        const char *word;
    } names[] = {
        { VMO_CLIP_TRUNCATED, "truncated" }, { VMO_CLIP_DAMAGED, "damaged" },
        { VMO_CLIP_SKIPPED, "skipped" },     { VMO_CLIP_PARTIAL, "partial" },
        { VMO_CLIP_INDEXED, "indexed" },     { VMO_CLIP_RESIZED, "resized" },
        { VMO_CLIP_CANCELLED, "cancelled" }, { VMO_CLIP_FAST, "fast" },
    };
    json_t *a = json_array();
    for (size_t i = 0; i < VMO_ARRAY_SIZE(names); i++)
        if (flags & names[i].bit)
            json_array_append_new(a, json_string(names[i].word));
    return a;
}

static json_t *clip_json(const vmo_clip_info *ci)
{
    json_t *o = json_object();
    const char *ws = wall_source_word(ci->wall_source);
    json_object_set_new(o, "path", json_string(ci->path ? ci->path : ""));
    json_object_set_new(o, "frames", json_integer(ci->frames));
    json_object_set_new(o, "analysed", json_integer(ci->analysed));
    json_object_set_new(o, "duration", vmo_json_seconds(ci->duration));
    json_object_set_new(o, "width", json_integer(ci->width));
    json_object_set_new(o, "height", json_integer(ci->height));
    json_object_set_new(o, "wall_start", vmo_json_wall(ci->wall_start));
    json_object_set_new(o, "status", json_string(status_word(ci)));
    json_object_set_new(o, "error", ci->error ? json_string(ci->error) : json_null());
    /* additions to the core contract */
    json_object_set_new(o, "error_code", json_integer(ci->status));
    json_object_set_new(o, "wall_source", ws ? json_string(ws) : json_null());
    json_object_set_new(o, "fps", vmo_json_seconds(ci->fps));
    json_object_set_new(o, "codec", json_string(ci->codec ? ci->codec : ""));
    json_object_set_new(o, "rotation", json_integer(ci->rotation));
    json_object_set_new(o, "analysis_width", json_integer(ci->analysis_width));
    json_object_set_new(o, "analysis_height", json_integer(ci->analysis_height));
    json_object_set_new(o, "size", ci->size_bytes >= 0 ? json_integer(ci->size_bytes)
                                                       : json_null());
    json_object_set_new(o, "flags", clip_flags(ci->flags));
    return o;
}

static const char *clip_path(const vmo_result *r, int clip)
{
    return (clip >= 0 && clip < r->nclips && r->clips[clip].path) ? r->clips[clip].path : "";
}

static json_t *sources_json(const vmo_result *r, int e)
{
    json_t *a = json_array();
    const vmo_event *ev = &r->final.events[e];
    for (int k = 0; k < ev->source_count; k++) {
        const vmo_event_source *s = &r->final.sources[r->final.first[e] + k];
        json_t *o = json_object();
        json_object_set_new(o, "clip", json_string(clip_path(r, s->clip)));
        json_object_set_new(o, "start", vmo_json_seconds(s->start));
        json_object_set_new(o, "end", vmo_json_seconds(s->end));
        json_object_set_new(o, "clip_start", vmo_json_seconds(s->clip_start));
        json_object_set_new(o, "clip_end", vmo_json_seconds(s->clip_end));
        json_array_append_new(a, o);
    }
    return a;
}

static json_t *event_json(const vmo_result *r, int e)
{
    const vmo_event *ev = &r->final.events[e];
    json_t *o = json_object();
    const char *zone = ev->zone >= 0 && ev->zone < r->zone_count ? r->zone_names[ev->zone]
                                                                  : "frame";
    json_object_set_new(o, "clip", json_string(clip_path(r, ev->clip)));
    json_object_set_new(o, "zone", json_string(zone));
    json_object_set_new(o, "start", vmo_json_seconds(ev->start));
    json_object_set_new(o, "end", vmo_json_seconds(ev->end));
    json_object_set_new(o, "peak", vmo_json_score(ev->peak));
    json_object_set_new(o, "mean", vmo_json_score(ev->mean));
    /* additions to the core contract */
    json_object_set_new(o, "kind",
                        json_string(ev->kind == VMO_EVENT_LIGHTING ? "lighting" : "motion"));
    json_object_set_new(o, "end_clip", json_string(clip_path(r, ev->end_clip)));
    json_object_set_new(o, "wall_start", vmo_json_wall(ev->wall_start));
    json_object_set_new(o, "wall_end", vmo_json_wall(ev->wall_end));
    json_object_set_new(o, "clip_start", vmo_json_seconds(ev->clip_start));
    json_object_set_new(o, "clip_end", vmo_json_seconds(ev->clip_end));
    json_object_set_new(o, "start_frame", json_integer(ev->start_frame));
    json_object_set_new(o, "end_frame", json_integer(ev->end_frame));
    json_object_set_new(o, "keyframe", vmo_json_seconds(ev->keyframe));
    json_object_set_new(o, "clip_keyframe", vmo_json_seconds(ev->clip_keyframe));
    json_object_set_new(o, "peak_time", vmo_json_seconds(ev->peak_time));
    json_object_set_new(o, "peak_clip", json_string(clip_path(r, ev->peak_clip)));
    json_object_set_new(o, "clipped", json_boolean(ev->flags & VMO_EVENT_CLIPPED));
    json_object_set_new(o, "whole_start", vmo_json_seconds(ev->whole_start));
    json_object_set_new(o, "whole_end", vmo_json_seconds(ev->whole_end));
    json_object_set_new(o, "whole_wall_start", vmo_json_wall(ev->whole_wall_start));
    json_object_set_new(o, "whole_wall_end", vmo_json_wall(ev->whole_wall_end));
    json_object_set_new(o, "sources", sources_json(r, e));
    return o;
}

static void frames_json(const vmo_result *r, json_t *frames)
{
    for (int c = 0; c < r->nclips; c++) {
        const vmo_clip_data *cd = &r->clips[c];
        for (uint32_t i = 0; i < cd->nframes; i++)
            for (int z = 0; z < r->zone_count; z++) {
                json_t *o = json_object();
                json_object_set_new(o, "clip", json_string(clip_path(r, c)));
                json_object_set_new(o, "t", vmo_json_seconds(cd->t[i]));
                json_object_set_new(o, "zone", json_string(r->zone_names[z]));
                json_object_set_new(o, "changed", vmo_json_score(cd->changed[(size_t)z * cd->cap + i]));
                json_object_set_new(o, "mad", vmo_json_score(cd->mad[(size_t)z * cd->cap + i]));
                json_object_set_new(o, "flags", json_integer(cd->fflags[i]));
                json_array_append_new(frames, o);
            }
    }
}

int vmo_result_to_json(const vmo_result *res, uint32_t flags, char **out)
{
    if (out)
        *out = NULL;
    if (!res || !out)
        return VMO_ERR_INVALID_ARG;
    json_t *root = json_object();
    json_t *clips = json_array(), *segments = json_array(), *lighting = json_array();
    json_t *zones = json_array();
    if (!root || !clips || !segments || !lighting || !zones)
        goto nomem;
    json_object_set_new(root, "vidmotion", json_string(vmo_version_string()));
    for (int c = 0; c < res->nclips; c++)
        json_array_append_new(clips, clip_json(&res->clips[c].info));
    for (int e = 0; e < res->final.count; e++)
        json_array_append_new(res->final.events[e].kind == VMO_EVENT_LIGHTING ? lighting
                                                                              : segments,
                              event_json(res, e));
    for (int z = 0; z < res->zone_count; z++)
        json_array_append_new(zones, json_string(res->zone_names[z]));
    json_object_set_new(root, "clips", clips);
    json_object_set_new(root, "segments", segments);
    json_object_set_new(root, "lighting", lighting);
    json_object_set_new(root, "zones", zones);
    if (flags & VMO_JSON_FRAMES) {
        json_t *frames = json_array();
        if (!frames)
            goto nomem_root;
        frames_json(res, frames);
        json_object_set_new(root, "frames", frames);
    }
    size_t jflags = JSON_REAL_PRECISION(12) | JSON_PRESERVE_ORDER |
                    ((flags & VMO_JSON_PRETTY) ? JSON_INDENT(2) : JSON_COMPACT);
    /* Dump into our own buffer: the host may have given jansson another allocator, and
     * the caller frees with vmo_free(). */
    size_t need = json_dumpb(root, NULL, 0, jflags);
    char *text = need ? malloc(need + 1) : NULL;
    if (text && json_dumpb(root, text, need, jflags) == need)
        text[need] = '\0';
    else {
        free(text);
        text = NULL;
    }
    json_decref(root);
    if (!text)
        return VMO_ERR_NO_MEMORY;
    *out = text;
    return VMO_OK;
nomem:
    json_decref(clips);
    json_decref(segments);
    json_decref(lighting);
    json_decref(zones);
nomem_root:
    json_decref(root);
    return VMO_ERR_NO_MEMORY;
}
