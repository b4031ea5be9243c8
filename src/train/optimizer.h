/* optimizer.h - AdamW with gradient clipping, and the learning-rate schedule.
 *
 * AdamW exactly as torch.optim.AdamW computes it (decoupled weight decay
 * p -= lr*wd*p first, then the bias-corrected Adam update), in F32, so a
 * run can be compared step by step with PyTorch. Clipping scales all
 * gradients together when their global L2 norm exceeds max_norm (as
 * torch.nn.utils.clip_grad_norm_). The state (step, m, v) is saved in
 * checkpoints so a resumed run continues bit for bit.
 *
 * Scalars (lr, betas, eps, weight decay, bias corrections) are doubles
 * because PyTorch computes them as Python floats; the per-element math is
 * F32 in PyTorch's order. Every element is updated independently, so the
 * result does not depend on the thread count; the gradient norm is summed
 * in fixed chunks, in order, so it does not either.
 */
#ifndef OCTO_TRAIN_OPTIMIZER_H
#define OCTO_TRAIN_OPTIMIZER_H

#include <stddef.h>
#include <stdint.h>

#include "train/train_model.h"

typedef struct {
    double beta1, beta2, eps, weight_decay; /* defaults 0.9, 0.999, 1e-8, 0.0 */
    float max_grad_norm;                    /* <= 0: no clipping; default 1.0 */
    int n_threads;                          /* <= 1: the caller's thread only */
    struct octo_pool *pool;                 /* borrowed pool to run on instead (e.g. the model's,
                                               so no second set of workers spins beside it) */
} octo_adamw_opts;

typedef struct octo_adamw octo_adamw;

void octo_adamw_defaults(octo_adamw_opts *o);
octo_adamw *octo_adamw_new(octo_param *params, int n_params, const octo_adamw_opts *o);
void octo_adamw_free(octo_adamw *a);
/* Clip, then update every parameter with learning rate lr, then zero the
 * gradients. Returns the global gradient norm before clipping. */
float octo_adamw_step(octo_adamw *a, double lr);
/* Global L2 norm of the gradients as they are now (no update). */
float octo_adamw_grad_norm(octo_adamw *a);
int64_t octo_adamw_t(const octo_adamw *a); /* steps taken */

typedef enum { OCTO_SCHED_LINEAR, OCTO_SCHED_COSINE, OCTO_SCHED_CONSTANT } octo_sched_kind;
typedef struct {
    octo_sched_kind kind;
    double lr;           /* peak */
    double min_lr;       /* floor of the decay (default 0) */
    double warmup_ratio; /* fraction of total steps warming up linearly from 0 */
    int64_t total_steps;
} octo_schedule;
/* Learning rate for optimizer step `step` (0-based), as transformers'
 * get_linear_schedule_with_warmup / get_cosine_schedule_with_warmup /
 * get_constant_schedule_with_warmup: warmup steps = ceil(ratio * total),
 * and step 0 of a warmup has lr 0, as there. */
double octo_schedule_lr(const octo_schedule *s, int64_t step);
int64_t octo_schedule_warmup_steps(const octo_schedule *s);
/* "linear", "cosine", "constant" -> kind; -1 if none of them. */
int octo_sched_parse(const char *name);
const char *octo_sched_name(octo_sched_kind k);

/* Optimizer state to/from a checkpoint buffer (used by checkpoint.c). */
size_t octo_adamw_state_bytes(const octo_adamw *a);
void octo_adamw_state_save(const octo_adamw *a, void *buf);
int octo_adamw_state_load(octo_adamw *a, const void *buf, size_t n);

#endif
