/* teacher.h - a client for any OpenAI-compatible chat-completions endpoint
 * (libcurl), and the two jobs the paper gives a teacher model: writing
 * training records for a function set, and judging records.
 *
 * The client sends N requests in flight (curl multi), honours a rate limit,
 * retries 429 / 5xx / timeouts with exponential backoff (Retry-After when
 * given), reads the API key from an environment variable, and never blocks
 * forever. Generation is resumable: every record received is appended and
 * flushed at once to OUT, and a rerun counts what OUT holds (by request
 * index) and asks only for the rest, so a crash loses nothing and a rerun
 * makes no duplicates.
 */
#ifndef OCTO_DATA_TEACHER_H
#define OCTO_DATA_TEACHER_H

#include <signal.h>
#include <stdint.h>

#include "agent/funcset.h"
#include "data/record.h"

typedef struct {
    const char *url;        /* http://host:port/v1/chat/completions (or the base URL; /chat/completions is added) */
    const char *model;
    const char *key_env;    /* environment variable holding the API key (default OPENAI_API_KEY; unset: no auth) */
    double temperature;     /* default 0.8 */
    int timeout_ms;         /* per request, default 60000 */
    int max_retries;        /* default 5 */
    int in_flight;          /* concurrent requests, default 4 */
    double rate_per_s;      /* max requests started per second (0: unlimited) */
    uint64_t seed;
    int backoff_ms;         /* first retry delay, doubled each retry, jittered (default 500) */
    int max_asks;           /* asks per request when the answer is unusable (default 3) */
    volatile sig_atomic_t *cancel; /* stop when it becomes non-zero; NULL: SIGINT/SIGTERM stop the run */
    /* progress: called after every record kept or request given up (may be NULL) */
    void (*progress)(void *ctx, int done, int total, const char *note);
    void *progress_ctx;
} octo_teacher_opts;

void octo_teacher_opts_default(octo_teacher_opts *o);

/* Write n canonical records (record.h) for the function set to out_path
 * (JSONL, appended; resumable as described above). Plan lengths 1-5 equally
 * often. Each line carries "teacher_index": the request it answers (request
 * i asks for 1 + i % 5 steps); a rerun asks only for indices not in the
 * file, so the file ends with exactly n records, each index once. A request
 * whose answers stay unusable after max_asks asks is replaced by a fresh
 * index of the same plan length. Returns n (the records in out_path), or -1
 * (error set: a 4xx, a request out of retries, an interrupt): what was
 * received stays in out_path and a rerun goes on from there. */
int octo_teacher_generate(const octo_funcset *fs, const octo_teacher_opts *o, int n, const char *out_path);

/* Ask the teacher whether each record's steps and calls fulfil its query.
 * verdicts[i] = 1 yes, 0 no (reason in reasons[i], malloc'd, may be NULL),
 * -1 no usable answer after max_asks asks (reasons[i] says why). reasons may
 * be NULL. Returns the number of records judged (verdict 0 or 1), or -1 on
 * an error that stops the run (a 4xx, a request out of retries, an
 * interrupt). */
int octo_teacher_judge(const octo_funcset *fs, const octo_teacher_opts *o, const octo_record *recs, int n,
                       int *verdicts, char **reasons);

#endif
