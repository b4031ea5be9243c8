/* layers.c - forward and backward of the per-token layers (see layers.h):
 * embedding, RMSNorm, linear, RoPE, SwiGLU/GeGLU, cross-entropy.
 * Attention is in layers_attention.c. */
#include "train/layers.h"

#include <math.h>
#include <string.h>

#include "tensor/gemm_f32.h"
#include "tensor/ops.h"

void tl_barrier(const tl_ctx *c) {
    if (c->pool && c->nth > 1) octo_pool_barrier(c->pool);
}

void tl_rows(const tl_ctx *c, long n, long *lo, long *hi) { octo_split_range(n, c->ith, c->nth, 1, lo, hi); }

/* ---- embedding ---- */

void tl_embedding_forward(const tl_ctx *c, float *out, const int32_t *tok, const float *E, int N, int d, float scale) {
    long lo, hi;
    tl_rows(c, N, &lo, &hi);
    for (long n = lo; n < hi; n++) {
        const float *e = E + (size_t)tok[n] * d;
        float *o = out + (size_t)n * d;
        for (int j = 0; j < d; j++) o[j] = e[j] * scale;
    }
}

void tl_embedding_backward(const tl_ctx *c, float *dE, const float *dout, const int32_t *tok, int N, int d,
                           float scale) {
    /* split by columns, tokens in order: a repeated token sums in one order */
    long lo, hi;
    octo_split_range(d, c->ith, c->nth, 16, &lo, &hi);
    for (int n = 0; n < N; n++) {
        float *de = dE + (size_t)tok[n] * d;
        const float *g = dout + (size_t)n * d;
        for (long j = lo; j < hi; j++) de[j] += g[j] * scale;
    }
}

/* ---- RMSNorm ---- */

void tl_rmsnorm_forward(const tl_ctx *c, float *y, float *rstd, const float *x, const float *w, int N, int d,
                        float eps) {
    long lo, hi;
    tl_rows(c, N, &lo, &hi);
    for (long n = lo; n < hi; n++) {
        const float *xr = x + (size_t)n * d;
        float *yr = y + (size_t)n * d;
        double ss = 0;
        for (int j = 0; j < d; j++) ss += (double)xr[j] * xr[j];
        float r = 1.0f / sqrtf((float)(ss / d) + eps);
        rstd[n] = r;
        for (int j = 0; j < d; j++) yr[j] = xr[j] * r * w[j];
    }
}

/* With xh = x * rstd:  dx = rstd * (dy*w - xh * mean(dy*w*xh)),  dw = sum_n dy * xh. */
void tl_rmsnorm_backward(const tl_ctx *c, float *dx, float *dw, const float *dy, const float *x, const float *w,
                         const float *rstd, int N, int d) {
    long lo, hi;
    tl_rows(c, N, &lo, &hi);
    for (long n = lo; n < hi; n++) {
        const float *xr = x + (size_t)n * d, *g = dy + (size_t)n * d;
        float *o = dx + (size_t)n * d;
        float r = rstd[n];
        double dot = 0;
        for (int j = 0; j < d; j++) dot += (double)(g[j] * w[j]) * (xr[j] * r);
        float m = (float)(dot / d);
        for (int j = 0; j < d; j++) o[j] += r * (g[j] * w[j] - xr[j] * r * m);
    }
    if (!dw) return;
    octo_split_range(d, c->ith, c->nth, 16, &lo, &hi);
    for (int n = 0; n < N; n++) {
        const float *xr = x + (size_t)n * d, *g = dy + (size_t)n * d;
        float r = rstd[n];
        for (long j = lo; j < hi; j++) dw[j] += g[j] * (xr[j] * r);
    }
}

/* ---- linear ---- */

static void bias_add(const tl_ctx *c, float *y, int64_t ldy, const float *b, int N, int out) {
    long lo, hi;
    tl_rows(c, N, &lo, &hi);
    for (long n = lo; n < hi; n++)
        for (int j = 0; j < out; j++) y[n * ldy + j] += b[j];
}

void tl_linear_forward(const tl_ctx *c, float *y, int64_t ldy, const float *x, int64_t ldx, const float *W,
                       const float *b, int N, int in, int out) {
    octo_sgemm_args g = {.trans_b = 1, .M = N, .N = out, .K = in, .A = x, .lda = ldx, .B = W, .ldb = in,
                         .C = y, .ldc = ldy, .alpha = 1.0f};
    octo_sgemm_part(&g, c->ith, c->nth);
    if (b) {
        tl_barrier(c);
        bias_add(c, y, ldy, b, N, out);
    }
}

void tl_linear_backward(const tl_ctx *c, float *dx, int64_t lddx, float *dW, float *db, const float *dy, int64_t ldy,
                        const float *x, int64_t ldx, const float *W, int N, int in, int out) {
    if (dx) {
        octo_sgemm_args g = {.M = N, .N = in, .K = out, .A = dy, .lda = ldy, .B = W, .ldb = in, .C = dx,
                             .ldc = lddx, .alpha = 1.0f, .accumulate = 1};
        octo_sgemm_part(&g, c->ith, c->nth);
    }
    if (dW) {
        octo_sgemm_args g = {.trans_a = 1, .M = out, .N = in, .K = N, .A = dy, .lda = ldy, .B = x, .ldb = ldx,
                             .C = dW, .ldc = in, .alpha = 1.0f, .accumulate = 1};
        octo_sgemm_part(&g, c->ith, c->nth);
    }
    if (db) {
        long lo, hi;
        octo_split_range(out, c->ith, c->nth, 16, &lo, &hi);
        for (int n = 0; n < N; n++)
            for (long j = lo; j < hi; j++) db[j] += dy[n * ldy + j];
    }
}

/* ---- RoPE ---- */

void tl_rope_angles(const tl_ctx *c, float *cs, const int32_t *pos, int N, int n_rot, float base, float freq_scale) {
    int np = n_rot / 2;
    /* the angle as ggml forms it: a running product in float */
    float theta_scale = powf(base, -2.0f / (float)n_rot);
    long lo, hi;
    tl_rows(c, N, &lo, &hi);
    for (long n = lo; n < hi; n++) {
        float *cr = cs + (size_t)n * n_rot, *sr = cr + np;
        float theta = (float)pos[n];
        for (int k = 0; k < np; k++) {
            float a = freq_scale * theta;
            cr[k] = cosf(a);
            sr[k] = sinf(a);
            theta *= theta_scale;
        }
    }
}

static void rope_rows(const tl_ctx *c, float *x, int64_t ldx, int N, int n_heads, int head_dim, int n_rot, int neox,
                      const float *cs, float sign) {
    int np = n_rot / 2;
    long lo, hi;
    tl_rows(c, N, &lo, &hi);
    for (long n = lo; n < hi; n++) {
        const float *cr = cs + (size_t)n * n_rot, *sr = cr + np;
        for (int h = 0; h < n_heads; h++) {
            float *v = x + n * ldx + (int64_t)h * head_dim;
            for (int k = 0; k < np; k++) {
                int i0 = neox ? k : 2 * k, i1 = neox ? k + np : 2 * k + 1;
                float co = cr[k], si = sign * sr[k];
                float x0 = v[i0], x1 = v[i1];
                v[i0] = x0 * co - x1 * si;
                v[i1] = x0 * si + x1 * co;
            }
        }
    }
}

void tl_rope_forward(const tl_ctx *c, float *x, int64_t ldx, int N, int n_heads, int head_dim, int n_rot, int neox,
                     const float *cs) {
    rope_rows(c, x, ldx, N, n_heads, head_dim, n_rot, neox, cs, 1.0f);
}

void tl_rope_backward(const tl_ctx *c, float *dx, int64_t ldx, int N, int n_heads, int head_dim, int n_rot, int neox,
                      const float *cs) {
    rope_rows(c, dx, ldx, N, n_heads, head_dim, n_rot, neox, cs, -1.0f);
}

/* ---- gated MLPs ---- */

void tl_swiglu_forward(const tl_ctx *c, float *h, const float *gu, int N, int ff) {
    long lo, hi;
    tl_rows(c, N, &lo, &hi);
    for (long n = lo; n < hi; n++) {
        const float *g = gu + (size_t)n * 2 * ff, *u = g + ff;
        float *o = h + (size_t)n * ff;
        octo_silu_f32(o, g, ff);
        for (int j = 0; j < ff; j++) o[j] *= u[j];
    }
}

/* silu'(g) = s (1 + g (1 - s)), s = sigmoid(g) = e / (1 + e), e = exp(g) */
void tl_swiglu_backward(const tl_ctx *c, float *dgu, const float *dh, const float *gu, int N, int ff) {
    long lo, hi;
    tl_rows(c, N, &lo, &hi);
    for (long n = lo; n < hi; n++) {
        const float *g = gu + (size_t)n * 2 * ff, *u = g + ff, *d = dh + (size_t)n * ff;
        float *dg = dgu + (size_t)n * 2 * ff, *du = dg + ff;
        octo_exp_sum_f32(dg, g, 0.0f, ff); /* dg = exp(g) for now */
        for (int j = 0; j < ff; j++) {
            float e = dg[j];
            float s = e > 1e30f ? 1.0f : e / (1.0f + e);
            du[j] = d[j] * g[j] * s;
            dg[j] = d[j] * u[j] * s * (1.0f + g[j] * (1.0f - s));
        }
    }
}

#define GELU_K 0.7978845608028654f /* sqrt(2/pi) */
#define GELU_C 0.044715f

void tl_geglu_forward(const tl_ctx *c, float *h, const float *gu, int N, int ff) {
    long lo, hi;
    tl_rows(c, N, &lo, &hi);
    for (long n = lo; n < hi; n++) {
        const float *g = gu + (size_t)n * 2 * ff, *u = g + ff;
        float *o = h + (size_t)n * ff;
        for (int j = 0; j < ff; j++) {
            float x = g[j];
            o[j] = 0.5f * x * (1.0f + tanhf(GELU_K * (x + GELU_C * x * x * x))) * u[j];
        }
    }
}

/* gelu'(x) = 0.5 (1 + t) + 0.5 x (1 - t^2) k (1 + 3 c x^2),  t = tanh(k (x + c x^3)) */
void tl_geglu_backward(const tl_ctx *c, float *dgu, const float *dh, const float *gu, int N, int ff) {
    long lo, hi;
    tl_rows(c, N, &lo, &hi);
    for (long n = lo; n < hi; n++) {
        const float *g = gu + (size_t)n * 2 * ff, *u = g + ff, *d = dh + (size_t)n * ff;
        float *dg = dgu + (size_t)n * 2 * ff, *du = dg + ff;
        for (int j = 0; j < ff; j++) {
            float x = g[j];
            float t = tanhf(GELU_K * (x + GELU_C * x * x * x));
            float gelu = 0.5f * x * (1.0f + t);
            float dgelu = 0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * GELU_K * (1.0f + 3.0f * GELU_C * x * x);
            du[j] = d[j] * gelu;
            dg[j] = d[j] * u[j] * dgelu;
        }
    }
}

/* ---- softmax cross-entropy ---- */

static float row_max(const float *x, int n) {
    /* 16 running maxima, so the loop vectorizes */
    float m[16];
    for (int l = 0; l < 16; l++) m[l] = -INFINITY;
    int j = 0;
    for (; j + 16 <= n; j += 16)
        for (int l = 0; l < 16; l++) m[l] = x[j + l] > m[l] ? x[j + l] : m[l];
    for (; j < n; j++) m[0] = x[j] > m[0] ? x[j] : m[0];
    float r = m[0];
    for (int l = 1; l < 16; l++) r = m[l] > r ? m[l] : r;
    return r;
}

void tl_crossentropy_forward(const tl_ctx *c, float *losses, float *lse, const float *logits, const int32_t *targets,
                             int N, int V, float *scratch) {
    float *e = scratch + (size_t)c->ith * V;
    long lo, hi;
    tl_rows(c, N, &lo, &hi);
    for (long n = lo; n < hi; n++) {
        const float *l = logits + (size_t)n * V;
        if (targets[n] < 0) {
            losses[n] = 0.0f;
            lse[n] = 0.0f;
            continue;
        }
        float mx = row_max(l, V);
        double s = octo_exp_sum_f32(e, l, mx, V);
        float z = mx + (float)log(s);
        lse[n] = z;
        losses[n] = z - l[targets[n]];
    }
}

void tl_crossentropy_backward(const tl_ctx *c, float *dlogits, const float *logits, const float *lse,
                              const int32_t *targets, int N, int V, float dscale) {
    long lo, hi;
    tl_rows(c, N, &lo, &hi);
    for (long n = lo; n < hi; n++) {
        const float *l = logits + (size_t)n * V;
        float *d = dlogits + (size_t)n * V;
        if (targets[n] < 0) {
            memset(d, 0, (size_t)V * sizeof(float));
            continue;
        }
        float lt = l[targets[n]];
        octo_exp_sum_f32(d, l, lse[n], V); /* softmax */
        octo_scale_f32(d, dscale, V);
        d[targets[n]] = expf(lt - lse[n]) * dscale - dscale;
    }
}

void tl_add(const tl_ctx *c, float *y, const float *x, int64_t n) {
    long lo, hi;
    octo_split_range((long)n, c->ith, c->nth, 64, &lo, &hi);
    for (long i = lo; i < hi; i++) y[i] += x[i];
}
