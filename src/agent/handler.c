/* handler.c - running a function call's handler (see handler.h).
 *
 * The arguments come from a model, so they are hostile by assumption. exec
 * handlers never touch a shell: argv is built element by element from the
 * template and handed to execvp, so quotes, `;`, `$(...)`, backticks and
 * newlines in a value are bytes in one argv element, nothing more. The child
 * gets /dev/null as stdin and its own process group, so a timeout kills it
 * and everything it started. http handlers POST the arguments as JSON.
 */
#include "agent/handler.h"
#include "base/error.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define STDOUT_CAP (8u << 20) /* observations past this are refused */
#define STDERR_CAP (16u << 10) /* kept for the error message */

typedef struct {
    char *p;
    size_t n, cap;
    bool overflow;
} buf;

static bool buf_add(buf *b, const char *s, size_t n) {
    if (b->n + n + 1 > b->cap) {
        size_t nc = b->cap ? b->cap : 256;
        while (nc < b->n + n + 1) nc *= 2;
        char *np = realloc(b->p, nc);
        if (!np) return false;
        b->p = np;
        b->cap = nc;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
    return true;
}

/* ---- argv from the template ---- */

/* Text of one argument value as an argv element: strings raw, numbers as
 * JSON writes them, arrays and objects as compact JSON. */
static char *value_text(const cJSON *v) {
    if (cJSON_IsString(v)) return strdup(v->valuestring);
    if (cJSON_IsBool(v)) return strdup(cJSON_IsTrue(v) ? "true" : "false");
    if (cJSON_IsNumber(v)) {
        char tmp[64];
        double d = v->valuedouble;
        if (d == (double)(long long)d && d > -9.2e18 && d < 9.2e18) snprintf(tmp, sizeof tmp, "%lld", (long long)d);
        else snprintf(tmp, sizeof tmp, "%.17g", d);
        return strdup(tmp);
    }
    return cJSON_PrintUnformatted(v);
}

/* Length of the placeholder "{name}" starting at p (name: letters, digits,
 * _ - .), or 0: the same rule funcset.c checks templates with. */
static size_t placeholder_len(const char *p) {
    if (p[0] != '{' || p[1] == '{') return 0;
    const char *q = p + 1;
    while ((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9') || *q == '_' ||
           *q == '-' || *q == '.')
        q++;
    return (*q == '}' && q > p + 1 && q - p - 1 < 128) ? (size_t)(q - p + 1) : 0;
}

static const cJSON *placeholder_arg(const char *p, size_t len, const cJSON *args) {
    char name[128];
    memcpy(name, p + 1, len - 2);
    name[len - 2] = 0;
    return cJSON_GetObjectItemCaseSensitive(args, name);
}

/* Expand one template element. An optional argument the call leaves out
 * expands to "" (an exact placeholder becomes an empty element), so the
 * handler's argument positions stay fixed. Returns 1 with *out set, -1 on
 * error. */
static int expand(const char *tmpl, const cJSON *args, char **out) {
    *out = NULL;
    size_t n = strlen(tmpl);
    if (n > 0 && placeholder_len(tmpl) == n) { /* exactly "{name}": the raw value, whatever it holds */
        const cJSON *v = placeholder_arg(tmpl, n, args);
        *out = v ? value_text(v) : strdup("");
        return *out ? 1 : octo_fail("out of memory");
    }
    buf b = {0};
    for (const char *p = tmpl; *p; p++) {
        if ((p[0] == '{' && p[1] == '{') || (p[0] == '}' && p[1] == '}')) {
            if (!buf_add(&b, p, 1)) goto oom;
            p++;
            continue;
        }
        size_t pl = placeholder_len(p);
        if (pl) {
            const cJSON *v = placeholder_arg(p, pl, args);
            char *t = v ? value_text(v) : strdup("");
            bool ok = t && buf_add(&b, t, strlen(t));
            free(t);
            if (!ok) goto oom;
            p += pl - 1;
            continue;
        }
        if (!buf_add(&b, p, 1)) goto oom;
    }
    if (!b.p && !buf_add(&b, "", 0)) goto oom;
    *out = b.p;
    return 1;
oom:
    free(b.p);
    return octo_fail("out of memory");
}

static void free_argv(char **argv, int n) {
    for (int i = 0; i < n; i++) free(argv[i]);
    free(argv);
}

/* ---- exec ---- */

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* First line of stderr, trimmed, for the error message. */
static void first_line(const buf *b, char *out, size_t cap) {
    out[0] = 0;
    if (!b->p) return;
    const char *s = b->p;
    while (*s == ' ' || *s == '\n' || *s == '\r' || *s == '\t') s++;
    size_t n = strcspn(s, "\n\r");
    if (n >= cap) n = cap - 1;
    memcpy(out, s, n);
    out[n] = 0;
}

static int run_exec(const octo_function *f, const cJSON *args, char **observation) {
    const octo_handler *h = &f->handler;
    char **argv = calloc((size_t)h->argc + 1, sizeof *argv);
    if (!argv) return octo_fail("%s: out of memory", f->name);
    int argc = 0;
    for (int i = 0; i < h->argc; i++) {
        char *e;
        int r = expand(h->argv[i], args, &e);
        if (r < 0) {
            free_argv(argv, argc);
            return octo_fail_context("%s", f->name);
        }
        argv[argc++] = e;
    }
    int out_p[2] = {-1, -1}, err_p[2] = {-1, -1}, exec_p[2] = {-1, -1};
    if (pipe2(out_p, O_CLOEXEC) || pipe2(err_p, O_CLOEXEC) || pipe2(exec_p, O_CLOEXEC)) {
        int e = errno;
        for (int i = 0; i < 2; i++) {
            if (out_p[i] >= 0) close(out_p[i]);
            if (err_p[i] >= 0) close(err_p[i]);
            if (exec_p[i] >= 0) close(exec_p[i]);
        }
        free_argv(argv, argc);
        return octo_fail("%s: pipe: %s", f->name, strerror(e));
    }
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(out_p[0]), close(out_p[1]), close(err_p[0]), close(err_p[1]), close(exec_p[0]), close(exec_p[1]);
        free_argv(argv, argc);
        return octo_fail("%s: fork: %s", f->name, strerror(e));
    }
    if (pid == 0) {
        /* child: only async-signal-safe calls from here on */
        setpgid(0, 0);
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0) dup2(devnull, 0);
        else close(0);
        dup2(out_p[1], 1);
        dup2(err_p[1], 2);
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = SIG_DFL;
        sigaction(SIGPIPE, &sa, NULL);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL); /* a mask the caller's thread had is not the program's */
        execvp(argv[0], argv);
        int e = errno;
        ssize_t w = write(exec_p[1], &e, sizeof e);
        (void)w;
        _exit(127);
    }
    setpgid(pid, pid); /* also from the parent, so the kill below cannot race the child's call */
    close(out_p[1]);
    close(err_p[1]);
    close(exec_p[1]);
    free_argv(argv, argc);

    /* did execvp fail? (the pipe closes on a successful exec) */
    int exec_errno = 0;
    ssize_t got;
    do got = read(exec_p[0], &exec_errno, sizeof exec_errno);
    while (got < 0 && errno == EINTR);
    close(exec_p[0]);

    buf out = {0}, err = {0};
    bool out_open = true, err_open = true, timed_out = false, exited = false;
    int status = 0;
    double deadline = now_ms() + h->timeout_ms, exited_at = 0;
    char chunk[65536];
    while (out_open || err_open) {
        double left = deadline - now_ms();
        if (left <= 0) {
            timed_out = true;
            break;
        }
        if (!exited && waitpid(pid, &status, WNOHANG) == pid) {
            exited = true;
            exited_at = now_ms();
        }
        /* a background descendant may hold the pipes open after the handler
         * itself exited: read what is there for a moment, then stop */
        if (exited && now_ms() - exited_at > 200) break;
        struct pollfd pf[2] = {{out_open ? out_p[0] : -1, POLLIN, 0}, {err_open ? err_p[0] : -1, POLLIN, 0}};
        int wait = left < 50 ? (int)left + 1 : 50;
        int pr = poll(pf, 2, wait);
        if (pr < 0 && errno != EINTR) break;
        for (int k = 0; k < 2 && pr > 0; k++) {
            if (!(pf[k].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            ssize_t r = read(k == 0 ? out_p[0] : err_p[0], chunk, sizeof chunk);
            if (r < 0 && errno == EINTR) continue;
            if (r <= 0) {
                if (k == 0) out_open = false;
                else err_open = false;
                continue;
            }
            buf *b = k == 0 ? &out : &err;
            size_t lim = k == 0 ? STDOUT_CAP : STDERR_CAP;
            if (b->n + (size_t)r > lim) {
                size_t take = lim > b->n ? lim - b->n : 0;
                if (take && !buf_add(b, chunk, take)) b->overflow = true;
                b->overflow = true;
            } else if (!buf_add(b, chunk, (size_t)r)) {
                b->overflow = true;
            }
        }
        if (out.overflow) break; /* no point in waiting for more */
    }
    close(out_p[0]);
    close(err_p[0]);
    if (!exited) {
        if (timed_out || out.overflow) kill(-pid, SIGKILL);
        /* the pipes closed: the handler is exiting; wait for it, within the deadline */
        while (waitpid(pid, &status, WNOHANG) == 0) {
            if (now_ms() > deadline) {
                timed_out = true;
                kill(-pid, SIGKILL);
                waitpid(pid, &status, 0);
                break;
            }
            struct timespec ts = {0, 2000000};
            nanosleep(&ts, NULL);
        }
    }
    if (timed_out) kill(-pid, SIGKILL); /* descendants too */
    char line[200];
    first_line(&err, line, sizeof line);
    int rc = 0;
    if (exec_errno) {
        rc = octo_fail("%s: cannot run \"%s\": %s", f->name, h->argv[0], strerror(exec_errno));
    } else if (timed_out) {
        rc = octo_fail("%s: timed out after %d ms (killed)", f->name, h->timeout_ms);
    } else if (out.overflow) {
        rc = octo_fail("%s: output exceeds %u bytes (killed)", f->name, STDOUT_CAP);
    } else if (WIFSIGNALED(status)) {
        rc = octo_fail("%s: killed by signal %d%s%s", f->name, WTERMSIG(status), line[0] ? ": " : "", line);
    } else if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
        rc = octo_fail("%s: exit status %d%s%s", f->name, WEXITSTATUS(status), line[0] ? ": " : "", line);
    }
    free(err.p);
    if (!out.p && rc == 0 && !buf_add(&out, "", 0)) rc = octo_fail("%s: out of memory", f->name);
    *observation = out.p;
    return rc;
}

/* ---- http ---- */

static pthread_once_t g_curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void) { curl_global_init(CURL_GLOBAL_ALL); }

static size_t on_body(char *p, size_t size, size_t n, void *user) {
    buf *b = user;
    size_t len = size * n;
    if (b->n + len > STDOUT_CAP || !buf_add(b, p, len)) {
        b->overflow = true;
        return 0; /* aborts the transfer */
    }
    return len;
}

static int run_http(const octo_function *f, const cJSON *args, char **observation) {
    pthread_once(&g_curl_once, curl_init_once);
    char *body = cJSON_PrintUnformatted(args);
    if (!body) return octo_fail("%s: out of memory", f->name);
    CURL *c = curl_easy_init();
    if (!c) {
        free(body);
        return octo_fail("%s: cannot start libcurl", f->name);
    }
    struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
    hdr = curl_slist_append(hdr, "Accept: application/json, text/plain, */*");
    buf resp = {0};
    char cerr[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(c, CURLOPT_URL, f->handler.url);
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &resp);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)f->handler.timeout_ms);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "octo");
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(c, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    CURLcode cr = curl_easy_perform(c);
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    curl_slist_free_all(hdr);
    curl_easy_cleanup(c);
    free(body);
    int rc = 0;
    if (resp.overflow) {
        rc = octo_fail("%s: %s: response exceeds %u bytes", f->name, f->handler.url, STDOUT_CAP);
    } else if (cr != CURLE_OK) {
        rc = octo_fail("%s: %s: %s", f->name, f->handler.url, cerr[0] ? cerr : curl_easy_strerror(cr));
    } else if (code < 200 || code > 299) {
        char line[200];
        first_line(&resp, line, sizeof line);
        rc = octo_fail("%s: %s: HTTP %ld%s%s", f->name, f->handler.url, code, line[0] ? ": " : "", line);
    }
    if (!resp.p && !buf_add(&resp, "", 0) && rc == 0) rc = octo_fail("%s: out of memory", f->name);
    *observation = resp.p;
    return rc;
}

int octo_handler_run(const octo_function *f, const cJSON *args, char **observation) {
    *observation = NULL;
    cJSON *empty = NULL;
    if (!args) args = empty = cJSON_CreateObject();
    char why[512];
    int rc;
    if (f->handler.kind == OCTO_HANDLER_NONE) rc = octo_fail("%s: no handler", f->name);
    else if (octo_args_validate(f, args, why, sizeof why) != 0) rc = octo_fail("%s: %s", f->name, why);
    else if (f->handler.kind == OCTO_HANDLER_EXEC) rc = run_exec(f, args, observation);
    else rc = run_http(f, args, observation);
    cJSON_Delete(empty);
    return rc;
}
