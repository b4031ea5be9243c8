/* datatools.c - split, stats and dedupe of record files (see datatools.h). */
#include "data/datatools.h"
#include "base/error.h"
#include "base/file.h"
#include "base/json_out.h"
#include "data/record.h"
#include "data/validate.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

/* ---- lines of a file ---- */

typedef struct {
    char *text;   /* the file, each line NUL-terminated in place */
    char **line;  /* non-blank lines */
    int n;
} lines;

static void lines_free(lines *l) {
    free(l->text);
    free(l->line);
    memset(l, 0, sizeof *l);
}

static int lines_read(const char *path, lines *l) {
    memset(l, 0, sizeof *l);
    size_t len;
    if (!(l->text = octo_read_file(path, &len))) return -1;
    int cap = 1024;
    l->line = malloc((size_t)cap * sizeof *l->line);
    if (!l->line) goto oom;
    for (char *p = l->text, *end = l->text + len; p < end;) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = (size_t)((nl ? nl : end) - p);
        if (n && p[n - 1] == '\r') n--;
        p[n] = 0;
        char *s = p;
        p = nl ? nl + 1 : end;
        if (strspn(s, " \t") == n) continue;
        if (l->n == cap) {
            char **nlines = realloc(l->line, (size_t)(cap *= 2) * sizeof *l->line);
            if (!nlines) goto oom;
            l->line = nlines;
        }
        l->line[l->n++] = s;
    }
    return 0;
oom:
    lines_free(l);
    return octo_fail("%s: out of memory", path);
}

/* JSON of a line, NULL unless the whole line is one JSON value (no NUL inside). */
static cJSON *parse_line(const char *s) {
    size_t n = strlen(s);
    return cJSON_ParseWithLengthOpts(s, n + 1, NULL, 1);
}

/* ---- hashing ---- */

static uint64_t fnv1a(const void *p, size_t n, uint64_t h) {
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++) h = (h ^ s[i]) * 0x100000001b3ull;
    return h;
}
#define FNV_INIT 0xcbf29ce484222325ull

typedef struct {
    uint64_t *k; /* 0 = empty (hash 0 is mapped to 1) */
    size_t cap, n;
} hset;

static void hset_free(hset *s) { free(s->k), memset(s, 0, sizeof *s); }

/* Returns 1 if added, 0 if present, -1 on out of memory. */
static int hset_add(hset *s, uint64_t h) {
    if (!h) h = 1;
    if ((s->n + 1) * 2 > s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 1024;
        uint64_t *nk = calloc(nc, sizeof *nk);
        if (!nk) return -1;
        for (size_t i = 0; i < s->cap; i++)
            if (s->k[i])
                for (size_t j = s->k[i] & (nc - 1);; j = (j + 1) & (nc - 1))
                    if (!nk[j]) {
                        nk[j] = s->k[i];
                        break;
                    }
        free(s->k);
        s->k = nk;
        s->cap = nc;
    }
    for (size_t j = h & (s->cap - 1);; j = (j + 1) & (s->cap - 1)) {
        if (s->k[j] == h) return 0;
        if (!s->k[j]) {
            s->k[j] = h;
            s->n++;
            return 1;
        }
    }
}

/* ---- split ---- */

const char *octo_split_part_name(int i, int n) {
    static const char *k3[] = {"train", "valid", "test"}, *k2[] = {"train", "test"};
    static const char *kn[] = {"part1", "part2", "part3", "part4", "part5", "part6", "part7", "part8"};
    if (n == 1) return "train";
    if (n == 2) return k2[i];
    if (n == 3) return k3[i];
    return i < OCTO_SPLIT_MAX_PARTS ? kn[i] : "part";
}

static uint64_t splitmix(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

int octo_data_split(const char *in_path, const double *ratios, int n_parts, uint64_t seed, const char *prefix,
                    int *counts) {
    if (n_parts < 1 || n_parts > OCTO_SPLIT_MAX_PARTS) return octo_fail("split: 1 to %d parts", OCTO_SPLIT_MAX_PARTS);
    double sum = 0;
    for (int k = 0; k < n_parts; k++) {
        if (!(ratios[k] >= 0) || ratios[k] > 1) return octo_fail("split: ratio %g is not in [0, 1]", ratios[k]);
        sum += ratios[k];
    }
    if (fabs(sum - 1) > 1e-6) return octo_fail("split: the ratios add up to %g, not 1", sum);
    lines l;
    if (lines_read(in_path, &l) != 0) return -1;
    int n = l.n, rc = 0;
    /* part sizes: floors, then the largest remainders get one more */
    int size[OCTO_SPLIT_MAX_PARTS], given = 0;
    double rem[OCTO_SPLIT_MAX_PARTS];
    for (int k = 0; k < n_parts; k++) {
        double want = ratios[k] * n;
        size[k] = (int)floor(want + 1e-9);
        rem[k] = want - size[k];
        given += size[k];
    }
    while (given < n) {
        int best = 0;
        for (int k = 1; k < n_parts; k++)
            if (rem[k] > rem[best] + 1e-12) best = k;
        size[best]++;
        rem[best] = -1;
        given++;
    }
    int *perm = malloc((n > 0 ? (size_t)n : 1) * sizeof *perm);
    unsigned char *part = malloc(n > 0 ? (size_t)n : 1);
    if (!perm || !part) {
        rc = octo_fail("split: out of memory");
        goto out;
    }
    for (int i = 0; i < n; i++) perm[i] = i;
    uint64_t s = seed;
    for (int i = n - 1; i > 0; i--) {
        int j = (int)(splitmix(&s) % (uint64_t)(i + 1));
        int t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
    for (int k = 0, i = 0; k < n_parts; k++)
        for (int c = 0; c < size[k]; c++) part[perm[i++]] = (unsigned char)k;
    for (int k = 0; k < n_parts && rc == 0; k++) {
        size_t pn = strlen(prefix) + 32;
        char *path = malloc(pn);
        if (!path) {
            rc = octo_fail("split: out of memory");
            break;
        }
        snprintf(path, pn, "%s.%s.jsonl", prefix, octo_split_part_name(k, n_parts));
        octo_atomic_file af;
        if (octo_atomic_open(&af, path) != 0) {
            free(path);
            rc = -1;
            break;
        }
        for (int i = 0; i < n; i++)
            if (part[i] == k) fprintf(af.fp, "%s\n", l.line[i]);
        if (octo_atomic_commit(&af) != 0) rc = -1;
        if (counts) counts[k] = size[k];
        free(path);
    }
out:
    free(perm);
    free(part);
    lines_free(&l);
    return rc;
}

/* ---- stats ---- */

typedef struct {
    char *name;
    int count;
} named_count;

typedef struct {
    named_count *v;
    int n, cap;
} histogram;

static int hist_add(histogram *h, const char *name) {
    for (int i = 0; i < h->n; i++)
        if (!strcmp(h->v[i].name, name)) return ++h->v[i].count, 0;
    if (h->n == h->cap) {
        int nc = h->cap ? h->cap * 2 : 64;
        named_count *nv = realloc(h->v, (size_t)nc * sizeof *nv);
        if (!nv) return -1;
        h->v = nv;
        h->cap = nc;
    }
    if (!(h->v[h->n].name = strdup(name))) return -1;
    h->v[h->n++].count = 1;
    return 0;
}

static int cmp_count(const void *a, const void *b) {
    const named_count *x = a, *y = b;
    if (x->count != y->count) return y->count - x->count;
    return strcmp(x->name, y->name);
}

static void hist_free(histogram *h) {
    for (int i = 0; i < h->n; i++) free(h->v[i].name);
    free(h->v);
}

int octo_data_stats(const char *in_path, FILE *out, bool json) {
    lines l;
    if (lines_read(in_path, &l) != 0) return -1;
    int n = 0, bad = 0, max_len = 0, rc = 0;
    int plen[65] = {0}; /* [64]: longer plans */
    long total_chars = 0, total_words = 0, total_steps = 0, with_template = 0;
    long ngram_total[5] = {0};
    hset ngrams[5] = {{0}}, templates = {0};
    histogram fns = {0}, doms = {0};
    for (int i = 0; i < l.n && rc == 0; i++) {
        cJSON *j = parse_line(l.line[i]);
        octo_record r;
        char why[200];
        if (!j || octo_record_from_json(j, &r, why, sizeof why) != 0) {
            bad++;
            cJSON_Delete(j);
            continue;
        }
        n++;
        int k = r.n_steps < 64 ? r.n_steps : 64;
        plen[k]++;
        if (r.n_steps > max_len) max_len = r.n_steps;
        total_steps += r.n_steps;
        for (int c = 0; c < r.n_calls; c++)
            if (hist_add(&fns, r.calls[c].function)) rc = octo_fail("stats: out of memory");
        for (int d = 0; d < r.n_domains; d++)
            if (hist_add(&doms, r.domains[d])) rc = octo_fail("stats: out of memory");
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "template");
        if (t) {
            char *ts = cJSON_PrintUnformatted(t);
            if (ts) {
                with_template++;
                if (hset_add(&templates, fnv1a(ts, strlen(ts), FNV_INIT)) < 0) rc = octo_fail("stats: out of memory");
                free(ts);
            }
        }
        total_chars += (long)strlen(r.query);
        char *q = octo_text_normalize(r.query);
        if (q) {
            /* word boundaries of the normalized query */
            int nw = 0, cap = 16;
            const char **w = malloc((size_t)cap * sizeof *w);
            size_t *wl = malloc((size_t)cap * sizeof *wl);
            for (char *p = q; w && wl && *p;) {
                char *e = strchr(p, ' ');
                size_t len = e ? (size_t)(e - p) : strlen(p);
                if (nw == cap) {
                    cap *= 2;
                    const char **nw2 = realloc(w, (size_t)cap * sizeof *w);
                    size_t *nl2 = realloc(wl, (size_t)cap * sizeof *wl);
                    if (nw2) w = nw2;
                    if (nl2) wl = nl2;
                    if (!nw2 || !nl2) break;
                }
                w[nw] = p;
                wl[nw++] = len;
                p += len + (e ? 1 : 0);
            }
            total_words += nw;
            for (int g = 1; g <= 4 && w && wl; g++)
                for (int s = 0; s + g <= nw; s++) {
                    uint64_t h = FNV_INIT;
                    for (int m = 0; m < g; m++) h = fnv1a(w[s + m], wl[s + m], fnv1a(" ", 1, h));
                    ngram_total[g]++;
                    if (hset_add(&ngrams[g], h) < 0) rc = octo_fail("stats: out of memory");
                }
            free(w);
            free(wl);
            free(q);
        }
        octo_record_free(&r);
        cJSON_Delete(j);
    }
    qsort(fns.v, (size_t)fns.n, sizeof *fns.v, cmp_count);
    qsort(doms.v, (size_t)doms.n, sizeof *doms.v, cmp_count);
    if (rc == 0 && json) {
        fprintf(out, "{\"file\":");
        octo_json_write_str(out, in_path, strlen(in_path));
        fprintf(out, ",\"records\":%d,\"bad_lines\":%d,\"plan_lengths\":{", n, bad);
        for (int k = 0, first = 1; k <= 64; k++)
            if (plen[k]) fprintf(out, "%s\"%s%d\":%d", first ? "" : ",", k == 64 ? ">=" : "", k, plen[k]), first = 0;
        fprintf(out, "},\"functions\":{");
        for (int k = 0; k < fns.n; k++) {
            fprintf(out, "%s", k ? "," : "");
            octo_json_write_str(out, fns.v[k].name, strlen(fns.v[k].name));
            fprintf(out, ":%d", fns.v[k].count);
        }
        fprintf(out, "},\"domains\":{");
        for (int k = 0; k < doms.n; k++) {
            fprintf(out, "%s", k ? "," : "");
            octo_json_write_str(out, doms.v[k].name, strlen(doms.v[k].name));
            fprintf(out, ":%d", doms.v[k].count);
        }
        fprintf(out, "},\"ngrams\":{");
        for (int g = 1; g <= 4; g++)
            fprintf(out, "%s\"%d\":{\"distinct\":%zu,\"total\":%ld,\"ratio\":%.4f}", g > 1 ? "," : "", g, ngrams[g].n,
                    ngram_total[g], ngram_total[g] ? (double)ngrams[g].n / ngram_total[g] : 0.0);
        fprintf(out, "},\"templates\":{\"records\":%ld,\"distinct\":%zu},", with_template, templates.n);
        fprintf(out, "\"avg_query_chars\":%.2f,\"avg_query_words\":%.2f,\"avg_steps\":%.3f}\n",
                n ? (double)total_chars / n : 0.0, n ? (double)total_words / n : 0.0, n ? (double)total_steps / n : 0.0);
    } else if (rc == 0) {
        fprintf(out, "%s: %d records", in_path, n);
        if (bad) fprintf(out, " (%d lines are not records)", bad);
        fprintf(out, "\nplan length:");
        for (int k = 0; k <= 64; k++)
            if (plen[k]) fprintf(out, "  %s%d: %d (%.1f%%)", k == 64 ? ">=" : "", k, plen[k], 100.0 * plen[k] / n);
        fprintf(out, "\naverage: %.3f steps, query %.1f characters, %.1f words\n", n ? (double)total_steps / n : 0.0,
                n ? (double)total_chars / n : 0.0, n ? (double)total_words / n : 0.0);
        fprintf(out, "distinct query n-grams (distinct / total = ratio):\n");
        for (int g = 1; g <= 4; g++)
            fprintf(out, "  %d-grams: %zu / %ld = %.4f\n", g, ngrams[g].n, ngram_total[g],
                    ngram_total[g] ? (double)ngrams[g].n / ngram_total[g] : 0.0);
        if (with_template) fprintf(out, "templates: %zu distinct in %ld records\n", templates.n, with_template);
        fprintf(out, "domains:");
        for (int k = 0; k < doms.n; k++) fprintf(out, "  %s: %d", doms.v[k].name, doms.v[k].count);
        fprintf(out, "\nfunctions (%d used, calls per function):\n", fns.n);
        for (int k = 0; k < fns.n; k++) fprintf(out, "  %-32s %d\n", fns.v[k].name, fns.v[k].count);
    }
    for (int g = 0; g < 5; g++) hset_free(&ngrams[g]);
    hset_free(&templates);
    hist_free(&fns);
    hist_free(&doms);
    lines_free(&l);
    return rc;
}

/* ---- dedupe ---- */

int octo_data_dedupe(const char *in_path, const char *out_path, const char *removed_path, octo_dedupe_stats *st) {
    memset(st, 0, sizeof *st);
    lines l;
    if (lines_read(in_path, &l) != 0) return -1;
    hset exact = {0}, query = {0};
    octo_atomic_file of, rf;
    int rc = 0;
    if (octo_atomic_open(&of, out_path) != 0) {
        lines_free(&l);
        return -1;
    }
    if (removed_path && octo_atomic_open(&rf, removed_path) != 0) {
        octo_atomic_abort(&of);
        lines_free(&l);
        return -1;
    }
    for (int i = 0; i < l.n && rc == 0; i++) {
        st->n_in++;
        cJSON *j = parse_line(l.line[i]);
        /* the same JSON whatever the spacing: compare the compact print */
        char *canon = j ? cJSON_PrintUnformatted(j) : NULL;
        const char *key = canon ? canon : l.line[i];
        int added = hset_add(&exact, fnv1a(key, strlen(key), FNV_INIT));
        bool drop = false;
        if (added < 0) rc = octo_fail("dedupe: out of memory");
        else if (added == 0) st->n_exact++, drop = true;
        const cJSON *q = cJSON_GetObjectItemCaseSensitive(j, "query");
        if (!cJSON_IsObject(j) || !cJSON_IsString(q)) {
            st->n_bad++;
        } else if (!drop) {
            char *nq = octo_text_normalize(q->valuestring);
            int a = nq ? hset_add(&query, fnv1a(nq, strlen(nq), FNV_INIT ^ 0x5bd1e995)) : -1;
            if (a < 0) rc = octo_fail("dedupe: out of memory");
            else if (a == 0) st->n_query++, drop = true;
            free(nq);
        }
        if (drop) {
            if (removed_path) fprintf(rf.fp, "%s\n", l.line[i]);
        } else {
            fprintf(of.fp, "%s\n", l.line[i]);
            st->n_out++;
        }
        free(canon);
        cJSON_Delete(j);
    }
    if (rc) {
        octo_atomic_abort(&of);
        if (removed_path) octo_atomic_abort(&rf);
    } else {
        if (octo_atomic_commit(&of) != 0) rc = -1;
        if (removed_path && octo_atomic_commit(&rf) != 0) rc = -1;
    }
    hset_free(&exact);
    hset_free(&query);
    lines_free(&l);
    return rc;
}
