/* eval_run.h - the driver behind `octo eval` (octo_eval_run in octo.h).
 *
 * It reads the test set once (canonical JSONL, or raw TaskBench records
 * converted on the fly), then either runs the models over it or reads a
 * file of predictions, and feeds every (prediction, reference) pair to the
 * metrics accumulator (eval/metrics.h). The report itself is
 * eval/report.c's.
 *
 * Model mode, per request, exactly what `octo run --dry-run` does: plan,
 * then one call per step in order, each step acted on with no observation
 * (handlers are never executed during an evaluation, so no call returns
 * anything; the action model's prompt is the one it gets for a first step
 * or after a call with no output). A step the action model cannot turn into
 * a call stops that request there, as in `octo run`; a request the planner
 * cannot plan scores as an empty prediction. Measured per request: latency
 * (request in, last call out), the planner's prompt length in tokens, the
 * tokens both models generate and the time spent generating them.
 *
 * Split in three files: eval_input.c (reading the test set and
 * predictions), eval_run.c (the loop, the judge, the scores), eval_table.c
 * (the readable table, the JSON and the report files).
 */
#ifndef OCTO_EVAL_EVAL_RUN_H
#define OCTO_EVAL_EVAL_RUN_H

#include <stdbool.h>

#include "octo.h"
#include "data/record.h"
#include "eval/metrics.h"
#include "eval/report.h"

struct octo_eval_result {
    octo_eval_summary sum;
    octo_eval_report_opts opts; /* strings below are owned copies */
    char *title, *planner, *action, *functions, *data;
    char **train_logs;
    int n_train_logs;
    octo_eval_paper_row paper[4];
    int n_paper;
    int n_skipped; /* TaskBench records the converter could not read */
};

/* The test set: canonical JSONL read strictly ("FILE:LINE: reason"), or
 * TaskBench records (a JSON array, or lines with "task_nodes" /
 * "task_steps") converted with fs, keeping calls to tools outside fs (they
 * count as wrong for any system). TaskBench records the converter rejects
 * are reported on stderr, one line each, and counted in *n_skipped; when
 * none can be read that is an error. *taskbench says which format it was. */
int octo_eval_read_refs(const char *path, const octo_funcset *fs, octo_record **out, int *n, bool *taskbench,
                        int *n_skipped);

/* Predictions, one JSON object a line (blank lines skipped), read
 * leniently: "steps" and "calls" may be missing, empty or of different
 * lengths (an `octo run --json` line that stopped early), "arguments" may
 * be an object or its JSON text; null or {} is an empty prediction.
 * Anything else is an error "FILE:LINE: reason". */
int octo_eval_read_preds(const char *path, octo_record **out, int *n);

/* Detection alone: 1 TaskBench, 0 canonical, -1 unreadable (error set). */
int octo_eval_is_taskbench(const char *path);

#endif
