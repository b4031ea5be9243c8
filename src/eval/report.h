/* report.h - an evaluation's report: JSON for tools, Markdown with SVG
 * charts for people.
 *
 * octo_eval_write_report(summary, opts, dir) writes, each atomically:
 *   dir/report.json            every number of the summary
 *   dir/report.md              tables (overall and per plan length, the
 *                              paper's numbers beside ours, speed), the
 *                              charts, and the first mistakes
 *   dir/accuracy_by_length.svg scores by plan length
 *   dir/loss.svg               training loss curves (when logs are given)
 */
#ifndef OCTO_EVAL_REPORT_H
#define OCTO_EVAL_REPORT_H

#include <cjson/cJSON.h>

#include "eval/metrics.h"

/* One line of the comparison table; values are percentages. */
typedef struct {
    const char *metric; /* "exact plan accuracy" */
    const char *source; /* "Octo-planner, Phi-3 Mini full FT (Table 1)" */
    double paper;
    double ours;
} octo_eval_paper_row;

typedef struct {
    const char *title;                  /* "android, held-out test set" */
    const char *planner, *action, *functions, *data; /* shown in the header when set */
    const char *const *train_logs;      /* training metrics JSONL files ({"step", "loss", ["eval_loss"]} a line) */
    const char *const *train_log_names; /* legend names (NULL: the file names) */
    int n_train_logs;
    const octo_eval_paper_row *paper;   /* the published numbers to set beside ours */
    int n_paper;
} octo_eval_report_opts;

/* The comparison rows for a known reference, with our numbers filled in
 * from s: "octo-planner" (the paper's android result, Table 1) or
 * "taskbench-dailylife" (GPT-4 prompted, as TaskBench reports it). Returns
 * the number of rows written (at most cap), 0 for an unknown name. */
int octo_eval_paper_rows(const char *name, const octo_eval_summary *s, octo_eval_paper_row *rows, int cap);

/* The summary as a JSON object (the content of report.json). */
cJSON *octo_eval_summary_json(const octo_eval_summary *s, const octo_eval_report_opts *o);

/* Write the report files into dir (created if missing). Returns 0 or -1. */
int octo_eval_write_report(const octo_eval_summary *s, const octo_eval_report_opts *o, const char *dir);

#endif
