/* pretok.c - the regex pre-tokenizers of byte-level BPE, by hand.
 *
 * tokenizer.ggml.pre names a Hugging Face pre-tokenizer regex.  llama.cpp
 * runs each one as a list of splitting passes (some hand-written, some
 * std::regex); every pass cuts the pieces of the previous one further.  The
 * passes here reproduce those results without a regex engine: each is a
 * scanner over code point classes, following the same alternation order as
 * the pattern it stands for, so "\s+(?!\S)" keeps the last blank for the next
 * word just as backtracking would.
 */
#include <stdlib.h>

#include "tokenizer/tok_internal.h"
#include "tokenizer/unicode.h"

/* Per-code-point flags; F_IN marks a position inside the current piece, so a
 * position past its end reads as 0 and stops every run. */
enum { F_LETTER = 1, F_NUMBER = 2, F_PUNCT = 4, F_SPACE = 8, F_IN = 16 };

typedef struct {
    size_t *v;
    size_t n, cap;
} lenvec;

static int lv_push(lenvec *l, size_t x) {
    if (l->n == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 64;
        size_t *nv = realloc(l->v, nc * sizeof *nv);
        if (!nv) return -1;
        l->v = nv;
        l->cap = nc;
    }
    l->v[l->n++] = x;
    return 0;
}

typedef struct {
    const uint32_t *cpts;
    const uint8_t *fl;
    size_t ini, end, prev_end;
    lenvec *out;
    int err;
} scan;

static uint32_t sc_cpt(const scan *s, size_t p) { return p < s->end ? s->cpts[p] : 0xFFFFFFFFu; }
static uint8_t sc_fl(const scan *s, size_t p) { return p < s->end ? s->fl[p] : 0; }

/* Close the word ending at end; returns its length. */
static size_t sc_add(scan *s, size_t end) {
    size_t len = end - s->prev_end;
    if (len > 0 && lv_push(s->out, len)) s->err = 1;
    s->prev_end = end;
    return len;
}

static uint32_t ascii_lower(uint32_t c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

/* 's|'t|'re|'ve|'m|'ll|'d at pos: length of the match, 0 if none. */
static size_t contraction(const scan *s, size_t pos, bool any_case) {
    if (s->cpts[pos] != '\'' || pos + 1 >= s->end) return 0;
    uint32_t a = s->cpts[pos + 1];
    if (any_case) a = ascii_lower(a);
    if (a == 's' || a == 't' || a == 'm' || a == 'd') return 2;
    if (pos + 2 < s->end) {
        uint32_t b = s->cpts[pos + 2];
        if (any_case) b = ascii_lower(b);
        if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return 3;
    }
    return 0;
}

/* 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+ */
static void split_gpt2(scan *s) {
    size_t pos = s->ini;
    while (pos < s->end) {
        uint32_t cpt = s->cpts[pos];
        uint8_t fl = s->fl[pos];
        size_t c = contraction(s, pos, false);
        if (c) {
            pos += sc_add(s, pos + c);
            continue;
        }
        uint8_t fl2 = cpt == ' ' ? sc_fl(s, pos + 1) : fl;
        if (fl2 & F_LETTER) {
            pos += cpt == ' ';
            while (fl2 & F_LETTER) fl2 = sc_fl(s, ++pos);
            sc_add(s, pos);
            continue;
        }
        if (fl2 & F_NUMBER) {
            pos += cpt == ' ';
            while (fl2 & F_NUMBER) fl2 = sc_fl(s, ++pos);
            sc_add(s, pos);
            continue;
        }
        if (!(fl2 & (F_SPACE | F_LETTER | F_NUMBER)) && (fl2 & F_IN)) {
            pos += cpt == ' ';
            while (!(fl2 & (F_SPACE | F_LETTER | F_NUMBER)) && (fl2 & F_IN)) fl2 = sc_fl(s, ++pos);
            sc_add(s, pos);
            continue;
        }
        size_t nws = 0;
        while (sc_fl(s, pos + nws) & F_SPACE) nws++;
        if (nws > 1 && pos + nws < s->end) { /* \s+(?!\S): leave one blank for the next word */
            pos += nws - 1;
            sc_add(s, pos);
            continue;
        }
        if (nws > 0) {
            pos += nws;
            sc_add(s, pos);
            continue;
        }
        sc_add(s, ++pos);
    }
}

/* (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,D}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
 * with D = 3 (Llama 3) or 1 (Qwen2). */
static void split_llama3(scan *s, size_t max_digits) {
    size_t pos = s->ini;
    while (pos < s->end) {
        uint32_t cpt = s->cpts[pos];
        uint8_t fl = s->fl[pos];
        size_t c = contraction(s, pos, true);
        if (c) {
            pos += sc_add(s, pos + c);
            continue;
        }
        if (!(cpt == '\r' || cpt == '\n' || (fl & F_NUMBER))) {
            if ((fl & F_LETTER) || (sc_fl(s, pos + 1) & F_LETTER)) {
                pos++;
                while (sc_fl(s, pos) & F_LETTER) pos++;
                sc_add(s, pos);
                continue;
            }
        }
        if (fl & F_NUMBER) {
            size_t ini = pos;
            while (sc_fl(s, pos) & F_NUMBER) {
                if (++pos - ini >= max_digits) {
                    sc_add(s, pos);
                    ini = pos;
                }
            }
            sc_add(s, pos);
            continue;
        }
        uint8_t fl2 = cpt == ' ' ? sc_fl(s, pos + 1) : fl;
        if (!(fl2 & (F_SPACE | F_LETTER | F_NUMBER)) && (fl & F_IN)) {
            pos += cpt == ' ';
            while (!(fl2 & (F_SPACE | F_LETTER | F_NUMBER)) && (fl2 & F_IN)) fl2 = sc_fl(s, ++pos);
            uint32_t c2 = sc_cpt(s, pos);
            while (c2 == '\r' || c2 == '\n') c2 = sc_cpt(s, ++pos);
            sc_add(s, pos);
            continue;
        }
        size_t nws = 0, last_rn = 0;
        while (sc_fl(s, pos + nws) & F_SPACE) {
            uint32_t c2 = s->cpts[pos + nws];
            if (c2 == '\r' || c2 == '\n') last_rn = pos + nws + 1;
            nws++;
        }
        if (last_rn > 0) { /* \s*[\r\n]+ ends at the last line break */
            pos = last_rn;
            sc_add(s, pos);
            continue;
        }
        if (nws > 1 && pos + nws < s->end) {
            pos += nws - 1;
            sc_add(s, pos);
            continue;
        }
        if (nws > 0) {
            pos += nws;
            sc_add(s, pos);
            continue;
        }
        sc_add(s, ++pos);
    }
}

/* "[\p{P}\$\+<=>\^~\|]+" as llama.cpp evaluates it: ASCII punctuation and
 * symbols except the backtick, plus non-ASCII punctuation. */
static bool is_default_punct(uint32_t c, uint8_t fl) {
    if (c < 0x80) return (c >= 0x21 && c <= 0x2f) || (c >= 0x3a && c <= 0x40) || (c >= 0x5b && c <= 0x5f) ||
                         (c >= 0x7b && c <= 0x7e);
    return (fl & F_PUNCT) != 0;
}
static bool is_number(uint32_t c, uint8_t fl) { return (fl & F_NUMBER) != 0; }

/* X+ (single = false) or X (single = true): matches and the gaps between
 * them each become a word. */
static void split_class(scan *s, bool (*pred)(uint32_t, uint8_t), bool single) {
    size_t pos = s->ini;
    while (pos < s->end) {
        if (pred(s->cpts[pos], s->fl[pos])) {
            pos++;
            if (!single)
                while (pos < s->end && pred(s->cpts[pos], s->fl[pos])) pos++;
        } else {
            while (pos < s->end && !pred(s->cpts[pos], s->fl[pos])) pos++;
        }
        sc_add(s, pos);
    }
}

/* [0-9][0-9][0-9], matched left to right without overlap. */
static void split_digit3(scan *s) {
    size_t pos = s->ini;
    while (pos < s->end) {
        if (pos + 3 <= s->end && s->cpts[pos] - '0' < 10 && s->cpts[pos + 1] - '0' < 10 &&
            s->cpts[pos + 2] - '0' < 10) {
            sc_add(s, pos); /* the gap before, if any */
            pos += 3;
            sc_add(s, pos);
        } else {
            pos++;
        }
    }
    sc_add(s, s->end);
}

typedef enum { P_GPT2, P_LLAMA3, P_QWEN2, P_PUNCT_RUNS, P_NUMBER_RUNS, P_NUMBER_SINGLE, P_DIGIT3 } pass;

static int run_pass(pass p, const uint32_t *cpts, const uint8_t *fl, const lenvec *in, lenvec *out) {
    size_t start = 0;
    out->n = 0;
    for (size_t i = 0; i < in->n; i++) {
        scan s = {cpts, fl, start, start + in->v[i], start, out, 0};
        switch (p) {
        case P_GPT2: split_gpt2(&s); break;
        case P_LLAMA3: split_llama3(&s, 3); break;
        case P_QWEN2: split_llama3(&s, 1); break;
        case P_PUNCT_RUNS: split_class(&s, is_default_punct, false); break;
        case P_NUMBER_RUNS: split_class(&s, is_number, false); break;
        case P_NUMBER_SINGLE: split_class(&s, is_number, true); break;
        case P_DIGIT3: split_digit3(&s); break;
        }
        if (s.err) return -1;
        start += in->v[i];
    }
    return 0;
}

long pretok_split(pre_kind kind, const uint32_t *cpts, size_t n, size_t **lens) {
    static const pass p_default[] = {P_PUNCT_RUNS, P_GPT2, P_NUMBER_RUNS, P_DIGIT3};
    static const pass p_gpt2[] = {P_GPT2};
    static const pass p_llama3[] = {P_LLAMA3};
    static const pass p_qwen2[] = {P_QWEN2};
    static const pass p_starcoder[] = {P_NUMBER_SINGLE, P_GPT2};
    const pass *passes;
    int n_passes;
    switch (kind) {
    case PRE_DEFAULT: passes = p_default, n_passes = 4; break;
    case PRE_GPT2: passes = p_gpt2, n_passes = 1; break;
    case PRE_LLAMA3: passes = p_llama3, n_passes = 1; break;
    case PRE_QWEN2: passes = p_qwen2, n_passes = 1; break;
    case PRE_STARCODER: passes = p_starcoder, n_passes = 2; break;
    default: passes = NULL, n_passes = 0; break;
    }
    *lens = NULL;
    uint8_t *fl = malloc(n ? n : 1);
    lenvec a = {0}, b = {0};
    if (!fl) return -1;
    for (size_t i = 0; i < n; i++) {
        uint32_t c = cpts[i];
        uint8_t f = F_IN;
        switch (octo_unicode_class(c)) {
        case OCTO_UCLASS_LETTER: f |= F_LETTER; break;
        case OCTO_UCLASS_NUMBER: f |= F_NUMBER; break;
        case OCTO_UCLASS_PUNCT: f |= F_PUNCT; break;
        default: break;
        }
        if (octo_unicode_is_space(c)) f |= F_SPACE;
        fl[i] = f;
    }
    long ret = -1;
    if (n > 0 && lv_push(&a, n)) goto done;
    for (int k = 0; k < n_passes; k++) {
        if (run_pass(passes[k], cpts, fl, &a, &b)) goto done;
        lenvec tmp = a;
        a = b;
        b = tmp;
    }
    *lens = a.v;
    a.v = NULL;
    ret = (long)a.n;
done:
    free(a.v);
    free(b.v);
    free(fl);
    return ret;
}
