/* stub */
#include "tensor/kernels.h"
#if defined(__x86_64__) && !defined(OCTO_NO_SIMD)
const octo_kernels octo_kernels_avx2 = {.name = "avx2"};
#endif
