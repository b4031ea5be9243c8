/* ops_avx512.c - kernels for x86-64 with AVX-512 (F, BW, VL, DQ, VNNI, BF16).
 *
 * Matrix products are computed in register tiles of up to 4 weight rows x 4
 * tokens: each weight block is unpacked once and used for every token of the
 * tile, each activation block once for every row.  With M = 1 (generation)
 * the tile is 4 rows x 1 token and the loop streams the weights, fetching
 * ahead into L2.  For Q8_0/Q4_0 and Q4_K the per-token work (re-laying the
 * activations, their sums and scales) is done once per token and block of
 * 64 rows into a per-thread scratch buffer rather than once per tile.
 *
 * On Zen 4 nearly every 512-bit operation used here issues at one per
 * cycle, so the count of vector operations per weight byte is what sets
 * the speed; the layouts below are chosen to keep it low.
 *
 * Numerics: every output y[n][m] is computed by the same sequence of
 * operations whatever tile it lands in (its own accumulator, the same lane
 * layout, the same final reduction), so results do not depend on the tile
 * shape, the thread split or the batch size.  Quantized blocks are multiplied
 * as exact integers with VNNI and each block's (or super-block's) integer
 * sums are scaled by d_w*d_x in float.  The float operations are those of
 * llama.cpp's x86 build, lane for lane (the sections below say which
 * function each follows), and so are the scalar reference's: the two agree
 * bit for bit, and with llama.cpp.  BF16 one-token dots are the exception
 * (tinyBLAS's order is used for every M).
 *
 * Integer tricks (all exact):
 *  - vpdpbusd multiplies unsigned by signed bytes.  Q4_0 nibbles are already
 *    unsigned (0..15), so sum((q-8)*x) = dpbusd(q, x) - 8*sum(x); Q8_0
 *    weights are made unsigned by adding 128 (xor 0x80), correcting by
 *    -128*sum(x).  The correction depends only on the token and is the
 *    accumulator's starting value.
 *  - K-quant sub-block scales are applied in the integer domain with
 *    vpmaddubsw (q*x pairs, no saturation possible for these ranges) and
 *    vpdpwssd (times the scale, accumulated in int32).
 */
#include "tensor/kernels.h"

#if defined(__x86_64__) && !defined(OCTO_NO_SIMD)

#if !defined(__AVX512F__) || !defined(__AVX512BW__) || !defined(__AVX512VL__) || !defined(__AVX512DQ__) || \
    !defined(__AVX512VNNI__) || !defined(__AVX512BF16__) || !defined(__FMA__) || !defined(__F16C__)
#error "ops_avx512.c needs -mavx512f -mavx512bw -mavx512vl -mavx512dq -mavx512vnni -mavx512bf16 -mfma -mf16c"
#endif

#include <immintrin.h>
#include <math.h>
#include <string.h>

#include "tensor/x86_inl.h"

/* Largest tile; the drivers below instantiate every shape up to it. */
#define RT 4 /* weight rows */
#define CT 4 /* tokens */

/* Sum of the lanes in a fixed order (a tree), the same for every caller. */
INLINE float hsum(__m512 v) {
    __m256 a = _mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1));
    __m128 b = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    b = _mm_add_ps(b, _mm_movehl_ps(b, b));
    b = _mm_add_ss(b, _mm_movehdup_ps(b));
    return _mm_cvtss_f32(b);
}

/* int32 lanes i and i+8 added (exact): a K-quant vector holding two
 * 32-value sub-blocks, one per 256-bit half, becomes ggml's 8-lane sum. */
INLINE __m256i fold8(__m512i v) {
    return _mm256_add_epi32(_mm512_castsi512_si256(v), _mm512_extracti64x4_epi64(v, 1));
}

/* Calls TILE(R, C, ...) with R and C as compile-time constants, so that each
 * shape is its own fully unrolled function with its accumulators in
 * registers. */
#define CALL_RC(TILE, r, c, ...)                      \
    switch ((r) * 8 + (c)) {                          \
    case 9: TILE(1, 1, __VA_ARGS__); break;           \
    case 10: TILE(1, 2, __VA_ARGS__); break;          \
    case 11: TILE(1, 3, __VA_ARGS__); break;          \
    case 12: TILE(1, 4, __VA_ARGS__); break;          \
    case 17: TILE(2, 1, __VA_ARGS__); break;          \
    case 18: TILE(2, 2, __VA_ARGS__); break;          \
    case 19: TILE(2, 3, __VA_ARGS__); break;          \
    case 20: TILE(2, 4, __VA_ARGS__); break;          \
    case 25: TILE(3, 1, __VA_ARGS__); break;          \
    case 26: TILE(3, 2, __VA_ARGS__); break;          \
    case 27: TILE(3, 3, __VA_ARGS__); break;          \
    case 28: TILE(3, 4, __VA_ARGS__); break;          \
    case 33: TILE(4, 1, __VA_ARGS__); break;          \
    case 34: TILE(4, 2, __VA_ARGS__); break;          \
    case 35: TILE(4, 3, __VA_ARGS__); break;          \
    default: TILE(4, 4, __VA_ARGS__); break;          \
    }

/* ================================================================ F32 */

INLINE void tile_f32(const int R, const int C, const char *W, size_t ws, const char *X, size_t xs, int64_t K,
                     float *y, int64_t ys) {
    __m512 acc[RT][CT];
    UNROLL for (int r = 0; r < R; r++) UNROLL for (int c = 0; c < C; c++) acc[r][c] = _mm512_setzero_ps();
    int64_t k = 0;
    const size_t pd = prefetch_dist(R, ws);
    for (; k + 16 <= K; k += 16) {
        if (C == 1) prefetch_rows(R, W, ws, k * 4, 64, pd);
        __m512 xv[CT];
        UNROLL for (int c = 0; c < C; c++) xv[c] = _mm512_loadu_ps((const float *)(X + c * xs) + k);
        UNROLL for (int r = 0; r < R; r++) {
            const __m512 wv = _mm512_loadu_ps((const float *)(W + r * ws) + k);
            UNROLL for (int c = 0; c < C; c++) acc[r][c] = _mm512_fmadd_ps(wv, xv[c], acc[r][c]);
        }
    }
    if (k < K) {
        const __mmask16 mk = (__mmask16)((1u << (K - k)) - 1);
        __m512 xv[CT];
        UNROLL for (int c = 0; c < C; c++) xv[c] = _mm512_maskz_loadu_ps(mk, (const float *)(X + c * xs) + k);
        UNROLL for (int r = 0; r < R; r++) {
            const __m512 wv = _mm512_maskz_loadu_ps(mk, (const float *)(W + r * ws) + k);
            UNROLL for (int c = 0; c < C; c++) acc[r][c] = _mm512_fmadd_ps(wv, xv[c], acc[r][c]);
        }
    }
    UNROLL for (int r = 0; r < R; r++) UNROLL for (int c = 0; c < C; c++) y[c * ys + r] = hsum(acc[r][c]);
}
DEFINE_GEMM(gemm_f32, tile_f32)

/* ================================================================ F16 */

INLINE __m512 load_f16(const char *p, int64_t k) {
    return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)((const octo_f16 *)p + k)));
}
INLINE __m512 load_f16_tail(const char *p, int64_t k, __mmask16 mk) {
    return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(mk, (const octo_f16 *)p + k));
}

#define RT1 8
INLINE void tile_f16(const int R, const int C, const char *W, size_t ws, const char *X, size_t xs, int64_t K,
                     float *y, int64_t ys) {
    __m512 acc[RT1][CT]; /* R <= RT, or R <= RT1 when C == 1 (gemm_f16_rows8) */
    UNROLL for (int r = 0; r < R; r++) UNROLL for (int c = 0; c < C; c++) acc[r][c] = _mm512_setzero_ps();
    int64_t k = 0;
    const size_t pd = prefetch_dist(R, ws);
    for (; k + 16 <= K; k += 16) {
        if (C == 1 && k % 32 == 0) prefetch_rows(R, W, ws, k * 2, 64, pd);
        __m512 xv[CT];
        UNROLL for (int c = 0; c < C; c++) xv[c] = load_f16(X + c * xs, k);
        UNROLL for (int r = 0; r < R; r++) {
            const __m512 wv = load_f16(W + r * ws, k);
            UNROLL for (int c = 0; c < C; c++) acc[r][c] = _mm512_fmadd_ps(wv, xv[c], acc[r][c]);
        }
    }
    if (k < K) {
        const __mmask16 mk = (__mmask16)((1u << (K - k)) - 1);
        __m512 xv[CT];
        UNROLL for (int c = 0; c < C; c++) xv[c] = load_f16_tail(X + c * xs, k, mk);
        UNROLL for (int r = 0; r < R; r++) {
            const __m512 wv = load_f16_tail(W + r * ws, k, mk);
            UNROLL for (int c = 0; c < C; c++) acc[r][c] = _mm512_fmadd_ps(wv, xv[c], acc[r][c]);
        }
    }
    UNROLL for (int r = 0; r < R; r++) UNROLL for (int c = 0; c < C; c++) y[c * ys + r] = hsum(acc[r][c]);
}
DEFINE_GEMM(gemm_f16, tile_f16)

/* One token (decode): tile_f16 with RT1 = 8 rows instead of RT = 4. Each
 * output keeps its own accumulator, lanes and reduction, so the bits are the
 * same; 8 weight streams in flight keep more of DRAM busy, and decode is
 * bound by it. */
static void gemm_f16_rows8(const void *W, size_t ws, int64_t n0, int64_t n1, int64_t K, const void *xq, size_t xs,
                           int64_t M, float *y, int64_t ys) {
    if (M != 1) {
        gemm_f16(W, ws, n0, n1, K, xq, xs, M, y, ys);
        return;
    }
    const char *w = (const char *)W, *x = (const char *)xq;
    for (int64_t n = n0; n < n1; n += RT1) {
        const int r = n1 - n < RT1 ? (int)(n1 - n) : RT1;
        switch (r) {
        case 1: tile_f16(1, 1, w + n * ws, ws, x, 0, K, y + n, 0); break;
        case 2: tile_f16(2, 1, w + n * ws, ws, x, 0, K, y + n, 0); break;
        case 3: tile_f16(3, 1, w + n * ws, ws, x, 0, K, y + n, 0); break;
        case 4: tile_f16(4, 1, w + n * ws, ws, x, 0, K, y + n, 0); break;
        case 5: tile_f16(5, 1, w + n * ws, ws, x, 0, K, y + n, 0); break;
        case 6: tile_f16(6, 1, w + n * ws, ws, x, 0, K, y + n, 0); break;
        case 7: tile_f16(7, 1, w + n * ws, ws, x, 0, K, y + n, 0); break;
        default: tile_f16(8, 1, w + n * ws, ws, x, 0, K, y + n, 0); break;
        }
    }
}

/* F32 and F16 (both operands) have two orders in ggml:
 *  - batches of 2+ tokens with K a multiple of 16 go through tinyBLAS<16>:
 *    one 16-lane accumulator per output, fma over steps of 16, then the
 *    reduce_add tree.  That is gemm (tile_f32 / tile_f16 above), for every
 *    M, a tail short of 16 counting as zero padding: results stay the same
 *    for any batch split, and the attention's P.V (llama.cpp pads the KV
 *    length to a multiple of 256) needs exactly this.
 *  - a single token (or K not a multiple of 16) goes through
 *    ggml_vec_dot_f32 / _f16: four 16-lane accumulators over steps of 64,
 *    folded as (a0+a2)+(a1+a3), the tree into double, then the leftover
 *    products (float) added one by one in double.  That is gemm_vecdot
 *    (tile_vd: R rows for one token, so generation still streams several
 *    rows per activation load), for callers that mirror llama.cpp's
 *    one-token path. */
INLINE __m512 ld16(const bool H, const char *p, int64_t k) {
    return H ? _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)((const octo_f16 *)p + k)))
             : _mm512_loadu_ps((const float *)p + k);
}
INLINE float ld1(const bool H, const char *p, int64_t k) {
    return H ? f16(((const octo_f16 *)p)[k]) : ((const float *)p)[k];
}

INLINE void tile_vd(const int R, const bool H, const char *W, size_t ws, const char *X, int64_t K, float *y) {
    __m512 acc[RT][4];
    UNROLL for (int r = 0; r < R; r++) UNROLL for (int j = 0; j < 4; j++) acc[r][j] = _mm512_setzero_ps();
    const int64_t np = K & ~(int64_t)63;
    const size_t pd = prefetch_dist(R, ws);
    for (int64_t k = 0; k < np; k += 64) {
        prefetch_rows(R, W, ws, k * (H ? 2 : 4), H ? 128 : 256, pd);
        __m512 xv[4];
        UNROLL for (int j = 0; j < 4; j++) xv[j] = ld16(H, X, k + 16 * j);
        UNROLL for (int r = 0; r < R; r++) UNROLL for (int j = 0; j < 4; j++)
            acc[r][j] = _mm512_fmadd_ps(ld16(H, W + r * ws, k + 16 * j), xv[j], acc[r][j]);
    }
    UNROLL for (int r = 0; r < R; r++) {
        const __m512 s = _mm512_add_ps(_mm512_add_ps(acc[r][0], acc[r][2]), _mm512_add_ps(acc[r][1], acc[r][3]));
        double sum = (double)hsum(s);
        for (int64_t k = np; k < K; k++) sum += (double)(ld1(H, W + r * ws, k) * ld1(H, X, k));
        y[r] = (float)sum;
    }
}

INLINE void gemm_vd(const bool H, const void *W, size_t ws, int64_t n0, int64_t n1, int64_t K, const void *xq,
                    size_t xs, int64_t M, float *y, int64_t ys) {
    const char *w = (const char *)W, *x = (const char *)xq;
    for (int64_t n = n0; n < n1; n += RT) {
        const int r = n1 - n < RT ? (int)(n1 - n) : RT;
        for (int64_t m = 0; m < M; m++) {
            const char *wn = w + n * ws, *xm = x + m * xs;
            float *yo = y + m * ys + n;
            switch (r) {
            case 1: tile_vd(1, H, wn, ws, xm, K, yo); break;
            case 2: tile_vd(2, H, wn, ws, xm, K, yo); break;
            case 3: tile_vd(3, H, wn, ws, xm, K, yo); break;
            default: tile_vd(4, H, wn, ws, xm, K, yo); break;
            }
        }
    }
}

static void gemm_f32_vecdot(const void *W, size_t ws, int64_t n0, int64_t n1, int64_t K, const void *xq, size_t xs,
                            int64_t M, float *y, int64_t ys) {
    gemm_vd(false, W, ws, n0, n1, K, xq, xs, M, y, ys);
}
static void gemm_f16_vecdot(const void *W, size_t ws, int64_t n0, int64_t n1, int64_t K, const void *xq, size_t xs,
                            int64_t M, float *y, int64_t ys) {
    gemm_vd(true, W, ws, n0, n1, K, xq, xs, M, y, ys);
}

/* ================================================================ BF16 */

/* vdpbf16ps: each float lane accumulates two bf16 products (rounding after
 * each addition, and treating bf16 subnormals, |x| < 1.2e-38, as zero). */
INLINE void tile_bf16(const int R, const int C, const char *W, size_t ws, const char *X, size_t xs, int64_t K,
                      float *y, int64_t ys) {
    __m512 acc[RT][CT];
    UNROLL for (int r = 0; r < R; r++) UNROLL for (int c = 0; c < C; c++) acc[r][c] = _mm512_setzero_ps();
    int64_t k = 0;
    const size_t pd = prefetch_dist(R, ws);
    for (; k + 32 <= K; k += 32) {
        if (C == 1) prefetch_rows(R, W, ws, k * 2, 64, pd);
        __m512bh xv[CT];
        UNROLL for (int c = 0; c < C; c++)
            xv[c] = (__m512bh)_mm512_loadu_si512((const octo_bf16 *)(X + c * xs) + k);
        UNROLL for (int r = 0; r < R; r++) {
            const __m512bh wv = (__m512bh)_mm512_loadu_si512((const octo_bf16 *)(W + r * ws) + k);
            UNROLL for (int c = 0; c < C; c++) acc[r][c] = _mm512_dpbf16_ps(acc[r][c], wv, xv[c]);
        }
    }
    if (k < K) {
        const __mmask32 mk = (__mmask32)((1ull << (K - k)) - 1);
        __m512bh xv[CT];
        UNROLL for (int c = 0; c < C; c++)
            xv[c] = (__m512bh)_mm512_maskz_loadu_epi16(mk, (const octo_bf16 *)(X + c * xs) + k);
        UNROLL for (int r = 0; r < R; r++) {
            const __m512bh wv = (__m512bh)_mm512_maskz_loadu_epi16(mk, (const octo_bf16 *)(W + r * ws) + k);
            UNROLL for (int c = 0; c < C; c++) acc[r][c] = _mm512_dpbf16_ps(acc[r][c], wv, xv[c]);
        }
    }
    UNROLL for (int r = 0; r < R; r++) UNROLL for (int c = 0; c < C; c++) y[c * ys + r] = hsum(acc[r][c]);
}
DEFINE_GEMM(gemm_bf16, tile_bf16)

/* ================================================================ Q8_0 x Q8_0 */

#include "tensor/q8_0_x86_inl.h"

/* ================================================================ Q4_0 x Q8_0 */

#include "tensor/q4_0_x86_inl.h"

/* ================================================================ K-quants x Q8_K
 *
 * llama.cpp always uses ggml_vec_dot_q{4,6}_K_q8_K here, whose x86 build
 * (the AVX2 code) sums per super-block into 8 int32 lanes, lane u holding
 * the scaled products of values 4u..4u+3 of every 32-value sub-block, then
 * fma's float(lane) times d = d_x*d_w into an 8-lane float accumulator;
 * hsum8 at the end.  Our 512-bit vectors hold two sub-blocks, one per
 * 256-bit half, so the same integers are those halves added (fold8). */

/* vpshufb controls that spread int16 entry w of a 128-bit lane over the
 * lane: for Q4_K, vector j holds sub-blocks (0,2), (1,3), (4,6), (5,7) in
 * its lower and upper 256 bits (see tile_q4_K). */
static const uint8_t k_q4k_sc_ctrl[4][64] __attribute__((aligned(64))) = {
#define W2(w) 2 * (w), 2 * (w) + 1
#define LANE(w) W2(w), W2(w), W2(w), W2(w), W2(w), W2(w), W2(w), W2(w)
    {LANE(0), LANE(0), LANE(2), LANE(2)},
    {LANE(1), LANE(1), LANE(3), LANE(3)},
    {LANE(4), LANE(4), LANE(6), LANE(6)},
    {LANE(5), LANE(5), LANE(7), LANE(7)},
#undef LANE
#undef W2
};

/* Q6_K: chunk j (64 values, 32 int16 pair-sums) needs scales 4j..4j+3,
 * one per 128-bit lane (a scale covers 16 values). */
static const uint16_t k_q6k_sc_idx[4][32] __attribute__((aligned(64))) = {
#define L8(v) v, v, v, v, v, v, v, v
    {L8(0), L8(1), L8(2), L8(3)},
    {L8(4), L8(5), L8(6), L8(7)},
    {L8(8), L8(9), L8(10), L8(11)},
    {L8(12), L8(13), L8(14), L8(15)},
#undef L8
};
static const int64_t k_q6_shl[8] __attribute__((aligned(64))) = {4, 4, 4, 4, 2, 2, 2, 2};
static const int64_t k_q6_shr[8] __attribute__((aligned(64))) = {0, 0, 0, 0, 2, 2, 2, 2};

/* Q4_K: y = sum_sub d*sc*sum(q*x) - dmin*sum_sub m*sum(x).
 *
 * 64 bytes of quants hold the low nibbles of values 0-31 and 64-95 and the
 * high nibbles of 32-63 and 96-127; so the weights are unpacked with one
 * and (or shift and and) per vector, and the token's values are laid out to
 * match once, in q4k_prep: x[0] = values 0-31 | 64-95, x[1] = 32-63 |
 * 96-127, x[2], x[3] the same for 128-255.  Vector j then covers sub-blocks
 * (0,2), (1,3), (4,6), (5,7), whose scales multiply the int16 pair sums in
 * vpdpwssd.
 *
 * The min part accumulates per token for all rows of the tile at once: the
 * rows' mins sit in 128-bit lane r of one vector, so lanes 4r..4r+3 of the
 * per-token accumulator belong to row r.  These are ggml's 4-lane acc_m,
 * negated (ggml scales by -dmin; negation is exact): the result is
 * hsum8(acc) - ((m0+m2) + (m1+m3)), ggml's reduction of acc_m. */
typedef struct {
    __m512i x[4];
    __m512i b8; /* sums of x per 32-value sub-block, int16, in every lane */
    float d;
    float pad[15];
} q4k_tok;

INLINE void q4k_prep(const block_q8_K *xb, int64_t nb, q4k_tok *t) {
    for (int64_t i = 0; i < nb; i++) {
        const uint8_t *q = (const uint8_t *)xb[i].qs;
        UNROLL for (int j = 0; j < 4; j++) {
            const int base = 128 * (j / 2) + 32 * (j % 2);
            t[i].x[j] = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)(q + base))),
                                           _mm256_loadu_si256((const __m256i *)(q + base + 64)), 1);
        }
        const __m256i bs = _mm256_loadu_si256((const __m256i *)xb[i].bsums);
        const __m128i b8 = _mm256_cvtepi32_epi16(_mm256_madd_epi16(bs, _mm256_set1_epi16(1)));
        t[i].b8 = _mm512_broadcast_i32x4(b8);
        t[i].d = xb[i].d;
    }
}

INLINE void tile_q4_K(const int R, const int C, const char *W, size_t ws, const q4k_tok *tok, int64_t K, float *y,
                      int64_t ys) {
    __m256 acc[RT][CT];
    __m512 accm[CT];
    UNROLL for (int c = 0; c < C; c++) {
        accm[c] = _mm512_setzero_ps();
        UNROLL for (int r = 0; r < R; r++) acc[r][c] = _mm256_setzero_ps();
    }
    const int64_t nb = K / QK_K;
    const size_t pd = prefetch_dist(R, ws);
    const __m512i m4 = _mm512_set1_epi8(0x0F);
    for (int64_t i = 0; i < nb; i++) {
        if (C == 1) prefetch_rows(R, W, ws, i * sizeof(block_q4_K), sizeof(block_q4_K), pd);
        int16_t mins16[32] __attribute__((aligned(64)));
        float dmin4[16] __attribute__((aligned(64)));
        uint64_t sc[RT];
        if (R < RT) { /* lanes of absent rows must be zero */
            memset(mins16, 0, sizeof mins16);
            memset(dmin4, 0, sizeof dmin4);
        }
        UNROLL for (int r = 0; r < R; r++) {
            const block_q4_K *b = (const block_q4_K *)(W + r * ws) + i;
            uint64_t mn;
            q4k_scales(b->scales, &sc[r], &mn);
            _mm_store_si128((__m128i *)(mins16 + 8 * r), _mm_cvtepu8_epi16(_mm_cvtsi64_si128((long long)mn)));
            _mm_store_ps(dmin4 + 4 * r, _mm_set1_ps(f16(b->dmin)));
        }
        const __m512i mp = _mm512_load_si512(mins16);
        const __m512 dm = _mm512_load_ps(dmin4);
        UNROLL for (int c = 0; c < C; c++) {
            const q4k_tok *t = tok + c * nb + i;
            const __m512i v = _mm512_madd_epi16(mp, t->b8);
            accm[c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(v), _mm512_mul_ps(dm, _mm512_set1_ps(t->d)), accm[c]);
        }
        UNROLL for (int r = 0; r < R; r++) {
            const block_q4_K *b = (const block_q4_K *)(W + r * ws) + i;
            const __m512i sc16 = _mm512_broadcast_i32x4(_mm_cvtepu8_epi16(_mm_cvtsi64_si128((long long)sc[r])));
            __m512i q[4], s[4];
            UNROLL for (int h = 0; h < 2; h++) {
                const __m512i v = _mm512_loadu_si512(b->qs + 64 * h);
                q[2 * h] = _mm512_and_si512(v, m4);
                q[2 * h + 1] = _mm512_and_si512(_mm512_srli_epi16(v, 4), m4);
            }
            UNROLL for (int j = 0; j < 4; j++) s[j] = _mm512_shuffle_epi8(sc16, _mm512_load_si512(k_q4k_sc_ctrl[j]));
            const float d = f16(b->d);
            UNROLL for (int c = 0; c < C; c++) {
                const q4k_tok *t = tok + c * nb + i;
                __m512i acc_i = _mm512_setzero_si512();
                UNROLL for (int j = 0; j < 4; j++)
                    acc_i = _mm512_dpwssd_epi32(acc_i, _mm512_maddubs_epi16(q[j], t->x[j]), s[j]);
                acc[r][c] = _mm256_fmadd_ps(_mm256_set1_ps(d * t->d), _mm256_cvtepi32_ps(fold8(acc_i)), acc[r][c]);
            }
        }
    }
    UNROLL for (int c = 0; c < C; c++) {
        float m16[16];
        _mm512_storeu_ps(m16, accm[c]);
        UNROLL for (int r = 0; r < R; r++) {
            const float *m4v = m16 + 4 * r;
            y[c * ys + r] = hsum8(acc[r][c]) - ((m4v[0] + m4v[2]) + (m4v[1] + m4v[3]));
        }
    }
}

#define CALL_Q4K(r, c, ...) CALL_RC(tile_q4_K, r, c, __VA_ARGS__)
DEFINE_GEMM_PREP(gemm_q4_K, q4k_tok, q4k_prep, block_q8_K, QK_K, RT, CT, CALL_Q4K)

/* Q6_K: q in 0..63 with value q-32 and a signed scale per 16 values.  The
 * int16 pair sums are q*x - 32*x, as in ggml (the -32 must land in the
 * lane of its values, not in a per-block correction, for ggml's lanes). */
INLINE void tile_q6_K(const int R, const int C, const char *W, size_t ws, const char *X, size_t xs, int64_t K,
                      float *y, int64_t ys) {
    __m256 acc[RT][CT];
    UNROLL for (int r = 0; r < R; r++) UNROLL for (int c = 0; c < C; c++) acc[r][c] = _mm256_setzero_ps();
    const int64_t nb = K / QK_K;
    const __m512i m4 = _mm512_set1_epi8(0x0F), m30 = _mm512_set1_epi8(0x30), m32 = _mm512_set1_epi8(32);
    const size_t pd = prefetch_dist(R, ws);
    for (int64_t i = 0; i < nb; i++) {
        if (C == 1) prefetch_rows(R, W, ws, i * sizeof(block_q6_K), sizeof(block_q6_K), pd);
        UNROLL for (int r = 0; r < R; r++) {
            const block_q6_K *b = (const block_q6_K *)(W + r * ws) + i;
            __m512i q[4], s[4];
            UNROLL for (int h = 0; h < 2; h++) {
                const __m512i l = _mm512_loadu_si512(b->ql + 64 * h);
                const __m512i hb = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(b->qh + 32 * h)));
                /* values 0..63 of this half: low nibbles of ql[0..63] with qh bits 0-1 / 2-3 */
                const __m512i h0 = _mm512_and_si512(_mm512_sllv_epi64(hb, _mm512_load_si512(k_q6_shl)), m30);
                q[2 * h] = _mm512_ternarylogic_epi64(l, m4, h0, 0xEA); /* (l & m4) | h0 */
                /* values 64..127: high nibbles with qh bits 4-5 / 6-7 */
                const __m512i h1 = _mm512_and_si512(_mm512_srlv_epi64(hb, _mm512_load_si512(k_q6_shr)), m30);
                q[2 * h + 1] = _mm512_ternarylogic_epi64(_mm512_srli_epi16(l, 4), m4, h1, 0xEA);
            }
            const __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)b->scales));
            const __m512i sc512 = _mm512_castsi256_si512(sc16);
            UNROLL for (int j = 0; j < 4; j++)
                s[j] = _mm512_permutexvar_epi16(_mm512_load_si512(k_q6k_sc_idx[j]), sc512);
            const float d = f16(b->d);
            UNROLL for (int c = 0; c < C; c++) {
                const block_q8_K *xb = (const block_q8_K *)(X + c * xs) + i;
                __m512i t = _mm512_setzero_si512();
                UNROLL for (int j = 0; j < 4; j++) {
                    const __m512i xv = _mm512_loadu_si512(xb->qs + 64 * j);
                    /* (q-32)*x pair sums, exact in int16 */
                    const __m512i p = _mm512_sub_epi16(_mm512_maddubs_epi16(q[j], xv), _mm512_maddubs_epi16(m32, xv));
                    t = _mm512_dpwssd_epi32(t, p, s[j]);
                }
                acc[r][c] = _mm256_fmadd_ps(_mm256_set1_ps(d * xb->d), _mm256_cvtepi32_ps(fold8(t)), acc[r][c]);
            }
        }
    }
    UNROLL for (int r = 0; r < R; r++) UNROLL for (int c = 0; c < C; c++) y[c * ys + r] = hsum8(acc[r][c]);
}
DEFINE_GEMM(gemm_q6_K, tile_q6_K)

/* ================================================================ activation conversion
 * Each gives exactly the scalar converter's bytes (ggml's x86
 * quantize_row_q8_0 for Q8_0, the reference quantizers otherwise). */

static void act_q8_0(const float *x, void *dst, int64_t K) {
    block_q8_0 *y = dst;
    for (int64_t i = 0; i < K / 32; i++) {
        const __m512 v0 = _mm512_loadu_ps(x + 32 * i), v1 = _mm512_loadu_ps(x + 32 * i + 16);
        const float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(v0), _mm512_abs_ps(v1)));
        /* ggml's x86 quantize_row_q8_0: 127/amax, ties to even (see ops_scalar.c) */
        const float d = amax / 127.f;
        const float id = amax != 0.0f ? 127.f / amax : 0.0f;
        y[i].d = _cvtss_sh(d, _MM_FROUND_TO_NEAREST_INT);
        const __m512 s = _mm512_set1_ps(id);
        const __m512i q0 = _mm512_cvtps_epi32(_mm512_mul_ps(v0, s));
        const __m512i q1 = _mm512_cvtps_epi32(_mm512_mul_ps(v1, s));
        _mm_storeu_si128((__m128i *)y[i].qs, _mm512_cvtepi32_epi8(q0));
        _mm_storeu_si128((__m128i *)(y[i].qs + 16), _mm512_cvtepi32_epi8(q1));
    }
}

static void act_q8_K(const float *x, void *dst, int64_t K) {
    block_q8_K *y = dst;
    for (int64_t i = 0; i < K / QK_K; i++, x += QK_K) {
        __m512 am = _mm512_setzero_ps();
        for (int j = 0; j < QK_K; j += 16) am = _mm512_max_ps(am, _mm512_abs_ps(_mm512_loadu_ps(x + j)));
        const float amax = _mm512_reduce_max_ps(am);
        if (!amax) {
            memset(&y[i], 0, sizeof y[i]);
            continue;
        }
        /* the reference keeps the first value of largest magnitude, sign included */
        float max = 0;
        for (int j = 0; j < QK_K; j += 16) {
            const __mmask16 hit =
                _mm512_cmp_ps_mask(_mm512_abs_ps(_mm512_loadu_ps(x + j)), _mm512_set1_ps(amax), _CMP_EQ_OQ);
            if (hit) {
                max = x[j + __builtin_ctz(hit)];
                break;
            }
        }
        const float iscale = -127.f / max;
        const __m512 s = _mm512_set1_ps(iscale);
        for (int j = 0; j < QK_K; j += 16) {
            /* cvtps rounds to nearest even, as the reference's nearest_int */
            __m512i q = _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_loadu_ps(x + j), s));
            q = _mm512_min_epi32(q, _mm512_set1_epi32(127));
            _mm_storeu_si128((__m128i *)(y[i].qs + j), _mm512_cvtepi32_epi8(q));
            y[i].bsums[j / 16] = (int16_t)_mm512_reduce_add_epi32(q);
        }
        y[i].d = 1 / iscale;
    }
}

static void act_f16(const float *x, void *dst, int64_t K) {
    octo_f16 *d = dst;
    int64_t k = 0;
    for (; k + 16 <= K; k += 16)
        _mm256_storeu_si256((__m256i *)(d + k), _mm512_cvtps_ph(_mm512_loadu_ps(x + k), _MM_FROUND_TO_NEAREST_INT));
    if (k < K) {
        const __mmask16 mk = (__mmask16)((1u << (K - k)) - 1);
        _mm256_mask_storeu_epi16(d + k, mk, _mm512_cvtps_ph(_mm512_maskz_loadu_ps(mk, x + k), _MM_FROUND_TO_NEAREST_INT));
    }
}

/* The reference bf16 rounding in integer arithmetic (vcvtneps2bf16 would
 * flush subnormals, which ggml's conversion does not). */
INLINE __m256i bf16_round(__m512i u) {
    const __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(1));
    const __m512i r = _mm512_srli_epi32(_mm512_add_epi32(u, _mm512_add_epi32(lsb, _mm512_set1_epi32(0x7fff))), 16);
    const __mmask16 nan =
        _mm512_cmpgt_epu32_mask(_mm512_and_si512(u, _mm512_set1_epi32(0x7fffffff)), _mm512_set1_epi32(0x7f800000));
    const __m512i qn = _mm512_or_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(64));
    return _mm512_cvtepi32_epi16(_mm512_mask_blend_epi32(nan, r, qn));
}

static void act_bf16(const float *x, void *dst, int64_t K) {
    octo_bf16 *d = dst;
    int64_t k = 0;
    for (; k + 16 <= K; k += 16) _mm256_storeu_si256((__m256i *)(d + k), bf16_round(_mm512_loadu_si512(x + k)));
    if (k < K) {
        const __mmask16 mk = (__mmask16)((1u << (K - k)) - 1);
        _mm256_mask_storeu_epi16(d + k, mk, bf16_round(_mm512_maskz_loadu_epi32(mk, x + k)));
    }
}

/* ================================================================ F32 vector kernels */

/* octo_expf_poly on 16 lanes: the same operations, so the same bits. */
INLINE __m512 exp16(__m512 x) {
    const __m512 shift = _mm512_set1_ps(0x1.8p23f);
    __m512 z = _mm512_fmadd_ps(x, _mm512_set1_ps(0x1.715476p+0f), shift);
    __m512 n = _mm512_sub_ps(z, shift);
    __m512 b = _mm512_fnmadd_ps(n, _mm512_set1_ps(0x1.7f7d1cp-20f),
                                _mm512_fnmadd_ps(n, _mm512_set1_ps(0x1.62e4p-1f), x));
    __m512 u = _mm512_mul_ps(b, b);
    __m512 j = _mm512_fmadd_ps(
        _mm512_fmadd_ps(_mm512_fmadd_ps(_mm512_set1_ps(0x1.0e4020p-7f), b, _mm512_set1_ps(0x1.573e2ep-5f)), u,
                        _mm512_fmadd_ps(_mm512_set1_ps(0x1.555e66p-3f), b, _mm512_set1_ps(0x1.fffdb6p-2f))),
        u, _mm512_fmadd_ps(_mm512_set1_ps(0x1.ffffecp-1f), b, _mm512_set1_ps(1.0f)));
    __m512 r = _mm512_scalef_ps(j, n);
    /* |n| > 192 (or NaN): 0 below, infinity above */
    __mmask16 big = _mm512_cmp_ps_mask(_mm512_abs_ps(n), _mm512_set1_ps(192.0f), _CMP_NLE_UQ);
    if (!big) return r;
    __mmask16 pos = _mm512_cmp_ps_mask(n, _mm512_setzero_ps(), _CMP_GT_OQ);
    __m512 alt = _mm512_mask_blend_ps(pos, _mm512_setzero_ps(), _mm512_set1_ps(__builtin_inff()));
    return _mm512_mask_blend_ps(big, r, alt);
}

static void silu_f32(float *y, const float *x, int64_t n) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512 v = _mm512_loadu_ps(x + i);
        __m512 e = exp16(_mm512_sub_ps(_mm512_setzero_ps(), v));
        _mm512_storeu_ps(y + i, _mm512_div_ps(v, _mm512_add_ps(_mm512_set1_ps(1.0f), e)));
    }
    for (; i < n; i++) y[i] = x[i] / (1.0f + expf(-x[i]));
}

static double exp_sum_f32(float *y, const float *x, float max, int64_t n) {
    double sum = 0;
    const __m512 vmax = _mm512_set1_ps(max);
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512 e = exp16(_mm512_sub_ps(_mm512_loadu_ps(x + i), vmax));
        _mm512_storeu_ps(y + i, e);
        sum += (double)hsum(e);
    }
    if (i < n) {
        __mmask16 m = (__mmask16)((1u << (n - i)) - 1);
        __m512 e = exp16(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, x + i), vmax));
        e = _mm512_maskz_mov_ps(m, e);
        _mm512_mask_storeu_ps(y + i, m, e);
        sum += (double)hsum(e);
    }
    return sum;
}

static float dot_f16_4acc(const octo_f16 *a, const octo_f16 *b, int64_t n) {
    __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
    int64_t np = n & ~(int64_t)63, i = 0;
    for (; i < np; i += 64)
        for (int j = 0; j < 4; j++)
            acc[j] = _mm512_fmadd_ps(_mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(a + i + 16 * j))),
                                     _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(b + i + 16 * j))), acc[j]);
    acc[0] = _mm512_add_ps(acc[0], acc[2]);
    acc[1] = _mm512_add_ps(acc[1], acc[3]);
    acc[0] = _mm512_add_ps(acc[0], acc[1]);
    double sum = np ? (double)hsum(acc[0]) : 0.0;
    for (; i < n; i++) sum += (double)(f16(a[i]) * f16(b[i]));
    return (float)sum;
}

static float dot_f16_lanes16(const octo_f16 *a, const octo_f16 *b, int64_t n) {
    __m512 acc = _mm512_setzero_ps();
    for (int64_t k = 0; k < n; k += 16)
        acc = _mm512_fmadd_ps(_mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(a + k))),
                              _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(b + k))), acc);
    return hsum(acc);
}

/* NeoX pairs are (k, k + n_pairs): contiguous halves, 16 pairs a step;
 * adjacent pairs are deinterleaved with permutes.  Tails go scalar (same
 * operations, same bits). */
static void rope_f32(float *v, const float *cs, const float *sn, int n_pairs, int neox) {
    int k = 0;
    if (neox) {
        for (; k + 16 <= n_pairs; k += 16) {
            __m512 x0 = _mm512_loadu_ps(v + k), x1 = _mm512_loadu_ps(v + k + n_pairs);
            __m512 c = _mm512_loadu_ps(cs + k), s = _mm512_loadu_ps(sn + k);
            _mm512_storeu_ps(v + k, _mm512_fmadd_ps(x0, c, _mm512_sub_ps(_mm512_setzero_ps(), _mm512_mul_ps(x1, s))));
            _mm512_storeu_ps(v + k + n_pairs, _mm512_fmadd_ps(x0, s, _mm512_mul_ps(x1, c)));
        }
    } else {
        const __m512i ev = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        const __m512i od = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
        const __m512i lo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
        const __m512i hi = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
        for (; k + 16 <= n_pairs; k += 16) {
            __m512 a0 = _mm512_loadu_ps(v + 2 * k), a1 = _mm512_loadu_ps(v + 2 * k + 16);
            __m512 x0 = _mm512_permutex2var_ps(a0, ev, a1), x1 = _mm512_permutex2var_ps(a0, od, a1);
            __m512 c = _mm512_loadu_ps(cs + k), s = _mm512_loadu_ps(sn + k);
            __m512 y0 = _mm512_fmadd_ps(x0, c, _mm512_sub_ps(_mm512_setzero_ps(), _mm512_mul_ps(x1, s)));
            __m512 y1 = _mm512_fmadd_ps(x0, s, _mm512_mul_ps(x1, c));
            _mm512_storeu_ps(v + 2 * k, _mm512_permutex2var_ps(y0, lo, y1));
            _mm512_storeu_ps(v + 2 * k + 16, _mm512_permutex2var_ps(y0, hi, y1));
        }
    }
    for (; k < n_pairs; k++) {
        int i0 = neox ? k : 2 * k, i1 = neox ? k + n_pairs : 2 * k + 1;
        float x0 = v[i0], x1 = v[i1];
        v[i0] = fmaf(x0, cs[k], -(x1 * sn[k]));
        v[i1] = fmaf(x0, sn[k], x1 * cs[k]);
    }
}

static float vdot_f32(const float *a, const float *b, int64_t n) {
    __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
        s1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), s1);
    }
    for (; i < n; i += 16) {
        const __mmask16 mk = n - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - i)) - 1);
        s0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mk, a + i), _mm512_maskz_loadu_ps(mk, b + i), s0);
    }
    return hsum(_mm512_add_ps(s0, s1));
}

static void vaxpy_f32(float *y, float a, const float *x, int64_t n) {
    const __m512 va = _mm512_set1_ps(a);
    for (int64_t i = 0; i < n; i += 16) {
        const __mmask16 mk = n - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - i)) - 1);
        const __m512 r = _mm512_fmadd_ps(va, _mm512_maskz_loadu_ps(mk, x + i), _mm512_maskz_loadu_ps(mk, y + i));
        _mm512_mask_storeu_ps(y + i, mk, r);
    }
}

static void vscale_f32(float *y, float a, int64_t n) {
    const __m512 va = _mm512_set1_ps(a);
    for (int64_t i = 0; i < n; i += 16) {
        const __mmask16 mk = n - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - i)) - 1);
        _mm512_mask_storeu_ps(y + i, mk, _mm512_mul_ps(va, _mm512_maskz_loadu_ps(mk, y + i)));
    }
}

const octo_kernels octo_kernels_avx512 = {
    .name = "avx512",
    .gemm =
        {
            [OCTO_TYPE_F32] = gemm_f32,
            [OCTO_TYPE_F16] = gemm_f16_rows8,
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
            [OCTO_TYPE_F16] = gemm_f16_vecdot,
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
    .silu_f32 = silu_f32,
    .exp_sum_f32 = exp_sum_f32,
    .dot_f16_4acc = dot_f16_4acc,
    .dot_f16_lanes16 = dot_f16_lanes16,
    .rope_f32 = rope_f32,
};

#endif
