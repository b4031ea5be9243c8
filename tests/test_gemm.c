/* test_gemm.c - the training F32 GEMM (tensor/gemm_f32.h): every transpose
 * combination and block edge against a naive double-precision product, the
 * SIMD micro-kernels bit for bit against the plain-C reference, and the
 * same bits whatever the thread count (training runs reproduce exactly). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/threadpool.h"
#include "tensor/gemm_f32.h"
#include "tensor/ops.h"
#include "testlib.h"

static uint64_t g_s = 7;
static float frand(void) {
    g_s = g_s * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((double)(g_s >> 11) / 9007199254740992.0 * 2 - 1);
}

typedef struct {
    int64_t M, N, K;
} shape;

/* sizes crossing MR/NR tiles, the KC, MC and NC blocks, and degenerate ones */
static const shape k_shapes[] = {{1, 1, 1},   {12, 32, 8},   {13, 33, 300}, {250, 70, 17},
                                 {5, 600, 9}, {37, 45, 513}, {3, 2, 0},     {100, 130, 260}};
#define N_SHAPES (int)(sizeof k_shapes / sizeof k_shapes[0])

typedef struct {
    float *A, *B, *C0;
    octo_sgemm_args g;
} problem;

static void make_problem(problem *p, shape s, int ta, int tb, int acc, float alpha) {
    int64_t lda = (ta ? s.M : s.K) + 3, ldb = (tb ? s.K : s.N) + 5, ldc = s.N + 2;
    int64_t ar = ta ? s.K : s.M, br = tb ? s.N : s.K;
    p->A = malloc((size_t)(ar * lda + 1) * sizeof(float));
    p->B = malloc((size_t)(br * ldb + 1) * sizeof(float));
    p->C0 = malloc((size_t)(s.M * ldc + 1) * sizeof(float));
    for (int64_t i = 0; i < ar * lda; i++) p->A[i] = frand();
    for (int64_t i = 0; i < br * ldb; i++) p->B[i] = frand();
    for (int64_t i = 0; i < s.M * ldc; i++) p->C0[i] = frand();
    p->g = (octo_sgemm_args){.trans_a = ta, .trans_b = tb, .M = s.M, .N = s.N, .K = s.K, .A = p->A, .lda = lda,
                             .B = p->B, .ldb = ldb, .ldc = ldc, .alpha = alpha, .accumulate = acc};
}

static void free_problem(problem *p) {
    free(p->A);
    free(p->B);
    free(p->C0);
}

/* C = product computed by the library with the given ISA and threads */
static float *run(problem *p, const char *isa, octo_pool *pool) {
    size_t n = (size_t)(p->g.M * p->g.ldc + 1);
    float *C = malloc(n * sizeof(float));
    memcpy(C, p->C0, n * sizeof(float));
    octo_kernel_set_isa(isa);
    octo_sgemm_args g = p->g;
    g.C = C;
    octo_sgemm(&g, pool);
    octo_kernel_set_isa("auto");
    return C;
}

TEST(against_naive) {
    for (int si = 0; si < N_SHAPES; si++)
        for (int v = 0; v < 8; v++) {
            int ta = v & 1, tb = (v >> 1) & 1, acc = (v >> 2) & 1;
            problem p;
            make_problem(&p, k_shapes[si], ta, tb, acc, acc ? 0.75f : 1.0f);
            float *C = run(&p, "scalar", NULL);
            double worst = 0;
            const octo_sgemm_args *g = &p.g;
            for (int64_t m = 0; m < g->M; m++)
                for (int64_t n = 0; n < g->N + 2; n++) {
                    double want;
                    if (n >= g->N) {
                        want = p.C0[m * g->ldc + n]; /* outside the product: untouched */
                    } else {
                        double s = 0;
                        for (int64_t k = 0; k < g->K; k++)
                            s += (double)(ta ? g->A[k * g->lda + m] : g->A[m * g->lda + k]) *
                                 (tb ? g->B[n * g->ldb + k] : g->B[k * g->ldb + n]);
                        want = g->alpha * s + (acc ? p.C0[m * g->ldc + n] : 0.0);
                    }
                    double err = fabs(C[m * g->ldc + n] - want) / (1.0 + sqrt((double)g->K));
                    if (err > worst) worst = err;
                }
            CHECKF(worst < 1e-6, "shape %lldx%lldx%lld ta %d tb %d acc %d: error %g", (long long)g->M,
                   (long long)g->N, (long long)g->K, ta, tb, acc, worst);
            free(C);
            free_problem(&p);
        }
}

TEST(twins_and_threads_bit_identical) {
    const char *isas[] = {"avx512"};
    octo_pool *pools[3] = {NULL, octo_pool_new(2), octo_pool_new(3)};
    int compared = 0;
    for (int si = 0; si < N_SHAPES; si++)
        for (int v = 0; v < 8; v++) {
            problem p;
            make_problem(&p, k_shapes[si], v & 1, (v >> 1) & 1, (v >> 2) & 1, (v >> 2) & 1 ? -1.25f : 1.0f);
            float *ref = run(&p, "scalar", NULL);
            size_t n = (size_t)(p.g.M * p.g.ldc + 1);
            for (int k = 1; k < 3; k++) {
                float *C = run(&p, "scalar", pools[k]);
                CHECKF(memcmp(C, ref, n * 4) == 0, "shape %d variant %d: %d threads differ", si, v, k + 1);
                free(C);
            }
            for (int i = 0; i < 1; i++) {
                if (octo_kernel_set_isa(isas[i]) != 0) continue;
                octo_kernel_set_isa("auto");
                for (int k = 0; k < 3; k++) {
                    float *C = run(&p, isas[i], pools[k]);
                    CHECKF(memcmp(C, ref, n * 4) == 0, "shape %d variant %d: %s (%d threads) differs from scalar", si,
                           v, isas[i], k + 1);
                    free(C);
                    compared++;
                }
            }
            free(ref);
            free_problem(&p);
        }
    if (compared == 0) fprintf(stderr, "    (no AVX-512 on this build or CPU: scalar only)\n");
    for (int k = 1; k < 3; k++) octo_pool_free(pools[k]);
}

int main(void) {
    RUN(against_naive);
    RUN(twins_and_threads_bit_identical);
    return t_finish();
}
