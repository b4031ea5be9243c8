/* metrics.c - the scores of predicted plans against references (see
 * metrics.h; docs/eval.md has the definitions).
 *
 * Everything is kept as counts (per plan length and overall), so a summary
 * can be taken at any point and the micro-averaged F1s come out exactly as
 * TaskBench's flatten() + precision_recall_fscore_support compute them:
 * per sample, the union of gold and predicted items; summed over samples,
 * true positives / predicted / gold.
 */
#include "eval/metrics.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "base/error.h"

/* ---- counts ---- */

typedef struct {
    long n, exact, valid, ref_calls, calls_ok, exact_full;
    long node[3], edge[3], aname[3], avalue[3]; /* tp, predicted, gold */
    double rouge1, rouge2, rougeL;
    long judged, judged_valid;
} acc;

struct octo_eval {
    const octo_funcset *fs;
    acc all, by_len[OCTO_EVAL_MAX_LEN + 1];
    double *lat;
    int n_lat, cap_lat;
    double lat_sum;
    long prompt_sum, prompt_n;
    int prompt_max;
    double gen_tokens, gen_seconds;
    octo_eval_example ex[OCTO_EVAL_MAX_EXAMPLES];
    int n_ex;
};

void octo_eval_sample_default(octo_eval_sample *s) {
    s->latency_ms = -1;
    s->prompt_tokens = -1;
    s->gen_tokens = -1;
    s->gen_seconds = 0;
    s->judge = -1;
}

octo_eval *octo_eval_new(const octo_funcset *fs) {
    octo_eval *e = calloc(1, sizeof *e);
    if (!e) return octo_fail("eval: out of memory"), NULL;
    e->fs = fs;
    return e;
}

static void example_free(octo_eval_example *x) {
    free(x->query);
    free(x->expected);
    free(x->predicted);
    memset(x, 0, sizeof *x);
}

void octo_eval_free(octo_eval *e) {
    if (!e) return;
    for (int i = 0; i < e->n_ex; i++) example_free(&e->ex[i]);
    free(e->lat);
    free(e);
}

/* ---- string sets: a sample's nodes, edges, argument names and values ---- */

typedef struct {
    char **v;
    int n, cap;
    int oom;
} strset;

static void set_add(strset *s, const char *str) {
    if (s->oom) return;
    if (s->n == s->cap) {
        int cap = s->cap ? s->cap * 2 : 16;
        char **p = realloc(s->v, (size_t)cap * sizeof *p);
        if (!p) {
            s->oom = 1;
            return;
        }
        s->v = p;
        s->cap = cap;
    }
    if (!(s->v[s->n] = strdup(str))) {
        s->oom = 1;
        return;
    }
    s->n++;
}

static void set_addf(strset *s, const char *a, const char *b, const char *c) {
    size_t n = strlen(a) + strlen(b) + (c ? strlen(c) : 0) + 3;
    char *t = malloc(n);
    if (!t) {
        s->oom = 1;
        return;
    }
    if (c) snprintf(t, n, "%s-%s-%s", a, b, c); /* evaluate.py: f"{task}-{name}-{value}" */
    else snprintf(t, n, "%s-%s", a, b);
    set_add(s, t);
    free(t);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* sort and drop repeats: Python's set() */
static void set_close(strset *s) {
    if (s->n < 2) return;
    qsort(s->v, (size_t)s->n, sizeof *s->v, cmp_str);
    int u = 1;
    for (int i = 1; i < s->n; i++) {
        if (strcmp(s->v[i], s->v[u - 1])) s->v[u++] = s->v[i];
        else free(s->v[i]);
    }
    s->n = u;
}

static long set_common(const strset *a, const strset *b) {
    long c = 0;
    for (int i = 0, j = 0; i < a->n && j < b->n;) {
        int d = strcmp(a->v[i], b->v[j]);
        if (d < 0) i++;
        else if (d > 0) j++;
        else c++, i++, j++;
    }
    return c;
}

static void set_free(strset *s) {
    for (int i = 0; i < s->n; i++) free(s->v[i]);
    free(s->v);
    memset(s, 0, sizeof *s);
}

/* adds a sample's (tp, predicted, gold) to the counts */
static void count_sets(long *cnt, strset *pred, strset *gold) {
    set_close(pred);
    set_close(gold);
    cnt[0] += set_common(pred, gold);
    cnt[1] += pred->n;
    cnt[2] += gold->n;
}

/* ---- plans ---- */

typedef struct {
    const char *const *pred, *const *ref;
    int n;
    uint64_t need[64]; /* need[j]: reference positions that must come before j */
    int *assign;
    long steps;
} order_search;

#define SEARCH_LIMIT 200000 /* repeated names make the search branch; real plans take a few steps */

static bool search(order_search *s, int i, uint64_t used) {
    if (i == s->n) return true;
    if (++s->steps > SEARCH_LIMIT) return false;
    for (int j = 0; j < s->n; j++) {
        if ((used >> j & 1) || (s->need[j] & ~used) || strcmp(s->pred[i], s->ref[j])) continue;
        s->assign[i] = j;
        if (search(s, i + 1, used | (1ull << j))) return true;
    }
    return false;
}

bool octo_eval_plan_matches(const char *const *pred, int n_pred, const char *const *ref, int n_ref,
                            const int (*links)[2], int n_links, int *assign) {
    if (n_pred != n_ref) return false;
    int n = n_ref;
    int local[64];
    if (n > 64) { /* beyond any plan octo makes: the reference order only */
        for (int i = 0; i < n; i++)
            if (strcmp(pred[i], ref[i])) return false;
        if (assign)
            for (int i = 0; i < n; i++) assign[i] = i;
        return true;
    }
    order_search s = {.pred = pred, .ref = ref, .n = n, .assign = assign ? assign : local};
    for (int k = 0; k < n_links; k++) {
        int a = links[k][0], b = links[k][1];
        if (a >= 0 && a < n && b >= 0 && b < n && a != b) s.need[b] |= 1ull << a;
    }
    return search(&s, 0, 0);
}

/* A record's dependency links as pairs of call positions: "links" [[a, b], ...]
 * (what `octo data convert` writes), else TaskBench's "task_links"
 * [{"source": name, "target": name}] (a name stands for each call of it; only
 * pairs in the record's own order are kept, so repeats make no cycle), else
 * none: NULL with has = false, meaning the record's order is the only one. */
static int (*record_links(const octo_record *r, int *n_out, bool *has))[2] {
    *n_out = 0;
    *has = false;
    const cJSON *l = r->extra ? cJSON_GetObjectItemCaseSensitive(r->extra, "links") : NULL;
    bool by_name = false;
    if (!cJSON_IsArray(l)) {
        l = r->extra ? cJSON_GetObjectItemCaseSensitive(r->extra, "task_links") : NULL;
        by_name = true;
    }
    if (!cJSON_IsArray(l)) return NULL;
    *has = true;
    int cap = 0, n = 0;
    int(*v)[2] = NULL;
    const cJSON *e;
    cJSON_ArrayForEach(e, l) {
        int a_lo = -1, a_hi = -1, b_lo = -1, b_hi = -1; /* ranges of positions: [a_lo, a_hi] */
        const char *src = NULL, *dst = NULL;
        if (!by_name && cJSON_IsArray(e) && cJSON_GetArraySize(e) == 2 && cJSON_IsNumber(e->child) &&
            cJSON_IsNumber(e->child->next)) {
            double a = e->child->valuedouble, b = e->child->next->valuedouble;
            if (a >= 0 && a < r->n_calls && b >= 0 && b < r->n_calls) a_lo = a_hi = (int)a, b_lo = b_hi = (int)b;
        } else if (by_name && cJSON_IsObject(e)) {
            const cJSON *s = cJSON_GetObjectItemCaseSensitive(e, "source");
            const cJSON *t = cJSON_GetObjectItemCaseSensitive(e, "target");
            if (cJSON_IsString(s) && cJSON_IsString(t)) {
                src = s->valuestring, dst = t->valuestring;
                a_lo = b_lo = 0;
                a_hi = b_hi = r->n_calls - 1;
            }
        }
        for (int a = a_lo; a >= 0 && a <= a_hi; a++)
            for (int b = b_lo; b >= 0 && b <= b_hi; b++) {
                if (src && (a >= b || strcmp(r->calls[a].function, src) || strcmp(r->calls[b].function, dst))) continue;
                if (n == cap) {
                    cap = cap ? cap * 2 : 8;
                    int(*p)[2] = realloc(v, (size_t)cap * sizeof *p);
                    if (!p) {
                        free(v);
                        *n_out = -1;
                        return NULL;
                    }
                    v = p;
                }
                v[n][0] = a;
                v[n][1] = b;
                n++;
            }
    }
    *n_out = n;
    return v;
}

/* A record's edges as TaskBench tuples "source\x01target": its "links" (by
 * position), else its "task_links" exactly as written (evaluate.py takes
 * them by name, whether or not a node has that name), else the chain of its
 * calls (a plan runs step after step). */
static void edge_set(const octo_record *r, strset *out) {
    const cJSON *tl = r->extra ? cJSON_GetObjectItemCaseSensitive(r->extra, "task_links") : NULL;
    const cJSON *il = r->extra ? cJSON_GetObjectItemCaseSensitive(r->extra, "links") : NULL;
    if (!cJSON_IsArray(il) && cJSON_IsArray(tl)) {
        const cJSON *e;
        cJSON_ArrayForEach(e, tl) {
            const cJSON *s = cJSON_GetObjectItemCaseSensitive(e, "source");
            const cJSON *t = cJSON_GetObjectItemCaseSensitive(e, "target");
            if (cJSON_IsString(s) && cJSON_IsString(t)) set_addf(out, s->valuestring, "\x01", t->valuestring);
        }
        return;
    }
    int n;
    bool has;
    int(*l)[2] = record_links(r, &n, &has);
    if (n < 0) {
        out->oom = 1;
        return;
    }
    if (has) {
        for (int k = 0; k < n; k++) set_addf(out, r->calls[l[k][0]].function, "\x01", r->calls[l[k][1]].function);
    } else {
        for (int k = 0; k + 1 < r->n_calls; k++) set_addf(out, r->calls[k].function, "\x01", r->calls[k + 1].function);
    }
    free(l);
}

/* evaluate.py formats values with f"{value}": strings as they are; other
 * values here as compact JSON (TaskBench's own values are strings). */
static char *value_text(const cJSON *v) {
    if (cJSON_IsString(v)) return strdup(v->valuestring);
    return cJSON_PrintUnformatted(v);
}

static void arg_sets(const octo_record *r, strset *names, strset *values) {
    for (int k = 0; r && k < r->n_calls; k++) {
        const cJSON *a;
        cJSON_ArrayForEach(a, r->calls[k].arguments) {
            if (!a->string) continue;
            set_addf(names, r->calls[k].function, a->string, NULL);
            char *t = value_text(a);
            if (!t) {
                values->oom = 1;
                continue;
            }
            set_addf(values, r->calls[k].function, a->string, t);
            free(t);
        }
    }
}

static char *joined(char *const *v, int n, const char *sep) {
    size_t len = 1;
    for (int i = 0; i < n; i++) len += strlen(v[i]) + strlen(sep);
    char *s = malloc(len), *w = s;
    if (!s) return NULL;
    for (int i = 0; i < n; i++) {
        if (i) w = stpcpy(w, sep);
        w = stpcpy(w, v[i]);
    }
    *w = 0;
    return s;
}

/* "f(args) -> g(args)": what a plan did, for the report's list of mistakes */
static char *function_chain(const octo_record *r) {
    if (!r) return strdup("(no plan)");
    if (!r->n_calls) return strdup("(no calls)");
    char **parts = calloc((size_t)r->n_calls, sizeof *parts);
    char *s = NULL;
    if (!parts) return NULL;
    for (int i = 0; i < r->n_calls; i++) {
        char *a = r->calls[i].arguments ? cJSON_PrintUnformatted(r->calls[i].arguments) : strdup("{}");
        size_t n = strlen(r->calls[i].function) + (a ? strlen(a) : 0) + 1;
        if (a && (parts[i] = malloc(n))) snprintf(parts[i], n, "%s%s", r->calls[i].function, a);
        free(a);
        if (!parts[i]) goto out;
    }
    s = joined(parts, r->n_calls, " -> ");
out:
    for (int i = 0; i < r->n_calls; i++) free(parts[i]);
    free(parts);
    return s;
}

static bool step_valid(const octo_eval *e, const octo_record *p) {
    if (!p || p->n_calls < 1 || p->n_steps != p->n_calls) return false;
    for (int i = 0; i < p->n_calls; i++) {
        const char *s = p->steps[i];
        if (!s || !s[strspn(s, " \t\r\n")]) return false;
        if (!p->calls[i].function || !p->calls[i].function[0]) return false;
        if (e->fs && octo_funcset_find(e->fs, p->calls[i].function) < 0) return false;
    }
    return true;
}

static bool is_type(const octo_eval *e, const char *name) { return !e->fs || octo_funcset_find(e->fs, name) >= 0; }

static void acc_add(acc *d, const acc *x) {
    d->n += x->n;
    d->exact += x->exact;
    d->valid += x->valid;
    d->ref_calls += x->ref_calls;
    d->calls_ok += x->calls_ok;
    d->exact_full += x->exact_full;
    for (int k = 0; k < 3; k++) {
        d->node[k] += x->node[k];
        d->edge[k] += x->edge[k];
        d->aname[k] += x->aname[k];
        d->avalue[k] += x->avalue[k];
    }
    d->rouge1 += x->rouge1;
    d->rouge2 += x->rouge2;
    d->rougeL += x->rougeL;
    d->judged += x->judged;
    d->judged_valid += x->judged_valid;
}

int octo_eval_add(octo_eval *e, const octo_record *pred, const octo_record *ref, const octo_eval_sample *smp) {
    acc x = {0};
    int rc = -1;
    int np = pred ? pred->n_calls : 0, nr = ref->n_calls;
    const char **pn = calloc((size_t)np + 1, sizeof *pn), **rn = calloc((size_t)nr + 1, sizeof *rn);
    int *assign = calloc((size_t)np + 1, sizeof *assign);
    strset ps = {0}, gs = {0};
    char *pt = NULL, *rt = NULL;
    int(*links)[2] = NULL;
    if (!pn || !rn || !assign) goto out;
    for (int i = 0; i < np; i++) pn[i] = pred->calls[i].function ? pred->calls[i].function : "";
    for (int i = 0; i < nr; i++) rn[i] = ref->calls[i].function ? ref->calls[i].function : "";
    x.n = 1;
    x.ref_calls = nr;

    /* exact plan: an order of the reference that keeps its links */
    int n_links;
    bool has_links;
    links = record_links(ref, &n_links, &has_links);
    if (n_links < 0) goto out;
    if (!has_links) { /* no links: the reference's order is the only one */
        n_links = nr > 1 ? nr - 1 : 0;
        links = n_links ? malloc((size_t)n_links * sizeof *links) : NULL;
        if (n_links && !links) goto out;
        for (int k = 0; k < n_links; k++) links[k][0] = k, links[k][1] = k + 1;
    }
    bool exact = pred && octo_eval_plan_matches(pn, np, rn, nr, (const int(*)[2])links, n_links, assign);
    if (!exact) /* align by position where the functions agree */
        for (int i = 0; i < np; i++) assign[i] = i < nr && !strcmp(pn[i], rn[i]) ? i : -1;
    x.exact = exact;
    x.valid = step_valid(e, pred);

    /* argument accuracy: each reference call answered by its aligned call */
    long ok = 0;
    for (int i = 0; i < np; i++) {
        int j = assign[i];
        if (j < 0) continue;
        const cJSON *pa = pred->calls[i].arguments, *ra = ref->calls[j].arguments;
        if ((!pa && !ra) || (pa && ra && cJSON_Compare(pa, ra, true))) ok++;
    }
    x.calls_ok = ok;
    x.exact_full = exact && ok == nr;

    /* TaskBench: nodes (restricted to the set's functions), edges, argument names and values */
    for (int i = 0; i < np; i++)
        if (is_type(e, pn[i])) set_add(&ps, pn[i]);
    for (int i = 0; i < nr; i++)
        if (is_type(e, rn[i])) set_add(&gs, rn[i]);
    if (ps.oom || gs.oom) goto out;
    count_sets(x.node, &ps, &gs);
    set_free(&ps), set_free(&gs);
    if (pred) edge_set(pred, &ps);
    edge_set(ref, &gs);
    if (ps.oom || gs.oom) goto out;
    count_sets(x.edge, &ps, &gs);
    set_free(&ps), set_free(&gs);
    strset pv = {0}, gv = {0};
    arg_sets(pred, &ps, &pv);
    arg_sets(ref, &gs, &gv);
    int oom = ps.oom || gs.oom || pv.oom || gv.oom;
    if (!oom) {
        count_sets(x.aname, &ps, &gs);
        count_sets(x.avalue, &pv, &gv);
    }
    set_free(&pv), set_free(&gv);
    if (oom) goto out;

    /* ROUGE of the steps, joined by newlines as evaluate.py does */
    pt = pred ? joined(pred->steps, pred->n_steps, "\n") : strdup("");
    rt = joined(ref->steps, ref->n_steps, "\n");
    if (!pt || !rt) goto out;
    x.rouge1 = octo_rouge_n(pt, rt, 1);
    x.rouge2 = octo_rouge_n(pt, rt, 2);
    x.rougeL = octo_rouge_l(pt, rt);

    octo_eval_sample def;
    if (!smp) octo_eval_sample_default(&def), smp = &def;
    if (smp->judge >= 0) x.judged = 1, x.judged_valid = smp->judge > 0;
    if (smp->latency_ms >= 0) {
        if (e->n_lat == e->cap_lat) {
            int cap = e->cap_lat ? e->cap_lat * 2 : 256;
            double *p = realloc(e->lat, (size_t)cap * sizeof *p);
            if (!p) goto out;
            e->lat = p;
            e->cap_lat = cap;
        }
        e->lat[e->n_lat++] = smp->latency_ms;
        e->lat_sum += smp->latency_ms;
    }
    if (smp->prompt_tokens >= 0) {
        e->prompt_sum += smp->prompt_tokens;
        e->prompt_n++;
        if (smp->prompt_tokens > e->prompt_max) e->prompt_max = smp->prompt_tokens;
    }
    if (smp->gen_tokens > 0 && smp->gen_seconds > 0) {
        e->gen_tokens += smp->gen_tokens;
        e->gen_seconds += smp->gen_seconds;
    }
    if (!x.exact_full && e->n_ex < OCTO_EVAL_MAX_EXAMPLES) {
        octo_eval_example *ex = &e->ex[e->n_ex];
        ex->query = strdup(ref->query ? ref->query : "");
        ex->expected = function_chain(ref);
        ex->predicted = function_chain(pred);
        if (ex->query && ex->expected && ex->predicted) e->n_ex++;
        else example_free(ex);
    }
    acc_add(&e->all, &x);
    acc_add(&e->by_len[nr < OCTO_EVAL_MAX_LEN ? nr : OCTO_EVAL_MAX_LEN], &x);
    rc = 0;
out:
    if (rc) octo_fail("eval: out of memory");
    set_free(&ps);
    set_free(&gs);
    free(pn);
    free(rn);
    free(assign);
    free(links);
    free(pt);
    free(rt);
    return rc;
}

/* ---- summary ---- */

static octo_prf prf(const long *c) {
    octo_prf r = {.tp = c[0], .n_pred = c[1], .n_gold = c[2]};
    r.p = c[1] ? (double)c[0] / c[1] : 0;
    r.r = c[2] ? (double)c[0] / c[2] : 0;
    r.f1 = r.p + r.r > 0 ? 2 * r.p * r.r / (r.p + r.r) : 0; /* sklearn's zero_division: 0 */
    return r;
}

static void scores(const acc *a, octo_eval_scores *s) {
    memset(s, 0, sizeof *s);
    s->n = (int)a->n;
    if (!a->n) return;
    double n = (double)a->n;
    s->exact_plan = a->exact / n;
    s->step_valid = a->valid / n;
    s->arg_acc = a->ref_calls ? (double)a->calls_ok / a->ref_calls : 0;
    s->exact_full = a->exact_full / n;
    s->node = prf(a->node);
    s->edge = prf(a->edge);
    s->arg_name = prf(a->aname);
    s->arg_value = prf(a->avalue);
    s->rouge1 = a->rouge1 / n;
    s->rouge2 = a->rouge2 / n;
    s->rougeL = a->rougeL / n;
    s->n_judged = (int)a->judged;
    s->judge_valid = a->judged ? (double)a->judged_valid / a->judged : 0;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* numpy's default percentile: linear between the two nearest ranks */
static double percentile(const double *sorted, int n, double q) {
    if (n <= 0) return 0;
    double pos = q * (n - 1);
    int lo = (int)pos;
    if (lo >= n - 1) return sorted[n - 1];
    return sorted[lo] + (pos - lo) * (sorted[lo + 1] - sorted[lo]);
}

int octo_eval_finish(const octo_eval *e, octo_eval_summary *out) {
    memset(out, 0, sizeof *out);
    scores(&e->all, &out->overall);
    for (int k = 0; k <= OCTO_EVAL_MAX_LEN; k++) scores(&e->by_len[k], &out->by_len[k]);
    out->n_latency = e->n_lat;
    if (e->n_lat) {
        double *s = malloc((size_t)e->n_lat * sizeof *s);
        if (!s) return octo_fail("eval: out of memory");
        memcpy(s, e->lat, (size_t)e->n_lat * sizeof *s);
        qsort(s, (size_t)e->n_lat, sizeof *s, cmp_double);
        out->latency_p50_ms = percentile(s, e->n_lat, 0.50);
        out->latency_p95_ms = percentile(s, e->n_lat, 0.95);
        out->latency_mean_ms = e->lat_sum / e->n_lat;
        free(s);
    }
    out->tokens_per_s = e->gen_seconds > 0 ? e->gen_tokens / e->gen_seconds : 0;
    out->prompt_tokens_mean = e->prompt_n ? (double)e->prompt_sum / e->prompt_n : 0;
    out->prompt_tokens_max = e->prompt_max;
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) == 0) out->peak_rss_kb = ru.ru_maxrss; /* kilobytes on Linux */
    for (int i = 0; i < e->n_ex; i++) {
        octo_eval_example *d = &out->examples[i];
        d->query = strdup(e->ex[i].query);
        d->expected = strdup(e->ex[i].expected);
        d->predicted = strdup(e->ex[i].predicted);
        if (!d->query || !d->expected || !d->predicted) {
            octo_eval_summary_free(out);
            return octo_fail("eval: out of memory");
        }
        out->n_examples = i + 1;
    }
    return 0;
}

void octo_eval_summary_free(octo_eval_summary *s) {
    for (int i = 0; i < s->n_examples; i++) example_free(&s->examples[i]);
    s->n_examples = 0;
}
