/* ops.h - the numeric kernels everything else is built on.
 *
 * Each kernel has a plain-C reference (ops_scalar.c) and SIMD twins
 * (ops_avx2.c, ops_avx512.c, ops_neon.c) chosen once at run time by
 * dispatch.c; tests/test_kernels.c checks every twin against the reference.
 * Nothing outside src/tensor/ knows which instruction set runs.
 *
 * Matrix convention (as ggml): a weight W of shape [N][K] is N rows of K
 * elements in its storage type; activations x are [M][K] F32; the product
 * y[m][n] = dot(W[n], x[m]).  Before a product the activations are
 * converted once to the weight type's vec_dot_type (F32, F16, BF16, Q8_0 or
 * Q8_K), which is what makes quantized products integer dot products, and
 * what llama.cpp does too (so the numerics agree).
 */
#ifndef OCTO_TENSOR_OPS_H
#define OCTO_TENSOR_OPS_H

#include <stdbool.h>

#include "tensor/types.h"

/* ---- conversion ---- */

/* Dequantize n elements (a multiple of the block size) of type t to F32. */
void octo_dequantize_row(octo_type t, const void *src, float *dst, int64_t n);

/* Quantize n F32 elements to type t. Supported for F32, F16, BF16, Q8_0,
 * Q4_0, Q8_K, Q4_K and Q6_K (reference quantizers as ggml's *_ref).
 * Returns 0, or -1 if t cannot be quantized to. */
int octo_quantize_row(octo_type t, const float *src, void *dst, int64_t n);

/* ---- matrix products ---- */

/* Bytes needed to hold M rows of K activations converted to W's vec_dot_type. */
size_t octo_matmul_xq_size(octo_type wtype, int64_t M, int64_t K);

/* Convert rows [m0, m1) of x ([M][K] F32, row stride x_stride floats) to the
 * vec_dot_type of wtype, into xq (laid out row after row, each row
 * octo_row_size(vec_dot_type, K) bytes). */
void octo_matmul_prepare(octo_type wtype, const float *x, int64_t x_stride, int64_t m0, int64_t m1,
                         int64_t K, void *xq);

/* y[m][n] = dot(W[n], xq[m]) for n in [n0, n1) and m in [0, M).
 * W: rows of K elements of wtype, row i at (char*)W + i*w_stride bytes.
 * xq: output of octo_matmul_prepare for all M rows.
 * y: F32, y[m*y_stride + n].
 * Each thread calls this on its own [n0, n1); the kernel tiles over rows of
 * W and of xq so that a weight block is loaded once for several tokens. */
void octo_matmul(octo_type wtype, const void *W, size_t w_stride, int64_t n0, int64_t n1, int64_t K,
                 const void *xq, int64_t M, float *y, int64_t y_stride);

/* Q4_0 weights packed for the products (what llama.cpp's CPU backend does
 * when it loads Q4_0): each group of 8 rows, block by block, stores the 8
 * scales, then the 8 rows' nibbles interleaved 4 bytes at a time, so a
 * kernel loads 8 rows' block in the shape it computes with, with no
 * per-token transpose. Group g (rows 8g..8g+7) starts at byte 8g*row_bytes
 * and takes 8*row_bytes bytes: the packed copy of a matrix is its size.
 * Results equal octo_matmul's on the unpacked rows, bit for bit. */
#define OCTO_Q4_0_GROUP 8
/* True when the active kernels have a packed Q4_0 product worth packing for. */
bool octo_q4_0_pack_wanted(void);
/* Pack `rows` (a multiple of 8) rows of K Q4_0 elements, row i at
 * src + i*row_bytes, into dst (rows*row_bytes bytes). */
void octo_q4_0_pack(const void *src, size_t row_bytes, int64_t rows, int64_t K, void *dst);
/* octo_matmul on packed weights; n0 a multiple of 8, n1 too or the end. */
void octo_matmul_q4_0_packed(const void *Wp, size_t row_bytes, int64_t n0, int64_t n1, int64_t K, const void *xq,
                             int64_t M, float *y, int64_t y_stride);

/* Dot product of one weight row (K elements of wtype) with one row of
 * activations already converted by octo_matmul_prepare (same as octo_matmul
 * with N = M = 1, so the same bits). */
float octo_vec_dot(octo_type wtype, int64_t K, const void *w, const void *xq);

/* ---- vector kernels (F32) ---- */
float octo_dot_f32(const float *a, const float *b, int64_t n);
void octo_axpy_f32(float *y, float a, const float *x, int64_t n); /* y += a*x */
void octo_scale_f32(float *y, float a, int64_t n);                 /* y *= a */

/* ---- activations with ggml's exponential ----
 * exp is computed with the polynomial of ggml's CPU backend rather than
 * libm's expf, and sums in the order ggml's softmax uses, so that values
 * that are next rounded to F16 or to 8 bits round the same way as in
 * llama.cpp; every ISA gives the same bits. */
float octo_expf(float x);
/* y = x / (1 + exp(-x)): the first n - n%16 values with the polynomial
 * exp, the tail with libm's expf, as ggml_vec_silu_f32. */
void octo_silu_f32(float *y, const float *x, int64_t n);
/* y[i] = exp(x[i] - max), returns sum(y) as ggml_vec_soft_max_f32 forms it:
 * each group of 16 summed as a float tree, the groups added in double; a
 * last partial group is summed as if padded with zeros (llama.cpp pads the
 * row of cached positions with masked ones). */
double octo_exp_sum_f32(float *y, const float *x, float max, int64_t n);

/* Dot product of two F16 vectors in the order of ggml_vec_dot_f16: four
 * 16-lane accumulators over steps of 64 elements, reduced as a tree, the
 * remaining n % 64 products added one by one in double.  Attention scores
 * q.k use it, as llama.cpp does, so that they round identically. */
float octo_dot_f16(const octo_f16 *a, const octo_f16 *b, int64_t n);

/* The same product in the order of ggml's batched F16 product (tinyBLAS):
 * one 16-lane accumulator over steps of 16, then the lane tree.  n must be
 * a multiple of 16 (callers pad with zeros). */
float octo_dot_f16_lanes16(const octo_f16 *a, const octo_f16 *b, int64_t n);

/* Rotary embedding of one head: for pair k < n_pairs, (x0, x1) = the
 * elements (2k, 2k+1), or (k, k + n_pairs) with neox, become
 * (fma(x0, c, -(x1 s)), fma(x0, s, x1 c)) with c = cs[k], s = sn[k] --
 * fused as an FMA build of ggml computes them. */
void octo_rope_f32(float *v, const float *cs, const float *sn, int n_pairs, int neox);

/* Which implementation runs: "scalar", "avx2", "avx512", "neon". */
const char *octo_kernel_isa(void);
/* Force an implementation (for tests and benchmarks): returns 0, or -1 if
 * that ISA is not compiled in or not supported by this CPU. The environment
 * variable OCTO_ISA does the same at start-up; "auto" returns to the
 * start-up choice (the best available, or OCTO_ISA's). */
int octo_kernel_set_isa(const char *isa);

#endif
