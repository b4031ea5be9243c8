/* validate.h - rule checks of canonical records against a function set
 * (`octo data validate`), and the optional teacher judge.
 *
 * The rules (docs/data.md has them with examples):
 *   record     the line parses as a canonical record: a query, steps and
 *              calls aligned one to one (record.h)
 *   length     at most max_steps steps (when set)
 *   function   every call names a function of the set
 *   arguments  every call's arguments satisfy the function's schema
 *   step       a step that names a function of the set by its identifier
 *              names its own call's function
 *   grounding  every free-text string argument (not an enum, not a
 *              normalised date/time/number) appears in the step it belongs
 *              to (the action model sees only the step) and in the query
 *   order      the order of the calls agrees with the request's connectors:
 *              "before you X, Y" and "X after/once Y" put Y's call first,
 *              otherwise calls follow the order the request mentions them
 * Each broken rule gives one reason "rule: what is wrong".
 */
#ifndef OCTO_DATA_VALIDATE_H
#define OCTO_DATA_VALIDATE_H

#include <stdbool.h>
#include <stdio.h>
#include <cjson/cJSON.h>

#include "agent/funcset.h"
#include "data/record.h"
#include "data/teacher.h"

typedef enum {
    OCTO_RULE_RECORD,
    OCTO_RULE_LENGTH,
    OCTO_RULE_FUNCTION,
    OCTO_RULE_ARGUMENTS,
    OCTO_RULE_STEP,
    OCTO_RULE_GROUNDING,
    OCTO_RULE_ORDER,
    OCTO_RULE_JUDGE,
    OCTO_RULE_N
} octo_rule;

const char *octo_rule_name(octo_rule r);

typedef struct {
    bool grounding; /* default true */
    bool order;     /* default true */
    int max_steps;  /* 0: no limit (default) */
    FILE *report;   /* octo_validate_file: "FILE:LINE: reasons" of rejected lines (NULL: none) */
    int max_report; /* at most this many report lines (0: all) */
} octo_validate_opts;

void octo_validate_opts_default(octo_validate_opts *o);

/* Check one record. Appends one "rule: reason" string per problem to
 * reasons (a cJSON array; may be NULL) and counts them in by_rule (may be
 * NULL). Returns the number of problems (0: keep). */
int octo_validate_record(const octo_funcset *fs, const octo_record *r, const octo_validate_opts *o, cJSON *reasons,
                         int *by_rule);

typedef struct {
    int n_in, n_kept, n_rejected;
    int by_rule[OCTO_RULE_N]; /* records rejected for each rule (a record may count under several) */
    int n_judged, n_judge_unanswered;
} octo_validate_stats;

/* Validate a JSONL file: kept lines go to kept_path, rejected ones (the
 * original object with "reasons": [...]) to rejected_path (both atomic,
 * either may be NULL). judge (may be NULL) asks the teacher about every
 * record the rules kept; a "no" rejects it, no answer keeps it (counted).
 * Returns 0 or -1 on I/O errors. */
int octo_validate_file(const octo_funcset *fs, const char *in_path, const char *kept_path, const char *rejected_path,
                       const octo_validate_opts *o, const octo_teacher_opts *judge, octo_validate_stats *st);

/* Lowercase ASCII, every run of non-alphanumeric ASCII as one space, trimmed
 * (bytes >= 0x80 kept): the form text is compared in. malloc'd. */
char *octo_text_normalize(const char *s);

#endif
