/* ops_neon.c - kernels for aarch64 Advanced SIMD (NEON).
 *
 * Covers the products that dominate on ARM machines (F32, Q8_0, Q4_0) and
 * the F32 vector kernels; everything else is inherited from ops_scalar.c.
 * Each output is one dot product computed the same way wherever it falls,
 * so results do not depend on how rows or tokens are split.  Quantized
 * blocks are multiplied as exact integers (sdot where the compiler targets
 * the dot-product extension, widening multiplies otherwise), and each
 * block's integer sum is scaled by d_w*d_x in float, like ggml.
 */
#include "tensor/kernels.h"

#if defined(__aarch64__) && !defined(OCTO_NO_SIMD)

#include <arm_neon.h>
#include <string.h>

static inline float f16(octo_f16 h) {
    __fp16 v;
    memcpy(&v, &h, 2);
    return (float)v;
}

/* Sum of 16 int8 products into 4 int32 lanes. */
static inline int32x4_t dot16(int32x4_t acc, int8x16_t a, int8x16_t b) {
#if defined(__ARM_FEATURE_DOTPROD)
    return vdotq_s32(acc, a, b);
#else
    const int16x8_t lo = vmull_s8(vget_low_s8(a), vget_low_s8(b));
    const int16x8_t hi = vmull_high_s8(a, b);
    return vpadalq_s16(vpadalq_s16(acc, lo), hi);
#endif
}

static float dot_f32_row(int64_t n, const float *a, const float *b) {
    float32x4_t s0 = vdupq_n_f32(0), s1 = vdupq_n_f32(0), s2 = vdupq_n_f32(0), s3 = vdupq_n_f32(0);
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        s0 = vfmaq_f32(s0, vld1q_f32(a + i), vld1q_f32(b + i));
        s1 = vfmaq_f32(s1, vld1q_f32(a + i + 4), vld1q_f32(b + i + 4));
        s2 = vfmaq_f32(s2, vld1q_f32(a + i + 8), vld1q_f32(b + i + 8));
        s3 = vfmaq_f32(s3, vld1q_f32(a + i + 12), vld1q_f32(b + i + 12));
    }
    for (; i + 4 <= n; i += 4) s0 = vfmaq_f32(s0, vld1q_f32(a + i), vld1q_f32(b + i));
    float sum = vaddvq_f32(vaddq_f32(vaddq_f32(s0, s1), vaddq_f32(s2, s3)));
    for (; i < n; i++) sum += a[i] * b[i];
    return sum;
}

static float dot_q8_0(int64_t n, const block_q8_0 *w, const block_q8_0 *x) {
    float32x4_t acc = vdupq_n_f32(0);
    for (int64_t ib = 0; ib < n / QK8_0; ib++) {
        int32x4_t s = vdupq_n_s32(0);
        s = dot16(s, vld1q_s8(w[ib].qs), vld1q_s8(x[ib].qs));
        s = dot16(s, vld1q_s8(w[ib].qs + 16), vld1q_s8(x[ib].qs + 16));
        acc = vfmaq_n_f32(acc, vcvtq_f32_s32(s), f16(w[ib].d) * f16(x[ib].d));
    }
    return vaddvq_f32(acc);
}

static float dot_q4_0(int64_t n, const block_q4_0 *w, const block_q8_0 *x) {
    float32x4_t acc = vdupq_n_f32(0);
    const uint8x16_t m4 = vdupq_n_u8(0x0F);
    const int8x16_t s8 = vdupq_n_s8(8);
    for (int64_t ib = 0; ib < n / QK4_0; ib++) {
        const uint8x16_t q = vld1q_u8(w[ib].qs);
        const int8x16_t lo = vsubq_s8(vreinterpretq_s8_u8(vandq_u8(q, m4)), s8); /* elements 0..15 */
        const int8x16_t hi = vsubq_s8(vreinterpretq_s8_u8(vshrq_n_u8(q, 4)), s8); /* elements 16..31 */
        int32x4_t s = vdupq_n_s32(0);
        s = dot16(s, lo, vld1q_s8(x[ib].qs));
        s = dot16(s, hi, vld1q_s8(x[ib].qs + 16));
        acc = vfmaq_n_f32(acc, vcvtq_f32_s32(s), f16(w[ib].d) * f16(x[ib].d));
    }
    return vaddvq_f32(acc);
}

/* Rows outer, tokens inner: a weight row is read from memory once and
 * reused from L1 for every token. */
#define DEFINE_GEMM(NAME, DOT, WT, XT)                                                                     \
    static void NAME(const void *W, size_t ws, int64_t n0, int64_t n1, int64_t K, const void *xq, size_t xs, \
                     int64_t M, float *y, int64_t ys) {                                                   \
        for (int64_t n = n0; n < n1; n++) {                                                               \
            const WT *w = (const WT *)((const char *)W + (size_t)n * ws);                                  \
            for (int64_t m = 0; m < M; m++)                                                               \
                y[m * ys + n] = DOT(K, w, (const XT *)((const char *)xq + (size_t)m * xs));               \
        }                                                                                                 \
    }

DEFINE_GEMM(gemm_f32, dot_f32_row, float, float)
DEFINE_GEMM(gemm_q8_0, dot_q8_0, block_q8_0, block_q8_0)
DEFINE_GEMM(gemm_q4_0, dot_q4_0, block_q4_0, block_q8_0)

static float vdot_f32(const float *a, const float *b, int64_t n) { return dot_f32_row(n, a, b); }

static void vaxpy_f32(float *y, float a, const float *x, int64_t n) {
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) vst1q_f32(y + i, vfmaq_n_f32(vld1q_f32(y + i), vld1q_f32(x + i), a));
    for (; i < n; i++) y[i] += a * x[i];
}

static void vscale_f32(float *y, float a, int64_t n) {
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) vst1q_f32(y + i, vmulq_n_f32(vld1q_f32(y + i), a));
    for (; i < n; i++) y[i] *= a;
}

const octo_kernels octo_kernels_neon = {
    .name = "neon",
    .gemm =
        {
            [OCTO_TYPE_F32] = gemm_f32,
            [OCTO_TYPE_Q8_0] = gemm_q8_0,
            [OCTO_TYPE_Q4_0] = gemm_q4_0,
        },
    .dot_f32 = vdot_f32,
    .axpy_f32 = vaxpy_f32,
    .scale_f32 = vscale_f32,
};

#endif
