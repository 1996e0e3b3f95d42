/* Difference kernels, checkasm style: every ISA variant this CPU runs against the C
 * reference, on the same seeded inputs (tu_seed(); VMO_TEST_SEED replays a failure), plus
 * the dispatch ladder and the CPU mask.
 *
 * Rows end where a PROT_NONE page begins, so a variant reading one byte past width
 * crashes its test (Check forks per test). counts/sums start from the same non-zero
 * sentinels in both runs (kernels add to them) and all 256 entries are compared.
 * diff_row and and_row get the same treatment; and_row's inputs also put each of its two
 * differences at, just below and just above its own threshold. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <check.h>

#include "cpu.h"
#include "internal.h"
#include "kernels/diff.h"
#include "tutil.h"

/* Cumulative flag sets, as vmo_diff_dsp_init() climbs them. */
static const unsigned isa_sets[] = { VMO_CPU_SSE2, VMO_CPU_SSE2 | VMO_CPU_AVX2, VMO_CPU_NEON };

/* ------------------------------------------------------------------------------------------
 * Buffers that end at a guard page
 * ---------------------------------------------------------------------------------------- */

typedef struct guarded {
    uint8_t *map;
    size_t map_size;
    uint8_t *end; /* first byte of the PROT_NONE page */
} guarded;

/* Room for `size` readable bytes right before a guard page. */
static guarded guarded_alloc(size_t size)
{
    const size_t page = (size_t)sysconf(_SC_PAGESIZE);
    const size_t data = (size + page - 1) / page * page;
    guarded g = { NULL, data + page, NULL };
    void *m = mmap(NULL, g.map_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ck_assert_msg(m != MAP_FAILED, "mmap of %zu bytes failed", g.map_size);
    g.map = m;
    g.end = g.map + data;
    ck_assert_int_eq(mprotect(g.end, page, PROT_NONE), 0);
    return g;
}

static void guarded_free(guarded *g)
{
    munmap(g->map, g->map_size);
    g->map = NULL;
}

/* ------------------------------------------------------------------------------------------
 * Inputs
 * ---------------------------------------------------------------------------------------- */

enum { DATA_RANDOM, DATA_ZERO, DATA_FULL, DATA_0_255, DATA_NEAR, DATA_KINDS };

/* Fills a and b. DATA_NEAR puts |a - b| at threshold - 1, threshold or threshold + 1 (where
 * those exist), the values a wrong compare gets wrong. */
static void fill_data(uint8_t *a, uint8_t *b, int w, int kind, int threshold, uint32_t *seed)
{
    for (int x = 0; x < w; x++) {
        const uint32_t r = tu_rand(seed);
        switch (kind) {
        case DATA_RANDOM:
            a[x] = (uint8_t)r;
            b[x] = (uint8_t)(r >> 8);
            break;
        case DATA_ZERO:
            a[x] = b[x] = 0;
            break;
        case DATA_FULL:
            a[x] = b[x] = 255;
            break;
        case DATA_0_255:
            a[x] = r & 1 ? 255 : 0;
            b[x] = r & 2 ? 255 : 0;
            break;
        default: {
            const int d = VMO_CLAMP(threshold + (int)(r % 3) - 1, 0, 255);
            const int lo = (int)((r >> 8) % (256 - d));
            a[x] = (uint8_t)(r & 4 ? lo : lo + d);
            b[x] = (uint8_t)(r & 4 ? lo + d : lo);
            break;
        }
        }
    }
}

enum {
    LABEL_CONSTANT,   /* one label for the whole row */
    LABEL_RUNS,       /* long runs of random length, like zones */
    LABEL_EDGES,      /* runs that change at multiples of 16 and 32, and one off them */
    LABEL_NARROW,     /* runs of 1..40 pixels: several labels per vector */
    LABEL_ISLANDS,    /* one label with short islands of another */
    LABEL_RANDOM,     /* every pixel its own random label */
    LABEL_ALL_VALUES, /* 0..255 in turn, so every counts[]/sums[] slot is hit */
    LABEL_KINDS
};

static void fill_labels(uint8_t *l, int w, int kind, uint32_t *seed)
{
    uint8_t label = (uint8_t)tu_rand(seed);
    const uint32_t row = tu_rand(seed);
    /* LABEL_EDGES: changes at multiples of 16 or 32, shifted by -1, 0 or +1 */
    const int unit = row & 8 ? 32 : 16, shift = (int)(row % 3) - 1;
    int run = 0;
    for (int x = 0; x < w; x++) {
        const uint32_t r = tu_rand(seed);
        switch (kind) {
        case LABEL_CONSTANT:
            break;
        case LABEL_RUNS:
            if (run-- <= 0) {
                label = (uint8_t)r;
                run = 20 + (int)(r >> 8) % 300;
            }
            break;
        case LABEL_EDGES:
            if (x > 0 && (x - shift) % unit == 0 && (r & 3))
                label = (uint8_t)(r >> 8);
            break;
        case LABEL_NARROW:
            if (run-- <= 0) {
                label = (uint8_t)r;
                run = (int)(r >> 8) % 40;
            }
            break;
        case LABEL_ISLANDS:
            l[x] = (r & 15) == 0 ? (uint8_t)(label + 1 + (r >> 8) % 3) : label;
            continue;
        case LABEL_RANDOM:
            label = (uint8_t)(r >> 4);
            break;
        default:
            label = (uint8_t)(x + (int)(row >> 8));
            break;
        }
        l[x] = label;
    }
}

/* ------------------------------------------------------------------------------------------
 * One comparison
 * ---------------------------------------------------------------------------------------- */

typedef struct sentinels {
    uint64_t counts[256], sums[256];
} sentinels;

static void fill_sentinels(sentinels *s, uint32_t *seed)
{
    for (int i = 0; i < 256; i++) {
        s->counts[i] = (uint64_t)tu_rand(seed) << 20 | tu_rand(seed);
        s->sums[i] = (uint64_t)tu_rand(seed) << 24 | tu_rand(seed);
    }
}

/* Runs both kernels on one row from the same sentinels and compares all 512 totals. */
static void check_row(vmo_diff_row_fn opt, const uint8_t *a, const uint8_t *b, const uint8_t *l,
                      int w, int threshold, const char *what, uint32_t seed)
{
    sentinels ref, got;
    uint32_t s = seed ^ 0x9E3779B9u;
    fill_sentinels(&ref, &s);
    got = ref;
    vmo_diff_row_c(a, b, l, w, threshold, ref.counts, ref.sums);
    opt(a, b, l, w, threshold, got.counts, got.sums);
    /* ck_assert records every call through a pipe: assert only once something differs. */
    for (int i = 0; i < 256; i++) {
        if (got.counts[i] != ref.counts[i] || got.sums[i] != ref.sums[i])
            ck_abort_msg("%s w=%d threshold=%d: label %d counts %llu (C %llu) sums %llu "
                         "(C %llu); VMO_TEST_SEED=%u",
                         what, w, threshold, i, (unsigned long long)got.counts[i],
                         (unsigned long long)ref.counts[i], (unsigned long long)got.sums[i],
                         (unsigned long long)ref.sums[i], tu_seed());
    }
}

/* The variant for flag set `want`, or NULL (and a note) when this CPU cannot run it or it
 * has no kernel of its own. */
static vmo_diff_row_fn variant(unsigned want)
{
    VmoDiffDSP ref, opt;
    vmo_diff_dsp_init(&ref, 0);
    vmo_diff_dsp_init(&opt, want);
    if ((vmo_cpu_detect() & want) != want || opt.diff_row == ref.diff_row) {
        fprintf(stderr, "flags %#x: no such variant here, skipped\n", want);
        return NULL;
    }
    return opt.diff_row;
}

/* Buffers of `w` bytes (and some slack) that end at their guard pages: a, b, labels, and
 * c for and_row. */
typedef struct rowbufs {
    guarded ga, gb, gl, gc;
} rowbufs;

static rowbufs rowbufs_alloc(int w)
{
    return (rowbufs){ guarded_alloc((size_t)w + 64), guarded_alloc((size_t)w + 64),
                      guarded_alloc((size_t)w + 64), guarded_alloc((size_t)w + 64) };
}

static void rowbufs_free(rowbufs *r)
{
    guarded_free(&r->ga);
    guarded_free(&r->gb);
    guarded_free(&r->gl);
    guarded_free(&r->gc);
}

/* Thresholds for a row: every value, or the edge values plus a few random ones. */
static int thresholds(int *out, int all, uint32_t *seed)
{
    static const int edges[] = { 0, 1, 2, 126, 127, 128, 129, 254, 255 };
    int n = 0;
    if (all) {
        for (int t = 0; t < 256; t++)
            out[n++] = t;
        return n;
    }
    for (size_t i = 0; i < VMO_ARRAY_SIZE(edges); i++)
        out[n++] = edges[i];
    for (int i = 0; i < 3; i++)
        out[n++] = (int)(tu_rand(seed) & 255);
    return n;
}

/* Every label and data kind at width w. The rows end at the guard page (slack 0) or a few
 * bytes before it, which moves the start's alignment: a, b and labels each differently. */
static void check_width(vmo_diff_row_fn opt, rowbufs *r, int w, int all_thresholds, uint32_t *seed)
{
    int thr[256 + 12];
    for (int lk = 0; lk < LABEL_KINDS; lk++) {
        for (int dk = 0; dk < DATA_KINDS; dk++) {
            const int sa = lk == 0 && dk == 0 ? 0 : (int)(tu_rand(seed) % 32);
            const int sb = lk == 0 && dk == 0 ? 0 : (int)(tu_rand(seed) % 32);
            const int sl = lk == 0 && dk == 0 ? 0 : (int)(tu_rand(seed) % 32);
            uint8_t *a = r->ga.end - sa - w, *b = r->gb.end - sb - w, *l = r->gl.end - sl - w;
            const uint32_t row_seed = tu_rand(seed);
            uint32_t s = row_seed;
            fill_labels(l, w, lk, &s);
            const int n = thresholds(thr, all_thresholds && dk != DATA_NEAR, seed);
            for (int i = 0; i < n; i++) {
                char what[96];
                snprintf(what, sizeof(what), "labels=%d data=%d offsets=%d/%d/%d", lk, dk,
                         (int)((uintptr_t)a & 31), (int)((uintptr_t)b & 31),
                         (int)((uintptr_t)l & 31));
                s = row_seed + (uint32_t)i;
                fill_data(a, b, w, dk, thr[i], &s);
                check_row(opt, a, b, l, w, thr[i], what, row_seed);
            }
        }
    }
}

/* ------------------------------------------------------------------------------------------
 * and_row: inputs and one comparison
 * ---------------------------------------------------------------------------------------- */

enum {
    AND_RANDOM,   /* a, b, c independent random bytes */
    AND_ZERO,     /* all 0: no pixel passes */
    AND_FULL,     /* all 255 */
    AND_0_255,    /* 0 or 255 at random: differences 0 or 255 only */
    AND_NEAR,     /* each difference at its threshold - 1, threshold or threshold + 1 */
    AND_ONE,      /* exactly one of the two tests passes (where the thresholds allow it) */
    AND_ALL_OVER, /* b at one end, a and c at the other: every pixel passes below 255 */
    AND_KINDS
};

/* One pixel with |a - b| = dab and |c - b| = dcb (0..255 each); r picks the sides of b that
 * a and c lie on, and b within what those sides leave. */
static void put_pixel(uint8_t *a, uint8_t *b, uint8_t *c, int dab, int dcb, uint32_t r)
{
    const int sa = r & 1 ? 1 : -1;
    int sc = r & 2 ? 1 : -1;
    /* On opposite sides two large differences may not fit; on the same side they do. */
    if (sa != sc && dab + dcb > 255)
        sc = sa;
    const int lo = VMO_MAX(sa < 0 ? dab : 0, sc < 0 ? dcb : 0);
    const int hi = VMO_MIN(sa > 0 ? 255 - dab : 255, sc > 0 ? 255 - dcb : 255);
    const int vb = lo + (int)((r >> 2) % (uint32_t)(hi - lo + 1));
    *b = (uint8_t)vb;
    *a = (uint8_t)(vb + sa * dab);
    *c = (uint8_t)(vb + sc * dcb);
}

/* A difference around threshold t: t - 1, t or t + 1 where that exists. */
static int around(int t, uint32_t r)
{
    return VMO_CLAMP(t + (int)(r % 3) - 1, 0, 255);
}

/* A difference that passes (> t; 255 when none does) or fails (<= t) the test of t. */
static int passing(int t, uint32_t r)
{
    return t < 255 ? t + 1 + (int)(r % (uint32_t)(255 - t)) : 255;
}

static int failing(int t, uint32_t r)
{
    return r & 1 ? t : (int)((r >> 1) % (uint32_t)(t + 1));
}

static void fill_and_data(uint8_t *a, uint8_t *b, uint8_t *c, int w, int kind, int tab, int tcb,
                          uint32_t *seed)
{
    const int two = kind == AND_NEAR || kind == AND_ONE; /* kinds that need more bits */
    for (int x = 0; x < w; x++) {
        const uint32_t r = tu_rand(seed), q = two ? tu_rand(seed) : 0;
        switch (kind) {
        case AND_RANDOM:
            a[x] = (uint8_t)r;
            b[x] = (uint8_t)(r >> 8);
            c[x] = (uint8_t)(r >> 16);
            break;
        case AND_ZERO:
        case AND_FULL:
            a[x] = b[x] = c[x] = kind == AND_ZERO ? 0 : 255;
            break;
        case AND_0_255:
            a[x] = r & 1 ? 255 : 0;
            b[x] = r & 2 ? 255 : 0;
            c[x] = r & 4 ? 255 : 0;
            break;
        case AND_NEAR:
            put_pixel(a + x, b + x, c + x, around(tab, r), around(tcb, r >> 4), q);
            break;
        case AND_ONE:
            if (r & 1)
                put_pixel(a + x, b + x, c + x, passing(tab, r >> 1), failing(tcb, r >> 12), q);
            else
                put_pixel(a + x, b + x, c + x, failing(tab, r >> 1), passing(tcb, r >> 12), q);
            break;
        default:
            b[x] = r & 1 ? 255 : 0;
            a[x] = c[x] = (uint8_t)(255 - b[x]);
            break;
        }
    }
}

/* Runs both kernels on one row from the same sentinels and compares all 256 counts. */
static void check_and_row(vmo_and_row_fn opt, const uint8_t *a, const uint8_t *b, const uint8_t *c,
                          const uint8_t *l, int w, int tab, int tcb, const char *what,
                          const sentinels *start)
{
    sentinels ref = *start, got = *start;
    vmo_and_row_c(a, b, c, l, w, tab, tcb, ref.counts);
    opt(a, b, c, l, w, tab, tcb, got.counts);
    for (int i = 0; i < 256; i++) {
        if (got.counts[i] != ref.counts[i])
            ck_abort_msg("%s w=%d thr_ab=%d thr_cb=%d: label %d counts %llu (C %llu); "
                         "VMO_TEST_SEED=%u",
                         what, w, tab, tcb, i, (unsigned long long)got.counts[i],
                         (unsigned long long)ref.counts[i], tu_seed());
    }
}

/* The and_row variant for flag set `want`, or NULL (and a note), as variant(). */
static vmo_and_row_fn and_variant(unsigned want)
{
    VmoDiffDSP ref, opt;
    vmo_diff_dsp_init(&ref, 0);
    vmo_diff_dsp_init(&opt, want);
    if ((vmo_cpu_detect() & want) != want || opt.and_row == ref.and_row) {
        fprintf(stderr, "flags %#x: no and_row variant here, skipped\n", want);
        return NULL;
    }
    return opt.and_row;
}

/* Threshold pairs for a row. Sampled: each edge value against a random edge value, on
 * either side, and a few random pairs. All: every value of each threshold against a random
 * other one, and every pair of edge values. */
static int threshold_pairs(int (*out)[2], int all, uint32_t *seed)
{
    static const int edges[] = { 0, 1, 2, 126, 127, 128, 129, 254, 255 };
    const int ne = (int)VMO_ARRAY_SIZE(edges);
    int n = 0;
    for (int i = 0; i < ne; i++) {
        for (int j = 0; j < ne; j++) {
            if (all || j == (int)(tu_rand(seed) % (uint32_t)ne)) {
                out[n][0] = edges[i];
                out[n++][1] = edges[j];
            }
            if (!all && j == (int)(tu_rand(seed) % (uint32_t)ne)) {
                out[n][0] = edges[j];
                out[n++][1] = edges[i];
            }
        }
    }
    for (int t = 0; t < (all ? 256 : 3); t++) {
        const int u = (int)(tu_rand(seed) & 255);
        out[n][0] = all ? t : u;
        out[n++][1] = (int)(tu_rand(seed) & 255);
        out[n][0] = (int)(tu_rand(seed) & 255);
        out[n++][1] = all ? t : u;
    }
    return n;
}

/* Every label and data kind at width w, as check_width(): a, b, c and labels each end a
 * few bytes before their guard page (or at it), so each starts at its own alignment. */
static void check_and_width(vmo_and_row_fn opt, rowbufs *r, int w, int all_thresholds,
                            uint32_t *seed)
{
    static int thr[2 * 9 * 9 + 2 * 256][2];
    for (int lk = 0; lk < LABEL_KINDS; lk++) {
        for (int dk = 0; dk < AND_KINDS; dk++) {
            int off[4] = { 0, 0, 0, 0 };
            for (int k = 0; k < 4 && (lk || dk); k++)
                off[k] = (int)(tu_rand(seed) % 32);
            uint8_t *a = r->ga.end - off[0] - w, *b = r->gb.end - off[1] - w;
            uint8_t *c = r->gc.end - off[2] - w, *l = r->gl.end - off[3] - w;
            const uint32_t row_seed = tu_rand(seed);
            uint32_t s = row_seed;
            fill_labels(l, w, lk, &s);
            /* The other kinds have differences of 0 and 255 only: the edges say it all. */
            const int sweep = dk == AND_RANDOM || dk == AND_NEAR || dk == AND_ONE;
            const int n = threshold_pairs(thr, all_thresholds && sweep, seed);
            char what[96];
            snprintf(what, sizeof(what), "labels=%d data=%d offsets=%d/%d/%d/%d", lk, dk,
                     (int)((uintptr_t)a & 31), (int)((uintptr_t)b & 31), (int)((uintptr_t)c & 31),
                     (int)((uintptr_t)l & 31));
            sentinels start;
            fill_sentinels(&start, &s);
            for (int i = 0; i < n; i++) {
                s = row_seed + (uint32_t)i;
                fill_and_data(a, b, c, w, dk, thr[i][0], thr[i][1], &s);
                check_and_row(opt, a, b, c, l, w, thr[i][0], thr[i][1], what, &start);
            }
        }
    }
}

/* ------------------------------------------------------------------------------------------
 * Tests
 * ---------------------------------------------------------------------------------------- */

/* Widths 1..130 straddle every vector size, pair and tail; all thresholds at a few. */
START_TEST(diff_row_matches_reference_small)
{
    vmo_diff_row_fn opt = variant(isa_sets[_i]);
    if (!opt)
        return;
    uint32_t seed = tu_seed() + (uint32_t)_i;
    rowbufs r = rowbufs_alloc(130);
    for (int w = 1; w <= 130; w++) {
        const int all = w == 1 || w == 15 || w == 16 || w == 17 || w == 31 || w == 32 || w == 33 ||
                        w == 63 || w == 64 || w == 65 || w == 97 || w == 130;
        check_width(opt, &r, w, all, &seed);
    }
    rowbufs_free(&r);
}
END_TEST

/* Analysis widths and long rows (many chunks per run, long sums). */
START_TEST(diff_row_matches_reference_large)
{
    static const int widths[] = { 160, 320, 426, 640, 1280, 1917, 1920, 8191, 20000 };
    vmo_diff_row_fn opt = variant(isa_sets[_i]);
    if (!opt)
        return;
    uint32_t seed = tu_seed() + 100 + (uint32_t)_i;
    for (size_t k = 0; k < VMO_ARRAY_SIZE(widths); k++) {
        rowbufs r = rowbufs_alloc(widths[k]);
        check_width(opt, &r, widths[k], 0, &seed);
        rowbufs_free(&r);
    }
}
END_TEST

/* A plane with an odd stride, row by row as score.c calls it: every row starts at another
 * alignment, and totals accumulate across calls. */
START_TEST(diff_plane_odd_stride)
{
    vmo_diff_row_fn opt = variant(isa_sets[_i]);
    if (!opt)
        return;
    uint32_t seed = tu_seed() + 200 + (uint32_t)_i;
    const int w = 333, h = 37, stride = 347;
    guarded ga = guarded_alloc((size_t)stride * h), gb = guarded_alloc((size_t)stride * h),
            gl = guarded_alloc((size_t)w * h);
    /* The last row of each plane ends at its guard page. */
    uint8_t *a = ga.end - (size_t)stride * (h - 1) - w, *b = gb.end - (size_t)stride * (h - 1) - w,
            *l = gl.end - (size_t)w * h;
    for (int y = 0; y < h; y++) {
        uint32_t s = tu_rand(&seed);
        fill_data(a + (size_t)y * stride, b + (size_t)y * stride, w, DATA_RANDOM, 0, &s);
        fill_labels(l + (size_t)y * w, w, y % 2 ? LABEL_RUNS : LABEL_EDGES, &s);
    }
    sentinels ref, got;
    fill_sentinels(&ref, &seed);
    got = ref;
    for (int y = 0; y < h; y++) {
        const size_t o = (size_t)y * stride;
        vmo_diff_row_c(a + o, b + o, l + (size_t)y * w, w, 40, ref.counts, ref.sums);
        opt(a + o, b + o, l + (size_t)y * w, w, 40, got.counts, got.sums);
    }
    ck_assert_msg(!memcmp(&ref, &got, sizeof(ref)), "plane totals differ; VMO_TEST_SEED=%u",
                  tu_seed());
    guarded_free(&ga);
    guarded_free(&gb);
    guarded_free(&gl);
}
END_TEST

/* Width 0 (and below) adds nothing and reads nothing: the pointers sit on guard pages. */
START_TEST(diff_row_empty)
{
    VmoDiffDSP dsp;
    vmo_diff_dsp_init(&dsp, isa_sets[_i] & vmo_cpu_detect());
    guarded g = guarded_alloc(1);
    sentinels s, before;
    uint32_t seed = tu_seed();
    fill_sentinels(&s, &seed);
    before = s;
    dsp.diff_row(g.end, g.end, g.end, 0, 10, s.counts, s.sums);
    dsp.diff_row(g.end, g.end, g.end, -5, 10, s.counts, s.sums);
    ck_assert(!memcmp(&s, &before, sizeof(s)));
    guarded_free(&g);
}
END_TEST

/* and_row, widths 1..130; both thresholds swept (each against random others) at a few. */
START_TEST(and_row_matches_reference_small)
{
    vmo_and_row_fn opt = and_variant(isa_sets[_i]);
    if (!opt)
        return;
    uint32_t seed = tu_seed() + 300 + (uint32_t)_i;
    rowbufs r = rowbufs_alloc(130);
    for (int w = 1; w <= 130; w++) {
        const int all = w == 1 || w == 15 || w == 16 || w == 17 || w == 31 || w == 32 || w == 33 ||
                        w == 63 || w == 64 || w == 65 || w == 97 || w == 130;
        check_and_width(opt, &r, w, all, &seed);
    }
    rowbufs_free(&r);
}
END_TEST

/* and_row at analysis widths and long rows: runs long enough to fill any narrow counter. */
START_TEST(and_row_matches_reference_large)
{
    static const int widths[] = { 160, 320, 426, 640, 1280, 1917, 1920, 8191, 20000 };
    vmo_and_row_fn opt = and_variant(isa_sets[_i]);
    if (!opt)
        return;
    uint32_t seed = tu_seed() + 400 + (uint32_t)_i;
    for (size_t k = 0; k < VMO_ARRAY_SIZE(widths); k++) {
        rowbufs r = rowbufs_alloc(widths[k]);
        check_and_width(opt, &r, widths[k], 0, &seed);
        rowbufs_free(&r);
    }
}
END_TEST

/* and_row over three planes with an odd stride, row by row as score.c calls it. */
START_TEST(and_plane_odd_stride)
{
    vmo_and_row_fn opt = and_variant(isa_sets[_i]);
    if (!opt)
        return;
    uint32_t seed = tu_seed() + 500 + (uint32_t)_i;
    const int w = 333, h = 37, stride = 347, tab = 40, tcb = 25;
    const size_t plane = (size_t)stride * h;
    guarded ga = guarded_alloc(plane), gb = guarded_alloc(plane), gc = guarded_alloc(plane),
            gl = guarded_alloc((size_t)w * h);
    /* The last row of each plane ends at its guard page. */
    const size_t lead = (size_t)stride * (h - 1) + w;
    uint8_t *a = ga.end - lead, *b = gb.end - lead, *c = gc.end - lead, *l = gl.end - (size_t)w * h;
    for (int y = 0; y < h; y++) {
        const size_t o = (size_t)y * stride;
        uint32_t s = tu_rand(&seed);
        fill_and_data(a + o, b + o, c + o, w, y % 3 ? AND_NEAR : AND_RANDOM, tab, tcb, &s);
        fill_labels(l + (size_t)y * w, w, y % 2 ? LABEL_RUNS : LABEL_EDGES, &s);
    }
    sentinels ref, got;
    fill_sentinels(&ref, &seed);
    got = ref;
    for (int y = 0; y < h; y++) {
        const size_t o = (size_t)y * stride;
        vmo_and_row_c(a + o, b + o, c + o, l + (size_t)y * w, w, tab, tcb, ref.counts);
        opt(a + o, b + o, c + o, l + (size_t)y * w, w, tab, tcb, got.counts);
    }
    ck_assert_msg(!memcmp(&ref, &got, sizeof(ref)), "plane counts differ; VMO_TEST_SEED=%u",
                  tu_seed());
    guarded_free(&ga);
    guarded_free(&gb);
    guarded_free(&gc);
    guarded_free(&gl);
}
END_TEST

/* and_row at width 0 (and below) adds nothing and reads nothing. */
START_TEST(and_row_empty)
{
    VmoDiffDSP dsp;
    vmo_diff_dsp_init(&dsp, isa_sets[_i] & vmo_cpu_detect());
    guarded g = guarded_alloc(1);
    sentinels s, before;
    uint32_t seed = tu_seed();
    fill_sentinels(&s, &seed);
    before = s;
    dsp.and_row(g.end, g.end, g.end, g.end, 0, 10, 10, s.counts);
    dsp.and_row(g.end, g.end, g.end, g.end, -5, 10, 10, s.counts);
    ck_assert(!memcmp(&s, &before, sizeof(s)));
    guarded_free(&g);
}
END_TEST

/* On x86-64 SSE2 is always there: a run where every variant skipped would prove nothing. */
START_TEST(sse2_variant_runs)
{
#if defined(__x86_64__) || defined(_M_X64)
    ck_assert_msg(vmo_cpu_detect() & VMO_CPU_SSE2, "SSE2 not detected on x86-64");
    ck_assert_ptr_nonnull(variant(VMO_CPU_SSE2));
    ck_assert(variant(VMO_CPU_SSE2) == vmo_diff_row_sse2);
    ck_assert(and_variant(VMO_CPU_SSE2) == vmo_and_row_sse2);
#elif defined(__aarch64__)
    ck_assert(vmo_cpu_detect() & VMO_CPU_NEON);
    ck_assert(variant(VMO_CPU_NEON) == vmo_diff_row_neon);
    ck_assert(and_variant(VMO_CPU_NEON) == vmo_and_row_neon);
#endif
}
END_TEST

START_TEST(dsp_init_ladder)
{
    VmoDiffDSP dsp;
    vmo_diff_dsp_init(&dsp, 0);
    ck_assert(dsp.diff_row == vmo_diff_row_c);
    ck_assert(dsp.and_row == vmo_and_row_c);
#if defined(__x86_64__) || defined(__i386__) || defined(_M_X64)
    vmo_diff_dsp_init(&dsp, VMO_CPU_SSE2);
    ck_assert(dsp.diff_row == vmo_diff_row_sse2);
    ck_assert(dsp.and_row == vmo_and_row_sse2);
    vmo_diff_dsp_init(&dsp, VMO_CPU_SSE2 | VMO_CPU_AVX2);
    ck_assert(dsp.diff_row == vmo_diff_row_avx2);
    ck_assert(dsp.and_row == vmo_and_row_avx2);
    /* The ladder climbs from SSE2: AVX2 alone does not skip a rung. */
    vmo_diff_dsp_init(&dsp, VMO_CPU_AVX2);
    ck_assert(dsp.diff_row == vmo_diff_row_c);
    ck_assert(dsp.and_row == vmo_and_row_c);
    vmo_diff_dsp_init(&dsp, VMO_CPU_NEON);
    ck_assert(dsp.diff_row == vmo_diff_row_c);
    ck_assert(dsp.and_row == vmo_and_row_c);
#elif defined(__aarch64__)
    vmo_diff_dsp_init(&dsp, VMO_CPU_NEON);
    ck_assert(dsp.diff_row == vmo_diff_row_neon);
    ck_assert(dsp.and_row == vmo_and_row_neon);
    vmo_diff_dsp_init(&dsp, VMO_CPU_SSE2 | VMO_CPU_AVX2);
    ck_assert(dsp.diff_row == vmo_diff_row_c);
    ck_assert(dsp.and_row == vmo_and_row_c);
#endif
}
END_TEST

START_TEST(cpu_mask_restricts_flags)
{
    const unsigned all = vmo_cpu_detect();
    vmo_set_cpu_mask(~0u);
    ck_assert_uint_eq(vmo_cpu_flags(), all);
    ck_assert_uint_eq(vmo_cpu_effective(), all);
    vmo_set_cpu_mask(0);
    ck_assert_uint_eq(vmo_cpu_flags(), 0);
    vmo_set_cpu_mask(VMO_CPU_SSE2);
    ck_assert_uint_eq(vmo_cpu_flags(), all & VMO_CPU_SSE2);
    vmo_set_cpu_mask(VMO_CPU_SSE2 | VMO_CPU_AVX2 | VMO_CPU_NEON);
    ck_assert_uint_eq(vmo_cpu_flags(), all);
    /* The mask never adds what the CPU lacks. */
    ck_assert_uint_eq(vmo_cpu_detect(), all);
    vmo_set_cpu_mask(~0u);
}
END_TEST

START_TEST(cpu_mask_parse)
{
    static const struct {
        const char *text;
        int ok;
        unsigned mask;
    } cases[] = {
        { "c", 1, 0 },
        { "scalar", 1, 0 },
        { "SSE2", 1, VMO_CPU_SSE2 },
        { "sse2", 1, VMO_CPU_SSE2 },
        { "avx2", 1, VMO_CPU_SSE2 | VMO_CPU_AVX2 },
        { "neon", 1, VMO_CPU_NEON },
        { "all", 1, ~0u },
        { "0", 1, 0 },
        { "3", 1, 3 },
        { "0x102", 1, 0x102 },
        { "010", 1, 8 },
        { "4294967295", 1, ~0u },
        { "", 0, 0 },
        { "-1", 0, 0 },
        { " 3", 0, 0 },
        { "3 ", 0, 0 },
        { "3x", 0, 0 },
        { "avx", 0, 0 },
        { "99999999999999999999", 0, 0 },
    };
    for (size_t i = 0; i < VMO_ARRAY_SIZE(cases); i++) {
        unsigned mask = 0xDEADu;
        const int rc = vmo_cpu_parse_mask(cases[i].text, &mask);
        ck_assert_msg((rc == 0) == cases[i].ok, "\"%s\": rc %d", cases[i].text, rc);
        ck_assert_uint_eq(mask, cases[i].ok ? cases[i].mask : 0xDEADu);
    }
    unsigned mask = 7;
    ck_assert_int_ne(vmo_cpu_parse_mask(NULL, &mask), 0);
    ck_assert_uint_eq(mask, 7);
}
END_TEST

/* VMO_CPU_MASK sets the mask the first time it is needed. Each Check test runs in its own
 * process, so this one reads the variable fresh (not with CK_FORK=no). */
START_TEST(cpu_mask_from_env)
{
    const char *fork = getenv("CK_FORK");
    if (fork && !strcmp(fork, "no"))
        return;
    setenv("VMO_CPU_MASK", _i == 0 ? "c" : _i == 1 ? "sse2" : "bogus", 1);
    const unsigned want = _i == 0 ? 0 : _i == 1 ? VMO_CPU_SSE2 : ~0u;
    ck_assert_uint_eq(vmo_cpu_flags(), vmo_cpu_detect() & want);
    /* vmo_set_cpu_mask() wins over the environment afterwards. */
    vmo_set_cpu_mask(~0u);
    ck_assert_uint_eq(vmo_cpu_flags(), vmo_cpu_detect());
}
END_TEST

static Suite *kernels_suite(void)
{
    Suite *s = suite_create("kernels");
    TCase *tc = tcase_create("diff");
    const int nsets = (int)VMO_ARRAY_SIZE(isa_sets);
    tcase_add_loop_test(tc, diff_row_matches_reference_small, 0, nsets);
    tcase_add_loop_test(tc, diff_row_matches_reference_large, 0, nsets);
    tcase_add_loop_test(tc, diff_plane_odd_stride, 0, nsets);
    tcase_add_loop_test(tc, diff_row_empty, 0, nsets);
    tcase_add_loop_test(tc, and_row_matches_reference_small, 0, nsets);
    tcase_add_loop_test(tc, and_row_matches_reference_large, 0, nsets);
    tcase_add_loop_test(tc, and_plane_odd_stride, 0, nsets);
    tcase_add_loop_test(tc, and_row_empty, 0, nsets);
    tcase_add_test(tc, sse2_variant_runs);
    tcase_add_test(tc, dsp_init_ladder);
    suite_add_tcase(s, tc);
    TCase *cpu = tcase_create("cpu");
    tcase_add_test(cpu, cpu_mask_restricts_flags);
    tcase_add_test(cpu, cpu_mask_parse);
    tcase_add_loop_test(cpu, cpu_mask_from_env, 0, 3);
    suite_add_tcase(s, cpu);
    return s;
}

int main(void)
{
    tu_seed(); /* print it once, before the tests fork */
    SRunner *sr = srunner_create(kernels_suite());
    srunner_run_all(sr, CK_NORMAL);
    const int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
