/* test_teacher.c - the teacher client against a real HTTP server on loopback.
 *
 * tests/servers/chat_server.py speaks the chat-completions protocol and
 * answers deterministically from the prompt; flags make it answer 429 with
 * Retry-After, sleep past the client's timeout, fail with 500, or send prose
 * without JSON. Against it: generation yields N valid records; throttling,
 * timeouts and errors are retried and the run still completes; a process
 * killed with SIGKILL mid-run and rerun ends with exactly N records and no
 * duplicate index; SIGINT stops a run cleanly; the judge's verdicts are read;
 * a refused connection, a bad URL and a wrong key fail with clear messages.
 * The answer parser is also fed hostile text directly.
 */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "base/error.h"
#include "base/file.h"
#include "data/http_client.h"
#include "data/teacher.h"
#include "data/teacher_prompt.h"
#include "testlib.h"

#define SERVER "tests/servers/chat_server.py"

static const char *k_funcs =
    "{\"name\": \"phone\", \"functions\": ["
    "{\"name\": \"send_text_message\", \"description\": \"Send an SMS\", \"parameters\": {\"type\": \"object\","
    " \"properties\": {\"phone_number\": {\"type\": \"string\"}, \"message\": {\"type\": \"string\"}},"
    " \"required\": [\"phone_number\", \"message\"]}},"
    "{\"name\": \"set_volume\", \"description\": \"Set the volume\", \"parameters\": {\"type\": \"object\","
    " \"properties\": {\"level\": {\"type\": \"integer\"}, \"stream\": {\"type\": \"string\", \"enum\": [\"media\", \"ring\"]}},"
    " \"required\": [\"level\", \"stream\"]}},"
    "{\"name\": \"take_screenshot\", \"description\": \"Take a screenshot\", \"parameters\": {\"type\": \"object\","
    " \"properties\": {}, \"required\": []}}]}";

static octo_funcset *funcs(void) {
    octo_funcset *fs = octo_funcset_parse(k_funcs, strlen(k_funcs), "test");
    if (!fs) fprintf(stderr, "    funcset: %s\n", octo_last_error());
    return fs;
}

/* ---- the server ---- */

typedef struct {
    pid_t pid;
    int port;
} server;

/* python3 and the server script (tests run from the repository root) */
static int have_python(void) {
    return access(SERVER, R_OK) == 0 && system("python3 -c 'import http.server' >/dev/null 2>&1") == 0;
}

/* Start chat_server.py with extra flags (NULL-terminated); reads its port. */
static int server_start(server *s, ...) {
    const char *argv[32] = {"python3", SERVER};
    int argc = 2;
    va_list ap;
    va_start(ap, s);
    for (const char *a; argc < 30 && (a = va_arg(ap, const char *));) argv[argc++] = a;
    va_end(ap);
    argv[argc] = NULL;
    int fds[2];
    if (pipe(fds) != 0) return -1;
    s->pid = fork();
    if (s->pid == 0) {
#ifdef __linux__
        prctl(PR_SET_PDEATHSIG, SIGTERM); /* a crashed test leaves no server behind */
#endif
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        execvp("python3", (char *const *)argv);
        _exit(127);
    }
    close(fds[1]);
    char buf[64] = {0};
    size_t n = 0;
    struct pollfd p = {fds[0], POLLIN, 0};
    while (n < sizeof buf - 1 && !strchr(buf, '\n') && poll(&p, 1, 10000) > 0) {
        ssize_t r = read(fds[0], buf + n, sizeof buf - 1 - n);
        if (r <= 0) break;
        n += (size_t)r;
    }
    close(fds[0]);
    if (sscanf(buf, "PORT %d", &s->port) != 1) {
        kill(s->pid, SIGKILL);
        waitpid(s->pid, NULL, 0);
        return -1;
    }
    return 0;
}

static void server_stop(server *s) {
    kill(s->pid, SIGTERM);
    waitpid(s->pid, NULL, 0);
}

static size_t collect(char *p, size_t sz, size_t n, void *ud) {
    strncat((char *)ud, p, sz * n < 1000 ? sz * n : 1000);
    return sz * n;
}

/* One counter of GET /stats. */
static int server_stat(const server *s, const char *key) {
    char url[128], body[2048] = {0};
    snprintf(url, sizeof url, "http://127.0.0.1:%d/stats", s->port);
    CURL *c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, body);
    curl_easy_perform(c);
    curl_easy_cleanup(c);
    cJSON *j = cJSON_Parse(body);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    int r = cJSON_IsNumber(v) ? v->valueint : -1;
    cJSON_Delete(j);
    return r;
}

static void opts_for(octo_teacher_opts *o, const server *s, char *url, size_t cap) {
    octo_teacher_opts_default(o);
    snprintf(url, cap, "http://127.0.0.1:%d/v1", s->port);
    o->url = url;
    o->model = "test-teacher";
    o->key_env = "OCTO_TEST_NO_SUCH_KEY";
    o->timeout_ms = 2000;
    o->backoff_ms = 20;
    o->seed = 7;
}

/* ---- checking an output file ---- */

/* Lines of path that are valid records for fs, with teacher_index unique and
 * plan length 1 + index % 5. Returns the count of good lines, -1 on any bad one;
 * seen[i] marks the indices (size cap). */
static int check_file(const octo_funcset *fs, const char *path, unsigned char *seen, int cap) {
    size_t size;
    char *text = octo_read_file(path, &size);
    if (!text) return 0;
    int n = 0, bad = 0;
    memset(seen, 0, (size_t)cap);
    for (char *line = text, *nl; *line; line = nl + 1) {
        nl = strchr(line, '\n');
        if (!nl) {
            bad++;
            break;
        }
        *nl = 0;
        cJSON *j = cJSON_Parse(line);
        octo_record r;
        char why[256];
        const cJSON *ix = cJSON_GetObjectItemCaseSensitive(j, "teacher_index");
        if (!j || !cJSON_IsNumber(ix) || octo_record_from_json(j, &r, why, sizeof why) != 0) {
            bad++;
            cJSON_Delete(j);
            continue;
        }
        int i = ix->valueint;
        if (i < 0 || i >= cap || seen[i]) bad++;
        else seen[i] = 1;
        if (r.n_calls != octo_teacher_plan_len(i)) bad++;
        for (int c = 0; c < r.n_calls; c++) {
            int fi = octo_funcset_find(fs, r.calls[c].function);
            if (fi < 0 || octo_args_validate(&fs->fns[fi], r.calls[c].arguments, why, sizeof why) != 0) bad++;
        }
        if (r.n_domains != 1 || strcmp(r.domains[0], "phone")) bad++;
        octo_record_free(&r);
        cJSON_Delete(j);
        n++;
    }
    free(text);
    return bad ? -1 : n;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int count_lines(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    int n = 0, c;
    while ((c = fgetc(f)) != EOF) n += c == '\n';
    fclose(f);
    return n;
}

/* ---- the answer parser, alone ---- */

TEST(parse_record_shapes) {
    octo_funcset *fs = funcs();
    REQUIRE(fs);
    char why[256];
    const char *fenced =
        "Sure! Here you go:\n```json\n{\"query\": \"text 555 hi then screenshot\", \"steps\": [\"Step 1: Text 555\","
        " \"2. Take a screenshot\"], \"calls\": [{\"function\": \"send_text_message\", \"arguments\": {\"phone_number\":"
        " \"555\", \"message\": \"hi\"}}, {\"name\": \"take_screenshot\", \"arguments\": \"{}\"}]}\n```\nAnything else?";
    cJSON *r = octo_teacher_parse_record(fs, fenced, 2, why, sizeof why);
    REQUIRE(r);
    cJSON *steps = cJSON_GetObjectItem(r, "steps");
    CHECK(!strcmp(cJSON_GetArrayItem(steps, 0)->valuestring, "Text 555"));
    CHECK(!strcmp(cJSON_GetArrayItem(steps, 1)->valuestring, "Take a screenshot"));
    cJSON *c1 = cJSON_GetArrayItem(cJSON_GetObjectItem(r, "calls"), 1);
    CHECK(!strcmp(cJSON_GetObjectItem(c1, "function")->valuestring, "take_screenshot"));
    CHECK(cJSON_IsObject(cJSON_GetObjectItem(c1, "arguments")));
    CHECK(!strcmp(cJSON_GetArrayItem(cJSON_GetObjectItem(r, "domains"), 0)->valuestring, "phone"));
    cJSON_Delete(r);

    /* the tools API's call shape, inside a wrapper object */
    const char *wrapped = "{\"record\": {\"query\": \"louder\", \"steps\": [\"Volume up\"], \"calls\": [{\"type\":"
                          " \"function\", \"function\": {\"name\": \"set_volume\", \"arguments\": \"{\\\"level\\\": 9,"
                          " \\\"stream\\\": \\\"media\\\"}\"}}]}}";
    r = octo_teacher_parse_record(fs, wrapped, 1, why, sizeof why);
    CHECKF(r != NULL, "%s", why);
    cJSON_Delete(r);

    /* thinking aloud, and an example object before the answer */
    const char *chatty = "<think>they want {\"steps\": 1}? no</think>For example {\"a\": {\"b\": 1}} is not it. "
                         "Answer: {\"query\": \"shot\", \"steps\": [\"Shoot\"], \"calls\": [{\"function\": "
                         "\"take_screenshot\"}]} {\"query\": \"second\"}";
    r = octo_teacher_parse_record(fs, chatty, 1, why, sizeof why);
    CHECKF(r && !strcmp(cJSON_GetObjectItem(r, "query")->valuestring, "shot"), "%s", why);
    cJSON_Delete(r);

    struct {
        const char *text;
        const char *why;
    } bad[] = {
        {"{\"query\": \"a\", \"steps\": [\"x\"], \"calls\": [{\"function\": \"take_screenshot\"}]}", "exactly 2"},
        {"{\"query\": \"a\", \"steps\": [\"x\", \"y\"], \"calls\": [{\"function\": \"fly\"}, {\"function\": "
         "\"take_screenshot\"}]}",
         "\"fly\" is not one of"},
        {"{\"query\": \"a\", \"steps\": [\"x\", \"y\"], \"calls\": [{\"function\": \"set_volume\", \"arguments\": "
         "{\"level\": 3, \"stream\": \"alarm\"}}, {\"function\": \"take_screenshot\"}]}",
         "set_volume"},
        {"{\"query\": \"  \", \"steps\": [\"x\", \"y\"], \"calls\": []}", "exactly 2"},
        {"no JSON here, sorry", "no JSON object"},
        {"{\"query\": \"call take_screenshot twice\", \"steps\": [\"x\", \"y\"], \"calls\": [{\"function\": "
         "\"take_screenshot\"}, {\"function\": \"take_screenshot\"}]}",
         "names the function take_screenshot"},
        {"{\"query\": 5}", "\"query\" must be a string"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        why[0] = 0;
        r = octo_teacher_parse_record(fs, bad[i].text, 2, why, sizeof why);
        CHECKF(r == NULL && strstr(why, bad[i].why), "case %zu: why=\"%s\"", i, why);
        cJSON_Delete(r);
    }
    octo_funcset_free(fs);
}

TEST(parse_hostile_answers) {
    octo_funcset *fs = funcs();
    REQUIRE(fs);
    char why[256];
    size_t n = 1 << 20;
    char *s = malloc(n + 1);
    REQUIRE(s);
    const char fills[] = {'{', '[', '"', '\\', '}'};
    for (size_t f = 0; f < sizeof fills; f++) {
        memset(s, fills[f], n);
        s[n] = 0;
        double t0 = now_s();
        cJSON *r = octo_teacher_parse_record(fs, s, 1, why, sizeof why);
        CHECK(r == NULL);
        CHECKF(now_s() - t0 < 2.0, "fill '%c' took %.1f s", fills[f], now_s() - t0);
        cJSON_Delete(r);
        char *reason = NULL;
        CHECK(octo_teacher_parse_verdict(s, &reason, why, sizeof why) == -1 && !reason);
    }
    for (size_t i = 0; i < n; i++) s[i] = (char)(1 + t_rand_u64() % 255);
    cJSON *r = octo_teacher_parse_record(fs, s, 3, why, sizeof why);
    CHECK(r == NULL);
    cJSON_Delete(r);
    free(s);
    octo_funcset_free(fs);
}

TEST(parse_verdicts) {
    char why[256], *reason;
    CHECK(octo_teacher_parse_verdict("{\"valid\": true, \"reason\": \"fine\"}", &reason, why, sizeof why) == 1);
    CHECK(reason && !strcmp(reason, "fine"));
    free(reason);
    CHECK(octo_teacher_parse_verdict("```json\n{\"valid\": false, \"reason\": \"step 2 is missing\"}\n```", &reason,
                                     why, sizeof why) == 0);
    CHECK(reason && strstr(reason, "missing"));
    free(reason);
    CHECK(octo_teacher_parse_verdict("{\"verdict\": \"invalid\"}", &reason, why, sizeof why) == 0);
    free(reason);
    CHECK(octo_teacher_parse_verdict("The record {\"query\": \"x\"} is fine: {\"verdict\": \"valid\"}", &reason, why,
                                     sizeof why) == 1);
    free(reason);
    CHECK(octo_teacher_parse_verdict("**Yes.** Every step maps to a call.", &reason, why, sizeof why) == 1);
    CHECK(reason && !strcmp(reason, "Every step maps to a call."));
    free(reason);
    CHECK(octo_teacher_parse_verdict("No - the order is wrong", &reason, why, sizeof why) == 0);
    free(reason);
    CHECK(octo_teacher_parse_verdict("Nothing to say.", &reason, why, sizeof why) == -1 && !reason);
    CHECK(octo_teacher_parse_verdict("{\"valid\": \"maybe\"}", &reason, why, sizeof why) == -1 && !reason);
}

TEST(chat_protocol_pieces) {
    char *e = octo_chat_endpoint("http://h:1/v1/");
    CHECK(!strcmp(e, "http://h:1/v1/chat/completions"));
    free(e);
    e = octo_chat_endpoint("http://h:1/v1/chat/completions");
    CHECK(!strcmp(e, "http://h:1/v1/chat/completions"));
    free(e);
    cJSON *m = cJSON_CreateArray();
    octo_chat_add(m, "user", "hi \"there\"");
    char *b = octo_chat_body("gpt", m, 0.7, 42);
    cJSON *j = cJSON_Parse(b);
    CHECK(!strcmp(cJSON_GetObjectItem(j, "model")->valuestring, "gpt"));
    CHECK(cJSON_GetObjectItem(j, "seed")->valuedouble == 42);
    CHECK_NEAR(cJSON_GetObjectItem(j, "temperature")->valuedouble, 0.7, 1e-9);
    CHECK(!strcmp(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "messages"), 0), "content")->valuestring,
                  "hi \"there\""));
    cJSON_Delete(j);
    free(b);
    cJSON_Delete(m);
    char why[128];
    const char *ok = "{\"choices\": [{\"message\": {\"role\": \"assistant\", \"content\": \"hello\"}}]}";
    char *c = octo_chat_content(ok, strlen(ok), why, sizeof why);
    CHECK(c && !strcmp(c, "hello"));
    free(c);
    CHECK(!octo_chat_content("{\"choices\": []}", 15, why, sizeof why) && strstr(why, "choices[0]"));
    CHECK(!octo_chat_content("<html>", 6, why, sizeof why) && strstr(why, "not JSON"));
}

/* ---- against the server ---- */

TEST(generate_records) {
    if (!have_python()) SKIP("python3 or " SERVER " is absent");
    octo_funcset *fs = funcs();
    REQUIRE(fs);
    server s;
    REQUIRE(server_start(&s, "--prose", NULL) == 0);
    octo_teacher_opts o;
    char url[128], out[512];
    opts_for(&o, &s, url, sizeof url);
    snprintf(out, sizeof out, "%s/gen.jsonl", t_tmpdir());
    int n = octo_teacher_generate(fs, &o, 12, out);
    CHECKF(n == 12, "got %d: %s", n, octo_last_error());
    unsigned char seen[64];
    CHECK(check_file(fs, out, seen, 64) == 12);
    for (int i = 0; i < 12; i++) CHECK(seen[i]);
    /* every function had its turn as the plan's anchor */
    int used[3] = {0};
    octo_record *rs;
    int nr, nbad;
    REQUIRE(octo_records_read(out, true, &rs, &nr, &nbad) == 0);
    for (int i = 0; i < nr; i++)
        for (int c = 0; c < rs[i].n_calls; c++) used[octo_funcset_find(fs, rs[i].calls[c].function)]++;
    CHECK(used[0] && used[1] && used[2]);
    octo_records_free(rs, nr);
    /* a rerun with everything done asks nothing */
    int before = server_stat(&s, "requests");
    CHECK(octo_teacher_generate(fs, &o, 12, out) == 12);
    CHECK(server_stat(&s, "requests") == before);
    server_stop(&s);
    octo_funcset_free(fs);
}

TEST(retries_429_timeouts_500_garbage) {
    if (!have_python()) SKIP("python3 or " SERVER " is absent");
    octo_funcset *fs = funcs();
    REQUIRE(fs);
    server s;
    REQUIRE(server_start(&s, "--fail-429", "3", "--retry-after", "1", "--slow-every", "6", "--slow-seconds", "3",
                         "--error-every", "7", "--garbage-every", "5", NULL) == 0);
    octo_teacher_opts o;
    char url[128], out[512];
    opts_for(&o, &s, url, sizeof url);
    o.timeout_ms = 700;
    o.max_retries = 6;
    snprintf(out, sizeof out, "%s/retry.jsonl", t_tmpdir());
    double t0 = now_s();
    int n = octo_teacher_generate(fs, &o, 10, out);
    double dt = now_s() - t0;
    CHECKF(n == 10, "got %d: %s", n, octo_last_error());
    unsigned char seen[64];
    CHECK(check_file(fs, out, seen, 64) == 10);
    CHECK(server_stat(&s, "429") == 3);
    CHECK(server_stat(&s, "slow") >= 1);
    CHECK(server_stat(&s, "500") >= 1);
    CHECK(server_stat(&s, "garbage") >= 1);
    CHECKF(dt >= 1.0, "Retry-After: 1 was not honoured (%.2f s)", dt); /* the 429s asked for a second */
    server_stop(&s);
    octo_funcset_free(fs);
}

TEST(kill_and_resume) {
    if (!have_python()) SKIP("python3 or " SERVER " is absent");
    octo_funcset *fs = funcs();
    REQUIRE(fs);
    server s;
    REQUIRE(server_start(&s, "--delay", "0.2", NULL) == 0); /* 25 records take about 1.7 s */
    octo_teacher_opts o;
    char url[128], out[512];
    opts_for(&o, &s, url, sizeof url);
    o.in_flight = 3;
    snprintf(out, sizeof out, "%s/kill.jsonl", t_tmpdir());
    const int N = 25;
    pid_t child = fork();
    if (child == 0) _exit(octo_teacher_generate(fs, &o, N, out) == N ? 0 : 1);
    double t0 = now_s();
    while (count_lines(out) < 5 && now_s() - t0 < 20) usleep(5000);
    kill(child, SIGKILL);
    int st;
    waitpid(child, &st, 0);
    CHECK(WIFSIGNALED(st));
    int at_kill = count_lines(out);
    CHECKF(at_kill >= 5 && at_kill < N, "%d records at the kill", at_kill);
    /* a write cut short by a crash: its line has no newline and must go */
    FILE *f = fopen(out, "a");
    fputs("{\"query\": \"half a rec", f);
    fclose(f);
    /* requests the killed run had sent may still reach the server's count:
     * wait until it settles before taking the baseline */
    int before = server_stat(&s, "requests");
    for (int tries = 0; tries < 50; tries++) {
        usleep(300000);
        int now = server_stat(&s, "requests");
        if (now == before) break;
        before = now;
    }
    int n = octo_teacher_generate(fs, &o, N, out);
    CHECKF(n == N, "got %d: %s", n, octo_last_error());
    unsigned char seen[64];
    CHECK(check_file(fs, out, seen, 64) == N);
    for (int i = 0; i < N; i++) CHECK(seen[i]);
    /* the rerun asked only for what was missing */
    CHECKF(server_stat(&s, "requests") - before == N - at_kill, "asked %d for %d missing",
           server_stat(&s, "requests") - before, N - at_kill);
    server_stop(&s);
    octo_funcset_free(fs);
}

TEST(sigint_stops_cleanly) {
    if (!have_python()) SKIP("python3 or " SERVER " is absent");
    octo_funcset *fs = funcs();
    REQUIRE(fs);
    server s;
    REQUIRE(server_start(&s, "--delay", "0.1", NULL) == 0);
    octo_teacher_opts o;
    char url[128], out[512];
    opts_for(&o, &s, url, sizeof url);
    o.in_flight = 2;
    snprintf(out, sizeof out, "%s/int.jsonl", t_tmpdir());
    pid_t child = fork();
    if (child == 0) {
        int n = octo_teacher_generate(fs, &o, 40, out);
        _exit(n < 0 && strstr(octo_last_error(), "interrupted") && strstr(octo_last_error(), "run again") ? 3 : 4);
    }
    double t0 = now_s();
    while (count_lines(out) < 2 && now_s() - t0 < 20) usleep(5000);
    /* a second run on the same file meanwhile is turned away, not interleaved */
    CHECK(octo_teacher_generate(fs, &o, 40, out) == -1);
    CHECKF(strstr(octo_last_error(), "another run") != NULL, "%s", octo_last_error());
    kill(child, SIGINT);
    int st;
    waitpid(child, &st, 0);
    CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == 3, "status %d", st);
    unsigned char seen[64];
    int n = check_file(fs, out, seen, 64);
    CHECK(n >= 2 && n < 40);
    server_stop(&s);
    octo_funcset_free(fs);
}

TEST(repeated_requests_are_refused) {
    if (!have_python()) SKIP("python3 or " SERVER " is absent");
    octo_funcset *fs = funcs();
    REQUIRE(fs);
    server s;
    REQUIRE(server_start(&s, "--same-query", NULL) == 0);
    octo_teacher_opts o;
    char url[128], out[512];
    opts_for(&o, &s, url, sizeof url);
    o.max_asks = 2;
    o.in_flight = 1;
    snprintf(out, sizeof out, "%s/same.jsonl", t_tmpdir());
    /* the first record is kept; every later one repeats it, is asked again,
     * given up, replaced, until the run stops saying why */
    CHECK(octo_teacher_generate(fs, &o, 4, out) == -1);
    CHECKF(strstr(octo_last_error(), "same request") != NULL, "%s", octo_last_error());
    CHECK(count_lines(out) == 1);
    /* a rerun knows the request in the file, so it asks again too */
    CHECK(octo_teacher_generate(fs, &o, 4, out) == -1 && count_lines(out) == 1);
    server_stop(&s);
    octo_funcset_free(fs);
}

TEST(judge_verdicts) {
    if (!have_python()) SKIP("python3 or " SERVER " is absent");
    octo_funcset *fs = funcs();
    REQUIRE(fs);
    server s;
    REQUIRE(server_start(&s, "--garbage-every", "4", NULL) == 0);
    octo_teacher_opts o;
    char url[128];
    opts_for(&o, &s, url, sizeof url);
    const char *lines[] = {
        "{\"query\": \"text 555 that I am late\", \"steps\": [\"Text 555\"], \"calls\": [{\"function\": "
        "\"send_text_message\", \"arguments\": {\"phone_number\": \"555\", \"message\": \"I am late\"}}]}",
        "{\"query\": \"text 555 that I am late\", \"steps\": [\"Text 555\"], \"calls\": [{\"function\": "
        "\"send_text_message\", \"arguments\": {\"phone_number\": \"777\", \"message\": \"I am late\"}}]}",
        "{\"query\": \"take a screenshot\", \"steps\": [\"Screenshot\"], \"calls\": [{\"function\": "
        "\"take_screenshot\", \"arguments\": {}}]}",
        "{\"query\": \"take a screenshot\", \"steps\": [\"Screenshot\"], \"calls\": [{\"function\": "
        "\"launch_rocket\", \"arguments\": {}}]}",
        "{\"query\": \"media volume to media 3\", \"steps\": [\"Volume\"], \"calls\": [{\"function\": "
        "\"set_volume\", \"arguments\": {\"level\": 3, \"stream\": \"media\"}}]}",
    };
    const int n = 5;
    octo_record recs[5];
    char why[256];
    for (int i = 0; i < n; i++) {
        cJSON *j = cJSON_Parse(lines[i]);
        REQUIRE(octo_record_from_json(j, &recs[i], why, sizeof why) == 0);
        cJSON_Delete(j);
    }
    int v[5];
    char *reasons[5];
    int judged = octo_teacher_judge(fs, &o, recs, n, v, reasons);
    CHECKF(judged == n, "judged %d: %s", judged, octo_last_error());
    int want[5] = {1, 0, 1, 0, 1};
    for (int i = 0; i < n; i++) CHECKF(v[i] == want[i], "record %d: verdict %d", i, v[i]);
    CHECK(reasons[1] && strstr(reasons[1], "777"));
    CHECK(reasons[3] && strstr(reasons[3], "launch_rocket"));
    CHECK(server_stat(&s, "garbage") >= 1); /* and the judge asked again */
    for (int i = 0; i < n; i++) {
        free(reasons[i]);
        octo_record_free(&recs[i]);
    }
    server_stop(&s);
    octo_funcset_free(fs);
}

TEST(clear_errors) {
    octo_funcset *fs = funcs();
    REQUIRE(fs);
    char out[512];
    snprintf(out, sizeof out, "%s/err.jsonl", t_tmpdir());
    octo_teacher_opts o;
    octo_teacher_opts_default(&o);
    o.model = "m";
    o.backoff_ms = 10;
    o.max_retries = 1;
    o.timeout_ms = 2000;

    /* a port nobody listens on: refused, retried, then a clear error */
    int sock = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    bind(sock, (struct sockaddr *)&a, sizeof a);
    getsockname(sock, (struct sockaddr *)&a, &al);
    close(sock);
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1", ntohs(a.sin_port));
    o.url = url;
    CHECK(octo_teacher_generate(fs, &o, 3, out) == -1);
    CHECKF(strstr(octo_last_error(), "127.0.0.1") && strstr(octo_last_error(), "gave up after 2 attempts") &&
               (strstr(octo_last_error(), "refused") || strstr(octo_last_error(), "connect")),
           "%s", octo_last_error());

    o.url = "htp://127.0.0.1/v1"; /* not a protocol: fatal at once */
    double t0 = now_s();
    CHECK(octo_teacher_generate(fs, &o, 3, out) == -1);
    CHECKF(strstr(octo_last_error(), "htp://") != NULL, "%s", octo_last_error());
    CHECK(now_s() - t0 < 1.0);

    o.url = NULL;
    CHECK(octo_teacher_generate(fs, &o, 3, out) == -1 && strstr(octo_last_error(), "no URL"));

    if (have_python()) { /* a wrong key: 401, not retried, the server's message shown */
        server s;
        REQUIRE(server_start(&s, "--require-key", "sekrit", NULL) == 0);
        snprintf(url, sizeof url, "http://127.0.0.1:%d/v1/chat/completions", s.port);
        o.url = url;
        o.max_retries = 5;
        o.in_flight = 1; /* so the count of 401s says whether any was retried */
        o.key_env = "OCTO_TEST_TEACHER_KEY";
        unsetenv("OCTO_TEST_TEACHER_KEY");
        CHECK(octo_teacher_generate(fs, &o, 2, out) == -1);
        CHECKF(strstr(octo_last_error(), "HTTP 401") && strstr(octo_last_error(), "Incorrect API key") &&
                   strstr(octo_last_error(), "no API key was sent"),
               "%s", octo_last_error());
        CHECK(server_stat(&s, "401") == 1);
        setenv("OCTO_TEST_TEACHER_KEY", "sekrit", 1);
        int n = octo_teacher_generate(fs, &o, 2, out);
        CHECKF(n == 2, "%d: %s", n, octo_last_error());
        unsetenv("OCTO_TEST_TEACHER_KEY");
        server_stop(&s);
    }
    /* a file that is not the teacher's: refused, not appended to */
    char other[512];
    snprintf(other, sizeof other, "%s/other.jsonl", t_tmpdir());
    FILE *f = fopen(other, "w");
    fputs("{\"query\": \"q\", \"steps\": [], \"calls\": []}\n", f);
    fclose(f);
    o.url = "http://127.0.0.1:9/v1";
    CHECK(octo_teacher_generate(fs, &o, 3, other) == -1);
    CHECKF(strstr(octo_last_error(), "other.jsonl:1") && strstr(octo_last_error(), "teacher_index"), "%s",
           octo_last_error());
    octo_funcset_free(fs);
}

TEST(rate_limit) {
    if (!have_python()) SKIP("python3 or " SERVER " is absent");
    octo_funcset *fs = funcs();
    REQUIRE(fs);
    server s;
    REQUIRE(server_start(&s, NULL) == 0);
    octo_teacher_opts o;
    char url[128], out[512];
    opts_for(&o, &s, url, sizeof url);
    o.rate_per_s = 20;
    o.in_flight = 8;
    snprintf(out, sizeof out, "%s/rate.jsonl", t_tmpdir());
    double t0 = now_s();
    CHECK(octo_teacher_generate(fs, &o, 11, out) == 11);
    double dt = now_s() - t0;
    CHECKF(dt >= 0.45, "11 requests at 20/s took %.3f s", dt); /* 10 gaps of 50 ms */
    server_stop(&s);
    octo_funcset_free(fs);
}

int main(void) {
    setenv("NO_PROXY", "127.0.0.1,localhost", 1); /* loopback never goes through a proxy */
    signal(SIGPIPE, SIG_IGN);
    RUN(parse_record_shapes);
    RUN(parse_hostile_answers);
    RUN(parse_verdicts);
    RUN(chat_protocol_pieces);
    RUN(generate_records);
    RUN(retries_429_timeouts_500_garbage);
    RUN(kill_and_resume);
    RUN(sigint_stops_cleanly);
    RUN(repeated_requests_are_refused);
    RUN(judge_verdicts);
    RUN(clear_errors);
    RUN(rate_limit);
    return t_finish();
}
