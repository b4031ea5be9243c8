/* quantize.c - rewrite a model's weights in another tensor type.
 *
 * Every 2-D weight is dequantized to F32 and quantized to the target; 1-D
 * tensors (norms, biases) stay as they are, since they are tiny and
 * precision-critical.  As llama-quantize does for the 4-bit types, the output
 * projection (or the tied embedding that serves as it) gets Q6_K, because
 * its error goes straight into the logits; that also keeps our files
 * comparable, tensor for tensor, with the ecosystem's.
 */
#include <stdlib.h>
#include <string.h>

#include "octo.h"
#include "base/error.h"
#include "base/threadpool.h"
#include "gguf/gguf.h"
#include "model/quantize.h"
#include "tensor/ops.h"

typedef struct {
    const gguf_tensor *src;
    octo_type dst_type;
    void *dst;
    int64_t rows, cols;
} qjob;

static void quantize_rows(void *arg, int ith, int nth) {
    qjob *j = arg;
    long lo, hi;
    octo_split_range(j->rows, ith, nth, 1, &lo, &hi);
    float *tmp = malloc((size_t)j->cols * sizeof(float));
    if (!tmp) return;
    size_t in_row = octo_row_size(j->src->type, j->cols), out_row = octo_row_size(j->dst_type, j->cols);
    for (long r = lo; r < hi; r++) {
        octo_dequantize_row(j->src->type, (const uint8_t *)j->src->data + (size_t)r * in_row, tmp, j->cols);
        octo_quantize_row(j->dst_type, tmp, (uint8_t *)j->dst + (size_t)r * out_row, j->cols);
    }
    free(tmp);
}

/* ggml's LLAMA_FTYPE ids, written to general.file_type */
static int file_type_of(octo_type t) {
    switch (t) {
    case OCTO_TYPE_F32: return 0;
    case OCTO_TYPE_F16: return 1;
    case OCTO_TYPE_Q4_0: return 2;
    case OCTO_TYPE_Q8_0: return 7;
    case OCTO_TYPE_Q4_K: return 15;
    case OCTO_TYPE_Q6_K: return 18;
    case OCTO_TYPE_BF16: return 32;
    default: return 0;
    }
}

static bool is_output_weight(const gguf_file *f, const gguf_tensor *t) {
    if (gguf_str_eq(t->name, "output.weight")) return true;
    return gguf_str_eq(t->name, "token_embd.weight") && !gguf_find_tensor(f, "output.weight");
}

int octo_quant_target(const char *type_name, octo_type *out) {
    int ti = octo_type_from_name(type_name);
    octo_type target = (octo_type)ti;
    if (ti < 0 || !(target == OCTO_TYPE_F32 || target == OCTO_TYPE_F16 || target == OCTO_TYPE_BF16 ||
                    target == OCTO_TYPE_Q8_0 || target == OCTO_TYPE_Q4_0 || target == OCTO_TYPE_Q4_K ||
                    target == OCTO_TYPE_Q6_K))
        return octo_fail("quantize: type \"%s\" is not one of F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q6_K", type_name);
    *out = target;
    return 0;
}

octo_type octo_quant_type_for(octo_type target, bool is_output, int64_t cols) {
    octo_type dst = target;
    if (is_output && (target == OCTO_TYPE_Q4_0 || target == OCTO_TYPE_Q4_K)) dst = OCTO_TYPE_Q6_K;
    if (cols % octo_type_info(dst)->block_size != 0) {
        /* rows too short for the block: the nearest type that fits */
        dst = cols % 32 == 0 ? OCTO_TYPE_Q8_0 : OCTO_TYPE_F16;
        if (cols % 32 != 0 && target == OCTO_TYPE_F32) dst = OCTO_TYPE_F32;
    }
    return dst;
}

int octo_quant_file_type(octo_type t) { return file_type_of(t); }

int octo_quantize_file(const char *in_path, const char *out_path, const char *type_name, int n_threads) {
    octo_type target;
    if (octo_quant_target(type_name, &target) != 0) return -1;
    gguf_file *f = gguf_open(in_path);
    if (!f) return -1;
    gguf_writer *w = gguf_writer_new();
    void **bufs = calloc((size_t)(f->n_tensors ? f->n_tensors : 1), sizeof(void *));
    octo_pool *pool = octo_pool_new(n_threads > 0 ? n_threads : octo_cpu_count());
    int rc = 0;
    if (!w || !bufs || !pool) {
        rc = octo_fail("quantize: out of memory");
        goto done;
    }
    for (uint64_t i = 0; i < f->n_kv; i++) gguf_set_kv(w, &f->kv[i]);
    gguf_set_u32(w, "general.file_type", (uint32_t)file_type_of(target));
    gguf_set_u32(w, "general.quantization_version", 2);
    for (uint64_t i = 0; i < f->n_tensors && rc == 0; i++) {
        const gguf_tensor *t = &f->tensors[i];
        char name[256];
        snprintf(name, sizeof name, "%.*s", (int)t->name.len, t->name.ptr);
        bool is_weight = t->n_dims == 2 && t->name.len > 7 &&
                         memcmp(t->name.ptr + t->name.len - 7, ".weight", 7) == 0;
        octo_type dst = is_weight ? octo_quant_type_for(target, is_output_weight(f, t), t->ne[0]) : target;
        const octo_type_traits *src_tr = octo_type_info(t->type);
        if (!is_weight || dst == t->type || !src_tr || !src_tr->supported) {
            if (is_weight && (!src_tr || !src_tr->supported)) {
                rc = octo_fail("%s: tensor %s has type %s, which octo cannot convert", in_path, name,
                               octo_type_name(t->type));
                break;
            }
            rc = gguf_add_tensor(w, name, t->type, (int)t->n_dims, t->ne, t->data);
            continue;
        }
        qjob j = {.src = t, .dst_type = dst, .rows = t->ne[1], .cols = t->ne[0]};
        size_t bytes = octo_row_size(dst, t->ne[0]) * (size_t)t->ne[1];
        j.dst = bufs[i] = malloc(bytes ? bytes : 1);
        if (!j.dst) {
            rc = octo_fail("quantize: out of memory for tensor %s", name);
            break;
        }
        octo_pool_run(pool, quantize_rows, &j);
        rc = gguf_add_tensor(w, name, dst, 2, t->ne, j.dst);
    }
    if (rc == 0) rc = gguf_writer_write(w, out_path);
done:
    if (bufs)
        for (uint64_t i = 0; i < f->n_tensors; i++) free(bufs[i]);
    free(bufs);
    octo_pool_free(pool);
    gguf_writer_free(w);
    gguf_close(f);
    return rc;
}
