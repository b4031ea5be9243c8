/* sampler.h - choosing the next token from logits.
 *
 * The chain runs in llama.cpp's default order: repetition penalty over the
 * last tokens, top-k, top-p (nucleus), min-p, temperature, then a draw from
 * the softmax with a seeded generator.  Temperature <= 0 is greedy (argmax
 * after the penalty), so a fixed seed or greedy decoding is reproducible.
 */
#ifndef OCTO_SAMPLER_H
#define OCTO_SAMPLER_H

#include <stdint.h>

#include "octo.h" /* octo_sampler_params */

typedef struct octo_sampler octo_sampler;

void octo_sampler_defaults(octo_sampler_params *p);
octo_sampler *octo_sampler_new(const octo_sampler_params *p, int n_vocab);
void octo_sampler_free(octo_sampler *s);
/* Pick a token from logits (n_vocab floats; not modified). */
int32_t octo_sampler_sample(octo_sampler *s, const float *logits);
/* Record a token in the history the repetition penalty sees (prompt tokens
 * too, as llama.cpp does). */
void octo_sampler_accept(octo_sampler *s, int32_t token);
void octo_sampler_reset(octo_sampler *s);

/* Index of the largest of n values (the first one on ties). */
int32_t octo_argmax(const float *x, int n);

#endif
