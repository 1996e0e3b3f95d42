/* CPU feature detection and the process-wide feature mask (VMO_CPU_* of the public header). */
#ifndef VMO_CPU_H
#define VMO_CPU_H

/* Features the CPU and OS support, ignoring the mask. Detected once, thread-safe. */
unsigned vmo_cpu_detect(void);
/* vmo_cpu_detect() & the current mask (what new analyzers use). */
unsigned vmo_cpu_effective(void);

/* Reads a VMO_CPU_MASK value: a number (strtoul base 0: "3", "0x3") or a name, case
 * insensitive: "c"/"scalar" (0), "sse2", "avx2" (AVX2 and SSE2), "neon", "all" (~0u).
 * Returns 0 and sets *mask, or -1 (*mask untouched) for NULL, "", negative numbers, values
 * above UINT_MAX and anything else. Exposed for the tests. */
int vmo_cpu_parse_mask(const char *text, unsigned *mask);

#endif
