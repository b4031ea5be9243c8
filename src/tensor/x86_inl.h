/* x86_inl.h - helpers and driver templates shared by ops_avx2.c and
 * ops_avx512.c.  Only 256-bit (AVX2, FMA, F16C) instructions, so it
 * compiles under either file's flags; included by both, never on its own.
 *
 * The includer defines RT and CT (its largest tile: weight rows x tokens)
 * and CALL_RC(TILE, r, c, ...), which calls TILE with r and c as
 * compile-time constants (see ops_avx512.c), before expanding the
 * DEFINE_GEMM* templates below.
 */
#ifndef OCTO_TENSOR_X86_INL_H
#define OCTO_TENSOR_X86_INL_H

#include <immintrin.h>
#include <string.h>

#include "tensor/kernels.h"

#define INLINE static inline __attribute__((always_inline))
#define UNROLL _Pragma("GCC unroll 8")

INLINE float f16(octo_f16 h) { return _cvtsh_ss(h); }

/* The 8-lane sum of ggml's hsum_float_8 (high + low half, then movehl,
 * then movehdup): lanes (i, i+4), then (0+2, 1+3), then the two. */
INLINE float hsum8(__m256 v) {
    __m128 b = _mm_add_ps(_mm256_extractf128_ps(v, 1), _mm256_castps256_ps128(v));
    b = _mm_add_ps(b, _mm_movehl_ps(b, b));
    b = _mm_add_ss(b, _mm_movehdup_ps(b));
    return _mm_cvtss_f32(b);
}

/* 12 bytes of Q4_K scales -> 8 scales and 8 mins (ggml's utmp unpacking),
 * byte j of *sc / *mn = entry j (little-endian). */
INLINE void q4k_scales(const uint8_t *s12, uint64_t *sc, uint64_t *mn) {
    uint32_t u[4];
    memcpy(u, s12, 12);
    const uint32_t km1 = 0x3f3f3f3f, km2 = 0x0f0f0f0f, km3 = 0x03030303;
    u[3] = ((u[2] >> 4) & km2) | (((u[1] >> 6) & km3) << 4);
    const uint32_t mins_lo = u[1] & km1;
    u[1] = (u[2] & km2) | (((u[0] >> 6) & km3) << 4);
    u[0] &= km1;
    *sc = (uint64_t)u[0] | ((uint64_t)u[1] << 32);
    *mn = (uint64_t)mins_lo | ((uint64_t)u[3] << 32);
}

/* Generation streams each weight once, a few rows at a time.  Rows of a
 * few KB are too short for the hardware prefetcher to ramp up on, so as a
 * tile consumes len bytes at offset off of its rows, the same bytes of the
 * rows dist bytes further on are requested into L2 (into L1 would occupy
 * the fill buffers the demand loads need). */
INLINE size_t prefetch_dist(const int R, size_t ws) {
    const size_t step = R * ws;
    if (step == 0) return 0; /* a single row (octo_vec_dot): nothing follows */
    return step >= 4096 ? step : (4096 / step + 1) * step;
}
INLINE void prefetch_rows(const int R, const char *W, size_t ws, size_t off, const int len, size_t dist) {
    UNROLL for (int r = 0; r < R; r++) {
        const char *p = W + r * ws + off + dist;
        UNROLL for (int o = 0; o < len; o += 64) _mm_prefetch(p + o, _MM_HINT_T1);
        if (len % 64 != 0 || len < 64) _mm_prefetch(p + len - 1, _MM_HINT_T1);
    }
}

/* An octo_gemm_fn that walks [n0,n1) x [0,M) in RT x CT tiles, calling
 * TILE(R, C, W rows, ws, X rows, xs, K, y, ys) on each.  Rows outer: a
 * tile's weight rows stay in L1 while all tokens pass over them (the
 * activations live in L2). */
#define DEFINE_GEMM(NAME, TILE)                                                                               \
    static void NAME(const void *W, size_t ws, int64_t n0, int64_t n1, int64_t K, const void *xq, size_t xs, \
                     int64_t M, float *y, int64_t ys) {                                                       \
        const char *w = (const char *)W, *x = (const char *)xq;                                              \
        for (int64_t n = n0; n < n1; n += RT) {                                                              \
            const int r = n1 - n < RT ? (int)(n1 - n) : RT;                                                  \
            for (int64_t m = 0; m < M; m += CT) {                                                            \
                const int c = M - m < CT ? (int)(M - m) : CT;                                                \
                CALL_RC(TILE, r, c, w + n * ws, ws, x + m * xs, xs, K, y + m * ys + n, ys);                  \
            }                                                                                                 \
        }                                                                                                     \
    }

/* Rows are taken in blocks small enough to stay in L2 while every token
 * tile passes over them (all rows at once when one tile holds every token). */
#define ROW_BLOCK 64

/* An octo_gemm_fn for quantized weights whose token side is re-laid once
 * per token and row block: PREP(const XBLOCK *x, nb, TOK *t) fills nb
 * entries (one per QK values) of a per-thread scratch, then
 * CALL(r, c, W rows, ws, TOK *tok, K, y, ys) runs a tile of r <= RSTEP rows
 * and c <= CSTEP tokens (token j's entries at tok + j*nb). */
#define DEFINE_GEMM_PREP(NAME, TOK, PREP, XBLOCK, QK, RSTEP, CSTEP, CALL)                                      \
    static void NAME(const void *W, size_t ws, int64_t n0, int64_t n1, int64_t K, const void *xq, size_t xs,  \
                     int64_t M, float *y, int64_t ys) {                                                        \
        const int64_t nb = K / (QK);                                                                          \
        TOK *tok = octo_kernel_scratch(sizeof(TOK) * (CSTEP) * (size_t)nb);                                   \
        const int64_t rb = M <= (CSTEP) ? n1 - n0 : ROW_BLOCK;                                                \
        for (int64_t b0 = n0; b0 < n1; b0 += rb) {                                                            \
            const int64_t b1 = n1 - b0 < rb ? n1 : b0 + rb;                                                   \
            for (int64_t m = 0; m < M; m += (CSTEP)) {                                                        \
                const int c = M - m < (CSTEP) ? (int)(M - m) : (CSTEP);                                       \
                for (int j = 0; j < c; j++) PREP((const XBLOCK *)((const char *)xq + (m + j) * xs), nb, tok + j * nb); \
                for (int64_t n = b0; n < b1; n += (RSTEP)) {                                                  \
                    const int r = b1 - n < (RSTEP) ? (int)(b1 - n) : (RSTEP);                                 \
                    CALL(r, c, (const char *)W + n * ws, ws, tok, K, y + m * ys + n, ys);                     \
                }                                                                                              \
            }                                                                                                  \
        }                                                                                                      \
    }

#endif
