/* dataset.c - training examples from chat JSONL or plain text, and the
 * batcher that shuffles and packs them (the contract is in dataset.h).
 *
 * Examples live in two arenas (ids, loss flags) that grow while loading;
 * octo_example pointers are set once loading is done, so growth never
 * leaves a dangling pointer.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "base/error.h"
#include "train/chat_template.h"
#include "train/dataset.h"

#define TEXT_CHUNK (1u << 20)

/* ---- building a dataset ---- */

typedef struct {
    octo_dataset *d;
    int32_t *tok;
    uint8_t *loss;
    size_t n, cap;     /* arena */
    size_t *ex_off;    /* per example: start in the arena */
    size_t cap_ex;
} builder;

static int b_reserve(builder *b, size_t extra) {
    if (b->n + extra <= b->cap) return 0;
    size_t nc = b->cap ? b->cap : 4096;
    while (nc < b->n + extra) nc *= 2;
    int32_t *nt = realloc(b->tok, nc * sizeof *nt);
    if (!nt) return -1;
    b->tok = nt;
    uint8_t *nl = realloc(b->loss, nc);
    if (!nl) return -1;
    b->loss = nl;
    b->cap = nc;
    return 0;
}

static int b_push(builder *b, int32_t id, uint8_t loss) {
    if (b_reserve(b, 1)) return -1;
    b->tok[b->n] = id;
    b->loss[b->n++] = loss;
    return 0;
}

/* Close the example that started at arena offset start. */
static int b_example(builder *b, size_t start) {
    octo_dataset *d = b->d;
    if ((size_t)d->n_ex + 1 > b->cap_ex) {
        size_t nc = b->cap_ex ? b->cap_ex * 2 : 256;
        size_t *no = realloc(b->ex_off, nc * sizeof *no);
        if (!no) return -1;
        b->ex_off = no;
        b->cap_ex = nc;
    }
    if (d->n_ex == 0x7ffffffe) return -1;
    b->ex_off[d->n_ex++] = start;
    d->n_tokens += (int64_t)(b->n - start);
    for (size_t i = start; i < b->n; i++) d->n_loss += b->loss[i];
    return 0;
}

/* Hand the arenas to the dataset and point the examples into them. */
static octo_dataset *b_finish(builder *b) {
    octo_dataset *d = b->d;
    d->ex = calloc((size_t)(d->n_ex ? d->n_ex : 1), sizeof *d->ex);
    if (!d->ex) return NULL;
    for (int i = 0; i < d->n_ex; i++) {
        size_t s = b->ex_off[i], e = i + 1 < d->n_ex ? b->ex_off[i + 1] : b->n;
        d->ex[i] = (octo_example){b->tok + s, b->loss + s, (int)(e - s)};
    }
    free(b->ex_off);
    b->ex_off = NULL;
    return d;
}

static void b_free(builder *b) {
    free(b->tok);
    free(b->loss);
    free(b->ex_off);
    free(b->d);
}

void octo_dataset_free(octo_dataset *d) {
    if (!d) return;
    if (d->ex && d->n_ex > 0) {
        free(d->ex[0].tokens);
        free(d->ex[0].loss);
    }
    free(d->ex);
    free(d);
}

static octo_dataset *d_new(const octo_dataset_opts *o, builder *b) {
    memset(b, 0, sizeof *b);
    if (!o || !o->tok) {
        octo_fail("dataset: no tokenizer");
        return NULL;
    }
    if (o->seq_len < 2) {
        octo_fail("dataset: seq_len %d, expected at least 2", o->seq_len);
        return NULL;
    }
    b->d = calloc(1, sizeof *b->d);
    if (!b->d) {
        octo_fail("dataset: out of memory");
        return NULL;
    }
    int32_t pad = octo_tokenizer_pad(o->tok);
    if (pad < 0) pad = octo_tokenizer_eos(o->tok);
    b->d->pad = pad < 0 ? 0 : pad;
    return b->d;
}

/* Tokenize into a growable buffer; returns the count or -1. */
static int tokenize_into(const octo_tokenizer *t, const char *s, size_t n, bool special, int32_t **buf, int *cap) {
    int need = octo_tokenize(t, s, n, false, special, *buf, *cap);
    if (need > *cap) {
        int32_t *nb = realloc(*buf, (size_t)need * sizeof *nb);
        if (!nb) return octo_fail("dataset: out of memory");
        *buf = nb;
        *cap = need;
        need = octo_tokenize(t, s, n, false, special, *buf, *cap);
    }
    return need;
}

/* ---- chat examples ---- */

/* Per-template state: the special tokens the markup uses, looked up once. */
typedef struct {
    char text[32];
    int32_t id;
    bool rstrip; /* the tokenizer drops the whitespace after it (Phi-3) */
} special_info;

typedef struct {
    const octo_tokenizer *tok;
    const char *tmpl;
    special_info sp[16];
    int n_sp;
    int32_t *buf, *buf2;
    int cap, cap2;
    char *run;
    size_t run_cap;
} chat_tok;

static const special_info *special_of(chat_tok *c, const char *s, size_t n) {
    for (int i = 0; i < c->n_sp; i++)
        if (strlen(c->sp[i].text) == n && !memcmp(c->sp[i].text, s, n)) return &c->sp[i];
    if (n >= sizeof c->sp[0].text || c->n_sp == 16) {
        octo_fail("chat template %s: special token \"%.*s\" not supported", c->tmpl, (int)(n < 40 ? n : 40), s);
        return NULL;
    }
    special_info *si = &c->sp[c->n_sp];
    memcpy(si->text, s, n);
    si->text[n] = 0;
    si->id = octo_token_lookup(c->tok, si->text);
    if (si->id < 0) {
        octo_fail("chat template %s needs the token \"%s\", which the vocabulary lacks", c->tmpl, si->text);
        return NULL;
    }
    /* does the tokenizer eat the blank after it? */
    char probe[40];
    snprintf(probe, sizeof probe, "%s ", si->text);
    int32_t ids[4];
    int k = octo_tokenize(c->tok, probe, strlen(probe), false, true, ids, 4);
    si->rstrip = k == 1 && ids[0] == si->id;
    c->n_sp++;
    return si;
}

static bool c_isspace(char ch) { return ch == ' ' || (ch >= '\t' && ch <= '\r'); }

/* Tokenize one run of text between special tokens: parts [p0, p1). */
static int tokenize_run(chat_tok *c, const octo_chat_rendered *r, int p0, int p1, bool strip, builder *b) {
    /* the run's text and the byte offsets where the loss flag changes */
    size_t n = 0;
    for (int p = p0; p < p1; p++) n += r->parts[p].len;
    if (n + 1 > c->run_cap) {
        char *nr = realloc(c->run, n + 1);
        if (!nr) return octo_fail("dataset: out of memory");
        c->run = nr;
        c->run_cap = n + 1;
    }
    size_t cut[64], k = 0, len = 0;
    uint8_t flag[65];
    for (int p = p0; p < p1; p++) {
        const octo_chat_part *pt = &r->parts[p];
        const char *s = r->text + pt->off;
        size_t pl = pt->len;
        if (strip && len == 0) /* whitespace the tokenizer drops after the special */
            while (pl > 0 && c_isspace(*s)) s++, pl--;
        if (pl == 0) continue;
        uint8_t f = pt->loss;
        if (len == 0) flag[0] = f;
        else if (f != flag[k]) {
            if (k == 63) return octo_fail("dataset: too many loss changes in one text run");
            cut[k++] = len;
            flag[k] = f;
        }
        memcpy(c->run + len, s, pl);
        len += pl;
    }
    if (len == 0) return 0;
    int nt = tokenize_into(c->tok, c->run, len, false, &c->buf, &c->cap);
    if (nt < 0) return -1;
    /* where each loss change falls in the ids: the prefix must tokenize to
     * the same first ids, else the pieces are tokenized apart */
    int at[65];
    bool ok = true;
    for (size_t j = 0; j < k && ok; j++) {
        int np = tokenize_into(c->tok, c->run, cut[j], false, &c->buf2, &c->cap2);
        if (np < 0) return -1;
        ok = np <= nt && (j == 0 || np >= at[j - 1]) && !memcmp(c->buf2, c->buf, (size_t)np * sizeof *c->buf);
        at[j] = np;
    }
    if (ok) {
        if (b_reserve(b, (size_t)nt)) return octo_fail("dataset: out of memory");
        size_t seg = 0;
        for (int i = 0; i < nt; i++) {
            while (seg < k && i >= at[seg]) seg++;
            b_push(b, c->buf[i], flag[seg]);
        }
        return 0;
    }
    size_t from = 0;
    for (size_t j = 0; j <= k; j++) {
        size_t to = j < k ? cut[j] : len;
        int np = tokenize_into(c->tok, c->run + from, to - from, false, &c->buf2, &c->cap2);
        if (np < 0) return -1;
        for (int i = 0; i < np; i++)
            if (b_push(b, c->buf2[i], flag[j])) return octo_fail("dataset: out of memory");
        from = to;
    }
    return 0;
}

/* Append the ids of one rendered conversation to the builder. */
static int tokenize_chat(chat_tok *c, const octo_chat_rendered *r, builder *b) {
    if (octo_tokenizer_add_bos(c->tok) && octo_tokenizer_bos(c->tok) >= 0 &&
        b_push(b, octo_tokenizer_bos(c->tok), 0))
        return octo_fail("dataset: out of memory");
    bool strip = false;
    for (int p = 0; p < r->n_parts;) {
        const octo_chat_part *pt = &r->parts[p];
        if (pt->special) {
            const special_info *si = special_of(c, r->text + pt->off, pt->len);
            if (!si) return -1;
            if (b_push(b, si->id, pt->loss)) return octo_fail("dataset: out of memory");
            strip = si->rstrip;
            p++;
            continue;
        }
        int q = p;
        while (q < r->n_parts && !r->parts[q].special) q++;
        if (tokenize_run(c, r, p, q, strip, b)) return -1;
        strip = false;
        p = q;
    }
    return 0;
}

/* One JSONL line -> messages (pointing into the cJSON tree). Returns the
 * count, or -1 with *why set. */
static int parse_line(const cJSON *root, octo_chat_msg *msgs, int max, const char **why, char *whybuf, size_t wcap) {
    if (!cJSON_IsObject(root)) {
        *why = "expected a JSON object";
        return -1;
    }
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(root, "messages");
    if (m) {
        if (!cJSON_IsArray(m)) {
            *why = "\"messages\": expected an array";
            return -1;
        }
        int n = 0;
        const cJSON *it;
        cJSON_ArrayForEach(it, m) {
            const cJSON *role = cJSON_GetObjectItemCaseSensitive(it, "role");
            const cJSON *content = cJSON_GetObjectItemCaseSensitive(it, "content");
            if (!cJSON_IsObject(it) || !cJSON_IsString(role) || !cJSON_IsString(content)) {
                snprintf(whybuf, wcap, "messages[%d]: expected {\"role\": string, \"content\": string}", n);
                *why = whybuf;
                return -1;
            }
            const char *rs = role->valuestring;
            if (strcmp(rs, "system") && strcmp(rs, "user") && strcmp(rs, "assistant")) {
                snprintf(whybuf, wcap, "messages[%d]: role \"%.40s\", expected system, user or assistant", n, rs);
                *why = whybuf;
                return -1;
            }
            if (n == max) {
                snprintf(whybuf, wcap, "more than %d messages", max);
                *why = whybuf;
                return -1;
            }
            msgs[n++] = (octo_chat_msg){rs, content->valuestring};
        }
        return n;
    }
    const cJSON *pr = cJSON_GetObjectItemCaseSensitive(root, "prompt");
    const cJSON *co = cJSON_GetObjectItemCaseSensitive(root, "completion");
    if (!pr && !co) {
        *why = "expected \"messages\", or \"prompt\" and \"completion\"";
        return -1;
    }
    if (!cJSON_IsString(pr) || !cJSON_IsString(co)) {
        *why = "\"prompt\" and \"completion\": expected two strings";
        return -1;
    }
    msgs[0] = (octo_chat_msg){"user", pr->valuestring};
    msgs[1] = (octo_chat_msg){"assistant", co->valuestring};
    return 2;
}

#define MAX_MSGS 4096

octo_dataset *octo_dataset_load_chat(const char *path, const octo_dataset_opts *o) {
    builder b;
    octo_dataset *d = d_new(o, &b);
    if (!d) return NULL;
    chat_tok c = {.tok = o->tok};
    c.tmpl = o->chat_template ? octo_chat_template_resolve(o->chat_template) : octo_chat_template_of(o->tok);
    octo_chat_msg *msgs = malloc(MAX_MSGS * sizeof *msgs);
    FILE *f = path ? fopen(path, "rb") : NULL;
    char *line = NULL;
    size_t line_cap = 0;
    long lineno = 0;
    bool failed = true;
    d->chat_template = c.tmpl;
    if (!c.tmpl) goto done;
    if (!msgs) {
        octo_fail("dataset: out of memory");
        goto done;
    }
    if (!f) {
        octo_fail("%s: cannot open: %s", path ? path : "(null)", strerror(errno));
        goto done;
    }
    ssize_t got;
    while ((got = getline(&line, &line_cap, f)) >= 0) {
        lineno++;
        size_t len = (size_t)got;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) len--;
        size_t sp = 0;
        if (lineno == 1 && len >= 3 && !memcmp(line, "\xef\xbb\xbf", 3)) /* a UTF-8 byte order mark */
            memmove(line, line + 3, len - 3), len -= 3;
        while (sp < len && c_isspace(line[sp])) sp++;
        if (sp == len) continue; /* blank line */
        const char *why = NULL;
        char whybuf[160];
        cJSON *root = memchr(line, 0, len) ? NULL : cJSON_ParseWithLength(line, len);
        int n = -1;
        if (!root) why = "not valid JSON";
        else n = parse_line(root, msgs, MAX_MSGS, &why, whybuf, sizeof whybuf);
        size_t start = b.n;
        if (n >= 0) {
            bool has_asst = false;
            for (int i = 0; i < n; i++) has_asst |= !strcmp(msgs[i].role, "assistant");
            if (!has_asst) {
                why = "no assistant turn (nothing to learn)";
            } else {
                octo_chat_rendered r;
                if (octo_chat_render(c.tmpl, msgs, n, false, &r)) {
                    snprintf(whybuf, sizeof whybuf, "%s", octo_last_error());
                    why = whybuf;
                } else {
                    int rc = tokenize_chat(&c, &r, &b);
                    octo_chat_rendered_free(&r);
                    if (rc) { /* a vocabulary or memory problem: not the line's fault */
                        cJSON_Delete(root);
                        octo_fail_context("%s:%ld", path, lineno);
                        goto done;
                    }
                    if (b.n - start > (size_t)o->seq_len) {
                        snprintf(whybuf, sizeof whybuf, "%zu tokens, longer than the sequence length %d",
                                 b.n - start, o->seq_len);
                        why = whybuf;
                    }
                }
            }
        }
        cJSON_Delete(root);
        if (why) {
            b.n = start;
            if (!o->skip_bad) {
                octo_fail("%s:%ld: %s", path, lineno, why);
                goto done;
            }
            d->n_skipped++;
            continue;
        }
        if (b_example(&b, start)) {
            octo_fail("%s:%ld: out of memory", path, lineno);
            goto done;
        }
    }
    if (ferror(f)) {
        octo_fail("%s: read error", path);
        goto done;
    }
    if (d->n_ex == 0) {
        octo_fail("%s: no usable examples (%d lines skipped)", path, d->n_skipped);
        goto done;
    }
    failed = false;
done:
    if (f) fclose(f);
    free(line);
    free(msgs);
    free(c.buf);
    free(c.buf2);
    free(c.run);
    if (failed || !b_finish(&b)) {
        if (!failed) octo_fail("dataset: out of memory");
        b_free(&b);
        return NULL;
    }
    return d;
}

/* ---- plain text ---- */

/* Windows of seq_len ids overlapping by one, so every id but a file's first
 * is predicted exactly once; loss everywhere but the window's first id
 * (nothing before it to predict from). */
typedef struct {
    builder *b;
    int T;
    size_t start; /* of the open window in the arena */
} windower;

static int w_push(windower *w, int32_t id) {
    builder *b = w->b;
    if (b_push(b, id, b->n > w->start ? 1 : 0)) return -1;
    if (b->n - w->start == (size_t)w->T) {
        if (b_example(b, w->start)) return -1;
        w->start = b->n;
        if (b_push(b, id, 0)) return -1; /* the overlap */
    }
    return 0;
}

/* Close a file: a last window of 2+ ids is kept. */
static int w_close(windower *w) {
    builder *b = w->b;
    if (b->n - w->start >= 2) {
        if (b_example(b, w->start)) return -1;
    } else {
        b->n = w->start;
    }
    w->start = b->n;
    return 0;
}

/* Where to cut a buffer so both sides pre-tokenize as the whole would:
 * after a newline followed by a non-blank byte, else (a very long line)
 * before a space that starts a word of ASCII letters after a non-blank
 * byte; every pre-tokenizer splits at both. 0 if there is no such place. */
static size_t safe_cut(const char *s, size_t n) {
    for (size_t i = n - 1; i > 0; i--)
        if (s[i - 1] == '\n' && !c_isspace(s[i])) return i;
    for (size_t i = n - 2; i > 0 && n >= 3; i--) {
        char c = (char)(s[i + 1] | 0x20);
        if (s[i] == ' ' && !c_isspace(s[i - 1]) && c >= 'a' && c <= 'z') return i;
    }
    return 0;
}

static int load_text_file(const char *path, const octo_dataset_opts *o, windower *w) {
    FILE *f = fopen(path, "rb");
    if (!f) return octo_fail("%s: cannot open: %s", path, strerror(errno));
    size_t cap = TEXT_CHUNK, have = 0;
    char *buf = malloc(cap);
    int32_t *ids = NULL;
    int ids_cap = 0, rc = -1;
    const octo_tokenizer *t = o->tok;
    if (!buf) {
        octo_fail("%s: out of memory", path);
        goto done;
    }
    if (octo_tokenizer_add_bos(t) && octo_tokenizer_bos(t) >= 0 && w_push(w, octo_tokenizer_bos(t))) goto oom;
    for (;;) {
        if (have == cap) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) goto oom;
            buf = nb;
            cap *= 2;
        }
        size_t got = fread(buf + have, 1, cap - have, f);
        have += got;
        bool eof = got == 0;
        if (eof && ferror(f)) {
            octo_fail("%s: read error", path);
            goto done;
        }
        size_t cut = eof ? have : safe_cut(buf, have);
        if (cut == 0 && have < cap && !eof) continue;
        if (cut == 0) cut = have;
        if (cut > 0) {
            int n = tokenize_into(t, buf, cut, false, &ids, &ids_cap);
            if (n < 0) {
                octo_fail_context("%s", path);
                goto done;
            }
            for (int i = 0; i < n; i++)
                if (w_push(w, ids[i])) goto oom;
        }
        memmove(buf, buf + cut, have - cut);
        have -= cut;
        if (eof) break;
    }
    if (octo_tokenizer_eos(t) >= 0 && w_push(w, octo_tokenizer_eos(t))) goto oom;
    if (w_close(w)) goto oom;
    rc = 0;
    goto done;
oom:
    octo_fail("%s: out of memory", path);
done:
    free(buf);
    free(ids);
    fclose(f);
    return rc;
}

octo_dataset *octo_dataset_load_text(const char *const *paths, int n_paths, const octo_dataset_opts *o) {
    builder b;
    octo_dataset *d = d_new(o, &b);
    if (!d) return NULL;
    windower w = {&b, o->seq_len, 0};
    for (int i = 0; i < n_paths; i++)
        if (!paths || !paths[i] || load_text_file(paths[i], o, &w)) {
            if (!paths || !paths[i]) octo_fail("dataset: no path");
            b_free(&b);
            return NULL;
        }
    if (d->n_ex == 0) {
        octo_fail("dataset: the text files hold fewer than 2 tokens");
        b_free(&b);
        return NULL;
    }
    if (!b_finish(&b)) {
        octo_fail("dataset: out of memory");
        b_free(&b);
        return NULL;
    }
    return d;
}

/* ---- batches ---- */

struct octo_batcher {
    const octo_dataset *d;
    int B, T;
    uint64_t seed;
    int32_t *tokens, *targets, *pos, *seg;
    /* packing of the cached epoch: example order by bin, bin starts */
    int epoch; /* -1: none cached */
    int32_t *perm, *bin_of, *order, *bin_start, *tree;
    int n_bins, tree_size;
    int n_batches0;
};

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Uniform in [0, n) without modulo bias (Lemire's method, with rejection). */
static uint32_t rand_below(uint64_t *st, uint32_t n) {
    uint64_t m = (uint64_t)(uint32_t)(splitmix64(st) >> 32) * n;
    uint32_t lo = (uint32_t)m;
    if (lo < n) {
        uint32_t thresh = (uint32_t)(-n) % n;
        while (lo < thresh) {
            m = (uint64_t)(uint32_t)(splitmix64(st) >> 32) * n;
            lo = (uint32_t)m;
        }
    }
    return (uint32_t)(m >> 32);
}

static void shuffle(octo_batcher *bt, int epoch, int attempt) {
    uint64_t st = bt->seed ^ splitmix64(&(uint64_t){(uint64_t)epoch * 0xd1b54a32d192ed03ull + (uint64_t)attempt});
    for (int i = 0; i < bt->d->n_ex; i++) bt->perm[i] = i;
    for (int i = bt->d->n_ex - 1; i > 0; i--) {
        int j = (int)rand_below(&st, (uint32_t)i + 1);
        int32_t t = bt->perm[i];
        bt->perm[i] = bt->perm[j];
        bt->perm[j] = t;
    }
}

/* First fit in perm order: each example goes to the lowest-numbered row
 * with room, found in a max-tree of the rows' free space. */
static void first_fit(octo_batcher *bt) {
    int size = bt->tree_size;
    int32_t *tr = bt->tree;
    for (int i = 0; i < size; i++) tr[size + i] = bt->T;
    for (int i = size - 1; i >= 1; i--) tr[i] = tr[2 * i] > tr[2 * i + 1] ? tr[2 * i] : tr[2 * i + 1];
    bt->n_bins = 0;
    for (int k = 0; k < bt->d->n_ex; k++) {
        int len = bt->d->ex[bt->perm[k]].n, i = 1;
        while (i < size) i = tr[2 * i] >= len ? 2 * i : 2 * i + 1;
        int bin = i - size;
        bt->bin_of[k] = bin;
        if (bin + 1 > bt->n_bins) bt->n_bins = bin + 1;
        for (tr[i] -= len, i /= 2; i >= 1; i /= 2) tr[i] = tr[2 * i] > tr[2 * i + 1] ? tr[2 * i] : tr[2 * i + 1];
    }
}

/* Longest first, ties in shuffled order (a stable counting sort). */
static void longest_first(octo_batcher *bt) {
    int T = bt->T, n = bt->d->n_ex;
    int32_t *cnt = calloc((size_t)T + 2, sizeof *cnt);
    if (!cnt) return; /* then the shuffled order stays */
    for (int k = 0; k < n; k++) cnt[T - bt->d->ex[bt->perm[k]].n + 1]++;
    for (int l = 0; l <= T; l++) cnt[l + 1] += cnt[l];
    for (int k = 0; k < n; k++) bt->order[cnt[T - bt->d->ex[bt->perm[k]].n]++] = bt->perm[k];
    memcpy(bt->perm, bt->order, (size_t)n * sizeof *bt->perm);
    free(cnt);
}

/* Lay out an epoch: shuffle (Fisher-Yates from seed and epoch alone), pack
 * first-fit, then make the row count give exactly n_batches batches: too
 * many rows, shuffle again (then pack longest first); too few, move single
 * examples out of shared rows into rows of their own. */
static int pack_epoch(octo_batcher *bt, int epoch) {
    if (bt->epoch == epoch) return 0;
    int B = bt->B, n = bt->d->n_ex;
    int64_t max_bins = (int64_t)B * bt->n_batches0, min_bins = (int64_t)B * (bt->n_batches0 - 1) + 1;
    for (int attempt = 0;; attempt++) {
        shuffle(bt, epoch, attempt);
        if (attempt == 8) longest_first(bt);
        first_fit(bt);
        if (!bt->n_batches0 || bt->n_bins <= max_bins) break;
        if (attempt == 8) {
            bt->epoch = -1;
            return octo_fail("batcher: epoch %d packs into %d rows, more than the %lld of epoch 0", epoch,
                             bt->n_bins, (long long)max_bins);
        }
    }
    if (bt->n_batches0) {
        /* bins of 2+ examples give up their last one, first bins first */
        memset(bt->bin_start, 0, (size_t)n * sizeof *bt->bin_start);
        for (int k = 0; k < n; k++) bt->bin_start[bt->bin_of[k]]++;
        for (int k = n - 1; k >= 0 && bt->n_bins < min_bins; k--) {
            int b = bt->bin_of[k];
            if (bt->bin_start[b] < 2) continue;
            bt->bin_start[b]--;
            bt->bin_of[k] = bt->n_bins;
            bt->bin_start[bt->n_bins++] = 1;
        }
    }
    /* examples grouped by bin, in the order they arrived */
    memset(bt->bin_start, 0, (size_t)(bt->n_bins + 1) * sizeof *bt->bin_start);
    for (int k = 0; k < n; k++) bt->bin_start[bt->bin_of[k] + 1]++;
    for (int b = 0; b < bt->n_bins; b++) bt->bin_start[b + 1] += bt->bin_start[b];
    int32_t *fill = bt->tree; /* the tree is done with: reuse it as cursors */
    memcpy(fill, bt->bin_start, (size_t)bt->n_bins * sizeof *fill);
    for (int k = 0; k < n; k++) bt->order[fill[bt->bin_of[k]]++] = bt->perm[k];
    bt->epoch = epoch;
    return 0;
}

void octo_batcher_free(octo_batcher *bt) {
    if (!bt) return;
    free(bt->tokens);
    free(bt->targets);
    free(bt->pos);
    free(bt->seg);
    free(bt->perm);
    free(bt->bin_of);
    free(bt->order);
    free(bt->bin_start);
    free(bt->tree);
    free(bt);
}

octo_batcher *octo_batcher_new(const octo_dataset *d, int B, int T, uint64_t seed) {
    if (!d || d->n_ex <= 0 || B < 1 || T < 2 || (int64_t)B * T > (1 << 28)) {
        octo_fail("batcher: expected a dataset with examples, B >= 1, T >= 2 (got B %d, T %d)", B, T);
        return NULL;
    }
    for (int i = 0; i < d->n_ex; i++)
        if (d->ex[i].n > T || d->ex[i].n < 1) {
            octo_fail("batcher: example %d has %d tokens, more than the row length %d", i + 1, d->ex[i].n, T);
            return NULL;
        }
    octo_batcher *bt = calloc(1, sizeof *bt);
    if (!bt) goto oom;
    bt->d = d;
    bt->B = B;
    bt->T = T;
    bt->seed = seed;
    bt->epoch = -1;
    size_t bt_n = (size_t)B * T, n = (size_t)d->n_ex;
    bt->tree_size = 1;
    while (bt->tree_size < d->n_ex) bt->tree_size *= 2;
    bt->tokens = malloc(bt_n * sizeof *bt->tokens);
    bt->targets = malloc(bt_n * sizeof *bt->targets);
    bt->pos = malloc(bt_n * sizeof *bt->pos);
    bt->seg = malloc(bt_n * sizeof *bt->seg);
    bt->perm = malloc(n * sizeof *bt->perm);
    bt->bin_of = malloc(n * sizeof *bt->bin_of);
    bt->order = malloc(n * sizeof *bt->order);
    bt->bin_start = malloc((n + 1) * sizeof *bt->bin_start);
    bt->tree = malloc((size_t)bt->tree_size * 2 * sizeof *bt->tree);
    if (!bt->tokens || !bt->targets || !bt->pos || !bt->seg || !bt->perm || !bt->bin_of || !bt->order ||
        !bt->bin_start || !bt->tree)
        goto oom;
    pack_epoch(bt, 0);
    bt->n_batches0 = (bt->n_bins + B - 1) / B;
    return bt;
oom:
    octo_batcher_free(bt);
    octo_fail("batcher: out of memory");
    return NULL;
}

int octo_batcher_n_batches(const octo_batcher *bt) { return bt ? bt->n_batches0 : 0; }

int octo_batcher_get(octo_batcher *bt, int epoch, int index, octo_batch *b) {
    if (!bt || !b || epoch < 0 || index < 0) return octo_fail("batcher: invalid arguments");
    if (index >= bt->n_batches0) return 1;
    if (pack_epoch(bt, epoch)) return -1;
    const octo_dataset *d = bt->d;
    int T = bt->T;
    b->B = bt->B;
    b->T = T;
    b->tokens = bt->tokens;
    b->targets = bt->targets;
    b->pos = bt->pos;
    b->seg = bt->seg;
    b->n_loss_tokens = 0;
    for (int r = 0; r < bt->B; r++) {
        int bin = index * bt->B + r, p = 0, s = 0;
        int32_t *tok = bt->tokens + (size_t)r * T, *tgt = bt->targets + (size_t)r * T;
        int32_t *pos = bt->pos + (size_t)r * T, *seg = bt->seg + (size_t)r * T;
        if (bin < bt->n_bins)
            for (int k = bt->bin_start[bin]; k < bt->bin_start[bin + 1]; k++, s++) {
                const octo_example *e = &d->ex[bt->order[k]];
                for (int j = 0; j < e->n; j++) {
                    tok[p + j] = e->tokens[j];
                    tgt[p + j] = j + 1 < e->n && e->loss[j + 1] ? e->tokens[j + 1] : -1;
                    pos[p + j] = j;
                    seg[p + j] = s;
                    b->n_loss_tokens += tgt[p + j] >= 0;
                }
                p += e->n;
            }
        for (int j = 0; p + j < T; j++) { /* the rest: one segment of padding */
            tok[p + j] = d->pad;
            tgt[p + j] = -1;
            pos[p + j] = j;
            seg[p + j] = s;
        }
    }
    return 0;
}
