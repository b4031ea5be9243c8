/* tok_spm.c - SentencePiece-style BPE over token scores (Llama, Phi-3, Gemma).
 *
 * The text is split into UTF-8 characters (by lead byte, without validation,
 * so malformed input simply yields one-byte symbols), then adjacent symbols
 * are merged whenever their concatenation is a vocabulary entry, highest
 * score first, ties to the leftmost pair, as llama.cpp's queue orders them.
 * Symbols that end up not being tokens fall back to byte tokens <0xXX>.
 */
#include <stdlib.h>

#include "tokenizer/tok_internal.h"
#include "tokenizer/unicode.h"

typedef struct {
    int prev, next;
    const char *text;
    size_t n;
} sym;

typedef struct {
    int left, right;
    float score;
    size_t size;
} bigram;

/* a before b: higher score, then leftmost */
static bool before(const bigram *a, const bigram *b) {
    return a->score > b->score || (a->score == b->score && a->left < b->left);
}

typedef struct {
    bigram *v;
    size_t n, cap;
} heap;

static int heap_push(heap *h, bigram b) {
    if (h->n == h->cap) {
        size_t nc = h->cap ? h->cap * 2 : 64;
        bigram *nv = realloc(h->v, nc * sizeof *nv);
        if (!nv) return -1;
        h->v = nv;
        h->cap = nc;
    }
    size_t i = h->n++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!before(&b, &h->v[p])) break;
        h->v[i] = h->v[p];
        i = p;
    }
    h->v[i] = b;
    return 0;
}

static bigram heap_pop(heap *h) {
    bigram top = h->v[0], last = h->v[--h->n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= h->n) break;
        if (c + 1 < h->n && before(&h->v[c + 1], &h->v[c])) c++;
        if (!before(&h->v[c], &last)) break;
        h->v[i] = h->v[c];
        i = c;
    }
    if (h->n) h->v[i] = last;
    return top;
}

static int try_add(const octo_tokenizer *t, sym *syms, heap *q, int left, int right) {
    if (left < 0 || right < 0) return 0;
    size_t n = syms[left].n + syms[right].n;
    int32_t id = tok_find(t, syms[left].text, n);
    if (id < 0) return 0;
    bigram b = {left, right, t->tok[id].score, n};
    return heap_push(q, b);
}

static int emit(const octo_tokenizer *t, const sym *s, tokvec *out) {
    int32_t id = tok_find(t, s->text, s->n);
    if (id >= 0) return tokvec_push(out, id);
    for (size_t j = 0; j < s->n; j++) {
        int32_t b = t->byte_tok[(unsigned char)s->text[j]];
        /* a vocabulary without a token for this byte: llama.cpp aborts
         * here; the unknown token is the closest well-defined answer */
        if (b < 0) b = t->unk;
        if (b >= 0 && tokvec_push(out, b)) return -1;
    }
    return 0;
}

int spm_tokenize(const octo_tokenizer *t, const char *text, size_t len, tokvec *out) {
    if (len == 0) return 0;
    sym *syms = malloc(len * sizeof *syms);
    heap q = {0};
    int ret = -1;
    if (!syms) return -1;
    int n = 0;
    for (size_t off = 0; off < len;) {
        size_t l = octo_utf8_len((unsigned char)text[off]);
        if (l > len - off) l = len - off;
        syms[n] = (sym){n - 1, off + l == len ? -1 : n + 1, text + off, l};
        off += l;
        n++;
    }
    for (int i = 1; i < n; i++)
        if (try_add(t, syms, &q, i - 1, i)) goto done;
    while (q.n) {
        bigram b = heap_pop(&q);
        sym *l = &syms[b.left], *r = &syms[b.right];
        if (l->n == 0 || r->n == 0 || l->n + r->n != b.size) continue;
        l->n += r->n;
        r->n = 0;
        l->next = r->next;
        if (r->next >= 0) syms[r->next].prev = b.left;
        if (try_add(t, syms, &q, l->prev, b.left) || try_add(t, syms, &q, b.left, l->next)) goto done;
    }
    for (int i = 0; i != -1; i = syms[i].next)
        if (emit(t, &syms[i], out)) goto done;
    ret = 0;
done:
    free(syms);
    free(q.v);
    return ret;
}
