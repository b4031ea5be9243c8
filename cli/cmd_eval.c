/* cmd_eval.c - `octo eval`: score the planner and the action model (or any
 * system's predictions) on a test set; a table on stdout, progress on
 * stderr, the report files in a directory. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

static const char *k_help =
    "usage: octo eval --planner P --action A --functions F --data TEST.jsonl [-o REPORT_DIR]\n"
    "       octo eval --domain NAME --data TEST.jsonl [options]\n"
    "       octo eval --functions F --data TEST.jsonl --predictions PRED.jsonl [options]\n\n"
    "Plan every request of the test set and turn each step into a call, then score the plans\n"
    "against the references, overall and by plan length: exact plan accuracy (with TaskBench\n"
    "links, any order that keeps them), step validity, argument accuracy, TaskBench's node,\n"
    "edge, argument-name and argument-value F1, ROUGE of the steps; latency per request\n"
    "(request in, last call out), generation speed, planner prompt length, peak memory.\n"
    "docs/eval.md defines each number. Calls are never executed: each step is acted on as in\n"
    "`octo run --dry-run`, with no observation from the previous call.\n\n"
    "  --planner FILE      planner model\n"
    "  --action FILE       action model (may be the planner's file)\n"
    "  --functions F       function-set file, or the name of a shipped set\n"
    "  --domain NAME       the shipped set NAME and models/NAME/planner.gguf and action.gguf\n"
    "                      (under $OCTO_MODELS_DIR if set); the other flags override each\n"
    "  --data FILE         test set: canonical records (JSONL), or TaskBench labeled records\n"
    "                      (JSONL or one JSON array; detected, converted with their task_links)\n"
    "  --predictions FILE  score these records instead of running models: one JSON object a\n"
    "                      line, in the test set's order (`octo run --json` output works;\n"
    "                      steps or calls may be missing or partial; null: no plan); no model\n"
    "                      is loaded, so --domain NAME only names the function set\n"
    "  --planner-lora FILE adapter applied to the planner (GGUF or PEFT directory)\n"
    "  --action-lora FILE  adapter applied to the action model\n"
    "  --judge URL         also ask an OpenAI-compatible chat endpoint whether each plan fulfils\n"
    "                      its request (the paper's oracle); needs --judge-model\n"
    "  --judge-model NAME  the judge's model name\n"
    "  --judge-key-env VAR environment variable with the judge's API key (default OPENAI_API_KEY)\n"
    "  --limit N           the first N test records only\n"
    "  --train-log FILE    training metrics JSONL for the report's loss chart (repeatable)\n"
    "  -o, --output DIR    write DIR/report.json, report.md and the SVG charts\n"
    "  --json              print the summary JSON (report.json's content) instead of the table\n"
    "  -q, --quiet         no progress on stderr\n";

/* models/<domain>/<file>, under $OCTO_MODELS_DIR when set (as `octo run`). */
static char *domain_model(const char *domain, const char *file) {
    const char *root = getenv("OCTO_MODELS_DIR");
    if (!root || !*root) root = "models";
    size_t n = strlen(root) + strlen(domain) + strlen(file) + 3;
    char *p = malloc(n);
    if (p) snprintf(p, n, "%s/%s/%s", root, domain, file);
    return p;
}

typedef struct {
    bool tty;
    int last_tenth;
} progress_state;

static void progress(void *user, int done, int total, double latency_ms) {
    progress_state *ps = user;
    if (ps->tty) {
        fprintf(stderr, "\reval: %d/%d (last %.0f ms)   ", done, total, latency_ms);
        ps->last_tenth = 0;
        if (done == total) fputc('\n', stderr);
    } else if (done * 10 / total != ps->last_tenth || done == total) {
        ps->last_tenth = done * 10 / total;
        fprintf(stderr, "eval: %d/%d requests\n", done, total);
    }
}

int cmd_eval(int argc, char **argv) {
    cli_args a = {argc, argv, 1, "octo eval"};
    const char *funcs = NULL, *domain = NULL, *out_dir = NULL;
    const char *logs[16];
    bool json = false, quiet = false, verbose = false;
    octo_eval_params p;
    octo_eval_params_default(&p);
    while (a.i < argc) {
        int s = cli_agent_flag(&a, &p.agent, &verbose);
        if (s < 0) return 2;
        if (s > 0) continue;
        if (cli_flag(&a, "-h", "--help")) {
            printf("%s\n%s\n%s", k_help, cli_agent_help, cli_sampling_help);
            return 0;
        } else if (cli_flag(&a, "--planner", NULL)) {
            if (!(p.planner = cli_value(&a))) return 2;
        } else if (cli_flag(&a, "--action", NULL)) {
            if (!(p.action = cli_value(&a))) return 2;
        } else if (cli_flag(&a, "--functions", NULL)) {
            if (!(funcs = cli_value(&a))) return 2;
        } else if (cli_flag(&a, "--domain", NULL)) {
            if (!(domain = cli_value(&a))) return 2;
        } else if (cli_flag(&a, "--data", NULL)) {
            if (!(p.data = cli_value(&a))) return 2;
        } else if (cli_flag(&a, "--predictions", NULL)) {
            if (!(p.predictions = cli_value(&a))) return 2;
        } else if (cli_flag(&a, "--planner-lora", NULL)) {
            if (!(p.planner_lora = cli_value(&a))) return 2;
        } else if (cli_flag(&a, "--action-lora", NULL)) {
            if (!(p.action_lora = cli_value(&a))) return 2;
        } else if (cli_flag(&a, "--judge", NULL)) {
            if (!(p.judge_url = cli_value(&a))) return 2;
        } else if (cli_flag(&a, "--judge-model", NULL)) {
            if (!(p.judge_model = cli_value(&a))) return 2;
        } else if (cli_flag(&a, "--judge-key-env", NULL)) {
            if (!(p.judge_key_env = cli_value(&a))) return 2;
        } else if (cli_flag(&a, "--limit", NULL)) {
            if (!cli_int(&a, &p.limit, 1, 1 << 30)) return 2;
        } else if (cli_flag(&a, "--train-log", NULL)) {
            if (p.n_train_logs == 16) return cli_error(a.cmd, "at most 16 --train-log files");
            if (!(logs[p.n_train_logs] = cli_value(&a))) return 2;
            p.n_train_logs++;
        } else if (cli_flag(&a, "-o", "--output")) {
            if (!(out_dir = cli_value(&a))) return 2;
        } else if (cli_flag(&a, "--json", NULL)) {
            json = true;
            a.i++;
        } else if (cli_flag(&a, "-q", "--quiet")) {
            quiet = true;
            a.i++;
        } else {
            return cli_usage_error(&a);
        }
    }
    p.train_logs = logs;
    if (!p.data) return cli_error(a.cmd, "--data TEST.jsonl is required (see --help)");
    if ((p.judge_url != NULL) != (p.judge_model != NULL))
        return cli_error(a.cmd, "--judge URL and --judge-model NAME go together");
    if (domain && !funcs) funcs = domain;
    if (!funcs) return cli_error(a.cmd, "--functions F (or --domain NAME) is required (see --help)");
    char *own_p = NULL, *own_a = NULL;
    int rc = 0;
    if (!p.predictions) {
        struct stat st;
        if (domain && !p.planner) p.planner = own_p = domain_model(domain, "planner.gguf");
        if (domain && !p.action) p.action = own_a = domain_model(domain, "action.gguf");
        if (!p.planner || !p.action)
            rc = cli_error(a.cmd, "--planner and --action (or --domain NAME, or --predictions FILE) are required");
        else if (own_p && stat(own_p, &st) != 0)
            rc = cli_error(a.cmd, "no planner model for domain %s: %s not found (give --planner FILE)", domain, own_p);
        else if (own_a && stat(own_a, &st) != 0)
            rc = cli_error(a.cmd, "no action model for domain %s: %s not found (give --action FILE)", domain, own_a);
    }
    octo_funcset *fs = NULL;
    octo_eval_result *r = NULL;
    progress_state ps = {isatty(2), -1};
    if (!quiet && !p.predictions) {
        p.progress = progress;
        p.progress_user = &ps;
    }
    if (!rc && !(fs = cli_load_funcset(funcs))) rc = cli_error(a.cmd, "%s", octo_last_error());
    if (!rc && !(r = octo_eval_run(fs, &p))) {
        if (ps.tty && ps.last_tenth != -1) fputc('\n', stderr);
        rc = cli_error(a.cmd, "%s", octo_last_error());
    }
    if (!rc && out_dir && octo_eval_result_write(r, out_dir) != 0) rc = cli_error(a.cmd, "%s", octo_last_error());
    if (!rc) {
        if (json) {
            char *s = octo_eval_result_json(r);
            if (!s) rc = cli_error(a.cmd, "out of memory");
            else printf("%s\n", s);
            free(s);
        } else {
            octo_eval_result_print(r, stdout);
        }
        if (out_dir && !quiet) fprintf(stderr, "eval: report in %s/report.md\n", out_dir);
    }
    octo_eval_result_free(r);
    octo_funcset_free(fs);
    free(own_p);
    free(own_a);
    (void)verbose;
    return rc;
}
