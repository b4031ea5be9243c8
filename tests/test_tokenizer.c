/* test_tokenizer.c - the tokenizer against llama.cpp's own vectors and the
 * reference tokenizations of the fixture models.
 *
 * The three ggml-vocab-*.gguf files come with llama.cpp's tokenizer test
 * strings and expected ids; the refs/ files hold what llama.cpp produced for
 * the prompts of every fixture model.  Agreement on both is the definition of
 * correct here.  The rest checks behaviour the vectors do not cover: special
 * token parsing, detokenization, added tokens, writing the tokenizer back,
 * malformed files and text, and speed.
 */
#include <dirent.h>
#include <stdbool.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "base/error.h"
#include "gguf/gguf.h"
#include "testlib.h"
#include "tokenizer/tok_internal.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/unicode.h"

/* ---- helpers ---- */

static octo_tokenizer *load_tok(const char *path) {
    gguf_file *f = gguf_open(path);
    if (!f) {
        fprintf(stderr, "    cannot open %s: %s\n", path, octo_last_error());
        return NULL;
    }
    octo_tokenizer *t = octo_tokenizer_load(f);
    if (!t) fprintf(stderr, "    cannot load tokenizer of %s: %s\n", path, octo_last_error());
    /* the tokenizer must not keep pointers into the file */
    gguf_close(f);
    return t;
}

static octo_tokenizer *load_fixture(const char *rel) {
    const char *p = t_shared_path(rel);
    return p ? load_tok(p) : NULL;
}

/* Tokenize into a malloc'd array; *n gets the count (or -1). */
static int32_t *tokenize(const octo_tokenizer *t, const char *s, size_t len, bool bos, bool special, int *n) {
    int32_t small[4];
    int need = octo_tokenize(t, s, len, bos, special, small, 4);
    *n = need;
    if (need < 0) return NULL;
    int32_t *ids = malloc((size_t)(need ? need : 1) * sizeof *ids);
    int again = octo_tokenize(t, s, len, bos, special, ids, need);
    if (again != need) *n = -1;
    return ids;
}

static bool ids_equal(const int32_t *a, int na, const int32_t *b, int nb) {
    return na == nb && (na == 0 || memcmp(a, b, (size_t)na * sizeof *a) == 0);
}

static void print_ids(const char *label, const int32_t *ids, int n) {
    fprintf(stderr, "      %s (%d):", label, n);
    for (int i = 0; i < n && i < 40; i++) fprintf(stderr, " %d", ids[i]);
    fprintf(stderr, n > 40 ? " ...\n" : "\n");
}

static char *read_all(const char *path, size_t *len) {
    FILE *fp = fopen(path, "rb");
    if (!fp) return NULL;
    fseek(fp, 0, SEEK_END);
    long sz = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *buf = malloc((size_t)sz + 1);
    size_t got = fread(buf, 1, (size_t)sz, fp);
    fclose(fp);
    buf[got] = 0;
    if (len) *len = got;
    return buf;
}

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* ---- llama.cpp's vocabulary test vectors ---- */

/* Strings in .inp are separated by "\n__ggml_vocab_test__\n"; .out has one
 * line of ids per string. */
static void run_vocab_vectors(const char *name) {
    char rel[256];
    snprintf(rel, sizeof rel, "fixtures/tokenizer/%s.gguf", name);
    if (!t_shared_dir()) SKIP("../shared is absent (no fixtures)");
    octo_tokenizer *t = load_fixture(rel);
    REQUIRE(t);
    snprintf(rel, sizeof rel, "fixtures/tokenizer/%s.gguf.inp", name);
    size_t inp_len = 0;
    char *inp = read_all(t_shared_path(rel), &inp_len);
    snprintf(rel, sizeof rel, "fixtures/tokenizer/%s.gguf.out", name);
    char *outp = read_all(t_shared_path(rel), NULL);
    REQUIRE(inp && outp);

    const char *sep = "\n__ggml_vocab_test__\n";
    size_t sep_len = strlen(sep), pos = 0;
    char *line = outp;
    int total = 0, passed = 0;
    while (pos < inp_len) {
        const char *next = strstr(inp + pos, sep);
        size_t slen = next ? (size_t)(next - (inp + pos)) : inp_len - pos;
        char *eol = strchr(line, '\n');
        REQUIRE(eol);
        *eol = 0;
        int32_t want[1024];
        int nwant = 0;
        for (char *p = line; *p && nwant < 1024;) {
            char *end;
            long v = strtol(p, &end, 10);
            if (end == p) break;
            want[nwant++] = (int32_t)v;
            p = end;
        }
        int n;
        int32_t *got = tokenize(t, inp + pos, slen, false, false, &n);
        total++;
        if (got && ids_equal(got, n, want, nwant)) {
            passed++;
        } else {
            fprintf(stderr, "    %s: string %d '%.*s' differs\n", name, total, (int)(slen > 60 ? 60 : slen), inp + pos);
            print_ids("expected", want, nwant);
            if (got) print_ids("got", got, n);
        }
        free(got);
        line = eol + 1;
        if (!next) break;
        pos += slen + sep_len;
    }
    printf("    %s: %d/%d strings match llama.cpp\n", name, passed, total);
    CHECK(total > 0 && passed == total);
    free(inp);
    free(outp);
    octo_tokenizer_free(t);
}

TEST(vocab_llama_spm) { run_vocab_vectors("ggml-vocab-llama-spm"); }
TEST(vocab_phi3) { run_vocab_vectors("ggml-vocab-phi-3"); }
TEST(vocab_gpt2) { run_vocab_vectors("ggml-vocab-gpt-2"); }

/* ---- reference tokenizations of the fixture models ---- */

TEST(reference_prompts) {
    if (!t_shared_dir()) SKIP("../shared is absent (no fixtures)");
    char dirpath[2048];
    snprintf(dirpath, sizeof dirpath, "%s", t_shared_path("fixtures/refs"));
    DIR *d = opendir(dirpath);
    REQUIRE(d);
    struct dirent *de;
    int files = 0, cases = 0, ok = 0;
    while ((de = readdir(d))) {
        size_t nl = strlen(de->d_name);
        if (nl < 9 || strcmp(de->d_name + nl - 9, ".ref.json") != 0) continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dirpath, de->d_name);
        char *json = read_all(path, NULL);
        cJSON *root = json ? cJSON_Parse(json) : NULL;
        free(json);
        CHECKF(root, "%s does not parse", de->d_name);
        if (!root) continue;
        const cJSON *model = cJSON_GetObjectItem(root, "model");
        const cJSON *add_bos = cJSON_GetObjectItem(root, "add_bos");
        const cJSON *n_vocab = cJSON_GetObjectItem(root, "n_vocab");
        char rel[512];
        snprintf(rel, sizeof rel, "fixtures/models/%s", cJSON_IsString(model) ? model->valuestring : "?");
        octo_tokenizer *t = load_fixture(rel);
        CHECKF(t, "%s: tokenizer of %s did not load", de->d_name, rel);
        if (!t) {
            cJSON_Delete(root);
            continue;
        }
        files++;
        bool bos = cJSON_IsTrue(add_bos);
        CHECKF(octo_tokenizer_add_bos(t) == bos, "%s: add_bos", de->d_name);
        CHECKF(octo_tokenizer_n_vocab(t) == n_vocab->valueint, "%s: n_vocab %d vs %d", de->d_name,
               octo_tokenizer_n_vocab(t), n_vocab->valueint);
        const cJSON *c;
        cJSON_ArrayForEach(c, cJSON_GetObjectItem(root, "cases")) {
            const char *prompt = cJSON_GetObjectItem(c, "prompt")->valuestring;
            const cJSON *toks = cJSON_GetObjectItem(c, "tokens");
            int nwant = cJSON_GetArraySize(toks);
            int32_t *want = malloc((size_t)(nwant ? nwant : 1) * sizeof *want);
            for (int i = 0; i < nwant; i++) want[i] = (int32_t)cJSON_GetArrayItem(toks, i)->valueint;
            int n;
            int32_t *got = tokenize(t, prompt, strlen(prompt), bos, false, &n);
            cases++;
            if (got && ids_equal(got, n, want, nwant)) {
                ok++;
            } else {
                fprintf(stderr, "    %s: prompt '%.50s' differs\n", de->d_name, prompt);
                print_ids("expected", want, nwant);
                if (got) print_ids("got", got, n);
            }
            free(got);
            free(want);
        }
        octo_tokenizer_free(t);
        cJSON_Delete(root);
    }
    closedir(d);
    printf("    %d/%d prompts of %d reference files match llama.cpp\n", ok, cases, files);
    CHECK(files > 0 && cases > 0 && ok == cases);
}

/* ---- pieces and detokenization ---- */

TEST(pieces) {
    if (!t_shared_dir()) SKIP("../shared is absent (no fixtures)");
    octo_tokenizer *t = load_fixture("fixtures/tokenizer/ggml-vocab-llama-spm.gguf");
    REQUIRE(t);
    char buf[64];
    CHECK(octo_tokenizer_kind(t) == OCTO_TOK_SPM);
    CHECK(octo_tokenizer_bos(t) == 1 && octo_tokenizer_eos(t) == 2);
    int n = octo_token_to_piece(t, 15043, false, buf, sizeof buf); /* "▁Hello" */
    CHECK(n == 6 && memcmp(buf, " Hello", 6) == 0);
    n = octo_token_to_piece(t, 13, false, buf, sizeof buf); /* <0x0A> */
    CHECK(n == 1 && buf[0] == '\n');
    CHECK(octo_token_to_piece(t, 1, false, buf, sizeof buf) == 0); /* <s> is control */
    n = octo_token_to_piece(t, 1, true, buf, sizeof buf);
    CHECK(n == 3 && memcmp(buf, "<s>", 3) == 0);
    CHECK(octo_token_to_piece(t, 15043, false, buf, 2) == 6); /* too small: the needed size */
    CHECK(octo_token_to_piece(t, -1, false, buf, sizeof buf) == -1);
    CHECK(octo_token_to_piece(t, 32000, false, buf, sizeof buf) == -1);
    CHECK(strcmp(octo_token_text(t, 15043), "\xe2\x96\x81Hello") == 0);
    CHECK(octo_token_type(t, 1) == OCTO_TOKEN_CONTROL && octo_token_type(t, 13) == OCTO_TOKEN_BYTE);
    CHECK(octo_token_lookup(t, "\xe2\x96\x81Hello") == 15043 && octo_token_lookup(t, "no such token here") == -1);
    CHECK(octo_tokenizer_is_eog(t, 2) && !octo_tokenizer_is_eog(t, 1) && !octo_tokenizer_is_eog(t, 15043));
    CHECK(octo_tokenizer_unk(t) == 0 && octo_tokenizer_pad(t) == -1 && octo_tokenizer_eot(t) == -1);
    CHECK(octo_tokenizer_add_bos(t) && !octo_tokenizer_add_eos(t));
    octo_tokenizer_free(t);

    t = load_fixture("fixtures/tokenizer/ggml-vocab-phi-3.gguf");
    REQUIRE(t);
    CHECK(octo_tokenizer_eos(t) == 32000);
    CHECK(octo_tokenizer_is_eog(t, 32000) && octo_tokenizer_is_eog(t, 32007)); /* <|endoftext|>, <|end|> */
    CHECK(!octo_tokenizer_is_eog(t, 32010));                                    /* <|user|> */
    CHECK(octo_tokenizer_pad(t) == 32000 && octo_tokenizer_unk(t) == 0);
    CHECK(octo_tokenizer_eot(t) == 32000 || octo_tokenizer_eot(t) == 32007); /* found by name */
    octo_tokenizer_free(t);

    t = load_fixture("fixtures/tokenizer/ggml-vocab-gpt-2.gguf");
    REQUIRE(t);
    CHECK(octo_tokenizer_kind(t) == OCTO_TOK_BPE && strcmp(octo_tokenizer_pre(t), "gpt-2") == 0);
    CHECK(!octo_tokenizer_add_bos(t));
    CHECK(octo_tokenizer_is_eog(t, 50256));
    n = octo_token_to_piece(t, 198, false, buf, sizeof buf); /* "Ċ" */
    CHECK(n == 1 && buf[0] == '\n');
    n = octo_token_to_piece(t, 995, false, buf, sizeof buf); /* "Ġworld" */
    CHECK(n == 6 && memcmp(buf, " world", 6) == 0);
    octo_tokenizer_free(t);
}

static const char *k_texts[] = {
    "Hello world",
    "The quick brown fox jumps over the lazy dog.",
    "Find my presentation for tomorrow's meeting, connect to the projector via Bluetooth.",
    "Unicode: caf\xc3\xa9 na\xc3\xafve \xe2\x80\x94 \xe2\x80\x9cquotes\xe2\x80\x9d \xe4\xbd\xa0\xe5\xa5\xbd \xf0\x9f\xa4\x96 end",
    "line one\nline two\n\n\ttabbed  two spaces   three",
    "numbers 1234567890 3.14159 and symbols $%^&*()",
    "def f(x):\n    return x * 2  # comment\n",
};

TEST(detokenize_round_trip) {
    if (!t_shared_dir()) SKIP("../shared is absent (no fixtures)");
    static const char *files[] = {"fixtures/tokenizer/ggml-vocab-llama-spm.gguf", "fixtures/tokenizer/ggml-vocab-phi-3.gguf",
                                  "fixtures/tokenizer/ggml-vocab-gpt-2.gguf"};
    for (int fi = 0; fi < 3; fi++) {
        octo_tokenizer *t = load_fixture(files[fi]);
        REQUIRE(t);
        for (size_t i = 0; i < sizeof k_texts / sizeof k_texts[0]; i++) {
            int n;
            int32_t *ids = tokenize(t, k_texts[i], strlen(k_texts[i]), false, false, &n);
            REQUIRE(ids && n > 0);
            char *back = octo_detokenize(t, ids, n, false);
            CHECKF(back && strcmp(back, k_texts[i]) == 0, "%s: '%s' came back as '%s'", files[fi], k_texts[i],
                   back ? back : "(null)");
            free(back);
            /* with BOS in front the prefix space stays (as in llama.cpp) */
            int32_t *ids2 = tokenize(t, k_texts[i], strlen(k_texts[i]), true, false, &n);
            back = octo_detokenize(t, ids2, n, false);
            if (octo_tokenizer_kind(t) == OCTO_TOK_SPM)
                CHECK(back && back[0] == ' ' && strcmp(back + 1, k_texts[i]) == 0);
            free(back);
            free(ids2);
            free(ids);
        }
        octo_tokenizer_free(t);
    }
}

/* Bytes that are not UTF-8 must neither crash nor be lost where the
 * vocabulary can express them (SPM byte fallback). */
TEST(malformed_text) {
    if (!t_shared_dir()) SKIP("../shared is absent (no fixtures)");
    /* stray continuation bytes, invalid bytes and an overlong form: SPM
     * keeps every byte */
    static const char odd[] = "ok\xff\xfe\x80\x80x\xc0\xaf" "end";
    /* truncated sequences swallow the next bytes into one symbol (by lead
     * byte, as llama.cpp does), so only their survival is checked */
    static const char bad[] = "ok \xff\xfe \xc3 \xe2\x82 \xf0\x9f\x98 \x80\x80 \xf7\xbf\xbf\xbf \xc0\xaf end\xf0";
    octo_tokenizer *spm = load_fixture("fixtures/tokenizer/ggml-vocab-llama-spm.gguf");
    octo_tokenizer *bpe = load_fixture("fixtures/tokenizer/ggml-vocab-gpt-2.gguf");
    REQUIRE(spm && bpe);
    int n;
    int32_t *ids = tokenize(spm, odd, sizeof odd - 1, false, false, &n);
    REQUIRE(ids && n > 0);
    char *back = octo_detokenize(spm, ids, n, false);
    CHECK(back && strlen(back) == sizeof odd - 1 && memcmp(back, odd, sizeof odd - 1) == 0);
    free(back);
    free(ids);
    ids = tokenize(spm, bad, sizeof bad - 1, false, false, &n);
    REQUIRE(ids && n > 0);
    back = octo_detokenize(spm, ids, n, false);
    CHECK(back && strncmp(back, "ok ", 3) == 0 && strstr(back, " end"));
    free(back);
    free(ids);
    /* byte-level BPE sees U+FFFD for each malformed byte, like llama.cpp */
    ids = tokenize(bpe, bad, sizeof bad - 1, false, false, &n);
    REQUIRE(ids && n > 0);
    back = octo_detokenize(bpe, ids, n, false);
    CHECK(back && strncmp(back, "ok \xef\xbf\xbd\xef\xbf\xbd ", 10) == 0 && strstr(back, " end\xef\xbf\xbd"));
    free(back);
    free(ids);
    /* every single byte value alone, and NUL inside text */
    for (int b = 0; b < 256; b++) {
        char c = (char)b;
        int32_t out[8];
        CHECK(octo_tokenize(spm, &c, 1, true, true, out, 8) > 0);
        CHECK(octo_tokenize(bpe, &c, 1, true, true, out, 8) > 0);
    }
    CHECK(octo_tokenize(spm, "a\0b", 3, false, false, NULL, 0) > 0);
    CHECK(octo_tokenize(spm, "", 0, true, false, NULL, 0) == 1);
    CHECK(octo_tokenize(spm, "", 0, false, false, NULL, 0) == 0);
    CHECK(octo_tokenize(bpe, NULL, 0, false, false, NULL, 0) == 0);
    octo_tokenizer_free(spm);
    octo_tokenizer_free(bpe);
}

/* ---- special tokens ---- */

TEST(parse_special) {
    if (!t_shared_dir()) SKIP("../shared is absent (no fixtures)");
    octo_tokenizer *t = load_fixture("fixtures/tokenizer/ggml-vocab-phi-3.gguf");
    REQUIRE(t);
    const char *s = "<|user|>Hello<|end|>";
    int n;
    int32_t *ids = tokenize(t, s, strlen(s), false, true, &n);
    int32_t want[] = {32010, 15043, 32007}; /* text after a special token gets the space prefix */
    CHECK(ids && ids_equal(ids, n, want, 3));
    free(ids);
    ids = tokenize(t, s, strlen(s), false, false, &n);
    REQUIRE(ids);
    CHECK(n > 3 && ids[0] == 529); /* "▁<": plain text when parsing is off */
    for (int i = 0; i < n; i++) CHECK(ids[i] != 32010 && ids[i] != 32007);
    free(ids);
    /* Phi-3 drops the whitespace after its special tokens (llama.cpp rstrip) */
    s = "<|user|>\n Hi<|end|>\n<|assistant|>";
    ids = tokenize(t, s, strlen(s), true, true, &n);
    REQUIRE(ids && n >= 4);
    CHECK(ids[0] == 1 && ids[1] == 32010 && ids[n - 2] == 32007 && ids[n - 1] == 32001);
    char *back = octo_detokenize(t, ids, n, true);
    CHECK(back && strcmp(back, "<s><|user|> Hi<|end|><|assistant|>") == 0);
    free(back);
    back = octo_detokenize(t, ids, n, false);
    CHECK(back && strcmp(back, " Hi") == 0);
    free(back);
    free(ids);
    octo_tokenizer_free(t);

    t = load_fixture("fixtures/tokenizer/ggml-vocab-gpt-2.gguf");
    REQUIRE(t);
    s = "a<|endoftext|>b";
    ids = tokenize(t, s, strlen(s), false, true, &n);
    int32_t want2[] = {64, 50256, 65};
    CHECK(ids && ids_equal(ids, n, want2, 3));
    free(ids);
    ids = tokenize(t, s, strlen(s), false, false, &n);
    CHECK(ids && n > 3);
    free(ids);
    octo_tokenizer_free(t);
}

TEST(add_special) {
    if (!t_shared_dir()) SKIP("../shared is absent (no fixtures)");
    static const char *files[] = {"fixtures/tokenizer/ggml-vocab-llama-spm.gguf", "fixtures/tokenizer/ggml-vocab-gpt-2.gguf"};
    for (int fi = 0; fi < 2; fi++) {
        octo_tokenizer *t = load_fixture(files[fi]);
        REQUIRE(t);
        int32_t nv = octo_tokenizer_n_vocab(t);
        int32_t a = octo_tokenizer_add_special(t, "<fn_0>");
        int32_t b = octo_tokenizer_add_special(t, "<fn_0_long>");
        CHECK(a == nv && b == nv + 1 && octo_tokenizer_n_vocab(t) == nv + 2);
        CHECK(octo_tokenizer_add_special(t, "<fn_0>") == a);
        CHECK(octo_tokenizer_add_special(t, "") == -1);
        CHECK(octo_token_type(t, a) == OCTO_TOKEN_USER_DEFINED);
        CHECK(octo_token_lookup(t, "<fn_0_long>") == b);
        CHECK(strcmp(octo_token_text(t, b), "<fn_0_long>") == 0);
        int32_t existing = octo_token_lookup(t, fi == 0 ? "\xe2\x96\x81Hello" : "Hello");
        CHECK(existing >= 0 && octo_tokenizer_add_special(t, fi == 0 ? "\xe2\x96\x81Hello" : "Hello") == existing);
        const char *s = "call<fn_0_long>(x)<fn_0>";
        int n;
        int32_t *ids = tokenize(t, s, strlen(s), false, true, &n);
        REQUIRE(ids);
        int found_a = 0, found_b = 0;
        for (int i = 0; i < n; i++) found_a += ids[i] == a, found_b += ids[i] == b;
        CHECK(found_a == 1 && found_b == 1 && ids[n - 1] == a);
        /* SPM puts a space prefix on text that follows a special token */
        char *back = octo_detokenize(t, ids, n, false);
        CHECK(back && strcmp(back, fi == 0 ? "call<fn_0_long> (x)<fn_0>" : s) == 0);
        free(back);
        free(ids);
        char buf[32];
        CHECK(octo_token_to_piece(t, a, false, buf, sizeof buf) == 6 && memcmp(buf, "<fn_0>", 6) == 0);
        /* many additions: the lookup table grows */
        for (int i = 0; i < 3000; i++) {
            char name[32];
            snprintf(name, sizeof name, "<extra_%d>", i);
            CHECK(octo_tokenizer_add_special(t, name) == nv + 2 + i);
        }
        CHECK(octo_token_lookup(t, "<extra_2999>") == nv + 2 + 2999);
        CHECK(octo_token_lookup(t, "<fn_0>") == a);
        octo_tokenizer_free(t);
    }
}

/* ---- writing ---- */

static void write_read_check(const char *rel, const char *tmpname) {
    octo_tokenizer *t = load_fixture(rel);
    REQUIRE(t);
    int32_t added = octo_tokenizer_add_special(t, "<tool_call>");
    REQUIRE(added >= 0);
    gguf_writer *w = gguf_writer_new();
    REQUIRE(w);
    gguf_set_str(w, "general.architecture", "llama");
    octo_tokenizer_write(t, w);
    char path[512];
    snprintf(path, sizeof path, "%s/%s", t_tmpdir(), tmpname);
    int rc = gguf_writer_write(w, path);
    CHECKF(rc == 0, "write %s: %s", path, octo_last_error());
    gguf_writer_free(w);
    octo_tokenizer *u = rc == 0 ? load_tok(path) : NULL;
    REQUIRE(u);
    CHECK(octo_tokenizer_n_vocab(u) == octo_tokenizer_n_vocab(t));
    CHECK(octo_tokenizer_kind(u) == octo_tokenizer_kind(t));
    CHECK(octo_tokenizer_bos(u) == octo_tokenizer_bos(t) && octo_tokenizer_eos(u) == octo_tokenizer_eos(t));
    CHECK(octo_tokenizer_add_bos(u) == octo_tokenizer_add_bos(t));
    CHECK(strcmp(octo_tokenizer_pre(u), octo_tokenizer_pre(t)) == 0);
    int bad = 0;
    for (int32_t i = 0; i < octo_tokenizer_n_vocab(t); i++) {
        bad += strcmp(octo_token_text(t, i), octo_token_text(u, i)) != 0;
        bad += octo_token_type(t, i) != octo_token_type(u, i);
        bad += octo_tokenizer_is_eog(t, i) != octo_tokenizer_is_eog(u, i);
    }
    CHECK(bad == 0);
    CHECK(octo_token_type(u, added) == OCTO_TOKEN_USER_DEFINED);
    for (size_t i = 0; i < sizeof k_texts / sizeof k_texts[0]; i++) {
        int na, nb;
        int32_t *a = tokenize(t, k_texts[i], strlen(k_texts[i]), true, true, &na);
        int32_t *b = tokenize(u, k_texts[i], strlen(k_texts[i]), true, true, &nb);
        CHECK(a && b && ids_equal(a, na, b, nb));
        free(a);
        free(b);
    }
    const char *s = "x<tool_call>y";
    int n;
    int32_t *ids = tokenize(u, s, strlen(s), false, true, &n);
    bool has = false;
    for (int i = 0; ids && i < n; i++) has |= ids[i] == added;
    CHECK(has);
    free(ids);
    octo_tokenizer_free(t);
    octo_tokenizer_free(u);
}

TEST(write_read_spm) {
    if (!t_shared_dir()) SKIP("../shared is absent (no fixtures)");
    write_read_check("fixtures/tokenizer/ggml-vocab-phi-3.gguf", "phi3-tok.gguf");
}

TEST(write_read_bpe) {
    if (!t_shared_dir()) SKIP("../shared is absent (no fixtures)");
    write_read_check("fixtures/tokenizer/ggml-vocab-gpt-2.gguf", "gpt2-tok.gguf");
}

/* ---- malformed files ---- */

/* Write a small tokenizer GGUF and try to load it; returns the tokenizer or
 * NULL, leaving the error message in err. */
typedef struct {
    const char *model;
    int n_tokens, n_types, n_scores, n_merges;
    bool types_as_strings;
    int64_t bos;
} spec;

static octo_tokenizer *build(const spec *sp, char *err, size_t errsz) {
    static const char *toks[] = {"<unk>", "<s>", "</s>", "a", "b", "ab", "\xe2\x96\x81", "c"};
    static const char *merges[] = {"a b", "ab c", "x"};
    static const int32_t types[] = {2, 3, 3, 1, 1, 1, 1, 1};
    static const float scores[] = {0, 0, 0, -1, -2, -0.5f, -3, -4};
    gguf_writer *w = gguf_writer_new();
    if (sp->model) gguf_set_str(w, "tokenizer.ggml.model", sp->model);
    if (sp->n_tokens >= 0) gguf_set_arr_str(w, "tokenizer.ggml.tokens", toks, (uint64_t)sp->n_tokens);
    if (sp->types_as_strings) gguf_set_arr_str(w, "tokenizer.ggml.token_type", toks, 8);
    else if (sp->n_types >= 0) gguf_set_arr(w, "tokenizer.ggml.token_type", GGUF_TYPE_INT32, types, (uint64_t)sp->n_types);
    if (sp->n_scores >= 0) gguf_set_arr(w, "tokenizer.ggml.scores", GGUF_TYPE_FLOAT32, scores, (uint64_t)sp->n_scores);
    if (sp->n_merges >= 0) gguf_set_arr_str(w, "tokenizer.ggml.merges", merges, (uint64_t)sp->n_merges);
    if (sp->bos != -2) gguf_set_u32(w, "tokenizer.ggml.bos_token_id", (uint32_t)sp->bos);
    char path[512];
    snprintf(path, sizeof path, "%s/bad.gguf", t_tmpdir());
    int rc = gguf_writer_write(w, path);
    gguf_writer_free(w);
    if (rc) {
        snprintf(err, errsz, "write failed: %s", octo_last_error());
        return NULL;
    }
    gguf_file *f = gguf_open(path);
    if (!f) {
        snprintf(err, errsz, "open failed: %s", octo_last_error());
        return NULL;
    }
    octo_tokenizer *t = octo_tokenizer_load(f);
    snprintf(err, errsz, "%s", t ? "" : octo_last_error());
    gguf_close(f);
    return t;
}

TEST(malformed_files) {
    char err[1024];
    spec good = {"llama", 8, 8, 8, -1, false, -2};
    octo_tokenizer *t = build(&good, err, sizeof err);
    CHECKF(t, "a small valid vocabulary fails: %s", err);
    if (t) {
        int32_t ids[8];
        int n = octo_tokenize(t, "ab c", 4, true, false, ids, 8);
        int32_t want[] = {1, 6, 5, 6, 7}; /* <s> ▁ ab ▁ c */
        CHECK(ids_equal(ids, n, want, 5));
        octo_tokenizer_free(t);
    }
    struct {
        spec s;
        const char *expect; /* a word the message must contain */
    } cases[] = {
        {{NULL, 8, 8, 8, -1, false, -2}, "tokenizer.ggml.model"},
        {{"bert", 8, 8, 8, -1, false, -2}, "unsupported"},
        {{"llama", -1, -1, -1, -1, false, -2}, "tokenizer.ggml.tokens"},
        {{"llama", 0, 0, 0, -1, false, -2}, "tokenizer.ggml.tokens"},
        {{"llama", 8, 7, 8, -1, false, -2}, "token_type"},
        {{"llama", 8, 8, 5, -1, false, -2}, "scores"},
        {{"llama", 8, -1, 8, -1, true, -2}, "token_type"},
        {{"gpt2", 8, 8, -1, -1, false, -2}, "merges"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        t = build(&cases[i].s, err, sizeof err);
        CHECKF(!t, "case %zu loaded", i);
        CHECKF(strstr(err, cases[i].expect), "case %zu: message '%s' lacks '%s'", i, err, cases[i].expect);
        octo_tokenizer_free(t);
    }
    /* an out-of-range id is ignored, not trusted */
    spec bad_bos = {"llama", 8, 8, 8, -1, false, 1000};
    t = build(&bad_bos, err, sizeof err);
    CHECKF(t, "bad bos: %s", err);
    if (t) {
        CHECK(octo_tokenizer_bos(t) == 1);
        octo_tokenizer_free(t);
    }
    /* a gpt2 vocabulary with merges, including one without a space */
    spec bpe = {"gpt2", 8, 8, -1, 3, false, -2};
    t = build(&bpe, err, sizeof err);
    CHECKF(t, "small gpt2: %s", err);
    if (t) {
        int32_t ids[8];
        int n = octo_tokenize(t, "abc", 3, false, false, ids, 8);
        /* "ab c" merges into "abc", which is no token: llama.cpp then
         * emits the symbol's bytes one by one */
        int32_t want[] = {3, 4, 7};
        CHECK(ids_equal(ids, n, want, 3));
        octo_tokenizer_free(t);
    }
}

/* ---- pre-tokenizers ---- */

/* Word lengths (in code points) that the Hugging Face regex of each
 * pre-tokenizer gives, as evaluated by the Python regex module with
 * llama.cpp's definition of white space. */
static const struct {
    pre_kind kind;
    const char *text;
    const char *words;
} k_pretok[] = {
    {PRE_DEFAULT, "Hello world! It's 2024: 1234567 apples.", "5|6|1|3|1|1|1|3|1|1|1|3|3|1|7|1"},
    {PRE_DEFAULT, "  two  spaces\tand\ttabs \n\n  next line\r\n", "1|4|1|7|1|3|1|4|4|5|5|2"},
    {PRE_DEFAULT, "I'M we'RE they'll 'd 'x", "1|1|1|3|1|2|5|1|2|1|1|1|1|1|1"},
    {PRE_DEFAULT, "caf\xc3\xa9 \xe4\xbd\xa0\xe5\xa5\xbd\xe3\x80\x81\xe4\xb8\x96\xe7\x95\x8c \xf0\x9f\xa6\x99.cpp \xc2\xbd \xd9\xa3\xd9\xa4", "4|3|1|2|2|1|3|1|1|1|2"},
    {PRE_DEFAULT, "$100+200=300 | a^b ~c `d` [x]{y}", "1|3|1|3|1|3|1|1|2|1|1|1|1|1|2|1|1|1|1|1|2|1|1"},
    {PRE_DEFAULT, "   ", "3"},
    {PRE_DEFAULT, "a\xe3\x80\x80\xe3\x80\x80""b\xc2\xa0""c", "1|1|1|1|1|1"},
    {PRE_DEFAULT, "x  \n", "1|3"},
    {PRE_DEFAULT, "12345678901", "3|3|3|2"},
    {PRE_GPT2, "Hello world! It's 2024: 1234567 apples.", "5|6|1|3|2|5|1|8|7|1"},
    {PRE_GPT2, "  two  spaces\tand\ttabs \n\n  next line\r\n", "1|4|1|7|1|3|1|4|4|5|5|2"},
    {PRE_GPT2, "I'M we'RE they'll 'd 'x", "1|1|1|3|1|2|5|3|2|1|2|1"},
    {PRE_GPT2, "caf\xc3\xa9 \xe4\xbd\xa0\xe5\xa5\xbd\xe3\x80\x81\xe4\xb8\x96\xe7\x95\x8c \xf0\x9f\xa6\x99.cpp \xc2\xbd \xd9\xa3\xd9\xa4", "4|3|1|2|3|3|2|3"},
    {PRE_GPT2, "$100+200=300 | a^b ~c `d` [x]{y}", "1|3|1|3|1|3|2|2|1|1|2|1|2|1|1|2|1|2|1|1"},
    {PRE_GPT2, "   ", "3"},
    {PRE_GPT2, "a\xe3\x80\x80\xe3\x80\x80""b\xc2\xa0""c", "1|1|1|1|1|1"},
    {PRE_GPT2, "x  \n", "1|3"},
    {PRE_GPT2, "12345678901", "11"},
    {PRE_LLAMA3, "Hello world! It's 2024: 1234567 apples.", "5|6|1|3|2|1|3|1|1|1|3|3|1|7|1"},
    {PRE_LLAMA3, "  two  spaces\tand\ttabs \n\n  next line\r\n", "1|4|1|7|4|5|3|1|5|5|2"},
    {PRE_LLAMA3, "I'M we'RE they'll 'd 'x", "1|2|3|3|5|3|2|1|2|1"},
    {PRE_LLAMA3, "caf\xc3\xa9 \xe4\xbd\xa0\xe5\xa5\xbd\xe3\x80\x81\xe4\xb8\x96\xe7\x95\x8c \xf0\x9f\xa6\x99.cpp \xc2\xbd \xd9\xa3\xd9\xa4", "4|3|3|3|3|1|1|1|2"},
    {PRE_LLAMA3, "$100+200=300 | a^b ~c `d` [x]{y}", "1|3|1|3|1|3|2|2|2|2|1|2|1|1|2|1|2|1|1"},
    {PRE_LLAMA3, "   ", "3"},
    {PRE_LLAMA3, "a\xe3\x80\x80\xe3\x80\x80""b\xc2\xa0""c", "1|1|2|2"},
    {PRE_LLAMA3, "x  \n", "1|3"},
    {PRE_LLAMA3, "12345678901", "3|3|3|2"},
    {PRE_QWEN2, "Hello world! It's 2024: 1234567 apples.", "5|6|1|3|2|1|1|1|1|1|1|1|1|1|1|1|1|1|1|7|1"},
    {PRE_QWEN2, "  two  spaces\tand\ttabs \n\n  next line\r\n", "1|4|1|7|4|5|3|1|5|5|2"},
    {PRE_QWEN2, "I'M we'RE they'll 'd 'x", "1|2|3|3|5|3|2|1|2|1"},
    {PRE_QWEN2, "caf\xc3\xa9 \xe4\xbd\xa0\xe5\xa5\xbd\xe3\x80\x81\xe4\xb8\x96\xe7\x95\x8c \xf0\x9f\xa6\x99.cpp \xc2\xbd \xd9\xa3\xd9\xa4", "4|3|3|3|3|1|1|1|1|1"},
    {PRE_QWEN2, "$100+200=300 | a^b ~c `d` [x]{y}", "1|1|1|1|1|1|1|1|1|1|1|1|2|2|2|2|1|2|1|1|2|1|2|1|1"},
    {PRE_QWEN2, "   ", "3"},
    {PRE_QWEN2, "a\xe3\x80\x80\xe3\x80\x80""b\xc2\xa0""c", "1|1|2|2"},
    {PRE_QWEN2, "x  \n", "1|3"},
    {PRE_QWEN2, "12345678901", "1|1|1|1|1|1|1|1|1|1|1"},
    {PRE_STARCODER, "Hello world! It's 2024: 1234567 apples.", "5|6|1|3|2|1|1|1|1|1|1|1|1|1|1|1|1|1|1|7|1"},
    {PRE_STARCODER, "  two  spaces\tand\ttabs \n\n  next line\r\n", "1|4|1|7|1|3|1|4|4|5|5|2"},
    {PRE_STARCODER, "I'M we'RE they'll 'd 'x", "1|1|1|3|1|2|5|3|2|1|2|1"},
    {PRE_STARCODER, "caf\xc3\xa9 \xe4\xbd\xa0\xe5\xa5\xbd\xe3\x80\x81\xe4\xb8\x96\xe7\x95\x8c \xf0\x9f\xa6\x99.cpp \xc2\xbd \xd9\xa3\xd9\xa4", "4|3|1|2|3|3|1|1|1|1|1"},
    {PRE_STARCODER, "$100+200=300 | a^b ~c `d` [x]{y}", "1|1|1|1|1|1|1|1|1|1|1|1|2|2|1|1|2|1|2|1|1|2|1|2|1|1"},
    {PRE_STARCODER, "   ", "3"},
    {PRE_STARCODER, "a\xe3\x80\x80\xe3\x80\x80""b\xc2\xa0""c", "1|1|1|1|1|1"},
    {PRE_STARCODER, "x  \n", "1|3"},
    {PRE_STARCODER, "12345678901", "1|1|1|1|1|1|1|1|1|1|1"},
};

TEST(pretokenizers) {
    for (size_t c = 0; c < sizeof k_pretok / sizeof k_pretok[0]; c++) {
        const char *s = k_pretok[c].text;
        size_t len = strlen(s), n = 0;
        uint32_t cpts[256];
        for (size_t off = 0; off < len;) cpts[n++] = octo_utf8_decode(s, len, &off);
        size_t *lens = NULL;
        long k = pretok_split(k_pretok[c].kind, cpts, n, &lens);
        char got[512] = "";
        for (long i = 0; i < k; i++)
            snprintf(got + strlen(got), sizeof got - strlen(got), i ? "|%zu" : "%zu", lens[i]);
        CHECKF(strcmp(got, k_pretok[c].words) == 0, "pre %d '%s': %s, expected %s", (int)k_pretok[c].kind, s, got,
               k_pretok[c].words);
        free(lens);
    }
}

/* ---- speed ---- */

TEST(speed) {
    if (!t_shared_dir()) SKIP("../shared is absent (no fixtures)");
    static const char *files[] = {"fixtures/tokenizer/ggml-vocab-llama-spm.gguf", "fixtures/tokenizer/ggml-vocab-gpt-2.gguf"};
    size_t plen;
    char *prompts = read_all(t_shared_path("fixtures/prompts.txt"), &plen);
    REQUIRE(prompts && plen > 100);
    size_t len = 10240;
    char *text = malloc(len);
    for (size_t i = 0; i < len; i++) text[i] = prompts[i % plen];
    for (int fi = 0; fi < 2; fi++) {
        octo_tokenizer *t = load_fixture(files[fi]);
        REQUIRE(t);
        double best = 1e9;
        int n = 0;
        for (int rep = 0; rep < 5; rep++) {
            double t0 = now_ms();
            n = octo_tokenize(t, text, len, true, true, NULL, 0);
            double dt = now_ms() - t0;
            if (dt < best) best = dt;
        }
        printf("    %s: 10 KB -> %d tokens in %.2f ms\n", strrchr(files[fi], '/') + 1, n, best);
        CHECK(n > 1000);
        /* the target is well under 10 ms; the bound leaves room for slow
         * or instrumented builds */
        CHECK(best < 100.0);
        octo_tokenizer_free(t);
    }
    free(text);
    free(prompts);
}

int main(void) {
    RUN(vocab_llama_spm);
    RUN(vocab_phi3);
    RUN(vocab_gpt2);
    RUN(reference_prompts);
    RUN(pieces);
    RUN(detokenize_round_trip);
    RUN(malformed_text);
    RUN(parse_special);
    RUN(add_special);
    RUN(write_read_spm);
    RUN(write_read_bpe);
    RUN(malformed_files);
    RUN(pretokenizers);
    RUN(speed);
    return t_finish();
}
