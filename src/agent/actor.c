/* actor.c - the action agent (octo_actor in octo.h): render the step and
 * the observation, decode one functional token and the arguments within
 * the function's schema, parse and validate the call.
 */
#include "agent/actor.h"

#include <stdlib.h>
#include <string.h>

#include "agent/constrain.h"
#include "agent/planner.h"
#include "agent/render.h"
#include "base/error.h"
#include "model/model.h"

struct octo_actor {
    octo_model *m;
    const octo_funcset *fs;
    octo_ctx *ctx;
    octo_vocab_index *vi;
    octo_constraint *con;
    int32_t *fn_ids;
    int32_t end_id;
    octo_agent_params p;
    octo_agent_stats st;
    char *last_prompt;
};

octo_actor *octo_actor_new(octo_model *m, const octo_funcset *fs, const octo_agent_params *p) {
    if (!fs || fs->n <= 0) {
        octo_fail("actor: the function set is empty");
        return NULL;
    }
    octo_actor *a = calloc(1, sizeof *a);
    if (!a || !(a->fn_ids = malloc((size_t)fs->n * sizeof *a->fn_ids))) {
        free(a);
        octo_fail("out of memory");
        return NULL;
    }
    a->m = m;
    a->fs = fs;
    if (p) a->p = *p;
    else octo_agent_params_default(&a->p);
    if (a->p.max_tokens <= 0) a->p.max_tokens = 1024;
    if (a->p.max_string <= 0) a->p.max_string = OCTO_MAX_STRING_ARG;
    const char *path = m->path ? m->path : "model";
    a->end_id = octo_token_lookup(m->tok, OCTO_TOK_END);
    if (a->end_id < 0 || a->end_id >= m->hp.n_vocab) {
        octo_fail("%s: no %s token: not an action model (its tokens are added when it is trained on "
                  "`octo data render --action` data)", path, OCTO_TOK_END);
        goto fail;
    }
    for (int i = 0; i < fs->n; i++) {
        char *t = octo_fn_token(fs->fns[i].name);
        a->fn_ids[i] = t ? octo_token_lookup(m->tok, t) : -1;
        if (a->fn_ids[i] < 0 || a->fn_ids[i] >= m->hp.n_vocab) {
            octo_fail("%s: no functional token %s for function %s of set %s: the action model was not trained "
                      "on this function set", path, t ? t : "?", fs->fns[i].name, fs->name ? fs->name : "?");
            free(t);
            goto fail;
        }
        free(t);
    }
    octo_ctx_params cp = {.n_ctx = a->p.n_ctx, .n_threads = a->p.n_threads};
    if (!(a->ctx = octo_ctx_new(m, &cp)) || !(a->vi = octo_vocab_index_new(m->tok)) ||
        !(a->con = octo_con_action_new(a->vi, fs, a->fn_ids, a->end_id, a->p.max_string)))
        goto fail;
    return a;
fail:
    octo_actor_free(a);
    return NULL;
}

void octo_actor_free(octo_actor *a) {
    if (!a) return;
    octo_con_free(a->con);
    octo_vocab_index_free(a->vi);
    octo_ctx_free(a->ctx);
    free(a->fn_ids);
    free(a->last_prompt);
    free(a);
}

octo_ctx *octo_actor_ctx(octo_actor *a) { return a->ctx; }
const octo_funcset *octo_actor_funcset(const octo_actor *a) { return a->fs; }
const char *octo_actor_last_prompt(const octo_actor *a) { return a->last_prompt; }
void octo_actor_stats(const octo_actor *a, octo_agent_stats *s) { *s = a->st; }

void octo_agent_call_free(octo_agent_call *c) {
    if (!c) return;
    free(c->function);
    free(c->arguments);
    c->function = c->arguments = NULL;
}

int octo_act_parse(const octo_tokenizer *t, const octo_funcset *fs, const int32_t *fn_ids, int32_t end_id,
                   const int32_t *ids, int n, octo_agent_call *call) {
    memset(call, 0, sizeof *call);
    int k = -1;
    for (int i = 0; n > 0 && i < fs->n; i++)
        if (fn_ids[i] == ids[0]) k = i;
    if (k < 0) {
        char *text = octo_detokenize(t, ids, n < 32 ? n : 32, true);
        octo_fail("the step maps to no function (the output starts with \"%.80s\", not a functional token)",
                  text ? text : "");
        free(text);
        return -1;
    }
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (int i = 1; i < n && ids[i] != end_id; i++)
        if (octo_agent_append_piece(t, ids[i], &buf, &len, &cap)) {
            free(buf);
            return -1;
        }
    const octo_function *f = &fs->fns[k];
    /* buf holds no NUL (no token text with one is ever emitted), so the
     * whole text must be one JSON value */
    cJSON *args = buf ? cJSON_ParseWithOpts(buf, NULL, true) : NULL;
    if (!args) {
        octo_fail("%s: the arguments are not JSON: \"%.120s\"", f->name, buf ? buf : "");
        free(buf);
        return -1;
    }
    free(buf);
    char why[256];
    cJSON *canon = NULL;
    if (octo_args_validate(f, args, why, sizeof why) ||
        !(canon = octo_args_canonical(f->parameters, args, why, sizeof why))) {
        cJSON_Delete(args);
        return octo_fail("%s: %s", f->name, why);
    }
    cJSON_Delete(args);
    call->function = strdup(f->name);
    call->arguments = cJSON_PrintUnformatted(canon);
    cJSON_Delete(canon);
    if (!call->function || !call->arguments) {
        octo_agent_call_free(call);
        return octo_fail("out of memory");
    }
    return 0;
}

int octo_actor_act(octo_actor *a, const char *step, const char *observation, octo_agent_call *call) {
    memset(call, 0, sizeof *call);
    if (!step || !*step) return octo_fail("act: the step is empty");
    char *user = octo_render_action_user(step, observation);
    char *prompt = user ? octo_render_prompt(user) : NULL;
    free(user);
    if (!prompt) return octo_fail("out of memory");
    int32_t *ids;
    int n;
    octo_con_stats cs;
    int rc = octo_con_generate(a->ctx, prompt, a->p.constrain ? a->con : NULL, a->end_id, &a->p.sampling,
                               a->p.max_tokens, &ids, &n, &cs);
    free(a->last_prompt);
    a->last_prompt = prompt;
    a->st = (octo_agent_stats){cs.n_prompt, cs.n_generated, cs.prompt_ms, cs.forward_ms, cs.constrain_ms,
                               cs.prompt_ms + cs.forward_ms + cs.constrain_ms};
    if (rc) return octo_fail_context("act");
    rc = octo_act_parse(a->m->tok, a->fs, a->fn_ids, a->end_id, ids, n, call);
    free(ids);
    return rc;
}
