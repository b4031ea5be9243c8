/* gguf.h - GGUF v2/v3 files: a validating zero-copy reader and an atomic writer.
 *
 * The reader maps the file and checks every count, string length, array
 * extent, alignment and tensor extent against the file size before anything
 * is used, so a truncated or hostile file gets a one-line error naming the
 * field, never an out-of-bounds read.  Strings and tensor data point into the
 * mapping (zero copy); only the small index arrays are allocated.
 *
 * The writer collects key/values and tensors (data by pointer, not copied)
 * and writes them through a temp file + fsync + rename.
 */
#ifndef OCTO_GGUF_H
#define OCTO_GGUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tensor/types.h"

typedef enum {
    GGUF_TYPE_UINT8 = 0,
    GGUF_TYPE_INT8 = 1,
    GGUF_TYPE_UINT16 = 2,
    GGUF_TYPE_INT16 = 3,
    GGUF_TYPE_UINT32 = 4,
    GGUF_TYPE_INT32 = 5,
    GGUF_TYPE_FLOAT32 = 6,
    GGUF_TYPE_BOOL = 7,
    GGUF_TYPE_STRING = 8,
    GGUF_TYPE_ARRAY = 9,
    GGUF_TYPE_UINT64 = 10,
    GGUF_TYPE_INT64 = 11,
    GGUF_TYPE_FLOAT64 = 12,
    GGUF_TYPE_COUNT
} gguf_type;

#define GGUF_MAX_DIMS 4
#define GGUF_DEFAULT_ALIGNMENT 32

/* A string inside the mapping: not NUL-terminated. */
typedef struct {
    uint64_t len;
    const char *ptr;
} gguf_str;

typedef struct {
    gguf_str key;
    gguf_type type;
    union {
        uint64_t u64; /* all unsigned ints and bool */
        int64_t i64;  /* all signed ints */
        double f64;   /* float32 and float64 */
        gguf_str str;
    } v;
    /* arrays (type == GGUF_TYPE_ARRAY) */
    gguf_type arr_type;
    uint64_t arr_n;
    const uint8_t *arr_data; /* raw little-endian elements (non-string) */
    gguf_str *arr_strs;      /* for string arrays: arr_n entries (allocated) */
} gguf_kv;

typedef struct {
    gguf_str name;
    uint32_t n_dims;
    int64_t ne[GGUF_MAX_DIMS]; /* ne[0] is the row length (fastest dim); unused dims are 1 */
    octo_type type;
    uint64_t offset;           /* relative to the data section */
    const void *data;          /* points into the mapping */
    size_t nbytes;
} gguf_tensor;

typedef struct gguf_file {
    char *path;          /* for error messages ("<memory>" for buffers) */
    const uint8_t *base; /* whole file */
    size_t size;
    int owns_mapping;
    uint32_t version;
    uint64_t n_kv, n_tensors;
    gguf_kv *kv;
    gguf_tensor *tensors;
    size_t alignment;
    size_t data_offset;
} gguf_file;

/* Open and validate. NULL on error (octo_last_error() says why). */
gguf_file *gguf_open(const char *path);
/* Parse a buffer in memory (kept by the caller, must outlive the result). */
gguf_file *gguf_open_buffer(const void *data, size_t size, const char *name);
void gguf_close(gguf_file *f);

/* Lookups: NULL / -1 if absent. */
const gguf_kv *gguf_find_kv(const gguf_file *f, const char *key);
const gguf_tensor *gguf_find_tensor(const gguf_file *f, const char *name);

/* Typed getters. Return 0 and set *out, 1 if the key is absent (out
 * untouched), -1 (error set) if present with an incompatible type or value
 * out of range. Integer getters accept any integer type whose value fits. */
int gguf_get_u32(const gguf_file *f, const char *key, uint32_t *out);
int gguf_get_i64(const gguf_file *f, const char *key, int64_t *out);
int gguf_get_f32(const gguf_file *f, const char *key, float *out);
int gguf_get_bool(const gguf_file *f, const char *key, bool *out);
/* String: returns a malloc'd NUL-terminated copy in *out. */
int gguf_get_str(const gguf_file *f, const char *key, char **out);
/* Array with element type check: *arr set to the kv. */
int gguf_get_arr(const gguf_file *f, const char *key, gguf_type elem_type, const gguf_kv **arr);

/* Element i of a numeric array as double / int64 (caller checks bounds). */
double gguf_arr_f64(const gguf_kv *kv, uint64_t i);
int64_t gguf_arr_i64(const gguf_kv *kv, uint64_t i);

bool gguf_str_eq(gguf_str s, const char *c);
const char *gguf_type_name(gguf_type t);
/* Number of elements of a tensor. */
int64_t gguf_tensor_nelements(const gguf_tensor *t);

/* ---- writer ---- */
typedef struct gguf_writer gguf_writer;

gguf_writer *gguf_writer_new(void);
void gguf_writer_free(gguf_writer *w);

/* Set a key (replacing any earlier value of the same key). */
void gguf_set_u32(gguf_writer *w, const char *key, uint32_t v);
void gguf_set_i32(gguf_writer *w, const char *key, int32_t v);
void gguf_set_u64(gguf_writer *w, const char *key, uint64_t v);
void gguf_set_f32(gguf_writer *w, const char *key, float v);
void gguf_set_bool(gguf_writer *w, const char *key, bool v);
void gguf_set_str(gguf_writer *w, const char *key, const char *v);
/* Numeric array: n elements of elem_type copied from data. */
void gguf_set_arr(gguf_writer *w, const char *key, gguf_type elem_type, const void *data, uint64_t n);
/* String array: copied. */
void gguf_set_arr_str(gguf_writer *w, const char *key, const char *const *strs, uint64_t n);
void gguf_set_arr_strn(gguf_writer *w, const char *key, const gguf_str *strs, uint64_t n);
/* Copy a key/value from a reader (any type, arrays included). */
void gguf_set_kv(gguf_writer *w, const gguf_kv *kv);
/* Remove a key if present. */
void gguf_remove_key(gguf_writer *w, const char *key);

/* Add a tensor. data must stay valid until gguf_writer_write; it holds
 * octo_row_size(type, ne[0]) * ne[1] * ne[2] * ne[3] bytes.
 * Returns 0 or -1 (error set: bad shape for the type, duplicate name). */
int gguf_add_tensor(gguf_writer *w, const char *name, octo_type type, int n_dims, const int64_t *ne,
                    const void *data);

/* Write atomically to path. Returns 0 or -1 (error set). */
int gguf_writer_write(gguf_writer *w, const char *path);

#endif
