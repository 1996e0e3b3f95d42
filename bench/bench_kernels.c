/* bench_kernels: the difference kernels per ISA variant against memcpy of the same bytes.
 *
 * One pass is what score.c does for a frame: diff_row over every row of a W x H plane pair
 * with a label plane of a few rectangular zones (long runs, edges at arbitrary columns).
 * Bandwidth counts 3*W*H bytes per pass (a, b, labels); memcpy copies those same 3*W*H bytes
 * into a separate buffer. and_row is timed the same way over three planes (past a, present
 * b, future c) and the labels: 4*W*H bytes, against a memcpy of those 4*W*H bytes. Every
 * round times every size, kernel and variant, in a rotating order, and the report gives
 * medians over the rounds with their min/max, so a noisy shared machine hurts the spread
 * rather than the ratios.
 *
 *   bench_kernels [--rounds N] [--json FILE]
 *
 * Exits non-zero if any variant's counts/sums differ from the C reference. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_common.h"
#include "cpu.h"
#include "internal.h"
#include "kernels/diff.h"

#define MAX_VARIANTS  5 /* memcpy, c, and up to three ISA levels */
#define MAX_ROUNDS    301
#define BATCH_SECONDS 0.004 /* one timed batch: long enough for the clock, short for noise */
#define THRESHOLD     20    /* diff_row's, and both of and_row's */

typedef struct size_wh {
    int w, h;
} size_wh;

static const size_wh sizes[] = { { 320, 180 }, { 640, 360 }, { 1280, 720 }, { 1920, 1080 } };

/* A variant: its diff_row and and_row functions, or NULL for the memcpy baseline. */
typedef struct variant {
    const char *name;
    unsigned flags;
    vmo_diff_row_fn fn;
    vmo_and_row_fn and_fn;
} variant;

/* The kernels timed, and the bytes one pass of each reads (and memcpy copies). */
enum { KERNEL_DIFF, KERNEL_AND, NKERNELS };

static const struct {
    const char *name;
    int planes; /* bytes per pixel */
    const char *bytes;
} kernels[NKERNELS] = {
    { "diff_row", 3, "3*W*H (a, b, labels)" },
    { "and_row", 4, "4*W*H (a, b, c, labels)" },
};

typedef struct stats {
    double median, min, max, q1, q3; /* GB/s */
} stats;

typedef struct planes {
    int w, h;
    size_t n;      /* w * h */
    uint8_t *base; /* a, b, labels and c back to back: memcpy copies the first 3n or 4n */
    uint8_t *dst;  /* memcpy destination */
    uint8_t *a, *b, *labels, *c;
} planes;

/* Zones as a camera config would have them: normalized rectangles, first match wins,
 * label 0 elsewhere. Edges fall on arbitrary columns at every size. */
static void make_labels(uint8_t *l, int w, int h)
{
    static const struct {
        double x0, y0, x1, y1;
        uint8_t label;
    } zones[] = {
        { 0.70, 0.00, 0.90, 0.20, 255 }, /* privacy mask */
        { 0.05, 0.55, 0.45, 0.95, 1 },   /* porch */
        { 0.50, 0.50, 0.95, 1.00, 2 },   /* driveway */
        { 0.00, 0.10, 1.00, 0.35, 3 },   /* street */
    };
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
            const double cx = (x + 0.5) / w, cy = (y + 0.5) / h;
            uint8_t label = 0;
            for (size_t k = 0; k < VMO_ARRAY_SIZE(zones); k++) {
                if (cx >= zones[k].x0 && cx < zones[k].x1 && cy >= zones[k].y0 &&
                    cy < zones[k].y1) {
                    label = zones[k].label;
                    break;
                }
            }
            l[(size_t)y * w + x] = label;
        }
    }
}

static uint32_t next_rand(uint32_t *s)
{
    uint32_t x = *s;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *s = x;
}

static int planes_init(planes *p, int w, int h)
{
    p->w = w;
    p->h = h;
    p->n = (size_t)w * h;
    p->base = aligned_alloc(64, (4 * p->n + 63) & ~(size_t)63);
    p->dst = aligned_alloc(64, (4 * p->n + 63) & ~(size_t)63);
    if (!p->base || !p->dst)
        return -1;
    p->a = p->base;
    p->b = p->base + p->n;
    p->labels = p->base + 2 * p->n;
    p->c = p->base + 3 * p->n;
    /* Two frames of a scene: b is a plus noise, so about half the pixels pass the threshold. */
    uint32_t seed = 12345;
    for (size_t i = 0; i < p->n; i++) {
        p->a[i] = (uint8_t)next_rand(&seed);
        const int noise = (int)(next_rand(&seed) % 81) - 40;
        p->b[i] = (uint8_t)VMO_CLAMP(p->a[i] + noise, 0, 255);
    }
    /* The future frame: b plus its own noise, so about a quarter pass both of and_row's
     * tests. Drawn after a and b, which stay what they were before and_row was added. */
    for (size_t i = 0; i < p->n; i++) {
        const int noise = (int)(next_rand(&seed) % 81) - 40;
        p->c[i] = (uint8_t)VMO_CLAMP(p->b[i] + noise, 0, 255);
    }
    make_labels(p->labels, w, h);
    memset(p->dst, 0, 4 * p->n);
    return 0;
}

static void planes_free(planes *p)
{
    free(p->base);
    free(p->dst);
}

/* Sinks that keep the compiler from dropping work whose result is otherwise unused. */
static uint64_t g_counts[256], g_sums[256];
static void *(*volatile memcpy_fn)(void *, const void *, size_t) = memcpy;

/* One pass of kernel k (sums unused by and_row). */
static void run_pass(const variant *v, int k, const planes *p, uint64_t *counts, uint64_t *sums)
{
    if (!v->fn) {
        memcpy_fn(p->dst, p->base, (size_t)kernels[k].planes * p->n);
        return;
    }
    for (int y = 0; y < p->h; y++) {
        const size_t off = (size_t)y * p->w;
        if (k == KERNEL_AND)
            v->and_fn(p->a + off, p->b + off, p->c + off, p->labels + off, p->w, THRESHOLD,
                      THRESHOLD, counts);
        else
            v->fn(p->a + off, p->b + off, p->labels + off, p->w, THRESHOLD, counts, sums);
    }
}

/* GB/s of one batch of `reps` passes. */
static double time_batch(const variant *v, int k, const planes *p, int reps)
{
    const double t0 = vmo_now();
    for (int r = 0; r < reps; r++)
        run_pass(v, k, p, g_counts, g_sums);
    const double t = vmo_now() - t0;
    return (double)kernels[k].planes * (double)p->n * reps / (t > 0 ? t : 1e-9) / 1e9;
}

/* Passes per batch so that a batch lasts about BATCH_SECONDS (caches warmed on the way). */
static int calibrate(const variant *v, int k, const planes *p)
{
    int reps = 1;
    for (;;) {
        const double t0 = vmo_now();
        for (int r = 0; r < reps; r++)
            run_pass(v, k, p, g_counts, g_sums);
        const double t = vmo_now() - t0;
        if (t >= BATCH_SECONDS / 4 || reps >= 1 << 20) {
            const double want = reps * BATCH_SECONDS / (t > 0 ? t : 1e-9);
            return want < 1 ? 1 : want > (1 << 24) ? 1 << 24 : (int)want;
        }
        reps *= 2;
    }
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

static stats summarize(double *gbps, int n)
{
    qsort(gbps, (size_t)n, sizeof(*gbps), cmp_double);
    return (stats){ .median = quantile(gbps, n, 0.5),
                    .min = gbps[0],
                    .max = gbps[n - 1],
                    .q1 = quantile(gbps, n, 0.25),
                    .q3 = quantile(gbps, n, 0.75) };
}

/* Every ISA variant must give the C reference's counts and sums, bit for bit. */
static int check_identical(const variant *vars, int nvars, int k, const planes *p)
{
    uint64_t ref_c[256] = { 0 }, ref_s[256] = { 0 };
    const variant c = { "c", 0, vmo_diff_row_c, vmo_and_row_c };
    run_pass(&c, k, p, ref_c, ref_s);
    for (int i = 0; i < nvars; i++) {
        uint64_t cnt[256] = { 0 }, sum[256] = { 0 };
        if (!vars[i].fn)
            continue;
        run_pass(&vars[i], k, p, cnt, sum);
        if (memcmp(cnt, ref_c, sizeof(cnt)) || memcmp(sum, ref_s, sizeof(sum))) {
            fprintf(stderr, "bench_kernels: %s %s differs from the C reference at %dx%d\n",
                    vars[i].name, kernels[k].name, p->w, p->h);
            return -1;
        }
    }
    return 0;
}

/* The ISA levels this CPU runs, as vmo_diff_dsp_init would pick them. */
static int list_variants(variant *vars)
{
    static const variant levels[] = {
        { "sse2", VMO_CPU_SSE2, NULL, NULL },
        { "avx2", VMO_CPU_SSE2 | VMO_CPU_AVX2, NULL, NULL },
        { "neon", VMO_CPU_NEON, NULL, NULL },
    };
    const unsigned have = vmo_cpu_detect();
    int n = 0;
    vars[n++] = (variant){ "memcpy", 0, NULL, NULL };
    vars[n++] = (variant){ "c", 0, vmo_diff_row_c, vmo_and_row_c };
    for (size_t i = 0; i < VMO_ARRAY_SIZE(levels); i++) {
        VmoDiffDSP dsp;
        if ((levels[i].flags & have) != levels[i].flags)
            continue;
        vmo_diff_dsp_init(&dsp, levels[i].flags);
        if (dsp.diff_row == vars[n - 1].fn)
            continue; /* no kernel of its own at this level */
        vars[n] = levels[i];
        vars[n].fn = dsp.diff_row;
        vars[n++].and_fn = dsp.and_row;
    }
    return n;
}

static void flag_names(unsigned flags, char *buf, size_t size)
{
    snprintf(buf, size, "%s%s%s", flags & VMO_CPU_SSE2 ? " sse2" : "",
             flags & VMO_CPU_AVX2 ? " avx2" : "", flags & VMO_CPU_NEON ? " neon" : "");
    if (!buf[0])
        snprintf(buf, size, " none");
}

/* Per kernel (KERNEL_*). */
typedef struct result {
    stats st[VMO_ARRAY_SIZE(sizes)][MAX_VARIANTS];
} result;

/* One kernel's table; diff_row's comes first, without a title, as it always did. */
static void print_table(const variant *vars, int nvars, int k, const result *res, int rounds)
{
    if (k != KERNEL_DIFF)
        printf("\n%s (thr_ab = thr_cb = %d)\n", kernels[k].name, THRESHOLD);
    printf("\n%-10s %-7s %9s %9s %9s %9s %9s\n", "size", "variant", "GB/s", "min", "max",
           "x memcpy", "x c");
    for (size_t s = 0; s < VMO_ARRAY_SIZE(sizes); s++) {
        const double mc = res->st[s][0].median, c = res->st[s][1].median;
        for (int v = 0; v < nvars; v++) {
            const stats *st = &res->st[s][v];
            char size[32];
            snprintf(size, sizeof(size), "%dx%d", sizes[s].w, sizes[s].h);
            printf("%-10s %-7s %9.2f %9.2f %9.2f %9.2f %9.2f\n", v ? "" : size, vars[v].name,
                   st->median, st->min, st->max, st->median / mc, st->median / c);
        }
    }
    printf("\nmedians of %d interleaved rounds; bytes per pass = %s\n", rounds, kernels[k].bytes);
}

/* The "sizes" array of one kernel, each line indented by `ind` more spaces. */
static void write_sizes(FILE *f, const variant *vars, int nvars, const result *res, int ind)
{
    for (size_t s = 0; s < VMO_ARRAY_SIZE(sizes); s++) {
        const double mc = res->st[s][0].median, c = res->st[s][1].median;
        fprintf(f, "%*s    {\"width\": %d, \"height\": %d, \"variants\": {\n", ind, "", sizes[s].w,
                sizes[s].h);
        for (int v = 0; v < nvars; v++) {
            const stats *st = &res->st[s][v];
            fprintf(f,
                    "%*s      \"%s\": {\"median_gbps\": %.3f, \"min_gbps\": %.3f, "
                    "\"max_gbps\": %.3f, \"q1_gbps\": %.3f, \"q3_gbps\": %.3f, "
                    "\"ratio_memcpy\": %.3f, \"ratio_scalar\": %.3f}%s\n",
                    ind, "", vars[v].name, st->median, st->min, st->max, st->q1, st->q3,
                    st->median / mc, st->median / c, v + 1 < nvars ? "," : "");
        }
        fprintf(f, "%*s    }}%s\n", ind, "", s + 1 < VMO_ARRAY_SIZE(sizes) ? "," : "");
    }
}

/* diff_row's results at the top level, as before and_row existed; and_row's in an object of
 * the same shape beside them. */
static int write_json(const char *path, const variant *vars, int nvars, const result res[NKERNELS],
                      int rounds)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    char model[256], have[64], eff[64];
    bench_cpu_model(model, sizeof(model));
    flag_names(vmo_cpu_detect(), have, sizeof(have));
    flag_names(vmo_cpu_effective(), eff, sizeof(eff));
    fprintf(f, "{\n  \"benchmark\": \"bench_kernels\",\n");
    fprintf(f, "  \"machine\": {\"cpu_model\": \"");
    for (const char *c = model; *c; c++) /* cpuinfo text: escape what JSON needs */
        fprintf(f, *c == '"' || *c == '\\' ? "\\%c" : "%c", *c);
    fprintf(f,
            "\", \"cpu_flags\": \"%s\", \"effective_flags\": \"%s\", \"online_cpus\": %ld, "
            "\"load_average_1m\": %.2f},\n",
            have + 1, eff + 1, sysconf(_SC_NPROCESSORS_ONLN), bench_load_average());
    fprintf(f, "  \"rounds\": %d,\n  \"threshold\": %d,\n  \"bytes_per_pass\": \"3*W*H\",\n",
            rounds, THRESHOLD);
    fprintf(f, "  \"sizes\": [\n");
    write_sizes(f, vars, nvars, &res[KERNEL_DIFF], 0);
    fprintf(f, "  ],\n");
    fprintf(f, "  \"and_row\": {\"thr_ab\": %d, \"thr_cb\": %d, \"bytes_per_pass\": \"4*W*H\",\n",
            THRESHOLD, THRESHOLD);
    fprintf(f, "    \"sizes\": [\n");
    write_sizes(f, vars, nvars, &res[KERNEL_AND], 2);
    fprintf(f, "    ]\n  }\n}\n");
    return fclose(f) == 0 ? 0 : -1;
}

#define NSIZES VMO_ARRAY_SIZE(sizes)

/* All sizes and variants interleaved in every round, both in a rotating order: a slow
 * spell of the machine (a neighbour's burst) then spoils a few rounds of everything, which
 * the medians drop, instead of every round of one size or one variant. */
static int run_rounds(const variant *vars, int nvars, int rounds, result res[NKERNELS])
{
    static planes p[NSIZES];
    static int reps[NSIZES][NKERNELS][MAX_VARIANTS];
    static double gbps[NSIZES][NKERNELS][MAX_VARIANTS][MAX_ROUNDS];
    int rc = -1;
    size_t ready = 0;
    for (; ready < NSIZES; ready++) {
        if (planes_init(&p[ready], sizes[ready].w, sizes[ready].h) != 0) {
            fprintf(stderr, "bench_kernels: out of memory\n");
            planes_free(&p[ready]);
            goto out;
        }
        for (int k = 0; k < NKERNELS; k++) {
            if (check_identical(vars, nvars, k, &p[ready]) != 0) {
                planes_free(&p[ready]);
                goto out;
            }
            for (int v = 0; v < nvars; v++)
                reps[ready][k][v] = calibrate(&vars[v], k, &p[ready]);
        }
    }
    for (int r = 0; r < rounds; r++) {
        for (size_t i = 0; i < NSIZES; i++) {
            const size_t s = (r + i) % NSIZES;
            for (int j = 0; j < NKERNELS; j++) {
                const int k = (r + j) % NKERNELS;
                for (int m = 0; m < nvars; m++) {
                    const int v = (r + m) % nvars;
                    gbps[s][k][v][r] = time_batch(&vars[v], k, &p[s], reps[s][k][v]);
                }
            }
        }
    }
    for (int k = 0; k < NKERNELS; k++)
        for (size_t s = 0; s < NSIZES; s++)
            for (int v = 0; v < nvars; v++)
                res[k].st[s][v] = summarize(gbps[s][k][v], rounds);
    rc = 0;
out:
    while (ready > 0)
        planes_free(&p[--ready]);
    return rc;
}

int main(int argc, char **argv)
{
    int rounds = 31;
    const char *json = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--rounds") && i + 1 < argc) {
            rounds = atoi(argv[++i]);
        } else if (!strcmp(argv[i], "--json") && i + 1 < argc) {
            json = argv[++i];
        } else {
            fprintf(stderr, "usage: %s [--rounds N] [--json FILE]\n", argv[0]);
            return 2;
        }
    }
    if (rounds < 1 || rounds > MAX_ROUNDS) {
        fprintf(stderr, "bench_kernels: --rounds must be 1..%d\n", MAX_ROUNDS);
        return 2;
    }
    variant vars[MAX_VARIANTS];
    const int nvars = list_variants(vars);
    char model[256], have[64];
    bench_cpu_model(model, sizeof(model));
    flag_names(vmo_cpu_detect(), have, sizeof(have));
    printf("cpu: %s\nflags:%s\nload average: %.2f\n", model, have, bench_load_average());

    static result res[NKERNELS];
    if (run_rounds(vars, nvars, rounds, res) != 0)
        return 1;
    for (int k = 0; k < NKERNELS; k++)
        print_table(vars, nvars, k, &res[k], rounds);
    if (json && write_json(json, vars, nvars, res, rounds) != 0) {
        fprintf(stderr, "bench_kernels: cannot write %s\n", json);
        return 1;
    }
    return 0;
}
