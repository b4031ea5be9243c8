/* constrain.c - the token-level side of constrained decoding: token texts
 * per model, the action and planner grammars over tokens, picking, and the
 * generation loop (see constrain.h).
 */
#include "agent/constrain.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/error.h"
#include "model/model.h"

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* ---- token texts ---- */

octo_vocab_index *octo_vocab_index_new(const octo_tokenizer *t) {
    int32_t n = octo_tokenizer_n_vocab(t);
    octo_vocab_index *vi = calloc(1, sizeof *vi);
    size_t cap = (size_t)n * 8 + 64, used = 0;
    if (vi) {
        vi->n_vocab = n;
        vi->off = malloc(((size_t)n + 1) * sizeof *vi->off);
        vi->usable = calloc((size_t)n + 1, 1);
        vi->bytes = malloc(cap);
    }
    if (!vi || !vi->off || !vi->usable || !vi->bytes) goto oom;
    for (int32_t i = 0; i < n; i++) {
        vi->off[i] = (uint32_t)used;
        int ty = octo_token_type(t, i);
        /* Control, unknown, unused and user-defined tokens (chat markers,
         * functional tokens) are never text; byte tokens are. */
        if (ty != OCTO_TOKEN_NORMAL && ty != OCTO_TOKEN_BYTE) continue;
        char buf[256];
        int len = octo_token_to_piece(t, i, false, buf, sizeof buf);
        if (len <= 0 || len > (int)sizeof buf) continue;
        if (used + (size_t)len > cap) {
            cap *= 2;
            char *nb = realloc(vi->bytes, cap);
            if (!nb) goto oom;
            vi->bytes = nb;
        }
        memcpy(vi->bytes + used, buf, (size_t)len);
        used += (size_t)len;
        vi->usable[i] = memchr(buf, 0, (size_t)len) == NULL;
    }
    vi->off[n] = (uint32_t)used;
    return vi;
oom:
    octo_vocab_index_free(vi);
    octo_fail("constrained decoding: out of memory for the token texts");
    return NULL;
}

void octo_vocab_index_free(octo_vocab_index *vi) {
    if (!vi) return;
    free(vi->off);
    free(vi->bytes);
    free(vi->usable);
    free(vi);
}

/* ---- grammars ---- */

typedef enum { CON_ACTION, CON_PLANNER } con_kind;

struct octo_constraint {
    con_kind kind;
    const octo_vocab_index *vi;
    int32_t end_id;
    bool done;
    bool closing; /* the token budget is nearly spent: finish by the shortest way */
    int reserve;  /* tokens left at which closing starts */
    /* action */
    int n_fn;
    int32_t *fn_ids;
    jf_schema **schemas;
    int fn; /* chosen function, -1 before the functional token */
    jf_state js;
    /* planner */
    int32_t split_id;
    int max_steps, max_step_bytes;
    int step, step_bytes, nonspace, utf8;
};

octo_constraint *octo_con_action_new(const octo_vocab_index *vi, const octo_funcset *fs, const int32_t *fn_ids,
                                     int32_t end_id, int max_string) {
    octo_constraint *c = calloc(1, sizeof *c);
    if (!c) goto oom;
    c->kind = CON_ACTION;
    c->reserve = 64;
    c->vi = vi;
    c->end_id = end_id;
    c->n_fn = fs->n;
    c->fn_ids = malloc((size_t)(fs->n + 1) * sizeof *c->fn_ids);
    c->schemas = calloc((size_t)fs->n + 1, sizeof *c->schemas);
    if (!c->fn_ids || !c->schemas) goto oom;
    for (int i = 0; i < fs->n; i++) {
        c->fn_ids[i] = fn_ids[i];
        char why[512];
        c->schemas[i] = jf_compile(fs->fns[i].parameters, max_string, why, sizeof why);
        if (!c->schemas[i]) {
            octo_fail("function %s: %s", fs->fns[i].name, why);
            octo_con_free(c);
            return NULL;
        }
    }
    octo_con_reset(c);
    return c;
oom:
    octo_con_free(c);
    octo_fail("constrained decoding: out of memory");
    return NULL;
}

octo_constraint *octo_con_planner_new(const octo_vocab_index *vi, int32_t split_id, int32_t end_id, int max_steps,
                                      int max_step_bytes) {
    octo_constraint *c = calloc(1, sizeof *c);
    if (!c) {
        octo_fail("constrained decoding: out of memory");
        return NULL;
    }
    c->kind = CON_PLANNER;
    c->reserve = 8;
    c->vi = vi;
    c->split_id = split_id;
    c->end_id = end_id;
    c->max_steps = max_steps > 0 ? max_steps : 5;
    c->max_step_bytes = max_step_bytes > 0 ? max_step_bytes : 256;
    octo_con_reset(c);
    return c;
}

void octo_con_free(octo_constraint *c) {
    if (!c) return;
    if (c->schemas)
        for (int i = 0; i < c->n_fn; i++) jf_free(c->schemas[i]);
    free(c->schemas);
    free(c->fn_ids);
    free(c);
}

void octo_con_reset(octo_constraint *c) {
    c->done = false;
    c->closing = false;
    c->fn = -1;
    c->step = c->step_bytes = c->nonspace = c->utf8 = 0;
}

bool octo_con_done(const octo_constraint *c) { return c->done; }

void octo_con_set_budget(octo_constraint *c, int tokens_left) {
    c->closing = tokens_left <= c->reserve;
    c->js.closing = c->closing;
}
int octo_con_function(const octo_constraint *c) { return c->fn; }

/* Planner step text: printable, valid UTF-8, at most 2 leading spaces (so a
 * model that only emits spaces is pushed to write something), bounded. */
static bool plan_text_ok(const octo_constraint *c, const unsigned char *s, int n, int *bytes, int *nonspace,
                         int *utf8) {
    int b = *bytes, ns = *nonspace, u = *utf8;
    if (b + n > c->max_step_bytes) return false;
    for (int i = 0; i < n; i++) {
        unsigned char x = s[i];
        if (u) {
            if (x < 0x80 || x > 0xBF) return false;
            u--;
        } else if (x < 0x20 || x == 0x7F) {
            return false;
        } else if (x >= 0x80) {
            if (x >= 0xC2 && x <= 0xDF) u = 1;
            else if (x >= 0xE0 && x <= 0xEF) u = 2;
            else if (x >= 0xF0 && x <= 0xF4) u = 3;
            else return false;
            if (b + i + 1 + u > c->max_step_bytes) return false; /* the character must fit whole */
        }
        if (x != ' ') ns++;
        else if (!ns && b + i >= 2) return false;
    }
    *bytes = b + n;
    *nonspace = ns;
    *utf8 = u;
    return true;
}

static bool tok_text(const octo_vocab_index *vi, int32_t t, const unsigned char **s, int *n) {
    if (t < 0 || t >= vi->n_vocab || !vi->usable[t]) return false;
    *s = (const unsigned char *)vi->bytes + vi->off[t];
    *n = (int)(vi->off[t + 1] - vi->off[t]);
    return true;
}

/* The check and the step in one: with apply false nothing changes. */
static bool con_step(octo_constraint *c, int32_t t, bool apply) {
    if (c->done) return false;
    const unsigned char *s;
    int n;
    if (c->kind == CON_ACTION) {
        if (c->fn < 0) {
            for (int i = 0; i < c->n_fn; i++)
                if (c->fn_ids[i] == t) {
                    if (apply) {
                        c->fn = i;
                        jf_start(&c->js, c->schemas[i]);
                        c->js.closing = c->closing;
                    }
                    return true;
                }
            return false;
        }
        if (t == c->end_id) {
            if (!jf_done(&c->js)) return false;
            if (apply) c->done = true;
            return true;
        }
        if (!tok_text(c->vi, t, &s, &n)) return false;
        if (apply) return jf_feed(&c->js, (const char *)s, (size_t)n) == 0;
        jf_state tmp = c->js;
        return jf_feed(&tmp, (const char *)s, (size_t)n) == 0;
    }
    bool step_ok = c->nonspace > 0 && c->utf8 == 0;
    if (t == c->end_id || t == c->split_id) {
        if (!step_ok) return false;
        if (t == c->split_id && (c->step + 1 >= c->max_steps || c->closing)) return false;
        if (apply) {
            if (t == c->end_id) c->done = true;
            c->step++;
            c->step_bytes = c->nonspace = 0;
        }
        return true;
    }
    if (!tok_text(c->vi, t, &s, &n)) return false;
    int b = c->step_bytes, ns = c->nonspace, u = c->utf8;
    if (c->closing && step_ok) return false; /* only <nexa_end> now */
    if (!plan_text_ok(c, s, n, &b, &ns, &u)) return false;
    if (c->closing && !(ns > 0 && u == 0)) return false; /* text only if it makes the step closable */
    if (apply) {
        c->step_bytes = b;
        c->nonspace = ns;
        c->utf8 = u;
    }
    return true;
}

bool octo_con_allows(const octo_constraint *c, int32_t tok) { return con_step((octo_constraint *)c, tok, false); }

int octo_con_accept(octo_constraint *c, int32_t tok) {
    if (!con_step(c, tok, true)) return octo_fail("constrained decoding: token %d is not allowed here", (int)tok);
    return 0;
}

/* Which first bytes a text token may start with in the current state: a
 * necessary condition checked in O(1) per token, so a state that allows few
 * bytes (a key's next letter, a closing quote) does not cost a full grammar
 * check for each of the vocabulary's tokens. */
static void first_bytes(const octo_constraint *c, uint8_t ok[256]) {
    ok[0] = 0;
    for (int b = 1; b < 256; b++) {
        unsigned char x = (unsigned char)b;
        if (c->kind == CON_ACTION) {
            jf_state tmp = c->js;
            ok[b] = jf_step(&tmp, x) == 0;
        } else {
            int by = c->step_bytes, ns = c->nonspace, u = c->utf8;
            ok[b] = plan_text_ok(c, &x, 1, &by, &ns, &u);
        }
    }
}

static inline bool text_candidate(const octo_constraint *c, const uint8_t ok1[256], int32_t t) {
    return c->vi->usable[t] && ok1[(unsigned char)c->vi->bytes[c->vi->off[t]]];
}

int32_t octo_con_pick_greedy(const octo_constraint *c, const float *logits) {
    int32_t best = -1;
    float bv = -INFINITY;
    /* Before the functional token only the set's tokens can come. */
    if (c->kind == CON_ACTION && c->fn < 0) {
        for (int i = 0; i < c->n_fn; i++)
            if (best < 0 || logits[c->fn_ids[i]] > bv) best = c->fn_ids[i], bv = logits[best];
    } else if (c->kind == CON_ACTION && jf_done(&c->js)) {
        best = c->end_id;
    } else {
        uint8_t ok1[256];
        first_bytes(c, ok1);
        int32_t n = c->vi->n_vocab;
        for (int32_t t = 0; t < n; t++) {
            float v = logits[t];
            if ((v > bv || best < 0) && text_candidate(c, ok1, t) && octo_con_allows(c, t)) best = t, bv = v;
        }
        int32_t sp[2] = {c->end_id, c->kind == CON_PLANNER ? c->split_id : -1};
        for (int k = 0; k < 2; k++)
            if (sp[k] >= 0 && (best < 0 || logits[sp[k]] > bv) && octo_con_allows(c, sp[k])) best = sp[k], bv = logits[best];
    }
    if (best < 0) octo_fail("constrained decoding: no token of the vocabulary continues the output");
    return best;
}

int32_t octo_con_pick_sample(const octo_constraint *c, const float *logits, float *scratch, octo_sampler *s) {
    int32_t n = c->vi->n_vocab, n_ok = 0;
    uint8_t ok1[256];
    bool before_fn = c->kind == CON_ACTION && c->fn < 0;
    if (!before_fn) first_bytes(c, ok1);
    for (int32_t t = 0; t < n; t++) {
        bool ok;
        if (before_fn) {
            ok = false;
            for (int i = 0; i < c->n_fn && !ok; i++) ok = c->fn_ids[i] == t;
        } else if (t == c->end_id || (c->kind == CON_PLANNER && t == c->split_id)) {
            ok = octo_con_allows(c, t);
        } else {
            ok = text_candidate(c, ok1, t) && octo_con_allows(c, t);
        }
        scratch[t] = ok ? logits[t] : -INFINITY;
        n_ok += ok;
    }
    if (!n_ok) {
        octo_fail("constrained decoding: no token of the vocabulary continues the output");
        return -1;
    }
    int32_t t = octo_sampler_sample(s, scratch);
    /* A sampler step that ignores -inf (none should) must not break the grammar. */
    return octo_con_allows(c, t) ? t : octo_con_pick_greedy(c, logits);
}

/* ---- generation ---- */

int octo_con_generate(octo_ctx *ctx, const char *prompt, octo_constraint *con, int32_t stop_id,
                      const octo_sampler_params *sp, int max_tokens, int32_t **ids, int *n_ids,
                      octo_con_stats *stats) {
    octo_con_stats st = {0};
    *ids = NULL;
    *n_ids = 0;
    octo_model *m = octo_ctx_model(ctx);
    const octo_tokenizer *tok = m->tok;
    int n_vocab = m->hp.n_vocab;
    if (con && con->vi->n_vocab > n_vocab)
        return octo_fail("the tokenizer has %d tokens but the model only %d output rows", (int)con->vi->n_vocab,
                         n_vocab);
    size_t plen = strlen(prompt);
    bool bos = octo_tokenizer_add_bos(tok);
    int need = octo_tokenize(tok, prompt, plen, bos, true, NULL, 0);
    if (need <= 0) return need < 0 ? -1 : octo_fail("the prompt is empty");
    int n_ctx = octo_ctx_n_ctx(ctx);
    if (need >= n_ctx) return octo_fail("the prompt has %d tokens, the context only %d", need, n_ctx);
    int32_t *ptoks = malloc((size_t)need * sizeof *ptoks);
    int32_t *out = malloc(((size_t)max_tokens + 1) * sizeof *out);
    float *scratch = sp->temperature > 0 ? malloc((size_t)n_vocab * sizeof *scratch) : NULL;
    octo_sampler *smp = octo_sampler_new(sp, n_vocab);
    if (!ptoks || !out || !smp || (sp->temperature > 0 && !scratch)) {
        free(ptoks);
        free(out);
        free(scratch);
        octo_sampler_free(smp);
        return octo_fail("generate: out of memory");
    }
    octo_tokenize(tok, prompt, plen, bos, true, ptoks, need);
    for (int i = 0; i < need; i++) octo_sampler_accept(smp, ptoks[i]);
    if (con) octo_con_reset(con);
    int32_t eot = octo_token_lookup(tok, "<|end|>");
    octo_ctx_truncate(ctx, 0);
    double t0 = now_ms();
    int rc = octo_ctx_decode(ctx, ptoks, need, false);
    free(ptoks);
    st.n_prompt = need;
    st.prompt_ms = now_ms() - t0;
    int n = 0;
    while (rc == 0 && n < max_tokens && octo_ctx_n_past(ctx) < n_ctx) {
        const float *logits = octo_ctx_logits(ctx, -1);
        double t1 = now_ms();
        if (con) {
            int left = max_tokens - n, room = n_ctx - octo_ctx_n_past(ctx);
            octo_con_set_budget(con, left < room ? left : room);
        }
        int32_t next;
        if (con) {
            next = sp->temperature > 0 ? octo_con_pick_sample(con, logits, scratch, smp)
                                       : octo_con_pick_greedy(con, logits);
            if (next < 0 || octo_con_accept(con, next)) {
                rc = -1;
                break;
            }
        } else {
            next = octo_sampler_sample(smp, logits);
            /* free decoding ends at the end token, or at the end of the
             * turn (not part of the output) */
            if (next != stop_id && (octo_tokenizer_is_eog(tok, next) || next == eot)) break;
        }
        st.constrain_ms += now_ms() - t1;
        octo_sampler_accept(smp, next);
        out[n++] = next;
        if (con ? octo_con_done(con) : next == stop_id) break;
        double t2 = now_ms();
        rc = octo_ctx_decode(ctx, &next, 1, false);
        st.forward_ms += now_ms() - t2;
    }
    st.n_generated = n;
    free(scratch);
    octo_sampler_free(smp);
    if (stats) *stats = st;
    if (rc) {
        free(out);
        return -1;
    }
    if (con && !octo_con_done(con)) {
        free(out);
        return octo_fail("constrained output incomplete after %d tokens (raise the token limit or the context size)", n);
    }
    *ids = out;
    *n_ids = n;
    return 0;
}
