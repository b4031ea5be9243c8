/* tok_internal.h - state shared by the tokenizer's source files.
 *
 * The vocabulary lives in one text arena (every token NUL-terminated, so
 * octo_token_text can hand out pointers) indexed by an open-addressing hash
 * table; BPE merges get a second table keyed by the concatenation of their
 * two halves, which is exactly the byte range two adjacent symbols cover
 * during merging, so lookups need no temporary strings.
 */
#ifndef OCTO_TOKENIZER_INTERNAL_H
#define OCTO_TOKENIZER_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tokenizer/tokenizer.h"

/* Token attributes, as llama.cpp derives them from the GGUF token types and
 * a few name-based rules; the tokenizer's behaviour depends on these, not on
 * the stored types. */
enum {
    TA_UNKNOWN = 1 << 0,
    TA_UNUSED = 1 << 1,
    TA_NORMAL = 1 << 2,
    TA_CONTROL = 1 << 3,
    TA_USER_DEFINED = 1 << 4,
    TA_BYTE = 1 << 5,
    TA_LSTRIP = 1 << 7,
    TA_RSTRIP = 1 << 8,
    TA_EOG = 1 << 12, /* ends generation */
};

/* Pre-tokenizer families of byte-level BPE (each a fixed split pipeline). */
typedef enum {
    PRE_NONE = 0,  /* SPM: no pre-tokenizer */
    PRE_DEFAULT,   /* punctuation runs, GPT-2, number runs, digit triples */
    PRE_GPT2,      /* the GPT-2 pattern */
    PRE_LLAMA3,    /* Llama 3 pattern: digits in groups of up to three */
    PRE_QWEN2,     /* Llama 3 pattern with single digits */
    PRE_STARCODER, /* single digits, then the GPT-2 pattern */
} pre_kind;

typedef struct {
    uint32_t off, len; /* text in the arena */
    float score;
    int32_t type;      /* GGUF token type as stored (written back unchanged) */
    uint32_t attr;     /* TA_* */
} tok_entry;

typedef struct {
    uint32_t off;       /* "first second" in the merge arena */
    uint32_t first_len; /* the space sits at off + first_len */
    uint32_t len;       /* whole string, space included */
} merge_entry;

/* A tokenizer.* key we do not interpret, kept to be written back. */
typedef struct {
    char *key;
    int type, arr_type;
    uint64_t u64; /* integers and bool */
    double f64;
    char *str;
    size_t str_len;
    uint64_t arr_n;
    void *arr_data;    /* numeric arrays */
    char **arr_strs;   /* string arrays */
    size_t *arr_lens;
} extra_kv;

struct octo_tokenizer {
    octo_tok_kind kind;
    char *model;
    char *pre; /* NULL when the file names none */
    pre_kind pre_type;

    int32_t n_vocab, cap_vocab;
    tok_entry *tok;
    char *arena;
    size_t arena_len, arena_cap;
    uint32_t *vhash; /* id + 1, 0 = empty */
    uint32_t vhash_mask;
    bool has_scores;

    int32_t n_merges;
    merge_entry *merges;
    char *marena;
    uint32_t *mhash; /* merge index + 1 (= rank + 1) */
    uint32_t mhash_mask;

    int32_t bos, eos, eot, eom, unk, pad;
    bool add_bos, add_eos, add_space_prefix, clean_spaces, ignore_merges;
    bool rstrip_specials; /* Phi-3: whitespace after special tokens is dropped */

    int32_t *special; /* CONTROL / USER_DEFINED / UNKNOWN ids, longest text first */
    int32_t n_special;

    int32_t byte_tok[256]; /* SPM byte-fallback token per byte (-1: none) */

    extra_kv *extra;
    int n_extra;
};

/* Growable id list. */
typedef struct {
    int32_t *v;
    size_t n, cap;
} tokvec;

int tokvec_push(tokvec *v, int32_t id);

/* Exact vocabulary lookup of n bytes; -1 if absent. */
int32_t tok_find(const octo_tokenizer *t, const char *s, size_t n);
/* Rank of merging s[0..first_len) with s[first_len..len); -1 if none. */
int32_t tok_merge_rank(const octo_tokenizer *t, const char *s, size_t first_len, size_t len);

static inline const char *tok_str(const octo_tokenizer *t, int32_t id) { return t->arena + t->tok[id].off; }

/* SentencePiece-style tokenization of one text fragment (spaces already
 * escaped as U+2581, prefix already applied). */
int spm_tokenize(const octo_tokenizer *t, const char *text, size_t len, tokvec *out);
/* Byte-level BPE of one fragment: pre-tokenize, byte-encode, merge. */
int bpe_tokenize(const octo_tokenizer *t, const char *text, size_t len, tokvec *out);

/* Pre-tokenizer: split n code points into words, returned as a malloc'd
 * array of lengths (in code points) in *lens. Returns the count or -1. */
long pretok_split(pre_kind kind, const uint32_t *cpts, size_t n, size_t **lens);

/* The merge queue both tokenizers share: candidate pairs of adjacent
 * symbols, popped smallest key first and, on equal keys, leftmost first
 * (SentencePiece keys by -score, BPE by merge rank). size is the pair's
 * byte length when queued, so a popped pair whose symbols have changed
 * since is recognised as stale. */
typedef struct {
    int left, right;
    double key;
    size_t size;
} tok_bigram;

typedef struct {
    tok_bigram *v;
    size_t n, cap;
} tok_queue;

int tok_queue_push(tok_queue *q, tok_bigram b); /* 0, or -1 out of memory */
tok_bigram tok_queue_pop(tok_queue *q);         /* q->n > 0 */

#endif
