/* kernels.h - the internal table of kernels one instruction set provides.
 *
 * ops.h is the public face; behind it dispatch.c holds one octo_kernels
 * table per compiled instruction set and picks one at start-up.  A table may
 * leave entries NULL: dispatch.c fills them from the next simpler table
 * (avx512 -> avx2 -> scalar, neon -> scalar), so a SIMD file only has to
 * implement what it makes faster.
 *
 * Also here: the reference quantizers the SIMD activation converters must
 * match bit for bit, and small helpers shared by the kernel files.
 */
#ifndef OCTO_TENSOR_KERNELS_H
#define OCTO_TENSOR_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#include "tensor/types.h"

/* y[m*y_stride + n] = dot(W row n, xq row m) for n in [n0,n1), m in [0,M).
 * xq rows are xq_stride bytes apart. */
typedef void (*octo_gemm_fn)(const void *W, size_t w_stride, int64_t n0, int64_t n1, int64_t K,
                             const void *xq, size_t xq_stride, int64_t M, float *y, int64_t y_stride);

/* Convert one row of K floats to an activation type (F16, BF16, Q8_0, Q8_K,
 * or F32 = copy).  Must give exactly the bytes of the reference quantizer. */
typedef void (*octo_act_fn)(const float *x, void *dst, int64_t K);

typedef struct octo_kernels {
    const char *name;
    octo_gemm_fn gemm[OCTO_TYPE_COUNT]; /* indexed by weight type */
    octo_act_fn act[OCTO_TYPE_COUNT];   /* indexed by activation (vec_dot) type */
    float (*dot_f32)(const float *a, const float *b, int64_t n);
    void (*axpy_f32)(float *y, float a, const float *x, int64_t n);
    void (*scale_f32)(float *y, float a, int64_t n);
} octo_kernels;

/* Per-ISA tables; each is partial (NULL = inherit). */
extern const octo_kernels octo_kernels_scalar;
#if !defined(OCTO_NO_SIMD) && defined(__x86_64__)
extern const octo_kernels octo_kernels_avx2;
extern const octo_kernels octo_kernels_avx512;
#endif
#if !defined(OCTO_NO_SIMD) && defined(__aarch64__)
extern const octo_kernels octo_kernels_neon;
#endif

/* The table in use (never NULL). */
const octo_kernels *octo_kernels_get(void);

/* ---- reference quantizers (quant.c), ggml's *_ref ---- */
void octo_quantize_row_q8_0_ref(const float *x, block_q8_0 *y, int64_t k);
void octo_quantize_row_q4_0_ref(const float *x, block_q4_0 *y, int64_t k);
void octo_quantize_row_q8_K_ref(const float *x, block_q8_K *y, int64_t k);
void octo_quantize_row_q4_K_ref(const float *x, block_q4_K *y, int64_t k);
void octo_quantize_row_q6_K_ref(const float *x, block_q6_K *y, int64_t k);

/* Q4_K packs 8 six-bit scales and 8 six-bit mins into 12 bytes; entry j
 * (0..7) of both, as ggml's get_scale_min_k4. */
static inline void octo_q4k_scale_min(int j, const uint8_t *q, uint8_t *d, uint8_t *m) {
    if (j < 4) {
        *d = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *d = (uint8_t)((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
        *m = (uint8_t)((q[j + 4] >> 4) | ((q[j - 0] >> 6) << 4));
    }
}

/* Unpack all 8 scales and 8 mins of a Q4_K block at once. */
static inline void octo_q4k_unpack_scales(const uint8_t *q, uint8_t sc[8], uint8_t mn[8]) {
    for (int j = 0; j < 8; j++) octo_q4k_scale_min(j, q, &sc[j], &mn[j]);
}

#endif
