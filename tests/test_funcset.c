/* test_funcset.c - function-set files: parsing, every validation error with
 * the file and JSON path it names, argument checks against the schema
 * subset, handler profiles and {dir}, shipped-set lookup, the shipped sets
 * themselves, and hostile input (mutated and deeply nested JSON). */
#include "testlib.h"

#include <sys/stat.h>
#include <unistd.h>

#include "agent/funcset.h"
#include "base/error.h"
#include "base/file.h"
#include "octo.h"

static octo_funcset *parse(const char *json) { return octo_funcset_parse(json, strlen(json), "test.json"); }

static const char *k_good =
    "{\"name\": \"demo\", \"description\": \"a demo set\", \"functions\": ["
    " {\"type\": \"function\", \"function\": {\"name\": \"set_alarm\", \"description\": \"Set an alarm\","
    "   \"parameters\": {\"type\": \"object\", \"properties\": {"
    "     \"time\": {\"type\": \"string\", \"description\": \"HH:MM\"},"
    "     \"days\": {\"type\": \"array\", \"items\": {\"type\": \"string\", \"enum\": [\"mon\", \"tue\"]}},"
    "     \"snooze\": {\"type\": \"integer\", \"minimum\": 0, \"maximum\": 30},"
    "     \"label\": {\"type\": \"string\", \"maxLength\": 5}},"
    "   \"required\": [\"time\"]}},"
    "  \"handler\": {\"exec\": [\"printf\", \"%s\", \"{time}\"]}},"
    " {\"name\": \"set_volume\", \"parameters\": {\"type\": \"object\", \"properties\": {"
    "     \"level\": {\"type\": \"number\"},"
    "     \"stream\": {\"type\": \"string\", \"enum\": [\"music\", \"ring\"]},"
    "     \"mute\": {\"type\": \"boolean\"},"
    "     \"opts\": {\"type\": \"object\", \"properties\": {\"fade\": {\"type\": \"boolean\"}}, \"required\": [\"fade\"]}},"
    "   \"required\": [\"level\", \"stream\"]},"
    "  \"handler\": {\"http\": \"http://127.0.0.1:9/volume\", \"timeout_ms\": 500}},"
    " {\"name\": \"ping\"}"
    "]}";

TEST(parse_good_set) {
    octo_funcset *fs = parse(k_good);
    REQUIRE(fs);
    CHECK(!strcmp(fs->name, "demo"));
    CHECK(!strcmp(fs->description, "a demo set"));
    REQUIRE(fs->n == 3);
    const octo_function *a = &fs->fns[0], *v = &fs->fns[1], *p = &fs->fns[2];
    CHECK(!strcmp(a->name, "set_alarm") && !strcmp(a->description, "Set an alarm"));
    REQUIRE(a->n_params == 4);
    CHECK(!strcmp(a->params[0].name, "time") && a->params[0].type == OCTO_JT_STRING && a->params[0].required);
    CHECK(!strcmp(a->params[1].name, "days") && a->params[1].type == OCTO_JT_ARRAY && !a->params[1].required);
    CHECK(a->params[2].type == OCTO_JT_INTEGER);
    CHECK(!strcmp(a->params[0].description, "HH:MM"));
    CHECK(a->handler.kind == OCTO_HANDLER_EXEC && a->handler.argc == 3 && a->handler.argv[3] == NULL);
    CHECK(!strcmp(a->handler.argv[2], "{time}"));
    CHECK(a->handler.timeout_ms == 10000);
    CHECK(v->handler.kind == OCTO_HANDLER_HTTP && !strcmp(v->handler.url, "http://127.0.0.1:9/volume"));
    CHECK(v->handler.timeout_ms == 500);
    REQUIRE(v->n_params == 4);
    CHECK(v->params[1].n_enum == 2 && !strcmp(v->params[1].enum_values[1], "ring"));
    CHECK(p->n_params == 0 && p->handler.kind == OCTO_HANDLER_NONE);
    CHECK(octo_funcset_find(fs, "set_volume") == 1);
    CHECK(octo_funcset_find(fs, "nope") == -1);
    octo_funcset_free(fs);
    /* a bare array takes its name from the origin */
    const char *bare = "[{\"name\": \"f\"}]";
    fs = octo_funcset_parse(bare, strlen(bare), "/x/y/myset.json");
    REQUIRE(fs);
    CHECK(!strcmp(fs->name, "myset"));
    octo_funcset_free(fs);
}

/* Every spec error names the file, the JSON path and what was expected. */
TEST(spec_errors_name_file_and_path) {
    static const struct {
        const char *json, *want;
    } cases[] = {
        {"{\"functions\": []}", "test.json: functions: expected 1 to"},
        {"{\"name\": \"x\"}", "test.json: functions: expected an array"},
        {"{\"functions\": [], \"extra\": 1}", "test.json: extra: unknown key"},
        {"42", "test.json: expected an object"},
        {"{\"functions\": [", "test.json:1: not valid JSON"},
        {"[{\"name\": \"a b\"}]", "test.json: functions[0].name: expected 1-64 characters"},
        {"[{\"name\": \"\"}]", "functions[0].name"},
        {"[{\"name\": \"f\"}, {\"name\": \"f\"}]", "functions[1].name: \"f\" is defined twice"},
        {"[{\"name\": \"f\", \"descripton\": \"x\"}]", "functions[0].descripton: unknown key"},
        {"[{\"type\": \"tool\", \"function\": {\"name\": \"f\"}}]", "functions[0].type: expected \"function\""},
        {"[{\"type\": \"function\", \"function\": {\"name\": \"f\", \"parameters\": {\"type\": \"array\"}}}]",
         "functions[0].function.parameters.type: expected \"object\""},
        {"[{\"name\": \"f\", \"parameters\": {\"type\": \"object\", \"properties\": {\"x\": {\"type\": \"strin\"}}}}]",
         "test.json: functions[0].parameters.properties.x.type: expected one of string, integer, number, boolean, "
         "array, object"},
        {"[{\"name\": \"f\", \"parameters\": {\"type\": \"object\", \"properties\": {\"x\": {}}}}]",
         "functions[0].parameters.properties.x.type: missing"},
        {"[{\"name\": \"f\", \"parameters\": {\"type\": \"object\", \"properties\": {\"x\": {\"type\": \"string\"}}, "
         "\"required\": [\"y\"]}}]",
         "functions[0].parameters.required[0]: \"y\" is not in properties"},
        {"[{\"name\": \"f\", \"parameters\": {\"type\": \"object\", \"properties\": {\"x\": {\"type\": \"string\", "
         "\"requried\": true}}}}]",
         "functions[0].parameters.properties.x.requried: unknown keyword"},
        {"[{\"name\": \"f\", \"parameters\": {\"type\": \"object\", \"properties\": {\"x\": {\"type\": \"string\", "
         "\"enum\": [\"a\", 2]}}}}]",
         "properties.x.enum[1]: expected a string"},
        {"[{\"name\": \"f\", \"parameters\": {\"type\": \"object\", \"properties\": {\"x\": {\"type\": \"string\", "
         "\"items\": {\"type\": \"string\"}}}}}]",
         "properties.x.items: only for type array"},
        {"[{\"name\": \"f\", \"parameters\": {\"type\": \"object\", \"properties\": {\"x\": {\"type\": \"array\", "
         "\"items\": {\"type\": \"date\"}}}}}]",
         "properties.x.items.type: expected one of"},
        {"[{\"name\": \"f\", \"parameters\": {\"type\": \"object\", \"properties\": {\"x\": {\"type\": \"string\"}, "
         "\"x\": {\"type\": \"string\"}}}}]",
         "properties.x: defined twice"},
        {"[{\"name\": \"f\", \"handler\": {\"exec\": [\"echo\", \"{nope}\"]}}]",
         "functions[0].handler.exec[1]: placeholder {nope} names no parameter of f"},
        {"[{\"name\": \"f\", \"parameters\": {\"type\": \"object\", \"properties\": {\"p\": {\"type\": \"string\"}}}, "
         "\"handler\": {\"exec\": [\"{p}\"]}}]",
         "functions[0].handler.exec[0]: the program must be a fixed"},
        {"[{\"name\": \"f\", \"handler\": {\"exec\": []}}]", "functions[0].handler.exec: expected an array of 1 to"},
        {"[{\"name\": \"f\", \"handler\": {\"exec\": [\"echo\", 3]}}]", "functions[0].handler.exec[1]: expected a string"},
        {"[{\"name\": \"f\", \"handler\": {\"http\": \"ftp://x\"}}]", "functions[0].handler.http: expected an http://"},
        {"[{\"name\": \"f\", \"handler\": {\"http\": \"http://x\", \"exec\": [\"a\"]}}]", "exactly one of"},
        {"[{\"name\": \"f\", \"handler\": {\"http\": \"http://x\", \"timeout_ms\": 0}}]", "handler.timeout_ms: expected"},
        {"[{\"name\": \"f\", \"handler\": {\"http\": \"http://x\", \"timeout_ms\": 1e308}}]", "handler.timeout_ms"},
        {"[{\"name\": \"f\", \"handler\": {\"run\": \"x\"}}]", "functions[0].handler.run: unknown key"},
        {"[{\"name\": \"f\", \"handlers\": {\"linux\": {\"exec\": \"ls\"}}}]", "functions[0].handlers.linux.exec"},
        {"[{\"name\": \"f\", \"parameters\": {\"type\": \"object\", \"properties\": {\"dir\": {\"type\": \"string\"}}}, "
         "\"handler\": {\"exec\": [\"ls\", \"{dir}\"]}}]",
         "{dir} is reserved"},
        {"[{\"name\": \"f\", \"parameters\": {\"type\": \"object\", \"properties\": {\"n\": {\"type\": \"integer\", "
         "\"minLength\": 2}}}}]",
         "properties.n.minLength: only for type string"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        octo_funcset *fs = parse(cases[i].json);
        CHECKF(fs == NULL, "case %zu parsed: %s", i, cases[i].json);
        octo_funcset_free(fs);
        const char *e = octo_last_error();
        CHECKF(strstr(e, cases[i].want) != NULL, "case %zu: got \"%s\", want \"%s\"", i, e, cases[i].want);
        CHECKF(!strncmp(e, "test.json", 9), "case %zu: message does not name the file: %s", i, e);
    }
}

static int check_args(const octo_function *f, const char *args_json, char *why, size_t cap) {
    cJSON *a = cJSON_Parse(args_json);
    if (!a) return 99;
    int rc = octo_args_validate(f, a, why, cap);
    cJSON_Delete(a);
    return rc;
}

TEST(args_validate) {
    octo_funcset *fs = parse(k_good);
    REQUIRE(fs);
    const octo_function *al = &fs->fns[0], *vo = &fs->fns[1], *pi = &fs->fns[2];
    static const struct {
        int fn;
        const char *args;
        const char *want; /* NULL: valid */
    } cases[] = {
        {0, "{\"time\": \"07:30\"}", NULL},
        {0, "{\"time\": \"07:30\", \"days\": [\"mon\", \"tue\"], \"snooze\": 5, \"label\": \"abc\"}", NULL},
        {0, "{\"time\": \"07:30\", \"label\": \"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\"}", NULL}, /* 5 characters */
        {0, "{}", "argument \"time\": required by set_alarm but missing"},
        {0, "{\"time\": 730}", "argument \"time\": expected string, got number"},
        {0, "{\"time\": null}", "argument \"time\": expected string, got null"},
        {0, "{\"time\": \"7\", \"when\": 1}", "argument \"when\": unknown to set_alarm (it takes: time days snooze label)"},
        {0, "{\"time\": \"7\", \"days\": [\"mon\", \"sun\"]}", "argument \"days\"[1]: not one of the allowed values"},
        {0, "{\"time\": \"7\", \"days\": \"mon\"}", "argument \"days\": expected array"},
        {0, "{\"time\": \"7\", \"snooze\": 2.5}", "argument \"snooze\": expected integer, got number"},
        {0, "{\"time\": \"7\", \"snooze\": 31}", "above the maximum"},
        {0, "{\"time\": \"7\", \"snooze\": -1}", "below the minimum"},
        {0, "{\"time\": \"7\", \"label\": \"abcdef\"}", "longer than maxLength"},
        {0, "{\"time\": \"7\", \"time\": \"8\"}", "given twice"},
        {0, "[]", "arguments: expected an object"},
        {1, "{\"level\": 3, \"stream\": \"music\"}", NULL},
        {1, "{\"level\": 0.25, \"stream\": \"ring\", \"mute\": false, \"opts\": {\"fade\": true}}", NULL},
        {1, "{\"level\": \"3\", \"stream\": \"music\"}", "argument \"level\": expected number, got string"},
        {1, "{\"level\": 3, \"stream\": \"alarm\"}", "argument \"stream\": not one of the allowed values (\"music\", \"ring\")"},
        {1, "{\"level\": 3, \"stream\": \"music\", \"mute\": \"yes\"}", "expected boolean"},
        {1, "{\"level\": 3, \"stream\": \"music\", \"opts\": {}}", "argument \"opts\".fade: required but missing"},
        {1, "{\"level\": 3, \"stream\": \"music\", \"opts\": {\"fade\": true, \"x\": 1}}", "argument \"opts\".x: unknown name"},
        {2, "{}", NULL},
        {2, "{\"x\": 1}", "argument \"x\": unknown to ping (it takes: nothing)"},
    };
    const octo_function *fns[] = {al, vo, pi};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char why[300] = "";
        int rc = check_args(fns[cases[i].fn], cases[i].args, why, sizeof why);
        if (!cases[i].want) {
            CHECKF(rc == 0, "case %zu should pass: %s", i, why);
        } else {
            CHECKF(rc == -1 && strstr(why, cases[i].want), "case %zu: rc %d, got \"%s\", want \"%s\"", i, rc, why,
                   cases[i].want);
        }
    }
    /* additionalProperties: true lets other names through */
    const char *open_set = "[{\"name\": \"g\", \"parameters\": {\"type\": \"object\", \"properties\": {\"a\": "
                           "{\"type\": \"string\"}}, \"additionalProperties\": true}}]";
    octo_funcset *fo = octo_funcset_parse(open_set, strlen(open_set), "open.json");
    REQUIRE(fo);
    char w[200];
    CHECK(check_args(&fo->fns[0], "{\"a\": \"x\", \"zz\": [1]}", w, sizeof w) == 0);
    CHECK(check_args(&fo->fns[0], "{\"a\": 1}", w, sizeof w) == -1);
    octo_funcset_free(fo);
    /* a tiny buffer truncates, never overflows */
    char small[8];
    CHECK(check_args(al, "{\"when\": 1}", small, sizeof small) == -1 && strlen(small) == 7);
    octo_funcset_free(fs);
}

TEST(handler_profiles_and_dir) {
    const char *json = "[{\"name\": \"f\", \"parameters\": {\"type\": \"object\", \"properties\": {\"v\": {\"type\": "
                       "\"string\"}}},"
                       " \"handlers\": {\"linux\": {\"exec\": [\"{dir}/run.sh\", \"{v}\"]},"
                       "               \"termux\": {\"exec\": [\"termux-toast\", \"{v}\"]},"
                       "               \"default\": {\"http\": \"http://localhost:1/f\"}}}]";
    char sub[600];
    snprintf(sub, sizeof sub, "%s/we{ird}", t_tmpdir());
    REQUIRE(mkdir(sub, 0755) == 0);
    char path[700];
    snprintf(path, sizeof path, "%s/set.json", sub);
    REQUIRE(octo_write_file_atomic(path, json, strlen(json)) == 0);
    octo_funcset *fs = octo_funcset_load_profile(path, "linux");
    REQUIRE(fs);
    REQUIRE(fs->fns[0].handler.kind == OCTO_HANDLER_EXEC);
    /* {dir} is the set file's absolute directory; its braces stay literal */
    char want[800];
    char *real = realpath(sub, NULL);
    REQUIRE(real);
    snprintf(want, sizeof want, "%s/run.sh", real);
    free(real);
    char *dbl = malloc(strlen(want) * 2 + 1), *o = dbl;
    for (const char *s = want; *s; s++) {
        *o++ = *s;
        if (*s == '{' || *s == '}') *o++ = *s;
    }
    *o = 0;
    CHECKF(!strcmp(fs->fns[0].handler.argv[0], dbl), "argv[0] = %s, want %s", fs->fns[0].handler.argv[0], dbl);
    free(dbl);
    octo_funcset_free(fs);
    fs = octo_funcset_load_profile(path, "termux");
    REQUIRE(fs);
    CHECK(!strcmp(fs->fns[0].handler.argv[0], "termux-toast"));
    octo_funcset_free(fs);
    fs = octo_funcset_load_profile(path, "macos");
    REQUIRE(fs);
    CHECK(fs->fns[0].handler.kind == OCTO_HANDLER_HTTP);
    octo_funcset_free(fs);
    setenv("OCTO_HANDLERS", "termux", 1);
    CHECK(!strcmp(octo_funcset_default_profile(), "termux"));
    fs = octo_funcset_load(path);
    REQUIRE(fs);
    CHECK(!strcmp(fs->fns[0].handler.argv[0], "termux-toast"));
    octo_funcset_free(fs);
    unsetenv("OCTO_HANDLERS");
}

TEST(funcset_path_lookup) {
    char dir[600];
    snprintf(dir, sizeof dir, "%s/data", t_tmpdir());
    mkdir(dir, 0755);
    char fdir[700];
    snprintf(fdir, sizeof fdir, "%s/functions", dir);
    mkdir(fdir, 0755);
    char file[800];
    snprintf(file, sizeof file, "%s/zz_test_set.json", fdir);
    REQUIRE(octo_write_file_atomic(file, "[{\"name\": \"f\"}]", 15) == 0);
    setenv("OCTO_DATA_DIR", dir, 1);
    char *p = octo_funcset_path("zz_test_set");
    CHECK(p && !strcmp(p, file));
    free(p);
    p = octo_funcset_path("no_such_set_anywhere");
    CHECK(p == NULL && strstr(octo_last_error(), "not found"));
    p = octo_funcset_path("../etc/passwd");
    CHECK(p == NULL);
    p = octo_funcset_path("a b");
    CHECK(p == NULL && strstr(octo_last_error(), "not a set name"));
    p = octo_funcset_path(file); /* a path is taken as it is */
    CHECK(p && !strcmp(p, file));
    free(p);
    unsetenv("OCTO_DATA_DIR");
    octo_funcset *fs = octo_funcset_load("/nonexistent/x.json");
    CHECK(!fs && strstr(octo_last_error(), "/nonexistent/x.json: cannot open"));
}

/* The shipped sets (functions/NAME.json) all load; dailylife matches TaskBench's tools. */
TEST(shipped_sets) {
    static const char *names[] = {"android", "ecommerce", "video_streaming", "travel", "dailylife"};
    int found = 0;
    for (int i = 0; i < 5; i++) {
        char path[256];
        snprintf(path, sizeof path, "functions/%s.json", names[i]);
        if (access(path, F_OK) != 0) continue;
        found++;
        octo_funcset *fs = octo_funcset_load(path);
        CHECKF(fs != NULL, "%s: %s", path, octo_last_error());
        if (fs) CHECK(!strcmp(fs->name, names[i]));
        if (fs && i == 4) {
            CHECK(fs->n == 40);
            for (int k = 0; k < fs->n; k++)
                for (int j = 0; j < fs->fns[k].n_params; j++)
                    CHECK(fs->fns[k].params[j].required && fs->fns[k].params[j].type == OCTO_JT_STRING);
        }
        octo_funcset_free(fs);
    }
    if (!found) SKIP("no functions/ directory here (run from the repository root)");
    const char *td = t_shared_path("data/taskbench-dailylife/tool_desc.json");
    if (!td || access(td, F_OK) != 0 || access("functions/dailylife.json", F_OK) != 0) return;
    /* every TaskBench tool and parameter is in the set, in order */
    char *text = octo_read_file(td, NULL);
    cJSON *j = cJSON_Parse(text);
    free(text);
    octo_funcset *fs = octo_funcset_load("functions/dailylife.json");
    REQUIRE(j && fs);
    const cJSON *nodes = cJSON_GetObjectItem(j, "nodes");
    CHECK(cJSON_GetArraySize(nodes) == fs->n);
    int i = 0;
    const cJSON *n;
    cJSON_ArrayForEach(n, nodes) {
        if (i >= fs->n) break;
        CHECK(!strcmp(cJSON_GetObjectItem(n, "id")->valuestring, fs->fns[i].name));
        CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(n, "parameters")) == fs->fns[i].n_params);
        int k = 0;
        const cJSON *p;
        cJSON_ArrayForEach(p, cJSON_GetObjectItem(n, "parameters")) {
            if (k < fs->fns[i].n_params)
                CHECK(!strcmp(cJSON_GetObjectItem(p, "name")->valuestring, fs->fns[i].params[k].name));
            k++;
        }
        i++;
    }
    cJSON_Delete(j);
    octo_funcset_free(fs);
}

/* Mutated, truncated and deeply nested input never crashes the parser, and
 * whatever parses is a consistent set. */
TEST(hostile_input) {
    size_t n = strlen(k_good);
    char *buf = malloc(n + 1);
    int parsed = 0;
    for (int it = 0; it < 3000; it++) {
        memcpy(buf, k_good, n + 1);
        size_t len = n;
        int kind = (int)(t_rand_u64() % 3);
        if (kind == 0) len = (size_t)(t_rand_u64() % n); /* truncation */
        int flips = 1 + (int)(t_rand_u64() % 4);
        for (int f = 0; f < flips && kind != 0; f++) {
            size_t at = (size_t)(t_rand_u64() % n);
            static const char pool[] = "{}[]\":,0123456789-eE.tfn\\ \x01\xff\xc3";
            buf[at] = kind == 1 ? pool[t_rand_u64() % (sizeof pool - 1)] : (char)(t_rand_u64() & 0xff);
        }
        octo_funcset *fs = octo_funcset_parse(buf, len, "fuzz.json");
        if (fs) {
            parsed++;
            for (int i = 0; i < fs->n; i++) {
                CHECK(fs->fns[i].name && fs->fns[i].parameters);
                for (int k = 0; k < fs->fns[i].handler.argc; k++) CHECK(fs->fns[i].handler.argv[k] != NULL);
            }
        } else {
            CHECK(!strncmp(octo_last_error(), "fuzz.json", 9));
        }
        octo_funcset_free(fs);
    }
    free(buf);
    CHECK(parsed > 0);
    /* nesting: JSON 100000 deep, a schema 40 deep, arguments 2000 deep */
    int deep = 100000;
    char *d = malloc((size_t)deep * 2 + 1);
    memset(d, '[', (size_t)deep);
    memset(d + deep, ']', (size_t)deep);
    d[2 * deep] = 0;
    CHECK(octo_funcset_parse(d, strlen(d), "deep.json") == NULL);
    free(d);
    char schema[8192] = "[{\"name\": \"f\", \"parameters\": {\"type\": \"object\", \"properties\": {\"x\": ";
    for (int i = 0; i < 40; i++) strcat(schema, "{\"type\": \"array\", \"items\": ");
    strcat(schema, "{\"type\": \"string\"}");
    for (int i = 0; i < 40; i++) strcat(schema, "}");
    strcat(schema, "}}}]");
    CHECK(parse(schema) == NULL && strstr(octo_last_error(), "nested deeper"));
    octo_funcset *fs = parse(k_good);
    REQUIRE(fs);
    char *args = malloc(10000);
    strcpy(args, "{\"time\": \"7\", \"days\": ");
    for (int i = 0; i < 900; i++) strcat(args, "[");
    for (int i = 0; i < 900; i++) strcat(args, "]");
    strcat(args, "}");
    char why[200];
    int rc = check_args(&fs->fns[0], args, why, sizeof why);
    CHECK(rc == -1 || rc == 99);
    free(args);
    octo_funcset_free(fs);
}

/* The same through include/octo.h, with text in and out. */
TEST(public_api) {
    char path[600];
    snprintf(path, sizeof path, "%s/api.json", t_tmpdir());
    REQUIRE(octo_write_file_atomic(path, k_good, strlen(k_good)) == 0);
    octo_funcset *fs = octo_funcset_load(path);
    REQUIRE(fs);
    CHECK(octo_funcset_size(fs) == 3 && !strcmp(octo_funcset_function_name(fs, 1), "set_volume"));
    CHECK(octo_funcset_function_name(fs, 3) == NULL && octo_funcset_function_name(fs, -1) == NULL);
    CHECK(octo_funcset_check_call(fs, "set_alarm", "{\"time\": \"07:30\"}") == 0);
    CHECK(octo_funcset_check_call(fs, "set_alarm", "{\"time\": 7}") == -1 &&
          strstr(octo_last_error(), "set_alarm: argument \"time\": expected string"));
    CHECK(octo_funcset_check_call(fs, "set_alarm", "[1]") == -1 && strstr(octo_last_error(), "expected a JSON object"));
    CHECK(octo_funcset_check_call(fs, "nope", "{}") == -1 && strstr(octo_last_error(), "demo has no function \"nope\""));
    char *obs = NULL;
    CHECK(octo_funcset_call(fs, "set_alarm", "{\"time\": \"$(id) ; `id`\"}", &obs) == 0);
    CHECK(obs && !strcmp(obs, "$(id) ; `id`"));
    free(obs);
    CHECK(octo_funcset_call(fs, "ping", NULL, &obs) == -1 && strstr(octo_last_error(), "ping: no handler"));
    octo_funcset_free(fs);
}

int main(void) {
    RUN(parse_good_set);
    RUN(spec_errors_name_file_and_path);
    RUN(args_validate);
    RUN(handler_profiles_and_dir);
    RUN(funcset_path_lookup);
    RUN(shipped_sets);
    RUN(hostile_input);
    RUN(public_api);
    return t_finish();
}
