/* info.c - describing a model file: `octo info`, model statistics, and a
 * tokenizer opened from any GGUF file. */
#include <stdlib.h>
#include <string.h>

#include "octo.h"
#include "base/error.h"
#include "gguf/gguf.h"
#include "model/model.h"

void octo_model_get_stats(const octo_model *m, octo_model_stats *s) {
    size_t by_type[OCTO_TYPE_COUNT] = {0};
    memset(s, 0, sizeof *s);
    s->arch = m->hp.arch_name;
    for (uint64_t i = 0; i < m->file->n_tensors; i++) {
        const gguf_tensor *t = &m->file->tensors[i];
        s->weight_bytes += t->nbytes;
        s->n_params += gguf_tensor_nelements(t);
        if ((unsigned)t->type < OCTO_TYPE_COUNT && t->n_dims == 2) by_type[t->type] += t->nbytes;
    }
    s->decode_bytes = s->weight_bytes;
    const gguf_tensor *te = gguf_find_tensor(m->file, "token_embd.weight");
    if (te && !m->hp.tied_output) s->decode_bytes -= te->nbytes;
    int best = 0;
    for (int t = 0; t < OCTO_TYPE_COUNT; t++)
        if (by_type[t] > by_type[best]) best = t;
    s->type_name = octo_type_name(best);
}

octo_tokenizer *octo_tokenizer_open(const char *path) {
    gguf_file *f = gguf_open(path);
    if (!f) return NULL;
    octo_tokenizer *t = octo_tokenizer_load(f);
    if (!t) octo_fail_context("%s: tokenizer", path);
    gguf_close(f);
    return t;
}

void octo_tokenizer_close(octo_tokenizer *t) { octo_tokenizer_free(t); }

static void print_value(FILE *out, const gguf_kv *kv, bool all) {
    switch (kv->type) {
    case GGUF_TYPE_STRING: {
        /* one line: newlines of chat templates shown as \n */
        uint64_t n = kv->v.str.len;
        bool cut = !all && n > 120;
        fputc('"', out);
        for (uint64_t i = 0; i < (cut ? 120 : n); i++) {
            char ch = kv->v.str.ptr[i];
            if (ch == '\n') fputs("\\n", out);
            else fputc(ch, out);
        }
        fputs(cut ? "\"..." : "\"", out);
        break;
    }
    case GGUF_TYPE_ARRAY: {
        uint64_t show = all ? kv->arr_n : (kv->arr_n < 8 ? kv->arr_n : 8);
        fprintf(out, "[%s x %llu] [", gguf_type_name(kv->arr_type), (unsigned long long)kv->arr_n);
        for (uint64_t i = 0; i < show; i++) {
            if (i) fputs(", ", out);
            if (kv->arr_type == GGUF_TYPE_STRING)
                fprintf(out, "\"%.*s\"", (int)(kv->arr_strs[i].len > 64 ? 64 : kv->arr_strs[i].len),
                        kv->arr_strs[i].ptr);
            else if (kv->arr_type == GGUF_TYPE_FLOAT32 || kv->arr_type == GGUF_TYPE_FLOAT64)
                fprintf(out, "%g", gguf_arr_f64(kv, i));
            else
                fprintf(out, "%lld", (long long)gguf_arr_i64(kv, i));
        }
        fputs(show < kv->arr_n ? ", ...]" : "]", out);
        break;
    }
    case GGUF_TYPE_FLOAT32:
    case GGUF_TYPE_FLOAT64: fprintf(out, "%g", kv->v.f64); break;
    case GGUF_TYPE_BOOL: fputs(kv->v.u64 ? "true" : "false", out); break;
    case GGUF_TYPE_INT8:
    case GGUF_TYPE_INT16:
    case GGUF_TYPE_INT32:
    case GGUF_TYPE_INT64: fprintf(out, "%lld", (long long)kv->v.i64); break;
    default: fprintf(out, "%llu", (unsigned long long)kv->v.u64); break;
    }
}

int octo_info_print(const char *path, FILE *out, bool all) {
    gguf_file *f = gguf_open(path);
    if (!f) return -1;
    fprintf(out, "file: %s\nformat: GGUF v%u, %zu bytes, %llu metadata keys, %llu tensors, alignment %zu\n", path,
            f->version, f->size, (unsigned long long)f->n_kv, (unsigned long long)f->n_tensors, f->alignment);
    octo_hparams hp;
    if (gguf_find_kv(f, "general.architecture") && octo_hparams_read(f, &hp) == 0) {
        fprintf(out,
                "\narchitecture: %s\n  n_embd %d, n_layer %d, n_head %d, n_head_kv %d, n_ff %d\n"
                "  head_dim %d (v %d), n_rot %d, rope %s base %g freq_scale %g\n"
                "  norm_eps %g, context %d, sliding_window %d, activation %s, embedding scale %g\n",
                hp.arch_name, hp.n_embd, hp.n_layer, hp.n_head, hp.n_head_kv, hp.n_ff, hp.head_dim, hp.head_dim_v,
                hp.n_rot, hp.rope_neox ? "neox" : "normal", hp.rope_base, hp.rope_freq_scale, hp.norm_eps,
                hp.n_ctx_train, hp.n_swa, hp.act == OCTO_ACT_GELU ? "gelu" : "silu", hp.embd_scale);
    } else if (gguf_find_kv(f, "general.architecture")) {
        fprintf(out, "\narchitecture: not runnable by octo (%s)\n", octo_last_error());
    }
    octo_tokenizer *tok = gguf_find_kv(f, "tokenizer.ggml.model") ? octo_tokenizer_load(f) : NULL;
    if (tok) {
        fprintf(out, "\ntokenizer: %s, pre \"%s\", %d tokens, bos %d, eos %d, add_bos %s\n",
                octo_tokenizer_kind(tok) == OCTO_TOK_SPM ? "llama (SentencePiece)" : "gpt2 (byte-level BPE)",
                octo_tokenizer_pre(tok), octo_tokenizer_n_vocab(tok), octo_tokenizer_bos(tok),
                octo_tokenizer_eos(tok), octo_tokenizer_add_bos(tok) ? "yes" : "no");
        octo_tokenizer_free(tok);
    } else if (gguf_find_kv(f, "tokenizer.ggml.model")) {
        fprintf(out, "\ntokenizer: cannot load (%s)\n", octo_last_error());
    }
    fprintf(out, "\nmetadata:\n");
    for (uint64_t i = 0; i < f->n_kv; i++) {
        const gguf_kv *kv = &f->kv[i];
        fprintf(out, "  %-40.*s %-6s ", (int)kv->key.len, kv->key.ptr, gguf_type_name(kv->type));
        print_value(out, kv, all);
        fputc('\n', out);
    }
    size_t total = 0;
    int64_t params = 0;
    fprintf(out, "\ntensors:\n  %-32s %-6s %-24s %12s\n", "name", "type", "shape", "bytes");
    for (uint64_t i = 0; i < f->n_tensors; i++) {
        const gguf_tensor *t = &f->tensors[i];
        char shape[96];
        int p = 0;
        for (uint32_t d = 0; d < t->n_dims; d++)
            p += snprintf(shape + p, sizeof shape - (size_t)p, "%s%lld", d ? " x " : "", (long long)t->ne[d]);
        fprintf(out, "  %-32.*s %-6s %-24s %12zu\n", (int)t->name.len, t->name.ptr, octo_type_name(t->type), shape,
                t->nbytes);
        total += t->nbytes;
        params += gguf_tensor_nelements(t);
    }
    fprintf(out, "  total: %lld parameters, %.2f MiB\n", (long long)params, total / 1048576.0);
    gguf_close(f);
    return 0;
}

const octo_tokenizer *octo_model_tokenizer(const octo_model *m) { return m->tok; }
int octo_model_n_vocab(const octo_model *m) { return m->hp.n_vocab; }
int octo_model_n_ctx_train(const octo_model *m) { return m->hp.n_ctx_train; }
