/* test_bpe_train.c - the byte-level BPE trainer.
 *
 * Trains on a generated corpus and proves: the merges are exactly the ones
 * a naive recount-every-merge BPE picks (same tie-breaking); the file loads
 * in octo's tokenizer and every text round-trips through it (malformed
 * UTF-8 as the tokenizer defines it: U+FFFD); frequent words are single
 * tokens; specials are control tokens parsed only when asked and never
 * learned from the text; two runs write identical files; `octo model init`
 * takes the file; bad parameters and inputs get clear errors.
 */
#include <stdbool.h>

#include "base/error.h"
#include "gguf/gguf.h"
#include "octo.h"
#include "testlib.h"
#include "tokenizer/bpe_train.h"
#include "tokenizer/tok_internal.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/unicode.h"

/* ---- helpers ---- */

static uint64_t g_rng = 12345;
static uint32_t rnd(uint32_t n) {
    g_rng = g_rng * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(g_rng >> 33) % n;
}

/* A corpus of pseudo-words with a skewed distribution, some frequent real
 * words, digits, punctuation, UTF-8 and, every few lines, chat markup. */
static char *make_corpus(size_t target, size_t *len) {
    static const char *const common[] = {"the", "planner", "assistant", "calendar", "message", "and", "to"};
    char lex[300][12];
    for (int i = 0; i < 300; i++) {
        int n = 2 + (int)rnd(7);
        for (int j = 0; j < n; j++) lex[i][j] = "etaoinshrdlcumwfgypb"[rnd(20)];
        lex[i][n] = 0;
    }
    char *s = malloc(target + 256);
    size_t k = 0;
    int line = 0;
    while (k < target) {
        if (line % 7 == 0) k += (size_t)sprintf(s + k, "<|user|>open the calendar<|end|>");
        for (int w = 0; w < 12; w++) {
            uint32_t r = rnd(100);
            const char *word = r < 35 ? common[rnd(7)] : lex[rnd(1 + rnd(300))];
            k += (size_t)sprintf(s + k, "%s%s", w ? " " : "", word);
            if (r % 17 == 0) k += (size_t)sprintf(s + k, " %u", rnd(1000));
            if (r % 23 == 0) k += (size_t)sprintf(s + k, ",");
            if (r % 41 == 0) k += (size_t)sprintf(s + k, " caf\xc3\xa9 \xe4\xbd\xa0\xe5\xa5\xbd");
        }
        k += (size_t)sprintf(s + k, ".\n");
        line++;
    }
    *len = k;
    return s;
}

static const char *write_tmp(const char *name, const char *data, size_t n) {
    static char path[8][512];
    static int slot;
    char *p = path[slot++ % 8];
    snprintf(p, 512, "%s/%s", t_tmpdir(), name);
    FILE *f = fopen(p, "wb");
    if (!f) return NULL;
    fwrite(data, 1, n, f);
    fclose(f);
    return p;
}

static octo_tokenizer *load_tok(const char *path) {
    gguf_file *f = gguf_open(path);
    if (!f) {
        fprintf(stderr, "    %s\n", octo_last_error());
        return NULL;
    }
    octo_tokenizer *t = octo_tokenizer_load(f);
    if (!t) fprintf(stderr, "    %s\n", octo_last_error());
    gguf_close(f);
    return t;
}

static int train_file(const char *corpus, const char *out, int vocab, const char *pre, const char *const *sp,
                      int n_sp) {
    octo_bpe_params p = {.vocab_size = vocab, .pre = pre, .specials = sp, .n_specials = n_sp};
    octo_bpe_trainer *tr = octo_bpe_trainer_new(&p);
    if (!tr) return -1;
    int rc = octo_bpe_trainer_add_file(tr, corpus) || octo_bpe_trainer_write(tr, out, NULL) ? -1 : 0;
    octo_bpe_trainer_free(tr);
    return rc;
}

static char *slurp(const char *path, size_t *n) { return octo_read_file(path, n); }

static const char *g_corpus;
static char *g_text;
static size_t g_text_len;

static const char *corpus_path(void) {
    if (!g_corpus) {
        g_text = make_corpus(200000, &g_text_len);
        g_corpus = write_tmp("corpus.txt", g_text, g_text_len);
    }
    return g_corpus;
}

/* What the tokenizer makes of arbitrary bytes: each malformed sequence
 * becomes U+FFFD (unicode.h), everything else is kept. */
static char *as_decoded(const char *s, size_t n, size_t *out_n) {
    char *o = malloc(n * 3 + 1);
    size_t k = 0;
    for (size_t off = 0; off < n;) k += (size_t)octo_utf8_encode(octo_utf8_decode(s, n, &off), o + k);
    *out_n = k;
    return o;
}

static bool round_trips(const octo_tokenizer *t, const char *s, size_t n) {
    int need = octo_tokenize(t, s, n, false, false, NULL, 0);
    if (need < 0) return false;
    int32_t *ids = malloc((size_t)(need + 1) * sizeof *ids);
    octo_tokenize(t, s, n, false, false, ids, need);
    char *back = octo_detokenize(t, ids, need, false);
    size_t en;
    char *exp = as_decoded(s, n, &en);
    /* the pieces put together (octo_detokenize's string ends at a NUL) */
    char *cat = malloc(en + 64);
    size_t k = 0;
    bool ok = back != NULL;
    for (int i = 0; i < need && ok; i++) {
        int l = octo_token_to_piece(t, ids[i], false, cat + k, (int)(en + 64 - k));
        ok = l >= 0 && k + (size_t)l <= en;
        k += ok ? (size_t)l : 0;
    }
    ok = ok && k == en && memcmp(cat, exp, en) == 0;
    if (ok && !memchr(s, 0, n)) ok = strlen(back) == en && memcmp(back, exp, en) == 0;
    free(cat);
    if (!ok) fprintf(stderr, "    round trip failed for %zu bytes (%d tokens)\n", n, need);
    free(ids);
    free(back);
    free(exp);
    return ok;
}

/* ---- tests ---- */

TEST(loads_in_tokenizer) {
    const char *out = "/dev/null";
    char path[512];
    snprintf(path, sizeof path, "%s/v600.gguf", t_tmpdir());
    out = path;
    octo_bpe_params p = {.vocab_size = 600};
    octo_bpe_trainer *tr = octo_bpe_trainer_new(&p);
    REQUIRE(tr);
    REQUIRE(octo_bpe_trainer_add_file(tr, corpus_path()) == 0);
    octo_bpe_stats st;
    REQUIRE(octo_bpe_trainer_write(tr, out, &st) == 0);
    octo_bpe_trainer_free(tr);
    CHECK(st.n_vocab == 600);
    CHECK(st.n_specials == 5);
    CHECK(st.n_merges >= 600 - 256 - 5);
    CHECK(st.n_bytes == (int64_t)g_text_len);
    octo_tokenizer *t = load_tok(out);
    REQUIRE(t);
    CHECK(octo_tokenizer_kind(t) == OCTO_TOK_BPE);
    CHECK(octo_tokenizer_n_vocab(t) == 600);
    CHECK(strcmp(octo_tokenizer_pre(t), "qwen2") == 0);
    CHECK(!octo_tokenizer_add_bos(t));
    /* bytes first, in GPT-2's order: "!" is token 0, "Ā" (byte 0) token 188 */
    CHECK(strcmp(octo_token_text(t, 0), "!") == 0);
    CHECK(strcmp(octo_token_text(t, 188), "\xc4\x80") == 0);
    /* specials last, CONTROL, with the roles set */
    int32_t eot = octo_token_lookup(t, "<|endoftext|>"), end = octo_token_lookup(t, "<|end|>");
    CHECK(eot == 595);
    CHECK(end == 599);
    for (int32_t id = 595; id < 600; id++) CHECK(octo_token_type(t, id) == OCTO_TOKEN_CONTROL);
    CHECK(octo_tokenizer_eos(t) == eot);
    CHECK(octo_tokenizer_bos(t) == eot);
    CHECK(octo_tokenizer_eot(t) == end);
    CHECK(octo_tokenizer_is_eog(t, end) && octo_tokenizer_is_eog(t, eot));
    /* frequent words are one token each */
    static const char *const words[] = {" the", " planner", " assistant", " calendar", " message"};
    for (int i = 0; i < 5; i++) {
        int32_t ids[8];
        int n = octo_tokenize(t, words[i], strlen(words[i]), false, false, ids, 8);
        CHECKF(n == 1, "\"%s\" -> %d tokens", words[i], n);
    }
    /* the chat markup in the text was cut out, never learned */
    CHECK(octo_token_lookup(t, "<|") < 0 && octo_token_lookup(t, "|>") < 0);
    CHECK(octo_token_lookup(t, "<|user|>") == 597);
    gguf_file *f = gguf_open(out);
    REQUIRE(f);
    char *tmpl = NULL;
    CHECK(gguf_get_str(f, "tokenizer.chat_template", &tmpl) == 0);
    CHECK(tmpl && strcmp(octo_chat_template_resolve(tmpl), "octo") == 0);
    free(tmpl);
    gguf_close(f);
    CHECK(strcmp(octo_chat_template_of(t), "octo") == 0);
    octo_tokenizer_free(t);
}

/* The same merges as the textbook algorithm: recount every pair of every
 * distinct word after each merge, take the most frequent, ties to the
 * lowest (left id, right id). */
TEST(merges_match_naive_bpe) {
    char out[512];
    snprintf(out, sizeof out, "%s/naive.gguf", t_tmpdir());
    size_t n = 30000;
    corpus_path();
    const char *small = write_tmp("small.txt", g_text, n);
    static const char *const sps[] = {"<|endoftext|>", "<|user|>", "<|end|>"};
    REQUIRE(train_file(small, out, 420, NULL, sps, 3) == 0);
    octo_tokenizer *t = load_tok(out);
    REQUIRE(t);

    /* words of the text as byte-token sequences (specials cut as the trainer does) */
    enum { MAXW = 20000, MAXL = 64 };
    int32_t(*w)[MAXL] = malloc(sizeof(int32_t[MAXL]) * MAXW);
    int *wl = malloc(sizeof(int) * MAXW), nw = 0;
    int32_t byte_id[256];
    for (int b = 0; b < 256; b++) {
        char u[4];
        int ul = octo_utf8_encode(octo_byte_to_cpt((uint8_t)b), u);
        byte_id[b] = tok_find(t, u, (size_t)ul);
    }
    const char *s = g_text;
    size_t pos = 0;
    while (pos < n) {
        const char *m = NULL;
        size_t mlen = 0;
        for (int i = 0; i < 3; i++) {
            const char *x = memmem(s + pos, n - pos, sps[i], strlen(sps[i]));
            if (x && (!m || x < m)) m = x, mlen = strlen(sps[i]);
        }
        size_t end = m ? (size_t)(m - s) : n;
        uint32_t *cp = malloc((end - pos + 1) * sizeof *cp);
        size_t nc = 0;
        for (size_t off = pos; off < end;) cp[nc++] = octo_utf8_decode(s, end, &off);
        size_t *lens;
        long nwords = pretok_split(PRE_QWEN2, cp, nc, &lens);
        size_t c0 = 0;
        for (long k = 0; k < nwords && nw < MAXW; k++) {
            int L = 0;
            for (size_t i = 0; i < lens[k]; i++) {
                char u[4];
                int ul = octo_utf8_encode(cp[c0 + i], u);
                for (int j = 0; j < ul && L < MAXL; j++) w[nw][L++] = byte_id[(uint8_t)u[j]];
            }
            c0 += lens[k];
            wl[nw++] = L;
        }
        free(lens);
        free(cp);
        pos = m ? end + mlen : n;
    }
    REQUIRE(nw < MAXW);
    /* naive merging, checked against the file's merge list */
    int32_t n_vocab = octo_tokenizer_n_vocab(t) - 3; /* less the specials */
    int64_t *cnt = malloc(sizeof(int64_t) * (size_t)n_vocab * (size_t)n_vocab);
    int merges_checked = 0;
    for (int mi = 0; mi < t->n_merges; mi++) {
        memset(cnt, 0, sizeof(int64_t) * (size_t)n_vocab * (size_t)n_vocab);
        for (int i = 0; i < nw; i++)
            for (int j = 0; j + 1 < wl[i]; j++) cnt[(size_t)w[i][j] * (size_t)n_vocab + (size_t)w[i][j + 1]]++;
        int64_t best = 0;
        size_t bi = 0;
        for (size_t k = 0; k < (size_t)n_vocab * (size_t)n_vocab; k++)
            if (cnt[k] > best) best = cnt[k], bi = k;
        int32_t a = (int32_t)(bi / (size_t)n_vocab), b = (int32_t)(bi % (size_t)n_vocab);
        char expect[256];
        snprintf(expect, sizeof expect, "%s %s", octo_token_text(t, a), octo_token_text(t, b));
        const char *got = t->marena + t->merges[mi].off;
        if (strcmp(expect, got) != 0) {
            CHECKF(false, "merge %d: naive BPE picks \"%s\" (count %lld), the trainer \"%s\"", mi, expect,
                   (long long)best, got);
            break;
        }
        char joined[256];
        snprintf(joined, sizeof joined, "%s%s", octo_token_text(t, a), octo_token_text(t, b));
        int32_t id = octo_token_lookup(t, joined);
        REQUIRE(id >= 0);
        for (int i = 0; i < nw; i++) {
            int k = 0;
            for (int j = 0; j < wl[i];) {
                if (j + 1 < wl[i] && w[i][j] == a && w[i][j + 1] == b) w[i][k++] = id, j += 2;
                else w[i][k++] = w[i][j++];
            }
            wl[i] = k;
        }
        merges_checked++;
    }
    CHECK(merges_checked == t->n_merges);
    CHECK(t->n_merges >= 420 - 256 - 3);
    free(cnt);
    free(w);
    free(wl);
    octo_tokenizer_free(t);
}

TEST(round_trip) {
    char out[512];
    snprintf(out, sizeof out, "%s/rt.gguf", t_tmpdir());
    REQUIRE(train_file(corpus_path(), out, 1000, NULL, NULL, 0) == 0);
    octo_tokenizer *t = load_tok(out);
    REQUIRE(t);
    /* lines of the corpus, and the whole of it */
    CHECK(round_trips(t, g_text, g_text_len));
    CHECK(round_trips(t, "", 0));
    const char *fixed[] = {" ", "  \n\n\t x ,  . !?", "Hello, World!  It's 2024-01-01.", "\xf0\x9f\x98\x80 emoji",
                           "tab\tnew\nline\r\n", "'s 're 've 'll", "\xe4\xbd\xa0\xe5\xa5\xbd\xe4\xb8\x96\xe7\x95\x8c"};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) CHECK(round_trips(t, fixed[i], strlen(fixed[i])));
    /* random valid UTF-8: every code point class */
    char buf[4096];
    for (int iter = 0; iter < 200; iter++) {
        size_t k = 0;
        while (k < 400) {
            uint32_t r = rnd(10), c;
            if (r < 5) c = 1 + rnd(0x7f);
            else if (r < 7) c = 0x80 + rnd(0x800 - 0x80);
            else if (r < 9) {
                c = 0x800 + rnd(0x10000 - 0x800);
                if (c >= 0xd800 && c < 0xe000) c = 'x';
            } else c = 0x10000 + rnd(0x110000 - 0x10000);
            k += (size_t)octo_utf8_encode(c, buf + k);
        }
        if (!round_trips(t, buf, k)) {
            CHECK(false);
            break;
        }
    }
    /* arbitrary bytes (NUL included): malformed sequences come back as U+FFFD */
    for (int iter = 0; iter < 200; iter++) {
        size_t k = 1 + rnd(300);
        for (size_t i = 0; i < k; i++) buf[i] = (char)rnd(256);
        if (!round_trips(t, buf, k)) {
            CHECK(false);
            break;
        }
    }
    octo_tokenizer_free(t);
}

TEST(specials) {
    char out[512];
    snprintf(out, sizeof out, "%s/sp.gguf", t_tmpdir());
    static const char *const sp[] = {"<|im_start|>", "<|im_end|>"}, *const us[] = {"<nexa_split>"};
    octo_bpe_params p = {.vocab_size = 700, .pre = "llama-bpe", .specials = sp, .n_specials = 2,
                         .user_specials = us, .n_user_specials = 1};
    octo_bpe_trainer *tr = octo_bpe_trainer_new(&p);
    REQUIRE(tr);
    REQUIRE(octo_bpe_trainer_add_file(tr, corpus_path()) == 0 && octo_bpe_trainer_write(tr, out, NULL) == 0);
    octo_bpe_trainer_free(tr);
    octo_tokenizer *t = load_tok(out);
    REQUIRE(t);
    CHECK(octo_tokenizer_n_vocab(t) == 700);
    /* <|endoftext|> was added (no end-of-text was listed), first of the specials */
    CHECK(octo_token_lookup(t, "<|endoftext|>") == 696);
    CHECK(octo_token_lookup(t, "<nexa_split>") == 699);
    CHECK(octo_tokenizer_eot(t) == octo_token_lookup(t, "<|im_end|>"));
    CHECK(strcmp(octo_tokenizer_pre(t), "llama-bpe") == 0);
    const char *text = "<|im_start|>user\nhi<|im_end|><nexa_split>";
    int32_t ids[64];
    int n = octo_tokenize(t, text, strlen(text), false, true, ids, 64);
    REQUIRE(n >= 4 && n < 64);
    CHECK(ids[0] == 697);
    CHECK(ids[n - 1] == 699 && ids[n - 2] == 698);
    CHECK(octo_token_type(t, 697) == OCTO_TOKEN_CONTROL && octo_token_type(t, 699) == OCTO_TOKEN_USER_DEFINED);
    /* without special parsing the control tokens are text, the user-defined one is not */
    int m = octo_tokenize(t, text, strlen(text), false, false, ids, 64);
    REQUIRE(m > 0 && m < 64);
    for (int i = 0; i + 1 < m; i++) CHECK(ids[i] < 696);
    CHECK(ids[m - 1] == 699);
    /* no chat template: the specials are not octo's chat set */
    gguf_file *f = gguf_open(out);
    REQUIRE(f);
    CHECK(gguf_find_kv(f, "tokenizer.chat_template") == NULL);
    gguf_close(f);
    /* gpt-2 style pre-tokenizers tidy " ," when decoding, so only texts
     * without space-before-punctuation round-trip there */
    CHECK(round_trips(t, "open the calendar and message bob.\nthe planner", 46));
    octo_tokenizer_free(t);
}

TEST(deterministic) {
    char a[512], b[512];
    snprintf(a, sizeof a, "%s/det_a.gguf", t_tmpdir());
    snprintf(b, sizeof b, "%s/det_b.gguf", t_tmpdir());
    REQUIRE(train_file(corpus_path(), a, 800, "gpt-2", NULL, 0) == 0);
    REQUIRE(train_file(corpus_path(), b, 800, "gpt-2", NULL, 0) == 0);
    size_t na, nb;
    char *da = slurp(a, &na), *db = slurp(b, &nb);
    REQUIRE(da && db);
    CHECK(na == nb && memcmp(da, db, na) == 0);
    free(da);
    free(db);
    /* feeding the same text in other pieces changes nothing either */
    octo_bpe_params p = {.vocab_size = 800, .pre = "gpt-2"};
    octo_bpe_trainer *tr = octo_bpe_trainer_new(&p);
    REQUIRE(tr);
    size_t half = g_text_len / 2;
    while (half < g_text_len && g_text[half - 1] != '\n') half++;
    REQUIRE(octo_bpe_trainer_add_text(tr, g_text, half) == 0);
    REQUIRE(octo_bpe_trainer_add_text(tr, g_text + half, g_text_len - half) == 0);
    REQUIRE(octo_bpe_trainer_write(tr, b, NULL) == 0);
    octo_bpe_trainer_free(tr);
    da = slurp(a, &na);
    db = slurp(b, &nb);
    CHECK(na == nb && memcmp(da, db, na) == 0);
    free(da);
    free(db);
}

/* Files are read in 1 MiB pieces cut where every pre-tokenizer splits
 * anyway: the result equals learning from the whole text at once, for
 * many lines and for one huge line. */
TEST(chunked_reading) {
    corpus_path();
    size_t n = 5 * g_text_len / 2 > (5u << 19) ? 5 * g_text_len / 2 : (5u << 19);
    char *big = malloc(n + 1);
    for (size_t i = 0; i < n; i++) big[i] = g_text[i % g_text_len];
    for (int one_line = 0; one_line < 2; one_line++) {
        if (one_line)
            for (size_t i = 0; i < n; i++)
                if (big[i] == '\n') big[i] = ' ';
        const char *path = write_tmp("big.txt", big, n);
        char a[512], b[512];
        snprintf(a, sizeof a, "%s/chunk_a.gguf", t_tmpdir());
        snprintf(b, sizeof b, "%s/chunk_b.gguf", t_tmpdir());
        REQUIRE(train_file(path, a, 900, NULL, NULL, 0) == 0);
        octo_bpe_params p = {.vocab_size = 900};
        octo_bpe_trainer *tr = octo_bpe_trainer_new(&p);
        REQUIRE(tr && octo_bpe_trainer_add_text(tr, big, n) == 0 && octo_bpe_trainer_write(tr, b, NULL) == 0);
        octo_bpe_trainer_free(tr);
        size_t na, nb;
        char *da = slurp(a, &na), *db = slurp(b, &nb);
        CHECKF(da && db && na == nb && memcmp(da, db, na) == 0, "one line: %d", one_line);
        free(da);
        free(db);
    }
    free(big);
}

TEST(model_init_takes_it) {
    char voc[512], model[512];
    snprintf(voc, sizeof voc, "%s/mi_vocab.gguf", t_tmpdir());
    snprintf(model, sizeof model, "%s/mi_model.gguf", t_tmpdir());
    REQUIRE(train_file(corpus_path(), voc, 512, NULL, NULL, 0) == 0);
    octo_model_init_params p = {.arch = "llama", .n_embd = 32, .n_layer = 1, .n_head = 2, .n_ff = 64,
                                .vocab_from = voc, .seed = 1};
    REQUIRE(octo_model_init_file(&p, model) == 0);
    octo_model *m = octo_model_load(model);
    REQUIRE(m);
    CHECK(octo_model_n_vocab(m) == 512);
    const octo_tokenizer *t = octo_model_tokenizer(m);
    CHECK(strcmp(octo_chat_template_of(t), "octo") == 0);
    CHECK(octo_tokenizer_eot(t) == octo_token_lookup(t, "<|end|>"));
    octo_ctx_params cp = {.n_ctx = 64, .n_threads = 1};
    octo_ctx *c = octo_ctx_new(m, &cp);
    REQUIRE(c);
    int32_t ids[16];
    int n = octo_tokenize(t, "<|user|>the planner<|end|><|assistant|>", 39, false, true, ids, 16);
    REQUIRE(n > 0 && n <= 16);
    CHECK(octo_ctx_decode(c, ids, n, false) == 0);
    octo_ctx_free(c);
    octo_model_free(m);
}

TEST(bad_input) {
    char out[512];
    snprintf(out, sizeof out, "%s/bad.gguf", t_tmpdir());
    octo_bpe_params p = {.vocab_size = 255};
    CHECK(octo_bpe_trainer_new(&p) == NULL);
    CHECK(strstr(octo_last_error(), "too small") != NULL);
    p.vocab_size = 260; /* 256 + 5 default specials = 261 */
    CHECK(octo_bpe_trainer_new(&p) == NULL);
    p.vocab_size = 261;
    octo_bpe_trainer *tr = octo_bpe_trainer_new(&p);
    CHECK(tr != NULL);
    octo_bpe_trainer_free(tr);
    p.vocab_size = 1000;
    p.pre = "nonsense";
    CHECK(octo_bpe_trainer_new(&p) == NULL && strstr(octo_last_error(), "nonsense"));
    p.pre = NULL;
    static const char *const dup[] = {"<a>", "<a>"}, *const empty[] = {""}, *const bytetok[] = {"a"};
    p.specials = dup, p.n_specials = 2;
    CHECK(octo_bpe_trainer_new(&p) == NULL && strstr(octo_last_error(), "twice"));
    p.specials = empty, p.n_specials = 1;
    CHECK(octo_bpe_trainer_new(&p) == NULL && strstr(octo_last_error(), "empty"));
    /* a special that is also a byte token is refused when writing */
    p.specials = bytetok, p.n_specials = 1;
    tr = octo_bpe_trainer_new(&p);
    REQUIRE(tr);
    CHECK(octo_bpe_trainer_add_text(tr, "some text here", 14) == 0);
    CHECK(octo_bpe_trainer_write(tr, out, NULL) != 0 && strstr(octo_last_error(), "\"a\""));
    octo_bpe_trainer_free(tr);
    p.specials = NULL, p.n_specials = 0;
    /* empty files, files of specials only, missing files */
    const char *e = write_tmp("empty.txt", "", 0);
    const char *only = write_tmp("only.txt", "<|user|><|end|>", 15);
    tr = octo_bpe_trainer_new(&p);
    REQUIRE(tr);
    CHECK(octo_bpe_trainer_add_file(tr, e) == 0);
    CHECK(octo_bpe_trainer_add_file(tr, only) == 0);
    CHECK(octo_bpe_trainer_write(tr, out, NULL) != 0 && strstr(octo_last_error(), "no text"));
    CHECK(octo_bpe_trainer_add_file(tr, "/nonexistent/x.txt") != 0 && strstr(octo_last_error(), "/nonexistent/x.txt"));
    octo_bpe_trainer_free(tr);
    CHECK(fopen(out, "rb") == NULL); /* nothing half-written */
    /* binary garbage is text like any other */
    char junk[20000];
    for (size_t i = 0; i < sizeof junk; i++) junk[i] = (char)rnd(256);
    const char *jp = write_tmp("junk.bin", junk, sizeof junk);
    REQUIRE(train_file(jp, out, 400, NULL, NULL, 0) == 0);
    octo_tokenizer *t = load_tok(out);
    REQUIRE(t);
    CHECK(round_trips(t, junk, sizeof junk));
    octo_tokenizer_free(t);
    /* a tiny text runs out of pairs: fewer tokens, still a valid file */
    const char *tiny = write_tmp("tiny.txt", "ab ab ab", 8);
    octo_bpe_stats st;
    tr = octo_bpe_trainer_new(&p);
    REQUIRE(tr && octo_bpe_trainer_add_file(tr, tiny) == 0);
    REQUIRE(octo_bpe_trainer_write(tr, out, &st) == 0);
    CHECK(st.n_vocab < 1000 && st.n_merges == 2);
    octo_bpe_trainer_free(tr);
    t = load_tok(out);
    REQUIRE(t);
    CHECK(round_trips(t, "ab ab abc", 9));
    octo_tokenizer_free(t);
}

int main(void) {
    RUN(loads_in_tokenizer);
    RUN(merges_match_naive_bpe);
    RUN(round_trip);
    RUN(specials);
    RUN(deterministic);
    RUN(chunked_reading);
    RUN(model_init_takes_it);
    RUN(bad_input);
    free(g_text);
    return t_finish();
}
