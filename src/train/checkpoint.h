/* checkpoint.h - a training run saved to disk so that it can continue
 * exactly where it stopped.
 *
 * A checkpoint is a directory holding one file, DIR/checkpoint.bin: the
 * trainable parameters, the AdamW state, where the run stands (optimizer
 * step, epoch and batch of the next micro-batch, tokens seen, the model's
 * dropout counter) and the run's configuration as JSON. The file is written
 * to a temp file in DIR, fsynced and renamed over the old one (base/file.h),
 * so a run killed at any moment leaves the previous checkpoint or the new
 * one, never a mix. A length and a checksum over every byte make a truncated
 * or damaged file fail to load instead of resuming from garbage.
 *
 * Layout (little-endian): "OCTOCKPT", u32 version, u32 0, u64 file size,
 * u64 meta length, meta JSON padded to 8 bytes, the parameters' F32 data in
 * order, u64 optimizer-state length and the state (optimizer.h), u64
 * checksum of everything before it.
 */
#ifndef OCTO_TRAIN_CHECKPOINT_H
#define OCTO_TRAIN_CHECKPOINT_H

#include <stdint.h>

#include "train/optimizer.h"
#include "train/train_model.h"

typedef struct {
    int64_t step;   /* optimizer steps done */
    int epoch;      /* epoch and batch index of the next micro-batch */
    int batch;
    int64_t tokens; /* tokens trained on so far */
    uint64_t rng;   /* the model's dropout counter */
} octo_ckpt_pos;

/* Write DIR/checkpoint.bin (DIR is created if needed). config: a JSON
 * object describing everything the run's results depend on. */
int octo_ckpt_save(const char *dir, const octo_ckpt_pos *pos, const char *config, const octo_param *params,
                   int n_params, const octo_adamw *opt);

/* Validate DIR/checkpoint.bin completely (size, checksum, parameter names and
 * shapes, optimizer state, and that its config equals `config` key by key),
 * then load it into params and opt. On any error nothing is changed and the
 * message says what does not match. */
int octo_ckpt_load(const char *dir, const char *config, octo_ckpt_pos *pos, octo_param *params, int n_params,
                   octo_adamw *opt);

/* The path of the checkpoint file in DIR (static buffer per thread). */
const char *octo_ckpt_file(const char *dir);

#endif
