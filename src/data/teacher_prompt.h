/* teacher_prompt.h - what octo says to a teacher model and how it reads the
 * answers (internal to the teacher; tests use it directly).
 *
 * Writing records follows the paper: the teacher sees the function set's
 * descriptions and schemas and writes a request of k steps with its plan and
 * calls as strict JSON. Models wrap JSON in prose and code fences, rename
 * fields, or get the schema wrong, so answers are searched for the JSON
 * object, normalised, and checked against the schema; whatever fails comes
 * back with a one-line reason that is sent to the teacher when asking again.
 */
#ifndef OCTO_DATA_TEACHER_PROMPT_H
#define OCTO_DATA_TEACHER_PROMPT_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "agent/funcset.h"
#include "data/record.h"

/* Plan length of request index i: 1..5 in turn, so each is equally often. */
int octo_teacher_plan_len(long index);

/* Prompts for writing records (malloc'd). The user prompt for request
 * `index` asks for octo_teacher_plan_len(index) steps, names one function
 * the plan must use (every function gets its turn) and a style. */
char *octo_teacher_gen_system(const octo_funcset *fs);
char *octo_teacher_gen_user(const octo_funcset *fs, long index, uint64_t seed);

/* The teacher's answer as a canonical record object {"query", "steps",
 * "calls", "domains"}, or NULL with the reason in why. k: steps required. */
cJSON *octo_teacher_parse_record(const octo_funcset *fs, const char *answer, int k, char *why, size_t cap);

/* Prompts for judging one record (malloc'd). */
char *octo_teacher_judge_system(const octo_funcset *fs);
char *octo_teacher_judge_user(const octo_record *r);
/* 1 valid, 0 invalid (*reason malloc'd, may be NULL), -1 no verdict found
 * (why says what was wrong with the answer). */
int octo_teacher_parse_verdict(const char *answer, char **reason, char *why, size_t cap);

/* A JSON object in free text: code fences, prose and a <think>...</think>
 * block before it are skipped. The first object that has `key` (at its top
 * level or inside a one-member wrapper) wins, else the first object at all;
 * key NULL: the first object. Returns a parsed object or NULL. */
cJSON *octo_json_find_object(const char *text, const char *key);

#endif
