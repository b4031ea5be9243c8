/* safetensors.h - the safetensors file format, read and written.
 *
 *   u64 little-endian N | N bytes of JSON header | tensor data
 *   header: {"__metadata__": {"k": "v", ...},
 *            "name": {"dtype": "F32", "shape": [r, c], "data_offsets": [begin, end]}, ...}
 * Offsets are relative to the first byte after the header.  The reader
 * checks the header length, every shape product and every offset pair
 * against the file size and the dtype, so a hostile or truncated file gets a
 * one-line error, never a read out of bounds.
 */
#ifndef OCTO_ADAPTER_SAFETENSORS_H
#define OCTO_ADAPTER_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "base/file.h"

#define OCTO_ST_MAX_DIMS 8

typedef enum { OCTO_ST_F32, OCTO_ST_F16, OCTO_ST_BF16, OCTO_ST_F64 } octo_st_dtype;

typedef struct {
    char *name;
    octo_st_dtype dtype;
    int n_dims;
    int64_t shape[OCTO_ST_MAX_DIMS];
    int64_t n_elements;
    const uint8_t *data; /* inside the file */
    size_t nbytes;
} octo_st_tensor;

typedef struct {
    char *path;
    octo_mapping map; /* empty for buffers */
    octo_st_tensor *t;
    int n;
    char **meta_keys, **meta_vals; /* __metadata__ */
    int n_meta;
} octo_st_file;

octo_st_file *octo_st_open(const char *path);
/* Parse a buffer the caller keeps alive for the lifetime of the result. */
octo_st_file *octo_st_open_buffer(const void *data, size_t size, const char *name);
void octo_st_close(octo_st_file *f);
const octo_st_tensor *octo_st_find(const octo_st_file *f, const char *name);
const char *octo_st_meta(const octo_st_file *f, const char *key);
/* All elements of t as F32 into dst (n_elements floats). */
void octo_st_read_f32(const octo_st_tensor *t, float *dst);

/* ---- writer: F32 tensors, data by pointer until octo_st_write ---- */
typedef struct {
    const char *name;
    int n_dims;
    int64_t shape[OCTO_ST_MAX_DIMS];
    const float *data;
} octo_st_entry;

/* Write atomically. meta: n_meta key/value pairs (keys[i], vals[i]). */
int octo_st_write(const char *path, const octo_st_entry *e, int n, const char *const *keys,
                  const char *const *vals, int n_meta);

#endif
