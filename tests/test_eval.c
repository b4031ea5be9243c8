/* test_eval.c - evaluation metrics and the report, on cases worked by hand.
 *
 * Exact plan accuracy with chains and DAGs (any order that keeps the links,
 * repeated function names), TaskBench's micro F1s over per-sample unions
 * (hallucinated functions count for neither side of node F1, as in its
 * evaluate.py), ROUGE against values computed by hand with rouge_score's
 * rules, latency percentiles as numpy computes them, and the report files:
 * JSON that parses, Markdown with the numbers, SVG that is well-formed XML,
 * nothing half-written or left over.
 */
#include <dirent.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/error.h"
#include "base/file.h"
#include "eval/metrics.h"
#include "eval/report.h"
#include "eval/svg.h"
#include "testlib.h"

static const char *k_set =
    "[{\"name\": \"a\", \"description\": \"A\", \"parameters\": {\"type\": \"object\", \"properties\": {\"x\": "
    "{\"type\": \"integer\"}}}},"
    " {\"name\": \"b\", \"description\": \"B\", \"parameters\": {\"type\": \"object\", \"properties\": {\"y\": "
    "{\"type\": \"string\"}}}},"
    " {\"name\": \"c\", \"description\": \"C\", \"parameters\": {\"type\": \"object\", \"properties\": {}}}]";

static int rec(const char *json, octo_record *r) {
    cJSON *j = cJSON_Parse(json);
    char why[256];
    int rc = octo_record_from_json(j, r, why, sizeof why);
    if (rc) fprintf(stderr, "    record: %s: %s\n", why, json);
    cJSON_Delete(j);
    return rc;
}

TEST(plan_orders) {
    const char *abc[] = {"a", "b", "c"}, *bac[] = {"b", "a", "c"}, *acb[] = {"a", "c", "b"}, *cab[] = {"c", "a", "b"};
    const int chain[][2] = {{0, 1}, {1, 2}};
    CHECK(octo_eval_plan_matches(abc, 3, abc, 3, chain, 2, NULL));
    CHECK(!octo_eval_plan_matches(bac, 3, abc, 3, chain, 2, NULL));
    CHECK(!octo_eval_plan_matches(abc, 2, abc, 3, chain, 2, NULL)); /* a prefix is not the plan */
    /* a and b both feed c: a-b-c and b-a-c are right, nothing else */
    const int dag[][2] = {{0, 2}, {1, 2}};
    int assign[3];
    CHECK(octo_eval_plan_matches(bac, 3, abc, 3, dag, 2, assign));
    CHECK(assign[0] == 1 && assign[1] == 0 && assign[2] == 2);
    CHECK(octo_eval_plan_matches(abc, 3, abc, 3, dag, 2, NULL));
    CHECK(!octo_eval_plan_matches(acb, 3, abc, 3, dag, 2, NULL));
    CHECK(!octo_eval_plan_matches(cab, 3, abc, 3, dag, 2, NULL));
    /* no links at all: any order of the same calls */
    CHECK(octo_eval_plan_matches(cab, 3, abc, 3, NULL, 0, NULL));
    const char *xx[] = {"a", "b", "a"}, *aab[] = {"a", "a", "b"};
    /* repeated names: the search finds which "a" is which */
    const int first_a_before_b[][2] = {{0, 1}};
    CHECK(octo_eval_plan_matches(aab, 3, xx, 3, first_a_before_b, 1, assign));
    CHECK(assign[2] == 1 && assign[0] != assign[1]);
    CHECK(!octo_eval_plan_matches(aab, 3, xx, 3, chain, 2, NULL));
    /* links out of range or to themselves are ignored, not trusted */
    const int junk[][2] = {{-1, 2}, {0, 99}, {1, 1}};
    CHECK(octo_eval_plan_matches(cab, 3, abc, 3, junk, 3, NULL));
}

TEST(plan_search_is_bounded) {
    /* 40 calls of one name with no links has 40! orders: the first one found is enough */
    const char *same[40];
    for (int i = 0; i < 40; i++) same[i] = "a";
    CHECK(octo_eval_plan_matches(same, 40, same, 40, NULL, 0, NULL));
    /* a hopeless search (the last name differs) stops at its step limit, fast */
    const char *other[40];
    for (int i = 0; i < 40; i++) other[i] = i == 39 ? "b" : "a";
    clock_t t0 = clock();
    CHECK(!octo_eval_plan_matches(other, 40, same, 40, NULL, 0, NULL));
    CHECK((double)(clock() - t0) / CLOCKS_PER_SEC < 2.0);
    const char *many[100];
    for (int i = 0; i < 100; i++) many[i] = i % 2 ? "x" : "y";
    CHECK(octo_eval_plan_matches(many, 100, many, 100, NULL, 0, NULL)); /* > 64: compared in order */
}

TEST(rouge_known_values) {
    /* worked by hand with rouge_score's rules (no stemming) */
    CHECK_NEAR(octo_rouge_n("the cat sat on the mat", "the cat is on the mat", 1), 5.0 / 6, 1e-12);
    CHECK_NEAR(octo_rouge_n("the cat sat on the mat", "the cat is on the mat", 2), 0.6, 1e-12);
    CHECK_NEAR(octo_rouge_l("the cat sat on the mat", "the cat is on the mat"), 5.0 / 6, 1e-12);
    CHECK_NEAR(octo_rouge_n("a b", "a b c d", 1), 2.0 / 3, 1e-12);   /* P 1, R 1/2 */
    CHECK_NEAR(octo_rouge_n("a b", "a b c d", 2), 0.5, 1e-12);       /* P 1, R 1/3 */
    CHECK_NEAR(octo_rouge_n("a a a", "a", 1), 0.5, 1e-12);           /* counts are clipped: P 1/3, R 1 */
    CHECK_NEAR(octo_rouge_l("c b a", "a b c"), 1.0 / 3, 1e-12);   /* LCS 1 */
    CHECK_NEAR(octo_rouge_l("a x b y c", "a b c"), 0.75, 1e-12);  /* LCS 3: P 3/5, R 1 */
    /* tokens are lower-cased runs of [a-z0-9]; everything else separates */
    CHECK_NEAR(octo_rouge_n("Step 1: Call get_weather('Paris')", "step 1 call get weather paris", 2), 1.0, 1e-12);
    CHECK_NEAR(octo_rouge_n("caf\xc3\xa9 ol\xc3\xa9", "caf ol", 1), 1.0, 1e-12);
    CHECK_NEAR(octo_rouge_n("5\xe2\x84\xaa", "5k", 1), 1.0, 1e-12); /* Python lowers the Kelvin sign to k */
    CHECK(octo_rouge_n("", "a", 1) == 0 && octo_rouge_n("", "", 1) == 0 && octo_rouge_l("", "") == 0);
    CHECK(octo_rouge_n("!!! ???", "...", 1) == 0);
    CHECK(octo_rouge_n("a", "a", 2) == 0); /* no bigrams on either side */
}

/* Four records worked by hand; the expected counts are in the comments. */
TEST(metrics_by_hand) {
    octo_funcset *fs = octo_funcset_parse(k_set, strlen(k_set), "set");
    REQUIRE(fs);
    octo_eval *e = octo_eval_new(fs);
    REQUIRE(e);
    octo_record ref[4], pred[4];
    /* A: a chain, predicted exactly */
    REQUIRE(!rec("{\"query\": \"qa\", \"steps\": [\"do a\", \"do b\"], \"calls\": [{\"function\": \"a\", \"arguments\": "
                 "{\"x\": 1}}, {\"function\": \"b\", \"arguments\": {\"y\": \"u\"}}]}",
                 &ref[0]));
    REQUIRE(!rec("{\"query\": \"qa\", \"steps\": [\"do a\", \"do b\"], \"calls\": [{\"function\": \"a\", \"arguments\": "
                 "{\"x\": 1}}, {\"function\": \"b\", \"arguments\": {\"y\": \"u\"}}]}",
                 &pred[0]));
    /* B: a DAG (a and b feed c), predicted in the other valid order with a wrong x */
    REQUIRE(!rec("{\"query\": \"qb\", \"steps\": [\"s1\", \"s2\", \"s3\"], \"calls\": [{\"function\": \"a\", "
                 "\"arguments\": {\"x\": 1}}, {\"function\": \"b\", \"arguments\": {\"y\": \"u\"}}, {\"function\": "
                 "\"c\", \"arguments\": {}}], \"links\": [[0, 2], [1, 2]]}",
                 &ref[1]));
    REQUIRE(!rec("{\"query\": \"qb\", \"steps\": [\"s2\", \"s1\", \"s3\"], \"calls\": [{\"function\": \"b\", "
                 "\"arguments\": {\"y\": \"u\"}}, {\"function\": \"a\", \"arguments\": {\"x\": 2}}, {\"function\": "
                 "\"c\", \"arguments\": {}}]}",
                 &pred[1]));
    /* C: no plan came out */
    REQUIRE(!rec("{\"query\": \"qc\", \"steps\": [\"do a\"], \"calls\": [{\"function\": \"a\", \"arguments\": {\"x\": "
                 "1}}]}",
                 &ref[2]));
    /* D: a function that is not in the set */
    REQUIRE(!rec("{\"query\": \"qd\", \"steps\": [\"do c\"], \"calls\": [{\"function\": \"c\", \"arguments\": {}}], "
                 "\"task_links\": []}",
                 &ref[3]));
    REQUIRE(!rec("{\"query\": \"qd\", \"steps\": [\"do z\"], \"calls\": [{\"function\": \"zzz\", \"arguments\": {}}]}",
                 &pred[3]));
    for (int i = 0; i < 4; i++) {
        octo_eval_sample s;
        octo_eval_sample_default(&s);
        s.latency_ms = 10.0 * (i + 1);
        s.prompt_tokens = 10 + 5 * i;
        s.gen_tokens = 100;
        s.gen_seconds = 2.0;
        s.judge = i == 0 ? 1 : i == 1 ? 0 : -1;
        CHECK(octo_eval_add(e, i == 2 ? NULL : &pred[i], &ref[i], &s) == 0);
    }
    octo_eval_sample s;
    octo_eval_sample_default(&s);
    s.latency_ms = 50;
    CHECK(octo_eval_add(e, &pred[0], &ref[0], &s) == 0); /* A again: a fifth record, for the latency */
    octo_eval_summary sum;
    REQUIRE(octo_eval_finish(e, &sum) == 0);
    const octo_eval_scores *o = &sum.overall;
    CHECK(o->n == 5);
    CHECK_NEAR(o->exact_plan, 3.0 / 5, 1e-12); /* A, B, A */
    CHECK_NEAR(o->step_valid, 3.0 / 5, 1e-12); /* C has no plan, D calls zzz */
    CHECK_NEAR(o->arg_acc, 6.0 / 9, 1e-12);    /* ref calls 2+3+1+1+2; right 2+2+0+0+2 */
    CHECK_NEAR(o->exact_full, 2.0 / 5, 1e-12);
    /* node: tp 2+3+0+0+2, predicted 2+3+0+0+2 (zzz is no type), gold 2+3+1+1+2 */
    CHECK(o->node.tp == 7 && o->node.n_pred == 7 && o->node.n_gold == 9);
    CHECK_NEAR(o->node.f1, 2 * 1.0 * (7.0 / 9) / (1 + 7.0 / 9), 1e-12);
    /* edges: A a>b both; B gold {a>c, b>c}, predicted chain {b>a, a>c} */
    CHECK(o->edge.tp == 3 && o->edge.n_pred == 4 && o->edge.n_gold == 4);
    CHECK_NEAR(o->edge.f1, 0.75, 1e-12);
    /* argument names: A {a-x, b-y} twice, B {a-x, b-y} both, C gold {a-x} */
    CHECK(o->arg_name.tp == 6 && o->arg_name.n_pred == 6 && o->arg_name.n_gold == 7);
    /* values: B predicts a-x-2 where a-x-1 is right */
    CHECK(o->arg_value.tp == 5 && o->arg_value.n_pred == 6 && o->arg_value.n_gold == 7);
    CHECK_NEAR(o->arg_value.f1, 2 * (5.0 / 6) * (5.0 / 7) / (5.0 / 6 + 5.0 / 7), 1e-12);
    /* ROUGE-1: A 1, B 1 (same words), C 0, D: "do z" vs "do c" = 1/2, A 1 */
    CHECK_NEAR(o->rouge1, (1 + 1 + 0 + 0.5 + 1) / 5, 1e-12);
    CHECK(o->n_judged == 2 && o->judge_valid == 0.5);
    /* by plan length */
    CHECK(sum.by_len[1].n == 2 && sum.by_len[2].n == 2 && sum.by_len[3].n == 1 && sum.by_len[4].n == 0);
    CHECK(sum.by_len[1].exact_plan == 0 && sum.by_len[2].exact_plan == 1 && sum.by_len[3].exact_plan == 1);
    CHECK(sum.by_len[3].exact_full == 0);
    /* speed: latencies 10 20 30 40 50 -> p50 30, p95 48 (linear, as numpy) */
    CHECK(sum.n_latency == 5);
    CHECK_NEAR(sum.latency_p50_ms, 30, 1e-9);
    CHECK_NEAR(sum.latency_p95_ms, 48, 1e-9);
    CHECK_NEAR(sum.tokens_per_s, 50, 1e-9);
    CHECK_NEAR(sum.prompt_tokens_mean, 17.5, 1e-9); /* 10 15 20 25; the fifth was not measured */
    CHECK(sum.prompt_tokens_max == 25);
    CHECK(sum.peak_rss_kb > 0);
    /* the mistakes, in order: B (an argument), C (no plan), D */
    REQUIRE(sum.n_examples == 3);
    CHECK(!strcmp(sum.examples[0].query, "qb"));
    CHECK(strstr(sum.examples[0].predicted, "a{\"x\":2}") != NULL);
    CHECK(!strcmp(sum.examples[1].predicted, "(no plan)"));
    CHECK(!strcmp(sum.examples[2].expected, "c{}"));

    /* the report */
    char dir[512], path[600], logpath[600];
    snprintf(dir, sizeof dir, "%s/rep/nested", t_tmpdir());
    snprintf(logpath, sizeof logpath, "%s/train.jsonl", t_tmpdir());
    const char *log = "{\"step\":1,\"loss\":3.5}\n{\"step\":2,\"loss\":2.5,\"eval_loss\":2.9}\nnot json\n"
                      "{\"step\":3,\"loss\":1.5}\n{\"step\":4,\"loss\":1.25,\"eval_loss\":1.75}\n";
    REQUIRE(octo_write_file_atomic(logpath, log, strlen(log)) == 0);
    const char *logs[] = {logpath};
    octo_eval_paper_row rows[4];
    int nrows = octo_eval_paper_rows("taskbench-dailylife", &sum, rows, 4);
    CHECK(nrows == 3 && rows[0].paper == 96.91 && fabs(rows[0].ours - 100 * o->node.f1) < 1e-9);
    CHECK(octo_eval_paper_rows("octo-planner", &sum, rows, 4) == 1 && rows[0].paper == 98.1);
    CHECK(octo_eval_paper_rows("no-such", &sum, rows, 4) == 0);
    nrows = octo_eval_paper_rows("taskbench-dailylife", &sum, rows, 4);
    octo_eval_report_opts ro = {.title = "hand <cases> | 1", .planner = "p.gguf", .functions = "set.json",
                                .train_logs = logs, .n_train_logs = 1, .paper = rows, .n_paper = nrows};
    /* an old report is replaced whole */
    REQUIRE(octo_eval_write_report(&sum, &ro, dir) == 0);
    snprintf(path, sizeof path, "%s/report.md", dir);
    REQUIRE(octo_write_file_atomic(path, "old", 3) == 0);
    REQUIRE(octo_eval_write_report(&sum, &ro, dir) == 0);
    size_t n;
    char *md = octo_read_file(path, &n);
    REQUIRE(md);
    CHECK(strstr(md, "# Evaluation: hand <cases> \\| 1") != NULL);
    CHECK(strstr(md, "| exact plan accuracy | 60.00 | 0.00 | 100.00 | 100.00 |") != NULL);
    CHECK(strstr(md, "| records | 5 | 2 | 2 | 1 |") != NULL);
    CHECK(strstr(md, "| node F1 (TaskBench) | 87.50 |") != NULL);
    CHECK(strstr(md, "| node F1 | 96.91 | TaskBench, GPT-4 prompted (daily-life APIs) | 87.50 | -9.41 |") != NULL);
    CHECK(strstr(md, "| latency p50 / p95 / mean | 30.0 / 48.0 / 30.0 ms (5 requests) |") != NULL);
    CHECK(strstr(md, "![training loss](loss.svg)") && strstr(md, "![scores by plan length](accuracy_by_length.svg)"));
    CHECK(strstr(md, "| judge: valid | 50.00 |") != NULL);
    free(md);
    snprintf(path, sizeof path, "%s/report.json", dir);
    char *js = octo_read_file(path, &n);
    REQUIRE(js);
    cJSON *j = cJSON_Parse(js);
    REQUIRE(j);
    CHECK_NEAR(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "overall"), "exact_plan_accuracy")->valuedouble, 0.6, 1e-12);
    CHECK(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "by_plan_length"), "3"), "records")->valueint == 1);
    CHECK(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "speed"), "latency_p95_ms")->valuedouble == 48);
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(j, "mistakes")) == 3);
    cJSON_Delete(j);
    free(js);
    snprintf(path, sizeof path, "%s/loss.svg", dir);
    char *svg = octo_read_file(path, &n);
    REQUIRE(svg);
    CHECK(!strncmp(svg, "<svg", 4) && strstr(svg, "<polyline") && strstr(svg, "eval loss, train.jsonl"));
    free(svg);
    /* every file whole, well-formed, and no temporary file left behind */
    DIR *d = opendir(dir);
    REQUIRE(d);
    int files = 0;
    for (struct dirent *de; (de = readdir(d));) {
        if (de->d_name[0] == '.') continue;
        files++;
        CHECKF(!strcmp(de->d_name, "report.json") || !strcmp(de->d_name, "report.md") ||
                   !strcmp(de->d_name, "loss.svg") || !strcmp(de->d_name, "accuracy_by_length.svg"),
               "unexpected file %s", de->d_name);
    }
    closedir(d);
    CHECK(files == 4);
    if (system("python3 -c 'import xml.dom.minidom' >/dev/null 2>&1") == 0) {
        char cmd[1400];
        snprintf(cmd, sizeof cmd,
                 "python3 -c 'import sys, xml.dom.minidom as m; [m.parse(f) for f in sys.argv[1:]]' "
                 "'%s/loss.svg' '%s/accuracy_by_length.svg'",
                 dir, dir);
        CHECK(system(cmd) == 0);
    }
    /* a report into a path that cannot be a directory fails with a message */
    snprintf(path, sizeof path, "%s/report.md/x", dir);
    CHECK(octo_eval_write_report(&sum, &ro, path) == -1 && strstr(octo_last_error(), "report.md"));

    octo_eval_summary_free(&sum);
    for (int i = 0; i < 4; i++) {
        octo_record_free(&ref[i]);
        if (i != 2) octo_record_free(&pred[i]);
    }
    octo_eval_free(e);
    octo_funcset_free(fs);
}

TEST(taskbench_links_by_name) {
    /* TaskBench's own field: links by function name, in the reference */
    octo_eval *e = octo_eval_new(NULL);
    REQUIRE(e);
    octo_record ref, ok, bad;
    REQUIRE(!rec("{\"query\": \"q\", \"steps\": [\"1\", \"2\", \"3\"], \"calls\": [{\"function\": \"x\"}, "
                 "{\"function\": \"y\"}, {\"function\": \"z\"}], \"task_links\": [{\"source\": \"x\", \"target\": "
                 "\"z\"}, {\"source\": \"nowhere\", \"target\": \"z\"}, {\"bad\": 1}]}",
                 &ref));
    REQUIRE(!rec("{\"query\": \"q\", \"steps\": [\"2\", \"1\", \"3\"], \"calls\": [{\"function\": \"y\"}, "
                 "{\"function\": \"x\"}, {\"function\": \"z\"}]}",
                 &ok));
    REQUIRE(!rec("{\"query\": \"q\", \"steps\": [\"3\", \"1\", \"2\"], \"calls\": [{\"function\": \"z\"}, "
                 "{\"function\": \"x\"}, {\"function\": \"y\"}]}",
                 &bad));
    CHECK(octo_eval_add(e, &ok, &ref, NULL) == 0);
    CHECK(octo_eval_add(e, &bad, &ref, NULL) == 0);
    octo_eval_summary s;
    REQUIRE(octo_eval_finish(e, &s) == 0);
    CHECK_NEAR(s.overall.exact_plan, 0.5, 1e-12);
    CHECK(s.overall.step_valid == 1); /* no set given: every name exists */
    /* edges: task_links as written, the link from "nowhere" included (evaluate.py
     * takes the tuples by name), so gold {x>z, nowhere>z} twice; predicted
     * chains {y>x, x>z} and {z>x, x>y} */
    CHECK(s.overall.edge.tp == 1 && s.overall.edge.n_pred == 4 && s.overall.edge.n_gold == 4);
    octo_eval_summary_free(&s);
    octo_record_free(&ref);
    octo_record_free(&ok);
    octo_record_free(&bad);
    octo_eval_free(e);
}

TEST(svg_survives_odd_data) {
    double x[] = {1, 2, NAN, 4, INFINITY}, y[] = {1, NAN, 3, 4, 5};
    octo_svg_series s[] = {{"a & <b>", x, y, 5}, {"empty", NULL, NULL, 0}};
    char *svg = octo_svg_lines("t \"q\" <x>", "x", "y", s, 2);
    REQUIRE(svg);
    CHECK(strstr(svg, "a &amp; &lt;b&gt;") && strstr(svg, "t &quot;q&quot; &lt;x&gt;"));
    CHECK(!strstr(svg, "nan") && !strstr(svg, "inf"));
    free(svg);
    double big[] = {-1e300, 1e300};
    octo_svg_series b = {"big", NULL, big, 2};
    svg = octo_svg_lines("big", "x", "y", &b, 1);
    CHECK(svg != NULL);
    free(svg);
    svg = octo_svg_lines("nothing", "x", "y", NULL, 0);
    CHECK(svg && strstr(svg, "</svg>"));
    free(svg);
    const char *cats[] = {"1", "2"};
    double v[] = {50, NAN};
    octo_svg_series bars = {"acc", NULL, v, 2};
    svg = octo_svg_bars("bars", "percent", cats, 2, &bars, 1, 100);
    REQUIRE(svg);
    int rects = 0;
    for (const char *p = svg; (p = strstr(p, "<rect x=")); p++) rects++;
    CHECK(rects == 2); /* one bar and one legend swatch: the NaN draws nothing */
    free(svg);
}

/* Random records with hostile links (negative, huge, fractional, names of
 * nothing, cycles): every score stays in [0, 1] and every count consistent. */
TEST(random_records_keep_invariants) {
    octo_funcset *fs = octo_funcset_parse(k_set, strlen(k_set), "set");
    REQUIRE(fs);
    octo_eval *e = octo_eval_new(fs);
    const char *names[] = {"a", "b", "c", "zzz"};
    const char *vals[] = {"1", "\"u\"", "{\"k\": [1, 2]}", "true", "\"\""};
    char buf[4096];
    for (int it = 0; it < 400; it++) {
        octo_record r[2];
        for (int w = 0; w < 2; w++) {
            int n = 1 + (int)(t_rand_u64() % 7), len = 0;
            len += snprintf(buf + len, sizeof buf - len, "{\"query\": \"q%d\", \"steps\": [", it);
            for (int i = 0; i < n; i++) len += snprintf(buf + len, sizeof buf - len, "%s\"s %d\"", i ? "," : "", i);
            len += snprintf(buf + len, sizeof buf - len, "], \"calls\": [");
            for (int i = 0; i < n; i++)
                len += snprintf(buf + len, sizeof buf - len, "%s{\"function\": \"%s\", \"arguments\": {\"x\": %s}}",
                                i ? "," : "", names[t_rand_u64() % 4], vals[t_rand_u64() % 5]);
            len += snprintf(buf + len, sizeof buf - len, "]");
            int kind = (int)(t_rand_u64() % 3);
            if (kind == 1) {
                len += snprintf(buf + len, sizeof buf - len, ", \"links\": [[-1, 2], [1e300, 0], [0.5, 1], [2, 1], [1, 2], \"x\"]");
            } else if (kind == 2) {
                len += snprintf(buf + len, sizeof buf - len,
                                ", \"task_links\": [{\"source\": \"b\", \"target\": \"a\"}, {\"source\": \"a\", "
                                "\"target\": \"b\"}, {\"source\": 1}, 7, {\"source\": \"nope\", \"target\": \"c\"}]");
            }
            snprintf(buf + len, sizeof buf - len, "}");
            REQUIRE(!rec(buf, &r[w]));
        }
        CHECK(octo_eval_add(e, t_rand_u64() % 10 ? &r[0] : NULL, &r[1], NULL) == 0);
        octo_record_free(&r[0]);
        octo_record_free(&r[1]);
    }
    octo_eval_summary s;
    REQUIRE(octo_eval_finish(e, &s) == 0);
    for (int k = -1; k <= OCTO_EVAL_MAX_LEN; k++) {
        const octo_eval_scores *o = k < 0 ? &s.overall : &s.by_len[k];
        double v[] = {o->exact_plan, o->step_valid, o->arg_acc, o->exact_full, o->rouge1, o->rouge2, o->rougeL,
                      o->node.f1, o->edge.f1, o->arg_name.f1, o->arg_value.f1};
        for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) CHECK(v[i] >= 0 && v[i] <= 1);
        const octo_prf *f[] = {&o->node, &o->edge, &o->arg_name, &o->arg_value};
        for (int i = 0; i < 4; i++) CHECK(f[i]->tp <= f[i]->n_pred && f[i]->tp <= f[i]->n_gold);
        CHECK(o->exact_full <= o->exact_plan);
    }
    CHECK(s.overall.n == 400 && s.overall.exact_plan > 0 && s.overall.exact_plan < 1);
    octo_eval_summary_free(&s);
    octo_eval_free(e);
    octo_funcset_free(fs);
}

/* Against tests/tools/taskbench_metrics.py, a separate Python re-derivation
 * of evaluate.py and rouge_score, on TaskBench records and perturbed
 * predictions: the same counts, the same F1s. */
TEST(taskbench_reference) {
    const char *labeled = t_shared_path("data/taskbench-dailylife/labeled.jsonl");
    if (!labeled) SKIP("../shared is absent");
    char lab[1024], tools[1024];
    snprintf(lab, sizeof lab, "%s", labeled);
    snprintf(tools, sizeof tools, "%s", t_shared_path("data/taskbench-dailylife/tool_desc.json"));
    if (access("tests/tools/taskbench_metrics.py", R_OK) != 0 || system("python3 -c 'import json' >/dev/null 2>&1") != 0)
        SKIP("python3 or tests/tools/taskbench_metrics.py is absent");
    char dir[512], cmd[3200], p[600];
    snprintf(dir, sizeof dir, "%s/tb", t_tmpdir());
    REQUIRE(mkdir(dir, 0755) == 0);
    snprintf(cmd, sizeof cmd, "python3 tests/tools/taskbench_metrics.py '%s' '%s' '%s' 3 400", lab, tools, dir);
    REQUIRE(system(cmd) == 0);
    octo_record *ref, *pred;
    int nr, np, bad;
    snprintf(p, sizeof p, "%s/ref.jsonl", dir);
    REQUIRE(octo_records_read(p, true, &ref, &nr, &bad) == 0);
    snprintf(p, sizeof p, "%s/pred.jsonl", dir);
    REQUIRE(octo_records_read(p, true, &pred, &np, &bad) == 0);
    snprintf(p, sizeof p, "%s/functions.json", dir);
    octo_funcset *fs = octo_funcset_load(p);
    REQUIRE(fs && nr == np && nr > 100);
    octo_eval *e = octo_eval_new(fs);
    for (int i = 0; i < nr; i++) CHECK(octo_eval_add(e, &pred[i], &ref[i], NULL) == 0);
    octo_eval_summary s;
    REQUIRE(octo_eval_finish(e, &s) == 0);
    snprintf(p, sizeof p, "%s/expected.json", dir);
    size_t n;
    char *js = octo_read_file(p, &n);
    cJSON *x = cJSON_Parse(js);
    REQUIRE(x);
    CHECK(cJSON_GetObjectItem(x, "records")->valueint == s.overall.n);
    const char *keys[] = {"node", "edge", "argument_name", "argument_value"};
    const octo_prf *ours[] = {&s.overall.node, &s.overall.edge, &s.overall.arg_name, &s.overall.arg_value};
    for (int k = 0; k < 4; k++) {
        const cJSON *m = cJSON_GetObjectItem(x, keys[k]);
        CHECKF(cJSON_GetObjectItem(m, "tp")->valueint == ours[k]->tp &&
                   cJSON_GetObjectItem(m, "predicted")->valueint == ours[k]->n_pred &&
                   cJSON_GetObjectItem(m, "gold")->valueint == ours[k]->n_gold,
               "%s: tp %ld predicted %ld gold %ld", keys[k], ours[k]->tp, ours[k]->n_pred, ours[k]->n_gold);
        CHECK_NEAR(cJSON_GetObjectItem(m, "f1")->valuedouble, ours[k]->f1, 1e-12);
        CHECK(ours[k]->f1 > 0.5 && ours[k]->f1 < 1); /* the perturbations did something */
    }
    CHECK_NEAR(cJSON_GetObjectItem(x, "rouge1")->valuedouble, s.overall.rouge1, 1e-12);
    CHECK_NEAR(cJSON_GetObjectItem(x, "rouge2")->valuedouble, s.overall.rouge2, 1e-12);
    cJSON_Delete(x);
    free(js);
    octo_eval_summary_free(&s);
    octo_eval_free(e);
    octo_records_free(ref, nr);
    octo_records_free(pred, np);
    octo_funcset_free(fs);
}

int main(void) {
    RUN(plan_orders);
    RUN(plan_search_is_bounded);
    RUN(rouge_known_values);
    RUN(metrics_by_hand);
    RUN(taskbench_links_by_name);
    RUN(svg_survives_odd_data);
    RUN(random_records_keep_invariants);
    RUN(taskbench_reference);
    return t_finish();
}
