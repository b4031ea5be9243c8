/* test_train_grad.c - every layer's backward against finite differences,
 * then whole models (llama, phi3, qwen2, gemma layouts; full fine-tuning
 * and LoRA) the same way, then the frozen-quantized LoRA path and the saved
 * model against the inference engine.
 *
 * Each check takes a scalar L = sum(out * R) for a fixed random R, runs
 * the backward with dout = R, and compares each analytic derivative with
 * (L(x + e) - L(x - e)) / 2e computed in F32 with L summed in double;
 * tolerance |num - ana| <= 2e-3 + 2e-2 |num| (the error of a central
 * difference in F32 at e = 3e-3 on O(1) values is ~1e-4).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/stat.h>

#include "base/error.h"
#include "tensor/ops.h"
#include "testlib.h"
#include "train/layers.h"
#include "train_fixture.h"

static const tl_ctx C1 = {NULL, 0, 1};
static char g_dir[256];

static uint64_t g_rng = 42;
static void fill(float *x, int64_t n, double a) {
    for (int64_t i = 0; i < n; i++) x[i] = (float)((2 * tf_urand(&g_rng) - 1) * a);
}
static double dot_d(const float *a, const float *b, int64_t n) {
    double s = 0;
    for (int64_t i = 0; i < n; i++) s += (double)a[i] * b[i];
    return s;
}

typedef double (*loss_fn)(void *ctx);

/* Compare g (analytic dL/dx) with central differences on every element of
 * x (or every step-th for large ones). Returns the number of mismatches. */
static int fd_check_n(const char *what, float *x, int64_t n, const float *g, loss_fn f, void *ctx, int64_t samples) {
    const float eps = 3e-3f;
    int bad = 0;
    int64_t step = n > 2 * samples ? n / samples : 1;
    double worst = 0;
    for (int64_t i = 0; i < n; i += step) {
        float old = x[i];
        x[i] = old + eps;
        double lp = f(ctx);
        x[i] = old - eps;
        double lm = f(ctx);
        x[i] = old;
        double num = (lp - lm) / (2.0 * eps);
        double err = fabs(num - g[i]), tol = 2e-3 + 2e-2 * fabs(num);
        if (err / tol > worst) worst = err / tol;
        if (err > tol) {
            if (bad < 3) fprintf(stderr, "    %s[%lld]: analytic %.6g, numeric %.6g\n", what, (long long)i, g[i], num);
            bad++;
        }
    }
    CHECKF(bad == 0, "%s: %d of %lld derivatives off (worst err/tol %.2f)", what, bad, (long long)n, worst);
    return bad;
}
static int fd_check(const char *what, float *x, int64_t n, const float *g, loss_fn f, void *ctx) {
    return fd_check_n(what, x, n, g, f, ctx, 200);
}

/* ---- embedding ---- */
typedef struct {
    float E[10 * 6], out[7 * 6], R[7 * 6];
    int32_t tok[7];
} emb_t;
static double emb_loss(void *p) {
    emb_t *e = p;
    tl_embedding_forward(&C1, e->out, e->tok, e->E, 7, 6, 1.7f);
    return dot_d(e->out, e->R, 7 * 6);
}
TEST(embedding) {
    static emb_t e;
    int32_t tok[7] = {3, 1, 3, 9, 0, 3, 1};
    memcpy(e.tok, tok, sizeof tok);
    fill(e.E, 60, 1);
    fill(e.R, 42, 1);
    float dE[60] = {0};
    tl_embedding_backward(&C1, dE, e.R, e.tok, 7, 6, 1.7f);
    fd_check("dE", e.E, 60, dE, emb_loss, &e);
}

/* ---- rmsnorm ---- */
typedef struct {
    float x[5 * 12], w[12], y[5 * 12], rstd[5], R[5 * 12];
} rms_t;
static double rms_loss(void *p) {
    rms_t *r = p;
    tl_rmsnorm_forward(&C1, r->y, r->rstd, r->x, r->w, 5, 12, 1e-5f);
    return dot_d(r->y, r->R, 60);
}
TEST(rmsnorm) {
    static rms_t r;
    fill(r.x, 60, 2);
    fill(r.w, 12, 1.5);
    fill(r.R, 60, 1);
    rms_loss(&r);
    float dx[60], dw[12] = {0};
    for (int i = 0; i < 60; i++) dx[i] = 0.25f; /* backward adds to dx */
    tl_rmsnorm_backward(&C1, dx, dw, r.R, r.x, r.w, r.rstd, 5, 12);
    for (int i = 0; i < 60; i++) dx[i] -= 0.25f;
    fd_check("dx", r.x, 60, dx, rms_loss, &r);
    fd_check("dw", r.w, 12, dw, rms_loss, &r);
}

/* ---- linear (strided x and y, bias) ---- */
enum { LN = 14, LIN = 20, LOUT = 35, LDX = 23, LDY = 38 };
typedef struct {
    float x[LN * LDX], W[LOUT * LIN], b[LOUT], y[LN * LDY], R[LN * LDY];
} lin_t;
static double lin_loss(void *p) {
    lin_t *l = p;
    tl_linear_forward(&C1, l->y, LDY, l->x, LDX, l->W, l->b, LN, LIN, LOUT);
    double s = 0;
    for (int n = 0; n < LN; n++) s += dot_d(l->y + n * LDY, l->R + n * LDY, LOUT);
    return s;
}
TEST(linear) {
    static lin_t l;
    fill(l.x, LN * LDX, 1);
    fill(l.W, LOUT * LIN, 0.5);
    fill(l.b, LOUT, 1);
    fill(l.R, LN * LDY, 1);
    static float dx[LN * LDX], dW[LOUT * LIN], db[LOUT];
    memset(dx, 0, sizeof dx);
    memset(dW, 0, sizeof dW);
    memset(db, 0, sizeof db);
    tl_linear_backward(&C1, dx, LDX, dW, db, l.R, LDY, l.x, LDX, l.W, LN, LIN, LOUT);
    /* the padding columns of x are not inputs: their gradient must stay 0 */
    for (int n = 0; n < LN; n++)
        for (int j = LIN; j < LDX; j++) CHECK(dx[n * LDX + j] == 0.0f);
    fd_check("dx", l.x, LN * LDX, dx, lin_loss, &l);
    fd_check("dW", l.W, LOUT * LIN, dW, lin_loss, &l);
    fd_check("db", l.b, LOUT, db, lin_loss, &l);
}

/* ---- rope ---- */
typedef struct {
    float x[4 * 20], y[4 * 20], R[4 * 20], cs[4 * 6];
    int neox;
} rope_t;
static double rope_loss(void *p) {
    rope_t *r = p;
    memcpy(r->y, r->x, sizeof r->x);
    tl_rope_forward(&C1, r->y, 20, 4, 2, 8, 6, r->neox, r->cs);
    return dot_d(r->y, r->R, 80);
}
TEST(rope) {
    for (int neox = 0; neox < 2; neox++) {
        static rope_t r;
        r.neox = neox;
        int32_t pos[4] = {0, 5, 1, 17};
        tl_rope_angles(&C1, r.cs, pos, 4, 6, 10000.0f, 0.5f);
        fill(r.x, 80, 1);
        fill(r.R, 80, 1);
        float d[80];
        memcpy(d, r.R, sizeof d);
        tl_rope_backward(&C1, d, 20, 4, 2, 8, 6, neox, r.cs);
        /* columns 16..19 are outside the two heads: untouched */
        for (int n = 0; n < 4; n++)
            for (int j = 16; j < 20; j++) CHECK(d[n * 20 + j] == r.R[n * 20 + j]);
        fd_check(neox ? "dx (neox)" : "dx (adjacent)", r.x, 80, d, rope_loss, &r);
    }
    /* angles as the inference engine forms them: pair k at pos p turns by p * base^(-2k/n_rot) * freq_scale */
    float cs[6];
    int32_t p7 = 7;
    tl_rope_angles(&C1, cs, &p7, 1, 6, 10000.0f, 1.0f);
    CHECK_NEAR(cs[1], cosf(7.0f * powf(10000.0f, -2.0f / 6)), 1e-5);
    CHECK_NEAR(cs[3 + 2], sinf(7.0f * powf(10000.0f, -4.0f / 6)), 1e-5);
}

/* ---- attention ---- */
/* T = 64 crosses the row blocks (and the blocks skipped above the diagonal) */
enum { AB = 2, ATMAX = 64, AH = 4, AKV = 2, AHD = 4, AQKV = AH * AHD + 2 * AKV * AHD, AOUT = AH * AHD };
typedef struct {
    float qkv[AB * ATMAX * AQKV], out[AB * ATMAX * AOUT], lse[AB * AH * ATMAX], R[AB * ATMAX * AOUT];
    float scratch[2 * TL_ATT_BLOCK * ATMAX];
    int32_t pos[AB * ATMAX], seg[AB * ATMAX];
    tl_attn_shape s;
} att_t;
static double att_loss(void *p) {
    att_t *a = p;
    tl_attention_forward(&C1, a->out, a->lse, a->qkv, a->pos, a->seg, &a->s, a->scratch);
    return dot_d(a->out, a->R, AB * a->s.T * AOUT);
}
TEST(attention) {
    static att_t a;
    static float d[AB * ATMAX * AQKV];
    const int Ts[2] = {6, 64};
    const int v_off = AH * AHD + AKV * AHD;
    for (int ti = 0; ti < 2; ti++)
        for (int swa = 0; swa <= 3; swa += 3) {
            int T = Ts[ti];
            /* row 0: one sequence; row 1: two packed segments, the second of 2 tokens */
            for (int t = 0; t < T; t++) {
                a.seg[t] = 0;
                a.pos[t] = t;
                a.seg[T + t] = t >= T - 2;
                a.pos[T + t] = t >= T - 2 ? t - (T - 2) : t;
            }
            a.s = (tl_attn_shape){.B = AB, .T = T, .n_head = AH, .n_head_kv = AKV, .head_dim = AHD,
                                  .head_dim_v = AHD, .n_swa = swa, .scale = 0.5f};
            fill(a.qkv, AB * T * AQKV, 1.5);
            fill(a.R, AB * T * AOUT, 1);
            att_loss(&a);
            /* the mask: the first token of row 1's second segment sees only itself,
             * so its output (head 0, kv head 0) is its own v */
            const float *o = a.out + (size_t)(T + T - 2) * AOUT, *v = a.qkv + (size_t)(T + T - 2) * AQKV + v_off;
            for (int e = 0; e < AHD; e++) CHECK_NEAR(o[e], v[e], 1e-6);
            if (swa) {
                /* token 5 of row 0 sees tokens 3..5 only: token 2's v does not reach it */
                float keep[AB * ATMAX * AOUT];
                memcpy(keep, a.out, sizeof keep);
                a.qkv[(size_t)2 * AQKV + v_off] += 1.0f;
                att_loss(&a);
                CHECK(a.out[(size_t)5 * AOUT] == keep[(size_t)5 * AOUT]);
                CHECK(a.out[(size_t)4 * AOUT] != keep[(size_t)4 * AOUT]);
                a.qkv[(size_t)2 * AQKV + v_off] -= 1.0f;
                att_loss(&a);
            }
            tl_attention_backward(&C1, d, a.R, a.lse, a.qkv, a.pos, a.seg, &a.s, a.scratch);
            char what[64];
            snprintf(what, sizeof what, "dqkv (T %d, window %d)", T, swa);
            fd_check_n(what, a.qkv, AB * T * AQKV, d, att_loss, &a, T > 8 ? 80 : 200);
        }
}

/* ---- gated MLPs ---- */
typedef struct {
    float gu[5 * 2 * 9], h[5 * 9], R[5 * 9];
    int gelu;
} mlp_t;
static double mlp_loss(void *p) {
    mlp_t *m = p;
    if (m->gelu) tl_geglu_forward(&C1, m->h, m->gu, 5, 9);
    else tl_swiglu_forward(&C1, m->h, m->gu, 5, 9);
    return dot_d(m->h, m->R, 45);
}
TEST(swiglu_geglu) {
    for (int gelu = 0; gelu < 2; gelu++) {
        static mlp_t m;
        m.gelu = gelu;
        fill(m.gu, 90, 3);
        fill(m.R, 45, 1);
        float d[90];
        if (gelu) tl_geglu_backward(&C1, d, m.R, m.gu, 5, 9);
        else tl_swiglu_backward(&C1, d, m.R, m.gu, 5, 9);
        fd_check(gelu ? "dgu (GeGLU)" : "dgu (SwiGLU)", m.gu, 90, d, mlp_loss, &m);
    }
    /* GELU is the tanh approximation: gelu(1) = 0.841192 */
    float gu[2] = {1.0f, 1.0f}, h;
    tl_geglu_forward(&C1, &h, gu, 1, 1);
    CHECK_NEAR(h, 0.8411920, 1e-6);
}

/* ---- cross-entropy ---- */
typedef struct {
    float logits[6 * 11], losses[6], lse[6], scratch[11];
    int32_t t[6];
} ce_t;
static double ce_loss(void *p) {
    ce_t *c = p;
    tl_crossentropy_forward(&C1, c->losses, c->lse, c->logits, c->t, 6, 11, c->scratch);
    double s = 0;
    for (int i = 0; i < 6; i++) s += c->losses[i];
    return s * 0.37;
}
TEST(cross_entropy) {
    static ce_t c;
    int32_t t[6] = {3, -1, 0, 10, -1, 3};
    memcpy(c.t, t, sizeof t);
    fill(c.logits, 66, 4);
    ce_loss(&c);
    CHECK(c.losses[1] == 0.0f && c.losses[4] == 0.0f);
    /* loss of a uniform row is log V */
    float u[11] = {0}, l, z;
    int32_t t0 = 5;
    tl_crossentropy_forward(&C1, &l, &z, u, &t0, 1, 11, c.scratch);
    CHECK_NEAR(l, log(11.0), 1e-6);
    float d[66];
    tl_crossentropy_backward(&C1, d, c.logits, c.lse, c.t, 6, 11, 0.37f);
    for (int j = 0; j < 11; j++) CHECK(d[11 + j] == 0.0f);
    fd_check("dlogits", c.logits, 66, d, ce_loss, &c);
}

/* ---- whole models ---- */

typedef struct {
    octo_train_model *tm;
    const octo_batch *b;
    int dropout;
} model_ctx;
/* With LoRA dropout, the loss of a training step with the mask of step 0
 * (scale 0: it adds nothing to the gradients). */
static double model_loss(void *p) {
    model_ctx *m = p;
    if (!m->dropout) return octo_tm_loss(m->tm, m->b);
    octo_tm_set_micro_steps(m->tm, 0);
    return octo_tm_step(m->tm, m->b, 0.0f);
}

/* Gradient of every parameter tensor of tm on a few elements each. */
static void check_model(octo_train_model *tm, const octo_batch *b, const char *label, int dropout) {
    octo_tm_zero_grad(tm);
    octo_tm_set_micro_steps(tm, 0);
    float loss = octo_tm_step(tm, b, 1.0f);
    CHECKF(loss > 0 && isfinite(loss), "%s: loss %g", label, loss);
    /* a second step ADDS the same gradients */
    int np = octo_tm_n_params(tm);
    float **g1 = calloc((size_t)np, sizeof(float *));
    for (int i = 0; i < np; i++) {
        octo_param *p = octo_tm_param(tm, i);
        g1[i] = malloc((size_t)p->n * sizeof(float));
        memcpy(g1[i], p->grad, (size_t)p->n * sizeof(float));
    }
    octo_tm_set_micro_steps(tm, 0);
    float loss2 = octo_tm_step(tm, b, 0.5f);
    CHECK(loss2 == loss);
    int accum_ok = 1;
    for (int i = 0; i < np; i++) {
        octo_param *p = octo_tm_param(tm, i);
        for (int64_t j = 0; j < p->n; j++) {
            float want = g1[i][j] * 1.5f;
            if (fabsf(p->grad[j] - want) > 1e-5f * (1 + fabsf(want))) accum_ok = 0;
            p->grad[j] = g1[i][j];
        }
    }
    CHECKF(accum_ok, "%s: gradients do not accumulate over steps with their scale", label);
    model_ctx mc = {tm, b, dropout};
    uint64_t s = 99;
    for (int i = 0; i < np; i++) {
        octo_param *p = octo_tm_param(tm, i);
        /* a few random elements and the largest derivative */
        int64_t idx[5];
        int64_t amax = 0;
        for (int64_t j = 1; j < p->n; j++)
            if (fabsf(p->grad[j]) > fabsf(p->grad[amax])) amax = j;
        idx[0] = amax;
        for (int k = 1; k < 5; k++) idx[k] = (int64_t)(tf_urand(&s) * (double)p->n);
        for (int k = 0; k < 5; k++) {
            char what[300];
            snprintf(what, sizeof what, "%s %s", label, p->name);
            float ana = p->grad[idx[k]];
            fd_check(what, p->data + idx[k], 1, &ana, model_loss, &mc);
        }
    }
    for (int i = 0; i < np; i++) free(g1[i]);
    free(g1);
}

static void model_case(const char *arch, int n_head_kv, int lora, const char *targets, float dropout) {
    char path[512], label[128];
    snprintf(label, sizeof label, "%s %s%s", arch, lora ? "LoRA" : "full", dropout > 0 ? " dropout" : "");
    /* phi3: n_ctx 4 makes a sliding window of 4 tokens, shorter than the rows */
    octo_model *m = tf_model(g_dir, arch, 16, 4, n_head_kv, 24, 2, strcmp(arch, "phi3") == 0 ? 4 : 64, 7, path,
                             sizeof path);
    REQUIRE(m);
    /* one thread: hundreds of tiny passes, where barriers would cost more than the math */
    octo_train_config cfg = {.full = !lora, .lora_rank = 3, .lora_alpha = 6, .lora_targets = targets,
                             .lora_dropout = dropout, .n_threads = 1, .seed = 5, .max_T = 12, .max_B = 2};
    octo_train_model *tm = octo_tm_new(m, &cfg);
    REQUIRE(tm);
    if (lora) {
        /* LoRA parameters only: 2 per adapted linear */
        for (int i = 0; i < octo_tm_n_params(tm); i++) CHECK(strstr(octo_tm_param(tm, i)->name, ".lora_") != NULL);
    }
    tf_randomize(tm, 3, lora ? 0.5 : 0.35);
    tf_batch tb;
    tf_make_batch(&tb, 2, 12, m->hp.n_vocab, 11);
    check_model(tm, &tb.b, label, dropout > 0);
    octo_tm_free(tm);
    octo_model_free(m);
}

TEST(model_llama_full) { model_case("llama", 2, 0, NULL, 0); }
TEST(model_phi3_full) { model_case("phi3", 4, 0, NULL, 0); }
TEST(model_qwen2_full) { model_case("qwen2", 2, 0, NULL, 0); }
TEST(model_gemma_full) { model_case("gemma", 1, 0, NULL, 0); }
TEST(model_llama_lora) { model_case("llama", 2, 1, "all-linear", 0); }
TEST(model_phi3_lora) { model_case("phi3", 4, 1, "all-linear", 0); }
TEST(model_qwen2_lora_subset) { model_case("qwen2", 2, 1, "q,v,down", 0); }
TEST(model_gemma_lora_dropout) { model_case("gemma", 1, 1, "all-linear", 0.25f); }
TEST(model_phi3_lora_dropout) { model_case("phi3", 4, 1, "qkv,down", 0.25f); }

TEST(lora_targets_and_init) {
    char path[512];
    octo_model *m = tf_model(g_dir, "llama", 16, 4, 2, 24, 2, 64, 7, path, sizeof path);
    REQUIRE(m);
    octo_train_config cfg = {.lora_rank = 4, .lora_alpha = 8, .lora_targets = "q,v", .n_threads = 1, .seed = 1,
                             .max_T = 8, .max_B = 1};
    octo_train_model *tm = octo_tm_new(m, &cfg);
    REQUIRE(tm);
    CHECK(octo_tm_n_params(tm) == 2 * 2 * 2);
    octo_param *a = octo_tm_param(tm, 0), *b = octo_tm_param(tm, 1);
    CHECK(strcmp(a->name, "blk.0.attn_q.weight.lora_a") == 0 && a->rows == 4 && a->cols == 16);
    CHECK(strcmp(b->name, "blk.0.attn_q.weight.lora_b") == 0 && b->rows == 16 && b->cols == 4);
    /* A ~ U(-1/sqrt(in), 1/sqrt(in)) as PEFT's kaiming_uniform_(a=sqrt(5)); B = 0 */
    float mx = 0;
    for (int64_t i = 0; i < a->n; i++) mx = fmaxf(mx, fabsf(a->data[i]));
    CHECK(mx <= 0.25f && mx > 0.15f);
    for (int64_t i = 0; i < b->n; i++) CHECK(b->data[i] == 0.0f);
    /* export, import into a fresh model: same parameters */
    for (int64_t i = 0; i < b->n; i++) b->data[i] = 0.01f * (float)i;
    octo_lora *l = octo_tm_export_lora(tm);
    REQUIRE(l);
    CHECK(l->n == 4 && l->rank == 4 && l->alpha == 8.0f && strcmp(l->arch, "llama") == 0);
    octo_train_model *tm2 = octo_tm_new(m, &cfg);
    REQUIRE(tm2);
    CHECK(octo_tm_import_lora(tm2, l) == 0);
    CHECK(memcmp(octo_tm_param(tm2, 1)->data, b->data, (size_t)b->n * 4) == 0);
    CHECK(memcmp(octo_tm_param(tm2, 0)->data, a->data, (size_t)a->n * 4) == 0);
    octo_tm_free(tm2);
    /* an adapter with other targets is refused */
    cfg.lora_targets = "q";
    tm2 = octo_tm_new(m, &cfg);
    REQUIRE(tm2);
    CHECK(octo_tm_import_lora(tm2, l) == -1);
    octo_tm_free(tm2);
    cfg.lora_targets = "q,x";
    CHECK(octo_tm_new(m, &cfg) == NULL);
    CHECK(strstr(octo_last_error(), "\"x\"") != NULL);
    octo_lora_free(l);
    octo_tm_free(tm);
    octo_model_free(m);
}

/* LoRA over a quantized base computes with the dequantized weights: the
 * same logits as full fine-tuning's F32 copy of that base. */
TEST(lora_quantized_base) {
    char path[512], qpath[600];
    octo_model *m = tf_model(g_dir, "llama", 64, 4, 2, 96, 2, 64, 9, path, sizeof path);
    REQUIRE(m);
    octo_model_free(m);
    const char *types[] = {"Q8_0", "Q4_0", "F16"};
    for (int k = 0; k < 3; k++) {
        snprintf(qpath, sizeof qpath, "%s/q-%s.gguf", g_dir, types[k]);
        REQUIRE(octo_quantize_file(path, qpath, types[k], 1) == 0);
        octo_model *q = octo_model_load(qpath);
        REQUIRE(q);
        octo_train_config full = {.full = true, .n_threads = 1, .max_T = 12, .max_B = 2};
        octo_train_config lora = {.lora_rank = 4, .lora_alpha = 4, .n_threads = 1, .seed = 3, .max_T = 12,
                                  .max_B = 2};
        octo_train_model *a = octo_tm_new(q, &full), *b = octo_tm_new(q, &lora);
        REQUIRE(a && b);
        tf_batch tb;
        tf_make_batch(&tb, 2, 12, q->hp.n_vocab, 4);
        float la = octo_tm_loss(a, &tb.b), lb = octo_tm_loss(b, &tb.b);
        CHECKF(la == lb, "%s: loss %.9g (full) vs %.9g (LoRA, B = 0)", types[k], la, lb);
        const float *xa = octo_tm_logits(a), *xb = octo_tm_logits(b);
        double md = 0;
        for (int i = 0; i < 24 * q->hp.n_vocab; i++) md = fmax(md, fabs(xa[i] - xb[i]));
        CHECKF(md == 0, "%s: logits differ by %g", types[k], md);
        /* and it trains: one step's gradient reaches B */
        CHECK(octo_tm_step(b, &tb.b, 1.0f) > 0);
        octo_param *pb = octo_tm_param(b, 1);
        double gn = 0;
        for (int64_t i = 0; i < pb->n; i++) gn += fabs(pb->grad[i]);
        CHECK(gn > 0);
        octo_tm_free(a);
        octo_tm_free(b);
        octo_model_free(q);
    }
}

/* The saved model, loaded by the inference engine, gives the logits the
 * training forward computed (to the rounding of its F16 KV cache). */
static void saved_model_case(const char *arch) {
    char path[512], out[600];
    octo_model *m = tf_model(g_dir, arch, 32, 4, strcmp(arch, "gemma") == 0 ? 1 : 2, 48, 2, 64, 21, path,
                             sizeof path);
    REQUIRE(m);
    octo_train_config cfg = {.full = true, .n_threads = 2, .max_T = 16, .max_B = 1};
    octo_train_model *tm = octo_tm_new(m, &cfg);
    REQUIRE(tm);
    tf_randomize(tm, 8, 0.2);
    snprintf(out, sizeof out, "%s/saved-%s.gguf", g_dir, arch);
    REQUIRE(octo_tm_save_model(tm, out) == 0);
    int32_t tok[16], tgt[16], pos[16], seg[16];
    for (int i = 0; i < 16; i++) {
        tok[i] = 3 + (i * 7) % 40;
        tgt[i] = i + 1 < 16 ? 3 + ((i + 1) * 7) % 40 : -1;
        pos[i] = i;
        seg[i] = 0;
    }
    octo_batch b = {.B = 1, .T = 16, .tokens = tok, .targets = tgt, .pos = pos, .seg = seg, .n_loss_tokens = 15};
    REQUIRE(octo_tm_loss(tm, &b) > 0);
    const float *lt = octo_tm_logits(tm);
    octo_model *m2 = octo_model_load(out);
    REQUIRE(m2);
    CHECK(m2->hp.arch == m->hp.arch && m2->hp.n_layer == 2 && m2->hp.n_vocab == m->hp.n_vocab);
    CHECK(m2->hp.tied_output == m->hp.tied_output);
    octo_ctx_params cp = {.n_ctx = 32, .n_batch = 16, .n_threads = 1};
    octo_ctx *c = octo_ctx_new(m2, &cp);
    REQUIRE(c);
    REQUIRE(octo_ctx_decode(c, tok, 16, true) == 0);
    double md = 0, mx = 0;
    for (int i = 0; i < 16; i++) {
        const float *li = octo_ctx_logits(c, i);
        for (int j = 0; j < m->hp.n_vocab; j++) {
            md = fmax(md, fabs(li[j] - lt[i * m->hp.n_vocab + j]));
            mx = fmax(mx, fabs(lt[i * m->hp.n_vocab + j]));
        }
    }
    CHECKF(md <= 2e-3 * mx + 1e-4, "%s: inference logits differ from training logits by %g (max |logit| %g)", arch,
           md, mx);
    octo_ctx_free(c);
    octo_model_free(m2);
    octo_tm_free(tm);
    octo_model_free(m);
}
TEST(saved_model_llama) { saved_model_case("llama"); }
TEST(saved_model_phi3) { saved_model_case("phi3"); }
TEST(saved_model_qwen2) { saved_model_case("qwen2"); }
TEST(saved_model_gemma) { saved_model_case("gemma"); }

/* The exported adapter, applied unmerged by the inference engine, gives the
 * logits the training forward computed with it (same scale convention). */
static void exported_lora_case(const char *arch) {
    char path[512];
    octo_model *m = tf_model(g_dir, arch, 32, 4, 2, 48, 2, 64, 23, path, sizeof path);
    REQUIRE(m);
    octo_train_config cfg = {.lora_rank = 4, .lora_alpha = 12, .lora_targets = "all-linear", .n_threads = 2,
                             .seed = 4, .max_T = 16, .max_B = 1};
    octo_train_model *tm = octo_tm_new(m, &cfg);
    REQUIRE(tm);
    tf_randomize(tm, 12, 0.3);
    int32_t tok[16], tgt[16], pos[16], seg[16];
    for (int i = 0; i < 16; i++) {
        tok[i] = 3 + (i * 5) % 40;
        tgt[i] = i + 1 < 16 ? 3 + ((i + 1) * 5) % 40 : -1;
        pos[i] = i;
        seg[i] = 0;
    }
    octo_batch b = {.B = 1, .T = 16, .tokens = tok, .targets = tgt, .pos = pos, .seg = seg, .n_loss_tokens = 15};
    REQUIRE(octo_tm_loss(tm, &b) > 0);
    const float *lt = octo_tm_logits(tm);
    octo_lora *l = octo_tm_export_lora(tm);
    REQUIRE(l);
    octo_ctx_params cp = {.n_ctx = 32, .n_batch = 16, .n_threads = 1};
    octo_ctx *c = octo_ctx_new(m, &cp);
    REQUIRE(c);
    REQUIRE(octo_ctx_set_adapters(c, &l, NULL, 1) == 0);
    REQUIRE(octo_ctx_decode(c, tok, 16, true) == 0);
    double md = 0, mx = 0;
    for (int i = 0; i < 16; i++) {
        const float *li = octo_ctx_logits(c, i);
        for (int j = 0; j < m->hp.n_vocab; j++) {
            md = fmax(md, fabs(li[j] - lt[i * m->hp.n_vocab + j]));
            mx = fmax(mx, fabs(lt[i * m->hp.n_vocab + j]));
        }
    }
    CHECKF(md <= 2e-3 * mx + 1e-4, "%s: logits with the adapter differ from training's by %g (max |logit| %g)", arch,
           md, mx);
    octo_ctx_free(c);
    octo_lora_free(l);
    octo_tm_free(tm);
    octo_model_free(m);
}
TEST(exported_lora_llama) { exported_lora_case("llama"); }
TEST(exported_lora_phi3) { exported_lora_case("phi3"); }

/* Same seed and thread count: bit-identical gradients; dropout masks are
 * redrawn each step but reproducible. */
TEST(determinism_and_dropout) {
    char path[512];
    octo_model *m = tf_model(g_dir, "llama", 32, 4, 2, 48, 2, 64, 3, path, sizeof path);
    REQUIRE(m);
    octo_train_config cfg = {.lora_rank = 4, .lora_alpha = 8, .lora_dropout = 0.3f, .n_threads = 2, .seed = 17,
                             .max_T = 16, .max_B = 2};
    float losses[2][3];
    float *grads[2];
    for (int run = 0; run < 2; run++) {
        octo_train_model *tm = octo_tm_new(m, &cfg);
        REQUIRE(tm);
        tf_randomize(tm, 1, 0.3);
        tf_batch tb;
        tf_make_batch(&tb, 2, 16, m->hp.n_vocab, 2);
        for (int s = 0; s < 3; s++) losses[run][s] = octo_tm_step(tm, &tb.b, 1.0f);
        octo_param *p = octo_tm_param(tm, 0);
        grads[run] = malloc((size_t)p->n * 4);
        memcpy(grads[run], p->grad, (size_t)p->n * 4);
        if (run == 0) {
            /* without dropout (eval), the loss differs from the dropped-out steps */
            float ev = octo_tm_loss(tm, &tb.b);
            CHECK(ev != losses[0][0] && losses[0][0] != losses[0][1]);
        }
        octo_tm_free(tm);
    }
    CHECK(memcmp(losses[0], losses[1], sizeof losses[0]) == 0);
    CHECK(memcmp(grads[0], grads[1], (size_t)4 * 4 * 32) == 0);
    free(grads[0]);
    free(grads[1]);
    octo_model_free(m);
}

/* Every output element is summed by one thread in a fixed order, so the
 * thread count does not change a single bit (this also catches a missing
 * barrier, which would let a thread read a half-written buffer). */
static void threads_case(const char *arch, int lora) {
    char path[512];
    octo_model *m = tf_model(g_dir, arch, 32, 4, 2, 48, 2, 64, 4, path, sizeof path);
    REQUIRE(m);
    float *g[2] = {NULL, NULL};
    float loss[2];
    int64_t total = 0;
    for (int k = 0; k < 2; k++) {
        octo_train_config cfg = {.full = !lora, .lora_rank = 4, .lora_alpha = 8, .n_threads = k ? 2 : 1,
                                 .seed = 2, .max_T = 16, .max_B = 2};
        octo_train_model *tm = octo_tm_new(m, &cfg);
        REQUIRE(tm);
        tf_randomize(tm, 6, 0.3);
        tf_batch tb;
        tf_make_batch(&tb, 2, 16, m->hp.n_vocab, 8);
        loss[k] = octo_tm_step(tm, &tb.b, 1.0f);
        total = octo_tm_n_trainable(tm);
        g[k] = malloc((size_t)total * sizeof(float));
        int64_t off = 0;
        for (int i = 0; i < octo_tm_n_params(tm); i++) {
            octo_param *p = octo_tm_param(tm, i);
            memcpy(g[k] + off, p->grad, (size_t)p->n * sizeof(float));
            off += p->n;
        }
        octo_tm_free(tm);
    }
    CHECKF(loss[0] == loss[1], "%s: loss %.9g (1 thread) vs %.9g (2 threads)", arch, loss[0], loss[1]);
    CHECKF(memcmp(g[0], g[1], (size_t)total * sizeof(float)) == 0, "%s %s: gradients differ between 1 and 2 threads",
           arch, lora ? "LoRA" : "full");
    free(g[0]);
    free(g[1]);
    octo_model_free(m);
}
TEST(thread_count_invariance) {
    threads_case("llama", 0);
    threads_case("phi3", 0);
    threads_case("qwen2", 1);
}

/* Full fine-tuning after the tokenizer grew: the new embedding (and output)
 * rows start at the mean of the old ones, train, and are saved with the
 * grown tokenizer. */
static void grown_vocab_case(const char *arch) {
    char path[512], out[600];
    octo_model *m = tf_model(g_dir, arch, 16, 4, 2, 24, 1, 64, 31, path, sizeof path);
    REQUIRE(m);
    int32_t a = octo_tokenizer_add_special(m->tok, "<fn_open>"), b2 = octo_tokenizer_add_special(m->tok, "<fn_x>");
    REQUIRE(a == TF_VOCAB && b2 == TF_VOCAB + 1);
    octo_train_config cfg = {.full = true, .n_threads = 1, .max_T = 8, .max_B = 1};
    octo_train_model *tm = octo_tm_new(m, &cfg);
    REQUIRE(tm);
    CHECK(octo_tm_n_vocab(tm) == TF_VOCAB + 2);
    int checked = 0;
    for (int i = 0; i < octo_tm_n_params(tm); i++) {
        octo_param *p = octo_tm_param(tm, i);
        if (strcmp(p->name, "token_embd.weight") != 0 && strcmp(p->name, "output.weight") != 0) continue;
        CHECK(p->rows == TF_VOCAB + 2 && p->cols == 16);
        for (int j = 0; j < 16; j++) {
            double mean = 0;
            for (int r = 0; r < TF_VOCAB; r++) mean += p->data[r * 16 + j];
            mean /= TF_VOCAB;
            CHECK_NEAR(p->data[TF_VOCAB * 16 + j], mean, 1e-6);
            CHECK(p->data[(TF_VOCAB + 1) * 16 + j] == p->data[TF_VOCAB * 16 + j]);
        }
        checked++;
    }
    CHECK(checked == (m->hp.tied_output ? 1 : 2));
    int32_t tok[8] = {1, 5, TF_VOCAB, 9, TF_VOCAB + 1, 7, 3, 4}, tgt[8], pos[8], seg[8] = {0};
    for (int i = 0; i < 8; i++) {
        tgt[i] = i + 1 < 8 ? tok[i + 1] : -1;
        pos[i] = i;
    }
    octo_batch bt = {.B = 1, .T = 8, .tokens = tok, .targets = tgt, .pos = pos, .seg = seg, .n_loss_tokens = 7};
    float loss = octo_tm_step(tm, &bt, 1.0f);
    CHECK(loss > 0 && isfinite(loss));
    octo_param *e = octo_tm_param(tm, 0);
    CHECK(strcmp(e->name, "token_embd.weight") == 0 && e->grad[TF_VOCAB * 16] != 0.0f);
    snprintf(out, sizeof out, "%s/grown-%s.gguf", g_dir, arch);
    REQUIRE(octo_tm_save_model(tm, out) == 0);
    octo_model *m2 = octo_model_load(out);
    REQUIRE(m2);
    CHECK(m2->hp.n_vocab == TF_VOCAB + 2 && octo_tokenizer_n_vocab(m2->tok) == TF_VOCAB + 2);
    CHECK(octo_token_lookup(m2->tok, "<fn_x>") == TF_VOCAB + 1);
    octo_model_free(m2);
    octo_tm_free(tm);
    octo_model_free(m);
}
TEST(grown_vocabulary) {
    grown_vocab_case("llama");
    grown_vocab_case("gemma");
}

TEST(bad_batches) {
    char path[512];
    octo_model *m = tf_model(g_dir, "llama", 16, 4, 2, 24, 1, 64, 3, path, sizeof path);
    REQUIRE(m);
    octo_train_config cfg = {.full = true, .n_threads = 1, .max_T = 8, .max_B = 1};
    octo_train_model *tm = octo_tm_new(m, &cfg);
    REQUIRE(tm);
    tf_batch tb;
    tf_make_batch(&tb, 1, 8, m->hp.n_vocab, 1);
    tb.b.tokens[3] = m->hp.n_vocab;
    CHECK(octo_tm_step(tm, &tb.b, 1.0f) < 0 && strstr(octo_last_error(), "out of range"));
    tf_make_batch(&tb, 1, 8, m->hp.n_vocab, 1);
    tb.b.targets[2] = -5;
    CHECK(octo_tm_loss(tm, &tb.b) < 0);
    tf_make_batch(&tb, 2, 8, m->hp.n_vocab, 1);
    CHECK(octo_tm_loss(tm, &tb.b) < 0 && strstr(octo_last_error(), "exceeds"));
    /* a batch with no loss token: loss 0, no gradient */
    tf_make_batch(&tb, 1, 8, m->hp.n_vocab, 1);
    for (int i = 0; i < 8; i++) tb.b.targets[i] = -1;
    octo_tm_zero_grad(tm);
    CHECK(octo_tm_step(tm, &tb.b, 1.0f) == 0.0f);
    CHECK(octo_tm_param(tm, 0)->grad[0] == 0.0f);
    octo_tm_free(tm);
    octo_model_free(m);
}

int main(void) {
    snprintf(g_dir, sizeof g_dir, "/tmp/octo-test-train-grad-%d", (int)getpid());
    if (mkdir(g_dir, 0700) != 0) {
        perror(g_dir);
        return 1;
    }
    RUN(embedding);
    RUN(rmsnorm);
    RUN(linear);
    RUN(rope);
    RUN(attention);
    RUN(swiglu_geglu);
    RUN(cross_entropy);
    RUN(model_llama_full);
    RUN(model_phi3_full);
    RUN(model_qwen2_full);
    RUN(model_gemma_full);
    RUN(model_llama_lora);
    RUN(model_phi3_lora);
    RUN(model_qwen2_lora_subset);
    RUN(model_gemma_lora_dropout);
    RUN(model_phi3_lora_dropout);
    RUN(lora_targets_and_init);
    RUN(lora_quantized_base);
    RUN(saved_model_llama);
    RUN(saved_model_phi3);
    RUN(saved_model_qwen2);
    RUN(saved_model_gemma);
    RUN(exported_lora_llama);
    RUN(exported_lora_phi3);
    RUN(determinism_and_dropout);
    RUN(thread_count_invariance);
    RUN(grown_vocabulary);
    RUN(bad_batches);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", g_dir);
    return t_finish();
}
