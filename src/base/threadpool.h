/* threadpool.h - a small fork-join pool with a spinning barrier.
 *
 * A decode step of a small model is ~50 dependent matrix ops of a few
 * microseconds each, so waking threads through the kernel for every op would
 * cost more than the math.  Workers instead spin (with pause) on a generation
 * counter for a while before they sleep on a condition variable, and a whole
 * forward pass runs inside one octo_pool_run() with octo_pool_barrier() between
 * its ops, the way ggml's graph compute does.
 */
#ifndef OCTO_BASE_THREADPOOL_H
#define OCTO_BASE_THREADPOOL_H

typedef struct octo_pool octo_pool;

/* A task runs on every thread: ith in [0, nth). Thread 0 is the caller. */
typedef void (*octo_task_fn)(void *ctx, int ith, int nth);

octo_pool *octo_pool_new(int n_threads); /* n_threads >= 1; 1 means caller only */
void octo_pool_free(octo_pool *p);
int octo_pool_size(const octo_pool *p);

/* Run fn on all threads and wait for all of them to return. */
void octo_pool_run(octo_pool *p, octo_task_fn fn, void *ctx);

/* Inside a task: wait until every thread of the pool reaches this point. */
void octo_pool_barrier(octo_pool *p);

/* Split [0, n) into nth nearly equal parts; part ith is [*lo, *hi).
 * `align` rounds the split points to multiples of it (e.g. a tile size). */
void octo_split_range(long n, int ith, int nth, long align, long *lo, long *hi);

/* Number of CPUs this process may run on. */
int octo_cpu_count(void);

#endif
