/* types.c - the table of tensor element types and half/bfloat conversions.
 *
 * Every ggml type id that can appear in a GGUF file has an entry, so that a
 * model using a type octo cannot compute with is refused by name ("IQ2_XXS")
 * rather than by number, and so that a reader can still size such a tensor.
 * Block sizes and byte sizes are ggml's; only the types octo has kernels for
 * are marked supported.
 *
 * The conversions are written with integer arithmetic on the bit patterns so
 * that they give the same bits on every compiler and CPU (no dependence on
 * the FPU's denormal or rounding modes): f32->f16 rounds to nearest even,
 * f32->bf16 rounds to nearest even and quiets NaNs exactly as ggml's
 * GGML_FP32_TO_BF16 does.
 */
#include "tensor/types.h"

#include <string.h>
#include <strings.h>

/* Types beyond the octo_type enum exist in GGUF files; they are named here
 * (by ggml id) so that error messages can say what was found. */
static const octo_type_traits k_traits[OCTO_TYPE_COUNT] = {
    [OCTO_TYPE_F32] = {"F32", 1, 4, true, OCTO_TYPE_F32},
    [OCTO_TYPE_F16] = {"F16", 1, 2, true, OCTO_TYPE_F16},
    [OCTO_TYPE_Q4_0] = {"Q4_0", QK4_0, sizeof(block_q4_0), true, OCTO_TYPE_Q8_0},
    [OCTO_TYPE_Q4_1] = {"Q4_1", 32, 20, false, OCTO_TYPE_Q8_1},
    [4] = {"Q4_2", 0, 0, false, OCTO_TYPE_F32}, /* removed from ggml long ago */
    [5] = {"Q4_3", 0, 0, false, OCTO_TYPE_F32}, /* removed from ggml long ago */
    [OCTO_TYPE_Q5_0] = {"Q5_0", 32, 22, false, OCTO_TYPE_Q8_0},
    [OCTO_TYPE_Q5_1] = {"Q5_1", 32, 24, false, OCTO_TYPE_Q8_1},
    [OCTO_TYPE_Q8_0] = {"Q8_0", QK8_0, sizeof(block_q8_0), true, OCTO_TYPE_Q8_0},
    [OCTO_TYPE_Q8_1] = {"Q8_1", 32, 36, false, OCTO_TYPE_Q8_1},
    [OCTO_TYPE_Q2_K] = {"Q2_K", QK_K, 84, false, OCTO_TYPE_Q8_K},
    [OCTO_TYPE_Q3_K] = {"Q3_K", QK_K, 110, false, OCTO_TYPE_Q8_K},
    [OCTO_TYPE_Q4_K] = {"Q4_K", QK_K, sizeof(block_q4_K), true, OCTO_TYPE_Q8_K},
    [OCTO_TYPE_Q5_K] = {"Q5_K", QK_K, 176, false, OCTO_TYPE_Q8_K},
    [OCTO_TYPE_Q6_K] = {"Q6_K", QK_K, sizeof(block_q6_K), true, OCTO_TYPE_Q8_K},
    /* Q8_K is only ever an activation format: it can be quantized to and
     * dequantized, never used as a weight type. */
    [OCTO_TYPE_Q8_K] = {"Q8_K", QK_K, sizeof(block_q8_K), true, OCTO_TYPE_Q8_K},
    [16] = {"IQ2_XXS", QK_K, 66, false, OCTO_TYPE_Q8_K},
    [17] = {"IQ2_XS", QK_K, 74, false, OCTO_TYPE_Q8_K},
    [18] = {"IQ3_XXS", QK_K, 98, false, OCTO_TYPE_Q8_K},
    [19] = {"IQ1_S", QK_K, 50, false, OCTO_TYPE_Q8_K},
    [20] = {"IQ4_NL", 32, 18, false, OCTO_TYPE_Q8_0},
    [21] = {"IQ3_S", QK_K, 110, false, OCTO_TYPE_Q8_K},
    [22] = {"IQ2_S", QK_K, 82, false, OCTO_TYPE_Q8_K},
    [23] = {"IQ4_XS", QK_K, 136, false, OCTO_TYPE_Q8_K},
    [24] = {"I8", 1, 1, false, OCTO_TYPE_F32},
    [25] = {"I16", 1, 2, false, OCTO_TYPE_F32},
    [26] = {"I32", 1, 4, false, OCTO_TYPE_F32},
    [27] = {"I64", 1, 8, false, OCTO_TYPE_F32},
    [28] = {"F64", 1, 8, false, OCTO_TYPE_F32},
    [29] = {"IQ1_M", QK_K, 56, false, OCTO_TYPE_Q8_K},
    [OCTO_TYPE_BF16] = {"BF16", 1, 2, true, OCTO_TYPE_BF16},
    [34] = {"TQ1_0", QK_K, 54, false, OCTO_TYPE_Q8_K},
    [35] = {"TQ2_0", QK_K, 66, false, OCTO_TYPE_Q8_K},
    [39] = {"MXFP4", 32, 17, false, OCTO_TYPE_Q8_0},
};

const octo_type_traits *octo_type_info(int type) {
    if (type < 0 || type >= OCTO_TYPE_COUNT || !k_traits[type].name) return NULL;
    return &k_traits[type];
}

const char *octo_type_name(int type) {
    const octo_type_traits *t = octo_type_info(type);
    return t ? t->name : "?";
}

int octo_type_from_name(const char *name) {
    if (!name) return -1;
    for (int i = 0; i < OCTO_TYPE_COUNT; i++) {
        /* ids 4 and 5 are dead types nobody should ask for by name */
        if (k_traits[i].name && k_traits[i].block_size > 0 && strcasecmp(k_traits[i].name, name) == 0)
            return i;
    }
    return -1;
}

size_t octo_row_size(octo_type t, int64_t n) {
    const octo_type_traits *tr = octo_type_info((int)t);
    if (!tr || tr->block_size <= 0 || n < 0 || n % tr->block_size != 0) return 0;
    return (size_t)(n / tr->block_size) * tr->type_size;
}

/* ---- half precision ---- */

static inline uint32_t f32_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static inline float f32_from_bits(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}

float octo_f16_to_f32(octo_f16 h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1f;
    uint32_t man = h & 0x3ff;
    if (exp == 0x1f) return f32_from_bits(sign | 0x7f800000u | (man << 13)); /* inf, nan */
    if (exp != 0) return f32_from_bits(sign | ((exp + 112) << 23) | (man << 13));
    if (man == 0) return f32_from_bits(sign);
    /* subnormal: man * 2^-24, exactly representable as a normal float */
    float v = (float)man * 0x1p-24f;
    return sign ? -v : v;
}

octo_f16 octo_f32_to_f16(float f) {
    uint32_t u = f32_bits(f);
    uint16_t sign = (uint16_t)((u >> 16) & 0x8000);
    u &= 0x7fffffffu;
    if (u > 0x7f800000u) return sign | 0x7e00; /* NaN -> quiet NaN, as ggml */
    /* 65520 = 65504 + half an ulp rounds (to even) up to infinity */
    if (u >= 0x477ff000u) return sign | 0x7c00;
    uint32_t exp = u >> 23;
    uint32_t man = u & 0x7fffffu;
    if (exp >= 113) { /* normal half: rebias, keep 10 bits, round to nearest even */
        uint32_t h = ((exp - 112) << 10) | (man >> 13);
        uint32_t rest = man & 0x1fff;
        if (rest > 0x1000 || (rest == 0x1000 && (h & 1))) h++; /* carry may bump the exponent: correct */
        return sign | (uint16_t)h;
    }
    /* subnormal half (or zero): value / 2^-24 = m * 2^(exp-126), m with its
     * implicit bit; shift right by 126-exp with round to nearest even. */
    if (exp < 102) return sign; /* below 2^-25: rounds to zero */
    uint32_t m = man | 0x800000u;
    uint32_t shift = 126 - exp; /* 14..24 */
    uint32_t q = m >> shift;
    uint32_t rest = m & ((1u << shift) - 1);
    uint32_t half = 1u << (shift - 1);
    if (rest > half || (rest == half && (q & 1))) q++; /* may become the smallest normal: correct */
    return sign | (uint16_t)q;
}

float octo_bf16_to_f32(octo_bf16 h) {
    return f32_from_bits((uint32_t)h << 16);
}

octo_bf16 octo_f32_to_bf16(float f) {
    uint32_t u = f32_bits(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (octo_bf16)((u >> 16) | 64); /* quiet the NaN */
    return (octo_bf16)((u + (0x7fffu + ((u >> 16) & 1))) >> 16);
}
