/* generator.h - the offline training-data generator (`octo data gen`).
 *
 * It writes canonical records (record.h) for one or more function sets
 * without any network, by composing requests the way people write them:
 * per-function phrasings from data files (phrasings/<set>/, format in
 * phrasings/README.md), slot values of many kinds and surface forms (dates
 * and times written a dozen ways, names, places, numbers, phone numbers,
 * e-mail addresses), connectors and orderings ("then", "once that's done",
 * "before you X, Y" which reverses the order), preambles and small talk,
 * arguments that chain from one call to the next ("...and email it to my
 * boss"), and a little casing and typo noise. Arguments are normalised as
 * the schema describes them (dates YYYY-MM-DD, times HH:MM, durations in
 * seconds) and every argument value is mentioned in the query.
 *
 * Holdout: query phrasings, preambles and long value lists are split by a
 * hash of their text into a train part and a disjoint test part (about a
 * fifth), so a test set can use phrasings never seen in training.
 *
 * Deterministic: the same sets, phrasings and options give the same bytes.
 */
#ifndef OCTO_DATA_GENERATOR_H
#define OCTO_DATA_GENERATOR_H

#include <stdint.h>
#include <stdio.h>
#include <cjson/cJSON.h>

#include "agent/funcset.h"

typedef struct octo_phrasebook octo_phrasebook;

/* Load the phrasings of a function set from ROOT/<fs->name>/ (one file per
 * function, values/, compose.txt) and ROOT/common/ (shared values and
 * composition parts). Checks them against the set's schemas: every slot
 * names a parameter, required parameters appear in every phrasing, every
 * function has phrasings. Errors name FILE:LINE. fs must outlive the book. */
octo_phrasebook *octo_phrasebook_load(const char *root, const octo_funcset *fs);
void octo_phrasebook_free(octo_phrasebook *pb);
/* Number of query phrasings (verb + sentence) of a function, for part =
 * 0 all, 1 train, 2 test; -1 if the function is unknown. */
int octo_phrasebook_count(const octo_phrasebook *pb, const char *function, int part);

/* Default phrasings root for a function-set file: <dir of file>/../phrasings
 * if it exists, else $OCTO_DATA_DIR/phrasings, else ./phrasings. malloc'd. */
char *octo_phrasings_root(const char *funcset_path);

typedef enum { OCTO_HOLDOUT_NONE = 0, OCTO_HOLDOUT_TRAIN = 1, OCTO_HOLDOUT_TEST = 2 } octo_holdout;

typedef struct {
    uint64_t seed;
    int n;              /* records to write; <= 0: 800 x number of functions */
    octo_holdout holdout;
    double mix;         /* with several sets: share of records mixing domains (default 0.5) */
    double noise;       /* rate of casing / typo noise per record (default 0.04) */
    double chain;       /* chance that a step is chosen to use the previous call's result (default 0.35) */
    double open_values; /* chance that a string value from a list is replaced by random words of
                           its shape (common/words.txt), so that values must be copied, not
                           recalled; never under holdout test (default 0) */
    double observations; /* chance that a record carries made-up outputs of its calls
                            ("observations"), which the action model's examples then show
                            (default 0) */
} octo_gen_opts;

void octo_gen_opts_default(octo_gen_opts *o);

typedef struct octo_generator octo_generator;

/* A generator over n_sets (set, phrasebook) pairs; both must outlive it. */
octo_generator *octo_generator_new(const octo_funcset *const *sets, octo_phrasebook *const *books, int n_sets,
                                   const octo_gen_opts *o);
void octo_generator_free(octo_generator *g);
/* Record number i (0-based) of the run, as a JSON object {"query", "steps",
 * "calls", "domains", "template"}; its plan length is fixed by i so lengths
 * 1-5 come equally often. NULL with the error set if no valid record could
 * be composed. The caller frees it. */
cJSON *octo_generator_record(octo_generator *g, int i);
/* How many drafts were drawn again because a rule of data/validate.h
 * rejected them, per rule (by_rule has OCTO_RULE_N entries). */
void octo_generator_redrawn(const octo_generator *g, int *by_rule);
/* Write o->n records as JSONL. Returns the number written or -1. */
int octo_generator_write(octo_generator *g, FILE *out);

#endif
