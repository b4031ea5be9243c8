/* ops_avx2.c - kernels for x86-64 with AVX2, FMA and F16C (no AVX-512).
 *
 * Same structure as ops_avx512.c at half the width and with 16 registers:
 * register tiles of up to 4 weight rows x 2 tokens, each output computed by
 * the same operation sequence whatever tile it is in, weights fetched ahead
 * into L2 during generation.  Without VNNI the
 * byte products go through vpmaddubsw (unsigned x signed -> int16 pairs)
 * and vpmaddwd (-> int32), arranged so that no int16 can saturate:
 *  - Q4_0: nibbles 0..15 times x, minus 8*sum(x) per block;
 *  - Q8_0: |x| times sign(w, x) (ggml's sign trick), since a signed weight
 *    cannot be the unsigned operand;
 *  - K-quants: unsigned 4- or 6-bit values times x, the sub-block scale
 *    applied by vpmaddwd.
 * All integer sums are exact; block sums are scaled by d_w*d_x in float.
 * F32, F16, Q8_0, Q4_0, Q4_K and Q6_K products follow llama.cpp's float
 * operation order lane for lane, as in ops_avx512.c (and agree with the
 * scalar reference bit for bit); BF16 products keep their own order and
 * agree only within rounding.
 */
#include "tensor/kernels.h"

#if defined(__x86_64__) && !defined(OCTO_NO_SIMD)

#if !defined(__AVX2__) || !defined(__FMA__) || !defined(__F16C__)
#error "ops_avx2.c needs -mavx2 -mfma -mf16c"
#endif

#include <immintrin.h>
#include <string.h>

#include "tensor/x86_inl.h"

#define RT 4 /* weight rows per tile */
#define CT 2 /* tokens per tile */

INLINE __m256i mask_first(int64_t n) { /* lanes [0, n) set, n in 0..8 */
    static const int32_t m[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
    return _mm256_loadu_si256((const __m256i *)(m + 8 - n));
}

#define CALL_RC(TILE, r, c, ...)             \
    switch ((r) * 8 + (c)) {                 \
    case 9: TILE(1, 1, __VA_ARGS__); break;  \
    case 10: TILE(1, 2, __VA_ARGS__); break; \
    case 17: TILE(2, 1, __VA_ARGS__); break; \
    case 18: TILE(2, 2, __VA_ARGS__); break; \
    case 25: TILE(3, 1, __VA_ARGS__); break; \
    case 26: TILE(3, 2, __VA_ARGS__); break; \
    case 33: TILE(4, 1, __VA_ARGS__); break; \
    default: TILE(4, 2, __VA_ARGS__); break; \
    }

/* ================================================================ F32, F16, BF16
 * One template: LOAD(p, k) gives 8 floats from element k of row p, and
 * LOADT the same with only the first n lanes read (the rest zero). */

INLINE __m256 ld_f32(const char *p, int64_t k) { return _mm256_loadu_ps((const float *)p + k); }
INLINE __m256 ldt_f32(const char *p, int64_t k, int64_t n) {
    return _mm256_maskload_ps((const float *)p + k, mask_first(n));
}
INLINE __m256 ld_f16(const char *p, int64_t k) {
    return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)((const octo_f16 *)p + k)));
}
INLINE __m256 ldt_f16(const char *p, int64_t k, int64_t n) {
    uint16_t t[8] = {0};
    memcpy(t, (const octo_f16 *)p + k, (size_t)n * 2);
    return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)t));
}
INLINE __m256 ld_bf16(const char *p, int64_t k) {
    const __m128i h = _mm_loadu_si128((const __m128i *)((const octo_bf16 *)p + k));
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}
INLINE __m256 ldt_bf16(const char *p, int64_t k, int64_t n) {
    uint16_t t[8] = {0};
    memcpy(t, (const octo_bf16 *)p + k, (size_t)n * 2);
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)t)), 16));
}

#define DEFINE_FLOAT_TILE(NAME, LD, LDT, ESIZE)                                                                    \
    INLINE void NAME(const int R, const int C, const char *W, size_t ws, const char *X, size_t xs, int64_t K,     \
                     float *y, int64_t ys) {                                                                       \
        __m256 acc[RT][CT];                                                                                        \
        UNROLL for (int r = 0; r < R; r++) UNROLL for (int c = 0; c < C; c++) acc[r][c] = _mm256_setzero_ps();   \
        const size_t pd = prefetch_dist(R, ws);                                                                    \
        int64_t k = 0;                                                                                             \
        for (; k + 8 <= K; k += 8) {                                                                               \
            if (C == 1 && (k * ESIZE) % 64 == 0) prefetch_rows(R, W, ws, k * ESIZE, 64, pd);                       \
            __m256 xv[CT];                                                                                         \
            UNROLL for (int c = 0; c < C; c++) xv[c] = LD(X + c * xs, k);                                         \
            UNROLL for (int r = 0; r < R; r++) {                                                                   \
                const __m256 wv = LD(W + r * ws, k);                                                               \
                UNROLL for (int c = 0; c < C; c++) acc[r][c] = _mm256_fmadd_ps(wv, xv[c], acc[r][c]);             \
            }                                                                                                      \
        }                                                                                                          \
        if (k < K) {                                                                                               \
            __m256 xv[CT];                                                                                         \
            UNROLL for (int c = 0; c < C; c++) xv[c] = LDT(X + c * xs, k, K - k);                                 \
            UNROLL for (int r = 0; r < R; r++) {                                                                   \
                const __m256 wv = LDT(W + r * ws, k, K - k);                                                       \
                UNROLL for (int c = 0; c < C; c++) acc[r][c] = _mm256_fmadd_ps(wv, xv[c], acc[r][c]);             \
            }                                                                                                      \
        }                                                                                                          \
        UNROLL for (int r = 0; r < R; r++) UNROLL for (int c = 0; c < C; c++) y[c * ys + r] = hsum8(acc[r][c]);   \
    }

DEFINE_FLOAT_TILE(tile_f32, ld_f32, ldt_f32, 4)
DEFINE_FLOAT_TILE(tile_f16, ld_f16, ldt_f16, 2)
DEFINE_FLOAT_TILE(tile_bf16, ld_bf16, ldt_bf16, 2)
DEFINE_GEMM(gemm_bf16, tile_bf16)

/* F32 and F16 in ggml's orders (ops_scalar.c), each 16-lane accumulator
 * held as two 8-lane halves lo (lanes 0..7) and hi (8..15).  The 16-lane
 * tree (lo+hi, then 128-bit halves, then (0+2)+(1+3)) is hsum8(lo + hi).
 *
 * gemm (tinyBLAS): per output one 16-lane fma accumulator over steps of 16;
 * a tail short of 16 is loaded as zero padding and still goes through the
 * fma (fma(0, 0, -0) is +0), as in the reference.  Tiles are at most 4 rows
 * for one token and 3 x 2 otherwise, so the accumulators stay in registers;
 * every output takes the same operation sequence in any tile. */
/* One 8-lane half of every accumulator in the tile: x loaded once per
 * token, each weight vector once per row (at most 3 x 2 + 2 + 1 registers
 * live with the 16-lane accumulators). */
#define TB_HALF(ACC, XLOAD, WLOAD)                                                                   \
    do {                                                                                             \
        __m256 xv_[CT];                                                                              \
        UNROLL for (int c = 0; c < C; c++) xv_[c] = XLOAD;                                           \
        UNROLL for (int r = 0; r < R; r++) {                                                         \
            const __m256 wv_ = WLOAD;                                                                \
            UNROLL for (int c = 0; c < C; c++) ACC[r][c] = _mm256_fmadd_ps(wv_, xv_[c], ACC[r][c]); \
        }                                                                                            \
    } while (0)

#define DEFINE_TB_TILE(NAME, LD, LDT, ESIZE)                                                                       \
    INLINE void NAME(const int R, const int C, const char *W, size_t ws, const char *X, size_t xs, int64_t K,     \
                     float *y, int64_t ys) {                                                                       \
        __m256 lo[RT][CT], hi[RT][CT];                                                                             \
        UNROLL for (int r = 0; r < R; r++) UNROLL for (int c = 0; c < C; c++) lo[r][c] = hi[r][c] =                \
            _mm256_setzero_ps();                                                                                   \
        const size_t pd = prefetch_dist(R, ws);                                                                    \
        int64_t k = 0;                                                                                             \
        for (; k + 16 <= K; k += 16) {                                                                             \
            if (C == 1 && (k * ESIZE) % 64 == 0) prefetch_rows(R, W, ws, k * ESIZE, 64, pd);                       \
            TB_HALF(lo, LD(X + c * xs, k), LD(W + r * ws, k));                                                     \
            TB_HALF(hi, LD(X + c * xs, k + 8), LD(W + r * ws, k + 8));                                             \
        }                                                                                                          \
        if (k < K) {                                                                                               \
            const int64_t nl = K - k < 8 ? K - k : 8, nh = K - k - nl;                                             \
            TB_HALF(lo, LDT(X + c * xs, k, nl), LDT(W + r * ws, k, nl));                                           \
            TB_HALF(hi, LDT(X + c * xs, k + 8, nh), LDT(W + r * ws, k + 8, nh));                                   \
        }                                                                                                          \
        UNROLL for (int r = 0; r < R; r++) UNROLL for (int c = 0; c < C; c++) y[c * ys + r] =                      \
            hsum8(_mm256_add_ps(lo[r][c], hi[r][c]));                                                               \
    }

DEFINE_TB_TILE(tile_f32_tb, ld_f32, ldt_f32, 4)
DEFINE_TB_TILE(tile_f16_tb, ld_f16, ldt_f16, 2)

#define DEFINE_TB_GEMM(NAME, TILE)                                                                            \
    static void NAME(const void *W, size_t ws, int64_t n0, int64_t n1, int64_t K, const void *xq, size_t xs, \
                     int64_t M, float *y, int64_t ys) {                                                       \
        const char *w = (const char *)W, *x = (const char *)xq;                                              \
        const int rt = M == 1 ? RT : 3;                                                                       \
        for (int64_t n = n0; n < n1; n += rt) {                                                              \
            const int r = n1 - n < rt ? (int)(n1 - n) : rt;                                                  \
            for (int64_t m = 0; m < M; m += CT) {                                                            \
                const int c = M - m < CT ? (int)(M - m) : CT;                                                \
                if (c == 1) {                                                                                 \
                    switch (r) {                                                                              \
                    case 1: TILE(1, 1, w + n * ws, ws, x + m * xs, xs, K, y + m * ys + n, ys); break;         \
                    case 2: TILE(2, 1, w + n * ws, ws, x + m * xs, xs, K, y + m * ys + n, ys); break;         \
                    case 3: TILE(3, 1, w + n * ws, ws, x + m * xs, xs, K, y + m * ys + n, ys); break;         \
                    default: TILE(4, 1, w + n * ws, ws, x + m * xs, xs, K, y + m * ys + n, ys); break;        \
                    }                                                                                         \
                } else {                                                                                      \
                    switch (r) {                                                                              \
                    case 1: TILE(1, 2, w + n * ws, ws, x + m * xs, xs, K, y + m * ys + n, ys); break;         \
                    case 2: TILE(2, 2, w + n * ws, ws, x + m * xs, xs, K, y + m * ys + n, ys); break;         \
                    default: TILE(3, 2, w + n * ws, ws, x + m * xs, xs, K, y + m * ys + n, ys); break;        \
                    }                                                                                         \
                }                                                                                             \
            }                                                                                                 \
        }                                                                                                     \
    }

DEFINE_TB_GEMM(gemm_f32, tile_f32_tb)
DEFINE_TB_GEMM(gemm_f16, tile_f16_tb)

/* gemm_vecdot (ggml_vec_dot_f32, used for one token): four 16-lane
 * accumulators over steps of 64, folded (a0+a2)+(a1+a3) lane by lane, the
 * tree into double, then each leftover product (rounded to float) added in
 * double.  The 8 accumulators fill half the registers, so one row at a
 * time; the weight stream dominates anyway. */
static void gemm_f32_vecdot(const void *W, size_t ws, int64_t n0, int64_t n1, int64_t K, const void *xq, size_t xs,
                            int64_t M, float *y, int64_t ys) {
    const int64_t kp = K & ~(int64_t)63;
    const size_t pd = prefetch_dist(1, ws);
    for (int64_t n = n0; n < n1; n++) {
        const float *w = (const float *)((const char *)W + n * ws);
        for (int64_t m = 0; m < M; m++) {
            const float *x = (const float *)((const char *)xq + m * xs);
            __m256 a[8];
            UNROLL for (int j = 0; j < 8; j++) a[j] = _mm256_setzero_ps();
            int64_t k = 0;
            for (; k < kp; k += 64) {
                if (m == 0) prefetch_rows(1, (const char *)w, ws, k * 4, 256, pd);
                UNROLL for (int j = 0; j < 8; j++)
                    a[j] = _mm256_fmadd_ps(_mm256_loadu_ps(w + k + 8 * j), _mm256_loadu_ps(x + k + 8 * j), a[j]);
            }
            /* a[2j], a[2j+1]: lanes 0..7 and 8..15 of accumulator j */
            const __m256 l = _mm256_add_ps(_mm256_add_ps(a[0], a[4]), _mm256_add_ps(a[2], a[6]));
            const __m256 h = _mm256_add_ps(_mm256_add_ps(a[1], a[5]), _mm256_add_ps(a[3], a[7]));
            double sum = (double)hsum8(_mm256_add_ps(l, h));
            for (; k < K; k++) sum += (double)(w[k] * x[k]);
            y[m * ys + n] = (float)sum;
        }
    }
}

/* ================================================================ Q8_0 x Q8_0 */

#include "tensor/q8_0_x86_inl.h"

/* ================================================================ Q4_0 x Q8_0 */

#include "tensor/q4_0_x86_inl.h"

/* ================================================================ K-quants x Q8_K */

/* Q4_K in ggml's order (ops_scalar.c): the scale part per (row, token)
 * accumulates in 8 float lanes; the min part (-dmin * mins times sub-block
 * sums of x) in 4 float lanes, lane k for sub-blocks 2k and 2k+1, reduced
 * (0+2)+(1+3) and added last. */
INLINE void tile_q4_K(const int R, const int C, const char *W, size_t ws, const char *X, size_t xs, int64_t K,
                      float *y, int64_t ys) {
    __m256 acc[RT][CT];
    __m128 accm[RT][CT];
    UNROLL for (int r = 0; r < R; r++) UNROLL for (int c = 0; c < C; c++) {
            acc[r][c] = _mm256_setzero_ps();
            accm[r][c] = _mm_setzero_ps();
        }
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    const size_t pd = prefetch_dist(R, ws);
    for (int64_t i = 0; i < K / QK_K; i++) {
        if (C == 1) prefetch_rows(R, W, ws, i * sizeof(block_q4_K), sizeof(block_q4_K), pd);
        __m128i b8[CT]; /* sums of x over each 32-value sub-block, as int16 */
        UNROLL for (int c = 0; c < C; c++) {
            const block_q8_K *xb = (const block_q8_K *)(X + c * xs) + i;
            const __m256i p = _mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)xb->bsums), _mm256_set1_epi16(1));
            b8[c] = _mm_packs_epi32(_mm256_castsi256_si128(p), _mm256_extracti128_si256(p, 1));
        }
        UNROLL for (int r = 0; r < R; r++) {
            const block_q4_K *b = (const block_q4_K *)(W + r * ws) + i;
            uint64_t sc64, mn64;
            q4k_scales(b->scales, &sc64, &mn64);
            uint8_t sc[8];
            memcpy(sc, &sc64, 8);
            const __m128i mn16 = _mm_cvtepu8_epi16(_mm_cvtsi64_si128((long long)mn64));
            const float d = f16(b->d), dmin = f16(b->dmin);
            __m256i t[CT];
            UNROLL for (int c = 0; c < C; c++) t[c] = _mm256_setzero_si256();
            UNROLL for (int j = 0; j < 4; j++) {
                const __m256i q = _mm256_loadu_si256((const __m256i *)(b->qs + 32 * j));
                const __m256i lo = _mm256_and_si256(q, m4), hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), m4);
                const __m256i s0 = _mm256_set1_epi16(sc[2 * j]), s1 = _mm256_set1_epi16(sc[2 * j + 1]);
                UNROLL for (int c = 0; c < C; c++) {
                    const block_q8_K *xb = (const block_q8_K *)(X + c * xs) + i;
                    const __m256i x0 = _mm256_loadu_si256((const __m256i *)(xb->qs + 64 * j));
                    const __m256i x1 = _mm256_loadu_si256((const __m256i *)(xb->qs + 64 * j + 32));
                    t[c] = _mm256_add_epi32(t[c], _mm256_madd_epi16(_mm256_maddubs_epi16(lo, x0), s0));
                    t[c] = _mm256_add_epi32(t[c], _mm256_madd_epi16(_mm256_maddubs_epi16(hi, x1), s1));
                }
            }
            UNROLL for (int c = 0; c < C; c++) {
                const block_q8_K *xb = (const block_q8_K *)(X + c * xs) + i;
                acc[r][c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(t[c]), _mm256_set1_ps(d * xb->d), acc[r][c]);
                /* int32 lane k: mins of sub-blocks 2k, 2k+1 times their x sums */
                const __m128i m = _mm_madd_epi16(mn16, b8[c]);
                accm[r][c] = _mm_fmadd_ps(_mm_set1_ps(-xb->d * dmin), _mm_cvtepi32_ps(m), accm[r][c]);
            }
        }
    }
    UNROLL for (int r = 0; r < R; r++) UNROLL for (int c = 0; c < C; c++) {
            __m128 m = accm[r][c];
            m = _mm_add_ps(m, _mm_movehl_ps(m, m)); /* (0+2), (1+3) */
            m = _mm_add_ss(m, _mm_movehdup_ps(m));
            y[c * ys + r] = hsum8(acc[r][c]) + _mm_cvtss_f32(m);
        }
}
DEFINE_GEMM(gemm_q4_K, tile_q4_K)

/* Q6_K: values q in 0..63 mean q-32.  As in ggml, each int16 pair is
 * q*x - 32*x (two vpmaddubsw), so int32 lane l holds exactly the scaled sum
 * of (q-32)*x over values 4l..4l+3 of each 32-value chunk, the lanes the
 * float order is defined on (ops_scalar.c). */
INLINE void tile_q6_K(const int R, const int C, const char *W, size_t ws, const char *X, size_t xs, int64_t K,
                      float *y, int64_t ys) {
    __m256 acc[RT][CT];
    UNROLL for (int r = 0; r < R; r++) UNROLL for (int c = 0; c < C; c++) acc[r][c] = _mm256_setzero_ps();
    const __m256i m4 = _mm256_set1_epi8(0x0F), m30 = _mm256_set1_epi8(0x30), m32 = _mm256_set1_epi8(32);
    /* control to spread int16 entry w of a 128-bit lane over that lane */
    const size_t pd = prefetch_dist(R, ws);
    for (int64_t i = 0; i < K / QK_K; i++) {
        if (C == 1) prefetch_rows(R, W, ws, i * sizeof(block_q6_K), sizeof(block_q6_K), pd);
        UNROLL for (int r = 0; r < R; r++) {
            const block_q6_K *b = (const block_q6_K *)(W + r * ws) + i;
            const float d = f16(b->d);
            __m256i t[CT];
            UNROLL for (int c = 0; c < C; c++) t[c] = _mm256_setzero_si256();
            UNROLL for (int h = 0; h < 2; h++) {
                const __m256i l0 = _mm256_loadu_si256((const __m256i *)(b->ql + 64 * h));
                const __m256i l1 = _mm256_loadu_si256((const __m256i *)(b->ql + 64 * h + 32));
                const __m256i qh = _mm256_loadu_si256((const __m256i *)(b->qh + 32 * h));
                UNROLL for (int j = 0; j < 4; j++) {
                    __m256i v;
                    if (j == 0) v = _mm256_or_si256(_mm256_and_si256(l0, m4), _mm256_and_si256(_mm256_slli_epi16(qh, 4), m30));
                    else if (j == 1) v = _mm256_or_si256(_mm256_and_si256(l1, m4), _mm256_and_si256(_mm256_slli_epi16(qh, 2), m30));
                    else if (j == 2) v = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4), _mm256_and_si256(qh, m30));
                    else v = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4), _mm256_and_si256(_mm256_srli_epi16(qh, 2), m30));
                    /* values 128h + 32j .. +31: scales g = 8h + 2j and g+1 */
                    const int g = 8 * h + 2 * j;
                    const __m256i s = _mm256_set_m128i(_mm_set1_epi16(b->scales[g + 1]), _mm_set1_epi16(b->scales[g]));
                    UNROLL for (int c = 0; c < C; c++) {
                        const block_q8_K *xb = (const block_q8_K *)(X + c * xs) + i;
                        const __m256i xv = _mm256_loadu_si256((const __m256i *)(xb->qs + 128 * h + 32 * j));
                        const __m256i p = _mm256_sub_epi16(_mm256_maddubs_epi16(v, xv), _mm256_maddubs_epi16(m32, xv));
                        t[c] = _mm256_add_epi32(t[c], _mm256_madd_epi16(p, s));
                    }
                }
            }
            UNROLL for (int c = 0; c < C; c++) {
                const block_q8_K *xb = (const block_q8_K *)(X + c * xs) + i;
                acc[r][c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(t[c]), _mm256_set1_ps(d * xb->d), acc[r][c]);
            }
        }
    }
    UNROLL for (int r = 0; r < R; r++) UNROLL for (int c = 0; c < C; c++) y[c * ys + r] = hsum8(acc[r][c]);
}
DEFINE_GEMM(gemm_q6_K, tile_q6_K)

/* ================================================================ activation conversion
 * Each gives exactly the scalar converter's bytes (ggml's x86
 * quantize_row_q8_0 for Q8_0, the reference quantizers otherwise). */

/* 32 int32 (values in int8 range) -> 32 int8 in order. */
INLINE __m256i pack32(__m256i a, __m256i b, __m256i c, __m256i d) {
    const __m256i ab = _mm256_packs_epi32(a, b), cd = _mm256_packs_epi32(c, d);
    return _mm256_permutevar8x32_epi32(_mm256_packs_epi16(ab, cd), _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

INLINE float hmax(__m256 v) {
    __m128 b = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    b = _mm_max_ps(b, _mm_movehl_ps(b, b));
    b = _mm_max_ss(b, _mm_movehdup_ps(b));
    return _mm_cvtss_f32(b);
}

static void act_q8_0(const float *x, void *dst, int64_t K) {
    block_q8_0 *y = dst;
    const __m256 sgn = _mm256_set1_ps(-0.0f);
    for (int64_t i = 0; i < K / 32; i++) {
        __m256 v[4], am = _mm256_setzero_ps();
        for (int j = 0; j < 4; j++) {
            v[j] = _mm256_loadu_ps(x + 32 * i + 8 * j);
            am = _mm256_max_ps(am, _mm256_andnot_ps(sgn, v[j]));
        }
        const float amax = hmax(am);
        /* ggml's x86 quantize_row_q8_0: 127/amax, ties to even (see ops_scalar.c) */
        const float d = amax / 127.f;
        const float id = amax != 0.0f ? 127.f / amax : 0.0f;
        y[i].d = _cvtss_sh(d, _MM_FROUND_TO_NEAREST_INT);
        const __m256 s = _mm256_set1_ps(id);
        __m256i q[4];
        for (int j = 0; j < 4; j++) q[j] = _mm256_cvtps_epi32(_mm256_mul_ps(v[j], s));
        _mm256_storeu_si256((__m256i *)y[i].qs, pack32(q[0], q[1], q[2], q[3]));
    }
}

static void act_q8_K(const float *x, void *dst, int64_t K) {
    block_q8_K *y = dst;
    const __m256 sgn = _mm256_set1_ps(-0.0f);
    for (int64_t i = 0; i < K / QK_K; i++, x += QK_K) {
        __m256 am = _mm256_setzero_ps();
        for (int j = 0; j < QK_K; j += 8) am = _mm256_max_ps(am, _mm256_andnot_ps(sgn, _mm256_loadu_ps(x + j)));
        const float amax = hmax(am);
        if (!amax) {
            memset(&y[i], 0, sizeof y[i]);
            continue;
        }
        float max = 0; /* the first value of largest magnitude, as the reference */
        for (int j = 0; j < QK_K; j++)
            if (__builtin_fabsf(x[j]) == amax) {
                max = x[j];
                break;
            }
        const float iscale = -127.f / max;
        const __m256 s = _mm256_set1_ps(iscale);
        const __m256i lim = _mm256_set1_epi32(127);
        for (int j = 0; j < QK_K; j += 32) {
            __m256i q[4];
            for (int k = 0; k < 4; k++) /* cvtps rounds to nearest even, like nearest_int */
                q[k] = _mm256_min_epi32(_mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + j + 8 * k), s)), lim);
            _mm256_storeu_si256((__m256i *)(y[i].qs + j), pack32(q[0], q[1], q[2], q[3]));
            for (int g = 0; g < 2; g++) {
                __m256i t = _mm256_add_epi32(q[2 * g], q[2 * g + 1]);
                __m128i u = _mm_add_epi32(_mm256_castsi256_si128(t), _mm256_extracti128_si256(t, 1));
                u = _mm_add_epi32(u, _mm_shuffle_epi32(u, 0x4e));
                u = _mm_add_epi32(u, _mm_shuffle_epi32(u, 0xb1));
                y[i].bsums[j / 16 + g] = (int16_t)_mm_cvtsi128_si32(u);
            }
        }
        y[i].d = 1 / iscale;
    }
}

static void act_f16(const float *x, void *dst, int64_t K) {
    octo_f16 *d = dst;
    int64_t k = 0;
    for (; k + 8 <= K; k += 8)
        _mm_storeu_si128((__m128i *)(d + k), _mm256_cvtps_ph(_mm256_loadu_ps(x + k), _MM_FROUND_TO_NEAREST_INT));
    for (; k < K; k++) d[k] = octo_f32_to_f16(x[k]);
}

static void act_bf16(const float *x, void *dst, int64_t K) {
    octo_bf16 *d = dst;
    int64_t k = 0;
    for (; k + 8 <= K; k += 8) {
        const __m256i u = _mm256_loadu_si256((const __m256i *)(x + k));
        const __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(u, 16), _mm256_set1_epi32(1));
        const __m256i r = _mm256_srli_epi32(_mm256_add_epi32(u, _mm256_add_epi32(lsb, _mm256_set1_epi32(0x7fff))), 16);
        /* NaN: |u| > 0x7f800000 (signed compare is fine, both are positive) */
        const __m256i nan =
            _mm256_cmpgt_epi32(_mm256_and_si256(u, _mm256_set1_epi32(0x7fffffff)), _mm256_set1_epi32(0x7f800000));
        const __m256i qn = _mm256_or_si256(_mm256_srli_epi32(u, 16), _mm256_set1_epi32(64));
        const __m256i v = _mm256_blendv_epi8(r, qn, nan);
        const __m128i p = _mm_packus_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
        _mm_storeu_si128((__m128i *)(d + k), p);
    }
    for (; k < K; k++) d[k] = octo_f32_to_bf16(x[k]);
}

/* ================================================================ F32 vector kernels */

static float vdot_f32(const float *a, const float *b, int64_t n) {
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
        s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
    }
    for (; i < n; i += 8) {
        const __m256i mk = mask_first(n - i < 8 ? n - i : 8);
        s0 = _mm256_fmadd_ps(_mm256_maskload_ps(a + i, mk), _mm256_maskload_ps(b + i, mk), s0);
    }
    return hsum8(_mm256_add_ps(s0, s1));
}

static void vaxpy_f32(float *y, float a, const float *x, int64_t n) {
    const __m256 va = _mm256_set1_ps(a);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, _mm256_fmadd_ps(va, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
    if (i < n) {
        const __m256i mk = mask_first(n - i);
        const __m256 r = _mm256_fmadd_ps(va, _mm256_maskload_ps(x + i, mk), _mm256_maskload_ps(y + i, mk));
        _mm256_maskstore_ps(y + i, mk, r);
    }
}

static void vscale_f32(float *y, float a, int64_t n) {
    const __m256 va = _mm256_set1_ps(a);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_mul_ps(va, _mm256_loadu_ps(y + i)));
    if (i < n) {
        const __m256i mk = mask_first(n - i);
        _mm256_maskstore_ps(y + i, mk, _mm256_mul_ps(va, _mm256_maskload_ps(y + i, mk)));
    }
}

const octo_kernels octo_kernels_avx2 = {
    .name = "avx2",
    .gemm =
        {
            [OCTO_TYPE_F32] = gemm_f32,
            [OCTO_TYPE_F16] = gemm_f16,
            [OCTO_TYPE_BF16] = gemm_bf16,
            [OCTO_TYPE_Q8_0] = q8_0_gemm,
            [OCTO_TYPE_Q4_0] = q4_0_gemm,
            [OCTO_TYPE_Q4_K] = gemm_q4_K,
            [OCTO_TYPE_Q6_K] = gemm_q6_K,
        },
    .gemm_q4_0_packed = q4_0p_gemm,
    .gemm_vecdot =
        {
            [OCTO_TYPE_F32] = gemm_f32_vecdot,
        },
    .act =
        {
            [OCTO_TYPE_F16] = act_f16,
            [OCTO_TYPE_BF16] = act_bf16,
            [OCTO_TYPE_Q8_0] = act_q8_0,
            [OCTO_TYPE_Q8_K] = act_q8_K,
        },
    .dot_f32 = vdot_f32,
    .axpy_f32 = vaxpy_f32,
    .scale_f32 = vscale_f32,
};

#endif
