/* test_agent.c - the planner and action agents: training/prompt text,
 * constrained decoding, and the agent loop with real handlers.
 *
 * The central claim is that constrained outputs always parse and validate,
 * whatever the model says: it is checked on hundreds of decodes driven by
 * random logits (the decoder cannot tell them from a model's) over real
 * vocabularies (a byte-level BPE trained here, and the SentencePiece
 * fixture when ../shared is there), across schemas with enums, integers
 * and numbers with bounds, booleans, strings with length limits, arrays,
 * nested objects, required and optional properties; and on random-weight
 * models made with octo_model_init_file. The agent loop runs with a C
 * callback and with a real exec handler (echo), observations flowing to
 * the next step, and stops with a report on a failing handler.
 */
#include <string.h>
#include <unistd.h>

#include "octo.h"
#include "agent/actor.h"
#include "agent/constrain.h"
#include "agent/funcset.h"
#include "agent/json_fsm.h"
#include "agent/planner.h"
#include "agent/render.h"
#include "model/model.h"
#include "model/sampler.h"
#include "train/dataset.h"
#include "testlib.h"

static const char *k_set =
    "{\"name\":\"testset\",\"functions\":["
    "{\"name\":\"take_a_photo\",\"description\":\"Take a photo\",\"parameters\":{\"type\":\"object\",\"properties\":{"
    "\"camera\":{\"type\":\"string\",\"enum\":[\"front\",\"back\"]},"
    "\"resolution\":{\"type\":\"string\",\"enum\":[\"720p\",\"1080p\",\"4k\"]},"
    "\"flash\":{\"type\":\"boolean\"}},\"required\":[\"camera\"]}},"
    "{\"name\":\"set_volume\",\"description\":\"Set the volume\",\"parameters\":{\"type\":\"object\",\"properties\":{"
    "\"level\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":100},"
    "\"stream\":{\"type\":\"string\",\"enum\":[\"music\",\"ring\",\"alarm\"]}},\"required\":[\"level\",\"stream\"]}},"
    "{\"name\":\"send_sms\",\"description\":\"Send a text message\",\"parameters\":{\"type\":\"object\",\"properties\":{"
    "\"to\":{\"type\":\"string\",\"minLength\":3,\"maxLength\":20},\"body\":{\"type\":\"string\"},"
    "\"urgent\":{\"type\":\"boolean\"}},\"required\":[\"to\",\"body\"]}},"
    "{\"name\":\"set_brightness\",\"description\":\"Set the brightness\",\"parameters\":{\"type\":\"object\",\"properties\":{"
    "\"value\":{\"type\":\"number\",\"minimum\":0.5,\"maximum\":1},\"delta\":{\"type\":\"number\"},"
    "\"auto\":{\"type\":\"boolean\"}}}},"
    "{\"name\":\"create_event\",\"description\":\"Create a calendar event\",\"parameters\":{\"type\":\"object\",\"properties\":{"
    "\"title\":{\"type\":\"string\"},\"attendees\":{\"type\":\"array\",\"items\":{\"type\":\"string\"},\"maxItems\":3},"
    "\"duration\":{\"type\":\"integer\",\"enum\":[15,30,60,120]},"
    "\"where\":{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"},\"room\":{\"type\":\"integer\",\"minimum\":-5,\"maximum\":250}},"
    "\"required\":[\"city\"]}},\"required\":[\"title\",\"duration\"]}},"
    "{\"name\":\"get_battery\",\"description\":\"Battery level\",\"parameters\":{\"type\":\"object\",\"properties\":{}}},"
    "{\"name\":\"echo_text\",\"description\":\"Echo a text\",\"parameters\":{\"type\":\"object\",\"properties\":{"
    "\"text\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":12}},\"required\":[\"text\"]},"
    "\"handler\":{\"exec\":[\"echo\",\"{text}\"]}},"
    "{\"name\":\"always_fails\",\"description\":\"Fails\",\"parameters\":{\"type\":\"object\",\"properties\":{"
    "\"x\":{\"type\":\"string\"}}},\"handler\":{\"exec\":[\"false\"]}}"
    "]}";

static octo_funcset *g_fs;
static char g_vocab_bpe[512], g_vocab_spm[512], g_model[512];

static octo_funcset *subset(const char *fn) {
    /* a set holding one function of k_set, for runs that must call it */
    cJSON *all = cJSON_Parse(k_set), *fns = cJSON_GetObjectItem(all, "functions"), *keep = cJSON_CreateArray();
    cJSON *f;
    cJSON_ArrayForEach(f, fns) if (!strcmp(cJSON_GetObjectItem(f, "name")->valuestring, fn))
        cJSON_AddItemToArray(keep, cJSON_Duplicate(f, true));
    cJSON_ReplaceItemInObject(all, "functions", keep);
    char *s = cJSON_PrintUnformatted(all);
    octo_funcset *fs = octo_funcset_parse(s, strlen(s), fn);
    free(s);
    cJSON_Delete(all);
    return fs;
}

/* ---- rendering ---- */

TEST(render_formats) {
    char why[256];
    char *p = octo_render_prompt("Turn it up");
    REQUIRE(p);
    CHECK(!strcmp(p, "<|user|>Turn it up<|end|><|assistant|>"));
    free(p);
    char *steps[] = {"Take a photo", "Send it to Anna"};
    char *a = octo_render_plan_answer(steps, 2, why, sizeof why);
    REQUIRE(a);
    CHECK(!strcmp(a, "Take a photo<nexa_split>Send it to Anna<nexa_end>"));
    free(a);
    CHECK(octo_render_plan_answer(steps, 0, why, sizeof why) == NULL);
    char *bad[] = {"ok", "two\nlines"};
    CHECK(octo_render_plan_answer(bad, 2, why, sizeof why) == NULL && strstr(why, "steps[1]"));
    /* arguments come out in schema order, compact */
    cJSON *args = cJSON_Parse("{\"flash\":true,\"camera\":\"front\"}");
    a = octo_render_action_answer(&g_fs->fns[0], args, why, sizeof why);
    REQUIRE(a);
    CHECK(!strcmp(a, "<fn_take_a_photo>{\"camera\":\"front\",\"flash\":true}<nexa_end>"));
    free(a);
    cJSON_Delete(args);
    args = cJSON_Parse("{\"camera\":\"side\"}");
    CHECK(octo_render_action_answer(&g_fs->fns[0], args, why, sizeof why) == NULL);
    cJSON_Delete(args);
    char *u = octo_render_action_user("Send it", "{\"path\":\"/tmp/a.jpg\"}\n");
    CHECK(!strcmp(u, "Send it\nObservation: {\"path\":\"/tmp/a.jpg\"}"));
    free(u);
    u = octo_render_action_user("Send it", NULL);
    CHECK(!strcmp(u, "Send it"));
    free(u);
    int n;
    char **t = octo_agent_tokens(g_fs, OCTO_RENDER_PLANNER | OCTO_RENDER_ACTION, &n);
    REQUIRE(t && n == 5 + g_fs->n);
    CHECK(!strcmp(t[0], "<|user|>") && !strcmp(t[3], "<nexa_split>") && !strcmp(t[4], "<nexa_end>") &&
          !strcmp(t[5], "<fn_take_a_photo>"));
    octo_strings_free(t, n);
}

TEST(render_records) {
    const char *line = "{\"query\":\"Photo then text Bo\",\"steps\":[\"Take a photo\",\"Text Bo hi\"],"
                       "\"calls\":[{\"function\":\"take_a_photo\",\"arguments\":{\"camera\":\"back\"}},"
                       "{\"function\":\"send_sms\",\"arguments\":{\"body\":\"hi\",\"to\":\"Bo Li\"}}],"
                       "\"domains\":[\"android\"],\"observations\":[\"saved /tmp/p.jpg\",\"sent\"]}";
    cJSON *j = cJSON_Parse(line);
    octo_record r;
    char why[256];
    REQUIRE(octo_record_from_json(j, &r, why, sizeof why) == 0);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    CHECK(octo_render_record(&r, NULL, OCTO_RENDER_PLANNER, f, why, sizeof why) == 1);
    CHECK(octo_render_record(&r, g_fs, OCTO_RENDER_ACTION, f, why, sizeof why) == 2);
    fclose(f);
    const char *want =
        "{\"messages\":[{\"role\":\"user\",\"content\":\"Photo then text Bo\"},{\"role\":\"assistant\",\"content\":"
        "\"Take a photo<nexa_split>Text Bo hi<nexa_end>\"}]}\n"
        "{\"messages\":[{\"role\":\"user\",\"content\":\"Take a photo\"},{\"role\":\"assistant\",\"content\":"
        "\"<fn_take_a_photo>{\\\"camera\\\":\\\"back\\\"}<nexa_end>\"}]}\n"
        "{\"messages\":[{\"role\":\"user\",\"content\":\"Text Bo hi\\nObservation: saved /tmp/p.jpg\"},"
        "{\"role\":\"assistant\",\"content\":\"<fn_send_sms>{\\\"to\\\":\\\"Bo Li\\\",\\\"body\\\":\\\"hi\\\"}<nexa_end>\"}]}\n";
    CHECKF(buf && !strcmp(buf, want), "got:\n%s", buf ? buf : "(null)");
    free(buf);
    /* a call of a function outside the set is reported, nothing written */
    free(r.calls[1].function);
    r.calls[1].function = strdup("fly_to_mars");
    buf = NULL;
    f = open_memstream(&buf, &len);
    CHECK(octo_render_record(&r, g_fs, OCTO_RENDER_ACTION, f, why, sizeof why) == -1);
    fclose(f);
    CHECK(len == 0 && strstr(why, "fly_to_mars"));
    free(buf);
    octo_record_free(&r);
    cJSON_Delete(j);
}

/* ---- the JSON automaton ---- */

static int accepts(const octo_function *f, const char *text, int max_string) {
    char why[256];
    jf_schema *s = jf_compile(f->parameters, max_string, why, sizeof why);
    if (!s) return -2;
    jf_state st;
    jf_start(&st, s);
    int ok = jf_feed(&st, text, strlen(text)) == 0 && jf_done(&st);
    jf_free(s);
    return ok;
}

TEST(fsm_accepts_exactly_the_schema) {
    const octo_function *photo = &g_fs->fns[0], *vol = &g_fs->fns[1], *sms = &g_fs->fns[2], *br = &g_fs->fns[3],
                        *ev = &g_fs->fns[4], *bat = &g_fs->fns[5];
    static const struct {
        int fn;
        const char *text;
        int ok;
    } cases[] = {
        {0, "{\"camera\":\"front\"}", 1},
        {0, " { \"camera\" : \"back\" , \"resolution\":\"4k\",\"flash\":false}", 1},
        {0, "{\"camera\":\"side\"}", 0},          /* not in the enum */
        {0, "{\"resolution\":\"4k\"}", 0},        /* required camera missing */
        {0, "{\"flash\":true,\"camera\":\"front\"}", 0}, /* schema order */
        {0, "{\"camera\":\"front\",\"zoom\":2}", 0}, /* unknown key */
        {0, "{\"camera\":\"front\"}x", 0},        /* trailing bytes */
        {0, "{\"camera\":\"front\"   }", 0},      /* whitespace runs are bounded */
        {1, "{\"level\":0,\"stream\":\"ring\"}", 1},
        {1, "{\"level\":100,\"stream\":\"ring\"}", 1},
        {1, "{\"level\":101,\"stream\":\"ring\"}", 0},
        {1, "{\"level\":-1,\"stream\":\"ring\"}", 0},
        {1, "{\"level\":07,\"stream\":\"ring\"}", 0},
        {1, "{\"level\":5.5,\"stream\":\"ring\"}", 0},
        {2, "{\"to\":\"Bob\",\"body\":\"caf\xc3\xa9 \\\"hi\\\" \\u00e9\\n\"}", 1},
        {2, "{\"to\":\"Bo\",\"body\":\"x\"}", 0}, /* minLength 3 */
        {2, "{\"to\":\"Bob\",\"body\":\"\xc3\"}", 0}, /* broken UTF-8 */
        {2, "{\"to\":\"Bob\",\"body\":\"\\ud800\"}", 0}, /* half a surrogate pair */
        {2, "{\"to\":\"Bob\",\"body\":\"tab\there\"}", 0}, /* raw control character */
        {3, "{}", 1},
        {3, "{\"value\":0.75,\"delta\":-1.5e+3}", 1},
        {3, "{\"value\":1}", 1},
        {3, "{\"value\":1.01}", 0},
        {3, "{\"value\":0.4}", 0},
        {3, "{\"value\":1e0}", 0}, /* bounded numbers have no exponent */
        {4, "{\"title\":\"T\",\"attendees\":[\"a\",\"b\"],\"duration\":30,\"where\":{\"city\":\"Oslo\",\"room\":-5}}", 1},
        {4, "{\"title\":\"T\",\"duration\":3}", 0},
        {4, "{\"title\":\"T\",\"duration\":120}", 1},
        {4, "{\"title\":\"T\",\"attendees\":[\"a\",\"b\",\"c\",\"d\"],\"duration\":30}", 0}, /* maxItems */
        {4, "{\"title\":\"T\",\"duration\":15,\"where\":{\"room\":3}}", 0},
        {5, "{}", 1},
        {5, "{\"x\":1}", 0},
    };
    (void)photo, (void)vol, (void)sms, (void)br, (void)ev, (void)bat;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        CHECKF(accepts(&g_fs->fns[cases[i].fn], cases[i].text, 64) == cases[i].ok, "case %zu: %s", i, cases[i].text);
    CHECK(accepts(&g_fs->fns[2], "{\"to\":\"Bob\",\"body\":\"0123456789abcdef\"}", 8) == 0); /* max_string */
}

/* Walk the automaton choosing random accepted bytes: every text it can
 * finish must parse and validate. */
TEST(fsm_random_walks_validate) {
    int total = 0;
    for (int fi = 0; fi < g_fs->n; fi++) {
        const octo_function *f = &g_fs->fns[fi];
        char why[256];
        jf_schema *s = jf_compile(f->parameters, 10, why, sizeof why);
        REQUIRE(s);
        for (int rep = 0; rep < 60; rep++) {
            jf_state st;
            jf_start(&st, s);
            char text[4096];
            int n = 0;
            while (!jf_done(&st) && n < (int)sizeof text - 1) {
                unsigned char ok[256];
                int k = 0;
                for (int c = 1; c < 256; c++) {
                    jf_state tmp = st;
                    if (jf_step(&tmp, (unsigned char)c) == 0) ok[k++] = (unsigned char)c;
                }
                if (!k) break;
                /* prefer structure half the time so walks finish quickly */
                unsigned char c = ok[t_rand_u64() % (uint64_t)k];
                if (t_rand_u64() & 1)
                    for (int j = 0; j < k; j++)
                        if (strchr("\"}],:0123456789tf", ok[j]) && (t_rand_u64() & 1)) c = ok[j];
                REQUIRE(jf_step(&st, c) == 0);
                text[n++] = (char)c;
            }
            text[n] = 0;
            CHECKF(jf_done(&st), "%s: walk stuck at \"%s\"", f->name, text);
            cJSON *j = cJSON_Parse(text);
            CHECKF(j && octo_args_validate(f, j, why, sizeof why) == 0, "%s: %s -> %s", f->name, text,
                   j ? why : "not JSON");
            cJSON_Delete(j);
            total++;
        }
        jf_free(s);
    }
    CHECK(total == 60 * g_fs->n);
}

/* ---- token-level constrained decoding with random logits ---- */

/* Normal logits from a table drawn once, read from a random offset each
 * step (drawing 32000 normals per token would dominate the test's time). */
static void random_logits(float *l, int n, float scale) {
    static float *table;
    static int size;
    if (size < 2 * n) {
        free(table);
        table = malloc(2 * (size_t)n * sizeof *table);
        size = 2 * n;
        for (int i = 0; i < size; i++) table[i] = t_rand_normal();
    }
    const float *src = table + t_rand_u64() % (uint64_t)n;
    for (int i = 0; i < n; i++) l[i] = scale * src[i];
}

static void decode_random_actions(const char *vocab_path, int reps) {
    octo_tokenizer *tok = octo_tokenizer_open(vocab_path);
    REQUIRE(tok);
    int32_t n_vocab = octo_tokenizer_n_vocab(tok);
    int32_t *fn_ids = malloc((size_t)g_fs->n * sizeof *fn_ids);
    for (int i = 0; i < g_fs->n; i++) {
        char *t = octo_fn_token(g_fs->fns[i].name);
        fn_ids[i] = octo_token_lookup(tok, t);
        free(t);
        REQUIRE(fn_ids[i] >= 0);
    }
    int32_t end_id = octo_token_lookup(tok, OCTO_TOK_END);
    octo_vocab_index *vi = octo_vocab_index_new(tok);
    octo_constraint *con = octo_con_action_new(vi, g_fs, fn_ids, end_id, 24);
    REQUIRE(vi && con);
    float *logits = malloc((size_t)n_vocab * sizeof *logits), *scratch = malloc((size_t)n_vocab * sizeof *scratch);
    int32_t ids[4096];
    int valid = 0, used[16] = {0};
    octo_sampler_params sp;
    octo_sampler_defaults(&sp);
    sp.temperature = 1.0f;
    sp.seed = 7;
    octo_sampler *smp = octo_sampler_new(&sp, n_vocab);
    for (int rep = 0; rep < reps; rep++) {
        octo_con_reset(con);
        int n = 0;
        bool sample = rep % 4 == 3;
        int budget = rep % 5 == 4 ? 70 : 4096; /* some decodes with a tight budget: closing mode */
        while (!octo_con_done(con) && n < budget) {
            octo_con_set_budget(con, budget - n);
            /* raise the end token now and then, as a model would */
            random_logits(logits, n_vocab, 3.0f);
            if (t_rand_u64() % 8 == 0) logits[end_id] = 50;
            int32_t t = sample ? octo_con_pick_sample(con, logits, scratch, smp) : octo_con_pick_greedy(con, logits);
            if (t < 0 || octo_con_accept(con, t)) break;
            ids[n++] = t;
        }
        octo_agent_call call;
        int rc = octo_con_done(con) ? octo_act_parse(tok, g_fs, fn_ids, end_id, ids, n, &call) : -1;
        CHECKF(rc == 0, "decode %d (%d tokens): %s", rep, n, octo_last_error());
        if (rc == 0) {
            valid++;
            used[octo_funcset_find(g_fs, call.function)] = 1;
            cJSON *j = cJSON_Parse(call.arguments);
            char why[256];
            CHECK(j && octo_args_validate(&g_fs->fns[octo_funcset_find(g_fs, call.function)], j, why, sizeof why) == 0);
            cJSON_Delete(j);
            octo_agent_call_free(&call);
        }
    }
    int n_used = 0;
    for (int i = 0; i < g_fs->n; i++) n_used += used[i];
    CHECKF(valid == reps, "%d of %d valid", valid, reps);
    CHECKF(n_used >= g_fs->n - 1, "only %d functions were ever chosen", n_used);
    octo_sampler_free(smp);
    free(logits);
    free(scratch);
    free(fn_ids);
    octo_con_free(con);
    octo_vocab_index_free(vi);
    octo_tokenizer_close(tok);
}

/* Schemas the automaton cannot express fail to compile with a reason;
 * keys and enum values with quotes, backslashes and non-ASCII are matched
 * as their JSON encodings. */
TEST(fsm_hostile_schemas) {
    char why[256];
    char deep[4096] = "";
    for (int i = 0; i < 12; i++) strcat(deep, "{\"type\":\"object\",\"properties\":{\"a\":");
    strcat(deep, "{\"type\":\"string\"}");
    for (int i = 0; i < 12; i++) strcat(deep, "}}");
    cJSON *j = cJSON_Parse(deep);
    REQUIRE(j);
    CHECK(jf_compile(j, 0, why, sizeof why) == NULL && strstr(why, "nested too deeply"));
    cJSON_Delete(j);
    j = cJSON_Parse("{\"type\":\"object\",\"properties\":{\"q\\\"k\\\\\u00e9\":{\"type\":\"string\","
                    "\"enum\":[\"a\\\"b\",\"\u00e9t\u00e9\",\"a\"]},\"n\":{\"type\":\"integer\",\"enum\":[1,12,123]}},"
                    "\"required\":[\"n\"]}");
    REQUIRE(j);
    jf_schema *s = jf_compile(j, 0, why, sizeof why);
    REQUIRE(s);
    static const struct {
        const char *text;
        int ok;
    } cases[] = {{"{\"q\\\"k\\\\\xc3\xa9\":\"a\\\"b\",\"n\":12}", 1},
                 {"{\"q\\\"k\\\\\xc3\xa9\":\"\xc3\xa9t\xc3\xa9\",\"n\":1}", 1},
                 {"{\"n\":123}", 1},
                 {"{\"n\":1234}", 0},
                 {"{\"n\":2}", 0},
                 {"{\"q\":\"a\",\"n\":1}", 0}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        jf_state st;
        jf_start(&st, s);
        int ok = jf_feed(&st, cases[i].text, strlen(cases[i].text)) == 0 && jf_done(&st);
        CHECKF(ok == cases[i].ok, "case %zu: %s", i, cases[i].text);
    }
    jf_free(s);
    cJSON_Delete(j);
    /* impossible bounds and enums that fail their own schema */
    static const char *bad[] = {
        "{\"type\":\"object\",\"properties\":{\"x\":{\"type\":\"integer\",\"minimum\":5,\"maximum\":4}}}",
        "{\"type\":\"object\",\"properties\":{\"x\":{\"type\":\"integer\",\"enum\":[\"a\",1.5]}}}",
        "{\"type\":\"object\",\"properties\":{\"x\":{\"type\":\"array\",\"minItems\":40}}}",
        "{\"type\":\"string\"}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        j = cJSON_Parse(bad[i]);
        CHECKF(j && jf_compile(j, 0, why, sizeof why) == NULL, "%s", bad[i]);
        cJSON_Delete(j);
    }
}

TEST(constrained_actions_always_validate_bpe) { decode_random_actions(g_vocab_bpe, 240); }

TEST(constrained_actions_always_validate_spm) {
    if (!g_vocab_spm[0]) SKIP("../shared/fixtures/models/llama-spm-tiny.gguf not found");
    decode_random_actions(g_vocab_spm, 120);
}

TEST(constrained_plans_always_parse) {
    octo_tokenizer *tok = octo_tokenizer_open(g_vocab_bpe);
    REQUIRE(tok);
    int32_t n_vocab = octo_tokenizer_n_vocab(tok);
    int32_t split = octo_token_lookup(tok, OCTO_TOK_SPLIT), end = octo_token_lookup(tok, OCTO_TOK_END);
    octo_vocab_index *vi = octo_vocab_index_new(tok);
    octo_constraint *con = octo_con_planner_new(vi, split, end, 5, 40);
    float *logits = malloc((size_t)n_vocab * sizeof *logits);
    int32_t ids[2048];
    int lengths[6] = {0};
    for (int rep = 0; rep < 200; rep++) {
        octo_con_reset(con);
        int n = 0;
        while (!octo_con_done(con) && n < 2048) {
            random_logits(logits, n_vocab, 1.0f);
            if (t_rand_u64() % 6 == 0) logits[split] = 40;
            if (t_rand_u64() % 12 == 0) logits[end] = 40;
            int32_t t = octo_con_pick_greedy(con, logits);
            if (t < 0 || octo_con_accept(con, t)) break;
            ids[n++] = t;
        }
        char **steps = NULL;
        int k = octo_con_done(con) ? octo_plan_parse(tok, ids, n, split, end, 5, &steps) : -1;
        CHECKF(k >= 1 && k <= 5, "decode %d: %s", rep, octo_last_error());
        if (k >= 1) lengths[k]++;
        for (int i = 0; i < k; i++) {
            CHECK(steps[i][0] && !strchr(steps[i], '\n') && strlen(steps[i]) <= 40);
        }
        octo_strings_free(steps, k);
    }
    CHECK(lengths[1] > 0 && lengths[5] > 0);
    free(logits);
    octo_con_free(con);
    octo_vocab_index_free(vi);
    octo_tokenizer_close(tok);
}

TEST(unconstrained_output_is_checked) {
    octo_tokenizer *tok = octo_tokenizer_open(g_vocab_bpe);
    REQUIRE(tok);
    int32_t fn_ids[16];
    for (int i = 0; i < g_fs->n; i++) {
        char *t = octo_fn_token(g_fs->fns[i].name);
        fn_ids[i] = octo_token_lookup(tok, t);
        free(t);
    }
    int32_t end = octo_token_lookup(tok, OCTO_TOK_END);
    int32_t ids[256];
    octo_agent_call call;
    int n = octo_tokenize(tok, "hello there", 11, false, false, ids, 256);
    CHECK(octo_act_parse(tok, g_fs, fn_ids, end, ids, n, &call) == -1 && strstr(octo_last_error(), "maps to no function"));
    ids[0] = fn_ids[1];
    n = 1 + octo_tokenize(tok, "{\"level\":300,\"stream\":\"ring\"}", 29, false, false, ids + 1, 255);
    ids[n++] = end;
    CHECK(octo_act_parse(tok, g_fs, fn_ids, end, ids, n, &call) == -1 && strstr(octo_last_error(), "maximum"));
    n = 1 + octo_tokenize(tok, "{\"stream\":\"ring\",\"level\":30}", 28, false, false, ids + 1, 255);
    ids[n++] = end;
    REQUIRE(octo_act_parse(tok, g_fs, fn_ids, end, ids, n, &call) == 0);
    CHECK(!strcmp(call.function, "set_volume") && !strcmp(call.arguments, "{\"level\":30,\"stream\":\"ring\"}"));
    octo_agent_call_free(&call);
    /* a step repeated verbatim (a decoding loop) is dropped, case aside */
    {
        int32_t split_id = octo_token_lookup(tok, OCTO_TOK_SPLIT);
        const char *parts[] = {"Take a screenshot", "Turn Wi-Fi on", "take a screenshot", "Turn Wi-Fi on"};
        n = 0;
        for (int i = 0; i < 4; i++) {
            if (i) ids[n++] = split_id;
            n += octo_tokenize(tok, parts[i], (int)strlen(parts[i]), false, false, ids + n, 256 - n);
        }
        ids[n++] = end;
        char **steps;
        int k = octo_plan_parse(tok, ids, n, split_id, end, 5, &steps);
        CHECKF(k == 2, "%d steps", k);
        if (k == 2) CHECK(!strcmp(steps[0], "Take a screenshot") && !strcmp(steps[1], "Turn Wi-Fi on"));
        if (k > 0) octo_strings_free(steps, k);
    }
    /* arbitrary token sequences (what a free model may say) never crash the parsers */
    int32_t split = octo_token_lookup(tok, OCTO_TOK_SPLIT), nv = octo_tokenizer_n_vocab(tok);
    for (int rep = 0; rep < 300; rep++) {
        n = (int)(t_rand_u64() % 40);
        for (int i = 0; i < n; i++) {
            uint64_t x = t_rand_u64() % 10;
            ids[i] = x == 0 ? end : x == 1 ? split : x == 2 ? fn_ids[t_rand_u64() % (uint64_t)g_fs->n]
                                                            : (int32_t)(t_rand_u64() % (uint64_t)nv);
        }
        if (octo_act_parse(tok, g_fs, fn_ids, end, ids, n, &call) == 0) {
            cJSON *j = cJSON_Parse(call.arguments);
            CHECK(j != NULL);
            cJSON_Delete(j);
            octo_agent_call_free(&call);
        }
        char **steps;
        int k = octo_plan_parse(tok, ids, n, split, end, 5, &steps);
        CHECK(k == -1 || (k >= 1 && k <= 5));
        if (k > 0) octo_strings_free(steps, k);
    }
    octo_tokenizer_close(tok);
}

/* ---- random-weight models ---- */

static octo_model *load_model(void) {
    octo_model *m = octo_model_load(g_model);
    if (!m) fprintf(stderr, "    %s\n", octo_last_error());
    return m;
}

/* Small budgets keep random-weight decodes short: plans close after about
 * 40 tokens, calls run the full grammar for a while and then close. */
static octo_agent_params small_params(void) {
    octo_agent_params p;
    octo_agent_params_default(&p);
    p.n_ctx = 512;
    p.n_threads = 1; /* tiny matrices: threads would only add synchronisation */
    p.max_string = 16;
    p.max_tokens = 120;
    return p;
}

static octo_agent_params plan_params(void) {
    octo_agent_params p = small_params();
    p.max_tokens = 60;
    return p;
}

TEST(random_model_act_and_plan) {
    octo_model *m = load_model();
    REQUIRE(m);
    octo_agent_params p = small_params(), pp = plan_params();
    octo_actor *ac = octo_actor_new(m, g_fs, &p);
    octo_planner *pl = octo_planner_new(m, &pp);
    REQUIRE(ac && pl);
    const char *steps[] = {"Take a selfie", "Set the ring volume to 40", "Text Bob that I am late",
                           "Dim the screen", "Book a meeting in Oslo", "How is my battery?"};
    for (int rep = 0; rep < 3; rep++)
        for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
            octo_agent_call call;
            int rc = octo_actor_act(ac, steps[i], rep ? "{\"ok\":true}" : NULL, &call);
            CHECKF(rc == 0, "%s: %s", steps[i], octo_last_error());
            if (rc) continue;
            cJSON *j = cJSON_Parse(call.arguments);
            char why[256];
            int k = octo_funcset_find(g_fs, call.function);
            CHECK(k >= 0 && j && octo_args_validate(&g_fs->fns[k], j, why, sizeof why) == 0);
            cJSON_Delete(j);
            octo_agent_call_free(&call);
        }
    octo_agent_stats st;
    octo_actor_stats(ac, &st);
    CHECK(st.n_generated >= 3 && st.n_prompt > 5);
    for (int i = 0; i < 4; i++) {
        char **s;
        int n = octo_planner_plan(pl, steps[i], &s);
        CHECKF(n >= 1 && n <= 5, "%s", octo_last_error());
        octo_strings_free(s, n);
    }
    octo_actor_free(ac);
    octo_planner_free(pl);
    octo_model_free(m);
}

TEST(prompt_matches_training_tokens) {
    /* the prompt octo tokenizes at inference is the prefix of the tokens
     * `octo train` sees for the same example */
    octo_model *m = load_model();
    REQUIRE(m);
    char path[600];
    snprintf(path, sizeof path, "%s/chat.jsonl", t_tmpdir());
    FILE *f = fopen(path, "w");
    fprintf(f, "{\"messages\":[{\"role\":\"user\",\"content\":\"Take a photo\\nObservation: ok\"},"
               "{\"role\":\"assistant\",\"content\":\"<fn_take_a_photo>{\\\"camera\\\":\\\"front\\\"}<nexa_end>\"}]}\n");
    fclose(f);
    octo_dataset_opts o = {.tok = m->tok, .chat_template = "octo", .seq_len = 256};
    octo_dataset *d = octo_dataset_load_chat(path, &o);
    REQUIRE(d && d->n_ex == 1);
    char *prompt = octo_render_prompt("Take a photo\nObservation: ok");
    int32_t ids[256];
    int n = octo_tokenize(m->tok, prompt, strlen(prompt), octo_tokenizer_add_bos(m->tok), true, ids, 256);
    REQUIRE(n > 0 && n < d->ex[0].n);
    CHECK(memcmp(ids, d->ex[0].tokens, (size_t)n * sizeof *ids) == 0);
    int32_t fn = octo_token_lookup(m->tok, "<fn_take_a_photo>");
    CHECKF(d->ex[0].tokens[n] == fn, "token after the prompt: %d, expected %d", d->ex[0].tokens[n], fn);
    free(prompt);
    octo_dataset_free(d);
    octo_model_free(m);
}

typedef struct {
    int calls;
    char last_obs[64];
} cb_state;

static int cb_tool(void *user, const char *function, const char *arguments, char **observation) {
    cb_state *s = user;
    s->calls++;
    snprintf(s->last_obs, sizeof s->last_obs, "obs-%d-%s", s->calls, function);
    *observation = strdup(s->last_obs);
    return 0;
}

TEST(run_with_c_callback) {
    octo_model *m = load_model();
    REQUIRE(m);
    octo_agent_params p = small_params(), pp = plan_params();
    octo_planner *pl = octo_planner_new(m, &pp);
    octo_actor *ac = octo_actor_new(m, g_fs, &p);
    octo_agent *ag = octo_agent_new(pl, ac);
    REQUIRE(pl && ac && ag);
    cb_state st = {0};
    REQUIRE(octo_agent_set_handler(ag, NULL, cb_tool, &st) == 0);
    CHECK(octo_agent_set_handler(ag, "no_such_fn", cb_tool, &st) == -1);
    const char *reqs[] = {"Take a photo and send it to Anna", "Turn up the volume, then dim the screen",
                          "Plan my day", "Check the battery and text mom", "Create an event and tell Bo"};
    for (size_t i = 0; i < sizeof reqs / sizeof reqs[0]; i++) {
        octo_run_result r;
        int before = st.calls;
        int rc = octo_agent_run(ag, reqs[i], false, &r);
        CHECKF(rc == 0, "%s", r.error ? r.error : octo_last_error());
        CHECK(r.n_calls == r.n_steps && st.calls - before == r.n_steps && r.failed_step == -1);
        for (int k = 0; k < r.n_calls; k++) CHECK(r.observations[k] && !strncmp(r.observations[k], "obs-", 4));
        if (r.n_steps >= 2) {
            /* the last step's prompt carries the previous call's observation */
            char want[128];
            snprintf(want, sizeof want, "Observation: %s<|end|>", r.observations[r.n_steps - 2]);
            CHECKF(strstr(octo_actor_last_prompt(ac), want), "prompt %s", octo_actor_last_prompt(ac));
        }
        char *js = octo_run_result_json(&r);
        cJSON *j = cJSON_Parse(js);
        CHECK(j && cJSON_IsString(cJSON_GetObjectItem(j, "query")) &&
              cJSON_GetArraySize(cJSON_GetObjectItem(j, "steps")) == r.n_steps &&
              cJSON_GetArraySize(cJSON_GetObjectItem(j, "calls")) == r.n_calls);
        cJSON *c0 = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "calls"), 0);
        CHECK(cJSON_IsString(cJSON_GetObjectItem(c0, "function")) && cJSON_IsObject(cJSON_GetObjectItem(c0, "arguments")));
        cJSON_Delete(j);
        free(js);
        octo_run_result_free(&r);
    }
    /* from given steps: each step's prompt carries the previous observation */
    const char *steps3[] = {"Take a photo", "Send it to Anna", "Tell Bo it is done"};
    octo_run_result r3;
    REQUIRE(octo_agent_run_plan(ag, "photo for Anna", steps3, 3, false, &r3) == 0);
    CHECK(r3.n_calls == 3 && r3.observations[2] && !strcmp(r3.observations[2], st.last_obs));
    char want3[160];
    snprintf(want3, sizeof want3, "<|user|>Tell Bo it is done\nObservation: %s<|end|><|assistant|>", r3.observations[1]);
    CHECKF(!strcmp(octo_actor_last_prompt(ac), want3), "prompt %s", octo_actor_last_prompt(ac));
    octo_run_result_free(&r3);
    /* dry run: calls made, nothing executed */
    octo_run_result r;
    int before = st.calls;
    CHECK(octo_agent_run(ag, reqs[0], true, &r) == 0 && r.n_calls == r.n_steps && st.calls == before);
    octo_run_result_free(&r);
    octo_agent_free(ag);
    octo_actor_free(ac);
    octo_planner_free(pl);
    octo_model_free(m);
}

TEST(run_with_exec_handler) {
    octo_model *m = load_model();
    REQUIRE(m);
    octo_agent_params p = small_params();
    octo_funcset *echo = subset("echo_text"), *fails = subset("always_fails");
    REQUIRE(echo && fails);
    octo_agent_params pp = plan_params();
    octo_planner *pl = octo_planner_new(m, &pp);
    octo_actor *ac = octo_actor_new(m, echo, &p), *ac2 = octo_actor_new(m, fails, &p);
    octo_agent *ag = octo_agent_new(pl, ac), *ag2 = octo_agent_new(pl, ac2);
    REQUIRE(ag && ag2);
    octo_run_result r;
    int rc = octo_agent_run(ag, "Say hello, then say it again", false, &r);
    CHECKF(rc == 0, "%s", r.error ? r.error : "");
    for (int k = 0; k < r.n_calls && rc == 0; k++) {
        /* echo printed the text argument: the handler really ran */
        cJSON *a = cJSON_Parse(r.calls[k].arguments);
        char want[64];
        snprintf(want, sizeof want, "%s\n", cJSON_GetObjectItem(a, "text")->valuestring);
        CHECKF(r.observations[k] && !strcmp(r.observations[k], want), "%s vs %s", r.observations[k], want);
        cJSON_Delete(a);
    }
    octo_run_result_free(&r);
    /* a failing handler stops the run at step 1 with a report */
    rc = octo_agent_run(ag2, "Do the thing that fails", false, &r);
    CHECK(rc == -1 && r.failed_step == 0 && r.n_calls == 1);
    CHECKF(r.error && strstr(r.error, "step 1") && strstr(r.error, "always_fails"), "%s", r.error);
    char *js = octo_run_result_json(&r);
    CHECK(js && strstr(js, "\"error\":"));
    free(js);
    octo_run_result_free(&r);
    octo_agent_free(ag);
    octo_agent_free(ag2);
    octo_actor_free(ac);
    octo_actor_free(ac2);
    octo_planner_free(pl);
    octo_funcset_free(echo);
    octo_funcset_free(fails);
    octo_model_free(m);
}

TEST(models_without_tokens_are_refused) {
    if (!g_vocab_spm[0]) SKIP("../shared/fixtures/models/llama-spm-tiny.gguf not found");
    octo_model *m = octo_model_load(t_shared_path("fixtures/models/llama-spm-tiny.gguf"));
    REQUIRE(m);
    octo_agent_params p = small_params();
    CHECK(octo_actor_new(m, g_fs, &p) == NULL && strstr(octo_last_error(), "<nexa_end>"));
    CHECK(octo_planner_new(m, &p) == NULL && strstr(octo_last_error(), "not a planner model"));
    octo_model_free(m);
}

/* ---- setup: a BPE vocabulary trained here, plus the agent tokens ---- */

static int setup(void) {
    g_fs = octo_funcset_parse(k_set, strlen(k_set), "testset");
    if (!g_fs) {
        fprintf(stderr, "function set: %s\n", octo_last_error());
        return -1;
    }
    const char *dir = t_tmpdir();
    char base[600];
    snprintf(base, sizeof base, "%s/bpe.gguf", dir);
    octo_bpe_params bp = {.vocab_size = 700};
    octo_bpe_trainer *tr = octo_bpe_trainer_new(&bp);
    static const char *text[] = {
        "Take a photo with the front camera and send it to Anna. ", "Set the volume of the music to 40 percent. ",
        "Text Bob: I am running late, see you at 7:30! ", "Create an event called Standup in Oslo, room 12. ",
        "{\"camera\":\"front\",\"level\":30,\"stream\":\"ring\",\"to\":\"+47 555 0100\"} ",
        "Dim the screen to 0.6 then check the battery; email the report. ", "caf\xc3\xa9 na\xc3\xafve \xe2\x82\xac 12,50 "};
    for (int rep = 0; rep < 20; rep++)
        for (size_t i = 0; i < sizeof text / sizeof text[0]; i++) octo_bpe_trainer_add_text(tr, text[i], strlen(text[i]));
    int rc = octo_bpe_trainer_write(tr, base, NULL);
    octo_bpe_trainer_free(tr);
    snprintf(g_vocab_bpe, sizeof g_vocab_bpe, "%s/agent-bpe.gguf", dir);
    if (rc || octo_agent_write_vocab(base, g_fs, OCTO_RENDER_PLANNER | OCTO_RENDER_ACTION, g_vocab_bpe)) {
        fprintf(stderr, "vocabulary: %s\n", octo_last_error());
        return -1;
    }
    const char *spm = t_shared_path("fixtures/models/llama-spm-tiny.gguf");
    if (spm && access(spm, R_OK) == 0) {
        snprintf(g_vocab_spm, sizeof g_vocab_spm, "%s/agent-spm.gguf", dir);
        if (octo_agent_write_vocab(spm, g_fs, OCTO_RENDER_PLANNER | OCTO_RENDER_ACTION, g_vocab_spm)) return -1;
    }
    snprintf(g_model, sizeof g_model, "%s/agent-model.gguf", dir);
    octo_model_init_params mp = {.arch = "llama", .n_embd = 32, .n_layer = 1, .n_head = 2, .n_ff = 64,
                                 .n_ctx = 512, .seed = 3, .vocab_from = g_vocab_bpe};
    if (octo_model_init_file(&mp, g_model)) {
        fprintf(stderr, "model: %s\n", octo_last_error());
        return -1;
    }
    return 0;
}

int main(void) {
    if (setup()) return 1;
    RUN(render_formats);
    RUN(render_records);
    RUN(fsm_accepts_exactly_the_schema);
    RUN(fsm_random_walks_validate);
    RUN(fsm_hostile_schemas);
    RUN(constrained_actions_always_validate_bpe);
    RUN(constrained_actions_always_validate_spm);
    RUN(constrained_plans_always_parse);
    RUN(unconstrained_output_is_checked);
    RUN(random_model_act_and_plan);
    RUN(prompt_matches_training_tokens);
    RUN(run_with_c_callback);
    RUN(run_with_exec_handler);
    RUN(models_without_tokens_are_refused);
    octo_funcset_free(g_fs);
    return t_finish();
}
