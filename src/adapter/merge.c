/* merge.c - `octo lora merge`: adapters folded into a base model (see
 * merge.h), written as an ordinary GGUF model that octo and llama.cpp load.
 *
 * One adapted weight at a time: its task vectors are built densely in F32
 * (rows split among threads), combined, added to the dequantized base
 * weight and quantized back to the output type.  Tensors no adapter touches
 * are copied as they are (or converted when --type asks for it).
 */
#include "adapter/merge.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "adapter/lora.h"
#include "base/error.h"
#include "base/threadpool.h"
#include "gguf/gguf.h"
#include "model/model.h"
#include "tensor/ops.h"

void octo_merge_defaults(octo_merge_params *p) {
    memset(p, 0, sizeof *p);
    p->method = OCTO_MERGE_LINEAR;
    p->density = 0.5f;
}

/* ---- the combine rules ---- */

static void swapf(float *a, float *b) {
    float t = *a;
    *a = *b;
    *b = t;
}

/* The k-th largest (k >= 1) of v[0..n), reordering v. */
static float kth_largest(float *v, int64_t n, int64_t k) {
    int64_t lo = 0, hi = n - 1, want = k - 1; /* index in descending order */
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        /* median of three as pivot, moved to hi */
        if (v[mid] > v[lo]) swapf(&v[mid], &v[lo]);
        if (v[hi] > v[lo]) swapf(&v[hi], &v[lo]);
        if (v[mid] > v[hi]) swapf(&v[mid], &v[hi]);
        float pivot = v[hi];
        int64_t store = lo;
        for (int64_t i = lo; i < hi; i++)
            if (v[i] > pivot) swapf(&v[i], &v[store++]);
        /* equal elements grouped after the larger ones, so runs of ties end */
        int64_t eq = store;
        for (int64_t i = store; i < hi; i++)
            if (v[i] == pivot) swapf(&v[i], &v[eq++]);
        swapf(&v[eq], &v[hi]);
        if (want < store)
            hi = store - 1;
        else if (want <= eq)
            return pivot;
        else
            lo = eq + 1;
    }
    return v[want];
}

void octo_merge_trim(float *x, int64_t n, float density) {
    if (density >= 1.0f || n <= 0) return;
    int64_t k = (int64_t)((double)density * (double)n);
    if (k <= 0) {
        memset(x, 0, (size_t)n * sizeof(float));
        return;
    }
    float *mag = malloc((size_t)n * sizeof(float));
    if (!mag) return; /* caller checked memory for the dense vectors; keep all */
    for (int64_t i = 0; i < n; i++) mag[i] = fabsf(x[i]);
    float thr = kth_largest(mag, n, k);
    free(mag);
    int64_t above = 0;
    for (int64_t i = 0; i < n; i++) above += fabsf(x[i]) > thr;
    int64_t ties_left = k - above;
    for (int64_t i = 0; i < n; i++) {
        float a = fabsf(x[i]);
        if (a > thr) continue;
        if (a == thr && ties_left > 0) {
            ties_left--;
            continue;
        }
        x[i] = 0.0f;
    }
}

static uint64_t mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

void octo_merge_dare_drop(float *x, int64_t n, float density, uint64_t seed, uint64_t stream) {
    if (density >= 1.0f) return;
    uint64_t key = mix64(seed * 0x9E3779B97F4A7C15ull + mix64(stream + 1));
    for (int64_t j = 0; j < n; j++) {
        double u = (double)(mix64(key + (uint64_t)j * 0x9E3779B97F4A7C15ull) >> 11) * (1.0 / 9007199254740992.0);
        x[j] = u < (double)density ? x[j] / density : 0.0f;
    }
}

void octo_merge_ties_combine(float *out, const float *const *d, const float *w, int n_tasks, int64_t j0, int64_t j1) {
    for (int64_t j = j0; j < j1; j++) {
        float total = 0.0f;
        for (int i = 0; i < n_tasks; i++) total += d[i][j];
        float sign = total >= 0.0f ? 1.0f : -1.0f;
        float sum = 0.0f;
        int agree = 0;
        for (int i = 0; i < n_tasks; i++) {
            float v = d[i][j];
            if (v != 0.0f && (v > 0.0f) == (sign > 0.0f)) {
                sum += w[i] * v;
                agree++;
            }
        }
        out[j] = agree ? sum / (float)agree : 0.0f;
    }
}

/* ---- one weight ---- */

typedef struct {
    /* delta job: d = s * B A over rows */
    const octo_lora_tensor *t;
    float s;
    float *d;
    bool accumulate;
    /* ties job */
    const float *const *dd;
    const float *w;
    int n_tasks;
    float *out;
    /* final job: base row + delta -> dst type */
    const gguf_tensor *src;
    octo_type dst_type;
    void *dst;
    const float *delta;
    int64_t rows, cols;
} mjob;

static void job_delta(void *arg, int ith, int nth) {
    mjob *j = arg;
    long lo, hi;
    octo_split_range(j->rows, ith, nth, 1, &lo, &hi);
    for (long r = lo; r < hi; r++) {
        float *dr = j->d + (size_t)r * j->cols;
        if (!j->accumulate) memset(dr, 0, (size_t)j->cols * sizeof(float));
        for (int k = 0; k < j->t->rank; k++) {
            float c = j->s * j->t->b[(size_t)r * j->t->rank + k];
            if (c != 0.0f) octo_axpy_f32(dr, c, j->t->a + (size_t)k * j->cols, j->cols);
        }
    }
}

static void job_ties(void *arg, int ith, int nth) {
    mjob *j = arg;
    long lo, hi;
    octo_split_range(j->rows * j->cols, ith, nth, 64, &lo, &hi);
    octo_merge_ties_combine(j->out, j->dd, j->w, j->n_tasks, lo, hi);
}

static void job_final(void *arg, int ith, int nth) {
    mjob *j = arg;
    long lo, hi;
    octo_split_range(j->rows, ith, nth, 1, &lo, &hi);
    float *tmp = malloc((size_t)j->cols * sizeof(float));
    if (!tmp) return;
    size_t in_row = octo_row_size(j->src->type, j->cols), out_row = octo_row_size(j->dst_type, j->cols);
    for (long r = lo; r < hi; r++) {
        octo_dequantize_row(j->src->type, (const uint8_t *)j->src->data + (size_t)r * in_row, tmp, j->cols);
        if (j->delta)
            for (int64_t c = 0; c < j->cols; c++) tmp[c] += j->delta[(size_t)r * j->cols + c];
        octo_quantize_row(j->dst_type, tmp, (uint8_t *)j->dst + (size_t)r * out_row, j->cols);
    }
    free(tmp);
}

/* The combined delta of every adapter touching `name` ([rows][cols]), or
 * NULL with *none set when no adapter (with a nonzero weight) touches it. */
static float *combined_delta(octo_pool *pool, octo_lora *const *ad, int n, const octo_merge_params *p,
                             const char *name, int64_t rows, int64_t cols, uint64_t tensor_index, bool *none) {
    size_t N = (size_t)rows * (size_t)cols;
    int idx[64], cnt = 0;
    float wts[64];
    for (int i = 0; i < n && cnt < 64; i++) {
        float w = p->weights ? p->weights[i] : 1.0f;
        int ti = octo_lora_find(ad[i], name);
        /* a zero weight adds nothing, except to TIES's sign election */
        if (ti < 0 || (w == 0.0f && p->method != OCTO_MERGE_TIES)) continue;
        idx[cnt] = i;
        wts[cnt++] = w;
    }
    *none = cnt == 0;
    if (cnt == 0) return NULL;
    float *out = calloc(N, sizeof(float));
    if (!out) {
        octo_fail("merge: out of memory for %s (%lld x %lld)", name, (long long)rows, (long long)cols);
        return NULL;
    }
    if (p->method == OCTO_MERGE_LINEAR) {
        for (int c = 0; c < cnt; c++) {
            const octo_lora *l = ad[idx[c]];
            int ti = octo_lora_find(l, name);
            mjob j = {.t = &l->t[ti], .s = wts[c] * octo_lora_scale(l, ti, 1.0f), .d = out, .accumulate = true,
                      .rows = rows, .cols = cols};
            octo_pool_run(pool, job_delta, &j);
        }
        return out;
    }
    /* ties / dare: each task vector dense, then pruned and combined */
    float *d[64] = {0};
    for (int c = 0; c < cnt; c++) {
        const octo_lora *l = ad[idx[c]];
        int ti = octo_lora_find(l, name);
        d[c] = malloc(N * sizeof(float));
        if (!d[c]) {
            for (int k = 0; k < c; k++) free(d[k]);
            free(out);
            octo_fail("merge: out of memory for the task vectors of %s", name);
            return NULL;
        }
        mjob j = {.t = &l->t[ti], .s = octo_lora_scale(l, ti, 1.0f), .d = d[c], .rows = rows, .cols = cols};
        octo_pool_run(pool, job_delta, &j);
        if (p->method == OCTO_MERGE_TIES)
            octo_merge_trim(d[c], (int64_t)N, p->density);
        else
            octo_merge_dare_drop(d[c], (int64_t)N, p->density, p->seed, tensor_index * 1000003u + (uint64_t)idx[c]);
    }
    if (p->method == OCTO_MERGE_TIES) {
        mjob j = {.dd = (const float *const *)d, .w = wts, .n_tasks = cnt, .out = out, .rows = rows, .cols = cols};
        octo_pool_run(pool, job_ties, &j);
    } else {
        for (int c = 0; c < cnt; c++)
            for (size_t e = 0; e < N; e++) out[e] += wts[c] * d[c][e];
    }
    for (int c = 0; c < cnt; c++) free(d[c]);
    return out;
}

/* ggml's LLAMA_FTYPE ids, for general.file_type */
static int file_type_of(octo_type t) {
    switch (t) {
    case OCTO_TYPE_F16: return 1;
    case OCTO_TYPE_Q4_0: return 2;
    case OCTO_TYPE_Q8_0: return 7;
    default: return 0;
    }
}

int octo_lora_merge(const char *base_path, octo_lora *const *adapters, int n, const octo_merge_params *pp,
                    const char *out_path) {
    octo_merge_params p;
    if (pp)
        p = *pp;
    else
        octo_merge_defaults(&p);
    if (p.density == 0.0f) p.density = 0.5f;
    if (n <= 0 || n > 64) return octo_fail("merge: between 1 and 64 adapters, got %d", n);
    if (p.method != OCTO_MERGE_LINEAR && (!(p.density > 0.0f) || p.density > 1.0f))
        return octo_fail("merge: density %g is not in (0, 1]", p.density);
    int target = -1;
    if (p.type) {
        target = octo_type_from_name(p.type);
        if (!(target == OCTO_TYPE_F32 || target == OCTO_TYPE_F16 || target == OCTO_TYPE_Q8_0 ||
              target == OCTO_TYPE_Q4_0))
            return octo_fail("merge: --type \"%s\" is not one of F32, F16, Q8_0, Q4_0", p.type);
    }
    octo_model *m = octo_model_load(base_path);
    if (!m) return -1;
    for (int i = 0; i < n; i++)
        if (octo_lora_validate(adapters[i], m)) {
            octo_fail_context("merge: adapter %d", i + 1);
            octo_model_free(m);
            return -1;
        }
    const gguf_file *f = m->file;
    gguf_writer *w = gguf_writer_new();
    void **bufs = calloc((size_t)(f->n_tensors ? f->n_tensors : 1), sizeof(void *));
    octo_pool *pool = octo_pool_new(p.n_threads > 0 ? p.n_threads : octo_cpu_count());
    int rc = w && bufs && pool ? 0 : octo_fail("merge: out of memory");
    for (uint64_t i = 0; i < f->n_kv && rc == 0; i++) gguf_set_kv(w, &f->kv[i]);
    if (rc == 0 && target >= 0) gguf_set_u32(w, "general.file_type", (uint32_t)file_type_of((octo_type)target));
    for (uint64_t i = 0; i < f->n_tensors && rc == 0; i++) {
        const gguf_tensor *t = &f->tensors[i];
        char name[256];
        snprintf(name, sizeof name, "%.*s", (int)t->name.len, t->name.ptr);
        bool is_weight = t->n_dims == 2 && t->name.len > 7 && memcmp(t->name.ptr + t->name.len - 7, ".weight", 7) == 0;
        bool none = true;
        float *delta = NULL;
        if (is_weight && octo_model_weight(m, name)) {
            delta = combined_delta(pool, adapters, n, &p, name, t->ne[1], t->ne[0], i, &none);
            if (!delta && !none) {
                rc = -1;
                break;
            }
        }
        octo_type dst = target >= 0 && is_weight ? (octo_type)target : t->type;
        if (t->ne[0] % octo_type_info(dst)->block_size != 0) dst = t->ne[0] % 32 == 0 ? OCTO_TYPE_Q8_0 : OCTO_TYPE_F32;
        if (!delta && dst == t->type) {
            rc = gguf_add_tensor(w, name, t->type, (int)t->n_dims, t->ne, t->data);
            continue;
        }
        size_t bytes = octo_row_size(dst, t->ne[0]) * (size_t)t->ne[1];
        bufs[i] = malloc(bytes ? bytes : 1);
        if (!bufs[i]) {
            free(delta);
            rc = octo_fail("merge: out of memory for tensor %s", name);
            break;
        }
        mjob j = {.src = t, .dst_type = dst, .dst = bufs[i], .delta = delta, .rows = t->ne[1], .cols = t->ne[0]};
        octo_pool_run(pool, job_final, &j);
        free(delta);
        rc = gguf_add_tensor(w, name, dst, 2, t->ne, bufs[i]);
    }
    if (rc == 0) rc = gguf_writer_write(w, out_path);
    if (bufs)
        for (uint64_t i = 0; i < f->n_tensors; i++) free(bufs[i]);
    free(bufs);
    octo_pool_free(pool);
    gguf_writer_free(w);
    octo_model_free(m);
    return rc;
}
