/* gen_internal.h - what the generator's three parts share: the loaded
 * phrasebook (phrasebook.c), the slot realiser (slots.c) and the composer
 * (generator.c). Not a public interface.
 */
#ifndef OCTO_DATA_GEN_INTERNAL_H
#define OCTO_DATA_GEN_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "data/generator.h"

/* A line of a data file, with the hash that places it in the train or the
 * test part. */
typedef struct {
    char *text;
    bool held; /* in the test part */
} pb_line;

typedef struct {
    pb_line *v;
    int n, cap;
} pb_list;

/* A list of values of one kind: lines "value | surface | surface ...". */
typedef struct {
    char *name;
    pb_list lines;
} pb_kind;

/* "chain PARAM < PRODUCER = VALUE ; REF | REF": when PRODUCER runs just
 * before, PARAM can take VALUE (a literal, or {arg} of the producer's call)
 * and the query refers to it with one of REFs ("it", "the photo"). */
typedef struct {
    char *param;
    char *producer;
    char *value;
    pb_list refs;
} pb_chain;

/* "say PARAM VALUE = SURFACE | SURFACE": how an enum value is written. */
typedef struct {
    char *param;
    char *value;
    pb_list surfaces;
} pb_say;

typedef struct {
    const octo_function *fn;
    char **kind;       /* per parameter: "date", "person|email", ... (NULL: from the type) */
    pb_list verbs;     /* imperative verb phrases, lower case, no final punctuation */
    pb_list sentences; /* whole requests with their punctuation */
    pb_list steps;     /* how the planner states the step */
    pb_chain *chains;
    int n_chains;
    pb_say *says;
    int n_says;
} pb_func;

struct octo_phrasebook {
    const octo_funcset *fs;
    pb_func *funcs; /* aligned with fs->fns */
    pb_kind *kinds;
    int n_kinds;
    /* composition parts */
    pb_list preamble, closer, wrap, conn, sconn, pair;
    /* common/words.txt: filler for open values (may be empty) */
    pb_list words;
};

/* Deterministic random numbers (splitmix64). */
typedef struct {
    uint64_t s;
} gen_rng;

static inline uint64_t gen_next(gen_rng *r) {
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static inline int gen_below(gen_rng *r, int n) { return n <= 0 ? 0 : (int)(gen_next(r) % (uint64_t)n); }
static inline double gen_unit(gen_rng *r) { return (double)(gen_next(r) >> 11) / 9007199254740992.0; }

uint64_t gen_hash(const char *s);

/* Pick a line of the list allowed in the holdout part (any line when the
 * list is too short to have been split). NULL if the list is empty. */
const pb_line *pb_pick(const pb_list *l, octo_holdout part, gen_rng *r);
const pb_kind *pb_find_kind(const octo_phrasebook *pb, const char *name);

/* A realised slot value: the argument, how a step states it, how the query
 * says it. */
typedef struct {
    cJSON *arg;
    char step[256];
    char query[256];
} gen_value;

/* Realise a value for parameter p of function f. Returns 0 or -1 (error set). */
/* A made-up output of call fn(args) (observe.c; malloc'd, NULL when out of memory). */
char *gen_observation(const char *fn, const cJSON *args, const pb_list *words, gen_rng *r);

int gen_slot_value(const octo_phrasebook *pb, const pb_func *f, int p, octo_holdout part, double open_values,
                   gen_rng *r, gen_value *out);
/* True if kind names a computed kind (date, time, duration, ...). */
bool gen_builtin_kind(const char *kind);

#endif
