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
    /* F32/F16 only: the summation order of ggml_vec_dot_f32/_f16, which
     * llama.cpp uses for one token where gemm follows its batched tinyBLAS
     * order (quantized types have one order for both; NULL here) */
    octo_gemm_fn gemm_vecdot[OCTO_TYPE_COUNT];
    octo_act_fn act[OCTO_TYPE_COUNT];   /* indexed by activation (vec_dot) type */
    /* Q4_0 weights packed by octo_q4_0_pack (ws: the unpacked row size);
     * NULL where the plain kernel is as fast (then nothing is packed) */
    octo_gemm_fn gemm_q4_0_packed;
    float (*dot_f32)(const float *a, const float *b, int64_t n);
    void (*axpy_f32)(float *y, float a, const float *x, int64_t n);
    void (*scale_f32)(float *y, float a, int64_t n);
    /* exp-based activations, bit-identical on every ISA (see ops.h) */
    void (*silu_f32)(float *y, const float *x, int64_t n);
    double (*exp_sum_f32)(float *y, const float *x, float max, int64_t n);
    float (*dot_f16_4acc)(const octo_f16 *a, const octo_f16 *b, int64_t n);
    float (*dot_f16_lanes16)(const octo_f16 *a, const octo_f16 *b, int64_t n);
    void (*rope_f32)(float *v, const float *cs, const float *sn, int n_pairs, int neox);
} octo_kernels;

/* The exponential of ggml's CPU backend (ARM's optimized-routines
 * polynomial, max error 1.5 ulp), written with fmaf so that every ISA
 * computes the same bits: SIMD twins do the same operations lane-wise. */
static inline float octo_expf_poly(float x) {
    const float shift = 0x1.8p23f;
    float z = __builtin_fmaf(x, 0x1.715476p+0f, shift); /* x / ln2, rounded to an integer in the low bits */
    float n = z - shift;
    float b = __builtin_fmaf(-n, 0x1.7f7d1cp-20f, __builtin_fmaf(-n, 0x1.62e4p-1f, x)); /* x - n ln2 */
    float u = b * b;
    float j = __builtin_fmaf(__builtin_fmaf(__builtin_fmaf(0x1.0e4020p-7f, b, 0x1.573e2ep-5f), u,
                                            __builtin_fmaf(0x1.555e66p-3f, b, 0x1.fffdb6p-2f)),
                             u, __builtin_fmaf(0x1.ffffecp-1f, b, 1.0f));
    if (__builtin_fabsf(n) > 192.0f || n != n) return n <= 0.0f || n != n ? 0.0f : __builtin_inff();
    return __builtin_scalbnf(j, (int)n);
}

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

/* A per-thread buffer of at least `bytes` bytes, 64-byte aligned, for data a
 * kernel prepares once per call (activations re-laid for a tile).  Valid
 * until the same thread asks again; freed when the thread exits. */
void *octo_kernel_scratch(size_t bytes);

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
