/* render.h - the text the planner and the action model are trained on and
 * prompted with, from canonical records (data/record.h). Training
 * (`octo data render` -> chat JSONL -> `octo train`, template "octo") and
 * inference (planner.c, actor.c) both go through these functions, so the
 * bytes a model sees at inference are the bytes it was trained on.
 *
 * Chat template "octo":  <|user|>{user}<|end|><|assistant|>{assistant}<|end|>
 *
 * Planner (the paper's format):
 *   user      = the request
 *   assistant = {step 1}<nexa_split>{step 2}...<nexa_split>{step n}<nexa_end>
 * Action model (Octopus v2 style, one functional token per function):
 *   user      = the step, plus "\nObservation: {text}" when the previous
 *               call returned something
 *   assistant = <fn_NAME>{compact JSON arguments}<nexa_end>
 * The functional token is named after the function, not numbered
 * (<nexa_3>): renaming, reordering or merging function sets (one model
 * serving several domains) then never changes what a token means.
 * Arguments are written in the order the function's schema lists its
 * properties (nested objects too), the order constrained decoding enforces.
 */
#ifndef OCTO_AGENT_RENDER_H
#define OCTO_AGENT_RENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <cjson/cJSON.h>

#include "agent/funcset.h"
#include "data/record.h"
#include "tokenizer/tokenizer.h"

#define OCTO_TOK_SPLIT "<nexa_split>"
#define OCTO_TOK_END "<nexa_end>"
#define OCTO_FN_PREFIX "<fn_"
#define OCTO_MAX_STEPS 5
#define OCTO_MAX_STEP_BYTES 256
#define OCTO_MAX_STRING_ARG 512 /* longest string argument (bytes) */
#define OCTO_MAX_OBSERVATION 1024 /* longest observation put in a prompt */

typedef enum { OCTO_RENDER_PLANNER = 1, OCTO_RENDER_ACTION = 2 } octo_render_kind;

/* "<fn_NAME>" (malloc'd). */
char *octo_fn_token(const char *fn_name);
/* The special tokens the formats need, for kinds (a mask of
 * octo_render_kind): the chat markup <|user|> <|end|> <|assistant|>, then
 * <nexa_split> (planner), <nexa_end>, then <fn_NAME> for each function of
 * fs in set order (action). malloc'd array of malloc'd strings; free with
 * octo_strings_free. */
char **octo_agent_tokens(const octo_funcset *fs, int kinds, int *n);
void octo_strings_free(char **s, int n);
/* Add them to a tokenizer (before training; tokens already there keep
 * their ids). Returns 0 or -1. */
int octo_agent_add_tokens(octo_tokenizer *t, const octo_funcset *fs, int kinds);
/* The tokenizer of in_path (any GGUF) plus these tokens, written as a
 * vocabulary-only GGUF (for `octo model init --vocab-from`). */
int octo_agent_write_vocab(const char *in_path, const octo_funcset *fs, int kinds, const char *out_path);

/* The prompt part of the template: "<|user|>{user}<|end|><|assistant|>"
 * (octo_chat_render_prompt with template "octo"). */
char *octo_render_prompt(const char *user);
char *octo_render_plan_answer(char *const *steps, int n, char *why, size_t cap);
char *octo_render_action_user(const char *step, const char *observation);
/* <fn_NAME>{args in schema order}<nexa_end>; NULL with a reason in why when
 * the arguments do not fit the schema or the constrained grammar. */
char *octo_render_action_answer(const octo_function *f, const cJSON *args, char *why, size_t cap);
/* Arguments rewritten in schema order (a new object), or NULL when a key is
 * not in the schema. */
cJSON *octo_args_canonical(const cJSON *schema, const cJSON *args, char *why, size_t cap);

/* Write one record's training examples as chat JSONL lines
 * ({"messages":[{"role":"user",...},{"role":"assistant",...}]}): one line
 * for the planner, one per call for the action model (fs required). An
 * "observations" array in the record (aligned with calls: what call i
 * returned) feeds call i+1's prompt. Returns the number of lines, or -1
 * with a reason in why (nothing written). */
int octo_render_record(const octo_record *r, const octo_funcset *fs, octo_render_kind kind, FILE *out, char *why,
                       size_t cap);

#endif
