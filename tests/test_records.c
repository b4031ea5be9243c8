/* test_records.c - canonical records (parse, print, read files), the
 * TaskBench converter on hand-made records with known answers, every
 * validation rule, split proportions and determinism, stats numbers on a
 * small file, dedupe, and hostile JSON lines. */
#include "testlib.h"

#include <unistd.h>

#include "agent/funcset.h"
#include "base/error.h"
#include "base/file.h"
#include "data/convert_taskbench.h"
#include "data/datatools.h"
#include "data/record.h"
#include "data/validate.h"
#include "octo.h"

static const char *tmp(const char *name) {
    static char buf[8][600];
    static int k;
    char *b = buf[k++ & 7];
    snprintf(b, sizeof buf[0], "%s/%s", t_tmpdir(), name);
    return b;
}

/* Write a file under the test's tmpdir; the path stays valid (own copy). */
static const char *put(const char *name, const char *text) {
    static char keep[16][600];
    static int k;
    char *p = keep[k++ & 15];
    snprintf(p, sizeof keep[0], "%s", tmp(name));
    if (octo_write_file_atomic(p, text, strlen(text)) != 0) return NULL;
    return p;
}

static int count_lines(const char *path) {
    char *t = octo_read_file(path, NULL);
    if (!t) return -1;
    int n = 0;
    for (char *p = t; *p; p++) n += *p == '\n';
    free(t);
    return n;
}

static cJSON *line_json(const char *path, int i) {
    char *t = octo_read_file(path, NULL);
    if (!t) return NULL;
    char *p = t;
    for (int k = 0; k < i && p; k++) {
        p = strchr(p, '\n');
        if (p) p++;
    }
    cJSON *j = p ? cJSON_ParseWithOpts(p, NULL, 0) : NULL;
    free(t);
    return j;
}

TEST(record_roundtrip) {
    const char *line = "{\"query\": \"Wake me at 7 then text Bob\", \"steps\": [\"Set an alarm for 7\", \"Text Bob\"],"
                       " \"calls\": [{\"function\": \"set_alarm\", \"arguments\": {\"time\": \"07:00\"}},"
                       " {\"function\": \"send_sms\"}], \"domains\": [\"android\"], \"template\": \"t1\", \"id\": 7}";
    cJSON *j = cJSON_Parse(line);
    octo_record r;
    char why[200];
    REQUIRE(octo_record_from_json(j, &r, why, sizeof why) == 0);
    CHECK(r.n_steps == 2 && r.n_calls == 2 && r.n_domains == 1);
    CHECK(!strcmp(r.calls[1].function, "send_sms") && cJSON_IsObject(r.calls[1].arguments));
    CHECK(cJSON_GetArraySize(r.calls[1].arguments) == 0);
    cJSON *back = octo_record_to_json(&r);
    /* known fields first, then the others as they were */
    char *s = cJSON_PrintUnformatted(back);
    CHECKF(!strcmp(s, "{\"query\":\"Wake me at 7 then text Bob\",\"steps\":[\"Set an alarm for 7\",\"Text Bob\"],"
                      "\"calls\":[{\"function\":\"set_alarm\",\"arguments\":{\"time\":\"07:00\"}},"
                      "{\"function\":\"send_sms\",\"arguments\":{}}],\"domains\":[\"android\"],\"template\":\"t1\",\"id\":7}"),
           "%s", s);
    free(s);
    cJSON_Delete(back);
    FILE *f = fopen(tmp("rt.jsonl"), "wb");
    REQUIRE(f);
    CHECK(octo_record_write(f, &r) == 0 && octo_record_write(f, &r) == 0);
    fclose(f);
    octo_record_free(&r);
    cJSON_Delete(j);
    octo_record *rs;
    int n, bad;
    REQUIRE(octo_records_read(tmp("rt.jsonl"), true, &rs, &n, &bad) == 0);
    CHECK(n == 2 && bad == 0 && !strcmp(rs[1].query, "Wake me at 7 then text Bob"));
    CHECK(cJSON_GetObjectItem(rs[0].extra, "template") != NULL);
    octo_records_free(rs, n);
}

TEST(record_errors) {
    static const struct {
        const char *json, *want;
    } cases[] = {
        {"[]", "expected a JSON object"},
        {"{\"steps\": [\"a\"], \"calls\": [{\"function\": \"f\"}]}", "\"query\": expected a string"},
        {"{\"query\": \"  \", \"steps\": [\"a\"], \"calls\": [{\"function\": \"f\"}]}", "\"query\": empty"},
        {"{\"query\": \"q\", \"steps\": \"a\", \"calls\": [{\"function\": \"f\"}]}", "\"steps\": expected an array"},
        {"{\"query\": \"q\", \"steps\": [1], \"calls\": [{\"function\": \"f\"}]}", "\"steps\"[0]: expected a string"},
        {"{\"query\": \"q\", \"steps\": [\"\"], \"calls\": [{\"function\": \"f\"}]}", "\"steps\"[0]: empty"},
        {"{\"query\": \"q\", \"steps\": [\"a\"]}", "\"calls\": expected an array"},
        {"{\"query\": \"q\", \"steps\": [], \"calls\": []}", "no steps or no calls"},
        {"{\"query\": \"q\", \"steps\": [\"a\", \"b\"], \"calls\": [{\"function\": \"f\"}]}",
         "2 steps but 1 calls: steps and calls must be aligned one to one"},
        {"{\"query\": \"q\", \"steps\": [\"a\"], \"calls\": [{\"name\": \"f\"}]}", "\"calls\"[0].function"},
        {"{\"query\": \"q\", \"steps\": [\"a\"], \"calls\": [\"f\"]}", "\"calls\"[0].function"},
        {"{\"query\": \"q\", \"steps\": [\"a\"], \"calls\": [{\"function\": \"f\", \"arguments\": \"{}\"}]}",
         "\"calls\"[0].arguments: expected an object"},
        {"{\"query\": \"q\", \"steps\": [\"a\"], \"calls\": [{\"function\": \"f\"}], \"domains\": \"x\"}",
         "\"domains\": expected an array"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cJSON *j = cJSON_Parse(cases[i].json);
        octo_record r;
        char why[200] = "";
        int rc = octo_record_from_json(j, &r, why, sizeof why);
        CHECKF(rc == -1 && strstr(why, cases[i].want), "case %zu: got \"%s\"", i, why);
        if (rc == 0) octo_record_free(&r);
        cJSON_Delete(j);
    }
    /* files: strict names FILE:LINE; lenient counts; NUL and trailing junk are bad lines */
    const char good[] = "{\"query\":\"q\",\"steps\":[\"a\"],\"calls\":[{\"function\":\"f\"}]}";
    char text[1024];
    int len = snprintf(text, sizeof text, "%s\n\n%s x\n%s\n{\"query\"\n", good, good, good);
    memcpy(text + len, good, sizeof good - 1);
    text[len + 5] = 0; /* a NUL inside the last line */
    len += (int)sizeof good - 1;
    text[len++] = '\n';
    const char *p = tmp("mixed.jsonl");
    REQUIRE(octo_write_file_atomic(p, text, (size_t)len) == 0);
    octo_record *rs;
    int n, bad;
    CHECK(octo_records_read(p, true, &rs, &n, &bad) == -1);
    CHECKF(strstr(octo_last_error(), "mixed.jsonl:3: not valid JSON"), "%s", octo_last_error());
    REQUIRE(octo_records_read(p, false, &rs, &n, &bad) == 0);
    CHECK(n == 2 && bad == 3);
    octo_records_free(rs, n);
}

/* ---- TaskBench ---- */

static const char *k_tools =
    "[{\"name\": \"get_weather\", \"parameters\": {\"type\": \"object\", \"properties\": {"
    "   \"location\": {\"type\": \"string\"}, \"date\": {\"type\": \"string\"}}, \"required\": [\"location\", \"date\"]}},"
    " {\"name\": \"book_car\", \"parameters\": {\"type\": \"object\", \"properties\": {"
    "   \"date\": {\"type\": \"string\"}, \"location\": {\"type\": \"string\"}}, \"required\": [\"date\", \"location\"]}},"
    " {\"name\": \"send_email\", \"parameters\": {\"type\": \"object\", \"properties\": {"
    "   \"email_address\": {\"type\": \"string\"}, \"content\": {\"type\": \"string\"}}, \"required\": [\"email_address\", "
    "\"content\"]}},"
    " {\"name\": \"take_note\", \"parameters\": {\"type\": \"object\", \"properties\": {"
    "   \"content\": {\"type\": \"string\"}}, \"required\": [\"content\"]}}]";

TEST(convert_taskbench_records) {
    octo_funcset *fs = octo_funcset_parse(k_tools, strlen(k_tools), "tools.json");
    REQUIRE(fs);
    const char *in = put(
        "tb.jsonl",
        /* 1: chain, nodes shuffled, steps unnamed: order from the links */
        "{\"id\": \"c1\", \"type\": \"chain\", \"instruction\": \"Weather in Paris today, then a car, then email bob\","
        " \"task_steps\": [\"Step 1: Check the weather\", \"Step 2: Book a car\", \"Step 3: Email Bob\"],"
        " \"task_nodes\": [{\"task\": \"send_email\", \"arguments\": [{\"name\": \"email_address\", \"value\": \"b@x.io\"},"
        "   {\"name\": \"content\", \"value\": \"car booked\"}]},"
        "  {\"task\": \"get_weather\", \"arguments\": [{\"name\": \"location\", \"value\": \"Paris\"}, {\"name\": \"date\","
        " \"value\": \"today\"}]},"
        "  {\"task\": \"book_car\", \"arguments\": [\"today\", \"Paris\"]}],"
        " \"task_links\": [{\"source\": \"get_weather\", \"target\": \"book_car\"}, {\"source\": \"book_car\", \"target\":"
        " \"send_email\"}]}\n"
        /* 2: dag whose steps name their tools in an order the links contradict */
        "{\"id\": \"d1\", \"type\": \"dag\", \"user_request\": \"Note it, check weather, book a car\","
        " \"task_steps\": [\"1. Use take_note to write 'x'\", \"Call get_weather for Rome\", \"Call book_car in Rome\"],"
        " \"task_nodes\": [{\"task\": \"get_weather\", \"arguments\": {\"location\": \"Rome\", \"date\": \"now\"}},"
        "  {\"task\": \"book_car\", \"arguments\": [{\"name\": \"date\", \"value\": \"now\"}, {\"name\": \"location\", "
        "\"value\": \"Rome\"}]},"
        "  {\"task\": \"take_note\", \"arguments\": [{\"name\": \"content\", \"value\": \"x\"}]}],"
        " \"task_links\": [{\"source\": \"get_weather\", \"target\": \"take_note\"}, {\"source\": \"book_car\", \"target\":"
        " \"take_note\"}]}\n"
        /* 3..9: odd records */
        "{\"instruction\": \"q\", \"task_steps\": [\"a\", \"b\"], \"task_nodes\": [{\"task\": \"take_note\"}]}\n"
        "{\"instruction\": \"q\", \"task_steps\": [\"a\"], \"task_nodes\": [{\"task\": \"fly_to_moon\"}]}\n"
        "{\"instruction\": \"q\", \"task_steps\": [\"a\", \"b\"], \"task_nodes\": [{\"task\": \"take_note\"},"
        " {\"task\": \"book_car\"}], \"task_links\": [{\"source\": \"take_note\", \"target\": \"book_car\"},"
        " {\"source\": \"book_car\", \"target\": \"take_note\"}]}\n"
        "{\"instruction\": \"q\", \"task_steps\": [\"a\"], \"task_nodes\": [{\"task\": \"take_note\"}],"
        " \"task_links\": [{\"source\": \"take_note\", \"target\": \"get_weather\"}]}\n"
        "{\"instruction\": \"q\", \"task_steps\": [\"a\"], \"task_nodes\": [{\"task\": \"take_note\"}],"
        " \"task_links\": [{\"source\": \"take_note\", \"destination\": \"x\"}]}\n"
        "not json at all\n"
        "{\"task_steps\": [\"a\"], \"task_nodes\": [{\"task\": \"take_note\"}]}\n");
    REQUIRE(in);
    FILE *rep = fopen(tmp("report.txt"), "wb");
    octo_tb_opts o = {fs, NULL, rep, tmp("tb_rej.jsonl"), false};
    octo_tb_stats st;
    REQUIRE(octo_convert_taskbench(in, tmp("tb_out.jsonl"), &o, &st) == 0);
    fclose(rep);
    CHECK(st.n_in == 9 && st.n_out == 2 && st.n_rejected == 7);
    CHECK(st.by_reason[OCTO_TB_COUNT_MISMATCH] == 1 && st.by_reason[OCTO_TB_UNKNOWN_TOOL] == 1);
    CHECK(st.by_reason[OCTO_TB_CYCLE] == 1 && st.by_reason[OCTO_TB_MISSING_NODE] == 1);
    CHECK(st.by_reason[OCTO_TB_BAD_LINK] == 1 && st.by_reason[OCTO_TB_BAD_JSON] == 1);
    CHECK(st.by_reason[OCTO_TB_NO_QUERY] == 1);
    CHECK(st.n_reordered == 1 && st.by_type[1] == 1 && st.by_type[2] == 1);
    CHECK(count_lines(tmp("report.txt")) == 7 && count_lines(tmp("tb_rej.jsonl")) == 7);
    char *report = octo_read_file(tmp("report.txt"), NULL);
    CHECKF(report && strstr(report, "tb.jsonl:3: rejected (steps/nodes count mismatch): 2 task_steps but 1 task_nodes"),
           "%s", report);
    CHECK(report && strstr(report, "tb.jsonl:4: rejected (unknown tool): task_nodes[0]: unknown tool \"fly_to_moon\""));
    CHECK(report && strstr(report, "tb.jsonl:5: rejected (cycle)"));
    CHECK(report && strstr(report, "tb.jsonl:8: rejected (not a JSON object)"));
    free(report);
    cJSON *rj = line_json(tmp("tb_rej.jsonl"), 0);
    CHECK(rj && cJSON_GetArraySize(cJSON_GetObjectItem(rj, "reasons")) == 1);
    CHECK(rj && cJSON_GetObjectItem(rj, "task_steps") != NULL); /* the original record, kept whole */
    cJSON_Delete(rj);
    /* record 1: weather -> car -> email, steps with their calls, prefixes gone */
    cJSON *c = line_json(tmp("tb_out.jsonl"), 0);
    REQUIRE(c);
    char *s = cJSON_PrintUnformatted(c);
    CHECKF(!strcmp(s, "{\"query\":\"Weather in Paris today, then a car, then email bob\","
                      "\"steps\":[\"Check the weather\",\"Book a car\",\"Email Bob\"],"
                      "\"calls\":[{\"function\":\"get_weather\",\"arguments\":{\"location\":\"Paris\",\"date\":\"today\"}},"
                      "{\"function\":\"book_car\",\"arguments\":{\"date\":\"today\",\"location\":\"Paris\"}},"
                      "{\"function\":\"send_email\",\"arguments\":{\"email_address\":\"b@x.io\",\"content\":\"car booked\"}}],"
                      "\"domains\":[\"tools\"],\"id\":\"c1\",\"source\":\"taskbench\",\"type\":\"chain\","
                      "\"links\":[[0,1],[1,2]]}"),
           "%s", s);
    free(s);
    cJSON_Delete(c);
    /* record 2: take_note must follow both; each step stays with its tool */
    c = line_json(tmp("tb_out.jsonl"), 1);
    REQUIRE(c);
    const cJSON *calls = cJSON_GetObjectItem(c, "calls"), *steps = cJSON_GetObjectItem(c, "steps");
    CHECK(!strcmp(cJSON_GetObjectItem(cJSON_GetArrayItem(calls, 0), "function")->valuestring, "get_weather"));
    CHECK(!strcmp(cJSON_GetObjectItem(cJSON_GetArrayItem(calls, 1), "function")->valuestring, "book_car"));
    CHECK(!strcmp(cJSON_GetObjectItem(cJSON_GetArrayItem(calls, 2), "function")->valuestring, "take_note"));
    CHECK(!strcmp(cJSON_GetArrayItem(steps, 2)->valuestring, "Use take_note to write 'x'"));
    CHECK(!strcmp(cJSON_GetArrayItem(steps, 0)->valuestring, "Call get_weather for Rome"));
    s = cJSON_PrintUnformatted(cJSON_GetObjectItem(c, "links"));
    CHECK(!strcmp(s, "[[0,2],[1,2]]"));
    free(s);
    cJSON_Delete(c);
    int nc = -1, nrj = -1;
    CHECK(octo_data_convert_taskbench(in, tmp("tb_pub.jsonl"), fs, NULL, &nc, &nrj) == 0 && nc == 2 && nrj == 7);
    /* an evaluation reference may keep tools outside the set */
    o.keep_unknown_tools = true;
    o.report = NULL;
    REQUIRE(octo_convert_taskbench(in, tmp("tb_keep.jsonl"), &o, &st) == 0);
    CHECK(st.n_out == 3 && st.n_unknown_kept == 1 && st.by_reason[OCTO_TB_UNKNOWN_TOOL] == 0);
    o.keep_unknown_tools = false;
    /* the same records as one JSON array */
    const char *arr = put("tb.json", "[{\"instruction\": \"note x\", \"task_steps\": [\"Step 1: note\"], \"task_nodes\":"
                                     " [{\"task\": \"take_note\", \"arguments\": [\"x\"]}], \"task_links\": []}, 5]");
    o.report = NULL;
    o.rejects_path = NULL;
    REQUIRE(octo_convert_taskbench(arr, tmp("tb_arr.jsonl"), &o, &st) == 0);
    CHECK(st.n_in == 2 && st.n_out == 1 && st.n_rejected == 1);
    /* too many bare values for the tool's parameters */
    put("tb2.jsonl", "{\"instruction\": \"q\", \"task_steps\": [\"a\"], \"task_nodes\": [{\"task\": \"take_note\","
                     " \"arguments\": [\"x\", \"y\"]}]}\n");
    REQUIRE(octo_convert_taskbench(tmp("tb2.jsonl"), tmp("tb2_out.jsonl"), &o, &st) == 0);
    CHECK(st.n_rejected == 1 && st.by_reason[OCTO_TB_MALFORMED] == 1);
    octo_funcset_free(fs);
}

/* ---- validate ---- */

static const char *k_phone =
    "{\"name\": \"phone\", \"functions\": ["
    " {\"name\": \"set_alarm\", \"parameters\": {\"type\": \"object\", \"properties\": {"
    "   \"time\": {\"type\": \"string\"}, \"label\": {\"type\": \"string\"}}, \"required\": [\"time\"]}},"
    " {\"name\": \"send_sms\", \"parameters\": {\"type\": \"object\", \"properties\": {"
    "   \"to\": {\"type\": \"string\"}, \"text\": {\"type\": \"string\"}}, \"required\": [\"to\", \"text\"]}},"
    " {\"name\": \"toggle_wifi\", \"parameters\": {\"type\": \"object\", \"properties\": {"
    "   \"state\": {\"type\": \"string\", \"enum\": [\"on\", \"off\"]}}, \"required\": [\"state\"]}},"
    " {\"name\": \"call_contact\", \"parameters\": {\"type\": \"object\", \"properties\": {"
    "   \"number\": {\"type\": \"string\"}}, \"required\": [\"number\"]}}]}";

/* A record line from query, and steps/calls as "step|function|args" triples. */
static int check_record(const octo_funcset *fs, const char *json, const char *want_rule, char *out, size_t cap) {
    cJSON *j = cJSON_Parse(json);
    octo_record r;
    char why[200];
    if (!j || octo_record_from_json(j, &r, why, sizeof why) != 0) {
        cJSON_Delete(j);
        snprintf(out, cap, "unparsed: %s", why);
        return -1;
    }
    cJSON *reasons = cJSON_CreateArray();
    int by_rule[OCTO_RULE_N] = {0};
    int n = octo_validate_record(fs, &r, NULL, reasons, by_rule);
    char *s = cJSON_PrintUnformatted(reasons);
    snprintf(out, cap, "%s", s);
    free(s);
    int hit = 0;
    if (want_rule)
        for (int k = 0; k < OCTO_RULE_N; k++)
            if (!strcmp(octo_rule_name(k), want_rule)) hit = by_rule[k];
    cJSON_Delete(reasons);
    octo_record_free(&r);
    cJSON_Delete(j);
    return want_rule ? (hit ? 1 : 0) : n;
}

TEST(validate_rules) {
    octo_funcset *fs = octo_funcset_parse(k_phone, strlen(k_phone), "phone.json");
    REQUIRE(fs);
#define REC(q, s1, c1, s2, c2)                                                                                  \
    "{\"query\": \"" q "\", \"steps\": [\"" s1 "\", \"" s2 "\"], \"calls\": [" c1 ", " c2 "], \"domains\": " \
    "[\"phone\"]}"
#define ALARM(t) "{\"function\": \"set_alarm\", \"arguments\": {\"time\": \"" t "\"}}"
#define GYM "{\"function\": \"set_alarm\", \"arguments\": {\"time\": \"07:00\", \"label\": \"gym\"}}"
#define SMS(to, tx) "{\"function\": \"send_sms\", \"arguments\": {\"to\": \"" to "\", \"text\": \"" tx "\"}}"
    static const struct {
        const char *json, *rule; /* rule NULL: valid */
    } cases[] = {
        /* valid: text order, connectors, normalised times and enums are not looked for */
        {REC("Wake me at 7am, then text Anna that I'm up", "Set an alarm for 7am", ALARM("07:00"), "Text Anna: I'm up",
             SMS("Anna", "I'm up")),
         NULL},
        {REC("Before you text Anna that I'm up, set an alarm for 7", "Set an alarm for 7", ALARM("07:00"),
             "Text Anna that I'm up", SMS("Anna", "I'm up")),
         NULL},
        {REC("Text Anna that I'm up after you set an alarm for 7", "Set an alarm for 7", ALARM("07:00"),
             "Text Anna that I'm up", SMS("Anna", "I'm up")),
         NULL},
        {REC("Text Anna that I'm up, and once that's done set an alarm for 7", "Text Anna that I'm up",
             SMS("Anna", "I'm up"), "Set an alarm for 7", ALARM("07:00")),
         NULL},
        {REC("turn wifi off and txt anna im up", "Turn Wi-Fi off",
             "{\"function\": \"toggle_wifi\", \"arguments\": {\"state\": \"off\"}}", "Text Anna: im up",
             SMS("Anna", "im up")),
         NULL},
        /* order (a call is placed in the request by its free-text values) */
        {REC("Set a gym alarm for 7am, then text Anna that I'm up", "Set a gym alarm for 7am", GYM,
             "Text Anna: I'm up", SMS("Anna", "I'm up")),
         NULL},
        {REC("Set a gym alarm for 7am, then text Anna that I'm up", "Text Anna: I'm up", SMS("Anna", "I'm up"),
             "Set a gym alarm for 7am", GYM),
         "order"},
        {REC("Before you text Anna that I'm up, set a gym alarm for 7", "Text Anna that I'm up", SMS("Anna", "I'm up"),
             "Set a gym alarm for 7", GYM),
         "order"},
        {REC("Before you text Anna that I'm up, set a gym alarm for 7", "Set a gym alarm for 7", GYM,
             "Text Anna that I'm up", SMS("Anna", "I'm up")),
         NULL},
        {REC("Text Anna that I'm up after you set a gym alarm for 7", "Text Anna that I'm up", SMS("Anna", "I'm up"),
             "Set a gym alarm for 7", GYM),
         "order"},
        {REC("Text Anna that I'm up after you set a gym alarm for 7", "Set a gym alarm for 7", GYM,
             "Text Anna that I'm up", SMS("Anna", "I'm up")),
         NULL},
        {REC("Text Anna that I'm up, and after that set a gym alarm for 7", "Text Anna that I'm up",
             SMS("Anna", "I'm up"), "Set a gym alarm for 7", GYM),
         NULL},
        {REC("Text Anna that I'm up, but first set a gym alarm for 7", "Set a gym alarm for 7", GYM,
             "Text Anna that I'm up", SMS("Anna", "I'm up")),
         NULL},
        {REC("Text Anna that I'm up, but first set a gym alarm for 7", "Text Anna that I'm up",
             SMS("Anna", "I'm up"), "Set a gym alarm for 7", GYM),
         "order"},
        /* connectors bind the phrase next to them, not a call further away */
        {REC("Set a gym alarm, and text Anna that I'm up, but first check the battery", "Set a gym alarm", GYM,
             "Text Anna that I'm up", SMS("Anna", "I'm up")),
         NULL},
        {REC("Text Anna that I'm up before it gets late, but first set a gym alarm", "Set a gym alarm", GYM,
             "Text Anna that I'm up", SMS("Anna", "I'm up")),
         NULL},
        /* typo noise on the connector; commas and colons inside dates and times */
        {REC("Befroe you text Anna that I'm up, set a gym alarm", "Set a gym alarm", GYM, "Text Anna that I'm up",
             SMS("Anna", "I'm up")),
         NULL},
        {REC("Befroe you text Anna that I'm up, set a gym alarm", "Text Anna that I'm up", SMS("Anna", "I'm up"),
             "Set a gym alarm", GYM),
         "order"},
        {REC("Before you set a gym alarm for 8:00 a.m. on Friday, May 2, 2025, text Anna that I'm up",
             "Text Anna that I'm up", SMS("Anna", "I'm up"), "Set a gym alarm", GYM),
         NULL},
        /* a call's span runs from its first value to its last */
        {REC("Before you text Anna, I'm up, set a gym alarm", "Set a gym alarm", GYM, "Text Anna: I'm up",
             SMS("Anna", "I'm up")),
         NULL},
        /* function, arguments, step, grounding */
        {REC("Wake me at 7", "Set an alarm for 7", "{\"function\": \"set_alarrm\", \"arguments\": {\"time\": \"7\"}}",
             "Text Anna hi", SMS("Anna", "hi")),
         "function"},
        {REC("Wake me at 7 and text Anna hi", "Set an alarm for 7",
             "{\"function\": \"set_alarm\", \"arguments\": {\"time\": 7}}", "Text Anna hi", SMS("Anna", "hi")),
         "arguments"},
        {REC("Wake me at 7 and text Anna hi", "Set an alarm for 7",
             "{\"function\": \"set_alarm\", \"arguments\": {}}", "Text Anna hi", SMS("Anna", "hi")),
         "arguments"},
        {REC("Wake me at 7 and text Anna hi", "Set an alarm for 7", ALARM("07:00"),
             "Use call_contact to text Anna hi", SMS("Anna", "hi")),
         "step"},
        {REC("Wake me at 7 and text Anna hi", "Set an alarm for 7", ALARM("07:00"), "Text Anna hi",
             SMS("Boris", "hi")),
         "grounding"},
        {REC("Wake me at 7 and text Anna hi", "Set an alarm for 7", ALARM("07:00"), "Send the text", SMS("Anna", "hi")),
         "grounding"},
        {REC("Wake me at 7 and call 555 123 4567", "Set an alarm for 7", ALARM("07:00"), "Call +1 (555) 123-4567",
             "{\"function\": \"call_contact\", \"arguments\": {\"number\": \"+1 555-123-4567\"}}"),
         NULL},
        {REC("Wake me at 7 and call 555 123 4567", "Set an alarm for 7", ALARM("07:00"), "Call +1 (555) 123-4567",
             "{\"function\": \"call_contact\", \"arguments\": {\"number\": \"+1 555-123-9999\"}}"),
         "grounding"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[2000];
        int rc = check_record(fs, cases[i].json, cases[i].rule, out, sizeof out);
        if (cases[i].rule) CHECKF(rc == 1, "case %zu: rule %s not reported: %s", i, cases[i].rule, out);
        else CHECKF(rc == 0, "case %zu should pass: %s", i, out);
    }
    /* the file form: kept lines byte for byte, rejected ones with reasons */
    char text[8192];
    snprintf(text, sizeof text, "%s\n%s\nnot json\n%s\n", cases[0].json, cases[6].json,
             "{\"query\": \"q\", \"steps\": [\"a\", \"b\"], \"calls\": [{\"function\": \"set_alarm\"}]}");
    const char *in = put("v.jsonl", text);
    octo_validate_opts o;
    octo_validate_opts_default(&o);
    o.max_steps = 5;
    octo_validate_stats st;
    REQUIRE(octo_validate_file(fs, in, tmp("v_kept.jsonl"), tmp("v_rej.jsonl"), &o, NULL, &st) == 0);
    CHECK(st.n_in == 4 && st.n_kept == 1 && st.n_rejected == 3);
    CHECK(st.by_rule[OCTO_RULE_ORDER] == 1 && st.by_rule[OCTO_RULE_RECORD] == 2);
    char *kept = octo_read_file(tmp("v_kept.jsonl"), NULL);
    char want[4096];
    snprintf(want, sizeof want, "%s\n", cases[0].json);
    CHECK(kept && !strcmp(kept, want));
    free(kept);
    cJSON *r2 = line_json(tmp("v_rej.jsonl"), 1);
    CHECK(r2 && cJSON_GetObjectItem(r2, "line") && cJSON_GetObjectItem(r2, "line")->valuedouble == 3);
    CHECK(r2 && cJSON_IsString(cJSON_GetObjectItem(r2, "text")) &&
          !strcmp(cJSON_GetObjectItem(r2, "text")->valuestring, "not json"));
    cJSON_Delete(r2);
    r2 = line_json(tmp("v_rej.jsonl"), 2);
    const cJSON *rs = cJSON_GetObjectItem(r2, "reasons");
    CHECK(cJSON_GetArraySize(rs) > 0 && strstr(cJSON_GetArrayItem(rs, 0)->valuestring, "record: 2 steps but 1 calls"));
    cJSON_Delete(r2);
    int nk = -1, nr = -1; /* the public wrapper gives the same counts */
    CHECK(octo_data_validate(fs, in, NULL, NULL, &nk, &nr) == 0 && nk == 1 && nr == 3);
    o.max_steps = 1;
    REQUIRE(octo_validate_file(fs, in, NULL, NULL, &o, NULL, &st) == 0);
    CHECK(st.n_kept == 0 && st.by_rule[OCTO_RULE_LENGTH] == 2);
    octo_funcset_free(fs);
}

/* ---- split, stats, dedupe ---- */

TEST(split_proportions_and_determinism) {
    FILE *f = fopen(tmp("s.jsonl"), "wb");
    REQUIRE(f);
    for (int i = 0; i < 1000; i++) fprintf(f, "{\"query\": \"q%d\", \"i\": %d}\n%s", i, i, i % 7 ? "" : "\n");
    fclose(f);
    double r[3] = {0.8, 0.1, 0.1};
    int counts[3];
    REQUIRE(octo_data_split(tmp("s.jsonl"), r, 3, 7, tmp("a"), counts) == 0);
    CHECK(counts[0] == 800 && counts[1] == 100 && counts[2] == 100);
    CHECK(count_lines(tmp("a.train.jsonl")) == 800 && count_lines(tmp("a.valid.jsonl")) == 100 &&
          count_lines(tmp("a.test.jsonl")) == 100);
    /* a partition of the input, each part in input order */
    static char seen[1000];
    memset(seen, 0, sizeof seen);
    const char *parts[3] = {"a.train.jsonl", "a.valid.jsonl", "a.test.jsonl"};
    int total = 0;
    for (int k = 0; k < 3; k++) {
        char *t = octo_read_file(tmp(parts[k]), NULL);
        REQUIRE(t);
        int last = -1;
        for (char *p = t; (p = strstr(p, "\"i\": ")); p++) {
            int i = atoi(p + 5);
            CHECK(i > last && !seen[i]);
            seen[i] = 1;
            last = i;
            total++;
        }
        free(t);
    }
    CHECK(total == 1000);
    /* same seed: same bytes; another seed: another split */
    char *a = octo_read_file(tmp("a.test.jsonl"), NULL);
    REQUIRE(octo_data_split(tmp("s.jsonl"), r, 3, 7, tmp("b"), counts) == 0);
    char *b = octo_read_file(tmp("b.test.jsonl"), NULL);
    REQUIRE(octo_data_split(tmp("s.jsonl"), r, 3, 8, tmp("c"), counts) == 0);
    char *c = octo_read_file(tmp("c.test.jsonl"), NULL);
    CHECK(a && b && c && !strcmp(a, b) && strcmp(a, c));
    free(a), free(b), free(c);
    /* uneven shares: largest remainders; bad ratios refused */
    double r2[2] = {1.0 / 3, 2.0 / 3};
    FILE *g = fopen(tmp("s7.jsonl"), "wb");
    for (int i = 0; i < 7; i++) fprintf(g, "{\"query\": \"%d\"}\n", i);
    fclose(g);
    REQUIRE(octo_data_split(tmp("s7.jsonl"), r2, 2, 1, tmp("d"), counts) == 0);
    CHECK(counts[0] == 2 && counts[1] == 5);
    double bad[2] = {0.5, 0.6};
    CHECK(octo_data_split(tmp("s7.jsonl"), bad, 2, 1, tmp("e"), counts) == -1 && strstr(octo_last_error(), "add up"));
    CHECK(access(tmp("e.train.jsonl"), F_OK) != 0);
}

TEST(stats_numbers) {
    /* queries (normalized): "a b c" / "a b d" / "a b c a" -> 1-grams 10 total, 4 distinct (a b c d);
     * 2-grams 7 total: ab bc | ab bd | ab bc ca -> distinct ab bc bd ca = 4;
     * 3-grams 4: abc | abd | abc bca -> 3 distinct; 4-grams 1: abca -> 1 */
    const char *in = put("st.jsonl",
                         "{\"query\": \"A b, c!\", \"steps\": [\"s\"], \"calls\": [{\"function\": \"f\"}], \"domains\": "
                         "[\"x\"], \"template\": \"T1\"}\n"
                         "{\"query\": \"a b d\", \"steps\": [\"s\", \"t\"], \"calls\": [{\"function\": \"f\"}, "
                         "{\"function\": \"g\"}], \"domains\": [\"x\"], \"template\": \"T2\"}\n"
                         "{\"query\": \"a  B c a\", \"steps\": [\"s\", \"t\"], \"calls\": [{\"function\": \"g\"}, "
                         "{\"function\": \"g\"}], \"domains\": [\"y\"], \"template\": \"T1\"}\n"
                         "garbage\n");
    FILE *f = fopen(tmp("st.json"), "wb");
    REQUIRE(octo_data_stats(in, f, true) == 0);
    fclose(f);
    char *t = octo_read_file(tmp("st.json"), NULL);
    cJSON *j = cJSON_Parse(t);
    free(t);
    REQUIRE(j);
    CHECK(cJSON_GetObjectItem(j, "records")->valueint == 3 && cJSON_GetObjectItem(j, "bad_lines")->valueint == 1);
    const cJSON *pl = cJSON_GetObjectItem(j, "plan_lengths");
    CHECK(cJSON_GetObjectItem(pl, "1")->valueint == 1 && cJSON_GetObjectItem(pl, "2")->valueint == 2);
    const cJSON *fn = cJSON_GetObjectItem(j, "functions");
    CHECK(cJSON_GetObjectItem(fn, "g")->valueint == 3 && cJSON_GetObjectItem(fn, "f")->valueint == 2);
    CHECK(!strcmp(fn->child->string, "g")); /* most used first */
    const cJSON *ng = cJSON_GetObjectItem(j, "ngrams");
    static const int distinct[5] = {0, 4, 4, 3, 1}, total[5] = {0, 10, 7, 4, 1};
    for (int g = 1; g <= 4; g++) {
        char k[2] = {(char)('0' + g), 0};
        const cJSON *e = cJSON_GetObjectItem(ng, k);
        CHECKF(e && cJSON_GetObjectItem(e, "distinct")->valueint == distinct[g] &&
                   cJSON_GetObjectItem(e, "total")->valueint == total[g],
               "%d-grams", g);
    }
    const cJSON *tp = cJSON_GetObjectItem(j, "templates");
    CHECK(cJSON_GetObjectItem(tp, "records")->valueint == 3 && cJSON_GetObjectItem(tp, "distinct")->valueint == 2);
    CHECK_NEAR(cJSON_GetObjectItem(j, "avg_query_chars")->valuedouble, (7 + 5 + 8) / 3.0, 0.01);
    CHECK_NEAR(cJSON_GetObjectItem(j, "avg_query_words")->valuedouble, 10 / 3.0, 0.01);
    CHECK_NEAR(cJSON_GetObjectItem(j, "avg_steps")->valuedouble, 5 / 3.0, 0.001);
    cJSON_Delete(j);
}

TEST(dedupe) {
    const char *in = put("dd.jsonl", "{\"query\": \"Call Mom\", \"n\": 1}\n"
                                     "{\"query\":\"Call Mom\",\"n\":1}\n"         /* exact (spacing) */
                                     "{\"query\": \"call mom!\", \"n\": 2}\n"     /* normalized query */
                                     "{\"query\": \"Call Dad\", \"n\": 3}\n"
                                     "junk\njunk\n");
    octo_dedupe_stats st;
    REQUIRE(octo_data_dedupe(in, tmp("dd_out.jsonl"), tmp("dd_rm.jsonl"), &st) == 0);
    CHECK(st.n_in == 6 && st.n_out == 3 && st.n_exact == 2 && st.n_query == 1 && st.n_bad == 2);
    char *t = octo_read_file(tmp("dd_out.jsonl"), NULL);
    CHECK(t && !strcmp(t, "{\"query\": \"Call Mom\", \"n\": 1}\n{\"query\": \"Call Dad\", \"n\": 3}\njunk\n"));
    free(t);
    CHECK(count_lines(tmp("dd_rm.jsonl")) == 3);
}

/* Mutated record lines: parse or reject, never crash; validate the survivors. */
TEST(hostile_json_lines) {
    octo_funcset *fs = octo_funcset_parse(k_phone, strlen(k_phone), "phone.json");
    REQUIRE(fs);
    const char *base = "{\"query\": \"Before you text Anna hi, wake me at 7\", \"steps\": [\"Set an alarm for 7\", "
                       "\"Text Anna hi\"], \"calls\": [{\"function\": \"set_alarm\", \"arguments\": {\"time\": \"07:00\"}}, "
                       "{\"function\": \"send_sms\", \"arguments\": {\"to\": \"Anna\", \"text\": \"hi\"}}], \"domains\": "
                       "[\"phone\"]}";
    size_t n = strlen(base);
    FILE *f = fopen(tmp("fuzz.jsonl"), "wb");
    REQUIRE(f);
    char *buf = malloc(n + 1);
    for (int it = 0; it < 3000; it++) {
        memcpy(buf, base, n + 1);
        int flips = 1 + (int)(t_rand_u64() % 5);
        for (int k = 0; k < flips; k++) {
            static const char pool[] = "{}[]\",:0a \\\x01\xff\xe2";
            buf[t_rand_u64() % n] = pool[t_rand_u64() % (sizeof pool - 1)];
        }
        for (size_t k = 0; k < n; k++)
            if (buf[k] == '\n') buf[k] = ' ';
        fprintf(f, "%s\n", buf);
    }
    /* deep nesting, a huge string, a NUL byte */
    fputs("{\"query\": \"q\", \"steps\": [\"s\"], \"calls\": [{\"function\": \"set_alarm\", \"arguments\": {\"time\": ", f);
    for (int i = 0; i < 5000; i++) fputc('[', f);
    for (int i = 0; i < 5000; i++) fputc(']', f);
    fputs("}}]}\n", f);
    fputs("{\"query\": \"", f);
    for (int i = 0; i < 2000000; i++) fputc('a' + i % 26, f);
    fputs("\", \"steps\": [\"s\"], \"calls\": [{\"function\": \"set_alarm\", \"arguments\": {\"time\": \"x\"}}]}\n", f);
    fputs("{\"query\": \"a\0b\"}\n", f);
    fclose(f);
    free(buf);
    octo_validate_stats st;
    octo_validate_opts o;
    octo_validate_opts_default(&o);
    REQUIRE(octo_validate_file(fs, tmp("fuzz.jsonl"), tmp("fz_k.jsonl"), tmp("fz_r.jsonl"), &o, NULL, &st) == 0);
    CHECK(st.n_in == 3003 && st.n_kept + st.n_rejected == st.n_in && st.n_kept > 0 && st.n_rejected > 0);
    CHECK(count_lines(tmp("fz_k.jsonl")) == st.n_kept && count_lines(tmp("fz_r.jsonl")) == st.n_rejected);
    /* every kept line really is a valid record */
    octo_record *rs;
    int nr, bad;
    REQUIRE(octo_records_read(tmp("fz_k.jsonl"), true, &rs, &nr, &bad) == 0);
    CHECK(nr == st.n_kept);
    octo_records_free(rs, nr);
    octo_dedupe_stats ds;
    CHECK(octo_data_dedupe(tmp("fuzz.jsonl"), tmp("fz_d.jsonl"), NULL, &ds) == 0 && ds.n_in == 3003);
    FILE *sink = fopen("/dev/null", "w");
    CHECK(octo_data_stats(tmp("fuzz.jsonl"), sink, false) == 0);
    fclose(sink);
    octo_tb_opts to = {fs, NULL, NULL, NULL, false};
    octo_tb_stats ts;
    CHECK(octo_convert_taskbench(tmp("fuzz.jsonl"), tmp("fz_tb.jsonl"), &to, &ts) == 0 && ts.n_in == 3003);
    octo_funcset_free(fs);
}

int main(void) {
    RUN(record_roundtrip);
    RUN(record_errors);
    RUN(convert_taskbench_records);
    RUN(validate_rules);
    RUN(split_proportions_and_determinism);
    RUN(stats_numbers);
    RUN(dedupe);
    RUN(hostile_json_lines);
    return t_finish();
}
