/* constrain.h - constrained decoding: at each step only tokens whose text
 * keeps the output a valid prefix may be chosen, so what the agents produce
 * always parses, even from an untrained model.
 *
 * Two grammars over a model's vocabulary:
 *  - action: exactly one functional token of the set (<fn_NAME>), then the
 *    arguments as JSON following that function's schema (json_fsm.h), then
 *    the end token <nexa_end>;
 *  - planner: 1..max_steps steps of text separated by <nexa_split>, ended by
 *    <nexa_end>; a step is one line of printable text with at least one
 *    non-space character, at most max_step_bytes bytes.
 * Special tokens are only ever chosen where the grammar names them; text
 * tokens are checked byte by byte against the grammar.
 *
 * The token texts are computed once per model (octo_vocab_index) and shared
 * by every constraint on that model. Greedy picking scans the logits once
 * and checks a token against the grammar only when it beats the best valid
 * token so far: the result is the highest-logit valid token (what walking
 * the tokens in descending logit order and taking the first valid one
 * gives) at the cost of one pass over the logits plus a handful of checks.
 */
#ifndef OCTO_AGENT_CONSTRAIN_H
#define OCTO_AGENT_CONSTRAIN_H

#include <stdbool.h>
#include <stdint.h>

#include "octo.h"
#include "agent/funcset.h"
#include "agent/json_fsm.h"
#include "model/sampler.h"
#include "tokenizer/tokenizer.h"

typedef struct {
    int32_t n_vocab;
    uint32_t *off;   /* [n_vocab + 1] into bytes */
    char *bytes;     /* the text of each token, as generated text */
    uint8_t *usable; /* 1: a non-empty text token the grammars may emit */
} octo_vocab_index;

octo_vocab_index *octo_vocab_index_new(const octo_tokenizer *t);
void octo_vocab_index_free(octo_vocab_index *vi);

typedef struct octo_constraint octo_constraint;

/* fn_ids[i]: the functional token of fs->fns[i]; end_id: <nexa_end>.
 * max_string: longest string argument in bytes (<= 0: 256). NULL with the
 * error set when a schema cannot be compiled. */
octo_constraint *octo_con_action_new(const octo_vocab_index *vi, const octo_funcset *fs, const int32_t *fn_ids,
                                     int32_t end_id, int max_string);
/* max_steps <= 0: 5; max_step_bytes <= 0: 256. */
octo_constraint *octo_con_planner_new(const octo_vocab_index *vi, int32_t split_id, int32_t end_id, int max_steps,
                                      int max_step_bytes);
void octo_con_free(octo_constraint *c);
void octo_con_reset(octo_constraint *c);

/* Tokens the output may still take; when few are left (64 for an action,
 * 8 for a plan) the grammar narrows to the shortest way to finish, so the
 * output completes within the budget whenever that is at all possible. */
void octo_con_set_budget(octo_constraint *c, int tokens_left);
bool octo_con_allows(const octo_constraint *c, int32_t tok);
/* Advance over tok; -1 if the grammar does not allow it. */
int octo_con_accept(octo_constraint *c, int32_t tok);
/* The end token has been accepted. */
bool octo_con_done(const octo_constraint *c);
/* The function chosen so far (action), or -1. */
int octo_con_function(const octo_constraint *c);

/* The highest-logit allowed token, or -1 (error set) if the vocabulary has
 * none (a vocabulary without the byte-level tokens the grammar needs). */
int32_t octo_con_pick_greedy(const octo_constraint *c, const float *logits);
/* Sample among the allowed tokens: the logits of all others are set to
 * -inf in scratch (n_vocab floats), then the sampler draws. */
int32_t octo_con_pick_sample(const octo_constraint *c, const float *logits, float *scratch, octo_sampler *s);

/* ---- the decode loop both agents share ---- */
typedef struct {
    int n_prompt, n_generated;
    double prompt_ms;     /* evaluating the prompt */
    double forward_ms;    /* evaluating generated tokens */
    double constrain_ms;  /* choosing tokens (grammar checks and picking) */
} octo_con_stats;

/* Evaluate prompt (special tokens parsed, BOS as the model says), then
 * generate up to max_tokens tokens. With con, tokens are chosen within the
 * grammar until it is done; without, freely, until stop_id, an
 * end-of-generation token or <|end|>. *ids (malloc'd) gets the generated
 * tokens (stop_id included when it came, the end of turn not). Returns 0
 * or -1. */
int octo_con_generate(octo_ctx *ctx, const char *prompt, octo_constraint *con, int32_t stop_id,
                      const octo_sampler_params *sp, int max_tokens, int32_t **ids, int *n_ids,
                      octo_con_stats *stats);

#endif
