/* chat_template.c - the chat formats of chat_template.h, written out. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/error.h"
#include "tokenizer/tok_internal.h" /* the tokenizer's kept tokenizer.* keys */
#include "train/chat_template.h"

typedef enum { T_PHI3, T_CHATML, T_GEMMA, T_LLAMA3, T_LLAMA2, T_OCTO } tmpl_kind;

static const char *const k_names[] = {"phi3", "chatml", "gemma", "llama3", "llama2", "octo"};

static const struct {
    const char *alias;
    tmpl_kind kind;
} k_aliases[] = {
    {"phi3", T_PHI3},     {"phi-3", T_PHI3},       {"chatml", T_CHATML}, {"qwen2", T_CHATML},
    {"qwen", T_CHATML},   {"gemma", T_GEMMA},      {"llama3", T_LLAMA3}, {"llama-3", T_LLAMA3},
    {"llama2", T_LLAMA2}, {"llama-2", T_LLAMA2},   {"octo", T_OCTO},
};

static int kind_of(const char *s) {
    if (!s) return -1;
    for (size_t i = 0; i < sizeof k_aliases / sizeof k_aliases[0]; i++)
        if (!strcasecmp(s, k_aliases[i].alias)) return (int)k_aliases[i].kind;
    /* a template text: recognised by the markup it writes */
    if (strstr(s, "<|im_start|>")) return T_CHATML;
    if (strstr(s, "<start_of_turn>")) return T_GEMMA;
    if (strstr(s, "<|start_header_id|>")) return T_LLAMA3;
    if (strstr(s, "[INST]")) return T_LLAMA2;
    if (strstr(s, "<|assistant|>") && strstr(s, "<|end|>"))
        return strstr(s, "\\n") || strchr(s, '\n') ? T_PHI3 : T_OCTO;
    return -1;
}

const char *octo_chat_template_resolve(const char *name_or_text) {
    int k = kind_of(name_or_text);
    if (k < 0) {
        octo_fail("chat template: \"%.60s\" is not one octo knows (phi3, chatml, gemma, llama3, llama2, octo)",
                  name_or_text ? name_or_text : "(null)");
        return NULL;
    }
    return k_names[k];
}

const char *octo_chat_template_of(const octo_tokenizer *t) {
    if (!t) {
        octo_fail("chat template: no tokenizer");
        return NULL;
    }
    for (int i = 0; i < t->n_extra; i++)
        if (!strcmp(t->extra[i].key, "tokenizer.chat_template") && t->extra[i].type == GGUF_TYPE_STRING) {
            int k = kind_of(t->extra[i].str);
            if (k >= 0) return k_names[k];
        }
    /* no (known) template text: the vocabulary's role tokens tell */
    if (octo_token_lookup(t, "<|im_start|>") >= 0) return k_names[T_CHATML];
    if (octo_token_lookup(t, "<start_of_turn>") >= 0) return k_names[T_GEMMA];
    if (octo_token_lookup(t, "<|start_header_id|>") >= 0) return k_names[T_LLAMA3];
    if (octo_token_lookup(t, "<|assistant|>") >= 0 && octo_token_lookup(t, "<|end|>") >= 0)
        return k_names[t->kind == OCTO_TOK_SPM ? T_PHI3 : T_OCTO];
    octo_fail("chat template: the tokenizer names no chat template and has no known role tokens; "
              "name one (phi3, chatml, gemma, llama3, llama2, octo)");
    return NULL;
}

const char *octo_chat_template_eot(const char *tmpl) {
    static const char *const eot[] = {"<|end|>", "<|im_end|>", "<end_of_turn>", "<|eot_id|>", "</s>", "<|end|>"};
    int k = kind_of(tmpl);
    if (k < 0) {
        octo_chat_template_resolve(tmpl); /* sets the error */
        return NULL;
    }
    return eot[k];
}

/* ---- rendering ---- */

void octo_chat_rendered_free(octo_chat_rendered *r) {
    if (!r) return;
    free(r->text);
    free(r->parts);
    memset(r, 0, sizeof *r);
}

typedef struct {
    octo_chat_rendered *r;
    size_t cap;
    int err;
} out_t;

static void put(out_t *o, const char *s, size_t n, bool special, bool content, bool loss) {
    octo_chat_rendered *r = o->r;
    if (o->err || n == 0) return;
    if (r->len + n + 1 > o->cap) {
        size_t nc = o->cap ? o->cap : 256;
        while (nc < r->len + n + 1) nc *= 2;
        char *nt = realloc(r->text, nc);
        if (!nt) {
            o->err = 1;
            return;
        }
        r->text = nt;
        o->cap = nc;
    }
    if (r->n_parts == r->cap_parts) {
        int nc = r->cap_parts ? r->cap_parts * 2 : 16;
        octo_chat_part *np = realloc(r->parts, (size_t)nc * sizeof *np);
        if (!np) {
            o->err = 1;
            return;
        }
        r->parts = np;
        r->cap_parts = nc;
    }
    memcpy(r->text + r->len, s, n);
    r->parts[r->n_parts++] = (octo_chat_part){r->len, n, special, content, loss};
    r->len += n;
    r->text[r->len] = 0;
}

/* markup: a special token, plain template text; and message content */
static void S(out_t *o, const char *s, bool loss) { put(o, s, strlen(s), true, false, loss); }
static void T(out_t *o, const char *s, bool loss) { put(o, s, strlen(s), false, false, loss); }
static void C(out_t *o, const char *s, bool loss) { put(o, s, strlen(s), false, true, loss); }

/* The header a turn of role starts with; for "assistant" this is exactly
 * the generation prompt. */
static void header(out_t *o, tmpl_kind k, const char *role) {
    bool asst = !strcmp(role, "assistant");
    switch (k) {
    case T_PHI3:
        S(o, !strcmp(role, "system") ? "<|system|>" : asst ? "<|assistant|>" : "<|user|>", false);
        T(o, "\n", false);
        break;
    case T_CHATML:
        S(o, "<|im_start|>", false);
        T(o, role, false);
        T(o, "\n", false);
        break;
    case T_GEMMA:
        S(o, "<start_of_turn>", false);
        T(o, asst ? "model\n" : "user\n", false);
        break;
    case T_LLAMA3:
        S(o, "<|start_header_id|>", false);
        T(o, role, false);
        S(o, "<|end_header_id|>", false);
        T(o, "\n\n", false);
        break;
    case T_OCTO:
        S(o, !strcmp(role, "system") ? "<|system|>" : asst ? "<|assistant|>" : "<|user|>", false);
        break;
    case T_LLAMA2: break; /* the user turn carries it (see render) */
    }
}

/* What closes a turn; the closing token of an answer carries the loss. */
static void closing(out_t *o, tmpl_kind k, bool loss) {
    switch (k) {
    case T_PHI3: S(o, "<|end|>", loss), T(o, "\n", false); break;
    case T_CHATML: S(o, "<|im_end|>", loss), T(o, "\n", false); break;
    case T_GEMMA: S(o, "<end_of_turn>", loss), T(o, "\n", false); break;
    case T_LLAMA3: S(o, "<|eot_id|>", loss); break;
    case T_OCTO: S(o, "<|end|>", loss); break;
    case T_LLAMA2: T(o, " ", loss), S(o, "</s>", loss); break;
    }
}

int octo_chat_render(const char *tmpl, const octo_chat_msg *msgs, int n, bool add_generation_prompt,
                     octo_chat_rendered *r) {
    if (!r) return octo_fail("chat template: no output");
    memset(r, 0, sizeof *r);
    int kk = kind_of(tmpl);
    if (kk < 0) {
        octo_chat_template_resolve(tmpl);
        return -1;
    }
    tmpl_kind k = (tmpl_kind)kk;
    if (n < 0 || (n > 0 && !msgs)) return octo_fail("chat template: invalid message list");
    for (int i = 0; i < n; i++) {
        const char *role = msgs[i].role;
        if (!role || (strcmp(role, "system") && strcmp(role, "user") && strcmp(role, "assistant")))
            return octo_fail("chat template: message %d: role \"%.40s\", expected system, user or assistant", i + 1,
                             role ? role : "(null)");
        if (!msgs[i].content) return octo_fail("chat template: message %d: no content", i + 1);
        if (!strcmp(role, "system") && i > 0 && (k == T_GEMMA || k == T_LLAMA2))
            return octo_fail("chat template %s: message %d: a system message must come first", k_names[k], i + 1);
    }
    out_t o = {r, 0, 0};
    /* gemma and llama2 fold the system message into the first user turn */
    const char *sys = NULL;
    int i = 0;
    if (n > 0 && !strcmp(msgs[0].role, "system") && (k == T_GEMMA || k == T_LLAMA2)) sys = msgs[0].content, i = 1;
    bool first_user = true, any_turn = false;
    if (sys && (i >= n || strcmp(msgs[i].role, "user") != 0)) {
        /* no user turn to fold the system message into: it gets its own */
        if (k == T_GEMMA) {
            header(&o, k, "user");
            C(&o, sys, false);
            closing(&o, k, false);
        } else {
            T(&o, "[INST] <<SYS>>\n", false);
            C(&o, sys, false);
            T(&o, "\n<</SYS>>\n\n [/INST]", false);
        }
        any_turn = true;
        first_user = false;
    }
    for (; i < n; i++) {
        const char *role = msgs[i].role;
        bool asst = !strcmp(role, "assistant");
        if (k == T_LLAMA2) {
            if (asst) {
                T(&o, " ", true);
                C(&o, msgs[i].content, true);
                closing(&o, k, true);
            } else {
                if (any_turn) S(&o, "<s>", false);
                T(&o, "[INST] ", false);
                if (sys && first_user) {
                    T(&o, "<<SYS>>\n", false);
                    C(&o, sys, false);
                    T(&o, "\n<</SYS>>\n\n", false);
                }
                C(&o, msgs[i].content, false);
                T(&o, " [/INST]", false);
                first_user = false;
            }
            any_turn = true;
            continue;
        }
        header(&o, k, role);
        if (k == T_GEMMA && sys && first_user && !asst) {
            C(&o, sys, false);
            T(&o, "\n\n", false);
        }
        if (!asst) first_user = false;
        C(&o, msgs[i].content, asst);
        closing(&o, k, asst);
        any_turn = true;
    }
    if (add_generation_prompt && k != T_LLAMA2) header(&o, k, "assistant");
    if (o.err) {
        octo_chat_rendered_free(r);
        return octo_fail("chat template: out of memory");
    }
    if (!r->text) { /* nothing at all: an empty, valid text */
        r->text = calloc(1, 1);
        if (!r->text) return octo_fail("chat template: out of memory");
    }
    return 0;
}

char *octo_chat_render_prompt(const char *tmpl, const octo_chat_msg *msgs, int n, size_t *len) {
    octo_chat_rendered r;
    if (octo_chat_render(tmpl, msgs, n, true, &r)) return NULL;
    free(r.parts);
    if (len) *len = r.len;
    return r.text;
}
