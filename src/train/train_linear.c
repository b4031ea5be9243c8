/* train_linear.c - one linear layer of the trainable model, in either mode:
 *
 *   full fine-tuning:  y = x W^T (+ b)               W, b trainable F32
 *   LoRA:              y = x W^T (+ b) + s * (drop(x) A^T) B^T
 *                      W frozen in its storage type, A, B trainable F32
 *
 * A frozen quantized W is never expanded whole: a slab of its rows at a
 * time is dequantized (the threads split the rows) and multiplied with the
 * F32 GEMM, so memory stays at the quantized size plus one slab, and the
 * math is exactly that of the dequantized weight (the gradient is the true
 * gradient of the model the forward computes).
 *
 * Backward, with dy = dL/dy and z = drop(x) A^T kept from the forward:
 *   dW += dy^T x,  db += sum_n dy,  dx += dy W                 (full)
 *   dB += s dy^T z,  dz = s dy B,  dA += dz^T drop(x),  dx += dy W + drop'(dz A)
 */
#include <string.h>

#include "tensor/gemm_f32.h"
#include "tensor/ops.h"
#include "train/train_internal.h"

static uint64_t mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* A counter-based mask (a hash of seed, step, layer and element), so the
 * backward pass regenerates the forward's mask instead of storing it, and
 * the result does not depend on which thread drew it. */
float tm_dropout_factor(const octo_train_model *tm, int id, int64_t n, int64_t j) {
    float p = tm->cfg.lora_dropout;
    uint64_t h = mix64(tm->cfg.seed * 0x9E3779B97F4A7C15ull + 0x632BE59BD9B4E019ull);
    h = mix64(h ^ (tm->micro_steps * 0xD1B54A32D192ED03ull));
    h = mix64(h ^ ((uint64_t)id << 40) ^ ((uint64_t)n << 20) ^ (uint64_t)j);
    float u = (float)(h >> 40) * (1.0f / 16777216.0f);
    return u < p ? 0.0f : 1.0f / (1.0f - p);
}

static bool dropping(const octo_train_model *tm, bool train) { return train && tm->cfg.lora_dropout > 0.0f; }

/* drop[n][j] = x[n][j] * factor, this thread's rows */
static void make_drop(octo_train_model *tm, const tl_ctx *c, const tm_linear *L, const float *x, int64_t ldx, int N) {
    long lo, hi;
    tl_rows(c, N, &lo, &hi);
    for (long n = lo; n < hi; n++)
        for (int64_t j = 0; j < L->in; j++)
            tm->drop[n * L->in + j] = x[n * ldx + j] * tm_dropout_factor(tm, L->id, n, j);
}

/* Rows [r0, r1) of a frozen weight as F32: the mapping itself for F32,
 * else dequantized into the slab by all threads (ends with a barrier). */
static const float *frozen_rows(octo_train_model *tm, const tl_ctx *c, const octo_weight *w, int64_t r0, int64_t r1) {
    if (w->type == OCTO_TYPE_F32) return (const float *)((const char *)w->data + r0 * w->row_bytes);
    long lo, hi;
    octo_split_range((long)(r1 - r0), c->ith, c->nth, 1, &lo, &hi);
    for (long r = lo; r < hi; r++)
        octo_dequantize_row(w->type, (const char *)w->data + (r0 + r) * w->row_bytes, tm->slab + r * w->cols, w->cols);
    tl_barrier(c);
    return tm->slab;
}

static int64_t slab_rows(const octo_train_model *tm, const octo_weight *w) {
    if (w->type == OCTO_TYPE_F32) return w->rows;
    int64_t r = tm->slab_floats / w->cols;
    return r < 1 ? 1 : r;
}

void tm_linear_forward(octo_train_model *tm, const tl_ctx *c, tm_linear *L, const float *x, int64_t ldx, float *y,
                       int64_t ldy, int N, bool train) {
    const int in = (int)L->in, out = (int)L->out;
    if (L->w) {
        tl_linear_forward(c, y, ldy, x, ldx, L->w->data, tm_vec_data(&L->bias), N, in, out);
    } else {
        const octo_weight *w = L->base;
        int64_t step = slab_rows(tm, w);
        for (int64_t r0 = 0; r0 < out; r0 += step) {
            int64_t r1 = r0 + step < out ? r0 + step : out;
            const float *W = frozen_rows(tm, c, w, r0, r1);
            octo_sgemm_args g = {.trans_b = 1, .M = N, .N = r1 - r0, .K = in, .A = x, .lda = ldx, .B = W, .ldb = in,
                                 .C = y + r0, .ldc = ldy, .alpha = 1.0f};
            octo_sgemm_part(&g, c->ith, c->nth);
            tl_barrier(c); /* the slab is overwritten next */
        }
        const float *b = tm_vec_data(&L->bias);
        if (b) {
            long lo, hi;
            tl_rows(c, N, &lo, &hi);
            for (long n = lo; n < hi; n++)
                for (int j = 0; j < out; j++) y[n * ldy + j] += b[j];
        }
    }
    if (!L->la) return;
    const int r = (int)L->la->rows;
    const float *u = x;
    int64_t ldu = ldx;
    if (dropping(tm, train)) {
        make_drop(tm, c, L, x, ldx, N);
        tl_barrier(c);
        u = tm->drop;
        ldu = in;
    }
    /* z = u A^T   [N][r] */
    octo_sgemm_args gz = {.trans_b = 1, .M = N, .N = r, .K = in, .A = u, .lda = ldu, .B = L->la->data, .ldb = in,
                          .C = L->z, .ldc = r, .alpha = 1.0f};
    octo_sgemm_part(&gz, c->ith, c->nth);
    tl_barrier(c);
    /* y += s z B^T */
    octo_sgemm_args gy = {.trans_b = 1, .M = N, .N = out, .K = r, .A = L->z, .lda = r, .B = L->lb->data, .ldb = r,
                          .C = y, .ldc = ldy, .alpha = tm->lora_scale, .accumulate = 1};
    octo_sgemm_part(&gy, c->ith, c->nth);
}

void tm_linear_backward(octo_train_model *tm, const tl_ctx *c, tm_linear *L, const float *x, int64_t ldx,
                        const float *dy, int64_t ldy, float *dx, int64_t lddx, int N) {
    const int in = (int)L->in, out = (int)L->out;
    if (L->w) {
        tl_linear_backward(c, dx, lddx, L->w->grad, tm_vec_grad(&L->bias), dy, ldy, x, ldx, L->w->data, N, in, out);
    } else if (dx) {
        const octo_weight *w = L->base;
        int64_t step = slab_rows(tm, w);
        for (int64_t r0 = 0; r0 < out; r0 += step) {
            int64_t r1 = r0 + step < out ? r0 + step : out;
            const float *W = frozen_rows(tm, c, w, r0, r1);
            octo_sgemm_args g = {.M = N, .N = in, .K = r1 - r0, .A = dy + r0, .lda = ldy, .B = W, .ldb = in,
                                 .C = dx, .ldc = lddx, .alpha = 1.0f, .accumulate = 1};
            octo_sgemm_part(&g, c->ith, c->nth);
            tl_barrier(c);
        }
    }
    if (!L->la) return;
    const int r = (int)L->la->rows;
    const float s = tm->lora_scale;
    /* dB += s dy^T z   [out][r] */
    octo_sgemm_args gb = {.trans_a = 1, .M = out, .N = r, .K = N, .A = dy, .lda = ldy, .B = L->z, .ldb = r,
                          .C = L->lb->grad, .ldc = r, .alpha = s, .accumulate = 1};
    octo_sgemm_part(&gb, c->ith, c->nth);
    /* dz = s dy B   [N][r] */
    octo_sgemm_args gz = {.M = N, .N = r, .K = out, .A = dy, .lda = ldy, .B = L->lb->data, .ldb = r, .C = tm->dz,
                          .ldc = r, .alpha = s};
    octo_sgemm_part(&gz, c->ith, c->nth);
    bool drop = dropping(tm, true);
    if (drop) make_drop(tm, c, L, x, ldx, N);
    tl_barrier(c);
    /* dA += dz^T drop(x)   [r][in] */
    octo_sgemm_args ga = {.trans_a = 1, .M = r, .N = in, .K = N, .A = tm->dz, .lda = r, .B = drop ? tm->drop : x,
                          .ldb = drop ? in : ldx, .C = L->la->grad, .ldc = in, .alpha = 1.0f, .accumulate = 1};
    octo_sgemm_part(&ga, c->ith, c->nth);
    if (!dx) return;
    if (!drop) {
        /* dx += dz A */
        octo_sgemm_args gx = {.M = N, .N = in, .K = r, .A = tm->dz, .lda = r, .B = L->la->data, .ldb = in, .C = dx,
                              .ldc = lddx, .alpha = 1.0f, .accumulate = 1};
        octo_sgemm_part(&gx, c->ith, c->nth);
        return;
    }
    tl_barrier(c); /* drop is read by the dA product above */
    octo_sgemm_args gx = {.M = N, .N = in, .K = r, .A = tm->dz, .lda = r, .B = L->la->data, .ldb = in, .C = tm->drop,
                          .ldc = in, .alpha = 1.0f};
    octo_sgemm_part(&gx, c->ith, c->nth);
    tl_barrier(c);
    long lo, hi;
    tl_rows(c, N, &lo, &hi);
    for (long n = lo; n < hi; n++)
        for (int64_t j = 0; j < in; j++) dx[n * lddx + j] += tm->drop[n * in + j] * tm_dropout_factor(tm, L->id, n, j);
}
