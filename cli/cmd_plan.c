/* cmd_plan.c - `octo plan`: a request in, its steps out (the planner). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char *k_help =
    "usage: octo plan -m PLANNER.gguf [--lora FILE ...] [--json] \"request\"\n\n"
    "Split a request into 1-5 steps with a planner model and print them, numbered.\n"
    "No function descriptions go into the prompt: the planner has learned its functions.\n\n"
    "  -m, --model FILE    planner model (trained on `octo data render --planner` text)\n"
    "  --json              print {\"query\": ..., \"steps\": [...]} instead\n";

int cmd_plan(int argc, char **argv) {
    cli_args a = {argc, argv, 1, "octo plan"};
    const char *model = NULL, *request = NULL;
    bool json = false, verbose = false;
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
        } else if (cli_flag(&a, "-m", "--model")) {
            if (!(model = cli_value(&a))) return 2;
        } else if (cli_flag(&a, "--json", NULL)) {
            json = true;
            a.i++;
        } else if (argv[a.i][0] != '-' && !request) {
            request = argv[a.i++];
        } else {
            return cli_usage_error(&a);
        }
    }
    if (!model) return cli_error(a.cmd, "-m PLANNER.gguf is required (see --help)");
    if (!request) return cli_error(a.cmd, "the request is missing (see --help)");
    octo_model *m = octo_model_load(model);
    if (!m) return cli_error(a.cmd, "%s", octo_last_error());
    octo_planner *pl = octo_planner_new(m, &p);
    int rc = pl ? 0 : cli_error(a.cmd, "%s", octo_last_error());
    if (!rc) rc = cli_lora_apply(a.cmd, &lf, m, octo_planner_ctx(pl));
    char **steps = NULL;
    int n = 0;
    if (!rc && (n = octo_planner_plan(pl, request, &steps)) < 0) rc = cli_error(a.cmd, "%s", octo_last_error());
    if (!rc) {
        if (json) {
            printf("{\"query\":");
            octo_json_write_str(stdout, request, strlen(request));
            printf(",\"steps\":[");
            for (int i = 0; i < n; i++) {
                if (i) printf(",");
                octo_json_write_str(stdout, steps[i], strlen(steps[i]));
            }
            printf("]}\n");
        } else {
            for (int i = 0; i < n; i++) printf("%d. %s\n", i + 1, steps[i]);
        }
        if (verbose) {
            octo_agent_stats st;
            octo_planner_stats(pl, &st);
            fprintf(stderr, "plan: prompt %d tokens %.1f ms; %d tokens generated: forward %.1f ms, constraint %.2f ms\n",
                    st.n_prompt, st.prompt_ms, st.n_generated, st.forward_ms, st.constrain_ms);
        }
    }
    octo_strings_free(steps, n > 0 ? n : 0);
    octo_planner_free(pl);
    octo_model_free(m);
    return rc;
}
