/* tokenizer.c - loading a GGUF tokenizer and the public tokenizer API.
 *
 * Loading follows llama.cpp's vocabulary loader rule for rule (default
 * special ids, the name-based promotion of end-of-turn and fill-in-middle
 * tokens to CONTROL, the end-of-generation set, Phi-3's whitespace stripping
 * after special tokens), because token ids must match the reference engine
 * exactly.  Every count and id in the file is checked before use.
 *
 * Tokenizing first cuts special tokens out of the text (longest first), then
 * runs the SPM or BPE algorithm (tok_spm.c, tok_bpe.c) over the text pieces
 * in between.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "tokenizer/tok_internal.h"
#include "tokenizer/unicode.h"

#define KEY_MODEL "tokenizer.ggml.model"
#define KEY_PRE "tokenizer.ggml.pre"
#define KEY_TOKENS "tokenizer.ggml.tokens"
#define KEY_SCORES "tokenizer.ggml.scores"
#define KEY_TYPES "tokenizer.ggml.token_type"
#define KEY_MERGES "tokenizer.ggml.merges"

/* ---- small helpers ---- */

int tokvec_push(tokvec *v, int32_t id) {
    if (v->n == v->cap) {
        size_t nc = v->cap ? v->cap * 2 : 256;
        int32_t *nv = realloc(v->v, nc * sizeof *nv);
        if (!nv) return -1;
        v->v = nv;
        v->cap = nc;
    }
    v->v[v->n++] = id;
    return 0;
}

static uint64_t fnv_step(uint64_t h, const char *s, size_t n) {
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 0x100000001b3ull;
    return h;
}
#define FNV_INIT 0xcbf29ce484222325ull

static uint32_t hash_slot(uint64_t h) { return (uint32_t)(h ^ (h >> 32)); }

/* ---- vocabulary hash ---- */

int32_t tok_find(const octo_tokenizer *t, const char *s, size_t n) {
    uint32_t i = hash_slot(fnv_step(FNV_INIT, s, n)) & t->vhash_mask;
    for (;;) {
        uint32_t e = t->vhash[i];
        if (!e) return -1;
        const tok_entry *te = &t->tok[e - 1];
        if (te->len == n && memcmp(t->arena + te->off, s, n) == 0) return (int32_t)(e - 1);
        i = (i + 1) & t->vhash_mask;
    }
}

static int vhash_build(octo_tokenizer *t, size_t min_entries) {
    size_t cap = 64;
    while (cap < min_entries * 2) cap *= 2;
    uint32_t *h = calloc(cap, sizeof *h);
    if (!h) return -1;
    free(t->vhash);
    t->vhash = h;
    t->vhash_mask = (uint32_t)(cap - 1);
    return 0;
}

/* Insert id; returns the id already holding the same text, or -1 if new. */
static int32_t vhash_insert(octo_tokenizer *t, int32_t id) {
    const tok_entry *te = &t->tok[id];
    const char *s = t->arena + te->off;
    uint32_t i = hash_slot(fnv_step(FNV_INIT, s, te->len)) & t->vhash_mask;
    for (;;) {
        uint32_t e = t->vhash[i];
        if (!e) {
            t->vhash[i] = (uint32_t)id + 1;
            return -1;
        }
        const tok_entry *o = &t->tok[e - 1];
        if (o->len == te->len && memcmp(t->arena + o->off, s, te->len) == 0) return (int32_t)(e - 1);
        i = (i + 1) & t->vhash_mask;
    }
}

/* ---- merge ranks ---- */

int32_t tok_merge_rank(const octo_tokenizer *t, const char *s, size_t first_len, size_t len) {
    if (!t->mhash) return -1;
    uint32_t i = hash_slot(fnv_step(FNV_INIT, s, len)) & t->mhash_mask;
    for (;;) {
        uint32_t e = t->mhash[i];
        if (!e) return -1;
        const merge_entry *m = &t->merges[e - 1];
        const char *ms = t->marena + m->off;
        if (m->first_len == first_len && m->len == len + 1 && memcmp(ms, s, first_len) == 0 &&
            memcmp(ms + first_len + 1, s + first_len, len - first_len) == 0)
            return (int32_t)(e - 1);
        i = (i + 1) & t->mhash_mask;
    }
}

static void mhash_insert(octo_tokenizer *t, int32_t idx) {
    const merge_entry *m = &t->merges[idx];
    const char *ms = t->marena + m->off;
    size_t second = m->len - m->first_len - 1;
    uint64_t h = fnv_step(fnv_step(FNV_INIT, ms, m->first_len), ms + m->first_len + 1, second);
    uint32_t i = hash_slot(h) & t->mhash_mask;
    for (;;) {
        uint32_t e = t->mhash[i];
        if (!e) {
            t->mhash[i] = (uint32_t)idx + 1;
            return;
        }
        const merge_entry *o = &t->merges[e - 1];
        /* a repeated merge keeps its first (lowest) rank */
        if (o->first_len == m->first_len && o->len == m->len && memcmp(t->marena + o->off, ms, m->len) == 0)
            return;
        i = (i + 1) & t->mhash_mask;
    }
}

/* ---- arena ---- */

static int arena_append(octo_tokenizer *t, const char *s, size_t n, uint32_t *off) {
    if (t->arena_len + n + 1 > UINT32_MAX) return -1;
    if (t->arena_len + n + 1 > t->arena_cap) {
        size_t nc = t->arena_cap ? t->arena_cap : 4096;
        while (nc < t->arena_len + n + 1) nc *= 2;
        char *na = realloc(t->arena, nc);
        if (!na) return -1;
        t->arena = na;
        t->arena_cap = nc;
    }
    memcpy(t->arena + t->arena_len, s, n);
    t->arena[t->arena_len + n] = 0;
    *off = (uint32_t)t->arena_len;
    t->arena_len += n + 1;
    return 0;
}

/* ---- loading ---- */

typedef struct {
    const char *name;
    pre_kind kind;
    bool clean_spaces, ignore_merges, add_bos;
} pre_info;

/* tokenizer.ggml.pre names llama.cpp maps to the pipelines implemented in
 * pretok.c, with the flags it sets for each. */
static const pre_info k_pre[] = {
    {"default", PRE_DEFAULT, true, false, false},
    {"llama3", PRE_LLAMA3, true, true, true},
    {"llama-v3", PRE_LLAMA3, true, true, true},
    {"llama-bpe", PRE_LLAMA3, true, true, true},
    {"falcon3", PRE_LLAMA3, true, true, true},
    {"falcon-h1", PRE_LLAMA3, true, true, true},
    {"pixtral", PRE_LLAMA3, true, true, true},
    {"midm-2.0", PRE_LLAMA3, true, true, true},
    {"lfm2", PRE_LLAMA3, true, true, true},
    {"dbrx", PRE_LLAMA3, true, false, false},
    {"smaug-bpe", PRE_LLAMA3, true, false, false},
    {"chatglm-bpe", PRE_LLAMA3, true, false, false},
    {"glm4", PRE_LLAMA3, true, false, false},
    {"gpt-2", PRE_GPT2, true, false, false},
    {"phi-2", PRE_GPT2, true, false, false},
    {"jina-es", PRE_GPT2, true, false, false},
    {"jina-de", PRE_GPT2, true, false, false},
    {"jina-v2-es", PRE_GPT2, true, false, false},
    {"jina-v2-de", PRE_GPT2, true, false, false},
    {"jina-v1-en", PRE_GPT2, true, false, false},
    {"jina-v2-code", PRE_GPT2, true, false, false},
    {"roberta-bpe", PRE_GPT2, true, false, false},
    {"gigachat", PRE_GPT2, true, false, false},
    {"a.x-4.0", PRE_GPT2, true, false, false},
    {"mellum", PRE_GPT2, true, false, false},
    {"modern-bert", PRE_GPT2, true, false, false},
    {"exaone4", PRE_GPT2, true, false, false},
    {"mpt", PRE_GPT2, true, false, false},
    {"olmo", PRE_GPT2, true, false, false},
    {"jais", PRE_GPT2, true, false, false},
    {"trillion", PRE_GPT2, false, false, false},
    {"granite-docling", PRE_GPT2, false, false, false},
    {"qwen2", PRE_QWEN2, false, false, false},
    {"deepseek-r1-qwen", PRE_QWEN2, false, false, false},
    {"kormo", PRE_QWEN2, false, false, false},
    {"stablelm2", PRE_QWEN2, true, false, false},
    {"megrez", PRE_QWEN2, true, false, false},
    {"hunyuan", PRE_QWEN2, false, false, false},
    {"starcoder", PRE_STARCODER, true, false, false},
    {"refact", PRE_STARCODER, true, false, false},
    {"command-r", PRE_STARCODER, false, false, false},
    {"smollm", PRE_STARCODER, false, false, false},
    {"codeshell", PRE_STARCODER, true, false, false},
    {"exaone", PRE_STARCODER, true, false, false},
    {"minerva-7b", PRE_STARCODER, true, false, false},
};

static bool str_in(const char *s, const char *const *list) {
    for (; *list; list++)
        if (strcmp(s, *list) == 0) return true;
    return false;
}

/* Token texts that mark a role when the file does not name its id. */
static const char *const k_eot_names[] = {"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>",
                                          "<|end_of_text|>", "<EOT>", "_<EOT>",
                                          "<\xef\xbd\x9c" "end\xe2\x96\x81of\xe2\x96\x81sentence\xef\xbd\x9c>", NULL};
static const char *const k_eom_names[] = {"<|eom_id|>", NULL};
static const char *const k_fim_pre_names[] = {"<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>",
                                              "<\xef\xbd\x9c" "fim\xe2\x96\x81" "begin\xef\xbd\x9c>", "<PRE>",
                                              "\xe2\x96\x81<PRE>", NULL};
static const char *const k_fim_suf_names[] = {"<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>",
                                              "<\xef\xbd\x9c" "fim\xe2\x96\x81hole\xef\xbd\x9c>", "<SUF>",
                                              "\xe2\x96\x81<SUF>", NULL};
static const char *const k_fim_mid_names[] = {"<|fim_middle|>", "<fim-middle>", "<fim_middle>",
                                              "<\xef\xbd\x9c" "fim\xe2\x96\x81" "end\xef\xbd\x9c>", "<MID>",
                                              "\xe2\x96\x81<MID>", NULL};
static const char *const k_fim_pad_names[] = {"<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", NULL};
static const char *const k_fim_rep_names[] = {"<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", NULL};
static const char *const k_fim_sep_names[] = {"<|file_sep|>", NULL};
/* Texts that end generation wherever they occur in a vocabulary. */
static const char *const k_eog_names[] = {"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>",
                                          "<|eom_id|>", "<EOT>", "_<EOT>", "<|end_of_text|>", NULL};

static uint32_t attr_of_type(int64_t type) {
    switch (type) {
    case OCTO_TOKEN_NORMAL: return TA_NORMAL;
    case OCTO_TOKEN_UNKNOWN: return TA_UNKNOWN;
    case OCTO_TOKEN_CONTROL: return TA_CONTROL;
    case OCTO_TOKEN_USER_DEFINED: return TA_USER_DEFINED;
    case OCTO_TOKEN_UNUSED: return TA_UNUSED;
    case OCTO_TOKEN_BYTE: return TA_BYTE;
    default: return 0; /* undefined: decodes to nothing */
    }
}

static bool is_numeric_type(int ty) {
    return ty != GGUF_TYPE_STRING && ty != GGUF_TYPE_ARRAY && ty != GGUF_TYPE_BOOL && ty < GGUF_TYPE_COUNT;
}
static bool is_integer_type(int ty) {
    return is_numeric_type(ty) && ty != GGUF_TYPE_FLOAT32 && ty != GGUF_TYPE_FLOAT64;
}

/* An optional token-id key: kept only when it names a token. */
static int read_id(const gguf_file *f, const char *key, int32_t n_vocab, int32_t *id) {
    const gguf_kv *kv = gguf_find_kv(f, key);
    if (!kv) return 0;
    if (!is_integer_type(kv->type))
        return octo_fail("%s: %s: expected a token id, found %s", f->path, key, gguf_type_name(kv->type));
    int64_t v;
    if (gguf_get_i64(f, key, &v) < 0) return -1;
    /* out-of-range ids are ignored (llama.cpp keeps its default and warns) */
    if (v >= 0 && v < n_vocab) *id = (int32_t)v;
    return 0;
}

static int read_bool(const gguf_file *f, const char *key, bool *out) {
    return gguf_get_bool(f, key, out) < 0 ? -1 : 0;
}

/* Could the text be one of the role names above? (All start with '<',
 * '_' or "▁"; checking that first keeps loading a large vocabulary fast.) */
static bool maybe_named(const char *s) { return s[0] == '<' || s[0] == '_' || (unsigned char)s[0] == 0xe2; }

/* Lowest id whose text is in names, or -1. */
static int32_t find_named(const octo_tokenizer *t, const char *const *names) {
    for (int32_t id = 0; id < t->n_vocab; id++)
        if (maybe_named(tok_str(t, id)) && str_in(tok_str(t, id), names)) return id;
    return -1;
}

/* Longest text first, then lowest id (llama.cpp sorts by length only; ties
 * between different texts of one length cannot both match at one place). */
static bool special_before(const octo_tokenizer *t, int32_t x, int32_t y) {
    uint32_t lx = t->tok[x].len, ly = t->tok[y].len;
    return lx != ly ? lx > ly : x < y;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int build_special_cache(octo_tokenizer *t) {
    int32_t n = 0;
    for (int32_t id = 0; id < t->n_vocab; id++)
        if (t->tok[id].attr & (TA_CONTROL | TA_USER_DEFINED | TA_UNKNOWN)) n++;
    t->special = malloc((size_t)(n ? n : 1) * sizeof *t->special);
    uint64_t *keyed = malloc((size_t)(n ? n : 1) * sizeof *keyed);
    if (!t->special || !keyed) {
        free(keyed);
        return -1;
    }
    /* sort key: (UINT32_MAX - length) in the high 32 bits, id in the low 32 */
    int32_t k = 0;
    for (int32_t id = 0; id < t->n_vocab; id++)
        if (t->tok[id].attr & (TA_CONTROL | TA_USER_DEFINED | TA_UNKNOWN))
            keyed[k++] = ((uint64_t)(UINT32_MAX - t->tok[id].len) << 32) | (uint32_t)id;
    qsort(keyed, (size_t)n, sizeof *keyed, cmp_u64);
    for (int32_t i = 0; i < n; i++) t->special[i] = (int32_t)(keyed[i] & 0xffffffffu);
    t->n_special = n;
    free(keyed);
    return 0;
}

/* Insertion into the sorted list, for tokens added after loading. */
static int special_insert(octo_tokenizer *t, int32_t id) {
    int32_t *ns = realloc(t->special, (size_t)(t->n_special + 1) * sizeof *ns);
    if (!ns) return -1;
    t->special = ns;
    int32_t i = t->n_special++;
    while (i > 0 && special_before(t, id, t->special[i - 1])) {
        t->special[i] = t->special[i - 1];
        i--;
    }
    t->special[i] = id;
    return 0;
}

/* ---- tokenizer.* keys kept verbatim ---- */

static size_t elem_size(int ty) {
    switch (ty) {
    case GGUF_TYPE_UINT8: case GGUF_TYPE_INT8: case GGUF_TYPE_BOOL: return 1;
    case GGUF_TYPE_UINT16: case GGUF_TYPE_INT16: return 2;
    case GGUF_TYPE_UINT32: case GGUF_TYPE_INT32: case GGUF_TYPE_FLOAT32: return 4;
    case GGUF_TYPE_UINT64: case GGUF_TYPE_INT64: case GGUF_TYPE_FLOAT64: return 8;
    default: return 0;
    }
}

static char *dup_n(const char *s, size_t n) {
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = 0;
    }
    return d;
}

static void extra_free(extra_kv *e) {
    free(e->key);
    free(e->str);
    free(e->arr_data);
    if (e->arr_strs)
        for (uint64_t i = 0; i < e->arr_n; i++) free(e->arr_strs[i]);
    free(e->arr_strs);
    free(e->arr_lens);
}

static int extra_copy(extra_kv *e, const gguf_kv *kv) {
    memset(e, 0, sizeof *e);
    e->key = dup_n(kv->key.ptr, (size_t)kv->key.len);
    if (!e->key) return -1;
    e->type = kv->type;
    if (kv->type == GGUF_TYPE_STRING) {
        e->str = dup_n(kv->v.str.ptr, (size_t)kv->v.str.len);
        e->str_len = (size_t)kv->v.str.len;
        return e->str ? 0 : -1;
    }
    if (kv->type != GGUF_TYPE_ARRAY) {
        e->u64 = kv->v.u64;
        e->f64 = kv->v.f64;
        return 0;
    }
    e->arr_type = kv->arr_type;
    e->arr_n = kv->arr_n;
    if (kv->arr_type == GGUF_TYPE_STRING) {
        e->arr_strs = calloc((size_t)(kv->arr_n ? kv->arr_n : 1), sizeof *e->arr_strs);
        e->arr_lens = calloc((size_t)(kv->arr_n ? kv->arr_n : 1), sizeof *e->arr_lens);
        if (!e->arr_strs || !e->arr_lens) return -1;
        for (uint64_t i = 0; i < kv->arr_n; i++) {
            e->arr_strs[i] = dup_n(kv->arr_strs[i].ptr, (size_t)kv->arr_strs[i].len);
            e->arr_lens[i] = (size_t)kv->arr_strs[i].len;
            if (!e->arr_strs[i]) return -1;
        }
        return 0;
    }
    size_t es = elem_size(kv->arr_type);
    if (!es) return -1;
    e->arr_data = malloc((size_t)kv->arr_n * es + 1);
    if (!e->arr_data) return -1;
    memcpy(e->arr_data, kv->arr_data, (size_t)kv->arr_n * es);
    return 0;
}

static int copy_extra_keys(octo_tokenizer *t, const gguf_file *f) {
    static const char *const handled[] = {KEY_MODEL, KEY_PRE, KEY_TOKENS, KEY_SCORES, KEY_TYPES, KEY_MERGES, NULL};
    int n = 0;
    for (uint64_t i = 0; i < f->n_kv; i++) {
        const gguf_str k = f->kv[i].key;
        if (k.len > 10 && memcmp(k.ptr, "tokenizer.", 10) == 0) n++;
    }
    t->extra = calloc((size_t)(n ? n : 1), sizeof *t->extra);
    if (!t->extra) return -1;
    for (uint64_t i = 0; i < f->n_kv; i++) {
        const gguf_kv *kv = &f->kv[i];
        if (!(kv->key.len > 10 && memcmp(kv->key.ptr, "tokenizer.", 10) == 0)) continue;
        bool skip = false;
        for (const char *const *h = handled; *h; h++)
            if (gguf_str_eq(kv->key, *h)) skip = true;
        if (skip) continue;
        if (extra_copy(&t->extra[t->n_extra], kv)) {
            extra_free(&t->extra[t->n_extra]);
            return -1;
        }
        t->n_extra++;
    }
    return 0;
}

/* ---- load ---- */

void octo_tokenizer_free(octo_tokenizer *t) {
    if (!t) return;
    free(t->model);
    free(t->pre);
    free(t->tok);
    free(t->arena);
    free(t->vhash);
    free(t->merges);
    free(t->marena);
    free(t->mhash);
    free(t->special);
    for (int i = 0; i < t->n_extra; i++) extra_free(&t->extra[i]);
    free(t->extra);
    free(t);
}

static int load_tokens(octo_tokenizer *t, const gguf_file *f) {
    const gguf_kv *toks = gguf_find_kv(f, KEY_TOKENS);
    if (!toks) return octo_fail("%s: %s: missing (the file carries no vocabulary)", f->path, KEY_TOKENS);
    if (toks->type != GGUF_TYPE_ARRAY || toks->arr_type != GGUF_TYPE_STRING)
        return octo_fail("%s: %s: expected an array of strings", f->path, KEY_TOKENS);
    if (toks->arr_n == 0 || toks->arr_n > (1u << 30))
        return octo_fail("%s: %s: %llu tokens, expected 1 to %u", f->path, KEY_TOKENS,
                         (unsigned long long)toks->arr_n, 1u << 30);
    int32_t n = (int32_t)toks->arr_n;

    const gguf_kv *scores = gguf_find_kv(f, KEY_SCORES);
    if (scores) {
        if (scores->type != GGUF_TYPE_ARRAY || !is_numeric_type(scores->arr_type))
            return octo_fail("%s: %s: expected an array of numbers", f->path, KEY_SCORES);
        if (scores->arr_n != toks->arr_n)
            return octo_fail("%s: %s: %llu scores for %d tokens, expected one per token", f->path, KEY_SCORES,
                             (unsigned long long)scores->arr_n, n);
    }
    const gguf_kv *types = gguf_find_kv(f, KEY_TYPES);
    if (types) {
        if (types->type != GGUF_TYPE_ARRAY || !is_integer_type(types->arr_type))
            return octo_fail("%s: %s: expected an array of integers", f->path, KEY_TYPES);
        if (types->arr_n != toks->arr_n)
            return octo_fail("%s: %s: %llu token types for %d tokens, expected one per token", f->path, KEY_TYPES,
                             (unsigned long long)types->arr_n, n);
    }
    t->has_scores = scores != NULL;

    t->tok = calloc((size_t)n, sizeof *t->tok);
    if (!t->tok) return octo_fail("%s: %s: out of memory", f->path, KEY_TOKENS);
    t->cap_vocab = n;
    size_t total = 0;
    for (int32_t i = 0; i < n; i++) total += (size_t)toks->arr_strs[i].len + 1;
    if (total > UINT32_MAX - 16)
        return octo_fail("%s: %s: %zu bytes of token text, more than supported", f->path, KEY_TOKENS, total);
    t->arena = malloc(total + 64);
    if (!t->arena || vhash_build(t, (size_t)n)) return octo_fail("%s: %s: out of memory", f->path, KEY_TOKENS);
    t->arena_cap = total + 64;

    for (int32_t i = 0; i < n; i++) {
        gguf_str s = toks->arr_strs[i];
        char empty[32];
        tok_entry *te = &t->tok[i];
        if (s.len == 0) { /* llama.cpp's stand-in for an empty token */
            snprintf(empty, sizeof empty, "[EMPTY_%d]", i);
            s.ptr = empty;
            s.len = strlen(empty);
        }
        if (arena_append(t, s.ptr, (size_t)s.len, &te->off))
            return octo_fail("%s: %s: out of memory", f->path, KEY_TOKENS);
        te->len = (uint32_t)s.len;
        te->score = scores ? (float)gguf_arr_f64(scores, (uint64_t)i) : 0.0f;
        int64_t ty = types ? gguf_arr_i64(types, (uint64_t)i) : OCTO_TOKEN_NORMAL;
        te->type = ty < INT32_MIN || ty > INT32_MAX ? 0 : (int32_t)ty;
        te->attr = types ? attr_of_type(ty) : TA_NORMAL;
        t->n_vocab = i + 1;
        int32_t dup = vhash_insert(t, i);
        if (dup >= 0) {
            int w = (int)(te->len > 40 ? 40 : te->len);
            return octo_fail("%s: %s: token %d '%.*s' duplicates token %d", f->path, KEY_TOKENS, i, w,
                             tok_str(t, i), dup);
        }
    }
    return 0;
}

static int load_merges(octo_tokenizer *t, const gguf_file *f) {
    const gguf_kv *m = gguf_find_kv(f, KEY_MERGES);
    if (!m) return octo_fail("%s: %s: missing (a gpt2 tokenizer needs its merges)", f->path, KEY_MERGES);
    if (m->type != GGUF_TYPE_ARRAY || m->arr_type != GGUF_TYPE_STRING)
        return octo_fail("%s: %s: expected an array of strings", f->path, KEY_MERGES);
    if (m->arr_n > (1u << 30))
        return octo_fail("%s: %s: %llu merges, more than supported", f->path, KEY_MERGES,
                         (unsigned long long)m->arr_n);
    int32_t n = (int32_t)m->arr_n;
    size_t total = 0;
    for (int32_t i = 0; i < n; i++) total += (size_t)m->arr_strs[i].len + 1;
    if (total > UINT32_MAX - 16) return octo_fail("%s: %s: too much merge text", f->path, KEY_MERGES);
    size_t cap = 64;
    while (cap < (size_t)n * 2) cap *= 2;
    t->merges = malloc((size_t)(n ? n : 1) * sizeof *t->merges);
    t->marena = malloc(total + 1);
    t->mhash = calloc(cap, sizeof *t->mhash);
    if (!t->merges || !t->marena || !t->mhash) return octo_fail("%s: %s: out of memory", f->path, KEY_MERGES);
    t->mhash_mask = (uint32_t)(cap - 1);
    size_t off = 0;
    for (int32_t i = 0; i < n; i++) {
        gguf_str s = m->arr_strs[i];
        merge_entry *e = &t->merges[i];
        memcpy(t->marena + off, s.ptr, (size_t)s.len);
        t->marena[off + s.len] = 0;
        e->off = (uint32_t)off;
        e->len = (uint32_t)s.len;
        off += (size_t)s.len + 1;
        /* split at the first space after the first byte, as llama.cpp does;
         * a merge without one can never apply */
        const char *sp = s.len > 1 ? memchr(s.ptr + 1, ' ', (size_t)s.len - 1) : NULL;
        e->first_len = sp ? (uint32_t)(sp - s.ptr) : UINT32_MAX;
        t->n_merges = i + 1;
        if (sp) mhash_insert(t, i);
    }
    return 0;
}

static int setup_specials(octo_tokenizer *t, const gguf_file *f) {
    int32_t n = t->n_vocab;
    /* llama.cpp's defaults, dropped when outside the vocabulary */
    if (t->kind == OCTO_TOK_SPM) t->bos = 1, t->eos = 2, t->unk = 0;
    else t->bos = 11, t->eos = 11, t->unk = -1;
    t->eot = t->eom = t->pad = -1;
    if (t->bos >= n) t->bos = -1;
    if (t->eos >= n) t->eos = -1;
    if (t->unk >= n) t->unk = -1;
    int32_t sep = -1, mask = -1, fim[6] = {-1, -1, -1, -1, -1, -1};
    static const char *const fim_keys[6] = {
        "tokenizer.ggml.fim_pre_token_id", "tokenizer.ggml.fim_suf_token_id", "tokenizer.ggml.fim_mid_token_id",
        "tokenizer.ggml.fim_pad_token_id", "tokenizer.ggml.fim_rep_token_id", "tokenizer.ggml.fim_sep_token_id"};
    static const char *const *fim_names[6] = {k_fim_pre_names, k_fim_suf_names, k_fim_mid_names,
                                              k_fim_pad_names, k_fim_rep_names, k_fim_sep_names};
    if (read_id(f, "tokenizer.ggml.bos_token_id", n, &t->bos) || read_id(f, "tokenizer.ggml.eos_token_id", n, &t->eos) ||
        read_id(f, "tokenizer.ggml.eot_token_id", n, &t->eot) || read_id(f, "tokenizer.ggml.eom_token_id", n, &t->eom) ||
        read_id(f, "tokenizer.ggml.unknown_token_id", n, &t->unk) ||
        read_id(f, "tokenizer.ggml.seperator_token_id", n, &sep) ||
        read_id(f, "tokenizer.ggml.padding_token_id", n, &t->pad) ||
        read_id(f, "tokenizer.ggml.mask_token_id", n, &mask) ||
        read_id(f, "tokenizer.ggml.prefix_token_id", n, &fim[0]) ||
        read_id(f, "tokenizer.ggml.suffix_token_id", n, &fim[1]) ||
        read_id(f, "tokenizer.ggml.middle_token_id", n, &fim[2]))
        return -1;
    for (int i = 0; i < 6; i++)
        if (read_id(f, fim_keys[i], n, &fim[i])) return -1;
    if (t->pre && (strcmp(t->pre, "chatglm-bpe") == 0 || strcmp(t->pre, "glm4") == 0)) t->bos = -1;

    /* Roles the file does not name are recognised by their text; such a
     * token is promoted to CONTROL even if typed otherwise. */
    if (t->eot < 0 && (t->eot = find_named(t, k_eot_names)) >= 0) t->tok[t->eot].attr |= TA_CONTROL;
    if (t->eom < 0 && (t->eom = find_named(t, k_eom_names)) >= 0) t->tok[t->eom].attr |= TA_CONTROL;
    for (int i = 0; i < 6; i++)
        if (fim[i] < 0 && (fim[i] = find_named(t, fim_names[i])) >= 0) t->tok[fim[i]].attr |= TA_CONTROL;

    for (int32_t id = 0; id < n; id++)
        if (maybe_named(tok_str(t, id)) && str_in(tok_str(t, id), k_eog_names)) t->tok[id].attr |= TA_CONTROL | TA_EOG;
    int32_t eog_ids[6] = {t->eos, t->eot, t->eom, fim[3], fim[4], fim[5]};
    for (int i = 0; i < 6; i++)
        if (eog_ids[i] >= 0) t->tok[eog_ids[i]].attr |= TA_EOG;

    if (build_special_cache(t)) return octo_fail("%s: tokenizer: out of memory", f->path);

    /* Phi-3 drops the whitespace that follows its special tokens; llama.cpp
     * keys this on the model name. */
    char *name = NULL;
    if (gguf_get_str(f, "general.name", &name) == 0 && name) {
        for (char *p = name; *p; p++) *p = (char)tolower((unsigned char)*p);
        t->rstrip_specials = strstr(name, "phi-3") || strstr(name, "phi3");
    }
    free(name);
    if (t->rstrip_specials) {
        for (int32_t i = 0; i < t->n_special; i++) t->tok[t->special[i]].attr |= TA_RSTRIP;
        static const char *const keep[] = {"<unk>", "<s>", "<|endoftext|>", NULL};
        int32_t id = tok_find(t, "</s>", 4);
        if (id >= 0) t->tok[id].attr |= TA_RSTRIP;
        for (const char *const *k = keep; *k; k++)
            if ((id = tok_find(t, *k, strlen(*k))) >= 0) t->tok[id].attr &= ~(uint32_t)TA_RSTRIP;
    }

    /* byte fallback tokens of SPM: <0xXX>, else the byte itself */
    for (int b = 0; b < 256; b++) {
        char hex[8];
        snprintf(hex, sizeof hex, "<0x%02X>", b);
        char c = (char)b;
        t->byte_tok[b] = tok_find(t, hex, 6);
        if (t->byte_tok[b] < 0) t->byte_tok[b] = tok_find(t, &c, 1);
    }
    return 0;
}

octo_tokenizer *octo_tokenizer_load(const gguf_file *f) {
    if (!f) {
        octo_fail("tokenizer: no file");
        return NULL;
    }
    octo_tokenizer *t = calloc(1, sizeof *t);
    if (!t) {
        octo_fail("%s: tokenizer: out of memory", f->path);
        return NULL;
    }
    int rc = gguf_get_str(f, KEY_MODEL, &t->model);
    if (rc) {
        if (rc > 0) octo_fail("%s: %s: missing (the file carries no tokenizer)", f->path, KEY_MODEL);
        goto fail;
    }
    if (strcmp(t->model, "llama") == 0) t->kind = OCTO_TOK_SPM;
    else if (strcmp(t->model, "gpt2") == 0) t->kind = OCTO_TOK_BPE;
    else {
        octo_fail("%s: %s: unsupported tokenizer '%s', expected 'llama' (SentencePiece) or 'gpt2' (byte-level BPE)",
                  f->path, KEY_MODEL, t->model);
        goto fail;
    }
    if (gguf_get_str(f, KEY_PRE, &t->pre) < 0) goto fail;

    if (t->kind == OCTO_TOK_SPM) {
        t->pre_type = PRE_NONE;
        t->add_space_prefix = true;
        t->add_bos = true;
    } else {
        const pre_info *pi = NULL;
        const char *pre = t->pre ? t->pre : "default";
        for (size_t i = 0; i < sizeof k_pre / sizeof k_pre[0]; i++)
            if (strcmp(pre, k_pre[i].name) == 0) pi = &k_pre[i];
        if (!pi) {
            octo_fail("%s: %s: unsupported pre-tokenizer '%s'", f->path, KEY_PRE, pre);
            goto fail;
        }
        t->pre_type = pi->kind;
        t->clean_spaces = pi->clean_spaces;
        t->ignore_merges = pi->ignore_merges;
        t->add_bos = pi->add_bos;
    }
    if (read_bool(f, "tokenizer.ggml.add_space_prefix", &t->add_space_prefix) ||
        read_bool(f, "tokenizer.ggml.add_bos_token", &t->add_bos) ||
        read_bool(f, "tokenizer.ggml.add_eos_token", &t->add_eos))
        goto fail;

    if (load_tokens(t, f)) goto fail;
    if (t->kind == OCTO_TOK_BPE && load_merges(t, f)) goto fail;
    if (setup_specials(t, f)) goto fail;
    if (t->add_bos && t->bos < 0) t->add_bos = false;
    if (copy_extra_keys(t, f)) {
        octo_fail("%s: tokenizer: out of memory", f->path);
        goto fail;
    }
    return t;
fail:
    octo_tokenizer_free(t);
    return NULL;
}

/* ---- accessors ---- */

octo_tok_kind octo_tokenizer_kind(const octo_tokenizer *t) { return t->kind; }
int32_t octo_tokenizer_n_vocab(const octo_tokenizer *t) { return t->n_vocab; }
int32_t octo_tokenizer_bos(const octo_tokenizer *t) { return t->bos; }
int32_t octo_tokenizer_eos(const octo_tokenizer *t) { return t->eos; }
int32_t octo_tokenizer_eot(const octo_tokenizer *t) { return t->eot; }
int32_t octo_tokenizer_unk(const octo_tokenizer *t) { return t->unk; }
int32_t octo_tokenizer_pad(const octo_tokenizer *t) { return t->pad; }
bool octo_tokenizer_add_bos(const octo_tokenizer *t) { return t->add_bos; }
bool octo_tokenizer_add_eos(const octo_tokenizer *t) { return t->add_eos; }
const char *octo_tokenizer_pre(const octo_tokenizer *t) {
    return t->pre ? t->pre : (t->kind == OCTO_TOK_BPE ? "default" : "");
}

bool octo_tokenizer_is_eog(const octo_tokenizer *t, int32_t id) {
    return id >= 0 && id < t->n_vocab && (t->tok[id].attr & TA_EOG);
}

const char *octo_token_text(const octo_tokenizer *t, int32_t id) {
    return id >= 0 && id < t->n_vocab ? tok_str(t, id) : NULL;
}

int octo_token_type(const octo_tokenizer *t, int32_t id) {
    return id >= 0 && id < t->n_vocab ? t->tok[id].type : -1;
}

int32_t octo_token_lookup(const octo_tokenizer *t, const char *text) {
    return text ? tok_find(t, text, strlen(text)) : -1;
}

/* ---- tokenize ---- */

typedef struct {
    int32_t token; /* -1: text */
    size_t off, len;
} frag;

typedef struct {
    frag *v;
    size_t n, cap;
} fragvec;

static int frag_push(fragvec *f, int32_t token, size_t off, size_t len) {
    if (f->n == f->cap) {
        size_t nc = f->cap ? f->cap * 2 : 16;
        frag *nv = realloc(f->v, nc * sizeof *nv);
        if (!nv) return -1;
        f->v = nv;
        f->cap = nc;
    }
    f->v[f->n++] = (frag){token, off, len};
    return 0;
}

static bool c_isspace(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

/* Cut every special token out of the text fragments, longest first (see
 * llama.cpp's tokenizer_st_partition). Control and unknown tokens take part
 * only when parse_special is on; user-defined ones always do. */
static int partition(const octo_tokenizer *t, const char *text, size_t len, bool parse_special, fragvec *out) {
    fragvec a = {0}, b = {0};
    if (len > 0 && frag_push(&a, -1, 0, len)) return -1;
    for (int32_t k = 0; k < t->n_special && a.n; k++) {
        int32_t id = t->special[k];
        const tok_entry *te = &t->tok[id];
        if (!parse_special && (te->attr & (TA_CONTROL | TA_UNKNOWN))) continue;
        const char *s = tok_str(t, id);
        size_t sl = te->len;
        bool any = false;
        for (size_t i = 0; i < a.n && !any; i++)
            if (a.v[i].token < 0 && a.v[i].len >= sl && memmem(text + a.v[i].off, a.v[i].len, s, sl)) any = true;
        if (!any) continue;
        b.n = 0;
        for (size_t i = 0; i < a.n; i++) {
            frag fr = a.v[i];
            if (fr.token >= 0) {
                if (frag_push(&b, fr.token, 0, 0)) goto oom;
                continue;
            }
            size_t off = fr.off, rem = fr.len;
            for (;;) {
                const char *m = rem >= sl ? memmem(text + off, rem, s, sl) : NULL;
                if (!m) break;
                size_t pos = (size_t)(m - text);
                size_t left = pos - off;
                if (te->attr & TA_LSTRIP)
                    while (left > 0 && c_isspace(text[off + left - 1])) left--;
                if (left > 0 && frag_push(&b, -1, off, left)) goto oom;
                if (frag_push(&b, id, 0, 0)) goto oom;
                rem -= pos + sl - off;
                off = pos + sl;
                if (te->attr & TA_RSTRIP)
                    while (rem > 0 && c_isspace(text[off])) off++, rem--;
            }
            if (rem > 0 && frag_push(&b, -1, off, rem)) goto oom;
        }
        fragvec tmp = a;
        a = b;
        b = tmp;
    }
    free(b.v);
    *out = a;
    return 0;
oom:
    free(a.v);
    free(b.v);
    return -1;
}

/* SPM text pieces: "▁" for every space, plus one in front when the piece
 * starts the text or follows a special token. */
static int spm_piece(const octo_tokenizer *t, const char *s, size_t n, bool prefix, tokvec *out) {
    size_t spaces = prefix ? 1 : 0;
    for (size_t i = 0; i < n; i++) spaces += s[i] == ' ';
    char *buf = malloc(n + spaces * 2 + 1);
    if (!buf) return -1;
    size_t k = 0;
    if (prefix) memcpy(buf, "\xe2\x96\x81", 3), k = 3;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == ' ') memcpy(buf + k, "\xe2\x96\x81", 3), k += 3;
        else buf[k++] = s[i];
    }
    int rc = spm_tokenize(t, buf, k, out);
    free(buf);
    return rc;
}

int octo_tokenize(const octo_tokenizer *t, const char *text, size_t len, bool add_bos, bool parse_special,
                  int32_t *out, int max) {
    if (!t || (!text && len) || max < 0 || (!out && max > 0)) return octo_fail("octo_tokenize: invalid arguments");
    if (len > ((size_t)1 << 30)) return octo_fail("octo_tokenize: %zu bytes of text, more than 1 GiB", len);
    fragvec fr = {0};
    tokvec v = {0};
    int ret = -1;
    if (partition(t, text, len, parse_special, &fr)) goto oom;
    if (add_bos && t->bos >= 0 && tokvec_push(&v, t->bos)) goto oom;
    bool prev_special = true;
    for (size_t i = 0; i < fr.n; i++) {
        const frag *f = &fr.v[i];
        if (f->token >= 0) {
            if (tokvec_push(&v, f->token)) goto oom;
            prev_special = true;
            continue;
        }
        int rc = t->kind == OCTO_TOK_SPM
                     ? spm_piece(t, text + f->off, f->len, t->add_space_prefix && prev_special, &v)
                     : bpe_tokenize(t, text + f->off, f->len, &v);
        if (rc) goto oom;
        prev_special = false;
    }
    if (v.n > (size_t)0x7fffffff) {
        octo_fail("octo_tokenize: %zu tokens, more than an int can count", v.n);
        goto done;
    }
    size_t copy = v.n < (size_t)max ? v.n : (size_t)max;
    if (copy) memcpy(out, v.v, copy * sizeof *out);
    ret = (int)v.n;
    goto done;
oom:
    octo_fail("octo_tokenize: out of memory");
done:
    free(fr.v);
    free(v.v);
    return ret;
}

/* ---- detokenize ---- */

/* The piece of one token, into buf when it fits; returns its length.
 * lstrip drops one leading space (the SPM prefix of a first token). */
static int piece(const octo_tokenizer *t, int32_t id, bool special, bool lstrip, char *buf, size_t cap) {
    const tok_entry *te = &t->tok[id];
    const char *s = tok_str(t, id);
    if (!special && (te->attr & (TA_UNKNOWN | TA_CONTROL))) return 0;
    size_t k = 0;
#define PUT(c)                             \
    do {                                   \
        if (k < cap) buf[k] = (char)(c);   \
        k++;                               \
    } while (0)
    if (te->attr & (TA_UNKNOWN | TA_CONTROL | TA_USER_DEFINED)) {
        for (uint32_t i = 0; i < te->len; i++) PUT(s[i]);
    } else if (te->attr & TA_NORMAL) {
        if (t->kind == OCTO_TOK_SPM) {
            for (uint32_t i = 0; i < te->len; i++) {
                if (i + 2 < te->len && memcmp(s + i, "\xe2\x96\x81", 3) == 0) {
                    PUT(' ');
                    i += 2;
                } else {
                    PUT(s[i]);
                }
            }
        } else {
            for (size_t off = 0; off < te->len;) {
                size_t start = off;
                uint32_t cpt = octo_utf8_decode(s, te->len, &off);
                int byte = octo_cpt_to_byte(cpt);
                if (byte >= 0) {
                    PUT(byte);
                } else { /* not a byte-level character: llama.cpp's marker */
                    char tmp[16];
                    const char *pre = "[UNK_BYTE_0x";
                    while (*pre) PUT(*pre++);
                    for (size_t j = start; j < off; j++) {
                        snprintf(tmp, sizeof tmp, "%02x", (unsigned char)s[j]);
                        PUT(tmp[0]);
                        PUT(tmp[1]);
                    }
                    for (uint32_t j = 0; j < te->len; j++) PUT(s[j]);
                    PUT(']');
                }
            }
        }
    } else if (te->attr & TA_BYTE) {
        unsigned v = 0;
        if (te->len >= 5) {
            for (int j = 3; j < 5; j++) {
                char c = s[j];
                v = v * 16 + (unsigned)(c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                        : c >= 'a' && c <= 'f' ? c - 'a' + 10 : 0);
            }
        }
        PUT(v);
    }
#undef PUT
    /* callers pass lstrip only with room for the whole piece */
    if (lstrip && k > 0 && k <= cap && buf[0] == ' ') {
        memmove(buf, buf + 1, k - 1);
        k--;
    }
    return (int)k;
}

int octo_token_to_piece(const octo_tokenizer *t, int32_t id, bool special, char *buf, int cap) {
    if (!t || id < 0 || id >= t->n_vocab) return -1;
    if (cap < 0 || (!buf && cap > 0)) cap = 0;
    return piece(t, id, special, false, buf, (size_t)cap);
}

char *octo_detokenize(const octo_tokenizer *t, const int32_t *ids, int n, bool special) {
    if (!t || (n > 0 && !ids) || n < 0) {
        octo_fail("octo_detokenize: invalid arguments");
        return NULL;
    }
    size_t total = 0;
    for (int i = 0; i < n; i++) {
        if (ids[i] < 0 || ids[i] >= t->n_vocab) {
            octo_fail("octo_detokenize: token %d at position %d is outside the vocabulary (%d tokens)", ids[i], i,
                      t->n_vocab);
            return NULL;
        }
        total += (size_t)piece(t, ids[i], special, false, NULL, 0);
    }
    char *out = malloc(total + 1);
    if (!out) {
        octo_fail("octo_detokenize: out of memory");
        return NULL;
    }
    size_t k = 0;
    for (int i = 0; i < n; i++)
        k += (size_t)piece(t, ids[i], special, i == 0 && t->add_space_prefix, out + k, total - k);
    if (t->clean_spaces) {
        /* clean_up_tokenization_spaces, in llama.cpp's three passes */
        char *x = out;
        size_t n1 = k, m = k ? 1 : 0;
        for (size_t i = 1; i < n1; i++) { /* " ?", " !", " .", " ," */
            char c = x[i];
            if (x[i - 1] == ' ' && (c == '?' || c == '!' || c == '.' || c == ',')) m--;
            x[m++] = c;
        }
        size_t n2 = m;
        m = n2 ? 1 : 0;
        for (size_t i = 1; i < n2; i++) { /* " ' " loses both spaces */
            char c = x[i];
            if (c == '\'' && i + 1 < n2 && x[i - 1] == ' ' && x[i + 1] == ' ') {
                m--;
                x[++i] = 0;
            }
            x[m++] = c;
        }
        size_t n3 = m;
        m = n3 ? 1 : 0;
        for (size_t i = 1; i < n3; i++) { /* " 's", " 'm", " 're", " 've" */
            char c = x[i];
            if (x[i - 1] == ' ' && c == '\'' && i + 1 < n3) {
                char c1 = x[i + 1];
                if (c1 == 's' || c1 == 'm') m--;
                else if (i + 2 < n3 && ((c1 == 'r' && x[i + 2] == 'e') || (c1 == 'v' && x[i + 2] == 'e'))) m--;
            }
            x[m++] = c;
        }
        k = m;
    }
    out[k] = 0;
    return out;
}

/* ---- added tokens and writing ---- */

int32_t octo_tokenizer_add_special(octo_tokenizer *t, const char *text) {
    if (!t || !text || !*text) {
        octo_fail("octo_tokenizer_add_special: expected a non-empty token text");
        return -1;
    }
    size_t len = strlen(text);
    int32_t id = tok_find(t, text, len);
    if (id >= 0) return id;
    if (t->n_vocab >= (1 << 30)) {
        octo_fail("octo_tokenizer_add_special: vocabulary full");
        return -1;
    }
    if (t->n_vocab == t->cap_vocab) {
        int32_t nc = t->cap_vocab * 2;
        tok_entry *nt = realloc(t->tok, (size_t)nc * sizeof *nt);
        if (!nt) goto oom;
        t->tok = nt;
        t->cap_vocab = nc;
    }
    id = t->n_vocab;
    tok_entry *te = &t->tok[id];
    memset(te, 0, sizeof *te);
    if (arena_append(t, text, len, &te->off)) goto oom;
    te->len = (uint32_t)len;
    te->type = OCTO_TOKEN_USER_DEFINED;
    te->attr = TA_USER_DEFINED | (t->rstrip_specials ? TA_RSTRIP : 0);
    if ((size_t)(t->n_vocab + 1) * 2 > (size_t)t->vhash_mask + 1) {
        if (vhash_build(t, (size_t)(t->n_vocab + 1) * 2)) goto oom;
        for (int32_t i = 0; i < t->n_vocab; i++) vhash_insert(t, i);
    }
    if (special_insert(t, id)) goto oom;
    t->n_vocab++;
    vhash_insert(t, id);
    return id;
oom:
    octo_fail("octo_tokenizer_add_special: out of memory");
    return -1;
}

void octo_tokenizer_write(const octo_tokenizer *t, gguf_writer *w) {
    if (!t || !w) return;
    int32_t n = t->n_vocab;
    gguf_set_str(w, KEY_MODEL, t->model);
    if (t->pre) gguf_set_str(w, KEY_PRE, t->pre);
    gguf_str *strs = malloc((size_t)(n > t->n_merges ? n : t->n_merges) * sizeof *strs + 1);
    float *scores = malloc((size_t)n * sizeof *scores);
    int32_t *types = malloc((size_t)n * sizeof *types);
    if (strs && scores && types) {
        for (int32_t i = 0; i < n; i++) {
            strs[i] = (gguf_str){t->tok[i].len, tok_str(t, i)};
            scores[i] = t->tok[i].score;
            types[i] = t->tok[i].type;
        }
        gguf_set_arr_strn(w, KEY_TOKENS, strs, (uint64_t)n);
        if (t->has_scores || t->kind == OCTO_TOK_SPM) gguf_set_arr(w, KEY_SCORES, GGUF_TYPE_FLOAT32, scores, (uint64_t)n);
        gguf_set_arr(w, KEY_TYPES, GGUF_TYPE_INT32, types, (uint64_t)n);
        if (t->kind == OCTO_TOK_BPE) {
            for (int32_t i = 0; i < t->n_merges; i++)
                strs[i] = (gguf_str){t->merges[i].len, t->marena + t->merges[i].off};
            gguf_set_arr_strn(w, KEY_MERGES, strs, (uint64_t)t->n_merges);
        }
    }
    free(strs);
    free(scores);
    free(types);
    for (int i = 0; i < t->n_extra; i++) {
        const extra_kv *e = &t->extra[i];
        gguf_kv kv;
        memset(&kv, 0, sizeof kv);
        kv.key = (gguf_str){strlen(e->key), e->key};
        kv.type = (gguf_type)e->type;
        if (e->type == GGUF_TYPE_STRING) {
            kv.v.str = (gguf_str){e->str_len, e->str};
        } else if (e->type == GGUF_TYPE_ARRAY) {
            kv.arr_type = (gguf_type)e->arr_type;
            kv.arr_n = e->arr_n;
            kv.arr_data = e->arr_data;
            gguf_str *ss = NULL;
            if (e->arr_type == GGUF_TYPE_STRING) {
                ss = malloc((size_t)(e->arr_n ? e->arr_n : 1) * sizeof *ss);
                if (!ss) continue;
                for (uint64_t j = 0; j < e->arr_n; j++) ss[j] = (gguf_str){e->arr_lens[j], e->arr_strs[j]};
                kv.arr_strs = ss;
            }
            gguf_set_kv(w, &kv);
            free(ss);
            continue;
        } else if (e->type == GGUF_TYPE_FLOAT32 || e->type == GGUF_TYPE_FLOAT64) {
            kv.v.f64 = e->f64;
        } else {
            kv.v.u64 = e->u64;
        }
        gguf_set_kv(w, &kv);
    }
}
