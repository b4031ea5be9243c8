/* lora.h - LoRA adapters in memory, and the files they travel in.
 *
 * An adapter is a set of low-rank updates, one per adapted base weight W
 * [rows=out][cols=in]:  W' = W + scale * B A,  A [rank][in], B [out][rank],
 * scale = alpha / rank (times a user scale when applied).
 *
 * Files:
 *  - GGUF in llama.cpp's adapter layout: general.type "adapter",
 *    adapter.type "lora", adapter.lora.alpha, general.architecture, tensors
 *    "<base tensor name>.lora_a" (ggml ne = [in, rank]) and ".lora_b"
 *    (ne = [rank, out]);
 *  - a PEFT directory: adapter_config.json + adapter_model.safetensors with
 *    Hugging Face module names (base_model.model.model.layers.N.self_attn.
 *    q_proj.lora_A.weight, ...), read and written.
 * Applying adapters unmerged at inference lives in model/forward.c
 * (octo_ctx_set_adapters); merging into the base in adapter/merge.c.
 */
#ifndef OCTO_ADAPTER_LORA_H
#define OCTO_ADAPTER_LORA_H

#include <stdint.h>

typedef struct {
    char *base_name;    /* "blk.0.attn_q.weight" */
    int64_t rows, cols; /* shape of the base weight: out x in */
    int rank;
    float *a; /* [rank][cols] */
    float *b; /* [rows][rank] */
} octo_lora_tensor;

typedef struct octo_lora {
    char *arch; /* general.architecture of the base */
    float alpha;
    int rank;   /* common rank (tensors may differ when imported) */
    octo_lora_tensor *t;
    int n;
} octo_lora;

void octo_lora_free(octo_lora *l);
/* Index of the tensor adapting base_name, or -1. */
int octo_lora_find(const octo_lora *l, const char *base_name);

/* An empty adapter (arch may be NULL: unknown until checked against a base). */
octo_lora *octo_lora_new(const char *arch, float alpha);
/* Append a tensor with zeroed A [rank][cols] and B [rows][rank]; returns its
 * index, or -1 (error set: bad shape, duplicate name, out of memory). */
int octo_lora_add(octo_lora *l, const char *base_name, int64_t rows, int64_t cols, int rank);
/* The factor B A is multiplied by: user_scale * alpha / rank, or user_scale
 * when alpha is 0 (llama.cpp's convention, so files mean the same there). */
float octo_lora_scale(const octo_lora *l, int i, float user_scale);

/* Check an adapter against the base it is meant for: the architecture
 * matches (when the adapter names one) and every tensor adapts a 2-D weight
 * of the base that the forward pass multiplies (a block's projection or
 * output.weight), with the same rows and cols. 0, or -1 with a message
 * naming the first offending tensor. */
struct octo_model;
int octo_lora_validate(const octo_lora *l, const struct octo_model *m);

/* Load a GGUF adapter file or a PEFT directory. base (may be NULL) supplies
 * what a PEFT directory does not say: the architecture and head counts
 * (llama's q/k rows are stored permuted in GGUF). */
octo_lora *octo_lora_load(const char *path, const struct octo_model *base);

#endif
