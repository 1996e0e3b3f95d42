/* Shared helpers of the benches: see bench_common.h. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "bench_common.h"
#include "cpu.h"
#include "vidmotion/vidmotion.h"

double bench_wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

double bench_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *x, const void *y)
{
    const double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

static double quantile(const double *sorted, int n, double q)
{
    const double pos = q * (n - 1);
    const int i = (int)pos;
    return i + 1 < n ? sorted[i] + (pos - i) * (sorted[i + 1] - sorted[i]) : sorted[i];
}

bench_stats bench_summarize(double *v, int n)
{
    if (n <= 0)
        return (bench_stats){ NAN, NAN, NAN, NAN, NAN, 0 };
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    return (bench_stats){ .median = quantile(v, n, 0.5),
                          .min = v[0],
                          .max = v[n - 1],
                          .q1 = quantile(v, n, 0.25),
                          .q3 = quantile(v, n, 0.75),
                          .n = n };
}

json_t *bench_real(double v, int digits)
{
    if (!isfinite(v))
        return json_null();
    const double scale = pow(10.0, digits);
    return json_real(round(v * scale) / scale);
}

json_t *bench_stats_json(const bench_stats *st, int digits)
{
    return json_pack("{s:o, s:o, s:o, s:o, s:o, s:i}", "median", bench_real(st->median, digits),
                     "min", bench_real(st->min, digits), "max", bench_real(st->max, digits), "q1",
                     bench_real(st->q1, digits), "q3", bench_real(st->q3, digits), "n", st->n);
}

void bench_series_add(bench_series *s, double wall, double cpu)
{
    if (s->n >= BENCH_MAX_REPS)
        return;
    s->wall[s->n] = wall;
    s->cpu[s->n] = cpu;
    s->n++;
}

/* Summaries work on copies: the series keeps its order (rep i of one mode pairs with rep i
 * of another when ratios per round are wanted). */
bench_stats bench_series_wall(const bench_series *s)
{
    double v[BENCH_MAX_REPS];
    memcpy(v, s->wall, sizeof(double) * (size_t)s->n);
    return bench_summarize(v, s->n);
}

bench_stats bench_series_cpu(const bench_series *s)
{
    double v[BENCH_MAX_REPS];
    memcpy(v, s->cpu, sizeof(double) * (size_t)s->n);
    return bench_summarize(v, s->n);
}

void bench_cpu_model(char *buf, size_t size)
{
    snprintf(buf, size, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return;
    char line[512];
    while (fgets(line, sizeof(line), f)) {
        const char *colon = strchr(line, ':');
        if (colon && (!strncmp(line, "model name", 10) || !strncmp(line, "Model", 5))) {
            snprintf(buf, size, "%s", colon + 2);
            buf[strcspn(buf, "\n")] = '\0';
            break;
        }
    }
    fclose(f);
}

double bench_load_average(void)
{
    double load = -1;
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fscanf(f, "%lf", &load) != 1)
            load = -1;
        fclose(f);
    }
    return load;
}

json_t *bench_machine_json(void)
{
    char model[256];
    bench_cpu_model(model, sizeof(model));
    const unsigned have = vmo_cpu_detect();
    char flags[64];
    snprintf(flags, sizeof(flags), "%s%s%s", have & VMO_CPU_SSE2 ? " sse2" : "",
             have & VMO_CPU_AVX2 ? " avx2" : "", have & VMO_CPU_NEON ? " neon" : "");
    struct utsname u;
    char kernel[3 * sizeof(u.release) + 8] = "unknown";
    if (uname(&u) == 0)
        snprintf(kernel, sizeof(kernel), "%s %s %s", u.sysname, u.release, u.machine);
    return json_pack("{s:s, s:s, s:i, s:o, s:s}", "cpu_model", model, "cpu_flags",
                     flags[0] ? flags + 1 : "none", "online_cpus",
                     (int)sysconf(_SC_NPROCESSORS_ONLN), "load_average_1m",
                     bench_real(bench_load_average(), 2), "kernel", kernel);
}

json_t *bench_settings_json(void)
{
    json_t *o = json_object();
    const int n = vmo_config_option_count();
    for (int i = 0; i < n; i++) {
        vmo_option_info info = { .struct_size = sizeof(info) };
        if (vmo_config_option_info(i, &info) != VMO_OK)
            continue;
        json_object_set_new(o, info.name,
                            info.type == VMO_OPTION_DOUBLE
                                ? json_real(info.default_value)
                                : json_integer((json_int_t)info.default_value));
    }
    return o;
}

int bench_write_json(const char *path, json_t *doc)
{
    if (!doc) {
        fprintf(stderr, "bench: cannot build the JSON report (out of memory)\n");
        return -1;
    }
    const int rc = json_dump_file(doc, path, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(doc);
    if (rc != 0) {
        fprintf(stderr, "bench: cannot write %s\n", path);
        return -1;
    }
    return 0;
}
