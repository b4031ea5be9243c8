/* train_model.c - building the trainable model from a loaded base, its
 * parameter list, and what comes out of training: the full model as GGUF,
 * or the adapter as an octo_lora.  The pass itself is in train_step.c.
 *
 * Full fine-tuning copies every weight into an F32 parameter (dequantizing
 * quantized ones).  LoRA keeps the base where it is (the mapped file, in
 * its storage type) and adds A [r][in] (Kaiming-uniform, as PEFT: U(-b, b)
 * with b = 1/sqrt(in)) and B [out][r] (zero) beside each targeted weight.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "tensor/ops.h"
#include "train/train_internal.h"

/* ---- parameters ---- */

static octo_param *add_param(octo_train_model *tm, const char *name, int64_t rows, int64_t cols, bool decay) {
    /* parameters are referenced by pointer, so the array is sized once in
     * octo_tm_new (for more tensors than any layout has) and never grows */
    if (tm->n_params == tm->cap_params) return NULL;
    octo_param *p = &tm->params[tm->n_params];
    memset(p, 0, sizeof *p);
    p->name = strdup(name);
    p->rows = rows;
    p->cols = cols;
    p->n = rows * cols;
    p->decay = decay;
    p->data = calloc((size_t)p->n, sizeof(float));
    p->grad = calloc((size_t)p->n, sizeof(float));
    if (!p->name || !p->data || !p->grad) {
        free(p->name);
        free(p->data);
        free(p->grad);
        return NULL;
    }
    tm->n_params++;
    return p;
}

/* A trainable F32 copy of a base weight with `rows` rows (>= the base's:
 * rows added for new tokens start at the mean of the existing ones). */
static octo_param *param_from_weight(octo_train_model *tm, const octo_weight *w, int64_t rows) {
    octo_param *p = add_param(tm, w->name, rows, w->cols, true);
    if (!p) return NULL;
    for (int64_t r = 0; r < w->rows; r++)
        octo_dequantize_row(w->type, (const char *)w->data + r * w->row_bytes, p->data + r * w->cols, w->cols);
    if (rows > w->rows) {
        double *mean = calloc((size_t)w->cols, sizeof(double));
        if (!mean) return NULL;
        for (int64_t r = 0; r < w->rows; r++)
            for (int64_t j = 0; j < w->cols; j++) mean[j] += p->data[r * w->cols + j];
        for (int64_t r = w->rows; r < rows; r++)
            for (int64_t j = 0; j < w->cols; j++) p->data[r * w->cols + j] = (float)(mean[j] / (double)w->rows);
        free(mean);
    }
    return p;
}

static int vec_init(octo_train_model *tm, tm_vec *v, const float *src, const char *name, int64_t n) {
    memset(v, 0, sizeof *v);
    if (!src) return 0;
    if (!tm->cfg.full) {
        v->frozen = src;
        return 0;
    }
    v->p = add_param(tm, name, n, 1, false);
    if (!v->p) return -1;
    memcpy(v->p->data, src, (size_t)n * sizeof(float));
    return 0;
}

/* ---- LoRA targets ---- */

enum { T_Q = 1, T_K = 2, T_V = 4, T_O = 8, T_GATE = 16, T_UP = 32, T_DOWN = 64, T_ALL = 127 };

static int parse_targets(const char *s, int *mask) {
    *mask = 0;
    if (!s || !*s || strcmp(s, "all-linear") == 0) {
        *mask = T_ALL;
        return 0;
    }
    static const struct {
        const char *name;
        int bits;
    } k[] = {{"q", T_Q}, {"k", T_K}, {"v", T_V}, {"o", T_O}, {"gate", T_GATE}, {"up", T_UP}, {"down", T_DOWN},
             {"qkv", T_Q | T_K | T_V}, {"gate_up", T_GATE | T_UP}};
    const char *p = s;
    while (*p) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        int found = 0;
        for (size_t i = 0; i < sizeof k / sizeof k[0]; i++)
            if (strlen(k[i].name) == len && strncmp(k[i].name, p, len) == 0) {
                *mask |= k[i].bits;
                found = 1;
            }
        if (!found)
            return octo_fail("train: LoRA target \"%.*s\" unknown (all-linear, or a list of q,k,v,o,gate,up,down,"
                             "qkv,gate_up)",
                             (int)len, p);
        p += len;
        if (*p == ',') p++;
    }
    return 0;
}

static uint64_t rng_next(uint64_t *s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static int linear_init(octo_train_model *tm, tm_linear *L, const octo_weight *w, const float *bias, const char *bname,
                       bool adapt, uint64_t *rng, int64_t out_rows) {
    memset(L, 0, sizeof *L);
    L->base = w;
    L->out = out_rows ? out_rows : w->rows;
    L->in = w->cols;
    L->id = tm->n_params; /* a stable id for the dropout stream */
    if (vec_init(tm, &L->bias, bias, bname, L->out)) return -1;
    if (tm->cfg.full) {
        L->w = param_from_weight(tm, w, L->out);
        return L->w ? 0 : -1;
    }
    if (!adapt) return 0;
    char name[256];
    int r = tm->lora_rank;
    snprintf(name, sizeof name, "%s.lora_a", w->name);
    L->la = add_param(tm, name, r, L->in, true);
    snprintf(name, sizeof name, "%s.lora_b", w->name);
    L->lb = L->la ? add_param(tm, name, L->out, r, true) : NULL;
    L->z = malloc((size_t)tm->max_N * r * sizeof(float));
    if (!L->la || !L->lb || !L->z) return -1;
    float bound = 1.0f / sqrtf((float)L->in);
    for (int64_t i = 0; i < L->la->n; i++)
        L->la->data[i] = ((float)(rng_next(rng) >> 40) * (1.0f / 16777216.0f) * 2.0f - 1.0f) * bound;
    return 0;
}

static float *alloc_f(size_t n, int *fail) {
    float *p = malloc((n ? n : 1) * sizeof(float));
    if (!p) *fail = 1;
    return p;
}

octo_train_model *octo_tm_new(const octo_model *base, const octo_train_config *cfg) {
    const octo_hparams *hp = &base->hp;
    if (cfg->max_B <= 0 || cfg->max_T <= 0) {
        octo_fail("train: max_B and max_T must be positive");
        return NULL;
    }
    if (!cfg->full && (cfg->lora_rank <= 0 || cfg->lora_rank > 4096)) {
        octo_fail("train: LoRA rank %d out of range [1, 4096]", cfg->lora_rank);
        return NULL;
    }
    if (!cfg->full && (cfg->lora_dropout < 0.0f || cfg->lora_dropout >= 1.0f)) {
        octo_fail("train: LoRA dropout %g out of range [0, 1)", cfg->lora_dropout);
        return NULL;
    }
    int tmask = 0;
    if (!cfg->full && parse_targets(cfg->lora_targets, &tmask)) return NULL;
    octo_train_model *tm = calloc(1, sizeof *tm);
    if (!tm) {
        octo_fail("train: out of memory");
        return NULL;
    }
    tm->base = base;
    tm->hp = *hp;
    tm->cfg = *cfg;
    tm->cfg.lora_targets = NULL; /* not owned */
    tm->max_N = cfg->max_B * cfg->max_T;
    tm->lora_rank = cfg->lora_rank;
    tm->lora_scale = cfg->full ? 0.0f : cfg->lora_alpha / (float)cfg->lora_rank;
    tm->n_vocab = hp->n_vocab;
    if (cfg->full && base->tok && octo_tokenizer_n_vocab(base->tok) > tm->n_vocab)
        tm->n_vocab = octo_tokenizer_n_vocab(base->tok);
    tm->q_dim = (int64_t)hp->n_head * hp->head_dim;
    tm->k_dim = (int64_t)hp->n_head_kv * hp->head_dim;
    tm->v_dim = (int64_t)hp->n_head_kv * hp->head_dim_v;
    tm->qkv_dim = tm->q_dim + tm->k_dim + tm->v_dim;
    tm->att_dim = (int64_t)hp->n_head * hp->head_dim_v;
    tm->pool = octo_pool_new(cfg->n_threads > 0 ? cfg->n_threads : octo_cpu_count());
    if (!tm->pool) goto oom;
    tm->nth = octo_pool_size(tm->pool);
    /* every parameter is created here, so the array never moves */
    tm->cap_params = 16 + 24 * hp->n_layer;
    tm->params = calloc((size_t)tm->cap_params, sizeof(octo_param));
    tm->layers = calloc((size_t)hp->n_layer, sizeof(tm_layer));
    if (!tm->params || !tm->layers) goto oom;

    uint64_t rng = cfg->seed ^ 0x5EED5EED5EEDull;
    const int64_t d = hp->n_embd, ff = hp->n_ff, N = tm->max_N;
    if (cfg->full) {
        tm->embd = param_from_weight(tm, &base->tok_embd, tm->n_vocab);
        if (!tm->embd) goto oom;
    }
    if (vec_init(tm, &tm->out_norm, base->output_norm, "output_norm.weight", d)) goto oom;
    if (hp->tied_output && cfg->full) {
        memset(&tm->output, 0, sizeof tm->output);
        tm->output.base = &base->tok_embd;
        tm->output.out = tm->n_vocab;
        tm->output.in = d;
        tm->output.w = tm->embd;
    } else if (linear_init(tm, &tm->output, &base->output, NULL, NULL, false, &rng, tm->n_vocab)) {
        goto oom;
    }
    bool fused_qkv_adapt = (tmask & (T_Q | T_K | T_V)) != 0, fused_gu_adapt = (tmask & (T_GATE | T_UP)) != 0;
    char nb[96];
    int fail = 0;
    for (int il = 0; il < hp->n_layer; il++) {
        const octo_layer *B = &base->layers[il];
        tm_layer *L = &tm->layers[il];
#define NM(s) (snprintf(nb, sizeof nb, "blk.%d.%s", il, s), nb)
        L->fused_qkv = B->fused_qkv;
        L->fused_gate_up = B->fused_gate_up;
        if (vec_init(tm, &L->attn_norm, B->attn_norm, NM("attn_norm.weight"), d)) goto oom;
        if (L->fused_qkv) {
            if (linear_init(tm, &L->qkv, &B->wqkv, NULL, NULL, fused_qkv_adapt, &rng, 0)) goto oom;
        } else if (linear_init(tm, &L->q, &B->wq, B->bq, NM("attn_q.bias"), tmask & T_Q, &rng, 0) ||
                   linear_init(tm, &L->k, &B->wk, B->bk, NM("attn_k.bias"), tmask & T_K, &rng, 0) ||
                   linear_init(tm, &L->v, &B->wv, B->bv, NM("attn_v.bias"), tmask & T_V, &rng, 0)) {
            goto oom;
        }
        if (linear_init(tm, &L->o, &B->wo, NULL, NULL, tmask & T_O, &rng, 0)) goto oom;
        if (vec_init(tm, &L->ffn_norm, B->ffn_norm, NM("ffn_norm.weight"), d)) goto oom;
        if (L->fused_gate_up) {
            if (linear_init(tm, &L->up, &B->w_up, NULL, NULL, fused_gu_adapt, &rng, 0)) goto oom;
        } else if (linear_init(tm, &L->gate, &B->w_gate, NULL, NULL, tmask & T_GATE, &rng, 0) ||
                   linear_init(tm, &L->up, &B->w_up, NULL, NULL, tmask & T_UP, &rng, 0)) {
            goto oom;
        }
        if (linear_init(tm, &L->down, &B->w_down, NULL, NULL, tmask & T_DOWN, &rng, 0)) goto oom;
#undef NM
        L->x_in = alloc_f(N * d, &fail);
        L->xn1 = alloc_f(N * d, &fail);
        L->rstd1 = alloc_f(N, &fail);
        L->qkv_a = alloc_f(N * tm->qkv_dim, &fail);
        L->lse = alloc_f((size_t)N * hp->n_head, &fail);
        L->att = alloc_f(N * tm->att_dim, &fail);
        L->x_mid = alloc_f(N * d, &fail);
        L->xn2 = alloc_f(N * d, &fail);
        L->rstd2 = alloc_f(N, &fail);
        L->gu = alloc_f(N * 2 * ff, &fail);
        if (fail) goto oom;
    }
    int64_t max_in = d > ff ? d : ff;
    if (tm->att_dim > max_in) max_in = tm->att_dim;
    tm->x_final = alloc_f(N * d, &fail);
    tm->xn_f = alloc_f(N * d, &fail);
    tm->rstd_f = alloc_f(N, &fail);
    tm->logits = alloc_f((size_t)N * tm->n_vocab, &fail);
    tm->losses = alloc_f(N, &fail);
    tm->lse = alloc_f(N, &fail);
    tm->cs = alloc_f(N * hp->n_rot, &fail);
    tm->tmp = alloc_f(N * d, &fail);
    tm->h = alloc_f(N * ff, &fail);
    tm->dx = alloc_f(N * d, &fail);
    tm->dxn = alloc_f(N * d, &fail);
    tm->dqkv = alloc_f(N * tm->qkv_dim, &fail);
    tm->datt = alloc_f(N * tm->att_dim, &fail);
    tm->dh = alloc_f(N * ff, &fail);
    tm->dgu = alloc_f(N * 2 * ff, &fail);
    tm->att_scratch = alloc_f((size_t)tm->nth * 2 * TL_ATT_BLOCK * cfg->max_T, &fail);
    tm->ce_scratch = alloc_f((size_t)tm->nth * tm->n_vocab, &fail);
    if (!cfg->full) {
        if (cfg->lora_dropout > 0) tm->drop = alloc_f(N * max_in, &fail);
        tm->dz = alloc_f(N * cfg->lora_rank, &fail);
        /* a slab of 4 Mi floats (16 MiB) or one row of the widest weight */
        tm->slab_floats = (int64_t)1 << 22;
        if (tm->slab_floats < max_in) tm->slab_floats = max_in;
        tm->slab = alloc_f(tm->slab_floats, &fail);
    }
    if (fail) goto oom;
    return tm;
oom:
    octo_fail("train: out of memory building the model (%lld trainable elements, %d x %d tokens of activations)",
              (long long)octo_tm_n_trainable(tm), cfg->max_B, cfg->max_T);
    octo_tm_free(tm);
    return NULL;
}

void octo_tm_free(octo_train_model *tm) {
    if (!tm) return;
    octo_pool_free(tm->pool);
    for (int i = 0; i < tm->n_params; i++) {
        free(tm->params[i].name);
        free(tm->params[i].data);
        free(tm->params[i].grad);
    }
    free(tm->params);
    if (tm->layers) {
        for (int il = 0; il < tm->hp.n_layer; il++) {
            tm_layer *L = &tm->layers[il];
            tm_linear *ls[] = {&L->q, &L->k, &L->v, &L->qkv, &L->o, &L->gate, &L->up, &L->down};
            for (int k = 0; k < 8; k++) free(ls[k]->z);
            float *bufs[] = {L->x_in, L->xn1, L->rstd1, L->qkv_a, L->lse,
                             L->att,  L->x_mid, L->xn2, L->rstd2, L->gu};
            for (size_t k = 0; k < sizeof bufs / sizeof bufs[0]; k++) free(bufs[k]);
        }
        free(tm->layers);
    }
    free(tm->output.z);
    float *bufs[] = {tm->x_final, tm->xn_f,        tm->rstd_f,     tm->logits, tm->losses, tm->lse,  tm->cs,
                     tm->tmp,     tm->h,           tm->dx,         tm->dxn,    tm->dqkv,   tm->datt, tm->dh,
                     tm->dgu,     tm->att_scratch, tm->ce_scratch, tm->drop,   tm->dz,     tm->slab};
    for (size_t k = 0; k < sizeof bufs / sizeof bufs[0]; k++) free(bufs[k]);
    free(tm);
}

int octo_tm_n_params(const octo_train_model *tm) { return tm->n_params; }
octo_param *octo_tm_param(octo_train_model *tm, int i) {
    return i >= 0 && i < tm->n_params ? &tm->params[i] : NULL;
}

int64_t octo_tm_n_trainable(const octo_train_model *tm) {
    int64_t n = 0;
    for (int i = 0; i < tm->n_params; i++) n += tm->params[i].n;
    return n;
}

static int64_t linear_flops(const tm_linear *L) {
    if (!L->base) return 0;
    int64_t n = L->out * L->in;
    if (L->la) n += L->la->n + L->lb->n;
    return n;
}

int64_t octo_tm_flops_params(const octo_train_model *tm) {
    int64_t n = linear_flops(&tm->output);
    for (int il = 0; il < tm->hp.n_layer; il++) {
        const tm_layer *L = &tm->layers[il];
        const tm_linear *ls[] = {&L->q, &L->k, &L->v, &L->qkv, &L->o, &L->gate, &L->up, &L->down};
        for (int k = 0; k < 8; k++) n += linear_flops(ls[k]);
    }
    return n;
}

void octo_tm_zero_grad(octo_train_model *tm) {
    for (int i = 0; i < tm->n_params; i++) memset(tm->params[i].grad, 0, (size_t)tm->params[i].n * sizeof(float));
}

const float *octo_tm_logits(const octo_train_model *tm) { return tm->logits; }
int octo_tm_n_vocab(const octo_train_model *tm) { return tm->n_vocab; }
uint64_t octo_tm_micro_steps(const octo_train_model *tm) { return tm->micro_steps; }
void octo_tm_set_micro_steps(octo_train_model *tm, uint64_t n) { tm->micro_steps = n; }
