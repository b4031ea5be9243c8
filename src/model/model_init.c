/* model_init.c - a new model with random weights, in a standard layout.
 *
 * The file is an ordinary GGUF of the chosen architecture (the same tensor
 * names and metadata keys llama.cpp's converters write), so any GGUF reader
 * can load it; the tokenizer is copied from another GGUF file.  Such models
 * are the starting point for benchmarks and for training from scratch.
 * Weights are N(0, 0.02) (GPT-2's initialisation), norms are 1, biases 0.
 * With a weight type, each 2-D weight is quantized the moment it is drawn
 * and its F32 copy freed, so memory peaks at the quantized size plus one
 * F32 tensor (a Phi-3-Mini shape in Q4_0: about 2.3 GB instead of 15).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "octo.h"
#include "base/error.h"
#include "gguf/gguf.h"
#include "model/quantize.h"
#include "tensor/ops.h"

typedef struct {
    uint64_t s;
} rng64;

static uint64_t rng_next(rng64 *r) {
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static float rng_normal(rng64 *r) {
    double u1 = ((rng_next(r) >> 11) + 1) * (1.0 / 9007199254740993.0);
    double u2 = (rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
    return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}

typedef struct {
    gguf_writer *w;
    rng64 rng;
    octo_type wtype; /* storage type of the 2-D weights */
    bool tied;       /* the embedding serves as the output projection */
    void **bufs;
    int n_bufs, cap;
    int failed;
} builder;

/* a buffer the writer reads at the end; freed with the builder */
static void *keep_buf(builder *b, void *x) {
    if (!x) return NULL;
    if (b->n_bufs == b->cap) {
        int cap = b->cap ? b->cap * 2 : 64;
        void **p = realloc(b->bufs, (size_t)cap * sizeof(void *));
        if (!p) {
            free(x);
            return NULL;
        }
        b->bufs = p;
        b->cap = cap;
    }
    b->bufs[b->n_bufs++] = x;
    return x;
}

/* rows x cols weight in its storage type: drawn in F32, then quantized
 * row by row when the type is not F32 (the F32 draft is freed) */
static void add(builder *b, const char *name, int64_t cols, int64_t rows, float fill, bool random) {
    if (b->failed) return;
    size_t n = (size_t)cols * (size_t)rows;
    float *x = malloc(n * sizeof(float));
    if (!x) {
        b->failed = octo_fail("model init: out of memory for %s", name);
        return;
    }
    for (size_t i = 0; i < n; i++) x[i] = random ? 0.02f * rng_normal(&b->rng) : fill;
    int64_t ne[2] = {cols, rows};
    octo_type t = OCTO_TYPE_F32;
    if (rows > 1 && b->wtype != OCTO_TYPE_F32) {
        bool is_output = !strcmp(name, "output.weight") || (b->tied && !strcmp(name, "token_embd.weight"));
        t = octo_quant_type_for(b->wtype, is_output, cols);
    }
    void *data = x;
    if (t != OCTO_TYPE_F32) {
        size_t row = octo_row_size(t, cols);
        uint8_t *q = malloc(row * (size_t)rows);
        if (q)
            for (int64_t r = 0; r < rows; r++) octo_quantize_row(t, x + r * cols, q + (size_t)r * row, cols);
        free(x);
        data = q;
    }
    if (!keep_buf(b, data)) {
        b->failed = octo_fail("model init: out of memory for %s", name);
        return;
    }
    if (gguf_add_tensor(b->w, name, t, rows > 1 ? 2 : 1, ne, data)) b->failed = -1;
}

int octo_model_init_file(const octo_model_init_params *p, const char *out_path) {
    const char *arch = p->arch ? p->arch : "llama";
    bool is_phi3 = strcmp(arch, "phi3") == 0, is_qwen2 = strcmp(arch, "qwen2") == 0,
         is_gemma = strcmp(arch, "gemma") == 0, is_llama = strcmp(arch, "llama") == 0;
    if (!is_phi3 && !is_qwen2 && !is_gemma && !is_llama)
        return octo_fail("model init: --arch \"%s\", expected llama, phi3, qwen2 or gemma", arch);
    if (p->n_embd <= 0 || p->n_layer <= 0 || p->n_head <= 0 || p->n_ff <= 0)
        return octo_fail("model init: --n-embd, --n-layer, --n-head and --n-ff must be positive");
    int n_head_kv = p->n_head_kv > 0 ? p->n_head_kv : p->n_head;
    if (p->n_embd % p->n_head != 0)
        return octo_fail("model init: --n-embd %d is not a multiple of --n-head %d", p->n_embd, p->n_head);
    if (p->n_head % n_head_kv != 0)
        return octo_fail("model init: --n-head %d is not a multiple of --n-head-kv %d", p->n_head, n_head_kv);
    int head_dim = p->n_embd / p->n_head;
    if (head_dim % 2) return octo_fail("model init: head size %d must be even for RoPE", head_dim);
    if (!p->vocab_from) return octo_fail("model init: --vocab-from TOKENIZER.gguf is required");
    octo_type wtype = OCTO_TYPE_F32;
    if (p->weight_type && octo_quant_target(p->weight_type, &wtype) != 0) return -1;
    gguf_file *voc = gguf_open(p->vocab_from);
    if (!voc) return -1;
    const gguf_kv *toks = gguf_find_kv(voc, "tokenizer.ggml.tokens");
    if (!toks || toks->type != GGUF_TYPE_ARRAY || toks->arr_type != GGUF_TYPE_STRING || toks->arr_n == 0) {
        gguf_close(voc);
        return octo_fail("%s: no tokenizer.ggml.tokens string array", p->vocab_from);
    }
    int64_t n_vocab = (int64_t)toks->arr_n;
    builder b = {.w = gguf_writer_new(), .rng = {p->seed}, .wtype = wtype,
                 .tied = p->tied_output || is_gemma};
    if (!b.w) {
        gguf_close(voc);
        return octo_fail("model init: out of memory");
    }
    gguf_writer *w = b.w;
    char key[128];
    gguf_set_str(w, "general.architecture", arch);
    gguf_set_str(w, "general.name", "octo-init");
    gguf_set_u32(w, "general.file_type", (uint32_t)octo_quant_file_type(wtype));
#define K(s) (snprintf(key, sizeof key, "%s.%s", arch, s), key)
    gguf_set_u32(w, K("context_length"), (uint32_t)(p->n_ctx > 0 ? p->n_ctx : 2048));
    gguf_set_u32(w, K("embedding_length"), (uint32_t)p->n_embd);
    gguf_set_u32(w, K("block_count"), (uint32_t)p->n_layer);
    gguf_set_u32(w, K("feed_forward_length"), (uint32_t)p->n_ff);
    gguf_set_u32(w, K("attention.head_count"), (uint32_t)p->n_head);
    gguf_set_u32(w, K("attention.head_count_kv"), (uint32_t)n_head_kv);
    gguf_set_f32(w, K("attention.layer_norm_rms_epsilon"), is_gemma || is_qwen2 ? 1e-6f : 1e-5f);
    gguf_set_f32(w, K("rope.freq_base"), p->rope_base > 0 ? p->rope_base : 10000.0f);
    gguf_set_u32(w, K("rope.dimension_count"), (uint32_t)head_dim);
    if (is_gemma) {
        gguf_set_u32(w, K("attention.key_length"), (uint32_t)head_dim);
        gguf_set_u32(w, K("attention.value_length"), (uint32_t)head_dim);
    }
    if (is_phi3) gguf_set_u32(w, K("attention.sliding_window"), (uint32_t)(p->n_ctx > 0 ? p->n_ctx : 2048));
#undef K
    for (uint64_t i = 0; i < voc->n_kv; i++)
        if (voc->kv[i].key.len > 10 && memcmp(voc->kv[i].key.ptr, "tokenizer.", 10) == 0) gguf_set_kv(w, &voc->kv[i]);
    /* where octo_quantize_file puts it, so both ways give the same bytes */
    if (wtype != OCTO_TYPE_F32) gguf_set_u32(w, "general.quantization_version", 2);

    int64_t d = p->n_embd, ff = p->n_ff, q = (int64_t)p->n_head * head_dim, kv = (int64_t)n_head_kv * head_dim;
    bool tied = p->tied_output || is_gemma;
    add(&b, "token_embd.weight", d, n_vocab, 0, true);
    add(&b, "output_norm.weight", d, 1, 1.0f, false);
    if (!tied) add(&b, "output.weight", d, n_vocab, 0, true);
    char n[96];
    for (int il = 0; il < p->n_layer && !b.failed; il++) {
#define T(s) (snprintf(n, sizeof n, "blk.%d.%s", il, s), n)
        add(&b, T("attn_norm.weight"), d, 1, 1.0f, false);
        if (is_phi3) {
            add(&b, T("attn_qkv.weight"), d, q + 2 * kv, 0, true);
        } else {
            add(&b, T("attn_q.weight"), d, q, 0, true);
            add(&b, T("attn_k.weight"), d, kv, 0, true);
            add(&b, T("attn_v.weight"), d, kv, 0, true);
        }
        if (is_qwen2) {
            add(&b, T("attn_q.bias"), q, 1, 0.0f, false);
            add(&b, T("attn_k.bias"), kv, 1, 0.0f, false);
            add(&b, T("attn_v.bias"), kv, 1, 0.0f, false);
        }
        add(&b, T("attn_output.weight"), q, d, 0, true);
        add(&b, T("ffn_norm.weight"), d, 1, 1.0f, false);
        if (is_phi3) {
            add(&b, T("ffn_up.weight"), d, 2 * ff, 0, true);
        } else {
            add(&b, T("ffn_gate.weight"), d, ff, 0, true);
            add(&b, T("ffn_up.weight"), d, ff, 0, true);
        }
        add(&b, T("ffn_down.weight"), ff, d, 0, true);
#undef T
    }
    int rc = b.failed ? -1 : gguf_writer_write(w, out_path);
    for (int i = 0; i < b.n_bufs; i++) free(b.bufs[i]);
    free(b.bufs);
    gguf_writer_free(w);
    gguf_close(voc);
    return rc;
}
