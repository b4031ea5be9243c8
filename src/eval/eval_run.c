/* eval_run.c - octo_eval_run: the test set through the models (or a
 * predictions file), an optional LLM judge, then the scores. See
 * eval_run.h for what one request does and what is measured.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/error.h"
#include "data/teacher.h"
#include "eval/eval_run.h"

void octo_eval_params_default(octo_eval_params *p) {
    memset(p, 0, sizeof *p);
    octo_agent_params_default(&p->agent);
}

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* ---- model mode ---- */

typedef struct {
    octo_model *mp, *ma;
    octo_planner *pl;
    octo_actor *ac;
} models;

static void models_free(models *m) {
    octo_actor_free(m->ac);
    octo_planner_free(m->pl);
    octo_model_free(m->ma);
    octo_model_free(m->mp);
}

static int set_adapter(const char *path, const octo_model *m, octo_ctx *c) {
    if (!path) return 0;
    octo_lora *l = octo_lora_load(path, m);
    if (!l) return -1;
    int rc = octo_ctx_set_adapters(c, &l, NULL, 1);
    octo_lora_free(l);
    return rc;
}

static int models_load(const octo_funcset *fs, const octo_eval_params *p, models *m) {
    memset(m, 0, sizeof *m);
    if (!(m->mp = octo_model_load(p->planner))) return -1;
    /* one file for both models is allowed (a model trained on both formats) */
    if (strcmp(p->planner, p->action) != 0 && !(m->ma = octo_model_load(p->action))) return -1;
    if (!(m->pl = octo_planner_new(m->mp, &p->agent))) return -1;
    if (!(m->ac = octo_actor_new(m->ma ? m->ma : m->mp, fs, &p->agent))) return -1;
    if (set_adapter(p->planner_lora, m->mp, octo_planner_ctx(m->pl)) != 0)
        return octo_fail_context("--planner-lora %s", p->planner_lora);
    if (set_adapter(p->action_lora, m->ma ? m->ma : m->mp, octo_actor_ctx(m->ac)) != 0)
        return octo_fail_context("--action-lora %s", p->action_lora);
    return 0;
}

/* Plan and act on one request; pred gets what was produced (possibly
 * nothing), s what was measured. Fails only when out of memory: a request
 * the models get wrong is a wrong prediction, not an error. */
static int predict(models *m, const char *query, octo_record *pred, octo_eval_sample *s) {
    memset(pred, 0, sizeof *pred);
    octo_eval_sample_default(s);
    octo_agent_stats st;
    double t0 = now_ms();
    char **steps = NULL;
    int n = octo_planner_plan(m->pl, query, &steps);
    octo_planner_stats(m->pl, &st);
    s->prompt_tokens = st.n_prompt;
    s->gen_tokens = st.n_generated;
    s->gen_seconds = (st.forward_ms + st.constrain_ms) / 1e3;
    if (!(pred->query = strdup(query))) goto oom;
    if (n > 0) {
        pred->steps = steps;
        pred->n_steps = n;
        if (!(pred->calls = calloc((size_t)n, sizeof *pred->calls))) goto oom;
        for (int i = 0; i < n; i++) {
            octo_agent_call call = {0};
            /* dry run: nothing executed, so no observation to pass on */
            int rc = octo_actor_act(m->ac, steps[i], NULL, &call);
            octo_actor_stats(m->ac, &st);
            s->gen_tokens += st.n_generated;
            s->gen_seconds += (st.forward_ms + st.constrain_ms) / 1e3;
            if (rc != 0) break; /* as `octo run`: the request stops at a step that maps to no call */
            cJSON *args = cJSON_Parse(call.arguments);
            pred->calls[i].function = call.function;
            pred->calls[i].arguments = args ? args : cJSON_CreateObject();
            call.function = NULL;
            octo_agent_call_free(&call);
            pred->n_calls = i + 1;
            if (!pred->calls[i].arguments) goto oom;
        }
    }
    s->latency_ms = now_ms() - t0;
    return 0;
oom:
    return octo_fail("out of memory");
}

/* ---- the judge ---- */

static int judge(const octo_funcset *fs, const octo_eval_params *p, const octo_record *preds,
                 const octo_record *refs, int n, octo_eval_sample *samples) {
    /* the judge sees the request with the predicted plan; a request with no
     * call at all is invalid without asking */
    octo_record *ask = calloc((size_t)n + 1, sizeof *ask);
    int *idx = calloc((size_t)n + 1, sizeof *idx), *verdicts = calloc((size_t)n + 1, sizeof *verdicts);
    int n_ask = 0, rc = 0;
    if (!ask || !idx || !verdicts) {
        rc = octo_fail("out of memory");
        goto out;
    }
    for (int i = 0; i < n; i++) {
        if (preds[i].n_calls == 0) {
            samples[i].judge = 0;
            continue;
        }
        ask[n_ask] = preds[i]; /* shallow: the judge only reads */
        ask[n_ask].query = refs[i].query;
        ask[n_ask].extra = NULL;
        idx[n_ask++] = i;
    }
    if (n_ask) {
        octo_teacher_opts o;
        octo_teacher_opts_default(&o);
        o.url = p->judge_url;
        o.model = p->judge_model;
        if (p->judge_key_env) o.key_env = p->judge_key_env;
        o.temperature = 0;
        if (octo_teacher_judge(fs, &o, ask, n_ask, verdicts, NULL) < 0) {
            rc = octo_fail_context("judge %s", p->judge_url);
            goto out;
        }
        for (int k = 0; k < n_ask; k++) samples[idx[k]].judge = verdicts[k]; /* -1: no usable answer */
    }
out:
    free(ask);
    free(idx);
    free(verdicts);
    return rc;
}

/* ---- the run ---- */

static char *opt_dup(const char *s) { return s ? strdup(s) : NULL; }

static const char *base_name(const char *p) {
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

void octo_eval_result_free(octo_eval_result *r) {
    if (!r) return;
    octo_eval_summary_free(&r->sum);
    free(r->title);
    free(r->planner);
    free(r->action);
    free(r->functions);
    free(r->data);
    for (int i = 0; i < r->n_train_logs; i++) free(r->train_logs[i]);
    free(r->train_logs);
    free(r);
}

int octo_eval_result_n(const octo_eval_result *r) { return r ? r->sum.overall.n : 0; }

static octo_eval_result *result_new(const octo_funcset *fs, const octo_eval_params *p, bool taskbench) {
    octo_eval_result *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    const char *set = fs->name ? fs->name : "functions";
    size_t tn = strlen(set) + strlen(base_name(p->data)) + 64;
    r->title = malloc(tn);
    if (r->title)
        snprintf(r->title, tn, "%s: %s%s", set, base_name(p->data), taskbench ? " (TaskBench records)" : "");
    r->planner = opt_dup(p->predictions ? NULL : p->planner);
    r->action = opt_dup(p->predictions ? NULL : p->action);
    r->functions = opt_dup(fs->path ? fs->path : set);
    r->data = opt_dup(p->data);
    if (p->predictions) { /* the predictions stand where the models would */
        free(r->planner);
        size_t n = strlen(p->predictions) + 16;
        if ((r->planner = malloc(n))) snprintf(r->planner, n, "predictions %s", p->predictions);
    }
    if (p->n_train_logs > 0 && (r->train_logs = calloc((size_t)p->n_train_logs, sizeof *r->train_logs)))
        for (int i = 0; i < p->n_train_logs; i++)
            if ((r->train_logs[i] = strdup(p->train_logs[i]))) r->n_train_logs++;
    octo_eval_report_opts *o = &r->opts;
    o->title = r->title;
    o->planner = r->planner;
    o->action = r->action;
    o->functions = r->functions;
    o->data = r->data;
    o->train_logs = (const char *const *)r->train_logs;
    o->n_train_logs = r->n_train_logs;
    return r;
}

/* The published numbers to set beside ours, by domain. */
static void add_paper(octo_eval_result *r, const octo_funcset *fs, bool taskbench) {
    const char *ref = NULL;
    if (taskbench || (fs->name && !strcmp(fs->name, "dailylife"))) ref = "taskbench-dailylife";
    else if (fs->name && !strcmp(fs->name, "android")) ref = "octo-planner";
    r->n_paper = ref ? octo_eval_paper_rows(ref, &r->sum, r->paper, 4) : 0;
    r->opts.paper = r->paper;
    r->opts.n_paper = r->n_paper;
}

octo_eval_result *octo_eval_run(const octo_funcset *fs, const octo_eval_params *p) {
    if (!fs || !p || !p->data) return octo_fail("eval: a function set and a test set are required"), NULL;
    if (!p->predictions && (!p->planner || !p->action))
        return octo_fail("eval: a planner and an action model, or a predictions file, are required"), NULL;
    if (p->judge_url && !p->judge_model) return octo_fail("eval: the judge needs a model name"), NULL;
    octo_record *refs = NULL, *preds = NULL;
    int n = 0, n_all = 0, n_preds = 0, n_skipped = 0;
    bool taskbench = false;
    octo_eval_sample *samples = NULL;
    octo_eval_result *res = NULL;
    models m = {0};
    octo_eval *acc = NULL;
    if (octo_eval_read_refs(p->data, fs, &refs, &n, &taskbench, &n_skipped) != 0) goto fail;
    n_all = n;
    if (p->limit > 0 && p->limit < n) n = p->limit;
    if (!(samples = calloc((size_t)n, sizeof *samples))) goto oom;
    if (p->predictions) {
        if (octo_eval_read_preds(p->predictions, &preds, &n_preds) != 0) goto fail;
        if (n_preds < n || (n_preds > n && n == n_all)) {
            octo_fail("%s: %d predictions for %d test records in %s (one per record, in the same order)",
                      p->predictions, n_preds, n, p->data);
            goto fail;
        }
        for (int i = 0; i < n; i++) {
            octo_eval_sample_default(&samples[i]);
            const char *q = preds[i].query;
            if (q && strcmp(q, refs[i].query) != 0) {
                octo_fail("%s: prediction %d is for \"%.60s\", test record %d is \"%.60s\" (predictions must "
                          "follow the test set's order)", p->predictions, i + 1, q, i + 1, refs[i].query);
                goto fail;
            }
        }
    } else {
        if (models_load(fs, p, &m) != 0) goto fail;
        if (!(preds = calloc((size_t)n, sizeof *preds))) goto oom;
        n_preds = n;
        for (int i = 0; i < n; i++) {
            if (predict(&m, refs[i].query, &preds[i], &samples[i]) != 0) goto fail;
            if (p->progress) p->progress(p->progress_user, i + 1, n, samples[i].latency_ms);
        }
        models_free(&m);
        memset(&m, 0, sizeof m);
    }
    if (p->judge_url && judge(fs, p, preds, refs, n, samples) != 0) goto fail;
    if (!(res = result_new(fs, p, taskbench)) || !(acc = octo_eval_new(fs))) goto oom;
    res->n_skipped = n_skipped;
    for (int i = 0; i < n; i++)
        if (octo_eval_add(acc, &preds[i], &refs[i], &samples[i]) != 0) goto oom;
    if (octo_eval_finish(acc, &res->sum) != 0) goto oom;
    add_paper(res, fs, taskbench);
    octo_eval_free(acc);
    octo_records_free(preds, n_preds);
    octo_records_free(refs, n_all);
    free(samples);
    return res;
oom:
    octo_fail("out of memory");
fail:
    octo_eval_free(acc);
    octo_eval_result_free(res);
    models_free(&m);
    octo_records_free(preds, n_preds);
    octo_records_free(refs, n_all);
    free(samples);
    return NULL;
}
