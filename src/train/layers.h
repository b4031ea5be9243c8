/* layers.h - forward and backward of every layer a decoder-only transformer
 * is made of, in F32, written out plainly (one forward and one backward
 * function per layer, as llm.c does).
 *
 * Conventions:
 *  - N = B*T token rows; activations are row-major [N][width], a row stride
 *    (ld*) where a layer reads or writes a slice of a wider buffer (q, k and
 *    v side by side in [N][qkv_dim]; gate and up in [N][2*ff]);
 *  - backward functions ADD into parameter gradients (d*W, dw, db) and into
 *    dx where noted, so residual branches and gradient accumulation need no
 *    copies; they SET the other outputs;
 *  - every function does the share ith/nth of the work given by its
 *    tl_ctx, split so that each output element is summed by one thread in a
 *    fixed order (bit-identical results run to run, whatever the thread
 *    count); the caller puts a tl_barrier between dependent calls.  A NULL
 *    pool means one thread.
 * tests/test_train_grad.c checks each backward against finite differences.
 */
#ifndef OCTO_TRAIN_LAYERS_H
#define OCTO_TRAIN_LAYERS_H

#include <stdint.h>

#include "base/threadpool.h"

typedef struct {
    octo_pool *pool; /* NULL: single-threaded */
    int ith, nth;
} tl_ctx;

void tl_barrier(const tl_ctx *c);
/* This thread's rows [*lo, *hi) of n. */
void tl_rows(const tl_ctx *c, long n, long *lo, long *hi);

/* ---- embedding ----
 * out[N][d] = E[tok[n]][:] * scale                  E: [V][d] */
void tl_embedding_forward(const tl_ctx *c, float *out, const int32_t *tok, const float *E, int N, int d, float scale);
/* dE[tok[n]] += dout[n] * scale (split by columns: no two threads touch one element) */
void tl_embedding_backward(const tl_ctx *c, float *dE, const float *dout, const int32_t *tok, int N, int d,
                           float scale);

/* ---- RMSNorm ----
 * y[N][d] = x * rstd[n] * w,  rstd[n] = 1/sqrt(mean(x[n]^2) + eps)   w: [d] */
void tl_rmsnorm_forward(const tl_ctx *c, float *y, float *rstd, const float *x, const float *w, int N, int d,
                        float eps);
/* dx[N][d] += d/dx, dw[d] += d/dw (dw may be NULL: frozen) */
void tl_rmsnorm_backward(const tl_ctx *c, float *dx, float *dw, const float *dy, const float *x, const float *w,
                         const float *rstd, int N, int d);

/* ---- linear ----
 * y[N][out] (row stride ldy) = x[N][in] W^T (+ b)    W: [out][in], b: [out] or NULL
 * (has an internal barrier when b is given) */
void tl_linear_forward(const tl_ctx *c, float *y, int64_t ldy, const float *x, int64_t ldx, const float *W,
                       const float *b, int N, int in, int out);
/* dx[N][in] += dy W (dx NULL: skip), dW[out][in] += dy^T x (NULL: skip),
 * db[out] += sum_n dy[n] (NULL: skip) */
void tl_linear_backward(const tl_ctx *c, float *dx, int64_t lddx, float *dW, float *db, const float *dy, int64_t ldy,
                        const float *x, int64_t ldx, const float *W, int N, int in, int out);

/* ---- RoPE ----
 * cs[N][n_rot]: cos of the n_rot/2 pair angles of token n's position, then
 * their sin; pair k turns by pos * base^(-2k/n_rot) * freq_scale. */
void tl_rope_angles(const tl_ctx *c, float *cs, const int32_t *pos, int N, int n_rot, float base, float freq_scale);
/* In place on x[N] rows (stride ldx) of n_heads heads of head_dim: pair k is
 * elements (2k, 2k+1), or (k, k + n_rot/2) with neox; dims >= n_rot pass. */
void tl_rope_forward(const tl_ctx *c, float *x, int64_t ldx, int N, int n_heads, int head_dim, int n_rot, int neox,
                     const float *cs);
/* The transpose (rotation by -angle), in place on the gradient. */
void tl_rope_backward(const tl_ctx *c, float *dx, int64_t ldx, int N, int n_heads, int head_dim, int n_rot, int neox,
                      const float *cs);

/* ---- causal grouped-query attention ----
 * qkv[N][qkv_dim]: q (n_head heads of head_dim) at column 0, k (n_head_kv
 * heads of head_dim) at q_dim, v (n_head_kv heads of head_dim_v) after.
 * Token i of row b sees token j of the same row iff j <= i, seg[i] == seg[j]
 * and (n_swa == 0 or pos[i] - pos[j] < n_swa); head h reads kv head
 * h / (n_head / n_head_kv). */
typedef struct {
    int B, T, n_head, n_head_kv, head_dim, head_dim_v, n_swa;
    float scale; /* on q.k (1/sqrt(head_dim)) */
} tl_attn_shape;
/* Query rows per block; both passes need scratch of
 * 2 * TL_ATT_BLOCK * T floats per thread (the T x T probabilities are
 * recomputed by the backward pass, never stored). */
#define TL_ATT_BLOCK 48
/* out[N][n_head*head_dim_v] = softmax(q k^T scale, masked) v;
 * lse[B][n_head][T]: each row's logsumexp, kept for backward. */
void tl_attention_forward(const tl_ctx *c, float *out, float *lse, const float *qkv, const int32_t *pos,
                          const int32_t *seg, const tl_attn_shape *s, float *scratch);
/* dqkv[N][qkv_dim] = gradient of q, k, v (set). */
void tl_attention_backward(const tl_ctx *c, float *dqkv, const float *dout, const float *lse, const float *qkv,
                           const int32_t *pos, const int32_t *seg, const tl_attn_shape *s, float *scratch);

/* ---- gated MLPs ----
 * gu[N][2*ff] = gate | up;  h[N][ff] = act(gate) * up
 * SwiGLU: act = SiLU; GeGLU: act = GELU, tanh approximation. */
void tl_swiglu_forward(const tl_ctx *c, float *h, const float *gu, int N, int ff);
void tl_swiglu_backward(const tl_ctx *c, float *dgu, const float *dh, const float *gu, int N, int ff);
void tl_geglu_forward(const tl_ctx *c, float *h, const float *gu, int N, int ff);
void tl_geglu_backward(const tl_ctx *c, float *dgu, const float *dh, const float *gu, int N, int ff);

/* ---- softmax cross-entropy ----
 * losses[n] = logsumexp(logits[n]) - logits[n][t[n]], 0 where t[n] < 0;
 * lse[N] keeps logsumexp for backward.                  logits: [N][V]
 * scratch: V floats per thread. */
void tl_crossentropy_forward(const tl_ctx *c, float *losses, float *lse, const float *logits, const int32_t *targets,
                             int N, int V, float *scratch);
/* dlogits[N][V] = (softmax - onehot) * dscale, 0 where t[n] < 0; may alias
 * logits (in place). */
void tl_crossentropy_backward(const tl_ctx *c, float *dlogits, const float *logits, const float *lse,
                              const int32_t *targets, int N, int V, float dscale);

/* ---- residual ----  y[N][d] += x */
void tl_add(const tl_ctx *c, float *y, const float *x, int64_t n);

#endif
