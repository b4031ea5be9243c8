/* membw.c - the machine's limits, measured: DRAM read bandwidth (1 and N
 * threads, AVX-512/AVX2 streaming loads of a 1 GiB buffer) and FMA peak
 * (independent FMA chains in registers).  The roofline that bench/run.sh's
 * figures are compared against.
 *
 *   cc -O3 -march=native -pthread bench/membw.c -o build/membw && build/membw [threads]
 */
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BUF (1ull << 30)

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

typedef struct {
    const float *p;
    size_t n;
    float out;
} job;

static void *read_job(void *arg) {
    job *j = arg;
#if defined(__AVX512F__)
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    for (size_t i = 0; i < j->n; i += 64) {
        a0 = _mm512_add_ps(a0, _mm512_load_ps(j->p + i));
        a1 = _mm512_add_ps(a1, _mm512_load_ps(j->p + i + 16));
        a2 = _mm512_add_ps(a2, _mm512_load_ps(j->p + i + 32));
        a3 = _mm512_add_ps(a3, _mm512_load_ps(j->p + i + 48));
    }
    j->out = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
#else
    float s = 0;
    for (size_t i = 0; i < j->n; i++) s += j->p[i];
    j->out = s;
#endif
    return NULL;
}

static void *fma_job(void *arg) {
    job *j = arg;
#if defined(__AVX512F__)
    __m512 a[12], b = _mm512_set1_ps(0.999999f), c = _mm512_set1_ps(1e-7f);
    for (int k = 0; k < 12; k++) a[k] = _mm512_set1_ps((float)k);
    for (size_t i = 0; i < j->n; i++)
        for (int k = 0; k < 12; k++) a[k] = _mm512_fmadd_ps(a[k], b, c);
    __m512 s = a[0];
    for (int k = 1; k < 12; k++) s = _mm512_add_ps(s, a[k]);
    j->out = _mm512_reduce_add_ps(s);
#endif
    return NULL;
}

static double run(void *(*fn)(void *), const float *buf, size_t n, int nt) {
    pthread_t th[64];
    job jobs[64];
    double t0 = now();
    for (int i = 0; i < nt; i++) {
        jobs[i] = (job){buf ? buf + i * (n / nt) : NULL, buf ? n / nt : n, 0};
        pthread_create(&th[i], NULL, fn, &jobs[i]);
    }
    for (int i = 0; i < nt; i++) pthread_join(th[i], NULL);
    return now() - t0;
}

int main(int argc, char **argv) {
    int nt = argc > 1 ? atoi(argv[1]) : 2;
    float *buf = aligned_alloc(64, BUF);
    memset(buf, 1, BUF);
    size_t n = BUF / sizeof(float);
    for (int t = 1; t <= nt; t++) {
        double best = 1e9;
        for (int r = 0; r < 5; r++) {
            double s = run(read_job, buf, n, t);
            if (s < best) best = s;
        }
        printf("DRAM read, %d thread%s: %.1f GB/s\n", t, t > 1 ? "s" : "", BUF / best / 1e9);
    }
    size_t iters = 50000000;
    for (int t = 1; t <= nt; t++) {
        double s = run(fma_job, NULL, iters, t);
        printf("FP32 FMA peak, %d thread%s: %.0f GFLOP/s\n", t, t > 1 ? "s" : "", 2.0 * 16 * 12 * iters * t / s / 1e9);
    }
    free(buf);
    return 0;
}
