/* types.h - tensor element types, byte-compatible with GGUF/ggml.
 *
 * The enum values are ggml's type ids as stored in GGUF tensor infos, so a
 * type read from a file is used as is.  Block layouts (struct block_*) match
 * ggml bit for bit: a Q4_0 block of 32 weights is an F16 scale and 16 bytes of
 * nibbles, and so on.  Only the types listed in octo_type_info() with
 * supported=1 can be read; others are reported by name and refused.
 */
#ifndef OCTO_TENSOR_TYPES_H
#define OCTO_TENSOR_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    OCTO_TYPE_F32 = 0,
    OCTO_TYPE_F16 = 1,
    OCTO_TYPE_Q4_0 = 2,
    OCTO_TYPE_Q4_1 = 3,
    OCTO_TYPE_Q5_0 = 6,
    OCTO_TYPE_Q5_1 = 7,
    OCTO_TYPE_Q8_0 = 8,
    OCTO_TYPE_Q8_1 = 9,
    OCTO_TYPE_Q2_K = 10,
    OCTO_TYPE_Q3_K = 11,
    OCTO_TYPE_Q4_K = 12,
    OCTO_TYPE_Q5_K = 13,
    OCTO_TYPE_Q6_K = 14,
    OCTO_TYPE_Q8_K = 15,
    OCTO_TYPE_BF16 = 30,
    OCTO_TYPE_COUNT = 40
} octo_type;

#define QK4_0 32
#define QK8_0 32
#define QK_K 256
#define K_SCALE_SIZE 12

typedef uint16_t octo_f16;  /* IEEE half, raw bits */
typedef uint16_t octo_bf16; /* bfloat16, raw bits */

typedef struct {
    octo_f16 d;             /* scale */
    uint8_t qs[QK4_0 / 2];  /* nibbles: low nibble = element j, high = j+16 */
} block_q4_0;

typedef struct {
    octo_f16 d;
    int8_t qs[QK8_0];
} block_q8_0;

typedef struct {
    octo_f16 d;                    /* super-block scale for scales */
    octo_f16 dmin;                 /* super-block scale for mins */
    uint8_t scales[K_SCALE_SIZE];  /* 8 x (6-bit scale, 6-bit min) */
    uint8_t qs[QK_K / 2];          /* 4-bit quants */
} block_q4_K;

typedef struct {
    uint8_t ql[QK_K / 2];      /* lower 4 bits */
    uint8_t qh[QK_K / 4];      /* upper 2 bits */
    int8_t scales[QK_K / 16];  /* 8-bit scales */
    octo_f16 d;
} block_q6_K;

/* Activation type used with K-quants, as in ggml. */
typedef struct {
    float d;
    int8_t qs[QK_K];
    int16_t bsums[QK_K / 16];
} block_q8_K;

typedef struct {
    const char *name;    /* "F32", "Q4_0", ... as ggml prints them */
    int64_t block_size;  /* elements per block (1 for F32/F16/BF16) */
    size_t type_size;    /* bytes per block */
    bool supported;      /* octo can compute with it */
    octo_type vec_dot_type; /* type the activations are converted to for dots */
} octo_type_traits;

/* Traits of a type id; NULL for ids outside [0, OCTO_TYPE_COUNT) or unknown. */
const octo_type_traits *octo_type_info(int type);
const char *octo_type_name(int type); /* "?" if unknown */
/* Parse "q4_0", "Q8_0", "f16", ... Returns -1 if unknown. */
int octo_type_from_name(const char *name);

/* Bytes for a row of n elements; n must be a multiple of the block size
 * (returns 0 if not). */
size_t octo_row_size(octo_type t, int64_t n);

/* Scalar half/bfloat conversions (round-to-nearest-even, as ggml). */
float octo_f16_to_f32(octo_f16 h);
octo_f16 octo_f32_to_f16(float f);
float octo_bf16_to_f32(octo_bf16 h);
octo_bf16 octo_f32_to_bf16(float f);

#endif
