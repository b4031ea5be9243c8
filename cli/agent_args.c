/* agent_args.c - what `octo plan`, `octo act`, `octo run` and `octo data
 * render` parse alike: function sets by file or shipped name, and the
 * decoding flags of the agents. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "cli.h"
#include "agent/funcset.h"
#include "base/error.h"

const char *cli_agent_help =
    "decoding:\n"
    "  -t, --threads N     threads (default: all CPUs)\n"
    "  -c, --ctx-size N    context length (default: the model's, at most 4096)\n"
    "  --max-tokens N      longest output in tokens (default 512 plan, 1024 call)\n"
    "  --no-constrain      decode freely; the output may then fail to parse\n"
    "                      (default: constrained to the plan / call grammar)\n"
    "  -v, --verbose       timings on stderr\n"
    "Decoding is greedy unless a sampling flag sets a temperature.\n";

octo_funcset *cli_load_funcset(const char *arg) {
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

int cli_agent_flag(cli_args *a, octo_agent_params *p, bool *verbose) {
    int s = cli_sampling_flag(a, &p->sampling);
    if (s) return s;
    if (cli_flag(a, "-t", "--threads")) return cli_int(a, &p->n_threads, 1, 1024) ? 1 : -1;
    if (cli_flag(a, "-c", "--ctx-size")) return cli_int(a, &p->n_ctx, 16, 1 << 20) ? 1 : -1;
    if (cli_flag(a, "--max-tokens", NULL)) return cli_int(a, &p->max_tokens, 1, 1 << 20) ? 1 : -1;
    if (cli_flag(a, "--no-constrain", NULL)) {
        p->constrain = false;
        a->i++;
        return 1;
    }
    if (cli_flag(a, "-v", "--verbose")) {
        *verbose = true;
        a->i++;
        return 1;
    }
    return 0;
}
