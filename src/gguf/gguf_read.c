/* gguf_read.c - validating, zero-copy GGUF reader (see gguf.h).
 *
 * Layout of a GGUF file (all little-endian):
 *   magic "GGUF" | u32 version | u64 n_tensors | u64 n_kv
 *   n_kv x (string key | u32 type | value)
 *   n_tensors x (string name | u32 n_dims | n_dims x u64 ne | u32 type | u64 offset)
 *   padding to general.alignment (default 32) | tensor data
 * A string is u64 length + bytes; an array is u32 elem type + u64 n + elems.
 *
 * Every read goes through a cursor that knows how many bytes remain, so no
 * count or length in the file can make us read past its end; counts are also
 * checked against what the remaining bytes could possibly hold before any
 * allocation, so a hostile n_kv of 2^63 fails fast instead of allocating.
 */
#include "gguf/gguf.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/file.h"

typedef struct {
    const uint8_t *p;
    size_t left;
    const uint8_t *base;
    const char *path;
} cursor;

static size_t cur_pos(const cursor *c) { return (size_t)(c->p - c->base); }

static int take(cursor *c, size_t n, const void **out, const char *what) {
    if (n > c->left)
        return octo_fail("%s: truncated at byte %zu reading %s (need %zu bytes, %zu left)", c->path, cur_pos(c),
                         what, n, c->left);
    *out = c->p;
    c->p += n;
    c->left -= n;
    return 0;
}

static int rd_u32(cursor *c, uint32_t *v, const char *what) {
    const void *p = NULL;
    if (take(c, 4, &p, what)) return -1;
    memcpy(v, p, 4);
    return 0;
}

static int rd_u64(cursor *c, uint64_t *v, const char *what) {
    const void *p = NULL;
    if (take(c, 8, &p, what)) return -1;
    memcpy(v, p, 8);
    return 0;
}

static int rd_str(cursor *c, gguf_str *s, const char *what) {
    uint64_t n;
    if (rd_u64(c, &n, what)) return -1;
    if (n > c->left)
        return octo_fail("%s: %s: string length %llu exceeds the %zu bytes left in the file", c->path, what,
                         (unsigned long long)n, c->left);
    const void *p = NULL;
    take(c, (size_t)n, &p, what);
    s->len = n;
    s->ptr = p;
    return 0;
}

static size_t scalar_size(gguf_type t) {
    switch (t) {
    case GGUF_TYPE_UINT8:
    case GGUF_TYPE_INT8:
    case GGUF_TYPE_BOOL: return 1;
    case GGUF_TYPE_UINT16:
    case GGUF_TYPE_INT16: return 2;
    case GGUF_TYPE_UINT32:
    case GGUF_TYPE_INT32:
    case GGUF_TYPE_FLOAT32: return 4;
    case GGUF_TYPE_UINT64:
    case GGUF_TYPE_INT64:
    case GGUF_TYPE_FLOAT64: return 8;
    default: return 0;
    }
}

const char *gguf_type_name(gguf_type t) {
    static const char *names[] = {"u8", "i8", "u16", "i16", "u32", "i32", "f32",
                                  "bool", "string", "array", "u64", "i64", "f64"};
    return (unsigned)t < GGUF_TYPE_COUNT ? names[t] : "?";
}

/* Decode a scalar value at p of type t into kv->v. */
static void decode_scalar(gguf_kv *kv, gguf_type t, const uint8_t *p) {
    switch (t) {
    case GGUF_TYPE_UINT8: kv->v.u64 = p[0]; break;
    case GGUF_TYPE_INT8: kv->v.i64 = (int8_t)p[0]; break;
    case GGUF_TYPE_BOOL: kv->v.u64 = p[0] != 0; break;
    case GGUF_TYPE_UINT16: { uint16_t x; memcpy(&x, p, 2); kv->v.u64 = x; break; }
    case GGUF_TYPE_INT16: { int16_t x; memcpy(&x, p, 2); kv->v.i64 = x; break; }
    case GGUF_TYPE_UINT32: { uint32_t x; memcpy(&x, p, 4); kv->v.u64 = x; break; }
    case GGUF_TYPE_INT32: { int32_t x; memcpy(&x, p, 4); kv->v.i64 = x; break; }
    case GGUF_TYPE_FLOAT32: { float x; memcpy(&x, p, 4); kv->v.f64 = x; break; }
    case GGUF_TYPE_UINT64: { uint64_t x; memcpy(&x, p, 8); kv->v.u64 = x; break; }
    case GGUF_TYPE_INT64: { int64_t x; memcpy(&x, p, 8); kv->v.i64 = x; break; }
    case GGUF_TYPE_FLOAT64: { double x; memcpy(&x, p, 8); kv->v.f64 = x; break; }
    default: break;
    }
}

static int read_kv(cursor *c, gguf_kv *kv, uint64_t idx) {
    char what[96];
    snprintf(what, sizeof what, "key #%llu", (unsigned long long)idx);
    if (rd_str(c, &kv->key, what)) return -1;
    if (kv->key.len == 0) return octo_fail("%s: key #%llu is empty", c->path, (unsigned long long)idx);
    int klen = kv->key.len > 64 ? 64 : (int)kv->key.len;
    snprintf(what, sizeof what, "value of %.*s", klen, kv->key.ptr);
    uint32_t t;
    if (rd_u32(c, &t, what)) return -1;
    if (t >= GGUF_TYPE_COUNT) return octo_fail("%s: %s: unknown value type %u", c->path, what, t);
    kv->type = (gguf_type)t;
    if (t == GGUF_TYPE_STRING) return rd_str(c, &kv->v.str, what);
    if (t != GGUF_TYPE_ARRAY) {
        const void *p = NULL;
        if (take(c, scalar_size(kv->type), &p, what)) return -1;
        decode_scalar(kv, kv->type, p);
        return 0;
    }
    uint32_t et;
    uint64_t n;
    if (rd_u32(c, &et, what) || rd_u64(c, &n, what)) return -1;
    if (et >= GGUF_TYPE_COUNT || et == GGUF_TYPE_ARRAY)
        return octo_fail("%s: %s: unsupported array element type %u", c->path, what, et);
    kv->arr_type = (gguf_type)et;
    kv->arr_n = n;
    if (et == GGUF_TYPE_STRING) {
        /* each string needs at least its 8-byte length */
        if (n > c->left / 8)
            return octo_fail("%s: %s: array of %llu strings cannot fit in the %zu bytes left", c->path, what,
                             (unsigned long long)n, c->left);
        kv->arr_strs = malloc((size_t)(n ? n : 1) * sizeof(gguf_str));
        if (!kv->arr_strs) return octo_fail("%s: %s: out of memory", c->path, what);
        for (uint64_t i = 0; i < n; i++)
            if (rd_str(c, &kv->arr_strs[i], what)) return -1;
        return 0;
    }
    size_t es = scalar_size(kv->arr_type);
    if (n > c->left / es)
        return octo_fail("%s: %s: array of %llu %s elements exceeds the %zu bytes left", c->path, what,
                         (unsigned long long)n, gguf_type_name(kv->arr_type), c->left);
    const void *p = NULL;
    take(c, (size_t)n * es, &p, what);
    kv->arr_data = p;
    return 0;
}

static int read_tensor_info(cursor *c, gguf_tensor *t, uint64_t idx) {
    char what[96];
    snprintf(what, sizeof what, "tensor #%llu name", (unsigned long long)idx);
    if (rd_str(c, &t->name, what)) return -1;
    int nlen = t->name.len > 64 ? 64 : (int)t->name.len;
    snprintf(what, sizeof what, "tensor %.*s", nlen, t->name.ptr);
    if (rd_u32(c, &t->n_dims, what)) return -1;
    if (t->n_dims < 1 || t->n_dims > GGUF_MAX_DIMS)
        return octo_fail("%s: %s: n_dims %u, expected 1..%d", c->path, what, t->n_dims, GGUF_MAX_DIMS);
    int64_t total = 1;
    for (int d = 0; d < GGUF_MAX_DIMS; d++) t->ne[d] = 1;
    for (uint32_t d = 0; d < t->n_dims; d++) {
        uint64_t ne;
        if (rd_u64(c, &ne, what)) return -1;
        if (ne == 0 || ne > (uint64_t)INT64_MAX / 2)
            return octo_fail("%s: %s: dimension %u is %llu, expected 1..2^62", c->path, what, d,
                             (unsigned long long)ne);
        if ((uint64_t)total > (uint64_t)INT64_MAX / ne)
            return octo_fail("%s: %s: element count overflows", c->path, what);
        total *= (int64_t)ne;
        t->ne[d] = (int64_t)ne;
    }
    uint32_t type;
    if (rd_u32(c, &type, what) || rd_u64(c, &t->offset, what)) return -1;
    const octo_type_traits *tr = octo_type_info((int)type);
    if (!tr || tr->block_size <= 0 || tr->type_size == 0)
        return octo_fail("%s: %s: unknown tensor type id %u", c->path, what, type);
    t->type = (octo_type)type;
    if (t->ne[0] % tr->block_size != 0)
        return octo_fail("%s: %s: row length %lld is not a multiple of the %s block size %lld", c->path, what,
                         (long long)t->ne[0], tr->name, (long long)tr->block_size);
    uint64_t blocks = (uint64_t)total / (uint64_t)tr->block_size;
    if (blocks > SIZE_MAX / tr->type_size) return octo_fail("%s: %s: byte size overflows", c->path, what);
    t->nbytes = (size_t)blocks * tr->type_size;
    return 0;
}

static void free_kvs(gguf_file *f) {
    if (!f->kv) return;
    for (uint64_t i = 0; i < f->n_kv; i++) free(f->kv[i].arr_strs);
    free(f->kv);
    f->kv = NULL;
}

void gguf_close(gguf_file *f) {
    if (!f) return;
    free_kvs(f);
    free(f->tensors);
    if (f->owns_mapping) {
        octo_mapping m = {f->base, f->size};
        octo_unmap(&m);
    }
    free(f->path);
    free(f);
}

static gguf_file *parse(gguf_file *f) {
    cursor c = {f->base, f->size, f->base, f->path};
    const void *magic = NULL;
    if (take(&c, 4, &magic, "magic")) return NULL;
    if (memcmp(magic, "GGUF", 4) != 0) {
        octo_fail("%s: not a GGUF file (bad magic)", f->path);
        return NULL;
    }
    if (rd_u32(&c, &f->version, "version")) return NULL;
    if (f->version < 2 || f->version > 3) {
        octo_fail("%s: GGUF version %u, expected 2 or 3", f->path, f->version);
        return NULL;
    }
    if (rd_u64(&c, &f->n_tensors, "tensor count") || rd_u64(&c, &f->n_kv, "key/value count")) return NULL;
    /* smallest kv: 8 (key len) + 1 (key) + 4 (type) + 1 (u8) bytes;
       smallest tensor info: 8 + 1 + 4 + 8 + 4 + 8 bytes */
    if (f->n_kv > c.left / 14) {
        octo_fail("%s: key/value count %llu cannot fit in a %zu-byte file", f->path,
                  (unsigned long long)f->n_kv, f->size);
        return NULL;
    }
    if (f->n_tensors > c.left / 33) {
        octo_fail("%s: tensor count %llu cannot fit in a %zu-byte file", f->path,
                  (unsigned long long)f->n_tensors, f->size);
        return NULL;
    }
    f->kv = calloc((size_t)(f->n_kv ? f->n_kv : 1), sizeof(gguf_kv));
    f->tensors = calloc((size_t)(f->n_tensors ? f->n_tensors : 1), sizeof(gguf_tensor));
    if (!f->kv || !f->tensors) {
        octo_fail("%s: out of memory", f->path);
        return NULL;
    }
    for (uint64_t i = 0; i < f->n_kv; i++)
        if (read_kv(&c, &f->kv[i], i)) return NULL;

    f->alignment = GGUF_DEFAULT_ALIGNMENT;
    const gguf_kv *al = gguf_find_kv(f, "general.alignment");
    if (al) {
        if (al->type != GGUF_TYPE_UINT32 || al->v.u64 == 0 || (al->v.u64 & (al->v.u64 - 1)) != 0 ||
            al->v.u64 > (1u << 20)) {
            octo_fail("%s: general.alignment must be a u32 power of two, up to 1 MiB", f->path);
            return NULL;
        }
        f->alignment = (size_t)al->v.u64;
    }

    for (uint64_t i = 0; i < f->n_tensors; i++)
        if (read_tensor_info(&c, &f->tensors[i], i)) return NULL;

    size_t pos = cur_pos(&c);
    size_t data_off = (pos + f->alignment - 1) / f->alignment * f->alignment;
    if (f->n_tensors > 0 && data_off > f->size) {
        octo_fail("%s: truncated before the tensor data section (offset %zu, file %zu bytes)", f->path,
                  data_off, f->size);
        return NULL;
    }
    f->data_offset = data_off;
    size_t data_size = f->size > data_off ? f->size - data_off : 0;
    for (uint64_t i = 0; i < f->n_tensors; i++) {
        gguf_tensor *t = &f->tensors[i];
        int nlen = t->name.len > 64 ? 64 : (int)t->name.len;
        if (t->offset % f->alignment != 0) {
            octo_fail("%s: tensor %.*s: data offset %llu is not aligned to %zu", f->path, nlen, t->name.ptr,
                      (unsigned long long)t->offset, f->alignment);
            return NULL;
        }
        if (t->offset > data_size || t->nbytes > data_size - t->offset) {
            octo_fail("%s: tensor %.*s: data [%llu, +%zu) extends past the end of the file (%zu data bytes)",
                      f->path, nlen, t->name.ptr, (unsigned long long)t->offset, t->nbytes, data_size);
            return NULL;
        }
        t->data = f->base + data_off + t->offset;
        for (uint64_t j = 0; j < i; j++) {
            if (f->tensors[j].name.len == t->name.len &&
                memcmp(f->tensors[j].name.ptr, t->name.ptr, t->name.len) == 0) {
                octo_fail("%s: tensor %.*s appears twice", f->path, nlen, t->name.ptr);
                return NULL;
            }
        }
    }
    return f;
}

static gguf_file *open_common(const uint8_t *data, size_t size, const char *name, int owns) {
    gguf_file *f = calloc(1, sizeof *f);
    if (!f) {
        octo_fail("%s: out of memory", name);
        return NULL;
    }
    f->path = strdup(name);
    f->base = data;
    f->size = size;
    f->owns_mapping = owns;
    if (!f->path || !parse(f)) {
        if (!f->path) octo_fail("out of memory");
        gguf_close(f);
        return NULL;
    }
    return f;
}

gguf_file *gguf_open(const char *path) {
    octo_mapping m;
    if (octo_map_file(path, &m) != 0) return NULL;
    gguf_file *f = open_common(m.data, m.size, path, 1);
    if (!f) octo_unmap(&m);
    return f;
}

gguf_file *gguf_open_buffer(const void *data, size_t size, const char *name) {
    return open_common(data, size, name ? name : "<memory>", 0);
}

bool gguf_str_eq(gguf_str s, const char *c) {
    size_t n = strlen(c);
    return s.len == n && memcmp(s.ptr, c, n) == 0;
}

const gguf_kv *gguf_find_kv(const gguf_file *f, const char *key) {
    for (uint64_t i = 0; i < f->n_kv; i++)
        if (gguf_str_eq(f->kv[i].key, key)) return &f->kv[i];
    return NULL;
}

const gguf_tensor *gguf_find_tensor(const gguf_file *f, const char *name) {
    for (uint64_t i = 0; i < f->n_tensors; i++)
        if (gguf_str_eq(f->tensors[i].name, name)) return &f->tensors[i];
    return NULL;
}

int64_t gguf_tensor_nelements(const gguf_tensor *t) { return t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3]; }

static bool is_unsigned(gguf_type t) {
    return t == GGUF_TYPE_UINT8 || t == GGUF_TYPE_UINT16 || t == GGUF_TYPE_UINT32 || t == GGUF_TYPE_UINT64 ||
           t == GGUF_TYPE_BOOL;
}
static bool is_signed(gguf_type t) {
    return t == GGUF_TYPE_INT8 || t == GGUF_TYPE_INT16 || t == GGUF_TYPE_INT32 || t == GGUF_TYPE_INT64;
}

int gguf_get_i64(const gguf_file *f, const char *key, int64_t *out) {
    const gguf_kv *kv = gguf_find_kv(f, key);
    if (!kv) return 1;
    if (is_signed(kv->type)) *out = kv->v.i64;
    else if (is_unsigned(kv->type) && kv->type != GGUF_TYPE_BOOL) {
        if (kv->v.u64 > (uint64_t)INT64_MAX) return octo_fail("%s: %s: value too large", f->path, key);
        *out = (int64_t)kv->v.u64;
    } else
        return octo_fail("%s: %s: expected an integer, found %s", f->path, key, gguf_type_name(kv->type));
    return 0;
}

int gguf_get_u32(const gguf_file *f, const char *key, uint32_t *out) {
    int64_t v;
    int rc = gguf_get_i64(f, key, &v);
    if (rc) return rc;
    if (v < 0 || v > (int64_t)UINT32_MAX)
        return octo_fail("%s: %s: value %lld out of range for u32", f->path, key, (long long)v);
    *out = (uint32_t)v;
    return 0;
}

int gguf_get_f32(const gguf_file *f, const char *key, float *out) {
    const gguf_kv *kv = gguf_find_kv(f, key);
    if (!kv) return 1;
    if (kv->type == GGUF_TYPE_FLOAT32 || kv->type == GGUF_TYPE_FLOAT64) *out = (float)kv->v.f64;
    else if (is_signed(kv->type)) *out = (float)kv->v.i64;
    else if (is_unsigned(kv->type) && kv->type != GGUF_TYPE_BOOL) *out = (float)kv->v.u64;
    else return octo_fail("%s: %s: expected a number, found %s", f->path, key, gguf_type_name(kv->type));
    return 0;
}

int gguf_get_bool(const gguf_file *f, const char *key, bool *out) {
    const gguf_kv *kv = gguf_find_kv(f, key);
    if (!kv) return 1;
    if (kv->type != GGUF_TYPE_BOOL)
        return octo_fail("%s: %s: expected bool, found %s", f->path, key, gguf_type_name(kv->type));
    *out = kv->v.u64 != 0;
    return 0;
}

int gguf_get_str(const gguf_file *f, const char *key, char **out) {
    const gguf_kv *kv = gguf_find_kv(f, key);
    if (!kv) return 1;
    if (kv->type != GGUF_TYPE_STRING)
        return octo_fail("%s: %s: expected string, found %s", f->path, key, gguf_type_name(kv->type));
    char *s = malloc((size_t)kv->v.str.len + 1);
    if (!s) return octo_fail("%s: %s: out of memory", f->path, key);
    memcpy(s, kv->v.str.ptr, (size_t)kv->v.str.len);
    s[kv->v.str.len] = 0;
    *out = s;
    return 0;
}

int gguf_get_arr(const gguf_file *f, const char *key, gguf_type elem_type, const gguf_kv **arr) {
    const gguf_kv *kv = gguf_find_kv(f, key);
    if (!kv) return 1;
    if (kv->type != GGUF_TYPE_ARRAY)
        return octo_fail("%s: %s: expected an array, found %s", f->path, key, gguf_type_name(kv->type));
    if (kv->arr_type != elem_type)
        return octo_fail("%s: %s: expected an array of %s, found an array of %s", f->path, key,
                         gguf_type_name(elem_type), gguf_type_name(kv->arr_type));
    *arr = kv;
    return 0;
}

double gguf_arr_f64(const gguf_kv *kv, uint64_t i) {
    gguf_kv tmp = {0};
    size_t es = scalar_size(kv->arr_type);
    if (!es || i >= kv->arr_n) return 0;
    decode_scalar(&tmp, kv->arr_type, kv->arr_data + i * es);
    if (kv->arr_type == GGUF_TYPE_FLOAT32 || kv->arr_type == GGUF_TYPE_FLOAT64) return tmp.v.f64;
    if (is_signed(kv->arr_type)) return (double)tmp.v.i64;
    return (double)tmp.v.u64;
}

int64_t gguf_arr_i64(const gguf_kv *kv, uint64_t i) {
    gguf_kv tmp = {0};
    size_t es = scalar_size(kv->arr_type);
    if (!es || i >= kv->arr_n) return 0;
    decode_scalar(&tmp, kv->arr_type, kv->arr_data + i * es);
    if (kv->arr_type == GGUF_TYPE_FLOAT32 || kv->arr_type == GGUF_TYPE_FLOAT64) return (int64_t)tmp.v.f64;
    if (is_signed(kv->arr_type)) return tmp.v.i64;
    return (int64_t)tmp.v.u64;
}
