/* test_handler.c - executing calls: exec handlers receive hostile values as
 * inert argv data (a shell would have run them; a canary file proves
 * nothing ran), placeholders, optional arguments, failures, timeouts that
 * kill the whole process group, the output cap; http handlers against a
 * real loopback server (tests/servers/handler_server.py). */
#include "testlib.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent/funcset.h"
#include "agent/handler.h"
#include "base/error.h"
#include "base/file.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A one-function set: parameters v (string), n (integer), b (boolean),
 * a (array), o (object), opt (string, optional); handler as given. */
static octo_funcset *set_with(const char *handler_json) {
    char *json = malloc(strlen(handler_json) + 1024);
    sprintf(json,
            "[{\"name\": \"f\", \"parameters\": {\"type\": \"object\", \"properties\": {"
            "\"v\": {\"type\": \"string\"}, \"n\": {\"type\": \"number\"}, \"b\": {\"type\": \"boolean\"},"
            "\"a\": {\"type\": \"array\"}, \"o\": {\"type\": \"object\"}, \"opt\": {\"type\": \"string\"}}},"
            "\"handler\": %s}]",
            handler_json);
    octo_funcset *fs = octo_funcset_parse(json, strlen(json), "handler-test.json");
    if (!fs) fprintf(stderr, "    %s\n", octo_last_error());
    free(json);
    return fs;
}

/* Run f with {"v": value}; returns rc, observation in *obs. */
static int run_v(const octo_function *f, const char *value, char **obs) {
    cJSON *args = cJSON_CreateObject();
    cJSON_AddStringToObject(args, "v", value);
    int rc = octo_handler_run(f, args, obs);
    cJSON_Delete(args);
    return rc;
}

static char g_canary[600];

static const char *hostile[] = {
    "plain",
    "it's \"quoted\" 'twice'",
    "; touch CANARY",
    "$(touch CANARY)",
    "`touch CANARY`",
    "a && touch CANARY || touch CANARY",
    "| touch CANARY",
    "line one\nline two\n; touch CANARY\n",
    "' ; touch CANARY ; '",
    "\" ; touch CANARY ; \"",
    "${IFS}touch${IFS}CANARY",
    "> CANARY",
    "-n",
    "--help",
    "%s %n %d",
    "*",
    "~",
    "\\",
    "",
};

/* Replace CANARY in a hostile value by the canary path. */
static char *with_canary(const char *v) {
    char *out = malloc(strlen(v) * 8 + 1024), *o = out;
    for (const char *p = v; *p;) {
        if (!strncmp(p, "CANARY", 6)) {
            o += sprintf(o, "%s", g_canary);
            p += 6;
        } else {
            *o++ = *p++;
        }
    }
    *o = 0;
    return out;
}

TEST(exec_hostile_values_are_inert) {
    snprintf(g_canary, sizeof g_canary, "%s/canary", t_tmpdir());
    unlink(g_canary);
    /* printf %s VALUE echoes exactly; sh -c with the value as $1 is safe too */
    octo_funcset *fs1 = set_with("{\"exec\": [\"printf\", \"%s\", \"{v}\"]}");
    octo_funcset *fs2 = set_with("{\"exec\": [\"sh\", \"-c\", \"printf %s \\\"$1\\\"\", \"sh\", \"{v}\"]}");
    REQUIRE(fs1 && fs2);
    for (size_t i = 0; i < sizeof hostile / sizeof hostile[0]; i++) {
        char *v = with_canary(hostile[i]);
        for (int k = 0; k < 2; k++) {
            char *obs = NULL;
            int rc = run_v(&(k ? fs2 : fs1)->fns[0], v, &obs);
            CHECKF(rc == 0, "value %zu via %s: %s", i, k ? "sh $1" : "printf", octo_last_error());
            CHECKF(obs && !strcmp(obs, v), "value %zu via %s: got [%s] want [%s]", i, k ? "sh $1" : "printf",
                   obs ? obs : "(null)", v);
            free(obs);
        }
        free(v);
    }
    /* every byte but NUL, in one value */
    char bin[256];
    for (int i = 1; i < 256; i++) bin[i - 1] = (char)i;
    bin[255] = 0;
    char *obs = NULL;
    cJSON *args = cJSON_CreateObject();
    cJSON_AddItemToObject(args, "v", cJSON_CreateString(bin));
    CHECK(octo_handler_run(&fs1->fns[0], args, &obs) == 0);
    CHECK(obs && !memcmp(obs, bin, 256));
    free(obs);
    cJSON_Delete(args);
    /* 100 KB arrive whole; 1 MB exceeds the kernel's limit for one argument:
     * a clean failure, and still nothing runs */
    for (int big = 0; big < 2; big++) {
        size_t n = big ? (1u << 20) : 100000;
        char *v = malloc(n + 1);
        for (size_t i = 0; i < n; i++) v[i] = "$(touch x);`'\"\n"[i % 15];
        v[n] = 0;
        obs = NULL;
        int rc = run_v(&fs1->fns[0], v, &obs);
        if (!big) CHECK(rc == 0 && obs && strlen(obs) == n && !strcmp(obs, v));
        else CHECKF(rc == -1 && strstr(octo_last_error(), "cannot run"), "1 MB: rc %d: %s", rc, octo_last_error());
        free(obs);
        free(v);
    }
    struct stat st;
    CHECKF(stat(g_canary, &st) != 0, "the canary %s exists: a value was run as a command", g_canary);
    CHECK(access("x", F_OK) != 0); /* the 100 KB value's $(touch x) in the working directory */
    octo_funcset_free(fs1);
    octo_funcset_free(fs2);
}

TEST(exec_placeholders) {
    octo_funcset *fs = set_with("{\"exec\": [\"printf\", \"%s|%s|%s|%s|%s|%s|%s\", \"{v}\", \"--n={n}\", \"{b}\","
                                " \"{a}\", \"{o}\", \"[{opt}]\", \"{{v}} {v}}}\"]}");
    REQUIRE(fs);
    cJSON *args = cJSON_Parse("{\"v\": \"a b\", \"n\": 300, \"b\": true, \"a\": [1, \"x y\", null],"
                              " \"o\": {\"k\": \"v w\", \"z\": 2.5}}");
    char *obs = NULL;
    CHECK(octo_handler_run(&fs->fns[0], args, &obs) == 0);
    /* whole-element placeholders are raw values; embedded ones are text in
     * one element; arrays and objects are compact JSON; an absent optional
     * argument is empty; {{ }} are literal braces */
    const char *want = "a b|--n=300|true|[1,\"x y\",null]|{\"k\":\"v w\",\"z\":2.5}|[]|{v} a b}";
    CHECKF(obs && !strcmp(obs, want), "got [%s]\n want [%s]", obs ? obs : "(null)", want);
    free(obs);
    cJSON_Delete(args);
    args = cJSON_Parse("{\"v\": \"x\", \"n\": 12.5}");
    CHECK(octo_handler_run(&fs->fns[0], args, &obs) == 0);
    CHECK(obs && !strncmp(obs, "x|--n=12.5|", 11));
    free(obs);
    cJSON_Delete(args);
    /* arguments that break the schema never reach the program */
    args = cJSON_Parse("{\"v\": 1}");
    CHECK(octo_handler_run(&fs->fns[0], args, &obs) == -1 && strstr(octo_last_error(), "expected string"));
    CHECK(obs == NULL);
    cJSON_Delete(args);
    octo_funcset_free(fs);
}

TEST(exec_failures) {
    char *obs = NULL;
    octo_funcset *fs = set_with("{\"exec\": [\"sh\", \"-c\", \"echo partial; echo 'disk on fire' >&2; exit 3\"]}");
    REQUIRE(fs);
    CHECK(octo_handler_run(&fs->fns[0], NULL, &obs) == -1);
    CHECKF(strstr(octo_last_error(), "f: exit status 3: disk on fire"), "%s", octo_last_error());
    CHECK(obs && !strcmp(obs, "partial\n")); /* what there was */
    free(obs);
    octo_funcset_free(fs);
    fs = set_with("{\"exec\": [\"/nonexistent/program\", \"{v}\"]}");
    REQUIRE(fs);
    CHECK(run_v(&fs->fns[0], "x", &obs) == -1);
    CHECKF(strstr(octo_last_error(), "cannot run \"/nonexistent/program\": No such file"), "%s", octo_last_error());
    free(obs);
    octo_funcset_free(fs);
    fs = set_with("{\"exec\": [\"sh\", \"-c\", \"kill -TERM $$\"]}");
    REQUIRE(fs);
    CHECK(octo_handler_run(&fs->fns[0], NULL, &obs) == -1 && strstr(octo_last_error(), "killed by signal 15"));
    free(obs);
    octo_funcset_free(fs);
    /* stdin is /dev/null: cat ends at once with nothing */
    fs = set_with("{\"exec\": [\"cat\"]}");
    REQUIRE(fs);
    CHECK(octo_handler_run(&fs->fns[0], NULL, &obs) == 0 && obs && obs[0] == 0);
    free(obs);
    octo_funcset_free(fs);
    /* no handler */
    const char *nh = "[{\"name\": \"g\"}]";
    fs = octo_funcset_parse(nh, strlen(nh), "nh.json");
    REQUIRE(fs);
    CHECK(octo_handler_run(&fs->fns[0], NULL, &obs) == -1 && strstr(octo_last_error(), "g: no handler"));
    octo_funcset_free(fs);
}

static bool process_gone(pid_t pid) {
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return true;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    const char *rp = strrchr(buf, ')');
    return rp && (rp[2] == 'Z' || rp[2] == 'X'); /* a zombie waiting for init is dead */
}

TEST(exec_timeout_kills_the_group) {
    char pidfile[600], h[1400];
    snprintf(pidfile, sizeof pidfile, "%s/bg.pid", t_tmpdir());
    snprintf(h, sizeof h,
             "{\"exec\": [\"sh\", \"-c\", \"sleep 100 & echo $! > %s; sleep 100\"], \"timeout_ms\": 300}", pidfile);
    octo_funcset *fs = set_with(h);
    REQUIRE(fs);
    char *obs = NULL;
    double t0 = now_s();
    int rc = octo_handler_run(&fs->fns[0], NULL, &obs);
    double dt = now_s() - t0;
    CHECK(rc == -1 && strstr(octo_last_error(), "timed out after 300 ms"));
    CHECKF(dt < 3.0, "took %.2f s", dt);
    free(obs);
    char *pidtext = octo_read_file(pidfile, NULL);
    REQUIRE(pidtext);
    pid_t bg = (pid_t)atoi(pidtext);
    free(pidtext);
    bool gone = false;
    for (int i = 0; i < 100 && !(gone = process_gone(bg)); i++) usleep(10000);
    CHECKF(gone, "the background sleep %d outlived the timeout", (int)bg);
    if (!gone) kill(bg, SIGKILL);
    octo_funcset_free(fs);
    /* plain sleep 100, and a flood of output: both stopped quickly */
    fs = set_with("{\"exec\": [\"sleep\", \"100\"], \"timeout_ms\": 200}");
    REQUIRE(fs);
    t0 = now_s();
    CHECK(octo_handler_run(&fs->fns[0], NULL, &obs) == -1 && strstr(octo_last_error(), "timed out"));
    CHECK(now_s() - t0 < 3.0);
    free(obs);
    octo_funcset_free(fs);
    fs = set_with("{\"exec\": [\"yes\"], \"timeout_ms\": 20000}");
    REQUIRE(fs);
    t0 = now_s();
    CHECK(octo_handler_run(&fs->fns[0], NULL, &obs) == -1 && strstr(octo_last_error(), "output exceeds"));
    CHECK(now_s() - t0 < 10.0);
    free(obs);
    octo_funcset_free(fs);
}

/* ---- http ---- */

typedef struct {
    pid_t pid;
    int to_child; /* its stdin: closing it stops the server */
    int port;
} server;

static int server_start(server *s) {
    if (access("tests/servers/handler_server.py", F_OK) != 0) return -1;
    if (system("python3 -c 'import http.server' >/dev/null 2>&1") != 0) return -1;
    int in[2], out[2];
    if (pipe(in) || pipe(out)) return -1;
    s->pid = fork();
    if (s->pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        close(in[1]);
        close(out[0]);
        execlp("python3", "python3", "tests/servers/handler_server.py", (char *)NULL);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    s->to_child = in[1];
    char buf[64] = "";
    size_t n = 0;
    while (n < sizeof buf - 1) {
        ssize_t r = read(out[0], buf + n, 1);
        if (r <= 0 || buf[n] == '\n') break;
        n++;
    }
    buf[n] = 0;
    close(out[0]);
    if (sscanf(buf, "PORT %d", &s->port) != 1) {
        close(s->to_child);
        waitpid(s->pid, NULL, 0);
        return -1;
    }
    return 0;
}

static void server_stop(server *s) {
    close(s->to_child);
    kill(s->pid, SIGTERM);
    waitpid(s->pid, NULL, 0);
}

static octo_funcset *http_set(int port, const char *path, int timeout_ms) {
    char h[256];
    snprintf(h, sizeof h, "{\"http\": \"http://127.0.0.1:%d%s\", \"timeout_ms\": %d}", port, path, timeout_ms);
    return set_with(h);
}

TEST(http_handler) {
    server s;
    if (server_start(&s) != 0) SKIP("python3 or tests/servers/handler_server.py is absent");
    /* hostile values and 1 MB strings arrive as JSON data, exactly */
    octo_funcset *fs = http_set(s.port, "/echo", 10000);
    REQUIRE(fs);
    size_t n = 1u << 20;
    char *big = malloc(n + 1);
    for (size_t i = 0; i < n; i++) big[i] = "$(rm -rf /);`'\"\n\\\x01\xc3\xa9"[i % 16];
    big[n] = 0;
    for (int k = 0; k < 2; k++) {
        cJSON *args = cJSON_CreateObject();
        cJSON_AddStringToObject(args, "v", k ? big : "; rm -rf / $(touch x) `id`");
        cJSON_AddNumberToObject(args, "n", 3);
        cJSON_AddItemToObject(args, "a", cJSON_Parse("[1, {\"q\": \"\\\"\"}]"));
        char *obs = NULL;
        CHECKF(octo_handler_run(&fs->fns[0], args, &obs) == 0, "%s", octo_last_error());
        cJSON *back = obs ? cJSON_Parse(obs) : NULL;
        CHECK(back && cJSON_Compare(back, args, true));
        cJSON_Delete(back);
        cJSON_Delete(args);
        free(obs);
    }
    free(big);
    octo_funcset_free(fs);
    /* it is a JSON POST */
    fs = http_set(s.port, "/headers", 10000);
    char *obs = NULL;
    CHECK(octo_handler_run(&fs->fns[0], NULL, &obs) == 0);
    cJSON *h = obs ? cJSON_Parse(obs) : NULL;
    CHECK(h && !strcmp(cJSON_GetObjectItem(h, "method")->valuestring, "POST"));
    CHECK(h && !strcmp(cJSON_GetObjectItem(h, "content_type")->valuestring, "application/json"));
    CHECK(h && cJSON_GetObjectItem(h, "length")->valuedouble == 2); /* "{}" */
    cJSON_Delete(h);
    free(obs);
    octo_funcset_free(fs);
    /* non-2xx, timeouts, oversized bodies, refused connections fail clearly */
    fs = http_set(s.port, "/status/503", 10000);
    CHECK(octo_handler_run(&fs->fns[0], NULL, &obs) == -1 && strstr(octo_last_error(), "HTTP 503: status 503"));
    free(obs);
    octo_funcset_free(fs);
    fs = http_set(s.port, "/status/404", 10000);
    CHECK(octo_handler_run(&fs->fns[0], NULL, &obs) == -1 && strstr(octo_last_error(), "HTTP 404"));
    free(obs);
    octo_funcset_free(fs);
    fs = http_set(s.port, "/slow", 300);
    double t0 = now_s();
    CHECK(octo_handler_run(&fs->fns[0], NULL, &obs) == -1);
    CHECKF(now_s() - t0 < 3.0, "timeout took %.2f s", now_s() - t0);
    free(obs);
    octo_funcset_free(fs);
    fs = http_set(s.port, "/big", 10000);
    CHECK(octo_handler_run(&fs->fns[0], NULL, &obs) == -1 && strstr(octo_last_error(), "response exceeds"));
    free(obs);
    octo_funcset_free(fs);
    server_stop(&s);
    fs = http_set(s.port, "/echo", 2000); /* the server is gone */
    CHECK(octo_handler_run(&fs->fns[0], NULL, &obs) == -1 && strstr(octo_last_error(), "127.0.0.1"));
    free(obs);
    octo_funcset_free(fs);
}

int main(void) {
    signal(SIGPIPE, SIG_IGN);
    RUN(exec_hostile_values_are_inert);
    RUN(exec_placeholders);
    RUN(exec_failures);
    RUN(exec_timeout_kills_the_group);
    RUN(http_handler);
    return t_finish();
}
