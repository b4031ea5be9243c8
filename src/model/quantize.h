/* quantize.h - the rules that pick each weight's storage type when a model
 * is quantized, shared by `octo quantize` (quantize.c) and `octo model init
 * --type` (model_init.c), so both write the same layout. */
#ifndef OCTO_MODEL_QUANTIZE_H
#define OCTO_MODEL_QUANTIZE_H

#include <stdbool.h>
#include <stdint.h>

#include "tensor/types.h"

/* The target type named type_name (F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q6_K),
 * or -1 with an error naming the allowed ones. */
int octo_quant_target(const char *type_name, octo_type *out);

/* The type one 2-D weight with rows of cols elements gets: the target,
 * Q6_K for the output projection under the 4-bit types (as llama-quantize
 * does: its error goes straight into the logits), and the nearest type
 * whose block fits when cols is not a multiple of the target's block. */
octo_type octo_quant_type_for(octo_type target, bool is_output, int64_t cols);

/* ggml's LLAMA_FTYPE id for general.file_type */
int octo_quant_file_type(octo_type t);

#endif
