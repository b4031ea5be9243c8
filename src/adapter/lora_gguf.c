/* lora_gguf.c - read and write adapters in llama.cpp's GGUF layout (see
 * lora_gguf.h).  Reading checks what llama.cpp's loader checks (type keys,
 * every lora_a paired with a lora_b, A's rank equal to B's) so that a file
 * octo accepts is one llama.cpp accepts, and the other way round.
 */
#include "adapter/lora_gguf.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "gguf/gguf.h"
#include "tensor/ops.h"

static bool ends_with(gguf_str s, const char *suffix, size_t *stem) {
    size_t n = strlen(suffix);
    if (s.len <= n || memcmp(s.ptr + s.len - n, suffix, n) != 0) return false;
    *stem = (size_t)s.len - n;
    return true;
}

/* rows x cols elements of a 2-D tensor into dst as F32. */
static int read_matrix(const gguf_file *f, const gguf_tensor *t, float *dst) {
    const octo_type_traits *tr = octo_type_info(t->type);
    if (!tr || !tr->supported || t->type == OCTO_TYPE_Q8_K)
        return octo_fail("%s: tensor %.*s has type %s; adapters are read in F32, F16, BF16, Q8_0, Q4_0, Q4_K or "
                         "Q6_K",
                         f->path, (int)t->name.len, t->name.ptr, octo_type_name(t->type));
    size_t row = octo_row_size(t->type, t->ne[0]);
    for (int64_t r = 0; r < t->ne[1]; r++)
        octo_dequantize_row(t->type, (const uint8_t *)t->data + (size_t)r * row, dst + r * t->ne[0], t->ne[0]);
    for (int64_t i = 0; i < t->ne[0] * t->ne[1]; i++)
        if (!isfinite(dst[i]))
            return octo_fail("%s: tensor %.*s holds a NaN or infinity", f->path, (int)t->name.len, t->name.ptr);
    return 0;
}

static int check_str(const gguf_file *f, const char *key, const char *want) {
    char *v = NULL;
    int rc = gguf_get_str(f, key, &v);
    if (rc < 0) return -1;
    if (rc == 1) return octo_fail("%s: missing key %s (expected \"%s\"; is this a LoRA adapter?)", f->path, key, want);
    if (strcmp(v, want) != 0) {
        octo_fail("%s: %s is \"%s\", expected \"%s\"", f->path, key, v, want);
        free(v);
        return -1;
    }
    free(v);
    return 0;
}

/* Takes ownership of f. */
static octo_lora *from_gguf(gguf_file *f) {
    if (!f) return NULL;
    const char *path = f->path;
    octo_lora *l = NULL;
    char *arch = NULL;
    float alpha = 0.0f;
    if (check_str(f, "general.type", "adapter") || check_str(f, "adapter.type", "lora")) goto fail;
    if (gguf_get_f32(f, "adapter.lora.alpha", &alpha) < 0) goto fail;
    if (!isfinite(alpha)) {
        octo_fail("%s: adapter.lora.alpha is not a finite number", path);
        goto fail;
    }
    if (gguf_get_str(f, "general.architecture", &arch) < 0) goto fail;
    if (!(l = octo_lora_new(arch, alpha))) goto fail;
    for (uint64_t i = 0; i < f->n_tensors; i++) {
        const gguf_tensor *ta = &f->tensors[i];
        size_t stem;
        if (ends_with(ta->name, ".lora_b", &stem)) {
            char name[300];
            if (stem + 8 > sizeof name) continue; /* reported below as unpaired if no lora_a */
            snprintf(name, sizeof name, "%.*s.lora_a", (int)stem, ta->name.ptr);
            if (!gguf_find_tensor(f, name)) {
                octo_fail("%s: tensor %.*s has no matching .lora_a", path, (int)ta->name.len, ta->name.ptr);
                goto fail;
            }
            continue;
        }
        if (!ends_with(ta->name, ".lora_a", &stem)) {
            octo_fail("%s: tensor %.*s is neither <name>.lora_a nor <name>.lora_b", path, (int)ta->name.len,
                      ta->name.ptr);
            goto fail;
        }
        char base[256], bname[300];
        if (stem >= sizeof base) {
            octo_fail("%s: tensor name of %zu bytes is too long", path, stem);
            goto fail;
        }
        snprintf(base, sizeof base, "%.*s", (int)stem, ta->name.ptr);
        snprintf(bname, sizeof bname, "%s.lora_b", base);
        const gguf_tensor *tb = gguf_find_tensor(f, bname);
        if (!tb) {
            octo_fail("%s: tensor %s.lora_a has no matching .lora_b", path, base);
            goto fail;
        }
        if (ta->n_dims != 2 || tb->n_dims != 2) {
            octo_fail("%s: %s: lora_a and lora_b must be 2-D", path, base);
            goto fail;
        }
        /* A: ne [in, rank]; B: ne [rank, out] */
        if (ta->ne[1] != tb->ne[0]) {
            octo_fail("%s: %s: lora_a has rank %lld but lora_b %lld (lora_a must be stored [in, rank], lora_b "
                      "[rank, out])",
                      path, base, (long long)ta->ne[1], (long long)tb->ne[0]);
            goto fail;
        }
        int64_t rank = ta->ne[1], cols = ta->ne[0], rows = tb->ne[1];
        if (rank > (1 << 16)) {
            octo_fail("%s: %s: rank %lld is out of range", path, base, (long long)rank);
            goto fail;
        }
        int k = octo_lora_add(l, base, rows, cols, (int)rank);
        if (k < 0) {
            octo_fail_context("%s", path);
            goto fail;
        }
        if (read_matrix(f, ta, l->t[k].a) || read_matrix(f, tb, l->t[k].b)) goto fail;
    }
    if (l->n == 0) {
        octo_fail("%s: the adapter holds no lora_a/lora_b tensors", path);
        goto fail;
    }
    free(arch);
    gguf_close(f);
    return l;
fail:
    octo_lora_free(l);
    free(arch);
    gguf_close(f);
    return NULL;
}

octo_lora *octo_lora_load_gguf(const char *path) { return from_gguf(gguf_open(path)); }

octo_lora *octo_lora_load_gguf_buffer(const void *data, size_t size, const char *name) {
    return from_gguf(gguf_open_buffer(data, size, name));
}

int octo_lora_save_gguf(const octo_lora *l, const char *path) {
    if (!l->arch || !l->arch[0])
        return octo_fail("%s: the adapter does not name its architecture (give the base model)", path);
    gguf_writer *w = gguf_writer_new();
    if (!w) return octo_fail("%s: out of memory", path);
    gguf_set_str(w, "general.architecture", l->arch);
    gguf_set_str(w, "general.type", "adapter");
    gguf_set_str(w, "adapter.type", "lora");
    gguf_set_f32(w, "adapter.lora.alpha", l->alpha);
    int rc = 0;
    for (int i = 0; i < l->n && rc == 0; i++) {
        const octo_lora_tensor *t = &l->t[i];
        char name[300];
        int64_t ne_a[2] = {t->cols, t->rank}, ne_b[2] = {t->rank, t->rows};
        snprintf(name, sizeof name, "%s.lora_a", t->base_name);
        rc = gguf_add_tensor(w, name, OCTO_TYPE_F32, 2, ne_a, t->a);
        snprintf(name, sizeof name, "%s.lora_b", t->base_name);
        if (rc == 0) rc = gguf_add_tensor(w, name, OCTO_TYPE_F32, 2, ne_b, t->b);
    }
    if (rc == 0) rc = gguf_writer_write(w, path);
    gguf_writer_free(w);
    return rc;
}
