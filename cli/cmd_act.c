/* cmd_act.c - `octo act`: one step in, one function call out (the action
 * model), as {"function": ..., "arguments": {...}}. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char *k_help =
    "usage: octo act -m ACTION.gguf --functions F [--observation TEXT] \"step\"\n\n"
    "Turn one step into one function call with an action model and print it as JSON:\n"
    "{\"function\": NAME, \"arguments\": {...}}. The call is constrained to one function of the\n"
    "set and to arguments that follow its JSON Schema, so it always parses and validates.\n\n"
    "  -m, --model FILE      action model (trained on `octo data render --action` text)\n"
    "  --functions F         function-set file, or the name of a shipped set (android, ...)\n"
    "  --observation TEXT    what the previous call returned, given to the model\n";

int cmd_act(int argc, char **argv) {
    cli_args a = {argc, argv, 1, "octo act"};
    const char *model = NULL, *step = NULL, *funcs = NULL, *obs = NULL;
    bool verbose = false;
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
        } else if (cli_flag(&a, "--functions", NULL)) {
            if (!(funcs = cli_value(&a))) return 2;
        } else if (cli_flag(&a, "--observation", NULL)) {
            if (!(obs = cli_value(&a))) return 2;
        } else if (argv[a.i][0] != '-' && !step) {
            step = argv[a.i++];
        } else {
            return cli_usage_error(&a);
        }
    }
    if (!model) return cli_error(a.cmd, "-m ACTION.gguf is required (see --help)");
    if (!funcs) return cli_error(a.cmd, "--functions F is required (see --help)");
    if (!step) return cli_error(a.cmd, "the step is missing (see --help)");
    octo_funcset *fs = cli_load_funcset(funcs);
    if (!fs) return cli_error(a.cmd, "%s", octo_last_error());
    octo_model *m = octo_model_load(model);
    if (!m) {
        octo_funcset_free(fs);
        return cli_error(a.cmd, "%s", octo_last_error());
    }
    octo_actor *ac = octo_actor_new(m, fs, &p);
    int rc = ac ? 0 : cli_error(a.cmd, "%s", octo_last_error());
    if (!rc) rc = cli_lora_apply(a.cmd, &lf, m, octo_actor_ctx(ac));
    octo_agent_call call = {0};
    if (!rc && octo_actor_act(ac, step, obs, &call)) rc = cli_error(a.cmd, "%s", octo_last_error());
    if (!rc) {
        printf("{\"function\":");
        octo_json_write_str(stdout, call.function, strlen(call.function));
        printf(",\"arguments\":%s}\n", call.arguments);
        if (verbose) {
            octo_agent_stats st;
            octo_actor_stats(ac, &st);
            fprintf(stderr,
                    "act: prompt %d tokens %.1f ms; %d tokens generated: forward %.1f ms, constraint %.2f ms "
                    "(%.3f ms/token); total %.1f ms\n",
                    st.n_prompt, st.prompt_ms, st.n_generated, st.forward_ms, st.constrain_ms,
                    st.n_generated ? st.constrain_ms / st.n_generated : 0.0, st.total_ms);
        }
    }
    octo_agent_call_free(&call);
    octo_actor_free(ac);
    octo_model_free(m);
    octo_funcset_free(fs);
    return rc;
}
