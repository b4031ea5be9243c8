/* rouge.c - ROUGE-N and ROUGE-L F-measures, as TaskBench computes them.
 *
 * TaskBench scores step texts with the HuggingFace "rouge" metric, which is
 * Google's rouge_score package without stemming. Its tokenizer lower-cases
 * the text, turns every run of characters outside [a-z0-9] into a space and
 * splits: "Step 1: Call get_weather('Paris')" -> step 1 call get weather
 * paris. Non-ASCII letters are separators too (Python's lower() maps two of
 * them, the Kelvin sign and dotted capital I, to ASCII, and so does this).
 *
 * ROUGE-N: clipped n-gram overlap; precision = overlap / prediction n-grams,
 * recall = overlap / reference n-grams, F = 2PR / (P + R), 0 when both are 0.
 * ROUGE-L: the same from the longest common subsequence of the tokens.
 */
#include <stdlib.h>
#include <string.h>

#include "eval/metrics.h"

typedef struct {
    char *buf;   /* the tokens, each NUL-terminated, one after another */
    char **tok;
    int n;
} tokens;

static int tokenize(const char *s, tokens *t) {
    size_t len = strlen(s);
    t->buf = malloc(len + 1);
    t->tok = malloc((len / 2 + 1) * sizeof *t->tok); /* a token and its separator take 2 bytes at least */
    t->n = 0;
    if (!t->buf || !t->tok) return -1;
    char *w = t->buf;
    int in_tok = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        char c = 0;
        int adv = 1;
        if ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')) c = (char)*p;
        else if (*p >= 'A' && *p <= 'Z') c = (char)(*p - 'A' + 'a');
        else if (p[0] == 0xE2 && p[1] == 0x84 && p[2] == 0xAA) c = 'k', adv = 3; /* U+212A KELVIN SIGN */
        else if (p[0] == 0xC4 && p[1] == 0xB0) c = 'i', adv = 2;                 /* U+0130 -> i + U+0307 */
        if (c) {
            if (!in_tok) t->tok[t->n++] = w;
            *w++ = c;
            in_tok = 1;
            /* lower("İ") is "i" then a combining dot, which separates */
            if (adv == 2) *w++ = 0, in_tok = 0;
        } else if (in_tok) {
            *w++ = 0;
            in_tok = 0;
        }
        p += adv;
    }
    if (in_tok) *w = 0;
    return 0;
}

static void tokens_free(tokens *t) {
    free(t->buf);
    free(t->tok);
}

/* n-grams as keys "a\x01b" so that sorting groups equal ones */
static char **ngrams(const tokens *t, int n, int *count) {
    *count = t->n >= n ? t->n - n + 1 : 0;
    char **g = calloc((size_t)*count + 1, sizeof *g);
    if (!g) return NULL;
    for (int i = 0; i < *count; i++) {
        size_t len = 0;
        for (int k = 0; k < n; k++) len += strlen(t->tok[i + k]) + 1;
        char *s = malloc(len);
        if (!s) {
            for (int j = 0; j < i; j++) free(g[j]);
            free(g);
            return NULL;
        }
        char *w = s;
        for (int k = 0; k < n; k++) {
            size_t l = strlen(t->tok[i + k]);
            memcpy(w, t->tok[i + k], l);
            w += l;
            *w++ = k + 1 < n ? '\x01' : 0;
        }
        g[i] = s;
    }
    return g;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static double fmeasure(double overlap, int n_pred, int n_ref) {
    double p = overlap / (n_pred > 0 ? n_pred : 1), r = overlap / (n_ref > 0 ? n_ref : 1);
    return p + r > 0 ? 2 * p * r / (p + r) : 0.0;
}

double octo_rouge_n(const char *pred, const char *ref, int n) {
    tokens tp = {0}, tr = {0};
    double f = 0;
    char **gp = NULL, **gr = NULL;
    int np = 0, nr = 0;
    if (n < 1 || tokenize(pred ? pred : "", &tp) || tokenize(ref ? ref : "", &tr)) goto out;
    if (!(gp = ngrams(&tp, n, &np)) || !(gr = ngrams(&tr, n, &nr))) goto out;
    qsort(gp, (size_t)np, sizeof *gp, cmp_str);
    qsort(gr, (size_t)nr, sizeof *gr, cmp_str);
    long overlap = 0; /* sum over n-grams of min(count in pred, count in ref): a sorted merge */
    for (int i = 0, j = 0; i < np && j < nr;) {
        int c = strcmp(gp[i], gr[j]);
        if (c < 0) i++;
        else if (c > 0) j++;
        else overlap++, i++, j++;
    }
    f = fmeasure((double)overlap, np, nr);
out:
    for (int i = 0; gp && i < np; i++) free(gp[i]);
    for (int i = 0; gr && i < nr; i++) free(gr[i]);
    free(gp);
    free(gr);
    tokens_free(&tp);
    tokens_free(&tr);
    return f;
}

double octo_rouge_l(const char *pred, const char *ref) {
    tokens tp = {0}, tr = {0};
    double f = 0;
    int *row = NULL;
    if (tokenize(pred ? pred : "", &tp) || tokenize(ref ? ref : "", &tr)) goto out;
    if (!tp.n || !tr.n) goto out;
    /* LCS with one row of the DP table: row[j] = LCS(pred[:i], ref[:j]) */
    row = calloc((size_t)tr.n + 1, sizeof *row);
    if (!row) goto out;
    for (int i = 1; i <= tp.n; i++) {
        int diag = 0; /* LCS(pred[:i-1], ref[:j-1]) */
        for (int j = 1; j <= tr.n; j++) {
            int up = row[j];
            row[j] = !strcmp(tp.tok[i - 1], tr.tok[j - 1]) ? diag + 1 : (row[j - 1] > up ? row[j - 1] : up);
            diag = up;
        }
    }
    f = fmeasure((double)row[tr.n], tp.n, tr.n);
out:
    free(row);
    tokens_free(&tp);
    tokens_free(&tr);
    return f;
}
