/* Run-time choice of the kernel table: the widest instruction set that both
 * the build compiled and the CPU supports.  OTK_KERNELS=generic|avx2|avx512 in
 * the environment forces a narrower one (for tests and benchmarks); other
 * values are ignored. */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif
#include <stdlib.h>
#include <string.h>
#include "kernels.h"

static const otk_kernels *select_kernels(void)
{
    const char *force = getenv("OTK_KERNELS");
    /* Only the documented names narrow the choice; anything else is ignored. */
    if (force && strcmp(force, "generic") != 0 && strcmp(force, "avx2") != 0 &&
        strcmp(force, "avx512") != 0)
        force = NULL;
    int allow_avx2 = !force || strcmp(force, "generic") != 0;
    int allow_avx512 = !force || strcmp(force, "avx512") == 0;
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
    __builtin_cpu_init();
#ifdef OTK_HAVE_AVX512
    if (allow_avx512 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("fma"))
        return &otk__kernels_avx512;
#endif
#ifdef OTK_HAVE_AVX2
    if (allow_avx2 && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return &otk__kernels_avx2;
#endif
#endif
    (void)allow_avx2;
    (void)allow_avx512;
    return &otk__kernels_generic;
}

const otk_kernels *otk__kernels(void)
{
    /* Idempotent: concurrent first calls compute and store the same pointer. */
    static const otk_kernels *chosen;
    const otk_kernels *k = __atomic_load_n(&chosen, __ATOMIC_ACQUIRE);
    if (!k) {
        k = select_kernels();
        __atomic_store_n(&chosen, k, __ATOMIC_RELEASE);
    }
    return k;
}
