/* cmd_info.c - `octo info`: what a GGUF file holds. */
#include <stdio.h>

#include "cli.h"

static const char *k_help =
    "usage: octo info -m MODEL [--all-keys]\n\n"
    "Print the architecture, hyperparameters, tokenizer, metadata and the tensor\n"
    "table (name, type, shape, bytes) of a GGUF file.\n\n"
    "  -m, --model FILE  GGUF file\n"
    "  --all-keys        print long arrays in full instead of their first items\n";

int cmd_info(int argc, char **argv) {
    cli_args a = {argc, argv, 1, "octo info"};
    const char *model = NULL;
    bool all = false;
    while (a.i < argc) {
        if (cli_flag(&a, "-h", "--help")) {
            fputs(k_help, stdout);
            return 0;
        } else if (cli_flag(&a, "-m", "--model")) {
            if (!(model = cli_value(&a))) return 2;
        } else if (cli_flag(&a, "--all-keys", NULL)) {
            all = true;
            a.i++;
        } else if (!model && argv[a.i][0] != '-') {
            model = argv[a.i++];
        } else {
            return cli_usage_error(&a);
        }
    }
    if (!model) return cli_error(a.cmd, "-m MODEL is required (see --help)");
    if (octo_info_print(model, stdout, all) != 0) return cli_error(a.cmd, "%s", octo_last_error());
    return 0;
}
