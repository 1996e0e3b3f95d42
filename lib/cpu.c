/* CPU feature detection and the process-wide feature mask.
 *
 * Both values live in atomics with a sentinel for "not yet known", so no lock or once-flag
 * is needed: detection is idempotent (two racing threads compute the same bits) and the
 * mask is installed from VMO_CPU_MASK with a compare-exchange, so a concurrent
 * vmo_set_cpu_mask() is never overwritten by the environment. */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <strings.h>

#include "cpu.h"
#include "internal.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#define CPU_X86 1
#endif

/* Bit 31 is no feature: it marks "unknown" in both atomics below. */
#define CPU_UNSET (1u << 31)

static atomic_uint cpu_detected = CPU_UNSET;
static atomic_uint cpu_mask = CPU_UNSET;

#ifdef CPU_X86
/* XCR0 via the raw opcode: the _xgetbv intrinsic would need -mxsave on this file. */
static unsigned read_xcr0(void)
{
    unsigned eax, edx;
    __asm__ volatile(".byte 0x0f, 0x01, 0xd0" : "=a"(eax), "=d"(edx) : "c"(0));
    return eax;
}

static unsigned detect_x86(void)
{
    unsigned eax, ebx, ecx, edx, flags = 0;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx))
        return 0;
    if (!(edx & bit_SSE2))
        return 0; /* the ladder builds on SSE2: without it only C runs */
    flags |= VMO_CPU_SSE2;
    /* AVX2 needs the AVX bit, and the OS must save YMM state on context switches:
     * OSXSAVE says XGETBV works, XCR0 bits 1 (SSE) and 2 (AVX) say both are enabled.
     * The AVX2 kernels also use POPCNT, which every AVX2 CPU has; checked all the same. */
    if (!(ecx & bit_OSXSAVE) || !(ecx & bit_AVX) || !(ecx & bit_POPCNT) || (read_xcr0() & 6u) != 6u)
        return flags;
    if (__get_cpuid_max(0, NULL) < 7)
        return flags;
    __cpuid_count(7, 0, eax, ebx, ecx, edx);
    if (ebx & bit_AVX2)
        flags |= VMO_CPU_AVX2;
    return flags;
}
#endif

static unsigned detect(void)
{
#if defined(CPU_X86)
    return detect_x86();
#elif defined(__aarch64__)
    return VMO_CPU_NEON; /* Advanced SIMD is mandatory in AArch64 */
#else
    return 0;
#endif
}

unsigned vmo_cpu_detect(void)
{
    unsigned flags = atomic_load_explicit(&cpu_detected, memory_order_relaxed);
    if (flags == CPU_UNSET) {
        flags = detect();
        atomic_store_explicit(&cpu_detected, flags, memory_order_relaxed);
    }
    return flags;
}

int vmo_cpu_parse_mask(const char *text, unsigned *mask)
{
    static const struct {
        const char *name;
        unsigned mask;
    } names[] = {
        { "c", 0 },
        { "scalar", 0 },
        { "sse2", VMO_CPU_SSE2 },
        { "avx2", VMO_CPU_SSE2 | VMO_CPU_AVX2 },
        { "neon", VMO_CPU_NEON },
        { "all", ~0u },
    };
    if (!text || !*text)
        return -1;
    for (size_t i = 0; i < VMO_ARRAY_SIZE(names); i++) {
        if (!strcasecmp(text, names[i].name)) {
            *mask = names[i].mask;
            return 0;
        }
    }
    /* strtoul accepts "-1" as ULONG_MAX and skips leading blanks: neither is a mask. */
    if (*text < '0' || *text > '9')
        return -1;
    char *end;
    errno = 0;
    const unsigned long v = strtoul(text, &end, 0);
    if (errno || *end || v > ~0u)
        return -1;
    *mask = (unsigned)v;
    return 0;
}

/* The initial mask. A malformed value is ignored (the library cannot report it here). */
static unsigned mask_from_env(void)
{
    unsigned mask = ~0u;
    if (vmo_cpu_parse_mask(getenv("VMO_CPU_MASK"), &mask) != 0)
        mask = ~0u;
    return mask & ~CPU_UNSET;
}

static unsigned mask_get(void)
{
    unsigned mask = atomic_load_explicit(&cpu_mask, memory_order_relaxed);
    if (mask == CPU_UNSET) {
        const unsigned env = mask_from_env();
        /* On failure another thread (or vmo_set_cpu_mask) got there first: keep its value,
         * which the exchange has loaded into `mask`. */
        if (atomic_compare_exchange_strong_explicit(&cpu_mask, &mask, env, memory_order_relaxed,
                                                    memory_order_relaxed))
            mask = env;
    }
    return mask;
}

unsigned vmo_cpu_effective(void)
{
    return vmo_cpu_detect() & mask_get();
}

VMO_API unsigned vmo_cpu_flags(void)
{
    return vmo_cpu_effective();
}

VMO_API void vmo_set_cpu_mask(unsigned mask)
{
    atomic_store_explicit(&cpu_mask, mask & ~CPU_UNSET, memory_order_relaxed);
}
