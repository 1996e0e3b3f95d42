/* bench_fast: a fast scan (compressed-domain signals, keyframe-only decoding, skipped
 * non-reference frames, full decoding only around candidates) against a full scan and a
 * full decode of the same mostly idle clip: time, event recall and boundary error.
 *
 *   bench_fast [--reps N] [--threads T] [--option NAME=VALUE]... [--json FILE] CLIP
 *   bench_fast --probe [--print-option] [--option NAME=VALUE]...
 *                      exit 0 when the fast mode exists (and print its NAME=VALUE)
 *
 * The fast mode is a library option that does not exist yet. Without --option, the bench
 * looks for an option whose name contains "fast" in the library's option table and sets it
 * to 1. When there is none, or the library refuses the value, the bench says so and exits
 * 0 with "skipped" in its JSON: no figure is made up.
 *
 * Every round times, in rotating order: decode-only (the library's decoder, all frames),
 * the full scan at default settings, and the fast scan; all with decoder threads T
 * (default 1). Recall: the fraction of the full scan's motion events (per zone) that some
 * fast-scan event of the same zone overlaps. Boundary error: |start difference| and |end
 * difference| of those matched pairs, seconds (mean and max). Fast events that overlap no
 * full-scan event are counted as extra. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_common.h"
#include "decode.h"
#include "vidmotion/vidmotion.h"

#define MAX_OPTIONS 8
#define MAX_EVENTS  512

typedef struct options {
    const char *names[MAX_OPTIONS];
    const char *values[MAX_OPTIONS];
    char storage[MAX_OPTIONS][128];
    int n;
    int reps, threads, probe, print_option;
    const char *json, *clip;
} options;

typedef struct events {
    int n;
    int zone[MAX_EVENTS];
    double start[MAX_EVENTS], end[MAX_EVENTS];
} events;

/* NAME=VALUE into the option list. */
static int add_option(options *o, const char *arg)
{
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg || o->n == MAX_OPTIONS || strlen(arg) >= sizeof(o->storage[0]))
        return -1;
    char *s = o->storage[o->n];
    snprintf(s, sizeof(o->storage[0]), "%s", arg);
    s[eq - arg] = '\0';
    o->names[o->n] = s;
    o->values[o->n] = s + (eq - arg) + 1;
    o->n++;
    return 0;
}

/* Without --option: the first library option with "fast" in its name, set to 1. */
static int find_fast_option(options *o)
{
    const int n = vmo_config_option_count();
    for (int i = 0; i < n; i++) {
        vmo_option_info info = { .struct_size = sizeof(info) };
        if (vmo_config_option_info(i, &info) == VMO_OK && strstr(info.name, "fast")) {
            char arg[128];
            snprintf(arg, sizeof(arg), "%s=1", info.name);
            return add_option(o, arg);
        }
    }
    return -1;
}

/* A config with the fast options applied; NULL (and why) when the library refuses them. */
static vmo_config *fast_config(const options *o, int threads, char *why, size_t size)
{
    vmo_config *cfg = NULL;
    if (vmo_config_create(&cfg) != VMO_OK) {
        snprintf(why, size, "out of memory");
        return NULL;
    }
    vmo_config_set_int(cfg, "threads", threads);
    for (int i = 0; i < o->n; i++) {
        const int rc = vmo_config_set_string(cfg, o->names[i], o->values[i]);
        if (rc != VMO_OK) {
            snprintf(why, size, "option %s=%s: %s", o->names[i], o->values[i], vmo_strerror(rc));
            vmo_config_destroy(&cfg);
            return NULL;
        }
    }
    return cfg;
}

/* ------------------------------------------------------------------------------------------
 * Runs
 * ---------------------------------------------------------------------------------------- */

static int64_t run_decode(const char *path, int threads)
{
    vmo_decoder_opts opts = { .stream_index = -1, .threads = threads, .skip = VMO_SKIP_NONE };
    vmo_errbuf err = { { 0 } };
    vmo_decoder *dec = NULL;
    if (vmo_decoder_open_file(&dec, path, &opts, &err) != VMO_OK)
        return -1;
    vmo_decoded_frame df;
    int64_t frames = 0;
    while (vmo_decoder_next(dec, &df, &err) == 1)
        frames++;
    vmo_decoder_close(&dec);
    return frames;
}

static void take_events(const vmo_result *res, events *ev)
{
    ev->n = 0;
    const int n = vmo_result_event_count(res);
    for (int i = 0; i < n && ev->n < MAX_EVENTS; i++) {
        vmo_event e = { .struct_size = sizeof(e) };
        if (vmo_result_event(res, i, &e) != VMO_OK || e.kind != VMO_EVENT_MOTION)
            continue;
        ev->zone[ev->n] = e.zone;
        ev->start[ev->n] = e.start;
        ev->end[ev->n] = e.end;
        ev->n++;
    }
}

/* Scans with cfg; the events land in *ev. */
static int run_scan(const vmo_config *cfg, const char *path, events *ev)
{
    vmo_analyzer *an = NULL;
    if (vmo_analyzer_create(cfg, &an) != VMO_OK)
        return -1;
    vmo_result *res = NULL;
    const int rc = vmo_analyzer_scan_file(an, path, &res);
    if (rc == VMO_OK)
        take_events(res, ev);
    else
        fprintf(stderr, "bench_fast: %s: %s\n", path, vmo_analyzer_last_error(an));
    vmo_result_destroy(&res);
    vmo_analyzer_destroy(&an);
    return rc == VMO_OK ? 0 : -1;
}

/* ------------------------------------------------------------------------------------------
 * Recall and boundaries
 * ---------------------------------------------------------------------------------------- */

typedef struct agreement {
    int truth, found, extra;
    double start_mean, start_max, end_mean, end_max;
} agreement;

static int overlaps(const events *a, int i, const events *b, int j)
{
    return a->zone[i] == b->zone[j] && a->start[i] <= b->end[j] && b->start[j] <= a->end[i];
}

static agreement compare(const events *full, const events *fast)
{
    agreement g = { .truth = full->n };
    for (int i = 0; i < full->n; i++) {
        /* The overlapping fast event with the closest start stands for this one. */
        int best = -1;
        for (int j = 0; j < fast->n; j++)
            if (overlaps(full, i, fast, j) &&
                (best < 0 ||
                 fabs(fast->start[j] - full->start[i]) < fabs(fast->start[best] - full->start[i])))
                best = j;
        if (best < 0)
            continue;
        const double ds = fabs(fast->start[best] - full->start[i]);
        const double de = fabs(fast->end[best] - full->end[i]);
        g.found++;
        g.start_mean += ds;
        g.end_mean += de;
        g.start_max = fmax(g.start_max, ds);
        g.end_max = fmax(g.end_max, de);
    }
    if (g.found) {
        g.start_mean /= g.found;
        g.end_mean /= g.found;
    }
    for (int j = 0; j < fast->n; j++) {
        int any = 0;
        for (int i = 0; i < full->n && !any; i++)
            any = overlaps(full, i, fast, j);
        g.extra += !any;
    }
    return g;
}

/* ------------------------------------------------------------------------------------------
 * Main
 * ---------------------------------------------------------------------------------------- */

static int parse(options *o, int argc, char **argv)
{
    memset(o, 0, sizeof(*o));
    o->reps = 3;
    o->threads = 1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--probe"))
            o->probe = 1;
        else if (!strcmp(argv[i], "--print-option"))
            o->print_option = 1;
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc)
            o->reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
            o->threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--json") && i + 1 < argc)
            o->json = argv[++i];
        else if (!strcmp(argv[i], "--option") && i + 1 < argc) {
            if (add_option(o, argv[++i]) != 0)
                return -1;
        } else if (argv[i][0] != '-' && !o->clip)
            o->clip = argv[i];
        else
            return -1;
    }
    return (o->probe || o->clip) && o->reps >= 1 && o->reps <= BENCH_MAX_REPS ? 0 : -1;
}

static int report_skip(const options *o, const char *why)
{
    printf("fast modes: skipped: %s\n", why);
    if (!o->json)
        return 0;
    json_t *doc =
        json_pack("{s:s, s:b, s:s}", "benchmark", "bench_fast", "skipped", 1, "reason", why);
    return bench_write_json(o->json, doc) == 0 ? 0 : 1;
}

static json_t *agreement_json(const agreement *g)
{
    return json_pack("{s:i, s:i, s:i, s:o, s:o, s:o, s:o, s:o}", "full_events", g->truth, "found",
                     g->found, "extra", g->extra, "recall",
                     bench_real(g->truth ? (double)g->found / g->truth : 1.0, 4),
                     "start_error_mean_s", bench_real(g->start_mean, 3), "start_error_max_s",
                     bench_real(g->start_max, 3), "end_error_mean_s", bench_real(g->end_mean, 3),
                     "end_error_max_s", bench_real(g->end_max, 3));
}

static void print_events(const char *name, const events *ev)
{
    printf("  %s events (zone: start-end s):", name);
    for (int i = 0; i < ev->n; i++)
        printf(" %d: %.2f-%.2f", ev->zone[i], ev->start[i], ev->end[i]);
    printf("\n");
}

static json_t *events_json(const events *ev)
{
    json_t *a = json_array();
    for (int i = 0; i < ev->n; i++)
        json_array_append_new(a, json_pack("{s:i, s:o, s:o}", "zone", ev->zone[i], "start",
                                           bench_real(ev->start[i], 3), "end",
                                           bench_real(ev->end[i], 3)));
    return a;
}

static json_t *series_json(const char *name, const bench_series *s, int64_t frames)
{
    const bench_stats w = bench_series_wall(s), c = bench_series_cpu(s);
    printf("  %-8s %8.3f s [%6.3f-%6.3f]  cpu %8.3f s  %8.1f frames/s of the clip\n", name,
           w.median, w.min, w.max, c.median, frames / w.median);
    return json_pack("{s:o, s:o}", "wall_s", bench_stats_json(&w, 4), "cpu_s",
                     bench_stats_json(&c, 4));
}

/* mode 0 decode, 1 full scan, 2 fast scan. */
static int run_mode(int mode, const options *o, const vmo_config *full, const vmo_config *fast,
                    events *ev_full, events *ev_fast, int64_t *frames)
{
    if (mode == 0) {
        *frames = run_decode(o->clip, o->threads);
        return *frames > 0 ? 0 : -1;
    }
    return run_scan(mode == 1 ? full : fast, o->clip, mode == 1 ? ev_full : ev_fast);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0); /* keep the table in order with stderr */
    options o;
    if (parse(&o, argc, argv) != 0) {
        fprintf(stderr,
                "usage: %s [--reps N] [--threads T] [--option NAME=VALUE]... "
                "[--json FILE] CLIP\n       %s --probe [--option NAME=VALUE]...\n",
                argv[0], argv[0]);
        return 2;
    }
    char why[256];
    if (o.n == 0 && find_fast_option(&o) != 0)
        return o.probe ? 1
                       : report_skip(&o, "the library has no fast-scan option yet (no option "
                                         "name contains \"fast\"; give one with --option)");
    vmo_config *fast = fast_config(&o, o.threads, why, sizeof(why));
    if (o.probe && fast && o.print_option)
        printf("%s=%s\n", o.names[0], o.values[0]);
    if (o.probe || !fast) {
        const int exists = fast != NULL;
        vmo_config_destroy(&fast);
        return o.probe ? !exists : report_skip(&o, why);
    }
    vmo_config *full = NULL;
    vmo_config_create(&full);
    vmo_config_set_int(full, "threads", o.threads);
    static bench_series s[3];
    static events ev_full, ev_fast;
    int64_t frames = 0;
    for (int r = 0; r < o.reps; r++)
        for (int k = 0; k < 3; k++) {
            const int mode = (r + k) % 3;
            const double w0 = bench_wall(), c0 = bench_cpu();
            if (run_mode(mode, &o, full, fast, &ev_full, &ev_fast, &frames) != 0)
                return 1;
            bench_series_add(&s[mode], bench_wall() - w0, bench_cpu() - c0);
        }
    printf("fast modes on %s (%lld frames, decoder threads %d):\n", o.clip, (long long)frames,
           o.threads);
    /* One at a time: the order of a call's arguments is unspecified, the table's is not. */
    json_t *jd = series_json("decode", &s[0], frames), *js = series_json("scan", &s[1], frames);
    json_t *jf = series_json("fast", &s[2], frames);
    json_t *runs = json_pack("{s:o, s:o, s:o}", "decode", jd, "scan", js, "fast", jf);
    print_events("full scan", &ev_full);
    print_events("fast scan", &ev_fast);
    const double dec = bench_series_wall(&s[0]).median, scan = bench_series_wall(&s[1]).median,
                 fst = bench_series_wall(&s[2]).median;
    const agreement g = compare(&ev_full, &ev_fast);
    const double recall = g.truth ? (double)g.found / g.truth : 1.0;
    printf("  fast is %.2fx faster than decoding, %.2fx faster than the full scan; recall %.3f "
           "(%d/%d), boundary error mean %.3f/%.3f s max %.3f/%.3f s (start/end), %d extra\n",
           dec / fst, scan / fst, recall, g.found, g.truth, g.start_mean, g.end_mean, g.start_max,
           g.end_max, g.extra);
    const int met = dec / fst >= 5 && recall >= 1.0 && g.start_max <= 0.5 && g.end_max <= 0.5;
    json_t *opts = json_object();
    for (int i = 0; i < o.n; i++)
        json_object_set_new(opts, o.names[i], json_string(o.values[i]));
    json_t *doc =
        json_pack("{s:s, s:b, s:o, s:s, s:i, s:I, s:o, s:o, s:o, s:o, s:o, s:b}", "benchmark",
                  "bench_fast", "skipped", 0, "machine", bench_machine_json(), "clip", o.clip,
                  "threads", o.threads, "frames", (json_int_t)frames, "fast_options", opts, "runs",
                  runs, "speedup_over_decode", bench_real(dec / fst, 3), "speedup_over_scan",
                  bench_real(scan / fst, 3), "agreement", agreement_json(&g), "target_met", met);
    json_object_set_new(doc, "events_full", events_json(&ev_full));
    json_object_set_new(doc, "events_fast", events_json(&ev_fast));
    vmo_config_destroy(&fast);
    vmo_config_destroy(&full);
    if (o.json && bench_write_json(o.json, doc) != 0)
        return 1;
    if (!o.json)
        json_decref(doc);
    return 0;
}
