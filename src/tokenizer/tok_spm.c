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

/* a before b: higher score, then leftmost */

static int try_add(const octo_tokenizer *t, sym *syms, tok_queue *q, int left, int right) {
    if (left < 0 || right < 0) return 0;
    size_t n = syms[left].n + syms[right].n;
    int32_t id = tok_find(t, syms[left].text, n);
    if (id < 0) return 0;
    /* higher scores merge first: the key is -score */
    tok_bigram b = {left, right, -(double)t->tok[id].score, n};
    return tok_queue_push(q, b);
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
    tok_queue q = {0};
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
        tok_bigram b = tok_queue_pop(&q);
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
