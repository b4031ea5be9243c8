/* main.c - the octo command: dispatch to a subcommand. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const struct {
    const char *name;
    int (*fn)(int, char **);
    const char *help;
} k_cmds[] = {
    {"generate", cmd_generate, "generate text from a prompt"},
    {"tokenize", cmd_tokenize, "print the token ids of a text"},
    {"info", cmd_info, "architecture, hyperparameters, tokenizer and tensors of a model"},
    {"logits", cmd_logits, "logits of prompts as JSON (the conformance fixtures' schema)"},
    {"bench", cmd_bench, "prompt-processing and generation speed"},
    {"model", cmd_model, "make models: `octo model init` (random weights)"},
    {"quantize", cmd_quantize, "convert a model's weights to another type"},
    {"plan", cmd_plan, "split a request into steps with a planner model"},
    {"act", cmd_act, "turn one step into a function call with an action model"},
    {"run", cmd_run, "plan, act and execute: the whole agent"},
    {"eval", cmd_eval, "score planner and action models (or predictions) on a test set"},
    {"train", cmd_train, "fine-tune (full or LoRA) or pretrain a model: `octo train`"},
    {"tokenizer", cmd_tokenizer, "learn a byte-level BPE vocabulary: `octo tokenizer train`"},
    {"lora", cmd_lora, "LoRA adapters: merge into a model, convert GGUF <-> PEFT, info"},
    {"data", cmd_data, "datasets: gen, convert, validate, split, stats, dedupe, render"},
    {"functions", cmd_functions, "function sets: show, validate, path, call (run a handler)"},
};

static void usage(FILE *f) {
    fprintf(f,
            "octo %s - on-device planner-action agents: run, fine-tune and evaluate GGUF models\n\n"
            "usage: octo <command> [options]   (octo <command> --help for details)\n\ncommands:\n",
            OCTO_VERSION);
    for (size_t i = 0; i < sizeof k_cmds / sizeof k_cmds[0]; i++)
        fprintf(f, "  %-10s %s\n", k_cmds[i].name, k_cmds[i].help);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("octo %s (kernels: %s)\n", OCTO_VERSION, octo_kernel_isa());
        return 0;
    }
    for (size_t i = 0; i < sizeof k_cmds / sizeof k_cmds[0]; i++)
        if (!strcmp(argv[1], k_cmds[i].name)) return k_cmds[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "octo: unknown command \"%s\" (octo --help lists them)\n", argv[1]);
    return 2;
}
