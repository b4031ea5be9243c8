/* bench/lora.c - what unmerged LoRA adapters cost at inference.
 *
 * Loads MODEL, builds a random adapter of rank R on the seven projections of
 * every layer, and times prompt processing (128 tokens in one batch) and
 * generation (32 tokens one by one) without and with it, alternating the two
 * so that a shared machine's load hits both alike; reports the best of 7
 * runs per round.
 *
 * Build: cc -O3 -std=c11 -D_GNU_SOURCE -Iinclude -Isrc bench/lora.c build/libocto.a -lcjson -lcurl -lm -pthread -o build/bench_lora
 * Run:   build/bench_lora MODEL.gguf [rank 16] [threads 1] [rounds 3]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "octo.h"
#include "adapter/lora.h"
#include "model/model.h"

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void bench(octo_model *m, octo_lora *l, int threads, const char *label) {
    octo_ctx_params cp = {.n_ctx = 512, .n_batch = 128, .n_threads = threads};
    octo_ctx *c = octo_ctx_new(m, &cp);
    if (!c || (l && octo_ctx_set_adapters(c, &l, NULL, 1))) {
        fprintf(stderr, "bench_lora: %s\n", octo_last_error());
        exit(1);
    }
    int32_t toks[128];
    for (int i = 0; i < 128; i++) toks[i] = 100 + i;
    double pp = 0, tg = 0;
    for (int r = 0; r < 7; r++) {
        octo_ctx_truncate(c, 0);
        double t0 = now();
        octo_ctx_decode(c, toks, 128, false);
        double x = 128 / (now() - t0);
        t0 = now();
        for (int i = 0; i < 32; i++) {
            int32_t tok = 200 + i;
            octo_ctx_decode(c, &tok, 1, false);
        }
        double y = 32 / (now() - t0);
        if (x > pp) pp = x;
        if (y > tg) tg = y;
    }
    printf("%-24s prompt %8.1f tok/s   generation %7.1f tok/s\n", label, pp, tg);
    octo_ctx_free(c);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: bench_lora MODEL.gguf [rank] [threads] [rounds]\n");
        return 2;
    }
    octo_model *m = octo_model_load(argv[1]);
    if (!m) {
        fprintf(stderr, "bench_lora: %s\n", octo_last_error());
        return 1;
    }
    int rank = argc > 2 ? atoi(argv[2]) : 16, threads = argc > 3 ? atoi(argv[3]) : 1;
    int rounds = argc > 4 ? atoi(argv[4]) : 3;
    octo_lora *l = octo_lora_new(m->hp.arch_name, 2.0f * (float)rank);
    const char *fields[] = {"attn_q", "attn_k", "attn_v", "attn_qkv", "attn_output", "ffn_gate", "ffn_up", "ffn_down"};
    char name[64];
    srand(1);
    for (int il = 0; il < m->hp.n_layer; il++)
        for (int k = 0; k < 8; k++) {
            snprintf(name, sizeof name, "blk.%d.%s.weight", il, fields[k]);
            const octo_weight *w = octo_model_weight(m, name);
            if (!w) continue;
            int i = octo_lora_add(l, name, w->rows, w->cols, rank);
            for (int64_t j = 0; j < rank * w->cols; j++) l->t[i].a[j] = ((float)rand() / (float)RAND_MAX - 0.5f) * 0.01f;
            for (int64_t j = 0; j < rank * w->rows; j++) l->t[i].b[j] = ((float)rand() / (float)RAND_MAX - 0.5f) * 0.01f;
        }
    printf("%s: rank %d on %d weights, %d thread%s, best of 7 per line\n", argv[1], rank, l->n, threads,
           threads > 1 ? "s" : "");
    for (int r = 0; r < rounds; r++) {
        bench(m, NULL, threads, "no adapter");
        bench(m, l, threads, "adapter");
    }
    octo_lora_free(l);
    octo_model_free(m);
    return 0;
}
