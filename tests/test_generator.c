/* test_generator.c - the offline data generator (src/data/generator.h) on
 * the shipped function sets and phrasings, and on small hand-made ones.
 *
 * What must hold: the same seed gives the same bytes; plan lengths 1-5 come
 * equally often; every call validates against its schema and every argument
 * is mentioned in the query; the validator's rules pass; "before you X, Y"
 * runs Y first; chained arguments come from the previous call; the train
 * and test parts of the phrasings never meet; bad phrasing files fail with
 * FILE:LINE, never a crash.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "agent/funcset.h"
#include "base/error.h"
#include "data/generator.h"
#include "data/record.h"
#include "data/validate.h"
#include "octo.h"
#include "testlib.h"

static const char *k_sets[] = {"android", "ecommerce", "video_streaming", "travel", "dailylife"};
#define N_SETS 5

typedef struct {
    octo_funcset *fs;
    octo_phrasebook *pb;
} loaded;

static bool load(const char *name, loaded *l) {
    char path[256];
    snprintf(path, sizeof path, "functions/%s.json", name);
    l->fs = octo_funcset_load(path);
    l->pb = l->fs ? octo_phrasebook_load("phrasings", l->fs) : NULL;
    if (!l->pb) fprintf(stderr, "    %s: %s\n", name, octo_last_error());
    return l->pb != NULL;
}

static void unload(loaded *l) {
    octo_phrasebook_free(l->pb);
    octo_funcset_free(l->fs);
}

static octo_generator *gen_for(loaded *l, uint64_t seed, int n, octo_holdout part) {
    octo_gen_opts o;
    octo_gen_opts_default(&o);
    o.seed = seed;
    o.n = n;
    o.holdout = part;
    return octo_generator_new((const octo_funcset *const *)&l->fs, &l->pb, 1, &o);
}

static char *record_text(octo_generator *g, int i) {
    cJSON *r = octo_generator_record(g, i);
    if (!r) return NULL;
    char *s = cJSON_PrintUnformatted(r);
    cJSON_Delete(r);
    return s;
}

TEST(shipped_sets_load) {
    for (int s = 0; s < N_SETS; s++) {
        loaded l;
        CHECKF(load(k_sets[s], &l), "%s", k_sets[s]);
        if (!l.pb) {
            unload(&l);
            continue;
        }
        CHECKF(l.fs->n >= (s == 0 ? 20 : s == 4 ? 40 : 10), "%s has %d functions", k_sets[s], l.fs->n);
        for (int f = 0; f < l.fs->n; f++) {
            int all = octo_phrasebook_count(l.pb, l.fs->fns[f].name, 0);
            int test = octo_phrasebook_count(l.pb, l.fs->fns[f].name, 2);
            CHECKF(all >= 8, "%s.%s: %d phrasings", k_sets[s], l.fs->fns[f].name, all);
            CHECKF(test >= 1 && test < all, "%s.%s: %d held out of %d", k_sets[s], l.fs->fns[f].name, test, all);
        }
        unload(&l);
    }
}

TEST(deterministic_per_seed) {
    loaded l;
    REQUIRE(load("android", &l));
    octo_generator *a = gen_for(&l, 7, 300, OCTO_HOLDOUT_NONE), *b = gen_for(&l, 7, 300, OCTO_HOLDOUT_NONE),
                   *c = gen_for(&l, 8, 300, OCTO_HOLDOUT_NONE);
    int same = 0, differ = 0;
    for (int i = 0; i < 300; i++) {
        char *x = record_text(a, i), *y = record_text(b, i), *z = record_text(c, i);
        REQUIRE(x && y && z);
        same += strcmp(x, y) == 0;
        differ += strcmp(x, z) != 0;
        free(x), free(y), free(z);
    }
    CHECK(same == 300);
    CHECKF(differ > 280, "seed 8 differs from seed 7 in only %d of 300", differ);
    octo_generator_free(a), octo_generator_free(b), octo_generator_free(c);
    unload(&l);
}

static bool iso_date(const char *s) {
    return strlen(s) == 10 && isdigit((unsigned char)s[0]) && s[4] == '-' && s[7] == '-';
}

/* Every record of every shipped set: lengths, schemas, values in the query,
 * the validator's rules. */
TEST(records_are_valid) {
    for (int s = 0; s < N_SETS; s++) {
        loaded l;
        if (!load(k_sets[s], &l)) {
            CHECK(0);
            unload(&l);
            continue;
        }
        octo_generator *g = gen_for(&l, 11, 500, OCTO_HOLDOUT_NONE);
        REQUIRE(g);
        int by_len[6] = {0}, bad_schema = 0, not_in_query = 0, rule_fail = 0;
        for (int i = 0; i < 500; i++) {
            cJSON *r = octo_generator_record(g, i);
            REQUIRE(r);
            const char *q = cJSON_GetObjectItem(r, "query")->valuestring;
            cJSON *calls = cJSON_GetObjectItem(r, "calls"), *steps = cJSON_GetObjectItem(r, "steps");
            int n = cJSON_GetArraySize(calls);
            CHECK(n == cJSON_GetArraySize(steps));
            CHECK(cJSON_IsString(cJSON_GetObjectItem(r, "template")));
            if (n >= 1 && n <= 5) by_len[n]++;
            cJSON *c;
            cJSON_ArrayForEach(c, calls) {
                const char *fname = cJSON_GetObjectItem(c, "function")->valuestring;
                int fi = octo_funcset_find(l.fs, fname);
                REQUIRE(fi >= 0);
                const octo_function *f = &l.fs->fns[fi];
                cJSON *args = cJSON_GetObjectItem(c, "arguments");
                char why[256];
                if (octo_args_validate(f, args, why, sizeof why) != 0) {
                    if (bad_schema++ < 3) fprintf(stderr, "    %s: %s\n", fname, why);
                }
                cJSON *a;
                cJSON_ArrayForEach(a, args) {
                    if (!cJSON_IsString(a)) continue;
                    const octo_fparam *p = NULL;
                    for (int k = 0; k < f->n_params; k++)
                        if (!strcmp(f->params[k].name, a->string)) p = &f->params[k];
                    if (!p || p->n_enum) continue; /* enums may be said in other words */
                    char needle[16];
                    const char *v = a->valuestring;
                    if (iso_date(v)) { /* a date is written in words; its year is there */
                        snprintf(needle, sizeof needle, "%.4s", v);
                        v = needle;
                    } else if (strlen(v) == 5 && v[2] == ':' && isdigit((unsigned char)v[0])) {
                        continue; /* HH:MM: "half past seven in the evening" */
                    }
                    if (!strcasestr(q, v) && not_in_query++ < 3)
                        fprintf(stderr, "    %s.%s = \"%s\" not in \"%s\"\n", fname, a->string, a->valuestring, q);
                }
            }
            /* the rules of `octo data validate` */
            octo_record rec;
            char why[256];
            REQUIRE(octo_record_from_json(r, &rec, why, sizeof why) == 0);
            cJSON *reasons = cJSON_CreateArray();
            if (octo_validate_record(l.fs, &rec, NULL, reasons, NULL) != 0) {
                if (rule_fail++ < 3) {
                    char *t = cJSON_PrintUnformatted(reasons);
                    fprintf(stderr, "    %s: %s\n", q, t);
                    free(t);
                }
            }
            cJSON_Delete(reasons);
            octo_record_free(&rec);
            cJSON_Delete(r);
        }
        for (int k = 1; k <= 5; k++) CHECKF(by_len[k] == 100, "%s: %d records of length %d", k_sets[s], by_len[k], k);
        CHECKF(bad_schema == 0, "%s: %d calls fail their schema", k_sets[s], bad_schema);
        CHECKF(not_in_query == 0, "%s: %d values missing from the query", k_sets[s], not_in_query);
        CHECKF(rule_fail == 0, "%s: %d records fail the validator's rules", k_sets[s], rule_fail);
        octo_generator_free(g);
        unload(&l);
    }
}

/* Template ids name the phrasings used: "V(fn/v3)", "S(fn/s1)". */
static int collect_templates(const char *tmpl, char ids[][64], int n, int cap) {
    for (const char *p = tmpl; (p = strchr(p, '/')) && n < cap; p++) {
        const char *st = p;
        while (st > tmpl && st[-1] != '(' && st[-1] != ',') st--;
        const char *e = p + 1;
        while (*e && *e != ')' && *e != ',') e++;
        snprintf(ids[n++], 64, "%.*s", (int)(e - st), st);
    }
    return n;
}

TEST(holdout_parts_are_disjoint) {
    loaded l;
    REQUIRE(load("android", &l));
    static char train[20000][64], test[4000][64];
    int nt = 0, ns = 0;
    octo_generator *a = gen_for(&l, 3, 2000, OCTO_HOLDOUT_TRAIN), *b = gen_for(&l, 4, 800, OCTO_HOLDOUT_TEST);
    REQUIRE(a && b);
    for (int i = 0; i < 2000; i++) {
        cJSON *r = octo_generator_record(a, i);
        REQUIRE(r);
        nt = collect_templates(cJSON_GetObjectItem(r, "template")->valuestring, train, nt, 20000);
        cJSON_Delete(r);
    }
    for (int i = 0; i < 800; i++) {
        cJSON *r = octo_generator_record(b, i);
        REQUIRE(r);
        ns = collect_templates(cJSON_GetObjectItem(r, "template")->valuestring, test, ns, 4000);
        cJSON_Delete(r);
    }
    CHECK(nt > 2000 && ns > 800);
    int shared = 0;
    for (int i = 0; i < ns; i++)
        for (int j = 0; j < nt; j++)
            if (!strcmp(test[i], train[j])) {
                if (shared++ < 3) fprintf(stderr, "    %s in both parts\n", test[i]);
                break;
            }
    CHECK(shared == 0);
    octo_generator_free(a), octo_generator_free(b);
    unload(&l);
}

TEST(chained_arguments) {
    loaded l;
    REQUIRE(load("android", &l));
    octo_generator *g = gen_for(&l, 5, 3000, OCTO_HOLDOUT_NONE);
    int chained = 0, pronoun = 0;
    for (int i = 0; i < 3000; i++) {
        cJSON *r = octo_generator_record(g, i);
        REQUIRE(r);
        cJSON *calls = cJSON_GetObjectItem(r, "calls");
        for (int k = 1; k < cJSON_GetArraySize(calls); k++) {
            cJSON *prev = cJSON_GetArrayItem(calls, k - 1), *cur = cJSON_GetArrayItem(calls, k);
            cJSON *att = cJSON_GetObjectItem(cJSON_GetObjectItem(cur, "arguments"), "attachment");
            if (!att || strcmp(cJSON_GetObjectItem(cur, "function")->valuestring, "send_email")) continue;
            const char *pf = cJSON_GetObjectItem(prev, "function")->valuestring;
            if (!strcmp(pf, "take_screenshot") && !strcmp(att->valuestring, "screenshot")) {
                chained++;
                const char *q = cJSON_GetObjectItem(r, "query")->valuestring;
                if (strstr(q, " it ") || strstr(q, " it,") || strstr(q, " it?") || strstr(q, " it.")) pronoun++;
            }
            if (!strcmp(pf, "find_file")) {
                const char *name = cJSON_GetObjectItem(cJSON_GetObjectItem(prev, "arguments"), "name")->valuestring;
                if (!strcmp(att->valuestring, name)) chained++;
            }
        }
        cJSON_Delete(r);
    }
    CHECKF(chained >= 20, "%d chained attachments", chained);
    CHECKF(pronoun >= 3, "%d chained by a pronoun", pronoun);
    octo_generator_free(g);
    unload(&l);
}

/* ---- a small hand-made set ------------------------------------------------ */

static void put(const char *dir, const char *name, const char *text) {
    char p[1200];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static const char *k_mini_set =
    "{\"name\":\"mini\",\"functions\":["
    "{\"name\":\"alpha\",\"description\":\"a\",\"parameters\":{\"type\":\"object\",\"properties\":"
    "{\"x\":{\"type\":\"string\"}},\"required\":[\"x\"]}},"
    "{\"name\":\"beta\",\"description\":\"b\",\"parameters\":{\"type\":\"object\",\"properties\":"
    "{\"y\":{\"type\":\"string\"}},\"required\":[\"y\"]}}]}";

/* A root with mini/ and common/; compose.txt has only the given pair line. */
static const char *mini_root(const char *tag, const char *pair, const char *alpha_txt) {
    static char root[512];
    char d[600];
    snprintf(root, sizeof root, "%s/%s", t_tmpdir(), tag);
    mkdir(root, 0755);
    snprintf(d, sizeof d, "%s/common", root);
    mkdir(d, 0755);
    char compose[512];
    snprintf(compose, sizeof compose, "[wrap]\n{}.\n[conn]\n\", then \"\n[pair]\n%s\n", pair);
    put(d, "compose.txt", compose);
    snprintf(d, sizeof d, "%s/mini", root);
    mkdir(d, 0755);
    snprintf(d, sizeof d, "%s/mini/values", root);
    mkdir(d, 0755);
    put(d, "xs.txt", "apple\n");
    put(d, "ys.txt", "zebra\n");
    snprintf(d, sizeof d, "%s/mini", root);
    put(d, "alpha.txt", alpha_txt);
    put(d, "beta.txt", "slot y = ys\n[verb]\nbeta {y}\n[step]\nBeta {y}\n");
    return root;
}

TEST(before_reverses_order) {
    octo_funcset *fs = octo_funcset_parse(k_mini_set, strlen(k_mini_set), "mini.json");
    REQUIRE(fs);
    const char *root = mini_root("rev", "before you {2}, {1}", "slot x = xs\n[verb]\nalpha {x}\n[step]\nAlpha {x}\n");
    octo_phrasebook *pb = octo_phrasebook_load(root, fs);
    if (!pb) fprintf(stderr, "    %s\n", octo_last_error());
    REQUIRE(pb);
    octo_gen_opts o;
    octo_gen_opts_default(&o);
    o.noise = 0;
    o.n = 400;
    octo_generator *g = octo_generator_new((const octo_funcset *const *)&fs, &pb, 1, &o);
    REQUIRE(g);
    int pairs = 0, plain = 0;
    for (int i = 0; i < 400; i++) {
        cJSON *r = octo_generator_record(g, i);
        REQUIRE(r);
        const char *q = cJSON_GetObjectItem(r, "query")->valuestring;
        cJSON *calls = cJSON_GetObjectItem(r, "calls");
        if (cJSON_GetArraySize(calls) == 2) {
            const char *f0 = cJSON_GetObjectItem(cJSON_GetArrayItem(calls, 0), "function")->valuestring;
            const char *f1 = cJSON_GetObjectItem(cJSON_GetArrayItem(calls, 1), "function")->valuestring;
            const char *s0 = cJSON_GetArrayItem(cJSON_GetObjectItem(r, "steps"), 0)->valuestring;
            if (!strncmp(q, "Before you ", 11)) {
                pairs++;
                /* "Before you beta zebra, alpha apple." -> alpha runs first */
                char want[128];
                snprintf(want, sizeof want, "Before you %s %s, %s %s.", f1, !strcmp(f1, "beta") ? "zebra" : "apple", f0,
                         !strcmp(f0, "alpha") ? "apple" : "zebra");
                CHECKF(!strcmp(q, want), "\"%s\" vs \"%s\"", q, want);
                CHECK(!strncasecmp(s0, f0, 4));
            } else {
                plain++;
                /* "alpha apple, then beta zebra." in execution order */
                CHECK(strstr(q, f0) < strstr(q, f1));
            }
        }
        cJSON_Delete(r);
    }
    CHECKF(pairs >= 10 && plain >= 10, "%d reversed pairs, %d in order", pairs, plain);
    octo_generator_free(g);
    octo_phrasebook_free(pb);
    octo_funcset_free(fs);
}

/* --open-values: a list value keeps its shape (function words, capitals,
 * a file extension) with the other words drawn from common/words.txt; never
 * under holdout test; a bad words.txt fails with FILE:LINE. */
/* A phrasebook root NAME for the mini set whose alpha takes x from the list
 * xs (one value a line), with common/words.txt when words is given; loads
 * the set (*fs) and returns its phrasebook (NULL on failure). */
static octo_phrasebook *alpha_book(const char *name, const char *xs, const char *words, const char **root,
                                   octo_funcset **fs) {
    *root = mini_root(name, "{1} and {2}", "slot x = xs\n[verb]\nalpha {x}\n[step]\nAlpha {x}\n");
    char d[700];
    snprintf(d, sizeof d, "%s/mini/values", *root);
    put(d, "xs.txt", xs);
    if (words) {
        snprintf(d, sizeof d, "%s/common", *root);
        put(d, "words.txt", words);
    }
    snprintf(d, sizeof d, "%s/mini.json", *root);
    put(*root, "mini.json", k_mini_set);
    *fs = octo_funcset_load(d);
    return *fs ? octo_phrasebook_load(*root, *fs) : NULL;
}

TEST(open_values_keep_shape) {
    const char *root;
    octo_funcset *fs;
    octo_phrasebook *pb = alpha_book("open", "The Big apple.txt\n", "# filler\nplum\nkiwi\n", &root, &fs);
    REQUIRE(pb);
    char d[700];
    snprintf(d, sizeof d, "%s/common", root);
    for (int part = 1; part <= 2; part++) {
        octo_gen_opts o;
        octo_gen_opts_default(&o);
        o.n = 60;
        o.open_values = 1.0;
        o.noise = 0; /* no casing slips: the value must be found as written */
        o.holdout = (octo_holdout)part;
        octo_generator *g = octo_generator_new((const octo_funcset *const *)&fs, &pb, 1, &o);
        REQUIRE(g);
        int n_alpha = 0, shaped = 0, unchanged = 0, in_query = 0;
        for (int i = 0; i < 60; i++) {
            cJSON *r = octo_generator_record(g, i);
            REQUIRE(r);
            const char *q = cJSON_GetObjectItem(r, "query")->valuestring;
            cJSON *c;
            cJSON_ArrayForEach(c, cJSON_GetObjectItem(r, "calls")) {
                if (strcmp(cJSON_GetObjectItem(c, "function")->valuestring, "alpha")) continue;
                const char *x = cJSON_GetObjectItem(cJSON_GetObjectItem(c, "arguments"), "x")->valuestring;
                n_alpha++;
                char a[16], b[16];
                if (sscanf(x, "The %15[A-Za-z] %15[a-z].txt", a, b) == 2 &&
                    (!strcmp(a, "Plum") || !strcmp(a, "Kiwi")) && (!strcmp(b, "plum") || !strcmp(b, "kiwi")))
                    shaped++;
                if (!strcmp(x, "The Big apple.txt")) unchanged++;
                if (strstr(q, x)) in_query++;
            }
            cJSON_Delete(r);
        }
        CHECK(n_alpha > 20);
        CHECK(in_query == n_alpha);
        if (part == OCTO_HOLDOUT_TRAIN) CHECKF(shaped == n_alpha, "%d of %d opened values keep the shape", shaped, n_alpha);
        else CHECKF(unchanged == n_alpha, "holdout test: %d of %d values left as listed", unchanged, n_alpha);
        octo_generator_free(g);
    }
    octo_phrasebook_free(pb);
    put(d, "words.txt", "plum\nKiwi Two\n");
    CHECK(octo_phrasebook_load(root, fs) == NULL);
    CHECKF(strstr(octo_last_error(), "words.txt:2:") != NULL, "error: %s", octo_last_error());
    octo_funcset_free(fs);
}

/* --observations: records carry one made-up output per call (strings, not
 * empty), about as often as asked; with 0, none. */
TEST(observations_one_per_call) {
    const char *root;
    octo_funcset *fs;
    octo_phrasebook *pb = alpha_book("obs", "apple\npear\n", NULL, &root, &fs);
    REQUIRE(pb);
    octo_gen_opts o;
    octo_gen_opts_default(&o);
    o.n = 200;
    octo_generator *plain = octo_generator_new((const octo_funcset *const *)&fs, &pb, 1, &o);
    o.observations = 0.5;
    octo_generator *g = octo_generator_new((const octo_funcset *const *)&fs, &pb, 1, &o);
    REQUIRE(plain && g);
    int with = 0, bad = 0;
    for (int i = 0; i < 200; i++) {
        cJSON *r = octo_generator_record(g, i), *p = octo_generator_record(plain, i);
        REQUIRE(r && p);
        CHECK(cJSON_GetObjectItem(p, "observations") == NULL);
        const cJSON *obs = cJSON_GetObjectItem(r, "observations");
        if (obs) {
            with++;
            bad += cJSON_GetArraySize(obs) != cJSON_GetArraySize(cJSON_GetObjectItem(r, "calls"));
            const cJSON *x;
            cJSON_ArrayForEach(x, obs) bad += !cJSON_IsString(x) || !*x->valuestring;
        }
        cJSON_Delete(r);
        cJSON_Delete(p);
    }
    CHECKF(with > 60 && with < 140, "%d of 200 records with observations", with);
    CHECK(bad == 0);
    octo_generator_free(g);
    octo_generator_free(plain);
    octo_phrasebook_free(pb);
    octo_funcset_free(fs);
}

TEST(bad_phrasings_fail_with_file_and_line) {
    octo_funcset *fs = octo_funcset_parse(k_mini_set, strlen(k_mini_set), "mini.json");
    REQUIRE(fs);
    static const struct {
        const char *alpha, *expect;
    } cases[] = {
        {"slot x = xs\n[verb]\nalpha {nope}\n[step]\nAlpha {x}\n", "alpha.txt:3"},
        {"slot x = xs\n[verb]\nalpha [{x}]\n[step]\nAlpha {x}\n", "inside an optional"},
        {"slot x = xs\n[verb]\nalpha\n[step]\nAlpha {x}\n", "missing from"},
        {"slot x = xs\n[verb]\nalpha {x\n[step]\nAlpha {x}\n", "bad {slot}"},
        {"slot x = xs\n[verb]\nalpha {x} [oops\n[step]\nAlpha {x}\n", "[ without ]"},
        {"slot x = nowhere\n[verb]\nalpha {x}\n[step]\nAlpha {x}\n", "no value list"},
        {"slot q = xs\n[verb]\nalpha {x}\n[step]\nAlpha {x}\n", "not a parameter"},
        {"chain x < gamma = {y} ; it\n[verb]\nalpha {x}\n[step]\nAlpha {x}\n", "no function gamma"},
        {"[verb]\nalpha {x}\n[step]\nAlpha {x}\n", "needs a \"slot x"},
        {"slot x = xs\n[wat]\n", "unknown section"},
        {"slot x = xs\n[verb]\nalpha {x}\n", "needs [verb]"},
        {"\x01\x02\xff\xfe{{{[[[\n\n]]]}}}", "alpha.txt:1"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char tag[32];
        snprintf(tag, sizeof tag, "bad%zu", i);
        const char *root = mini_root(tag, "before you {2}, {1}", cases[i].alpha);
        octo_phrasebook *pb = octo_phrasebook_load(root, fs);
        CHECKF(pb == NULL, "case %zu loaded", i);
        CHECKF(strstr(octo_last_error(), cases[i].expect) != NULL, "case %zu: \"%s\" lacks \"%s\"", i,
               octo_last_error(), cases[i].expect);
        octo_phrasebook_free(pb);
    }
    /* a NUL byte and an over-long line */
    const char *root = mini_root("nul", "before you {2}, {1}", "slot x = xs\n[verb]\nalpha {x}\n[step]\nAlpha {x}\n");
    char p[600];
    snprintf(p, sizeof p, "%s/mini/beta.txt", root);
    FILE *f = fopen(p, "wb");
    REQUIRE(f);
    fwrite("[verb]\nbe\0ta {y}\n", 1, 17, f);
    fclose(f);
    octo_phrasebook *pb = octo_phrasebook_load(root, fs);
    CHECK(pb == NULL && strstr(octo_last_error(), "beta.txt:2"));
    octo_phrasebook_free(pb);
    f = fopen(p, "wb");
    REQUIRE(f);
    for (int i = 0; i < 5000; i++) fputc('a', f);
    fclose(f);
    pb = octo_phrasebook_load(root, fs);
    CHECK(pb == NULL && strstr(octo_last_error(), "longer than"));
    octo_phrasebook_free(pb);
    /* a missing function file and a stray one */
    remove(p);
    pb = octo_phrasebook_load(root, fs);
    CHECK(pb == NULL && strstr(octo_last_error(), "beta.txt: missing"));
    octo_phrasebook_free(pb);
    put(root, "mini/beta.txt", "slot y = ys\n[verb]\nbeta {y}\n[step]\nBeta {y}\n");
    put(root, "mini/gamma.txt", "[verb]\ngamma\n[step]\nGamma\n");
    pb = octo_phrasebook_load(root, fs);
    CHECK(pb == NULL && strstr(octo_last_error(), "no function gamma"));
    octo_phrasebook_free(pb);
    octo_funcset_free(fs);
}

/* The public entry point writes the same records as the generator. */
TEST(public_api_writes_file) {
    loaded l;
    REQUIRE(load("android", &l));
    char path[600];
    snprintf(path, sizeof path, "%s/api.jsonl", t_tmpdir());
    const octo_funcset *sets[1] = {l.fs};
    CHECK(octo_data_generate(sets, 1, NULL, 100, 5, 0, path) == 100);
    size_t n;
    char *text = octo_read_file(path, &n);
    REQUIRE(text);
    octo_generator *g = gen_for(&l, 5, 100, OCTO_HOLDOUT_NONE);
    char *first = record_text(g, 0);
    CHECK(first && !strncmp(text, first, strlen(first)) && text[strlen(first)] == '\n');
    int lines = 0;
    for (size_t i = 0; i < n; i++) lines += text[i] == '\n';
    CHECK(lines == 100);
    CHECK(octo_data_generate(sets, 1, "/nonexistent-phrasings", 10, 5, 0, path) == -1);
    CHECK(strstr(octo_last_error(), "no phrasings") != NULL);
    free(first);
    free(text);
    octo_generator_free(g);
    unload(&l);
}

int main(void) {
    struct stat st;
    if (stat("phrasings", &st) != 0 || stat("functions", &st) != 0) {
        fprintf(stderr, "run from the repository root (phrasings/ and functions/ needed)\n");
        return 1;
    }
    RUN(shipped_sets_load);
    RUN(deterministic_per_seed);
    RUN(records_are_valid);
    RUN(holdout_parts_are_disjoint);
    RUN(chained_arguments);
    RUN(before_reverses_order);
    RUN(open_values_keep_shape);
    RUN(observations_one_per_call);
    RUN(bad_phrasings_fail_with_file_and_line);
    RUN(public_api_writes_file);
    return t_finish();
}
