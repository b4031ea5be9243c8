/* threadpool.c - fork-join pool with spin-then-sleep waits (see threadpool.h). */
#include "base/threadpool.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

/* How long an idle worker waits (spinning, then yielding) before it sleeps on
 * the condition variable: long enough to cover the gap between two runs of
 * a forward pass, short enough not to burn a core for long while the pool is
 * idle between requests (most of these iterations are sched_yield calls). */
#define SPIN_ITERS 200000

/* A waiting thread spins this many times on the flag, then yields its core
 * between checks. Without the yield, a machine with more runnable threads
 * than cores (a phone with apps in the background, a VM whose vCPUs get
 * preempted, or just one other busy process) collapses: a spinning thread
 * burns its whole time slice while the thread it waits for is not running,
 * at every barrier (a TinyLlama token has hundreds). The spin is a plain
 * load loop: a PAUSE in it (tens of cycles on recent x86) made every barrier
 * slower for no gain. Measured on TinyLlama Q4_0, 2 threads, 2 vCPUs
 * (docs/performance.md): old pause-only loop 0.8 tok/s; 4000 pause spins
 * 46.5; 20000 plain spins 48 tok/s; with one other busy process 18 vs 4.8. */
#define BARRIER_SPINS 20000

/* One step of a wait; *spins counts steps (capped, so a long wait cannot
 * overflow it). */
static void wait_yielding(int *spins) {
    if (*spins < BARRIER_SPINS) (*spins)++;
    else sched_yield();
}

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
        int spins = 0, idle = 0;
        while (atomic_load_explicit(&p->generation, memory_order_acquire) == seen &&
               !atomic_load_explicit(&p->stop, memory_order_acquire)) {
            if (++idle < SPIN_ITERS) {
                wait_yielding(&spins);
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
    int spins = 0;
    while (atomic_load_explicit(&p->n_done, memory_order_acquire) < p->n - 1) wait_yielding(&spins);
}

void octo_pool_barrier(octo_pool *p) {
    if (!p || p->n == 1) return;
    int phase = atomic_load_explicit(&p->bar_phase, memory_order_acquire);
    if (atomic_fetch_add_explicit(&p->bar_count, 1, memory_order_acq_rel) == p->n - 1) {
        atomic_store_explicit(&p->bar_count, 0, memory_order_relaxed);
        atomic_fetch_add_explicit(&p->bar_phase, 1, memory_order_release);
        return;
    }
    int spins = 0;
    while (atomic_load_explicit(&p->bar_phase, memory_order_acquire) == phase) wait_yielding(&spins);
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
