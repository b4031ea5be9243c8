/* teacher.c - training records and verdicts from a teacher model over any
 * OpenAI-compatible chat-completions endpoint (see teacher.h).
 *
 * Generation is a loop over request indices: keep `in_flight` requests
 * running, and as each answer comes back either append the record it holds
 * (one write, then fsync, so a kill never loses or halves it) or ask again,
 * showing the teacher its answer and what was wrong with it. The output file
 * is the only state: a rerun reads the indices it holds and asks for the
 * others, which is what makes a crash, a Ctrl-C or a kill -9 harmless.
 */
#include "data/teacher.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/error.h"
#include "base/file.h"
#include "data/http_client.h"
#include "data/teacher_prompt.h"

void octo_teacher_opts_default(octo_teacher_opts *o) {
    memset(o, 0, sizeof *o);
    o->key_env = "OPENAI_API_KEY";
    o->temperature = 0.8;
    o->timeout_ms = 60000;
    o->max_retries = 5;
    o->in_flight = 4;
    o->backoff_ms = 500;
    o->max_asks = 3;
}

/* ---- interrupts ---- */

static volatile sig_atomic_t g_interrupted;
static void on_signal(int sig) {
    (void)sig;
    g_interrupted = 1;
}

typedef struct {
    int installed;
    struct sigaction old_int, old_term;
} sig_guard;

/* Without a caller's cancel flag, SIGINT/SIGTERM end the run cleanly (what
 * is written stays) instead of killing the process; the old handlers come
 * back when the run ends. */
static volatile sig_atomic_t *guard_begin(sig_guard *g, const octo_teacher_opts *o) {
    memset(g, 0, sizeof *g);
    if (o->cancel) return o->cancel;
    g_interrupted = 0;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &g->old_int);
    sigaction(SIGTERM, &sa, &g->old_term);
    g->installed = 1;
    return &g_interrupted;
}

static void guard_end(sig_guard *g) {
    if (!g->installed) return;
    sigaction(SIGINT, &g->old_int, NULL);
    sigaction(SIGTERM, &g->old_term, NULL);
}

/* ---- the client, from the options ---- */

static octo_http_client *open_client(const octo_teacher_opts *o, volatile sig_atomic_t *cancel, char **endpoint) {
    if (!o->url || !*o->url) return octo_fail("teacher: no URL given"), NULL;
    *endpoint = octo_chat_endpoint(o->url);
    if (!*endpoint) return octo_fail("teacher: out of memory"), NULL;
    octo_http_opts ho;
    octo_http_opts_default(&ho);
    ho.url = *endpoint;
    const char *env = o->key_env && *o->key_env ? o->key_env : "OPENAI_API_KEY";
    ho.api_key = getenv(env);
    if (o->timeout_ms > 0) ho.timeout_ms = o->timeout_ms;
    ho.max_retries = o->max_retries >= 0 ? o->max_retries : 0;
    if (o->in_flight > 0) ho.in_flight = o->in_flight;
    ho.rate_per_s = o->rate_per_s;
    if (o->backoff_ms > 0) ho.backoff_ms = o->backoff_ms;
    ho.seed = o->seed;
    ho.cancel = cancel;
    octo_http_client *c = octo_http_new(&ho);
    if (!c) {
        free(*endpoint);
        *endpoint = NULL;
    }
    return c;
}

/* One request in flight: its conversation so far and how often it was asked. */
typedef struct {
    int busy;
    long index;
    int asks;
    cJSON *messages;
} slot;

static int send_slot(octo_http_client *c, const octo_teacher_opts *o, slot *s, long tag) {
    /* a different seed per ask: asking again with the same seed could get the same answer */
    uint64_t seed = o->seed * 1000003ull + (uint64_t)s->index * 16u + (uint64_t)s->asks;
    char *body = octo_chat_body(o->model, s->messages, o->temperature, seed);
    if (!body) return octo_fail("teacher: out of memory");
    int rc = octo_http_submit(c, tag, body);
    free(body);
    s->asks++;
    return rc;
}

/* The answer was unusable: show it to the teacher with the reason. */
static void add_retry_turn(slot *s, const char *answer, const char *why) {
    char msg[768];
    if (answer) octo_chat_add(s->messages, "assistant", answer);
    snprintf(msg, sizeof msg,
             "That answer cannot be used: %.500s. Write it again following the rules, and reply with the JSON "
             "object only.",
             why);
    octo_chat_add(s->messages, "user", msg);
}

static void slot_clear(slot *s) {
    cJSON_Delete(s->messages);
    memset(s, 0, sizeof *s);
}

/* ---- the output file: what is done, and appending to it ---- */

typedef struct {
    long *done; /* sorted request indices already in the file */
    int n_done;
    unsigned char *issued; /* requests started in this run, by index */
    long n_issued_cap;
} index_set;

static int cmp_long(const void *a, const void *b) {
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

static int is_used(const index_set *s, long i) {
    if (s->n_done && bsearch(&i, s->done, (size_t)s->n_done, sizeof *s->done, cmp_long)) return 1;
    return i < s->n_issued_cap && s->issued[i];
}

static int mark_issued(index_set *s, long i) {
    if (i >= s->n_issued_cap) {
        long cap = s->n_issued_cap ? s->n_issued_cap : 1024;
        while (cap <= i) cap *= 2;
        unsigned char *p = realloc(s->issued, (size_t)cap);
        if (!p) return octo_fail("teacher: out of memory");
        memset(p + s->n_issued_cap, 0, (size_t)(cap - s->n_issued_cap));
        s->issued = p;
        s->n_issued_cap = cap;
    }
    s->issued[i] = 1;
    return 0;
}

/* Requests already written, as hashes of their normalised text (lower case,
 * runs of other characters as one space): a teacher at a high temperature
 * still repeats itself, and a duplicate teaches nothing. */
typedef struct {
    uint64_t *h; /* open addressing; 0 = empty */
    size_t cap, n;
} query_set;

static uint64_t query_hash(const char *q) {
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    int space = 0, any = 0;
    for (const unsigned char *p = (const unsigned char *)q; *p; p++) {
        int c = *p >= 'A' && *p <= 'Z' ? *p + 32 : *p;
        int word = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c >= 0x80;
        if (!word) {
            space = any;
            continue;
        }
        if (space) h = (h ^ ' ') * 1099511628211ull;
        h = (h ^ (uint64_t)c) * 1099511628211ull;
        space = 0;
        any = 1;
    }
    return h ? h : 1;
}

/* Adds q; returns 1 if it was new, 0 if seen before, -1 out of memory. */
static int query_add(query_set *s, const char *q) {
    if ((s->n + 1) * 2 > s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 1024;
        uint64_t *t = calloc(cap, sizeof *t);
        if (!t) return octo_fail("teacher: out of memory");
        for (size_t i = 0; i < s->cap; i++)
            if (s->h[i]) {
                size_t k = s->h[i] & (cap - 1);
                while (t[k]) k = (k + 1) & (cap - 1);
                t[k] = s->h[i];
            }
        free(s->h);
        s->h = t;
        s->cap = cap;
    }
    uint64_t h = query_hash(q);
    size_t k = h & (s->cap - 1);
    for (; s->h[k]; k = (k + 1) & (s->cap - 1))
        if (s->h[k] == h) return 0;
    s->h[k] = h;
    s->n++;
    return 1;
}

/* Read the indices an earlier run wrote. A last line without its newline is
 * a write that a kill cut short: it is cut off (its request is asked again). */
static int scan_done(const char *path, index_set *s, query_set *qs) {
    struct stat st;
    if (stat(path, &st) != 0) {
        if (errno == ENOENT) return 0;
        return octo_fail("%s: %s", path, strerror(errno));
    }
    size_t size = 0;
    char *text = octo_read_file(path, &size);
    if (!text) return -1;
    size_t keep = size;
    while (keep > 0 && text[keep - 1] != '\n') keep--;
    if (keep < size && truncate(path, (off_t)keep) != 0) {
        free(text);
        return octo_fail("%s: cannot cut off the incomplete last line: %s", path, strerror(errno));
    }
    text[keep] = 0;
    int cap = 0, line_no = 0, rc = 0;
    for (char *line = text, *nl; *line; line = nl + 1) {
        nl = strchr(line, '\n');
        *nl = 0;
        line_no++;
        if (!line[strspn(line, " \t\r")]) continue;
        cJSON *j = cJSON_Parse(line);
        const cJSON *ix = j ? cJSON_GetObjectItemCaseSensitive(j, "teacher_index") : NULL;
        const cJSON *q = j ? cJSON_GetObjectItemCaseSensitive(j, "query") : NULL;
        double v = cJSON_IsNumber(ix) ? ix->valuedouble : -1;
        if (cJSON_IsString(q) && query_add(qs, q->valuestring) < 0) {
            cJSON_Delete(j);
            rc = -1;
            break;
        }
        cJSON_Delete(j);
        if (!(v >= 0 && v < 1e12 && v == (double)(long)v)) {
            rc = octo_fail("%s:%d: not a record written by the teacher (no \"teacher_index\"); give a new output file",
                           path, line_no);
            break;
        }
        if (s->n_done == cap) {
            cap = cap ? cap * 2 : 256;
            long *p = realloc(s->done, (size_t)cap * sizeof *p);
            if (!p) {
                rc = octo_fail("teacher: out of memory");
                break;
            }
            s->done = p;
        }
        s->done[s->n_done++] = (long)v;
    }
    free(text);
    if (rc) return rc;
    if (s->n_done) qsort(s->done, (size_t)s->n_done, sizeof *s->done, cmp_long);
    int u = 0; /* a line repeated by hand counts once */
    for (int i = 0; i < s->n_done; i++)
        if (!u || s->done[u - 1] != s->done[i]) s->done[u++] = s->done[i];
    s->n_done = u;
    return 0;
}

static int append_line(int fd, const char *path, const char *line) {
    size_t n = strlen(line), off = 0;
    while (off < n) { /* one write() for a line of normal size; a loop for the rest */
        ssize_t w = write(fd, line + off, n - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return octo_fail("%s: write failed: %s", path, strerror(errno));
        off += (size_t)w;
    }
    if (fsync(fd) != 0) return octo_fail("%s: fsync failed: %s", path, strerror(errno));
    return 0;
}

/* ---- generation ---- */

typedef struct {
    const octo_funcset *fs;
    const octo_teacher_opts *o;
    const char *out_path;
    int n, needed, kept, abandoned;
    index_set idx;
    query_set queries;
    long cursor;  /* next index to consider for a new request */
    int owed[5];  /* replacements owed, by plan length - 1 */
    char *system;
    slot *slots;
    int n_slots;
} gen_run;

static void note(gen_run *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(gen_run *g, const char *fmt, ...) {
    if (!g->o->progress) return;
    char buf[640];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    g->o->progress(g->o->progress_ctx, g->idx.n_done + g->kept, g->n, buf);
}

/* The next request index: a replacement of the same plan length (beyond n)
 * when one is owed, else the lowest index not yet done or started. */
static long pick_index(gen_run *g) {
    for (int r = 0; r < 5; r++)
        if (g->owed[r] > 0) {
            long i = g->n + ((r - g->n % 5) % 5 + 5) % 5;
            while (is_used(&g->idx, i)) i += 5;
            g->owed[r]--;
            return i;
        }
    while (is_used(&g->idx, g->cursor)) g->cursor++;
    return g->cursor;
}

static int start_request(gen_run *g, octo_http_client *c, int si) {
    slot *s = &g->slots[si];
    long i = pick_index(g);
    if (mark_issued(&g->idx, i) != 0) return -1;
    char *user = octo_teacher_gen_user(g->fs, i, g->o->seed);
    s->messages = cJSON_CreateArray();
    if (!user || !s->messages) {
        free(user);
        return octo_fail("teacher: out of memory");
    }
    octo_chat_add(s->messages, "system", g->system);
    octo_chat_add(s->messages, "user", user);
    free(user);
    s->busy = 1;
    s->index = i;
    s->asks = 0;
    return send_slot(c, g->o, s, si);
}

/* An answer for slot si: keep its record, or ask again, or give the request up. */
static int on_answer(gen_run *g, octo_http_client *c, int si, const char *content, const char *bad, int fd) {
    slot *s = &g->slots[si];
    int k = octo_teacher_plan_len(s->index);
    char why[512];
    cJSON *rec = NULL;
    if (content) rec = octo_teacher_parse_record(g->fs, content, k, why, sizeof why);
    else snprintf(why, sizeof why, "%s", bad);
    if (rec) {
        int fresh = query_add(&g->queries, cJSON_GetObjectItemCaseSensitive(rec, "query")->valuestring);
        if (fresh < 0) {
            cJSON_Delete(rec);
            return -1;
        }
        if (!fresh) {
            cJSON_Delete(rec);
            rec = NULL;
            snprintf(why, sizeof why, "an earlier record has the same request; write a different one");
        }
    }
    if (rec) {
        cJSON_AddNumberToObject(rec, "teacher_index", (double)s->index);
        char *line = cJSON_PrintUnformatted(rec);
        cJSON_Delete(rec);
        size_t n = line ? strlen(line) : 0;
        char *nl = line ? realloc(line, n + 2) : NULL;
        if (!nl) {
            free(line);
            return octo_fail("teacher: out of memory");
        }
        memcpy(nl + n, "\n", 2);
        int rc = append_line(fd, g->out_path, nl);
        free(nl);
        if (rc) return rc;
        g->kept++;
        note(g, "request %ld: kept (%d step%s)", s->index, k, k == 1 ? "" : "s");
        slot_clear(s);
        return 0;
    }
    if (s->asks < g->o->max_asks) {
        note(g, "request %ld: asking again: %s", s->index, why);
        if (content) add_retry_turn(s, content, why);
        return send_slot(c, g->o, s, si);
    }
    g->abandoned++;
    g->owed[k - 1]++;
    note(g, "request %ld: given up after %d asks (%s); another takes its place", s->index, s->asks, why);
    if (g->abandoned > 5 + g->n / 2)
        return octo_fail("teacher: %d requests gave no usable record after %d asks each (last: %s)", g->abandoned,
                         g->o->max_asks, why);
    slot_clear(s);
    return 0;
}

int octo_teacher_generate(const octo_funcset *fs, const octo_teacher_opts *o, int n, const char *out_path) {
    if (!fs || fs->n <= 0) return octo_fail("teacher: the function set is empty");
    if (n < 0) return octo_fail("teacher: negative record count");
    gen_run g = {.fs = fs, .o = o, .out_path = out_path, .n = n};
    /* two runs appending to one file would ask for the same indices: the
     * second one is turned away while the first holds the lock */
    int fd = open(out_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return octo_fail("%s: cannot open for writing: %s", out_path, strerror(errno));
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        close(fd);
        if (e == EWOULDBLOCK) return octo_fail("%s: another run is writing this file", out_path);
        return octo_fail("%s: cannot lock: %s", out_path, strerror(e));
    }
    if (scan_done(out_path, &g.idx, &g.queries) != 0) {
        close(fd);
        free(g.idx.done);
        free(g.queries.h);
        return -1;
    }
    g.needed = n - g.idx.n_done;
    if (g.needed <= 0) {
        int have = g.idx.n_done;
        free(g.idx.done);
        free(g.queries.h);
        close(fd);
        return have;
    }
    sig_guard guard;
    char *endpoint = NULL;
    octo_http_client *c = NULL;
    int rc = -1;
    octo_teacher_opts oo = *o;
    if (oo.max_asks <= 0) oo.max_asks = 1;
    g.o = &oo;
    volatile sig_atomic_t *cancel = guard_begin(&guard, o);
    if (!(c = open_client(o, cancel, &endpoint))) goto out;
    g.system = octo_teacher_gen_system(fs);
    g.n_slots = oo.in_flight > 0 ? oo.in_flight : 4;
    g.slots = calloc((size_t)g.n_slots, sizeof *g.slots);
    if (!g.system || !g.slots) {
        octo_fail("teacher: out of memory");
        goto out;
    }
    note(&g, "%d of %d records already in %s; asking for %d", g.idx.n_done, n, out_path, g.needed);
    for (;;) {
        int busy = 0;
        for (int i = 0; i < g.n_slots; i++) busy += g.slots[i].busy;
        for (int i = 0; i < g.n_slots && g.kept + busy < g.needed; i++)
            if (!g.slots[i].busy) {
                if (start_request(&g, c, i) != 0) goto out;
                busy++;
            }
        if (g.kept >= g.needed) break;
        octo_http_result r;
        int got = octo_http_next(c, &r);
        if (got < 0) {
            octo_fail("interrupted: %d of %d records are in %s; run again to go on", g.idx.n_done + g.kept, n,
                      out_path);
            goto out;
        }
        if (got == 0) { /* cannot happen while slots are busy; guard against a loop */
            octo_fail("teacher: internal error: no request pending");
            goto out;
        }
        int si = (int)r.tag;
        if (!r.ok) {
            octo_fail("teacher: %s (%d of %d records are in %s)", r.error, g.idx.n_done + g.kept, n, out_path);
            octo_http_result_free(&r);
            goto out;
        }
        char why[256];
        char *content = octo_chat_content(r.body, r.body_len, why, sizeof why);
        octo_http_result_free(&r);
        int arc = on_answer(&g, c, si, content, why, fd);
        free(content);
        if (arc) goto out;
    }
    rc = g.idx.n_done + g.kept;
out:
    guard_end(&guard);
    if (fd >= 0) close(fd);
    octo_http_free(c);
    free(endpoint);
    for (int i = 0; i < g.n_slots; i++) slot_clear(&g.slots[i]);
    free(g.slots);
    free(g.system);
    free(g.idx.done);
    free(g.idx.issued);
    free(g.queries.h);
    return rc;
}

/* ---- judging ---- */

int octo_teacher_judge(const octo_funcset *fs, const octo_teacher_opts *o, const octo_record *recs, int n,
                       int *verdicts, char **reasons) {
    for (int i = 0; i < n; i++) {
        verdicts[i] = -1;
        if (reasons) reasons[i] = NULL;
    }
    if (n <= 0) return 0;
    octo_teacher_opts oo = *o;
    if (oo.max_asks <= 0) oo.max_asks = 1;
    sig_guard guard;
    volatile sig_atomic_t *cancel = guard_begin(&guard, o);
    char *endpoint = NULL;
    char *system = NULL;
    slot *slots = calloc((size_t)n, sizeof *slots);
    int rc = -1, judged = 0, next = 0, running = 0;
    int width = oo.in_flight > 0 ? oo.in_flight : 4;
    octo_http_client *c = open_client(o, cancel, &endpoint);
    if (!c) goto out;
    system = octo_teacher_judge_system(fs);
    if (!slots || !system) {
        octo_fail("teacher: out of memory");
        goto out;
    }
    for (;;) {
        while (running < width && next < n) { /* in order, `width` at a time */
            slot *s = &slots[next];
            char *user = octo_teacher_judge_user(&recs[next]);
            s->messages = cJSON_CreateArray();
            if (!user || !s->messages) {
                free(user);
                octo_fail("teacher: out of memory");
                goto out;
            }
            octo_chat_add(s->messages, "system", system);
            octo_chat_add(s->messages, "user", user);
            free(user);
            s->busy = 1;
            s->index = next;
            if (send_slot(c, &oo, s, next) != 0) goto out;
            next++;
            running++;
        }
        if (!running) break;
        octo_http_result r;
        int got = octo_http_next(c, &r);
        if (got < 0) {
            octo_fail("interrupted: %d of %d records judged", judged, n);
            goto out;
        }
        if (got == 0) break;
        int i = (int)r.tag;
        slot *s = &slots[i];
        if (!r.ok) {
            octo_fail("teacher: %s (record %d)", r.error, i);
            octo_http_result_free(&r);
            goto out;
        }
        char why[256];
        char *content = octo_chat_content(r.body, r.body_len, why, sizeof why);
        octo_http_result_free(&r);
        char *reason = NULL;
        int v = content ? octo_teacher_parse_verdict(content, &reason, why, sizeof why) : -1;
        if (v < 0 && s->asks < oo.max_asks) {
            if (content) add_retry_turn(s, content, why);
            free(content);
            if (send_slot(c, &oo, s, i) != 0) goto out;
            continue;
        }
        free(content);
        verdicts[i] = v;
        if (v >= 0) judged++;
        if (v < 0 && !reason) reason = strdup(why);
        if (reasons) reasons[i] = reason;
        else free(reason);
        slot_clear(s);
        running--;
    }
    rc = judged;
out:
    guard_end(&guard);
    octo_http_free(c);
    free(endpoint);
    free(system);
    if (slots)
        for (int i = 0; i < n; i++) slot_clear(&slots[i]);
    free(slots);
    return rc;
}
