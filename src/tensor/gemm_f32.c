/* gemm_f32.c - packed, cache-blocked F32 GEMM (see gemm_f32.h): the driver
 * loops, the packing, the thread split and the plain-C micro-kernel.
 *
 * Loop nest (BLIS): for each NC block of columns, for each KC block of k,
 * pack B (kc x nc, in NR-wide panels), then for each MC block of rows pack
 * A (mc x kc, MR-wide panels) and run the micro-kernel over every MR x NR
 * tile.  A packed B panel (kc x NR) stays in L1 while the tiles below it
 * stream the packed A block from L2.  Packing also hides the transposes:
 * the micro-kernel only ever sees k-major panels.  Packing costs up to a
 * tenth of a training step's products, so the panels that need a transpose
 * (A as stored, B transposed) go through an AVX-512 twin as well.
 */
#include "tensor/gemm_f32.h"

#include <math.h>
#include <string.h>

#include "tensor/kernels.h"
#include "tensor/ops.h"

#define MR OCTO_GEMM_MR
#define NR OCTO_GEMM_NR
#define KC OCTO_GEMM_KC
#define MC OCTO_GEMM_MC
#define NC OCTO_GEMM_NC

/* The reference: each element an FMA chain over k, then alpha, then + C.
 * The SIMD twins do exactly these operations lane by lane. */
void octo_gemm_micro_scalar(int64_t kc, const float *Ap, const float *Bp, float *C, int64_t ldc, float alpha,
                            int accumulate) {
    float acc[MR][NR];
    memset(acc, 0, sizeof acc);
    for (int64_t k = 0; k < kc; k++) {
        const float *a = Ap + k * MR, *b = Bp + k * NR;
        for (int i = 0; i < MR; i++)
            for (int j = 0; j < NR; j++) acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
    }
    for (int i = 0; i < MR; i++) {
        float *c = C + i * ldc;
        for (int j = 0; j < NR; j++) {
            float v = alpha * acc[i][j];
            c[j] = accumulate ? v + c[j] : v;
        }
    }
}

void octo_gemm_pack_rows_scalar(const float *src, int64_t ld, int rows, int64_t kc, float *dst) {
    /* k outer: `rows` sequential read streams, contiguous writes */
    for (int64_t k = 0; k < kc; k++)
        for (int i = 0; i < rows; i++) dst[k * rows + i] = src[i * ld + k];
}

typedef void (*pack_rows_fn)(const float *src, int64_t ld, int rows, int64_t kc, float *dst);

static octo_gemm_micro_fn pick_micro(pack_rows_fn *pack) {
#if !defined(OCTO_NO_SIMD) && defined(__x86_64__)
    if (strcmp(octo_kernel_isa(), "avx512") == 0) {
        *pack = octo_gemm_pack_rows_avx512;
        return octo_gemm_micro_avx512;
    }
#endif
    *pack = octo_gemm_pack_rows_scalar;
    return octo_gemm_micro_scalar;
}

/* Ap: mc x kc of op(A) from (m0, k0), in MR-row panels, zero-padded. */
static void pack_a(const octo_sgemm_args *g, int64_t m0, int64_t mc, int64_t k0, int64_t kc, float *Ap,
                   pack_rows_fn pack_rows) {
    for (int64_t p = 0; p < mc; p += MR) {
        float *dst = Ap + p * kc;
        int64_t rows = mc - p < MR ? mc - p : MR;
        if (g->trans_a) {
            for (int64_t k = 0; k < kc; k++) {
                const float *src = g->A + (k0 + k) * g->lda + m0 + p;
                float *d = dst + k * MR;
                int64_t i = 0;
                for (; i < rows; i++) d[i] = src[i];
                for (; i < MR; i++) d[i] = 0.0f;
            }
        } else if (rows == MR) {
            pack_rows(g->A + (m0 + p) * g->lda + k0, g->lda, MR, kc, dst);
        } else {
            for (int64_t i = 0; i < MR; i++) {
                if (i < rows) {
                    const float *src = g->A + (m0 + p + i) * g->lda + k0;
                    for (int64_t k = 0; k < kc; k++) dst[k * MR + i] = src[k];
                } else {
                    for (int64_t k = 0; k < kc; k++) dst[k * MR + i] = 0.0f;
                }
            }
        }
    }
}

/* Bp: kc x nc of op(B) from (k0, n0), in NR-column panels, zero-padded. */
static void pack_b(const octo_sgemm_args *g, int64_t k0, int64_t kc, int64_t n0, int64_t nc, float *Bp,
                   pack_rows_fn pack_rows) {
    for (int64_t p = 0; p < nc; p += NR) {
        float *dst = Bp + p * kc;
        int64_t cols = nc - p < NR ? nc - p : NR;
        if (g->trans_b && cols == NR) {
            pack_rows(g->B + (n0 + p) * g->ldb + k0, g->ldb, NR, kc, dst);
        } else if (g->trans_b) {
            for (int64_t j = 0; j < NR; j++) {
                if (j < cols) {
                    const float *src = g->B + (n0 + p + j) * g->ldb + k0;
                    for (int64_t k = 0; k < kc; k++) dst[k * NR + j] = src[k];
                } else {
                    for (int64_t k = 0; k < kc; k++) dst[k * NR + j] = 0.0f;
                }
            }
        } else {
            for (int64_t k = 0; k < kc; k++) {
                const float *src = g->B + (k0 + k) * g->ldb + n0 + p;
                float *d = dst + k * NR;
                int64_t j = 0;
                for (; j < cols; j++) d[j] = src[j];
                for (; j < NR; j++) d[j] = 0.0f;
            }
        }
    }
}

/* C rows [m0, m1) x columns [n0, n1), all of k. */
static void gemm_block(const octo_sgemm_args *g, int64_t m0, int64_t m1, int64_t n0, int64_t n1) {
    if (m1 <= m0 || n1 <= n0) return;
    if (g->K == 0) {
        if (!g->accumulate)
            for (int64_t m = m0; m < m1; m++) memset(g->C + m * g->ldc + n0, 0, (size_t)(n1 - n0) * sizeof(float));
        return;
    }
    pack_rows_fn pack_rows;
    octo_gemm_micro_fn micro = pick_micro(&pack_rows);
    float *Bp = octo_kernel_scratch((size_t)KC * (MC + NC) * sizeof(float));
    float *Ap = Bp + (size_t)KC * NC;
    float tile[MR * NR];
    for (int64_t jc = n0; jc < n1; jc += NC) {
        int64_t nc = n1 - jc < NC ? n1 - jc : NC;
        for (int64_t pc = 0; pc < g->K; pc += KC) {
            int64_t kc = g->K - pc < KC ? g->K - pc : KC;
            int acc = g->accumulate || pc > 0;
            pack_b(g, pc, kc, jc, nc, Bp, pack_rows);
            for (int64_t ic = m0; ic < m1; ic += MC) {
                int64_t mc = m1 - ic < MC ? m1 - ic : MC;
                pack_a(g, ic, mc, pc, kc, Ap, pack_rows);
                for (int64_t jr = 0; jr < nc; jr += NR) {
                    int64_t nr = nc - jr < NR ? nc - jr : NR;
                    for (int64_t ir = 0; ir < mc; ir += MR) {
                        int64_t mr = mc - ir < MR ? mc - ir : MR;
                        float *c = g->C + (ic + ir) * g->ldc + jc + jr;
                        if (mr == MR && nr == NR) {
                            micro(kc, Ap + ir * kc, Bp + jr * kc, c, g->ldc, g->alpha, acc);
                            continue;
                        }
                        /* edge tile: the same operations into a buffer */
                        micro(kc, Ap + ir * kc, Bp + jr * kc, tile, NR, g->alpha, 0);
                        for (int64_t i = 0; i < mr; i++)
                            for (int64_t j = 0; j < nr; j++)
                                c[i * g->ldc + j] = acc ? tile[i * NR + j] + c[i * g->ldc + j] : tile[i * NR + j];
                    }
                }
            }
        }
    }
}

void octo_sgemm_part(const octo_sgemm_args *g, int ith, int nth) {
    if (g->M <= 0 || g->N <= 0) return;
    long lo, hi;
    /* split the dimension with more tiles, in whole tiles */
    if ((g->M + MR - 1) / MR >= (g->N + NR - 1) / NR) {
        octo_split_range((long)g->M, ith, nth, MR, &lo, &hi);
        gemm_block(g, lo, hi, 0, g->N);
    } else {
        octo_split_range((long)g->N, ith, nth, NR, &lo, &hi);
        gemm_block(g, 0, g->M, lo, hi);
    }
}

static void sgemm_task(void *ctx, int ith, int nth) { octo_sgemm_part(ctx, ith, nth); }

void octo_sgemm(const octo_sgemm_args *g, octo_pool *pool) {
    /* small products are not worth waking the other threads for */
    if (!pool || octo_pool_size(pool) == 1 || (double)g->M * g->N * g->K < 1e6) {
        octo_sgemm_part(g, 0, 1);
        return;
    }
    octo_pool_run(pool, sgemm_task, (void *)g);
}
