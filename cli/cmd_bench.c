/* cmd_bench.c - `octo bench`: prompt processing and generation speed, the
 * way llama-bench measures them: pp = one batch of P tokens into an empty
 * cache; tg = N tokens decoded one at a time; each repeated R times after a
 * warm-up run, reported as mean +- standard deviation. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "cli.h"

static const char *k_help =
    "usage: octo bench -m MODEL [-p 64] [-n 32] [-t 2] [-r 3] [--json]\n\n"
    "Measure prompt processing (a batch of -p tokens) and text generation (-n\n"
    "tokens one at a time) in tokens per second, averaged over -r repetitions\n"
    "after one warm-up. Prints a table, or one JSON object with --json:\n"
    "  {\"model\", \"type\", \"size_bytes\", \"params\", \"threads\", \"isa\", \"pp\", \"tg\",\n"
    "   \"pp_tok_s\", \"pp_tok_s_sd\", \"tg_tok_s\", \"tg_tok_s_sd\", \"tg_weight_gb_s\",\n"
    "   \"max_rss_mb\", \"kv_mb\"}  (tg_weight_gb_s: weight bytes read per second while generating)\n\n"
    "  -m, --model FILE   GGUF model\n"
    "  -p, --n-prompt N   prompt tokens (default 64; 0 skips pp)\n"
    "  -n, --n-gen N      generated tokens (default 32; 0 skips tg)\n"
    "  -t, --threads N    threads (default 2)\n"
    "  -r, --repetitions N  (default 3)\n"
    "  --json             machine-readable output\n";

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void mean_sd(const double *x, int n, double *mean, double *sd) {
    double s = 0, ss = 0;
    for (int i = 0; i < n; i++) s += x[i];
    *mean = s / n;
    for (int i = 0; i < n; i++) ss += (x[i] - *mean) * (x[i] - *mean);
    *sd = n > 1 ? sqrt(ss / (n - 1)) : 0;
}

int cmd_bench(int argc, char **argv) {
    cli_args a = {argc, argv, 1, "octo bench"};
    const char *model = NULL;
    int n_prompt = 64, n_gen = 32, threads = 2, reps = 3;
    bool json = false;
    while (a.i < argc) {
        if (cli_flag(&a, "-h", "--help")) {
            fputs(k_help, stdout);
            return 0;
        } else if (cli_flag(&a, "-m", "--model")) {
            if (!(model = cli_value(&a))) return 2;
        } else if (cli_flag(&a, "-p", "--n-prompt")) {
            if (!cli_int(&a, &n_prompt, 0, 1 << 16)) return 2;
        } else if (cli_flag(&a, "-n", "--n-gen")) {
            if (!cli_int(&a, &n_gen, 0, 1 << 16)) return 2;
        } else if (cli_flag(&a, "-t", "--threads")) {
            if (!cli_int(&a, &threads, 1, 1024)) return 2;
        } else if (cli_flag(&a, "-r", "--repetitions")) {
            if (!cli_int(&a, &reps, 1, 1000)) return 2;
        } else if (cli_flag(&a, "--json", NULL)) {
            json = true;
            a.i++;
        } else {
            return cli_usage_error(&a);
        }
    }
    if (!model) return cli_error(a.cmd, "-m MODEL is required (see --help)");
    octo_model *m = octo_model_load(model);
    if (!m) return cli_error(a.cmd, "%s", octo_last_error());
    octo_model_stats ms;
    octo_model_get_stats(m, &ms);
    int n_ctx = n_prompt + n_gen + 1;
    octo_ctx_params cp = {.n_ctx = n_ctx, .n_batch = n_prompt > 0 ? n_prompt : 1, .n_threads = threads};
    octo_ctx *c = octo_ctx_new(m, &cp);
    if (!c) {
        octo_model_free(m);
        return cli_error(a.cmd, "%s", octo_last_error());
    }
    int n_vocab = octo_model_n_vocab(m);
    int32_t *toks = malloc((size_t)(n_prompt > 0 ? n_prompt : 1) * sizeof(int32_t));
    uint64_t r = 12345;
    for (int i = 0; i < n_prompt; i++) {
        r = r * 6364136223846793005ull + 1442695040888963407ull;
        toks[i] = (int32_t)((r >> 33) % (uint64_t)n_vocab);
    }
    double *pp = calloc((size_t)reps, sizeof(double)), *tg = calloc((size_t)reps, sizeof(double));
    int rc = 0;
    for (int rep = -1; rep < reps && rc == 0; rep++) { /* rep -1: warm-up */
        if (n_prompt > 0) {
            octo_ctx_truncate(c, 0);
            double t0 = now_s();
            if (octo_ctx_decode(c, toks, n_prompt, false) != 0) rc = 1;
            double dt = now_s() - t0;
            if (rep >= 0) pp[rep] = n_prompt / dt;
        }
        if (n_gen > 0 && rc == 0) {
            octo_ctx_truncate(c, 0);
            int32_t t = toks[0] % n_vocab;
            double t0 = now_s();
            for (int i = 0; i < n_gen && rc == 0; i++) {
                if (octo_ctx_decode(c, &t, 1, false) != 0) rc = 1;
                t = (t + 7919) % n_vocab;
            }
            double dt = now_s() - t0;
            if (rep >= 0) tg[rep] = n_gen / dt;
        }
    }
    if (rc) {
        rc = cli_error(a.cmd, "%s", octo_last_error());
    } else {
        double ppm = 0, pps = 0, tgm = 0, tgs = 0;
        if (n_prompt > 0) mean_sd(pp, reps, &ppm, &pps);
        if (n_gen > 0) mean_sd(tg, reps, &tgm, &tgs);
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        const char *base = strrchr(model, '/');
        base = base ? base + 1 : model;
        if (json) {
            printf("{\"model\": ");
            octo_json_write_str(stdout, base, strlen(base));
            printf(", \"type\": \"%s\", \"size_bytes\": %zu, \"params\": %lld, \"threads\": %d, \"isa\": \"%s\", "
                   "\"pp\": %d, \"tg\": %d, \"pp_tok_s\": %.2f, \"pp_tok_s_sd\": %.2f, \"tg_tok_s\": %.2f, "
                   "\"tg_tok_s_sd\": %.2f, \"tg_weight_gb_s\": %.2f, \"max_rss_mb\": %.1f, \"kv_mb\": %.1f}\n",
                   ms.type_name, ms.weight_bytes, (long long)ms.n_params, threads, octo_kernel_isa(), n_prompt,
                   n_gen, ppm, pps, tgm, tgs, tgm * ms.decode_bytes / 1e9, ru.ru_maxrss / 1024.0,
                   octo_ctx_kv_bytes(c) / 1048576.0);
        } else {
            printf("| model | type | size | params | threads | isa | test | t/s |\n");
            printf("| --- | --- | ---: | ---: | ---: | --- | --- | ---: |\n");
            if (n_prompt > 0)
                printf("| %s | %s | %.2f MiB | %.2f M | %d | %s | pp%d | %.2f ± %.2f |\n", base, ms.type_name,
                       ms.weight_bytes / 1048576.0, ms.n_params / 1e6, threads, octo_kernel_isa(), n_prompt, ppm, pps);
            if (n_gen > 0)
                printf("| %s | %s | %.2f MiB | %.2f M | %d | %s | tg%d | %.2f ± %.2f |\n", base, ms.type_name,
                       ms.weight_bytes / 1048576.0, ms.n_params / 1e6, threads, octo_kernel_isa(), n_gen, tgm, tgs);
            printf("max RSS %.1f MiB, KV cache %.1f MiB\n", ru.ru_maxrss / 1024.0, octo_ctx_kv_bytes(c) / 1048576.0);
        }
    }
    free(pp);
    free(tg);
    free(toks);
    octo_ctx_free(c);
    octo_model_free(m);
    return rc;
}
