/* cmd_data.c - `octo data <sub>`: the dataset tools (convert, validate,
 * split, stats, dedupe) and the dispatch to gen and render. Each is a thin
 * parser over src/data/; the format of every file is docs/data.md's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "agent/funcset.h"
#include "data/convert_taskbench.h"
#include "data/datatools.h"
#include "data/teacher.h"
#include "data/validate.h"

/* `octo data render` lives with the agents; weak so the dispatcher links without it */
extern int cmd_data_render(int argc, char **argv) __attribute__((weak));

static const char *k_help =
    "usage: octo data <command> [options]   (octo data <command> --help for details)\n\n"
    "Datasets of canonical records (JSONL: query, steps, calls, domains; see docs/data.md).\n\n"
    "commands:\n"
    "  gen        write training records for function sets (offline generator or a teacher model)\n"
    "  convert    convert another dataset (TaskBench) to canonical records\n"
    "  validate   rule checks (and an optional teacher judge): kept and rejected records\n"
    "  split      train / valid / test files by ratios, deterministic for a seed\n"
    "  stats      counts, plan lengths, functions, query diversity (distinct n-grams, templates)\n"
    "  dedupe     drop exact duplicates and records whose normalized queries repeat\n"
    "  render     records -> planner / action training text\n";

/* A function set given by path or by shipped name. */
static octo_funcset *load_set(const char *cmd, const char *name_or_path) {
    char *path = octo_funcset_path(name_or_path);
    if (!path) {
        cli_error(cmd, "%s", octo_last_error());
        return NULL;
    }
    octo_funcset *fs = octo_funcset_load(path);
    free(path);
    if (!fs) cli_error(cmd, "%s", octo_last_error());
    return fs;
}

/* ---- convert ---- */

static const char *k_convert_help =
    "usage: octo data convert --from taskbench IN -o OUT.jsonl [--functions F] [--rejects FILE] [--domain NAME]\n\n"
    "Convert TaskBench labeled records (JSONL or one JSON array) to canonical records: calls in\n"
    "execution order (chains along task_links, DAGs in a topological order, ties broken by the\n"
    "order of the steps), each step with its call and without its \"Step N:\" prefix, arguments\n"
    "as an object keyed by parameter name. Records that cannot be converted faithfully (steps and\n"
    "nodes differ in number, unknown tool, malformed or dangling link, cycle) are reported one per\n"
    "line on stderr, counted in the summary and written with their reasons to --rejects.\n\n"
    "  --from taskbench     the input format (the only one so far)\n"
    "  -o, --output FILE    canonical records (written atomically)\n"
    "  --functions F        function set (file or shipped name) the tools must belong to\n"
    "                       (default: the shipped dailylife set if found, else no tool check)\n"
    "  --rejects FILE       rejected records, each with \"reasons\"\n"
    "  --domain NAME        \"domains\" of every record (default: the set's name)\n"
    "  --keep-unknown-tools keep records that call tools outside the set (an evaluation\n"
    "                       reference keeps the benchmark's answers as they are)\n"
    "  -q, --quiet          no per-record lines on stderr (the summary stays)\n";

static int data_convert(int argc, char **argv) {
    cli_args a = {argc, argv, 1, "octo data convert"};
    const char *from = NULL, *in = NULL, *out = NULL, *fpath = NULL, *rejects = NULL, *domain = NULL;
    bool quiet = false, keep_unknown = false;
    while (a.i < argc) {
        if (cli_flag(&a, "-h", "--help")) {
            printf("%s", k_convert_help);
            return 0;
        } else if (cli_flag(&a, "--from", NULL)) {
            if (!(from = cli_value(&a))) return 2;
        } else if (cli_flag(&a, "-o", "--output")) {
            if (!(out = cli_value(&a))) return 2;
        } else if (cli_flag(&a, "--functions", NULL)) {
            if (!(fpath = cli_value(&a))) return 2;
        } else if (cli_flag(&a, "--rejects", NULL)) {
            if (!(rejects = cli_value(&a))) return 2;
        } else if (cli_flag(&a, "--domain", NULL)) {
            if (!(domain = cli_value(&a))) return 2;
        } else if (cli_flag(&a, "-q", "--quiet")) {
            quiet = true;
            a.i++;
        } else if (cli_flag(&a, "--keep-unknown-tools", NULL)) {
            keep_unknown = true;
            a.i++;
        } else if (argv[a.i][0] != '-' && !in) {
            in = argv[a.i++];
        } else {
            return cli_usage_error(&a);
        }
    }
    if (!from) return cli_error(a.cmd, "--from FORMAT is required (taskbench)");
    if (strcmp(from, "taskbench")) return cli_error(a.cmd, "--from: unknown format \"%s\" (known: taskbench)", from);
    if (!in || !out) return cli_error(a.cmd, "IN and -o OUT are required (see --help)");
    octo_funcset *fs = NULL;
    if (fpath) {
        if (!(fs = load_set(a.cmd, fpath))) return 1;
    } else {
        char *p = octo_funcset_path("dailylife");
        if (p) fs = octo_funcset_load(p);
        if (!fs) fprintf(stderr, "%s: the dailylife set was not found: tools are not checked\n", a.cmd);
        free(p);
    }
    octo_tb_opts o = {fs, domain, quiet ? NULL : stderr, rejects, keep_unknown};
    octo_tb_stats st;
    int rc = octo_convert_taskbench(in, out, &o, &st);
    octo_funcset_free(fs);
    if (rc != 0) return cli_error(a.cmd, "%s", octo_last_error());
    fprintf(stderr, "%s: %d records: %d converted (single %d, chain %d, dag %d), %d rejected", a.cmd, st.n_in, st.n_out,
            st.by_type[0], st.by_type[1], st.by_type[2], st.n_rejected);
    for (int r = 0, first = 1; r < OCTO_TB_N_REASONS; r++)
        if (st.by_reason[r]) fprintf(stderr, "%s%s %d", first ? " (" : ", ", octo_tb_reason_name(r), st.by_reason[r]), first = 0;
    fprintf(stderr, "%s\n", st.n_rejected ? ")" : "");
    if (st.n_reordered)
        fprintf(stderr, "%s: %d records had their steps reordered to follow task_links\n", a.cmd, st.n_reordered);
    if (st.n_unknown_kept)
        fprintf(stderr, "%s: %d converted records call tools outside the set (kept: --keep-unknown-tools)\n", a.cmd,
                st.n_unknown_kept);
    if (st.n_args_off_schema)
        fprintf(stderr, "%s: %d converted records have arguments the tool's schema refuses (kept as labeled; "
                "`octo data validate` rejects them)\n", a.cmd, st.n_args_off_schema);
    return 0;
}

/* ---- validate ---- */

static const char *k_validate_help =
    "usage: octo data validate --functions F IN [--kept K.jsonl] [--rejected R.jsonl] [options]\n\n"
    "Check every record of IN against the function set by rule (docs/data.md): it parses, its\n"
    "steps and calls are aligned one to one, every call names a function of the set, arguments\n"
    "satisfy the schema, a step names no other function, free-text argument values appear in\n"
    "their step and in the request, and the calls' order agrees with the request's connectors\n"
    "(\"before you X, Y\" puts Y first). Optionally a teacher model judges the records the rules\n"
    "kept. Prints a summary; rejected records carry their \"reasons\".\n\n"
    "  --functions F        function set (file or shipped name)\n"
    "  --kept FILE          records that pass, byte for byte\n"
    "  --rejected FILE      records that fail, each with \"reasons\"\n"
    "  --max-steps N        reject plans longer than N steps\n"
    "  --no-grounding       skip the grounding rule\n"
    "  --no-order           skip the order rule\n"
    "  --judge URL          also ask a chat-completions endpoint (OpenAI-compatible) to judge\n"
    "  --judge-model NAME   the judge's model name\n"
    "  --judge-key-env VAR  environment variable with the API key (default OPENAI_API_KEY)\n"
    "  --show N             print the reasons of the first N rejected lines (default 10; 0: all)\n"
    "  --strict             exit 1 if any record is rejected\n"
    "  --json               the summary as one JSON object\n";

static int data_validate(int argc, char **argv) {
    cli_args a = {argc, argv, 1, "octo data validate"};
    const char *fpath = NULL, *in = NULL, *kept = NULL, *rejected = NULL, *judge_url = NULL, *judge_model = NULL;
    const char *key_env = NULL;
    bool strict = false, json = false;
    octo_validate_opts o;
    octo_validate_opts_default(&o);
    o.report = stderr;
    o.max_report = 10;
    while (a.i < argc) {
        if (cli_flag(&a, "-h", "--help")) {
            printf("%s", k_validate_help);
            return 0;
        } else if (cli_flag(&a, "--functions", NULL)) {
            if (!(fpath = cli_value(&a))) return 2;
        } else if (cli_flag(&a, "--kept", NULL)) {
            if (!(kept = cli_value(&a))) return 2;
        } else if (cli_flag(&a, "--rejected", NULL)) {
            if (!(rejected = cli_value(&a))) return 2;
        } else if (cli_flag(&a, "--max-steps", NULL)) {
            if (!cli_int(&a, &o.max_steps, 1, 1000)) return 2;
        } else if (cli_flag(&a, "--show", NULL)) {
            if (!cli_int(&a, &o.max_report, 0, 1 << 30)) return 2;
            if (o.max_report == 0) o.max_report = -1;
        } else if (cli_flag(&a, "--no-grounding", NULL)) {
            o.grounding = false;
            a.i++;
        } else if (cli_flag(&a, "--no-order", NULL)) {
            o.order = false;
            a.i++;
        } else if (cli_flag(&a, "--judge", NULL)) {
            if (!(judge_url = cli_value(&a))) return 2;
        } else if (cli_flag(&a, "--judge-model", NULL)) {
            if (!(judge_model = cli_value(&a))) return 2;
        } else if (cli_flag(&a, "--judge-key-env", NULL)) {
            if (!(key_env = cli_value(&a))) return 2;
        } else if (cli_flag(&a, "--strict", NULL)) {
            strict = true;
            a.i++;
        } else if (cli_flag(&a, "--json", NULL)) {
            json = true;
            a.i++;
        } else if (argv[a.i][0] != '-' && !in) {
            in = argv[a.i++];
        } else {
            return cli_usage_error(&a);
        }
    }
    if (!fpath || !in) return cli_error(a.cmd, "--functions F and IN are required (see --help)");
    if ((judge_url != NULL) != (judge_model != NULL))
        return cli_error(a.cmd, "--judge URL and --judge-model NAME go together");
    if (o.max_report < 0) o.max_report = 0; /* --show 0: all */
    octo_funcset *fs = load_set(a.cmd, fpath);
    if (!fs) return 1;
    octo_teacher_opts to;
    octo_teacher_opts_default(&to);
    if (judge_url) {
        to.url = judge_url;
        to.model = judge_model;
        if (key_env) to.key_env = key_env;
        to.temperature = 0;
    }
    octo_validate_stats st;
    int rc = octo_validate_file(fs, in, kept, rejected, &o, judge_url ? &to : NULL, &st);
    octo_funcset_free(fs);
    if (rc != 0) return cli_error(a.cmd, "%s", octo_last_error());
    if (json) {
        printf("{\"records\":%d,\"kept\":%d,\"rejected\":%d,\"by_rule\":{", st.n_in, st.n_kept, st.n_rejected);
        for (int r = 0; r < OCTO_RULE_N; r++) printf("%s\"%s\":%d", r ? "," : "", octo_rule_name(r), st.by_rule[r]);
        printf("},\"judged\":%d,\"judge_unanswered\":%d}\n", st.n_judged, st.n_judge_unanswered);
    } else {
        printf("%s: %d records: %d kept (%.1f%%), %d rejected", in, st.n_in, st.n_kept,
               st.n_in ? 100.0 * st.n_kept / st.n_in : 0.0, st.n_rejected);
        for (int r = 0, first = 1; r < OCTO_RULE_N; r++)
            if (st.by_rule[r]) printf("%s%s %d", first ? " (" : ", ", octo_rule_name(r), st.by_rule[r]), first = 0;
        printf("%s\n", st.n_rejected ? ")" : "");
        if (judge_url)
            printf("judge: %d answered, %d without an answer (kept)\n", st.n_judged, st.n_judge_unanswered);
    }
    return strict && st.n_rejected ? 1 : 0;
}

/* ---- split ---- */

static const char *k_split_help =
    "usage: octo data split IN -o PREFIX [--ratios 0.8,0.1,0.1] [--seed S]\n\n"
    "Shuffle the lines of IN with the seed and cut them by ratios into PREFIX.train.jsonl,\n"
    "PREFIX.valid.jsonl, PREFIX.test.jsonl (two ratios: train, test; one: train; more:\n"
    "part1...). Each part keeps the lines in their original order; the same input, ratios\n"
    "and seed always give the same files. Run `octo data dedupe` first so that no request\n"
    "lands in two parts.\n\n"
    "  -o, --output PREFIX  output prefix\n"
    "  --ratios R,R,...     shares adding up to 1 (default 0.8,0.1,0.1)\n"
    "  --seed S             shuffle seed (default 42)\n";

static int data_split(int argc, char **argv) {
    cli_args a = {argc, argv, 1, "octo data split"};
    const char *in = NULL, *prefix = NULL, *ratios_s = "0.8,0.1,0.1";
    uint64_t seed = 42;
    while (a.i < argc) {
        if (cli_flag(&a, "-h", "--help")) {
            printf("%s", k_split_help);
            return 0;
        } else if (cli_flag(&a, "-o", "--output")) {
            if (!(prefix = cli_value(&a))) return 2;
        } else if (cli_flag(&a, "--ratios", NULL)) {
            if (!(ratios_s = cli_value(&a))) return 2;
        } else if (cli_flag(&a, "--seed", NULL)) {
            if (!cli_u64(&a, &seed)) return 2;
        } else if (argv[a.i][0] != '-' && !in) {
            in = argv[a.i++];
        } else {
            return cli_usage_error(&a);
        }
    }
    if (!in || !prefix) return cli_error(a.cmd, "IN and -o PREFIX are required (see --help)");
    double r[OCTO_SPLIT_MAX_PARTS];
    int n = 0;
    for (const char *p = ratios_s;;) {
        char *end;
        if (n == OCTO_SPLIT_MAX_PARTS) return cli_error(a.cmd, "--ratios: at most %d parts", OCTO_SPLIT_MAX_PARTS);
        r[n++] = strtod(p, &end);
        if (end == p || (*end && *end != ',')) return cli_error(a.cmd, "--ratios: expected numbers like 0.8,0.1,0.1, got \"%s\"", ratios_s);
        if (!*end) break;
        p = end + 1;
    }
    int counts[OCTO_SPLIT_MAX_PARTS];
    if (octo_data_split(in, r, n, seed, prefix, counts) != 0) return cli_error(a.cmd, "%s", octo_last_error());
    for (int k = 0; k < n; k++) printf("%s%s.%s.jsonl: %d", k ? ", " : "", prefix, octo_split_part_name(k, n), counts[k]);
    printf("\n");
    return 0;
}

/* ---- stats ---- */

static const char *k_stats_help =
    "usage: octo data stats IN [--json]\n\n"
    "Records, plan-length histogram, calls per function, domains, distinct query n-grams\n"
    "(n = 1..4: distinct / total), distinct templates (records with a \"template\" field) and\n"
    "average query length of a record file.\n\n"
    "  --json   one JSON object instead of text\n";

static int data_stats(int argc, char **argv) {
    cli_args a = {argc, argv, 1, "octo data stats"};
    const char *in = NULL;
    bool json = false;
    while (a.i < argc) {
        if (cli_flag(&a, "-h", "--help")) {
            printf("%s", k_stats_help);
            return 0;
        } else if (cli_flag(&a, "--json", NULL)) {
            json = true;
            a.i++;
        } else if (argv[a.i][0] != '-' && !in) {
            in = argv[a.i++];
        } else {
            return cli_usage_error(&a);
        }
    }
    if (!in) return cli_error(a.cmd, "IN is required (see --help)");
    if (octo_data_stats(in, stdout, json) != 0) return cli_error(a.cmd, "%s", octo_last_error());
    return 0;
}

/* ---- dedupe ---- */

static const char *k_dedupe_help =
    "usage: octo data dedupe IN -o OUT [--removed FILE]\n\n"
    "Keep the first record of each group of exact duplicates (the same JSON) and of records\n"
    "whose queries are equal once lowercased with punctuation and spacing ignored.\n\n"
    "  -o, --output FILE   the records kept, byte for byte\n"
    "  --removed FILE      the records dropped\n";

static int data_dedupe(int argc, char **argv) {
    cli_args a = {argc, argv, 1, "octo data dedupe"};
    const char *in = NULL, *out = NULL, *removed = NULL;
    while (a.i < argc) {
        if (cli_flag(&a, "-h", "--help")) {
            printf("%s", k_dedupe_help);
            return 0;
        } else if (cli_flag(&a, "-o", "--output")) {
            if (!(out = cli_value(&a))) return 2;
        } else if (cli_flag(&a, "--removed", NULL)) {
            if (!(removed = cli_value(&a))) return 2;
        } else if (argv[a.i][0] != '-' && !in) {
            in = argv[a.i++];
        } else {
            return cli_usage_error(&a);
        }
    }
    if (!in || !out) return cli_error(a.cmd, "IN and -o OUT are required (see --help)");
    octo_dedupe_stats st;
    if (octo_data_dedupe(in, out, removed, &st) != 0) return cli_error(a.cmd, "%s", octo_last_error());
    printf("%s: %d lines: %d kept, %d exact duplicates, %d repeated queries dropped", in, st.n_in, st.n_out, st.n_exact,
           st.n_query);
    if (st.n_bad) printf(" (%d lines without a query, compared as text)", st.n_bad);
    printf("\n");
    return 0;
}

int cmd_data(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "%s", k_help);
        return 2;
    }
    const char *sub = argv[1];
    if (!strcmp(sub, "-h") || !strcmp(sub, "--help") || !strcmp(sub, "help")) {
        printf("%s", k_help);
        return 0;
    }
    if (!strcmp(sub, "gen")) return cmd_data_gen(argc - 1, argv + 1);
    if (!strcmp(sub, "render")) {
        if (!cmd_data_render) return cli_error("octo data render", "not built into this octo");
        return cmd_data_render(argc - 1, argv + 1);
    }
    if (!strcmp(sub, "convert")) return data_convert(argc - 1, argv + 1);
    if (!strcmp(sub, "validate")) return data_validate(argc - 1, argv + 1);
    if (!strcmp(sub, "split")) return data_split(argc - 1, argv + 1);
    if (!strcmp(sub, "stats")) return data_stats(argc - 1, argv + 1);
    if (!strcmp(sub, "dedupe")) return data_dedupe(argc - 1, argv + 1);
    fprintf(stderr, "octo data: unknown command \"%s\" (octo data --help lists them)\n", sub);
    return 2;
}
