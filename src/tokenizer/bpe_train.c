/* bpe_train.c - byte-level BPE training (see bpe_train.h for the method).
 *
 * Sizes: words are byte strings in one arena and symbol ids in another;
 * pairs are keyed (left << 32 | right) in an open-addressing table.  Every
 * structure is indexed by position, never by pointer, because all of them
 * grow while merging.  Nothing depends on hash order, so the result is a
 * function of the text order and the parameters only.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/error.h"
#include "gguf/gguf.h"
#include "tokenizer/bpe_train.h"
#include "tokenizer/tok_internal.h"
#include "tokenizer/unicode.h"

const char *const octo_bpe_default_specials[] = {"<|endoftext|>", "<|system|>", "<|user|>", "<|assistant|>",
                                                 "<|end|>"};
const int octo_bpe_n_default_specials = 5;

const char octo_bpe_octo_chat_template[] =
    "{% for message in messages %}{{ '<|' + message['role'] + '|>' + message['content'] + '<|end|>' }}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>' }}{% endif %}";

#define MAX_SPECIALS 4096
#define CHUNK (1u << 20) /* bytes of a file tokenized at once */

/* ---- growable arrays ---- */

static int grow(void **p, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap) return 0;
    size_t nc = *cap ? *cap : 64;
    while (nc < need) nc *= 2;
    void *np = realloc(*p, nc * elem);
    if (!np) return -1;
    *p = np;
    *cap = nc;
    return 0;
}

static uint64_t fnv(const void *s, size_t n) {
    const unsigned char *p = s;
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

static uint64_t mix64(uint64_t x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    return x;
}

/* ---- a set of byte strings: id -> (off, len) in an arena ---- */

typedef struct {
    char *arena;
    size_t arena_len, arena_cap;
    uint64_t *off; /* per id: where its text starts in arena */
    uint32_t *len;
    size_t n, cap;
    uint32_t *slot; /* id + 1 */
    size_t mask;
} strset;

static int strset_rehash(strset *s) {
    size_t cap = 1024;
    while (cap < s->n * 2 + 2) cap *= 2;
    uint32_t *ns = calloc(cap, sizeof *ns);
    if (!ns) return -1;
    free(s->slot);
    s->slot = ns;
    s->mask = cap - 1;
    for (size_t id = 0; id < s->n; id++) {
        size_t i = fnv(s->arena + s->off[id], s->len[id]) & s->mask;
        while (s->slot[i]) i = (i + 1) & s->mask;
        s->slot[i] = (uint32_t)id + 1;
    }
    return 0;
}

/* Find or insert; returns the id (and *added), or -1 out of memory. */
static long strset_get(strset *s, const char *str, size_t n, bool insert, bool *added) {
    if (added) *added = false;
    if (!s->slot && strset_rehash(s)) return -1;
    size_t i = fnv(str, n) & s->mask;
    while (s->slot[i]) {
        uint32_t id = s->slot[i] - 1;
        if (s->len[id] == n && memcmp(s->arena + s->off[id], str, n) == 0) return id;
        i = (i + 1) & s->mask;
    }
    if (!insert) return -1;
    if (s->n >= 0xfffffff0u || n > UINT32_MAX) return -1;
    if (grow((void **)&s->arena, &s->arena_cap, s->arena_len + n + 1, 1)) return -1;
    if (s->n == s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 1024;
        uint64_t *no = realloc(s->off, nc * sizeof *no);
        if (!no) return -1;
        s->off = no;
        uint32_t *nl = realloc(s->len, nc * sizeof *nl);
        if (!nl) return -1;
        s->len = nl;
        s->cap = nc;
    }
    memcpy(s->arena + s->arena_len, str, n);
    s->arena[s->arena_len + n] = 0;
    size_t id = s->n++;
    s->off[id] = s->arena_len;
    s->len[id] = (uint32_t)n;
    s->arena_len += n + 1;
    s->slot[i] = (uint32_t)id + 1;
    if (s->n * 2 > s->mask + 1 && strset_rehash(s)) return -1;
    if (added) *added = true;
    return (long)id;
}

static void strset_free(strset *s) {
    free(s->arena);
    free(s->off);
    free(s->len);
    free(s->slot);
}

/* ---- the trainer ---- */

struct octo_bpe_trainer {
    int vocab_size;
    int64_t min_freq;
    char *pre_name, *name;
    pre_kind pre;
    char **specials; /* [0, n_control): CONTROL; the rest USER_DEFINED */
    int n_specials, n_control;
    strset words;   /* distinct pre-tokenized words (raw bytes) */
    int64_t *count; /* per word */
    size_t count_cap;
    int64_t n_bytes, n_words;
    double count_s;
    uint32_t *cpts; /* scratch */
    size_t cpts_cap;
    char *wbuf;
    size_t wbuf_cap;
};

static const struct {
    const char *name;
    pre_kind kind;
} k_train_pre[] = {
    {"qwen2", PRE_QWEN2}, {"llama-bpe", PRE_LLAMA3}, {"gpt-2", PRE_GPT2}, {"default", PRE_DEFAULT}};

static char *dupstr(const char *s) {
    size_t n = strlen(s);
    char *d = malloc(n + 1);
    if (d) memcpy(d, s, n + 1);
    return d;
}

void octo_bpe_trainer_free(octo_bpe_trainer *tr) {
    if (!tr) return;
    free(tr->pre_name);
    free(tr->name);
    for (int i = 0; i < tr->n_specials; i++) free(tr->specials[i]);
    free(tr->specials);
    strset_free(&tr->words);
    free(tr->count);
    free(tr->cpts);
    free(tr->wbuf);
    free(tr);
}

static bool is_eos_name(const char *s) {
    return !strcmp(s, "<|endoftext|>") || !strcmp(s, "<|end_of_text|>") || !strcmp(s, "</s>") || !strcmp(s, "<eos>");
}

octo_bpe_trainer *octo_bpe_trainer_new(const octo_bpe_params *p) {
    if (!p) {
        octo_fail("tokenizer train: no parameters");
        return NULL;
    }
    const char *pre = p->pre ? p->pre : "qwen2";
    int kind = -1;
    for (size_t i = 0; i < sizeof k_train_pre / sizeof k_train_pre[0]; i++)
        if (!strcmp(pre, k_train_pre[i].name)) kind = (int)k_train_pre[i].kind;
    if (kind < 0) {
        octo_fail("tokenizer train: pre-tokenizer \"%s\", expected qwen2, llama-bpe, gpt-2 or default", pre);
        return NULL;
    }
    const char *const *sp = p->specials ? p->specials : octo_bpe_default_specials;
    int n_sp = p->specials ? p->n_specials : octo_bpe_n_default_specials;
    int n_us = p->user_specials ? p->n_user_specials : 0;
    if (n_sp < 0 || n_us < 0 || n_sp + n_us > MAX_SPECIALS) {
        octo_fail("tokenizer train: %d special tokens, expected 0 to %d", n_sp + n_us, MAX_SPECIALS);
        return NULL;
    }
    /* Without an end-of-text token the loader would fall back to id 11 (a
     * byte token) as EOS, so one is always added. */
    bool have_eos = false;
    for (int i = 0; i < n_sp + n_us; i++) {
        const char *x = i < n_sp ? sp[i] : p->user_specials[i - n_sp];
        if (!x || !x[0]) {
            octo_fail("tokenizer train: special token %d is empty", i + 1);
            return NULL;
        }
        for (int j = 0; j < i; j++)
            if (!strcmp(x, j < n_sp ? sp[j] : p->user_specials[j - n_sp])) {
                octo_fail("tokenizer train: special token \"%s\" given twice", x);
                return NULL;
            }
        if (i < n_sp && is_eos_name(x)) have_eos = true;
    }
    int n_total = n_sp + n_us + (have_eos ? 0 : 1);
    if (p->vocab_size < 256 + n_total) {
        octo_fail("tokenizer train: --vocab-size %d is too small: a byte-level vocabulary needs 256 byte tokens "
                  "+ %d special tokens = %d at least",
                  p->vocab_size, n_total, 256 + n_total);
        return NULL;
    }
    if (p->vocab_size > (1 << 24)) {
        octo_fail("tokenizer train: --vocab-size %d, at most %d supported", p->vocab_size, 1 << 24);
        return NULL;
    }
    octo_bpe_trainer *tr = calloc(1, sizeof *tr);
    if (!tr) goto oom;
    tr->vocab_size = p->vocab_size;
    tr->min_freq = p->min_frequency > 0 ? p->min_frequency : 2;
    tr->pre = (pre_kind)kind;
    tr->pre_name = dupstr(pre);
    tr->name = dupstr(p->name ? p->name : "octo-bpe");
    tr->specials = calloc((size_t)n_total + 1, sizeof *tr->specials);
    if (!tr->pre_name || !tr->name || !tr->specials) goto oom;
    if (!have_eos && !(tr->specials[tr->n_specials++] = dupstr("<|endoftext|>"))) goto oom;
    for (int i = 0; i < n_sp; i++)
        if (!(tr->specials[tr->n_specials++] = dupstr(sp[i]))) goto oom;
    tr->n_control = tr->n_specials;
    for (int i = 0; i < n_us; i++)
        if (!(tr->specials[tr->n_specials++] = dupstr(p->user_specials[i]))) goto oom;
    return tr;
oom:
    octo_bpe_trainer_free(tr);
    octo_fail("tokenizer train: out of memory");
    return NULL;
}

/* Count the words of one piece of text that holds no special token. */
static int count_plain(octo_bpe_trainer *tr, const char *text, size_t len) {
    if (!len) return 0;
    if (grow((void **)&tr->cpts, &tr->cpts_cap, len, sizeof *tr->cpts)) return -1;
    size_t n = 0;
    for (size_t off = 0; off < len;) tr->cpts[n++] = octo_utf8_decode(text, len, &off);
    size_t *lens = NULL;
    long n_words = pretok_split(tr->pre, tr->cpts, n, &lens);
    if (n_words < 0) return -1;
    size_t pos = 0;
    for (long k = 0; k < n_words; k++) {
        if (grow((void **)&tr->wbuf, &tr->wbuf_cap, lens[k] * 4 + 1, 1)) goto oom;
        size_t wn = 0;
        for (size_t i = 0; i < lens[k]; i++) wn += (size_t)octo_utf8_encode(tr->cpts[pos + i], tr->wbuf + wn);
        pos += lens[k];
        bool added;
        long id = strset_get(&tr->words, tr->wbuf, wn, true, &added);
        if (id < 0) goto oom;
        if (added) {
            if (grow((void **)&tr->count, &tr->count_cap, (size_t)id + 1, sizeof *tr->count)) goto oom;
            tr->count[id] = 0;
        }
        tr->count[id]++;
        tr->n_words++;
    }
    free(lens);
    return 0;
oom:
    free(lens);
    return -1;
}

int octo_bpe_trainer_add_text(octo_bpe_trainer *tr, const char *text, size_t len) {
    if (!tr || (!text && len)) return octo_fail("tokenizer train: invalid arguments");
    clock_t t0 = clock();
    tr->n_bytes += (int64_t)len;
    /* cut the specials out: the earliest match, the longest at one place;
     * next[i] caches where special i occurs next (len: nowhere), so the
     * text is searched once per special, however often they occur */
    size_t *next = malloc((size_t)(tr->n_specials ? tr->n_specials : 1) * sizeof *next);
    if (!next) return octo_fail("tokenizer train: out of memory");
    for (int i = 0; i < tr->n_specials; i++) next[i] = (size_t)-1;
    size_t pos = 0;
    while (pos < len) {
        size_t best = len, best_len = 0;
        for (int i = 0; i < tr->n_specials; i++) {
            size_t sl = strlen(tr->specials[i]);
            if (next[i] == (size_t)-1 || (next[i] < pos && next[i] != len)) {
                const char *m = len - pos >= sl ? memmem(text + pos, len - pos, tr->specials[i], sl) : NULL;
                next[i] = m ? (size_t)(m - text) : len;
            }
            if (next[i] < best || (next[i] == best && next[i] < len && sl > best_len)) best = next[i], best_len = sl;
        }
        if (count_plain(tr, text + pos, best - pos)) {
            free(next);
            return octo_fail("tokenizer train: out of memory");
        }
        pos = best + best_len;
    }
    free(next);
    tr->count_s += (double)(clock() - t0) / CLOCKS_PER_SEC;
    return 0;
}

/* Where to cut a buffer so both sides pre-tokenize as the whole would:
 * after a newline followed by a non-blank byte, else (a very long line)
 * before a space that starts a word of ASCII letters after a non-blank
 * byte; every pre-tokenizer splits at both. 0 if there is no such place. */
static bool blank(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

static size_t safe_cut(const char *s, size_t n) {
    for (size_t i = n - 1; i > 0; i--)
        if (s[i - 1] == '\n' && !blank(s[i])) return i;
    for (size_t i = n - 2; i > 0 && n >= 3; i--) {
        char c = (char)(s[i + 1] | 0x20);
        if (s[i] == ' ' && !blank(s[i - 1]) && c >= 'a' && c <= 'z') return i;
    }
    return 0;
}

int octo_bpe_trainer_add_file(octo_bpe_trainer *tr, const char *path) {
    if (!tr || !path) return octo_fail("tokenizer train: invalid arguments");
    FILE *f = fopen(path, "rb");
    if (!f) return octo_fail("%s: cannot open: %s", path, strerror(errno));
    size_t cap = CHUNK, have = 0;
    char *buf = malloc(cap);
    int rc = 0;
    if (!buf) {
        fclose(f);
        return octo_fail("%s: out of memory", path);
    }
    for (;;) {
        if (have == cap) { /* one huge line: give it room */
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                rc = octo_fail("%s: out of memory", path);
                break;
            }
            buf = nb;
            cap *= 2;
        }
        size_t got = fread(buf + have, 1, cap - have, f);
        have += got;
        bool eof = got == 0;
        if (eof && ferror(f)) {
            rc = octo_fail("%s: read error", path);
            break;
        }
        size_t cut = eof ? have : safe_cut(buf, have);
        if (cut == 0 && have < cap && !eof) continue;
        if (cut == 0) cut = have; /* no safe place in the buffer: cut anyway */
        if (octo_bpe_trainer_add_text(tr, buf, cut)) {
            rc = octo_fail_context("%s", path);
            break;
        }
        memmove(buf, buf + cut, have - cut);
        have -= cut;
        if (eof) break;
    }
    free(buf);
    fclose(f);
    return rc;
}

/* ---- merging ---- */

typedef struct {
    uint64_t key;   /* left << 32 | right */
    int64_t count;  /* occurrences, weighted by word frequency */
    uint32_t *where; /* words holding the pair (at some time: checked when used) */
    uint32_t n_where, cap_where;
    uint32_t stamp; /* merge that last raised the count */
} pair_t;

typedef struct {
    int64_t count;
    uint32_t a, b;
} heap_e;

typedef struct {
    /* words */
    size_t n_w;
    int32_t *syms;
    size_t *w_off;
    uint32_t *w_len;
    const int64_t *freq;
    /* pairs */
    pair_t *pairs;
    size_t n_pairs, cap_pairs;
    uint32_t *slot; /* pair index + 1 */
    size_t mask;
    /* heap */
    heap_e *heap;
    size_t n_heap, cap_heap;
    /* pairs raised by the current merge */
    uint32_t *changed;
    size_t n_changed, cap_changed;
    uint32_t stamp;
} merger;

static bool heap_before(heap_e x, heap_e y) {
    if (x.count != y.count) return x.count > y.count;
    return x.a != y.a ? x.a < y.a : x.b < y.b;
}

static int heap_push(merger *m, heap_e e) {
    if (grow((void **)&m->heap, &m->cap_heap, m->n_heap + 1, sizeof *m->heap)) return -1;
    size_t i = m->n_heap++;
    while (i > 0) {
        size_t up = (i - 1) / 2;
        if (!heap_before(e, m->heap[up])) break;
        m->heap[i] = m->heap[up];
        i = up;
    }
    m->heap[i] = e;
    return 0;
}

static heap_e heap_pop(merger *m) {
    heap_e top = m->heap[0], last = m->heap[--m->n_heap];
    size_t i = 0, n = m->n_heap;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && heap_before(m->heap[c + 1], m->heap[c])) c++;
        if (!heap_before(m->heap[c], last)) break;
        m->heap[i] = m->heap[c];
        i = c;
    }
    if (n) m->heap[i] = last;
    return top;
}

static int pairs_rehash(merger *m) {
    size_t cap = 4096;
    while (cap < m->n_pairs * 2 + 2) cap *= 2;
    uint32_t *ns = calloc(cap, sizeof *ns);
    if (!ns) return -1;
    free(m->slot);
    m->slot = ns;
    m->mask = cap - 1;
    for (size_t p = 0; p < m->n_pairs; p++) {
        size_t i = mix64(m->pairs[p].key) & m->mask;
        while (m->slot[i]) i = (i + 1) & m->mask;
        m->slot[i] = (uint32_t)p + 1;
    }
    return 0;
}

/* Index of the pair, inserted (count 0) when insert; -1 if absent or out
 * of memory (*oom tells which). */
static long pair_find(merger *m, uint32_t a, uint32_t b, bool insert, bool *oom) {
    uint64_t key = (uint64_t)a << 32 | b;
    size_t i = mix64(key) & m->mask;
    while (m->slot[i]) {
        uint32_t p = m->slot[i] - 1;
        if (m->pairs[p].key == key) return p;
        i = (i + 1) & m->mask;
    }
    if (!insert) return -1;
    if (m->n_pairs >= 0xfffffff0u ||
        grow((void **)&m->pairs, &m->cap_pairs, m->n_pairs + 1, sizeof *m->pairs)) {
        *oom = true;
        return -1;
    }
    size_t p = m->n_pairs++;
    memset(&m->pairs[p], 0, sizeof m->pairs[p]);
    m->pairs[p].key = key;
    m->slot[i] = (uint32_t)p + 1;
    if (m->n_pairs * 2 > m->mask + 1 && pairs_rehash(m)) {
        *oom = true;
        return -1;
    }
    return (long)p;
}

/* Add delta to the count of (a, b) as seen in word w. */
static int pair_change(merger *m, uint32_t a, uint32_t b, int64_t delta, uint32_t w) {
    bool oom = false;
    long p = pair_find(m, a, b, delta > 0, &oom);
    if (p < 0) return oom ? -1 : 0;
    pair_t *pr = &m->pairs[p];
    pr->count += delta;
    if (delta <= 0) return 0;
    if (!pr->n_where || pr->where[pr->n_where - 1] != w) {
        if (pr->n_where == pr->cap_where) {
            uint32_t nc = pr->cap_where ? pr->cap_where * 2 : 4;
            uint32_t *nw = realloc(pr->where, (size_t)nc * sizeof *nw);
            if (!nw) return -1;
            pr->where = nw;
            pr->cap_where = nc;
        }
        pr->where[pr->n_where++] = w;
    }
    if (pr->stamp != m->stamp) {
        pr->stamp = m->stamp;
        if (grow((void **)&m->changed, &m->cap_changed, m->n_changed + 1, sizeof *m->changed)) return -1;
        m->changed[m->n_changed++] = (uint32_t)p;
    }
    return 0;
}

/* Replace every (a, b) in word w by id, left to right, and move the counts
 * of the neighbouring pairs (as Hugging Face's trainer does). */
static int merge_word(merger *m, uint32_t w, uint32_t a, uint32_t b, uint32_t id) {
    int32_t *s = m->syms + m->w_off[w];
    uint32_t n = m->w_len[w], k = 0, i = 0;
    int64_t f = m->freq[w];
    while (i < n) {
        if (i + 1 < n && (uint32_t)s[i] == a && (uint32_t)s[i + 1] == b) {
            if (k > 0 && (pair_change(m, (uint32_t)s[k - 1], a, -f, w) ||
                          pair_change(m, (uint32_t)s[k - 1], id, f, w)))
                return -1;
            if (i + 2 < n && (pair_change(m, b, (uint32_t)s[i + 2], -f, w) ||
                              pair_change(m, id, (uint32_t)s[i + 2], f, w)))
                return -1;
            s[k++] = (int32_t)id;
            i += 2;
        } else {
            s[k++] = s[i++];
        }
    }
    m->w_len[w] = k;
    return 0;
}

static void merger_free(merger *m) {
    free(m->syms);
    free(m->w_off);
    free(m->w_len);
    for (size_t p = 0; p < m->n_pairs; p++) free(m->pairs[p].where);
    free(m->pairs);
    free(m->slot);
    free(m->heap);
    free(m->changed);
}

/* The token text of byte b (GPT-2's bytes_to_unicode) and the order of the
 * 256 byte tokens: the bytes that map to themselves first, then the rest,
 * as GPT-2's vocabulary has them. */
static int byte_tokens(strset *vocab, int32_t byte_id[256]) {
    int order = 0;
    for (int pass = 0; pass < 2; pass++)
        for (int b = 0; b < 256; b++) {
            bool self = octo_byte_to_cpt((uint8_t)b) == (uint32_t)b;
            if (self != (pass == 0)) continue;
            char u[4];
            int ul = octo_utf8_encode(octo_byte_to_cpt((uint8_t)b), u);
            if (strset_get(vocab, u, (size_t)ul, true, NULL) != order) return -1;
            byte_id[b] = order++;
        }
    return 0;
}

/* Learn merges until the vocabulary has `target` tokens (specials aside).
 * merges gets (a, b) pairs; vocab gets the token texts. */
static int learn(octo_bpe_trainer *tr, strset *vocab, uint32_t **merges_out, size_t *n_merges_out, size_t target) {
    merger m = {0};
    uint32_t *merges = NULL;
    size_t n_merges = 0, cap_merges = 0;
    char *tbuf = NULL;
    size_t tbuf_cap = 0;
    int32_t byte_id[256];
    int rc = -1;
    if (byte_tokens(vocab, byte_id)) goto done;

    /* words as byte-token sequences */
    m.n_w = tr->words.n;
    m.freq = tr->count;
    m.w_off = malloc((m.n_w ? m.n_w : 1) * sizeof *m.w_off);
    m.w_len = malloc((m.n_w ? m.n_w : 1) * sizeof *m.w_len);
    size_t total = 0;
    for (size_t w = 0; w < m.n_w; w++) total += tr->words.len[w];
    m.syms = malloc((total ? total : 1) * sizeof *m.syms);
    if (!m.w_off || !m.w_len || !m.syms || pairs_rehash(&m)) goto done;
    size_t off = 0;
    for (size_t w = 0; w < m.n_w; w++) {
        const unsigned char *s = (const unsigned char *)tr->words.arena + tr->words.off[w];
        m.w_off[w] = off;
        m.w_len[w] = tr->words.len[w];
        for (uint32_t i = 0; i < m.w_len[w]; i++) m.syms[off++] = byte_id[s[i]];
    }
    for (size_t w = 0; w < m.n_w; w++) {
        const int32_t *s = m.syms + m.w_off[w];
        for (uint32_t i = 0; i + 1 < m.w_len[w]; i++)
            if (pair_change(&m, (uint32_t)s[i], (uint32_t)s[i + 1], m.freq[w], (uint32_t)w)) goto done;
    }
    for (size_t p = 0; p < m.n_pairs; p++) {
        uint64_t k = m.pairs[p].key;
        if (heap_push(&m, (heap_e){m.pairs[p].count, (uint32_t)(k >> 32), (uint32_t)k})) goto done;
    }

    while (vocab->n < target && m.n_heap) {
        heap_e top = heap_pop(&m);
        bool oom = false;
        long p = pair_find(&m, top.a, top.b, false, &oom);
        if (p < 0) continue;
        int64_t now = m.pairs[p].count;
        if (now != top.count) {
            /* stale: a lower count goes back in; a higher one is queued already */
            if (now > 0 && now < top.count && heap_push(&m, (heap_e){now, top.a, top.b})) goto done;
            continue;
        }
        if (now < tr->min_freq) break;
        /* the new token's text: both halves joined */
        size_t la = vocab->len[top.a], lb = vocab->len[top.b];
        if (grow((void **)&tbuf, &tbuf_cap, la + lb, 1)) goto done;
        memcpy(tbuf, vocab->arena + vocab->off[top.a], la);
        memcpy(tbuf + la, vocab->arena + vocab->off[top.b], lb);
        long id = strset_get(vocab, tbuf, la + lb, true, NULL);
        if (id < 0) goto done;
        if (grow((void **)&merges, &cap_merges, 2 * n_merges + 2, sizeof *merges)) goto done;
        merges[2 * n_merges] = top.a;
        merges[2 * n_merges + 1] = top.b;
        n_merges++;

        m.stamp++;
        m.n_changed = 0;
        for (uint32_t i = 0; i < m.pairs[p].n_where; i++)
            if (merge_word(&m, m.pairs[p].where[i], top.a, top.b, (uint32_t)id)) goto done;
        m.pairs[p].count = 0;
        free(m.pairs[p].where);
        m.pairs[p].where = NULL;
        m.pairs[p].n_where = m.pairs[p].cap_where = 0;
        for (size_t i = 0; i < m.n_changed; i++) {
            const pair_t *pr = &m.pairs[m.changed[i]];
            if (pr->count > 0 &&
                heap_push(&m, (heap_e){pr->count, (uint32_t)(pr->key >> 32), (uint32_t)pr->key}))
                goto done;
        }
    }
    *merges_out = merges;
    *n_merges_out = n_merges;
    merges = NULL;
    rc = 0;
done:
    free(merges);
    free(tbuf);
    merger_free(&m);
    return rc;
}

/* ---- writing ---- */

static int32_t find_first(char *const *sp, int n, int32_t base, const char *const *names) {
    for (; *names; names++)
        for (int i = 0; i < n; i++)
            if (!strcmp(sp[i], *names)) return base + i;
    return -1;
}

int octo_bpe_trainer_write(octo_bpe_trainer *tr, const char *path, octo_bpe_stats *st) {
    if (!tr || !path) return octo_fail("tokenizer train: invalid arguments");
    if (tr->n_words == 0)
        return octo_fail("tokenizer train: no text to learn from (the files are empty or hold only special tokens)");
    clock_t t0 = clock();
    strset vocab = {0};
    uint32_t *merges = NULL;
    size_t n_merges = 0;
    gguf_str *strs = NULL;
    int32_t *types = NULL;
    gguf_writer *w = NULL;
    int rc = -1;
    size_t target = (size_t)tr->vocab_size - (size_t)tr->n_specials;
    if (learn(tr, &vocab, &merges, &n_merges, target)) {
        octo_fail("tokenizer train: out of memory");
        goto done;
    }
    double merge_s = (double)(clock() - t0) / CLOCKS_PER_SEC;
    int32_t n_learned = (int32_t)vocab.n;
    for (int i = 0; i < tr->n_specials; i++)
        if (strset_get(&vocab, tr->specials[i], strlen(tr->specials[i]), false, NULL) >= 0) {
            octo_fail("tokenizer train: special token \"%s\" is also a byte or learned token; choose another text",
                      tr->specials[i]);
            goto done;
        }
    int32_t n_vocab = n_learned + tr->n_specials;
    strs = malloc((size_t)(n_vocab > (int32_t)n_merges ? n_vocab : (int32_t)n_merges) * sizeof *strs + 1);
    types = malloc((size_t)n_vocab * sizeof *types);
    w = gguf_writer_new();
    if (!strs || !types || !w) {
        octo_fail("tokenizer train: out of memory");
        goto done;
    }
    gguf_set_str(w, "general.architecture", "llama");
    gguf_set_str(w, "general.name", tr->name);
    gguf_set_str(w, "tokenizer.ggml.model", "gpt2");
    gguf_set_str(w, "tokenizer.ggml.pre", tr->pre_name);
    for (int32_t i = 0; i < n_learned; i++) {
        strs[i] = (gguf_str){vocab.len[i], vocab.arena + vocab.off[i]};
        types[i] = OCTO_TOKEN_NORMAL;
    }
    for (int i = 0; i < tr->n_specials; i++) {
        strs[n_learned + i] = (gguf_str){strlen(tr->specials[i]), tr->specials[i]};
        types[n_learned + i] = i < tr->n_control ? OCTO_TOKEN_CONTROL : OCTO_TOKEN_USER_DEFINED;
    }
    gguf_set_arr_strn(w, "tokenizer.ggml.tokens", strs, (uint64_t)n_vocab);
    gguf_set_arr(w, "tokenizer.ggml.token_type", GGUF_TYPE_INT32, types, (uint64_t)n_vocab);
    /* merges as "left right": byte-level texts never hold a space */
    size_t mtotal = 1;
    for (size_t i = 0; i < n_merges; i++) mtotal += vocab.len[merges[2 * i]] + vocab.len[merges[2 * i + 1]] + 1;
    char *mtext = malloc(mtotal);
    size_t *moff = malloc((n_merges ? n_merges : 1) * sizeof *moff);
    if (!mtext || !moff) {
        free(mtext);
        free(moff);
        octo_fail("tokenizer train: out of memory");
        goto done;
    }
    size_t mo = 0;
    for (size_t i = 0; i < n_merges; i++) {
        uint32_t a = merges[2 * i], b = merges[2 * i + 1];
        moff[i] = mo;
        memcpy(mtext + mo, vocab.arena + vocab.off[a], vocab.len[a]);
        mo += vocab.len[a];
        mtext[mo++] = ' ';
        memcpy(mtext + mo, vocab.arena + vocab.off[b], vocab.len[b]);
        mo += vocab.len[b];
    }
    for (size_t i = 0; i < n_merges; i++)
        strs[i] = (gguf_str){(i + 1 < n_merges ? moff[i + 1] : mo) - moff[i], mtext + moff[i]};
    gguf_set_arr_strn(w, "tokenizer.ggml.merges", strs, (uint64_t)n_merges);
    free(mtext);
    free(moff);

    static const char *const bos_names[] = {"<|begin_of_text|>", "<s>", "<bos>", "<|endoftext|>", NULL};
    static const char *const eos_names[] = {"<|endoftext|>", "<|end_of_text|>", "</s>", "<eos>", NULL};
    static const char *const eot_names[] = {"<|end|>", "<|im_end|>", "<|eot_id|>", "<end_of_turn>", NULL};
    static const char *const pad_names[] = {"<|pad|>", "<pad>", NULL};
    int nc = tr->n_control;
    int32_t bos = find_first(tr->specials, nc, n_learned, bos_names);
    int32_t eos = find_first(tr->specials, nc, n_learned, eos_names);
    int32_t eot = find_first(tr->specials, nc, n_learned, eot_names);
    int32_t pad = find_first(tr->specials, nc, n_learned, pad_names);
    if (pad < 0) pad = eos;
    if (bos >= 0) gguf_set_u32(w, "tokenizer.ggml.bos_token_id", (uint32_t)bos);
    if (eos >= 0) gguf_set_u32(w, "tokenizer.ggml.eos_token_id", (uint32_t)eos);
    if (eot >= 0) gguf_set_u32(w, "tokenizer.ggml.eot_token_id", (uint32_t)eot);
    if (pad >= 0) gguf_set_u32(w, "tokenizer.ggml.padding_token_id", (uint32_t)pad);
    gguf_set_bool(w, "tokenizer.ggml.add_bos_token", false);
    gguf_set_bool(w, "tokenizer.ggml.add_eos_token", false);
    static const char *const chat_names[] = {"<|user|>", NULL}, *const asst[] = {"<|assistant|>", NULL};
    if (find_first(tr->specials, nc, 0, chat_names) >= 0 && find_first(tr->specials, nc, 0, asst) >= 0 && eot >= 0 &&
        !strcmp(tr->specials[eot - n_learned], "<|end|>"))
        gguf_set_str(w, "tokenizer.chat_template", octo_bpe_octo_chat_template);
    if (gguf_writer_write(w, path)) goto done;
    if (st) {
        memset(st, 0, sizeof *st);
        st->n_bytes = tr->n_bytes;
        st->n_words = tr->n_words;
        st->n_unique_words = (int64_t)tr->words.n;
        st->n_vocab = n_vocab;
        st->n_merges = (int)n_merges;
        st->n_specials = tr->n_specials;
        st->count_s = tr->count_s;
        st->merge_s = merge_s;
    }
    rc = 0;
done:
    gguf_writer_free(w);
    free(strs);
    free(types);
    free(merges);
    strset_free(&vocab);
    return rc;
}
