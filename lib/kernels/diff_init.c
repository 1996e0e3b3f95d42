/* Picks the best difference kernel for a set of CPU flags. The flags are a parameter, not
 * vmo_cpu_effective(), so tests and benches can ask for any variant (dav1d's init ladder). */
#include "internal.h"
#include "kernels/diff.h"

void vmo_diff_dsp_init(VmoDiffDSP *dsp, unsigned flags)
{
    dsp->diff_row = vmo_diff_row_c;
    dsp->and_row = vmo_and_row_c;
#if defined(__x86_64__) || defined(__i386__) || defined(_M_X64)
    if (!(flags & VMO_CPU_SSE2))
        return;
    dsp->diff_row = vmo_diff_row_sse2;
    dsp->and_row = vmo_and_row_sse2;
    if (!(flags & VMO_CPU_AVX2))
        return;
    dsp->diff_row = vmo_diff_row_avx2;
    dsp->and_row = vmo_and_row_avx2;
#elif defined(__aarch64__) /* CMake builds diff_neon.c for AArch64 only */
    if (!(flags & VMO_CPU_NEON))
        return;
    dsp->diff_row = vmo_diff_row_neon;
    dsp->and_row = vmo_and_row_neon;
#else
    (void)flags;
#endif
}
