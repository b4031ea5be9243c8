/* lora.c - the in-memory adapter: building, freeing, lookup, and the check
 * against a base model that every consumer (inference, merging, conversion)
 * runs before it trusts the shapes.
 */
#include "adapter/lora.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "adapter/lora_gguf.h"
#include "adapter/peft.h"
#include "base/error.h"
#include "model/model.h"

void octo_lora_free(octo_lora *l) {
    if (!l) return;
    for (int i = 0; i < l->n; i++) {
        free(l->t[i].base_name);
        free(l->t[i].a);
        free(l->t[i].b);
    }
    free(l->t);
    free(l->arch);
    free(l);
}

int octo_lora_find(const octo_lora *l, const char *base_name) {
    for (int i = 0; i < l->n; i++)
        if (strcmp(l->t[i].base_name, base_name) == 0) return i;
    return -1;
}

octo_lora *octo_lora_new(const char *arch, float alpha) {
    octo_lora *l = calloc(1, sizeof *l);
    if (!l || (arch && !(l->arch = strdup(arch)))) {
        free(l);
        octo_fail("adapter: out of memory");
        return NULL;
    }
    l->alpha = alpha;
    return l;
}

int octo_lora_add(octo_lora *l, const char *base_name, int64_t rows, int64_t cols, int rank) {
    /* 2^31 elements per matrix keeps every index in range on any platform */
    if (rows <= 0 || cols <= 0 || rank <= 0 || rows > (1 << 24) || cols > (1 << 24) || rank > (1 << 16) ||
        rows * rank > (int64_t)1 << 31 || cols * rank > (int64_t)1 << 31)
        return octo_fail("adapter: tensor %s: shape rows %lld, cols %lld, rank %d is out of range", base_name,
                         (long long)rows, (long long)cols, rank);
    if (octo_lora_find(l, base_name) >= 0) return octo_fail("adapter: tensor %s appears twice", base_name);
    octo_lora_tensor *t = realloc(l->t, (size_t)(l->n + 1) * sizeof *t);
    if (!t) return octo_fail("adapter: out of memory");
    l->t = t;
    octo_lora_tensor *x = &l->t[l->n];
    memset(x, 0, sizeof *x);
    x->base_name = strdup(base_name);
    x->a = calloc((size_t)(rank * cols), sizeof(float));
    x->b = calloc((size_t)(rows * rank), sizeof(float));
    if (!x->base_name || !x->a || !x->b) {
        free(x->base_name);
        free(x->a);
        free(x->b);
        return octo_fail("adapter: out of memory for tensor %s (%lld x %lld, rank %d)", base_name, (long long)rows,
                         (long long)cols, rank);
    }
    x->rows = rows;
    x->cols = cols;
    x->rank = rank;
    if (l->n == 0 || l->rank == 0) l->rank = rank;
    return l->n++;
}

float octo_lora_scale(const octo_lora *l, int i, float user_scale) {
    if (l->alpha == 0.0f) return user_scale;
    return user_scale * l->alpha / (float)l->t[i].rank;
}

int octo_lora_validate(const octo_lora *l, const octo_model *m) {
    if (l->arch && l->arch[0] && strcmp(l->arch, m->hp.arch_name) != 0)
        return octo_fail("adapter is for architecture \"%s\" but the model %s is \"%s\"", l->arch, m->path,
                         m->hp.arch_name);
    if (l->n == 0) return octo_fail("adapter has no tensors");
    for (int i = 0; i < l->n; i++) {
        const octo_lora_tensor *t = &l->t[i];
        const octo_weight *w = octo_model_weight(m, t->base_name);
        if (!w)
            return octo_fail("adapter tensor %s: the model %s has no such projection weight (wrong base model?)",
                             t->base_name, m->path);
        if (w->rows != t->rows || w->cols != t->cols)
            return octo_fail("adapter tensor %s is %lld x %lld (out x in) but the model's weight is %lld x %lld "
                             "(wrong base model?)",
                             t->base_name, (long long)t->rows, (long long)t->cols, (long long)w->rows,
                             (long long)w->cols);
    }
    return 0;
}

octo_lora *octo_lora_load(const char *path, const octo_model *base) {
    struct stat st;
    if (stat(path, &st) != 0) {
        octo_fail("%s: no such file or directory", path);
        return NULL;
    }
    octo_lora *l;
    if (S_ISDIR(st.st_mode)) {
        octo_peft_info info = {0};
        if (base) {
            info.arch = base->hp.arch_name;
            info.n_head = base->hp.n_head;
            info.n_head_kv = base->hp.n_head_kv;
        }
        l = octo_peft_load(path, &info);
    } else {
        l = octo_lora_load_gguf(path);
    }
    if (l && base && octo_lora_validate(l, base)) {
        octo_fail_context("%s", path);
        octo_lora_free(l);
        return NULL;
    }
    return l;
}

void octo_lora_print_info(const octo_lora *l, FILE *out) {
    int64_t params = 0;
    for (int i = 0; i < l->n; i++) params += (int64_t)l->t[i].rank * (l->t[i].rows + l->t[i].cols);
    fprintf(out, "architecture: %s\nalpha: %g\nrank: %d\ntensors: %d\nparameters: %lld\n",
            l->arch && l->arch[0] ? l->arch : "(unknown)", l->alpha, l->rank, l->n, (long long)params);
    fprintf(out, "%-32s %8s %8s %5s %8s\n", "base tensor", "out", "in", "rank", "scale");
    for (int i = 0; i < l->n; i++)
        fprintf(out, "%-32s %8lld %8lld %5d %8.4g\n", l->t[i].base_name, (long long)l->t[i].rows,
                (long long)l->t[i].cols, l->t[i].rank, octo_lora_scale(l, i, 1.0f));
}
