/* dispatch.c - picks the kernel implementation once and routes ops.h to it.
 *
 * The choice is made on first use (pthread_once, so concurrent first calls
 * are safe) from what the CPU reports and the OS enables (CPUID + XGETBV for
 * the AVX-512 register state), unless OCTO_ISA names another one.  Partial
 * SIMD tables are completed from simpler ones here, so every entry of the
 * table in use is callable.  octo_kernel_set_isa() switches tables later,
 * for tests and benchmarks that compare implementations.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tensor/kernels.h"
#include "tensor/ops.h"

#if defined(__x86_64__) && !defined(OCTO_NO_SIMD)
#include <cpuid.h>
#define HAVE_X86 1
#endif

enum { ISA_SCALAR, ISA_AVX2, ISA_AVX512, ISA_NEON, ISA_N };
static const char *const k_isa_names[ISA_N] = {"scalar", "avx2", "avx512", "neon"};

static octo_kernels g_full[ISA_N];  /* completed tables */
static bool g_avail[ISA_N];         /* compiled in and usable on this CPU */
static const octo_kernels *g_active; /* accessed with __atomic builtins */
static const octo_kernels *g_default; /* the start-up choice, OCTO_ISA honoured */
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

/* Fill the NULL entries of *t from *base. */
__attribute__((unused)) static void complete(octo_kernels *t, const octo_kernels *base) {
    for (int i = 0; i < OCTO_TYPE_COUNT; i++) {
        if (!t->gemm[i]) t->gemm[i] = base->gemm[i];
        if (!t->gemm_vecdot[i]) t->gemm_vecdot[i] = base->gemm_vecdot[i];
        if (!t->act[i]) t->act[i] = base->act[i];
    }
    if (!t->dot_f32) t->dot_f32 = base->dot_f32;
    if (!t->axpy_f32) t->axpy_f32 = base->axpy_f32;
    if (!t->scale_f32) t->scale_f32 = base->scale_f32;
    if (!t->silu_f32) t->silu_f32 = base->silu_f32;
    if (!t->exp_sum_f32) t->exp_sum_f32 = base->exp_sum_f32;
    if (!t->dot_f16_4acc) t->dot_f16_4acc = base->dot_f16_4acc;
    if (!t->dot_f16_lanes16) t->dot_f16_lanes16 = base->dot_f16_lanes16;
    if (!t->rope_f32) t->rope_f32 = base->rope_f32;
}

#ifdef HAVE_X86
static void cpu_features(bool *avx2, bool *avx512) {
    unsigned a, b, c, d;
    *avx2 = *avx512 = false;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return;
    const bool fma = c & (1u << 12), osxsave = c & (1u << 27), avx = c & (1u << 28), f16c = c & (1u << 29);
    if (!osxsave || !avx) return;
    unsigned xlo, xhi;
    __asm__ volatile("xgetbv" : "=a"(xlo), "=d"(xhi) : "c"(0));
    const bool os_ymm = (xlo & 0x6) == 0x6;    /* SSE and AVX state */
    const bool os_zmm = (xlo & 0xe6) == 0xe6;  /* plus opmask, ZMM_Hi256, Hi16_ZMM */
    if (!os_ymm || __get_cpuid_max(0, NULL) < 7) return;
    __cpuid_count(7, 0, a, b, c, d);
    const bool has_avx2 = b & (1u << 5);
    const bool f = b & (1u << 16), dq = b & (1u << 17), bw = b & (1u << 30), vl = b & (1u << 31);
    const bool vnni = c & (1u << 11);
    __cpuid_count(7, 1, a, b, c, d);
    const bool bf16 = a & (1u << 5);
    *avx2 = has_avx2 && fma && f16c;
    *avx512 = *avx2 && os_zmm && f && dq && bw && vl && vnni && bf16;
}
#endif

static int isa_from_name(const char *s) {
    for (int i = 0; i < ISA_N; i++)
        if (strcmp(s, k_isa_names[i]) == 0) return i;
    return -1;
}

static void init(void) {
    g_full[ISA_SCALAR] = octo_kernels_scalar;
    g_avail[ISA_SCALAR] = true;
    int best = ISA_SCALAR;
#ifdef HAVE_X86
    bool avx2, avx512;
    cpu_features(&avx2, &avx512);
    g_full[ISA_AVX2] = octo_kernels_avx2;
    complete(&g_full[ISA_AVX2], &g_full[ISA_SCALAR]);
    g_full[ISA_AVX512] = octo_kernels_avx512;
    complete(&g_full[ISA_AVX512], &g_full[ISA_AVX2]);
    g_avail[ISA_AVX2] = avx2;
    g_avail[ISA_AVX512] = avx512;
    if (avx2) best = ISA_AVX2;
    if (avx512) best = ISA_AVX512;
#endif
#if defined(__aarch64__) && !defined(OCTO_NO_SIMD)
    g_full[ISA_NEON] = octo_kernels_neon;
    complete(&g_full[ISA_NEON], &g_full[ISA_SCALAR]);
    g_avail[ISA_NEON] = true; /* Advanced SIMD is part of the aarch64 base */
    best = ISA_NEON;
#endif
    const char *env = getenv("OCTO_ISA");
    if (env && *env && strcmp(env, "auto") != 0) {
        int want = isa_from_name(env);
        if (want >= 0 && g_avail[want])
            best = want;
        else
            fprintf(stderr, "octo: OCTO_ISA=%s is not available here; using %s\n", env, k_isa_names[best]);
    }
    g_default = &g_full[best];
    __atomic_store_n(&g_active, g_default, __ATOMIC_RELEASE);
}

const octo_kernels *octo_kernels_get(void) {
    const octo_kernels *k = __atomic_load_n(&g_active, __ATOMIC_ACQUIRE);
    if (__builtin_expect(k != NULL, 1)) return k;
    pthread_once(&g_once, init);
    return __atomic_load_n(&g_active, __ATOMIC_ACQUIRE);
}

const char *octo_kernel_isa(void) { return octo_kernels_get()->name; }

int octo_kernel_set_isa(const char *isa) {
    octo_kernels_get();
    if (!isa) return -1;
    if (strcmp(isa, "auto") == 0) {
        __atomic_store_n(&g_active, g_default, __ATOMIC_RELEASE);
        return 0;
    }
    int i = isa_from_name(isa);
    if (i < 0 || !g_avail[i]) return -1;
    __atomic_store_n(&g_active, &g_full[i], __ATOMIC_RELEASE);
    return 0;
}

/* ---- per-thread scratch ---- */

static pthread_key_t g_scratch_key;
static pthread_once_t g_scratch_once = PTHREAD_ONCE_INIT;
static _Thread_local void *g_scratch;
static _Thread_local size_t g_scratch_cap;

static void scratch_key_init(void) { pthread_key_create(&g_scratch_key, free); }

void *octo_kernel_scratch(size_t bytes) {
    if (bytes <= g_scratch_cap) return g_scratch;
    free(g_scratch);
    g_scratch_cap = (bytes + 4095) & ~(size_t)4095;
    g_scratch = aligned_alloc(64, g_scratch_cap);
    if (!g_scratch) {
        fprintf(stderr, "octo: out of memory (%zu bytes of kernel scratch)\n", g_scratch_cap);
        abort();
    }
    /* the key's destructor frees the buffer when the thread exits */
    pthread_once(&g_scratch_once, scratch_key_init);
    pthread_setspecific(g_scratch_key, g_scratch);
    return g_scratch;
}

/* ---- ops.h entry points ---- */

size_t octo_matmul_xq_size(octo_type wtype, int64_t M, int64_t K) {
    const octo_type_traits *tr = octo_type_info((int)wtype);
    if (!tr) return 0;
    return (size_t)M * octo_row_size(tr->vec_dot_type, K);
}

void octo_matmul_prepare(octo_type wtype, const float *x, int64_t x_stride, int64_t m0, int64_t m1, int64_t K,
                         void *xq) {
    const octo_type_traits *tr = octo_type_info((int)wtype);
    const octo_kernels *k = octo_kernels_get();
    octo_act_fn fn = tr ? k->act[tr->vec_dot_type] : NULL;
    if (!fn) {
        fprintf(stderr, "octo: octo_matmul_prepare: unsupported weight type %s\n", octo_type_name((int)wtype));
        abort();
    }
    const size_t rs = octo_row_size(tr->vec_dot_type, K);
    for (int64_t m = m0; m < m1; m++) fn(x + m * x_stride, (char *)xq + (size_t)m * rs, K);
}

void octo_matmul(octo_type wtype, const void *W, size_t w_stride, int64_t n0, int64_t n1, int64_t K, const void *xq,
                 int64_t M, float *y, int64_t y_stride) {
    const octo_type_traits *tr = octo_type_info((int)wtype);
    const octo_kernels *k = octo_kernels_get();
    /* llama.cpp runs one token through ggml's vector dot and batches through
     * its blocked product, which sum F32 in different orders.  One token of
     * F32 weights takes the vector-dot order (also the faster one for
     * streaming F32 rows); F16 keeps the blocked order, whose kernel streams
     * half-precision rows faster (tinyllama F16 decode 21 vs 16 tok/s). */
    octo_gemm_fn fn = !tr ? NULL
                      : M == 1 && wtype == OCTO_TYPE_F32 && k->gemm_vecdot[wtype] ? k->gemm_vecdot[wtype]
                                                                                 : k->gemm[wtype];
    if (!fn) {
        fprintf(stderr, "octo: octo_matmul: unsupported weight type %s\n", octo_type_name((int)wtype));
        abort();
    }
    if (n1 <= n0 || M <= 0) return;
    fn(W, w_stride, n0, n1, K, xq, octo_row_size(tr->vec_dot_type, K), M, y, y_stride);
}

bool octo_q4_0_pack_wanted(void) { return octo_kernels_get()->gemm_q4_0_packed != NULL; }

void octo_q4_0_pack(const void *src, size_t row_bytes, int64_t rows, int64_t K, void *dst) {
    const int64_t nb = K / QK4_0;
    for (int64_t g = 0; g + 8 <= rows; g += 8) {
        uint8_t *out = (uint8_t *)dst + g * row_bytes;
        for (int64_t i = 0; i < nb; i++, out += 144)
            for (int r = 0; r < 8; r++) {
                const block_q4_0 *b = (const block_q4_0 *)((const char *)src + (g + r) * row_bytes) + i;
                memcpy(out + 2 * r, &b->d, 2);
                for (int k = 0; k < 4; k++) memcpy(out + 16 + 32 * k + 4 * r, b->qs + 4 * k, 4);
            }
    }
}

void octo_matmul_q4_0_packed(const void *Wp, size_t row_bytes, int64_t n0, int64_t n1, int64_t K, const void *xq,
                             int64_t M, float *y, int64_t y_stride) {
    /* a table without its own packed kernel (ISA switched after packing)
     * uses the reference, which gives the same bits */
    octo_gemm_fn fn = octo_kernels_get()->gemm_q4_0_packed;
    if (!fn) fn = octo_kernels_scalar.gemm_q4_0_packed;
    if (n1 <= n0 || M <= 0) return;
    fn(Wp, row_bytes, n0, n1, K, xq, octo_row_size(OCTO_TYPE_Q8_0, K), M, y, y_stride);
}

float octo_vec_dot(octo_type wtype, int64_t K, const void *w, const void *xq) {
    float y = 0.0f;
    octo_matmul(wtype, w, 0, 0, 1, K, xq, 1, &y, 1);
    return y;
}

float octo_dot_f32(const float *a, const float *b, int64_t n) { return octo_kernels_get()->dot_f32(a, b, n); }

void octo_axpy_f32(float *y, float a, const float *x, int64_t n) { octo_kernels_get()->axpy_f32(y, a, x, n); }

void octo_scale_f32(float *y, float a, int64_t n) { octo_kernels_get()->scale_f32(y, a, n); }

float octo_expf(float x) { return octo_expf_poly(x); }
void octo_silu_f32(float *y, const float *x, int64_t n) { octo_kernels_get()->silu_f32(y, x, n); }
double octo_exp_sum_f32(float *y, const float *x, float max, int64_t n) {
    return octo_kernels_get()->exp_sum_f32(y, x, max, n);
}
float octo_dot_f16(const octo_f16 *a, const octo_f16 *b, int64_t n) { return octo_kernels_get()->dot_f16_4acc(a, b, n); }
float octo_dot_f16_lanes16(const octo_f16 *a, const octo_f16 *b, int64_t n) {
    return octo_kernels_get()->dot_f16_lanes16(a, b, n);
}
void octo_rope_f32(float *v, const float *cs, const float *sn, int n_pairs, int neox) {
    octo_kernels_get()->rope_f32(v, cs, sn, n_pairs, neox);
}
