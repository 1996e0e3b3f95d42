/* SSE2 difference kernel (the x86-64 baseline).
 *
 * The same walk as the AVX2 kernel (see diff_avx2.c for the reasoning) on 16-pixel chunks,
 * without POPCNT, which SSE2-only CPUs may lack: counts are kept in vectors too.
 *   - d > threshold as a 0/1 byte: min(subs(d, threshold), 1). _mm_sad_epu8 against zero
 *     adds those bytes (and the bytes of d) into 64-bit lanes, so no counter can wrap.
 *   - sums: _mm_sad_epu8(a, b) is sum |a - b| per 8 bytes.
 *   - Label changes: a zone edge (the run's label, then the label of the chunk's last pixel)
 *     is split with masks inline; anything else goes to split_chunk().
 * The tail (width % 16) is one more chunk ending at width, of which only the new pixels
 * count, so no byte past width is read. Rows under 16 pixels, and thresholds outside the
 * contract's 0..255, go to the C reference. and_row, at the end, walks its rows the same
 * way. */
#include <emmintrin.h>
#include <stddef.h>
#include <stdint.h>

#include "kernels/diff.h"

#define VL          16
#define MAX_WINDOWS 4 /* label windows split_chunk() masks before going pixel by pixel */
/* 32-bit builds may lack -msse2; this file only runs when vmo_cpu_detect() saw SSE2. */
#define TARGET __attribute__((target("sse2")))
#define INLINE static inline __attribute__((always_inline))

/* The totals of a run: pixels since the last label change. */
typedef struct run_state {
    __m128i sum;   /* sum of d, in two 64-bit lanes */
    __m128i count; /* pixels with d > threshold, in two 64-bit lanes */
    unsigned label;
} run_state;

/* bytes_from(s) = 0xFF for bytes >= s, 0 below (s in 0..16): an unaligned load of this. */
static const uint8_t ff_from_16[2 * VL] = {
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
};

INLINE TARGET __m128i loadu(const uint8_t *p)
{
    return _mm_loadu_si128((const __m128i *)p);
}

INLINE TARGET __m128i bytes_from(int s)
{
    return loadu(ff_from_16 + VL - s);
}

INLINE TARGET __m128i absdiff(__m128i va, __m128i vb)
{
    return _mm_or_si128(_mm_subs_epu8(va, vb), _mm_subs_epu8(vb, va));
}

/* 1 in each byte where d > threshold, else 0. */
INLINE TARGET __m128i over_01(__m128i d, __m128i thr)
{
    return _mm_min_epu8(_mm_subs_epu8(d, thr), _mm_set1_epi8(1));
}

INLINE TARGET __m128i sad0(__m128i v)
{
    return _mm_sad_epu8(v, _mm_setzero_si128());
}

INLINE TARGET uint64_t hsum_epi64(__m128i v)
{
    const __m128i s = _mm_add_epi64(v, _mm_unpackhi_epi64(v, v));
#if defined(__x86_64__)
    return (uint64_t)_mm_cvtsi128_si64(s);
#else
    uint64_t r;
    _mm_storel_epi64((__m128i *)&r, s);
    return r;
#endif
}

INLINE TARGET void flush_run(const run_state *st, uint64_t *counts, uint64_t *sums)
{
    counts[st->label] += hsum_epi64(st->count);
    sums[st->label] += hsum_epi64(st->sum);
}

/* Walks pixels [s, 16) of one chunk whose labels differ somewhere from the run's. Each
 * window of equal labels ends the current run (flushed) and starts the next; the last
 * window stays open as the run that goes on into the next chunk. After MAX_WINDOWS
 * windows (random labels, not zones) the rest goes pixel by pixel, which is cheaper there.
 * Out of line: rare, and it keeps the hot loop's registers to itself. */
static TARGET __attribute__((noinline)) void split_chunk(const uint8_t *a, const uint8_t *b,
                                                         const uint8_t *labels, int s,
                                                         int threshold, run_state *st,
                                                         uint64_t *counts, uint64_t *sums)
{
    const __m128i l = loadu(labels);
    const __m128i d = absdiff(loadu(a), loadu(b));
    const __m128i over = over_01(d, _mm_set1_epi8((char)threshold));
    const __m128i zero = _mm_setzero_si128();
    for (int w = 0; w < MAX_WINDOWS; w++) {
        /* The window runs from s up to the first pixel with another label (or 16). */
        const __m128i eq = _mm_cmpeq_epi8(l, _mm_set1_epi8((char)st->label));
        const unsigned same = (unsigned)_mm_movemask_epi8(eq) | ((1u << s) - 1);
        const int e = same == 0xFFFF ? VL : __builtin_ctz(~same);
        const __m128i win = _mm_andnot_si128(bytes_from(e), bytes_from(s));
        st->sum = _mm_add_epi64(st->sum, sad0(_mm_and_si128(d, win)));
        st->count = _mm_add_epi64(st->count, sad0(_mm_and_si128(over, win)));
        if (e == VL)
            return;
        flush_run(st, counts, sums);
        st->label = labels[e];
        st->sum = zero;
        st->count = zero;
        s = e;
    }
    /* The run is empty here (just flushed); a new one starts after this chunk. */
    for (int i = s; i < VL; i++) {
        const int di = a[i] > b[i] ? a[i] - b[i] : b[i] - a[i];
        counts[labels[i]] += di > threshold;
        sums[labels[i]] += (uint64_t)di;
    }
    st->label = labels[VL - 1];
}

INLINE TARGET int pair_is_run(const uint8_t *labels, __m128i run_v)
{
    const __m128i e0 = _mm_cmpeq_epi8(loadu(labels), run_v);
    const __m128i e1 = _mm_cmpeq_epi8(loadu(labels + VL), run_v);
    return _mm_movemask_epi8(_mm_and_si128(e0, e1)) == 0xFFFF;
}

/* Adds a pair of chunks whose labels are all the run's. */
INLINE TARGET void add_pair(const uint8_t *a, const uint8_t *b, __m128i thr, __m128i *sum,
                            __m128i *count)
{
    const __m128i a0 = loadu(a), b0 = loadu(b);
    const __m128i a1 = loadu(a + VL), b1 = loadu(b + VL);
    *sum = _mm_add_epi64(*sum, _mm_add_epi64(_mm_sad_epu8(a0, b0), _mm_sad_epu8(a1, b1)));
    const __m128i over = _mm_add_epi8(over_01(absdiff(a0, b0), thr), over_01(absdiff(a1, b1), thr));
    *count = _mm_add_epi64(*count, sad0(over));
}

TARGET void vmo_diff_row_sse2(const uint8_t *a, const uint8_t *b, const uint8_t *labels, int width,
                              int threshold, uint64_t *counts, uint64_t *sums)
{
    if (width < VL || threshold < 0 || threshold > 255) {
        vmo_diff_row_c(a, b, labels, width, threshold, counts, sums);
        return;
    }
    const __m128i thr = _mm_set1_epi8((char)threshold);
    const __m128i zero = _mm_setzero_si128();
    /* The run's totals are locals, copied to a run_state only around split_chunk(): a
     * struct whose address escapes would keep them in memory on every chunk. */
    __m128i sum = zero, count = zero;
    unsigned label = labels[0];
    __m128i run_v = _mm_set1_epi8((char)label);
    const ptrdiff_t vec_end = width & ~(VL - 1), pair_end = vec_end - 2 * VL;
    ptrdiff_t x = 0;
    for (;;) {
        /* The hot loop: two chunks at a time while the labels stay the run's. */
        while (x <= pair_end && __builtin_expect(pair_is_run(labels + x, run_v), 1)) {
            add_pair(a + x, b + x, thr, &sum, &count);
            x += 2 * VL;
        }
        if (x >= vec_end)
            break;
        /* One chunk: the last one, or one of a pair where the label changes. */
        const __m128i va = loadu(a + x), vb = loadu(b + x);
        const __m128i l = loadu(labels + x);
        const __m128i old = _mm_cmpeq_epi8(l, run_v);
        const int same = _mm_movemask_epi8(old);
        /* At a zone edge the chunk holds the run's label (maybe none of it) and the label
         * of its last pixel, nothing else; an island of another label fails this test. */
        const unsigned next = labels[x + VL - 1];
        const __m128i next_v = _mm_set1_epi8((char)next);
        if (same == 0xFFFF) {
            sum = _mm_add_epi64(sum, _mm_sad_epu8(va, vb));
            count = _mm_add_epi64(count, sad0(over_01(absdiff(va, vb), thr)));
        } else if ((same | _mm_movemask_epi8(_mm_cmpeq_epi8(l, next_v))) == 0xFFFF) {
            const __m128i d = absdiff(va, vb);
            const __m128i over = over_01(d, thr);
            sum = _mm_add_epi64(sum, sad0(_mm_and_si128(d, old)));
            count = _mm_add_epi64(count, sad0(_mm_and_si128(over, old)));
            counts[label] += hsum_epi64(count);
            sums[label] += hsum_epi64(sum);
            sum = sad0(_mm_andnot_si128(old, d));
            count = sad0(_mm_andnot_si128(old, over));
            label = next;
            run_v = next_v;
        } else {
            run_state st = { sum, count, label };
            split_chunk(a + x, b + x, labels + x, 0, threshold, &st, counts, sums);
            sum = st.sum;
            count = st.count;
            label = st.label;
            run_v = _mm_set1_epi8((char)label);
        }
        x += VL;
    }
    if (vec_end < width) {
        const int last = width - VL; /* only its pixels from vec_end on are new */
        run_state st = { sum, count, label };
        split_chunk(a + last, b + last, labels + last, (int)vec_end - last, threshold, &st, counts,
                    sums);
        sum = st.sum;
        count = st.count;
        label = st.label;
    }
    counts[label] += hsum_epi64(count);
    sums[label] += hsum_epi64(sum);
}

/* ------------------------------------------------------------------------------------------
 * and_row: runs of one label again; a pixel counts when both of its tests pass. Both saturated
 * excesses over the thresholds, subs(d, threshold), are non-zero exactly when their min is,
 * so min(min(excess_ab, excess_cb), 1) is the 0/1 byte that _mm_sad_epu8 adds up.
 * ---------------------------------------------------------------------------------------- */

/* The totals of an and_row run while and_split() works on it. */
typedef struct and_state {
    __m128i count; /* pixels that passed both tests, in two 64-bit lanes */
    unsigned label;
} and_state;

/* 1 in each byte where |a - b| > thr_ab and |c - b| > thr_cb, else 0. */
INLINE TARGET __m128i and_01(const uint8_t *a, const uint8_t *b, const uint8_t *c, __m128i tab,
                             __m128i tcb)
{
    const __m128i vb = loadu(b);
    const __m128i ab = _mm_subs_epu8(absdiff(loadu(a), vb), tab);
    const __m128i cb = _mm_subs_epu8(absdiff(loadu(c), vb), tcb);
    return _mm_min_epu8(_mm_min_epu8(ab, cb), _mm_set1_epi8(1));
}

/* Pixels [s, 16) of one chunk whose labels differ somewhere from the run's, `over` being
 * its and_01(). Windows of equal labels end the run and start the next, as in
 * split_chunk(); after MAX_WINDOWS only the pixels that passed touch counts[], one by one.
 * Out of line: rare, and it keeps the hot loop's registers to itself. */
static TARGET __attribute__((noinline)) void and_split(const uint8_t *labels, __m128i over, int s,
                                                       and_state *st, uint64_t *counts)
{
    const __m128i l = loadu(labels);
    const __m128i zero = _mm_setzero_si128();
    for (int w = 0; w < MAX_WINDOWS; w++) {
        /* The window runs from s up to the first pixel with another label (or 16). */
        const __m128i eq = _mm_cmpeq_epi8(l, _mm_set1_epi8((char)st->label));
        const unsigned same = (unsigned)_mm_movemask_epi8(eq) | ((1u << s) - 1);
        const int e = same == 0xFFFF ? VL : __builtin_ctz(~same);
        const __m128i win = _mm_andnot_si128(bytes_from(e), bytes_from(s));
        st->count = _mm_add_epi64(st->count, sad0(_mm_and_si128(over, win)));
        if (e == VL)
            return;
        counts[st->label] += hsum_epi64(st->count);
        st->label = labels[e];
        st->count = zero;
        s = e;
    }
    /* The run is empty here (just flushed); a new one starts after this chunk. 0 - 1 is
     * 0xFF, which movemask sees. */
    unsigned m = (unsigned)_mm_movemask_epi8(_mm_sub_epi8(zero, over)) & ~((1u << s) - 1);
    for (; m; m &= m - 1)
        counts[labels[__builtin_ctz(m)]]++;
    st->label = labels[VL - 1];
}

TARGET void vmo_and_row_sse2(const uint8_t *a, const uint8_t *b, const uint8_t *c,
                             const uint8_t *labels, int width, int thr_ab, int thr_cb,
                             uint64_t *counts)
{
    if (width < VL || thr_ab < 0 || thr_ab > 255 || thr_cb < 0 || thr_cb > 255) {
        vmo_and_row_c(a, b, c, labels, width, thr_ab, thr_cb, counts);
        return;
    }
    const __m128i tab = _mm_set1_epi8((char)thr_ab), tcb = _mm_set1_epi8((char)thr_cb);
    const __m128i zero = _mm_setzero_si128();
    /* Locals, copied to an and_state only around and_split() (see vmo_diff_row_sse2). */
    __m128i count = zero;
    unsigned label = labels[0];
    __m128i run_v = _mm_set1_epi8((char)label);
    const ptrdiff_t vec_end = width & ~(VL - 1);
    /* One chunk at a time, unrolled by two: a zone edge costs one mispredicted branch
     * (see and_row() in diff_avx2.c); measured faster than the pair walk here too. */
#pragma GCC unroll 2
    for (ptrdiff_t x = 0; x < vec_end; x += VL) {
        const __m128i over = and_01(a + x, b + x, c + x, tab, tcb);
        const __m128i l = loadu(labels + x);
        const __m128i old = _mm_cmpeq_epi8(l, run_v);
        const int same = _mm_movemask_epi8(old);
        if (__builtin_expect(same == 0xFFFF, 1)) {
            count = _mm_add_epi64(count, sad0(over));
            continue;
        }
        /* A zone edge: the run's label, then the label of the chunk's last pixel. */
        const unsigned next = labels[x + VL - 1];
        const __m128i next_v = _mm_set1_epi8((char)next);
        if ((same | _mm_movemask_epi8(_mm_cmpeq_epi8(l, next_v))) == 0xFFFF) {
            count = _mm_add_epi64(count, sad0(_mm_and_si128(over, old)));
            counts[label] += hsum_epi64(count);
            count = sad0(_mm_andnot_si128(old, over));
            label = next;
            run_v = next_v;
        } else {
            and_state st = { count, label };
            and_split(labels + x, over, 0, &st, counts);
            count = st.count;
            label = st.label;
            run_v = _mm_set1_epi8((char)label);
        }
    }
    if (vec_end < width) {
        const int last = width - VL; /* only its pixels from vec_end on are new */
        and_state st = { count, label };
        and_split(labels + last, and_01(a + last, b + last, c + last, tab, tcb),
                  (int)vec_end - last, &st, counts);
        count = st.count;
        label = st.label;
    }
    counts[label] += hsum_epi64(count);
}
