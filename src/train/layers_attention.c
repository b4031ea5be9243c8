/* layers_attention.c - causal grouped-query attention, forward and backward
 * (see layers.h for the layout and the mask).
 *
 * Per row b and head h, with Q [T][hd], K [T][hd], V [T][hdv] slices of qkv:
 *   S = Q K^T * scale,  P = softmax(S masked),  O = P V
 * and backward, given dO:
 *   dP = dO V^T,  dV += P^T dO,  dS = P * (dP - rowsum(P * dP)) * scale,
 *   dQ = dS K,    dK += dS^T Q
 * The T x T probabilities are never stored: both passes walk blocks of
 * TL_ATT_BLOCK query rows, the forward keeps only each row's logsumexp, and
 * the backward recomputes the block's P = exp(S - lse) from it (memory
 * O(T) per head instead of O(T^2), for one more Q K^T product).  Blocks
 * stop at the diagonal: what the causal mask zeroes is not computed.
 * Forward jobs are (b, h) pairs; backward jobs are (b, kv head) so the
 * heads that share a kv head add into its dK/dV on one thread, in head
 * order.
 */
#include <math.h>
#include <string.h>

#include "tensor/gemm_f32.h"
#include "tensor/ops.h"
#include "train/layers.h"

#define ABLK TL_ATT_BLOCK

static int64_t qkv_dim(const tl_attn_shape *s) {
    return (int64_t)s->n_head * s->head_dim + (int64_t)s->n_head_kv * (s->head_dim + s->head_dim_v);
}

/* Rows [i0, i1) of S = Q K^T * scale, columns [0, i1), into Sb (row stride T). */
static void scores(const tl_attn_shape *s, const float *Q, const float *K, int64_t ld, int i0, int i1, float *Sb) {
    octo_sgemm_args g = {.trans_b = 1, .M = i1 - i0, .N = i1, .K = s->head_dim, .A = Q + (int64_t)i0 * ld,
                         .lda = ld, .B = K, .ldb = ld, .C = Sb, .ldc = s->T, .alpha = s->scale};
    octo_sgemm_part(&g, 0, 1);
}

/* Set the masked scores of row i (positions <= i) to -inf; returns the max
 * of the others (the diagonal is never masked). */
static float mask_row(const tl_attn_shape *s, float *row, int i, const int32_t *ps, const int32_t *sg) {
    float mx = -INFINITY;
    for (int j = 0; j <= i; j++) {
        int ok = sg[j] == sg[i] && (s->n_swa <= 0 || ps[i] - ps[j] < s->n_swa);
        if (!ok) row[j] = -INFINITY;
        else if (row[j] > mx) mx = row[j];
    }
    return mx;
}

void tl_attention_forward(const tl_ctx *c, float *out, float *lse, const float *qkv, const int32_t *pos,
                          const int32_t *seg, const tl_attn_shape *s, float *scratch) {
    const int T = s->T, hd = s->head_dim, hdv = s->head_dim_v, nh = s->n_head, group = s->n_head / s->n_head_kv;
    const int64_t ld = qkv_dim(s), q_dim = (int64_t)nh * hd, k_dim = (int64_t)s->n_head_kv * hd;
    const int64_t ld_out = (int64_t)nh * hdv;
    float *Pb = scratch + (size_t)c->ith * 2 * ABLK * T; /* [ABLK][T] */
    long lo, hi;
    octo_split_range((long)s->B * nh, c->ith, c->nth, 1, &lo, &hi);
    for (long job = lo; job < hi; job++) {
        int b = (int)(job / nh), h = (int)(job % nh), kvh = h / group;
        const float *base = qkv + (size_t)b * T * ld;
        const float *Q = base + (int64_t)h * hd, *K = base + q_dim + (int64_t)kvh * hd,
                    *V = base + q_dim + k_dim + (int64_t)kvh * hdv;
        const int32_t *ps = pos + (size_t)b * T, *sg = seg + (size_t)b * T;
        float *lrow = lse + ((size_t)b * nh + h) * T;
        float *O = out + (size_t)b * T * ld_out + (int64_t)h * hdv;
        for (int i0 = 0; i0 < T; i0 += ABLK) {
            int i1 = i0 + ABLK < T ? i0 + ABLK : T;
            scores(s, Q, K, ld, i0, i1, Pb);
            for (int i = i0; i < i1; i++) {
                float *row = Pb + (size_t)(i - i0) * T;
                float mx = mask_row(s, row, i, ps, sg);
                /* exp(-inf) = 0 for the masked; positions after i are 0 */
                double sum = octo_exp_sum_f32(row, row, mx, i + 1);
                float inv = (float)(1.0 / sum);
                for (int j = 0; j <= i; j++) row[j] *= inv;
                for (int j = i + 1; j < i1; j++) row[j] = 0.0f;
                lrow[i] = mx + (float)log(sum);
            }
            /* O = P V   [i1 - i0][hdv] */
            octo_sgemm_args o = {.M = i1 - i0, .N = hdv, .K = i1, .A = Pb, .lda = T, .B = V, .ldb = ld,
                                 .C = O + (int64_t)i0 * ld_out, .ldc = ld_out, .alpha = 1.0f};
            octo_sgemm_part(&o, 0, 1);
        }
    }
}

void tl_attention_backward(const tl_ctx *c, float *dqkv, const float *dout, const float *lse, const float *qkv,
                           const int32_t *pos, const int32_t *seg, const tl_attn_shape *s, float *scratch) {
    const int T = s->T, hd = s->head_dim, hdv = s->head_dim_v, nh = s->n_head, nkv = s->n_head_kv;
    const int group = nh / nkv;
    const int64_t ld = qkv_dim(s), q_dim = (int64_t)nh * hd, k_dim = (int64_t)nkv * hd;
    const int64_t ld_out = (int64_t)nh * hdv;
    float *Pb = scratch + (size_t)c->ith * 2 * ABLK * T, *dS = Pb + (size_t)ABLK * T; /* [ABLK][T] each */
    long lo, hi;
    octo_split_range((long)s->B * nkv, c->ith, c->nth, 1, &lo, &hi);
    for (long job = lo; job < hi; job++) {
        int b = (int)(job / nkv), kvh = (int)(job % nkv);
        const float *base = qkv + (size_t)b * T * ld;
        float *dbase = dqkv + (size_t)b * T * ld;
        const float *K = base + q_dim + (int64_t)kvh * hd, *V = base + q_dim + k_dim + (int64_t)kvh * hdv;
        float *dK = dbase + q_dim + (int64_t)kvh * hd, *dV = dbase + q_dim + k_dim + (int64_t)kvh * hdv;
        const int32_t *ps = pos + (size_t)b * T, *sg = seg + (size_t)b * T;
        for (int t = 0; t < T; t++) {
            memset(dK + (size_t)t * ld, 0, (size_t)hd * sizeof(float));
            memset(dV + (size_t)t * ld, 0, (size_t)hdv * sizeof(float));
        }
        for (int h = kvh * group; h < (kvh + 1) * group; h++) {
            const float *Q = base + (int64_t)h * hd;
            float *dQ = dbase + (int64_t)h * hd;
            const float *lrow = lse + ((size_t)b * nh + h) * T;
            const float *dO = dout + (size_t)b * T * ld_out + (int64_t)h * hdv;
            for (int i0 = 0; i0 < T; i0 += ABLK) {
                int i1 = i0 + ABLK < T ? i0 + ABLK : T, m = i1 - i0;
                /* P of the block again, from the forward's logsumexp */
                scores(s, Q, K, ld, i0, i1, Pb);
                for (int i = i0; i < i1; i++) {
                    float *row = Pb + (size_t)(i - i0) * T;
                    mask_row(s, row, i, ps, sg);
                    octo_exp_sum_f32(row, row, lrow[i], i + 1);
                    for (int j = i + 1; j < i1; j++) row[j] = 0.0f;
                }
                /* dP = dO V^T   [m][i1] */
                octo_sgemm_args g1 = {.trans_b = 1, .M = m, .N = i1, .K = hdv, .A = dO + (int64_t)i0 * ld_out,
                                      .lda = ld_out, .B = V, .ldb = ld, .C = dS, .ldc = T, .alpha = 1.0f};
                octo_sgemm_part(&g1, 0, 1);
                /* dV[0:i1] += P^T dO   [i1][hdv] */
                octo_sgemm_args g2 = {.trans_a = 1, .M = i1, .N = hdv, .K = m, .A = Pb, .lda = T,
                                      .B = dO + (int64_t)i0 * ld_out, .ldb = ld_out, .C = dV, .ldc = ld,
                                      .alpha = 1.0f, .accumulate = 1};
                octo_sgemm_part(&g2, 0, 1);
                /* dS = P * (dP - rowsum(P * dP)) * scale, in place (P = 0 right of the diagonal) */
                for (int i = i0; i < i1; i++) {
                    const float *p = Pb + (size_t)(i - i0) * T;
                    float *d = dS + (size_t)(i - i0) * T;
                    double dot = 0;
                    for (int j = 0; j <= i; j++) dot += (double)p[j] * d[j];
                    float mm = (float)dot;
                    for (int j = 0; j < i1; j++) d[j] = p[j] * (d[j] - mm) * s->scale;
                }
                /* dQ = dS K   [m][hd] */
                octo_sgemm_args g3 = {.M = m, .N = hd, .K = i1, .A = dS, .lda = T, .B = K, .ldb = ld,
                                      .C = dQ + (int64_t)i0 * ld, .ldc = ld, .alpha = 1.0f};
                octo_sgemm_part(&g3, 0, 1);
                /* dK[0:i1] += dS^T Q   [i1][hd] */
                octo_sgemm_args g4 = {.trans_a = 1, .M = i1, .N = hd, .K = m, .A = dS, .lda = T,
                                      .B = Q + (int64_t)i0 * ld, .ldb = ld, .C = dK, .ldc = ld, .alpha = 1.0f,
                                      .accumulate = 1};
                octo_sgemm_part(&g4, 0, 1);
            }
        }
    }
}
