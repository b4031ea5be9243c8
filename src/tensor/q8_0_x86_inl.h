/* q8_0_x86_inl.h - the Q8_0 x Q8_0 matrix product for x86, shared by
 * ops_avx2.c and ops_avx512.c (included by both after x86_inl.h and their
 * RT, CT and CALL_RC; the integer dot differs by ISA, chosen with #ifdef).
 *
 * Order of the float operations: ggml's x86 build, the same for batches
 * (tinyBLAS_Q0_AVX) and single tokens (ggml_vec_dot_q8_0_q8_0).  Each output
 * owns one 8-lane float accumulator; for each block in turn, lane l gets the
 * exact integer sum of the 4 products of values 4l..4l+3, converted to float
 * and fma'd with the block scale f16(d_w)*f16(d_x) (one float multiply);
 * hsum8 at the end.  Matching it makes our logits agree with llama.cpp's bit
 * for bit, where any other summation order would now and then flip the
 * F16/int8 rounding of a later activation.
 *
 * So each weight row works in its own 256-bit register (one block per
 * register): on Zen 4 a 512-bit operation costs two 256-bit ones, so two
 * rows per zmm would not be cheaper.  The integer products, all exact:
 *  - with VNNI, vpdpbusd takes unsigned weights: they get +128 (xor 0x80)
 *    and the per-lane correction -128*sum(x), which depends only on the
 *    token, starts the int32 sum;
 *  - with AVX2 only, |x| times sign(w, x) (ggml's sign trick) through
 *    vpmaddubsw (127*127*2 fits int16) and vpmaddwd.
 * (Q4_0 weights are repacked by llama.cpp and take another order:
 * q4_0_x86_inl.h.)
 */
#ifndef OCTO_TENSOR_Q8_0_X86_INL_H
#define OCTO_TENSOR_Q8_0_X86_INL_H

#include "tensor/x86_inl.h"

#if defined(__AVX512VNNI__) && defined(__AVX512VL__)
#define Q80_VNNI 1
#else
#define Q80_VNNI 0
#endif

/* One token's block, prepared once per token and row block. */
typedef struct {
    __m256i x;   /* the 32 values */
    __m256i aux; /* VNNI: -128 * (sum of values 4l..4l+3) per int32 lane; else |values| */
    float d;
    float pad[7];
} q80_tok;

INLINE void q80_prep(const block_q8_0 *xb, int64_t nb, q80_tok *t) {
    for (int64_t i = 0; i < nb; i++) {
        const __m256i x = _mm256_loadu_si256((const __m256i *)xb[i].qs);
        t[i].x = x;
#if Q80_VNNI
        const __m256i z = _mm256_setzero_si256();
        t[i].aux = _mm256_sub_epi32(z, _mm256_dpbusd_epi32(z, _mm256_set1_epi8((char)0x80), x));
#else
        t[i].aux = _mm256_abs_epi8(x);
#endif
        t[i].d = f16(xb[i].d);
    }
}

/* acc[r][c] += float(lane-wise integer dot of block i) * (d_w * d_x) */
INLINE void q80_block(const int R, const int C, const char *W, size_t ws, const q80_tok *tok, int64_t nb, int64_t i,
                      __m256 acc[RT][CT]) {
    UNROLL for (int r = 0; r < R; r++) {
        const block_q8_0 *b = (const block_q8_0 *)(W + r * ws) + i;
        const __m256 wd = _mm256_cvtph_ps(_mm_set1_epi16((short)b->d));
#if Q80_VNNI
        const __m256i wq = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)b->qs), _mm256_set1_epi8((char)0x80));
#else
        const __m256i wq = _mm256_loadu_si256((const __m256i *)b->qs);
#endif
        UNROLL for (int c = 0; c < C; c++) {
            const q80_tok *t = tok + c * nb + i;
#if Q80_VNNI
            const __m256i s = _mm256_dpbusd_epi32(t->aux, wq, t->x);
#else
            const __m256i s =
                _mm256_madd_epi16(_mm256_maddubs_epi16(t->aux, _mm256_sign_epi8(wq, t->x)), _mm256_set1_epi16(1));
#endif
            const __m256 d = _mm256_mul_ps(wd, _mm256_set1_ps(t->d));
            acc[r][c] = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(s), acc[r][c]);
        }
    }
}

INLINE void tile_q80(const int R, const int C, const char *W, size_t ws, const q80_tok *tok, int64_t K, float *y,
                     int64_t ys) {
    __m256 acc[RT][CT];
    UNROLL for (int r = 0; r < R; r++) UNROLL for (int c = 0; c < C; c++) acc[r][c] = _mm256_setzero_ps();
    const int64_t nb = K / 32;
    const size_t pd = prefetch_dist(R, ws);
    int64_t i = 0;
    for (; i + 4 <= nb; i += 4) {
        if (C == 1) prefetch_rows(R, W, ws, i * 34, 136, pd);
        UNROLL for (int j = 0; j < 4; j++) q80_block(R, C, W, ws, tok, nb, i + j, acc);
    }
    for (; i < nb; i++) q80_block(R, C, W, ws, tok, nb, i, acc);
    UNROLL for (int r = 0; r < R; r++) UNROLL for (int c = 0; c < C; c++) y[c * ys + r] = hsum8(acc[r][c]);
}

/* The octo_gemm_fn for Q8_0 weights (see kernels.h). */
#define Q80_CALL(r, c, ...) CALL_RC(tile_q80, r, c, __VA_ARGS__)
DEFINE_GEMM_PREP(q8_0_gemm, q80_tok, q80_prep, block_q8_0, 32, RT, CT, Q80_CALL)

#endif
