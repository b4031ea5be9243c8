/* lora_gguf.h - LoRA adapters as GGUF files in llama.cpp's adapter layout.
 *
 *   general.type = "adapter", adapter.type = "lora", adapter.lora.alpha (f32),
 *   general.architecture = the base's;
 *   "<base tensor>.lora_a": ggml ne = [in, rank]  (A, rank rows of `in`)
 *   "<base tensor>.lora_b": ggml ne = [rank, out] (B, out rows of `rank`)
 * which is what llama.cpp's convert_lora_to_gguf.py writes and its --lora
 * loads.  Files are written in F32; F16, BF16 and Q8_0 files are read too.
 */
#ifndef OCTO_ADAPTER_LORA_GGUF_H
#define OCTO_ADAPTER_LORA_GGUF_H

#include <stddef.h>

#include "adapter/lora.h"

/* NULL on error (the message names the file and the tensor or key). */
octo_lora *octo_lora_load_gguf(const char *path);
/* The same from a buffer the caller keeps (tests, embedded adapters). */
octo_lora *octo_lora_load_gguf_buffer(const void *data, size_t size, const char *name);
/* Atomic write. The adapter must name its architecture. 0 or -1. */
int octo_lora_save_gguf(const octo_lora *l, const char *path);

#endif
