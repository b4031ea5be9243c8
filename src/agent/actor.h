/* actor.h - the action agent: step (+ observation) -> one function call
 * (octo_actor_act in octo.h), and the parsing of its output, shared with tests.
 */
#ifndef OCTO_AGENT_ACTOR_H
#define OCTO_AGENT_ACTOR_H

#include <stdint.h>

#include "octo.h"
#include "agent/funcset.h"
#include "tokenizer/tokenizer.h"

/* Read generated tokens as <fn_NAME> JSON <nexa_end>: fn_ids[i] is the
 * functional token of fs->fns[i]. The arguments must parse and validate.
 * Returns 0 with call filled, or -1 (error set: "maps to no function",
 * "arguments: ..."). */
int octo_act_parse(const octo_tokenizer *t, const octo_funcset *fs, const int32_t *fn_ids, int32_t end_id,
                   const int32_t *ids, int n, octo_agent_call *call);

/* The function set the actor was made with. */
const octo_funcset *octo_actor_funcset(const octo_actor *a);
/* The prompt of the last octo_actor_act (owned by the actor; NULL before). */
const char *octo_actor_last_prompt(const octo_actor *a);

#endif
