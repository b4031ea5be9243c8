/* forward.c - the inference forward pass with a KV cache.
 *
 * A decode call runs a batch of B tokens through the model inside ONE
 * parallel region: every thread walks the same sequence of ops, takes its
 * share of each (rows of a weight, tokens, or (token, head) pairs) and meets
 * the others at a barrier before the next op needs the result.  That keeps
 * the per-token overhead of small models to a few microseconds of barriers
 * instead of thread wake-ups.
 *
 * Per layer (x is the residual stream, [B][n_embd]):
 *   xn = rmsnorm(x) * attn_norm
 *   q, k, v = xn Wq (+bq), xn Wk (+bk), xn Wv (+bv)      (or one fused Wqkv)
 *   rope(q, k); append k, v to the cache at positions pos0 .. pos0+B-1
 *   a = softmax(q k^T * scale, causal [, sliding window]) v   per head (GQA)
 *   x += a Wo
 *   xn = rmsnorm(x) * ffn_norm
 *   x += (act(xn Wgate) * (xn Wup)) Wdown                   (act: SiLU or GELU)
 * then logits = rmsnorm(x) * output_norm Wout for the rows that need them.
 *
 * LoRA adapters (octo_ctx_set_adapters) add y += scale * B (A x) after each
 * adapted product, batched and threaded like the product itself; with none
 * set, the only cost is one pointer test per product.
 */
#include <math.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "adapter/lora.h"
#include "base/error.h"
#include "model/model.h"
#include "tensor/ops.h"

/* All adapters of one weight [rows][cols], stacked along the rank:
 *   a:  [R][cols] (the A_i one under the other),
 *   bt: [R][rows] (B transposed: the B_i^T one under the other, each times
 *       its scale),
 * so that sum_i s_i B_i (A_i x) = bt^T (a x): a product, then R axpys. */
typedef struct {
    int R; /* 0: the weight is not adapted */
    float *a, *bt;
} lora_slot;

/* Slots: 8 per layer in the order of k_slot_fields, then output. */
#define LORA_SLOTS_PER_LAYER 8
static const size_t k_slot_fields[LORA_SLOTS_PER_LAYER] = {
    offsetof(octo_layer, wq), offsetof(octo_layer, wk),     offsetof(octo_layer, wv),   offsetof(octo_layer, wqkv),
    offsetof(octo_layer, wo), offsetof(octo_layer, w_gate), offsetof(octo_layer, w_up), offsetof(octo_layer, w_down),
};

struct octo_ctx {
    octo_model *m;
    octo_pool *pool;
    int n_ctx, n_batch, n_past;
    int kv_stride; /* cache rows per layer: n_ctx rounded up to 32 (attention reads padded rows) */
    /* KV cache in F16, as llama.cpp keeps it by default (half the memory of
     * F32, and the same rounding, so results agree with the ecosystem's):
     *   K: [n_layer][kv_stride][n_head_kv * head_dim]    one row per position
     *   V: [n_layer][n_head_kv * head_dim_v][kv_stride]  transposed, so that
     *      softmax(qK^T) V is a dot product per output element */
    octo_f16 *k_cache, *v_cache;
    octo_f16 *att_f16; /* per-thread scratch: q and probabilities as F16, [n_threads][head_dim + kv_stride] */
    int64_t kv_k_dim, kv_v_dim;
    /* scratch, sized for n_batch tokens */
    float *x, *xn, *qkv, *att, *ffn, *h;
    float *scores; /* [n_threads][kv_stride] */
    void *xq;
    size_t xq_size;
    float theta_scale; /* base^(-2/n_rot) */
    float *rope_cs;    /* [n_batch][cos(n_rot/2), sin(n_rot/2)] of the tokens in flight */
    float kq_scale;    /* 1/sqrt(head_dim) */
    /* logits */
    float *logits;   /* [logits_cap][n_vocab]: one row unless all logits were asked for */
    int logits_cap;
    int n_logits;    /* rows valid in logits */
    int logits_first; /* token index of logits row 0 within the last decode */
    int last_n;       /* tokens in the last decode */
    /* adapters: NULL when none is set */
    lora_slot *lora;  /* [n_layer * LORA_SLOTS_PER_LAYER + 1] */
    float *lora_t;    /* [n_batch][sum of R over a group] : A x */
};

/* ------------------------------------------------------------------ */
/* per-op kernels, each working on its share [lo, hi) of rows          */

/* y = x / sqrt(mean(x^2) + eps) * w, row by row. Sum in double as ggml. */
static void rmsnorm_rows(float *y, const float *x, const float *w, int64_t d, float eps, long lo, long hi) {
    for (long r = lo; r < hi; r++) {
        const float *xr = x + r * d;
        float *yr = y + r * d;
        double ss = 0;
        for (int64_t i = 0; i < d; i++) ss += (double)(xr[i] * xr[i]);
        float mean = (float)(ss / (double)d);
        float scale = 1.0f / sqrtf(mean + eps);
        for (int64_t i = 0; i < d; i++) yr[i] = xr[i] * scale * w[i];
    }
}

/* cos and sin of the rotary angles of one position: pair k turns by
 * pos * base^(-2k/n_rot) * freq_scale, the angle computed as ggml does (a
 * running product in float) so that rounding agrees with llama.cpp.  The
 * same for every head and layer, so computed once per token. */
static void rope_angles(float *cs, float *sn, int n_pairs, float theta_scale, float freq_scale, float pos) {
    float theta = pos;
    for (int k = 0; k < n_pairs; k++) {
        float angle = freq_scale * theta;
        cs[k] = cosf(angle);
        sn[k] = sinf(angle);
        theta *= theta_scale;
    }
}

static float gelu_tanh(float x) {
    const float k = 0.7978845608028654f; /* sqrt(2/pi) */
    return 0.5f * x * (1.0f + tanhf(k * x * (1.0f + 0.044715f * x * x)));
}

/* GELU through a table over all F16 inputs, as ggml computes it: the input
 * is rounded to F16 and the output is F16.  Built once, 128 KiB. */
static octo_f16 g_gelu_table[1 << 16];
static pthread_once_t g_gelu_once = PTHREAD_ONCE_INIT;
static void gelu_table_init(void) {
    for (int i = 0; i < (1 << 16); i++) g_gelu_table[i] = octo_f32_to_f16(gelu_tanh(octo_f16_to_f32((octo_f16)i)));
}
static float gelu(float x) {
    if (x <= -10.0f) return 0.0f;
    if (x >= 10.0f) return x;
    return octo_f16_to_f32(g_gelu_table[octo_f32_to_f16(x)]);
}

/* ------------------------------------------------------------------ */

typedef struct {
    octo_ctx *c;
    const int32_t *tokens;
    int n;        /* tokens in this chunk */
    int pos0;     /* position of tokens[0] */
    int out_first, out_n; /* rows (within the chunk) whose logits are wanted */
} fwd_task;

/* Convert src ([n][K] F32) into xq for weights of type wt. All threads call
 * it with the same arguments; rows are split among them. */
static void prepare_xq(fwd_task *t, octo_pool *pool, const float *src, int64_t K, int n, octo_type wt, int ith,
                       int nth) {
    long lo, hi;
    octo_split_range(n, ith, nth, 1, &lo, &hi);
    if (hi > lo) octo_matmul_prepare(wt, src, K, lo, hi, K, t->c->xq);
    octo_pool_barrier(pool);
}

/* Slot of a weight of the model (&layer.field or &output), -1 if none. */
static int weight_slot(const octo_model *m, const octo_weight *w) {
    if (w == &m->output) return m->hp.n_layer * LORA_SLOTS_PER_LAYER;
    uintptr_t p = (uintptr_t)w, base = (uintptr_t)m->layers;
    if (p < base || p >= base + (uintptr_t)m->hp.n_layer * sizeof(octo_layer)) return -1;
    size_t il = (p - base) / sizeof(octo_layer), f = (p - base) % sizeof(octo_layer);
    for (int k = 0; k < LORA_SLOTS_PER_LAYER; k++)
        if (f == k_slot_fields[k]) return (int)il * LORA_SLOTS_PER_LAYER + k;
    return -1;
}

/* After the products of a group: y_k += bt_k^T (a_k x) for its adapted
 * weights.  First every u = a_k x ([M][R_k], rows of a_k shared among the
 * threads), a barrier, then each thread adds sum_r u[m][r] bt_k[r] to its
 * own columns of y: R axpys per token over rows that stay in cache. */
static void lora_group(fwd_task *t, octo_pool *pool, const octo_weight *const *ws, const int64_t *offs, int count,
                       const float *x, int M, float *y, int64_t y_stride, int ith, int nth) {
    octo_ctx *c = t->c;
    const lora_slot *s[4] = {0};
    float *ax[4] = {0};
    float *p = c->lora_t;
    int any = 0;
    for (int k = 0; k < count && k < 4; k++) {
        int i = weight_slot(c->m, ws[k]);
        if (i < 0 || c->lora[i].R == 0) continue;
        s[k] = &c->lora[i];
        ax[k] = p;
        p += (size_t)M * s[k]->R;
        any = 1;
    }
    if (!any) return;
    long lo, hi;
    for (int k = 0; k < count && k < 4; k++) {
        if (!s[k]) continue;
        int64_t K = ws[k]->cols;
        octo_split_range(s[k]->R, ith, nth, 1, &lo, &hi);
        /* x rows are K contiguous floats: already the F32 product's input layout */
        if (hi > lo) octo_matmul(OCTO_TYPE_F32, s[k]->a, (size_t)K * sizeof(float), lo, hi, K, x, M, ax[k], s[k]->R);
    }
    octo_pool_barrier(pool);
    for (int k = 0; k < count && k < 4; k++) {
        if (!s[k]) continue;
        int R = s[k]->R;
        int64_t rows = ws[k]->rows;
        octo_split_range(rows, ith, nth, 16, &lo, &hi);
        if (hi <= lo) continue;
        for (int m = 0; m < M; m++) {
            float *ym = y + (size_t)m * y_stride + offs[k] + lo;
            const float *u = ax[k] + (size_t)m * R;
            for (int r = 0; r < R; r++) octo_axpy_f32(ym, u[r], s[k]->bt + (size_t)r * rows + lo, hi - lo);
        }
    }
    octo_pool_barrier(pool);
}

/* y_k = x W_k^T for a group of weights that read the same input x ([M][K])
 * and write side by side into y (column offset offs[k], row stride
 * y_stride): q/k/v, or gate/up.  The input is converted once per distinct
 * vec_dot_type; every thread takes its share of each weight's rows. Ends
 * with a barrier. */
static void linear_group(fwd_task *t, octo_pool *pool, const octo_weight *const *ws, const int64_t *offs, int count,
                         const float *x, int M, float *y, int64_t y_stride, int ith, int nth) {
    int have = -1;
    for (int k = 0; k < count; k++) {
        const octo_weight *w = ws[k];
        int vdt = octo_type_info(w->type)->vec_dot_type;
        if (vdt != have) {
            if (have != -1) octo_pool_barrier(pool); /* others may still read xq */
            prepare_xq(t, pool, x, w->cols, M, w->type, ith, nth);
            have = vdt;
        }
        long lo, hi;
        octo_split_range(w->rows, ith, nth, 16, &lo, &hi);
        if (hi <= lo) continue;
        if (w->packed)
            octo_matmul_q4_0_packed(w->packed, w->row_bytes, lo, hi, w->cols, t->c->xq, M, y + offs[k], y_stride);
        else
            octo_matmul(w->type, w->data, w->row_bytes, lo, hi, w->cols, t->c->xq, M, y + offs[k], y_stride);
    }
    octo_pool_barrier(pool);
    if (t->c->lora) lora_group(t, pool, ws, offs, count, x, M, y, y_stride, ith, nth);
}

static void linear(fwd_task *t, octo_pool *pool, const octo_weight *w, const float *x, int M, float *y,
                   int64_t y_stride, int ith, int nth) {
    const int64_t off = 0;
    linear_group(t, pool, &w, &off, 1, x, M, y, y_stride, ith, nth);
}

/* One (token, head) pair at a time:
 *   s_j = (q . k_j) * scale for the positions j the token may see,
 *   p = softmax(s), out = sum_j p_j v_j.
 * As in llama.cpp, q and p are rounded to F16 before their products with the
 * F16 cache, and the rows run over the cached positions padded to a multiple
 * of 32 (the padding and positions a sliding window hides have p = 0).  The
 * p.V products sum in the order of ggml's batched product (one 16-lane
 * accumulator) for batches, and of its vector dot (four accumulators) for a
 * single token, which is what llama.cpp runs in each case. */
static void attention(fwd_task *t, int il, int ith, int nth) {
    octo_ctx *c = t->c;
    const octo_hparams *hp = &c->m->hp;
    int n = t->n, hd = hp->head_dim, hdv = hp->head_dim_v, nh = hp->n_head;
    int group = hp->n_head / hp->n_head_kv;
    int64_t q_dim = (int64_t)nh * hd, qkv_dim = q_dim + c->kv_k_dim + c->kv_v_dim;
    /* phi3 and gemma scale q before the product (so it is rounded scaled) */
    float scale = hp->q_prescale ? 1.0f : c->kq_scale;
    const int stride = c->kv_stride;
    const octo_f16 *kc = c->k_cache + (size_t)il * stride * c->kv_k_dim;
    const octo_f16 *vt = c->v_cache + (size_t)il * stride * c->kv_v_dim;
    float *sc = c->scores + (size_t)ith * stride;
    octo_f16 *q16 = c->att_f16 + (size_t)ith * (stride + hd), *p16 = q16 + hd;
    long lo, hi;
    octo_split_range((long)n * nh, ith, nth, 1, &lo, &hi);
    for (long job = lo; job < hi; job++) {
        int i = (int)(job / nh), h = (int)(job % nh), kvh = h / group;
        int pos = t->pos0 + i;
        int j0 = 0;
        if (hp->n_swa > 0 && pos - hp->n_swa + 1 > 0) j0 = pos - hp->n_swa + 1;
        int n_kv = (pos + 1 + 31) / 32 * 32; /* <= stride: the cache is allocated in multiples of 32 */
        const float *q = c->qkv + (size_t)i * qkv_dim + (size_t)h * hd;
        octo_matmul_prepare(OCTO_TYPE_F16, q, hd, 0, 1, hd, q16);
        for (int j = 0; j < j0; j++) sc[j] = -INFINITY;
        float mx = -INFINITY;
        for (int j = j0; j <= pos; j++) {
            sc[j] = octo_dot_f16(kc + (size_t)j * c->kv_k_dim + (size_t)kvh * hd, q16, hd) * scale;
            if (sc[j] > mx) mx = sc[j];
        }
        float inv = (float)(1.0 / octo_exp_sum_f32(sc, sc, mx, pos + 1));
        for (int j = 0; j <= pos; j++) sc[j] *= inv;
        for (int j = pos + 1; j < n_kv; j++) sc[j] = 0.0f;
        octo_matmul_prepare(OCTO_TYPE_F16, sc, n_kv, 0, 1, n_kv, p16);
        float *out = c->att + (size_t)i * nh * hdv + (size_t)h * hdv;
        const octo_f16 *vrow = vt + (size_t)kvh * hdv * stride;
        for (int e = 0; e < hdv; e++) {
            const octo_f16 *v = vrow + (size_t)e * stride;
            out[e] = n >= 2 ? octo_dot_f16_lanes16(v, p16, n_kv) : octo_dot_f16(v, p16, n_kv);
        }
    }
}

static void forward_task(void *arg, int ith, int nth) {
    fwd_task *t = arg;
    octo_ctx *c = t->c;
    octo_model *m = c->m;
    const octo_hparams *hp = &m->hp;
    octo_pool *pool = c->pool;
    const int n = t->n;
    const int64_t d = hp->n_embd, ff = hp->n_ff;
    const int64_t q_dim = (int64_t)hp->n_head * hp->head_dim, k_dim = c->kv_k_dim, v_dim = c->kv_v_dim;
    const int64_t qkv_dim = q_dim + k_dim + v_dim;
    long lo, hi;

    /* embeddings, and each token's rotary angles */
    octo_split_range(n, ith, nth, 1, &lo, &hi);
    for (long i = lo; i < hi; i++) {
        float *cs = c->rope_cs + (size_t)i * hp->n_rot;
        rope_angles(cs, cs + hp->n_rot / 2, hp->n_rot / 2, c->theta_scale, hp->rope_freq_scale, (float)(t->pos0 + i));
        const uint8_t *row = (const uint8_t *)m->tok_embd.data + (size_t)t->tokens[i] * m->tok_embd.row_bytes;
        octo_dequantize_row(m->tok_embd.type, row, c->x + i * d, d);
        if (hp->embd_scale != 1.0f) octo_scale_f32(c->x + i * d, hp->embd_scale, d);
    }
    octo_pool_barrier(pool);

    for (int il = 0; il < hp->n_layer; il++) {
        const octo_layer *L = &m->layers[il];
        /* attention block */
        octo_split_range(n, ith, nth, 1, &lo, &hi);
        rmsnorm_rows(c->xn, c->x, L->attn_norm, d, hp->norm_eps, lo, hi);
        octo_pool_barrier(pool);
        if (L->fused_qkv) {
            linear(t, pool, &L->wqkv, c->xn, n, c->qkv, qkv_dim, ith, nth);
        } else {
            /* q, k, v land side by side in one [n][qkv_dim] buffer */
            const octo_weight *ws[3] = {&L->wq, &L->wk, &L->wv};
            const int64_t offs[3] = {0, q_dim, q_dim + k_dim};
            linear_group(t, pool, ws, offs, 3, c->xn, n, c->qkv, qkv_dim, ith, nth);
        }
        /* biases, rope, cache append: per token */
        octo_split_range(n, ith, nth, 1, &lo, &hi);
        for (long i = lo; i < hi; i++) {
            float *q = c->qkv + i * qkv_dim, *k = q + q_dim, *v = k + k_dim;
            if (L->bq)
                for (int64_t j = 0; j < q_dim; j++) q[j] += L->bq[j];
            if (L->bk)
                for (int64_t j = 0; j < k_dim; j++) k[j] += L->bk[j];
            if (L->bv)
                for (int64_t j = 0; j < v_dim; j++) v[j] += L->bv[j];
            const int np = hp->n_rot / 2;
            const float *cs = c->rope_cs + (size_t)i * 2 * np, *sn = cs + np;
            for (int h = 0; h < hp->n_head; h++) octo_rope_f32(q + (size_t)h * hp->head_dim, cs, sn, np, hp->rope_neox);
            if (hp->q_prescale)
                for (int64_t j = 0; j < q_dim; j++) q[j] *= c->kq_scale;
            for (int h = 0; h < hp->n_head_kv; h++)
                octo_rope_f32(k + (size_t)h * hp->head_dim, cs, sn, np, hp->rope_neox);
            size_t p = (size_t)(t->pos0 + i), layer = (size_t)il * c->kv_stride;
            octo_f16 *kdst = c->k_cache + (layer + p) * k_dim;
            for (int64_t j = 0; j < k_dim; j++) kdst[j] = octo_f32_to_f16(k[j]);
            octo_f16 *vdst = c->v_cache + layer * v_dim + p;
            for (int64_t j = 0; j < v_dim; j++) vdst[(size_t)j * c->kv_stride] = octo_f32_to_f16(v[j]);
        }
        octo_pool_barrier(pool);
        attention(t, il, ith, nth);
        octo_pool_barrier(pool);
        /* output projection into xn (free now) */
        linear(t, pool, &L->wo, c->att, n, c->xn, d, ith, nth);
        /* The last layer's output is needed only for the rows that give
         * logits (none for a chunk before the last), so, as llama.cpp does,
         * the rest of it runs on those rows alone: rows [r0, r0 + rn). */
        const int r0 = il == hp->n_layer - 1 ? t->out_first : 0;
        const int rn = il == hp->n_layer - 1 ? t->out_n : n;
        if (rn == 0) break;
        float *xr = c->x + (size_t)r0 * d;
        const float *ar = c->xn + (size_t)r0 * d;
        octo_split_range(rn, ith, nth, 1, &lo, &hi);
        for (long i = lo; i < hi; i++)
            for (int64_t j = 0; j < d; j++) xr[i * d + j] += ar[i * d + j];
        octo_pool_barrier(pool);

        /* feed-forward block */
        rmsnorm_rows(c->xn, xr, L->ffn_norm, d, hp->norm_eps, lo, hi);
        octo_pool_barrier(pool);
        /* gate in ffn[:, 0:ff), up in ffn[:, ff:2ff) (phi3's fused layout) */
        if (L->fused_gate_up) {
            linear(t, pool, &L->w_up, c->xn, rn, c->ffn, 2 * ff, ith, nth);
        } else {
            const octo_weight *ws[2] = {&L->w_gate, &L->w_up};
            const int64_t offs[2] = {0, ff};
            linear_group(t, pool, ws, offs, 2, c->xn, rn, c->ffn, 2 * ff, ith, nth);
        }
        octo_split_range(rn, ith, nth, 1, &lo, &hi);
        for (long i = lo; i < hi; i++) {
            const float *g = c->ffn + i * 2 * ff, *u = g + ff;
            float *hr = c->h + i * ff;
            if (hp->act == OCTO_ACT_GELU) {
                for (int64_t j = 0; j < ff; j++) hr[j] = gelu(g[j]) * u[j];
            } else {
                octo_silu_f32(hr, g, ff);
                for (int64_t j = 0; j < ff; j++) hr[j] *= u[j];
            }
        }
        octo_pool_barrier(pool);
        linear(t, pool, &L->w_down, c->h, rn, c->xn, d, ith, nth);
        octo_split_range(rn, ith, nth, 1, &lo, &hi);
        for (long i = lo; i < hi; i++)
            for (int64_t j = 0; j < d; j++) xr[i * d + j] += c->xn[i * d + j];
        octo_pool_barrier(pool);
    }

    /* final norm and logits for rows [out_first, out_first + out_n) */
    if (t->out_n > 0) {
        octo_split_range(t->out_n, ith, nth, 1, &lo, &hi);
        rmsnorm_rows(c->xn, c->x + (size_t)t->out_first * d, m->output_norm, d, hp->norm_eps, lo, hi);
        octo_pool_barrier(pool);
        linear(t, pool, &m->output, c->xn, t->out_n, c->logits + (size_t)c->n_logits * hp->n_vocab, hp->n_vocab,
               ith, nth);
    }
}

/* ------------------------------------------------------------------ */

octo_ctx *octo_ctx_new(octo_model *m, const octo_ctx_params *p) {
    const octo_hparams *hp = &m->hp;
    if (octo_model_pack(m)) return NULL;
    octo_ctx *c = calloc(1, sizeof *c);
    if (!c) {
        octo_fail("out of memory");
        return NULL;
    }
    c->m = m;
    c->n_ctx = p && p->n_ctx > 0 ? p->n_ctx : (hp->n_ctx_train < 4096 ? hp->n_ctx_train : 4096);
    c->n_batch = p && p->n_batch > 0 ? p->n_batch : 512;
    if (c->n_batch > c->n_ctx) c->n_batch = c->n_ctx;
    int nt = p && p->n_threads > 0 ? p->n_threads : octo_cpu_count();
    c->pool = octo_pool_new(nt);
    nt = octo_pool_size(c->pool);
    c->kv_k_dim = (int64_t)hp->n_head_kv * hp->head_dim;
    c->kv_v_dim = (int64_t)hp->n_head_kv * hp->head_dim_v;
    size_t B = (size_t)c->n_batch, d = (size_t)hp->n_embd;
    size_t q_dim = (size_t)hp->n_head * hp->head_dim, att_dim = (size_t)hp->n_head * hp->head_dim_v;
    size_t qkv_dim = q_dim + (size_t)c->kv_k_dim + (size_t)c->kv_v_dim;
    c->kv_stride = (c->n_ctx + 31) / 32 * 32;
    size_t kv_elems = (size_t)hp->n_layer * c->kv_stride;
    /* zeroed: padded rows are read (times p = 0) and must hold numbers */
    c->k_cache = calloc(kv_elems * c->kv_k_dim, sizeof(octo_f16));
    c->v_cache = calloc(kv_elems * c->kv_v_dim, sizeof(octo_f16));
    c->att_f16 = malloc((size_t)nt * (c->kv_stride + hp->head_dim) * sizeof(octo_f16));
    c->x = malloc(B * d * sizeof(float));
    c->xn = malloc(B * d * sizeof(float));
    c->qkv = malloc(B * qkv_dim * sizeof(float));
    c->att = malloc(B * att_dim * sizeof(float));
    c->ffn = malloc(B * 2 * (size_t)hp->n_ff * sizeof(float));
    c->h = malloc(B * (size_t)hp->n_ff * sizeof(float));
    c->scores = malloc((size_t)nt * c->kv_stride * sizeof(float));
    c->rope_cs = malloc(B * (size_t)hp->n_rot * sizeof(float));
    c->logits_cap = 1;
    c->logits = malloc((size_t)hp->n_vocab * sizeof(float));
    /* activations are converted for the widest input of any weight type */
    size_t xq = 0;
    const octo_weight *ws[] = {&m->output};
    for (int k = 0; k < 1; k++) {
        size_t s = octo_matmul_xq_size(ws[k]->type, c->n_batch, ws[k]->cols);
        if (s > xq) xq = s;
    }
    for (int il = 0; il < hp->n_layer; il++) {
        const octo_layer *L = &m->layers[il];
        const octo_weight *lw[] = {&L->wq, &L->wk, &L->wv, &L->wqkv, &L->wo, &L->w_gate, &L->w_up, &L->w_down};
        for (int k = 0; k < 8; k++) {
            if (!lw[k]->data) continue;
            size_t s = octo_matmul_xq_size(lw[k]->type, c->n_batch, lw[k]->cols);
            if (s > xq) xq = s;
        }
    }
    c->xq_size = xq;
    c->xq = aligned_alloc(64, (xq + 63) / 64 * 64);
    if (!c->pool || !c->k_cache || !c->v_cache || !c->x || !c->xn || !c->qkv || !c->att || !c->ffn || !c->h ||
        !c->att_f16 || !c->rope_cs || !c->scores || !c->logits || !c->xq) {
        octo_fail("out of memory for an inference context (n_ctx %d, n_batch %d)", c->n_ctx, c->n_batch);
        octo_ctx_free(c);
        return NULL;
    }
    if (hp->act == OCTO_ACT_GELU) pthread_once(&g_gelu_once, gelu_table_init);
    c->theta_scale = powf(hp->rope_base, -2.0f / (float)hp->n_rot);
    c->kq_scale = 1.0f / sqrtf((float)hp->head_dim);
    return c;
}

static void lora_clear(octo_ctx *c) {
    if (c->lora) {
        int n = c->m->hp.n_layer * LORA_SLOTS_PER_LAYER + 1;
        for (int i = 0; i < n; i++) {
            free(c->lora[i].a);
            free(c->lora[i].bt);
        }
    }
    free(c->lora);
    free(c->lora_t);
    c->lora = NULL;
    c->lora_t = NULL;
}

void octo_ctx_free(octo_ctx *c) {
    if (!c) return;
    lora_clear(c);
    octo_pool_free(c->pool);
    free(c->k_cache);
    free(c->v_cache);
    free(c->x);
    free(c->xn);
    free(c->qkv);
    free(c->att);
    free(c->ffn);
    free(c->h);
    free(c->att_f16);
    free(c->rope_cs);
    free(c->scores);
    free(c->logits);
    free(c->xq);
    free(c);
}

int octo_ctx_decode(octo_ctx *c, const int32_t *tokens, int n, bool all_logits) {
    const octo_hparams *hp = &c->m->hp;
    if (n <= 0) return octo_fail("decode: no tokens");
    if (c->n_past + n > c->n_ctx)
        return octo_fail("decode: %d + %d tokens exceed the context of %d tokens", c->n_past, n, c->n_ctx);
    for (int i = 0; i < n; i++)
        if (tokens[i] < 0 || tokens[i] >= hp->n_vocab)
            return octo_fail("decode: token id %d out of range [0, %d)", tokens[i], hp->n_vocab);
    if (all_logits && n > c->n_batch)
        return octo_fail("decode: all logits of %d tokens requested, but the batch holds %d", n, c->n_batch);
    if (all_logits && n > c->logits_cap) {
        float *l = realloc(c->logits, (size_t)n * hp->n_vocab * sizeof(float));
        if (!l) return octo_fail("decode: out of memory for the logits of %d tokens", n);
        c->logits = l;
        c->logits_cap = n;
    }
    c->n_logits = 0;
    c->last_n = n;
    for (int done = 0; done < n; done += c->n_batch) {
        int chunk = n - done < c->n_batch ? n - done : c->n_batch;
        bool last = done + chunk == n;
        fwd_task t = {.c = c, .tokens = tokens + done, .n = chunk, .pos0 = c->n_past};
        if (all_logits) {
            t.out_first = 0;
            t.out_n = chunk;
        } else if (last) {
            t.out_first = chunk - 1;
            t.out_n = 1;
        }
        octo_pool_run(c->pool, forward_task, &t);
        if (t.out_n) {
            if (c->n_logits == 0) c->logits_first = done + t.out_first;
            c->n_logits += t.out_n;
        }
        c->n_past += chunk;
    }
    return 0;
}

const float *octo_ctx_logits(const octo_ctx *c, int i) {
    if (i < 0) i = c->last_n + i;
    int row = i - c->logits_first;
    if (row < 0 || row >= c->n_logits) return NULL;
    return c->logits + (size_t)row * c->m->hp.n_vocab;
}

int octo_ctx_n_past(const octo_ctx *c) { return c->n_past; }
int octo_ctx_n_ctx(const octo_ctx *c) { return c->n_ctx; }
void octo_ctx_truncate(octo_ctx *c, int n_keep) {
    if (n_keep < 0) n_keep = 0;
    if (n_keep < c->n_past) c->n_past = n_keep;
}
size_t octo_ctx_kv_bytes(const octo_ctx *c) {
    return (size_t)c->m->hp.n_layer * c->kv_stride * (size_t)(c->kv_k_dim + c->kv_v_dim) * sizeof(octo_f16);
}
octo_model *octo_ctx_model(const octo_ctx *c) { return c->m; }

/* ------------------------------------------------------------------ */
/* adapters                                                            */

const octo_weight *octo_model_weight(const octo_model *m, const char *name) {
    if (!m->hp.tied_output && m->output.name && strcmp(m->output.name, name) == 0) return &m->output;
    for (int il = 0; il < m->hp.n_layer; il++)
        for (int k = 0; k < LORA_SLOTS_PER_LAYER; k++) {
            const octo_weight *w = (const octo_weight *)((const char *)&m->layers[il] + k_slot_fields[k]);
            if (w->data && w->name && strcmp(w->name, name) == 0) return w;
        }
    return NULL;
}

int octo_ctx_set_adapters(octo_ctx *c, octo_lora *const *adapters, const float *scales, int n) {
    const octo_model *m = c->m;
    const octo_hparams *hp = &m->hp;
    lora_clear(c);
    if (n <= 0) return 0;
    for (int j = 0; j < n; j++) {
        if (!adapters[j]) return octo_fail("set adapters: adapter %d is NULL", j);
        if (octo_lora_validate(adapters[j], m)) return octo_fail_context("adapter %d", j + 1);
        if (scales && !isfinite(scales[j])) return octo_fail("set adapters: scale %d is not a finite number", j + 1);
    }
    const int n_slots = hp->n_layer * LORA_SLOTS_PER_LAYER + 1;
    c->lora = calloc((size_t)n_slots, sizeof(lora_slot));
    if (!c->lora) return octo_fail("set adapters: out of memory");
    /* per slot: the total rank of the adapters touching it (zero scales skipped) */
    for (int j = 0; j < n; j++) {
        if (scales && scales[j] == 0.0f) continue;
        const octo_lora *l = adapters[j];
        for (int i = 0; i < l->n; i++) c->lora[weight_slot(m, octo_model_weight(m, l->t[i].base_name))].R += l->t[i].rank;
    }
    for (int i = 0; i < n_slots; i++) {
        lora_slot *s = &c->lora[i];
        if (!s->R) continue;
        const octo_weight *w = i == n_slots - 1 ? &m->output
                                                : (const octo_weight *)((const char *)&m->layers[i / LORA_SLOTS_PER_LAYER] +
                                                                        k_slot_fields[i % LORA_SLOTS_PER_LAYER]);
        s->a = malloc((size_t)s->R * (size_t)w->cols * sizeof(float));
        s->bt = malloc((size_t)s->R * (size_t)w->rows * sizeof(float));
        if (!s->a || !s->bt) {
            lora_clear(c);
            return octo_fail("set adapters: out of memory for %s", w->name);
        }
        int off = 0; /* rank offset of the next adapter within the stack */
        for (int j = 0; j < n; j++) {
            float user = scales ? scales[j] : 1.0f;
            if (user == 0.0f) continue;
            const octo_lora *l = adapters[j];
            int ti = octo_lora_find(l, w->name);
            if (ti < 0) continue;
            const octo_lora_tensor *t = &l->t[ti];
            float sc = octo_lora_scale(l, ti, user);
            memcpy(s->a + (size_t)off * w->cols, t->a, (size_t)t->rank * (size_t)w->cols * sizeof(float));
            for (int k = 0; k < t->rank; k++)
                for (int64_t r = 0; r < w->rows; r++)
                    s->bt[(size_t)(off + k) * w->rows + r] = sc * t->b[(size_t)r * t->rank + k];
            off += t->rank;
        }
    }
    /* scratch for A x: the widest stacked rank of a group */
    int64_t r_max = 0;
    for (int il = 0; il < hp->n_layer; il++) {
        int64_t sum = 0;
        for (int k = 0; k < LORA_SLOTS_PER_LAYER; k++) sum += c->lora[il * LORA_SLOTS_PER_LAYER + k].R;
        if (sum > r_max) r_max = sum;
    }
    if (c->lora[n_slots - 1].R > r_max) r_max = c->lora[n_slots - 1].R;
    c->lora_t = malloc((size_t)c->n_batch * (size_t)(r_max ? r_max : 1) * sizeof(float));
    if (!c->lora_t) {
        lora_clear(c);
        return octo_fail("set adapters: out of memory for scratch");
    }
    if (r_max == 0) lora_clear(c); /* every scale was 0: the plain model */
    return 0;
}
