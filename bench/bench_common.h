/* Shared helpers of the pipeline, memory, archive and fast-mode benches: clocks, medians
 * and spreads, a description of the machine, and JSON output (jansson). */
#ifndef VMO_BENCH_COMMON_H
#define VMO_BENCH_COMMON_H

#include <jansson.h>
#include <stdint.h>

/* Wall clock (monotonic) and CPU time of the whole process, all threads, in seconds. CPU
 * time is reported beside wall time because on a shared machine a neighbour's burst
 * stretches the wall clock of a run but hardly its CPU time. */
double bench_wall(void);
double bench_cpu(void);

/* Median, quartiles and range of n samples (sorted in place). */
typedef struct bench_stats {
    double median, min, max, q1, q3;
    int n;
} bench_stats;
bench_stats bench_summarize(double *v, int n);
/* {"median": .., "min": .., "max": .., "q1": .., "q3": .., "n": ..} rounded to `digits`. */
json_t *bench_stats_json(const bench_stats *st, int digits);

/* One sample series: wall and CPU seconds of the repetitions of one measured mode. */
#define BENCH_MAX_REPS 64
typedef struct bench_series {
    double wall[BENCH_MAX_REPS];
    double cpu[BENCH_MAX_REPS];
    int n;
} bench_series;
void bench_series_add(bench_series *s, double wall, double cpu);
bench_stats bench_series_wall(const bench_series *s);
bench_stats bench_series_cpu(const bench_series *s);

/* {"cpu_model", "cpu_flags" (vidmotion's), "online_cpus", "load_average_1m", "kernel"}. */
json_t *bench_machine_json(void);
/* The 1-minute load average, -1 if unknown. */
double bench_load_average(void);
/* The CPU's model name from /proc/cpuinfo, "unknown" if none. */
void bench_cpu_model(char *buf, size_t size);

/* Every library option with its default: {"width": 320, ...}. The benches run defaults
 * unless they say otherwise, and the report records what those were. */
json_t *bench_settings_json(void);

/* Writes `doc` (stolen) to path, indented; prints a message and returns -1 on failure. */
int bench_write_json(const char *path, json_t *doc);

/* A number rounded to `digits` decimals, as a JSON real. */
json_t *bench_real(double v, int digits);

#endif
