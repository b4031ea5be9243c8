/* tok_bpe.c - byte-level BPE (GPT-2 family) over ranked merges.
 *
 * Each pre-tokenized word is re-encoded so that every byte is one printable
 * code point (GPT-2's bytes_to_unicode), split into characters, and merged
 * pairwise, lowest merge rank first, ties to the leftmost pair: the order
 * llama.cpp's priority queue produces.  Stale queue entries are recognised
 * by length, which is exact because a live symbol only ever grows.
 */
#include <stdlib.h>
#include <string.h>

#include "tokenizer/tok_internal.h"
#include "tokenizer/unicode.h"

typedef struct {
    int prev, next;
    uint32_t off, n; /* bytes of the encoded word */
} sym;

typedef struct {
    const octo_tokenizer *t;
    const char *word;
    sym *syms;
    size_t n_syms, cap_syms;
    tok_queue q;
} session;

static int add_bigram(session *s, int left, int right) {
    if (left < 0 || right < 0) return 0;
    const sym *l = &s->syms[left], *r = &s->syms[right];
    int32_t rank = tok_merge_rank(s->t, s->word + l->off, l->n, l->n + r->n);
    if (rank < 0) return 0;
    /* lower ranks merge first */
    tok_bigram b = {left, right, (double)rank, l->n + r->n};
    return tok_queue_push(&s->q, b);
}

static int emit(session *s, const char *text, size_t n, tokvec *out) {
    int32_t id = tok_find(s->t, text, n);
    if (id >= 0) return tokvec_push(out, id);
    /* no token for the symbol: try its bytes one by one, dropping those
     * that are not tokens either (llama.cpp does the same) */
    for (size_t i = 0; i < n; i++) {
        int32_t b = tok_find(s->t, text + i, 1);
        if (b >= 0 && tokvec_push(out, b)) return -1;
    }
    return 0;
}

static int merge_word(session *s, const char *w, size_t n, tokvec *out) {
    const octo_tokenizer *t = s->t;
    s->word = w;
    if (t->ignore_merges) {
        int32_t id = tok_find(t, w, n);
        if (id >= 0) return tokvec_push(out, id);
    }
    s->n_syms = 0;
    s->q.n = 0;
    if (n > s->cap_syms) {
        sym *ns = realloc(s->syms, n * sizeof *ns);
        if (!ns) return -1;
        s->syms = ns;
        s->cap_syms = n;
    }
    for (size_t off = 0; off < n;) {
        size_t len = octo_utf8_len((unsigned char)w[off]);
        if (len > n - off) len = n - off;
        int i = (int)s->n_syms++;
        s->syms[i] = (sym){i - 1, off + len == n ? -1 : i + 1, (uint32_t)off, (uint32_t)len};
        off += len;
    }
    for (size_t i = 1; i < s->n_syms; i++)
        if (add_bigram(s, (int)i - 1, (int)i)) return -1;
    while (s->q.n) {
        tok_bigram b = tok_queue_pop(&s->q);
        sym *l = &s->syms[b.left], *r = &s->syms[b.right];
        if (l->n == 0 || r->n == 0 || l->n + r->n != b.size) continue;
        l->n += r->n;
        r->n = 0;
        l->next = r->next;
        if (r->next >= 0) s->syms[r->next].prev = b.left;
        if (add_bigram(s, l->prev, b.left) || add_bigram(s, b.left, l->next)) return -1;
    }
    for (size_t i = 0; i < s->n_syms; i++)
        if (s->syms[i].n && emit(s, w + s->syms[i].off, s->syms[i].n, out)) return -1;
    return 0;
}

int bpe_tokenize(const octo_tokenizer *t, const char *text, size_t len, tokvec *out) {
    int ret = -1;
    uint32_t *cpts = malloc((len ? len : 1) * sizeof *cpts);
    size_t *lens = NULL;
    char *word = NULL;
    size_t word_cap = 0;
    session s = {.t = t};
    if (!cpts) return -1;
    size_t n = 0;
    for (size_t off = 0; off < len;) cpts[n++] = octo_utf8_decode(text, len, &off);

    long n_words = pretok_split(t->pre_type, cpts, n, &lens);
    if (n_words < 0) goto done;
    size_t pos = 0;
    for (long k = 0; k < n_words; k++) {
        /* each byte of the word's UTF-8 becomes one code point of at most
         * two bytes */
        size_t need = lens[k] * 4 * 2;
        if (need > word_cap) {
            char *nw = realloc(word, need);
            if (!nw) goto done;
            word = nw;
            word_cap = need;
        }
        size_t wn = 0;
        for (size_t i = 0; i < lens[k]; i++) {
            char u[4];
            int ul = octo_utf8_encode(cpts[pos + i], u);
            for (int j = 0; j < ul; j++) wn += octo_utf8_encode(octo_byte_to_cpt((uint8_t)u[j]), word + wn);
        }
        pos += lens[k];
        if (merge_word(&s, word, wn, out)) goto done;
    }
    ret = 0;
done:
    free(cpts);
    free(lens);
    free(word);
    free(s.syms);
    free(s.q.v);
    return ret;
}
