/* gguf_write.c - GGUF v3 writer (see gguf.h).
 *
 * Key/values are serialized into an owned byte buffer as they are set (so a
 * value copied from a reader does not depend on the reader staying open);
 * tensors are kept by pointer and streamed at write time, each padded to the
 * file's alignment.  The file appears atomically (temp file, fsync, rename).
 */
#include "gguf/gguf.h"

#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/file.h"

typedef struct {
    char *key;
    uint8_t *bytes; /* serialized: type + value (key excluded) */
    size_t n;
} wkv;

typedef struct {
    char *name;
    octo_type type;
    int n_dims;
    int64_t ne[GGUF_MAX_DIMS];
    const void *data;
    size_t nbytes;
} wtensor;

struct gguf_writer {
    wkv *kvs;
    size_t n_kv, cap_kv;
    wtensor *ts;
    size_t n_t, cap_t;
    int oom;
};

typedef struct {
    uint8_t *p;
    size_t n, cap;
    int oom;
} buf;

static void buf_put(buf *b, const void *data, size_t n) {
    if (b->oom) return;
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 64;
        while (cap < b->n + n) cap *= 2;
        uint8_t *p = realloc(b->p, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, data, n);
    b->n += n;
}
static void buf_u32(buf *b, uint32_t v) { buf_put(b, &v, 4); }
static void buf_u64(buf *b, uint64_t v) { buf_put(b, &v, 8); }
static void buf_str(buf *b, const char *s, uint64_t n) {
    buf_u64(b, n);
    buf_put(b, s, (size_t)n);
}

gguf_writer *gguf_writer_new(void) { return calloc(1, sizeof(gguf_writer)); }

void gguf_writer_free(gguf_writer *w) {
    if (!w) return;
    for (size_t i = 0; i < w->n_kv; i++) {
        free(w->kvs[i].key);
        free(w->kvs[i].bytes);
    }
    for (size_t i = 0; i < w->n_t; i++) free(w->ts[i].name);
    free(w->kvs);
    free(w->ts);
    free(w);
}

void gguf_remove_key(gguf_writer *w, const char *key) {
    for (size_t i = 0; i < w->n_kv; i++) {
        if (strcmp(w->kvs[i].key, key) == 0) {
            free(w->kvs[i].key);
            free(w->kvs[i].bytes);
            memmove(&w->kvs[i], &w->kvs[i + 1], (w->n_kv - i - 1) * sizeof(wkv));
            w->n_kv--;
            return;
        }
    }
}

/* Store a serialized value under key, replacing an earlier one in place so
 * the key order of a copied file is kept. Takes ownership of b. */
static void put_kv(gguf_writer *w, const char *key, buf *b) {
    if (b->oom) {
        w->oom = 1;
        free(b->p);
        return;
    }
    for (size_t i = 0; i < w->n_kv; i++) {
        if (strcmp(w->kvs[i].key, key) == 0) {
            free(w->kvs[i].bytes);
            w->kvs[i].bytes = b->p;
            w->kvs[i].n = b->n;
            return;
        }
    }
    if (w->n_kv == w->cap_kv) {
        size_t cap = w->cap_kv ? w->cap_kv * 2 : 32;
        wkv *p = realloc(w->kvs, cap * sizeof(wkv));
        if (!p) {
            w->oom = 1;
            free(b->p);
            return;
        }
        w->kvs = p;
        w->cap_kv = cap;
    }
    w->kvs[w->n_kv].key = strdup(key);
    w->kvs[w->n_kv].bytes = b->p;
    w->kvs[w->n_kv].n = b->n;
    if (!w->kvs[w->n_kv].key) w->oom = 1;
    w->n_kv++;
}

static void set_scalar(gguf_writer *w, const char *key, gguf_type t, const void *v, size_t n) {
    buf b = {0};
    buf_u32(&b, t);
    buf_put(&b, v, n);
    put_kv(w, key, &b);
}

void gguf_set_u32(gguf_writer *w, const char *key, uint32_t v) { set_scalar(w, key, GGUF_TYPE_UINT32, &v, 4); }
void gguf_set_i32(gguf_writer *w, const char *key, int32_t v) { set_scalar(w, key, GGUF_TYPE_INT32, &v, 4); }
void gguf_set_u64(gguf_writer *w, const char *key, uint64_t v) { set_scalar(w, key, GGUF_TYPE_UINT64, &v, 8); }
void gguf_set_f32(gguf_writer *w, const char *key, float v) { set_scalar(w, key, GGUF_TYPE_FLOAT32, &v, 4); }
void gguf_set_bool(gguf_writer *w, const char *key, bool v) {
    uint8_t b = v ? 1 : 0;
    set_scalar(w, key, GGUF_TYPE_BOOL, &b, 1);
}

void gguf_set_str(gguf_writer *w, const char *key, const char *v) {
    buf b = {0};
    buf_u32(&b, GGUF_TYPE_STRING);
    buf_str(&b, v, strlen(v));
    put_kv(w, key, &b);
}

static size_t elem_size(gguf_type t) {
    switch (t) {
    case GGUF_TYPE_UINT8: case GGUF_TYPE_INT8: case GGUF_TYPE_BOOL: return 1;
    case GGUF_TYPE_UINT16: case GGUF_TYPE_INT16: return 2;
    case GGUF_TYPE_UINT32: case GGUF_TYPE_INT32: case GGUF_TYPE_FLOAT32: return 4;
    case GGUF_TYPE_UINT64: case GGUF_TYPE_INT64: case GGUF_TYPE_FLOAT64: return 8;
    default: return 0;
    }
}

void gguf_set_arr(gguf_writer *w, const char *key, gguf_type elem_type, const void *data, uint64_t n) {
    buf b = {0};
    buf_u32(&b, GGUF_TYPE_ARRAY);
    buf_u32(&b, elem_type);
    buf_u64(&b, n);
    buf_put(&b, data, (size_t)n * elem_size(elem_type));
    put_kv(w, key, &b);
}

void gguf_set_arr_str(gguf_writer *w, const char *key, const char *const *strs, uint64_t n) {
    buf b = {0};
    buf_u32(&b, GGUF_TYPE_ARRAY);
    buf_u32(&b, GGUF_TYPE_STRING);
    buf_u64(&b, n);
    for (uint64_t i = 0; i < n; i++) buf_str(&b, strs[i], strlen(strs[i]));
    put_kv(w, key, &b);
}

void gguf_set_arr_strn(gguf_writer *w, const char *key, const gguf_str *strs, uint64_t n) {
    buf b = {0};
    buf_u32(&b, GGUF_TYPE_ARRAY);
    buf_u32(&b, GGUF_TYPE_STRING);
    buf_u64(&b, n);
    for (uint64_t i = 0; i < n; i++) buf_str(&b, strs[i].ptr, strs[i].len);
    put_kv(w, key, &b);
}

void gguf_set_kv(gguf_writer *w, const gguf_kv *kv) {
    char *key = malloc((size_t)kv->key.len + 1);
    if (!key) {
        w->oom = 1;
        return;
    }
    memcpy(key, kv->key.ptr, (size_t)kv->key.len);
    key[kv->key.len] = 0;
    buf b = {0};
    buf_u32(&b, kv->type);
    switch (kv->type) {
    case GGUF_TYPE_STRING: buf_str(&b, kv->v.str.ptr, kv->v.str.len); break;
    case GGUF_TYPE_ARRAY:
        buf_u32(&b, kv->arr_type);
        buf_u64(&b, kv->arr_n);
        if (kv->arr_type == GGUF_TYPE_STRING)
            for (uint64_t i = 0; i < kv->arr_n; i++) buf_str(&b, kv->arr_strs[i].ptr, kv->arr_strs[i].len);
        else
            buf_put(&b, kv->arr_data, (size_t)kv->arr_n * elem_size(kv->arr_type));
        break;
    case GGUF_TYPE_FLOAT32: {
        float f = (float)kv->v.f64;
        buf_put(&b, &f, 4);
        break;
    }
    case GGUF_TYPE_FLOAT64: buf_put(&b, &kv->v.f64, 8); break;
    default: {
        /* integers and bool: little-endian low bytes of the 64-bit value */
        uint64_t u = kv->v.u64;
        buf_put(&b, &u, elem_size(kv->type));
        break;
    }
    }
    put_kv(w, key, &b);
    free(key);
}

int gguf_add_tensor(gguf_writer *w, const char *name, octo_type type, int n_dims, const int64_t *ne,
                    const void *data) {
    const octo_type_traits *tr = octo_type_info((int)type);
    if (!tr || tr->block_size <= 0 || tr->type_size == 0) return octo_fail("tensor %s: unknown type %d", name, (int)type);
    if (n_dims < 1 || n_dims > GGUF_MAX_DIMS) return octo_fail("tensor %s: n_dims %d, expected 1..4", name, n_dims);
    if (ne[0] <= 0 || ne[0] % tr->block_size != 0)
        return octo_fail("tensor %s: row length %lld is not a multiple of the %s block size %lld", name,
                         (long long)ne[0], tr->name, (long long)tr->block_size);
    for (size_t i = 0; i < w->n_t; i++)
        if (strcmp(w->ts[i].name, name) == 0) return octo_fail("tensor %s added twice", name);
    if (w->n_t == w->cap_t) {
        size_t cap = w->cap_t ? w->cap_t * 2 : 64;
        wtensor *p = realloc(w->ts, cap * sizeof(wtensor));
        if (!p) return octo_fail("tensor %s: out of memory", name);
        w->ts = p;
        w->cap_t = cap;
    }
    wtensor *t = &w->ts[w->n_t];
    memset(t, 0, sizeof *t);
    t->name = strdup(name);
    if (!t->name) return octo_fail("tensor %s: out of memory", name);
    t->type = type;
    t->n_dims = n_dims;
    int64_t rows = 1;
    for (int d = 0; d < GGUF_MAX_DIMS; d++) {
        t->ne[d] = d < n_dims ? ne[d] : 1;
        if (t->ne[d] <= 0) {
            free(t->name);
            return octo_fail("tensor %s: dimension %d is %lld", name, d, (long long)t->ne[d]);
        }
        if (d > 0) rows *= t->ne[d];
    }
    t->nbytes = octo_row_size(type, t->ne[0]) * (size_t)rows;
    t->data = data;
    w->n_t++;
    return 0;
}

static size_t pad_to(size_t x, size_t a) { return (x + a - 1) / a * a; }

int gguf_writer_write(gguf_writer *w, const char *path) {
    if (w->oom) return octo_fail("%s: out of memory while building the file", path);
    size_t alignment = GGUF_DEFAULT_ALIGNMENT;
    /* header + kv + tensor infos, into one buffer */
    buf h = {0};
    buf_put(&h, "GGUF", 4);
    buf_u32(&h, 3);
    buf_u64(&h, w->n_t);
    buf_u64(&h, w->n_kv);
    for (size_t i = 0; i < w->n_kv; i++) {
        buf_str(&h, w->kvs[i].key, strlen(w->kvs[i].key));
        buf_put(&h, w->kvs[i].bytes, w->kvs[i].n);
        if (strcmp(w->kvs[i].key, "general.alignment") == 0 && w->kvs[i].n == 8) {
            uint32_t a;
            memcpy(&a, w->kvs[i].bytes + 4, 4);
            if (a && (a & (a - 1)) == 0) alignment = a;
        }
    }
    size_t off = 0;
    for (size_t i = 0; i < w->n_t; i++) {
        wtensor *t = &w->ts[i];
        buf_str(&h, t->name, strlen(t->name));
        buf_u32(&h, (uint32_t)t->n_dims);
        for (int d = 0; d < t->n_dims; d++) buf_u64(&h, (uint64_t)t->ne[d]);
        buf_u32(&h, (uint32_t)t->type);
        buf_u64(&h, off);
        off = pad_to(off + t->nbytes, alignment);
    }
    if (h.oom) {
        free(h.p);
        return octo_fail("%s: out of memory", path);
    }
    static const uint8_t zeros[4096];
    size_t hdr_pad = pad_to(h.n, alignment) - h.n;
    octo_atomic_file af;
    if (octo_atomic_open(&af, path) != 0) {
        free(h.p);
        return -1;
    }
    int ok = fwrite(h.p, 1, h.n, af.fp) == h.n;
    free(h.p);
    if (w->n_t) ok = ok && fwrite(zeros, 1, hdr_pad, af.fp) == hdr_pad;
    for (size_t i = 0; ok && i < w->n_t; i++) {
        wtensor *t = &w->ts[i];
        ok = fwrite(t->data, 1, t->nbytes, af.fp) == t->nbytes;
        size_t pad = pad_to(t->nbytes, alignment) - t->nbytes;
        while (ok && pad > 0) {
            size_t k = pad > sizeof zeros ? sizeof zeros : pad;
            ok = fwrite(zeros, 1, k, af.fp) == k;
            pad -= k;
        }
    }
    if (!ok) {
        octo_atomic_abort(&af);
        return octo_fail("%s: write failed", path);
    }
    return octo_atomic_commit(&af);
}
