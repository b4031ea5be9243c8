/* trainer.h - the training loop behind octo_train() (include/octo.h), and
 * the two ways it reports: a live progress line and a JSONL metrics log.
 *
 * The loop (trainer.c): optimizer step s (0-based) of epoch e takes
 * micro-batches k*A .. k*A+A-1 of that epoch's shuffled order (A = grad
 * accumulation, k = s mod steps-per-epoch; the last step of an epoch may take
 * fewer), adds their gradients at scale 1/n, clips, and updates with the
 * rate the schedule gives step s. Everything a step does depends only on s,
 * the parameters and the optimizer state, so a checkpoint of those (plus the
 * model's dropout counter) is enough to continue bit for bit.
 *
 * Reporting (train_log.c) never feeds back into training.
 */
#ifndef OCTO_TRAIN_TRAINER_H
#define OCTO_TRAIN_TRAINER_H

#include <stdbool.h>
#include <stdio.h>

#include "octo.h"

/* The live line: "\r"-rewritten on a terminal, otherwise a plain line at
 * most every 2 seconds (and always for the first and last step, for steps
 * with an eval loss, and when `last` says the run stops here). */
typedef struct {
    FILE *f;
    bool tty;
    double last_print_s;
    bool open_line; /* a \r line is on screen and needs a newline before other text */
} octo_progress;

void octo_progress_init(octo_progress *pr, FILE *f);
void octo_progress_update(octo_progress *pr, const octo_train_progress *p, bool last);
/* Print a message on its own line (ending an open \r line first). */
void octo_progress_note(octo_progress *pr, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void octo_progress_end(octo_progress *pr);

/* Metrics log. Opening for a resumed run keeps the lines of steps <= step
 * (rewritten atomically) and appends after them, so the log of a resumed run
 * reads like the log of a run never stopped. resume_step < 0: a new log. */
FILE *octo_metrics_open(const char *path, int64_t resume_step);
void octo_metrics_write(FILE *f, const octo_train_progress *p);

/* "1h02m", "3m20s", "12s" */
void octo_format_duration(double s, char *buf, size_t cap);

#endif
