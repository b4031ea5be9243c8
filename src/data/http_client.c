/* http_client.c - concurrent JSON POSTs with retries (see http_client.h).
 *
 * One thread drives everything through a curl multi handle. A request is a
 * job that moves between three states: QUEUED (waiting for a free slot, the
 * rate limit, or its retry time), RUNNING (an easy handle in the multi), and
 * DONE (in the results list until octo_http_next hands it out). Time is
 * CLOCK_MONOTONIC milliseconds, so a clock change cannot stall a run.
 */
#include "data/http_client.h"

#include <curl/curl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base/error.h"

#define MAX_BODY (64u << 20) /* a chat answer is kilobytes; more is a broken server */

typedef enum { JOB_QUEUED, JOB_RUNNING, JOB_DONE } job_state;

typedef struct job {
    long tag;
    char *req;
    job_state state;
    int attempts;
    int64_t not_before_ms; /* earliest start (retry delay) */
    CURL *easy;
    struct curl_slist *headers;
    char *resp;
    size_t resp_len, resp_cap;
    int too_big;
    int64_t retry_after_ms; /* from the last response, -1 if none */
    long status;
    int fatal;
    char error[512];
    char curl_err[CURL_ERROR_SIZE];
    struct job *next;
} job;

struct octo_http_client {
    octo_http_opts o;
    char *url;
    char *auth; /* "Authorization: Bearer ..." */
    CURLM *multi;
    job *jobs; /* every job not yet handed out, in submission order */
    int n_running;
    int64_t next_start_ms; /* rate limit */
    uint64_t rng;
};

static int64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint64_t rng_next(uint64_t *s) { /* splitmix64 */
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void octo_http_opts_default(octo_http_opts *o) {
    memset(o, 0, sizeof *o);
    o->timeout_ms = 60000;
    o->max_retries = 5;
    o->in_flight = 4;
    o->backoff_ms = 500;
    o->backoff_max_ms = 60000;
}

static int g_curl_ready;

octo_http_client *octo_http_new(const octo_http_opts *o) {
    if (!o->url || !*o->url) return octo_fail("http: no URL given"), NULL;
    if (!g_curl_ready) { /* not thread-safe by curl's design; the first client sets it up */
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) return octo_fail("http: curl_global_init failed"), NULL;
        g_curl_ready = 1;
    }
    octo_http_client *c = calloc(1, sizeof *c);
    if (!c) return octo_fail("http: out of memory"), NULL;
    c->o = *o;
    if (c->o.timeout_ms <= 0) c->o.timeout_ms = 60000;
    if (c->o.max_retries < 0) c->o.max_retries = 0;
    if (c->o.in_flight <= 0) c->o.in_flight = 1;
    if (c->o.backoff_ms <= 0) c->o.backoff_ms = 500;
    if (c->o.backoff_max_ms <= 0) c->o.backoff_max_ms = 60000;
    c->url = strdup(o->url);
    if (o->api_key && *o->api_key) {
        size_t n = strlen(o->api_key) + 32;
        c->auth = malloc(n);
        if (c->auth) snprintf(c->auth, n, "Authorization: Bearer %s", o->api_key);
    }
    c->multi = curl_multi_init();
    c->rng = o->seed ^ 0x5eedu;
    c->next_start_ms = now_ms();
    if (!c->url || !c->multi || (o->api_key && *o->api_key && !c->auth)) {
        octo_http_free(c);
        return octo_fail("http: out of memory"), NULL;
    }
    return c;
}

static void job_reset_transfer(octo_http_client *c, job *j) {
    if (j->easy) {
        curl_multi_remove_handle(c->multi, j->easy);
        curl_easy_cleanup(j->easy);
        j->easy = NULL;
    }
    curl_slist_free_all(j->headers);
    j->headers = NULL;
}

static void job_free(octo_http_client *c, job *j) {
    job_reset_transfer(c, j);
    free(j->req);
    free(j->resp);
    free(j);
}

void octo_http_free(octo_http_client *c) {
    if (!c) return;
    for (job *j = c->jobs, *nx; j; j = nx) {
        nx = j->next;
        job_free(c, j);
    }
    if (c->multi) curl_multi_cleanup(c->multi);
    free(c->url);
    free(c->auth);
    free(c);
}

int octo_http_submit(octo_http_client *c, long tag, const char *body) {
    job *j = calloc(1, sizeof *j);
    if (!j || !(j->req = strdup(body))) {
        free(j);
        return octo_fail("http: out of memory");
    }
    j->tag = tag;
    j->state = JOB_QUEUED;
    j->retry_after_ms = -1;
    job **p = &c->jobs; /* append: requests start in the order they were given */
    while (*p) p = &(*p)->next;
    *p = j;
    return 0;
}

int octo_http_pending(const octo_http_client *c) {
    int n = 0;
    for (const job *j = c->jobs; j; j = j->next) n++;
    return n;
}

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *ud) {
    job *j = ud;
    size_t n = size * nmemb;
    if (j->resp_len + n + 1 > MAX_BODY) {
        j->too_big = 1;
        return 0; /* makes curl fail the transfer */
    }
    if (j->resp_len + n + 1 > j->resp_cap) {
        size_t cap = j->resp_cap ? j->resp_cap : 4096;
        while (cap < j->resp_len + n + 1) cap *= 2;
        char *p = realloc(j->resp, cap);
        if (!p) return 0;
        j->resp = p;
        j->resp_cap = cap;
    }
    memcpy(j->resp + j->resp_len, ptr, n);
    j->resp_len += n;
    j->resp[j->resp_len] = 0;
    return n;
}

/* Retry-After is either delay-seconds or an HTTP date (RFC 9110 10.2.3). */
static size_t on_header(char *buf, size_t size, size_t nmemb, void *ud) {
    job *j = ud;
    size_t n = size * nmemb;
    static const char key[] = "retry-after:";
    if (n > sizeof key - 1 && n < 256 && !strncasecmp(buf, key, sizeof key - 1)) {
        char v[256];
        memcpy(v, buf + sizeof key - 1, n - (sizeof key - 1));
        v[n - (sizeof key - 1)] = 0;
        char *s = v;
        while (*s == ' ' || *s == '\t') s++;
        char *e;
        double secs = strtod(s, &e);
        if (e != s && secs >= 0 && isfinite(secs)) {
            j->retry_after_ms = (int64_t)(secs * 1000.0);
        } else {
            for (char *t = s + strlen(s); t > s && (t[-1] == '\r' || t[-1] == '\n'); t--) t[-1] = 0;
            time_t when = curl_getdate(s, NULL);
            if (when != (time_t)-1) {
                double d = difftime(when, time(NULL));
                j->retry_after_ms = d > 0 ? (int64_t)(d * 1000.0) : 0;
            }
        }
    }
    return n;
}

static int job_start(octo_http_client *c, job *j) {
    j->resp_len = 0;
    j->too_big = 0;
    j->retry_after_ms = -1;
    j->status = 0;
    j->curl_err[0] = 0;
    if (j->resp) j->resp[0] = 0;
    CURL *e = curl_easy_init();
    if (!e) return octo_fail("http: curl_easy_init failed");
    j->headers = curl_slist_append(NULL, "Content-Type: application/json");
    j->headers = curl_slist_append(j->headers, "Expect:"); /* no 100-continue round trip */
    if (c->auth) j->headers = curl_slist_append(j->headers, c->auth);
    curl_easy_setopt(e, CURLOPT_URL, c->url);
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, j->req);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(j->req));
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, j->headers);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, j);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, j);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)c->o.timeout_ms);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)(c->o.timeout_ms < 10000 ? c->o.timeout_ms : 10000));
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, j->curl_err);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "octo");
    curl_easy_setopt(e, CURLOPT_PRIVATE, j);
    j->easy = e;
    if (curl_multi_add_handle(c->multi, e) != CURLM_OK) {
        job_reset_transfer(c, j);
        return octo_fail("http: curl_multi_add_handle failed");
    }
    j->state = JOB_RUNNING;
    j->attempts++;
    c->n_running++;
    return 0;
}

/* The "message" of an OpenAI-style error body, else its first line. */
static void body_reason(const job *j, char *out, size_t cap) {
    out[0] = 0;
    if (!j->resp || !j->resp_len) return;
    cJSON *b = cJSON_ParseWithLength(j->resp, j->resp_len);
    const cJSON *err = b ? cJSON_GetObjectItemCaseSensitive(b, "error") : NULL;
    const cJSON *msg = cJSON_IsObject(err) ? cJSON_GetObjectItemCaseSensitive(err, "message") : err;
    if (cJSON_IsString(msg)) snprintf(out, cap, "%s", msg->valuestring);
    cJSON_Delete(b);
    if (!out[0]) snprintf(out, cap, "%.*s", (int)strcspn(j->resp, "\r\n"), j->resp);
    if (strlen(out) > 200) strcpy(out + 197, "...");
}

static int curl_retryable(CURLcode rc) {
    switch (rc) {
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_COULDNT_RESOLVE_PROXY:
        return 1;
    default:
        return 0;
    }
}

/* A transfer ended: decide between done (ok or fatal), retry, or give up. */
static void job_finished(octo_http_client *c, job *j, CURLcode rc) {
    curl_easy_getinfo(j->easy, CURLINFO_RESPONSE_CODE, &j->status);
    job_reset_transfer(c, j);
    c->n_running--;
    int retry = 0;
    j->fatal = 0;
    j->error[0] = 0;
    if (rc != CURLE_OK) {
        const char *detail = j->curl_err[0] ? j->curl_err : curl_easy_strerror(rc);
        if (j->too_big) {
            snprintf(j->error, sizeof j->error, "%s: response larger than %u MB", c->url, MAX_BODY >> 20);
            j->fatal = 1;
        } else if (rc == CURLE_OPERATION_TIMEDOUT) {
            snprintf(j->error, sizeof j->error, "%s: no answer within %d ms (%s)", c->url, c->o.timeout_ms, detail);
            retry = 1;
        } else {
            snprintf(j->error, sizeof j->error, "%s: %s", c->url, detail);
            retry = curl_retryable(rc);
            j->fatal = !retry;
        }
    } else if (j->status >= 200 && j->status < 300) {
        j->state = JOB_DONE;
        return;
    } else {
        char why[256];
        body_reason(j, why, sizeof why);
        snprintf(j->error, sizeof j->error, "%s: HTTP %ld%s%s", c->url, j->status, why[0] ? ": " : "", why);
        retry = j->status == 429 || j->status == 408 || j->status >= 500;
        j->fatal = !retry;
        if (j->status == 401 && !c->auth)
            snprintf(j->error + strlen(j->error), sizeof j->error - strlen(j->error), " (no API key was sent)");
    }
    if (retry && j->attempts <= c->o.max_retries) {
        /* delay = backoff * 2^(attempt-1), "equal jitter": half fixed, half random,
         * so a crowd of failed requests does not come back in lockstep */
        double d = (double)c->o.backoff_ms * pow(2.0, j->attempts - 1);
        if (d > c->o.backoff_max_ms) d = c->o.backoff_max_ms;
        d = d / 2 + (double)(rng_next(&c->rng) % 1000) / 1000.0 * d / 2;
        if (j->retry_after_ms >= 0) {
            double ra = (double)j->retry_after_ms;
            if (ra > c->o.backoff_max_ms) ra = c->o.backoff_max_ms;
            if (ra > d) d = ra;
        }
        j->not_before_ms = now_ms() + (int64_t)d;
        j->state = JOB_QUEUED;
        return;
    }
    if (retry) {
        char last[512];
        snprintf(last, sizeof last, "%s", j->error);
        snprintf(j->error, sizeof j->error, "gave up after %d attempts: %.460s", j->attempts, last);
    }
    j->state = JOB_DONE;
}

static void hand_out(octo_http_client *c, job *j, octo_http_result *r) {
    job **p = &c->jobs;
    while (*p != j) p = &(*p)->next;
    *p = j->next;
    memset(r, 0, sizeof *r);
    r->tag = j->tag;
    r->ok = !j->error[0];
    r->fatal = j->fatal;
    r->status = j->status;
    r->attempts = j->attempts;
    r->body = j->resp;
    r->body_len = j->resp_len;
    j->resp = NULL;
    snprintf(r->error, sizeof r->error, "%s", j->error);
    job_free(c, j);
}

int octo_http_next(octo_http_client *c, octo_http_result *r) {
    for (;;) {
        if (c->o.cancel && *c->o.cancel) return octo_fail("interrupted");
        for (job *j = c->jobs; j; j = j->next)
            if (j->state == JOB_DONE) {
                hand_out(c, j, r);
                return 1;
            }
        if (!c->jobs) return 0;

        /* start what may start; remember when the next one may */
        int64_t t = now_ms(), wake = t + 100;
        for (job *j = c->jobs; j && c->n_running < c->o.in_flight; j = j->next) {
            if (j->state != JOB_QUEUED) continue;
            if (j->not_before_ms > t) {
                if (j->not_before_ms < wake) wake = j->not_before_ms;
                continue;
            }
            if (c->o.rate_per_s > 0 && c->next_start_ms > t) {
                if (c->next_start_ms < wake) wake = c->next_start_ms;
                break;
            }
            if (job_start(c, j) != 0) {
                snprintf(j->error, sizeof j->error, "%s", octo_last_error());
                j->fatal = 1;
                j->state = JOB_DONE;
                break;
            }
            if (c->o.rate_per_s > 0) {
                int64_t gap = (int64_t)(1000.0 / c->o.rate_per_s);
                c->next_start_ms = (c->next_start_ms > t ? c->next_start_ms : t) + gap;
            }
        }

        int still = 0;
        curl_multi_perform(c->multi, &still);
        CURLMsg *m;
        int left;
        while ((m = curl_multi_info_read(c->multi, &left))) {
            if (m->msg != CURLMSG_DONE) continue;
            job *j = NULL;
            curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&j);
            if (j) job_finished(c, j, m->data.result);
        }
        int any_done = 0;
        for (job *j = c->jobs; j; j = j->next) any_done |= j->state == JOB_DONE;
        if (any_done) continue;
        int64_t wait = wake - now_ms();
        if (wait < 0) wait = 0;
        if (wait > 100) wait = 100; /* look at the cancel flag ten times a second */
        curl_multi_poll(c->multi, NULL, 0, (int)wait, NULL);
    }
}

void octo_http_result_free(octo_http_result *r) {
    free(r->body);
    r->body = NULL;
}

/* ---- chat completions ---- */

char *octo_chat_endpoint(const char *url) {
    size_t n = strlen(url);
    while (n > 0 && url[n - 1] == '/') n--;
    static const char suffix[] = "/chat/completions";
    size_t sl = sizeof suffix - 1;
    int has = n >= sl && !memcmp(url + n - sl, suffix, sl);
    char *s = malloc(n + sl + 1);
    if (!s) return NULL;
    memcpy(s, url, n);
    if (!has) memcpy(s + n, suffix, sl), n += sl;
    s[n] = 0;
    return s;
}

void octo_chat_add(cJSON *messages, const char *role, const char *content) {
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "role", role);
    cJSON_AddStringToObject(m, "content", content);
    cJSON_AddItemToArray(messages, m);
}

char *octo_chat_body(const char *model, const cJSON *messages, double temperature, uint64_t seed) {
    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "model", model ? model : "");
    cJSON_AddItemToObject(b, "messages", cJSON_Duplicate(messages, 1));
    cJSON_AddNumberToObject(b, "temperature", temperature);
    /* seeds go out as integers below 2^53 so every JSON reader keeps them exact */
    cJSON_AddNumberToObject(b, "seed", (double)(seed & ((1ull << 53) - 1)));
    char *s = cJSON_PrintUnformatted(b);
    cJSON_Delete(b);
    return s;
}

char *octo_chat_content(const char *body, size_t len, char *why, size_t cap) {
    if (!body || !len) return snprintf(why, cap, "empty response body"), NULL;
    cJSON *b = cJSON_ParseWithLength(body, len);
    if (!b) return snprintf(why, cap, "response is not JSON: %.60s", body), NULL;
    const cJSON *ch = cJSON_GetObjectItemCaseSensitive(b, "choices");
    const cJSON *c0 = cJSON_IsArray(ch) ? cJSON_GetArrayItem(ch, 0) : NULL;
    const cJSON *msg = cJSON_IsObject(c0) ? cJSON_GetObjectItemCaseSensitive(c0, "message") : NULL;
    const cJSON *ct = cJSON_IsObject(msg) ? cJSON_GetObjectItemCaseSensitive(msg, "content") : NULL;
    char *out = NULL;
    if (!cJSON_IsString(ct))
        snprintf(why, cap, "response has no choices[0].message.content string");
    else if (!(out = strdup(ct->valuestring)))
        snprintf(why, cap, "out of memory");
    cJSON_Delete(b);
    return out;
}
