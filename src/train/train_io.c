/* train_io.c - what a training run hands on: the full model as GGUF (the
 * base's metadata, the tokenizer it trained with, every weight in F32, so
 * octo and llama.cpp load it as any other model), or the adapter as an
 * octo_lora (adapter/ writes it as GGUF or PEFT), and the start of a LoRA
 * run from an existing adapter. */
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "train/train_internal.h"

int octo_tm_save_model(const octo_train_model *tm, const char *path) {
    if (!tm->cfg.full) return octo_fail("train: a LoRA run saves its adapter, not a whole model");
    gguf_writer *w = gguf_writer_new();
    if (!w) return octo_fail("train: out of memory");
    const gguf_file *f = tm->base->file;
    for (uint64_t i = 0; i < f->n_kv; i++) {
        const gguf_kv *kv = &f->kv[i];
        if (kv->key.len >= 10 && memcmp(kv->key.ptr, "tokenizer.", 10) == 0) continue;
        gguf_set_kv(w, kv);
    }
    gguf_set_u32(w, "general.file_type", 0); /* all F32 */
    if (tm->base->tok) octo_tokenizer_write(tm->base->tok, w);
    for (int i = 0; i < tm->n_params; i++) {
        const octo_param *p = &tm->params[i];
        int64_t ne2[2] = {p->cols, p->rows}, ne1[1] = {p->n};
        bool vec = p->cols == 1;
        if (gguf_add_tensor(w, p->name, OCTO_TYPE_F32, vec ? 1 : 2, vec ? ne1 : ne2, p->data)) {
            gguf_writer_free(w);
            return -1;
        }
    }
    int rc = gguf_writer_write(w, path);
    gguf_writer_free(w);
    return rc;
}

/* Every linear layer, in file order (output last). */
static int all_linears(const octo_train_model *tm, const tm_linear **out, int cap) {
    int n = 0;
    for (int il = 0; il < tm->hp.n_layer; il++) {
        const tm_layer *L = &tm->layers[il];
        const tm_linear *ls[] = {&L->q, &L->k, &L->v, &L->qkv, &L->o, &L->gate, &L->up, &L->down};
        for (int k = 0; k < 8; k++)
            if (ls[k]->base && n < cap) out[n++] = ls[k];
    }
    if (n < cap) out[n++] = &tm->output;
    return n;
}

octo_lora *octo_tm_export_lora(const octo_train_model *tm) {
    if (tm->cfg.full) {
        octo_fail("train: a full fine-tuning run has no adapter to export");
        return NULL;
    }
    octo_lora *l = octo_lora_new(tm->hp.arch_name, tm->cfg.lora_alpha);
    if (!l) return NULL;
    l->rank = tm->lora_rank;
    int cap = 8 * tm->hp.n_layer + 1;
    const tm_linear **ls = malloc((size_t)cap * sizeof *ls);
    if (!ls) {
        octo_lora_free(l);
        octo_fail("train: out of memory");
        return NULL;
    }
    int n = all_linears(tm, ls, cap);
    for (int k = 0; k < n; k++) {
        const tm_linear *L = ls[k];
        if (!L->la) continue;
        int i = octo_lora_add(l, L->base->name, L->out, L->in, (int)L->la->rows);
        if (i < 0) {
            free(ls);
            octo_lora_free(l);
            return NULL;
        }
        memcpy(l->t[i].a, L->la->data, (size_t)L->la->n * sizeof(float));
        memcpy(l->t[i].b, L->lb->data, (size_t)L->lb->n * sizeof(float));
    }
    free(ls);
    return l;
}

int octo_tm_import_lora(octo_train_model *tm, const octo_lora *l) {
    if (tm->cfg.full) return octo_fail("train: cannot start full fine-tuning from an adapter");
    int cap = 8 * tm->hp.n_layer + 1;
    const tm_linear **ls = malloc((size_t)cap * sizeof *ls);
    if (!ls) return octo_fail("train: out of memory");
    int n = all_linears(tm, ls, cap), used = 0, rc = 0;
    for (int k = 0; k < n && rc == 0; k++) {
        const tm_linear *L = ls[k];
        if (!L->la) continue;
        int i = octo_lora_find(l, L->base->name);
        if (i < 0) {
            rc = octo_fail("adapter: no tensor for %s, which this run adapts (check --lora-targets)", L->base->name);
            break;
        }
        const octo_lora_tensor *t = &l->t[i];
        if (t->rows != L->out || t->cols != L->in || t->rank != L->la->rows) {
            rc = octo_fail("adapter: %s has shape %lld x %lld rank %d, the run expects %lld x %lld rank %lld",
                           L->base->name, (long long)t->rows, (long long)t->cols, t->rank, (long long)L->out,
                           (long long)L->in, (long long)L->la->rows);
            break;
        }
        memcpy(L->la->data, t->a, (size_t)L->la->n * sizeof(float));
        memcpy(L->lb->data, t->b, (size_t)L->lb->n * sizeof(float));
        used++;
    }
    if (rc == 0 && used != l->n)
        rc = octo_fail("adapter: it has %d tensors, but this run adapts only %d of them (check --lora-targets)", l->n,
                       used);
    free(ls);
    if (rc == 0) {
        /* continue with the adapter's own scale (alpha 0 means scale 1, as llama.cpp) */
        tm->cfg.lora_alpha = l->alpha > 0 ? l->alpha : (float)tm->lora_rank;
        tm->lora_scale = tm->cfg.lora_alpha / (float)tm->lora_rank;
    }
    return rc;
}
