/* phrasebook.c - loading and checking the generator's phrasing files
 * (format: phrasings/README.md) and splitting them into train and test
 * parts by hash.
 *
 * Everything is checked against the function set at load time, so a typo in
 * a data file is a "FILE:LINE: ..." error, never a silently wrong record.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/error.h"
#include "base/file.h"
#include "data/gen_internal.h"

#define PB_MAX_LINE 1000
#define PB_MAX_FILES 4096

uint64_t gen_hash(const char *s) {
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static int list_add(pb_list *l, const char *text) {
    if (l->n == l->cap) {
        int cap = l->cap ? l->cap * 2 : 16;
        pb_line *v = realloc(l->v, (size_t)cap * sizeof *v);
        if (!v) return octo_fail("out of memory");
        l->v = v;
        l->cap = cap;
    }
    char *t = strdup(text);
    if (!t) return octo_fail("out of memory");
    l->v[l->n].text = t;
    l->v[l->n].held = false;
    l->n++;
    return 0;
}

static void list_free(pb_list *l) {
    for (int i = 0; i < l->n; i++) free(l->v[i].text);
    free(l->v);
    memset(l, 0, sizeof *l);
}

/* Mark about a fifth of the lines of the given lists (taken together) as
 * the test part: those with the smallest hashes. Lists with fewer than
 * min_n lines in all are not split. */
static void mark_holdout(pb_list **lists, int n_lists, int min_n) {
    int n = 0;
    for (int i = 0; i < n_lists; i++) n += lists[i]->n;
    if (n < min_n || n < 2) return;
    int k = n / 5;
    if (k < 1) k = 1;
    for (int round = 0; round < k; round++) {
        pb_line *best = NULL;
        uint64_t bh = 0;
        for (int i = 0; i < n_lists; i++)
            for (int j = 0; j < lists[i]->n; j++) {
                pb_line *ln = &lists[i]->v[j];
                uint64_t h = gen_hash(ln->text);
                if (!ln->held && (!best || h < bh)) best = ln, bh = h;
            }
        if (best) best->held = true;
    }
}

const pb_line *pb_pick(const pb_list *l, octo_holdout part, gen_rng *r) {
    if (l->n == 0) return NULL;
    int n_ok = 0;
    for (int i = 0; i < l->n; i++)
        if (part == OCTO_HOLDOUT_NONE || l->v[i].held == (part == OCTO_HOLDOUT_TEST)) n_ok++;
    if (n_ok == 0) return &l->v[gen_below(r, l->n)]; /* not split */
    int k = gen_below(r, n_ok);
    for (int i = 0; i < l->n; i++)
        if (part == OCTO_HOLDOUT_NONE || l->v[i].held == (part == OCTO_HOLDOUT_TEST))
            if (k-- == 0) return &l->v[i];
    return NULL;
}

const pb_kind *pb_find_kind(const octo_phrasebook *pb, const char *name) {
    for (int i = 0; i < pb->n_kinds; i++)
        if (strcmp(pb->kinds[i].name, name) == 0) return &pb->kinds[i];
    return NULL;
}

static char *trim(char *s) {
    while (*s == ' ' || *s == '\t') s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n')) s[--n] = 0;
    return s;
}

/* Iterate over the meaningful lines of a file: calls fn(user, line, lineno)
 * for each non-empty, non-comment line (trimmed). */
typedef int (*line_fn)(void *user, char *line, int lineno);

static int each_line(const char *path, line_fn fn, void *user) {
    size_t size;
    char *text = octo_read_file(path, &size);
    if (!text) return -1;
    int rc = 0, lineno = 0;
    char *p = text, *end = text + size;
    while (p < end && rc == 0) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *e = nl ? nl : end;
        *e = 0;
        lineno++;
        if (memchr(p, 0, (size_t)(e - p))) {
            rc = octo_fail("%s:%d: NUL byte in a text file", path, lineno);
            break;
        }
        if (e - p > PB_MAX_LINE) {
            rc = octo_fail("%s:%d: line longer than %d bytes", path, lineno, PB_MAX_LINE);
            break;
        }
        char *s = trim(p);
        if (*s && *s != '#') rc = fn(user, s, lineno);
        p = e + 1;
    }
    free(text);
    return rc;
}

/* Split "a | b | c" in place into at most cap trimmed fields. */
static int split_bar(char *s, char **out, int cap) {
    int n = 0;
    while (n < cap) {
        char *bar = strchr(s, '|');
        if (bar) *bar = 0;
        out[n++] = trim(s);
        if (!bar) break;
        s = bar + 1;
    }
    return n;
}

/* ---- templates ---------------------------------------------------------- */

/* Check a template against the function: slots name parameters, optional
 * segments [...] hold only optional parameters and at least one slot,
 * required parameters appear outside segments. */
static int check_template(const char *path, int lineno, const octo_function *fn, const char *t) {
    bool seen_req[64] = {0};
    bool in_seg = false;
    int seg_slots = 0;
    for (const char *p = t; *p; p++) {
        if (*p == '[') {
            if (in_seg) return octo_fail("%s:%d: nested [ in \"%s\"", path, lineno, t);
            in_seg = true;
            seg_slots = 0;
        } else if (*p == ']') {
            if (!in_seg) return octo_fail("%s:%d: ] without [ in \"%s\"", path, lineno, t);
            if (seg_slots == 0) return octo_fail("%s:%d: optional segment without a {slot} in \"%s\"", path, lineno, t);
            in_seg = false;
        } else if (*p == '{') {
            const char *e = strchr(p, '}');
            if (!e || e - p - 1 <= 0 || e - p - 1 > 63) return octo_fail("%s:%d: bad {slot} in \"%s\"", path, lineno, t);
            char name[64];
            memcpy(name, p + 1, (size_t)(e - p - 1));
            name[e - p - 1] = 0;
            int k = -1;
            for (int i = 0; i < fn->n_params; i++)
                if (strcmp(fn->params[i].name, name) == 0) k = i;
            if (k < 0) return octo_fail("%s:%d: {%s} is not a parameter of %s", path, lineno, name, fn->name);
            if (in_seg && fn->params[k].required)
                return octo_fail("%s:%d: required parameter {%s} inside an optional [segment]", path, lineno, name);
            if (!in_seg && k < 64) seen_req[k] = true;
            seg_slots++;
            p = e;
        } else if (*p == '}') {
            return octo_fail("%s:%d: } without { in \"%s\"", path, lineno, t);
        }
    }
    if (in_seg) return octo_fail("%s:%d: [ without ] in \"%s\"", path, lineno, t);
    for (int i = 0; i < fn->n_params && i < 64; i++)
        if (fn->params[i].required && !seen_req[i])
            return octo_fail("%s:%d: required parameter {%s} missing from \"%s\"", path, lineno, fn->params[i].name, t);
    return 0;
}

/* ---- function files ----------------------------------------------------- */

typedef struct {
    octo_phrasebook *pb;
    pb_func *f;
    const char *path;
    int section; /* 0 none, 1 verb, 2 sentence, 3 step */
} func_ctx;

static int param_index(const octo_function *fn, const char *name) {
    for (int i = 0; i < fn->n_params; i++)
        if (strcmp(fn->params[i].name, name) == 0) return i;
    return -1;
}

static int func_line(void *user, char *s, int lineno) {
    func_ctx *c = user;
    const octo_function *fn = c->f->fn;
    if (s[0] == '[') {
        if (strcmp(s, "[verb]") == 0) c->section = 1;
        else if (strcmp(s, "[sentence]") == 0) c->section = 2;
        else if (strcmp(s, "[step]") == 0) c->section = 3;
        else return octo_fail("%s:%d: unknown section %s (expected [verb], [sentence] or [step])", c->path, lineno, s);
        return 0;
    }
    if (c->section == 0) {
        char *sp = strchr(s, ' ');
        if (!sp) return octo_fail("%s:%d: expected slot/chain/say, got \"%s\"", c->path, lineno, s);
        *sp = 0;
        char *rest = trim(sp + 1);
        if (strcmp(s, "slot") == 0) { /* slot PARAM = KIND|KIND */
            char *eq = strchr(rest, '=');
            if (!eq) return octo_fail("%s:%d: expected \"slot PARAM = KIND\"", c->path, lineno);
            *eq = 0;
            char *name = trim(rest), *kind = trim(eq + 1);
            int k = param_index(fn, name);
            if (k < 0) return octo_fail("%s:%d: slot %s: not a parameter of %s", c->path, lineno, name, fn->name);
            if (!*kind) return octo_fail("%s:%d: slot %s: empty kind", c->path, lineno, name);
            free(c->f->kind[k]);
            c->f->kind[k] = strdup(kind);
            return c->f->kind[k] ? 0 : octo_fail("out of memory");
        }
        if (strcmp(s, "chain") == 0) { /* chain PARAM < PRODUCER = VALUE ; REF | REF */
            char *lt = strchr(rest, '<'), *eq = lt ? strchr(lt, '=') : NULL, *semi = eq ? strchr(eq, ';') : NULL;
            if (!lt || !eq || !semi)
                return octo_fail("%s:%d: expected \"chain PARAM < PRODUCER = VALUE ; REF | REF\"", c->path, lineno);
            *lt = *eq = *semi = 0;
            char *param = trim(rest), *prod = trim(lt + 1), *val = trim(eq + 1);
            if (param_index(fn, param) < 0)
                return octo_fail("%s:%d: chain: %s is not a parameter of %s", c->path, lineno, param, fn->name);
            int pi = octo_funcset_find(c->pb->fs, prod);
            if (pi < 0) return octo_fail("%s:%d: chain: no function %s in the set", c->path, lineno, prod);
            if (val[0] == '{') {
                size_t n = strlen(val);
                char name[64];
                if (n < 3 || n > 60 || val[n - 1] != '}') return octo_fail("%s:%d: chain: bad value %s", c->path, lineno, val);
                memcpy(name, val + 1, n - 2);
                name[n - 2] = 0;
                if (param_index(&c->pb->fs->fns[pi], name) < 0)
                    return octo_fail("%s:%d: chain: %s is not a parameter of %s", c->path, lineno, name, prod);
            } else if (!*val) {
                return octo_fail("%s:%d: chain: empty value", c->path, lineno);
            }
            pb_chain *ch = realloc(c->f->chains, (size_t)(c->f->n_chains + 1) * sizeof *ch);
            if (!ch) return octo_fail("out of memory");
            c->f->chains = ch;
            ch = &ch[c->f->n_chains++];
            memset(ch, 0, sizeof *ch);
            ch->param = strdup(param);
            ch->producer = strdup(prod);
            ch->value = strdup(val);
            char *refs[32];
            int nr = split_bar(semi + 1, refs, 32);
            for (int i = 0; i < nr; i++)
                if (*refs[i] && list_add(&ch->refs, refs[i])) return -1;
            if (ch->refs.n == 0) return octo_fail("%s:%d: chain: no references after ;", c->path, lineno);
            return 0;
        }
        if (strcmp(s, "say") == 0) { /* say PARAM VALUE = SURFACE | SURFACE */
            char *eq = strchr(rest, '=');
            char *sp2 = strchr(rest, ' ');
            if (!eq || !sp2 || sp2 > eq) return octo_fail("%s:%d: expected \"say PARAM VALUE = SURFACE | ...\"", c->path, lineno);
            *sp2 = 0;
            *eq = 0;
            char *param = trim(rest), *val = trim(sp2 + 1);
            int k = param_index(fn, param);
            if (k < 0) return octo_fail("%s:%d: say: %s is not a parameter of %s", c->path, lineno, param, fn->name);
            bool ok = fn->params[k].n_enum == 0;
            for (int i = 0; i < fn->params[k].n_enum; i++)
                if (strcmp(fn->params[k].enum_values[i], val) == 0) ok = true;
            if (!ok) return octo_fail("%s:%d: say: %s is not a value of %s.%s", c->path, lineno, val, fn->name, param);
            pb_say *sy = realloc(c->f->says, (size_t)(c->f->n_says + 1) * sizeof *sy);
            if (!sy) return octo_fail("out of memory");
            c->f->says = sy;
            sy = &sy[c->f->n_says++];
            memset(sy, 0, sizeof *sy);
            sy->param = strdup(param);
            sy->value = strdup(val);
            char *surf[32];
            int ns = split_bar(eq + 1, surf, 32);
            for (int i = 0; i < ns; i++)
                if (*surf[i] && list_add(&sy->surfaces, surf[i])) return -1;
            return 0;
        }
        return octo_fail("%s:%d: unknown directive \"%s\" (expected slot, chain or say)", c->path, lineno, s);
    }
    if (check_template(c->path, lineno, fn, s)) return -1;
    pb_list *l = c->section == 1 ? &c->f->verbs : c->section == 2 ? &c->f->sentences : &c->f->steps;
    return list_add(l, s);
}

/* ---- value and compose files -------------------------------------------- */

static int kind_line(void *user, char *s, int lineno) {
    (void)lineno;
    return list_add(&((pb_kind *)user)->lines, s);
}

typedef struct {
    octo_phrasebook *pb;
    const char *path;
    pb_list *cur;
} compose_ctx;

static int compose_line(void *user, char *s, int lineno) {
    compose_ctx *c = user;
    if (s[0] == '[') {
        static const char *names[] = {"[preamble]", "[closer]", "[wrap]", "[conn]", "[sconn]", "[pair]"};
        pb_list *lists[] = {&c->pb->preamble, &c->pb->closer, &c->pb->wrap, &c->pb->conn, &c->pb->sconn, &c->pb->pair};
        for (int i = 0; i < 6; i++)
            if (strcmp(s, names[i]) == 0) {
                c->cur = lists[i];
                return 0;
            }
        return octo_fail("%s:%d: unknown section %s", c->path, lineno, s);
    }
    if (!c->cur) return octo_fail("%s:%d: text before any [section]", c->path, lineno);
    /* Quoted lines keep their outer spaces: "\", then \"" -> ", then ". */
    size_t n = strlen(s);
    if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
        s[n - 1] = 0;
        s++;
    }
    if (c->cur == &c->pb->wrap && !strstr(s, "{}"))
        return octo_fail("%s:%d: a [wrap] line needs {} where the request goes", c->path, lineno);
    if (c->cur == &c->pb->pair && (!strstr(s, "{1}") || !strstr(s, "{2}")))
        return octo_fail("%s:%d: a [pair] line needs {1} (runs first) and {2}", c->path, lineno);
    return list_add(c->cur, s);
}

/* words.txt: one lower-case word a line */
typedef struct {
    pb_list *list;
    const char *path;
} words_ctx;

static int word_line(void *user, char *s, int lineno) {
    words_ctx *c = user;
    for (const char *ch = s; *ch; ch++)
        if (!(*ch >= 'a' && *ch <= 'z'))
            return octo_fail("%s:%d: \"%s\" is not one lower-case word", c->path, lineno, s);
    return list_add(c->list, s);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Sorted names of the regular *.txt files in dir (none if it does not exist). */
static char **txt_files(const char *dir, int *n_out) {
    *n_out = 0;
    DIR *d = opendir(dir);
    char **names = NULL;
    int n = 0;
    if (!d) return NULL;
    struct dirent *e;
    while ((e = readdir(d)) && n < PB_MAX_FILES) {
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 4, ".txt") != 0 || e->d_name[0] == '.') continue;
        char **nn = realloc(names, (size_t)(n + 1) * sizeof *nn);
        if (!nn) break;
        names = nn;
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    if (n > 1) qsort(names, (size_t)n, sizeof *names, cmp_str);
    *n_out = n;
    return names;
}

static void free_names(char **names, int n) {
    for (int i = 0; i < n; i++) free(names[i]);
    free(names);
}

static int load_kinds(octo_phrasebook *pb, const char *dir) {
    int n;
    char **names = txt_files(dir, &n);
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        char stem[256], path[4096];
        snprintf(stem, sizeof stem, "%.*s", (int)(strlen(names[i]) - 4), names[i]);
        if (pb_find_kind(pb, stem)) continue; /* the set's own list wins over common */
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        pb_kind *k = realloc(pb->kinds, (size_t)(pb->n_kinds + 1) * sizeof *k);
        if (!k) {
            rc = octo_fail("out of memory");
            break;
        }
        pb->kinds = k;
        k = &k[pb->n_kinds++];
        memset(k, 0, sizeof *k);
        k->name = strdup(stem);
        rc = each_line(path, kind_line, k);
        if (rc == 0 && k->lines.n == 0) rc = octo_fail("%s: no values", path);
        if (rc == 0) {
            pb_list *l = &k->lines;
            mark_holdout(&l, 1, 10);
        }
    }
    free_names(names, n);
    return rc;
}

static bool is_dir(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

void octo_phrasebook_free(octo_phrasebook *pb) {
    if (!pb) return;
    if (pb->funcs)
        for (int i = 0; i < pb->fs->n; i++) {
            pb_func *f = &pb->funcs[i];
            if (f->kind)
                for (int k = 0; k < f->fn->n_params; k++) free(f->kind[k]);
            free(f->kind);
            list_free(&f->verbs);
            list_free(&f->sentences);
            list_free(&f->steps);
            for (int c = 0; c < f->n_chains; c++) {
                free(f->chains[c].param);
                free(f->chains[c].producer);
                free(f->chains[c].value);
                list_free(&f->chains[c].refs);
            }
            free(f->chains);
            for (int s = 0; s < f->n_says; s++) {
                free(f->says[s].param);
                free(f->says[s].value);
                list_free(&f->says[s].surfaces);
            }
            free(f->says);
        }
    free(pb->funcs);
    for (int i = 0; i < pb->n_kinds; i++) {
        free(pb->kinds[i].name);
        list_free(&pb->kinds[i].lines);
    }
    free(pb->kinds);
    pb_list *lists[] = {&pb->preamble, &pb->closer, &pb->wrap, &pb->conn, &pb->sconn, &pb->pair, &pb->words};
    for (int i = 0; i < 7; i++) list_free(lists[i]);
    free(pb);
}

/* Every parameter must get its values from somewhere. */
static int check_kinds(const octo_phrasebook *pb, const pb_func *f, const char *path) {
    for (int k = 0; k < f->fn->n_params; k++) {
        const octo_fparam *p = &f->fn->params[k];
        if (!f->kind[k]) {
            if (p->n_enum || p->type == OCTO_JT_INTEGER || p->type == OCTO_JT_NUMBER || p->type == OCTO_JT_BOOLEAN) continue;
            return octo_fail("%s: parameter %s needs a \"slot %s = KIND\" line", path, p->name, p->name);
        }
        char buf[256];
        snprintf(buf, sizeof buf, "%s", f->kind[k]);
        char *alts[16];
        int na = split_bar(buf, alts, 16);
        for (int a = 0; a < na; a++)
            if (!gen_builtin_kind(alts[a]) && !pb_find_kind(pb, alts[a]))
                return octo_fail("%s: slot %s: no value list \"%s\" (values/%s.txt) and not a built-in kind", path,
                                 p->name, alts[a], alts[a]);
    }
    return 0;
}

octo_phrasebook *octo_phrasebook_load(const char *root, const octo_funcset *fs) {
    char dir[2048], path[4400];
    if (strlen(root) > 1800 || strlen(fs->name) > 200) {
        octo_fail("%s: path too long", root);
        return NULL;
    }
    snprintf(dir, sizeof dir, "%.1800s/%.200s", root, fs->name);
    if (!is_dir(dir)) {
        octo_fail("%s: no phrasings for the set \"%s\" (expected a directory)", dir, fs->name);
        return NULL;
    }
    octo_phrasebook *pb = calloc(1, sizeof *pb);
    if (!pb) return NULL;
    pb->fs = fs;
    pb->funcs = calloc((size_t)(fs->n ? fs->n : 1), sizeof *pb->funcs);
    if (!pb->funcs) goto fail;
    for (int i = 0; i < fs->n; i++) {
        pb->funcs[i].fn = &fs->fns[i];
        pb->funcs[i].kind = calloc((size_t)(fs->fns[i].n_params + 1), sizeof(char *));
        if (!pb->funcs[i].kind) goto fail;
    }
    /* values: the set's own lists first, then the common ones */
    snprintf(path, sizeof path, "%s/values", dir);
    if (load_kinds(pb, path)) goto fail;
    snprintf(path, sizeof path, "%s/common/values", root);
    if (load_kinds(pb, path)) goto fail;
    /* composition parts: common, then the set's additions */
    const char *cfiles[2] = {"common", fs->name};
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/%s/compose.txt", root, cfiles[i]);
        struct stat st;
        if (stat(path, &st) != 0) continue;
        compose_ctx cc = {pb, path, NULL};
        if (each_line(path, compose_line, &cc)) goto fail;
    }
    /* filler words for open values (optional) */
    snprintf(path, sizeof path, "%s/common/words.txt", root);
    {
        struct stat st;
        words_ctx wc = {&pb->words, path};
        if (stat(path, &st) == 0 && each_line(path, word_line, &wc)) goto fail;
    }
    if (!pb->wrap.n || !pb->conn.n) {
        octo_fail("%s/common/compose.txt: needs [wrap] and [conn] lines", root);
        goto fail;
    }
    {
        pb_list *l = &pb->preamble;
        mark_holdout(&l, 1, 10);
        l = &pb->closer;
        mark_holdout(&l, 1, 10);
    }
    /* one file per function */
    int n;
    char **names = txt_files(dir, &n);
    for (int i = 0; i < n; i++) {
        char stem[256];
        snprintf(stem, sizeof stem, "%.*s", (int)(strlen(names[i]) - 4), names[i]);
        if (strcmp(stem, "compose") == 0) continue;
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        int fi = octo_funcset_find(fs, stem);
        if (fi < 0) {
            octo_fail("%s: no function %s in the set %s", path, stem, fs->name);
            free_names(names, n);
            goto fail;
        }
        func_ctx fc = {pb, &pb->funcs[fi], path, 0};
        if (each_line(path, func_line, &fc) || check_kinds(pb, &pb->funcs[fi], path)) {
            free_names(names, n);
            goto fail;
        }
        pb_func *f = &pb->funcs[fi];
        if (f->verbs.n + f->sentences.n == 0 || f->steps.n == 0) {
            octo_fail("%s: needs [verb] or [sentence] phrasings and [step] texts", path);
            free_names(names, n);
            goto fail;
        }
        pb_list *two[2] = {&f->verbs, &f->sentences};
        mark_holdout(two, 2, 2);
    }
    free_names(names, n);
    for (int i = 0; i < fs->n; i++)
        if (pb->funcs[i].steps.n == 0) {
            octo_fail("%s/%s.txt: missing (every function of the set needs phrasings)", dir, fs->fns[i].name);
            goto fail;
        }
    return pb;
fail:
    octo_phrasebook_free(pb);
    return NULL;
}

int octo_phrasebook_count(const octo_phrasebook *pb, const char *function, int part) {
    int fi = octo_funcset_find(pb->fs, function);
    if (fi < 0) return -1;
    const pb_func *f = &pb->funcs[fi];
    int n = 0;
    const pb_list *ls[2] = {&f->verbs, &f->sentences};
    for (int l = 0; l < 2; l++)
        for (int i = 0; i < ls[l]->n; i++)
            if (part == 0 || ls[l]->v[i].held == (part == 2)) n++;
    return n;
}

char *octo_phrasings_root(const char *funcset_path) {
    char buf[4096];
    const char *slash = funcset_path ? strrchr(funcset_path, '/') : NULL;
    if (funcset_path) {
        if (slash)
            snprintf(buf, sizeof buf, "%.*s/../phrasings", (int)(slash - funcset_path), funcset_path);
        else
            snprintf(buf, sizeof buf, "../phrasings");
        if (is_dir(buf)) return strdup(buf);
    }
    const char *env = getenv("OCTO_DATA_DIR");
    if (env && *env) {
        snprintf(buf, sizeof buf, "%s/phrasings", env);
        if (is_dir(buf)) return strdup(buf);
    }
    return strdup("phrasings");
}
