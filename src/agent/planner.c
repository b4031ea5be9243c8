/* planner.c - the planner agent (octo_planner in octo.h): render the
 * request with the chat template, decode within the planner grammar, split
 * the output into steps.
 */
#include "agent/planner.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "agent/constrain.h"
#include "agent/render.h"
#include "base/error.h"
#include "model/model.h"

struct octo_planner {
    octo_model *m;
    octo_ctx *ctx;
    octo_vocab_index *vi;
    octo_constraint *con;
    int32_t split_id, end_id;
    octo_agent_params p;
    octo_agent_stats st;
};

void octo_agent_params_default(octo_agent_params *p) {
    memset(p, 0, sizeof *p);
    octo_sampler_defaults(&p->sampling);
    p->sampling.temperature = 0;
    p->constrain = true;
    p->max_steps = OCTO_MAX_STEPS;
}

int octo_agent_append_piece(const octo_tokenizer *t, int32_t id, char **buf, size_t *len, size_t *cap) {
    char tmp[256];
    int n = octo_token_to_piece(t, id, false, tmp, sizeof tmp);
    if (n <= 0) return 0;
    if (n > (int)sizeof tmp) n = (int)sizeof tmp; /* no token text is this long; keep what fits */
    if (*len + (size_t)n + 1 > *cap) {
        size_t nc = *cap ? *cap * 2 : 256;
        while (nc < *len + (size_t)n + 1) nc *= 2;
        char *b = realloc(*buf, nc);
        if (!b) return octo_fail("out of memory");
        *buf = b;
        *cap = nc;
    }
    memcpy(*buf + *len, tmp, (size_t)n);
    *len += (size_t)n;
    (*buf)[*len] = 0;
    return 0;
}

static char *trimmed(const char *s, size_t n) {
    while (n && isspace((unsigned char)*s)) s++, n--;
    while (n && isspace((unsigned char)s[n - 1])) n--;
    return strndup(s, n);
}

int octo_plan_parse(const octo_tokenizer *t, const int32_t *ids, int n, int32_t split_id, int32_t end_id,
                    int max_steps, char ***steps) {
    char **out = calloc((size_t)max_steps + 1, sizeof *out);
    char *buf = NULL;
    size_t len = 0, cap = 0;
    int k = 0;
    if (!out) return octo_fail("out of memory");
    for (int i = 0; i <= n; i++) {
        bool last = i == n || ids[i] == end_id;
        if (last || ids[i] == split_id) {
            char *s = trimmed(buf ? buf : "", len);
            if (!s || !*s) {
                bool trailing = last && i == n && k > 0; /* unconstrained output that just stopped */
                free(s);
                if (trailing) break;
                octo_strings_free(out, k);
                free(buf);
                return octo_fail("planner output: step %d is empty", k + 1);
            }
            /* A step said again verbatim is a decoding loop (small planners
             * fall into them; no request asks for the same step twice in the
             * same words): it is dropped, and the plan goes on. */
            bool again = false;
            for (int j = 0; j < k && !again; j++) again = !strcasecmp(out[j], s);
            if (again) {
                free(s);
                len = 0;
                if (last) break;
                continue;
            }
            if (k == max_steps) {
                free(s);
                octo_strings_free(out, k);
                free(buf);
                return octo_fail("planner output: more than %d steps", max_steps);
            }
            out[k++] = s;
            len = 0;
            if (last) break;
            continue;
        }
        if (octo_token_type(t, ids[i]) == OCTO_TOKEN_CONTROL) continue;
        if (octo_agent_append_piece(t, ids[i], &buf, &len, &cap)) {
            octo_strings_free(out, k);
            free(buf);
            return -1;
        }
    }
    free(buf);
    *steps = out;
    return k;
}

octo_planner *octo_planner_new(octo_model *m, const octo_agent_params *p) {
    octo_planner *pl = calloc(1, sizeof *pl);
    if (!pl) {
        octo_fail("out of memory");
        return NULL;
    }
    pl->m = m;
    if (p) pl->p = *p;
    else octo_agent_params_default(&pl->p);
    if (pl->p.max_steps <= 0 || pl->p.max_steps > OCTO_MAX_STEPS) pl->p.max_steps = OCTO_MAX_STEPS;
    if (pl->p.max_tokens <= 0) pl->p.max_tokens = 512;
    pl->split_id = octo_token_lookup(m->tok, OCTO_TOK_SPLIT);
    pl->end_id = octo_token_lookup(m->tok, OCTO_TOK_END);
    if (pl->split_id < 0 || pl->end_id < 0 || pl->split_id >= m->hp.n_vocab || pl->end_id >= m->hp.n_vocab) {
        octo_fail("%s: no %s / %s tokens: not a planner model (they are added when a planner is trained on "
                  "`octo data render --planner` data)", m->path ? m->path : "model", OCTO_TOK_SPLIT, OCTO_TOK_END);
        free(pl);
        return NULL;
    }
    octo_ctx_params cp = {.n_ctx = pl->p.n_ctx, .n_threads = pl->p.n_threads};
    if (!(pl->ctx = octo_ctx_new(m, &cp)) || !(pl->vi = octo_vocab_index_new(m->tok)) ||
        !(pl->con = octo_con_planner_new(pl->vi, pl->split_id, pl->end_id, pl->p.max_steps, OCTO_MAX_STEP_BYTES))) {
        octo_planner_free(pl);
        return NULL;
    }
    return pl;
}

void octo_planner_free(octo_planner *pl) {
    if (!pl) return;
    octo_con_free(pl->con);
    octo_vocab_index_free(pl->vi);
    octo_ctx_free(pl->ctx);
    free(pl);
}

octo_ctx *octo_planner_ctx(octo_planner *pl) { return pl->ctx; }
void octo_planner_stats(const octo_planner *pl, octo_agent_stats *s) { *s = pl->st; }

int octo_planner_plan(octo_planner *pl, const char *request, char ***steps) {
    *steps = NULL;
    if (!request || !*request) return octo_fail("plan: the request is empty");
    char *prompt = octo_render_prompt(request);
    if (!prompt) return octo_fail("out of memory");
    int32_t *ids;
    int n;
    octo_con_stats cs;
    int rc = octo_con_generate(pl->ctx, prompt, pl->p.constrain ? pl->con : NULL, pl->end_id, &pl->p.sampling,
                               pl->p.max_tokens, &ids, &n, &cs);
    free(prompt);
    pl->st = (octo_agent_stats){cs.n_prompt, cs.n_generated, cs.prompt_ms, cs.forward_ms, cs.constrain_ms,
                                cs.prompt_ms + cs.forward_ms + cs.constrain_ms};
    if (rc) return octo_fail_context("plan");
    rc = octo_plan_parse(pl->m->tok, ids, n, pl->split_id, pl->end_id, pl->p.max_steps, steps);
    free(ids);
    return rc;
}
