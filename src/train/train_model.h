/* train_model.h - a decoder-only transformer in F32 that can be trained:
 * parameters, gradients, activations kept for the backward pass, and one
 * forward+backward over a batch.
 *
 * Built from a loaded octo_model (any of llama / phi3 / qwen2 / gemma):
 *  - full fine-tuning: every weight is dequantized into an F32 parameter;
 *  - LoRA: the base weights stay frozen in their storage type (F32, F16,
 *    Q8_0, Q4_0, ...) and only the adapters' A and B matrices are
 *    parameters.
 * The optimizer (optimizer.h) sees only the flat list of parameter tensors
 * below, so it does not care which of the two modes runs.
 *
 * The layer math lives in layers.c: one forward and one backward function
 * per layer, shapes in the comments, checked against finite differences in
 * tests/test_train_grad.c and against PyTorch in tests/test_train_torch.c.
 */
#ifndef OCTO_TRAIN_MODEL_H
#define OCTO_TRAIN_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "adapter/lora.h"
#include "model/model.h"

/* One batch, B rows of T tokens (B*T entries in each array). Several short
 * examples may be packed into one row: seg tells them apart and attention
 * never crosses a segment; pos restarts at 0 in each segment (RoPE).
 * targets[i] is the token to predict after tokens[i], or -1 when position i
 * carries no loss (prompt tokens, padding). */
typedef struct {
    int B, T;
    int32_t *tokens;
    int32_t *targets;
    int32_t *pos;
    int32_t *seg;
    int64_t n_loss_tokens; /* entries of targets that are >= 0 */
} octo_batch;

/* One trainable tensor: data and grad have n elements (row-major, shape
 * rows x cols; cols == 1 for vectors). decay: AdamW weight decay applies
 * (2-D weights yes, norms and biases no). */
typedef struct {
    char *name; /* GGUF name: "blk.0.attn_q.weight", or "...lora_a"/"lora_b" */
    float *data;
    float *grad;
    int64_t rows, cols, n;
    bool decay;
} octo_param;

typedef struct {
    bool full;         /* full fine-tuning; else LoRA */
    int lora_rank;     /* LoRA only */
    float lora_alpha;
    float lora_dropout;     /* 0: off */
    const char *lora_targets; /* "all-linear" or a comma list of q,k,v,o,gate,up,down (phi3: qkv,gate_up) */
    int n_threads;
    uint64_t seed; /* LoRA A init (Kaiming-uniform as PEFT), dropout masks */
    int max_T;     /* longest row the activation buffers must hold */
    int max_B;
    /* Full fine-tuning only: the base's tokenizer may have grown (functional
     * tokens added with octo_tokenizer_add_special before octo_tm_new); the
     * new embedding and output rows start from the mean of the existing rows
     * and train with the rest. The saved model writes base->tok. */
} octo_train_config;

typedef struct octo_train_model octo_train_model;

octo_train_model *octo_tm_new(const octo_model *base, const octo_train_config *cfg);
void octo_tm_free(octo_train_model *tm);

int octo_tm_n_params(const octo_train_model *tm);
octo_param *octo_tm_param(octo_train_model *tm, int i);
int64_t octo_tm_n_trainable(const octo_train_model *tm); /* elements */
/* Parameters a forward pass multiplies per token (for MFU: 6 * this * tokens). */
int64_t octo_tm_flops_params(const octo_train_model *tm);

/* Forward, cross-entropy (mean over loss tokens of the batch), backward.
 * Gradients are ADDED to param->grad (so accumulation over micro-batches is
 * free); scale multiplies the loss before differentiation (1/grad_accum).
 * Returns the mean loss, or a negative value on error. */
float octo_tm_step(octo_train_model *tm, const octo_batch *b, float scale);
/* Forward only: mean loss (eval). */
float octo_tm_loss(octo_train_model *tm, const octo_batch *b);
void octo_tm_zero_grad(octo_train_model *tm);

/* Results. Full: write the model (base metadata and tokenizer, trained F32
 * weights) as GGUF. LoRA: the adapter, as an in-memory octo_lora (owned by
 * the caller) that adapter/ writes as GGUF or PEFT. */
int octo_tm_save_model(const octo_train_model *tm, const char *path);
octo_lora *octo_tm_export_lora(const octo_train_model *tm);
/* Start LoRA training from an existing adapter (same targets and rank). */
int octo_tm_import_lora(octo_train_model *tm, const octo_lora *l);

/* For tests and the trainer: the logits [B*T][n_vocab] of the last
 * octo_tm_loss (octo_tm_step overwrites them with their gradient), and the
 * vocabulary size (the base's, or larger when the tokenizer grew). */
const float *octo_tm_logits(const octo_train_model *tm);
int octo_tm_n_vocab(const octo_train_model *tm);
/* LoRA dropout masks depend on (seed, number of octo_tm_step calls so far);
 * a resumed run sets the count back to where it was. */
uint64_t octo_tm_micro_steps(const octo_train_model *tm);
void octo_tm_set_micro_steps(octo_train_model *tm, uint64_t n);

#endif
