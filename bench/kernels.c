/* bench/kernels.c - speed of the matrix-product kernels, per weight type.
 *
 * Measures, for a weight matrix of N=5632 rows x K=2048 (an FFN up
 * projection of a 1B-class model):
 *   GEMV (M = 1, token generation): GB/s of weight bytes streamed: with the
 *        first rows only, 512 KiB that stay in L2 (the kernel's own speed),
 *        with the whole matrix hot in L3, and cycling over copies that
 *        exceed L3 (what a real model's decode step sees);
 *   GEMM (M = 64, prompt processing): GFLOP/s, counting 2*N*M*K.
 * Single-threaded, and with T threads splitting the rows.
 *
 * Build (after `make build/libocto.a`; the library needs only libc/libm):
 *   cc -O3 -std=c11 -D_GNU_SOURCE -Iinclude -Isrc bench/kernels.c build/libocto.a -lm -pthread -o build/bench_kernels
 * Run:  build/bench_kernels [isa] [threads] [type]   (isa: auto, scalar, avx2, avx512, neon;
 *       type: one weight type, e.g. q4_0; default all)
 * Threads come from the library's pool (src/base/threadpool.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/threadpool.h"
#include "tensor/ops.h"
#include "tensor/types.h"

enum { N = 5632, K = 2048, MB = 64, COPIES = 12 };

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static uint64_t rng = 88172645463325252ull;
static float frand(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (float)((rng >> 11) * (1.0 / 9007199254740992.0)) * 2.0f - 1.0f;
}

/* Threads come from the library's pool (spinning workers, as in the
 * forward pass); each takes a share of the rows, multiples of 16. */
typedef struct {
    octo_type t;
    int64_t n; /* rows */
    const uint8_t *w;
    size_t rs;
    const void *xq;
    int64_t M;
    float *y;
} job;

static octo_pool *g_pool;

static void run_part(void *ctx, int ith, int nth) {
    const job *j = ctx;
    long n0, n1;
    octo_split_range(j->n, ith, nth, 16, &n0, &n1);
    if (n1 > n0) octo_matmul(j->t, j->w, j->rs, n0, n1, K, j->xq, j->M, j->y, N);
}

static void matmul_rows(octo_type t, int64_t n, const uint8_t *w, size_t rs, const void *xq, int64_t M, float *y) {
    job j = {t, n, w, rs, xq, M, y};
    octo_pool_run(g_pool, run_part, &j);
}

static void matmul_mt(octo_type t, const uint8_t *w, size_t rs, const void *xq, int64_t M, float *y) {
    job j = {t, N, w, rs, xq, M, y};
    octo_pool_run(g_pool, run_part, &j);
}

int main(int argc, char **argv) {
    const char *isa = argc > 1 ? argv[1] : "auto";
    int nth = argc > 2 ? atoi(argv[2]) : 1;
    if (nth < 1 || nth > 64) nth = 1;
    const char *only = argc > 3 ? argv[3] : NULL;
    g_pool = octo_pool_new(nth);
    if (octo_kernel_set_isa(isa) != 0) {
        fprintf(stderr, "isa %s not available\n", isa);
        return 1;
    }
    printf("kernels: %s, threads: %d, W: %d x %d\n", octo_kernel_isa(), nth, N, K);
    printf("%-5s %10s %12s %12s %12s %12s\n", "type", "MB", "GEMV L2", "GEMV hot", "GEMV cold", "GEMM M=64");
    static const octo_type types[] = {OCTO_TYPE_Q4_0, OCTO_TYPE_Q8_0, OCTO_TYPE_Q4_K, OCTO_TYPE_Q6_K,
                                      OCTO_TYPE_F16,  OCTO_TYPE_BF16, OCTO_TYPE_F32};
    float *src = malloc(sizeof(float) * (size_t)N * K);
    for (size_t i = 0; i < (size_t)N * K; i++) src[i] = frand() * 0.05f;
    float *x = malloc(sizeof(float) * MB * K);
    for (size_t i = 0; i < (size_t)MB * K; i++) x[i] = frand();
    float *y = malloc(sizeof(float) * MB * N);

    for (size_t ti = 0; ti < sizeof types / sizeof types[0]; ti++) {
        octo_type t = types[ti];
        if (only && octo_type_from_name(only) != (int)t) continue;
        size_t rs = octo_row_size(t, K), bytes = rs * N;
        int copies = bytes * COPIES > (size_t)800 << 20 ? (int)(((size_t)800 << 20) / bytes) : COPIES;
        uint8_t *w = malloc(bytes * copies);
        for (int64_t n = 0; n < N; n++) octo_quantize_row(t, src + n * K, w + n * rs, K);
        for (int c = 1; c < copies; c++) memcpy(w + c * bytes, w, bytes);
        void *xq = malloc(octo_matmul_xq_size(t, MB, K));
        octo_matmul_prepare(t, x, K, 0, MB, K, xq);

        /* GEMV, L2: the first 512 KiB of rows again and again */
        const int64_t nl2 = ((int64_t)(512 << 10) / (int64_t)rs) / 16 * 16;
        matmul_rows(t, nl2, w, rs, xq, 1, y);
        int iters = 0;
        double t0 = now(), el;
        do {
            matmul_rows(t, nl2, w, rs, xq, 1, y);
            iters++;
        } while ((el = now() - t0) < 0.3);
        double gbs_l2 = (double)rs * nl2 * iters / el / 1e9;

        /* GEMV, hot: the same matrix again and again */
        matmul_mt(t, w, rs, xq, 1, y);
        iters = 0;
        t0 = now();
        do {
            matmul_mt(t, w, rs, xq, 1, y);
            iters++;
        } while ((el = now() - t0) < 0.4);
        double gbs_hot = bytes * (double)iters / el / 1e9;

        /* GEMV, cold: cycle over copies so each pass comes from DRAM */
        iters = 0;
        t0 = now();
        do {
            matmul_mt(t, w + (size_t)(iters % copies) * bytes, rs, xq, 1, y);
            iters++;
        } while ((el = now() - t0) < 0.6 || iters < copies);
        double gbs_cold = bytes * (double)iters / el / 1e9;

        /* GEMM, M = 64 */
        matmul_mt(t, w, rs, xq, MB, y);
        iters = 0;
        t0 = now();
        do {
            matmul_mt(t, w, rs, xq, MB, y);
            iters++;
        } while ((el = now() - t0) < 0.6);
        double gflops = 2.0 * N * K * MB * iters / el / 1e9;

        printf("%-5s %10.1f %7.1f GB/s %7.1f GB/s %7.1f GB/s %7.1f GFLOP/s\n", octo_type_name(t), bytes / 1048576.0,
               gbs_l2, gbs_hot, gbs_cold, gflops);
        free(w);
        free(xq);
    }
    octo_pool_free(g_pool);
    free(src);
    free(x);
    free(y);
    return 0;
}
