/* cmd_model.c - `octo model init`: a new model with random weights. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cli.h"

static const char *k_help =
    "usage: octo model init --arch A --n-embd N --n-layer N --n-head N [--n-head-kv N]\n"
    "                       --n-ff N --vocab-from TOKENIZER.gguf [--seed S] [--ctx N]\n"
    "                       [--rope-base B] [--tied] [--type T] -o OUT.gguf\n\n"
    "Write a new GGUF model of architecture A (llama, phi3, qwen2, gemma) with\n"
    "random N(0, 0.02) weights and the tokenizer of TOKENIZER.gguf. --type T\n"
    "(F16, BF16, Q8_0, Q4_0, Q4_K, Q6_K) quantizes each weight as it is drawn, as\n"
    "octo quantize would (default F32). --tied shares the embedding as output\n"
    "(gemma always does).\n";

int cmd_model(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        fputs(k_help, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "init") != 0) return cli_error("octo model", "unknown subcommand \"%s\" (init)", argv[1]);
    cli_args a = {argc, argv, 2, "octo model init"};
    octo_model_init_params p = {0};
    const char *out = NULL, *type = NULL;
    int seed = 0;
    while (a.i < argc) {
        if (cli_flag(&a, "-h", "--help")) {
            fputs(k_help, stdout);
            return 0;
        } else if (cli_flag(&a, "--arch", NULL)) {
            if (!(p.arch = cli_value(&a))) return 2;
        } else if (cli_flag(&a, "--n-embd", NULL)) {
            if (!cli_int(&a, &p.n_embd, 1, 1 << 16)) return 2;
        } else if (cli_flag(&a, "--n-layer", NULL)) {
            if (!cli_int(&a, &p.n_layer, 1, 1024)) return 2;
        } else if (cli_flag(&a, "--n-head", NULL)) {
            if (!cli_int(&a, &p.n_head, 1, 1024)) return 2;
        } else if (cli_flag(&a, "--n-head-kv", NULL)) {
            if (!cli_int(&a, &p.n_head_kv, 1, 1024)) return 2;
        } else if (cli_flag(&a, "--n-ff", NULL)) {
            if (!cli_int(&a, &p.n_ff, 1, 1 << 20)) return 2;
        } else if (cli_flag(&a, "--ctx", NULL)) {
            if (!cli_int(&a, &p.n_ctx, 1, 1 << 20)) return 2;
        } else if (cli_flag(&a, "--rope-base", NULL)) {
            if (!cli_float(&a, &p.rope_base)) return 2;
        } else if (cli_flag(&a, "--tied", NULL)) {
            p.tied_output = true;
            a.i++;
        } else if (cli_flag(&a, "--vocab-from", NULL)) {
            if (!(p.vocab_from = cli_value(&a))) return 2;
        } else if (cli_flag(&a, "--seed", NULL)) {
            if (!cli_int(&a, &seed, 0, 1 << 30)) return 2;
        } else if (cli_flag(&a, "--type", NULL)) {
            if (!(type = cli_value(&a))) return 2;
        } else if (cli_flag(&a, "-o", "--output")) {
            if (!(out = cli_value(&a))) return 2;
        } else {
            return cli_usage_error(&a);
        }
    }
    if (!p.arch || !p.n_embd || !p.n_layer || !p.n_head || !p.n_ff || !p.vocab_from || !out)
        return cli_error(a.cmd, "--arch, --n-embd, --n-layer, --n-head, --n-ff, --vocab-from and -o are required");
    p.seed = (uint64_t)seed;
    p.weight_type = type;
    if (octo_model_init_file(&p, out) != 0) return cli_error(a.cmd, "%s", octo_last_error());
    return 0;
}
