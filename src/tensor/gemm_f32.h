/* gemm_f32.h - F32 matrix products for training: C = alpha op(A) op(B) (+ C).
 *
 * Training multiplies F32 matrices in three shapes per linear layer:
 *   forward          Y  = X W^T     (A = X,    B = W^T: trans_b)
 *   backward, data   dX = dY W      (A = dY,   B = W)
 *   backward, weight dW = dY^T X    (A = dY^T: trans_a, B = X)
 * so one routine takes either operand transposed.  It packs blocks of A and
 * B into panels (BLIS style) and runs a register-tiled micro-kernel over
 * them: a plain-C reference (gemm_f32.c) and an AVX-512 twin
 * (gemm_f32_avx512.c), picked by octo_kernel_isa().
 *
 * Determinism: every element of C is summed by one thread over k in a fixed
 * order (blocks of OCTO_GEMM_KC, each an FMA chain), whatever the thread
 * count or split, and the twins perform the same operations, so results are
 * bit-identical run to run, across thread counts and across the twins.
 */
#ifndef OCTO_TENSOR_GEMM_F32_H
#define OCTO_TENSOR_GEMM_F32_H

#include <stdint.h>

#include "base/threadpool.h"

#define OCTO_GEMM_MR 12  /* rows of C per micro-tile */
#define OCTO_GEMM_NR 32  /* columns of C per micro-tile */
#define OCTO_GEMM_KC 256 /* k per packed block */
#define OCTO_GEMM_MC 240 /* rows of A per packed block (multiple of MR) */
#define OCTO_GEMM_NC 512 /* columns of B per packed block (multiple of NR) */

typedef struct {
    int trans_a, trans_b;
    int64_t M, N, K;
    const float *A; /* op(A) is M x K: A[m*lda + k], or A[k*lda + m] when trans_a */
    int64_t lda;
    const float *B; /* op(B) is K x N: B[k*ldb + n], or B[n*ldb + k] when trans_b */
    int64_t ldb;
    float *C; /* M x N: C[m*ldc + n] */
    int64_t ldc;
    float alpha;
    int accumulate; /* 1: C += alpha op(A) op(B); 0: C = alpha op(A) op(B) */
} octo_sgemm_args;

/* This thread's share (ith of nth) of the product; call from every thread
 * of a task (no barrier inside: C is complete once all have returned). */
void octo_sgemm_part(const octo_sgemm_args *g, int ith, int nth);
/* The whole product on the pool's threads (pool NULL: the caller alone). */
void octo_sgemm(const octo_sgemm_args *g, octo_pool *pool);

/* Micro-kernel: tile[MR][NR] of C (row stride ldc) = alpha * Ap . Bp
 * (+ tile when accumulate), Ap = kc x MR packed, Bp = kc x NR packed. */
typedef void (*octo_gemm_micro_fn)(int64_t kc, const float *Ap, const float *Bp, float *C, int64_t ldc, float alpha,
                                   int accumulate);
void octo_gemm_micro_scalar(int64_t kc, const float *Ap, const float *Bp, float *C, int64_t ldc, float alpha,
                            int accumulate);
/* Transposing pack: dst[k*rows + i] = src[i*ld + k] for i < rows, k < kc
 * (rows consecutive source rows become one k-major panel). */
void octo_gemm_pack_rows_scalar(const float *src, int64_t ld, int rows, int64_t kc, float *dst);
#if !defined(OCTO_NO_SIMD) && defined(__x86_64__)
void octo_gemm_pack_rows_avx512(const float *src, int64_t ld, int rows, int64_t kc, float *dst);
void octo_gemm_micro_avx512(int64_t kc, const float *Ap, const float *Bp, float *C, int64_t ldc, float alpha,
                            int accumulate);
#endif

#endif
