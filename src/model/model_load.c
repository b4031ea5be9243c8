/* model_load.c - hyperparameters and weights from a GGUF file.
 *
 * Everything a forward pass needs is checked here, once: each tensor exists,
 * has the shape the hyperparameters imply and a type the kernels support, so
 * the forward pass itself never meets a surprise.  Large weights stay in the
 * mapping (zero copy); only 1-D vectors (norms, biases) stored in a non-F32
 * type are converted into small owned buffers.
 */
#include "model/model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "tensor/ops.h"

static const struct {
    const char *name;
    octo_arch arch;
} k_archs[] = {
    {"llama", OCTO_ARCH_LLAMA},
    {"phi3", OCTO_ARCH_PHI3},
    {"qwen2", OCTO_ARCH_QWEN2},
    {"gemma", OCTO_ARCH_GEMMA},
};

/* Read "<arch>.<suffix>" as a positive int; required unless def >= 0. */
static int arch_int(const gguf_file *f, const char *arch, const char *suffix, int def, int *out) {
    char key[128];
    snprintf(key, sizeof key, "%s.%s", arch, suffix);
    uint32_t v;
    int rc = gguf_get_u32(f, key, &v);
    if (rc < 0) return -1;
    if (rc == 1) {
        if (def < 0) return octo_fail("%s: missing metadata key %s", f->path, key);
        *out = def;
        return 0;
    }
    if (v > (1u << 24)) return octo_fail("%s: %s = %u is out of range", f->path, key, v);
    *out = (int)v;
    return 0;
}

static int arch_float(const gguf_file *f, const char *arch, const char *suffix, float def, float *out) {
    char key[128];
    snprintf(key, sizeof key, "%s.%s", arch, suffix);
    int rc = gguf_get_f32(f, key, out);
    if (rc < 0) return -1;
    if (rc == 1) *out = def;
    if (!isfinite(*out)) return octo_fail("%s: %s is not a finite number", f->path, key);
    return 0;
}

int octo_hparams_read(const gguf_file *f, octo_hparams *hp) {
    memset(hp, 0, sizeof *hp);
    char *arch = NULL;
    int rc = gguf_get_str(f, "general.architecture", &arch);
    if (rc != 0) return rc < 0 ? -1 : octo_fail("%s: missing metadata key general.architecture", f->path);
    int found = 0;
    for (size_t i = 0; i < sizeof k_archs / sizeof k_archs[0]; i++) {
        if (strcmp(arch, k_archs[i].name) == 0) {
            hp->arch = k_archs[i].arch;
            hp->arch_name = k_archs[i].name;
            found = 1;
        }
    }
    if (!found) {
        octo_fail("%s: general.architecture is \"%s\", expected llama, phi3, qwen2 or gemma", f->path, arch);
        free(arch);
        return -1;
    }
    free(arch);
    const char *a = hp->arch_name;
    if (arch_int(f, a, "embedding_length", -1, &hp->n_embd) || arch_int(f, a, "block_count", -1, &hp->n_layer) ||
        arch_int(f, a, "feed_forward_length", -1, &hp->n_ff) ||
        arch_int(f, a, "attention.head_count", -1, &hp->n_head) ||
        arch_int(f, a, "context_length", 2048, &hp->n_ctx_train))
        return -1;
    if (arch_int(f, a, "attention.head_count_kv", hp->n_head, &hp->n_head_kv)) return -1;
    if (hp->n_embd <= 0 || hp->n_layer <= 0 || hp->n_head <= 0 || hp->n_ff <= 0 || hp->n_head_kv <= 0)
        return octo_fail("%s: %s hyperparameters must be positive (n_embd %d, n_layer %d, n_head %d, n_head_kv %d, "
                         "n_ff %d)",
                         f->path, a, hp->n_embd, hp->n_layer, hp->n_head, hp->n_head_kv, hp->n_ff);
    if (hp->n_head % hp->n_head_kv != 0)
        return octo_fail("%s: %s.attention.head_count %d is not a multiple of head_count_kv %d", f->path, a,
                         hp->n_head, hp->n_head_kv);
    int def_hd = hp->n_embd % hp->n_head == 0 ? hp->n_embd / hp->n_head : -1;
    if (arch_int(f, a, "attention.key_length", def_hd, &hp->head_dim) ||
        arch_int(f, a, "attention.value_length", hp->head_dim, &hp->head_dim_v) ||
        arch_int(f, a, "rope.dimension_count", hp->head_dim, &hp->n_rot))
        return -1;
    if (hp->head_dim <= 0 || hp->head_dim_v <= 0 || hp->n_rot <= 0 || hp->n_rot > hp->head_dim || hp->n_rot % 2)
        return octo_fail("%s: head dims (key %d, value %d, rope %d) are inconsistent", f->path, hp->head_dim,
                         hp->head_dim_v, hp->n_rot);
    if (arch_float(f, a, "attention.layer_norm_rms_epsilon", 1e-5f, &hp->norm_eps) ||
        arch_float(f, a, "rope.freq_base", 10000.0f, &hp->rope_base))
        return -1;
    float factor = 1.0f;
    if (arch_float(f, a, "rope.scaling.factor", 1.0f, &factor)) return -1;
    {
        char *stype = NULL;
        char key[128];
        snprintf(key, sizeof key, "%s.rope.scaling.type", a);
        if (gguf_get_str(f, key, &stype) == 0) {
            if (strcmp(stype, "linear") != 0 && strcmp(stype, "none") != 0) {
                octo_fail("%s: %s = \"%s\" is not supported (linear or none)", f->path, key, stype);
                free(stype);
                return -1;
            }
            free(stype);
        }
    }
    hp->rope_freq_scale = factor > 0 ? 1.0f / factor : 1.0f;
    hp->rope_neox = hp->arch != OCTO_ARCH_LLAMA;
    hp->act = hp->arch == OCTO_ARCH_GEMMA ? OCTO_ACT_GELU : OCTO_ACT_SILU;
    hp->q_prescale = hp->arch == OCTO_ARCH_PHI3 || hp->arch == OCTO_ARCH_GEMMA;
    hp->embd_scale = hp->arch == OCTO_ARCH_GEMMA ? sqrtf((float)hp->n_embd) : 1.0f;
    if (hp->arch == OCTO_ARCH_PHI3 && arch_int(f, a, "attention.sliding_window", 0, &hp->n_swa)) return -1;
    return 0;
}

/* ---- weights ---- */

static const gguf_tensor *find(const octo_model *m, const char *name) { return gguf_find_tensor(m->file, name); }

/* Keep a heap block alive as long as the model. */
void *octo_model_own(octo_model *m, void *p) {
    if (!p) return NULL;
    void **owned = realloc(m->owned, (size_t)(m->n_owned + 1) * sizeof(void *));
    if (!owned) {
        free(p);
        return NULL;
    }
    m->owned = owned;
    m->owned[m->n_owned++] = p;
    return p;
}

static const char *own_strdup(octo_model *m, const char *s) { return octo_model_own(m, strdup(s)); }

static int bind_matrix(octo_model *m, const char *name, int64_t rows, int64_t cols, octo_weight *w,
                       bool optional) {
    const gguf_tensor *t = find(m, name);
    memset(w, 0, sizeof *w);
    if (!t) return optional ? 0 : octo_fail("%s: missing tensor %s", m->path, name);
    if (t->n_dims != 2 || t->ne[0] != cols || t->ne[1] != rows)
        return octo_fail("%s: tensor %s has shape [%lld, %lld], expected [%lld, %lld]", m->path, name,
                         (long long)t->ne[0], (long long)t->ne[1], (long long)cols, (long long)rows);
    const octo_type_traits *tr = octo_type_info(t->type);
    if (!tr || !tr->supported || t->type == OCTO_TYPE_Q8_K)
        return octo_fail("%s: tensor %s has type %s, which octo cannot compute with (supported: F32, F16, BF16, "
                         "Q8_0, Q4_0, Q4_K, Q6_K)",
                         m->path, name, octo_type_name(t->type));
    w->data = t->data;
    w->type = t->type;
    w->rows = rows;
    w->cols = cols;
    w->row_bytes = octo_row_size(t->type, cols);
    w->name = own_strdup(m, name);
    return w->name ? 0 : octo_fail("%s: out of memory", m->path);
}

/* A 1-D F32 vector of length n; converted to an owned F32 copy if stored
 * in another type. */
static int bind_vector(octo_model *m, const char *name, int64_t n, const float **out, bool optional) {
    const gguf_tensor *t = find(m, name);
    *out = NULL;
    if (!t) return optional ? 0 : octo_fail("%s: missing tensor %s", m->path, name);
    if (gguf_tensor_nelements(t) != n || t->ne[0] != n)
        return octo_fail("%s: tensor %s has %lld elements, expected %lld", m->path, name,
                         (long long)gguf_tensor_nelements(t), (long long)n);
    if (t->type == OCTO_TYPE_F32 && ((uintptr_t)t->data % 4) == 0) {
        *out = t->data;
        return 0;
    }
    const octo_type_traits *tr = octo_type_info(t->type);
    if (!tr || !tr->supported) return octo_fail("%s: tensor %s: unsupported type %s", m->path, name, tr ? tr->name : "?");
    float *buf = octo_model_own(m, malloc((size_t)n * sizeof(float)));
    if (!buf) return octo_fail("%s: out of memory", m->path);
    octo_dequantize_row(t->type, t->data, buf, n);
    *out = buf;
    return 0;
}

static int bind_layer(octo_model *m, int il) {
    const octo_hparams *hp = &m->hp;
    octo_layer *L = &m->layers[il];
    char n[96];
    int64_t d = hp->n_embd, q_out = (int64_t)hp->n_head * hp->head_dim, kv_out = (int64_t)hp->n_head_kv * hp->head_dim,
            v_out = (int64_t)hp->n_head_kv * hp->head_dim_v, ff = hp->n_ff;
#define NAME(s) (snprintf(n, sizeof n, "blk.%d.%s", il, s), n)
    if (bind_vector(m, NAME("attn_norm.weight"), d, &L->attn_norm, false)) return -1;
    L->fused_qkv = find(m, NAME("attn_qkv.weight")) != NULL;
    if (L->fused_qkv) {
        if (bind_matrix(m, NAME("attn_qkv.weight"), q_out + kv_out + v_out, d, &L->wqkv, false)) return -1;
    } else {
        if (bind_matrix(m, NAME("attn_q.weight"), q_out, d, &L->wq, false) ||
            bind_matrix(m, NAME("attn_k.weight"), kv_out, d, &L->wk, false) ||
            bind_matrix(m, NAME("attn_v.weight"), v_out, d, &L->wv, false))
            return -1;
    }
    if (bind_vector(m, NAME("attn_q.bias"), q_out, &L->bq, true) ||
        bind_vector(m, NAME("attn_k.bias"), kv_out, &L->bk, true) ||
        bind_vector(m, NAME("attn_v.bias"), v_out, &L->bv, true))
        return -1;
    if (bind_matrix(m, NAME("attn_output.weight"), d, q_out / hp->head_dim * hp->head_dim_v, &L->wo, false)) return -1;
    if (bind_vector(m, NAME("ffn_norm.weight"), d, &L->ffn_norm, false)) return -1;
    L->fused_gate_up = find(m, NAME("ffn_gate.weight")) == NULL;
    if (L->fused_gate_up) {
        if (bind_matrix(m, NAME("ffn_up.weight"), 2 * ff, d, &L->w_up, false)) return -1;
    } else {
        if (bind_matrix(m, NAME("ffn_gate.weight"), ff, d, &L->w_gate, false) ||
            bind_matrix(m, NAME("ffn_up.weight"), ff, d, &L->w_up, false))
            return -1;
    }
    if (bind_matrix(m, NAME("ffn_down.weight"), d, ff, &L->w_down, false)) return -1;
#undef NAME
    return 0;
}

octo_model *octo_model_load(const char *path) {
    octo_model *m = calloc(1, sizeof *m);
    if (!m) {
        octo_fail("%s: out of memory", path);
        return NULL;
    }
    m->path = strdup(path);
    m->file = gguf_open(path);
    if (!m->file) goto fail;
    if (octo_hparams_read(m->file, &m->hp)) goto fail;
    m->tok = octo_tokenizer_load(m->file);
    if (!m->tok) {
        octo_fail_context("%s: tokenizer", path);
        goto fail;
    }
    octo_hparams *hp = &m->hp;
    const gguf_tensor *te = find(m, "token_embd.weight");
    if (!te) {
        octo_fail("%s: missing tensor token_embd.weight", path);
        goto fail;
    }
    hp->n_vocab = (int)te->ne[1];
    if (te->ne[1] > (1 << 24)) {
        octo_fail("%s: token_embd.weight has %lld rows, too many", path, (long long)te->ne[1]);
        goto fail;
    }
    if (octo_tokenizer_n_vocab(m->tok) > hp->n_vocab) {
        octo_fail("%s: tokenizer has %d tokens but token_embd.weight only %d rows", path,
                  octo_tokenizer_n_vocab(m->tok), hp->n_vocab);
        goto fail;
    }
    if (bind_matrix(m, "token_embd.weight", hp->n_vocab, hp->n_embd, &m->tok_embd, false)) goto fail;
    if (bind_vector(m, "output_norm.weight", hp->n_embd, &m->output_norm, false)) goto fail;
    if (bind_matrix(m, "output.weight", hp->n_vocab, hp->n_embd, &m->output, true)) goto fail;
    hp->tied_output = m->output.data == NULL;
    if (hp->tied_output) m->output = m->tok_embd;
    m->layers = calloc((size_t)hp->n_layer, sizeof(octo_layer));
    if (!m->layers) {
        octo_fail("%s: out of memory", path);
        goto fail;
    }
    for (int il = 0; il < hp->n_layer; il++)
        if (bind_layer(m, il)) goto fail;
    return m;
fail:
    octo_model_free(m);
    return NULL;
}

void octo_model_free(octo_model *m) {
    if (!m) return;
    for (int i = 0; i < m->n_owned; i++) free(m->owned[i]);
    free(m->owned);
    free(m->layers);
    octo_tokenizer_free(m->tok);
    gguf_close(m->file);
    free(m->path);
    free(m);
}
