/* bench_memory: peak memory of a scan against `ffmpeg -f null` decoding the same clip, and
 * of a scan of a short clip against a long one (the same content repeated).
 *
 *   bench_memory --scanner PATH/bench_pipeline [--reps N] [--json FILE] SHORT LONG
 *
 * Each measured command runs in a child (fork + exec) and its peak resident set comes from
 * wait4()'s ru_maxrss. This process stays small, so what a child inherits before its exec
 * does not inflate the figure. ru_maxrss counts mapped library pages too, and ffmpeg maps
 * far more libraries (libavfilter, libavdevice and their dependencies) than a scan; so the
 * children are also sampled every few milliseconds for RssAnon (/proc/PID/status), the
 * memory they allocated, which compares working sets without that bias. The baselines
 * (`ffmpeg -version`, the scanner failing on a missing file) show what loading costs.
 *
 * Scans run `bench_pipeline scan-once CLIP THREADS`: one vmo_analyzer_scan_file at default
 * settings. THREADS 1 is compared with `ffmpeg -threads 1`, THREADS 0 (one decoder thread
 * per core) with ffmpeg's default (automatic) threads. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_common.h"

#define MAX_ARGS  16
#define MAX_RUNS  16
#define SAMPLE_NS 5000000L /* RssAnon sampling period: 5 ms */

typedef struct command {
    const char *label;
    const char *group; /* what it is compared with: "short t1", "baseline", ... */
    char *argv[MAX_ARGS];
} command;

typedef struct sample {
    long maxrss_kb;    /* ru_maxrss */
    long anon_peak_kb; /* largest RssAnon seen */
    double wall;
    int ok;
} sample;

/* RssAnon of a live process in kB, -1 when it cannot be read (it just exited). */
static long rss_anon_kb(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    long kb = -1;
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "RssAnon: %ld kB", &kb) == 1)
            break;
    fclose(f);
    return kb;
}

static pid_t spawn(char *const *argv)
{
    const pid_t pid = fork();
    if (pid != 0)
        return pid;
    const int null = open("/dev/null", O_RDWR);
    if (null >= 0) {
        dup2(null, STDIN_FILENO);
        dup2(null, STDOUT_FILENO);
        dup2(null, STDERR_FILENO);
    }
    execvp(argv[0], argv);
    _exit(127);
}

/* Runs a command to its end, sampling its anonymous memory while it runs. */
static sample measure(const command *c)
{
    sample s = { 0 };
    const double t0 = bench_wall();
    const pid_t pid = spawn(c->argv);
    if (pid < 0)
        return s;
    int status = 0;
    struct rusage ru;
    for (;;) {
        const pid_t done = wait4(pid, &status, WNOHANG, &ru);
        if (done == pid)
            break;
        if (done < 0 && errno != EINTR)
            return s;
        const long kb = rss_anon_kb(pid);
        if (kb > s.anon_peak_kb)
            s.anon_peak_kb = kb;
        nanosleep(&(struct timespec){ 0, SAMPLE_NS }, NULL);
    }
    s.wall = bench_wall() - t0;
    s.maxrss_kb = ru.ru_maxrss;
    s.ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    return s;
}

/* ------------------------------------------------------------------------------------------
 * The commands
 * ---------------------------------------------------------------------------------------- */

static void set_argv(command *c, const char *label, const char *group, const char *const *args)
{
    c->label = label;
    c->group = group;
    int i = 0;
    for (; args[i] && i < MAX_ARGS - 1; i++)
        c->argv[i] = (char *)args[i];
    c->argv[i] = NULL;
}

static int plan(command *cmds, const char *scanner, const char *shortc, const char *longc)
{
    int n = 0;
    const char *ff_version[] = { "ffmpeg", "-version", NULL };
    const char *scan_none[] = { scanner, "scan-once", "/nonexistent/clip.mp4", "1", NULL };
    set_argv(&cmds[n++], "ffmpeg -version", "baseline", ff_version);
    set_argv(&cmds[n++], "scanner, no clip", "baseline", scan_none);
    const char *ff1[] = { "ffmpeg", "-nostdin", "-v", "error", "-threads", "1", "-i",
                          shortc,   "-an",      "-f", "null",  "-",        NULL };
    const char *ff0[] = { "ffmpeg", "-nostdin", "-v",   "error", "-i", shortc,
                          "-an",    "-f",       "null", "-",     NULL };
    const char *s1[] = { scanner, "scan-once", shortc, "1", NULL };
    const char *s0[] = { scanner, "scan-once", shortc, "0", NULL };
    const char *l1[] = { scanner, "scan-once", longc, "1", NULL };
    const char *l0[] = { scanner, "scan-once", longc, "0", NULL };
    set_argv(&cmds[n++], "ffmpeg -threads 1 -f null", "short t1", ff1);
    set_argv(&cmds[n++], "scan threads=1", "short t1", s1);
    set_argv(&cmds[n++], "ffmpeg -f null (auto threads)", "short t0", ff0);
    set_argv(&cmds[n++], "scan threads=0 (default)", "short t0", s0);
    set_argv(&cmds[n++], "scan threads=1, long clip", "long t1", l1);
    set_argv(&cmds[n++], "scan threads=0, long clip", "long t0", l0);
    return n;
}

/* Peak values of a command over the reps: the largest, since a peak is what must fit. */
typedef struct peak {
    long maxrss_kb, anon_kb;
    double wall[BENCH_MAX_REPS];
    int n, failed;
} peak;

static void add_sample(peak *p, const sample *s)
{
    if (!s->ok)
        p->failed++;
    if (s->maxrss_kb > p->maxrss_kb)
        p->maxrss_kb = s->maxrss_kb;
    if (s->anon_peak_kb > p->anon_kb)
        p->anon_kb = s->anon_peak_kb;
    if (p->n < BENCH_MAX_REPS)
        p->wall[p->n++] = s->wall;
}

static const peak *find(const command *cmds, const peak *peaks, int n, const char *label)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(cmds[i].label, label))
            return &peaks[i];
    return NULL;
}

static json_t *verdicts(const command *cmds, const peak *pk, int n)
{
    const peak *ff1 = find(cmds, pk, n, "ffmpeg -threads 1 -f null");
    const peak *ff0 = find(cmds, pk, n, "ffmpeg -f null (auto threads)");
    const peak *s1 = find(cmds, pk, n, "scan threads=1");
    const peak *s0 = find(cmds, pk, n, "scan threads=0 (default)");
    const peak *l1 = find(cmds, pk, n, "scan threads=1, long clip");
    const peak *l0 = find(cmds, pk, n, "scan threads=0, long clip");
    const double r1 = (double)s1->maxrss_kb / ff1->maxrss_kb;
    const double r0 = (double)s0->maxrss_kb / ff0->maxrss_kb;
    const double g1 = (double)l1->maxrss_kb / s1->maxrss_kb;
    const double g0 = (double)l0->maxrss_kb / s0->maxrss_kb;
    printf("\nscan / ffmpeg peak RSS: %.3f (1 thread), %.3f (auto threads); anon: %.3f, %.3f\n", r1,
           r0, (double)s1->anon_kb / ff1->anon_kb, (double)s0->anon_kb / ff0->anon_kb);
    printf("long / short clip peak RSS: %.3f (threads=1), %.3f (threads=0)\n", g1, g0);
    return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:b, s:b}", "scan_over_ffmpeg_rss_t1",
                     bench_real(r1, 4), "scan_over_ffmpeg_rss_auto", bench_real(r0, 4),
                     "scan_over_ffmpeg_anon_t1", bench_real((double)s1->anon_kb / ff1->anon_kb, 4),
                     "scan_over_ffmpeg_anon_auto",
                     bench_real((double)s0->anon_kb / ff0->anon_kb, 4), "long_over_short_rss_t1",
                     bench_real(g1, 4), "long_over_short_rss_t0", bench_real(g0, 4),
                     "target_met_t1", r1 <= 1.0, "target_met_auto", r0 <= 1.0);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0); /* keep the table in order with stderr */
    const char *scanner = NULL, *json = NULL, *clips[2] = { NULL, NULL };
    int reps = 1, nclips = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--scanner") && i + 1 < argc)
            scanner = argv[++i];
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc)
            reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--json") && i + 1 < argc)
            json = argv[++i];
        else if (argv[i][0] != '-' && nclips < 2)
            clips[nclips++] = argv[i];
        else
            nclips = 99;
    }
    if (!scanner || nclips != 2 || reps < 1 || reps > BENCH_MAX_REPS) {
        fprintf(stderr,
                "usage: %s --scanner PATH/bench_pipeline [--reps N] [--json FILE] "
                "SHORT_CLIP LONG_CLIP\n",
                argv[0]);
        return 2;
    }
    static command cmds[MAX_RUNS];
    static peak peaks[MAX_RUNS];
    const int n = plan(cmds, scanner, clips[0], clips[1]);
    for (int r = 0; r < reps; r++)
        for (int k = 0; k < n; k++) {
            const int i = (r + k) % n;
            const sample s = measure(&cmds[i]);
            add_sample(&peaks[i], &s);
        }
    printf("%-32s %-9s %10s %10s %8s\n", "command", "group", "maxrss MB", "anon MB", "wall s");
    json_t *runs = json_array();
    int failed = 0;
    for (int i = 0; i < n; i++) {
        const peak *p = &peaks[i];
        /* The scanner is expected to fail on the missing clip: it only loads. */
        const int must_pass = strcmp(cmds[i].label, "scanner, no clip") != 0;
        failed |= must_pass && p->failed;
        double w[BENCH_MAX_REPS];
        memcpy(w, p->wall, sizeof(double) * (size_t)p->n);
        const bench_stats ws = bench_summarize(w, p->n);
        printf("%-32s %-9s %10.1f %10.1f %8.2f%s\n", cmds[i].label, cmds[i].group,
               p->maxrss_kb / 1024.0, p->anon_kb / 1024.0, ws.median,
               must_pass && p->failed ? "  FAILED" : "");
        json_array_append_new(runs, json_pack("{s:s, s:s, s:o, s:o, s:o}", "command", cmds[i].label,
                                              "group", cmds[i].group, "maxrss_mb",
                                              bench_real(p->maxrss_kb / 1024.0, 1), "anon_peak_mb",
                                              bench_real(p->anon_kb / 1024.0, 1), "wall_s",
                                              bench_stats_json(&ws, 3)));
    }
    json_t *v = verdicts(cmds, peaks, n);
    json_t *doc = json_pack("{s:s, s:o, s:s, s:s, s:i, s:o, s:o}", "benchmark", "bench_memory",
                            "machine", bench_machine_json(), "short_clip", clips[0], "long_clip",
                            clips[1], "reps", reps, "runs", runs, "verdicts", v);
    if (json && bench_write_json(json, doc) != 0)
        return 1;
    if (!json)
        json_decref(doc);
    return failed ? 1 : 0;
}
