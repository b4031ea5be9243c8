/* cmd_lora.c - `octo lora merge|convert|info`: LoRA adapters as files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char *k_help =
    "usage: octo lora <merge|convert|info> ...\n\n"
    "  octo lora merge --base MODEL.gguf A [B ...] -o OUT.gguf [options]\n"
    "      fold adapters into the base model's weights and write a new model\n"
    "  octo lora convert IN OUT [--base MODEL.gguf] [--base-name NAME]\n"
    "      GGUF adapter <-> PEFT directory (OUT ending in .gguf: GGUF, else PEFT)\n"
    "  octo lora info ADAPTER [--base MODEL.gguf]\n"
    "      architecture, alpha, rank and tensors of an adapter\n\n"
    "An adapter is a GGUF file in llama.cpp's adapter layout or a PEFT directory\n"
    "(adapter_config.json + adapter_model.safetensors). --base checks it against the\n"
    "model and supplies what a PEFT directory does not say (architecture, head counts).\n";

static const char *k_merge_help =
    "usage: octo lora merge --base MODEL.gguf A [B ...] -o OUT.gguf [options]\n\n"
    "Write MODEL with the adapters folded into its weights: W + combine(w_i s_i B_i A_i),\n"
    "s_i = alpha_i / rank_i.\n\n"
    "  --base FILE         the base model (GGUF)\n"
    "  -o, --output FILE   the merged model (GGUF, written atomically)\n"
    "  --weights W1,W2,..  one weight per adapter (default 1 each)\n"
    "  --method M          linear (default: the sum), ties (trim to --density by\n"
    "                      magnitude, elect signs, disjoint mean) or dare (random drop\n"
    "                      with p = 1 - density, rescale by 1/density, sum)\n"
    "  --density D         fraction kept by ties and dare (default 0.5)\n"
    "  --seed S            seed of dare's drop (default 0)\n"
    "  --type T            F32, F16, Q8_0 or Q4_0 for the weights (default: each its own)\n"
    "  -t, --threads N     threads (default: all CPUs)\n";

static int parse_weights(const char *cmd, const char *s, float *w, int cap, int *n) {
    *n = 0;
    const char *p = s;
    while (*p) {
        char *end;
        float v = strtof(p, &end);
        if (end == p || (*end && *end != ',') || *n == cap)
            return cli_error(cmd, "--weights: expected numbers separated by commas, got \"%s\"", s);
        w[(*n)++] = v;
        p = *end ? end + 1 : end;
    }
    return 0;
}

static int lora_merge(int argc, char **argv) {
    cli_args a = {argc, argv, 1, "octo lora merge"};
    const char *base = NULL, *out = NULL, *paths[64];
    int n = 0, n_w = 0;
    float weights[64];
    const char *weights_s = NULL, *method = "linear";
    octo_merge_params mp;
    octo_merge_defaults(&mp);
    while (a.i < argc) {
        if (cli_flag(&a, "-h", "--help")) {
            fputs(k_merge_help, stdout);
            return 0;
        } else if (cli_flag(&a, "--base", NULL)) {
            if (!(base = cli_value(&a))) return 2;
        } else if (cli_flag(&a, "-o", "--output")) {
            if (!(out = cli_value(&a))) return 2;
        } else if (cli_flag(&a, "--weights", NULL)) {
            if (!(weights_s = cli_value(&a))) return 2;
        } else if (cli_flag(&a, "--method", NULL)) {
            if (!(method = cli_value(&a))) return 2;
        } else if (cli_flag(&a, "--density", NULL)) {
            if (!cli_float(&a, &mp.density)) return 2;
        } else if (cli_flag(&a, "--seed", NULL)) {
            if (!cli_u64(&a, &mp.seed)) return 2;
        } else if (cli_flag(&a, "--type", NULL)) {
            if (!(mp.type = cli_value(&a))) return 2;
        } else if (cli_flag(&a, "-t", "--threads")) {
            if (!cli_int(&a, &mp.n_threads, 1, 1024)) return 2;
        } else if (argv[a.i][0] == '-' && argv[a.i][1]) {
            return cli_usage_error(&a);
        } else {
            if (n == 64) return cli_error(a.cmd, "at most 64 adapters");
            paths[n++] = argv[a.i++];
        }
    }
    if (!base || !out || n == 0) return cli_error(a.cmd, "--base MODEL, at least one adapter and -o OUT are required");
    if (!strcmp(method, "linear"))
        mp.method = OCTO_MERGE_LINEAR;
    else if (!strcmp(method, "ties"))
        mp.method = OCTO_MERGE_TIES;
    else if (!strcmp(method, "dare"))
        mp.method = OCTO_MERGE_DARE;
    else
        return cli_error(a.cmd, "--method \"%s\": expected linear, ties or dare", method);
    if (weights_s) {
        if (parse_weights(a.cmd, weights_s, weights, 64, &n_w)) return 1;
        if (n_w != n) return cli_error(a.cmd, "--weights has %d numbers for %d adapters", n_w, n);
        mp.weights = weights;
    }
    octo_model *m = octo_model_load(base);
    if (!m) return cli_error(a.cmd, "%s", octo_last_error());
    octo_lora *ad[64] = {0};
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i++)
        if (!(ad[i] = octo_lora_load(paths[i], m))) rc = cli_error(a.cmd, "%s", octo_last_error());
    octo_model_free(m);
    if (rc == 0 && octo_lora_merge(base, ad, n, &mp, out)) rc = cli_error(a.cmd, "%s", octo_last_error());
    if (rc == 0) fprintf(stderr, "octo lora merge: %d adapter%s (%s) merged into %s\n", n, n > 1 ? "s" : "", method, out);
    for (int i = 0; i < n; i++) octo_lora_free(ad[i]);
    return rc;
}

/* Shared by convert and info: IN [--base M] plus the flags given. */
static int lora_convert_or_info(int argc, char **argv, bool convert) {
    cli_args a = {argc, argv, 1, convert ? "octo lora convert" : "octo lora info"};
    const char *pos[2] = {0}, *base = NULL, *base_name = NULL;
    int n_pos = 0;
    while (a.i < argc) {
        if (cli_flag(&a, "-h", "--help")) {
            fputs(k_help, stdout);
            return 0;
        } else if (cli_flag(&a, "--base", NULL)) {
            if (!(base = cli_value(&a))) return 2;
        } else if (convert && cli_flag(&a, "--base-name", NULL)) {
            if (!(base_name = cli_value(&a))) return 2;
        } else if (argv[a.i][0] == '-' && argv[a.i][1]) {
            return cli_usage_error(&a);
        } else {
            if (n_pos == (convert ? 2 : 1)) return cli_usage_error(&a);
            pos[n_pos++] = argv[a.i++];
        }
    }
    if (n_pos != (convert ? 2 : 1))
        return cli_error(a.cmd, convert ? "IN and OUT are required (see --help)" : "ADAPTER is required");
    octo_model *m = NULL;
    if (base && !(m = octo_model_load(base))) return cli_error(a.cmd, "%s", octo_last_error());
    octo_lora *l = octo_lora_load(pos[0], m);
    int rc = 0;
    if (!l) {
        rc = cli_error(a.cmd, "%s", octo_last_error());
    } else if (!convert) {
        octo_lora_print_info(l, stdout);
    } else {
        size_t len = strlen(pos[1]);
        bool to_gguf = len > 5 && strcmp(pos[1] + len - 5, ".gguf") == 0;
        if (to_gguf ? octo_lora_save_gguf(l, pos[1]) : octo_lora_save_peft(l, pos[1], m, base_name))
            rc = cli_error(a.cmd, "%s", octo_last_error());
        else
            fprintf(stderr, "octo lora convert: %s -> %s (%s)\n", pos[0], pos[1], to_gguf ? "GGUF" : "PEFT directory");
    }
    octo_lora_free(l);
    octo_model_free(m);
    return rc;
}

int cmd_lora(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        fputs(k_help, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "merge")) return lora_merge(argc - 1, argv + 1);
    if (!strcmp(argv[1], "convert")) return lora_convert_or_info(argc - 1, argv + 1, true);
    if (!strcmp(argv[1], "info")) return lora_convert_or_info(argc - 1, argv + 1, false);
    fprintf(stderr, "octo lora: unknown subcommand \"%s\" (merge, convert or info)\n", argv[1]);
    return 2;
}
