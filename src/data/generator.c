/* generator.c - composing requests, step plans and calls (generator.h).
 *
 * A record is built in four passes: choose the functions (following a chain
 * from one call's result to the next when the phrasings allow it), lay the
 * calls out as units (one clause, or two joined by an ordering such as
 * "before you {2}, {1}" that may reverse their surface order), render each
 * call's clause and step from its phrasings and slot values, then join the
 * units with wrappers, connectors, preambles and noise. The record is then
 * checked (every argument value is mentioned in the query) and redrawn if
 * not, so every record written is right by construction and by check.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/error.h"
#include "data/gen_internal.h"
#include "data/record.h"
#include "data/validate.h"

#define GEN_MAX_STEPS 5
#define GEN_MAX_PARAMS 16
#define GEN_TEXT 1024

struct octo_generator {
    const octo_funcset *const *sets;
    octo_phrasebook *const *books;
    int n_sets;
    octo_gen_opts o;
    int n_funcs;
    octo_funcset merged;  /* all sets' functions side by side (shallow), for the checks */
    int redrawn[OCTO_RULE_N];
};

typedef struct {
    int set, fi;
    const pb_func *pf;
    const octo_function *fn;
    gen_value vals[GEN_MAX_PARAMS];
    bool present[GEN_MAX_PARAMS];
    int chain;            /* index into pf->chains, or -1 */
    int chain_param;      /* parameter fed by the previous call, or -1 */
    char chain_value[256];
    const pb_line *tmpl;  /* query phrasing */
    bool sentence;        /* tmpl is a whole sentence */
    bool seg_on[16];      /* which [segments] of tmpl are included */
    char tid[96];
    char clause[GEN_TEXT];
    char step[GEN_TEXT];
} gen_call;

void octo_gen_opts_default(octo_gen_opts *o) {
    memset(o, 0, sizeof *o);
    o->seed = 1;
    o->mix = 0.5;
    o->noise = 0.04;
    o->chain = 0.35;
}

octo_generator *octo_generator_new(const octo_funcset *const *sets, octo_phrasebook *const *books, int n_sets,
                                   const octo_gen_opts *o) {
    if (n_sets <= 0) {
        octo_fail("generator: no function sets");
        return NULL;
    }
    octo_generator *g = calloc(1, sizeof *g);
    if (!g) return NULL;
    g->sets = sets;
    g->books = books;
    g->n_sets = n_sets;
    g->o = *o;
    for (int s = 0; s < n_sets; s++) {
        g->n_funcs += sets[s]->n;
        for (int f = 0; f < sets[s]->n; f++)
            if (sets[s]->fns[f].n_params > GEN_MAX_PARAMS) {
                free(g);
                octo_fail("%s: more than %d parameters", sets[s]->fns[f].name, GEN_MAX_PARAMS);
                return NULL;
            }
    }
    /* calls name functions, so the sets drawn from together must not share names */
    for (int s = 0; s < n_sets; s++)
        for (int t = s + 1; t < n_sets; t++)
            for (int f = 0; f < sets[s]->n; f++)
                if (octo_funcset_find(sets[t], sets[s]->fns[f].name) >= 0) {
                    octo_fail("function %s is in both %s and %s: sets generated together need distinct names",
                              sets[s]->fns[f].name, sets[s]->name, sets[t]->name);
                    free(g);
                    return NULL;
                }
    if (g->o.n <= 0) g->o.n = 800 * g->n_funcs;
    /* the validator's view of the sets: one set holding every function
     * (shallow copies; the sets own the contents) */
    g->merged = *sets[0];
    if (n_sets > 1) {
        g->merged.fns = calloc((size_t)g->n_funcs, sizeof *g->merged.fns);
        if (!g->merged.fns) {
            free(g);
            octo_fail("out of memory");
            return NULL;
        }
        g->merged.n = 0;
        for (int s = 0; s < n_sets; s++)
            for (int f = 0; f < sets[s]->n; f++) g->merged.fns[g->merged.n++] = sets[s]->fns[f];
    }
    return g;
}

void octo_generator_free(octo_generator *g) {
    if (!g) return;
    if (g->n_sets > 1) free(g->merged.fns);
    free(g);
}

void octo_generator_redrawn(const octo_generator *g, int *by_rule) {
    for (int i = 0; i < OCTO_RULE_N; i++) by_rule[i] = g->redrawn[i];
}

/* ---- text helpers -------------------------------------------------------- */

typedef struct {
    char *p;
    size_t n, cap;
} sbuf;

static void sb_put(sbuf *b, const char *s, size_t n) {
    if (b->n + n + 1 > b->cap) n = b->cap - b->n - 1;
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
}
static void sb_puts(sbuf *b, const char *s) { sb_put(b, s, strlen(s)); }

static int param_of(const octo_function *fn, const char *name, size_t len) {
    for (int i = 0; i < fn->n_params; i++)
        if (strlen(fn->params[i].name) == len && strncmp(fn->params[i].name, name, len) == 0) return i;
    return -1;
}

/* Render template t: slots with query surfaces (query) or step texts;
 * segment k included when seg[k] (query) or when all its slots are present
 * (seg == NULL). mentioned[] gets the parameters written. Returns false if
 * a bare slot's parameter is not present. */
static bool render(const gen_call *c, const char *t, const bool *seg, bool query, char *out, size_t cap,
                   bool *mentioned) {
    sbuf b = {out, 0, cap};
    out[0] = 0;
    int segno = -1;
    bool in_seg = false, seg_ok = true;
    size_t seg_start = 0;
    bool seg_mentioned[GEN_MAX_PARAMS] = {0};
    for (const char *p = t; *p; p++) {
        if (*p == '[') {
            in_seg = true;
            segno++;
            seg_start = b.n;
            seg_ok = seg ? (segno < 16 && seg[segno]) : true;
            memset(seg_mentioned, 0, sizeof seg_mentioned);
        } else if (*p == ']') {
            in_seg = false;
            if (!seg_ok) {
                b.n = seg_start;
                out[b.n] = 0;
            } else {
                for (int i = 0; i < GEN_MAX_PARAMS; i++)
                    if (seg_mentioned[i]) mentioned[i] = true;
            }
        } else if (*p == '{') {
            const char *e = strchr(p, '}');
            int k = param_of(c->fn, p + 1, (size_t)(e - p - 1));
            p = e;
            if (k < 0) return false;
            if (!c->present[k]) {
                if (!in_seg) return false;
                seg_ok = false;
                continue;
            }
            const char *v = query ? c->vals[k].query : c->vals[k].step;
            /* "the {x}" with x = "the airport": one article is enough */
            if (b.n >= 4 && !strncasecmp(out + b.n - 4, "the ", 4) && !strncasecmp(v, "the ", 4)) v += 4;
            sb_puts(&b, v);
            if (in_seg) seg_mentioned[k] = true;
            else mentioned[k] = true;
        } else {
            sb_put(&b, p, 1);
        }
    }
    return true;
}

/* Number of [segments] and, for each, whether it holds parameter k. */
static int segments_with(const octo_function *fn, const char *t, int k, bool *holds) {
    int segno = -1;
    bool in_seg = false;
    for (const char *p = t; *p; p++) {
        if (*p == '[') in_seg = true, segno++, holds[segno < 16 ? segno : 15] = false;
        else if (*p == ']') in_seg = false;
        else if (*p == '{') {
            const char *e = strchr(p, '}');
            if (in_seg && segno < 16 && param_of(fn, p + 1, (size_t)(e - p - 1)) == k) holds[segno] = true;
            p = e;
        }
    }
    return segno + 1;
}

static bool mentions(const octo_function *fn, const char *t, int k) {
    for (const char *p = strchr(t, '{'); p; p = strchr(p + 1, '{')) {
        const char *e = strchr(p, '}');
        if (param_of(fn, p + 1, (size_t)(e - p - 1)) == k) return true;
    }
    return false;
}

/* ---- choosing functions and phrasings ------------------------------------ */

static const pb_func *func_at(const octo_generator *g, int set, int fi) { return &g->books[set]->funcs[fi]; }

/* Chains of consumer f whose producer is the function (pset, pfi). */
static int find_chain(const octo_generator *g, const pb_func *f, int pset, int pfi, gen_rng *r) {
    int cands[16], n = 0;
    const char *pname = g->sets[pset]->fns[pfi].name;
    for (int c = 0; c < f->n_chains && n < 16; c++)
        if (strcmp(f->chains[c].producer, pname) == 0) cands[n++] = c;
    return n ? cands[gen_below(r, n)] : -1;
}

/* Pick the query phrasing for call c: when chaining, only phrasings that
 * name the chained parameter. */
static bool pick_phrasing(const octo_generator *g, gen_call *c, gen_rng *r) {
    const pb_func *f = c->pf;
    octo_holdout part = g->o.holdout;
    for (int tries = 0; tries < 24; tries++) {
        bool sentence = f->sentences.n && (!f->verbs.n || gen_below(r, 3) == 0);
        const pb_list *l = sentence ? &f->sentences : &f->verbs;
        const pb_line *ln = pb_pick(l, part, r);
        if (!ln) continue;
        if (part != OCTO_HOLDOUT_NONE && f->verbs.n + f->sentences.n >= 2 && ln->held != (part == OCTO_HOLDOUT_TEST))
            continue; /* this list had no line of the part: try the other list */
        if (c->chain_param >= 0 && !mentions(c->fn, ln->text, c->chain_param)) continue;
        c->tmpl = ln;
        c->sentence = sentence;
        snprintf(c->tid, sizeof c->tid, "%s/%c%d", c->fn->name, sentence ? 's' : 'v', (int)(ln - l->v));
        return true;
    }
    return false;
}

/* Is parameter k written outside any [segment] of t? */
static bool bare_in(const octo_function *fn, const char *t, int k) {
    int depth = 0;
    for (const char *p = t; *p; p++) {
        if (*p == '[') depth = 1;
        else if (*p == ']') depth = 0;
        else if (*p == '{') {
            const char *e = strchr(p, '}');
            if (!depth && param_of(fn, p + 1, (size_t)(e - p - 1)) == k) return true;
            p = e;
        }
    }
    return false;
}

/* Values, and which optional parameters the query names: those written
 * bare, and those of the [segments] switched on (each with probability 1/2,
 * the chained parameter's always). */
static int fill_values(const octo_generator *g, gen_call *c, gen_rng *r) {
    const octo_phrasebook *pb = g->books[c->set];
    const char *t = c->tmpl->text;
    int nseg = 0;
    for (const char *p = t; *p; p++) nseg += *p == '[';
    memset(c->seg_on, 0, sizeof c->seg_on);
    for (int s = 0; s < nseg && s < 16; s++) c->seg_on[s] = gen_below(r, 2);
    bool holds[16];
    if (c->chain_param >= 0) {
        int ns = segments_with(c->fn, t, c->chain_param, holds);
        for (int s = 0; s < ns && s < 16; s++)
            if (holds[s]) c->seg_on[s] = true;
    }
    for (int k = 0; k < c->fn->n_params; k++) {
        double open = g->o.holdout == OCTO_HOLDOUT_TEST ? 0.0 : g->o.open_values;
        if (gen_slot_value(pb, c->pf, k, g->o.holdout, open, r, &c->vals[k])) return -1;
        bool on = c->fn->params[k].required || bare_in(c->fn, t, k);
        int ns = segments_with(c->fn, t, k, holds);
        for (int s = 0; s < ns && s < 16; s++)
            if (holds[s] && c->seg_on[s]) on = true;
        c->present[k] = on;
    }
    return 0;
}

/* The chained parameter takes the producer's value; the query refers to
 * it (pronoun when the producer's clause comes just before). */
static bool apply_chain(gen_call *c, const gen_call *prod, bool pronoun, gen_rng *r) {
    const pb_chain *ch = &c->pf->chains[c->chain];
    int k = c->chain_param;
    if (ch->value[0] == '{') {
        int pk = param_of(prod->fn, ch->value + 1, strlen(ch->value) - 2);
        if (pk < 0 || !prod->present[pk] || !cJSON_IsString(prod->vals[pk].arg)) return false;
        snprintf(c->chain_value, sizeof c->chain_value, "%s", prod->vals[pk].arg->valuestring);
    } else {
        snprintf(c->chain_value, sizeof c->chain_value, "%s", ch->value);
    }
    if (c->fn->params[k].type != OCTO_JT_STRING) return false;
    gen_value *v = &c->vals[k];
    cJSON_Delete(v->arg);
    v->arg = cJSON_CreateString(c->chain_value);
    snprintf(v->step, sizeof v->step, "%s", c->chain_value);
    if (pronoun) snprintf(v->query, sizeof v->query, "%s", ch->refs.v[gen_below(r, ch->refs.n)].text);
    else if (ch->value[0] == '{') snprintf(v->query, sizeof v->query, "%s", c->chain_value);
    else snprintf(v->query, sizeof v->query, "the %s", c->chain_value);
    c->present[k] = true;
    return true;
}

static bool make_step(gen_call *c, gen_rng *r) {
    const pb_list *l = &c->pf->steps;
    int start = gen_below(r, l->n);
    for (int j = 0; j < l->n; j++) {
        const char *t = l->v[(start + j) % l->n].text;
        bool m[GEN_MAX_PARAMS] = {0};
        if (!render(c, t, NULL, false, c->step, sizeof c->step, m)) continue;
        bool all = true;
        for (int k = 0; k < c->fn->n_params; k++)
            if (c->present[k] && !m[k]) all = false;
        if (!all) continue;
        c->step[0] = (char)toupper((unsigned char)c->step[0]);
        return true;
    }
    return false;
}

/* ---- composing the query ------------------------------------------------- */

typedef struct {
    int first, count; /* calls [first, first+count) in execution order */
    int pair;         /* index into pb->pair for two-call units, else -1 */
    bool reversed;    /* the pair names the second call first */
} gen_span;

static void cap_first(char *s) {
    if (s[0]) s[0] = (char)toupper((unsigned char)s[0]);
}

/* Lower-case a sentence start after a connector, unless it is "I". */
static void low_first(char *s) {
    if (s[0] == 'I' && (s[1] == ' ' || s[1] == '\'')) return;
    if (isupper((unsigned char)s[0]) && islower((unsigned char)s[1])) s[0] = (char)tolower((unsigned char)s[0]);
}

/* Swap two letters inside one literal word (not part of any value). */
static void typo(char *q, const gen_call *calls, int n, gen_rng *r) {
    int cand[256], nc = 0;
    for (int i = 0; q[i] && nc < 256; i++) {
        if (i && isalpha((unsigned char)q[i - 1])) continue;
        int j = i;
        while (isalpha((unsigned char)q[j])) j++;
        if (j - i < 5) continue;
        char w[64];
        snprintf(w, sizeof w, "%.*s", j - i < 63 ? j - i : 63, q + i);
        bool in_value = false;
        for (int c = 0; c < n && !in_value; c++)
            for (int k = 0; k < calls[c].fn->n_params; k++)
                if (calls[c].present[k] && (strcasestr(calls[c].vals[k].query, w) || strcasestr(calls[c].chain_value, w)))
                    in_value = true;
        if (!in_value) cand[nc++] = i;
    }
    if (!nc) return;
    char *w = q + cand[gen_below(r, nc)];
    int len = 0;
    while (isalpha((unsigned char)w[len])) len++;
    int at = 1 + gen_below(r, len - 2);
    char t = w[at];
    w[at] = w[at + 1];
    w[at + 1] = t;
}

static bool value_in_query(const char *q, const gen_call *c, int k) {
    if (c->chain_param == k && c->chain >= 0) return strcasestr(q, c->chain_value) != NULL;
    return strcasestr(q, c->vals[k].query) != NULL;
}

static void free_calls(gen_call *calls, int n) {
    for (int i = 0; i < n; i++)
        for (int k = 0; k < GEN_MAX_PARAMS; k++) {
            cJSON_Delete(calls[i].vals[k].arg);
            calls[i].vals[k].arg = NULL;
        }
}

static int plan_length(const octo_generator *g, int i) {
    gen_rng r = {g->o.seed * 0x100000001B3ull + (uint64_t)(i / 5) * 0x9E3779B97F4A7C15ull + 7};
    int perm[5] = {1, 2, 3, 4, 5};
    for (int k = 4; k > 0; k--) {
        int j = gen_below(&r, k + 1), t = perm[k];
        perm[k] = perm[j];
        perm[j] = t;
    }
    return perm[i % 5];
}

/* One attempt at record i; NULL if this draw did not work out. */
static cJSON *attempt(octo_generator *g, int L, gen_rng *r, bool *hard_error) {
    gen_call calls[GEN_MAX_STEPS];
    memset(calls, 0, sizeof calls);
    int n = 0;
    cJSON *rec = NULL;
    /* 1. functions */
    bool mixed = g->n_sets > 1 && gen_unit(r) < g->o.mix;
    int home = gen_below(r, g->n_sets);
    int avail = mixed ? g->n_funcs : g->sets[home]->n;
    if (L > avail) L = avail;
    for (int k = 0; k < L; k++) {
        gen_call *c = &calls[k];
        c->chain = c->chain_param = -1;
        bool placed = false;
        if (k > 0 && gen_unit(r) < g->o.chain) { /* a consumer of the previous call's result */
            int cs[64][2], nc = 0;
            for (int s = 0; s < g->n_sets; s++) {
                if (!mixed && s != home) continue;
                for (int f = 0; f < g->sets[s]->n && nc < 64; f++) {
                    bool used = false;
                    for (int j = 0; j < k; j++) used |= calls[j].set == s && calls[j].fi == f;
                    if (!used && find_chain(g, func_at(g, s, f), calls[k - 1].set, calls[k - 1].fi, r) >= 0)
                        cs[nc][0] = s, cs[nc][1] = f, nc++;
                }
            }
            if (nc) {
                int pick = gen_below(r, nc);
                c->set = cs[pick][0];
                c->fi = cs[pick][1];
                c->pf = func_at(g, c->set, c->fi);
                c->chain = find_chain(g, c->pf, calls[k - 1].set, calls[k - 1].fi, r);
                c->chain_param = param_of(c->pf->fn, c->pf->chains[c->chain].param, strlen(c->pf->chains[c->chain].param));
                placed = true;
            }
        }
        for (int tries = 0; !placed && tries < 200; tries++) {
            int s = mixed ? 0 : home, f = gen_below(r, avail);
            if (mixed)
                while (f >= g->sets[s]->n) f -= g->sets[s]->n, s++;
            bool used = false;
            for (int j = 0; j < k; j++) used |= calls[j].set == s && calls[j].fi == f;
            if (used) continue;
            c->set = s;
            c->fi = f;
            c->pf = func_at(g, s, f);
            placed = true;
        }
        if (!placed) goto out;
        c->fn = c->pf->fn;
        n++;
        if (!pick_phrasing(g, c, r)) {
            if (c->chain_param < 0) goto out;
            c->chain = c->chain_param = -1; /* no phrasing names it: no chain */
            if (!pick_phrasing(g, c, r)) goto out;
        }
        if (fill_values(g, c, r)) {
            *hard_error = true;
            goto out;
        }
    }
    /* 2. layout: single clauses, some pairs with an ordering phrase */
    gen_span units[GEN_MAX_STEPS];
    int nu = 0, order[GEN_MAX_STEPS], no = 0;
    const octo_phrasebook *pb0 = g->books[0];
    for (int k = 0; k < n;) {
        gen_span u = {k, 1, -1, false};
        if (k + 1 < n && !calls[k].sentence && !calls[k + 1].sentence && pb0->pair.n && gen_below(r, 4) == 0) {
            u.count = 2;
            u.pair = gen_below(r, pb0->pair.n);
            const char *t = pb0->pair.v[u.pair].text;
            u.reversed = strstr(t, "{2}") < strstr(t, "{1}");
        }
        units[nu++] = u;
        if (u.reversed) order[no++] = k + 1, order[no++] = k;
        else
            for (int j = 0; j < u.count; j++) order[no++] = k + j;
        k += u.count;
    }
    /* 3. chains, clauses and steps */
    for (int k = 0; k < n; k++) {
        gen_call *c = &calls[k];
        if (c->chain >= 0) {
            bool adjacent = false;
            for (int j = 1; j < no; j++)
                if (order[j] == k && order[j - 1] == k - 1) adjacent = true;
            if (!apply_chain(c, &calls[k - 1], adjacent, r)) {
                c->chain = -1;
                c->chain_param = -1;
                /* the parameter keeps its own value (drawn above) */
            }
        }
        bool m[GEN_MAX_PARAMS] = {0};
        if (!render(c, c->tmpl->text, c->seg_on, true, c->clause, sizeof c->clause, m)) goto out;
        for (int j = 0; j < c->fn->n_params; j++)
            if (c->present[j] && !m[j]) goto out;
        if (!make_step(c, r)) goto out;
    }
    /* 4. the query */
    char q[4 * GEN_TEXT];
    sbuf b = {q, 0, sizeof q};
    q[0] = 0;
    char tid[1024];
    sbuf tb = {tid, 0, sizeof tid};
    tid[0] = 0;
    char tmp[64];
    if (pb0->preamble.n && gen_below(r, 10) < 3) {
        const pb_line *pre = pb_pick(&pb0->preamble, g->o.holdout, r);
        sb_puts(&b, pre->text);
        sb_puts(&b, " ");
        snprintf(tmp, sizeof tmp, "pre%d+", (int)(pre - pb0->preamble.v));
        sb_puts(&tb, tmp);
    }
    int sentences = 0;
    bool open_preamble = b.n >= 2 && (q[b.n - 2] == ',' || isalpha((unsigned char)q[b.n - 2]));
    for (int u = 0; u < nu;) {
        char sent[3 * GEN_TEXT];
        sbuf sb = {sent, 0, sizeof sent};
        sent[0] = 0;
        bool value_first = false;
        if (calls[units[u].first].sentence) {
            value_first = calls[units[u].first].tmpl->text[0] == '{';
            sb_puts(&sb, calls[units[u].first].clause);
            snprintf(tmp, sizeof tmp, "S(%s)", calls[units[u].first].tid);
            sb_puts(&tb, tmp);
            u++;
        } else { /* a run of verb units in one sentence, in a wrapper */
            char body[3 * GEN_TEXT];
            sbuf bb = {body, 0, sizeof body};
            body[0] = 0;
            int first = 1, first_unit = u;
            while (u < nu && !calls[units[u].first].sentence) {
                if (!first) {
                    int ci = gen_below(r, pb0->conn.n);
                    sb_puts(&bb, pb0->conn.v[ci].text);
                    snprintf(tmp, sizeof tmp, "+c%d+", ci);
                    sb_puts(&tb, tmp);
                }
                first = 0;
                if (units[u].count == 2) {
                    const char *t = pb0->pair.v[units[u].pair].text;
                    for (const char *p = t; *p; p++) {
                        if (p[0] == '{' && (p[1] == '1' || p[1] == '2') && p[2] == '}') {
                            sb_puts(&bb, calls[units[u].first + (p[1] - '1')].clause);
                            p += 2;
                        } else sb_put(&bb, p, 1);
                    }
                    snprintf(tmp, sizeof tmp, "P%d(", units[u].pair);
                    sb_puts(&tb, tmp);
                    sb_puts(&tb, calls[units[u].first].tid);
                    sb_puts(&tb, ",");
                    sb_puts(&tb, calls[units[u].first + 1].tid);
                    sb_puts(&tb, ")");
                } else {
                    sb_puts(&bb, calls[units[u].first].clause);
                    snprintf(tmp, sizeof tmp, "V(%s)", calls[units[u].first].tid);
                    sb_puts(&tb, tmp);
                }
                u++;
            }
            /* a sentence opening with "before you ..." / "first ..." takes
             * no wrapper words in front ("Could you before you ..." is not
             * English) */
            bool bare_open = units[first_unit].count == 2 && pb0->pair.v[units[first_unit].pair].text[0] != '{';
            int wi = gen_below(r, pb0->wrap.n);
            for (int t = 0; bare_open && t < 64 && strncmp(pb0->wrap.v[wi].text, "{}", 2); t++) wi = gen_below(r, pb0->wrap.n);
            if (bare_open && strncmp(pb0->wrap.v[wi].text, "{}", 2)) wi = 0;
            const char *w = pb0->wrap.v[wi].text, *hole = strstr(w, "{}");
            sb_put(&sb, w, (size_t)(hole - w));
            sb_puts(&sb, body);
            sb_puts(&sb, hole + 2);
            snprintf(tmp, sizeof tmp, "w%d", wi);
            sb_puts(&tb, tmp);
        }
        cap_first(sent);
        if (sentences > 0) {
            sb_puts(&b, " ");
            if (pb0->sconn.n && gen_below(r, 2)) {
                int si = gen_below(r, pb0->sconn.n);
                sb_puts(&b, pb0->sconn.v[si].text);
                sb_puts(&b, " ");
                if (!value_first) low_first(sent);
                snprintf(tmp, sizeof tmp, "+s%d+", si);
                sb_puts(&tb, tmp);
            } else sb_puts(&tb, "+.+");
        }
        if (sentences == 0 && open_preamble && !value_first) low_first(sent);
        sb_puts(&b, sent);
        sentences++;
    }
    if (pb0->closer.n && gen_below(r, 10) < 2) {
        const pb_line *cl = pb_pick(&pb0->closer, g->o.holdout, r);
        sb_puts(&b, " ");
        sb_puts(&b, cl->text);
        snprintf(tmp, sizeof tmp, "+cl%d", (int)(cl - pb0->closer.v));
        sb_puts(&tb, tmp);
    }
    /* noise */
    if (gen_unit(r) < g->o.noise) {
        int kind = gen_below(r, 4);
        if (kind == 0) typo(q, calls, n, r);
        else if (kind == 3) /* typed all in lower case */
            for (char *p = q; *p; p++) *p = (char)tolower((unsigned char)*p);
        else if (kind == 1) {
            size_t len = strlen(q);
            if (len && (q[len - 1] == '.' || q[len - 1] == '?' || q[len - 1] == '!')) q[len - 1] = 0;
        } else if (isupper((unsigned char)q[0]) && islower((unsigned char)q[1])) {
            q[0] = (char)tolower((unsigned char)q[0]);
        }
    }
    /* check: every argument is named in the query */
    for (int k = 0; k < n; k++)
        for (int j = 0; j < calls[k].fn->n_params; j++)
            if (calls[k].present[j] && !value_in_query(q, &calls[k], j)) goto out;
    /* the record */
    rec = cJSON_CreateObject();
    cJSON_AddStringToObject(rec, "query", q);
    cJSON *steps = cJSON_AddArrayToObject(rec, "steps");
    cJSON *jcalls = cJSON_AddArrayToObject(rec, "calls");
    cJSON *doms = cJSON_AddArrayToObject(rec, "domains");
    for (int k = 0; k < n; k++) {
        cJSON_AddItemToArray(steps, cJSON_CreateString(calls[k].step));
        cJSON *call = cJSON_CreateObject();
        cJSON_AddStringToObject(call, "function", calls[k].fn->name);
        cJSON *args = cJSON_AddObjectToObject(call, "arguments");
        for (int j = 0; j < calls[k].fn->n_params; j++)
            if (calls[k].present[j]) {
                cJSON_AddItemToObject(args, calls[k].fn->params[j].name, calls[k].vals[j].arg);
                calls[k].vals[j].arg = NULL;
            }
        cJSON_AddItemToArray(jcalls, call);
        bool seen = false;
        for (int j = 0; j < k; j++) seen |= calls[j].set == calls[k].set;
        if (!seen) cJSON_AddItemToArray(doms, cJSON_CreateString(g->sets[calls[k].set]->name));
    }
    if (g->o.observations > 0 && gen_unit(r) < g->o.observations) {
        cJSON *obs = cJSON_AddArrayToObject(rec, "observations");
        for (int k = 0; k < n; k++) {
            const cJSON *args = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(jcalls, k), "arguments");
            char *o = gen_observation(calls[k].fn->name, args, &g->books[calls[k].set]->words, r);
            cJSON_AddItemToArray(obs, cJSON_CreateString(o ? o : "done"));
            free(o);
        }
    }
    cJSON_AddStringToObject(rec, "template", tid);
    /* the same rule checks `octo data validate` applies: a record they
     * would reject is drawn again */
    {
        octo_record orec;
        char why[256];
        int by_rule[OCTO_RULE_N] = {0};
        int bad = octo_record_from_json(rec, &orec, why, sizeof why) != 0;
        if (!bad) {
            bad = octo_validate_record(&g->merged, &orec, NULL, NULL, by_rule) != 0;
            octo_record_free(&orec);
        }
        if (bad) {
            for (int k = 0; k < OCTO_RULE_N; k++) g->redrawn[k] += by_rule[k];
            cJSON_Delete(rec);
            rec = NULL;
        }
    }
out:
    free_calls(calls, GEN_MAX_STEPS);
    return rec;
}

cJSON *octo_generator_record(octo_generator *g, int i) {
    int L = plan_length(g, i);
    gen_rng r = {g->o.seed ^ ((uint64_t)i * 0xD1B54A32D192ED03ull) ^ 0x5DEECE66Dull};
    for (int tries = 0; tries < 64; tries++) {
        bool hard = false;
        cJSON *rec = attempt(g, L, &r, &hard);
        if (rec) return rec;
        if (hard) return NULL;
    }
    octo_fail("record %d: no valid composition in 64 draws (check the phrasings)", i);
    return NULL;
}

int octo_generator_write(octo_generator *g, FILE *out) {
    for (int i = 0; i < g->o.n; i++) {
        cJSON *rec = octo_generator_record(g, i);
        if (!rec) return -1;
        char *s = cJSON_PrintUnformatted(rec);
        cJSON_Delete(rec);
        if (!s) return octo_fail("out of memory");
        int ok = fputs(s, out) >= 0 && fputc('\n', out) != EOF;
        free(s);
        if (!ok) return octo_fail("write failed");
    }
    return g->o.n;
}
