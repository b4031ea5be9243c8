/* args.c - argument helpers shared by the subcommands (see cli.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

bool cli_flag(cli_args *a, const char *name1, const char *name2) {
    const char *s = a->argv[a->i];
    return (name1 && strcmp(s, name1) == 0) || (name2 && strcmp(s, name2) == 0);
}

const char *cli_value(cli_args *a) {
    const char *flag = a->argv[a->i];
    if (a->i + 1 >= a->argc) {
        fprintf(stderr, "%s: %s needs a value\n", a->cmd, flag);
        return NULL;
    }
    a->i += 2;
    return a->argv[a->i - 1];
}

bool cli_int(cli_args *a, int *out, int min, int max) {
    const char *flag = a->argv[a->i];
    const char *v = cli_value(a);
    if (!v) return false;
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (errno || *end || end == v || x < min || x > max) {
        fprintf(stderr, "%s: %s: expected an integer in [%d, %d], got \"%s\"\n", a->cmd, flag, min, max, v);
        return false;
    }
    *out = (int)x;
    return true;
}

bool cli_float(cli_args *a, float *out) {
    const char *flag = a->argv[a->i];
    const char *v = cli_value(a);
    if (!v) return false;
    char *end;
    errno = 0;
    float x = strtof(v, &end);
    if (errno || *end || end == v) {
        fprintf(stderr, "%s: %s: expected a number, got \"%s\"\n", a->cmd, flag, v);
        return false;
    }
    *out = x;
    return true;
}

bool cli_u64(cli_args *a, uint64_t *out) {
    const char *flag = a->argv[a->i];
    const char *v = cli_value(a);
    if (!v) return false;
    char *end;
    errno = 0;
    unsigned long long x = strtoull(v, &end, 10);
    if (errno || *end || end == v || v[0] == '-') {
        fprintf(stderr, "%s: %s: expected a non-negative integer, got \"%s\"\n", a->cmd, flag, v);
        return false;
    }
    *out = x;
    return true;
}

int cli_error(const char *cmd, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 1;
}

int cli_usage_error(cli_args *a) {
    fprintf(stderr, "%s: unknown argument \"%s\" (see %s --help)\n", a->cmd, a->argv[a->i], a->cmd);
    return 2;
}

const char *cli_sampling_help =
    "sampling:\n"
    "  --temp T            temperature (0 = greedy; default 0.8)\n"
    "  --top-k K           keep the K most likely tokens (0 = off; default 40)\n"
    "  --top-p P           nucleus sampling (1 = off; default 0.95)\n"
    "  --min-p P           drop tokens below P x the top probability (0 = off; default 0.05)\n"
    "  --repeat-penalty R  penalize tokens seen in the last --repeat-last-n (1 = off)\n"
    "  --repeat-last-n N   history for the penalty (default 64)\n"
    "  --seed S            random seed (default 42)\n"
    "  --greedy            same as --temp 0\n";

int cli_sampling_flag(cli_args *a, octo_sampler_params *sp) {
    if (cli_flag(a, "--temp", "--temperature")) return cli_float(a, &sp->temperature) ? 1 : -1;
    if (cli_flag(a, "--top-k", NULL)) return cli_int(a, &sp->top_k, 0, 1 << 30) ? 1 : -1;
    if (cli_flag(a, "--top-p", NULL)) return cli_float(a, &sp->top_p) ? 1 : -1;
    if (cli_flag(a, "--min-p", NULL)) return cli_float(a, &sp->min_p) ? 1 : -1;
    if (cli_flag(a, "--repeat-penalty", NULL)) return cli_float(a, &sp->repeat_penalty) ? 1 : -1;
    if (cli_flag(a, "--repeat-last-n", NULL)) return cli_int(a, &sp->repeat_last_n, 0, 1 << 20) ? 1 : -1;
    if (cli_flag(a, "--seed", NULL)) return cli_u64(a, &sp->seed) ? 1 : -1;
    if (cli_flag(a, "--greedy", NULL)) {
        sp->temperature = 0;
        a->i++;
        return 1;
    }
    return 0;
}
