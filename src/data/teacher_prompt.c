/* teacher_prompt.c - the teacher's prompts and the reading of its answers
 * (see teacher_prompt.h).
 *
 * The function set goes into the system prompt as one JSON object per line
 * ({"name", "description", "parameters"}): models read JSON Schema well, and
 * a line per function keeps the prompt easy to inspect. The answers are
 * never trusted: every field is checked and every call validated against
 * its function's schema before a record is kept.
 */
#include "data/teacher_prompt.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A growing string; on allocation failure it stays NULL and callers see NULL. */
typedef struct {
    char *s;
    size_t n, cap;
    int oom;
} sbuf;

static void sb_add(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_add(sbuf *b, const char *fmt, ...) {
    if (b->oom) return;
    va_list ap;
    va_start(ap, fmt);
    int need = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (need < 0) return;
    if (b->n + (size_t)need + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < b->n + (size_t)need + 1) cap *= 2;
        char *p = realloc(b->s, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->s = p;
        b->cap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(b->s + b->n, b->cap - b->n, fmt, ap);
    va_end(ap);
    b->n += (size_t)need;
}

static char *sb_take(sbuf *b) {
    if (b->oom) {
        free(b->s);
        return NULL;
    }
    return b->s ? b->s : strdup("");
}

int octo_teacher_plan_len(long index) { return 1 + (int)(index % 5); }

static void add_functions(sbuf *b, const octo_funcset *fs) {
    for (int i = 0; i < fs->n; i++) {
        const octo_function *f = &fs->fns[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", f->name);
        cJSON_AddStringToObject(o, "description", f->description ? f->description : "");
        cJSON_AddItemToObject(o, "parameters",
                              f->parameters ? cJSON_Duplicate(f->parameters, 1) : cJSON_CreateObject());
        char *s = cJSON_PrintUnformatted(o);
        cJSON_Delete(o);
        if (!s) {
            b->oom = 1;
            return;
        }
        sb_add(b, "%s\n", s);
        free(s);
    }
}

char *octo_teacher_gen_system(const octo_funcset *fs) {
    sbuf b = {0};
    sb_add(&b,
           "You write training data for a small on-device assistant. It answers a user's request by splitting it "
           "into steps and carrying out each step with one call of one of these functions (one JSON object per "
           "line: name, description, parameters as JSON Schema):\n\n");
    add_functions(&b, fs);
    sb_add(&b,
           "\nA record is one JSON object:\n"
           "{\"query\": \"<the request, as the user types it>\", \"steps\": [\"<step 1>\", ...], "
           "\"calls\": [{\"function\": \"<name>\", \"arguments\": {...}}, ...]}\n\n"
           "Rules:\n"
           "- steps[i] is a short imperative sub-task (\"Turn on Bluetooth\") that calls[i] carries out; one "
           "step, one call, listed in the order they must run.\n"
           "- every call names a function from the list above; its arguments follow that function's parameters: "
           "every required one, the right JSON types, enum values exactly as listed, no other names.\n"
           "- the query reads like a real person wrote it, gives every value the calls need (names, times, "
           "places, numbers), and never names a function.\n"
           "- answer with the JSON object only: no prose, no code fences.\n");
    return sb_take(&b);
}

static const char *const k_styles[] = {
    "casual, the way people text a friend",
    "polite and a little wordy",
    "terse, like a command",
    "the user says why they need it",
    "with a concrete date or time written the way people say it",
    "lower-case, no punctuation",
    "as a question",
    "with some small talk before the request",
    "a busy person in a hurry",
    "someone not sure of the exact words for things",
    "with the values (names, places, numbers) woven into the sentence",
    "formal, as in an office",
};

char *octo_teacher_gen_user(const octo_funcset *fs, long index, uint64_t seed) {
    int k = octo_teacher_plan_len(index);
    int n_styles = (int)(sizeof k_styles / sizeof k_styles[0]);
    /* every function gets its turn as the one the plan must use; the seed
     * rotates which request gets which, so two seeds give different sets */
    long turn = index / 5 + (long)(seed % 9973);
    const octo_function *anchor = fs->n ? &fs->fns[turn % fs->n] : NULL;
    const char *style = k_styles[(index * 7 + (long)(seed % 101)) % n_styles];
    sbuf b = {0};
    sb_add(&b, "Write one record whose plan has exactly %d step%s (%d function call%s).", k, k == 1 ? "" : "s", k,
           k == 1 ? "" : "s");
    if (anchor) sb_add(&b, " Use the function `%s` in it%s.", anchor->name, k > 1 ? "; choose the others so the request makes sense" : "");
    sb_add(&b, " Style of the query: %s.", style);
    if (k > 1) sb_add(&b, " Later steps may use what earlier ones found.");
    sb_add(&b, " Reply with the JSON object only.");
    return sb_take(&b);
}

/* ---- reading answers ---- */

/* End of the balanced {...} starting at s[0] == '{', or NULL. Strings and
 * escapes are skipped so braces inside them do not count. */
static const char *match_object(const char *s) {
    int depth = 0, in_str = 0;
    for (const char *p = s; *p; p++) {
        if (in_str) {
            if (*p == '\\' && p[1]) p++;
            else if (*p == '"') in_str = 0;
        } else if (*p == '"') in_str = 1;
        else if (*p == '{') depth++;
        else if (*p == '}' && --depth == 0) return p;
    }
    return NULL;
}

static bool has_key(const cJSON *j, const char *key) {
    if (cJSON_GetObjectItemCaseSensitive(j, key)) return true;
    return cJSON_GetArraySize(j) == 1 && cJSON_IsObject(j->child) && cJSON_GetObjectItemCaseSensitive(j->child, key);
}

cJSON *octo_json_find_object(const char *text, const char *key) {
    if (!text) return NULL;
    /* reasoning models think aloud first; the answer follows the thinking */
    const char *think = strstr(text, "</think>");
    if (think) text = think + 8;
    cJSON *first = NULL;
    /* a handful of candidates is plenty for a real answer and keeps hostile
     * input ("{{{{..." a megabyte long) linear */
    int tries = 0;
    for (const char *p = strchr(text, '{'); p && tries < 16; p = strchr(p + 1, '{'), tries++) {
        const char *e = match_object(p);
        if (!e) break; /* no later '{' can close either */
        cJSON *j = cJSON_ParseWithLength(p, (size_t)(e - p + 1));
        if (!cJSON_IsObject(j)) {
            cJSON_Delete(j);
            continue;
        }
        if (!key || has_key(j, key)) {
            cJSON_Delete(first);
            return j;
        }
        if (!first) first = j; /* an example before the answer: keep looking */
        else cJSON_Delete(j);
        p = e; /* skip the inside of an object that parsed */
    }
    return first;
}

static int why_set(char *why, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int why_set(char *why, size_t cap, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, cap, fmt, ap);
    va_end(ap);
    return -1;
}

/* "Step 2: Turn on Wi-Fi" / "2. Turn on Wi-Fi" / "- Turn on Wi-Fi" -> "Turn on Wi-Fi":
 * the renderers number steps themselves. Returns a malloc'd trimmed copy. */
static char *clean_step(const char *s) {
    while (isspace((unsigned char)*s)) s++;
    const char *p = s;
    if (!strncasecmp(p, "step", 4)) {
        p += 4;
        while (*p == ' ') p++;
    }
    const char *d = p;
    while (isdigit((unsigned char)*d)) d++;
    if (d > p && (*d == ':' || *d == '.' || *d == ')')) s = d + 1;
    else if (d == p && p != s && *p == ':') s = p + 1; /* "Step: ..." */
    else if (*s == '-' || *s == '*') s++;
    while (isspace((unsigned char)*s)) s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1])) n--;
    return strndup(s, n);
}

/* A call in any of the shapes models write: {"function": name, "arguments": {...}},
 * {"name": ..., "arguments": "<JSON text>"}, or the tools API's
 * {"type": "function", "function": {"name", "arguments"}}. */
static cJSON *normalize_call(const octo_funcset *fs, const cJSON *c, int i, char *why, size_t cap) {
    if (!cJSON_IsObject(c)) return why_set(why, cap, "calls[%d]: expected an object", i), NULL;
    const cJSON *fn = cJSON_GetObjectItemCaseSensitive(c, "function");
    const cJSON *args = cJSON_GetObjectItemCaseSensitive(c, "arguments");
    if (cJSON_IsObject(fn)) {
        if (!args) args = cJSON_GetObjectItemCaseSensitive(fn, "arguments");
        fn = cJSON_GetObjectItemCaseSensitive(fn, "name");
    }
    if (!fn) fn = cJSON_GetObjectItemCaseSensitive(c, "name");
    if (!args) args = cJSON_GetObjectItemCaseSensitive(c, "args");
    if (!cJSON_IsString(fn) || !fn->valuestring[0])
        return why_set(why, cap, "calls[%d]: \"function\" must be a function name", i), NULL;
    int fi = octo_funcset_find(fs, fn->valuestring);
    if (fi < 0)
        return why_set(why, cap, "calls[%d]: \"%.60s\" is not one of the functions", i, fn->valuestring), NULL;
    cJSON *a = NULL;
    if (!args || cJSON_IsNull(args)) a = cJSON_CreateObject();
    else if (cJSON_IsString(args)) a = cJSON_Parse(args->valuestring);
    else a = cJSON_Duplicate(args, 1);
    if (!cJSON_IsObject(a)) {
        cJSON_Delete(a);
        return why_set(why, cap, "calls[%d] (%s): \"arguments\" must be a JSON object", i, fn->valuestring), NULL;
    }
    char vwhy[256];
    if (octo_args_validate(&fs->fns[fi], a, vwhy, sizeof vwhy) != 0) {
        cJSON_Delete(a);
        return why_set(why, cap, "calls[%d] (%s): %s", i, fn->valuestring, vwhy), NULL;
    }
    cJSON *out = cJSON_CreateObject();
    cJSON_AddStringToObject(out, "function", fs->fns[fi].name);
    cJSON_AddItemToObject(out, "arguments", a);
    return out;
}

cJSON *octo_teacher_parse_record(const octo_funcset *fs, const char *answer, int k, char *why, size_t cap) {
    cJSON *j = octo_json_find_object(answer, "query");
    if (!j) return why_set(why, cap, "no JSON object found in the answer"), NULL;
    /* {"record": {...}} and similar single wrappers */
    if (!cJSON_GetObjectItemCaseSensitive(j, "query") && cJSON_GetArraySize(j) == 1 && cJSON_IsObject(j->child)) {
        cJSON *inner = cJSON_DetachItemViaPointer(j, j->child);
        cJSON_Delete(j);
        j = inner;
    }
    cJSON *out = NULL;
    const cJSON *q = cJSON_GetObjectItemCaseSensitive(j, "query");
    const cJSON *steps = cJSON_GetObjectItemCaseSensitive(j, "steps");
    const cJSON *calls = cJSON_GetObjectItemCaseSensitive(j, "calls");
    if (!cJSON_IsString(q)) {
        why_set(why, cap, "\"query\" must be a string");
        goto done;
    }
    if (!cJSON_IsArray(steps) || !cJSON_IsArray(calls)) {
        why_set(why, cap, "\"steps\" and \"calls\" must be arrays");
        goto done;
    }
    int ns = cJSON_GetArraySize(steps), nc = cJSON_GetArraySize(calls);
    if (ns != k || nc != k) {
        why_set(why, cap, "the plan must have exactly %d steps and %d calls, not %d and %d", k, k, ns, nc);
        goto done;
    }
    const char *qs = q->valuestring;
    while (isspace((unsigned char)*qs)) qs++;
    if (!*qs) {
        why_set(why, cap, "\"query\" is empty");
        goto done;
    }
    if (strlen(qs) > 4000) {
        why_set(why, cap, "\"query\" is longer than 4000 characters");
        goto done;
    }
    out = cJSON_CreateObject();
    cJSON_AddStringToObject(out, "query", qs);
    cJSON *so = cJSON_AddArrayToObject(out, "steps");
    cJSON *co = cJSON_AddArrayToObject(out, "calls");
    int i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, steps) {
        if (!cJSON_IsString(e)) {
            why_set(why, cap, "steps[%d] must be a string", i);
            goto fail;
        }
        char *s = clean_step(e->valuestring);
        if (!s) goto oom;
        if (!*s || strlen(s) > 1000) {
            free(s);
            why_set(why, cap, "steps[%d] is %s", i, *e->valuestring ? "longer than 1000 characters" : "empty");
            goto fail;
        }
        cJSON_AddItemToArray(so, cJSON_CreateString(s));
        free(s);
        i++;
    }
    i = 0;
    cJSON_ArrayForEach(e, calls) {
        cJSON *c = normalize_call(fs, e, i, why, cap);
        if (!c) goto fail;
        cJSON_AddItemToArray(co, c);
        i++;
    }
    /* people do not type "send_text_message": a query that does teaches the
     * planner a shortcut it will never see */
    cJSON_ArrayForEach(e, co) {
        const char *fn = cJSON_GetObjectItemCaseSensitive(e, "function")->valuestring;
        if (strchr(fn, '_') && strstr(qs, fn)) {
            why_set(why, cap, "the query names the function %s; write it the way a person would ask", fn);
            goto fail;
        }
    }
    cJSON *dom = cJSON_AddArrayToObject(out, "domains");
    if (fs->name) cJSON_AddItemToArray(dom, cJSON_CreateString(fs->name));
    goto done;
oom:
    why_set(why, cap, "out of memory");
fail:
    cJSON_Delete(out);
    out = NULL;
done:
    cJSON_Delete(j);
    return out;
}

/* ---- judging ---- */

char *octo_teacher_judge_system(const octo_funcset *fs) {
    sbuf b = {0};
    sb_add(&b,
           "You check training data for a small on-device assistant that carries out a user's request with "
           "calls of these functions (one JSON object per line: name, description, parameters as JSON "
           "Schema):\n\n");
    add_functions(&b, fs);
    sb_add(&b,
           "\nYou get one record: a query, its steps, and one call per step. It is valid only if every step "
           "is a sub-task of the query that its call carries out, the calls use the right functions with "
           "arguments that match the query, nothing the query asks for is missing, and the order is the order "
           "the query needs.\n"
           "Answer with one JSON object only: {\"valid\": true or false, \"reason\": \"<one sentence>\"}\n");
    return sb_take(&b);
}

char *octo_teacher_judge_user(const octo_record *r) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "query", r->query ? r->query : "");
    cJSON *s = cJSON_AddArrayToObject(o, "steps");
    for (int i = 0; i < r->n_steps; i++) cJSON_AddItemToArray(s, cJSON_CreateString(r->steps[i]));
    cJSON *c = cJSON_AddArrayToObject(o, "calls");
    for (int i = 0; i < r->n_calls; i++) {
        cJSON *ci = cJSON_CreateObject();
        cJSON_AddStringToObject(ci, "function", r->calls[i].function ? r->calls[i].function : "");
        cJSON_AddItemToObject(ci, "arguments",
                              r->calls[i].arguments ? cJSON_Duplicate(r->calls[i].arguments, 1) : cJSON_CreateObject());
        cJSON_AddItemToArray(c, ci);
    }
    char *js = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!js) return NULL;
    sbuf b = {0};
    sb_add(&b, "Record:\n%s\n\nIs this record valid? Answer with the JSON object only.", js);
    free(js);
    return sb_take(&b);
}

/* "yes", "valid", "true" -> 1; "no", "invalid", "false" -> 0; else -1. */
static int word_verdict(const char *s) {
    while (*s && !isalpha((unsigned char)*s)) s++; /* "**Yes**", "- no" */
    static const char *const yes[] = {"yes", "valid", "true", "correct"};
    static const char *const no[] = {"no", "invalid", "false", "incorrect", "not valid"};
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) {
        size_t n = strlen(no[i]);
        if (!strncasecmp(s, no[i], n) && !isalpha((unsigned char)s[n])) return 0;
    }
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        size_t n = strlen(yes[i]);
        if (!strncasecmp(s, yes[i], n) && !isalpha((unsigned char)s[n])) return 1;
    }
    return -1;
}

int octo_teacher_parse_verdict(const char *answer, char **reason, char *why, size_t cap) {
    *reason = NULL;
    if (!answer) return why_set(why, cap, "empty answer");
    cJSON *j = octo_json_find_object(answer, "valid");
    if (j && !has_key(j, "valid") && !has_key(j, "verdict")) {
        cJSON_Delete(j);
        j = octo_json_find_object(answer, "verdict");
    }
    int v = -1;
    if (j) {
        const cJSON *x = cJSON_GetObjectItemCaseSensitive(j, "valid");
        if (!x) x = cJSON_GetObjectItemCaseSensitive(j, "verdict");
        if (cJSON_IsBool(x)) v = cJSON_IsTrue(x);
        else if (cJSON_IsString(x)) v = word_verdict(x->valuestring);
        const cJSON *r = cJSON_GetObjectItemCaseSensitive(j, "reason");
        if (v >= 0 && cJSON_IsString(r) && r->valuestring[0]) *reason = strdup(r->valuestring);
        cJSON_Delete(j);
        if (v < 0) return why_set(why, cap, "the JSON answer has no \"valid\": true/false");
        return v;
    }
    v = word_verdict(answer);
    if (v < 0) return why_set(why, cap, "no verdict (valid true/false) found in the answer");
    /* the words after the verdict are its reason */
    const char *s = answer;
    while (*s && !isalpha((unsigned char)*s)) s++;
    while (isalpha((unsigned char)*s)) s++;
    while (*s && (ispunct((unsigned char)*s) || isspace((unsigned char)*s))) s++;
    if (*s) *reason = strndup(s, strcspn(s, "\n"));
    return v;
}
