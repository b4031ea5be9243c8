/* bpe_train.h - learning a byte-level BPE vocabulary from text.
 *
 * The public interface (octo_bpe_trainer_*, octo_bpe_params) is in octo.h;
 * this header adds what the CLI and the tests share beyond it.
 *
 * How it works (bpe_train.c):
 *  1. Text is cut at the special tokens (they never take part in merges),
 *     decoded to code points exactly as the tokenizer does (malformed UTF-8
 *     becomes U+FFFD), split into words by the chosen pre-tokenizer
 *     (pretok.c, the same code the tokenizer runs), and every distinct word
 *     is counted.  Only the word table is kept, never the text.
 *  2. Each distinct word starts as its bytes.  Pair counts (weighted by
 *     word frequency) live in a hash table, each pair with the list of words
 *     it occurs in; a max-heap keyed (count desc, left id, right id) picks
 *     the next merge, with stale entries fixed when popped.  A merge rewrites
 *     only the words in its list and adjusts the counts of the neighbouring
 *     pairs, so a merge costs what it touches, not a recount of the corpus.
 *  3. Tokens: the 256 byte tokens in GPT-2's bytes_to_unicode order, then
 *     one per merge (a merge whose text already exists reuses that token),
 *     then the specials as CONTROL tokens.
 */
#ifndef OCTO_TOKENIZER_BPE_TRAIN_H
#define OCTO_TOKENIZER_BPE_TRAIN_H

#include "octo.h"

/* The specials used when octo_bpe_params.specials is NULL: an end of text
 * and octo's compact chat format (chat_template.h, template "octo"). */
extern const char *const octo_bpe_default_specials[];
extern const int octo_bpe_n_default_specials;

/* The Jinja text of octo's chat format, stored as tokenizer.chat_template
 * when the specials include <|user|>, <|assistant|> and <|end|>. */
extern const char octo_bpe_octo_chat_template[];

#endif
