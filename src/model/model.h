/* model.h - a decoder-only transformer loaded from GGUF: hyperparameters,
 * weights (pointers into the mapped file), and the inference context that
 * holds the KV cache, scratch memory and threads.
 *
 * One struct describes the four supported families; the differences are
 * data, read from metadata at load time:
 *   llama  : RoPE on adjacent pairs, SwiGLU, optional GQA/MQA
 *   phi3   : fused attn_qkv, fused gate+up in ffn_up, RoPE NeoX, sliding window
 *   qwen2  : q/k/v biases, RoPE NeoX
 *   gemma  : embeddings scaled by sqrt(n_embd), GELU-tanh gate, head_dim from
 *            attention.key_length, RoPE NeoX, tied output
 */
#ifndef OCTO_MODEL_H
#define OCTO_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "octo.h"
#include "base/threadpool.h"
#include "gguf/gguf.h"
#include "tensor/types.h"
#include "tokenizer/tokenizer.h"

typedef enum { OCTO_ARCH_LLAMA, OCTO_ARCH_PHI3, OCTO_ARCH_QWEN2, OCTO_ARCH_GEMMA } octo_arch;
typedef enum { OCTO_ACT_SILU, OCTO_ACT_GELU } octo_act;

typedef struct {
    octo_arch arch;
    const char *arch_name;
    int n_vocab;
    int n_ctx_train;
    int n_embd;
    int n_layer;
    int n_head;
    int n_head_kv;
    int n_ff;
    int head_dim;   /* per-head size of q and k */
    int head_dim_v; /* per-head size of v */
    int n_rot;      /* rotated dims per head (<= head_dim) */
    float norm_eps;
    float rope_base;
    float rope_freq_scale; /* 1 / linear scaling factor */
    bool rope_neox;        /* rotate (i, i + n_rot/2) instead of (2i, 2i+1) */
    int n_swa;             /* sliding window (0 = none) */
    float embd_scale;      /* multiply embeddings by this (gemma: sqrt(n_embd)) */
    octo_act act;
    bool tied_output;
    bool q_prescale; /* q *= 1/sqrt(head_dim) before q.k (phi3, gemma) instead of after */
} octo_hparams;

/* A 2-D weight [rows][cols] in its storage type, pointing into the file
 * (or into memory the model owns, for converted tensors). */
typedef struct {
    const void *data;
    octo_type type;
    int64_t rows, cols;
    size_t row_bytes;
    const char *name; /* GGUF tensor name, for adapters and errors */
    const void *packed; /* Q4_0 in the products' layout (octo_q4_0_pack), made by the
                           first inference context; NULL: use data */
} octo_weight;

typedef struct {
    const float *attn_norm;
    octo_weight wq, wk, wv, wqkv; /* wqkv used when fused (phi3) */
    const float *bq, *bk, *bv;    /* qwen2 biases (NULL if absent) */
    octo_weight wo;
    const float *ffn_norm;
    octo_weight w_gate, w_up, w_down; /* w_gate.data NULL when fused into w_up */
    bool fused_qkv, fused_gate_up;
} octo_layer;

typedef struct octo_model {
    char *path;
    gguf_file *file;
    octo_hparams hp;
    octo_tokenizer *tok;
    octo_weight tok_embd;
    const float *output_norm;
    octo_weight output; /* == tok_embd when tied */
    octo_layer *layers;
    void **owned; /* buffers of converted tensors (norms stored as F16, ...) */
    int n_owned;
    bool packed_q4_0; /* octo_model_pack ran */
} octo_model;

/* Pack the Q4_0 matrices the forward pass multiplies by (octo_q4_0_pack),
 * once per model; the first inference context does it. Training reads the
 * weights as stored and never needs it. Returns 0 or -1 (out of memory). */
int octo_model_pack(octo_model *m);
/* Keep heap block p alive as long as the model (freed with it); returns p,
 * or NULL (p freed) when out of memory. */
void *octo_model_own(octo_model *m, void *p);

octo_model *octo_model_load(const char *path);
void octo_model_free(octo_model *m);

/* Read the hyperparameters of a GGUF file (used by load and by `octo info`). */
int octo_hparams_read(const gguf_file *f, octo_hparams *hp);

/* ---- inference context (octo_ctx_params is in octo.h) ---- */
octo_ctx *octo_ctx_new(octo_model *m, const octo_ctx_params *p);
void octo_ctx_free(octo_ctx *c);

/* Evaluate n tokens at positions n_past .. n_past+n-1 (appending to the KV
 * cache). all_logits: keep logits of every token (else only the last).
 * Batches larger than n_batch are split. Returns 0 or -1 (error set). */
int octo_ctx_decode(octo_ctx *c, const int32_t *tokens, int n, bool all_logits);

/* Logits of the i-th token of the last decode (i = -1: the last one). */
const float *octo_ctx_logits(const octo_ctx *c, int i);
int octo_ctx_n_past(const octo_ctx *c);
int octo_ctx_n_ctx(const octo_ctx *c);
/* Forget cached positions >= n_keep (n_keep = 0 clears the cache). */
void octo_ctx_truncate(octo_ctx *c, int n_keep);
size_t octo_ctx_kv_bytes(const octo_ctx *c);
octo_model *octo_ctx_model(const octo_ctx *c);

/* ---- LoRA adapters, applied unmerged (forward.c) ----
 * The weight a forward pass multiplies under a GGUF name: a block's
 * projection or an untied output.weight; NULL for anything else. */
const octo_weight *octo_model_weight(const octo_model *m, const char *name);
/* octo_ctx_set_adapters is declared in octo.h: after each adapted product
 * y = W x the context adds sum_i scale_i * B_i (A_i x), all adapters of a
 * weight stacked into one pair of F32 products. */

#endif
