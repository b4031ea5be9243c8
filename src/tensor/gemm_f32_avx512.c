/* gemm_f32_avx512.c - the AVX-512 twins of the F32 GEMM micro-kernel and
 * of the transposing pack (gemm_f32.h): a 12 x 32 tile of C in 24 zmm
 * accumulators, one FMA chain per element over k (as the plain-C
 * reference), then alpha and + C; panels transposed 16 x 16 in registers. */
#include "tensor/gemm_f32.h"

#if !defined(OCTO_NO_SIMD) && defined(__x86_64__)
#include <immintrin.h>

#if OCTO_GEMM_MR != 12 || OCTO_GEMM_NR != 32
#error "the AVX-512 micro-kernel is written for 12 x 32 tiles"
#endif

/* 16 x 16 transpose in registers: r[i] holds row i before, column i after. */
static inline void transpose16(__m512 r[16]) {
    __m512 t[16];
    for (int i = 0; i < 8; i++) {
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    for (int i = 0; i < 4; i++) {
        __m512d a = _mm512_castps_pd(t[4 * i]), b = _mm512_castps_pd(t[4 * i + 1]);
        __m512d c = _mm512_castps_pd(t[4 * i + 2]), d = _mm512_castps_pd(t[4 * i + 3]);
        r[4 * i + 0] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
        r[4 * i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
        r[4 * i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
        r[4 * i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
    }
    for (int i = 0; i < 4; i++) {
        t[i] = _mm512_shuffle_f32x4(r[i], r[i + 4], 0x88);
        t[i + 4] = _mm512_shuffle_f32x4(r[i], r[i + 4], 0xdd);
        t[i + 8] = _mm512_shuffle_f32x4(r[i + 8], r[i + 12], 0x88);
        t[i + 12] = _mm512_shuffle_f32x4(r[i + 8], r[i + 12], 0xdd);
    }
    for (int i = 0; i < 4; i++) {
        r[i] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0x88);
        r[i + 8] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0xdd);
        r[i + 4] = _mm512_shuffle_f32x4(t[i + 4], t[i + 12], 0x88);
        r[i + 12] = _mm512_shuffle_f32x4(t[i + 4], t[i + 12], 0xdd);
    }
}

void octo_gemm_pack_rows_avx512(const float *src, int64_t ld, int rows, int64_t kc, float *dst) {
    int64_t k = 0;
    for (; k + 16 <= kc; k += 16) {
        for (int r0 = 0; r0 < rows; r0 += 16) {
            int n = rows - r0 < 16 ? rows - r0 : 16;
            __m512 r[16];
            for (int i = 0; i < 16; i++) r[i] = i < n ? _mm512_loadu_ps(src + (r0 + i) * ld + k) : _mm512_setzero_ps();
            transpose16(r);
            const __mmask16 m = (__mmask16)((1u << n) - 1);
            for (int kk = 0; kk < 16; kk++) _mm512_mask_storeu_ps(dst + (k + kk) * rows + r0, m, r[kk]);
        }
    }
    for (; k < kc; k++)
        for (int i = 0; i < rows; i++) dst[k * rows + i] = src[i * ld + k];
}

void octo_gemm_micro_avx512(int64_t kc, const float *Ap, const float *Bp, float *C, int64_t ldc, float alpha,
                            int accumulate) {
    __m512 c00 = _mm512_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
    __m512 c40 = c00, c41 = c00, c50 = c00, c51 = c00, c60 = c00, c61 = c00, c70 = c00, c71 = c00;
    __m512 c80 = c00, c81 = c00, c90 = c00, c91 = c00, ca0 = c00, ca1 = c00, cb0 = c00, cb1 = c00;
    for (int64_t k = 0; k < kc; k++) {
        const __m512 b0 = _mm512_load_ps(Bp), b1 = _mm512_load_ps(Bp + 16);
        __m512 a;
#define ROW(i, x0, x1)                       \
    a = _mm512_set1_ps(Ap[i]);               \
    x0 = _mm512_fmadd_ps(a, b0, x0);         \
    x1 = _mm512_fmadd_ps(a, b1, x1);
        ROW(0, c00, c01) ROW(1, c10, c11) ROW(2, c20, c21) ROW(3, c30, c31)
        ROW(4, c40, c41) ROW(5, c50, c51) ROW(6, c60, c61) ROW(7, c70, c71)
        ROW(8, c80, c81) ROW(9, c90, c91) ROW(10, ca0, ca1) ROW(11, cb0, cb1)
#undef ROW
        Ap += 12;
        Bp += 32;
    }
    const __m512 al = _mm512_set1_ps(alpha);
#define STORE(i, x0, x1)                                                                      \
    {                                                                                         \
        float *c = C + (i) * ldc;                                                             \
        __m512 v0 = _mm512_mul_ps(al, x0), v1 = _mm512_mul_ps(al, x1);                        \
        if (accumulate) {                                                                     \
            v0 = _mm512_add_ps(v0, _mm512_loadu_ps(c));                                       \
            v1 = _mm512_add_ps(v1, _mm512_loadu_ps(c + 16));                                  \
        }                                                                                     \
        _mm512_storeu_ps(c, v0);                                                              \
        _mm512_storeu_ps(c + 16, v1);                                                         \
    }
    STORE(0, c00, c01) STORE(1, c10, c11) STORE(2, c20, c21) STORE(3, c30, c31)
    STORE(4, c40, c41) STORE(5, c50, c51) STORE(6, c60, c61) STORE(7, c70, c71)
    STORE(8, c80, c81) STORE(9, c90, c91) STORE(10, ca0, ca1) STORE(11, cb0, cb1)
#undef STORE
}
#endif
