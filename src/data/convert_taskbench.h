/* convert_taskbench.h - TaskBench labeled records -> canonical records
 * (`octo data convert --from taskbench`).
 *
 * A TaskBench record ({"id", "type": single|chain|dag, "instruction" (or
 * "user_request"), "task_steps", "task_nodes": [{"task", "arguments"}],
 * "task_links": [{"source", "target"}]}) lists its nodes in no particular
 * order. The canonical record puts the calls in execution order: a
 * topological order of task_links (for chains, the chain), ties broken by
 * the order of the steps that name each tool; each step travels with the
 * call it describes, its "Step 1: " prefix stripped. Arguments become an
 * object keyed by parameter name (TaskBench gives [{name, value}] or a list
 * of values in the tool's parameter order).
 *
 * Odd records are never dropped silently: each is reported on one line with
 * its reason, counted, and written to the rejects file with "reasons".
 */
#ifndef OCTO_DATA_CONVERT_TASKBENCH_H
#define OCTO_DATA_CONVERT_TASKBENCH_H

#include <stdbool.h>
#include <stdio.h>

#include "agent/funcset.h"

typedef enum {
    OCTO_TB_BAD_JSON,       /* not a JSON object */
    OCTO_TB_NO_QUERY,       /* no instruction / user_request text */
    OCTO_TB_MALFORMED,      /* task_steps / task_nodes / arguments of the wrong shape */
    OCTO_TB_COUNT_MISMATCH, /* steps and nodes differ in number */
    OCTO_TB_UNKNOWN_TOOL,   /* a node calls a tool outside the function set */
    OCTO_TB_BAD_LINK,       /* a link without source and target strings */
    OCTO_TB_MISSING_NODE,   /* a link names a tool no node calls */
    OCTO_TB_AMBIGUOUS_LINK, /* a link names a tool two nodes call */
    OCTO_TB_CYCLE,          /* task_links form a cycle */
    OCTO_TB_N_REASONS
} octo_tb_reason;

const char *octo_tb_reason_name(octo_tb_reason r);

typedef struct {
    int n_in;                       /* records read */
    int n_out;                      /* records written */
    int n_rejected;
    int by_reason[OCTO_TB_N_REASONS];
    int n_reordered;                /* kept records whose steps were reordered to follow task_links */
    int n_args_off_schema;          /* kept records with an argument the tool's schema refuses */
    int n_unknown_kept;             /* kept records calling a tool outside the set (keep_unknown_tools) */
    int by_type[3];                 /* kept records of type single, chain, dag */
} octo_tb_stats;

typedef struct {
    const octo_funcset *fs;  /* tools to check against (NULL: no tool checks) */
    const char *domain;      /* "domains" of every record (NULL: the set's name, else "taskbench") */
    FILE *report;            /* one line per odd record (NULL: none) */
    const char *rejects_path; /* odd records with their reasons (NULL: not written) */
    bool keep_unknown_tools;  /* keep records calling tools outside fs (for evaluation references) */
} octo_tb_opts;

/* Convert IN (JSONL, or one JSON array) into OUT (JSONL, atomic). Returns 0
 * (odd records are not errors; see stats), or -1 on I/O errors. */
int octo_convert_taskbench(const char *in_path, const char *out_path, const octo_tb_opts *o, octo_tb_stats *st);

#endif
