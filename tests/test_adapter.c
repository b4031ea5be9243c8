/* test_adapter.c - LoRA adapters: GGUF and PEFT files round trip exactly;
 * applying adapters unmerged gives the logits of the merged model (F32 base,
 * within F32 rounding), scale 0 gives the base, two adapters add up; TIES
 * and DARE on hand-computed cases; adapters for another shape or
 * architecture are refused; hostile safetensors and adapter GGUF files get a
 * clean error (run under ASan in CI).  Adapters are random numbers; models
 * are tiny random ones built on the shared fixtures' vocabulary.
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <string.h>

#include "octo.h"
#include "adapter/lora.h"
#include "adapter/lora_gguf.h"
#include "adapter/merge.h"
#include "adapter/peft.h"
#include "adapter/safetensors.h"
#include "base/error.h"
#include "gguf/gguf.h"
#include "model/model.h"
#include "tensor/ops.h"
#include "testlib.h"

static const char *tmp(const char *name) {
    static char buf[8][512];
    static int k;
    k = (k + 1) % 8;
    snprintf(buf[k], sizeof buf[k], "%s/%s", t_tmpdir(), name);
    return buf[k];
}

/* A tiny random model of arch at path (once per arch). NULL if no vocab. */
static const char *tiny_model(const char *arch) {
    const char *vocab = t_shared_path("fixtures/models/llama-spm-tiny.gguf");
    if (!vocab) return NULL;
    char name[64];
    snprintf(name, sizeof name, "base-%s.gguf", arch);
    const char *path = tmp(name);
    FILE *f = fopen(path, "rb");
    if (f) {
        fclose(f);
        return path;
    }
    octo_model_init_params p = {.arch = arch, .n_embd = 64, .n_layer = 2, .n_head = 4, .n_head_kv = 2, .n_ff = 96,
                                .n_ctx = 256, .seed = 7, .vocab_from = vocab};
    if (octo_model_init_file(&p, path)) {
        fprintf(stderr, "    model init: %s\n", octo_last_error());
        return NULL;
    }
    return path;
}

static void fill(float *x, int64_t n, float sd) {
    for (int64_t i = 0; i < n; i++) x[i] = sd * t_rand_normal();
}

/* Random adapter on every projection of m (and output.weight if untied). */
static octo_lora *random_adapter(const octo_model *m, int rank, float alpha, float sd) {
    octo_lora *l = octo_lora_new(m->hp.arch_name, alpha);
    const char *fields[] = {"attn_q", "attn_k", "attn_v", "attn_qkv", "attn_output", "ffn_gate", "ffn_up", "ffn_down"};
    char name[96];
    for (int il = 0; il < m->hp.n_layer; il++)
        for (int k = 0; k < 8; k++) {
            snprintf(name, sizeof name, "blk.%d.%s.weight", il, fields[k]);
            const octo_weight *w = octo_model_weight(m, name);
            if (!w) continue;
            int i = octo_lora_add(l, name, w->rows, w->cols, rank + k % 2); /* ranks differ per tensor */
            fill(l->t[i].a, (int64_t)l->t[i].rank * w->cols, sd);
            fill(l->t[i].b, w->rows * (int64_t)l->t[i].rank, sd);
        }
    const octo_weight *w = octo_model_weight(m, "output.weight");
    if (w) {
        int i = octo_lora_add(l, "output.weight", w->rows, w->cols, rank);
        fill(l->t[i].a, (int64_t)rank * w->cols, sd);
        fill(l->t[i].b, w->rows * (int64_t)rank, sd);
    }
    return l;
}

static bool same_adapter(const octo_lora *x, const octo_lora *y) {
    if (x->n != y->n || x->alpha != y->alpha) return false;
    if ((x->arch == NULL) != (y->arch == NULL) || (x->arch && strcmp(x->arch, y->arch))) return false;
    for (int i = 0; i < x->n; i++) {
        int j = octo_lora_find(y, x->t[i].base_name);
        if (j < 0) return false;
        const octo_lora_tensor *a = &x->t[i], *b = &y->t[j];
        if (a->rows != b->rows || a->cols != b->cols || a->rank != b->rank) return false;
        if (memcmp(a->a, b->a, (size_t)(a->rank * a->cols) * 4) || memcmp(a->b, b->b, (size_t)(a->rows * a->rank) * 4))
            return false;
    }
    return true;
}

static const int32_t k_prompt[] = {1, 415, 2936, 9060, 285, 1142, 10575, 754, 272, 17898, 3914, 28723};
#define N_PROMPT ((int)(sizeof k_prompt / sizeof k_prompt[0]))

/* Logits of every prompt position, then of one more token decoded alone:
 * [(N_PROMPT + 1) * n_vocab], malloc'd. */
static float *run_logits(octo_model *m, octo_lora *const *ad, const float *scales, int n_ad) {
    octo_ctx_params cp = {.n_ctx = 64, .n_batch = 32, .n_threads = 2};
    octo_ctx *c = octo_ctx_new(m, &cp);
    if (!c) return NULL;
    if (n_ad && octo_ctx_set_adapters(c, ad, scales, n_ad)) {
        fprintf(stderr, "    set adapters: %s\n", octo_last_error());
        octo_ctx_free(c);
        return NULL;
    }
    int nv = m->hp.n_vocab;
    float *out = malloc((size_t)(N_PROMPT + 1) * nv * sizeof(float));
    octo_ctx_decode(c, k_prompt, N_PROMPT, true);
    for (int i = 0; i < N_PROMPT; i++) memcpy(out + (size_t)i * nv, octo_ctx_logits(c, i), (size_t)nv * 4);
    int32_t next = 42;
    octo_ctx_decode(c, &next, 1, false);
    memcpy(out + (size_t)N_PROMPT * nv, octo_ctx_logits(c, -1), (size_t)nv * 4);
    octo_ctx_free(c);
    return out;
}

static double max_diff(const float *a, const float *b, size_t n) {
    double d = 0;
    for (size_t i = 0; i < n; i++)
        if (fabs((double)a[i] - b[i]) > d) d = fabs((double)a[i] - b[i]);
    return d;
}

/* ------------------------------------------------------------------ */

TEST(gguf_round_trip) {
    const char *mp = tiny_model("llama");
    if (!mp) SKIP("../shared/fixtures/models/llama-spm-tiny.gguf is absent");
    octo_model *m = octo_model_load(mp);
    REQUIRE(m);
    octo_lora *l = random_adapter(m, 4, 8.0f, 0.1f);
    const char *path = tmp("a.gguf");
    REQUIRE(octo_lora_save_gguf(l, path) == 0);
    /* the layout llama.cpp reads */
    gguf_file *f = gguf_open(path);
    REQUIRE(f);
    char *s = NULL;
    CHECK(gguf_get_str(f, "general.type", &s) == 0 && !strcmp(s, "adapter"));
    free(s);
    CHECK(gguf_get_str(f, "adapter.type", &s) == 0 && !strcmp(s, "lora"));
    free(s);
    CHECK(gguf_get_str(f, "general.architecture", &s) == 0 && !strcmp(s, "llama"));
    free(s);
    float alpha = 0;
    CHECK(gguf_get_f32(f, "adapter.lora.alpha", &alpha) == 0 && alpha == 8.0f);
    const gguf_tensor *ta = gguf_find_tensor(f, "blk.0.attn_q.weight.lora_a");
    const gguf_tensor *tb = gguf_find_tensor(f, "blk.0.attn_q.weight.lora_b");
    REQUIRE(ta && tb);
    CHECK(ta->type == OCTO_TYPE_F32 && ta->ne[0] == 64 && ta->ne[1] == 4); /* [in, rank] */
    CHECK(tb->ne[0] == 4 && tb->ne[1] == 64);                              /* [rank, out] */
    gguf_close(f);
    octo_lora *r = octo_lora_load(path, m);
    REQUIRE(r);
    CHECK(same_adapter(l, r));
    /* same logits from either copy */
    float *x = run_logits(m, &l, NULL, 1), *y = run_logits(m, &r, NULL, 1);
    REQUIRE(x && y);
    CHECK(memcmp(x, y, (size_t)(N_PROMPT + 1) * m->hp.n_vocab * 4) == 0);
    free(x);
    free(y);
    octo_lora_free(r);
    octo_lora_free(l);
    octo_model_free(m);
}

/* F16 and Q8_0 adapter files (as convert_lora_to_gguf.py --outtype writes) */
TEST(gguf_reads_f16_q8_0) {
    octo_lora *l = octo_lora_new("llama", 16.0f);
    int i = octo_lora_add(l, "blk.0.attn_q.weight", 32, 64, 2);
    fill(l->t[i].a, 2 * 64, 0.5f);
    fill(l->t[i].b, 32 * 2, 0.5f);
    octo_type types[2] = {OCTO_TYPE_F16, OCTO_TYPE_Q8_0};
    for (int k = 0; k < 2; k++) {
        gguf_writer *w = gguf_writer_new();
        gguf_set_str(w, "general.architecture", "llama");
        gguf_set_str(w, "general.type", "adapter");
        gguf_set_str(w, "adapter.type", "lora");
        gguf_set_f32(w, "adapter.lora.alpha", 16.0f);
        static uint8_t qa[2 * 64 * 2], qb[32 * 2 * 2];
        octo_quantize_row(types[k], l->t[i].a, qa, 2 * 64);
        int64_t ne_a[2] = {64, 2}, ne_b[2] = {2, 32};
        octo_type tb = k == 0 ? OCTO_TYPE_F16 : OCTO_TYPE_F32; /* Q8_0 needs rows of 32: B stays F32 */
        if (k == 0) octo_quantize_row(OCTO_TYPE_F16, l->t[i].b, qb, 32 * 2);
        CHECK(gguf_add_tensor(w, "blk.0.attn_q.weight.lora_a", types[k], 2, ne_a, qa) == 0);
        CHECK(gguf_add_tensor(w, "blk.0.attn_q.weight.lora_b", tb, 2, ne_b, k == 0 ? (void *)qb : (void *)l->t[i].b) == 0);
        const char *path = tmp(k == 0 ? "f16.gguf" : "q8.gguf");
        CHECK(gguf_writer_write(w, path) == 0);
        gguf_writer_free(w);
        octo_lora *r = octo_lora_load(path, NULL);
        REQUIRE(r);
        CHECK(r->n == 1 && r->t[0].rank == 2 && r->t[0].rows == 32 && r->t[0].cols == 64);
        double tol = k == 0 ? 2e-3 : 2e-2;
        CHECK(max_diff(r->t[0].a, l->t[i].a, 128) < tol);
        CHECK(max_diff(r->t[0].b, l->t[i].b, 64) < tol);
        octo_lora_free(r);
    }
    octo_lora_free(l);
}

static cJSON *read_json(const char *path) {
    size_t n;
    char *text = octo_read_file(path, &n);
    if (!text) return NULL;
    cJSON *j = cJSON_Parse(text);
    free(text);
    return j;
}

TEST(peft_round_trip) {
    const char *arches[2] = {"llama", "phi3"};
    for (int ai = 0; ai < 2; ai++) {
        const char *mp = tiny_model(arches[ai]);
        if (!mp) SKIP("../shared/fixtures/models/llama-spm-tiny.gguf is absent");
        octo_model *m = octo_model_load(mp);
        REQUIRE(m);
        octo_lora *l = random_adapter(m, 4, 16.0f, 0.1f);
        char dir[64];
        snprintf(dir, sizeof dir, "peft-%s", arches[ai]);
        const char *d = tmp(dir);
        REQUIRE(octo_lora_save_peft(l, d, m, "octo/tiny") == 0);
        /* config as PEFT writes it */
        char path[600];
        snprintf(path, sizeof path, "%s/adapter_config.json", d);
        cJSON *c = read_json(path);
        REQUIRE(c);
        CHECK(!strcmp(cJSON_GetObjectItem(c, "peft_type")->valuestring, "LORA"));
        CHECK(!strcmp(cJSON_GetObjectItem(c, "task_type")->valuestring, "CAUSAL_LM"));
        CHECK(!strcmp(cJSON_GetObjectItem(c, "bias")->valuestring, "none"));
        CHECK(cJSON_GetObjectItem(c, "r")->valueint == l->rank);
        /* tensors of another rank are listed in rank_pattern */
        cJSON *rp = cJSON_GetObjectItem(c, "rank_pattern");
        CHECK(cJSON_IsObject(rp) && cJSON_GetArraySize(rp) > 0);
        cJSON *rk = cJSON_GetObjectItem(rp, ai == 0 ? "model.layers.1.self_attn.k_proj" : "model.layers.1.self_attn.o_proj");
        CHECK(rk && rk->valueint == l->t[octo_lora_find(l, ai == 0 ? "blk.1.attn_k.weight" : "blk.1.attn_output.weight")].rank);
        CHECK(cJSON_GetObjectItem(c, "lora_alpha")->valuedouble == 16.0);
        CHECK(!strcmp(cJSON_GetObjectItem(c, "base_model_name_or_path")->valuestring, "octo/tiny"));
        int nt = cJSON_GetArraySize(cJSON_GetObjectItem(c, "target_modules"));
        CHECK(nt == (ai == 0 ? 8 : 5)); /* q,k,v,o,gate,up,down,lm_head | qkv,o,gate_up,down,lm_head */
        cJSON_Delete(c);
        /* tensors with Hugging Face names, torch shapes */
        snprintf(path, sizeof path, "%s/adapter_model.safetensors", d);
        octo_st_file *st = octo_st_open(path);
        REQUIRE(st);
        const char *qa = ai == 0 ? "base_model.model.model.layers.1.self_attn.q_proj.lora_A.weight"
                                 : "base_model.model.model.layers.1.self_attn.qkv_proj.lora_A.weight";
        const octo_st_tensor *t = octo_st_find(st, qa);
        REQUIRE(t);
        CHECK(t->n_dims == 2 && t->shape[0] == l->t[octo_lora_find(l, ai == 0 ? "blk.1.attn_q.weight" : "blk.1.attn_qkv.weight")].rank &&
              t->shape[1] == 64);
        t = octo_st_find(st, ai == 0 ? "base_model.model.model.layers.0.mlp.up_proj.lora_B.weight"
                                     : "base_model.model.model.layers.0.mlp.gate_up_proj.lora_B.weight");
        REQUIRE(t);
        CHECK(t->shape[0] == (ai == 0 ? 96 : 192) && t->shape[1] == l->t[octo_lora_find(l, "blk.0.ffn_up.weight")].rank);
        CHECK(octo_st_find(st, "base_model.model.lm_head.lora_B.weight") != NULL);
        if (ai == 0) {
            /* llama q rows: GGUF row h*hd + 2i + j is HF row h*hd + j*hd/2 + i */
            const octo_st_tensor *qb = octo_st_find(st, "base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight");
            REQUIRE(qb && qb->shape[0] == 64);
            int q = octo_lora_find(l, "blk.0.attn_q.weight");
            float *hf = malloc(64 * 4 * sizeof(float));
            octo_st_read_f32(qb, hf);
            int bad = 0;
            for (int h = 0; h < 4; h++)
                for (int i = 0; i < 8; i++)
                    for (int j = 0; j < 2; j++)
                        bad += memcmp(hf + (h * 16 + j * 8 + i) * 4, l->t[q].b + (h * 16 + 2 * i + j) * 4, 16) != 0;
            CHECK(bad == 0);
            free(hf);
        }
        octo_st_close(st);
        /* back, with and without the base (the metadata carries arch and heads) */
        octo_lora *r = octo_lora_load(d, m);
        REQUIRE(r);
        CHECK(same_adapter(l, r));
        octo_lora_free(r);
        octo_peft_info none = {0};
        r = octo_peft_load(d, &none);
        REQUIRE(r);
        CHECK(same_adapter(l, r));
        float *x = run_logits(m, &l, NULL, 1), *y = run_logits(m, &r, NULL, 1);
        REQUIRE(x && y);
        CHECK(memcmp(x, y, (size_t)(N_PROMPT + 1) * m->hp.n_vocab * 4) == 0);
        free(x);
        free(y);
        octo_lora_free(r);
        octo_lora_free(l);
        octo_model_free(m);
    }
}

/* Unmerged application against the merged F32 model, per architecture. */
TEST(unmerged_equals_merged) {
    const char *arches[4] = {"llama", "phi3", "qwen2", "gemma"};
    for (int ai = 0; ai < 4; ai++) {
        const char *mp = tiny_model(arches[ai]);
        if (!mp) SKIP("../shared/fixtures/models/llama-spm-tiny.gguf is absent");
        octo_model *m = octo_model_load(mp);
        REQUIRE(m);
        octo_lora *l = random_adapter(m, 4, 8.0f, 0.15f);
        size_t nl = (size_t)(N_PROMPT + 1) * m->hp.n_vocab;
        float *base = run_logits(m, NULL, NULL, 0), *un = run_logits(m, &l, NULL, 1);
        REQUIRE(base && un);
        char out[64];
        snprintf(out, sizeof out, "merged-%s.gguf", arches[ai]);
        octo_merge_params p;
        octo_merge_defaults(&p);
        p.n_threads = ai % 2 + 1; /* the threaded merge and the serial one agree */
        REQUIRE(octo_lora_merge(mp, &l, 1, &p, tmp(out)) == 0);
        octo_model *mm = octo_model_load(tmp(out));
        REQUIRE(mm);
        float *merged = run_logits(mm, NULL, NULL, 0);
        REQUIRE(merged);
        double effect = max_diff(base, un, nl), err = max_diff(un, merged, nl);
        printf("    %s: the adapter moves the logits by up to %.3f; unmerged vs merged differ by %.2e\n", arches[ai],
               effect, err);
        CHECKF(effect > 0.05, "%s: the adapter moves the logits by only %g", arches[ai], effect);
        CHECKF(err < 1e-4 * (1 + effect) + 2e-5, "%s: unmerged vs merged differ by %g (adapter effect %g)", arches[ai],
               err, effect);
        free(base);
        free(un);
        free(merged);
        octo_model_free(mm);
        octo_lora_free(l);
        octo_model_free(m);
    }
}

TEST(scale_zero_and_two_adapters) {
    const char *mp = tiny_model("llama");
    if (!mp) SKIP("../shared/fixtures/models/llama-spm-tiny.gguf is absent");
    octo_model *m = octo_model_load(mp);
    REQUIRE(m);
    size_t nl = (size_t)(N_PROMPT + 1) * m->hp.n_vocab;
    octo_lora *ad[2] = {random_adapter(m, 4, 8.0f, 0.15f), random_adapter(m, 2, 0.0f, 0.1f)};
    float *base = run_logits(m, NULL, NULL, 0);
    float zero = 0.0f;
    float *z = run_logits(m, ad, &zero, 1);
    REQUIRE(base && z);
    CHECK(memcmp(base, z, nl * 4) == 0);
    free(z);
    /* two at once, scaled, against a merge with the same weights */
    float sc[2] = {0.5f, -1.5f};
    float *two = run_logits(m, ad, sc, 2);
    octo_merge_params p;
    octo_merge_defaults(&p);
    p.weights = sc;
    p.n_threads = 1;
    REQUIRE(octo_lora_merge(mp, ad, 2, &p, tmp("merged-two.gguf")) == 0);
    octo_model *mm = octo_model_load(tmp("merged-two.gguf"));
    REQUIRE(mm && two);
    float *merged = run_logits(mm, NULL, NULL, 0);
    double effect = max_diff(base, two, nl), err = max_diff(two, merged, nl);
    CHECKF(effect > 0.05 && err < 1e-4 * (1 + effect) + 2e-5, "effect %g, unmerged vs merged %g", effect, err);
    /* a merged file in Q8_0 loads and stays close */
    p.type = "Q8_0";
    REQUIRE(octo_lora_merge(mp, ad, 2, &p, tmp("merged-q8.gguf")) == 0);
    octo_model *mq = octo_model_load(tmp("merged-q8.gguf"));
    REQUIRE(mq);
    CHECK(mq->layers[0].wq.type == OCTO_TYPE_Q8_0);
    float *q8 = run_logits(mq, NULL, NULL, 0);
    CHECKF(max_diff(q8, merged, nl) < 0.1 * effect, "Q8_0 merge off by %g", max_diff(q8, merged, nl));
    /* alpha 0 means scale = the user scale, as in llama.cpp */
    CHECK(octo_lora_scale(ad[1], 0, 0.5f) == 0.5f && octo_lora_scale(ad[0], 0, 1.0f) == 2.0f);
    free(q8);
    octo_model_free(mq);
    free(merged);
    free(two);
    free(base);
    octo_model_free(mm);
    octo_lora_free(ad[0]);
    octo_lora_free(ad[1]);
    octo_model_free(m);
}

TEST(refuses_mismatches) {
    const char *mp = tiny_model("llama");
    if (!mp) SKIP("../shared/fixtures/models/llama-spm-tiny.gguf is absent");
    octo_model *m = octo_model_load(mp);
    REQUIRE(m);
    octo_ctx_params cp = {.n_ctx = 32, .n_threads = 1};
    octo_ctx *c = octo_ctx_new(m, &cp);
    REQUIRE(c);
    /* wrong shape */
    octo_lora *l = octo_lora_new("llama", 8);
    octo_lora_add(l, "blk.0.attn_q.weight", 64, 65, 2);
    CHECK(octo_ctx_set_adapters(c, &l, NULL, 1) == -1);
    CHECK(strstr(octo_last_error(), "blk.0.attn_q.weight") && strstr(octo_last_error(), "65"));
    REQUIRE(octo_lora_save_gguf(l, tmp("bad-shape.gguf")) == 0);
    CHECK(octo_lora_load(tmp("bad-shape.gguf"), m) == NULL);
    octo_lora_free(l);
    /* a tensor the model does not have */
    l = octo_lora_new("llama", 8);
    octo_lora_add(l, "blk.7.attn_q.weight", 64, 64, 2);
    CHECK(octo_ctx_set_adapters(c, &l, NULL, 1) == -1 && strstr(octo_last_error(), "blk.7"));
    octo_lora_free(l);
    /* the wrong architecture */
    l = octo_lora_new("qwen2", 8);
    octo_lora_add(l, "blk.0.attn_q.weight", 64, 64, 2);
    CHECK(octo_ctx_set_adapters(c, &l, NULL, 1) == -1 && strstr(octo_last_error(), "qwen2"));
    octo_merge_params p;
    octo_merge_defaults(&p);
    CHECK(octo_lora_merge(mp, &l, 1, &p, tmp("never.gguf")) == -1);
    FILE *f = fopen(tmp("never.gguf"), "rb");
    CHECK(f == NULL);
    if (f) fclose(f);
    octo_lora_free(l);
    /* a PEFT directory written for qwen2 (same shapes) is refused by a llama base */
    const char *qp = tiny_model("qwen2");
    octo_model *qm = octo_model_load(qp);
    REQUIRE(qm);
    l = random_adapter(qm, 2, 4, 0.1f);
    REQUIRE(octo_lora_save_peft(l, tmp("peft-qwen2"), qm, NULL) == 0);
    octo_lora_free(l);
    CHECK(octo_lora_load(tmp("peft-qwen2"), m) == NULL && strstr(octo_last_error(), "qwen2"));
    CHECK((l = octo_lora_load(tmp("peft-qwen2"), qm)) != NULL);
    octo_lora_free(l);
    octo_model_free(qm);
    /* phi3's fused layout does not fit llama */
    const char *pp = tiny_model("phi3");
    octo_model *phi = octo_model_load(pp);
    REQUIRE(phi);
    l = random_adapter(phi, 2, 4, 0.1f);
    free(l->arch);
    l->arch = NULL; /* even when the adapter does not name its architecture */
    CHECK(octo_ctx_set_adapters(c, &l, NULL, 1) == -1 && strstr(octo_last_error(), "attn_qkv"));
    octo_lora_free(l);
    octo_model_free(phi);
    octo_ctx_free(c);
    octo_model_free(m);
}

TEST(ties_dare_hand_cases) {
    /* trim: keep floor(0.5 * 6) = 3 by magnitude, ties by index */
    float x[6] = {0.1f, -5, 2, -2, 3, 0};
    octo_merge_trim(x, 6, 0.5f);
    float want[6] = {0, -5, 2, 0, 3, 0};
    CHECK(memcmp(x, want, sizeof x) == 0);
    /* elect + disjoint mean, weights (1, 0.5, 2):
     *   sums 1, -5, 4, 0.5 -> signs +, -, +, +
     *   j0: only 3 agrees -> 3;  j1: (-2 + 0.5*-4)/2 = -2;
     *   j2: (1 + 0.5*2 + 2*1)/3 = 4/3;  j3: 0.5*0.5/1 = 0.25 */
    float d1[4] = {3, -2, 1, 0}, d2[4] = {-1, -4, 2, 0.5f}, d3[4] = {-1, 1, 1, 0};
    const float *d[3] = {d1, d2, d3};
    float w[3] = {1, 0.5f, 2}, out[4];
    octo_merge_ties_combine(out, d, w, 3, 0, 4);
    CHECK_NEAR(out[0], 3, 1e-6);
    CHECK_NEAR(out[1], -2, 1e-6);
    CHECK_NEAR(out[2], 4.0 / 3, 1e-6);
    CHECK_NEAR(out[3], 0.25, 1e-6);
    /* dare: survivors are rescaled by 1/density, about density of them
     * survive, and the mask depends only on (seed, stream) */
    enum { N = 20000 };
    static float a[N], b[N], c[N];
    for (int i = 0; i < N; i++) a[i] = b[i] = c[i] = 1.5f;
    octo_merge_dare_drop(a, N, 0.3f, 42, 1);
    octo_merge_dare_drop(b, N, 0.3f, 42, 1);
    octo_merge_dare_drop(c, N, 0.3f, 43, 1);
    int kept = 0, bad = 0;
    for (int i = 0; i < N; i++) {
        kept += a[i] != 0;
        bad += a[i] != 0 && fabsf(a[i] - 5.0f) > 1e-6f;
    }
    CHECKF(fabs(kept / (double)N - 0.3) < 0.02, "kept %d of %d", kept, N);
    CHECK(bad == 0);
    CHECK(memcmp(a, b, sizeof a) == 0);
    CHECK(memcmp(a, c, sizeof a) != 0);
}

/* TIES and DARE on a model: the merged weight is the base plus the rule
 * applied to the dense task vectors. */
TEST(ties_dare_merge_model) {
    const char *mp = tiny_model("qwen2");
    if (!mp) SKIP("../shared/fixtures/models/llama-spm-tiny.gguf is absent");
    octo_model *m = octo_model_load(mp);
    REQUIRE(m);
    octo_lora *ad[2] = {random_adapter(m, 3, 6.0f, 0.2f), random_adapter(m, 2, 2.0f, 0.2f)};
    float wts[2] = {1.0f, 0.7f};
    for (int method = 1; method <= 2; method++) {
        octo_merge_params p;
        octo_merge_defaults(&p);
        p.method = method == 1 ? OCTO_MERGE_TIES : OCTO_MERGE_DARE;
        p.density = 0.4f;
        p.seed = 5;
        p.weights = wts;
        p.n_threads = method; /* one and two threads */
        const char *out = tmp(method == 1 ? "ties.gguf" : "dare.gguf");
        REQUIRE(octo_lora_merge(mp, ad, 2, &p, out) == 0);
        octo_model *mm = octo_model_load(out);
        REQUIRE(mm);
        const octo_weight *bw = octo_model_weight(m, "blk.1.ffn_down.weight"), *mw = octo_model_weight(mm, "blk.1.ffn_down.weight");
        int64_t R = bw->rows, C = bw->cols, N = R * C;
        float *dd[2], *exp = calloc((size_t)N, 4);
        for (int k = 0; k < 2; k++) {
            int ti = octo_lora_find(ad[k], "blk.1.ffn_down.weight");
            const octo_lora_tensor *t = &ad[k]->t[ti];
            float s = octo_lora_scale(ad[k], ti, 1.0f);
            dd[k] = calloc((size_t)N, 4);
            for (int64_t r = 0; r < R; r++)
                for (int64_t c = 0; c < C; c++) {
                    double acc = 0;
                    for (int q = 0; q < t->rank; q++) acc += (double)t->b[r * t->rank + q] * t->a[q * C + c];
                    dd[k][r * C + c] = (float)(s * acc);
                }
            if (method == 1) octo_merge_trim(dd[k], N, 0.4f);
        }
        if (method == 1) {
            octo_merge_ties_combine(exp, (const float *const *)dd, wts, 2, 0, N);
            int64_t nz = 0;
            for (int64_t i = 0; i < N; i++) nz += dd[0][i] != 0;
            CHECK(nz == (int64_t)(0.4 * N)); /* trimmed to density */
        } else {
            /* tensor index of blk.1.ffn_down in the file decides the stream: recover the mask from the output */
            int64_t kept = 0;
            for (int64_t i = 0; i < N; i++) {
                float base = ((const float *)bw->data)[i], got = ((const float *)mw->data)[i] - base;
                /* each element is one of {0, w0 d0, w1 d1, w0 d0 + w1 d1} / 0.4 */
                float c0 = wts[0] * dd[0][i] / 0.4f, c1 = wts[1] * dd[1][i] / 0.4f;
                float cand[4] = {0, c0, c1, c0 + c1};
                int ok = 0;
                for (int q = 0; q < 4; q++) ok |= fabsf(got - cand[q]) <= 1e-5f + 1e-4f * fabsf(cand[q]);
                kept += fabsf(got) > 0;
                exp[i] = ok ? got : NAN;
            }
            CHECKF(fabs(kept / (double)N - (1 - 0.6 * 0.6)) < 0.05, "dare kept %lld of %lld", (long long)kept, (long long)N);
        }
        int bad = 0;
        for (int64_t i = 0; i < N; i++) {
            float want = ((const float *)bw->data)[i] + exp[i];
            bad += !(fabsf(((const float *)mw->data)[i] - want) <= 1e-5f + 1e-5f * fabsf(want));
        }
        CHECKF(bad == 0, "%s: %d of %lld elements differ", method == 1 ? "ties" : "dare", bad, (long long)N);
        free(dd[0]);
        free(dd[1]);
        free(exp);
        octo_model_free(mm);
    }
    octo_lora_free(ad[0]);
    octo_lora_free(ad[1]);
    octo_model_free(m);
}

/* ---- hostile files ---- */

/* Copy into an exactly-sized heap block so ASan sees any overread. */
static octo_st_file *st_parse(const uint8_t *p, size_t n) {
    uint8_t *b = malloc(n ? n : 1);
    memcpy(b, p, n);
    octo_st_file *f = octo_st_open_buffer(b, n, "<test>");
    if (f)
        for (int i = 0; i < f->n; i++) { /* touch every byte the reader hands out */
            float *tmpf = malloc((size_t)(f->t[i].n_elements ? f->t[i].n_elements : 1) * sizeof(float));
            octo_st_read_f32(&f->t[i], tmpf);
            free(tmpf);
        }
    octo_st_close(f);
    free(b);
    return f;
}

static size_t make_st(uint8_t *buf, size_t cap, const char *header, size_t data_bytes) {
    size_t hl = strlen(header);
    if (8 + hl + data_bytes > cap) return 0;
    for (int i = 0; i < 8; i++) buf[i] = (uint8_t)(hl >> (8 * i));
    memcpy(buf + 8, header, hl);
    memset(buf + 8 + hl, 0x3f, data_bytes);
    return 8 + hl + data_bytes;
}

TEST(hostile_safetensors) {
    /* a valid file, written by the writer */
    float a[6] = {1, 2, 3, 4, 5, 6}, b[2] = {7, 8};
    octo_st_entry e[2] = {{.name = "x.lora_A.weight", .n_dims = 2, .shape = {2, 3}, .data = a},
                          {.name = "x.lora_B.weight", .n_dims = 2, .shape = {2, 1}, .data = b}};
    const char *k[1] = {"format"}, *v[1] = {"pt"};
    const char *path = tmp("t.safetensors");
    REQUIRE(octo_st_write(path, e, 2, k, v, 1) == 0);
    size_t n;
    uint8_t *good = (uint8_t *)octo_read_file(path, &n);
    REQUIRE(good);
    octo_st_file *f = octo_st_open(path);
    REQUIRE(f);
    CHECK(f->n == 2 && !strcmp(octo_st_meta(f, "format"), "pt"));
    const octo_st_tensor *t = octo_st_find(f, "x.lora_A.weight");
    REQUIRE(t);
    float r[6];
    octo_st_read_f32(t, r);
    CHECK(memcmp(r, a, sizeof a) == 0 && (8 + (good[0] | good[1] << 8)) % 8 == 0);
    octo_st_close(f);
    /* every truncation fails cleanly */
    int accepted = 0;
    for (size_t len = 0; len < n; len++) accepted += st_parse(good, len) != NULL;
    CHECK(accepted == 0);
    /* byte flips never crash (the result may parse or not) */
    uint8_t *mut = malloc(n);
    for (size_t i = 0; i < n; i++)
        for (int bit = 0; bit < 8; bit += 3) {
            memcpy(mut, good, n);
            mut[i] ^= (uint8_t)(1u << bit);
            st_parse(mut, n);
        }
    free(mut);
    free(good);
    /* crafted headers */
    static const struct {
        const char *header;
        size_t data;
    } bad[] = {
        {"{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 16]}}", 8},        /* past the end */
        {"{\"a\": {\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [0, 8]}}", 8},         /* span != shape */
        {"{\"a\": {\"dtype\": \"F32\", \"shape\": [-1], \"data_offsets\": [0, 4]}}", 8},        /* negative dim */
        {"{\"a\": {\"dtype\": \"F32\", \"shape\": [4611686018427387904, 4], \"data_offsets\": [0, 0]}}", 0},
        {"{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [8, 4]}}", 8},         /* begin > end */
        {"{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [1e300, 1e300]}}", 8},
        {"{\"a\": {\"dtype\": \"I8\", \"shape\": [1], \"data_offsets\": [0, 1]}}", 8},          /* dtype */
        {"{\"a\": {\"dtype\": \"F32\", \"shape\": [1]}}", 8},                                    /* no offsets */
        {"{\"a\": 5}", 0},
        {"[1, 2]", 0},
        {"{\"__metadata__\": {\"k\": 5}}", 0},
        {"{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}, "
         "\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [4, 8]}}", 8}, /* duplicate */
        {"{\"a\": {\"dtype\": \"F32\", \"shape\": [1,1,1,1,1,1,1,1,1], \"data_offsets\": [0, 4]}}", 8},
        {"{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]", 8}, /* cut JSON */
    };
    uint8_t buf[512];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t len = make_st(buf, sizeof buf, bad[i].header, bad[i].data);
        REQUIRE(len);
        CHECKF(st_parse(buf, len) == NULL, "case %zu accepted", i);
        CHECKF(strlen(octo_last_error()) > 0, "case %zu: no message", i);
    }
    /* header length beyond the file */
    memset(buf, 0, 16);
    buf[0] = 0xff;
    buf[7] = 0x7f;
    CHECK(st_parse(buf, 16) == NULL && strstr(octo_last_error(), "header length"));
}

TEST(hostile_adapter_gguf) {
    octo_lora *l = octo_lora_new("llama", 4);
    int i = octo_lora_add(l, "blk.0.attn_q.weight", 8, 16, 2);
    fill(l->t[i].a, 32, 1);
    fill(l->t[i].b, 16, 1);
    const char *path = tmp("h.gguf");
    REQUIRE(octo_lora_save_gguf(l, path) == 0);
    size_t n;
    uint8_t *good = (uint8_t *)octo_read_file(path, &n);
    REQUIRE(good);
    int accepted = 0;
    for (size_t len = 0; len < n; len++) {
        uint8_t *b = malloc(len ? len : 1); /* exactly sized: ASan sees any overread */
        memcpy(b, good, len);
        octo_lora *r = octo_lora_load_gguf_buffer(b, len, "<cut>");
        accepted += r != NULL;
        octo_lora_free(r);
        free(b);
    }
    CHECK(accepted == 0);
    /* and the whole file from a buffer reads back */
    octo_lora *whole = octo_lora_load_gguf_buffer(good, n, "<whole>");
    CHECK(whole && same_adapter(whole, l));
    octo_lora_free(whole);
    free(good);
    /* well-formed GGUF, wrong content */
    for (int c = 0; c < 6; c++) {
        gguf_writer *w = gguf_writer_new();
        gguf_set_str(w, "general.architecture", "llama");
        gguf_set_str(w, "general.type", c == 0 ? "model" : "adapter");
        gguf_set_str(w, "adapter.type", c == 1 ? "ia3" : "lora");
        gguf_set_f32(w, "adapter.lora.alpha", 4);
        int64_t ne_a[2] = {16, 2}, ne_b[2] = {c == 2 ? 3 : 2, 8}, ne3[3] = {16, 2, 1};
        static float z[64];
        if (c == 5) z[3] = NAN;
        if (c == 4) gguf_add_tensor(w, "blk.0.attn_q.weight.lora_a", OCTO_TYPE_F32, 3, ne3, z);
        else gguf_add_tensor(w, "blk.0.attn_q.weight.lora_a", OCTO_TYPE_F32, 2, ne_a, z);
        if (c != 3) gguf_add_tensor(w, "blk.0.attn_q.weight.lora_b", OCTO_TYPE_F32, 2, ne_b, z);
        REQUIRE(gguf_writer_write(w, path) == 0);
        gguf_writer_free(w);
        octo_lora *r = octo_lora_load(path, NULL);
        CHECKF(r == NULL, "case %d accepted", c);
        octo_lora_free(r);
        z[3] = 0;
    }
    octo_lora_free(l);
}

/* PEFT directories from elsewhere: rsLoRA folded into B, unsupported options refused. */
TEST(peft_config_options) {
    octo_lora *l = octo_lora_new("qwen2", 8);
    int i = octo_lora_add(l, "blk.0.attn_v.weight", 32, 64, 4);
    fill(l->t[i].a, 4 * 64, 1);
    fill(l->t[i].b, 32 * 4, 1);
    const char *d = tmp("peft-opts");
    REQUIRE(octo_peft_save(l, d, NULL, NULL, 0.05f) == 0);
    char cfg[600];
    snprintf(cfg, sizeof cfg, "%s/adapter_config.json", d);
    const char *cfgs[] = {
        "{\"peft_type\": \"LORA\", \"r\": 4, \"lora_alpha\": 8, \"use_rslora\": true}",
        "{\"peft_type\": \"LORA\", \"r\": 4, \"lora_alpha\": 8, \"use_dora\": true}",
        "{\"peft_type\": \"LORA\", \"r\": 4, \"lora_alpha\": 8, \"bias\": \"all\"}",
        "{\"peft_type\": \"PREFIX_TUNING\", \"r\": 4, \"lora_alpha\": 8}",
        "{\"peft_type\": \"LORA\", \"r\": 4}",
        "not json",
    };
    for (int c = 0; c < 6; c++) {
        REQUIRE(octo_write_file_atomic(cfg, cfgs[c], strlen(cfgs[c])) == 0);
        octo_lora *r = octo_peft_load(d, NULL);
        if (c == 0) {
            REQUIRE(r);
            /* alpha/sqrt(r) = 4 = octo's alpha/r (2) times sqrt(r) (2) folded into B */
            CHECK(r->t[0].b[5] == l->t[i].b[5] * 2.0f && octo_lora_scale(r, 0, 1) == 2.0f);
        } else {
            CHECKF(r == NULL, "config %d accepted", c);
        }
        octo_lora_free(r);
    }
    octo_lora_free(l);
}

int main(void) {
    RUN(gguf_round_trip);
    RUN(gguf_reads_f16_q8_0);
    RUN(peft_round_trip);
    RUN(unmerged_equals_merged);
    RUN(scale_zero_and_two_adapters);
    RUN(refuses_mismatches);
    RUN(ties_dare_hand_cases);
    RUN(ties_dare_merge_model);
    RUN(hostile_safetensors);
    RUN(hostile_adapter_gguf);
    RUN(peft_config_options);
    return t_finish();
}
