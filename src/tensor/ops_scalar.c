/* ops_scalar.c - the plain-C reference for every kernel.
 *
 * This is what the SIMD files are tested against and what runs where no SIMD
 * is compiled in (make ISA=scalar, or an unknown CPU).  Quantized blocks are
 * multiplied as integers and each block's integer sum is scaled by d_w*d_x
 * in float.  Where llama.cpp's x86 build has a known float operation order
 * (F32, F16, Q8_0, Q4_0, Q4_K, Q6_K) the reference emulates its SIMD lanes
 * with small arrays and fmaf, so that this C code, the SIMD kernels and
 * llama.cpp agree bit for bit; BF16 dots accumulate in double.  Clarity
 * beats speed here.
 */
#include <math.h>
#include <string.h>

#include "tensor/kernels.h"
#include "tensor/ops.h"

/* ---- dot products of one weight row with one activation row ---- */

/* F32 and F16 in ggml's two orders (see ops_avx512.c): gemm is tinyBLAS's
 * (one 16-lane fma accumulator per output over steps of 16, a short tail as
 * zero padding, then the lane tree), gemm_vecdot ggml_vec_dot's (four
 * 16-lane accumulators over steps of 64, folded (a0+a2)+(a1+a3), the tree
 * into double, leftovers added in double).  Lanes are emulated with
 * arrays and fmaf, so the SIMD kernels can be checked bit for bit. */
static float tree16(const float *v);

static inline float ld1(bool half, const void *p, int64_t i) {
    return half ? octo_f16_to_f32(((const octo_f16 *)p)[i]) : ((const float *)p)[i];
}

static float dot_vd(bool half, int64_t n, const void *w, const void *x) {
    float acc[4][16] = {{0}};
    int64_t np = n & ~(int64_t)63, i = 0;
    for (; i < np; i += 64)
        for (int j = 0; j < 4; j++)
            for (int l = 0; l < 16; l++)
                acc[j][l] = fmaf(ld1(half, w, i + 16 * j + l), ld1(half, x, i + 16 * j + l), acc[j][l]);
    float s[16];
    for (int l = 0; l < 16; l++) s[l] = (acc[0][l] + acc[2][l]) + (acc[1][l] + acc[3][l]);
    double sum = (double)tree16(s);
    for (; i < n; i++) sum += (double)(ld1(half, w, i) * ld1(half, x, i));
    return (float)sum;
}

/* A tail short of 16 counts as zero padding (fma with zeros still runs, as
 * in the masked SIMD loads). */
static float dot_tinyblas(bool half, int64_t n, const void *w, const void *x) {
    float acc[16] = {0};
    for (int64_t i = 0; i < n; i += 16)
        for (int l = 0; l < 16; l++) {
            const bool in = i + l < n;
            acc[l] = fmaf(in ? ld1(half, w, i + l) : 0.0f, in ? ld1(half, x, i + l) : 0.0f, acc[l]);
        }
    return tree16(acc);
}

static float dot_f32_vd(int64_t n, const void *w, const void *x) { return dot_vd(false, n, w, x); }
static float dot_f16_vd(int64_t n, const void *w, const void *x) { return dot_vd(true, n, w, x); }
static float dot_f32_tb(int64_t n, const void *w, const void *x) { return dot_tinyblas(false, n, w, x); }
static float dot_f16_tb(int64_t n, const void *w, const void *x) { return dot_tinyblas(true, n, w, x); }

static float dot_bf16(int64_t n, const void *vw, const void *vx) {
    const octo_bf16 *w = vw, *x = vx;
    double sum = 0.0;
    for (int64_t i = 0; i < n; i++) sum += (double)(octo_bf16_to_f32(w[i]) * octo_bf16_to_f32(x[i]));
    return (float)sum;
}

/* The 8-lane sum of ggml's hsum_float_8: lanes (i, i+4), then (0+2, 1+3),
 * then the two. */
static float hsum8(const float a[8]) {
    float t[4];
    for (int i = 0; i < 4; i++) t[i] = a[i + 4] + a[i];
    return (t[0] + t[2]) + (t[1] + t[3]);
}

/* Q8_0 in the order of ggml's x86 build (tinyBLAS_Q0_AVX and
 * ggml_vec_dot_q8_0_q8_0 alike), which the SIMD kernels reproduce lane for
 * lane: 8 float lanes per output; for each block, lane l takes the integer
 * sum of the products of values 4l..4l+3 and adds it times d_w*d_x with one
 * fused multiply-add; hsum8 at the end. */
static void q80_lanes(const int8_t *wv, const int8_t *xv, float d, float acc[8]) {
    for (int l = 0; l < 8; l++) {
        int s = 0;
        for (int j = 0; j < 4; j++) s += wv[4 * l + j] * xv[4 * l + j];
        acc[l] = fmaf(d, (float)s, acc[l]);
    }
}

static float dot_q8_0(int64_t n, const void *vw, const void *vx) {
    const block_q8_0 *w = vw;
    const block_q8_0 *x = vx;
    float acc[8] = {0};
    for (int64_t ib = 0; ib < n / QK8_0; ib++)
        q80_lanes(w[ib].qs, x[ib].qs, octo_f16_to_f32(w[ib].d) * octo_f16_to_f32(x[ib].d), acc);
    return hsum8(acc);
}

/* Q4_0: llama.cpp repacks Q4_0 weights on x86 (ggml_gemv/gemm_q4_0_8x8_q8_0,
 * used for every batch size), whose order is one float per output and, per
 * block, fma(float(the block's integer dot), d_w*d_x, acc).  (It does so
 * for tensors with a multiple of 8 rows that feed matrix products, i.e. not
 * for a token embedding reused as the output; real models and the fixtures
 * have no Q4_0 output matrix.) */
static float dot_q4_0(int64_t n, const void *vw, const void *vx) {
    const block_q4_0 *w = vw;
    const block_q8_0 *x = vx;
    float acc = 0;
    for (int64_t ib = 0; ib < n / QK4_0; ib++) {
        int s = 0;
        for (int j = 0; j < QK4_0 / 2; j++)
            s += ((w[ib].qs[j] & 0x0F) - 8) * x[ib].qs[j] + ((w[ib].qs[j] >> 4) - 8) * x[ib].qs[j + 16];
        acc = fmaf((float)s, octo_f16_to_f32(w[ib].d) * octo_f16_to_f32(x[ib].d), acc);
    }
    return acc;
}

/* Q4_K and Q6_K in the order of ggml_vec_dot_q{4,6}_K_q8_K's x86 code:
 * per super-block, int32 lane l sums the scaled products of values
 * 4l..4l+3 of every 32-value sub-block (exact); float(lane) times
 * d = d_x*d_w is fma'd into 8 float lanes; hsum8 at the end. */

/* Q4_K: eight 32-element sub-blocks, each with a 6-bit scale and min:
 * w = d*sc*q - dmin*m.  The min part only needs the activation's sums per
 * 16 elements (bsums), which Q8_K carries for exactly this purpose; ggml
 * keeps it in 4 float lanes (lane k: sub-blocks 2k, 2k+1) scaled by -dmin,
 * reduced as (0+2)+(1+3) and added last. */
static float dot_q4_K(int64_t n, const void *vw, const void *vx) {
    const block_q4_K *w = vw;
    const block_q8_K *x = vx;
    float acc[8] = {0}, accm[4] = {0};
    for (int64_t i = 0; i < n / QK_K; i++) {
        uint8_t sc[8], mn[8];
        octo_q4k_unpack_scales(w[i].scales, sc, mn);
        const float d = x[i].d * octo_f16_to_f32(w[i].d);
        const float dmin = -x[i].d * octo_f16_to_f32(w[i].dmin);
        for (int k = 0; k < 4; k++) {
            const int s0 = x[i].bsums[4 * k] + x[i].bsums[4 * k + 1];
            const int s1 = x[i].bsums[4 * k + 2] + x[i].bsums[4 * k + 3];
            accm[k] = fmaf(dmin, (float)(mn[2 * k] * s0 + mn[2 * k + 1] * s1), accm[k]);
        }
        int32_t lane[8] = {0};
        const int8_t *q8 = x[i].qs;
        for (int j = 0; j < QK_K / 64; j++) { /* 32 bytes: sub-block 2j low nibbles, 2j+1 high */
            const uint8_t *q4 = w[i].qs + 32 * j;
            for (int e = 0; e < 32; e++) {
                lane[e / 4] += sc[2 * j] * ((q4[e] & 0xF) * q8[64 * j + e]);
                lane[e / 4] += sc[2 * j + 1] * ((q4[e] >> 4) * q8[64 * j + 32 + e]);
            }
        }
        for (int l = 0; l < 8; l++) acc[l] = fmaf(d, (float)lane[l], acc[l]);
    }
    return hsum8(acc) + ((accm[0] + accm[2]) + (accm[1] + accm[3]));
}

/* Q6_K: 6-bit values (4 low bits in ql, 2 high bits in qh) minus 32, with
 * a signed 8-bit scale per 16 elements. */
static float dot_q6_K(int64_t n, const void *vw, const void *vx) {
    const block_q6_K *w = vw;
    const block_q8_K *x = vx;
    float acc[8] = {0};
    for (int64_t i = 0; i < n / QK_K; i++) {
        int8_t a[QK_K];
        const uint8_t *ql = w[i].ql;
        const uint8_t *qh = w[i].qh;
        for (int j = 0; j < QK_K; j += 128) {
            for (int l = 0; l < 32; l++) {
                a[j + l + 0] = (int8_t)((ql[l + 0] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
                a[j + l + 32] = (int8_t)((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
                a[j + l + 64] = (int8_t)((ql[l + 0] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                a[j + l + 96] = (int8_t)((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
            }
            ql += 64;
            qh += 32;
        }
        int32_t lane[8] = {0};
        const int8_t *q8 = x[i].qs;
        for (int e = 0; e < QK_K; e++) lane[(e % 32) / 4] += w[i].scales[e / 16] * (a[e] * q8[e]);
        const float d = x[i].d * octo_f16_to_f32(w[i].d);
        for (int l = 0; l < 8; l++) acc[l] = fmaf(d, (float)lane[l], acc[l]);
    }
    return hsum8(acc);
}

/* ---- matrix products: one dot per output, weight row reused from cache ---- */

#define DEFINE_GEMM(NAME, DOT)                                                                          \
    static void NAME(const void *W, size_t w_stride, int64_t n0, int64_t n1, int64_t K, const void *xq, \
                     size_t xq_stride, int64_t M, float *y, int64_t y_stride) {                         \
        for (int64_t n = n0; n < n1; n++) {                                                             \
            const char *w = (const char *)W + (size_t)n * w_stride;                                    \
            for (int64_t m = 0; m < M; m++)                                                             \
                y[m * y_stride + n] = DOT(K, w, (const char *)xq + (size_t)m * xq_stride);             \
        }                                                                                               \
    }

DEFINE_GEMM(gemm_f32, dot_f32_tb)
DEFINE_GEMM(gemm_f16, dot_f16_tb)
DEFINE_GEMM(gemm_f32_vecdot, dot_f32_vd)
DEFINE_GEMM(gemm_f16_vecdot, dot_f16_vd)
DEFINE_GEMM(gemm_bf16, dot_bf16)
DEFINE_GEMM(gemm_q8_0, dot_q8_0)
DEFINE_GEMM(gemm_q4_0, dot_q4_0)

/* Q4_0 packed by octo_q4_0_pack: the reference for the SIMD twins, in
 * dot_q4_0's order (so all agree bit for bit with the unpacked product).
 * Block i of a group: 8 scales (16 bytes), then 4 x 32 bytes where bytes
 * 32k + 4r .. +3 are row r's packed bytes 4k..4k+3. */
static void gemm_q4_0_packed(const void *W, size_t ws, int64_t n0, int64_t n1, int64_t K, const void *xq, size_t xs,
                             int64_t M, float *y, int64_t ys) {
    const int64_t nb = K / QK4_0;
    for (int64_t m = 0; m < M; m++) {
        const block_q8_0 *x = (const block_q8_0 *)((const char *)xq + m * xs);
        for (int64_t g = n0; g < n1; g += 8) {
            const uint8_t *grp = (const uint8_t *)W + g * ws;
            for (int r = 0; r < 8 && g + r < n1; r++) {
                float acc = 0;
                for (int64_t ib = 0; ib < nb; ib++) {
                    const uint8_t *b = grp + ib * 144;
                    octo_f16 d;
                    memcpy(&d, b + 2 * r, 2);
                    int s = 0;
                    for (int k = 0; k < 4; k++)
                        for (int e = 0; e < 4; e++) {
                            const uint8_t q = b[16 + 32 * k + 4 * r + e];
                            const int j = 4 * k + e;
                            s += ((q & 0x0F) - 8) * x[ib].qs[j] + ((q >> 4) - 8) * x[ib].qs[j + 16];
                        }
                    acc = fmaf((float)s, octo_f16_to_f32(d) * octo_f16_to_f32(x[ib].d), acc);
                }
                y[m * ys + g + r] = acc;
            }
        }
    }
}
DEFINE_GEMM(gemm_q4_K, dot_q4_K)
DEFINE_GEMM(gemm_q6_K, dot_q6_K)


/* ---- activation conversion ---- */

static void act_f32(const float *x, void *dst, int64_t K) { memcpy(dst, x, (size_t)K * sizeof(float)); }

static void act_f16(const float *x, void *dst, int64_t K) {
    octo_f16 *d = dst;
    for (int64_t i = 0; i < K; i++) d[i] = octo_f32_to_f16(x[i]);
}

static void act_bf16(const float *x, void *dst, int64_t K) {
    octo_bf16 *d = dst;
    for (int64_t i = 0; i < K; i++) d[i] = octo_f32_to_bf16(x[i]);
}

/* Q8_0 activations as ggml's x86 quantize_row_q8_0 (its from_float for
 * Q8_0/Q4_0 weights there), which differs from the reference quantizer in
 * two details: the multiplier is 127/amax rather than 1/(amax/127), and
 * values are rounded half to even (vroundps) rather than half away. */
static void act_q8_0(const float *x, void *dst, int64_t K) {
    block_q8_0 *y = dst;
    for (int64_t i = 0; i < K / QK8_0; i++, x += QK8_0) {
        float amax = 0.0f;
        for (int j = 0; j < QK8_0; j++) amax = fmaxf(amax, fabsf(x[j]));
        const float d = amax / 127.f;
        const float id = amax != 0.0f ? 127.f / amax : 0.0f;
        y[i].d = octo_f32_to_f16(d);
        for (int j = 0; j < QK8_0; j++) y[i].qs[j] = (int8_t)nearbyintf(x[j] * id);
    }
}
static void act_q8_K(const float *x, void *dst, int64_t K) { octo_quantize_row_q8_K_ref(x, dst, K); }

/* ---- F32 vector kernels ---- */

/* ggml_vec_silu_f32: 16-wide chunks with the polynomial exp, the tail with
 * libm (the order of evaluation is the only thing kept: results are the
 * same whatever width computes the chunks). */
static void silu_f32(float *y, const float *x, int64_t n) {
    int64_t i = 0, chunks = n - n % 16;
    for (; i < chunks; i++) y[i] = x[i] / (1.0f + octo_expf_poly(0.0f - x[i]));
    for (; i < n; i++) y[i] = x[i] / (1.0f + expf(-x[i]));
}

/* The lane tree of _mm512_reduce_add_ps over one group of 16. */
static float tree16(const float *v) {
    float s8[8], s4[4];
    for (int i = 0; i < 8; i++) s8[i] = v[i] + v[i + 8];
    for (int i = 0; i < 4; i++) s4[i] = s8[i] + s8[i + 4];
    return (s4[0] + s4[2]) + (s4[1] + s4[3]);
}

static double exp_sum_f32(float *y, const float *x, float max, int64_t n) {
    double sum = 0;
    for (int64_t i = 0; i < n; i += 16) {
        float v[16] = {0};
        int64_t k = n - i < 16 ? n - i : 16;
        for (int64_t l = 0; l < k; l++) y[i + l] = v[l] = octo_expf_poly(x[i + l] - max);
        sum += (double)tree16(v);
    }
    return sum;
}

static float dot_f16_4acc(const octo_f16 *a, const octo_f16 *b, int64_t n) {
    float acc[4][16] = {{0}};
    int64_t np = n & ~(int64_t)63, i = 0;
    for (; i < np; i += 64)
        for (int j = 0; j < 4; j++)
            for (int l = 0; l < 16; l++)
                acc[j][l] = fmaf(octo_f16_to_f32(a[i + 16 * j + l]), octo_f16_to_f32(b[i + 16 * j + l]), acc[j][l]);
    for (int l = 0; l < 16; l++) {
        acc[0][l] += acc[2][l];
        acc[1][l] += acc[3][l];
    }
    for (int l = 0; l < 16; l++) acc[0][l] += acc[1][l];
    double sum = np ? (double)tree16(acc[0]) : 0.0;
    for (; i < n; i++) sum += (double)(octo_f16_to_f32(a[i]) * octo_f16_to_f32(b[i]));
    return (float)sum;
}

static float dot_f16_lanes16(const octo_f16 *a, const octo_f16 *b, int64_t n) {
    float acc[16] = {0};
    for (int64_t k = 0; k < n; k += 16)
        for (int l = 0; l < 16; l++) acc[l] = fmaf(octo_f16_to_f32(a[k + l]), octo_f16_to_f32(b[k + l]), acc[l]);
    return tree16(acc);
}

static void rope_f32(float *v, const float *cs, const float *sn, int n_pairs, int neox) {
    for (int k = 0; k < n_pairs; k++) {
        int i0 = neox ? k : 2 * k, i1 = neox ? k + n_pairs : 2 * k + 1;
        float x0 = v[i0], x1 = v[i1];
        v[i0] = fmaf(x0, cs[k], -(x1 * sn[k]));
        v[i1] = fmaf(x0, sn[k], x1 * cs[k]);
    }
}

static float vdot_f32(const float *a, const float *b, int64_t n) {
    double sum = 0.0;
    for (int64_t i = 0; i < n; i++) sum += (double)(a[i] * b[i]);
    return (float)sum;
}

static void vaxpy_f32(float *y, float a, const float *x, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] += a * x[i];
}

static void vscale_f32(float *y, float a, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] *= a;
}

const octo_kernels octo_kernels_scalar = {
    .name = "scalar",
    .gemm_q4_0_packed = gemm_q4_0_packed,
    .gemm =
        {
            [OCTO_TYPE_F32] = gemm_f32,
            [OCTO_TYPE_F16] = gemm_f16,
            [OCTO_TYPE_BF16] = gemm_bf16,
            [OCTO_TYPE_Q8_0] = gemm_q8_0,
            [OCTO_TYPE_Q4_0] = gemm_q4_0,
            [OCTO_TYPE_Q4_K] = gemm_q4_K,
            [OCTO_TYPE_Q6_K] = gemm_q6_K,
        },
    .gemm_vecdot =
        {
            [OCTO_TYPE_F32] = gemm_f32_vecdot,
            [OCTO_TYPE_F16] = gemm_f16_vecdot,
        },
    .act =
        {
            [OCTO_TYPE_F32] = act_f32,
            [OCTO_TYPE_F16] = act_f16,
            [OCTO_TYPE_BF16] = act_bf16,
            [OCTO_TYPE_Q8_0] = act_q8_0,
            [OCTO_TYPE_Q8_K] = act_q8_K,
        },
    .dot_f32 = vdot_f32,
    .axpy_f32 = vaxpy_f32,
    .scale_f32 = vscale_f32,
    .silu_f32 = silu_f32,
    .exp_sum_f32 = exp_sum_f32,
    .dot_f16_4acc = dot_f16_4acc,
    .dot_f16_lanes16 = dot_f16_lanes16,
    .rope_f32 = rope_f32,
};
