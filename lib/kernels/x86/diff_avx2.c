/* AVX2 difference kernel (this file alone is built with -mavx2).
 *
 * Labels come in long runs (zones are regions), so the row is walked as runs of one label
 * whose totals stay in registers; counts[]/sums[] are touched only when the label changes.
 *   - Two 32-pixel chunks whose labels all equal the run's cost two compares and one
 *     movemask for the labels.
 *   - sums: _mm256_sad_epu8(a, b) is sum |a - b| per 8 bytes, added into 64-bit lanes.
 *   - counts: d > threshold is the top bit of one saturating add (or subtract, for
 *     thresholds above 127) of a bias; its movemask is counted with POPCNT into a 64-bit
 *     scalar, so nothing can overflow however long the row.
 *   - A chunk where one zone ends and the next begins (the run's label, then the label of
 *     its last pixel) is split with masks inline: that is the only common label change.
 *     Anything else (narrow zones, islands, random labels) goes to split_chunk().
 * The tail (width % 32) is one more chunk ending at width, of which only the new pixels
 * count, so no byte past width is read. Rows under 32 pixels, and thresholds outside the
 * contract's 0..255, go to the C reference.
 *
 * Analysis rows are short (320 pixels: ten chunks), so the fixed cost per call and per
 * label change matters as much as the loop; the structure below is what measured best
 * (bench/bench_kernels.c), not the most obvious one.
 *
 * POPCNT is used beside AVX2: every AVX2 CPU has it, and vmo_cpu_detect() checks both.
 *
 * and_row, at the end, keeps runs and splits edges the same way, one chunk at a time. */
#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>

#include "kernels/diff.h"

#define VL          32
#define MAX_WINDOWS 4 /* label windows split_chunk() masks before going pixel by pixel */
#define TARGET      __attribute__((target("avx2,popcnt")))
#define INLINE      static inline __attribute__((always_inline))

/* The totals of a run while split_chunk() works on it. */
typedef struct run_state {
    __m256i sum;    /* sum of d, in four 64-bit lanes */
    uint64_t count; /* pixels with d > threshold */
    unsigned label;
} run_state;

/* The threshold test: d > threshold <=> the top bit of adds(d, 127 - threshold) when
 * threshold <= 127 ("up"), of subs(d, threshold - 127) otherwise (saturation keeps the
 * answer right at both ends). One op instead of a compare, and movemask reads it. */
typedef struct over_test {
    __m256i bias;
    int up;
} over_test;

/* bytes_from(s) = 0xFF for bytes >= s, 0 below (s in 0..32): an unaligned load of this. */
static const uint8_t ff_from_32[2 * VL] = {
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
};

INLINE TARGET __m256i bytes_from(int s)
{
    return _mm256_loadu_si256((const __m256i *)(ff_from_32 + VL - s));
}

INLINE uint32_t bits_from(int s)
{
    return s >= VL ? 0 : ~0u << s;
}

INLINE TARGET __m256i loadu(const uint8_t *p)
{
    return _mm256_loadu_si256((const __m256i *)p);
}

INLINE TARGET __m256i absdiff(__m256i va, __m256i vb)
{
    return _mm256_or_si256(_mm256_subs_epu8(va, vb), _mm256_subs_epu8(vb, va));
}

/* Top bit of each byte set when d > threshold. */
INLINE TARGET __m256i over_top(__m256i d, over_test t)
{
    return t.up ? _mm256_adds_epu8(d, t.bias) : _mm256_subs_epu8(d, t.bias);
}

/* Bit i set when d[i] > threshold. */
INLINE TARGET uint32_t over_bits(__m256i d, over_test t)
{
    return (uint32_t)_mm256_movemask_epi8(over_top(d, t));
}

INLINE TARGET uint32_t eq_bits(__m256i l, unsigned label)
{
    return (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(l, _mm256_set1_epi8((char)label)));
}

INLINE TARGET uint64_t hsum_epi64(__m256i v)
{
    __m128i s = _mm_add_epi64(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi64(s, _mm_unpackhi_epi64(s, s));
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
    counts[st->label] += st->count;
    sums[st->label] += hsum_epi64(st->sum);
}

/* Walks pixels [s, 32) of one chunk whose labels differ somewhere from the run's. Each
 * window of equal labels ends the current run (flushed) and starts the next; the last
 * window stays open as the run that goes on into the next chunk. After MAX_WINDOWS
 * windows (random labels, not zones) the rest goes pixel by pixel, which is cheaper there.
 * Out of line: rare, and it keeps the hot loop's registers to itself. */
static TARGET __attribute__((noinline)) void split_chunk(const uint8_t *a, const uint8_t *b,
                                                         const uint8_t *labels, int s, over_test t,
                                                         run_state *st, uint64_t *counts,
                                                         uint64_t *sums)
{
    const __m256i l = loadu(labels);
    const __m256i d = absdiff(loadu(a), loadu(b));
    const uint32_t over = over_bits(d, t);
    const __m256i zero = _mm256_setzero_si256();
    for (int w = 0; w < MAX_WINDOWS; w++) {
        /* The window runs from s up to the first pixel with another label (or 32). */
        const uint32_t same = eq_bits(l, st->label) | ~bits_from(s);
        const int e = same == ~0u ? VL : __builtin_ctz(~same);
        const __m256i win = _mm256_andnot_si256(bytes_from(e), bytes_from(s));
        st->sum = _mm256_add_epi64(st->sum, _mm256_sad_epu8(_mm256_and_si256(d, win), zero));
        st->count += (uint64_t)__builtin_popcount(over & bits_from(s) & ~bits_from(e));
        if (e == VL)
            return;
        flush_run(st, counts, sums);
        st->label = labels[e];
        st->sum = zero;
        st->count = 0;
        s = e;
    }
    /* The run is empty here (just flushed); a new one starts after this chunk. */
    uint8_t dd[VL];
    _mm256_storeu_si256((__m256i *)dd, d);
    for (int i = s; i < VL; i++) {
        counts[labels[i]] += (over >> i) & 1;
        sums[labels[i]] += dd[i];
    }
    st->label = labels[VL - 1];
}

/* Adds a pair of chunks whose labels are all the run's. */
INLINE TARGET void add_pair(const uint8_t *a, const uint8_t *b, over_test t, __m256i *sum,
                            uint64_t *count)
{
    const __m256i a0 = loadu(a), b0 = loadu(b);
    const __m256i a1 = loadu(a + VL), b1 = loadu(b + VL);
    *sum =
        _mm256_add_epi64(*sum, _mm256_add_epi64(_mm256_sad_epu8(a0, b0), _mm256_sad_epu8(a1, b1)));
    const uint64_t over =
        (uint64_t)over_bits(absdiff(a0, b0), t) | (uint64_t)over_bits(absdiff(a1, b1), t) << 32;
    *count += (uint64_t)__builtin_popcountll(over);
}

INLINE TARGET int pair_is_run(const uint8_t *labels, __m256i run_v)
{
    const __m256i e0 = _mm256_cmpeq_epi8(loadu(labels), run_v);
    const __m256i e1 = _mm256_cmpeq_epi8(loadu(labels + VL), run_v);
    return _mm256_movemask_epi8(_mm256_and_si256(e0, e1)) == -1;
}

/* The row for one kind of threshold test; `t.up` is a constant after inlining, so each
 * call site below gets its own loop. */
INLINE TARGET void diff_row(const uint8_t *a, const uint8_t *b, const uint8_t *labels, int width,
                            over_test t, uint64_t *counts, uint64_t *sums)
{
    const __m256i zero = _mm256_setzero_si256();
    /* The run's totals are locals, copied to a run_state only around split_chunk(): a
     * struct whose address escapes would keep them in memory on every chunk. */
    __m256i sum = zero;
    uint64_t count = 0;
    unsigned label = labels[0];
    __m256i run_v = _mm256_set1_epi8((char)label);
    const ptrdiff_t vec_end = width & ~(VL - 1), pair_end = vec_end - 2 * VL;
    ptrdiff_t x = 0;
    for (;;) {
        /* The hot loop: two chunks at a time while the labels stay the run's. */
        while (x <= pair_end && __builtin_expect(pair_is_run(labels + x, run_v), 1)) {
            add_pair(a + x, b + x, t, &sum, &count);
            x += 2 * VL;
        }
        if (x >= vec_end)
            break;
        /* One chunk: the last one, or one of a pair where the label changes. */
        const __m256i va = loadu(a + x), vb = loadu(b + x);
        const __m256i l = loadu(labels + x);
        const __m256i old = _mm256_cmpeq_epi8(l, run_v);
        const uint32_t same = (uint32_t)_mm256_movemask_epi8(old);
        /* At a zone edge the chunk holds the run's label (maybe none of it) and the label
         * of its last pixel, nothing else; an island of another label fails this test. */
        const unsigned next = labels[x + VL - 1];
        const __m256i next_v = _mm256_set1_epi8((char)next);
        if (same == ~0u) {
            sum = _mm256_add_epi64(sum, _mm256_sad_epu8(va, vb));
            count += (uint64_t)__builtin_popcount(over_bits(absdiff(va, vb), t));
        } else if ((same | (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(l, next_v))) == ~0u) {
            const __m256i d = absdiff(va, vb);
            const uint32_t over = over_bits(d, t);
            sum = _mm256_add_epi64(sum, _mm256_sad_epu8(_mm256_and_si256(d, old), zero));
            counts[label] += count + (uint64_t)__builtin_popcount(over & same);
            sums[label] += hsum_epi64(sum);
            sum = _mm256_sad_epu8(_mm256_andnot_si256(old, d), zero);
            count = (uint64_t)__builtin_popcount(over & ~same);
            label = next;
            run_v = next_v;
        } else {
            run_state st = { sum, count, label };
            split_chunk(a + x, b + x, labels + x, 0, t, &st, counts, sums);
            sum = st.sum;
            count = st.count;
            label = st.label;
            run_v = _mm256_set1_epi8((char)label);
        }
        x += VL;
    }
    if (vec_end < width) {
        const int last = width - VL; /* only its pixels from vec_end on are new */
        run_state st = { sum, count, label };
        split_chunk(a + last, b + last, labels + last, (int)vec_end - last, t, &st, counts, sums);
        sum = st.sum;
        count = st.count;
        label = st.label;
    }
    counts[label] += count;
    sums[label] += hsum_epi64(sum);
}

TARGET void vmo_diff_row_avx2(const uint8_t *a, const uint8_t *b, const uint8_t *labels, int width,
                              int threshold, uint64_t *counts, uint64_t *sums)
{
    if (width < VL || threshold < 0 || threshold > 255) {
        vmo_diff_row_c(a, b, labels, width, threshold, counts, sums);
        return;
    }
    if (threshold <= 127)
        diff_row(a, b, labels, width, (over_test){ _mm256_set1_epi8((char)(127 - threshold)), 1 },
                 counts, sums);
    else
        diff_row(a, b, labels, width, (over_test){ _mm256_set1_epi8((char)(threshold - 127)), 0 },
                 counts, sums);
}

/* ------------------------------------------------------------------------------------------
 * and_row: runs of one label again; a pixel counts when both of its tests pass, so the
 * chunk's bit mask is the movemask of the AND of the two biased differences (top bit = test
 * passed). With no sums to carry, a run is a label and a scalar count, and a chunk with
 * several labels is split on that bit mask alone.
 * ---------------------------------------------------------------------------------------- */

/* The two tests of and_row; the pair of `up` flags is a constant after inlining. */
typedef struct and_test {
    over_test ab, cb;
} and_test;

/* The run being walked, by value: its address never escapes the hot loop. */
typedef struct and_run {
    uint64_t count; /* pixels of the run that passed both tests */
    unsigned label;
} and_run;

/* Bit i set when |a[i] - b[i]| > thr_ab and |c[i] - b[i]| > thr_cb. */
INLINE TARGET uint32_t and_bits(const uint8_t *a, const uint8_t *b, const uint8_t *c, and_test t)
{
    const __m256i vb = loadu(b);
    const __m256i ab = over_top(absdiff(loadu(a), vb), t.ab);
    const __m256i cb = over_top(absdiff(loadu(c), vb), t.cb);
    return (uint32_t)_mm256_movemask_epi8(_mm256_and_si256(ab, cb));
}

/* Pixels [s, 32) of one chunk whose labels differ somewhere from the run's, `over` being
 * its and_bits(). Windows of equal labels end the run and start the next, as in
 * split_chunk(); after MAX_WINDOWS only the pixels that passed touch counts[], one by one.
 * Out of line: rare, and it keeps the hot loop's registers to itself. */
static TARGET __attribute__((noinline)) and_run and_split(const uint8_t *labels, uint32_t over,
                                                          int s, and_run run, uint64_t *counts)
{
    const __m256i l = loadu(labels);
    for (int w = 0; w < MAX_WINDOWS; w++) {
        /* The window runs from s up to the first pixel with another label (or 32). */
        const uint32_t same = eq_bits(l, run.label) | ~bits_from(s);
        const int e = same == ~0u ? VL : __builtin_ctz(~same);
        run.count += (uint64_t)__builtin_popcount(over & bits_from(s) & ~bits_from(e));
        if (e == VL)
            return run;
        counts[run.label] += run.count;
        run.label = labels[e];
        run.count = 0;
        s = e;
    }
    /* The run is empty here (just flushed); a new one starts after this chunk. */
    for (uint32_t m = over & bits_from(s); m; m &= m - 1)
        counts[labels[__builtin_ctz(m)]]++;
    run.label = labels[VL - 1];
    return run;
}

/* The row for one pair of test kinds; each call site below gets its own loop.
 *
 * Unlike diff_row, the walk goes one chunk at a time (unrolled by two), with one branch
 * per chunk that is taken only where the label changes, so a zone edge should cost about
 * one mispredicted branch; the pair walk can miss several there (the pair fails, then the
 * single chunk, then the next pair). Timed against the pair walk, this was 5-10% faster at
 * 320x180 with zones and a few % faster with one label for the whole row. */
INLINE TARGET void and_row(const uint8_t *a, const uint8_t *b, const uint8_t *c,
                           const uint8_t *labels, int width, and_test t, uint64_t *counts)
{
    uint64_t count = 0;
    unsigned label = labels[0];
    __m256i run_v = _mm256_set1_epi8((char)label);
    const ptrdiff_t vec_end = width & ~(VL - 1);
#pragma GCC unroll 2
    for (ptrdiff_t x = 0; x < vec_end; x += VL) {
        const uint32_t over = and_bits(a + x, b + x, c + x, t);
        const __m256i l = loadu(labels + x);
        const uint32_t same = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(l, run_v));
        if (__builtin_expect(same == ~0u, 1)) {
            count += (uint64_t)__builtin_popcount(over);
            continue;
        }
        /* A zone edge: the run's label, then the label of the chunk's last pixel. */
        const unsigned next = labels[x + VL - 1];
        const __m256i next_v = _mm256_set1_epi8((char)next);
        if ((same | (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(l, next_v))) == ~0u) {
            counts[label] += count + (uint64_t)__builtin_popcount(over & same);
            count = (uint64_t)__builtin_popcount(over & ~same);
            label = next;
            run_v = next_v;
        } else {
            const and_run run = and_split(labels + x, over, 0, (and_run){ count, label }, counts);
            count = run.count;
            label = run.label;
            run_v = _mm256_set1_epi8((char)label);
        }
    }
    if (vec_end < width) {
        const int last = width - VL; /* only its pixels from vec_end on are new */
        const uint32_t over = and_bits(a + last, b + last, c + last, t);
        const and_run run =
            and_split(labels + last, over, (int)vec_end - last, (and_run){ count, label }, counts);
        count = run.count;
        label = run.label;
    }
    counts[label] += count;
}

/* over_test of one threshold 0..255 (see over_test). */
INLINE TARGET over_test make_test(int threshold)
{
    if (threshold <= 127)
        return (over_test){ _mm256_set1_epi8((char)(127 - threshold)), 1 };
    return (over_test){ _mm256_set1_epi8((char)(threshold - 127)), 0 };
}

TARGET void vmo_and_row_avx2(const uint8_t *a, const uint8_t *b, const uint8_t *c,
                             const uint8_t *labels, int width, int thr_ab, int thr_cb,
                             uint64_t *counts)
{
    if (width < VL || thr_ab < 0 || thr_ab > 255 || thr_cb < 0 || thr_cb > 255) {
        vmo_and_row_c(a, b, c, labels, width, thr_ab, thr_cb, counts);
        return;
    }
    const over_test ab = make_test(thr_ab), cb = make_test(thr_cb);
    /* Four loops, one per pair of test kinds, so that none tests a flag per chunk. */
    if (ab.up && cb.up)
        and_row(a, b, c, labels, width, (and_test){ { ab.bias, 1 }, { cb.bias, 1 } }, counts);
    else if (ab.up)
        and_row(a, b, c, labels, width, (and_test){ { ab.bias, 1 }, { cb.bias, 0 } }, counts);
    else if (cb.up)
        and_row(a, b, c, labels, width, (and_test){ { ab.bias, 0 }, { cb.bias, 1 } }, counts);
    else
        and_row(a, b, c, labels, width, (and_test){ { ab.bias, 0 }, { cb.bias, 0 } }, counts);
}
