/* bench_archive: a request over many clips with 1 and 2 OpenMP workers ("jobs"), and the
 * time to answer a request over 24 hours of indexed footage.
 *
 *   bench_archive [--reps N] [--json FILE] [--index-clip CLIP] [--index-hours H]
 *                 [--index-timeout S] DIR
 *
 * Archive: every *.mp4 of DIR in one request (wall-clock starts from the file names). The
 * settings, interleaved in rotating order every round:
 *   jobs=1 threads=1 pipeline=0  one worker on one thread: the baseline of OpenMP scaling
 *                      (skipped when the library has no "pipeline" option)
 *   jobs=2             two workers; the request gives each one decoder thread
 *   jobs=1 threads=1   one worker, one decoder thread, the default "pipeline" (decoding on
 *                      a thread of its own)
 *   jobs=1             one worker with the default decoder threads (one per core)
 * Throughput is decoded frames per second of wall time; the scaling is the median over
 * rounds of time(first setting) / time(jobs=2).
 *
 * Index query (--index-clip): indexes CLIP once (vmo_analyzer_index_file), then makes a
 * folder of copies of it and of its index, named as consecutive clips covering H hours (24
 * by default): synthesized footage whose indexes are all valid. Give it a small clip
 * (make_clips.sh makes index60.mp4: 60 s at 320x180, analysed at the default width like
 * 1080p footage, so its index is that of real footage while the copies stay small). A
 * request over the copies, answered from the indexes, is timed for the whole day and for
 * one hour of it. A watchdog cancels a request that runs longer than S seconds (default
 * 120): a request that decodes instead of reading indexes would otherwise run for hours.
 * The index functions are still being written: when the library lacks them (the weak
 * references below resolve to NULL) or refuses, the query is skipped with the reason, and
 * no figure is made up. */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bench_common.h"
#include "vidmotion/vidmotion.h"

/* Declared by the header, defined only once the index work lands. The bench links the whole
 * static library (CMake), so a defined function is always found. */
#pragma weak vmo_analyzer_index_file
#pragma weak vmo_index_check
#pragma weak vmo_request_set_double
#pragma weak vmo_request_set_window_wall

#define MAX_CLIPS  4096
#define MAX_COPIES 100000

typedef struct clip_list {
    char **paths;
    int n;
} clip_list;

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int ends_with(const char *s, const char *suffix)
{
    const size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

static void list_free(clip_list *l)
{
    for (int i = 0; i < l->n; i++)
        free(l->paths[i]);
    free(l->paths);
    l->paths = NULL;
    l->n = 0;
}

/* The *.mp4 files of dir, sorted by name (= by time for camera names). */
static int list_clips(const char *dir, clip_list *l)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    l->paths = calloc(MAX_CLIPS, sizeof(char *));
    l->n = 0;
    struct dirent *e;
    while (l->paths && (e = readdir(d)) != NULL && l->n < MAX_CLIPS) {
        if (!ends_with(e->d_name, ".mp4"))
            continue;
        const size_t len = strlen(dir) + strlen(e->d_name) + 2;
        char *p = malloc(len);
        if (!p)
            break;
        snprintf(p, len, "%s/%s", dir, e->d_name);
        l->paths[l->n++] = p;
    }
    closedir(d);
    if (!l->paths)
        return -1;
    qsort(l->paths, (size_t)l->n, sizeof(char *), cmp_str);
    return l->n > 0 ? 0 : -1;
}

/* ------------------------------------------------------------------------------------------
 * Requests
 * ---------------------------------------------------------------------------------------- */

typedef struct request_outcome {
    int rc;
    double wall, cpu;
    int64_t frames;
    int events, clips_ok, clips_indexed;
} request_outcome;

/* pipeline: the library option of that name, or -1 to leave its default. */
static vmo_analyzer *make_analyzer_p(int jobs, int threads, int pipeline)
{
    vmo_config *cfg = NULL;
    vmo_analyzer *an = NULL;
    if (vmo_config_create(&cfg) == VMO_OK && vmo_config_set_int(cfg, "jobs", jobs) == VMO_OK &&
        vmo_config_set_int(cfg, "threads", threads) == VMO_OK &&
        (pipeline < 0 || vmo_config_set_int(cfg, "pipeline", pipeline) == VMO_OK))
        vmo_analyzer_create(cfg, &an);
    vmo_config_destroy(&cfg);
    return an;
}

static void tally(const vmo_result *res, request_outcome *o)
{
    o->events = vmo_result_event_count(res);
    const int n = vmo_result_clip_count(res);
    for (int i = 0; i < n; i++) {
        vmo_clip_info info = { .struct_size = sizeof(info) };
        if (vmo_result_clip(res, i, &info) != VMO_OK)
            continue;
        o->frames += info.frames;
        o->clips_ok += info.status == VMO_OK;
        o->clips_indexed += (info.flags & VMO_CLIP_INDEXED) != 0;
    }
}

static request_outcome run_request(vmo_analyzer *an, const vmo_request *rq)
{
    request_outcome o = { 0 };
    vmo_result *res = NULL;
    const double w0 = bench_wall(), c0 = bench_cpu();
    o.rc = vmo_analyzer_run_request(an, rq, &res);
    o.wall = bench_wall() - w0;
    o.cpu = bench_cpu() - c0;
    if (res)
        tally(res, &o);
    vmo_result_destroy(&res);
    return o;
}

static vmo_request *make_request(const clip_list *l)
{
    vmo_request *rq = NULL;
    if (vmo_request_create(&rq) != VMO_OK)
        return NULL;
    for (int i = 0; i < l->n; i++)
        if (vmo_request_add_clip(rq, l->paths[i], NAN) != VMO_OK) {
            fprintf(stderr, "bench_archive: %s: %s\n", l->paths[i], vmo_request_last_error(rq));
            vmo_request_destroy(&rq);
            return NULL;
        }
    return rq;
}

/* ------------------------------------------------------------------------------------------
 * Archive scaling
 * ---------------------------------------------------------------------------------------- */

static vmo_analyzer *make_analyzer(int jobs, int threads)
{
    return make_analyzer_p(jobs, threads, -1);
}

typedef struct setting {
    const char *name;
    int jobs, threads, pipeline; /* pipeline -1: the library's default */
    bench_series s;
    int64_t frames;
    int events;
} setting;

static int archive_rounds(const clip_list *l, setting *set, int nset, int reps)
{
    vmo_request *rq = make_request(l);
    if (!rq)
        return -1;
    int rc = 0;
    for (int r = 0; r < reps && rc == 0; r++) {
        for (int k = 0; k < nset && rc == 0; k++) {
            setting *st = &set[(r + k) % nset];
            vmo_analyzer *an = make_analyzer_p(st->jobs, st->threads, st->pipeline);
            const request_outcome o = an ? run_request(an, rq) : (request_outcome){ .rc = -1 };
            if (o.rc != VMO_OK || o.clips_ok != l->n) {
                fprintf(stderr, "bench_archive: request (%s) failed: %s (%d of %d clips ok)\n",
                        st->name, an ? vmo_analyzer_last_error(an) : "out of memory", o.clips_ok,
                        l->n);
                rc = -1;
            }
            st->frames = o.frames;
            st->events = o.events;
            bench_series_add(&st->s, o.wall, o.cpu);
            vmo_analyzer_destroy(&an);
        }
        fprintf(stderr, "  archive round %d/%d done (load %.2f)\n", r + 1, reps,
                bench_load_average());
    }
    vmo_request_destroy(&rq);
    return rc;
}

static bench_stats paired(const setting *a, const setting *b)
{
    double v[BENCH_MAX_REPS];
    for (int i = 0; i < a->s.n; i++)
        v[i] = a->s.wall[i] / b->s.wall[i];
    return bench_summarize(v, a->s.n);
}

static json_t *archive_report(const clip_list *l, setting *set, int nset)
{
    printf("\narchive: %d clips\n  %-28s %8s %9s %17s %8s %7s\n", l->n, "setting", "frames",
           "frames/s", "wall s [min-max]", "cpu s", "events");
    json_t *arr = json_array();
    for (int i = 0; i < nset; i++) {
        const bench_stats w = bench_series_wall(&set[i].s), c = bench_series_cpu(&set[i].s);
        printf("  %-28s %8lld %9.1f %6.2f [%4.2f-%4.2f] %8.2f %7d\n", set[i].name,
               (long long)set[i].frames, set[i].frames / w.median, w.median, w.min, w.max, c.median,
               set[i].events);
        json_array_append_new(arr, json_pack("{s:s, s:i, s:i, s:i, s:I, s:o, s:o, s:o, s:i}",
                                             "setting", set[i].name, "jobs", set[i].jobs, "threads",
                                             set[i].threads, "pipeline", set[i].pipeline, "frames",
                                             (json_int_t)set[i].frames, "fps_median",
                                             bench_real(set[i].frames / w.median, 2), "wall_s",
                                             bench_stats_json(&w, 3), "cpu_s",
                                             bench_stats_json(&c, 3), "events", set[i].events));
    }
    /* set[0]: the one-thread baseline; set[1]: jobs=2; the last: jobs=1 default threads. */
    const bench_stats s1 = paired(&set[0], &set[1]), s2 = paired(&set[nset - 1], &set[1]);
    printf("  scaling jobs=2 over %s: %.3f [%.3f-%.3f]; over jobs=1 with default threads: "
           "%.3f [%.3f-%.3f]\n",
           set[0].name, s1.median, s1.min, s1.max, s2.median, s2.min, s2.max);
    return json_pack("{s:i, s:o, s:s, s:o, s:o, s:b}", "clips", l->n, "settings", arr,
                     "scaling_baseline", set[0].name, "scaling_jobs2_over_jobs1_threads1",
                     bench_stats_json(&s1, 4), "scaling_jobs2_over_jobs1_default_threads",
                     bench_stats_json(&s2, 4), "target_met", s1.median >= 1.8);
}

/* ------------------------------------------------------------------------------------------
 * Index query over synthesized footage
 * ---------------------------------------------------------------------------------------- */

typedef struct watchdog {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    vmo_analyzer *an;
    double timeout;
    int stop, fired;
} watchdog;

static void *watchdog_main(void *arg)
{
    watchdog *w = arg;
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += (time_t)w->timeout;
    pthread_mutex_lock(&w->lock);
    int rc = 0;
    while (!w->stop && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&w->cond, &w->lock, &until);
    if (!w->stop) {
        w->fired = 1;
        vmo_analyzer_cancel(w->an); /* thread-safe by contract */
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

/* run_request under a watchdog; *timed_out when it had to cancel. */
static request_outcome guarded_request(vmo_analyzer *an, const vmo_request *rq, double timeout,
                                       int *timed_out)
{
    watchdog w = { .an = an, .timeout = timeout };
    pthread_mutex_init(&w.lock, NULL);
    pthread_cond_init(&w.cond, NULL);
    pthread_t th;
    const int started = pthread_create(&th, NULL, watchdog_main, &w) == 0;
    const request_outcome o = run_request(an, rq);
    pthread_mutex_lock(&w.lock);
    w.stop = 1;
    pthread_cond_signal(&w.cond);
    pthread_mutex_unlock(&w.lock);
    if (started)
        pthread_join(th, NULL);
    *timed_out = w.fired;
    pthread_cond_destroy(&w.cond);
    pthread_mutex_destroy(&w.lock);
    return o;
}

/* The library's warnings (e.g. why an index is not used) on stderr: they explain a slow
 * index query. */
static void log_to_stderr(void *user, int level, const char *message)
{
    (void)user;
    static int count;
    if (level <= VMO_LOG_WARNING && count++ < 20)
        fprintf(stderr, "vidmotion: %s%s", message,
                message[0] && message[strlen(message) - 1] == '\n' ? "" : "\n");
}

static json_t *skipped(const char *why)
{
    printf("\nindex query: skipped: %s\n", why);
    return json_pack("{s:b, s:s}", "skipped", 1, "reason", why);
}

/* Indexes clip unless a valid index is already beside it; *seconds is the indexing time
 * (0 when reused). */
static int ensure_index(const char *clip, double *seconds, char *why, size_t why_size)
{
    vmo_index_info info = { .struct_size = sizeof(info) };
    *seconds = 0;
    if (vmo_index_check && vmo_index_check(clip, NULL, &info) == VMO_OK)
        return 0;
    vmo_analyzer *an = make_analyzer(0, 0);
    if (!an)
        return -1;
    const double t0 = bench_wall();
    const int rc = vmo_analyzer_index_file(an, clip, NULL);
    *seconds = bench_wall() - t0;
    if (rc != VMO_OK)
        snprintf(why, why_size, "vmo_analyzer_index_file: %s: %s", vmo_strerror(rc),
                 vmo_analyzer_last_error(an));
    vmo_analyzer_destroy(&an);
    return rc == VMO_OK ? 0 : -1;
}

/* Copies src to dst unless dst has src's size and is not older (a copy from an earlier
 * run: an index rewritten since then is copied again). */
static int copy_file(const char *src, const char *dst)
{
    struct stat a, b;
    if (stat(src, &a) != 0)
        return -1;
    if (stat(dst, &b) == 0 && b.st_size == a.st_size && b.st_mtime >= a.st_mtime)
        return 0;
    FILE *in = fopen(src, "rb"), *out = fopen(dst, "wb");
    static char buf[1 << 20];
    size_t n;
    int rc = in && out ? 0 : -1;
    while (rc == 0 && (n = fread(buf, 1, sizeof(buf), in)) > 0)
        rc = fwrite(buf, 1, n, out) == n ? 0 : -1;
    if (in)
        fclose(in);
    if (out && fclose(out) != 0)
        rc = -1;
    return rc;
}

/* H hours of footage: n copies of the clip (a request refuses the same file twice, hard
 * links included) named cam9_<UTC>.mp4 `duration` seconds apart from 2025-03-02T00:00:00Z,
 * each with a copy of the clip's index. Copies that exist with the right size are kept. */
static int make_farm(const char *clip, const char *dir, int n, double duration, clip_list *l)
{
    char idx[4096], name[4096], name_idx[4200];
    snprintf(idx, sizeof(idx), "%s.vmoidx", clip);
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        return -1;
    l->paths = calloc((size_t)n, sizeof(char *));
    if (!l->paths)
        return -1;
    const time_t base = 1740873600; /* 2025-03-02T00:00:00Z */
    for (int i = 0; i < n; i++) {
        const time_t t = base + (time_t)llround(i * duration);
        struct tm tm;
        gmtime_r(&t, &tm);
        char stamp[32];
        strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
        const int len = snprintf(name, sizeof(name), "%s/cam9_%s.mp4", dir, stamp);
        if (len < 0 || len >= (int)sizeof(name))
            return -1;
        snprintf(name_idx, sizeof(name_idx), "%s.vmoidx", name);
        if (copy_file(clip, name) != 0 || copy_file(idx, name_idx) != 0)
            return -1;
        l->paths[l->n++] = strdup(name);
    }
    return 0;
}

static double clip_duration(const char *clip)
{
    vmo_analyzer *an = make_analyzer(1, 0);
    vmo_result *res = NULL;
    double d = 0;
    if (an && vmo_analyzer_scan_file(an, clip, &res) == VMO_OK) {
        vmo_clip_info info = { .struct_size = sizeof(info) };
        vmo_result_clip(res, 0, &info);
        d = info.duration;
    }
    vmo_result_destroy(&res);
    vmo_analyzer_destroy(&an);
    return d;
}

typedef struct index_opts {
    const char *clip;
    double hours, timeout;
    int reps;
} index_opts;

/* Times the day and the hour queries, interleaved. */
static json_t *index_rounds(const clip_list *farm, const index_opts *io, double duration)
{
    vmo_request *day = make_request(farm), *hour = make_request(farm);
    if (!day || !hour) {
        vmo_request_destroy(&day);
        vmo_request_destroy(&hour);
        return skipped("cannot build the requests");
    }
    if (vmo_request_set_double) {
        vmo_request_set_double(day, "use_index", 1);
        vmo_request_set_double(hour, "use_index", 1);
    }
    const double from = 1740873600 + 12 * 3600.0; /* 12:00-13:00 of the synthesized day */
    const int have_hour =
        vmo_request_set_window_wall && vmo_request_set_window_wall(hour, from, from + 3600) == 0;
    bench_series s[2] = { 0 };
    request_outcome last[2] = { 0 };
    int timeouts = 0, failed = 0;
    char why[1024];
    for (int r = 0; r < io->reps && !timeouts && !failed; r++)
        for (int k = 0; k < 1 + have_hour && !timeouts && !failed; k++) {
            const int q = (r + k) % (1 + have_hour);
            vmo_analyzer *an = make_analyzer(0, 0);
            if (!an)
                break;
            last[q] = guarded_request(an, q ? hour : day, io->timeout, &timeouts);
            bench_series_add(&s[q], last[q].wall, last[q].cpu);
            failed = last[q].rc != VMO_OK && !timeouts;
            if (failed)
                snprintf(why, sizeof(why), "the request failed: %s: %s", vmo_strerror(last[q].rc),
                         vmo_analyzer_last_error(an));
            vmo_analyzer_destroy(&an);
        }
    vmo_request_destroy(&day);
    vmo_request_destroy(&hour);
    if (failed)
        return skipped(why);
    if (timeouts) {
        snprintf(why, sizeof(why),
                 "a request over %d indexed clips ran over %.0f s and was "
                 "cancelled (were the clips decoded instead?)",
                 farm->n, io->timeout);
        return skipped(why);
    }
    const bench_stats d = bench_series_wall(&s[0]), h = bench_series_wall(&s[1]);
    printf("\nindex query over %.1f h (%d clips of %.1f s):\n", io->hours, farm->n, duration);
    printf("  all of it: %.3f s [%.3f-%.3f], %d/%d clips answered from their index, %d events\n",
           d.median, d.min, d.max, last[0].clips_indexed, farm->n, last[0].events);
    if (have_hour)
        printf("  one hour:  %.3f s [%.3f-%.3f], %d events\n", h.median, h.min, h.max,
               last[1].events);
    return json_pack("{s:b, s:o, s:i, s:o, s:o, s:i, s:i, s:o}", "skipped", 0, "hours",
                     bench_real(io->hours, 2), "clips", farm->n, "clip_duration_s",
                     bench_real(duration, 3), "day_wall_s", bench_stats_json(&d, 4),
                     "day_clips_indexed", last[0].clips_indexed, "day_events", last[0].events,
                     "hour_wall_s", have_hour ? bench_stats_json(&h, 4) : json_null());
}

static json_t *index_query(const index_opts *io)
{
    if (!vmo_analyzer_index_file)
        return skipped("vmo_analyzer_index_file is not in this build of the library yet");
    char why[1024] = "";
    double index_s = 0;
    if (ensure_index(io->clip, &index_s, why, sizeof(why)) != 0)
        return skipped(why[0] ? why : "indexing failed");
    const double duration = clip_duration(io->clip);
    const int n = duration > 0 ? (int)ceil(io->hours * 3600 / duration) : 0;
    if (n <= 0 || n > MAX_COPIES)
        return skipped("cannot tell the clip's duration");
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s.day%d", io->clip, n);
    clip_list farm = { 0 };
    json_t *out;
    vmo_index_info info = { .struct_size = sizeof(info) };
    if (make_farm(io->clip, dir, n, duration, &farm) != 0)
        out = skipped("cannot make the folder of copies");
    else if (vmo_index_check && vmo_index_check(farm.paths[0], NULL, &info) != VMO_OK)
        out = skipped("the index is not accepted for a copy of its clip");
    else
        out = index_rounds(&farm, io, duration);
    list_free(&farm);
    if (json_is_object(out))
        json_object_set_new(out, "index_build_s", bench_real(index_s, 3));
    return out;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0); /* keep the table in order with stderr */
    int reps = 3;
    const char *json = NULL, *dir = NULL;
    index_opts io = { .clip = NULL, .hours = 24, .timeout = 120, .reps = 3 };
    int bad = 0;
    for (int i = 1; i < argc && !bad; i++) {
        if (!strcmp(argv[i], "--reps") && i + 1 < argc)
            reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--json") && i + 1 < argc)
            json = argv[++i];
        else if (!strcmp(argv[i], "--index-clip") && i + 1 < argc)
            io.clip = argv[++i];
        else if (!strcmp(argv[i], "--index-hours") && i + 1 < argc)
            io.hours = atof(argv[++i]);
        else if (!strcmp(argv[i], "--index-timeout") && i + 1 < argc)
            io.timeout = atof(argv[++i]);
        else if (argv[i][0] != '-' && !dir)
            dir = argv[i];
        else
            bad = 1;
    }
    vmo_set_log_callback(log_to_stderr, NULL, VMO_LOG_WARNING);
    clip_list l = { 0 };
    if (bad || !dir || reps < 1 || reps > BENCH_MAX_REPS || !(io.hours > 0) ||
        list_clips(dir, &l)) {
        fprintf(stderr,
                "usage: %s [--reps N] [--json FILE] [--index-clip CLIP] [--index-hours H] "
                "[--index-timeout S] DIR_OF_MP4\n",
                argv[0]);
        return 2;
    }
    setting set[] = {
        { .name = "jobs=1 threads=1 pipeline=0", .jobs = 1, .threads = 1, .pipeline = 0 },
        { .name = "jobs=2", .jobs = 2, .threads = 0, .pipeline = -1 },
        { .name = "jobs=1 threads=1", .jobs = 1, .threads = 1, .pipeline = -1 },
        { .name = "jobs=1 (default threads)", .jobs = 1, .threads = 0, .pipeline = -1 },
    };
    int nset = (int)(sizeof(set) / sizeof(set[0]));
    vmo_analyzer *probe = make_analyzer_p(1, 1, 0);
    if (!probe) { /* no "pipeline" option: the default-pipeline setting is the baseline */
        set[0] = set[2];
        set[2] = set[3];
        nset--;
    }
    vmo_analyzer_destroy(&probe);
    if (archive_rounds(&l, set, nset, reps) != 0)
        return 1;
    json_t *archive = archive_report(&l, set, nset);
    list_free(&l);
    json_t *index = io.clip ? index_query(&io) : skipped("no --index-clip given");
    json_t *doc = json_pack("{s:s, s:o, s:s, s:i, s:o, s:o}", "benchmark", "bench_archive",
                            "machine", bench_machine_json(), "dir", dir, "reps", reps, "archive",
                            archive, "index_query", index);
    if (json && bench_write_json(json, doc) != 0)
        return 1;
    if (!json)
        json_decref(doc);
    return 0;
}
