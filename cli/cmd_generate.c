/* cmd_generate.c - `octo generate`: text from a prompt, streamed to stdout. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char *k_help =
    "usage: octo generate -m MODEL -p PROMPT [-n N] [-t THREADS] [sampling flags] [--lora A.gguf]\n\n"
    "Generate text from PROMPT and stream it to stdout; timings go to stderr.\n\n"
    "  -m, --model FILE    GGUF model\n"
    "  -p, --prompt TEXT   prompt (special tokens such as <|user|> are parsed)\n"
    "  -f, --file FILE     read the prompt from a file\n"
    "  -n, --n-predict N   tokens to generate (default 128; -1 = until end of text)\n"
    "  -t, --threads N     threads (default: all CPUs)\n"
    "  -c, --ctx-size N    context length (default: the model's, at most 4096)\n"
    "  --stop TEXT         stop when TEXT appears (repeatable; not printed)\n"
    "  --no-special        treat special-token text in the prompt as plain text\n"
    "  --no-bos            do not add a BOS token\n"
    "  -q, --quiet         no timings on stderr\n";

static bool print_text(void *user, const char *text, size_t len) {
    (void)user;
    fwrite(text, 1, len, stdout);
    fflush(stdout);
    return true;
}

int cmd_generate(int argc, char **argv) {
    cli_args a = {argc, argv, 1, "octo generate"};
    const char *model = NULL, *prompt = NULL, *prompt_file = NULL;
    const char *stops[16];
    int n_stop = 0, threads = 0, n_ctx = 0;
    bool quiet = false;
    octo_generate_params gp;
    octo_generate_defaults(&gp);
    cli_lora_flags loras = {0};
    while (a.i < argc) {
        int s = cli_sampling_flag(&a, &gp.sampling);
        if (s == 0) s = cli_lora_flag(&a, &loras);
        if (s < 0) return 2;
        if (s > 0) continue;
        if (cli_flag(&a, "-h", "--help")) {
            printf("%s\n%s\n%s", k_help, cli_sampling_help, cli_lora_help);
            return 0;
        } else if (cli_flag(&a, "-m", "--model")) {
            if (!(model = cli_value(&a))) return 2;
        } else if (cli_flag(&a, "-p", "--prompt")) {
            if (!(prompt = cli_value(&a))) return 2;
        } else if (cli_flag(&a, "-f", "--file")) {
            if (!(prompt_file = cli_value(&a))) return 2;
        } else if (cli_flag(&a, "-n", "--n-predict")) {
            if (!cli_int(&a, &gp.n_predict, -1, 1 << 24)) return 2;
        } else if (cli_flag(&a, "-t", "--threads")) {
            if (!cli_int(&a, &threads, 1, 1024)) return 2;
        } else if (cli_flag(&a, "-c", "--ctx-size")) {
            if (!cli_int(&a, &n_ctx, 1, 1 << 20)) return 2;
        } else if (cli_flag(&a, "--stop", NULL)) {
            if (n_stop == 16) return cli_error(a.cmd, "at most 16 --stop strings");
            if (!(stops[n_stop++] = cli_value(&a))) return 2;
        } else if (cli_flag(&a, "--no-special", NULL)) {
            gp.parse_special = false;
            a.i++;
        } else if (cli_flag(&a, "--no-bos", NULL)) {
            gp.add_bos = 0;
            a.i++;
        } else if (cli_flag(&a, "-q", "--quiet")) {
            quiet = true;
            a.i++;
        } else {
            return cli_usage_error(&a);
        }
    }
    if (!model) return cli_error(a.cmd, "-m MODEL is required (see --help)");
    char *file_text = NULL;
    if (prompt_file) {
        FILE *f = fopen(prompt_file, "rb");
        if (!f) return cli_error(a.cmd, "%s: cannot open", prompt_file);
        size_t cap = 1 << 16, n = 0;
        file_text = malloc(cap + 1);
        size_t r;
        while (file_text && (r = fread(file_text + n, 1, cap - n, f)) > 0) {
            n += r;
            if (n == cap) file_text = realloc(file_text, (cap *= 2) + 1);
        }
        fclose(f);
        if (!file_text) return cli_error(a.cmd, "out of memory");
        file_text[n] = 0;
        prompt = file_text;
    }
    if (!prompt) return cli_error(a.cmd, "-p PROMPT or -f FILE is required (see --help)");
    if (gp.n_predict < 0) gp.n_predict = 0;
    gp.stop = stops;
    gp.n_stop = n_stop;
    gp.on_text = print_text;
    octo_model *m = octo_model_load(model);
    if (!m) {
        free(file_text);
        return cli_error(a.cmd, "%s", octo_last_error());
    }
    octo_ctx_params cp = {.n_ctx = n_ctx, .n_threads = threads};
    octo_ctx *c = octo_ctx_new(m, &cp);
    if (!c) {
        octo_model_free(m);
        free(file_text);
        return cli_error(a.cmd, "%s", octo_last_error());
    }
    if (cli_lora_apply(a.cmd, &loras, m, c)) {
        octo_ctx_free(c);
        octo_model_free(m);
        free(file_text);
        return 1;
    }
    octo_generate_stats st;
    char *out = octo_generate(c, prompt, &gp, &st);
    int rc = 0;
    if (!out) {
        rc = cli_error(a.cmd, "%s", octo_last_error());
    } else {
        printf("\n");
        fflush(stdout);
        if (!quiet)
            fprintf(stderr, "prompt: %d tokens in %.1f ms (%.1f tok/s); generated: %d tokens in %.1f ms (%.1f tok/s)\n",
                    st.n_prompt, st.prompt_ms, st.prompt_ms > 0 ? st.n_prompt * 1e3 / st.prompt_ms : 0,
                    st.n_generated, st.generate_ms,
                    st.generate_ms > 0 ? st.n_generated * 1e3 / st.generate_ms : 0);
    }
    free(out);
    free(file_text);
    octo_ctx_free(c);
    octo_model_free(m);
    return rc;
}
