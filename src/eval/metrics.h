/* metrics.h - scoring predicted plans against reference records.
 *
 * `octo eval` runs the planner and the action model over a test set; every
 * (prediction, reference) pair goes through octo_eval_add, and
 * octo_eval_finish turns the counts into scores, overall and per plan
 * length (the reference's number of calls):
 *
 * - octo's own: exact plan accuracy (the called functions in the order of
 *   the reference; with "task_links" in the reference, any order that keeps
 *   every link counts), step validity, argument accuracy;
 * - TaskBench's, as its evaluate.py defines them: node F1, edge F1,
 *   argument-name F1, argument-value F1 (micro over per-sample unions) and
 *   ROUGE-1/2/L of the step texts;
 * - speed: latency p50/p95, tokens/s, prompt tokens, peak RSS;
 * - an optional LLM judge's verdicts.
 *
 * docs/eval.md defines every number exactly.
 */
#ifndef OCTO_EVAL_METRICS_H
#define OCTO_EVAL_METRICS_H

#include <stdbool.h>

#include "agent/funcset.h"
#include "data/record.h"

#define OCTO_EVAL_MAX_LEN 10 /* plan lengths 1..10 get a row each; longer plans count in row 10 */
#define OCTO_EVAL_MAX_EXAMPLES 20

/* What was measured for one request besides the plan (-1 / 0: not measured). */
typedef struct {
    double latency_ms;    /* request in, last call out */
    int prompt_tokens;    /* planner prompt length */
    int gen_tokens;       /* tokens generated (planner and action model) */
    double gen_seconds;   /* time spent generating them */
    int judge;            /* LLM judge: 1 valid, 0 invalid, -1 not asked */
} octo_eval_sample;

void octo_eval_sample_default(octo_eval_sample *s);

/* Precision, recall and F1 from micro counts. */
typedef struct {
    long tp, n_pred, n_gold;
    double p, r, f1;
} octo_prf;

typedef struct {
    int n;               /* records */
    double exact_plan;   /* fraction of records whose function sequence is right */
    double step_valid;   /* fraction whose every step maps to an existing function */
    double arg_acc;      /* reference calls matched by a call with the same function and equal arguments */
    double exact_full;   /* fraction with the plan and every argument right */
    octo_prf node, edge, arg_name, arg_value; /* TaskBench */
    double rouge1, rouge2, rougeL;             /* mean F-measure of the step texts */
    int n_judged;
    double judge_valid;  /* fraction of judged records the judge called valid */
} octo_eval_scores;

typedef struct {
    char *query;
    char *expected;  /* "f1 -> f2 -> f3" */
    char *predicted;
} octo_eval_example;

typedef struct {
    octo_eval_scores overall;
    octo_eval_scores by_len[OCTO_EVAL_MAX_LEN + 1]; /* [k]: references with k calls; n == 0: none */
    int n_latency;
    double latency_p50_ms, latency_p95_ms, latency_mean_ms;
    double tokens_per_s;        /* 0: not measured */
    double prompt_tokens_mean;  /* 0: not measured */
    int prompt_tokens_max;
    long peak_rss_kb;           /* of this process, at octo_eval_finish */
    octo_eval_example examples[OCTO_EVAL_MAX_EXAMPLES]; /* the first plans that were wrong */
    int n_examples;
} octo_eval_summary;

typedef struct octo_eval octo_eval;

/* fs: the function set (step validity, and TaskBench's node types: names
 * outside it count for neither side of node F1, as in evaluate.py); NULL
 * takes every name as valid. The set must outlive the accumulator. */
octo_eval *octo_eval_new(const octo_funcset *fs);
void octo_eval_free(octo_eval *e);

/* Score one prediction (NULL: the system produced no plan) against its
 * reference; s may be NULL. Returns 0 or -1 (out of memory). */
int octo_eval_add(octo_eval *e, const octo_record *pred, const octo_record *ref, const octo_eval_sample *s);

/* The scores so far (the accumulator can take more records afterwards).
 * Free with octo_eval_summary_free. */
int octo_eval_finish(const octo_eval *e, octo_eval_summary *out);
void octo_eval_summary_free(octo_eval_summary *s);

/* ---- pieces, exposed for tests and other tools ---- */

/* Is pred (n_pred names) an order of the reference's calls that keeps every
 * link? links: pairs (from, to) of reference positions, n_links of them;
 * assign (may be NULL) gets, for each predicted position, its reference
 * position. */
bool octo_eval_plan_matches(const char *const *pred, int n_pred, const char *const *ref, int n_ref,
                            const int (*links)[2], int n_links, int *assign);

/* ROUGE-N (n = 1, 2) and ROUGE-L F-measures of a prediction against a
 * reference, tokenized as Google's rouge_score does without stemming
 * (lower-case, runs of [a-z0-9] are tokens). */
double octo_rouge_n(const char *pred, const char *ref, int n);
double octo_rouge_l(const char *pred, const char *ref);

#endif
