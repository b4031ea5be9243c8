/* peft.h - LoRA adapters as Hugging Face PEFT directories.
 *
 *   DIR/adapter_config.json        peft_type "LORA", r, lora_alpha,
 *                                  target_modules, lora_dropout, bias "none",
 *                                  task_type "CAUSAL_LM", base_model_name_or_path
 *   DIR/adapter_model.safetensors  base_model.model.model.layers.N.self_attn.
 *                                  q_proj.lora_A.weight [r, in], ...lora_B.weight
 *                                  [out, r] (torch order), F32
 * Module names follow the Hugging Face model classes: q/k/v/o_proj and
 * gate/up/down_proj, phi3's fused qkv_proj and gate_up_proj, lm_head.
 *
 * llama's GGUF files store the q and k projections with their rows permuted
 * (llama.cpp's converter interleaves each head's two rotary halves), so B of
 * those two is permuted on the way in and out; that needs the head counts,
 * which come from the base model or, for directories octo wrote, from the
 * safetensors metadata.
 */
#ifndef OCTO_ADAPTER_PEFT_H
#define OCTO_ADAPTER_PEFT_H

#include "adapter/lora.h"

typedef struct {
    const char *arch;      /* the base's architecture, used when the directory names none */
    int n_head, n_head_kv; /* the base's head counts (0: unknown); needed for llama's q/k */
} octo_peft_info;

/* Import a PEFT directory. NULL on error. */
octo_lora *octo_peft_load(const char *dir, const octo_peft_info *info);

/* Export to DIR (created if needed; both files written atomically).
 * base_model: written as base_model_name_or_path (may be NULL). */
int octo_peft_save(const octo_lora *l, const char *dir, const octo_peft_info *info, const char *base_model,
                   float dropout);

#endif
