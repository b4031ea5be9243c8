/* cmd_logits.c - `octo logits`: per-position logits of prompts as JSON, in
 * exactly the schema of the conformance fixtures (the fixtures' refs/NAME.ref.json), so the
 * engine can be compared with llama.cpp on any model and any prompt. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char *k_help =
    "usage: octo logits -m MODEL --prompts FILE [--greedy N] [-t THREADS] [--lora A.gguf]\n\n"
    "For each line of FILE (a literal \\n in a line stands for a newline): tokenize\n"
    "with BOS as the model says and special-token parsing off, evaluate all prompt\n"
    "tokens in one batch, print every position's logsumexp and 10 largest logits,\n"
    "then N greedy tokens decoded one at a time through the KV cache. Output: one\n"
    "JSON object on stdout:\n"
    "  {\"model\", \"n_vocab\", \"add_bos\", \"cases\": [{\"prompt\", \"tokens\",\n"
    "   \"positions\": [{\"logsumexp\", \"top\": [[id, logit], ...]}], \"greedy\"}]}\n\n"
    "  -m, --model FILE   GGUF model\n"
    "  --prompts FILE     prompts, one per line\n"
    "  --greedy N         greedy tokens per prompt (default 24)\n"
    "  -t, --threads N    threads (default: all CPUs)\n";

static void write_position(const float *l, int n_vocab, int first) {
    float mx = -INFINITY;
    for (int i = 0; i < n_vocab; i++)
        if (l[i] > mx) mx = l[i];
    double s = 0;
    for (int i = 0; i < n_vocab; i++) s += exp((double)l[i] - mx);
    int top[10], k = 0;
    for (int i = 0; i < n_vocab; i++) {
        if (k < 10 || l[i] > l[top[k - 1]]) {
            int j = k < 10 ? k++ : 9;
            while (j > 0 && l[top[j - 1]] < l[i]) {
                top[j] = top[j - 1];
                j--;
            }
            top[j] = i;
        }
    }
    printf("%s\n  {\"logsumexp\": %.6f, \"top\": [", first ? "" : ",", mx + log(s));
    for (int j = 0; j < k; j++) printf("%s[%d, %.6f]", j ? ", " : "", top[j], l[top[j]]);
    printf("]}");
}

int cmd_logits(int argc, char **argv) {
    cli_args a = {argc, argv, 1, "octo logits"};
    const char *model = NULL, *prompts = NULL;
    int greedy = 24, threads = 0;
    cli_lora_flags loras = {0};
    while (a.i < argc) {
        int s = cli_lora_flag(&a, &loras);
        if (s < 0) return 2;
        if (s > 0) continue;
        if (cli_flag(&a, "-h", "--help")) {
            printf("%s\n%s", k_help, cli_lora_help);
            return 0;
        } else if (cli_flag(&a, "-m", "--model")) {
            if (!(model = cli_value(&a))) return 2;
        } else if (cli_flag(&a, "--prompts", NULL)) {
            if (!(prompts = cli_value(&a))) return 2;
        } else if (cli_flag(&a, "--greedy", NULL)) {
            if (!cli_int(&a, &greedy, 0, 1 << 20)) return 2;
        } else if (cli_flag(&a, "-t", "--threads")) {
            if (!cli_int(&a, &threads, 1, 1024)) return 2;
        } else {
            return cli_usage_error(&a);
        }
    }
    if (!model || !prompts) return cli_error(a.cmd, "-m MODEL and --prompts FILE are required (see --help)");
    size_t size;
    char *text = octo_read_file(prompts, &size);
    if (!text) return cli_error(a.cmd, "%s", octo_last_error());
    octo_model *m = octo_model_load(model);
    if (!m) {
        free(text);
        return cli_error(a.cmd, "%s", octo_last_error());
    }
    const octo_tokenizer *tok = octo_model_tokenizer(m);
    int n_vocab = octo_model_n_vocab(m);
    bool add_bos = octo_tokenizer_add_bos(tok);
    /* each prompt is evaluated in one batch, so the batch must hold the longest */
    int n_ctx = 0, longest = 0;
    for (char *line = text; *line;) {
        char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        int n = octo_tokenize(tok, line, len, add_bos, false, NULL, 0);
        if (n > longest) longest = n;
        line += len + (nl ? 1 : 0);
    }
    n_ctx = longest + greedy + 1;
    if (n_ctx < 16) n_ctx = 16;
    octo_ctx_params cp = {.n_ctx = n_ctx, .n_batch = longest > 0 ? longest : 1, .n_threads = threads};
    octo_ctx *c = octo_ctx_new(m, &cp);
    if (!c) {
        free(text);
        octo_model_free(m);
        return cli_error(a.cmd, "%s", octo_last_error());
    }
    if (cli_lora_apply(a.cmd, &loras, m, c)) {
        octo_ctx_free(c);
        free(text);
        octo_model_free(m);
        return 1;
    }
    const char *base = strrchr(model, '/');
    base = base ? base + 1 : model;
    printf("{\"model\": ");
    octo_json_write_str(stdout, base, strlen(base));
    printf(", \"n_vocab\": %d, \"add_bos\": %s, \"cases\": [", n_vocab, add_bos ? "true" : "false");
    int rc = 0, first_case = 1;
    for (char *line = text; *line && rc == 0;) {
        char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        /* unescape literal "\n" */
        char *prompt = malloc(len + 1);
        size_t pl = 0;
        for (size_t i = 0; i < len; i++) {
            if (line[i] == '\\' && i + 1 < len && line[i + 1] == 'n') {
                prompt[pl++] = '\n';
                i++;
            } else {
                prompt[pl++] = line[i];
            }
        }
        prompt[pl] = 0;
        line += len + (nl ? 1 : 0);
        if (len == 0) {
            free(prompt);
            continue;
        }
        int n = octo_tokenize(tok, prompt, pl, add_bos, false, NULL, 0);
        int32_t *ids = malloc((size_t)(n > 0 ? n : 1) * sizeof(int32_t));
        octo_tokenize(tok, prompt, pl, add_bos, false, ids, n);
        printf("%s\n{\"prompt\": ", first_case ? "" : ",");
        first_case = 0;
        octo_json_write_str(stdout, prompt, pl);
        printf(", \"tokens\": [");
        for (int i = 0; i < n; i++) printf("%s%d", i ? ", " : "", ids[i]);
        printf("], \"positions\": [");
        octo_ctx_truncate(c, 0);
        if (n > 0 && octo_ctx_decode(c, ids, n, true) != 0) {
            rc = cli_error(a.cmd, "%s", octo_last_error());
        } else {
            for (int i = 0; i < n; i++) write_position(octo_ctx_logits(c, i), n_vocab, i == 0);
            printf("\n], \"greedy\": [");
            for (int g = 0; g < greedy && n > 0 && rc == 0; g++) {
                int32_t next = 0;
                const float *l = octo_ctx_logits(c, -1);
                for (int i = 1; i < n_vocab; i++)
                    if (l[i] > l[next]) next = i;
                printf("%s%d", g ? ", " : "", next);
                if (g + 1 < greedy && octo_ctx_decode(c, &next, 1, false) != 0)
                    rc = cli_error(a.cmd, "%s", octo_last_error());
            }
            printf("]}");
        }
        free(ids);
        free(prompt);
    }
    printf("\n]}\n");
    octo_ctx_free(c);
    octo_model_free(m);
    free(text);
    return rc;
}
