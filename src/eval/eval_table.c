/* eval_table.c - an evaluation's result for people (a fixed-width table on
 * the terminal) and for tools (report.json's text, the report directory
 * through eval/report.c).
 */
#include <stdlib.h>
#include <string.h>

#include "eval/eval_run.h"

char *octo_eval_result_json(const octo_eval_result *r) {
    cJSON *j = octo_eval_summary_json(&r->sum, &r->opts);
    if (!j) return NULL;
    char *s = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    return s;
}

int octo_eval_result_write(const octo_eval_result *r, const char *dir) {
    return octo_eval_write_report(&r->sum, &r->opts, dir);
}

static void pct(FILE *f, double v) { fprintf(f, " %7.1f", 100 * v); }

static void f1(FILE *f, const octo_prf *p) {
    if (p->n_pred || p->n_gold) fprintf(f, " %7.1f", 100 * p->f1);
    else fprintf(f, " %7s", "n/a"); /* nothing on either side: no score */
}

static void row(FILE *f, const char *label, const octo_eval_scores *s, bool judged) {
    fprintf(f, "%-6s %6d", label, s->n);
    pct(f, s->exact_plan);
    pct(f, s->step_valid);
    pct(f, s->arg_acc);
    pct(f, s->exact_full);
    f1(f, &s->node);
    f1(f, &s->edge);
    f1(f, &s->arg_name);
    f1(f, &s->arg_value);
    pct(f, s->rouge1);
    pct(f, s->rouge2);
    if (judged) {
        if (s->n_judged) pct(f, s->judge_valid);
        else fprintf(f, " %7s", "n/a");
    }
    fputc('\n', f);
}

void octo_eval_result_print(const octo_eval_result *r, FILE *f) {
    const octo_eval_summary *s = &r->sum;
    bool judged = s->overall.n_judged > 0;
    fprintf(f, "%s\n", r->title ? r->title : "evaluation");
    fprintf(f, "scores in %% (docs/eval.md); rows by the reference's plan length\n");
    fprintf(f, "%-6s %6s %7s %7s %7s %7s %7s %7s %7s %7s %7s %7s%s\n", "steps", "n", "exact", "valid", "args",
            "full", "node", "edge", "a-name", "a-value", "R-1", "R-2", judged ? "   judge" : "");
    for (int k = 1; k <= OCTO_EVAL_MAX_LEN; k++) {
        if (!s->by_len[k].n) continue;
        char label[16];
        snprintf(label, sizeof label, k == OCTO_EVAL_MAX_LEN ? "%d+" : "%d", k);
        row(f, label, &s->by_len[k], judged);
    }
    if (s->by_len[0].n) row(f, "0", &s->by_len[0], judged);
    row(f, "all", &s->overall, judged);
    fprintf(f, "exact: plan exact; valid: every step a function of the set; args: reference calls with equal\n"
               "arguments; full: plan and all arguments; node/edge/a-name/a-value: TaskBench F1; R-1/R-2: ROUGE F\n");
    if (s->n_latency) {
        fprintf(f, "latency per request: p50 %.1f ms, p95 %.1f ms, mean %.1f ms (%d requests)\n", s->latency_p50_ms,
                s->latency_p95_ms, s->latency_mean_ms, s->n_latency);
        if (s->latency_mean_ms > 0)
            fprintf(f, "throughput: %.2f requests/s (one at a time: 1 / mean latency)\n", 1e3 / s->latency_mean_ms);
    }
    if (s->tokens_per_s > 0) fprintf(f, "generation: %.1f tokens/s\n", s->tokens_per_s);
    if (s->prompt_tokens_mean > 0)
        fprintf(f, "planner prompt: %.1f tokens mean, %d max\n", s->prompt_tokens_mean, s->prompt_tokens_max);
    fprintf(f, "peak RSS: %.1f MiB\n", s->peak_rss_kb / 1024.0);
    if (r->n_skipped) fprintf(f, "skipped: %d TaskBench records the converter rejects\n", r->n_skipped);
    for (int i = 0; i < r->n_paper; i++)
        fprintf(f, "%s: %.2f (%s: %.2f)\n", r->paper[i].metric, r->paper[i].ours, r->paper[i].source,
                r->paper[i].paper);
}
