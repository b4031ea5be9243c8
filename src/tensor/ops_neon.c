/* ops_neon.c - kernels for aarch64 Advanced SIMD (NEON).
 *
 * Covers the products that dominate on ARM machines (F32, Q8_0, Q4_0) and
 * the F32 vector kernels; everything else is inherited from ops_scalar.c.
 * Each output is one dot product computed the same way wherever it falls,
 * so results do not depend on how rows or tokens are split.  Quantized
 * blocks are multiplied as exact integers (sdot where the compiler targets
 * the dot-product extension, widening multiplies otherwise), and each
 * block's integer sum is scaled by d_w*d_x in float.  The float operations
 * follow the order of llama.cpp's x86 build, as the x86 kernels and the
 * scalar reference do (see ops_scalar.c), so the three agree bit for bit.
 * (llama.cpp's own ARM build sums in other orders.)
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

/* int32 lane l = the sum of the 4 products of bytes 4l..4l+3 (exact): the
 * lanes of x86's vpmaddubsw+vpmaddwd and vpdpbusd, which fix where ggml's
 * float sums of Q8_0 blocks start. */
static inline int32x4_t dot16_lanes4(int8x16_t a, int8x16_t b) {
#if defined(__ARM_FEATURE_DOTPROD)
    return vdotq_s32(vdupq_n_s32(0), a, b);
#else
    const int32x4_t lo = vpaddlq_s16(vmull_s8(vget_low_s8(a), vget_low_s8(b))); /* pairs of bytes 0-7 */
    const int32x4_t hi = vpaddlq_s16(vmull_high_s8(a, b));                     /* pairs of bytes 8-15 */
    return vpaddq_s32(lo, hi);
#endif
}

/* F32 in tinyBLAS's order, as the x86 kernels and the scalar reference
 * (dot_tinyblas): 16 float lanes (4 vectors, lane 4q+l in v[q] lane l)
 * each fma'd over steps of 16, a short tail as zero padding, then the lane
 * tree (l, l+8), (l, l+4), (0+2)+(1+3). */
static float dot_f32_row(int64_t n, const float *a, const float *b) {
    float32x4_t s[4] = {vdupq_n_f32(0), vdupq_n_f32(0), vdupq_n_f32(0), vdupq_n_f32(0)};
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
        for (int q = 0; q < 4; q++) s[q] = vfmaq_f32(s[q], vld1q_f32(a + i + 4 * q), vld1q_f32(b + i + 4 * q));
    if (i < n) {
        float ta[16] = {0}, tb[16] = {0};
        memcpy(ta, a + i, sizeof(float) * (size_t)(n - i));
        memcpy(tb, b + i, sizeof(float) * (size_t)(n - i));
        for (int q = 0; q < 4; q++) s[q] = vfmaq_f32(s[q], vld1q_f32(ta + 4 * q), vld1q_f32(tb + 4 * q));
    }
    const float32x4_t s4 = vaddq_f32(vaddq_f32(s[0], s[2]), vaddq_f32(s[1], s[3]));
    const float32x2_t s2 = vadd_f32(vget_low_f32(s4), vget_high_f32(s4)); /* (0+2, 1+3) */
    return vget_lane_f32(s2, 0) + vget_lane_f32(s2, 1);
}

/* Q8_0 in the order of ggml's x86 build (see ops_scalar.c, dot_q8_0): 8
 * float lanes, lane l fma'd per block with the integer sum of values
 * 4l..4l+3 times d_w*d_x; ggml's hsum_float_8 at the end. */
static float dot_q8_0(int64_t n, const block_q8_0 *w, const block_q8_0 *x) {
    float32x4_t lo = vdupq_n_f32(0), hi = vdupq_n_f32(0); /* lanes 0-3, 4-7 */
    for (int64_t ib = 0; ib < n / QK8_0; ib++) {
        const float d = f16(w[ib].d) * f16(x[ib].d);
        lo = vfmaq_n_f32(lo, vcvtq_f32_s32(dot16_lanes4(vld1q_s8(w[ib].qs), vld1q_s8(x[ib].qs))), d);
        hi = vfmaq_n_f32(hi, vcvtq_f32_s32(dot16_lanes4(vld1q_s8(w[ib].qs + 16), vld1q_s8(x[ib].qs + 16))), d);
    }
    const float32x4_t t = vaddq_f32(hi, lo);                              /* (l, l+4) */
    const float32x2_t t2 = vadd_f32(vget_low_f32(t), vget_high_f32(t)); /* (0+2, 1+3) */
    return vget_lane_f32(t2, 0) + vget_lane_f32(t2, 1);
}

/* Q4_0 in the order of llama.cpp's repacked Q4_0 kernels (see ops_scalar.c,
 * dot_q4_0): one float per output, fma'd per block with the block's exact
 * integer dot times d_w*d_x. */
static float dot_q4_0(int64_t n, const block_q4_0 *w, const block_q8_0 *x) {
    float acc = 0;
    const uint8x16_t m4 = vdupq_n_u8(0x0F);
    const int8x16_t s8 = vdupq_n_s8(8);
    for (int64_t ib = 0; ib < n / QK4_0; ib++) {
        const uint8x16_t q = vld1q_u8(w[ib].qs);
        const int8x16_t lo = vsubq_s8(vreinterpretq_s8_u8(vandq_u8(q, m4)), s8); /* elements 0..15 */
        const int8x16_t hi = vsubq_s8(vreinterpretq_s8_u8(vshrq_n_u8(q, 4)), s8); /* elements 16..31 */
        const int32x4_t s = vaddq_s32(dot16_lanes4(lo, vld1q_s8(x[ib].qs)), dot16_lanes4(hi, vld1q_s8(x[ib].qs + 16)));
        acc = __builtin_fmaf((float)vaddvq_s32(s), f16(w[ib].d) * f16(x[ib].d), acc);
    }
    return acc;
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
