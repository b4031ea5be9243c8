/* test_eval_run.c - the `octo eval` driver's inputs and library API:
 * telling TaskBench records from canonical ones, the lenient predictions
 * reader (partial runs, arguments as JSON text, null), errors that name
 * FILE:LINE, hostile bytes, and octo_eval_run in predictions mode (the
 * model mode runs end to end in tests/cli/eval_models.sh). */
#include "testlib.h"

#include "octo.h"
#include "agent/funcset.h"
#include "eval/eval_run.h"

static const char *k_set =
    "{\"name\": \"mini\", \"functions\": ["
    "{\"name\": \"set_alarm\", \"description\": \"Set an alarm\", \"parameters\": {\"type\": \"object\","
    " \"properties\": {\"time\": {\"type\": \"string\"}}, \"required\": [\"time\"]}},"
    "{\"name\": \"take_photo\", \"description\": \"Take a photo\", \"parameters\": {\"type\": \"object\","
    " \"properties\": {}}}]}";

static const char *put(const char *name, const char *text) {
    static char path[8][512];
    static int k;
    char *p = path[k++ % 8];
    snprintf(p, 512, "%s/%s", t_tmpdir(), name);
    FILE *f = fopen(p, "wb");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
    return p;
}

TEST(detects_taskbench) {
    CHECK(octo_eval_is_taskbench(put("a.jsonl", "{\"query\": \"x\", \"steps\": [], \"calls\": []}\n")) == 0);
    CHECK(octo_eval_is_taskbench(put("b.jsonl", "\n\n{\"id\": \"1\", \"task_steps\": [], \"task_nodes\": []}\n")) == 1);
    CHECK(octo_eval_is_taskbench(put("c.json", "  [{\"id\": 1}]")) == 1);
    CHECK(octo_eval_is_taskbench(put("d.jsonl", "{oops\n")) == 0); /* the canonical reader names the line */
    CHECK(octo_eval_is_taskbench(put("e.jsonl", "")) == 0);
    CHECK(octo_eval_is_taskbench("/nonexistent/x.jsonl") == -1);
}

TEST(predictions_lenient) {
    const char *p = put("p.jsonl",
                        "{\"query\": \"a\", \"steps\": [\"s1\", \"s2\"], \"calls\": [{\"function\": \"set_alarm\","
                        " \"arguments\": \"{\\\"time\\\": \\\"07:00\\\"}\"}], \"error\": \"step 2 failed\"}\n"
                        "\n"
                        "null\n"
                        "{}\n"
                        "{\"calls\": [{\"function\": \"take_photo\"}], \"links\": [[0, 0]]}\n");
    octo_record *r = NULL;
    int n = 0;
    REQUIRE(octo_eval_read_preds(p, &r, &n) == 0);
    REQUIRE(n == 4);
    CHECK(r[0].n_steps == 2 && r[0].n_calls == 1 && !strcmp(r[0].query, "a"));
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(r[0].calls[0].arguments, "time");
    CHECK(cJSON_IsString(t) && !strcmp(t->valuestring, "07:00"));
    CHECK(r[1].n_steps == 0 && r[1].n_calls == 0 && !r[1].query);
    CHECK(r[2].n_calls == 0);
    CHECK(r[3].n_calls == 1 && cJSON_IsObject(r[3].calls[0].arguments) && r[3].extra &&
          cJSON_GetObjectItemCaseSensitive(r[3].extra, "links"));
    octo_records_free(r, n);
}

TEST(prediction_errors_name_the_line) {
    static const struct {
        const char *text, *want;
    } cases[] = {
        {"{}\n[1]\n", ":2: expected a JSON object"},
        {"{}\n{\"steps\": \"x\"}\n", ":2: \"steps\": expected an array"},
        {"{\"steps\": [1]}\n", ":1: \"steps\"[0]: expected a string"},
        {"{\"calls\": [{\"arguments\": {}}]}\n", ":1: \"calls\"[0].function"},
        {"{\"calls\": [{\"function\": \"f\", \"arguments\": \"[1]\"}]}\n", "not a JSON object"},
        {"{\"calls\": [{\"function\": \"f\", \"arguments\": 3}]}\n", "arguments: expected an object"},
        {"{\"links\": 3}\n", "\"links\": expected an array"},
        {"{\n", ":1: not valid JSON"},
        {"\n\n", "no predictions"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        octo_record *r = NULL;
        int n = 0;
        const char *p = put("bad.jsonl", cases[i].text);
        CHECKF(octo_eval_read_preds(p, &r, &n) == -1 && strstr(octo_last_error(), cases[i].want) &&
                   strstr(octo_last_error(), p),
               "case %zu: %s", i, octo_last_error());
        CHECK(r == NULL && n == 0);
    }
}

/* Random bytes and mutated lines: every read ends in 0 or -1, never a crash. */
TEST(hostile_input) {
    const char *seed = "{\"query\": \"a\", \"steps\": [\"s\"], \"calls\": [{\"function\": \"set_alarm\", \"arguments\": "
                       "{\"time\": \"7\"}}], \"links\": [[0, 1]]}\n"
                       "{\"id\": \"1\", \"task_steps\": [\"x\"], \"task_nodes\": [{\"task\": \"take_photo\"}]}\n";
    octo_funcset *fs = octo_funcset_parse(k_set, strlen(k_set), "set");
    REQUIRE(fs);
    char buf[400];
    size_t len = strlen(seed);
    int ok = 0;
    for (int it = 0; it < 400; it++) {
        memcpy(buf, seed, len + 1);
        int edits = 1 + (int)(t_rand_u64() % 6);
        for (int e = 0; e < edits; e++) {
            size_t at = t_rand_u64() % len;
            buf[at] = it % 3 == 0 ? (char)(t_rand_u64() % 256) : "{}[]\",:0\n n"[t_rand_u64() % 12];
        }
        if (it % 2) memmove(buf, buf + 1 + len / 2, strlen(buf + 1 + len / 2) + 1); /* TaskBench first */
        const char *p = put("fuzz.jsonl", buf);
        octo_record *r = NULL;
        int n = 0, skipped = 0;
        bool tb = false;
        if (octo_eval_read_preds(p, &r, &n) == 0) ok++, octo_records_free(r, n);
        if (octo_eval_read_refs(p, fs, &r, &n, &tb, &skipped) == 0) ok++, octo_records_free(r, n);
    }
    CHECK(ok > 0);
    octo_funcset_free(fs);
}

TEST(run_predictions_mode) {
    octo_funcset *fs = octo_funcset_parse(k_set, strlen(k_set), "set");
    REQUIRE(fs);
    const char *test = put("t.jsonl",
                           "{\"query\": \"Wake me at 7\", \"steps\": [\"Set an alarm for 7\"], \"calls\": [{\"function\": "
                           "\"set_alarm\", \"arguments\": {\"time\": \"07:00\"}}]}\n"
                           "{\"query\": \"Photo then alarm\", \"steps\": [\"Take a photo\", \"Set an alarm\"], \"calls\": "
                           "[{\"function\": \"take_photo\", \"arguments\": {}}, {\"function\": \"set_alarm\", "
                           "\"arguments\": {\"time\": \"08:00\"}}]}\n");
    const char *pred = put("pr.jsonl",
                           "{\"steps\": [\"Set an alarm for 7\"], \"calls\": [{\"function\": \"set_alarm\", "
                           "\"arguments\": {\"time\": \"07:00\"}}]}\n"
                           "{\"steps\": [\"Take a photo\"], \"calls\": [{\"function\": \"take_photo\"}]}\n");
    octo_eval_params p;
    octo_eval_params_default(&p);
    p.data = test;
    p.predictions = pred;
    octo_eval_result *r = octo_eval_run(fs, &p);
    REQUIRE(r);
    CHECK(octo_eval_result_n(r) == 2);
    CHECK_NEAR(r->sum.overall.exact_plan, 0.5, 1e-12);
    CHECK_NEAR(r->sum.overall.arg_acc, 2.0 / 3, 1e-12); /* 3 reference calls, 2 answered */
    CHECK(r->sum.by_len[1].n == 1 && r->sum.by_len[2].n == 1);
    char *js = octo_eval_result_json(r);
    CHECK(js && strstr(js, "\"records\":2"));
    free(js);
    char dir[600];
    snprintf(dir, sizeof dir, "%s/report", t_tmpdir());
    CHECK(octo_eval_result_write(r, dir) == 0);
    snprintf(dir, sizeof dir, "%s/report/report.json", t_tmpdir());
    size_t sz = 0;
    char *rep = octo_read_file(dir, &sz);
    CHECK(rep && sz > 100);
    free(rep);
    octo_eval_result_free(r);

    /* fewer predictions than records, and no models at all: errors, no result */
    p.limit = 0;
    p.predictions = put("one.jsonl", "null\n");
    CHECK(!octo_eval_run(fs, &p) && strstr(octo_last_error(), "1 predictions for 2 test records"));
    p.predictions = NULL;
    CHECK(!octo_eval_run(fs, &p) && strstr(octo_last_error(), "a planner and an action model"));
    octo_funcset_free(fs);
}

int main(void) {
    RUN(detects_taskbench);
    RUN(predictions_lenient);
    RUN(prediction_errors_name_the_line);
    RUN(hostile_input);
    RUN(run_predictions_mode);
    return t_finish();
}
