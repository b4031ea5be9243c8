/* pack.c - lay a model's Q4_0 matrices out for the products, once.
 *
 * The Q4_0 kernels compute 8 rows at a time and need each block of the 8
 * rows interleaved; done per token, that transpose costs as much as the
 * arithmetic (docs/performance.md). llama.cpp repacks Q4_0 weights when it
 * loads them; octo does the same when a model gets its first inference
 * context (training reads the weights as stored and never pays for it).
 * The packed copy replaces the file's pages in memory: they are dropped
 * from the mapping (MADV_DONTNEED; the kernel reads them back if anything
 * else touches them), so RSS stays at about the file size.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "base/error.h"
#include "model/model.h"
#include "tensor/ops.h"

static pthread_mutex_t g_pack_mu = PTHREAD_MUTEX_INITIALIZER;

/* Drop the pages wholly inside [p, p+n) from the file mapping. */
static void release_pages(const octo_model *m, const void *p, size_t n) {
    const gguf_file *f = m->file;
    const uint8_t *a = p, *base = f ? f->base : NULL;
    if (!f || !f->owns_mapping || a < base || a + n > base + f->size) return; /* not file pages */
    const uintptr_t pg = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t lo = ((uintptr_t)a + pg - 1) / pg * pg, hi = ((uintptr_t)a + n) / pg * pg;
    if (hi > lo) madvise((void *)lo, hi - lo, MADV_DONTNEED);
}

static int pack_weight(octo_model *m, octo_weight *w, bool keep_pages) {
    if (!w->data || w->packed || w->type != OCTO_TYPE_Q4_0 || w->rows % OCTO_Q4_0_GROUP || w->cols % QK4_0)
        return 0;
    const size_t n = (size_t)w->rows * w->row_bytes;
    void *buf = aligned_alloc(64, (n + 63) / 64 * 64);
    if (!buf) return octo_fail("%s: out of memory packing %s (%zu bytes)", m->path ? m->path : "model", w->name, n);
    octo_q4_0_pack(w->data, w->row_bytes, w->rows, w->cols, buf);
    if (!octo_model_own(m, buf)) return octo_fail("out of memory");
    if (!keep_pages) release_pages(m, w->data, n);
    w->packed = buf;
    return 0;
}

int octo_model_pack(octo_model *m) {
    const char *off = getenv("OCTO_NO_PACK");
    if (off && *off && strcmp(off, "0")) return 0;
    pthread_mutex_lock(&g_pack_mu);
    int rc = 0;
    if (!m->packed_q4_0 && octo_q4_0_pack_wanted()) {
        for (int l = 0; l < m->hp.n_layer && !rc; l++) {
            octo_layer *L = &m->layers[l];
            octo_weight *ws[] = {&L->wq, &L->wk, &L->wv, &L->wqkv, &L->wo, &L->w_gate, &L->w_up, &L->w_down};
            for (size_t i = 0; i < sizeof ws / sizeof *ws && !rc; i++) rc = pack_weight(m, ws[i], false);
        }
        /* a tied output is also the embedding table, whose rows are read as stored */
        bool tied = m->output.data == m->tok_embd.data;
        if (!rc) rc = pack_weight(m, &m->output, tied);
        m->packed_q4_0 = rc == 0;
    }
    pthread_mutex_unlock(&g_pack_mu);
    return rc;
}
