/* tokenizer.h - text <-> token ids, from the tokenizer a GGUF file carries.
 *
 * Two families, chosen by tokenizer.ggml.model:
 *  - "llama": SentencePiece-style BPE over scores, with byte fallback
 *    (<0xXX> tokens) and the leading-space rule (a "▁" is prepended, spaces
 *    become "▁").
 *  - "gpt2": byte-level BPE over ranked merges, after the pre-tokenizer
 *    regex named by tokenizer.ggml.pre ("default"/"gpt-2", "llama-bpe",
 *    "qwen2", ...).
 * Special (control / user-defined) tokens are matched in the text only when
 * parse_special is on: the conformance fixtures tokenize with it off, chat
 * templates and functional tokens need it on.  As in llama.cpp, user-defined
 * tokens (including those added with octo_tokenizer_add_special) are split
 * out even with parse_special off; only control and unknown tokens are then
 * plain text.  In SPM vocabularies the text after a special token gets the
 * leading-space prefix again, and Phi-3 vocabularies (by general.name) drop
 * the whitespace right after a special token, both as llama.cpp does.
 *
 * The tokenizer is immutable after loading except for
 * octo_tokenizer_add_special, so concurrent octo_tokenize calls are safe.
 */
#ifndef OCTO_TOKENIZER_H
#define OCTO_TOKENIZER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gguf/gguf.h"

typedef struct octo_tokenizer octo_tokenizer;

typedef enum { OCTO_TOK_SPM = 1, OCTO_TOK_BPE = 2 } octo_tok_kind;

/* Token types as GGUF stores them in tokenizer.ggml.token_type. */
enum {
    OCTO_TOKEN_NORMAL = 1,
    OCTO_TOKEN_UNKNOWN = 2,
    OCTO_TOKEN_CONTROL = 3,
    OCTO_TOKEN_USER_DEFINED = 4,
    OCTO_TOKEN_UNUSED = 5,
    OCTO_TOKEN_BYTE = 6,
};

/* Build from a GGUF file's tokenizer.* keys (copies what it needs, so the
 * file may be closed afterwards). NULL on error. */
octo_tokenizer *octo_tokenizer_load(const gguf_file *f);
void octo_tokenizer_free(octo_tokenizer *t);

octo_tok_kind octo_tokenizer_kind(const octo_tokenizer *t);
int32_t octo_tokenizer_n_vocab(const octo_tokenizer *t);
int32_t octo_tokenizer_bos(const octo_tokenizer *t); /* -1 if none */
int32_t octo_tokenizer_eos(const octo_tokenizer *t); /* -1 if none */
int32_t octo_tokenizer_eot(const octo_tokenizer *t); /* end of turn, -1 if none */
int32_t octo_tokenizer_unk(const octo_tokenizer *t); /* -1 if none */
int32_t octo_tokenizer_pad(const octo_tokenizer *t); /* -1 if none */
/* End-of-generation tokens: eos, eot ("<|end|>", "<|im_end|>", "<end_of_turn>",
 * "<|endoftext|>" when the file marks them). */
bool octo_tokenizer_is_eog(const octo_tokenizer *t, int32_t id);
/* tokenizer.ggml.add_bos_token (default: true for SPM, false for BPE). */
bool octo_tokenizer_add_bos(const octo_tokenizer *t);
/* tokenizer.ggml.add_eos_token (default false); octo_tokenize never appends
 * EOS itself. */
bool octo_tokenizer_add_eos(const octo_tokenizer *t);
const char *octo_tokenizer_pre(const octo_tokenizer *t); /* pre-tokenizer name */

/* Tokenize len bytes of text (any bytes: malformed UTF-8 is handled the way
 * llama.cpp handles it). add_bos puts the BOS token first (when the
 * vocabulary has one; callers normally pass octo_tokenizer_add_bos()).
 * Writes up to max ids to out and returns the number of tokens the text
 * needs (which may exceed max: call again with a larger buffer), or -1 on
 * error. */
int octo_tokenize(const octo_tokenizer *t, const char *text, size_t len, bool add_bos, bool parse_special,
                  int32_t *out, int max);

/* The text a token stands for, as bytes (SPM "▁" -> " ", <0x0A> -> "\n",
 * byte-level BPE mapped back to raw bytes). Control tokens give "" unless
 * special is true. Returns the number of bytes (may exceed cap: nothing
 * beyond cap is written), -1 for an invalid id. */
int octo_token_to_piece(const octo_tokenizer *t, int32_t id, bool special, char *buf, int cap);

/* Decode a sequence into a malloc'd NUL-terminated string (NULL, error set,
 * for an id outside the vocabulary).  Like llama.cpp's detokenizer: the SPM
 * prefix space of a leading token is dropped, and GPT-2-style vocabularies
 * apply clean_up_tokenization_spaces (" ," -> ","). */
char *octo_detokenize(const octo_tokenizer *t, const int32_t *ids, int n, bool special);

/* Raw vocabulary entry (the string stored in GGUF) and its type. */
const char *octo_token_text(const octo_tokenizer *t, int32_t id);
int octo_token_type(const octo_tokenizer *t, int32_t id);
/* Exact lookup of a vocabulary string; -1 if absent. */
int32_t octo_token_lookup(const octo_tokenizer *t, const char *text);

/* Append a special (user-defined, always parsed as one token when
 * parse_special is on) token; returns its id, or the existing id if the
 * text is already in the vocabulary. Used for functional tokens. */
int32_t octo_tokenizer_add_special(octo_tokenizer *t, const char *text);

/* Write every tokenizer.* key (model, pre, tokens, scores, token_type, merges,
 * special ids, add_bos...) to a GGUF writer, so a trained model carries the
 * tokenizer it was trained with (including added tokens). */
void octo_tokenizer_write(const octo_tokenizer *t, gguf_writer *w);

#endif
