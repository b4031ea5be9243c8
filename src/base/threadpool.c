/* threadpool.c - fork-join pool with spin-then-sleep waits (see threadpool.h). */
#include "base/threadpool.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define cpu_relax() _mm_pause()
#elif defined(__aarch64__)
#define cpu_relax() __asm__ __volatile__("yield")
#else
#define cpu_relax() ((void)0)
#endif

/* How long a waiting thread spins before it sleeps: a few hundred microseconds
 * covers the gap between ops of a forward pass without burning a core while
 * the pool is idle between requests. */
#define SPIN_ITERS 200000

struct octo_pool {
    int n;
    pthread_t *threads;
    octo_task_fn fn;
    void *ctx;
    atomic_int generation;   /* bumped for each run */
    atomic_int n_done;       /* workers finished with the current run */
    atomic_int stop;
    /* barrier */
    atomic_int bar_count;
    atomic_int bar_phase;
    /* sleeping */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    atomic_int n_sleeping;
};

typedef struct {
    octo_pool *pool;
    int ith;
} worker_arg;

static void *worker_main(void *arg) {
    worker_arg *wa = arg;
    octo_pool *p = wa->pool;
    int ith = wa->ith;
    free(wa);
    int seen = 0;
    for (;;) {
        int spins = 0;
        while (atomic_load_explicit(&p->generation, memory_order_acquire) == seen &&
               !atomic_load_explicit(&p->stop, memory_order_acquire)) {
            if (++spins < SPIN_ITERS) {
                cpu_relax();
                continue;
            }
            pthread_mutex_lock(&p->mu);
            atomic_fetch_add(&p->n_sleeping, 1);
            while (atomic_load(&p->generation) == seen && !atomic_load(&p->stop))
                pthread_cond_wait(&p->cv, &p->mu);
            atomic_fetch_sub(&p->n_sleeping, 1);
            pthread_mutex_unlock(&p->mu);
        }
        if (atomic_load(&p->stop)) break;
        seen = atomic_load_explicit(&p->generation, memory_order_acquire);
        p->fn(p->ctx, ith, p->n);
        atomic_fetch_add_explicit(&p->n_done, 1, memory_order_release);
    }
    return NULL;
}

octo_pool *octo_pool_new(int n_threads) {
    if (n_threads < 1) n_threads = 1;
    octo_pool *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->n = n_threads;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    if (n_threads > 1) {
        p->threads = calloc((size_t)n_threads, sizeof *p->threads);
        if (!p->threads) {
            free(p);
            return NULL;
        }
        for (int i = 1; i < n_threads; i++) {
            worker_arg *wa = malloc(sizeof *wa);
            wa->pool = p;
            wa->ith = i;
            if (pthread_create(&p->threads[i], NULL, worker_main, wa) != 0) {
                free(wa);
                p->n = i; /* run with what we have */
                break;
            }
        }
    }
    return p;
}

void octo_pool_free(octo_pool *p) {
    if (!p) return;
    atomic_store(&p->stop, 1);
    pthread_mutex_lock(&p->mu);
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    for (int i = 1; i < p->n; i++) pthread_join(p->threads[i], NULL);
    free(p->threads);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    free(p);
}

int octo_pool_size(const octo_pool *p) { return p ? p->n : 1; }

void octo_pool_run(octo_pool *p, octo_task_fn fn, void *ctx) {
    if (!p || p->n == 1) {
        fn(ctx, 0, 1);
        return;
    }
    p->fn = fn;
    p->ctx = ctx;
    atomic_store_explicit(&p->n_done, 0, memory_order_relaxed);
    atomic_fetch_add_explicit(&p->generation, 1, memory_order_release);
    if (atomic_load(&p->n_sleeping) > 0) {
        pthread_mutex_lock(&p->mu);
        pthread_cond_broadcast(&p->cv);
        pthread_mutex_unlock(&p->mu);
    }
    fn(ctx, 0, p->n);
    while (atomic_load_explicit(&p->n_done, memory_order_acquire) < p->n - 1) cpu_relax();
}

void octo_pool_barrier(octo_pool *p) {
    if (!p || p->n == 1) return;
    int phase = atomic_load_explicit(&p->bar_phase, memory_order_acquire);
    if (atomic_fetch_add_explicit(&p->bar_count, 1, memory_order_acq_rel) == p->n - 1) {
        atomic_store_explicit(&p->bar_count, 0, memory_order_relaxed);
        atomic_fetch_add_explicit(&p->bar_phase, 1, memory_order_release);
        return;
    }
    while (atomic_load_explicit(&p->bar_phase, memory_order_acquire) == phase) cpu_relax();
}

void octo_split_range(long n, int ith, int nth, long align, long *lo, long *hi) {
    if (align < 1) align = 1;
    long blocks = (n + align - 1) / align;
    long b0 = blocks * ith / nth, b1 = blocks * (ith + 1) / nth;
    long a = b0 * align, b = b1 * align;
    if (a > n) a = n;
    if (b > n) b = n;
    *lo = a;
    *hi = b;
}

int octo_cpu_count(void) {
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) return CPU_COUNT(&set);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}
