/* dataset.h - training examples as token ids, and batches drawn from them.
 *
 * Sources:
 *  - chat JSONL: {"messages": [{"role": "system"|"user"|"assistant",
 *    "content": "..."}, ...]} per line, rendered with the model's chat
 *    template (chat_template.h); loss only on assistant tokens (and the
 *    end-of-turn token that closes them), prompt tokens masked;
 *    {"prompt": "...", "completion": "..."} is accepted as a one-turn chat;
 *  - plain text files (pretraining): next-token loss on every token, cut
 *    into seq_len windows.
 * Bad lines (unparsable, no assistant turn, longer than seq_len) fail with
 * "FILE:LINE: reason", or with skip_bad are skipped and counted.
 *
 * Batches: examples are shuffled by seed each epoch (a permutation that
 * depends only on seed and epoch, so resume reproduces it) and packed
 * first-fit into B rows of T tokens; packed examples get their own segment
 * id and positions from 0 so nothing leaks between them (octo_batch in
 * train_model.h).  Segment ids count from 0 in each row; the unused tail of
 * a row is one more segment of pad tokens with no loss, so seg and pos are
 * never negative.  targets[i] is -1 at the last token of every segment.
 *
 * Chat tokenization (dataset.c): BOS when the tokenizer adds one; each
 * special token of the template markup is looked up as one token; the text
 * between two of them is tokenized as one piece with special-token parsing
 * off, so message content cannot inject "<|end|>" while ordinary text gives
 * the same ids as tokenizing the whole rendered text with parsing on (what
 * inference does with octo_chat_render_prompt's output).  Where the answer
 * starts inside such a piece, the piece's ids are checked to begin with the
 * ids of the prompt part alone, so the loss mask falls exactly on the
 * answer's tokens.  Texts are read line by line (JSONL) or in 1 MiB pieces
 * (plain text) and dropped once tokenized.
 */
#ifndef OCTO_TRAIN_DATASET_H
#define OCTO_TRAIN_DATASET_H

#include <stdbool.h>
#include <stdint.h>

#include "tokenizer/tokenizer.h"
#include "train/train_model.h"

typedef struct {
    int32_t *tokens; /* n tokens */
    uint8_t *loss;   /* loss[i] = 1: predict tokens[i] from tokens[..i-1] */
    int n;
} octo_example;

typedef struct octo_dataset {
    octo_example *ex;
    int n_ex;
    int64_t n_tokens;
    int n_skipped;
    int64_t n_loss;  /* tokens with loss[i] = 1 */
    int32_t pad;     /* token that fills unused batch positions (pad, else eos, else 0) */
    const char *chat_template; /* canonical template name used (chat), NULL for text */
} octo_dataset;

typedef struct {
    const octo_tokenizer *tok;
    const char *chat_template; /* name ("phi3", "chatml", ...) or the GGUF template text; NULL: from tok's model */
    int seq_len;
    bool skip_bad;
} octo_dataset_opts;

octo_dataset *octo_dataset_load_chat(const char *path, const octo_dataset_opts *o);
octo_dataset *octo_dataset_load_text(const char *const *paths, int n_paths, const octo_dataset_opts *o);
void octo_dataset_free(octo_dataset *d);

/* Batches of one epoch, in a fixed order given (seed, epoch). */
typedef struct octo_batcher octo_batcher;
octo_batcher *octo_batcher_new(const octo_dataset *d, int B, int T, uint64_t seed);
/* Fill b (arrays allocated by the batcher) with batch number `index` of
 * `epoch`; returns 0, 1 when index >= octo_batcher_n_batches, -1 on error. */
int octo_batcher_get(octo_batcher *bt, int epoch, int index, octo_batch *b);
/* Batches per epoch: the same in every epoch (epoch 0's packing sets it;
 * another epoch's packing is re-drawn or its rows split to fit it). */
int octo_batcher_n_batches(const octo_batcher *bt);
void octo_batcher_free(octo_batcher *bt);

#endif
