/* Printing results: the JSON contract (from the library) and tables for people. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

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

/* 83.5 -> "00:01:23.500" */
static const char *clock_text(double s, char *buf, size_t n)
{
    if (!isfinite(s)) {
        snprintf(buf, n, "-");
        return buf;
    }
    long long ms = llround(s * 1000.0);
    snprintf(buf, n, "%02lld:%02lld:%02lld.%03lld", ms / 3600000, ms / 60000 % 60,
             ms / 1000 % 60, ms % 1000);
    return buf;
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

static void print_clips(FILE *out, const vmo_result *res)
{
    fprintf(out, "%-32s %8s %9s %11s  %s\n", "clip", "frames", "duration", "size",
            "status");
    for (int i = 0; i < vmo_result_clip_count(res); i++) {
        vmo_clip_info ci = { .struct_size = sizeof(ci) };
        vmo_result_clip(res, i, &ci);
        char dur[32], size[32];
        snprintf(size, sizeof(size), "%dx%d", ci.width, ci.height);
        fprintf(out, "%-32s %8lld %9s %11s  %s%s%s\n", base_name(ci.path), (long long)ci.frames,
                clock_text(ci.duration, dur, sizeof(dur)) + 3, size,
                ci.status == VMO_OK ? "ok" : vmo_strerror(ci.status), ci.error ? ": " : "",
                ci.error && ci.status != VMO_ERR_TRUNCATED ? ci.error : "");
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
                clock_text(total, t, sizeof(t)) + 3, peak * 100.0);
    }
}

static void print_segments(FILE *out, const vmo_result *res)
{
    int printed = 0;
    for (int e = 0; e < vmo_result_event_count(res); e++) {
        vmo_event ev = { .struct_size = sizeof(ev) };
        vmo_result_event(res, e, &ev);
        if (!printed++)
            fprintf(out, "\n%-9s %-20s %-28s %-12s %-12s %-24s %7s\n", "kind", "zone", "clip",
                    "start", "end", "wall-clock start", "peak");
        vmo_clip_info ci = { .struct_size = sizeof(ci) };
        vmo_result_clip(res, ev.clip, &ci);
        char a[32], b[32], w[40];
        if (vmo_format_time(ev.wall_start, w, sizeof(w)) != VMO_OK || !w[0])
            snprintf(w, sizeof(w), "-");
        fprintf(out, "%-9s %-20s %-28s %-12s %-12s %-24s %6.2f%%%s\n",
                ev.kind == VMO_EVENT_LIGHTING ? "lighting" : "motion",
                ev.zone >= 0 ? vmo_result_zone_name(res, ev.zone) : "(frame)",
                base_name(ci.path), clock_text(ev.start, a, sizeof(a)),
                clock_text(ev.end, b, sizeof(b)), w, ev.peak * 100.0,
                ev.source_count > 1 ? "  (crosses files)" : "");
    }
    if (!printed)
        fputs("\nno motion found\n", out);
}

void cli_print_table(FILE *out, const vmo_result *res)
{
    print_clips(out, res);
    print_zone_summary(out, res);
    print_segments(out, res);
}

int cli_result_exit(const vmo_result *res)
{
    for (int i = 0; i < vmo_result_clip_count(res); i++) {
        vmo_clip_info ci = { .struct_size = sizeof(ci) };
        vmo_result_clip(res, i, &ci);
        if (ci.status != VMO_OK && ci.status != VMO_ERR_TRUNCATED &&
            ci.status != VMO_ERR_CANCELLED)
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
