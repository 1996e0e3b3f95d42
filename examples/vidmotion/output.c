/* Printing results: the JSON contract (from the library), JSON lines, and tables for
 * people. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"

int cli_print_json(FILE *out, const vmo_result *res, int frames)
{
    char *text = NULL;
    int rc = vmo_result_to_json(res, frames ? VMO_JSON_FRAMES : 0, &text);
    if (rc != VMO_OK) {
        cli_error("cannot format the result: %s", vmo_strerror(rc));
        return -1;
    }
    int ok = fputs(text, out) >= 0 && fputc('\n', out) != EOF;
    vmo_free(text);
    return ok ? 0 : -1;
}

const char *cli_clock(double s, char *buf, size_t n)
{
    if (!isfinite(s)) {
        snprintf(buf, n, "-");
        return buf;
    }
    long long ms = llround(s * 1000.0);
    snprintf(buf, n, "%02lld:%02lld:%02lld.%03lld", ms / 3600000, ms / 60000 % 60, ms / 1000 % 60,
             ms % 1000);
    return buf;
}

const char *cli_wall(double posix, char *buf, size_t size)
{
    if (isnan(posix) || vmo_format_time(posix, buf, size) != VMO_OK || !buf[0])
        snprintf(buf, size, "-");
    return buf;
}

const char *cli_base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

unsigned cli_zone_color(int i)
{
    /* Okabe-Ito: tells apart with every common colour-vision deficiency. */
    static const unsigned palette[] = { 0x56b4e9, 0xe69f00, 0x009e73, 0xf0e442,
                                        0xcc79a7, 0xd55e00, 0x0072b2, 0xffffff };
    return palette[(unsigned)i % (sizeof(palette) / sizeof(palette[0]))];
}

/* ------------------------------------------------------------------------------------------
 * The table
 * ---------------------------------------------------------------------------------------- */

static void print_clips(FILE *out, const vmo_result *res)
{
    fprintf(out, "%-32s %8s %9s %11s  %s\n", "clip", "frames", "duration", "size", "status");
    for (int i = 0; i < vmo_result_clip_count(res); i++) {
        vmo_clip_info ci = { .struct_size = sizeof(ci) };
        vmo_result_clip(res, i, &ci);
        char dur[32], size[32];
        snprintf(size, sizeof(size), "%dx%d", ci.width, ci.height);
        const char *status = ci.status == VMO_OK ? "ok" : vmo_strerror(ci.status);
        if (ci.flags & VMO_CLIP_SKIPPED)
            status = "outside the window (not decoded)";
        else if (ci.flags & VMO_CLIP_INDEXED)
            status = "ok (from its index)";
        int detail = ci.error && ci.status != VMO_ERR_TRUNCATED && ci.status != VMO_OK;
        fprintf(out, "%-32s %8lld %9s %11s  %s%s%s\n", cli_base_name(ci.path), (long long)ci.frames,
                cli_clock(ci.duration, dur, sizeof(dur)) + 3, ci.width ? size : "-", status,
                detail ? ": " : "", detail ? ci.error : "");
    }
}

static void print_zone_summary(FILE *out, const vmo_result *res)
{
    fprintf(out, "\n%-20s %7s %12s %7s\n", "zone", "events", "motion time", "peak");
    for (int z = 0; z < vmo_result_zone_count(res); z++) {
        int n = 0;
        double total = 0, peak = 0;
        for (int e = 0; e < vmo_result_event_count(res); e++) {
            vmo_event ev = { .struct_size = sizeof(ev) };
            vmo_result_event(res, e, &ev);
            if (ev.kind != VMO_EVENT_MOTION || ev.zone != z)
                continue;
            n++;
            total += isfinite(ev.wall_end) ? ev.wall_end - ev.wall_start : ev.end - ev.start;
            peak = ev.peak > peak ? ev.peak : peak;
        }
        char t[32];
        fprintf(out, "%-20s %7d %12s %6.2f%%\n", vmo_result_zone_name(res, z), n,
                cli_clock(total, t, sizeof(t)) + 3, peak * 100.0);
    }
}

/* "2025-11-02 23:59:52.440 .. 00:00:03.280" (the end's date only when it differs). */
static const char *wall_span(const vmo_event *ev, char *buf, size_t size)
{
    char a[40], b[40];
    if (isnan(ev->wall_start) || vmo_format_time(ev->wall_start, a, sizeof(a)) != VMO_OK ||
        vmo_format_time(ev->wall_end, b, sizeof(b)) != VMO_OK) {
        snprintf(buf, size, "-");
        return buf;
    }
    a[10] = b[10] = ' ';
    a[23] = b[23] = '\0'; /* drop the 'Z': the heading says UTC */
    snprintf(buf, size, "%.23s .. %.23s", a, strncmp(a, b, 10) ? b : b + 11);
    return buf;
}

static double event_length(const vmo_event *ev)
{
    return isfinite(ev->wall_end) ? ev->wall_end - ev->wall_start : ev->end - ev->start;
}

static void print_event_row(FILE *out, const vmo_result *res, const vmo_event *ev, int zw)
{
    vmo_clip_info ci = { .struct_size = sizeof(ci) };
    vmo_result_clip(res, ev->clip, &ci);
    char a[32], b[32], w[96];
    const char *zone = ev->kind == VMO_EVENT_LIGHTING ? "lighting"
                       : ev->zone >= 0                ? vmo_result_zone_name(res, ev->zone)
                                                      : "frame";
    fprintf(out, "%-*s %-28s %-12s %-12s %7.1fs  %-44s %6.2f%%%s\n", zw, zone,
            cli_base_name(ci.path), cli_clock(ev->start, a, sizeof(a)),
            cli_clock(ev->end, b, sizeof(b)), event_length(ev), wall_span(ev, w, sizeof(w)),
            ev->peak * 100.0, ev->source_count > 1 ? "  (crosses files)" : "");
}

static int zone_width(const vmo_result *res)
{
    int w = 8;
    for (int z = 0; z < vmo_result_zone_count(res); z++) {
        int n = (int)strlen(vmo_result_zone_name(res, z));
        w = n > w ? n : w;
    }
    return w;
}

/* Motion segments, then lighting changes (kind 1) in a section of their own. */
static int print_segments(FILE *out, const vmo_result *res, int kind)
{
    int printed = 0, zw = zone_width(res);
    for (int e = 0; e < vmo_result_event_count(res); e++) {
        vmo_event ev = { .struct_size = sizeof(ev) };
        vmo_result_event(res, e, &ev);
        if (ev.kind != kind)
            continue;
        if (!printed++)
            fprintf(out, "\n%-*s %-28s %-12s %-12s %8s  %-44s %7s\n", zw,
                    kind == VMO_EVENT_MOTION ? "zone" : "lighting", "clip", "start", "end",
                    "length", "wall clock (UTC)", "peak");
        print_event_row(out, res, &ev, zw);
    }
    return printed;
}

void cli_print_table(FILE *out, const vmo_result *res)
{
    print_clips(out, res);
    print_zone_summary(out, res);
    if (!print_segments(out, res, VMO_EVENT_MOTION))
        fputs("\nno motion found\n", out);
    print_segments(out, res, VMO_EVENT_LIGHTING);
}

int cli_result_exit(const vmo_result *res)
{
    for (int i = 0; i < vmo_result_clip_count(res); i++) {
        vmo_clip_info ci = { .struct_size = sizeof(ci) };
        vmo_result_clip(res, i, &ci);
        if (ci.status != VMO_OK && ci.status != VMO_ERR_TRUNCATED && ci.status != VMO_ERR_CANCELLED)
            return CLI_INPUT_ERROR;
    }
    for (int e = 0; e < vmo_result_event_count(res); e++) {
        vmo_event ev = { .struct_size = sizeof(ev) };
        vmo_result_event(res, e, &ev);
        if (ev.kind == VMO_EVENT_MOTION)
            return CLI_OK;
    }
    return CLI_NO_MATCH;
}

int cli_exit_code(const vmo_result *res, int interrupted)
{
    return interrupted ? CLI_INTERRUPTED : cli_result_exit(res);
}

/* ------------------------------------------------------------------------------------------
 * JSON lines
 * ---------------------------------------------------------------------------------------- */

#define JSONL_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(15))

static json_t *wall_json(double posix)
{
    char buf[48];
    if (isnan(posix) || vmo_format_time(posix, buf, sizeof(buf)) != VMO_OK)
        return json_null();
    return json_string(buf);
}

/* Microseconds, as the JSON contract rounds its times. */
static json_t *seconds_json(double s)
{
    return isfinite(s) ? json_real(round(s * 1e6) / 1e6) : json_null();
}

static int put_line(FILE *out, json_t *obj)
{
    int ok = obj && json_dumpf(obj, out, JSONL_FLAGS) == 0 && fputc('\n', out) != EOF &&
             fflush(out) == 0;
    json_decref(obj);
    return ok ? 0 : -1;
}

int cli_jsonl_event(void *user, int what, const vmo_event *ev)
{
    cli_jsonl *j = user;
    const char *clip = ev->clip >= 0 && ev->clip < j->c->nfiles ? j->c->files[ev->clip] : "";
    const char *zone =
        ev->kind == VMO_EVENT_LIGHTING ? "frame" : vmo_config_zone_name(j->c->cfg, ev->zone);
    int ended = what == VMO_EVENT_ENDED;
    json_t *o = json_object();
    json_object_set_new(o, "type", json_string(ended ? "ended" : "started"));
    json_object_set_new(o, "clip", json_string(clip));
    json_object_set_new(o, "zone", json_string(zone ? zone : "frame"));
    json_object_set_new(o, "kind",
                        json_string(ev->kind == VMO_EVENT_LIGHTING ? "lighting" : "motion"));
    json_object_set_new(o, "t", seconds_json(ended ? ev->end : ev->start));
    json_object_set_new(o, "wall", wall_json(ended ? ev->wall_end : ev->wall_start));
    if (ended) {
        /* Not "start"/"end": those name the final segments (type "segment"), and readers
         * that collect every object with a "start" must not count an event twice. */
        json_object_set_new(o, "since", seconds_json(ev->start));
        json_object_set_new(o, "since_wall", wall_json(ev->wall_start));
        json_object_set_new(o, "peak", json_real(round(ev->peak * 1e6) / 1e6));
        json_object_set_new(o, "mean", json_real(round(ev->mean * 1e6) / 1e6));
    }
    if (put_line(j->out, o) != 0)
        j->failed = 1;
    return 0;
}

/* Each element of `array` as a line of its own, with "type" first. */
static int put_elements(FILE *out, json_t *array, const char *type)
{
    size_t i;
    json_t *v;
    json_array_foreach(array, i, v)
    {
        json_t *o = json_pack("{s:s}", "type", type);
        json_object_update(o, v);
        if (put_line(out, o) != 0)
            return -1;
    }
    return 0;
}

int cli_print_jsonl(FILE *out, const vmo_result *res, int exit_code)
{
    char *text = NULL;
    if (vmo_result_to_json(res, 0, &text) != VMO_OK) {
        cli_error("cannot format the result");
        return -1;
    }
    json_t *doc = json_loads(text, 0, NULL);
    vmo_free(text);
    json_t *clips = json_object_get(doc, "clips");
    json_t *segs = json_object_get(doc, "segments");
    json_t *light = json_object_get(doc, "lighting");
    int rc = doc ? 0 : -1;
    if (rc == 0)
        rc = put_elements(out, clips, "clip");
    if (rc == 0)
        rc = put_elements(out, segs, "segment");
    if (rc == 0)
        rc = put_elements(out, light, "segment");
    if (rc == 0)
        rc = put_line(out,
                      json_pack("{s:s,s:i,s:i,s:i,s:b,s:i}", "type", "summary", "clips",
                                (int)json_array_size(clips), "segments", (int)json_array_size(segs),
                                "lighting", (int)json_array_size(light), "interrupted",
                                exit_code == CLI_INTERRUPTED, "exit", exit_code));
    json_decref(doc);
    return rc;
}

/* ------------------------------------------------------------------------------------------
 * Output files: whole or not at all
 * ---------------------------------------------------------------------------------------- */

int cli_outfile_open(cli_outfile *o, const char *path, int overwrite)
{
    memset(o, 0, sizeof(*o));
    if (!overwrite && access(path, F_OK) == 0) {
        cli_error("%s exists (--overwrite replaces it)", path);
        return CLI_OUTPUT_ERROR;
    }
    size_t n = strlen(path) + 32;
    o->path = strdup(path);
    o->tmp = malloc(n);
    if (o->path && o->tmp) {
        snprintf(o->tmp, n, "%s.%ld.tmp", path, (long)getpid());
        o->f = fopen(o->tmp, "wb");
    }
    if (!o->f) {
        cli_error("%s: %s", path, strerror(errno));
        free(o->path);
        free(o->tmp);
        memset(o, 0, sizeof(*o));
        return CLI_OUTPUT_ERROR;
    }
    return CLI_OK;
}

int cli_outfile_close(cli_outfile *o, int commit)
{
    int ok = o->f && !ferror(o->f);
    if (o->f && fclose(o->f) != 0)
        ok = 0;
    int err = errno;
    if (commit && ok && rename(o->tmp, o->path) != 0) {
        err = errno;
        ok = 0;
    }
    if (!(commit && ok))
        remove(o->tmp);
    if (commit && !ok)
        cli_error("%s: %s", o->path, strerror(err ? err : EIO));
    free(o->path);
    free(o->tmp);
    memset(o, 0, sizeof(*o));
    return commit && ok ? CLI_OK : CLI_OUTPUT_ERROR;
}
