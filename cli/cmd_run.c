/* cmd_run.c - `octo run`: the whole agent. Plan a request, turn each step
 * into a call, execute it with the set's handlers, pass each observation
 * on; print a readable trace or one JSON object per request. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "agent/funcset.h"

static const char *k_help =
    "usage: octo run --planner P.gguf --action A.gguf --functions F [options] \"request\"\n"
    "       octo run --domain NAME [options] \"request\"\n"
    "       octo run ... -f REQUESTS.txt        (one request a line)\n\n"
    "Plan the request (1-5 steps), turn each step into one function call, execute the call\n"
    "with the function's handler and give its output (the observation) to the next step.\n"
    "A step that maps to no function, or a call that fails, stops that request with a report\n"
    "and the exit status is 1.\n\n"
    "  --planner FILE      planner model\n"
    "  --action FILE       action model\n"
    "  --functions F       function-set file, or the name of a shipped set\n"
    "  --domain NAME       the shipped set NAME and the models models/NAME/planner.gguf and\n"
    "                      models/NAME/action.gguf (under $OCTO_MODELS_DIR if set); --planner,\n"
    "                      --action and --functions override each\n"
    "  -f, --file FILE     requests, one a line (blank lines skipped)\n"
    "  --dry-run           make the calls but execute nothing\n"
    "  --json              one line per request: {\"query\", \"steps\": [...], \"calls\":\n"
    "                      [{\"function\", \"arguments\"}], \"observations\", \"error\" if it stopped}\n"
    "  --lora FILE         adapter for the planner (repeatable; --lora-scaled FILE S)\n";

/* models/<domain>/<file>, under $OCTO_MODELS_DIR when set. */
static char *domain_model(const char *domain, const char *file) {
    const char *root = getenv("OCTO_MODELS_DIR");
    if (!root || !*root) root = "models";
    size_t n = strlen(root) + strlen(domain) + strlen(file) + 3;
    char *p = malloc(n);
    if (p) snprintf(p, n, "%s/%s/%s", root, domain, file);
    return p;
}

static void print_trace(const octo_run_result *r, bool dry) {
    printf("request: %s\n", r->query);
    if (r->n_steps == 0) return;
    printf("plan (%d step%s, %.0f ms):\n", r->n_steps, r->n_steps > 1 ? "s" : "", r->plan_ms);
    for (int i = 0; i < r->n_steps; i++) printf("  %d. %s\n", i + 1, r->steps[i]);
    for (int i = 0; i < r->n_calls; i++) {
        printf("step %d: %s %s\n", i + 1, r->calls[i].function, r->calls[i].arguments);
        const char *o = r->observations ? r->observations[i] : NULL;
        if (dry) continue;
        if (o) {
            size_t n = strlen(o);
            while (n && o[n - 1] == '\n') n--;
            printf("  -> %.*s%s\n", n > 400 ? 400 : (int)n, o, n > 400 ? " ..." : "");
        } else if (r->failed_step != i) {
            printf("  -> (no output)\n");
        }
    }
    if (r->failed_step < 0)
        printf("done: %d call%s%s (act %.0f ms, handlers %.0f ms)\n", r->n_calls, r->n_calls == 1 ? "" : "s",
               dry ? ", not executed (dry run)" : "", r->act_ms, r->exec_ms);
}

static int run_one(octo_agent *ag, const char *req, bool dry, bool json, bool verbose) {
    octo_run_result r;
    int rc = octo_agent_run(ag, req, dry, &r);
    if (verbose)
        fprintf(stderr, "run: plan %.1f ms, %d call%s %.1f ms, handlers %.1f ms\n", r.plan_ms, r.n_calls,
                r.n_calls == 1 ? "" : "s", r.act_ms, r.exec_ms);
    if (json) {
        char *s = octo_run_result_json(&r);
        if (s) printf("%s\n", s);
        free(s);
    } else {
        print_trace(&r, dry);
    }
    fflush(stdout);
    if (rc) cli_error("octo run", "%s", r.error ? r.error : octo_last_error());
    octo_run_result_free(&r);
    return rc ? 1 : 0;
}

int cmd_run(int argc, char **argv) {
    cli_args a = {argc, argv, 1, "octo run"};
    const char *planner = NULL, *action = NULL, *funcs = NULL, *domain = NULL, *file = NULL, *request = NULL;
    bool json = false, dry = false, verbose = false;
    cli_lora_flags lf = {0};
    octo_agent_params p;
    octo_agent_params_default(&p);
    while (a.i < argc) {
        int s = cli_agent_flag(&a, &p, &verbose);
        if (!s) s = cli_lora_flag(&a, &lf);
        if (s < 0) return 2;
        if (s > 0) continue;
        if (cli_flag(&a, "-h", "--help")) {
            printf("%s\n%s\n%s\n%s", k_help, cli_lora_help, cli_agent_help, cli_sampling_help);
            return 0;
        } else if (cli_flag(&a, "--planner", NULL)) {
            if (!(planner = cli_value(&a))) return 2;
        } else if (cli_flag(&a, "--action", NULL)) {
            if (!(action = cli_value(&a))) return 2;
        } else if (cli_flag(&a, "--functions", NULL)) {
            if (!(funcs = cli_value(&a))) return 2;
        } else if (cli_flag(&a, "--domain", NULL)) {
            if (!(domain = cli_value(&a))) return 2;
        } else if (cli_flag(&a, "-f", "--file")) {
            if (!(file = cli_value(&a))) return 2;
        } else if (cli_flag(&a, "--json", NULL)) {
            json = true;
            a.i++;
        } else if (cli_flag(&a, "--dry-run", NULL)) {
            dry = true;
            a.i++;
        } else if (argv[a.i][0] != '-' && !request) {
            request = argv[a.i++];
        } else {
            return cli_usage_error(&a);
        }
    }
    if (!request && !file) return cli_error(a.cmd, "a request or -f FILE is required (see --help)");
    if (request && file) return cli_error(a.cmd, "give a request or -f FILE, not both");
    char *own_p = NULL, *own_a = NULL;
    if (domain) {
        if (!funcs) funcs = domain;
        struct stat st;
        if (!planner) {
            planner = own_p = domain_model(domain, "planner.gguf");
            if (planner && stat(planner, &st) != 0) {
                cli_error(a.cmd, "no planner model for domain %s: %s not found (train one, or give --planner FILE)",
                          domain, planner);
                free(own_p);
                return 1;
            }
        }
        if (!action) {
            action = own_a = domain_model(domain, "action.gguf");
            if (action && stat(action, &st) != 0) {
                cli_error(a.cmd, "no action model for domain %s: %s not found (train one, or give --action FILE)",
                          domain, action);
                free(own_p);
                free(own_a);
                return 1;
            }
        }
    }
    int rc = 0;
    if (!planner || !action || !funcs)
        rc = cli_error(a.cmd, "--planner, --action and --functions (or --domain NAME) are required (see --help)");
    octo_funcset *fs = NULL;
    octo_model *mp = NULL, *ma = NULL;
    octo_planner *pl = NULL;
    octo_actor *ac = NULL;
    octo_agent *ag = NULL;
    char *text = NULL;
    if (!rc && !(fs = cli_load_funcset(funcs))) rc = cli_error(a.cmd, "%s", octo_last_error());
    if (!rc && !(mp = octo_model_load(planner))) rc = cli_error(a.cmd, "%s", octo_last_error());
    /* one file for both models is allowed (a model trained on both formats) */
    if (!rc && strcmp(planner, action) != 0 && !(ma = octo_model_load(action)))
        rc = cli_error(a.cmd, "%s", octo_last_error());
    if (!rc && !(pl = octo_planner_new(mp, &p))) rc = cli_error(a.cmd, "%s", octo_last_error());
    if (!rc && !(ac = octo_actor_new(ma ? ma : mp, fs, &p))) rc = cli_error(a.cmd, "%s", octo_last_error());
    if (!rc) rc = cli_lora_apply(a.cmd, &lf, mp, octo_planner_ctx(pl));
    if (!rc && !(ag = octo_agent_new(pl, ac))) rc = cli_error(a.cmd, "%s", octo_last_error());
    if (!rc && file && !(text = octo_read_file(file, NULL))) rc = cli_error(a.cmd, "%s", octo_last_error());
    if (!rc) {
        if (request) {
            rc = run_one(ag, request, dry, json, verbose);
        } else {
            int n_req = 0;
            for (char *line = text, *next; line && *line; line = next) {
                next = strchr(line, '\n');
                if (next) *next++ = 0;
                size_t n = strlen(line);
                if (n && line[n - 1] == '\r') line[--n] = 0;
                if (!n) continue;
                n_req++;
                if (run_one(ag, line, dry, json, verbose)) rc = 1;
                if (!json && next && *next) printf("\n");
            }
            if (!n_req) rc = cli_error(a.cmd, "%s: no requests", file);
        }
    }
    free(text);
    octo_agent_free(ag);
    octo_actor_free(ac);
    octo_planner_free(pl);
    octo_model_free(ma);
    octo_model_free(mp);
    octo_funcset_free(fs);
    free(own_p);
    free(own_a);
    return rc;
}
