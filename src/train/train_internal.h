/* train_internal.h - the inside of octo_train_model, shared by its files:
 * train_model.c (building, parameters, results), train_linear.c (a linear
 * layer whose weight is trainable, or frozen in its storage type with a
 * LoRA beside it) and train_step.c (the forward and backward pass). */
#ifndef OCTO_TRAIN_INTERNAL_H
#define OCTO_TRAIN_INTERNAL_H

#include "train/layers.h"
#include "train/train_model.h"

/* A vector (norm weight, bias): trainable, or frozen in the base. */
typedef struct {
    octo_param *p;
    const float *frozen;
} tm_vec;

static inline const float *tm_vec_data(const tm_vec *v) { return v->p ? v->p->data : v->frozen; }
static inline float *tm_vec_grad(const tm_vec *v) { return v->p ? v->p->grad : NULL; }

/* y = x W^T (+ b) (+ scale * drop(x) A^T B^T) */
typedef struct {
    const octo_weight *base; /* name, storage type, shape (out x in) */
    int64_t out, in;
    octo_param *w;           /* full fine-tuning: the trainable F32 weight */
    tm_vec bias;             /* qwen2's q/k/v (p or frozen NULL if none) */
    octo_param *la, *lb;     /* LoRA: A [r][in], B [out][r]; NULL when not adapted */
    float *z;                /* LoRA: drop(x) A^T [N][r], kept for backward */
    int id;                  /* dropout stream */
} tm_linear;

typedef struct {
    tm_vec attn_norm, ffn_norm;
    tm_linear q, k, v, qkv, o, gate, up, down; /* qkv when fused (phi3); up is [2ff] when gate is fused in */
    bool fused_qkv, fused_gate_up;
    /* activations kept for backward (N = B*T rows) */
    float *x_in;  /* [N][d] residual stream entering the layer */
    float *xn1;   /* [N][d] attn_norm output */
    float *rstd1; /* [N] */
    float *qkv_a; /* [N][qkv_dim] q, k after RoPE, v */
    float *lse;   /* [B][n_head][T] logsumexp of each attention row */
    float *att;   /* [N][n_head*head_dim_v] attention output */
    float *x_mid; /* [N][d] after the attention residual */
    float *xn2;   /* [N][d] ffn_norm output */
    float *rstd2; /* [N] */
    float *gu;    /* [N][2ff] gate | up, before the activation */
} tm_layer;

struct octo_train_model {
    const octo_model *base;
    octo_hparams hp;
    octo_train_config cfg;
    int n_vocab; /* >= base's when the tokenizer grew (full mode) */
    int64_t q_dim, k_dim, v_dim, qkv_dim, att_dim;
    octo_pool *pool;
    int nth;
    octo_param *params;
    int n_params, cap_params;
    /* weights */
    octo_param *embd;  /* full mode; LoRA: frozen base->tok_embd */
    tm_vec out_norm;
    tm_linear output;  /* tied: weight shared with embd */
    tm_layer *layers;
    float lora_scale;  /* alpha / rank */
    int lora_rank;
    uint64_t micro_steps; /* octo_tm_step calls so far: dropout masks vary by it */
    /* activations and scratch, sized for N = max_B * max_T rows */
    int max_N;
    float *x_final, *xn_f, *rstd_f; /* [N][d], [N][d], [N]: the last layer's output and its norm */
    float *logits;                  /* [N][n_vocab]; the backward turns them into their gradient */
    float *losses, *lse;            /* [N]: per-token loss, logsumexp of the logits */
    float *cs;                      /* [N][n_rot]: RoPE cos | sin of each token's position */
    float *tmp, *h;                 /* [N][d], [N][ff]: a branch's output before the residual add, act(gate)*up */
    float *dx, *dxn;                /* [N][d]: gradient of the residual stream, of a norm's output */
    float *dqkv, *datt, *dh, *dgu;  /* gradients of qkv_a, att, h, gu */
    float *att_scratch;             /* [nth][2 * TL_ATT_BLOCK * max_T] */
    float *ce_scratch;              /* [nth][n_vocab] */
    float *drop;                    /* LoRA with dropout: [N][widest input] dropped-out input, or dz A */
    float *dz;                      /* LoRA: [N][r] */
    float *slab;                    /* frozen weights, dequantized a slab of rows at a time */
    int64_t slab_floats;
};

/* train_linear.c: every thread of the pool calls these with the same
 * arguments (x: [N] rows, stride ldx; y/dy: stride ldy); no barrier at the
 * end.  Backward ADDS into dx (which may be NULL) and the parameter grads. */
void tm_linear_forward(octo_train_model *tm, const tl_ctx *c, tm_linear *L, const float *x, int64_t ldx, float *y,
                       int64_t ldy, int N, bool train);
void tm_linear_backward(octo_train_model *tm, const tl_ctx *c, tm_linear *L, const float *x, int64_t ldx,
                        const float *dy, int64_t ldy, float *dx, int64_t lddx, int N);
/* LoRA dropout: keep element (n, j) of linear id's input at this step? */
float tm_dropout_factor(const octo_train_model *tm, int id, int64_t n, int64_t j);

#endif
