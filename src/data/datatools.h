/* datatools.h - whole-file dataset operations: split, stats, dedupe
 * (`octo data split|stats|dedupe`).
 *
 * They work on JSONL files of canonical records (record.h) and copy lines
 * byte for byte (nothing a later stage added is lost). Every output is
 * written atomically.
 */
#ifndef OCTO_DATA_DATATOOLS_H
#define OCTO_DATA_DATATOOLS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "octo.h"

#define OCTO_SPLIT_MAX_PARTS 8

/* Name of part i of n: train/valid/test for 3 parts, train/test for 2,
 * train for 1, part1..partN otherwise. Files are PREFIX.<name>.jsonl. */
const char *octo_split_part_name(int i, int n);

/* Split the non-blank lines of in_path into n_parts files by ratios (which
 * must sum to 1): the lines are shuffled with seed, part k takes its share
 * (largest remainders, so the sizes add up), and each part keeps the lines
 * in their original order. Deterministic for a given file, ratios and seed.
 * counts[k] receives the size of part k. Returns 0 or -1. */
int octo_data_split(const char *in_path, const double *ratios, int n_parts, uint64_t seed, const char *prefix,
                    int *counts);

/* Statistics of a record file, as text or (json) one JSON object:
 * records, unparsable lines, plan-length histogram, function and domain
 * histograms, distinct query n-grams for n = 1..4 (distinct, total, ratio),
 * distinct templates (records with a "template" field), average query
 * length in characters and words, average steps. Returns 0 or -1. */
int octo_data_stats(const char *in_path, FILE *out, bool json);

/* octo_dedupe_stats: include/octo.h */
/* Keep the first of each group of exact duplicates and of records whose
 * queries are equal once normalized (octo_text_normalize). removed_path
 * (may be NULL) receives the dropped lines. Returns 0 or -1. */
int octo_data_dedupe(const char *in_path, const char *out_path, const char *removed_path, octo_dedupe_stats *st);

#endif
