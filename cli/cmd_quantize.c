/* cmd_quantize.c - `octo quantize IN OUT TYPE`. */
#include <stdio.h>

#include "cli.h"

static const char *k_help =
    "usage: octo quantize IN.gguf OUT.gguf TYPE [-t THREADS]\n\n"
    "Write IN's 2-D weights as TYPE: Q8_0, Q4_0, Q4_K, Q6_K, F16, BF16 or F32.\n"
    "Norms and biases stay as they are; with Q4_0/Q4_K the output projection\n"
    "becomes Q6_K, as llama-quantize does. OUT appears atomically.\n";

int cmd_quantize(int argc, char **argv) {
    cli_args a = {argc, argv, 1, "octo quantize"};
    const char *pos[3] = {0};
    int n_pos = 0, threads = 0;
    while (a.i < argc) {
        if (cli_flag(&a, "-h", "--help")) {
            fputs(k_help, stdout);
            return 0;
        } else if (cli_flag(&a, "-t", "--threads")) {
            if (!cli_int(&a, &threads, 1, 1024)) return 2;
        } else if (argv[a.i][0] != '-' && n_pos < 3) {
            pos[n_pos++] = argv[a.i++];
        } else {
            return cli_usage_error(&a);
        }
    }
    if (n_pos != 3) return cli_error(a.cmd, "expected IN.gguf OUT.gguf TYPE (see --help)");
    if (octo_quantize_file(pos[0], pos[1], pos[2], threads) != 0) return cli_error(a.cmd, "%s", octo_last_error());
    return 0;
}
