/* Scoring: blur, lighting compensation, the fused difference kernel per zone, and the
 * combination of short and long differences (see score.h for the model). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cpu.h"
#include "kernels/diff.h"
#include "score.h"

/* ------------------------------------------------------------------------------------------
 * Combination
 * ---------------------------------------------------------------------------------------- */

void vmo_combine_frame(const vmo_raw_frame *f, int zone_count, const uint64_t *area,
                       vmo_combined *store, vmo_scored_frame *out)
{
    for (int z = 0; z < zone_count; z++) {
        uint32_t px = f->near[z] > f->far[z] ? f->near[z] : f->far[z];
        double a = (double)area[z];
        store->pixels[z] = px;
        store->changed[z] = a > 0 ? (float)(px / a) : 0.0f;
        store->mad[z] = a > 0 ? (float)((double)f->sad[z] / a) : 0.0f;
    }
    *out = (vmo_scored_frame){
        .index = f->index,
        .t = f->t,
        .flags = f->flags,
        .light = f->light,
        .zone_count = zone_count,
        .changed = store->changed,
        .mad = store->mad,
        .pixels = store->pixels,
        .near = f->near,
        .area = area,
        .plane = f->plane,
        .grid_near = f->grid_near,
        .grid_far = f->grid_far,
    };
}

/* ------------------------------------------------------------------------------------------
 * Blur and lighting
 * ---------------------------------------------------------------------------------------- */

static void blur_rows(vmo_plane *p, uint8_t *tmp)
{
    const int w = p->width;
    for (int y = 0; y < p->height; y++) {
        uint8_t *row = p->data + (ptrdiff_t)y * p->stride;
        memcpy(tmp, row, (size_t)w);
        for (int x = 0; x < w; x++) {
            int l = tmp[x > 0 ? x - 1 : 0], r = tmp[x + 1 < w ? x + 1 : w - 1];
            row[x] = (uint8_t)((l + 2 * tmp[x] + r + 2) >> 2);
        }
    }
}

static void blur_columns(vmo_plane *p, uint8_t *tmp)
{
    const int w = p->width, h = p->height;
    uint8_t *prev = tmp, *cur = tmp + w;
    memcpy(prev, p->data, (size_t)w);
    for (int y = 0; y < h; y++) {
        uint8_t *row = p->data + (ptrdiff_t)y * p->stride;
        const uint8_t *next = y + 1 < h ? row + p->stride : row;
        memcpy(cur, row, (size_t)w);
        for (int x = 0; x < w; x++)
            row[x] = (uint8_t)((prev[x] + 2 * cur[x] + next[x] + 2) >> 2);
        uint8_t *swap = prev;
        prev = cur;
        cur = swap;
    }
}

void vmo_blur121(vmo_plane *p, uint8_t *tmp)
{
    blur_rows(p, tmp);
    blur_columns(p, tmp);
}

int vmo_light_block_size(int w, int h)
{
    /* Blocks of at least 16x16 pixels, and at most VMO_LIGHT_MAX_BLOCKS of them. */
    int bs = 16;
    while ((w / bs) * (h / bs) > VMO_LIGHT_MAX_BLOCKS)
        bs *= 2;
    return bs;
}

int vmo_light_block_means(const vmo_plane *p, int bs, float *means)
{
    const int bw = p->width / bs, bh = p->height / bs;
    const double scale = 1.0 / ((double)bs * bs);
    int n = 0;
    for (int by = 0; by < bh; by++)
        for (int bx = 0; bx < bw; bx++) {
            uint32_t sum = 0;
            for (int y = 0; y < bs; y++) {
                const uint8_t *row = p->data + (ptrdiff_t)(by * bs + y) * p->stride + bx * bs;
                for (int x = 0; x < bs; x++)
                    sum += row[x];
            }
            means[n++] = (float)(sum * scale);
        }
    return n;
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* Least squares b ~= g a + o over the blocks flagged in keep. */
static int fit_line(const float *a, const float *b, const uint8_t *keep, int n, double *g,
                    double *o)
{
    double sa = 0, sb = 0, saa = 0, sab = 0;
    int k = 0;
    for (int i = 0; i < n; i++) {
        if (!keep[i])
            continue;
        sa += a[i], sb += b[i], saa += (double)a[i] * a[i], sab += (double)a[i] * b[i];
        k++;
    }
    if (k < 4)
        return 0;
    double den = k * saa - sa * sa;
    if (fabs(den) < 1e-9) { /* flat reference: offset only */
        *g = 1.0;
        *o = (sb - sa) / k;
        return 1;
    }
    *g = (k * sab - sa * sb) / den;
    *o = (sb - *g * sa) / k;
    return 1;
}

void vmo_light_fit_means(const float *a, const float *b, int n, int threshold,
                         vmo_light_work *work, vmo_light_fit *fit)
{
    memset(fit, 0, sizeof(*fit));
    fit->gain = 1.0;
    if (n < 12)
        return; /* too small a picture to tell lighting from motion */
    const double moved = VMO_MAX(1.0, threshold * 0.5);
    int changed = 0;
    for (int i = 0; i < n; i++)
        changed += fabs((double)b[i] - a[i]) > moved;
    fit->changed = changed / (double)n;
    if (fit->changed < 0.5)
        return; /* most of the frame is as it was: not a global change */
    double g = 1.0, o = 0.0;
    memset(work->keep, 1, (size_t)n);
    for (int it = 0; it < 3; it++) {
        if (!fit_line(a, b, work->keep, n, &g, &o))
            return;
        for (int i = 0; i < n; i++)
            work->sorted[i] = work->resid[i] = (float)fabs(b[i] - (g * a[i] + o));
        qsort(work->sorted, (size_t)n, sizeof(float), cmp_float);
        double cut = VMO_MAX(1.5, 2.5 * work->sorted[n / 2]);
        for (int i = 0; i < n; i++)
            work->keep[i] = work->resid[i] < cut;
    }
    int agree = 0, explained = 0;
    for (int i = 0; i < n; i++) {
        int fits = work->resid[i] < moved;
        agree += fits;
        explained += fits && fabs((double)b[i] - a[i]) > moved;
    }
    fit->gain = g;
    fit->offset = o;
    fit->agree = agree / (double)n;
    fit->explained = explained / (double)changed;
    /* A near-uniform change: one gain/offset explains nearly every block that changed. A
     * large object close to the camera changes blocks in ways no single gain explains
     * (measured: at most ~80% of its changed blocks, against >= 90% for lighting), so it
     * fails here and stays motion. */
    fit->lit = fit->explained >= 0.85 && g > 0.2 && g < 5.0;
}

void vmo_light_fit_planes(const vmo_plane *ref, const vmo_plane *cur, int threshold,
                          vmo_light_work *work, vmo_light_fit *fit)
{
    int bs = vmo_light_block_size(cur->width, cur->height);
    int n = vmo_light_block_means(ref, bs, work->a);
    vmo_light_block_means(cur, bs, work->b);
    vmo_light_fit_means(work->a, work->b, n, threshold, work, fit);
}

/* ------------------------------------------------------------------------------------------
 * Scorer
 * ---------------------------------------------------------------------------------------- */

/* What a pair of frames needs before differencing: its lighting fit and its threshold. */
typedef struct slot_fit {
    int lit;
    int threshold;   /* the pixel threshold for this pair (noise-adapted) */
    double gain, offset, changed;
} slot_fit;

struct vmo_scorer {
    vmo_settings s;
    vmo_zone_set zones;
    VmoDiffDSP dsp;
    int K;             /* long-baseline distance in frames, 0 = off */
    int RB, RR;        /* ring sizes: blurred planes, prepared planes */
    vmo_scored_fn emit;
    void *user;
    int w, h;          /* current analysis size, 0 before the first frame */
    vmo_zone_map map;
    vmo_plane *raw;    /* RR prepared planes (what callers see) */
    vmo_plane *blr;    /* RB blurred copies (what is differenced) */
    float *means;      /* RB * VMO_LIGHT_MAX_BLOCKS block means of the blurred planes */
    slot_fit *near_fit; /* RB: fit of (frame - 1 -> frame) */
    slot_fit *far_fit;  /* RB: fit of (frame - K -> frame) */
    int block_size, blocks;
    vmo_plane comp_a, comp_c; /* lighting-compensated past and future planes */
    uint8_t *tmp;      /* blur rows */
    int64_t n;         /* frames since the last restart */
    vmo_raw_frame *wait; /* K + 2 raw frames waiting for their future (ring) */
    int wait_head, wait_n;
    vmo_combined combined;
    vmo_light_work light;
    uint64_t cnt[256], sum[256];
    int grid;             /* measure per-cell counts */
    uint8_t *cell_labels; /* w * h: 1 + grid column, 0 under a privacy mask */
    int *cell_row;        /* h: grid row of each pixel row */
};

static void free_planes(vmo_scorer *sc)
{
    for (int i = 0; sc->raw && i < sc->RR; i++)
        vmo_plane_free(&sc->raw[i]);
    for (int i = 0; sc->blr && i < sc->RB; i++)
        vmo_plane_free(&sc->blr[i]);
    vmo_plane_free(&sc->comp_a);
    vmo_plane_free(&sc->comp_c);
    free(sc->tmp);
    sc->tmp = NULL;
    free(sc->cell_labels);
    sc->cell_labels = NULL;
    free(sc->cell_row);
    sc->cell_row = NULL;
    vmo_zone_map_free(&sc->map);
    sc->w = sc->h = 0;
}

void vmo_scorer_enable_grid(vmo_scorer *sc)
{
    sc->grid = 1;
}

/* Labels of the grid pass: the grid column of each pixel (+1), 0 where a mask hides it. */
static int setup_cells(vmo_scorer *sc, int w, int h)
{
    sc->cell_labels = malloc((size_t)w * (size_t)h);
    sc->cell_row = malloc(sizeof(int) * (size_t)h);
    if (!sc->cell_labels || !sc->cell_row)
        return VMO_ERR_NO_MEMORY;
    for (int y = 0; y < h; y++) {
        sc->cell_row[y] = (int)((int64_t)y * VMO_GRID_H / h);
        for (int x = 0; x < w; x++) {
            const size_t i = (size_t)y * (size_t)w + (size_t)x;
            sc->cell_labels[i] = sc->map.excluded && sc->map.excluded[i]
                                     ? 0
                                     : (uint8_t)(1 + (int64_t)x * VMO_GRID_W / w);
        }
    }
    return VMO_OK;
}

int vmo_scorer_create(vmo_scorer **out, const vmo_settings *s, const vmo_zone_set *zones,
                      double fps, unsigned cpu, vmo_scored_fn emit, void *user, vmo_errbuf *err)
{
    *out = NULL;
    vmo_scorer *sc = calloc(1, sizeof(*sc));
    if (!sc)
        return vmo_err_set(err, VMO_ERR_NO_MEMORY, "out of memory");
    sc->s = *s;
    if (vmo_zone_set_copy(&sc->zones, zones) != VMO_OK) {
        free(sc);
        return vmo_err_set(err, VMO_ERR_NO_MEMORY, "out of memory");
    }
    vmo_diff_dsp_init(&sc->dsp, cpu);
    if (!(fps > 0) || !isfinite(fps))
        fps = 25.0;
    if (s->long_baseline > 0)
        sc->K = (int)VMO_CLAMP(lround(s->long_baseline * fps), 2, 250);
    /* far(t) is measured when frame t + K arrives and reads frame t - K; near(t) when
     * t + 1 arrives and reads t - 1. A frame leaves once its far() is known. */
    sc->RB = VMO_MAX(2 * sc->K + 1, 3);
    sc->RR = sc->K + 2;
    sc->emit = emit;
    sc->user = user;
    sc->raw = calloc((size_t)sc->RR, sizeof(vmo_plane));
    sc->blr = calloc((size_t)sc->RB, sizeof(vmo_plane));
    sc->means = calloc((size_t)sc->RB * VMO_LIGHT_MAX_BLOCKS, sizeof(float));
    sc->near_fit = calloc((size_t)sc->RB, sizeof(slot_fit));
    sc->far_fit = calloc((size_t)sc->RB, sizeof(slot_fit));
    sc->wait = calloc((size_t)sc->K + 2, sizeof(vmo_raw_frame));
    if (!sc->raw || !sc->blr || !sc->means || !sc->near_fit || !sc->far_fit || !sc->wait) {
        vmo_scorer_destroy(&sc);
        return vmo_err_set(err, VMO_ERR_NO_MEMORY, "out of memory");
    }
    *out = sc;
    return VMO_OK;
}

void vmo_scorer_destroy(vmo_scorer **psc)
{
    if (!psc || !*psc)
        return;
    vmo_scorer *sc = *psc;
    free_planes(sc);
    free(sc->raw);
    free(sc->blr);
    free(sc->means);
    free(sc->near_fit);
    free(sc->far_fit);
    free(sc->wait);
    vmo_zone_set_clear(&sc->zones);
    free(sc);
    *psc = NULL;
}

int vmo_scorer_k(const vmo_scorer *sc)
{
    return sc->K;
}

const vmo_zone_map *vmo_scorer_zone_map(const vmo_scorer *sc)
{
    return sc->w ? &sc->map : NULL;
}

static int setup_size(vmo_scorer *sc, int w, int h, vmo_errbuf *err)
{
    free_planes(sc);
    int rc = vmo_zone_map_build(&sc->map, &sc->zones, w, h, err);
    if (rc != VMO_OK)
        return rc;
    for (int i = 0; i < sc->RR; i++)
        if (vmo_plane_alloc(&sc->raw[i], w, h))
            goto nomem;
    for (int i = 0; i < sc->RB; i++)
        if (vmo_plane_alloc(&sc->blr[i], w, h))
            goto nomem;
    if (vmo_plane_alloc(&sc->comp_a, w, h) || vmo_plane_alloc(&sc->comp_c, w, h))
        goto nomem;
    sc->tmp = malloc(2 * (size_t)w + 64);
    if (!sc->tmp)
        goto nomem;
    if (sc->grid && setup_cells(sc, w, h) != VMO_OK)
        goto nomem;
    sc->block_size = vmo_light_block_size(w, h);
    sc->blocks = (w / sc->block_size) * (h / sc->block_size);
    sc->w = w;
    sc->h = h;
    sc->n = 0;
    sc->wait_head = sc->wait_n = 0;
    return VMO_OK;
nomem:
    free_planes(sc);
    return vmo_err_set(err, VMO_ERR_NO_MEMORY, "out of memory for %dx%d analysis planes", w, h);
}

int vmo_scorer_begin(vmo_scorer *sc, int w, int h, vmo_plane **plane, vmo_errbuf *err)
{
    if (w != sc->w || h != sc->h) {
        if (sc->w) {
            int rc = vmo_scorer_flush(sc, err);
            if (rc != VMO_OK)
                return rc;
        }
        int rc = setup_size(sc, w, h, err);
        if (rc != VMO_OK)
            return rc;
    }
    *plane = &sc->raw[sc->n % sc->RR];
    return VMO_OK;
}

static int bslot(const vmo_scorer *sc, int64_t num)
{
    return (int)(num % sc->RB);
}

static const float *slot_means(const vmo_scorer *sc, int slot)
{
    return sc->means + (size_t)slot * VMO_LIGHT_MAX_BLOCKS;
}

/* Sensor and codec noise of a pair: the RMS of |d| over every other pixel of every other
 * row, leaving out differences above NOISE_TRIM (those are motion, not noise). Keyframes
 * refresh a codec's noise, so pairs that span one can be much noisier than others. */
#define NOISE_TRIM 12
#define NOISE_SIGMAS 3.5

static double pair_noise(const vmo_scorer *sc, int64_t ref, int64_t cur)
{
    const vmo_plane *a = &sc->blr[bslot(sc, ref)], *b = &sc->blr[bslot(sc, cur)];
    uint64_t sq = 0, n = 0;
    for (int y = 0; y < sc->h; y += 2) {
        const uint8_t *ra = a->data + (ptrdiff_t)y * a->stride;
        const uint8_t *rb = b->data + (ptrdiff_t)y * b->stride;
        for (int x = 0; x < sc->w; x += 2) {
            int d = ra[x] > rb[x] ? ra[x] - rb[x] : rb[x] - ra[x];
            if (d <= NOISE_TRIM) {
                sq += (uint64_t)(d * d);
                n++;
            }
        }
    }
    return n ? sqrt((double)sq / (double)n) : 0.0;
}

/* Lighting fit and threshold of the pair (ref -> cur) of frame numbers. */
static void fit_pair(vmo_scorer *sc, int64_t ref, int64_t cur, slot_fit *out)
{
    memset(out, 0, sizeof(*out));
    out->gain = 1.0;
    out->threshold = (int)sc->s.threshold;
    if (ref == cur)
        return;
    if (sc->s.lighting) {
        vmo_light_fit fit;
        vmo_light_fit_means(slot_means(sc, bslot(sc, ref)), slot_means(sc, bslot(sc, cur)),
                            sc->blocks, (int)sc->s.threshold, &sc->light, &fit);
        out->lit = fit.lit;
        out->gain = fit.gain;
        out->offset = fit.offset;
        out->changed = fit.changed;
    }
    if (out->lit) {
        /* Clipping and gamma make the lighting model inexact: demand a bit more. */
        out->threshold += 2;
    } else if (sc->s.adaptive_threshold) {
        int noisy = (int)ceil(NOISE_SIGMAS * pair_noise(sc, ref, cur));
        out->threshold = VMO_MAX(out->threshold, noisy);
    }
    out->threshold = VMO_MIN(out->threshold, 255);
}

/* dst = src mapped through v -> gain * v + offset (or its inverse). */
static void compensate(const vmo_plane *src, vmo_plane *dst, const slot_fit *f, int inverse)
{
    uint8_t lut[256];
    for (int v = 0; v < 256; v++) {
        double m = inverse ? (v - f->offset) / f->gain : f->gain * v + f->offset;
        lut[v] = (uint8_t)VMO_CLAMP(lround(m), 0, 255);
    }
    for (int y = 0; y < src->height; y++) {
        const uint8_t *s = src->data + (ptrdiff_t)y * src->stride;
        uint8_t *d = dst->data + (ptrdiff_t)y * dst->stride;
        for (int x = 0; x < src->width; x++)
            d[x] = lut[s[x]];
    }
}

static void note_lighting(vmo_raw_frame *f, const slot_fit *fit)
{
    if (fit->lit) {
        f->flags |= VMO_FRAME_LIGHTING;
        f->light = (float)VMO_MAX(f->light, fit->changed);
    }
}

/* Class counts -> zone counts. */
static void classes_to_zones(const vmo_scorer *sc, uint32_t *zcnt, uint64_t *zsum)
{
    if (zcnt)
        memset(zcnt, 0, sizeof(uint32_t) * (size_t)sc->map.zone_count);
    if (zsum)
        memset(zsum, 0, sizeof(uint64_t) * (size_t)sc->map.zone_count);
    for (int c = 1; c < sc->map.class_count; c++) {
        for (uint64_t bits = sc->map.class_zones[c]; bits; bits &= bits - 1) {
            int z = __builtin_ctzll(bits);
            if (zcnt)
                zcnt[z] += (uint32_t)sc->cnt[c];
            if (zsum)
                zsum[z] += sc->sum[c];
        }
    }
}

static void clear_classes(vmo_scorer *sc)
{
    memset(sc->cnt, 0, sizeof(uint64_t) * (size_t)sc->map.class_count);
    memset(sc->sum, 0, sizeof(uint64_t) * (size_t)sc->map.class_count);
}

/* Sum of |d| of frame `cur` against `prev` per zone (the mad), lighting compensated. */
static void measure_sad(vmo_scorer *sc, int64_t prev, int64_t cur, const slot_fit *f,
                        vmo_raw_frame *u)
{
    const vmo_plane *a = &sc->blr[bslot(sc, prev)], *b = &sc->blr[bslot(sc, cur)];
    if (f->lit) {
        compensate(a, &sc->comp_a, f, 0);
        a = &sc->comp_a;
    }
    clear_classes(sc);
    for (int y = 0; y < sc->h; y++)
        sc->dsp.diff_row(b->data + (ptrdiff_t)y * b->stride, a->data + (ptrdiff_t)y * a->stride,
                         sc->map.labels + (ptrdiff_t)y * sc->map.width, sc->w, f->threshold,
                         sc->cnt, sc->sum);
    classes_to_zones(sc, NULL, u->sad);
}

/* The same AND count per grid cell: one pass with the cell labels, summed per band of
 * rows that share a grid row. */
static void measure_cells(vmo_scorer *sc, const vmo_plane *a, const vmo_plane *b,
                          const vmo_plane *c, int tab, int tcb, uint32_t *grid)
{
    memset(grid, 0, sizeof(uint32_t) * VMO_GRID_CELLS);
    for (int y = 0; y < sc->h;) {
        const int row = sc->cell_row[y];
        memset(sc->cnt, 0, sizeof(uint64_t) * (VMO_GRID_W + 1));
        for (; y < sc->h && sc->cell_row[y] == row; y++)
            sc->dsp.and_row(a->data + (ptrdiff_t)y * a->stride,
                            b->data + (ptrdiff_t)y * b->stride,
                            c->data + (ptrdiff_t)y * c->stride,
                            sc->cell_labels + (ptrdiff_t)y * sc->w, sc->w, tab, tcb, sc->cnt);
        for (int x = 0; x < VMO_GRID_W; x++)
            grid[row * VMO_GRID_W + x] = (uint32_t)sc->cnt[x + 1];
    }
}

/* Pixels of frame t that differ from frame `past` and from frame `future`, per zone (and
 * per grid cell into `grid`, when not NULL). fp: the fit of (past -> t); ff: the fit of
 * (t -> future). */
static void measure_both(vmo_scorer *sc, int64_t past, int64_t t, int64_t future,
                         const slot_fit *fp, const slot_fit *ff, vmo_raw_frame *f,
                         uint32_t *out, uint32_t *grid)
{
    const vmo_plane *a = &sc->blr[bslot(sc, past)], *b = &sc->blr[bslot(sc, t)];
    const vmo_plane *c = &sc->blr[bslot(sc, future)];
    if (fp->lit) {
        compensate(a, &sc->comp_a, fp, 0);
        a = &sc->comp_a;
    }
    if (ff->lit) {
        compensate(c, &sc->comp_c, ff, 1);
        c = &sc->comp_c;
    }
    note_lighting(f, fp);
    note_lighting(f, ff);
    const int tab = fp->threshold, tcb = ff->threshold;
    clear_classes(sc);
    for (int y = 0; y < sc->h; y++)
        sc->dsp.and_row(a->data + (ptrdiff_t)y * a->stride, b->data + (ptrdiff_t)y * b->stride,
                        c->data + (ptrdiff_t)y * c->stride,
                        sc->map.labels + (ptrdiff_t)y * sc->map.width, sc->w, tab, tcb,
                        sc->cnt);
    classes_to_zones(sc, out, NULL);
    if (grid)
        measure_cells(sc, a, b, c, tab, tcb, grid);
}

/* Copies the prepared plane into its blurred slot, blurs it and caches its block means. */
static void blur_into(vmo_scorer *sc, const vmo_plane *src, int slot)
{
    vmo_plane *dst = &sc->blr[slot];
    for (int y = 0; y < sc->h; y++)
        memcpy(dst->data + (ptrdiff_t)y * dst->stride, src->data + (ptrdiff_t)y * src->stride,
               (size_t)sc->w);
    for (int i = 0; i < sc->s.blur; i++)
        vmo_blur121(dst, sc->tmp);
    if (sc->s.lighting)
        vmo_light_block_means(dst, sc->block_size,
                              sc->means + (size_t)slot * VMO_LIGHT_MAX_BLOCKS);
}

/* Waiting frames, oldest first; frame number of wait_at(i) is n - wait_n + i. */
static vmo_raw_frame *wait_at(vmo_scorer *sc, int i)
{
    return &sc->wait[(sc->wait_head + i) % (sc->K + 2)];
}

static vmo_raw_frame *wait_frame(vmo_scorer *sc, int64_t num)
{
    return wait_at(sc, (int)(num - (sc->n - sc->wait_n)));
}

/* near(t), once frame t + 1 (or the end) is known. */
static void measure_near(vmo_scorer *sc, int64_t t, int64_t next)
{
    if (next == t || t == 0)
        return; /* no past or no future: nothing differs both ways */
    vmo_raw_frame *f = wait_frame(sc, t);
    measure_both(sc, t - 1, t, next, &sc->near_fit[bslot(sc, t)],
                 &sc->near_fit[bslot(sc, next)], f, f->near, sc->grid ? f->grid_near : NULL);
}

/* The oldest waiting frame (number t) learns its far future: measure far(t), score it and
 * hand it on. */
static int complete_oldest(vmo_scorer *sc, int64_t future)
{
    const int64_t t = sc->n - sc->wait_n;
    vmo_raw_frame *f = wait_at(sc, 0);
    if (sc->K > 0 && future > t && t > 0) {
        slot_fit ff;
        if (future - t == sc->K)
            ff = sc->far_fit[bslot(sc, future)];
        else
            fit_pair(sc, t, future, &ff);
        measure_both(sc, t >= sc->K ? t - sc->K : 0, t, future, &sc->far_fit[bslot(sc, t)],
                     &ff, f, f->far, sc->grid ? f->grid_far : NULL);
    }
    vmo_scored_frame out;
    vmo_combine_frame(f, sc->map.zone_count, sc->map.zone_area, &sc->combined, &out);
    if (!sc->grid)
        out.grid_near = out.grid_far = NULL;
    sc->wait_head = (sc->wait_head + 1) % (sc->K + 2);
    sc->wait_n--;
    return sc->emit ? sc->emit(sc->user, &out) : 0;
}

int vmo_scorer_end(vmo_scorer *sc, int64_t index, double t, uint32_t flags, vmo_errbuf *err)
{
    (void)err;
    const int64_t n = sc->n;
    blur_into(sc, &sc->raw[n % sc->RR], bslot(sc, n));

    vmo_raw_frame *u = &sc->wait[(sc->wait_head + sc->wait_n) % (sc->K + 2)];
    sc->wait_n++;
    sc->n++;
    memset(u, 0, sizeof(*u));
    u->index = index;
    u->t = t;
    u->flags = flags & VMO_FRAME_KEY;
    u->plane = &sc->raw[n % sc->RR];
    if (n == 0) {
        u->flags |= VMO_FRAME_RESTART;
        fit_pair(sc, n, n, &sc->near_fit[bslot(sc, n)]);
    } else {
        slot_fit *nf = &sc->near_fit[bslot(sc, n)];
        fit_pair(sc, n - 1, n, nf);
        note_lighting(u, nf);
        measure_sad(sc, n - 1, n, nf, u);
        measure_near(sc, n - 1, n);
    }
    if (sc->K > 0)
        fit_pair(sc, n >= sc->K ? n - sc->K : 0, n, &sc->far_fit[bslot(sc, n)]);
    /* With the long baseline, frame n - K is now complete; without it, frame n - 1. */
    int cancel = 0;
    if (sc->wait_n > VMO_MAX(sc->K, 1))
        cancel = complete_oldest(sc, n);
    return cancel ? VMO_ERR_CANCELLED : VMO_OK;
}

int vmo_scorer_flush(vmo_scorer *sc, vmo_errbuf *err)
{
    (void)err;
    if (!sc->w || sc->n == 0)
        return VMO_OK;
    /* Frames whose future never came: after the end, the scene is what it last was, so
     * their future is the last frame. */
    const int64_t last = sc->n - 1;
    int cancel = 0;
    while (sc->wait_n > 0) {
        if (cancel) { /* after a cancel the rest is dropped without calling back */
            sc->wait_head = (sc->wait_head + 1) % (sc->K + 2);
            sc->wait_n--;
            continue;
        }
        cancel = complete_oldest(sc, last);
    }
    sc->n = 0;
    sc->wait_head = 0;
    return cancel ? VMO_ERR_CANCELLED : VMO_OK;
}
