/* train_fixture.h - tiny models and batches for the training tests,
 * standing alone (no ../shared): a 48-token SentencePiece-style vocabulary
 * written into a GGUF of its own, then octo_model_init_file builds a model
 * of any architecture around it. */
#ifndef OCTO_TESTS_TRAIN_FIXTURE_H
#define OCTO_TESTS_TRAIN_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "octo.h"
#include "gguf/gguf.h"
#include "model/model.h"
#include "train/train_model.h"

#define TF_VOCAB 48

static int tf_vocab_file(const char *path) {
    const char *toks[TF_VOCAB];
    char buf[TF_VOCAB][8];
    float scores[TF_VOCAB];
    int32_t types[TF_VOCAB];
    for (int i = 0; i < TF_VOCAB; i++) {
        if (i == 0) toks[i] = "<unk>";
        else if (i == 1) toks[i] = "<s>";
        else if (i == 2) toks[i] = "</s>";
        else {
            snprintf(buf[i], sizeof buf[i], "%c", 'a' + (i - 3) % 26);
            if (i - 3 >= 26) snprintf(buf[i], sizeof buf[i], "\xe2\x96\x81%c", 'a' + (i - 29));
            toks[i] = buf[i];
        }
        scores[i] = -(float)i;
        types[i] = i == 0 ? 2 : i < 3 ? 3 : 1;
    }
    gguf_writer *w = gguf_writer_new();
    gguf_set_str(w, "general.architecture", "llama");
    gguf_set_str(w, "tokenizer.ggml.model", "llama");
    gguf_set_arr_str(w, "tokenizer.ggml.tokens", toks, TF_VOCAB);
    gguf_set_arr(w, "tokenizer.ggml.scores", GGUF_TYPE_FLOAT32, scores, TF_VOCAB);
    gguf_set_arr(w, "tokenizer.ggml.token_type", GGUF_TYPE_INT32, types, TF_VOCAB);
    gguf_set_u32(w, "tokenizer.ggml.unknown_token_id", 0);
    gguf_set_u32(w, "tokenizer.ggml.bos_token_id", 1);
    gguf_set_u32(w, "tokenizer.ggml.eos_token_id", 2);
    int rc = gguf_writer_write(w, path);
    gguf_writer_free(w);
    return rc;
}

/* A tiny model file of arch in dir; returns the loaded model or NULL. */
static octo_model *tf_model(const char *dir, const char *arch, int n_embd, int n_head, int n_head_kv, int n_ff,
                            int n_layer, int n_ctx, uint64_t seed, char *path_out, size_t path_cap) {
    char voc[512];
    snprintf(voc, sizeof voc, "%s/vocab.gguf", dir);
    if (access(voc, R_OK) != 0 && tf_vocab_file(voc)) return NULL;
    snprintf(path_out, path_cap, "%s/%s-%d-%d-%llu.gguf", dir, arch, n_embd, n_layer, (unsigned long long)seed);
    octo_model_init_params p = {.arch = arch, .n_embd = n_embd, .n_layer = n_layer, .n_head = n_head,
                                .n_head_kv = n_head_kv, .n_ff = n_ff, .n_ctx = n_ctx, .seed = seed,
                                .vocab_from = voc};
    if (octo_model_init_file(&p, path_out)) return NULL;
    return octo_model_load(path_out);
}

typedef struct {
    octo_batch b;
    int32_t buf[4][64 * 64];
} tf_batch;

/* B rows of T tokens; each row packs two examples (the cut at T/3 + row),
 * the second's first quarter masked as a prompt, and the last two tokens of
 * the last row are padding (target -1, own segment). */
static void tf_make_batch(tf_batch *tb, int B, int T, int n_vocab, uint64_t seed) {
    octo_batch *b = &tb->b;
    b->B = B;
    b->T = T;
    b->tokens = tb->buf[0];
    b->targets = tb->buf[1];
    b->pos = tb->buf[2];
    b->seg = tb->buf[3];
    b->n_loss_tokens = 0;
    uint64_t s = seed * 2654435761u + 12345;
    for (int r = 0; r < B; r++) {
        int cut = T / 3 + r;
        for (int t = 0; t < T; t++) {
            int i = r * T + t;
            s = s * 6364136223846793005ull + 1442695040888963407ull;
            b->tokens[i] = 3 + (int32_t)((s >> 33) % (uint64_t)(n_vocab - 3));
            int second = t >= cut;
            b->seg[i] = second;
            b->pos[i] = second ? t - cut : t;
            b->targets[i] = -1;
        }
        for (int t = 0; t < T; t++) {
            int i = r * T + t;
            int last_of_seg = t + 1 == T || b->seg[i + 1] != b->seg[i];
            if (!last_of_seg) b->targets[i] = b->tokens[i + 1];
            if (b->seg[i] == 1 && b->pos[i] < (T - cut) / 4) b->targets[i] = -1;
        }
        if (r == B - 1)
            for (int t = T - 2; t < T; t++) {
                int i = r * T + t;
                b->seg[i] = 7;
                b->pos[i] = 0;
                b->targets[i] = -1;
                if (t == T - 1) b->targets[i - 1] = -1;
            }
    }
    for (int i = 0; i < B * T; i++) b->n_loss_tokens += b->targets[i] >= 0;
}

static double tf_urand(uint64_t *s) {
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(*s >> 11) / 9007199254740992.0;
}

/* Overwrite every parameter with U(-a, a) (norms 1 + U(-a, a)), so that
 * gradients are far from zero everywhere, LoRA B included. */
static void tf_randomize(octo_train_model *tm, uint64_t seed, double a) {
    uint64_t s = seed;
    for (int i = 0; i < octo_tm_n_params(tm); i++) {
        octo_param *p = octo_tm_param(tm, i);
        int norm = strstr(p->name, "norm") != NULL;
        for (int64_t j = 0; j < p->n; j++) p->data[j] = (float)((norm ? 1.0 : 0.0) + (2 * tf_urand(&s) - 1) * a);
    }
}

#endif
