/* train_step.c - the forward pass, the loss and the backward pass of the
 * trainable model over one batch (octo_tm_step / octo_tm_loss).
 *
 * Like the inference forward pass, a whole step runs inside ONE parallel
 * region: every thread walks the same sequence of layer calls, does its
 * share of each, and meets the others at a barrier before a result is read.
 * The math mirrors model/forward.c (same norm, RoPE angles, masks, fused
 * layouts), in F32 throughout:
 *
 *   x = embd[tokens] * embd_scale
 *   per layer:  xn = rmsnorm(x) attn_norm;  q, k, v = linear(xn);  rope(q, k)
 *               x += linear_o(attention(q, k, v))
 *               xn = rmsnorm(x) ffn_norm;  gu = linear(xn)   (gate | up)
 *               x += linear_down(act(gate) * up)
 *   logits = linear_out(rmsnorm(x) output_norm);  loss = CE(logits, targets)
 * and backward in reverse, each layer's backward from layers.c.  Where the
 * inference engine rounds through F16 as ggml does (KV cache, GELU table)
 * or scales q before q.k (phi3, gemma), training keeps F32 and scales the
 * scores: the same function, without the rounding, which is what PyTorch
 * computes too (tests/test_train_torch.c).
 */
#include <math.h>
#include <string.h>

#include "base/error.h"
#include "tensor/ops.h"
#include "train/train_internal.h"

typedef struct {
    octo_train_model *tm;
    const octo_batch *b;
    int N;
    bool backward, train;
    float dscale; /* dL/dlogit factor: scale / n_loss */
} step_task;

static void zero_rows(const tl_ctx *c, float *x, int N, int64_t width) {
    long lo, hi;
    tl_rows(c, N, &lo, &hi);
    if (hi > lo) memset(x + lo * width, 0, (size_t)(hi - lo) * width * sizeof(float));
}

/* out[N][d] = in + add, rows */
static void add_rows(const tl_ctx *c, float *out, const float *in, const float *add, int N, int64_t d) {
    long lo, hi;
    tl_rows(c, N, &lo, &hi);
    for (long i = lo * d; i < hi * d; i++) out[i] = in[i] + add[i];
}

static void embed_frozen(octo_train_model *tm, const tl_ctx *c, float *out, const int32_t *tok, int N) {
    const octo_weight *e = &tm->base->tok_embd;
    long lo, hi;
    tl_rows(c, N, &lo, &hi);
    for (long n = lo; n < hi; n++) {
        float *o = out + n * tm->hp.n_embd;
        octo_dequantize_row(e->type, (const char *)e->data + (size_t)tok[n] * e->row_bytes, o, tm->hp.n_embd);
        if (tm->hp.embd_scale != 1.0f)
            for (int j = 0; j < tm->hp.n_embd; j++) o[j] *= tm->hp.embd_scale;
    }
}

static void forward(step_task *t, const tl_ctx *c) {
    octo_train_model *tm = t->tm;
    const octo_hparams *hp = &tm->hp;
    const octo_batch *b = t->b;
    const int N = t->N, d = hp->n_embd, ff = hp->n_ff;
    const int64_t qd = tm->qkv_dim;
    tl_attn_shape as = {.B = b->B, .T = b->T, .n_head = hp->n_head, .n_head_kv = hp->n_head_kv,
                        .head_dim = hp->head_dim, .head_dim_v = hp->head_dim_v, .n_swa = hp->n_swa,
                        .scale = 1.0f / sqrtf((float)hp->head_dim)};

    float *x0 = tm->layers[0].x_in;
    if (tm->embd) tl_embedding_forward(c, x0, b->tokens, tm->embd->data, N, d, hp->embd_scale);
    else embed_frozen(tm, c, x0, b->tokens, N);
    tl_rope_angles(c, tm->cs, b->pos, N, hp->n_rot, hp->rope_base, hp->rope_freq_scale);
    tl_barrier(c);

    for (int il = 0; il < hp->n_layer; il++) {
        tm_layer *L = &tm->layers[il];
        float *x_out = il + 1 < hp->n_layer ? tm->layers[il + 1].x_in : tm->x_final;
        tl_rmsnorm_forward(c, L->xn1, L->rstd1, L->x_in, tm_vec_data(&L->attn_norm), N, d, hp->norm_eps);
        tl_barrier(c);
        if (L->fused_qkv) {
            tm_linear_forward(tm, c, &L->qkv, L->xn1, d, L->qkv_a, qd, N, t->train);
        } else {
            tm_linear_forward(tm, c, &L->q, L->xn1, d, L->qkv_a, qd, N, t->train);
            tl_barrier(c);
            tm_linear_forward(tm, c, &L->k, L->xn1, d, L->qkv_a + tm->q_dim, qd, N, t->train);
            tl_barrier(c);
            tm_linear_forward(tm, c, &L->v, L->xn1, d, L->qkv_a + tm->q_dim + tm->k_dim, qd, N, t->train);
        }
        tl_barrier(c);
        tl_rope_forward(c, L->qkv_a, qd, N, hp->n_head, hp->head_dim, hp->n_rot, hp->rope_neox, tm->cs);
        tl_rope_forward(c, L->qkv_a + tm->q_dim, qd, N, hp->n_head_kv, hp->head_dim, hp->n_rot, hp->rope_neox,
                        tm->cs);
        tl_barrier(c);
        tl_attention_forward(c, L->att, L->lse, L->qkv_a, b->pos, b->seg, &as, tm->att_scratch);
        tl_barrier(c);
        tm_linear_forward(tm, c, &L->o, L->att, tm->att_dim, tm->tmp, d, N, t->train);
        tl_barrier(c);
        add_rows(c, L->x_mid, L->x_in, tm->tmp, N, d);
        tl_barrier(c);
        tl_rmsnorm_forward(c, L->xn2, L->rstd2, L->x_mid, tm_vec_data(&L->ffn_norm), N, d, hp->norm_eps);
        tl_barrier(c);
        if (L->fused_gate_up) {
            tm_linear_forward(tm, c, &L->up, L->xn2, d, L->gu, 2 * ff, N, t->train);
        } else {
            tm_linear_forward(tm, c, &L->gate, L->xn2, d, L->gu, 2 * ff, N, t->train);
            tl_barrier(c);
            tm_linear_forward(tm, c, &L->up, L->xn2, d, L->gu + ff, 2 * ff, N, t->train);
        }
        tl_barrier(c);
        if (hp->act == OCTO_ACT_GELU) tl_geglu_forward(c, tm->h, L->gu, N, ff);
        else tl_swiglu_forward(c, tm->h, L->gu, N, ff);
        tl_barrier(c);
        tm_linear_forward(tm, c, &L->down, tm->h, ff, tm->tmp, d, N, t->train);
        tl_barrier(c);
        add_rows(c, x_out, L->x_mid, tm->tmp, N, d);
        tl_barrier(c);
    }
    tl_rmsnorm_forward(c, tm->xn_f, tm->rstd_f, tm->x_final, tm_vec_data(&tm->out_norm), N, d, hp->norm_eps);
    tl_barrier(c);
    tm_linear_forward(tm, c, &tm->output, tm->xn_f, d, tm->logits, tm->n_vocab, N, t->train);
    tl_barrier(c);
    tl_crossentropy_forward(c, tm->losses, tm->lse, tm->logits, b->targets, N, tm->n_vocab, tm->ce_scratch);
    tl_barrier(c);
}

static void backward(step_task *t, const tl_ctx *c) {
    octo_train_model *tm = t->tm;
    const octo_hparams *hp = &tm->hp;
    const octo_batch *b = t->b;
    const int N = t->N, d = hp->n_embd, ff = hp->n_ff;
    const int64_t qd = tm->qkv_dim;
    tl_attn_shape as = {.B = b->B, .T = b->T, .n_head = hp->n_head, .n_head_kv = hp->n_head_kv,
                        .head_dim = hp->head_dim, .head_dim_v = hp->head_dim_v, .n_swa = hp->n_swa,
                        .scale = 1.0f / sqrtf((float)hp->head_dim)};

    /* logits -> dlogits in place */
    tl_crossentropy_backward(c, tm->logits, tm->logits, tm->lse, b->targets, N, tm->n_vocab, t->dscale);
    zero_rows(c, tm->dxn, N, d);
    zero_rows(c, tm->dx, N, d);
    tl_barrier(c);
    tm_linear_backward(tm, c, &tm->output, tm->xn_f, d, tm->logits, tm->n_vocab, tm->dxn, d, N);
    tl_barrier(c);
    tl_rmsnorm_backward(c, tm->dx, tm_vec_grad(&tm->out_norm), tm->dxn, tm->x_final, tm_vec_data(&tm->out_norm),
                        tm->rstd_f, N, d);
    tl_barrier(c);

    for (int il = hp->n_layer - 1; il >= 0; il--) {
        tm_layer *L = &tm->layers[il];
        /* feed-forward block; tm->dx holds dL/dx_out */
        if (hp->act == OCTO_ACT_GELU) tl_geglu_forward(c, tm->h, L->gu, N, ff);
        else tl_swiglu_forward(c, tm->h, L->gu, N, ff);
        zero_rows(c, tm->dh, N, ff);
        tl_barrier(c);
        tm_linear_backward(tm, c, &L->down, tm->h, ff, tm->dx, d, tm->dh, ff, N);
        tl_barrier(c);
        if (hp->act == OCTO_ACT_GELU) tl_geglu_backward(c, tm->dgu, tm->dh, L->gu, N, ff);
        else tl_swiglu_backward(c, tm->dgu, tm->dh, L->gu, N, ff);
        zero_rows(c, tm->dxn, N, d);
        tl_barrier(c);
        if (L->fused_gate_up) {
            tm_linear_backward(tm, c, &L->up, L->xn2, d, tm->dgu, 2 * ff, tm->dxn, d, N);
        } else {
            tm_linear_backward(tm, c, &L->gate, L->xn2, d, tm->dgu, 2 * ff, tm->dxn, d, N);
            tl_barrier(c);
            tm_linear_backward(tm, c, &L->up, L->xn2, d, tm->dgu + ff, 2 * ff, tm->dxn, d, N);
        }
        tl_barrier(c);
        tl_rmsnorm_backward(c, tm->dx, tm_vec_grad(&L->ffn_norm), tm->dxn, L->x_mid, tm_vec_data(&L->ffn_norm),
                            L->rstd2, N, d);
        zero_rows(c, tm->datt, N, tm->att_dim);
        tl_barrier(c);
        /* attention block; tm->dx holds dL/dx_mid */
        tm_linear_backward(tm, c, &L->o, L->att, tm->att_dim, tm->dx, d, tm->datt, tm->att_dim, N);
        tl_barrier(c);
        tl_attention_backward(c, tm->dqkv, tm->datt, L->lse, L->qkv_a, b->pos, b->seg, &as, tm->att_scratch);
        tl_barrier(c);
        tl_rope_backward(c, tm->dqkv, qd, N, hp->n_head, hp->head_dim, hp->n_rot, hp->rope_neox, tm->cs);
        tl_rope_backward(c, tm->dqkv + tm->q_dim, qd, N, hp->n_head_kv, hp->head_dim, hp->n_rot, hp->rope_neox,
                         tm->cs);
        zero_rows(c, tm->dxn, N, d);
        tl_barrier(c);
        if (L->fused_qkv) {
            tm_linear_backward(tm, c, &L->qkv, L->xn1, d, tm->dqkv, qd, tm->dxn, d, N);
        } else {
            tm_linear_backward(tm, c, &L->q, L->xn1, d, tm->dqkv, qd, tm->dxn, d, N);
            tl_barrier(c);
            tm_linear_backward(tm, c, &L->k, L->xn1, d, tm->dqkv + tm->q_dim, qd, tm->dxn, d, N);
            tl_barrier(c);
            tm_linear_backward(tm, c, &L->v, L->xn1, d, tm->dqkv + tm->q_dim + tm->k_dim, qd, tm->dxn, d, N);
        }
        tl_barrier(c);
        tl_rmsnorm_backward(c, tm->dx, tm_vec_grad(&L->attn_norm), tm->dxn, L->x_in, tm_vec_data(&L->attn_norm),
                            L->rstd1, N, d);
        tl_barrier(c);
    }
    if (tm->embd) tl_embedding_backward(c, tm->embd->grad, tm->dx, b->tokens, N, d, hp->embd_scale);
}

static void step_run(void *arg, int ith, int nth) {
    step_task *t = arg;
    tl_ctx c = {.pool = t->tm->pool, .ith = ith, .nth = nth};
    forward(t, &c);
    if (t->backward) backward(t, &c);
}

static int check_batch(const octo_train_model *tm, const octo_batch *b, int64_t *n_loss) {
    if (!b || b->B <= 0 || b->T <= 0) return octo_fail("train: empty batch");
    if (b->B * b->T > tm->max_N || b->T > tm->cfg.max_T)
        return octo_fail("train: batch %d x %d exceeds the buffers (max %d x %d)", b->B, b->T, tm->cfg.max_B,
                         tm->cfg.max_T);
    *n_loss = 0;
    for (int i = 0; i < b->B * b->T; i++) {
        if (b->tokens[i] < 0 || b->tokens[i] >= tm->n_vocab)
            return octo_fail("train: token id %d at %d out of range [0, %d)", b->tokens[i], i, tm->n_vocab);
        if (b->targets[i] < -1 || b->targets[i] >= tm->n_vocab)
            return octo_fail("train: target id %d at %d out of range [-1, %d)", b->targets[i], i, tm->n_vocab);
        if (b->pos[i] < 0) return octo_fail("train: negative position at %d", i);
        if (b->targets[i] >= 0) (*n_loss)++;
    }
    return 0;
}

static float run(octo_train_model *tm, const octo_batch *b, float scale, bool backward) {
    int64_t n_loss = 0;
    if (check_batch(tm, b, &n_loss)) return -1.0f;
    step_task t = {.tm = tm, .b = b, .N = b->B * b->T, .backward = backward && n_loss > 0, .train = backward,
                   .dscale = n_loss > 0 ? scale / (float)n_loss : 0.0f};
    octo_pool_run(tm->pool, step_run, &t);
    double sum = 0;
    for (int i = 0; i < t.N; i++) sum += tm->losses[i];
    if (backward) tm->micro_steps++;
    return n_loss > 0 ? (float)(sum / (double)n_loss) : 0.0f;
}

float octo_tm_step(octo_train_model *tm, const octo_batch *b, float scale) { return run(tm, b, scale, true); }
float octo_tm_loss(octo_train_model *tm, const octo_batch *b) { return run(tm, b, 1.0f, false); }
