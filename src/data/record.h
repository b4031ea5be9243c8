/* record.h - the canonical dataset record, one JSON object per line:
 *
 *   {"query": "...", "steps": ["...", ...],
 *    "calls": [{"function": "name", "arguments": {...}}, ...],
 *    "domains": ["android", ...]}
 *
 * steps and calls are aligned one to one, in execution order. Every stage
 * (generator, teacher, converters, validator, renderers, eval) reads and
 * writes this, so each can be run and inspected alone.
 */
#ifndef OCTO_DATA_RECORD_H
#define OCTO_DATA_RECORD_H

#include <stdbool.h>
#include <stdio.h>
#include <cjson/cJSON.h>

typedef struct {
    char *function;
    cJSON *arguments; /* object (owned) */
} octo_call;

typedef struct {
    char *query;
    char **steps;
    int n_steps;
    octo_call *calls;
    int n_calls;
    char **domains;
    int n_domains;
    cJSON *extra; /* other fields of the line, kept on rewrite (owned, may be NULL) */
} octo_record;

/* From a parsed line. Returns 0, or -1 with a reason in why. */
int octo_record_from_json(const cJSON *j, octo_record *r, char *why, size_t cap);
cJSON *octo_record_to_json(const octo_record *r);
/* One line of JSONL (with the newline). */
int octo_record_write(FILE *f, const octo_record *r);
void octo_record_free(octo_record *r);

/* Read a whole JSONL file. Bad lines: error "FILE:LINE: reason" (strict) or
 * skipped and counted (n_bad). Returns 0 or -1. */
int octo_records_read(const char *path, bool strict, octo_record **out, int *n_out, int *n_bad);
void octo_records_free(octo_record *rs, int n);

#endif
