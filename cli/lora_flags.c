/* lora_flags.c - `--lora FILE` and `--lora-scaled FILE SCALE`, parsed the
 * same way by every command that runs a model (see cli.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

const char *cli_lora_help =
    "adapters:\n"
    "  --lora FILE         apply a LoRA adapter (GGUF or PEFT directory; repeatable)\n"
    "  --lora-scaled FILE S  the same with a user scale S (default 1)\n";

int cli_lora_flag(cli_args *a, cli_lora_flags *lf) {
    bool scaled = cli_flag(a, "--lora-scaled", NULL);
    if (!scaled && !cli_flag(a, "--lora", NULL)) return 0;
    const char *flag = a->argv[a->i];
    if (lf->n == 16) {
        fprintf(stderr, "%s: at most 16 adapters\n", a->cmd);
        return -1;
    }
    if (a->i + (scaled ? 2 : 1) >= a->argc) {
        fprintf(stderr, "%s: %s needs %s\n", a->cmd, flag, scaled ? "a file and a scale" : "a file");
        return -1;
    }
    lf->path[lf->n] = a->argv[a->i + 1];
    lf->scale[lf->n] = 1.0f;
    if (scaled) {
        const char *v = a->argv[a->i + 2];
        char *end;
        errno = 0;
        float s = strtof(v, &end);
        if (errno || *end || end == v) {
            fprintf(stderr, "%s: %s: expected a number as the scale, got \"%s\"\n", a->cmd, flag, v);
            return -1;
        }
        lf->scale[lf->n] = s;
    }
    lf->n++;
    a->i += scaled ? 3 : 2;
    return 1;
}

int cli_lora_apply(const char *cmd, const cli_lora_flags *lf, const octo_model *m, octo_ctx *c) {
    if (lf->n == 0) return 0;
    octo_lora *ad[16] = {0};
    int rc = 0;
    for (int i = 0; i < lf->n && rc == 0; i++)
        if (!(ad[i] = octo_lora_load(lf->path[i], m))) rc = cli_error(cmd, "%s", octo_last_error());
    if (rc == 0 && octo_ctx_set_adapters(c, ad, lf->scale, lf->n)) rc = cli_error(cmd, "%s", octo_last_error());
    for (int i = 0; i < lf->n; i++) octo_lora_free(ad[i]);
    return rc;
}
