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

#endif
