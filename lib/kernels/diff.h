/* Difference kernels.
 *
 * diff_row: one fused pass over two 8-bit rows and a label row:
 *   for each x: d = |a[x] - b[x]|; counts[labels[x]] += d > threshold; sums[labels[x]] += d
 *
 * and_row: pixels of row b that differ both from row a (the past) and from row c (the
 * future), each with its own threshold:
 *   for each x: counts[labels[x]] += |a[x] - b[x]| > thr_ab && |c[x] - b[x]| > thr_cb
 *
 * Labels index 256-entry accumulators owned by the caller (label 0 included, the caller
 * decides what it means). The plane and zone loops live in score.c. Every ISA variant must
 * be bit-identical to its C reference (vmo_diff_row_c, vmo_and_row_c) for every width >= 1,
 * any alignment, thresholds 0..255, and read nothing past width. */
#ifndef VMO_KERNELS_DIFF_H
#define VMO_KERNELS_DIFF_H

#include <stdint.h>

typedef void (*vmo_diff_row_fn)(const uint8_t *a, const uint8_t *b, const uint8_t *labels,
                                int width, int threshold, uint64_t *counts, uint64_t *sums);

typedef void (*vmo_and_row_fn)(const uint8_t *a, const uint8_t *b, const uint8_t *c,
                               const uint8_t *labels, int width, int thr_ab, int thr_cb,
                               uint64_t *counts);

typedef struct VmoDiffDSP {
    vmo_diff_row_fn diff_row;
    vmo_and_row_fn and_row;
} VmoDiffDSP;

/* Fills `dsp` with the best variant allowed by `flags` (VMO_CPU_* bits). flags == 0 gives
 * the scalar reference. */
void vmo_diff_dsp_init(VmoDiffDSP *dsp, unsigned flags);

void vmo_diff_row_c(const uint8_t *a, const uint8_t *b, const uint8_t *labels, int width,
                    int threshold, uint64_t *counts, uint64_t *sums);
void vmo_and_row_c(const uint8_t *a, const uint8_t *b, const uint8_t *c, const uint8_t *labels,
                   int width, int thr_ab, int thr_cb, uint64_t *counts);
#if defined(__x86_64__) || defined(__i386__) || defined(_M_X64)
void vmo_diff_row_sse2(const uint8_t *a, const uint8_t *b, const uint8_t *labels, int width,
                       int threshold, uint64_t *counts, uint64_t *sums);
void vmo_diff_row_avx2(const uint8_t *a, const uint8_t *b, const uint8_t *labels, int width,
                       int threshold, uint64_t *counts, uint64_t *sums);
void vmo_and_row_sse2(const uint8_t *a, const uint8_t *b, const uint8_t *c, const uint8_t *labels,
                      int width, int thr_ab, int thr_cb, uint64_t *counts);
void vmo_and_row_avx2(const uint8_t *a, const uint8_t *b, const uint8_t *c, const uint8_t *labels,
                      int width, int thr_ab, int thr_cb, uint64_t *counts);
#endif
#if defined(__aarch64__) || defined(__ARM_NEON)
void vmo_diff_row_neon(const uint8_t *a, const uint8_t *b, const uint8_t *labels, int width,
                       int threshold, uint64_t *counts, uint64_t *sums);
void vmo_and_row_neon(const uint8_t *a, const uint8_t *b, const uint8_t *c, const uint8_t *labels,
                      int width, int thr_ab, int thr_cb, uint64_t *counts);
#endif

#endif
