/* merge.h - merging LoRA adapters into a base model's weights.
 *
 * Each adapter i gives a dense task vector per adapted weight,
 * D_i = s_i B_i A_i (s_i its alpha/rank scale), and the merged weight is
 * W + combine(w_1 D_1, ..., w_n D_n):
 *   linear : sum_i w_i D_i  (task arithmetic; what the paper merges with)
 *   ties   : trim each D_i to its top density fraction by magnitude, elect
 *            each element's sign as that of sum_i D_i, then average the
 *            weighted values that agree with it (disjoint mean)
 *   dare   : drop each element of D_i with probability 1 - density (seeded),
 *            rescale the survivors by 1/density, then sum_i w_i D_i
 * as PEFT's merge_utils (ties, dare_linear) define them.  The combine
 * functions are exposed for tests on hand-computed cases.
 */
#ifndef OCTO_ADAPTER_MERGE_H
#define OCTO_ADAPTER_MERGE_H

#include <stdint.h>

#include "octo.h"

/* Keep the k = floor(density * n) largest |x| of x (ties at the threshold
 * by index order), zero the rest. density >= 1 keeps all. */
void octo_merge_trim(float *x, int64_t n, float density);
/* Zero each element with probability 1 - density, divide survivors by
 * density. Element j's draw depends only on (seed, stream, j). */
void octo_merge_dare_drop(float *x, int64_t n, float density, uint64_t seed, uint64_t stream);
/* out[j] = TIES disjoint merge of the (already trimmed) d[i][j], weights w. */
void octo_merge_ties_combine(float *out, const float *const *d, const float *w, int n_tasks, int64_t j0, int64_t j1);

#endif
