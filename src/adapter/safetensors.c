/* safetensors.c - reader and writer of the safetensors format (see
 * safetensors.h).  The header is JSON parsed by cJSON; everything it says is
 * treated as untrusted and checked before any tensor byte is touched.
 */
#include "adapter/safetensors.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "tensor/types.h"

/* Headers beyond this are refused before parsing (the format's reference
 * implementation uses the same limit). */
#define ST_MAX_HEADER (100u << 20)

static size_t dtype_size(octo_st_dtype t) {
    switch (t) {
    case OCTO_ST_F32: return 4;
    case OCTO_ST_F64: return 8;
    default: return 2;
    }
}

static int dtype_parse(const char *s, octo_st_dtype *out) {
    static const struct {
        const char *name;
        octo_st_dtype t;
    } k[] = {{"F32", OCTO_ST_F32}, {"F16", OCTO_ST_F16}, {"BF16", OCTO_ST_BF16}, {"F64", OCTO_ST_F64}};
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++)
        if (strcmp(s, k[i].name) == 0) {
            *out = k[i].t;
            return 0;
        }
    return -1;
}

void octo_st_close(octo_st_file *f) {
    if (!f) return;
    for (int i = 0; i < f->n; i++) free(f->t[i].name);
    for (int i = 0; i < f->n_meta; i++) {
        free(f->meta_keys[i]);
        free(f->meta_vals[i]);
    }
    free(f->meta_keys);
    free(f->meta_vals);
    free(f->t);
    free(f->path);
    octo_unmap(&f->map);
    free(f);
}

/* Fill one tensor from its header entry; 0 or -1 (error set). */
static int parse_entry(const octo_st_file *f, const cJSON *e, size_t data_size, const uint8_t *data,
                       octo_st_tensor *t) {
    const char *nm = e->string;
    if (!cJSON_IsObject(e)) return octo_fail("%s: header entry \"%s\" is not an object", f->path, nm);
    const cJSON *dt = cJSON_GetObjectItemCaseSensitive(e, "dtype");
    const cJSON *sh = cJSON_GetObjectItemCaseSensitive(e, "shape");
    const cJSON *of = cJSON_GetObjectItemCaseSensitive(e, "data_offsets");
    if (!cJSON_IsString(dt) || !cJSON_IsArray(sh) || !cJSON_IsArray(of))
        return octo_fail("%s: tensor \"%s\" needs dtype (string), shape and data_offsets (arrays)", f->path, nm);
    if (dtype_parse(dt->valuestring, &t->dtype))
        return octo_fail("%s: tensor \"%s\" has dtype \"%s\"; F32, F16, BF16 or F64 expected", f->path, nm,
                         dt->valuestring);
    int nd = cJSON_GetArraySize(sh);
    if (nd > OCTO_ST_MAX_DIMS) return octo_fail("%s: tensor \"%s\" has %d dimensions (at most %d)", f->path, nm, nd, OCTO_ST_MAX_DIMS);
    t->n_dims = nd;
    uint64_t n = 1;
    for (int i = 0; i < nd; i++) {
        const cJSON *d = cJSON_GetArrayItem(sh, i);
        if (!cJSON_IsNumber(d) || d->valuedouble < 0 || d->valuedouble > 9.0e15 ||
            d->valuedouble != (double)(int64_t)d->valuedouble)
            return octo_fail("%s: tensor \"%s\": shape[%d] is not a non-negative integer", f->path, nm, i);
        t->shape[i] = (int64_t)d->valuedouble;
        if (t->shape[i] != 0 && n > (UINT64_MAX / 8) / (uint64_t)t->shape[i])
            return octo_fail("%s: tensor \"%s\": shape overflows", f->path, nm);
        n *= (uint64_t)t->shape[i];
    }
    if (cJSON_GetArraySize(of) != 2) return octo_fail("%s: tensor \"%s\": data_offsets must be [begin, end]", f->path, nm);
    double b = cJSON_GetArrayItem(of, 0)->valuedouble, en = cJSON_GetArrayItem(of, 1)->valuedouble;
    if (!cJSON_IsNumber(cJSON_GetArrayItem(of, 0)) || !cJSON_IsNumber(cJSON_GetArrayItem(of, 1)) || b < 0 || en < b ||
        en > (double)data_size || b != (double)(uint64_t)b || en != (double)(uint64_t)en)
        return octo_fail("%s: tensor \"%s\": data_offsets [%.0f, %.0f] outside the %zu data bytes", f->path, nm, b, en,
                         data_size);
    uint64_t need = n * dtype_size(t->dtype);
    if ((uint64_t)en - (uint64_t)b != need)
        return octo_fail("%s: tensor \"%s\": data_offsets span %.0f bytes but dtype and shape need %llu", f->path, nm,
                         en - b, (unsigned long long)need);
    t->n_elements = (int64_t)n;
    t->data = data + (size_t)b;
    t->nbytes = (size_t)need;
    t->name = strdup(nm);
    return t->name ? 0 : octo_fail("%s: out of memory", f->path);
}

static int parse(octo_st_file *f, const uint8_t *p, size_t size) {
    if (size < 8) return octo_fail("%s: %zu bytes is too short for a safetensors file", f->path, size);
    uint64_t hl = 0;
    for (int i = 7; i >= 0; i--) hl = hl << 8 | p[i];
    if (hl < 2 || hl > ST_MAX_HEADER || hl > size - 8)
        return octo_fail("%s: header length %llu does not fit the file of %zu bytes", f->path, (unsigned long long)hl,
                         size);
    cJSON *h = cJSON_ParseWithLength((const char *)p + 8, (size_t)hl);
    if (!cJSON_IsObject(h)) {
        cJSON_Delete(h);
        return octo_fail("%s: the header is not a JSON object", f->path);
    }
    const uint8_t *data = p + 8 + hl;
    size_t data_size = size - 8 - (size_t)hl;
    int cap = cJSON_GetArraySize(h);
    f->t = calloc((size_t)(cap > 0 ? cap : 1), sizeof *f->t);
    int rc = f->t ? 0 : octo_fail("%s: out of memory", f->path);
    for (const cJSON *e = h->child; e && rc == 0; e = e->next) {
        if (!e->string) {
            rc = octo_fail("%s: header entry without a name", f->path);
        } else if (strcmp(e->string, "__metadata__") == 0) {
            if (!cJSON_IsObject(e)) {
                rc = octo_fail("%s: __metadata__ is not an object", f->path);
                break;
            }
            int nm = cJSON_GetArraySize(e);
            f->meta_keys = calloc((size_t)(nm > 0 ? nm : 1), sizeof(char *));
            f->meta_vals = calloc((size_t)(nm > 0 ? nm : 1), sizeof(char *));
            if (!f->meta_keys || !f->meta_vals) rc = octo_fail("%s: out of memory", f->path);
            for (const cJSON *m = e->child; m && rc == 0; m = m->next) {
                if (!cJSON_IsString(m) || !m->string) {
                    rc = octo_fail("%s: __metadata__ values must be strings", f->path);
                    break;
                }
                f->meta_keys[f->n_meta] = strdup(m->string);
                f->meta_vals[f->n_meta] = strdup(m->valuestring);
                f->n_meta++;
            }
        } else {
            for (int i = 0; i < f->n && rc == 0; i++)
                if (strcmp(f->t[i].name, e->string) == 0) rc = octo_fail("%s: tensor \"%s\" appears twice", f->path, e->string);
            if (rc == 0) rc = parse_entry(f, e, data_size, data, &f->t[f->n]);
            if (rc == 0) f->n++;
        }
    }
    cJSON_Delete(h);
    return rc;
}

octo_st_file *octo_st_open_buffer(const void *data, size_t size, const char *name) {
    octo_st_file *f = calloc(1, sizeof *f);
    if (!f || !(f->path = strdup(name))) {
        free(f);
        octo_fail("%s: out of memory", name);
        return NULL;
    }
    if (parse(f, data, size)) {
        octo_st_close(f);
        return NULL;
    }
    return f;
}

octo_st_file *octo_st_open(const char *path) {
    octo_mapping m;
    if (octo_map_file(path, &m)) return NULL;
    octo_st_file *f = octo_st_open_buffer(m.data, m.size, path);
    if (!f) {
        octo_unmap(&m);
        return NULL;
    }
    f->map = m;
    return f;
}

const octo_st_tensor *octo_st_find(const octo_st_file *f, const char *name) {
    for (int i = 0; i < f->n; i++)
        if (strcmp(f->t[i].name, name) == 0) return &f->t[i];
    return NULL;
}

const char *octo_st_meta(const octo_st_file *f, const char *key) {
    for (int i = 0; i < f->n_meta; i++)
        if (strcmp(f->meta_keys[i], key) == 0) return f->meta_vals[i];
    return NULL;
}

void octo_st_read_f32(const octo_st_tensor *t, float *dst) {
    const uint8_t *p = t->data; /* may be unaligned: copy element by element */
    for (int64_t i = 0; i < t->n_elements; i++) {
        switch (t->dtype) {
        case OCTO_ST_F32: memcpy(&dst[i], p + 4 * i, 4); break;
        case OCTO_ST_F64: {
            double d;
            memcpy(&d, p + 8 * i, 8);
            dst[i] = (float)d;
            break;
        }
        case OCTO_ST_F16: {
            uint16_t h;
            memcpy(&h, p + 2 * i, 2);
            dst[i] = octo_f16_to_f32(h);
            break;
        }
        case OCTO_ST_BF16: {
            uint16_t h;
            memcpy(&h, p + 2 * i, 2);
            dst[i] = octo_bf16_to_f32(h);
            break;
        }
        }
    }
}

int octo_st_write(const char *path, const octo_st_entry *e, int n, const char *const *keys,
                  const char *const *vals, int n_meta) {
    cJSON *h = cJSON_CreateObject();
    if (!h) return octo_fail("%s: out of memory", path);
    if (n_meta > 0) {
        cJSON *m = cJSON_AddObjectToObject(h, "__metadata__");
        for (int i = 0; i < n_meta && m; i++) cJSON_AddStringToObject(m, keys[i], vals[i]);
    }
    uint64_t off = 0;
    for (int i = 0; i < n; i++) {
        cJSON *t = cJSON_AddObjectToObject(h, e[i].name);
        if (!t) break;
        cJSON_AddStringToObject(t, "dtype", "F32");
        cJSON *sh = cJSON_AddArrayToObject(t, "shape");
        uint64_t ne = 1;
        for (int d = 0; d < e[i].n_dims; d++) {
            cJSON_AddItemToArray(sh, cJSON_CreateNumber((double)e[i].shape[d]));
            ne *= (uint64_t)e[i].shape[d];
        }
        cJSON *of = cJSON_AddArrayToObject(t, "data_offsets");
        cJSON_AddItemToArray(of, cJSON_CreateNumber((double)off));
        off += ne * 4;
        cJSON_AddItemToArray(of, cJSON_CreateNumber((double)off));
    }
    char *json = cJSON_PrintUnformatted(h);
    cJSON_Delete(h);
    if (!json) return octo_fail("%s: out of memory", path);
    /* pad the header with spaces to a multiple of 8 so the data is aligned */
    size_t jl = strlen(json), hl = (jl + 7) / 8 * 8;
    octo_atomic_file af;
    if (octo_atomic_open(&af, path)) {
        free(json);
        return -1;
    }
    uint8_t len[8];
    for (int i = 0; i < 8; i++) len[i] = (uint8_t)(hl >> (8 * i));
    int ok = fwrite(len, 1, 8, af.fp) == 8 && fwrite(json, 1, jl, af.fp) == jl;
    for (size_t i = jl; i < hl && ok; i++) ok = fputc(' ', af.fp) != EOF;
    free(json);
    for (int i = 0; i < n && ok; i++) {
        size_t ne = 1;
        for (int d = 0; d < e[i].n_dims; d++) ne *= (size_t)e[i].shape[d];
        ok = fwrite(e[i].data, sizeof(float), ne, af.fp) == ne;
    }
    if (!ok) {
        octo_atomic_abort(&af);
        return octo_fail("%s: write failed", path);
    }
    return octo_atomic_commit(&af);
}
