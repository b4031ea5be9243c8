/* render.c - training and prompt text of the planner and the action model
 * (formats in render.h and docs/agents.md).
 */
#include "agent/render.h"

#include <stdlib.h>
#include <string.h>

#include "octo.h"
#include "agent/json_fsm.h"
#include "base/error.h"
#include "gguf/gguf.h"

static char *dupf(const char *a, const char *b, const char *c, const char *d) {
    size_t n = strlen(a) + strlen(b) + strlen(c) + strlen(d);
    char *s = malloc(n + 1);
    if (s) snprintf(s, n + 1, "%s%s%s%s", a, b, c, d);
    return s;
}

char *octo_fn_token(const char *fn_name) { return dupf(OCTO_FN_PREFIX, fn_name, ">", ""); }

void octo_strings_free(char **s, int n) {
    if (!s) return;
    for (int i = 0; i < n; i++) free(s[i]);
    free(s);
}

/* The chat markup of template "octo" comes first: a vocabulary trained
 * from scratch (or a base model without these) needs them as well. */
static const char *const k_markup[] = {"<|user|>", "<|end|>", "<|assistant|>"};

char **octo_agent_tokens(const octo_funcset *fs, int kinds, int *n) {
    if ((kinds & OCTO_RENDER_ACTION) && !fs) {
        octo_fail("the action model's tokens need a function set");
        return NULL;
    }
    int cap = 6 + ((kinds & OCTO_RENDER_ACTION) ? fs->n : 0), k = 0;
    char **t = calloc((size_t)cap, sizeof *t);
    if (!t) goto oom;
    for (int i = 0; i < 3; i++)
        if (!(t[k++] = strdup(k_markup[i]))) goto oom;
    if (kinds & OCTO_RENDER_PLANNER)
        if (!(t[k++] = strdup(OCTO_TOK_SPLIT))) goto oom;
    if (!(t[k++] = strdup(OCTO_TOK_END))) goto oom;
    if (kinds & OCTO_RENDER_ACTION)
        for (int i = 0; i < fs->n; i++)
            if (!(t[k++] = octo_fn_token(fs->fns[i].name))) goto oom;
    *n = k;
    return t;
oom:
    octo_strings_free(t, k);
    octo_fail("out of memory");
    return NULL;
}

int octo_agent_add_tokens(octo_tokenizer *tok, const octo_funcset *fs, int kinds) {
    int n;
    char **t = octo_agent_tokens(fs, kinds, &n);
    if (!t) return -1;
    int rc = 0;
    for (int i = 0; i < n && !rc; i++)
        if (octo_tokenizer_add_special(tok, t[i]) < 0) rc = -1;
    octo_strings_free(t, n);
    return rc;
}

int octo_agent_write_vocab(const char *in_path, const octo_funcset *fs, int kinds, const char *out_path) {
    octo_tokenizer *t = octo_tokenizer_open(in_path);
    if (!t) return -1;
    int rc = octo_agent_add_tokens(t, fs, kinds);
    gguf_writer *w = rc ? NULL : gguf_writer_new();
    if (!rc && !w) rc = octo_fail("out of memory");
    if (!rc) {
        gguf_set_str(w, "general.architecture", "llama");
        gguf_set_str(w, "general.name", "octo-agent-vocab");
        octo_tokenizer_write(t, w);
        rc = gguf_writer_write(w, out_path);
    }
    gguf_writer_free(w);
    octo_tokenizer_free(t);
    return rc;
}

/* Through the chat-template module, so the prompt is byte for byte the
 * prefix `octo train` renders before an answer. */
char *octo_render_prompt(const char *user) {
    octo_chat_msg msg = {"user", user};
    return octo_chat_render_prompt("octo", &msg, 1, NULL);
}

/* A step as the planner grammar allows it (constrain.c): printable, valid
 * UTF-8, something besides spaces, bounded, none of our special tokens. */
static int check_step(const char *s, char *why, size_t cap) {
    size_t n = strlen(s);
    if (n > OCTO_MAX_STEP_BYTES) return snprintf(why, cap, "longer than %d bytes", OCTO_MAX_STEP_BYTES), -1;
    bool text = false;
    int u = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (u) {
            if (c < 0x80 || c > 0xBF) return snprintf(why, cap, "invalid UTF-8"), -1;
            u--;
            continue;
        }
        if (c < 0x20 || c == 0x7F) return snprintf(why, cap, "a control character (newline, tab...)"), -1;
        if (c >= 0x80) {
            if (c >= 0xC2 && c <= 0xDF) u = 1;
            else if (c >= 0xE0 && c <= 0xEF) u = 2;
            else if (c >= 0xF0 && c <= 0xF4) u = 3;
            else return snprintf(why, cap, "invalid UTF-8"), -1;
        }
        if (c != ' ') text = true;
    }
    if (u) return snprintf(why, cap, "invalid UTF-8"), -1;
    if (!text) return snprintf(why, cap, "empty"), -1;
    if (s[0] == ' ' && s[1] == ' ' && s[2] == ' ') return snprintf(why, cap, "starts with spaces"), -1;
    if (strstr(s, OCTO_TOK_SPLIT) || strstr(s, OCTO_TOK_END) || strstr(s, OCTO_FN_PREFIX))
        return snprintf(why, cap, "contains a special token's text"), -1;
    return 0;
}

char *octo_render_plan_answer(char *const *steps, int n, char *why, size_t cap) {
    if (n < 1 || n > OCTO_MAX_STEPS) {
        snprintf(why, cap, "%d steps, expected 1 to %d", n, OCTO_MAX_STEPS);
        return NULL;
    }
    size_t len = 1;
    for (int i = 0; i < n; i++) {
        char w[128];
        if (check_step(steps[i], w, sizeof w)) {
            snprintf(why, cap, "steps[%d]: %s", i, w);
            return NULL;
        }
        len += strlen(steps[i]) + sizeof OCTO_TOK_SPLIT;
    }
    char *s = malloc(len), *p = s;
    if (!s) {
        snprintf(why, cap, "out of memory");
        return NULL;
    }
    for (int i = 0; i < n; i++) {
        size_t k = strlen(steps[i]);
        memcpy(p, steps[i], k);
        p += k;
        const char *sep = i + 1 < n ? OCTO_TOK_SPLIT : OCTO_TOK_END;
        memcpy(p, sep, strlen(sep));
        p += strlen(sep);
    }
    *p = 0;
    return s;
}

char *octo_render_action_user(const char *step, const char *observation) {
    if (!observation || !*observation) return strdup(step);
    /* Keep the prompt short: a long observation is cut (at a UTF-8
     * boundary), trailing newlines dropped. */
    size_t n = strlen(observation);
    while (n && (observation[n - 1] == '\n' || observation[n - 1] == '\r')) n--;
    if (n > OCTO_MAX_OBSERVATION) {
        n = OCTO_MAX_OBSERVATION;
        while (n && ((unsigned char)observation[n] & 0xC0) == 0x80) n--;
    }
    size_t sl = strlen(step);
    static const char mid[] = "\nObservation: ";
    char *s = malloc(sl + sizeof mid + n);
    if (!s) return NULL;
    memcpy(s, step, sl);
    memcpy(s + sl, mid, sizeof mid - 1);
    memcpy(s + sl + sizeof mid - 1, observation, n);
    s[sl + sizeof mid - 1 + n] = 0;
    return s;
}

cJSON *octo_args_canonical(const cJSON *schema, const cJSON *v, char *why, size_t cap) {
    const cJSON *props = cJSON_GetObjectItemCaseSensitive(schema, "properties");
    if (cJSON_IsObject(v) && cJSON_IsObject(props)) {
        const cJSON *a;
        cJSON_ArrayForEach(a, v) if (!a->string || !cJSON_GetObjectItemCaseSensitive(props, a->string)) {
            snprintf(why, cap, "argument \"%s\" is not in the schema", a->string ? a->string : "");
            return NULL;
        }
        cJSON *o = cJSON_CreateObject();
        const cJSON *p;
        cJSON_ArrayForEach(p, props) {
            const cJSON *x = cJSON_GetObjectItemCaseSensitive(v, p->string);
            if (!x) continue;
            cJSON *y = octo_args_canonical(p, x, why, cap);
            if (!y) {
                cJSON_Delete(o);
                return NULL;
            }
            cJSON_AddItemToObject(o, p->string, y);
        }
        return o;
    }
    const cJSON *items = cJSON_GetObjectItemCaseSensitive(schema, "items");
    if (cJSON_IsArray(v) && cJSON_IsObject(items)) {
        cJSON *o = cJSON_CreateArray();
        const cJSON *x;
        cJSON_ArrayForEach(x, v) {
            cJSON *y = octo_args_canonical(items, x, why, cap);
            if (!y) {
                cJSON_Delete(o);
                return NULL;
            }
            cJSON_AddItemToArray(o, y);
        }
        return o;
    }
    return cJSON_Duplicate(v, true);
}

char *octo_render_action_answer(const octo_function *f, const cJSON *args, char *why, size_t cap) {
    if (!cJSON_IsObject(args)) {
        snprintf(why, cap, "arguments of %s: expected an object", f->name);
        return NULL;
    }
    char w[256];
    if (octo_args_validate(f, args, w, sizeof w)) {
        snprintf(why, cap, "%s: %s", f->name, w);
        return NULL;
    }
    cJSON *canon = octo_args_canonical(f->parameters, args, w, sizeof w);
    if (!canon) {
        snprintf(why, cap, "%s: %s", f->name, w);
        return NULL;
    }
    char *json = cJSON_PrintUnformatted(canon);
    cJSON_Delete(canon);
    if (!json) {
        snprintf(why, cap, "out of memory");
        return NULL;
    }
    /* What is trained must be what constrained decoding can produce. */
    jf_schema *sc = jf_compile(f->parameters, OCTO_MAX_STRING_ARG, w, sizeof w);
    if (!sc) {
        snprintf(why, cap, "%s: %s", f->name, w);
        free(json);
        return NULL;
    }
    jf_state st;
    jf_start(&st, sc);
    bool ok = jf_feed(&st, json, strlen(json)) == 0 && jf_done(&st);
    jf_free(sc);
    if (!ok) {
        snprintf(why, cap, "%s: arguments %.200s are outside what the action grammar produces "
                 "(strings up to %d bytes, integers up to 15 digits, arrays up to %d items)",
                 f->name, json, OCTO_MAX_STRING_ARG, JF_MAX_ITEMS);
        free(json);
        return NULL;
    }
    char *tok = octo_fn_token(f->name);
    char *s = tok ? dupf(tok, json, OCTO_TOK_END, "") : NULL;
    free(tok);
    free(json);
    if (!s) snprintf(why, cap, "out of memory");
    return s;
}

static char *chat_line(const char *user, const char *assistant) {
    cJSON *o = cJSON_CreateObject(), *msgs = cJSON_AddArrayToObject(o, "messages");
    cJSON *u = cJSON_CreateObject(), *a = cJSON_CreateObject();
    cJSON_AddStringToObject(u, "role", "user");
    cJSON_AddStringToObject(u, "content", user);
    cJSON_AddStringToObject(a, "role", "assistant");
    cJSON_AddStringToObject(a, "content", assistant);
    cJSON_AddItemToArray(msgs, u);
    cJSON_AddItemToArray(msgs, a);
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

int octo_render_record(const octo_record *r, const octo_funcset *fs, octo_render_kind kind, FILE *out, char *why,
                       size_t cap) {
    if (!r->query || !*r->query) return snprintf(why, cap, "no query"), -1;
    if (kind == OCTO_RENDER_PLANNER) {
        char *ans = octo_render_plan_answer(r->steps, r->n_steps, why, cap);
        if (!ans) return -1;
        char *line = chat_line(r->query, ans);
        free(ans);
        if (!line) return snprintf(why, cap, "out of memory"), -1;
        fprintf(out, "%s\n", line);
        free(line);
        return 1;
    }
    if (!fs) return snprintf(why, cap, "the action model's examples need a function set"), -1;
    if (r->n_calls != r->n_steps) return snprintf(why, cap, "%d steps but %d calls", r->n_steps, r->n_calls), -1;
    const cJSON *obs = r->extra ? cJSON_GetObjectItemCaseSensitive(r->extra, "observations") : NULL;
    char **lines = calloc((size_t)r->n_calls + 1, sizeof *lines);
    if (!lines) return snprintf(why, cap, "out of memory"), -1;
    int rc = 0;
    for (int i = 0; i < r->n_calls && !rc; i++) {
        char w[512];
        int k = octo_funcset_find(fs, r->calls[i].function);
        if (k < 0) {
            snprintf(why, cap, "calls[%d]: function \"%s\" is not in set %s", i, r->calls[i].function,
                     fs->name ? fs->name : "");
            rc = -1;
            break;
        }
        if (check_step(r->steps[i], w, sizeof w)) {
            snprintf(why, cap, "steps[%d]: %s", i, w);
            rc = -1;
            break;
        }
        char *ans = octo_render_action_answer(&fs->fns[k], r->calls[i].arguments, w, sizeof w);
        if (!ans) {
            snprintf(why, cap, "calls[%d]: %s", i, w);
            rc = -1;
            break;
        }
        const cJSON *o = i > 0 && cJSON_IsArray(obs) ? cJSON_GetArrayItem(obs, i - 1) : NULL;
        char *user = octo_render_action_user(r->steps[i], cJSON_IsString(o) ? o->valuestring : NULL);
        lines[i] = user ? chat_line(user, ans) : NULL;
        free(user);
        free(ans);
        if (!lines[i]) {
            snprintf(why, cap, "out of memory");
            rc = -1;
        }
    }
    if (!rc)
        for (int i = 0; i < r->n_calls; i++) fprintf(out, "%s\n", lines[i]);
    for (int i = 0; i < r->n_calls; i++) free(lines[i]);
    free(lines);
    return rc ? -1 : r->n_calls;
}
