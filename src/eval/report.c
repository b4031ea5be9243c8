/* report.c - report.json, report.md and the charts of an evaluation (see
 * report.h).
 *
 * JSON keeps fractions (0..1) and raw counts, for tools; Markdown shows
 * percentages, as papers do. Every file is written whole to a temporary
 * file and renamed (base/file.h), so a report on disk is never half of one.
 */
#include "eval/report.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/error.h"
#include "base/file.h"
#include "eval/svg.h"

/* ---- the paper's numbers ---- */

int octo_eval_paper_rows(const char *name, const octo_eval_summary *s, octo_eval_paper_row *rows, int cap) {
    const octo_eval_scores *o = &s->overall;
    octo_eval_paper_row known[4];
    int n = 0;
    if (!strcmp(name, "octo-planner")) {
        known[n++] = (octo_eval_paper_row){"exact plan accuracy", "Octo-planner, Phi-3 Mini full fine-tuning (Table 1)",
                                           98.1, 100 * o->exact_plan};
    } else if (!strcmp(name, "taskbench-dailylife")) {
        const char *src = "TaskBench, GPT-4 prompted (daily-life APIs)";
        known[n++] = (octo_eval_paper_row){"node F1", src, 96.91, 100 * o->node.f1};
        known[n++] = (octo_eval_paper_row){"edge F1", src, 80.53, 100 * o->edge.f1};
        known[n++] = (octo_eval_paper_row){"argument-value F1", src, 71.14, 100 * o->arg_value.f1};
    }
    if (n > cap) n = cap;
    memcpy(rows, known, (size_t)n * sizeof *rows);
    return n;
}

/* ---- JSON ---- */

static cJSON *prf_json(const octo_prf *p) {
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "precision", p->p);
    cJSON_AddNumberToObject(j, "recall", p->r);
    cJSON_AddNumberToObject(j, "f1", p->f1);
    cJSON_AddNumberToObject(j, "tp", (double)p->tp);
    cJSON_AddNumberToObject(j, "predicted", (double)p->n_pred);
    cJSON_AddNumberToObject(j, "gold", (double)p->n_gold);
    return j;
}

static cJSON *scores_json(const octo_eval_scores *s) {
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "records", s->n);
    cJSON_AddNumberToObject(j, "exact_plan_accuracy", s->exact_plan);
    cJSON_AddNumberToObject(j, "step_validity", s->step_valid);
    cJSON_AddNumberToObject(j, "argument_accuracy", s->arg_acc);
    cJSON_AddNumberToObject(j, "plan_and_arguments_exact", s->exact_full);
    cJSON_AddItemToObject(j, "node", prf_json(&s->node));
    cJSON_AddItemToObject(j, "edge", prf_json(&s->edge));
    cJSON_AddItemToObject(j, "argument_name", prf_json(&s->arg_name));
    cJSON_AddItemToObject(j, "argument_value", prf_json(&s->arg_value));
    cJSON_AddNumberToObject(j, "rouge1", s->rouge1);
    cJSON_AddNumberToObject(j, "rouge2", s->rouge2);
    cJSON_AddNumberToObject(j, "rougeL", s->rougeL);
    if (s->n_judged) {
        cJSON_AddNumberToObject(j, "judged", s->n_judged);
        cJSON_AddNumberToObject(j, "judge_valid", s->judge_valid);
    }
    return j;
}

static void add_str(cJSON *j, const char *k, const char *v) {
    if (v) cJSON_AddStringToObject(j, k, v);
}

cJSON *octo_eval_summary_json(const octo_eval_summary *s, const octo_eval_report_opts *o) {
    cJSON *j = cJSON_CreateObject();
    if (o) {
        add_str(j, "title", o->title);
        add_str(j, "planner", o->planner);
        add_str(j, "action", o->action);
        add_str(j, "functions", o->functions);
        add_str(j, "data", o->data);
    }
    cJSON_AddItemToObject(j, "overall", scores_json(&s->overall));
    cJSON *bl = cJSON_AddObjectToObject(j, "by_plan_length");
    for (int k = 0; k <= OCTO_EVAL_MAX_LEN; k++) {
        if (!s->by_len[k].n) continue;
        char key[16];
        snprintf(key, sizeof key, k == OCTO_EVAL_MAX_LEN ? "%d+" : "%d", k);
        cJSON_AddItemToObject(bl, key, scores_json(&s->by_len[k]));
    }
    cJSON *sp = cJSON_AddObjectToObject(j, "speed");
    cJSON_AddNumberToObject(sp, "requests_timed", s->n_latency);
    if (s->n_latency) {
        cJSON_AddNumberToObject(sp, "latency_p50_ms", s->latency_p50_ms);
        cJSON_AddNumberToObject(sp, "latency_p95_ms", s->latency_p95_ms);
        cJSON_AddNumberToObject(sp, "latency_mean_ms", s->latency_mean_ms);
    }
    if (s->tokens_per_s > 0) cJSON_AddNumberToObject(sp, "tokens_per_s", s->tokens_per_s);
    if (s->prompt_tokens_mean > 0) {
        cJSON_AddNumberToObject(sp, "prompt_tokens_mean", s->prompt_tokens_mean);
        cJSON_AddNumberToObject(sp, "prompt_tokens_max", s->prompt_tokens_max);
    }
    cJSON_AddNumberToObject(sp, "peak_rss_kb", (double)s->peak_rss_kb);
    if (o && o->n_paper) {
        cJSON *pa = cJSON_AddArrayToObject(j, "paper");
        for (int i = 0; i < o->n_paper; i++) {
            cJSON *r = cJSON_CreateObject();
            add_str(r, "metric", o->paper[i].metric);
            add_str(r, "source", o->paper[i].source);
            cJSON_AddNumberToObject(r, "paper", o->paper[i].paper);
            cJSON_AddNumberToObject(r, "ours", o->paper[i].ours);
            cJSON_AddItemToArray(pa, r);
        }
    }
    cJSON *ex = cJSON_AddArrayToObject(j, "mistakes");
    for (int i = 0; i < s->n_examples; i++) {
        cJSON *r = cJSON_CreateObject();
        add_str(r, "query", s->examples[i].query);
        add_str(r, "expected", s->examples[i].expected);
        add_str(r, "predicted", s->examples[i].predicted);
        cJSON_AddItemToArray(ex, r);
    }
    return j;
}

/* ---- Markdown ---- */

typedef struct {
    char *s;
    size_t n, cap;
    int oom;
} md;

static void put(md *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(md *m, const char *fmt, ...) {
    if (m->oom) return;
    va_list ap;
    va_start(ap, fmt);
    int need = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (need < 0) return;
    if (m->n + (size_t)need + 1 > m->cap) {
        size_t cap = m->cap ? m->cap : 8192;
        while (cap < m->n + (size_t)need + 1) cap *= 2;
        char *p = realloc(m->s, cap);
        if (!p) {
            m->oom = 1;
            return;
        }
        m->s = p;
        m->cap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(m->s + m->n, m->cap - m->n, fmt, ap);
    va_end(ap);
    m->n += (size_t)need;
}

/* a table cell: pipes escaped, newlines as spaces, long text cut */
static void put_cell(md *m, const char *t) {
    int k = 0;
    for (; t && *t && k < 300; t++, k++) {
        if (*t == '|') put(m, "\\|");
        else if (*t == '\n' || *t == '\r') put(m, " ");
        else put(m, "%c", *t);
    }
    if (t && *t) put(m, "...");
}

typedef double (*metric_fn)(const octo_eval_scores *);
static double m_exact(const octo_eval_scores *s) { return s->exact_plan; }
static double m_valid(const octo_eval_scores *s) { return s->step_valid; }
static double m_arg(const octo_eval_scores *s) { return s->arg_acc; }
static double m_full(const octo_eval_scores *s) { return s->exact_full; }
/* an F1 with nothing on either side (edges of one-step plans) is shown as
 * n/a; evaluate.py, and report.json, count it as 0 */
static double f1_or_nan(const octo_prf *p) { return p->n_pred || p->n_gold ? p->f1 : NAN; }
static double m_node(const octo_eval_scores *s) { return f1_or_nan(&s->node); }
static double m_edge(const octo_eval_scores *s) { return f1_or_nan(&s->edge); }
static double m_aname(const octo_eval_scores *s) { return f1_or_nan(&s->arg_name); }
static double m_avalue(const octo_eval_scores *s) { return f1_or_nan(&s->arg_value); }
static double m_r1(const octo_eval_scores *s) { return s->rouge1; }
static double m_r2(const octo_eval_scores *s) { return s->rouge2; }
static double m_rl(const octo_eval_scores *s) { return s->rougeL; }
static double m_judge(const octo_eval_scores *s) { return s->judge_valid; }

static const struct {
    const char *name;
    metric_fn fn;
} k_rows[] = {
    {"exact plan accuracy", m_exact}, {"step validity", m_valid},      {"argument accuracy", m_arg},
    {"plan and arguments exact", m_full}, {"node F1 (TaskBench)", m_node}, {"edge F1 (TaskBench)", m_edge},
    {"argument-name F1 (TaskBench)", m_aname}, {"argument-value F1 (TaskBench)", m_avalue},
    {"ROUGE-1 of the steps", m_r1}, {"ROUGE-2 of the steps", m_r2}, {"ROUGE-L of the steps", m_rl},
};

static void scores_table(md *m, const octo_eval_summary *s) {
    put(m, "| metric | all |");
    for (int k = 0; k <= OCTO_EVAL_MAX_LEN; k++)
        if (s->by_len[k].n) put(m, k == OCTO_EVAL_MAX_LEN ? " %d+ steps |" : " %d step%s |", k, k == 1 ? "" : "s");
    put(m, "\n|---|---:|");
    for (int k = 0; k <= OCTO_EVAL_MAX_LEN; k++)
        if (s->by_len[k].n) put(m, "---:|");
    put(m, "\n| records | %d |", s->overall.n);
    for (int k = 0; k <= OCTO_EVAL_MAX_LEN; k++)
        if (s->by_len[k].n) put(m, " %d |", s->by_len[k].n);
    put(m, "\n");
    int nr = (int)(sizeof k_rows / sizeof k_rows[0]);
    for (int i = 0; i <= nr; i++) {
        const char *name = i < nr ? k_rows[i].name : "judge: valid";
        metric_fn fn = i < nr ? k_rows[i].fn : m_judge;
        if (i == nr && !s->overall.n_judged) break;
        put(m, "| %s |", name);
        for (int k = -1; k <= OCTO_EVAL_MAX_LEN; k++) {
            if (k >= 0 && !s->by_len[k].n) continue;
            double v = fn(k < 0 ? &s->overall : &s->by_len[k]);
            if (isnan(v)) put(m, " n/a |");
            else put(m, " %.2f |", 100 * v);
        }
        put(m, "\n");
    }
}

static void header_table(md *m, const octo_eval_report_opts *o) {
    const char *k[] = {"planner", "action model", "functions", "test data"};
    const char *v[] = {o->planner, o->action, o->functions, o->data};
    int any = 0;
    for (int i = 0; i < 4; i++) any |= v[i] != NULL;
    if (!any) return;
    put(m, "| | |\n|---|---|\n");
    for (int i = 0; i < 4; i++)
        if (v[i]) {
            put(m, "| %s | `", k[i]);
            put_cell(m, v[i]);
            put(m, "` |\n");
        }
    put(m, "\n");
}

static char *markdown(const octo_eval_summary *s, const octo_eval_report_opts *o, int have_loss) {
    md m = {0};
    put(&m, "# Evaluation: ");
    put_cell(&m, o->title ? o->title : "octo eval");
    put(&m, "\n\n");
    header_table(&m, o);
    put(&m, "## Scores (percent)\n\nColumns after *all* group the test records by the length of their reference "
            "plan. docs/eval.md defines every metric.\n\n");
    scores_table(&m, s);
    put(&m, "\n![scores by plan length](accuracy_by_length.svg)\n\n");
    if (o->n_paper) {
        put(&m, "## Against the published numbers\n\n| metric | published | source | octo | difference |\n"
                "|---|---:|---|---:|---:|\n");
        for (int i = 0; i < o->n_paper; i++) {
            const octo_eval_paper_row *r = &o->paper[i];
            put(&m, "| ");
            put_cell(&m, r->metric);
            put(&m, " | %.2f | ", r->paper);
            put_cell(&m, r->source);
            put(&m, " | %.2f | %+.2f |\n", r->ours, r->ours - r->paper);
        }
        put(&m, "\n");
    }
    put(&m, "## Speed and memory\n\n| | |\n|---|---:|\n");
    if (s->n_latency)
        put(&m, "| latency p50 / p95 / mean | %.1f / %.1f / %.1f ms (%d requests) |\n", s->latency_p50_ms,
            s->latency_p95_ms, s->latency_mean_ms, s->n_latency);
    if (s->tokens_per_s > 0) put(&m, "| generation speed | %.1f tokens/s |\n", s->tokens_per_s);
    if (s->prompt_tokens_mean > 0)
        put(&m, "| planner prompt, mean / max | %.1f / %d tokens |\n", s->prompt_tokens_mean, s->prompt_tokens_max);
    put(&m, "| peak RSS | %.1f MB |\n\n", s->peak_rss_kb / 1024.0);
    if (have_loss) put(&m, "## Training\n\n![training loss](loss.svg)\n\n");
    if (s->n_examples) {
        put(&m, "## First mistakes\n\n%d shown of %d records not fully right.\n\n| query | expected | predicted |\n"
                "|---|---|---|\n",
            s->n_examples, (int)lround(s->overall.n * (1 - s->overall.exact_full)));
        for (int i = 0; i < s->n_examples; i++) {
            put(&m, "| ");
            put_cell(&m, s->examples[i].query);
            put(&m, " | `");
            put_cell(&m, s->examples[i].expected);
            put(&m, "` | `");
            put_cell(&m, s->examples[i].predicted);
            put(&m, "` |\n");
        }
    }
    if (m.oom) {
        free(m.s);
        return NULL;
    }
    return m.s;
}

/* ---- charts ---- */

static char *length_chart(const octo_eval_summary *s) {
    const char *cats[OCTO_EVAL_MAX_LEN + 1];
    char labels[OCTO_EVAL_MAX_LEN + 1][16];
    double y[3][OCTO_EVAL_MAX_LEN + 1];
    int nc = 0;
    for (int k = 0; k <= OCTO_EVAL_MAX_LEN; k++) {
        const octo_eval_scores *b = &s->by_len[k];
        if (!b->n) continue;
        snprintf(labels[nc], sizeof labels[nc], k == OCTO_EVAL_MAX_LEN ? "%d+ (n=%d)" : "%d (n=%d)", k, b->n);
        cats[nc] = labels[nc];
        y[0][nc] = 100 * b->exact_plan;
        y[1][nc] = 100 * b->exact_full;
        y[2][nc] = 100 * b->node.f1;
        nc++;
    }
    octo_svg_series ser[3] = {{"exact plan accuracy", NULL, y[0], nc},
                              {"plan and arguments exact", NULL, y[1], nc},
                              {"node F1", NULL, y[2], nc}};
    return octo_svg_bars("Scores by plan length", "percent", cats, nc, ser, 3, 100);
}

typedef struct {
    double *x, *y;
    int n, cap;
} points;

static int points_add(points *p, double x, double y) {
    if (p->n == p->cap) {
        int cap = p->cap ? p->cap * 2 : 256;
        double *a = realloc(p->x, (size_t)cap * sizeof *a);
        if (!a) return -1;
        p->x = a;
        double *b = realloc(p->y, (size_t)cap * sizeof *b);
        if (!b) return -1;
        p->y = b;
        p->cap = cap;
    }
    p->x[p->n] = x;
    p->y[p->n] = y;
    p->n++;
    return 0;
}

/* keep at most `max` points, evenly spaced, the last one included */
static void thin(points *p, int max) {
    if (p->n <= max) return;
    double stride = (double)(p->n - 1) / (max - 1);
    for (int i = 0; i < max; i++) {
        int k = (int)lround(i * stride);
        p->x[i] = p->x[k];
        p->y[i] = p->y[k];
    }
    p->n = max;
}

/* Loss (and eval loss) of each training log: lines {"step", "loss", "eval_loss"?}. */
static char *loss_chart(const octo_eval_report_opts *o) {
    int n = o->n_train_logs;
    points *pts = calloc((size_t)n * 2, sizeof *pts);
    octo_svg_series *ser = calloc((size_t)n * 2, sizeof *ser);
    char(*names)[128] = calloc((size_t)n * 2, sizeof *names);
    char *svg = NULL;
    int ns = 0;
    if (!pts || !ser || !names) goto out;
    for (int i = 0; i < n; i++) {
        size_t size;
        char *text = octo_read_file(o->train_logs[i], &size);
        if (!text) goto out;
        for (char *line = text, *nl; line && *line; line = nl ? nl + 1 : NULL) {
            nl = strchr(line, '\n');
            if (nl) *nl = 0;
            cJSON *j = cJSON_Parse(line);
            const cJSON *st = cJSON_GetObjectItemCaseSensitive(j, "step");
            const cJSON *l = cJSON_GetObjectItemCaseSensitive(j, "loss");
            const cJSON *ev = cJSON_GetObjectItemCaseSensitive(j, "eval_loss");
            if (cJSON_IsNumber(st) && cJSON_IsNumber(l)) points_add(&pts[2 * i], st->valuedouble, l->valuedouble);
            if (cJSON_IsNumber(st) && cJSON_IsNumber(ev)) points_add(&pts[2 * i + 1], st->valuedouble, ev->valuedouble);
            cJSON_Delete(j);
        }
        free(text);
        const char *base = o->train_log_names && o->train_log_names[i] ? o->train_log_names[i] : o->train_logs[i];
        const char *slash = o->train_log_names && o->train_log_names[i] ? NULL : strrchr(base, '/');
        if (slash) base = slash + 1;
        for (int e = 0; e < 2; e++) {
            points *p = &pts[2 * i + e];
            if (!p->n) continue;
            thin(p, 2000);
            snprintf(names[ns], sizeof names[ns], "%s%s", e ? "eval loss, " : "loss, ", base);
            ser[ns] = (octo_svg_series){names[ns], p->x, p->y, p->n};
            ns++;
        }
    }
    if (!ns) {
        octo_fail("%s: no lines with \"step\" and \"loss\"", n ? o->train_logs[0] : "training logs");
        goto out;
    }
    svg = octo_svg_lines("Training loss", "step", "loss", ser, ns);
    if (!svg) octo_fail("report: out of memory");
out:
    for (int i = 0; pts && i < 2 * n; i++) {
        free(pts[i].x);
        free(pts[i].y);
    }
    free(pts);
    free(ser);
    free(names);
    return svg;
}

/* ---- files ---- */

static int mkdirs(const char *dir) {
    char *p = strdup(dir);
    if (!p) return octo_fail("report: out of memory");
    for (char *s = p + 1; *s; s++) {
        if (*s != '/') continue;
        *s = 0;
        if (mkdir(p, 0755) != 0 && errno != EEXIST) {
            octo_fail("%s: cannot create: %s", p, strerror(errno));
            free(p);
            return -1;
        }
        *s = '/';
    }
    int rc = 0;
    if (mkdir(p, 0755) != 0 && errno != EEXIST) rc = octo_fail("%s: cannot create: %s", p, strerror(errno));
    free(p);
    return rc;
}

static int write_text(const char *dir, const char *name, const char *text) {
    if (!text) return octo_fail("report: out of memory");
    size_t n = strlen(dir) + strlen(name) + 2;
    char *path = malloc(n);
    if (!path) return octo_fail("report: out of memory");
    snprintf(path, n, "%s/%s", dir, name);
    int rc = octo_write_file_atomic(path, text, strlen(text));
    free(path);
    return rc;
}

int octo_eval_write_report(const octo_eval_summary *s, const octo_eval_report_opts *o, const char *dir) {
    octo_eval_report_opts none = {0};
    if (!o) o = &none;
    if (mkdirs(dir) != 0) return -1;
    char *loss = NULL;
    if (o->n_train_logs > 0 && !(loss = loss_chart(o))) return -1;
    cJSON *j = octo_eval_summary_json(s, o);
    char *js = j ? cJSON_Print(j) : NULL;
    cJSON_Delete(j);
    char *jsn = js ? malloc(strlen(js) + 2) : NULL;
    if (jsn) sprintf(jsn, "%s\n", js);
    free(js);
    char *mdtext = markdown(s, o, loss != NULL);
    char *bars = length_chart(s);
    int rc = write_text(dir, "report.json", jsn);
    if (!rc) rc = write_text(dir, "accuracy_by_length.svg", bars);
    if (!rc && loss) rc = write_text(dir, "loss.svg", loss);
    if (!rc) rc = write_text(dir, "report.md", mdtext); /* last: its links point at the others */
    free(jsn);
    free(mdtext);
    free(bars);
    free(loss);
    return rc;
}
