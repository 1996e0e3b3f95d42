/* NEON difference kernel (AArch64, where Advanced SIMD is always there).
 *
 * The walk of the x86 kernels (see diff_avx2.c for the reasoning) on 16-pixel chunks:
 * runs of one label keep their totals in registers, and counts[]/sums[] are touched only
 * when the label changes.
 *   - d = vabdq_u8(a, b); sums: vpadalq_u8 adds byte pairs of d into 16-bit lanes;
 *     counts: vcgtq_u8(d, threshold) is 0xFF (-1) per pixel over, subtracted from a byte
 *     counter. Both are folded into 64-bit lanes before they can wrap: at the latest every
 *     MAX_PAIRS pairs, and at every label change.
 *   - NEON has no movemask: vshrn_n_u16(.., 4) narrows a 0x00/0xFF byte mask to a 64-bit
 *     nibble mask (4 bits per pixel), which is all-ones when every pixel matched.
 *   - A zone edge (the run's label, then the label of the chunk's last pixel) is split with
 *     masks inline; any other chunk with several labels, and the row's tail (read as the
 *     chunk that ends at width, so no byte past width is read), go window by window
 *     straight into counts[]/sums[] after the run is flushed.
 * Rows under 16 pixels, and thresholds outside the contract's 0..255, go to the C
 * reference. and_row, at the end, walks its rows the same way. */
#include <arm_neon.h>
#include <stddef.h>
#include <stdint.h>

#include "kernels/diff.h"

#define VL          16
#define MAX_WINDOWS 4 /* label windows masked in a chunk before going pixel by pixel */
/* Pairs between folds: each pair adds up to 4 * 255 to a 16-bit lane of `sum16` and 2 to
 * a byte of `count8`, and one single chunk (2 * 255, 1) may come before the fold. */
#define MAX_PAIRS 63
#define INLINE    static inline __attribute__((always_inline))

/* The totals of the run being walked. */
typedef struct run_acc {
    uint16x8_t sum16;  /* sum of d since the last fold */
    uint8x16_t count8; /* pixels over the threshold since the last fold */
    uint64x2_t sum;    /* folded totals */
    uint64x2_t count;
} run_acc;

/* bytes_from(s) = 0xFF for bytes >= s, 0 below (s in 0..16): an unaligned load of this. */
static const uint8_t ff_from_16[2 * VL] = {
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
};

INLINE uint8x16_t bytes_from(int s)
{
    return vld1q_u8(ff_from_16 + VL - s);
}

/* Nibble mask of a 0x00/0xFF byte mask: bits 4i..4i+3 are byte i. */
INLINE uint64_t nibbles(uint8x16_t m)
{
    return vget_lane_u64(vreinterpret_u64_u8(vshrn_n_u16(vreinterpretq_u16_u8(m), 4)), 0);
}

INLINE void acc_zero(run_acc *r)
{
    r->sum16 = vdupq_n_u16(0);
    r->count8 = vdupq_n_u8(0);
    r->sum = vdupq_n_u64(0);
    r->count = vdupq_n_u64(0);
}

/* Adds one chunk: d, and its over mask (0xFF where d > threshold). */
INLINE void acc_add(run_acc *r, uint8x16_t d, uint8x16_t over)
{
    r->sum16 = vpadalq_u8(r->sum16, d);
    r->count8 = vsubq_u8(r->count8, over);
}

INLINE void acc_fold(run_acc *r)
{
    r->sum = vpadalq_u32(r->sum, vpaddlq_u16(r->sum16));
    r->count = vpadalq_u32(r->count, vpaddlq_u16(vpaddlq_u8(r->count8)));
    r->sum16 = vdupq_n_u16(0);
    r->count8 = vdupq_n_u8(0);
}

/* Folds and moves the run's totals into counts[label]/sums[label]. */
INLINE void acc_flush(run_acc *r, unsigned label, uint64_t *counts, uint64_t *sums)
{
    acc_fold(r);
    counts[label] += vaddvq_u64(r->count);
    sums[label] += vaddvq_u64(r->sum);
    r->sum = vdupq_n_u64(0);
    r->count = vdupq_n_u64(0);
}

/* Pixels [s, 16) of one chunk straight into counts[]/sums[]: one masked pass per window of
 * equal labels, then (random labels, not zones) pixel by pixel. Out of line: rare. */
static __attribute__((noinline)) void add_windows(const uint8_t *a, const uint8_t *b,
                                                  const uint8_t *labels, int s, int threshold,
                                                  uint64_t *counts, uint64_t *sums)
{
    const uint8x16_t l = vld1q_u8(labels);
    const uint8x16_t d = vabdq_u8(vld1q_u8(a), vld1q_u8(b));
    const uint8x16_t over1 = vandq_u8(vcgtq_u8(d, vdupq_n_u8((uint8_t)threshold)), vdupq_n_u8(1));
    for (int w = 0; w < MAX_WINDOWS && s < VL; w++) {
        const unsigned label = labels[s];
        /* The window runs from s up to the first pixel with another label (or 16). */
        const uint64_t other =
            ~nibbles(vceqq_u8(l, vdupq_n_u8((uint8_t)label))) & (~(uint64_t)0 << (4 * s));
        const int e = other ? __builtin_ctzll(other) / 4 : VL;
        const uint8x16_t win = vbicq_u8(bytes_from(s), bytes_from(e));
        counts[label] += vaddlvq_u8(vandq_u8(over1, win));
        sums[label] += vaddlvq_u8(vandq_u8(d, win));
        s = e;
    }
    for (; s < VL; s++) {
        const int di = a[s] > b[s] ? a[s] - b[s] : b[s] - a[s];
        counts[labels[s]] += di > threshold;
        sums[labels[s]] += (uint64_t)di;
    }
}

INLINE int pair_is_run(const uint8_t *labels, uint8x16_t run_v)
{
    const uint8x16_t e0 = vceqq_u8(vld1q_u8(labels), run_v);
    const uint8x16_t e1 = vceqq_u8(vld1q_u8(labels + VL), run_v);
    return nibbles(vandq_u8(e0, e1)) == ~(uint64_t)0;
}

/* Adds a pair of chunks whose labels are all the run's. */
INLINE void add_pair(const uint8_t *a, const uint8_t *b, uint8x16_t thr, run_acc *r)
{
    const uint8x16_t d0 = vabdq_u8(vld1q_u8(a), vld1q_u8(b));
    const uint8x16_t d1 = vabdq_u8(vld1q_u8(a + VL), vld1q_u8(b + VL));
    acc_add(r, d0, vcgtq_u8(d0, thr));
    acc_add(r, d1, vcgtq_u8(d1, thr));
}

void vmo_diff_row_neon(const uint8_t *a, const uint8_t *b, const uint8_t *labels, int width,
                       int threshold, uint64_t *counts, uint64_t *sums)
{
    if (width < VL || threshold < 0 || threshold > 255) {
        vmo_diff_row_c(a, b, labels, width, threshold, counts, sums);
        return;
    }
    const uint8x16_t thr = vdupq_n_u8((uint8_t)threshold);
    run_acc r;
    acc_zero(&r);
    unsigned label = labels[0];
    uint8x16_t run_v = vdupq_n_u8((uint8_t)label);
    const ptrdiff_t vec_end = width & ~(VL - 1), pair_end = vec_end - 2 * VL;
    ptrdiff_t x = 0;
    for (;;) {
        /* The hot loop: two chunks at a time while the labels stay the run's, for at most
         * MAX_PAIRS pairs before the fold below. */
        const ptrdiff_t stop =
            x + (MAX_PAIRS - 1) * 2 * VL < pair_end ? x + (MAX_PAIRS - 1) * 2 * VL : pair_end;
        while (x <= stop && __builtin_expect(pair_is_run(labels + x, run_v), 1)) {
            add_pair(a + x, b + x, thr, &r);
            x += 2 * VL;
        }
        acc_fold(&r);
        if (x >= vec_end)
            break;
        if (x > stop && x <= pair_end)
            continue; /* only the fold was due */
        /* One chunk: the last one, or one of a pair where the label changes. */
        const uint8x16_t d = vabdq_u8(vld1q_u8(a + x), vld1q_u8(b + x));
        const uint8x16_t over = vcgtq_u8(d, thr);
        const uint8x16_t l = vld1q_u8(labels + x);
        const uint8x16_t old = vceqq_u8(l, run_v);
        const uint64_t same = nibbles(old);
        /* At a zone edge the chunk holds the run's label (maybe none of it) and the label
         * of its last pixel, nothing else; an island of another label fails this test. */
        const unsigned next = labels[x + VL - 1];
        const uint8x16_t next_v = vdupq_n_u8((uint8_t)next);
        if (same == ~(uint64_t)0) {
            acc_add(&r, d, over);
        } else if ((same | nibbles(vceqq_u8(l, next_v))) == ~(uint64_t)0) {
            acc_add(&r, vandq_u8(d, old), vandq_u8(over, old));
            acc_flush(&r, label, counts, sums);
            acc_add(&r, vbicq_u8(d, old), vbicq_u8(over, old));
            label = next;
            run_v = next_v;
        } else {
            acc_flush(&r, label, counts, sums);
            add_windows(a + x, b + x, labels + x, 0, threshold, counts, sums);
            label = next;
            run_v = next_v;
        }
        x += VL;
    }
    acc_flush(&r, label, counts, sums);
    if (vec_end < width) {
        const int last = width - VL; /* only its pixels from vec_end on are new */
        add_windows(a + last, b + last, labels + last, (int)vec_end - last, threshold, counts,
                    sums);
    }
}

/* ------------------------------------------------------------------------------------------
 * and_row: the same walk; a pixel counts when both of its tests pass, the AND of two
 * vcgtq_u8 masks, subtracted from a byte counter as above. With no sums, the counter is
 * folded into a scalar (vaddlvq_u8) at the latest every AND_MAX_PAIRS pairs and at every
 * label change.
 * ---------------------------------------------------------------------------------------- */

/* Pairs between folds: each pair adds up to 2 to a byte of `count8`, and one single chunk
 * (1) may come before the fold: 2 * 127 + 1 = 255. */
#define AND_MAX_PAIRS 127

/* The totals of the and_row run being walked. */
typedef struct and_acc {
    uint8x16_t count8; /* pixels that passed since the last fold */
    uint64_t count;    /* folded total */
} and_acc;

/* 0xFF where |a - b| > thr_ab and |c - b| > thr_cb, else 0. */
INLINE uint8x16_t and_mask(const uint8_t *a, const uint8_t *b, const uint8_t *c, uint8x16_t tab,
                           uint8x16_t tcb)
{
    const uint8x16_t vb = vld1q_u8(b);
    return vandq_u8(vcgtq_u8(vabdq_u8(vld1q_u8(a), vb), tab),
                    vcgtq_u8(vabdq_u8(vld1q_u8(c), vb), tcb));
}

INLINE void and_fold(and_acc *r)
{
    r->count += vaddlvq_u8(r->count8);
    r->count8 = vdupq_n_u8(0);
}

/* Folds and moves the run's total into counts[label]. */
INLINE void and_flush(and_acc *r, unsigned label, uint64_t *counts)
{
    and_fold(r);
    counts[label] += r->count;
    r->count = 0;
}

/* Pixels [s, 16) of one chunk straight into counts[], `over` being its and_mask(): one
 * masked pass per window of equal labels, then (random labels, not zones) only the pixels
 * that passed, one by one. Out of line: rare. */
static __attribute__((noinline)) void and_windows(const uint8_t *labels, uint8x16_t over, int s,
                                                  uint64_t *counts)
{
    const uint8x16_t l = vld1q_u8(labels);
    const uint8x16_t over1 = vandq_u8(over, vdupq_n_u8(1));
    for (int w = 0; w < MAX_WINDOWS && s < VL; w++) {
        const unsigned label = labels[s];
        /* The window runs from s up to the first pixel with another label (or 16). */
        const uint64_t other =
            ~nibbles(vceqq_u8(l, vdupq_n_u8((uint8_t)label))) & (~(uint64_t)0 << (4 * s));
        const int e = other ? __builtin_ctzll(other) / 4 : VL;
        counts[label] += vaddlvq_u8(vandq_u8(over1, vbicq_u8(bytes_from(s), bytes_from(e))));
        s = e;
    }
    if (s >= VL)
        return;
    /* One bit per pixel (the lowest of its nibble), from pixel s on. */
    uint64_t m = nibbles(over) & 0x1111111111111111u & (~(uint64_t)0 << (4 * s));
    for (; m; m &= m - 1)
        counts[labels[__builtin_ctzll(m) / 4]]++;
}

void vmo_and_row_neon(const uint8_t *a, const uint8_t *b, const uint8_t *c, const uint8_t *labels,
                      int width, int thr_ab, int thr_cb, uint64_t *counts)
{
    if (width < VL || thr_ab < 0 || thr_ab > 255 || thr_cb < 0 || thr_cb > 255) {
        vmo_and_row_c(a, b, c, labels, width, thr_ab, thr_cb, counts);
        return;
    }
    const uint8x16_t tab = vdupq_n_u8((uint8_t)thr_ab), tcb = vdupq_n_u8((uint8_t)thr_cb);
    and_acc r = { vdupq_n_u8(0), 0 };
    unsigned label = labels[0];
    uint8x16_t run_v = vdupq_n_u8((uint8_t)label);
    const ptrdiff_t vec_end = width & ~(VL - 1), pair_end = vec_end - 2 * VL;
    ptrdiff_t x = 0;
    for (;;) {
        /* The hot loop: two chunks at a time while the labels stay the run's, for at most
         * AND_MAX_PAIRS pairs before the fold below. */
        const ptrdiff_t stop = x + (AND_MAX_PAIRS - 1) * 2 * VL < pair_end
                                   ? x + (AND_MAX_PAIRS - 1) * 2 * VL
                                   : pair_end;
        while (x <= stop && __builtin_expect(pair_is_run(labels + x, run_v), 1)) {
            r.count8 = vsubq_u8(r.count8, and_mask(a + x, b + x, c + x, tab, tcb));
            r.count8 = vsubq_u8(r.count8, and_mask(a + x + VL, b + x + VL, c + x + VL, tab, tcb));
            x += 2 * VL;
        }
        and_fold(&r);
        if (x >= vec_end)
            break;
        if (x > stop && x <= pair_end)
            continue; /* only the fold was due */
        /* One chunk: the last one, or one of a pair where the label changes. */
        const uint8x16_t over = and_mask(a + x, b + x, c + x, tab, tcb);
        const uint8x16_t l = vld1q_u8(labels + x);
        const uint8x16_t old = vceqq_u8(l, run_v);
        const uint64_t same = nibbles(old);
        /* A zone edge: the run's label, then the label of the chunk's last pixel. */
        const unsigned next = labels[x + VL - 1];
        const uint8x16_t next_v = vdupq_n_u8((uint8_t)next);
        if (same == ~(uint64_t)0) {
            r.count8 = vsubq_u8(r.count8, over);
        } else if ((same | nibbles(vceqq_u8(l, next_v))) == ~(uint64_t)0) {
            r.count8 = vsubq_u8(r.count8, vandq_u8(over, old));
            and_flush(&r, label, counts);
            r.count8 = vsubq_u8(r.count8, vbicq_u8(over, old));
            label = next;
            run_v = next_v;
        } else {
            and_flush(&r, label, counts);
            and_windows(labels + x, over, 0, counts);
            label = next;
            run_v = next_v;
        }
        x += VL;
    }
    and_flush(&r, label, counts);
    if (vec_end < width) {
        const int last = width - VL; /* only its pixels from vec_end on are new */
        and_windows(labels + last, and_mask(a + last, b + last, c + last, tab, tcb),
                    (int)vec_end - last, counts);
    }
}
