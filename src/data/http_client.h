/* http_client.h - many JSON POSTs to one endpoint, concurrently, politely.
 *
 * A teacher run sends thousands of chat-completions requests; one at a time
 * would take hours, and a busy endpoint answers 429 or 5xx or nothing at
 * all. This client keeps up to `in_flight` requests running on one thread
 * (curl multi), starts at most `rate_per_s` per second, gives each one a
 * deadline, and retries the transient failures (429, 408, 5xx, timeouts,
 * refused or dropped connections) with exponential backoff and jitter,
 * waiting at least as long as a Retry-After header asks. Errors that a retry
 * cannot fix (401, 404, 400, a host that does not resolve, a malformed URL)
 * come back at once, marked fatal, with a one-line reason naming the URL.
 *
 * The chat-completions pieces (the request body, the answer's content) are
 * here too, so callers deal in prompts and answers, never HTTP.
 */
#ifndef OCTO_DATA_HTTP_CLIENT_H
#define OCTO_DATA_HTTP_CLIENT_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

typedef struct {
    const char *url;        /* the endpoint, as is */
    const char *api_key;    /* sent as "Authorization: Bearer KEY"; NULL: none */
    int timeout_ms;         /* whole request, default 60000 */
    int max_retries;        /* after the first attempt, default 5 */
    int in_flight;          /* concurrent requests, default 4 */
    double rate_per_s;      /* request starts per second, retries included (0: unlimited) */
    int backoff_ms;         /* first retry delay, doubled each time (default 500) */
    int backoff_max_ms;     /* cap on one delay, Retry-After included (default 60000) */
    uint64_t seed;          /* for the jitter */
    volatile sig_atomic_t *cancel; /* when it becomes non-zero, octo_http_next returns -1 */
} octo_http_opts;

void octo_http_opts_default(octo_http_opts *o);

typedef struct {
    long tag;           /* the caller's id for the request */
    int ok;             /* 1: a 2xx answer is in body */
    int fatal;          /* 1: retrying cannot help (4xx, bad URL): stop the run */
    long status;        /* HTTP status of the last attempt (0: no response) */
    int attempts;
    char *body;         /* the last response body, NUL-terminated (may be NULL) */
    size_t body_len;
    char error[512];    /* when !ok: one line naming the URL and what went wrong */
} octo_http_result;

typedef struct octo_http_client octo_http_client;

octo_http_client *octo_http_new(const octo_http_opts *o);
void octo_http_free(octo_http_client *c); /* aborts what is still running */

/* Queue a POST of body (copied; sent as application/json). Returns 0 or -1. */
int octo_http_submit(octo_http_client *c, long tag, const char *body);
/* Requests queued, running or waiting for a retry. */
int octo_http_pending(const octo_http_client *c);
/* Run transfers until one request is finished for good (answered, failed
 * fatally, or out of retries): fills r and returns 1. Returns 0 when nothing
 * is pending, -1 when cancelled (error set). Free r with
 * octo_http_result_free. */
int octo_http_next(octo_http_client *c, octo_http_result *r);
void octo_http_result_free(octo_http_result *r);

/* ---- chat completions ---- */

/* The endpoint for a URL given by a user: kept if it ends in
 * /chat/completions, else "/chat/completions" is appended (so the base
 * "http://host:8080/v1" works). malloc'd. */
char *octo_chat_endpoint(const char *url);
/* {"model", "messages", "temperature", "seed"} as compact JSON (malloc'd).
 * messages: an array of {"role", "content"}. */
char *octo_chat_body(const char *model, const cJSON *messages, double temperature, uint64_t seed);
/* choices[0].message.content of a response body, malloc'd; NULL with a
 * reason in why when the body is not a chat-completions answer. */
char *octo_chat_content(const char *body, size_t len, char *why, size_t cap);
/* Append {"role": role, "content": content} to a messages array. */
void octo_chat_add(cJSON *messages, const char *role, const char *content);

#endif
