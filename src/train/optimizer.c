/* optimizer.c - AdamW, global-norm clipping and the learning-rate schedule
 * (see optimizer.h).
 *
 * PyTorch's reference (torch/optim/adamw.py, _single_tensor_adamw, the
 * path CPU tensors take), per parameter p with gradient g at step t:
 *
 *   p  = p * (1 - lr*wd)                      decoupled weight decay
 *   m  = m * beta1 + (1 - beta1) * g
 *   v  = v * beta2 + (1 - beta2) * g * g
 *   denom = sqrt(v) / sqrt(1 - beta2^t) + eps
 *   p  = p + (-lr / (1 - beta1^t)) * m / denom
 *
 * The scalars are Python floats (double) cast to F32 when they meet a
 * tensor. ATen's vectorized add_(alpha=) and addcmul_ kernels fuse their
 * multiply-add (fmadd), so the element math below uses fmaf in the same two
 * places and matches torch.optim.AdamW of python3-torch 1.13 bit for bit
 * (tests/test_optimizer.c). (Torch 2.x writes the first moment as a lerp;
 * that differs in the last bit now and then.) fmaf is correctly rounded
 * everywhere, so the bits do not depend on the CPU either; the x86-64-v3
 * (AVX2 + FMA) clones only make it fast where the instructions exist. The
 * build's ISO C mode keeps the compiler from contracting anything else.
 *
 * Work is cut into fixed chunks of CHUNK elements of one parameter. The
 * chunks are the unit of threading and of the gradient-norm partial sums, so
 * the sums are added in the same order whatever the thread count.
 */
#include "train/optimizer.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/threadpool.h"

#define CHUNK 16384

typedef struct {
    int param;
    int64_t lo, hi;
} chunk;

struct octo_adamw {
    octo_param *params;
    int n_params;
    octo_adamw_opts o;
    int64_t t;
    float **m, **v; /* [n_params][param n] first and second moments */
    chunk *chunks;
    int n_chunks;
    double *partial; /* [n_chunks] sum of squared gradients */
    octo_pool *pool;
    bool own_pool;
};

void octo_adamw_defaults(octo_adamw_opts *o) {
    o->beta1 = 0.9;
    o->beta2 = 0.999;
    o->eps = 1e-8;
    o->weight_decay = 0.0;
    o->max_grad_norm = 1.0f;
    o->n_threads = 1;
    o->pool = NULL;
}

octo_adamw *octo_adamw_new(octo_param *params, int n_params, const octo_adamw_opts *o) {
    if (o->beta1 < 0 || o->beta1 >= 1 || o->beta2 < 0 || o->beta2 >= 1 || !(o->eps >= 0) || !(o->weight_decay >= 0)) {
        octo_fail("adamw: expected 0 <= beta1, beta2 < 1, eps >= 0, weight decay >= 0 (got %g, %g, %g, %g)",
                  o->beta1, o->beta2, o->eps, o->weight_decay);
        return NULL;
    }
    octo_adamw *a = calloc(1, sizeof *a);
    if (!a) goto oom;
    a->params = params;
    a->n_params = n_params;
    a->o = *o;
    a->m = calloc((size_t)(n_params ? n_params : 1), sizeof(float *));
    a->v = calloc((size_t)(n_params ? n_params : 1), sizeof(float *));
    if (!a->m || !a->v) goto oom;
    int64_t n_chunks = 0;
    for (int i = 0; i < n_params; i++) {
        int64_t n = params[i].n;
        /* touched now, so the first step does not pay for faulting them in */
        a->m[i] = malloc((size_t)(n ? n : 1) * sizeof(float));
        a->v[i] = malloc((size_t)(n ? n : 1) * sizeof(float));
        if (!a->m[i] || !a->v[i]) goto oom;
        memset(a->m[i], 0, (size_t)n * sizeof(float));
        memset(a->v[i], 0, (size_t)n * sizeof(float));
        n_chunks += (n + CHUNK - 1) / CHUNK;
    }
    a->chunks = malloc((size_t)(n_chunks ? n_chunks : 1) * sizeof(chunk));
    a->partial = malloc((size_t)(n_chunks ? n_chunks : 1) * sizeof(double));
    if (!a->chunks || !a->partial) goto oom;
    for (int i = 0; i < n_params; i++)
        for (int64_t lo = 0; lo < params[i].n; lo += CHUNK)
            a->chunks[a->n_chunks++] = (chunk){i, lo, lo + CHUNK < params[i].n ? lo + CHUNK : params[i].n};
    if (o->pool) {
        a->pool = o->pool;
    } else if (o->n_threads > 1) {
        if (!(a->pool = octo_pool_new(o->n_threads))) goto oom;
        a->own_pool = true;
    }
    return a;
oom:
    octo_adamw_free(a);
    octo_fail("adamw: out of memory for the optimizer state");
    return NULL;
}

void octo_adamw_free(octo_adamw *a) {
    if (!a) return;
    for (int i = 0; a->m && i < a->n_params; i++) free(a->m[i]);
    for (int i = 0; a->v && i < a->n_params; i++) free(a->v[i]);
    free(a->m);
    free(a->v);
    free(a->chunks);
    free(a->partial);
    if (a->own_pool) octo_pool_free(a->pool);
    free(a);
}

int64_t octo_adamw_t(const octo_adamw *a) { return a->t; }

/* ---- the two passes, run on every thread over interleaved chunks ---- */

#if defined(__x86_64__) && !defined(OCTO_NO_SIMD) && !defined(__SANITIZE_ADDRESS__)
#define FMA_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define FMA_CLONES
#endif

typedef struct {
    octo_adamw *a;
    float clip;   /* multiply gradients by this first (1: no clipping) */
    float decay;  /* 1 - lr*wd, for parameters that decay */
    float beta1, w1; /* beta1, 1 - beta1 */
    float beta2, w2; /* beta2, 1 - beta2 */
    float bc2_sqrt, eps, neg_step_size;
} update_args;

/* Sum of squares of one chunk in 8 lanes (so it vectorizes), added up in a
 * fixed order: the same bits on every machine and thread count. */
FMA_CLONES static double sum_squares(const float *restrict g, int64_t lo, int64_t hi) {
    double acc[8] = {0};
    int64_t i = lo;
    for (; i + 8 <= hi; i += 8)
        for (int j = 0; j < 8; j++) acc[j] += (double)g[i + j] * (double)g[i + j];
    for (int j = 0; i < hi; i++, j++) acc[j] += (double)g[i] * (double)g[i];
    return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

static void norm_task(void *ctx, int ith, int nth) {
    octo_adamw *a = ctx;
    for (int c = ith; c < a->n_chunks; c += nth) {
        const chunk *ch = &a->chunks[c];
        a->partial[c] = sum_squares(a->params[ch->param].grad, ch->lo, ch->hi);
    }
}

FMA_CLONES static void update_chunk(const update_args *u, const chunk *ch) {
    octo_adamw *a = u->a;
    const float b1 = u->beta1, w1 = u->w1, b2 = u->beta2, w2 = u->w2;
    const float bc2_sqrt = u->bc2_sqrt, eps = u->eps, nss = u->neg_step_size, clip = u->clip;
    octo_param *p = &a->params[ch->param];
    float *restrict x = p->data, *restrict g = p->grad;
    float *restrict m = a->m[ch->param], *restrict v = a->v[ch->param];
    const float decay = p->decay ? u->decay : 1.0f;
    for (int64_t i = ch->lo; i < ch->hi; i++) {
        float gi = g[i] * clip;  /* clip_grad_norm_ multiplies even by 1 */
        float xi = x[i] * decay; /* mul_(1 - lr*wd), 1 without decay */
        float mi = fmaf(gi, w1, m[i] * b1);
        float vi = fmaf(w2 * gi, gi, v[i] * b2);
        float denom = sqrtf(vi) / bc2_sqrt + eps;
        x[i] = xi + nss * mi / denom;
        m[i] = mi;
        v[i] = vi;
        g[i] = 0.0f;
    }
}

static void update_task(void *ctx, int ith, int nth) {
    const update_args *u = ctx;
    for (int c = ith; c < u->a->n_chunks; c += nth) update_chunk(u, &u->a->chunks[c]);
}

static void run(octo_adamw *a, octo_task_fn fn, void *ctx) {
    if (a->pool) octo_pool_run(a->pool, fn, ctx);
    else fn(ctx, 0, 1);
}

float octo_adamw_grad_norm(octo_adamw *a) {
    run(a, norm_task, a);
    double s = 0;
    for (int c = 0; c < a->n_chunks; c++) s += a->partial[c];
    return (float)sqrt(s);
}

float octo_adamw_step(octo_adamw *a, double lr) {
    float norm = octo_adamw_grad_norm(a);
    update_args u = {.a = a, .clip = 1.0f};
    /* clip_grad_norm_: coef = max_norm / (norm + 1e-6), clamped to 1, in F32 */
    if (a->o.max_grad_norm > 0) {
        float coef = a->o.max_grad_norm / (norm + 1e-6f);
        if (coef < 1.0f) u.clip = coef;
    }
    a->t++;
    const double b1 = a->o.beta1, b2 = a->o.beta2;
    double bc1 = 1.0 - pow(b1, (double)a->t);
    double bc2 = 1.0 - pow(b2, (double)a->t);
    u.decay = a->o.weight_decay != 0 ? (float)(1.0 - lr * a->o.weight_decay) : 1.0f;
    u.beta1 = (float)b1;
    u.w1 = (float)(1.0 - b1);
    u.beta2 = (float)b2;
    u.w2 = (float)(1.0 - b2);
    u.bc2_sqrt = (float)pow(bc2, 0.5);
    u.eps = (float)a->o.eps;
    u.neg_step_size = (float)(-(lr / bc1));
    run(a, update_task, &u);
    return norm;
}

/* ---- schedule ---- */

int64_t octo_schedule_warmup_steps(const octo_schedule *s) {
    /* TrainingArguments.get_warmup_steps: math.ceil(total * ratio), in double */
    if (!(s->warmup_ratio > 0)) return 0;
    return (int64_t)ceil((double)s->total_steps * s->warmup_ratio);
}

double octo_schedule_lr(const octo_schedule *s, int64_t step) {
    int64_t warm = octo_schedule_warmup_steps(s), total = s->total_steps;
    if (step < warm) return s->lr * ((double)step / (double)(warm > 1 ? warm : 1));
    double f;
    int64_t span = total - warm > 1 ? total - warm : 1;
    switch (s->kind) {
    case OCTO_SCHED_LINEAR:
        f = (double)(total - step) / (double)span;
        break;
    case OCTO_SCHED_COSINE: {
        double progress = (double)(step - warm) / (double)span;
        f = 0.5 * (1.0 + cos(M_PI * 0.5 * 2.0 * progress));
        break;
    }
    default:
        return s->lr;
    }
    if (f < 0) f = 0;
    /* transformers' *_with_min_lr: factor * (1 - min_lr/lr) + min_lr/lr */
    if (s->min_lr > 0 && s->lr > 0) {
        double r = s->min_lr / s->lr;
        f = f * (1.0 - r) + r;
    }
    return s->lr * f;
}

int octo_sched_parse(const char *name) {
    if (!strcmp(name, "linear")) return OCTO_SCHED_LINEAR;
    if (!strcmp(name, "cosine")) return OCTO_SCHED_COSINE;
    if (!strcmp(name, "constant")) return OCTO_SCHED_CONSTANT;
    return -1;
}

const char *octo_sched_name(octo_sched_kind k) {
    return k == OCTO_SCHED_LINEAR ? "linear" : k == OCTO_SCHED_COSINE ? "cosine" : "constant";
}

/* ---- state: t, then per parameter its size, m and v ---- */

size_t octo_adamw_state_bytes(const octo_adamw *a) {
    size_t n = 16;
    for (int i = 0; i < a->n_params; i++) n += 8 + 2 * (size_t)a->params[i].n * sizeof(float);
    return n;
}

void octo_adamw_state_save(const octo_adamw *a, void *buf) {
    unsigned char *p = buf;
    int64_t hdr[2] = {a->t, a->n_params};
    memcpy(p, hdr, 16);
    p += 16;
    for (int i = 0; i < a->n_params; i++) {
        int64_t n = a->params[i].n;
        memcpy(p, &n, 8);
        p += 8;
        memcpy(p, a->m[i], (size_t)n * sizeof(float));
        p += (size_t)n * sizeof(float);
        memcpy(p, a->v[i], (size_t)n * sizeof(float));
        p += (size_t)n * sizeof(float);
    }
}

int octo_adamw_state_load(octo_adamw *a, const void *buf, size_t n) {
    /* validate everything before touching the state */
    if (n != octo_adamw_state_bytes(a))
        return octo_fail("adamw state: %zu bytes, expected %zu for these parameters", n, octo_adamw_state_bytes(a));
    const unsigned char *p = buf;
    int64_t hdr[2];
    memcpy(hdr, p, 16);
    if (hdr[0] < 0) return octo_fail("adamw state: negative step count %lld", (long long)hdr[0]);
    if (hdr[1] != a->n_params)
        return octo_fail("adamw state: %lld parameters, expected %d", (long long)hdr[1], a->n_params);
    const unsigned char *q = p + 16;
    for (int i = 0; i < a->n_params; i++) {
        int64_t pn;
        memcpy(&pn, q, 8);
        if (pn != a->params[i].n)
            return octo_fail("adamw state: parameter %d (%s) has %lld elements, expected %lld", i,
                             a->params[i].name ? a->params[i].name : "?", (long long)pn, (long long)a->params[i].n);
        q += 8 + 2 * (size_t)pn * sizeof(float);
    }
    a->t = hdr[0];
    q = p + 16;
    for (int i = 0; i < a->n_params; i++) {
        size_t bytes = (size_t)a->params[i].n * sizeof(float);
        q += 8;
        memcpy(a->m[i], q, bytes);
        q += bytes;
        memcpy(a->v[i], q, bytes);
        q += bytes;
    }
    return 0;
}
