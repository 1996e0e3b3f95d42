/* CPU feature detection and the process-wide feature mask (VMO_CPU_* of the public header). */
#ifndef VMO_CPU_H
#define VMO_CPU_H

/* Features the CPU and OS support, ignoring the mask. Detected once, thread-safe. */
unsigned vmo_cpu_detect(void);
/* vmo_cpu_detect() & the current mask (what new analyzers use). */
unsigned vmo_cpu_effective(void);

#endif
