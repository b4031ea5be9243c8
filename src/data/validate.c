/* validate.c - rule checks of canonical records (see validate.h).
 *
 * Text is compared as tokens: words (lowercased runs of letters, digits and
 * non-ASCII bytes) and clause punctuation (, . ; : ! ?). A value "appears" in
 * a text when its words occur there consecutively (punctuation between them
 * ignored), or, for values of several words, when at least two thirds of its
 * words of 3+ letters occur: this survives the typo noise of generated
 * requests without accepting unrelated text.
 */
#include "data/validate.h"
#include "base/error.h"
#include "base/file.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static const char *k_rule_names[OCTO_RULE_N] = {"record", "length",    "function", "arguments",
                                                "step",   "grounding", "order",    "judge"};

const char *octo_rule_name(octo_rule r) { return (unsigned)r < OCTO_RULE_N ? k_rule_names[r] : "?"; }

void octo_validate_opts_default(octo_validate_opts *o) {
    o->grounding = true;
    o->order = true;
    o->max_steps = 0;
    o->report = NULL;
    o->max_report = 0;
}

static bool alnum8(unsigned char c) { return isalnum(c) || c >= 0x80; }

char *octo_text_normalize(const char *s) {
    size_t n = strlen(s);
    char *out = malloc(n + 1);
    if (!out) return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (alnum8(c)) out[o++] = (char)tolower(c);
        else if (o && out[o - 1] != ' ') out[o++] = ' ';
    }
    while (o && out[o - 1] == ' ') o--;
    out[o] = 0;
    return out;
}

/* ---- tokens ---- */

typedef struct {
    char **w; /* words; punctuation as a one-character token */
    int n;
} toks;

static bool is_punct_tok(const char *t) { return t[0] && !t[1] && strchr(",.;:!?", t[0]); }

static void toks_free(toks *t) {
    for (int i = 0; i < t->n; i++) free(t->w[i]);
    free(t->w);
    t->w = NULL;
    t->n = 0;
}

static int toks_make(const char *s, toks *t) {
    t->n = 0;
    size_t cap = strlen(s) + 1;
    t->w = calloc(cap, sizeof *t->w);
    if (!t->w) return -1;
    for (const char *p = s; *p;) {
        if (alnum8((unsigned char)*p)) {
            const char *q = p;
            while (*q && alnum8((unsigned char)*q)) q++;
            char *w = strndup(p, (size_t)(q - p));
            if (!w) return -1;
            for (char *c = w; *c; c++) *c = (char)tolower((unsigned char)*c);
            t->w[t->n++] = w;
            p = q;
        } else {
            /* '.' or ':' between word characters (e-mail, 3.5, 8:05) is not a clause end,
             * nor a comma inside a date or number ("Friday, April 18, 2025",
             * "1,000") */
            bool inner = (*p == '.' || *p == ':') && p > s && alnum8((unsigned char)p[-1]) && alnum8((unsigned char)p[1]);
            /* "a.m." / "U.S.": a dot after a one-letter word */
            if (*p == '.' && t->n > 0 && strlen(t->w[t->n - 1]) == 1 && alnum8((unsigned char)t->w[t->n - 1][0]) &&
                p > s && alnum8((unsigned char)p[-1]))
                inner = true;
            if (*p == ',') {
                const char *nx = p + 1;
                while (*nx == ' ') nx++;
                static const char *k_days[] = {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
                                               "sunday", NULL};
                bool day = false;
                for (int d = 0; k_days[d] && t->n > 0; d++) day |= !strcmp(t->w[t->n - 1], k_days[d]);
                inner = isdigit((unsigned char)*nx) || day;
            }
            if (strchr(",;:!?.", *p) && !inner && (t->w[t->n++] = strndup(p, 1)) == NULL) return -1;
            p++;
        }
    }
    return 0;
}

/* Find the words of v in t, consecutively (punctuation in t skipped), from
 * token `from`. Returns the first token index and sets *end (last token). */
static int toks_find(const toks *t, const toks *v, int from, int *end) {
    int nw = 0;
    for (int i = 0; i < v->n; i++)
        if (!is_punct_tok(v->w[i])) nw++;
    if (nw == 0) return -1;
    for (int i = from; i < t->n; i++) {
        int k = 0, j = i;
        for (int m = 0; m < v->n && j <= t->n; m++) {
            if (is_punct_tok(v->w[m])) continue;
            while (j < t->n && is_punct_tok(t->w[j]) && k > 0) j++;
            if (j >= t->n || strcmp(t->w[j], v->w[m])) break;
            k++;
            j++;
        }
        if (k == nw) {
            if (end) *end = j - 1;
            return i;
        }
    }
    return -1;
}

static bool toks_has_word(const toks *t, const char *w) {
    for (int i = 0; i < t->n; i++)
        if (!strcmp(t->w[i], w)) return true;
    return false;
}

/* Exact (consecutive words) or, for several words, two thirds of the long ones. */
static bool appears(const toks *text, const toks *v) {
    if (toks_find(text, v, 0, NULL) >= 0) return true;
    int longw = 0, found = 0;
    for (int i = 0; i < v->n; i++) {
        if (strlen(v->w[i]) < 3) continue;
        longw++;
        found += toks_has_word(text, v->w[i]);
    }
    return longw >= 2 && found * 3 >= longw * 2;
}

/* A value whose surface form legitimately differs from the text: digits and
 * separators only (dates, times, numbers), unless it is long enough to be a
 * phone number, whose digits must then appear. */
static bool digits_only(const char *s, int *n_digits) {
    *n_digits = 0;
    bool any = false;
    for (; *s; s++) {
        if (isdigit((unsigned char)*s)) (*n_digits)++, any = true;
        else if (!strchr(" -:/.+()T", *s)) return false;
    }
    return any;
}

/* Dates and times (2024-05-02, 07:30, 2024-05-02T07:30, 5/2/2024) are
 * written a dozen ways in requests: their surface form is not checked. */
static bool date_or_time(const char *s) {
    if (strchr(s, ':')) return true;
    int groups = 0, len[8] = {0};
    for (const char *p = s; *p;) {
        if (!isdigit((unsigned char)*p)) {
            p++;
            continue;
        }
        int n = 0;
        while (isdigit((unsigned char)*p)) n++, p++;
        if (groups < 8) len[groups] = n;
        groups++;
    }
    if (groups != 3) return false;
    int four = 0, small = 0;
    for (int i = 0; i < 3; i++) four += len[i] == 4, small += len[i] <= 2;
    return (four == 1 && small == 2) || (len[2] == 2 && small == 3);
}

static char *digits_of(const char *s) {
    char *o = malloc(strlen(s) + 1);
    if (!o) return NULL;
    size_t k = 0;
    for (; *s; s++)
        if (isdigit((unsigned char)*s)) o[k++] = *s;
    o[k] = 0;
    return o;
}

/* The digits of v among the digits of text; a "+" country code may be
 * left out of the text ("+1 555-123-4567" vs "555 123 4567"). */
static bool digits_appear(const char *text, const char *v) {
    char *a = digits_of(text), *b = digits_of(v);
    bool ok = a && b && strstr(a, b) != NULL;
    const char *lead = v + strspn(v, " ");
    for (size_t k = 1; !ok && a && b && *lead == '+' && k <= 3 && strlen(b) - k >= 7; k++) ok = strstr(a, b + k) != NULL;
    free(a), free(b);
    return ok;
}

/* ---- one record ---- */

typedef struct {
    cJSON *reasons;
    int *by_rule;
    int n;
    bool counted[OCTO_RULE_N];
} problems;

static void add(problems *p, octo_rule r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void add(problems *p, octo_rule r, const char *fmt, ...) {
    char msg[600];
    int o = snprintf(msg, sizeof msg, "%s: ", k_rule_names[r]);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg + o, sizeof msg - (size_t)o, fmt, ap);
    va_end(ap);
    if (p->reasons) cJSON_AddItemToArray(p->reasons, cJSON_CreateString(msg));
    if (p->by_rule && !p->counted[r]) p->by_rule[r]++;
    p->counted[r] = true;
    p->n++;
}

typedef struct {
    int start, end; /* token span in the query; start < 0: no anchor */
    const char *value;
} anchor;

static bool is_word(const toks *t, int i, const char *w) { return i >= 0 && i < t->n && !strcmp(t->w[i], w); }

/* A connector word, also with two inner letters swapped ("befroe"): the
 * typo noise of generated requests must not turn a connector into text. */
static bool is_conn(const toks *t, int i, const char *w) {
    if (i < 0 || i >= t->n) return false;
    const char *a = t->w[i];
    size_t n = strlen(w);
    if (strlen(a) != n) return false;
    if (!strcmp(a, w)) return true;
    if (n < 5) return false;
    for (size_t k = 1; k + 1 < n; k++)
        if (a[k] == w[k + 1] && a[k + 1] == w[k] && !strncmp(a, w, k) && !strcmp(a + k + 2, w + k + 2)) return true;
    return false;
}

/* Words that end a verb phrase inside a sentence. */
static bool is_boundary(const toks *q, int i) {
    return is_punct_tok(q->w[i]) || is_word(q, i, "then") || is_word(q, i, "and");
}

static bool boundary_in(const toks *q, int from, int to) {
    for (int i = from; i < to; i++)
        if (is_boundary(q, i)) return true;
    return false;
}

enum { ORDER_SKIP = -1, ORDER_TEXT = 0, ORDER_REVERSED = 1 };

/* What the connectors between two calls mentioned in text order (spans x
 * before y) say: y's call first (ORDER_REVERSED), x's (ORDER_TEXT), or
 * nothing certain (ORDER_SKIP: the connector may bind a call between them
 * that has no anchor). */
static int order_between(const toks *q, const anchor *x, const anchor *y) {
    int s = x->end + 1, e = y->start; /* the words between */
    int n_punct = 0;
    for (int i = s; i < e; i++) n_punct += is_punct_tok(q->w[i]);
    /* "before you X, Y": "before" opens x's clause, one comma and nothing else divides x and y */
    int cl = x->start - 1;
    while (cl >= 0 && !is_punct_tok(q->w[cl])) cl--;
    bool before_x = false;
    for (int i = cl + 1; i < x->start; i++)
        if (is_conn(q, i, "before")) before_x = true;
    if (before_x) {
        bool one_clause_on = n_punct == 1;
        for (int i = s; i < e && one_clause_on; i++)
            if (is_word(q, i, "and") || is_word(q, i, "then")) one_clause_on = false;
        return one_clause_on ? ORDER_REVERSED : ORDER_SKIP;
    }
    /* "X, but first Y": only when "but first" joins x's phrase to y's */
    for (int i = s + 1; i < e; i++)
        if (is_conn(q, i, "first")) {
            bool joins = is_word(q, i - 1, "but") && !boundary_in(q, i + 1, e);
            for (int k = s; k < i - 1 && joins; k++)
                if (is_boundary(q, k) && !(k == i - 2 && is_punct_tok(q->w[k]))) joins = false;
            return joins ? ORDER_REVERSED : ORDER_SKIP;
        }
    /* "X before Y" keeps the order; "X, but before that, Y" does not */
    for (int i = s; i < e; i++)
        if (is_conn(q, i, "before"))
            return (is_word(q, i + 1, "that") || is_word(q, i + 1, "this") || is_word(q, i + 1, "doing")) ? ORDER_SKIP
                                                                                                          : ORDER_TEXT;
    /* "X after / once / as soon as Y", all in one phrase */
    static const char *k_not_subject[] = {"that", "this", "which", "it", "its", "done", "everything", "all", "finished",
                                          "those", "these", "doing", "then", NULL};
    for (int i = s; i < e; i++) {
        bool conn = is_conn(q, i, "after") || is_word(q, i, "once") ||
                    (is_word(q, i, "as") && is_word(q, i + 1, "soon") && is_word(q, i + 2, "as"));
        if (!conn) continue;
        int nx = is_word(q, i, "as") ? i + 3 : i + 1;
        for (int k = 0; k_not_subject[k]; k++)
            if (is_word(q, nx, k_not_subject[k])) return ORDER_TEXT; /* "after that": in order */
        if (boundary_in(q, s, i)) return ORDER_TEXT; /* "X, and after you Z, Y": binds Z, not X */
        return boundary_in(q, nx, e) ? ORDER_SKIP : ORDER_REVERSED;
    }
    return ORDER_TEXT;
}

static void check_order(const octo_record *r, const toks *q, anchor *an, problems *p) {
    int idx[64], n = 0;
    for (int i = 0; i < r->n_calls && n < 64; i++)
        if (an[i].start >= 0) idx[n++] = i;
    /* calls in the order the request mentions them */
    for (int a = 1; a < n; a++)
        for (int b = a; b > 0 && an[idx[b]].start < an[idx[b - 1]].start; b--) {
            int t = idx[b];
            idx[b] = idx[b - 1];
            idx[b - 1] = t;
        }
    for (int k = 0; k + 1 < n; k++) {
        int x = idx[k], y = idx[k + 1];
        if (an[x].end >= an[y].start) continue; /* overlapping mentions: nothing to say */
        int how = order_between(q, &an[x], &an[y]);
        if (how == ORDER_SKIP) continue;
        bool rev = how == ORDER_REVERSED;
        if (!rev && x > y)
            add(p, OCTO_RULE_ORDER,
                "the request mentions \"%.60s\" (call %d, %s) before \"%.60s\" (call %d, %s) with no connector that "
                "reverses them, but the calls run the other way",
                an[x].value, x + 1, r->calls[x].function, an[y].value, y + 1, r->calls[y].function);
        else if (rev && x < y)
            add(p, OCTO_RULE_ORDER,
                "the request asks for \"%.60s\" (call %d, %s) first (\"before you ..., ...\" / \"... after ...\"), "
                "but it runs after \"%.60s\" (call %d, %s)",
                an[y].value, y + 1, r->calls[y].function, an[x].value, x + 1, r->calls[x].function);
    }
}

static bool names_function(const char *step, const char *name) {
    size_t n = strlen(name);
    for (const char *s = step; (s = strstr(s, name)); s++) {
        bool l = s == step || !(isalnum((unsigned char)s[-1]) || s[-1] == '_');
        bool rt = !(isalnum((unsigned char)s[n]) || s[n] == '_');
        if (l && rt) return true;
    }
    return false;
}

int octo_validate_record(const octo_funcset *fs, const octo_record *r, const octo_validate_opts *o, cJSON *reasons,
                         int *by_rule) {
    octo_validate_opts dflt;
    if (!o) octo_validate_opts_default(&dflt), o = &dflt;
    problems p = {reasons, by_rule, 0, {0}};
    if (o->max_steps > 0 && r->n_steps > o->max_steps)
        add(&p, OCTO_RULE_LENGTH, "%d steps (at most %d)", r->n_steps, o->max_steps);
    if (r->n_steps != r->n_calls)
        add(&p, OCTO_RULE_RECORD, "%d steps but %d calls: not aligned one to one", r->n_steps, r->n_calls);
    toks q = {0};
    anchor *an = calloc(r->n_calls > 0 ? (size_t)r->n_calls : 1, sizeof *an);
    if (!an || toks_make(r->query, &q) != 0) {
        add(&p, OCTO_RULE_RECORD, "out of memory");
        goto done;
    }
    for (int i = 0; i < r->n_calls; i++) {
        an[i].start = an[i].end = -1;
        const octo_call *c = &r->calls[i];
        int fi = octo_funcset_find(fs, c->function);
        if (fi < 0) {
            add(&p, OCTO_RULE_FUNCTION, "call %d: \"%.64s\" is not a function of %s", i + 1, c->function, fs->name);
            continue;
        }
        const octo_function *f = &fs->fns[fi];
        char why[400];
        if (octo_args_validate(f, c->arguments, why, sizeof why) != 0)
            add(&p, OCTO_RULE_ARGUMENTS, "call %d (%s): %s", i + 1, f->name, why);
        const char *step = i < r->n_steps ? r->steps[i] : "";
        for (int k = 0; k < fs->n; k++)
            if (k != fi && strchr(fs->fns[k].name, '_') && names_function(step, fs->fns[k].name) &&
                !names_function(step, f->name))
                add(&p, OCTO_RULE_STEP, "step %d names %s but its call is %s", i + 1, fs->fns[k].name, f->name);
        if (!o->grounding && !o->order) continue;
        toks st = {0};
        if (toks_make(step, &st) != 0) {
            toks_free(&st);
            continue;
        }
        const cJSON *a;
        cJSON_ArrayForEach(a, c->arguments) {
            if (!cJSON_IsString(a) || !a->string) continue;
            const octo_fparam *fp = NULL;
            for (int k = 0; k < f->n_params; k++)
                if (!strcmp(f->params[k].name, a->string)) fp = &f->params[k];
            if (!fp || cJSON_GetObjectItemCaseSensitive(fp->schema, "enum")) continue;
            int nd;
            bool digits = digits_only(a->valuestring, &nd);
            if (digits) {
                if (date_or_time(a->valuestring)) continue;
                if (o->grounding && nd >= 7 && !digits_appear(step, a->valuestring))
                    add(&p, OCTO_RULE_GROUNDING, "call %d (%s): argument \"%.64s\": the digits of \"%.60s\" are not in step %d",
                        i + 1, f->name, a->string, a->valuestring, i + 1);
                else if (o->grounding && nd >= 7 && !digits_appear(r->query, a->valuestring))
                    add(&p, OCTO_RULE_GROUNDING, "call %d (%s): argument \"%.64s\": the digits of \"%.60s\" are not in the request",
                        i + 1, f->name, a->string, a->valuestring);
            }
            toks v = {0};
            if (toks_make(a->valuestring, &v) != 0 || v.n == 0) {
                toks_free(&v);
                continue;
            }
            if (o->grounding && !digits) {
                if (!appears(&st, &v))
                    add(&p, OCTO_RULE_GROUNDING, "call %d (%s): argument \"%.64s\" = \"%.60s\" does not appear in step %d",
                        i + 1, f->name, a->string, a->valuestring, i + 1);
                else if (!appears(&q, &v))
                    add(&p, OCTO_RULE_GROUNDING, "call %d (%s): argument \"%.64s\" = \"%.60s\" does not appear in the request",
                        i + 1, f->name, a->string, a->valuestring);
            }
            int end, at = toks_find(&q, &v, 0, &end), end2;
            /* a value the request says twice cannot place the call */
            if (at >= 0 && toks_find(&q, &v, at + 1, &end2) >= 0) at = -1;
            if (at >= 0) {
                /* a value another call also uses cannot tell the calls apart */
                bool shared = false;
                for (int j = 0; j < r->n_calls; j++) {
                    if (j == i) continue;
                    const cJSON *b;
                    cJSON_ArrayForEach(b, r->calls[j].arguments) {
                        if (cJSON_IsString(b) && !strcasecmp(b->valuestring, a->valuestring)) shared = true;
                    }
                }
                /* the call's span: from its first value to its last */
                if (!shared) {
                    if (an[i].start < 0 || at < an[i].start) an[i].start = at, an[i].value = a->valuestring;
                    if (end > an[i].end) an[i].end = end;
                }
            }
            toks_free(&v);
        }
        toks_free(&st);
    }
    if (o->order && r->n_calls > 1) check_order(r, &q, an, &p);
done:
    toks_free(&q);
    free(an);
    return p.n;
}

/* ---- files ---- */

static void write_json_line(FILE *f, const cJSON *j) {
    char *s = cJSON_PrintUnformatted(j);
    if (s) fprintf(f, "%s\n", s);
    free(s);
}

static void reject_line(FILE *f, const cJSON *j, const char *raw, long lineno, cJSON *reasons) {
    if (!f) return;
    cJSON *o = cJSON_IsObject(j) ? cJSON_Duplicate(j, 1) : cJSON_CreateObject();
    if (!o) return;
    if (!cJSON_IsObject(j)) {
        cJSON_AddNumberToObject(o, "line", (double)lineno);
        cJSON_AddStringToObject(o, "text", raw);
    }
    cJSON_DeleteItemFromObjectCaseSensitive(o, "reasons");
    cJSON_AddItemReferenceToObject(o, "reasons", reasons);
    write_json_line(f, o);
    cJSON_Delete(o);
}

typedef struct {
    cJSON *json;
    octo_record rec;
    cJSON *reasons;
} vline;

int octo_validate_file(const octo_funcset *fs, const char *in_path, const char *kept_path, const char *rejected_path,
                       const octo_validate_opts *o, const octo_teacher_opts *judge, octo_validate_stats *st) {
    memset(st, 0, sizeof *st);
    size_t len;
    char *text = octo_read_file(in_path, &len);
    if (!text) return -1;
    /* every line is kept in memory so that the judge can see them all at once */
    int cap = 1024, n = 0;
    vline *v = calloc((size_t)cap, sizeof *v);
    long *linenos = calloc((size_t)cap, sizeof *linenos);
    char **raws = calloc((size_t)cap, sizeof *raws);
    int rc = 0;
    if (!v || !linenos || !raws) {
        rc = octo_fail("%s: out of memory", in_path);
        goto out;
    }
    long lineno = 0;
    for (char *p = text, *end = text + len; p < end;) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *stop = nl ? nl : end;
        lineno++;
        size_t ln = (size_t)(stop - p);
        if (ln && p[ln - 1] == '\r') ln--;
        p[ln] = 0;
        char *line = p;
        p = nl ? nl + 1 : end;
        if (strspn(line, " \t") == ln) continue;
        if (n == cap) {
            cap *= 2;
            vline *nv = realloc(v, (size_t)cap * sizeof *v);
            if (nv) v = nv;
            long *nlno = realloc(linenos, (size_t)cap * sizeof *linenos);
            if (nlno) linenos = nlno;
            char **nr = realloc(raws, (size_t)cap * sizeof *raws);
            if (nr) raws = nr;
            if (!nv || !nlno || !nr) {
                rc = octo_fail("%s: out of memory", in_path);
                goto out;
            }
        }
        vline *x = &v[n];
        memset(x, 0, sizeof *x);
        linenos[n] = lineno;
        raws[n] = line;
        n++;
        x->reasons = cJSON_CreateArray();
        x->json = strlen(line) == ln ? cJSON_ParseWithLengthOpts(line, ln + 1, NULL, 1) : NULL;
        char why[300];
        if (!x->json) {
            cJSON_AddItemToArray(x->reasons, cJSON_CreateString("record: not valid JSON"));
            st->by_rule[OCTO_RULE_RECORD]++;
        } else if (octo_record_from_json(x->json, &x->rec, why, sizeof why) != 0) {
            char msg[320];
            snprintf(msg, sizeof msg, "record: %s", why);
            cJSON_AddItemToArray(x->reasons, cJSON_CreateString(msg));
            st->by_rule[OCTO_RULE_RECORD]++;
        } else {
            octo_validate_record(fs, &x->rec, o, x->reasons, st->by_rule);
        }
    }
    st->n_in = n;
    if (judge) {
        /* only records the rules kept go to the judge */
        octo_record *recs = calloc(n > 0 ? (size_t)n : 1, sizeof *recs);
        int *map = calloc(n > 0 ? (size_t)n : 1, sizeof *map), *verdicts = calloc(n > 0 ? (size_t)n : 1, sizeof(int));
        char **why = calloc(n > 0 ? (size_t)n : 1, sizeof *why);
        int m = 0;
        if (!recs || !map || !verdicts || !why) rc = octo_fail("out of memory");
        for (int i = 0; rc == 0 && i < n; i++)
            if (cJSON_GetArraySize(v[i].reasons) == 0) recs[m] = v[i].rec, map[m++] = i;
        if (rc == 0 && m > 0 && octo_teacher_judge(fs, judge, recs, m, verdicts, why) < 0) rc = -1;
        for (int k = 0; rc == 0 && k < m; k++) {
            if (verdicts[k] == 0) {
                char msg[600];
                snprintf(msg, sizeof msg, "judge: %.560s", why[k] ? why[k] : "the teacher says the calls do not fulfil the request");
                cJSON_AddItemToArray(v[map[k]].reasons, cJSON_CreateString(msg));
                st->by_rule[OCTO_RULE_JUDGE]++;
            }
            if (verdicts[k] < 0) st->n_judge_unanswered++;
            else st->n_judged++;
        }
        for (int k = 0; why && k < m; k++) free(why[k]);
        free(recs), free(map), free(verdicts), free(why);
        if (rc) goto out;
    }
    octo_atomic_file kf, rf;
    bool kopen = false, ropen = false;
    if (kept_path) {
        if (octo_atomic_open(&kf, kept_path) != 0) {
            rc = -1;
            goto out;
        }
        kopen = true;
    }
    if (rejected_path) {
        if (octo_atomic_open(&rf, rejected_path) != 0) {
            if (kopen) octo_atomic_abort(&kf);
            rc = -1;
            goto out;
        }
        ropen = true;
    }
    for (int i = 0; i < n; i++) {
        if (cJSON_GetArraySize(v[i].reasons) == 0) {
            st->n_kept++;
            if (kopen) fprintf(kf.fp, "%s\n", raws[i]);
        } else {
            st->n_rejected++;
            if (ropen) reject_line(rf.fp, v[i].json, raws[i], linenos[i], v[i].reasons);
            if (o && o->report && (o->max_report <= 0 || st->n_rejected <= o->max_report)) {
                fprintf(o->report, "%s:%ld:", in_path, linenos[i]);
                const cJSON *e;
                int k = 0;
                cJSON_ArrayForEach(e, v[i].reasons) fprintf(o->report, "%s %s", k++ ? ";" : "", e->valuestring);
                fputc('\n', o->report);
            }
        }
    }
    if (kopen && octo_atomic_commit(&kf) != 0) rc = -1;
    if (ropen && octo_atomic_commit(&rf) != 0) rc = -1;
out:
    for (int i = 0; v && i < n; i++) {
        cJSON_Delete(v[i].json);
        cJSON_Delete(v[i].reasons);
        octo_record_free(&v[i].rec);
    }
    free(v);
    free(linenos);
    free(raws);
    free(text);
    return rc;
}
