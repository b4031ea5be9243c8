/* cli.h - shared pieces of the octo command line: the subcommand table and
 * small argument helpers.  Each subcommand lives in its own cmd_*.c file and
 * is only a parser over include/octo.h: no logic lives in the CLI.
 */
#ifndef OCTO_CLI_H
#define OCTO_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include "octo.h"

typedef struct {
    int argc;
    char **argv;
    int i; /* next argument */
    const char *cmd; /* for messages: "octo generate" */
} cli_args;

/* True if argv[i] is one of the given names (NULL-terminated list). */
bool cli_flag(cli_args *a, const char *name1, const char *name2);
/* The value after the current flag; prints an error and returns NULL if
 * missing. Advances past it. */
const char *cli_value(cli_args *a);
/* Parse helpers: print "<cmd>: <flag>: expected ..." and return false on
 * bad input. */
bool cli_int(cli_args *a, int *out, int min, int max);
bool cli_float(cli_args *a, float *out);
bool cli_u64(cli_args *a, uint64_t *out);

/* Print "octo <cmd>: <message>" to stderr; returns 1 (the exit code). */
int cli_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Print an unknown-argument error with a hint to --help; returns 2. */
int cli_usage_error(cli_args *a);

/* Sampling flags shared by generate and the agents. Returns 1 if argv[i]
 * was one of them (and consumed it), 0 if not, -1 on a bad value. */
int cli_sampling_flag(cli_args *a, octo_sampler_params *sp);
extern const char *cli_sampling_help;

/* LoRA adapter flags shared by generate, logits and the agent commands
 * (cli/lora_flags.c): --lora FILE (repeatable), --lora-scaled FILE SCALE. */
typedef struct {
    const char *path[16];
    float scale[16];
    int n;
} cli_lora_flags;
/* 1 if argv[i] was one of them (consumed), 0 if not, -1 on a bad value. */
int cli_lora_flag(cli_args *a, cli_lora_flags *lf);
/* Load each adapter (checked against m) and set them all on c. 0, or the
 * exit code after printing the error. */
int cli_lora_apply(const char *cmd, const cli_lora_flags *lf, const octo_model *m, octo_ctx *c);
extern const char *cli_lora_help;

/* The agent commands (cli/agent_args.c): a function set by file or shipped
 * name (NULL, error set, if neither), and the decoding flags plan, act and
 * run share (1 consumed, 0 not one of them, -1 bad value). */
octo_funcset *cli_load_funcset(const char *arg);
int cli_agent_flag(cli_args *a, octo_agent_params *p, bool *verbose);
extern const char *cli_agent_help;
int cmd_plan(int argc, char **argv);
int cmd_act(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_eval(int argc, char **argv);

int cmd_generate(int argc, char **argv);
int cmd_tokenize(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_logits(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_model(int argc, char **argv);
int cmd_quantize(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_tokenizer(int argc, char **argv);
int cmd_lora(int argc, char **argv);
int cmd_data_gen(int argc, char **argv); /* `octo data gen` (dispatched by cmd_data) */
int cmd_data(int argc, char **argv);      /* `octo data <sub>` (cli/cmd_data.c) */
int cmd_data_render(int argc, char **argv); /* `octo data render` (dispatched by cmd_data) */
int cmd_functions(int argc, char **argv);

#endif
