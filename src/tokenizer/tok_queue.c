/* tok_queue.c - the binary heap of merge candidates (see tok_internal.h). */
#include <stdbool.h>
#include <stdlib.h>

#include "tokenizer/tok_internal.h"

static bool before(const tok_bigram *a, const tok_bigram *b) {
    return a->key < b->key || (a->key == b->key && a->left < b->left);
}

int tok_queue_push(tok_queue *q, tok_bigram b) {
    if (q->n == q->cap) {
        size_t nc = q->cap ? q->cap * 2 : 64;
        tok_bigram *nv = realloc(q->v, nc * sizeof *nv);
        if (!nv) return -1;
        q->v = nv;
        q->cap = nc;
    }
    size_t i = q->n++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!before(&b, &q->v[p])) break;
        q->v[i] = q->v[p];
        i = p;
    }
    q->v[i] = b;
    return 0;
}

tok_bigram tok_queue_pop(tok_queue *q) {
    tok_bigram top = q->v[0], last = q->v[--q->n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= q->n) break;
        if (c + 1 < q->n && before(&q->v[c + 1], &q->v[c])) c++;
        if (!before(&q->v[c], &last)) break;
        q->v[i] = q->v[c];
        i = c;
    }
    if (q->n) q->v[i] = last;
    return top;
}
