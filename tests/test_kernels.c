/* test_kernels.c - the numeric kernels: types, conversions, quantizers, dots
 * and matrix products, for every instruction set this build and CPU have.
 *
 * The scalar kernels are checked against hand-derived bytes and a naive
 * double-precision product; every SIMD implementation is then checked
 * against the scalar one (within rounding in general, bit for bit where
 * both follow llama.cpp's operation order lane for lane) and against itself
 * across tilings (a result must not depend on which rows or tokens were
 * computed together).
 */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/mman.h>
#include <unistd.h>

#include "tensor/kernels.h"
#include "tensor/ops.h"
#include "tensor/types.h"
#include "testlib.h"

static const char *const k_isas[] = {"scalar", "avx2", "avx512", "neon"};
#define N_ISAS 4

static const octo_type k_wtypes[] = {OCTO_TYPE_F32,  OCTO_TYPE_F16,  OCTO_TYPE_BF16, OCTO_TYPE_Q8_0,
                                     OCTO_TYPE_Q4_0, OCTO_TYPE_Q4_K, OCTO_TYPE_Q6_K};
#define N_WTYPES 7

static uint32_t f2u(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}
static float u2f(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static bool isa_ok(const char *isa) { return octo_kernel_set_isa(isa) == 0; }
static void isa_restore(void) { octo_kernel_set_isa("auto"); }

static void fill_normal(float *x, int64_t n, float scale) {
    for (int64_t i = 0; i < n; i++) x[i] = t_rand_normal() * scale;
}

/* ---------------------------------------------------------------- types */

TEST(type_table) {
    const octo_type_traits *t = octo_type_info(OCTO_TYPE_Q4_0);
    REQUIRE(t);
    CHECK(t->block_size == 32 && t->type_size == 18 && t->supported && t->vec_dot_type == OCTO_TYPE_Q8_0);
    CHECK(sizeof(block_q4_0) == 18 && sizeof(block_q8_0) == 34 && sizeof(block_q4_K) == 144 &&
          sizeof(block_q6_K) == 210 && sizeof(block_q8_K) == 292);
    CHECK(octo_type_info(OCTO_TYPE_Q4_K)->vec_dot_type == OCTO_TYPE_Q8_K);
    CHECK(octo_type_info(OCTO_TYPE_Q6_K)->vec_dot_type == OCTO_TYPE_Q8_K);
    CHECK(octo_type_info(OCTO_TYPE_F16)->vec_dot_type == OCTO_TYPE_F16);
    CHECK(octo_type_info(OCTO_TYPE_BF16)->vec_dot_type == OCTO_TYPE_BF16);
    CHECK(octo_type_info(OCTO_TYPE_F32)->vec_dot_type == OCTO_TYPE_F32);
    CHECK(octo_type_info(OCTO_TYPE_Q8_0)->vec_dot_type == OCTO_TYPE_Q8_0);
    CHECK(octo_type_info(OCTO_TYPE_Q8_K)->supported);
    CHECK(!octo_type_info(OCTO_TYPE_Q5_K)->supported && octo_type_info(OCTO_TYPE_Q5_K)->type_size == 176);
    CHECK(!octo_type_info(OCTO_TYPE_Q3_K)->supported && octo_type_info(OCTO_TYPE_Q3_K)->type_size == 110);
    CHECK(octo_type_info(OCTO_TYPE_Q2_K)->type_size == 84);
    CHECK(octo_type_info(OCTO_TYPE_Q4_1)->type_size == 20);
    CHECK(octo_type_info(OCTO_TYPE_Q5_0)->type_size == 22);
    CHECK(octo_type_info(OCTO_TYPE_Q5_1)->type_size == 24);
    CHECK(octo_type_info(OCTO_TYPE_Q8_1)->type_size == 36);
    CHECK(octo_type_info(-1) == NULL && octo_type_info(OCTO_TYPE_COUNT) == NULL);
    CHECK(strcmp(octo_type_name(16), "IQ2_XXS") == 0);
    CHECK(strcmp(octo_type_name(OCTO_TYPE_Q6_K), "Q6_K") == 0);
    CHECK(strcmp(octo_type_name(1000), "?") == 0);
    CHECK(octo_type_from_name("q4_0") == OCTO_TYPE_Q4_0);
    CHECK(octo_type_from_name("Q4_K") == OCTO_TYPE_Q4_K);
    CHECK(octo_type_from_name("bf16") == OCTO_TYPE_BF16);
    CHECK(octo_type_from_name("F32") == OCTO_TYPE_F32);
    CHECK(octo_type_from_name("nope") == -1);
    CHECK(octo_row_size(OCTO_TYPE_Q4_0, 64) == 36);
    CHECK(octo_row_size(OCTO_TYPE_Q4_0, 65) == 0);
    CHECK(octo_row_size(OCTO_TYPE_Q6_K, 512) == 420);
    CHECK(octo_row_size(OCTO_TYPE_F16, 7) == 14);
    CHECK(octo_row_size(OCTO_TYPE_F32, 3) == 12);
    CHECK(octo_matmul_xq_size(OCTO_TYPE_Q4_0, 3, 64) == 3 * 68);
    CHECK(octo_matmul_xq_size(OCTO_TYPE_Q4_K, 2, 256) == 2 * 292);
}

/* ---------------------------------------------------------------- f16 / bf16 */

TEST(f16_conversion) {
    /* every half survives a round trip through float (NaNs stay NaNs) */
    int bad = 0;
    for (uint32_t h = 0; h < 65536; h++) {
        float f = octo_f16_to_f32((octo_f16)h);
        if (((h >> 10) & 0x1f) == 0x1f && (h & 0x3ff)) {
            if (!isnan(f)) bad++;
            if (!isnan(octo_f16_to_f32(octo_f32_to_f16(f)))) bad++;
            continue;
        }
        if (octo_f32_to_f16(f) != h) bad++;
    }
    CHECK(bad == 0);
    CHECK(octo_f32_to_f16(1.0f) == 0x3c00);
    CHECK(octo_f32_to_f16(-2.0f) == 0xc000);
    CHECK(octo_f32_to_f16(-0.0f) == 0x8000);
    CHECK(octo_f32_to_f16(65504.0f) == 0x7bff);
    CHECK(octo_f32_to_f16(65519.99f) == 0x7bff);
    CHECK(octo_f32_to_f16(65520.0f) == 0x7c00); /* tie, rounds to even = inf */
    CHECK(octo_f32_to_f16(1e10f) == 0x7c00);
    CHECK(octo_f32_to_f16(INFINITY) == 0x7c00);
    CHECK(octo_f32_to_f16(-INFINITY) == 0xfc00);
    CHECK((octo_f32_to_f16(NAN) & 0x7fff) > 0x7c00);
    /* ties to even: 1 + 2^-11 lies halfway between 1 and 1 + 2^-10 */
    CHECK(octo_f32_to_f16(1.0f + 0x1p-11f) == 0x3c00);
    CHECK(octo_f32_to_f16(1.0f + 3 * 0x1p-11f) == 0x3c02);
    CHECK(octo_f32_to_f16(1.0f + 0x1p-11f + 0x1p-20f) == 0x3c01);
    /* subnormals */
    CHECK(octo_f32_to_f16(0x1p-24f) == 0x0001);
    CHECK(octo_f32_to_f16(0x1p-25f) == 0x0000);            /* tie -> even (0) */
    CHECK(octo_f32_to_f16(0x1p-25f + 0x1p-40f) == 0x0001); /* just above the tie */
    CHECK(octo_f32_to_f16(3 * 0x1p-25f) == 0x0002);        /* 1.5 ulp: tie -> even (2) */
    CHECK(octo_f32_to_f16(5 * 0x1p-25f) == 0x0002);        /* 2.5 ulp: tie -> even (2) */
    CHECK(octo_f32_to_f16(-0x1p-24f) == 0x8001);
    CHECK(octo_f32_to_f16(0x1p-14f) == 0x0400);
    CHECK(octo_f32_to_f16(0x1p-14f - 0x1p-25f) == 0x0400); /* 1023.5 ulp: rounds up to the first normal */
    CHECK(octo_f32_to_f16(1e-30f) == 0x0000);
    CHECK(octo_f16_to_f32(0x0001) == 0x1p-24f);
    CHECK(octo_f16_to_f32(0x03ff) == 1023 * 0x1p-24f);
    CHECK(octo_f16_to_f32(0x7c00) == INFINITY);
    CHECK(octo_f16_to_f32(0xfc00) == -INFINITY);
    CHECK(f2u(octo_f16_to_f32(0x8000)) == 0x80000000u);
    /* round to nearest over random floats: the result is one of the two
     * neighbouring halves and no farther than half an ulp */
    int far = 0;
    for (int i = 0; i < 200000; i++) {
        float f = u2f((uint32_t)t_rand_u64());
        if (isnan(f) || fabsf(f) >= 65504.0f) continue;
        float r = octo_f16_to_f32(octo_f32_to_f16(f));
        octo_f16 h = octo_f32_to_f16(f);
        float up = octo_f16_to_f32((octo_f16)(h + 1)), dn = octo_f16_to_f32((octo_f16)(h - 1));
        double err = fabs((double)r - f);
        if ((h & 0x7fff) != 0 && (h & 0x7fff) < 0x7bff &&
            (err > fabs((double)up - f) + 0.0 || err > fabs((double)dn - f) + 0.0))
            far++;
    }
    CHECK(far == 0);
}

TEST(bf16_conversion) {
    CHECK(octo_f32_to_bf16(1.0f) == 0x3f80);
    CHECK(octo_f32_to_bf16(-1.0f) == 0xbf80);
    CHECK(octo_f32_to_bf16(u2f(0x3f808000u)) == 0x3f80); /* tie -> even */
    CHECK(octo_f32_to_bf16(u2f(0x3f818000u)) == 0x3f82); /* tie -> even */
    CHECK(octo_f32_to_bf16(u2f(0x3f808001u)) == 0x3f81);
    CHECK(octo_f32_to_bf16(u2f(0x3f807fffu)) == 0x3f80);
    CHECK(octo_f32_to_bf16(INFINITY) == 0x7f80);
    CHECK(octo_f32_to_bf16(-INFINITY) == 0xff80);
    CHECK(octo_f32_to_bf16(u2f(0x7f7fffffu)) == 0x7f80); /* FLT_MAX rounds to inf */
    CHECK(octo_f32_to_bf16(u2f(0x7fc00000u)) == 0x7fc0);
    CHECK(octo_f32_to_bf16(u2f(0x7f800001u)) == 0x7fc0); /* signalling NaN is quieted */
    CHECK(octo_f32_to_bf16(u2f(0xff812345u)) == 0xffc1);
    CHECK(octo_f32_to_bf16(u2f(0x00000001u)) == 0x0000); /* subnormals round, not flush */
    CHECK(octo_f32_to_bf16(u2f(0x00018000u)) == 0x0002);
    CHECK(octo_f32_to_bf16(u2f(0x00008001u)) == 0x0001);
    CHECK(octo_f32_to_bf16(u2f(0x80000000u)) == 0x8000);
    CHECK(f2u(octo_bf16_to_f32(0x3f80)) == 0x3f800000u);
    CHECK(f2u(octo_bf16_to_f32(0x0001)) == 0x00010000u);
    int bad = 0;
    for (uint32_t h = 0; h < 65536; h++) {
        float f = octo_bf16_to_f32((octo_bf16)h);
        if (isnan(f)) continue;
        if (octo_f32_to_bf16(f) != h) bad++;
    }
    CHECK(bad == 0);
}

/* ---------------------------------------------------------------- quantizers: known bytes */

TEST(q8_0_known_bytes) {
    /* amax 127 makes d = 1 and id = 1 exactly, so qs = roundf(x): halves
     * round away from zero (roundf, not round-to-even). */
    float x[32];
    for (int j = 0; j < 32; j++) x[j] = (float)(j - 16) * 3.25f;
    x[0] = -127.0f;
    x[1] = 2.5f;
    x[2] = -2.5f;
    x[3] = 0.49f;
    x[4] = 126.5f;
    block_q8_0 b;
    REQUIRE(octo_quantize_row(OCTO_TYPE_Q8_0, x, &b, 32) == 0);
    CHECK(b.d == 0x3c00);
    CHECK(b.qs[0] == -127 && b.qs[1] == 3 && b.qs[2] == -3 && b.qs[3] == 0 && b.qs[4] == 127);
    CHECK(b.qs[5] == -36);  /* -11 * 3.25 = -35.75 */
    CHECK(b.qs[6] == -33);  /* -10 * 3.25 = -32.5 -> away from zero */
    CHECK(b.qs[31] == 49);  /* 15 * 3.25 = 48.75 */
    CHECK(b.qs[16] == 0);
    /* all-zero block: d = 0, all quants 0 */
    memset(x, 0, sizeof x);
    REQUIRE(octo_quantize_row(OCTO_TYPE_Q8_0, x, &b, 32) == 0);
    CHECK(b.d == 0);
    int nz = 0;
    for (int j = 0; j < 32; j++) nz += b.qs[j] != 0;
    CHECK(nz == 0);
}

TEST(q4_0_known_bytes) {
    /* max = -8 (largest magnitude, negative) gives d = max/-8 = 1, id = 1:
     * q = min(15, (int)(x + 8.5)) truncating toward zero. */
    float x[32];
    for (int j = 0; j < 32; j++) x[j] = 0.0f;
    x[0] = -8.0f;  /* 0 */
    x[1] = 7.0f;   /* 15 */
    x[2] = 7.49f;  /* min(15, 15) */
    x[3] = 0.5f;   /* (int)9.0 = 9 */
    x[4] = -0.5f;  /* 8 */
    x[5] = 2.49f;  /* 10 */
    x[16] = -7.9f; /* (int)0.6 = 0 */
    x[17] = 3.0f;  /* 11 */
    x[31] = -1.2f; /* (int)7.3 = 7 */
    block_q4_0 b;
    REQUIRE(octo_quantize_row(OCTO_TYPE_Q4_0, x, &b, 32) == 0);
    CHECK(b.d == 0x3c00);
    CHECK(b.qs[0] == (0 | (0 << 4)));
    CHECK(b.qs[1] == (15 | (11 << 4)));
    CHECK(b.qs[2] == (15 | (8 << 4)));
    CHECK(b.qs[3] == (9 | (8 << 4)));
    CHECK(b.qs[4] == (8 | (8 << 4)));
    CHECK(b.qs[5] == (10 | (8 << 4)));
    CHECK(b.qs[15] == (8 | (7 << 4)));
    /* positive extreme: max = +8 -> d = -1 */
    for (int j = 0; j < 32; j++) x[j] = 0.0f;
    x[7] = 8.0f;
    x[8] = -3.0f;
    REQUIRE(octo_quantize_row(OCTO_TYPE_Q4_0, x, &b, 32) == 0);
    CHECK(b.d == 0xbc00);
    CHECK((b.qs[7] & 0xf) == 0 && (b.qs[8] & 0xf) == 11 && (b.qs[0] & 0xf) == 8);
    float y[32];
    octo_dequantize_row(OCTO_TYPE_Q4_0, &b, y, 32);
    CHECK(y[7] == 8.0f && y[8] == -3.0f && y[0] == 0.0f);
}

TEST(q8_K_known_bytes) {
    /* max = 127 positive: iscale = -1, d = -1, qs = nearest_int(-x) which
     * rounds halves to even. */
    float x[256];
    for (int j = 0; j < 256; j++) x[j] = (float)((j * 37) % 200 - 100);
    x[0] = 127.0f;
    x[1] = 2.5f;  /* -2 */
    x[2] = 3.5f;  /* -4 */
    x[3] = -2.5f; /* 2 */
    x[4] = -127.0f;
    block_q8_K b;
    REQUIRE(octo_quantize_row(OCTO_TYPE_Q8_K, x, &b, 256) == 0);
    CHECK(b.d == -1.0f);
    CHECK(b.qs[0] == -127 && b.qs[1] == -2 && b.qs[2] == -4 && b.qs[3] == 2 && b.qs[4] == 127);
    CHECK(b.qs[5] == -(float)((5 * 37) % 200 - 100));
    int bad = 0;
    for (int g = 0; g < 16; g++) {
        int s = 0;
        for (int j = 0; j < 16; j++) s += b.qs[16 * g + j];
        bad += s != b.bsums[g];
    }
    CHECK(bad == 0);
}

TEST(q4_K_known_bytes) {
    /* A constant block c = 15*63/64: every sub-block gets scale c/15, min 0;
     * the super-block scale is c/15/63 = 2^-6 exactly, so the 6-bit scales
     * are all 63, the mins 0, and every quant 15. */
    float x[256];
    for (int j = 0; j < 256; j++) x[j] = 15.0f * 63.0f / 64.0f;
    block_q4_K b;
    REQUIRE(octo_quantize_row(OCTO_TYPE_Q4_K, x, &b, 256) == 0);
    CHECK(b.d == 0x2400);
    CHECK(b.dmin == 0x0000);
    for (int j = 0; j < 4; j++) CHECK(b.scales[j] == 0xff);
    for (int j = 4; j < 8; j++) CHECK(b.scales[j] == 0x00);
    for (int j = 8; j < 12; j++) CHECK(b.scales[j] == 0x0f);
    int bad = 0;
    for (int j = 0; j < 128; j++) bad += b.qs[j] != 0xff;
    CHECK(bad == 0);
    float y[256];
    octo_dequantize_row(OCTO_TYPE_Q4_K, &b, y, 256);
    CHECK(y[0] == x[0] && y[255] == x[255]);
    /* zeros: everything zero */
    memset(x, 0, sizeof x);
    REQUIRE(octo_quantize_row(OCTO_TYPE_Q4_K, x, &b, 256) == 0);
    const uint8_t *p = (const uint8_t *)&b;
    int nz = 0;
    for (size_t i = 0; i < sizeof b; i++) nz += p[i] != 0;
    CHECK(nz == 0);
}

TEST(q6_K_known_bytes) {
    /* All ones: every group of 16 gets scale -1/32 (quant -32 -> stored 0),
     * d = 1/4096 (f16 0x0c00) and 8-bit scales of -128. */
    float x[256];
    for (int j = 0; j < 256; j++) x[j] = 1.0f;
    block_q6_K b;
    REQUIRE(octo_quantize_row(OCTO_TYPE_Q6_K, x, &b, 256) == 0);
    CHECK(b.d == 0x0c00);
    int bad = 0;
    for (int j = 0; j < 16; j++) bad += b.scales[j] != -128;
    for (int j = 0; j < 128; j++) bad += b.ql[j] != 0;
    for (int j = 0; j < 64; j++) bad += b.qh[j] != 0;
    CHECK(bad == 0);
    float y[256];
    octo_dequantize_row(OCTO_TYPE_Q6_K, &b, y, 256);
    CHECK(y[0] == 1.0f && y[100] == 1.0f && y[255] == 1.0f);
    memset(x, 0, sizeof x);
    REQUIRE(octo_quantize_row(OCTO_TYPE_Q6_K, x, &b, 256) == 0);
    const uint8_t *p = (const uint8_t *)&b;
    int nz = 0;
    for (size_t i = 0; i < sizeof b; i++) nz += p[i] != 0;
    CHECK(nz == 0);
}

/* ---------------------------------------------------------------- round trips */

static double roundtrip_rel_rmse(octo_type t, const float *x, int64_t n, double *max_blk_err) {
    size_t rs = octo_row_size(t, n);
    void *q = malloc(rs);
    float *y = malloc(sizeof(float) * n);
    octo_quantize_row(t, x, q, n);
    octo_dequantize_row(t, q, y, n);
    double se = 0, ss = 0;
    *max_blk_err = 0;
    int64_t bs = octo_type_info(t)->block_size;
    if (bs == 1) bs = 32;
    for (int64_t b = 0; b < n / bs; b++) {
        double amax = 0, emax = 0;
        for (int64_t i = b * bs; i < (b + 1) * bs; i++) {
            amax = fmax(amax, fabs(x[i]));
            emax = fmax(emax, fabs((double)y[i] - x[i]));
            se += ((double)y[i] - x[i]) * ((double)y[i] - x[i]);
            ss += (double)x[i] * x[i];
        }
        if (amax > 0) *max_blk_err = fmax(*max_blk_err, emax / amax);
    }
    free(q);
    free(y);
    return sqrt(se / ss);
}

TEST(quant_roundtrip) {
    const int64_t n = 4096;
    float *x = malloc(sizeof(float) * n);
    fill_normal(x, n, 1.0f);
    struct {
        octo_type t;
        double rmse, blk; /* relative RMS error; max error / block amax */
    } lim[] = {
        {OCTO_TYPE_F32, 0, 0},          {OCTO_TYPE_F16, 5e-4, 1e-3},    {OCTO_TYPE_BF16, 3e-3, 4e-3},
        {OCTO_TYPE_Q8_0, 6e-3, 4.5e-3}, {OCTO_TYPE_Q8_K, 8e-3, 4.5e-3}, {OCTO_TYPE_Q4_0, 0.12, 0.13},
        {OCTO_TYPE_Q4_K, 0.08, 0.1},    {OCTO_TYPE_Q6_K, 0.02, 0.025},
    };
    for (size_t i = 0; i < sizeof lim / sizeof lim[0]; i++) {
        double blk;
        double r = roundtrip_rel_rmse(lim[i].t, x, n, &blk);
        CHECKF(r <= lim[i].rmse, "%s rmse %g", octo_type_name(lim[i].t), r);
        CHECKF(blk <= lim[i].blk, "%s block max err %g", octo_type_name(lim[i].t), blk);
    }
    CHECK(octo_quantize_row(OCTO_TYPE_Q5_K, x, x, 256) == -1);
    CHECK(octo_quantize_row(OCTO_TYPE_Q4_0, x, x, 33) == -1);
    free(x);
}

/* ---------------------------------------------------------------- products */

/* A random weight matrix stored as type t, with its dequantized copy. */
typedef struct {
    octo_type t;
    int64_t N, K;
    size_t rs;
    uint8_t *q;
    float *deq;
} wmat;

static wmat make_w(octo_type t, int64_t N, int64_t K) {
    wmat w = {t, N, K, octo_row_size(t, K), NULL, NULL};
    float *tmp = malloc(sizeof(float) * K);
    w.q = malloc(w.rs * N + 64);
    w.deq = malloc(sizeof(float) * N * K);
    for (int64_t n = 0; n < N; n++) {
        /* rows of different magnitude, some with an offset, exercise the
         * scales and the mins */
        float s = 0.02f * (1 + (n % 5));
        fill_normal(tmp, K, s);
        if (n % 3 == 1)
            for (int64_t k = 0; k < K; k++) tmp[k] += 0.01f;
        octo_quantize_row(t, tmp, w.q + n * w.rs, K);
        octo_dequantize_row(t, w.q + n * w.rs, w.deq + n * K, K);
    }
    free(tmp);
    return w;
}

static void free_w(wmat *w) {
    free(w->q);
    free(w->deq);
}

static void *prepare(octo_type wt, const float *x, int64_t M, int64_t K) {
    void *xq = malloc(octo_matmul_xq_size(wt, M, K) + 64);
    octo_matmul_prepare(wt, x, K, 0, M, K, xq);
    return xq;
}

/* The activations as the kernels see them (after conversion), in float. */
static float *act_deq(octo_type wt, const void *xq, int64_t M, int64_t K) {
    octo_type vt = octo_type_info(wt)->vec_dot_type;
    size_t rs = octo_row_size(vt, K);
    float *a = malloc(sizeof(float) * M * K);
    for (int64_t m = 0; m < M; m++) octo_dequantize_row(vt, (const char *)xq + m * rs, a + m * K, K);
    return a;
}

static const int64_t *k_list(octo_type t, int *count) {
    static const int64_t kf[] = {1, 7, 31, 33, 257, 64, 1000};
    static const int64_t k32[] = {32, 64, 288, 96, 1024};
    static const int64_t k256[] = {256, 512, 768, 2048};
    int64_t bs = octo_type_info(t)->block_size;
    if (bs == 1) {
        *count = 7;
        return kf;
    }
    if (bs == 32) {
        *count = 5;
        return k32;
    }
    *count = 4;
    return k256;
}

/* Scalar reference vs every SIMD implementation, plus matmul vs a naive
 * double-precision product of the dequantized operands. */
TEST(matmul_vs_reference) {
    static const int64_t Ms[] = {1, 2, 3, 5, 8, 64};
    static const int64_t Ns[] = {1, 3, 17, 37};
    int checked = 0;
    for (int ti = 0; ti < N_WTYPES; ti++) {
        octo_type t = k_wtypes[ti];
        int nk;
        const int64_t *ks = k_list(t, &nk);
        for (int ki = 0; ki < nk; ki++) {
            int64_t K = ks[ki];
            for (int ni = 0; ni < 4; ni++) {
                int64_t N = Ns[ni];
                wmat w = make_w(t, N, K);
                for (int mi = 0; mi < 6; mi++) {
                    int64_t M = Ms[mi];
                    if (M == 64 && (N > 17 || K > 1024)) continue; /* keep the test quick */
                    float *x = malloc(sizeof(float) * M * K);
                    fill_normal(x, M * K, 1.0f);
                    REQUIRE(isa_ok("scalar"));
                    void *xq = prepare(t, x, M, K);
                    float *a = act_deq(t, xq, M, K);
                    float *yref = malloc(sizeof(float) * M * N);
                    octo_matmul(t, w.q, w.rs, 0, N, K, xq, M, yref, N);
                    /* naive products: with the converted activations (what the
                     * kernel computes, up to rounding) and with the originals
                     * (what the conversion costs) */
                    for (int64_t m = 0; m < M; m++) {
                        for (int64_t n = 0; n < N; n++) {
                            double s = 0, sabs = 0, s0 = 0, s0err = 0;
                            for (int64_t k = 0; k < K; k++) {
                                double wv = w.deq[n * K + k];
                                s += wv * a[m * K + k];
                                sabs += fabs(wv * a[m * K + k]);
                                s0 += wv * x[m * K + k];
                                s0err += fabs(wv) * fabs((double)x[m * K + k] - a[m * K + k]);
                            }
                            double got = yref[m * N + n];
                            CHECKF(fabs(got - s) <= 1e-5 * sabs + 1e-30, "%s K=%lld N=%lld M=%lld: %g vs %g",
                                   octo_type_name(t), (long long)K, (long long)N, (long long)M, got, s);
                            CHECKF(fabs(got - s0) <= s0err * 1.0001 + 1e-5 * sabs + 1e-30,
                                   "%s vs original x: %g vs %g (bound %g)", octo_type_name(t), got, s0, s0err);
                        }
                    }
                    /* every other ISA against the scalar result */
                    for (int ii = 1; ii < N_ISAS; ii++) {
                        if (!isa_ok(k_isas[ii])) continue;
                        void *xq2 = prepare(t, x, M, K);
                        CHECKF(memcmp(xq, xq2, octo_matmul_xq_size(t, M, K)) == 0 || t == OCTO_TYPE_F32,
                               "%s: %s activations differ from scalar", k_isas[ii], octo_type_name(t));
                        float *y2 = malloc(sizeof(float) * M * N);
                        octo_matmul(t, w.q, w.rs, 0, N, K, xq, M, y2, N);
                        for (int64_t m = 0; m < M; m++)
                            for (int64_t n = 0; n < N; n++) {
                                double sabs = 0;
                                for (int64_t k = 0; k < K; k++) sabs += fabs((double)w.deq[n * K + k] * a[m * K + k]);
                                double tol = (t == OCTO_TYPE_BF16 ? 2e-5 : 1e-5) * sabs + 1e-30;
                                CHECKF(fabs((double)y2[m * N + n] - yref[m * N + n]) <= tol,
                                       "%s %s K=%lld N=%lld M=%lld n=%lld m=%lld: %.9g vs scalar %.9g", k_isas[ii],
                                       octo_type_name(t), (long long)K, (long long)N, (long long)M, (long long)n,
                                       (long long)m, y2[m * N + n], yref[m * N + n]);
                                checked++;
                            }
                        free(y2);
                        free(xq2);
                    }
                    isa_restore();
                    free(yref);
                    free(a);
                    free(xq);
                    free(x);
                }
                free_w(&w);
            }
        }
    }
    CHECK(checked > 0 || (!isa_ok("avx2") && !isa_ok("neon")));
    isa_restore();
}

/* The value of y[m][n] must not depend on which other rows or tokens were
 * computed in the same call (tiles, thread splits, M = 1 vs batches). */
/* Results do not depend on the tile or the thread split.  They depend on
 * the batch size in one way only, and on purpose: one token of F32 weights
 * sums in ggml's vector-dot order and a batch in its blocked order (as
 * llama.cpp does), so a row computed alone is compared with the single-token
 * result, a row computed in a batch of 2+ with the batch result. */
TEST(matmul_tiling_invariance) {
    for (int ii = 0; ii < N_ISAS; ii++) {
        if (!isa_ok(k_isas[ii])) continue;
        for (int ti = 0; ti < N_WTYPES; ti++) {
            octo_type t = k_wtypes[ti];
            int64_t K = octo_type_info(t)->block_size == 256 ? 512 : (octo_type_info(t)->block_size == 32 ? 160 : 75);
            const int64_t N = 45, M = 13;
            wmat w = make_w(t, N, K);
            float *x = malloc(sizeof(float) * M * K);
            fill_normal(x, M * K, 1.0f);
            void *xq = prepare(t, x, M, K);
            size_t xrs = octo_matmul_xq_size(t, 1, K);
            float *y = malloc(sizeof(float) * M * N), *y1 = malloc(sizeof(float) * M * N),
                  *y2 = malloc(sizeof(float) * M * N);
            octo_matmul(t, w.q, w.rs, 0, N, K, xq, M, y, N);
            for (int64_t m = 0; m < M; m++)
                octo_matmul(t, w.q, w.rs, 0, N, K, (const char *)xq + m * xrs, 1, y1 + m * N, N);
            if (t != OCTO_TYPE_F32)
                CHECKF(memcmp(y, y1, sizeof(float) * M * N) == 0, "%s %s: M=1 differs from batch", k_isas[ii],
                       octo_type_name(t));
            /* odd row ranges crossed with odd token ranges: every tile shape */
            int bad = 0;
            for (int64_t n0 = 0, i = 0; n0 < N; i++) {
                int64_t n1 = n0 + 1 + (i % 7);
                if (n1 > N) n1 = N;
                for (int64_t m0 = 0, j = i; m0 < M; j++) {
                    int64_t m1 = m0 + 1 + (j % 5);
                    if (m1 > M) m1 = M;
                    octo_matmul(t, w.q, w.rs, n0, n1, K, (const char *)xq + m0 * xrs, m1 - m0, y2 + m0 * N, N);
                    const float *want = m1 - m0 == 1 ? y1 : y;
                    for (int64_t m = m0; m < m1; m++)
                        bad += memcmp(y2 + m * N + n0, want + m * N + n0, sizeof(float) * (n1 - n0)) != 0;
                    m0 = m1;
                }
                n0 = n1;
            }
            CHECKF(bad == 0, "%s %s: row/token split changes results", k_isas[ii], octo_type_name(t));
            /* octo_vec_dot is the 1x1 product */
            CHECK(octo_vec_dot(t, K, w.q + 5 * w.rs, (const char *)xq + 7 * xrs) == y1[7 * N + 5]);
            free(y);
            free(y1);
            free(y2);
            free(xq);
            free(x);
            free_w(&w);
        }
    }
    isa_restore();
}

/* Where a SIMD kernel reproduces llama.cpp's order of float operations
 * (ops_avx512.c: all but BF16; ops_avx2.c: all but BF16; ops_neon.c: F32,
 * Q8_0, Q4_0), the scalar
 * reference emulates the same lanes, so the two must agree bit for bit:
 * odd row and token counts, every tail of K, both F32/F16 orders. */
TEST(matmul_ggml_order_bitwise) {
    static const struct {
        const char *isa;
        octo_type t;
    } cases[] = {
        {"avx512", OCTO_TYPE_F32},  {"avx512", OCTO_TYPE_F16},  {"avx512", OCTO_TYPE_Q8_0},
        {"avx512", OCTO_TYPE_Q4_0}, {"avx512", OCTO_TYPE_Q4_K}, {"avx512", OCTO_TYPE_Q6_K},
        {"avx2", OCTO_TYPE_Q8_0},   {"avx2", OCTO_TYPE_Q4_0},   {"avx2", OCTO_TYPE_Q4_K},
        {"avx2", OCTO_TYPE_Q6_K},   {"avx2", OCTO_TYPE_F32},    {"avx2", OCTO_TYPE_F16},
        {"neon", OCTO_TYPE_F32},    {"neon", OCTO_TYPE_Q8_0},   {"neon", OCTO_TYPE_Q4_0},
    };
    static const int64_t Ns[] = {1, 5, 13, 37};
    static const int64_t Ms[] = {1, 2, 3, 5, 9};
    static const int64_t kf[] = {16, 75, 130, 192, 269, 1024};
    static const int64_t k32[] = {32, 96, 128, 160, 224, 1056};
    static const int64_t k256[] = {256, 768, 1280};
    int checked = 0;
    for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
        const octo_type t = cases[ci].t;
        if (!isa_ok(cases[ci].isa)) continue;
        const int64_t bs = octo_type_info(t)->block_size;
        const int64_t *ks = bs == 1 ? kf : bs == 32 ? k32 : k256;
        const int nk = bs == 1 ? 6 : bs == 32 ? 6 : 3;
        for (int ki = 0; ki < nk; ki++) {
            const int64_t K = ks[ki];
            for (int ni = 0; ni < 4; ni++) {
                const int64_t N = Ns[ni];
                wmat w = make_w(t, N, K);
                for (int mi = 0; mi < 5; mi++) {
                    const int64_t M = Ms[mi];
                    float *x = malloc(sizeof(float) * M * K);
                    fill_normal(x, M * K, 1.0f);
                    REQUIRE(isa_ok("scalar"));
                    void *xq = prepare(t, x, M, K);
                    const size_t xrs = octo_matmul_xq_size(t, 1, K);
                    float *ref = malloc(sizeof(float) * M * N), *got = malloc(sizeof(float) * M * N);
                    float *ref_vd = malloc(sizeof(float) * M * N), *got_vd = malloc(sizeof(float) * M * N);
                    octo_matmul(t, w.q, w.rs, 0, N, K, xq, M, ref, N);
                    octo_gemm_fn vd = octo_kernels_get()->gemm_vecdot[t];
                    if (vd) vd(w.q, w.rs, 0, N, K, xq, xrs, M, ref_vd, N);
                    REQUIRE(isa_ok(cases[ci].isa));
                    octo_matmul(t, w.q, w.rs, 0, N, K, xq, M, got, N);
                    CHECKF(memcmp(ref, got, sizeof(float) * M * N) == 0,
                           "%s %s K=%lld N=%lld M=%lld: not bit-identical to scalar", cases[ci].isa,
                           octo_type_name(t), (long long)K, (long long)N, (long long)M);
                    octo_gemm_fn vd2 = octo_kernels_get()->gemm_vecdot[t];
                    CHECK((vd == NULL) == (vd2 == NULL));
                    if (vd && vd2) {
                        vd2(w.q, w.rs, 0, N, K, xq, xrs, M, got_vd, N);
                        CHECKF(memcmp(ref_vd, got_vd, sizeof(float) * M * N) == 0,
                               "%s %s vec_dot order K=%lld N=%lld M=%lld: not bit-identical to scalar",
                               cases[ci].isa, octo_type_name(t), (long long)K, (long long)N, (long long)M);
                    }
                    checked++;
                    free(ref_vd);
                    free(got_vd);
                    free(ref);
                    free(got);
                    free(xq);
                    free(x);
                }
                free_w(&w);
            }
        }
    }
    CHECK(checked > 0 || (!isa_ok("avx2") && !isa_ok("neon")));
    isa_restore();
}

/* Q4_0 packed for the products (octo_q4_0_pack): on every ISA, and on row
 * ranges split as threads split them, the bits of the scalar product on
 * the unpacked rows. */
TEST(q4_0_packed_bitwise) {
    static const char *isas[] = {"scalar", "avx2", "avx512", "neon"};
    static const int64_t Ns[] = {8, 16, 40, 136};
    static const int64_t Ms[] = {1, 2, 3, 4, 5, 9};
    static const int64_t Ks[] = {32, 96, 128, 160, 1056};
    const octo_type t = OCTO_TYPE_Q4_0;
    int checked = 0;
    for (int ki = 0; ki < 5; ki++)
        for (int ni = 0; ni < 4; ni++) {
            const int64_t K = Ks[ki], N = Ns[ni];
            wmat w = make_w(t, N, K);
            void *packed = malloc(w.rs * (size_t)N);
            octo_q4_0_pack(w.q, w.rs, N, K, packed);
            for (int mi = 0; mi < 6; mi++) {
                const int64_t M = Ms[mi];
                float *x = malloc(sizeof(float) * M * K);
                fill_normal(x, M * K, 1.0f);
                REQUIRE(isa_ok("scalar"));
                void *xq = prepare(t, x, M, K);
                float *ref = malloc(sizeof(float) * M * N), *got = malloc(sizeof(float) * M * N);
                octo_matmul(t, w.q, w.rs, 0, N, K, xq, M, ref, N);
                for (size_t ii = 0; ii < sizeof isas / sizeof *isas; ii++) {
                    if (!isa_ok(isas[ii])) continue;
                    memset(got, 0xff, sizeof(float) * M * N);
                    int64_t mid = N / 16 * 8; /* two threads' shares, split on a group */
                    octo_matmul_q4_0_packed(packed, w.rs, 0, mid, K, xq, M, got, N);
                    octo_matmul_q4_0_packed(packed, w.rs, mid, N, K, xq, M, got, N);
                    CHECKF(memcmp(ref, got, sizeof(float) * M * N) == 0,
                           "%s packed Q4_0 K=%lld N=%lld M=%lld: not bit-identical to the scalar product", isas[ii],
                           (long long)K, (long long)N, (long long)M);
                    checked++;
                }
                free(ref);
                free(got);
                free(xq);
                free(x);
            }
            free(packed);
            free_w(&w);
        }
    CHECK(checked >= 120);
    isa_restore();
}

/* Activation conversion must give the reference bytes on every ISA,
 * including awkward data: zero blocks, ties, a sign choice on |max| ties. */
TEST(prepare_bit_exact) {
    const int64_t K = 1024, M = 3;
    float *x = malloc(sizeof(float) * M * K);
    fill_normal(x, M * K, 3.0f);
    for (int k = 0; k < 256; k++) x[k] = 0.0f;                   /* zero blocks */
    for (int k = 256; k < 288; k++) x[k] = (float)(k - 272) * 0.5f; /* halves */
    x[300] = 10.0f;
    x[301] = -10.0f; /* |max| tie: the first one wins */
    for (int k = 512; k < 768; k++) x[k] = (float)((k % 17) - 8) * 0.25f;
    x[600] = -127.0f / 64;
    x[1024 + 5] = 1e-30f; /* tiny */
    x[2048 + 7] = 70000.0f; /* beyond f16 range */
    static const octo_type wts[] = {OCTO_TYPE_Q4_0, OCTO_TYPE_Q4_K, OCTO_TYPE_F16, OCTO_TYPE_BF16, OCTO_TYPE_F32};
    for (int ti = 0; ti < 5; ti++) {
        REQUIRE(isa_ok("scalar"));
        size_t sz = octo_matmul_xq_size(wts[ti], M, K);
        void *ref = prepare(wts[ti], x, M, K);
        for (int ii = 1; ii < N_ISAS; ii++) {
            if (!isa_ok(k_isas[ii])) continue;
            void *got = prepare(wts[ti], x, M, K);
            CHECKF(memcmp(ref, got, sz) == 0, "%s: %s activations differ", k_isas[ii], octo_type_name(wts[ti]));
            free(got);
        }
        free(ref);
    }
    isa_restore();
    free(x);
}

/* Kernels must not read past the end of the weights or the activations
 * (a model file's last tensor can end at the end of its mapping): put both
 * right before an inaccessible page and run every type and ISA. */
static void *guarded(size_t bytes, void **base, size_t *maplen) {
    const size_t pg = (size_t)sysconf(_SC_PAGESIZE);
    const size_t n = (bytes + pg - 1) / pg * pg;
    *maplen = n + pg;
    char *p = mmap(NULL, *maplen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return NULL;
    mprotect(p + n, pg, PROT_NONE);
    *base = p;
    return p + n - bytes;
}

TEST(matmul_no_overread) {
    for (int ii = 0; ii < N_ISAS; ii++) {
        if (!isa_ok(k_isas[ii])) continue;
        for (int ti = 0; ti < N_WTYPES; ti++) {
            octo_type t = k_wtypes[ti];
            const int64_t bs = octo_type_info(t)->block_size;
            for (int64_t K = bs == 1 ? 1 : bs; K <= (bs == 1 ? 67 : 5 * bs); K += bs == 1 ? 11 : bs) {
                const int64_t N = 6, M = 5;
                wmat w = make_w(t, N, K);
                float *x = malloc(sizeof(float) * M * K);
                fill_normal(x, M * K, 1.0f);
                void *wb = NULL, *xb = NULL;
                size_t wl, xl;
                const size_t xsz = octo_matmul_xq_size(t, M, K);
                uint8_t *wg = guarded(w.rs * N, &wb, &wl);
                void *xg = guarded(xsz, &xb, &xl);
                REQUIRE(wg && xg);
                memcpy(wg, w.q, w.rs * N);
                octo_matmul_prepare(t, x, K, 0, M, K, xg);
                float y[30], y1;
                octo_matmul(t, wg, w.rs, 0, N, K, xg, M, y, N);                   /* batch */
                octo_matmul(t, wg, w.rs, 0, N, K, (char *)xg + xsz / M * (M - 1), 1, y, N); /* last token */
                y1 = octo_vec_dot(t, K, wg + w.rs * (N - 1), (char *)xg + xsz / M * (M - 1));
                CHECK(y1 == y[N - 1]);
                munmap(wb, wl);
                munmap(xb, xl);
                free(x);
                free_w(&w);
            }
        }
    }
    isa_restore();
}

TEST(vector_kernels) {
    static const int64_t ns[] = {0, 1, 7, 15, 16, 17, 33, 64, 100, 1000};
    float *a = malloc(sizeof(float) * 1000), *b = malloc(sizeof(float) * 1000);
    float *y0 = malloc(sizeof(float) * 1000), *y1 = malloc(sizeof(float) * 1000);
    fill_normal(a, 1000, 1.0f);
    fill_normal(b, 1000, 1.0f);
    for (int ii = 0; ii < N_ISAS; ii++) {
        if (!isa_ok(k_isas[ii])) continue;
        for (int i = 0; i < 10; i++) {
            int64_t n = ns[i];
            double s = 0, sabs = 0;
            for (int64_t k = 0; k < n; k++) {
                s += (double)a[k] * b[k];
                sabs += fabs((double)a[k] * b[k]);
            }
            CHECKF(fabs(octo_dot_f32(a, b, n) - s) <= 1e-6 * sabs + 1e-30, "%s dot n=%lld", k_isas[ii], (long long)n);
            memcpy(y0, b, sizeof(float) * 1000);
            memcpy(y1, b, sizeof(float) * 1000);
            octo_axpy_f32(y1, 0.37f, a, n);
            int bad = 0;
            for (int64_t k = 0; k < 1000; k++) {
                float want = k < n ? y0[k] + 0.37f * a[k] : y0[k];
                if (fabsf(y1[k] - want) > 1e-6f * (fabsf(want) + 1)) bad++;
            }
            CHECKF(bad == 0, "%s axpy n=%lld", k_isas[ii], (long long)n);
            octo_scale_f32(y1, -1.5f, n);
            bad = 0;
            for (int64_t k = 0; k < 1000; k++) {
                float base = k < n ? y0[k] + 0.37f * a[k] : y0[k];
                float want = k < n ? base * -1.5f : base;
                if (fabsf(y1[k] - want) > 1e-6f * (fabsf(want) + 1)) bad++;
            }
            CHECKF(bad == 0, "%s scale n=%lld", k_isas[ii], (long long)n);
        }
    }
    isa_restore();
    free(a);
    free(b);
    free(y0);
    free(y1);
}

/* exp, SiLU, softmax sums, the attention dots and RoPE: every ISA gives the
 * scalar reference's bits, and the reference is right to within its ulps. */
TEST(activation_and_attention_kernels) {
    enum { N = 200 };
    float x[N], ref[N], got[N];
    octo_f16 a16[N + 56], b16[N + 56];
    float cs[N], sn[N], v0[2 * N], v1[2 * N];
    for (int i = 0; i < N; i++) x[i] = t_rand_normal() * 6.0f;
    x[0] = -200.0f; /* exp underflows to 0 */
    x[1] = 0.0f;
    for (int i = 0; i < N + 56; i++) {
        a16[i] = octo_f32_to_f16(t_rand_normal());
        b16[i] = octo_f32_to_f16(t_rand_normal());
    }
    for (int i = 0; i < N; i++) {
        cs[i] = cosf(0.1f * i);
        sn[i] = sinf(0.1f * i);
    }
    for (int i = 0; i < 2 * N; i++) v0[i] = t_rand_normal();
    /* the polynomial exp against libm */
    for (int i = 0; i < N; i++) {
        double e = exp((double)x[i]);
        CHECKF(fabs(octo_expf(x[i]) - e) <= 3e-7 * e + 1e-38, "expf(%g)", x[i]);
    }
    CHECK(octo_expf(-INFINITY) == 0.0f);
    static const int64_t ns[] = {1, 15, 16, 17, 64, 100, 200};
    REQUIRE(isa_ok("scalar"));
    float silu_ref[7][N];
    double sum_ref[7];
    float ex_ref[7][N], d4_ref[7], d16_ref[7], rope_ref[2][2 * N];
    for (int k = 0; k < 7; k++) {
        octo_silu_f32(silu_ref[k], x, ns[k]);
        sum_ref[k] = octo_exp_sum_f32(ex_ref[k], x, 5.0f, ns[k]);
        d4_ref[k] = octo_dot_f16(a16, b16, ns[k]);
        d16_ref[k] = octo_dot_f16_lanes16(a16, b16, (ns[k] + 15) / 16 * 16);
    }
    for (int neox = 0; neox < 2; neox++) {
        memcpy(rope_ref[neox], v0, sizeof v0);
        octo_rope_f32(rope_ref[neox], cs, sn, 37, neox);
    }
    /* SiLU against its definition */
    for (int i = 0; i < N; i++) {
        double s = x[i] / (1.0 + exp(-(double)x[i]));
        CHECKF(fabs(silu_ref[6][i] - s) <= 1e-6 * fabs(s) + 1e-30, "silu(%g)", x[i]);
    }
    for (int ii = 0; ii < N_ISAS; ii++) {
        if (!isa_ok(k_isas[ii])) continue;
        for (int k = 0; k < 7; k++) {
            octo_silu_f32(got, x, ns[k]);
            CHECKF(memcmp(got, silu_ref[k], sizeof(float) * ns[k]) == 0, "%s silu n=%lld", k_isas[ii], (long long)ns[k]);
            CHECKF(octo_exp_sum_f32(got, x, 5.0f, ns[k]) == sum_ref[k] &&
                       memcmp(got, ex_ref[k], sizeof(float) * ns[k]) == 0,
                   "%s exp_sum n=%lld", k_isas[ii], (long long)ns[k]);
            CHECKF(f2u(octo_dot_f16(a16, b16, ns[k])) == f2u(d4_ref[k]), "%s dot_f16 n=%lld", k_isas[ii],
                   (long long)ns[k]);
            CHECKF(f2u(octo_dot_f16_lanes16(a16, b16, (ns[k] + 15) / 16 * 16)) == f2u(d16_ref[k]),
                   "%s dot_f16_lanes16 n=%lld", k_isas[ii], (long long)ns[k]);
        }
        for (int neox = 0; neox < 2; neox++) {
            memcpy(v1, v0, sizeof v0);
            octo_rope_f32(v1, cs, sn, 37, neox);
            CHECKF(memcmp(v1, rope_ref[neox], sizeof v1) == 0, "%s rope neox=%d", k_isas[ii], neox);
        }
    }
    /* the dots against double precision */
    double s = 0;
    for (int i = 0; i < 200; i++) s += (double)octo_f16_to_f32(a16[i]) * octo_f16_to_f32(b16[i]);
    CHECK(fabs(d4_ref[6] - s) < 1e-4 * 200);
    /* rope against the rotation it stands for */
    for (int k = 0; k < 37; k++) {
        double x0 = v0[2 * k], x1 = v0[2 * k + 1];
        CHECK(fabs(rope_ref[0][2 * k] - (x0 * cs[k] - x1 * sn[k])) < 1e-5);
        CHECK(fabs(rope_ref[0][2 * k + 1] - (x0 * sn[k] + x1 * cs[k])) < 1e-5);
    }
    (void)ref;
    isa_restore();
}

TEST(isa_selection) {
    const char *name = octo_kernel_isa();
    REQUIRE(name);
    CHECK(octo_kernel_set_isa("scalar") == 0);
    CHECK(strcmp(octo_kernel_isa(), "scalar") == 0);
    CHECK(octo_kernel_set_isa("no-such-isa") == -1);
    CHECK(strcmp(octo_kernel_isa(), "scalar") == 0);
    isa_restore();
    CHECK(strcmp(octo_kernel_isa(), name) == 0 || getenv("OCTO_ISA"));
    printf("    kernels: %s (available:", octo_kernel_isa());
    for (int i = 0; i < N_ISAS; i++)
        if (isa_ok(k_isas[i])) printf(" %s", k_isas[i]);
    printf(")\n");
    isa_restore();
}

int main(void) {
    RUN(type_table);
    RUN(f16_conversion);
    RUN(bf16_conversion);
    RUN(q8_0_known_bytes);
    RUN(q4_0_known_bytes);
    RUN(q8_K_known_bytes);
    RUN(q4_K_known_bytes);
    RUN(q6_K_known_bytes);
    RUN(quant_roundtrip);
    RUN(isa_selection);
    RUN(vector_kernels);
    RUN(activation_and_attention_kernels);
    RUN(prepare_bit_exact);
    RUN(matmul_vs_reference);
    RUN(matmul_tiling_invariance);
    RUN(matmul_ggml_order_bitwise);
    RUN(q4_0_packed_bitwise);
    RUN(matmul_no_overread);
    return t_finish();
}
