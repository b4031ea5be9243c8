/* cmd_data_gen.c - `octo data gen`: training records for function sets,
 * offline from phrasings (src/data/generator.h) or from a teacher model
 * over an OpenAI-compatible endpoint (src/data/teacher.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "agent/funcset.h"
#include "base/error.h"
#include "base/file.h"
#include "cli.h"
#include "data/generator.h"
#include "data/teacher.h"
#include "data/validate.h"

static const char *k_help =
    "usage: octo data gen --functions F [--functions F2 ...] [--n N] [--seed S] [--holdout train|test]\n"
    "                     [--domain-mix P] [--phrasings DIR] [--noise R] [--chain P] [--open-values P]\n"
    "                     [--observations P] -o OUT.jsonl\n"
    "       octo data gen --functions F --teacher URL --model NAME [--key-env E] [--in-flight N]\n"
    "                     [--rate R] [--temperature T] [--timeout-ms MS] [--retries K] [--n N] -o OUT.jsonl\n\n"
    "Write training records {query, steps, calls, domains, template} for function sets, one JSON\n"
    "object a line. Plan lengths 1-5 come equally often; the same inputs and seed give the same file.\n\n"
    "  --functions F      function-set file, or the name of a shipped set (android, travel, ...);\n"
    "                     repeat to draw from several sets (records say which in \"domains\")\n"
    "  -n, --n N          records to write (default 800 x the number of functions)\n"
    "  --seed S           random seed (default 1)\n"
    "  --holdout PART     train: only the training part of the phrasings and value lists;\n"
    "                     test: only the held-out part (about a fifth, chosen by hash), so a test\n"
    "                     set's requests use phrasings never seen in training\n"
    "  --domain-mix P     with several sets: share of records that mix sets (default 0.5)\n"
    "  --phrasings DIR    phrasings root (default: <dir of F>/../phrasings, $OCTO_DATA_DIR/phrasings)\n"
    "  --noise R          share of records with a typo, casing or punctuation slip (default 0.04)\n"
    "  --chain P          chance a step uses the previous call's result (default 0.35)\n"
    "  --open-values P    chance a string value from a list becomes random words of its shape\n"
    "                     (phrasings/common/words.txt), so a model learns to copy values, not to\n"
    "                     recall them; not with --holdout test (default 0)\n"
    "  --observations P   chance a record carries made-up outputs of its calls (\"observations\"),\n"
    "                     which `octo data render --action` puts into the next step's prompt,\n"
    "                     as `octo run` does with real outputs (default 0)\n"
    "  -o, --output FILE  output JSONL, written atomically (\"-\": stdout)\n\n"
    "teacher mode (the paper's way; resumable: a rerun appends only what OUT lacks):\n"
    "  --teacher URL      chat-completions endpoint (http://host:port/v1)\n"
    "  --model NAME       model name sent to the endpoint\n"
    "  --key-env E        environment variable holding the API key (default OPENAI_API_KEY)\n"
    "  --in-flight N      concurrent requests (default 4)\n"
    "  --rate R           at most R requests started per second (default: no limit)\n"
    "  --temperature T    sampling temperature (default 0.8)\n"
    "  --timeout-ms MS    per request (default 60000)\n"
    "  --retries K        retries on 429, 5xx and timeouts (default 5)\n";

static octo_funcset *load_set(const char *arg) {
    struct stat st;
    if (stat(arg, &st) == 0) return octo_funcset_load(arg);
    char *p = octo_funcset_path(arg);
    if (!p) {
        octo_fail("%s: no such file, and no shipped function set of that name", arg);
        return NULL;
    }
    octo_funcset *fs = octo_funcset_load(p);
    free(p);
    return fs;
}

static bool parse_unit(cli_args *a, double *out) {
    float x;
    const char *flag = a->argv[a->i];
    if (!cli_float(a, &x)) return false;
    if (x < 0 || x > 1) {
        fprintf(stderr, "%s: %s: expected a number in [0, 1]\n", a->cmd, flag);
        return false;
    }
    *out = x;
    return true;
}

#define MAX_SETS 16

int cmd_data_gen(int argc, char **argv) {
    cli_args a = {argc, argv, 1, "octo data gen"};
    const char *files[MAX_SETS], *out = NULL, *phr = NULL, *url = NULL, *model = NULL;
    int n_files = 0, n = 0;
    octo_gen_opts go;
    octo_gen_opts_default(&go);
    octo_teacher_opts to;
    octo_teacher_opts_default(&to);
    bool teacher_flag = false;
    while (a.i < argc) {
        if (cli_flag(&a, "-h", "--help")) {
            printf("%s", k_help);
            return 0;
        } else if (cli_flag(&a, "--functions", "-F")) {
            if (n_files == MAX_SETS) return cli_error(a.cmd, "at most %d --functions", MAX_SETS);
            if (!(files[n_files++] = cli_value(&a))) return 2;
        } else if (cli_flag(&a, "-n", "--n")) {
            if (!cli_int(&a, &n, 1, 100000000)) return 2;
        } else if (cli_flag(&a, "--seed", NULL)) {
            if (!cli_u64(&a, &go.seed)) return 2;
            to.seed = go.seed;
        } else if (cli_flag(&a, "--holdout", NULL)) {
            const char *v = cli_value(&a);
            if (!v) return 2;
            if (!strcmp(v, "train")) go.holdout = OCTO_HOLDOUT_TRAIN;
            else if (!strcmp(v, "test")) go.holdout = OCTO_HOLDOUT_TEST;
            else if (!strcmp(v, "none")) go.holdout = OCTO_HOLDOUT_NONE;
            else return cli_error(a.cmd, "--holdout: expected train, test or none, got \"%s\"", v);
        } else if (cli_flag(&a, "--domain-mix", NULL)) {
            if (!parse_unit(&a, &go.mix)) return 2;
        } else if (cli_flag(&a, "--noise", NULL)) {
            if (!parse_unit(&a, &go.noise)) return 2;
        } else if (cli_flag(&a, "--chain", NULL)) {
            if (!parse_unit(&a, &go.chain)) return 2;
        } else if (cli_flag(&a, "--open-values", NULL)) {
            if (!parse_unit(&a, &go.open_values)) return 2;
        } else if (cli_flag(&a, "--observations", NULL)) {
            if (!parse_unit(&a, &go.observations)) return 2;
        } else if (cli_flag(&a, "--phrasings", NULL)) {
            if (!(phr = cli_value(&a))) return 2;
        } else if (cli_flag(&a, "-o", "--output")) {
            if (!(out = cli_value(&a))) return 2;
        } else if (cli_flag(&a, "--teacher", NULL)) {
            if (!(url = cli_value(&a))) return 2;
        } else if (cli_flag(&a, "--model", "-m")) {
            if (!(model = cli_value(&a))) return 2;
        } else if (cli_flag(&a, "--key-env", NULL)) {
            if (!(to.key_env = cli_value(&a))) return 2;
            teacher_flag = true;
        } else if (cli_flag(&a, "--in-flight", NULL)) {
            if (!cli_int(&a, &to.in_flight, 1, 256)) return 2;
            teacher_flag = true;
        } else if (cli_flag(&a, "--rate", NULL)) {
            float r;
            if (!cli_float(&a, &r) || r < 0) return 2;
            to.rate_per_s = r;
            teacher_flag = true;
        } else if (cli_flag(&a, "--temperature", "--temp")) {
            float t;
            if (!cli_float(&a, &t) || t < 0) return 2;
            to.temperature = t;
            teacher_flag = true;
        } else if (cli_flag(&a, "--timeout-ms", NULL)) {
            if (!cli_int(&a, &to.timeout_ms, 1, 3600000)) return 2;
            teacher_flag = true;
        } else if (cli_flag(&a, "--retries", NULL)) {
            if (!cli_int(&a, &to.max_retries, 0, 100)) return 2;
            teacher_flag = true;
        } else {
            return cli_usage_error(&a);
        }
    }
    if (!n_files) return cli_error(a.cmd, "--functions F is required (see --help)");
    if (!out) return cli_error(a.cmd, "-o OUT.jsonl is required (see --help)");
    if (teacher_flag && !url) return cli_error(a.cmd, "teacher options need --teacher URL");

    octo_funcset *sets[MAX_SETS] = {0};
    octo_phrasebook *books[MAX_SETS] = {0};
    int rc = 1, n_fn = 0;
    for (int i = 0; i < n_files; i++) {
        if (!(sets[i] = load_set(files[i]))) {
            cli_error(a.cmd, "%s", octo_last_error());
            goto done;
        }
        n_fn += sets[i]->n;
    }
    if (url) { /* the teacher writes the records */
        if (!model) {
            cli_error(a.cmd, "--teacher needs --model NAME");
            goto done;
        }
        if (n_files != 1 || !strcmp(out, "-")) {
            cli_error(a.cmd, "teacher mode takes one --functions set and an output file");
            goto done;
        }
        to.url = url;
        to.model = model;
        int got = octo_teacher_generate(sets[0], &to, n > 0 ? n : 800 * n_fn, out);
        if (got < 0) {
            cli_error(a.cmd, "%s", octo_last_error());
            goto done;
        }
        fprintf(stderr, "%s: %d records\n", out, got);
        rc = 0;
        goto done;
    }
    for (int i = 0; i < n_files; i++) {
        char *root = phr ? strdup(phr) : octo_phrasings_root(sets[i]->path);
        books[i] = root ? octo_phrasebook_load(root, sets[i]) : NULL;
        free(root);
        if (!books[i]) {
            cli_error(a.cmd, "%s", octo_last_error());
            goto done;
        }
    }
    go.n = n;
    octo_generator *g = octo_generator_new((const octo_funcset *const *)sets, books, n_files, &go);
    if (!g) {
        cli_error(a.cmd, "%s", octo_last_error());
        goto done;
    }
    int wrote;
    if (!strcmp(out, "-")) {
        wrote = octo_generator_write(g, stdout);
        if (wrote >= 0 && fflush(stdout) != 0) wrote = octo_fail("stdout: write failed");
    } else {
        octo_atomic_file af;
        wrote = octo_atomic_open(&af, out);
        if (wrote == 0) {
            wrote = octo_generator_write(g, af.fp);
            if (wrote < 0) octo_atomic_abort(&af);
            else if (octo_atomic_commit(&af)) wrote = -1;
        }
    }
    int redrawn[OCTO_RULE_N];
    octo_generator_redrawn(g, redrawn);
    octo_generator_free(g);
    if (wrote < 0) {
        cli_error(a.cmd, "%s", octo_last_error());
        goto done;
    }
    if (strcmp(out, "-")) {
        fprintf(stderr, "%s: %d records; drafts drawn again after the rule checks:", out, wrote);
        int any = 0;
        for (int k = 0; k < OCTO_RULE_N; k++)
            if (redrawn[k]) fprintf(stderr, " %s %d", octo_rule_name((octo_rule)k), redrawn[k]), any = 1;
        fprintf(stderr, "%s\n", any ? "" : " none");
    }
    rc = 0;
done:
    for (int i = 0; i < n_files; i++) {
        octo_phrasebook_free(books[i]);
        octo_funcset_free(sets[i]);
    }
    return rc;
}
