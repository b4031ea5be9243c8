/* planner.h - the planner agent: request -> 1..5 steps (octo_planner_plan in
 * octo.h), and the parsing of its output, shared with tests.
 */
#ifndef OCTO_AGENT_PLANNER_H
#define OCTO_AGENT_PLANNER_H

#include <stdint.h>

#include "octo.h"
#include "tokenizer/tokenizer.h"

/* Split generated tokens into steps at split_id, up to end_id (or the end
 * of ids when it never came: unconstrained output). Text of each step is
 * trimmed. Returns the number of steps, or -1 (error set) for an empty step
 * or more than max_steps. */
int octo_plan_parse(const octo_tokenizer *t, const int32_t *ids, int n, int32_t split_id, int32_t end_id,
                    int max_steps, char ***steps);

/* Shared by planner.c and actor.c: a token's text appended to a buffer. */
int octo_agent_append_piece(const octo_tokenizer *t, int32_t id, char **buf, size_t *len, size_t *cap);

#endif
