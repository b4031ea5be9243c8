/* q4_0_x86_inl.h - the Q4_0 x Q8_0 matrix product for x86, shared by
 * ops_avx2.c and ops_avx512.c (included by both, compiled under each one's
 * flags; the few steps that differ are chosen with #ifdef below).
 *
 * Order of the float operations: llama.cpp repacks Q4_0 weights on x86
 * (eight rows interleaved; ggml_gemv/gemm_q4_0_8x8_q8_0, for one token and
 * for batches alike), and that kernel keeps one float per output, adding,
 * block by block, float(the block's exact integer dot) * (d_w * d_x) with
 * one fma.  The scalar reference (ops_scalar.c, dot_q4_0) does the same, and
 * so does this code: results are bitwise equal to both.
 *
 * Layout: a ymm holds 8 weight rows, one per int32 lane, so one
 * conversion, one scaling and one fma serve 8 outputs.  To get each row's
 * integer block total straight into its own lane (no horizontal sums), the
 * 8 rows' blocks are transposed on the fly into llama.cpp's repacked shape:
 * after q4_0_rows8, T[k] lane r holds the 4 packed bytes 4k..4k+3 of row r,
 * i.e. (low nibbles) values 4k..4k+3 and (high nibbles) 16+4k..16+4k+3.
 * Each is multiplied by the token's matching 4 values broadcast to every
 * lane (vpdpbusd, or vpmaddubsw with AVX2 only), 8 products per block.
 * The nibbles are stored unsigned (value + 8), so the token's -8*sum(x)
 * starts the sum.  Per 8 rows and block this is 12 shuffles, 8 masks and
 * 8 multiply-adds, against 16 shifts/masks, 8 multiply-adds and a
 * horizontal-add tree (9 instructions of several micro-ops each) when each
 * row keeps its own register; and with several tokens the transposed
 * weights serve them all, where the tree was repeated per token.
 *
 * A tile of R < 8 rows repeats its first row in the spare lanes and does
 * not store them.
 */
#ifndef OCTO_TENSOR_Q4_0_X86_INL_H
#define OCTO_TENSOR_Q4_0_X86_INL_H

#include <immintrin.h>
#include <string.h>

#include "tensor/kernels.h"
#include "tensor/x86_inl.h"

#define Q4_RT 8 /* rows per tile: one per lane */
#define Q4_CT 4 /* tokens per tile */

/* One token's block, prepared once per token and row block. */
typedef struct {
    int32_t x[8]; /* the 32 values, 4 per word: word j = values 4j..4j+3 */
    int32_t corr; /* -8 * (sum of the 32 values) */
    float d;
    int32_t pad[6];
} q4_tok;

INLINE void q4_prep(const block_q8_0 *xb, int64_t nb, q4_tok *t) {
    for (int64_t i = 0; i < nb; i++) {
        int32_t s = 0;
        for (int j = 0; j < 32; j++) s += xb[i].qs[j];
        memcpy(t[i].x, xb[i].qs, 32);
        t[i].corr = -8 * s;
        t[i].d = f16(xb[i].d);
    }
}

/* Block i of rows row[0..7], transposed: T[k] lane r = bytes 4k..4k+3 of
 * row r's packed nibbles. */
INLINE void q4_0_rows8(const block_q4_0 *const row[Q4_RT], int64_t i, __m256i T[4]) {
    __m256i Y[4]; /* Y[j] = [row j | row j+4] */
    UNROLL for (int j = 0; j < 4; j++)
        Y[j] = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)row[j][i].qs)),
                                       _mm_loadu_si128((const __m128i *)row[j + 4][i].qs), 1);
    /* 4x4 transpose of 32-bit words within each 128-bit half */
    const __m256i a0 = _mm256_unpacklo_epi32(Y[0], Y[1]), a1 = _mm256_unpackhi_epi32(Y[0], Y[1]);
    const __m256i a2 = _mm256_unpacklo_epi32(Y[2], Y[3]), a3 = _mm256_unpackhi_epi32(Y[2], Y[3]);
    T[0] = _mm256_unpacklo_epi64(a0, a2);
    T[1] = _mm256_unpackhi_epi64(a0, a2);
    T[2] = _mm256_unpacklo_epi64(a1, a3);
    T[3] = _mm256_unpackhi_epi64(a1, a3);
}

/* Lane r = exact integer dot of row r's block (transposed in T) with the
 * token's block t. */
INLINE __m256i q4_0_dot8(const __m256i T[4], const q4_tok *t) {
    const __m256i m4 = _mm256_set1_epi8(0x0F);
#if defined(__AVX512VNNI__) && defined(__AVX512VL__)
    /* the high nibbles are used in place (16 * value, no shift), their sum
     * divided by 16 once: exact, one operation fewer per vector */
    const __m256i m4h = _mm256_set1_epi8((char)0xF0);
    __m256i lo = _mm256_set1_epi32(t->corr), hi = _mm256_setzero_si256();
    UNROLL for (int k = 0; k < 4; k++) {
        lo = _mm256_dpbusd_epi32(lo, _mm256_and_si256(T[k], m4), _mm256_set1_epi32(t->x[k]));
        hi = _mm256_dpbusd_epi32(hi, _mm256_and_si256(T[k], m4h), _mm256_set1_epi32(t->x[4 + k]));
    }
    return _mm256_add_epi32(lo, _mm256_srai_epi32(hi, 4));
#else
    /* int16 pair sums: 8 of at most |15*128*2| stay below 32768 */
    __m256i s = _mm256_setzero_si256();
    UNROLL for (int k = 0; k < 4; k++) {
        s = _mm256_add_epi16(s, _mm256_maddubs_epi16(_mm256_and_si256(T[k], m4), _mm256_set1_epi32(t->x[k])));
        s = _mm256_add_epi16(s, _mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(T[k], 4), m4),
                                                     _mm256_set1_epi32(t->x[4 + k])));
    }
    return _mm256_add_epi32(_mm256_madd_epi16(s, _mm256_set1_epi16(1)), _mm256_set1_epi32(t->corr));
#endif
}

/* d_w of block i of the 8 rows, as floats.  The 8 halves are packed into
 * two 64-bit words with scalar loads, shifts and ors, which run beside the
 * vector work, and enter vector registers with two moves: cheaper than
 * inserting 8 words (vpinsrw), a gather, or cross-row word permutes. */
INLINE __m256 q4_0_scales(const block_q4_0 *const row[Q4_RT], int64_t i) {
    const uint64_t lo = (uint64_t)row[0][i].d | (uint64_t)row[1][i].d << 16 | (uint64_t)row[2][i].d << 32 |
                        (uint64_t)row[3][i].d << 48;
    const uint64_t hi = (uint64_t)row[4][i].d | (uint64_t)row[5][i].d << 16 | (uint64_t)row[6][i].d << 32 |
                        (uint64_t)row[7][i].d << 48;
    return _mm256_cvtph_ps(_mm_unpacklo_epi64(_mm_cvtsi64_si128((long long)lo), _mm_cvtsi64_si128((long long)hi)));
}

/* acc[c] (lane r) += float(block i of row r . token c) * (d_w * d_x), the
 * 8 rows' block given transposed (T) with its scales (wd). */
INLINE void q4_0_accum(const int C, const __m256i T[4], __m256 wd, const q4_tok *tok, int64_t nb, int64_t i,
                       __m256 acc[Q4_CT]) {
    UNROLL for (int c = 0; c < C; c++) {
        const q4_tok *t = tok + c * nb + i;
        const __m256 d = _mm256_mul_ps(wd, _mm256_set1_ps(t->d));
        acc[c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(q4_0_dot8(T, t)), d, acc[c]);
    }
}

/* y[c*ys + r] = lane r of acc[c], r < R, c < C */
INLINE void q4_0_store(const int C, const int R, const __m256 acc[Q4_CT], float *y, int64_t ys) {
    UNROLL for (int c = 0; c < C; c++) {
        float o[Q4_RT];
        _mm256_storeu_ps(o, acc[c]);
        for (int r = 0; r < R; r++) y[c * ys + r] = o[r];
    }
}

INLINE void q4_0_block(const int C, const block_q4_0 *const row[Q4_RT], const q4_tok *tok, int64_t nb, int64_t i,
                       __m256 acc[Q4_CT]) {
    __m256i T[4];
    q4_0_rows8(row, i, T);
    q4_0_accum(C, T, q4_0_scales(row, i), tok, nb, i, acc);
}

/* y[c*ys + r] = row r . token c, r < R, c < C */
INLINE void q4_0_tile(const int C, const int R, const char *W, size_t ws, const q4_tok *tok, int64_t K, float *y,
                      int64_t ys) {
    const block_q4_0 *row[Q4_RT];
    UNROLL for (int r = 0; r < Q4_RT; r++) row[r] = (const block_q4_0 *)(W + (r < R ? r : 0) * ws);
    __m256 acc[Q4_CT];
    UNROLL for (int c = 0; c < C; c++) acc[c] = _mm256_setzero_ps();
    const int64_t nb = K / 32;
    const size_t pd = prefetch_dist(Q4_RT, ws);
    int64_t i = 0;
    for (; i + 4 <= nb; i += 4) {
        if (C == 1) prefetch_rows(R, W, ws, i * 18, 72, pd);
        UNROLL for (int j = 0; j < 4; j++) q4_0_block(C, row, tok, nb, i + j, acc);
    }
    for (; i < nb; i++) q4_0_block(C, row, tok, nb, i, acc);
    q4_0_store(C, R, acc, y, ys);
}

/* The same product on packed weights (octo_q4_0_pack): a group's block is
 * already the T[4] of q4_0_rows8 and its 8 scales sit side by side, so
 * the transpose and the scale gathering are gone from the loop. W points
 * at the group; its block i is at W + 144 i; the next group at W + 8 ws. */
INLINE void q4_0p_block(const int C, const char *W, const q4_tok *tok, int64_t nb, int64_t i, __m256 acc[Q4_CT]) {
    const char *b = W + i * 144;
    __m256i T[4];
    UNROLL for (int k = 0; k < 4; k++) T[k] = _mm256_loadu_si256((const __m256i *)(b + 16 + 32 * k));
    q4_0_accum(C, T, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)b)), tok, nb, i, acc);
}

INLINE void q4_0p_tile(const int C, const int R, const char *W, size_t ws, const q4_tok *tok, int64_t K, float *y,
                       int64_t ys) {
    __m256 acc[Q4_CT];
    UNROLL for (int c = 0; c < C; c++) acc[c] = _mm256_setzero_ps();
    const int64_t nb = K / 32;
    const char *next = W + Q4_RT * ws; /* the next group: read while this one is computed */
    int64_t i = 0;
    for (; i + 4 <= nb; i += 4) {
        if (C == 1) UNROLL for (int o = 0; o < 4 * 144; o += 64) _mm_prefetch(next + i * 144 + o, _MM_HINT_T1);
        UNROLL for (int j = 0; j < 4; j++) q4_0p_block(C, W, tok, nb, i + j, acc);
    }
    for (; i < nb; i++) q4_0p_block(C, W, tok, nb, i, acc);
    q4_0_store(C, R, acc, y, ys);
}

/* A tile call with the token count C as a compile-time constant. */
#define Q4_TILE_CALL(TILE, r, c, ...)                          \
    switch (c) {                                               \
    case 1: TILE(1, r, __VA_ARGS__); break;                    \
    case 2: TILE(2, r, __VA_ARGS__); break;                    \
    case 3: TILE(3, r, __VA_ARGS__); break;                    \
    default: TILE(Q4_CT, r, __VA_ARGS__); break;               \
    }
#define Q4_0P_CALL(r, c, ...) Q4_TILE_CALL(q4_0p_tile, r, c, __VA_ARGS__)
DEFINE_GEMM_PREP(q4_0p_gemm, q4_tok, q4_prep, block_q8_0, 32, Q4_RT, Q4_CT, Q4_0P_CALL)

/* The octo_gemm_fn for Q4_0 weights (see kernels.h). */
#define Q4_0_CALL(r, c, ...) Q4_TILE_CALL(q4_0_tile, r, c, __VA_ARGS__)
DEFINE_GEMM_PREP(q4_0_gemm, q4_tok, q4_prep, block_q8_0, 32, Q4_RT, Q4_CT, Q4_0_CALL)

#endif
