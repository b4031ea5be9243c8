/* generate.c - prompt in, text out: the loop every text-producing command
 * and the agents share.
 *
 * Stop strings are matched on the decoded text, not on tokens, because one
 * string can be split across tokens in many ways; text that could still turn
 * out to be the start of a stop string is held back from the callback until
 * the next token decides it.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/error.h"
#include "model/model.h"
#include "model/sampler.h"

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

void octo_generate_defaults(octo_generate_params *p) {
    memset(p, 0, sizeof *p);
    p->n_predict = 128;
    octo_sampler_defaults(&p->sampling);
    p->parse_special = true;
    p->add_bos = -1;
}


typedef struct {
    char *s;
    size_t n, cap;
} strbuf;

static int sb_append(strbuf *b, const char *p, size_t n) {
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 256;
        while (cap < b->n + n + 1) cap *= 2;
        char *s = realloc(b->s, cap);
        if (!s) return -1;
        b->s = s;
        b->cap = cap;
    }
    memcpy(b->s + b->n, p, n);
    b->n += n;
    b->s[b->n] = 0;
    return 0;
}

/* Position of the first complete stop string in text[from..n), or -1. */
static long find_stop(const char *text, size_t n, size_t from, const char *const *stop, int n_stop) {
    long best = -1;
    for (int k = 0; k < n_stop; k++) {
        size_t sl = strlen(stop[k]);
        if (!sl || sl > n) continue;
        for (size_t i = from; i + sl <= n; i++) {
            if (memcmp(text + i, stop[k], sl) == 0) {
                if (best < 0 || (long)i < best) best = (long)i;
                break;
            }
        }
    }
    return best;
}

/* Length of the longest suffix of text that is a proper prefix of a stop string. */
static size_t held_back(const char *text, size_t n, const char *const *stop, int n_stop) {
    size_t hold = 0;
    for (int k = 0; k < n_stop; k++) {
        size_t sl = strlen(stop[k]);
        for (size_t len = sl > 1 ? sl - 1 : 0; len > hold; len--) {
            if (len <= n && memcmp(text + n - len, stop[k], len) == 0) {
                hold = len;
                break;
            }
        }
    }
    return hold;
}

char *octo_generate(octo_ctx *c, const char *prompt, const octo_generate_params *p, octo_generate_stats *stats) {
    octo_generate_params def;
    if (!p) {
        octo_generate_defaults(&def);
        p = &def;
    }
    octo_model *m = octo_ctx_model(c);
    const octo_tokenizer *tok = m->tok;
    octo_generate_stats st = {0};
    bool add_bos = p->add_bos < 0 ? octo_tokenizer_add_bos(tok) : p->add_bos != 0;
    size_t plen = strlen(prompt);
    int need = octo_tokenize(tok, prompt, plen, add_bos, p->parse_special, NULL, 0);
    if (need < 0) return NULL;
    if (need == 0) {
        octo_fail("generate: the prompt is empty and the model adds no BOS token");
        return NULL;
    }
    int n_ctx = octo_ctx_n_ctx(c);
    if (need >= n_ctx) {
        octo_fail("generate: the prompt has %d tokens, the context only %d", need, n_ctx);
        return NULL;
    }
    int32_t *toks = malloc((size_t)need * sizeof(int32_t));
    octo_sampler *smp = octo_sampler_new(&p->sampling, m->hp.n_vocab);
    if (!toks || !smp) {
        free(toks);
        octo_sampler_free(smp);
        octo_fail("generate: out of memory");
        return NULL;
    }
    octo_tokenize(tok, prompt, plen, add_bos, p->parse_special, toks, need);
    for (int i = 0; i < need; i++) octo_sampler_accept(smp, toks[i]);
    octo_ctx_truncate(c, 0);
    double t0 = now_ms();
    int rc = octo_ctx_decode(c, toks, need, false);
    free(toks);
    st.n_prompt = need;
    st.prompt_ms = now_ms() - t0;
    strbuf out = {0};
    sb_append(&out, "", 0);
    size_t emitted = 0;
    double t1 = now_ms();
    size_t max_stop = 0;
    for (int k = 0; k < p->n_stop; k++)
        if (strlen(p->stop[k]) > max_stop) max_stop = strlen(p->stop[k]);
    while (rc == 0) {
        if (p->n_predict > 0 && st.n_generated >= p->n_predict) {
            st.stopped_by = 0;
            break;
        }
        if (octo_ctx_n_past(c) >= n_ctx) {
            st.stopped_by = 4;
            break;
        }
        int32_t next = octo_sampler_sample(smp, octo_ctx_logits(c, -1));
        octo_sampler_accept(smp, next);
        if (octo_tokenizer_is_eog(tok, next)) {
            st.stopped_by = 1;
            break;
        }
        st.n_generated++;
        char piece[256];
        int pl = octo_token_to_piece(tok, next, false, piece, sizeof piece);
        if (pl > (int)sizeof piece) {
            char *big = malloc((size_t)pl);
            octo_token_to_piece(tok, next, false, big, pl);
            sb_append(&out, big, (size_t)pl);
            free(big);
        } else if (pl > 0) {
            sb_append(&out, piece, (size_t)pl);
        }
        size_t from = out.n > (size_t)pl + max_stop ? out.n - (size_t)pl - max_stop : 0;
        long at = find_stop(out.s, out.n, from, p->stop, p->n_stop);
        if (at >= 0) {
            out.n = (size_t)at;
            out.s[out.n] = 0;
            st.stopped_by = 2;
            break;
        }
        size_t ready = out.n - held_back(out.s, out.n, p->stop, p->n_stop);
        if (p->on_text && ready > emitted) {
            if (!p->on_text(p->user, out.s + emitted, ready - emitted)) {
                emitted = ready;
                st.stopped_by = 3;
                break;
            }
            emitted = ready;
        }
        rc = octo_ctx_decode(c, &next, 1, false);
    }
    if (p->on_text && out.n > emitted && st.stopped_by != 3) p->on_text(p->user, out.s + emitted, out.n - emitted);
    st.generate_ms = now_ms() - t1;
    octo_sampler_free(smp);
    if (stats) *stats = st;
    if (rc != 0) {
        free(out.s);
        return NULL;
    }
    return out.s;
}
