/* Scalar reference of the difference kernel: the oracle every ISA variant is tested against,
 * and the tail of the SIMD loops. Keep it plain. */
#include <stdint.h>

#include "kernels/diff.h"

void vmo_diff_row_c(const uint8_t *a, const uint8_t *b, const uint8_t *labels, int width,
                    int threshold, uint64_t *counts, uint64_t *sums)
{
    for (int x = 0; x < width; x++) {
        const int d = a[x] > b[x] ? a[x] - b[x] : b[x] - a[x];
        counts[labels[x]] += d > threshold;
        sums[labels[x]] += (uint64_t)d;
    }
}

void vmo_and_row_c(const uint8_t *a, const uint8_t *b, const uint8_t *c, const uint8_t *labels,
                   int width, int thr_ab, int thr_cb, uint64_t *counts)
{
    for (int x = 0; x < width; x++) {
        const int dab = a[x] > b[x] ? a[x] - b[x] : b[x] - a[x];
        const int dcb = c[x] > b[x] ? c[x] - b[x] : b[x] - c[x];
        counts[labels[x]] += dab > thr_ab && dcb > thr_cb;
    }
}
