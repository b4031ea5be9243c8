/* json_fsm.c - compiling a JSON Schema into an automaton and running it one
 * byte at a time (see json_fsm.h for what is accepted and why).
 *
 * A value that ends without a closing character (a number, an enum literal
 * such as 1 when 12 is also listed) only knows it is complete when the next
 * byte cannot extend it: the frame is then popped and the byte handed to the
 * enclosing frame ("re-dispatch"). Every state keeps a way to complete, so a
 * decoder that always picks an accepted byte can never get stuck.
 */
#include "agent/json_fsm.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/jschema.h"

typedef enum { JN_STRING, JN_INTEGER, JN_NUMBER, JN_LITERAL, JN_ARRAY, JN_OBJECT } jn_kind;

struct jf_node {
    jn_kind kind;
    /* JN_LITERAL: the JSON texts of the allowed values, sorted bytewise */
    char **lits;
    uint16_t *lit_len;
    int n_lits;
    /* JN_OBJECT: keys as JSON string literals ("\"name\""), in schema order */
    char **keys;
    uint16_t *key_len;
    jf_node **props;
    uint16_t *first_req; /* [n_props + 1]: first required property at or after j (n_props: none) */
    int n_props;
    /* JN_ARRAY */
    jf_node *items;
    int min_items, max_items;
    /* JN_STRING: characters (code points; an escape is one) */
    int min_len, max_len;
    /* JN_INTEGER, JN_NUMBER: inclusive range (integers: rounded inward) */
    bool bounded;
    double lo, hi;
};

struct jf_schema {
    jf_node *root;
    int max_string;
};

/* Phases. 0 is always "before the value" (leading whitespace allowed). */
enum { P_START = 0 };
enum { O_OPEN = 1, O_KEY, O_COLON, O_AFTER, O_COMMA };
enum { A_OPEN = 1, A_AFTER, A_COMMA };
enum { S_IN = 1, S_ESC, S_U };
enum { N_SIGN = 1, N_ZERO, N_INT, N_DOT, N_FRAC, N_E, N_ESIGN, N_EXP };
enum { L_IN = 1 };

#define MAX_INT_DIGITS 15
#define MAX_NUMBER_CHARS 24
#define MAX_WS 2

/* ---- compiling ---- */

static void node_free(jf_node *n) {
    if (!n) return;
    for (int i = 0; i < n->n_lits; i++) free(n->lits[i]);
    free(n->lits);
    free(n->lit_len);
    for (int i = 0; i < n->n_props; i++) {
        free(n->keys[i]);
        node_free(n->props[i]);
    }
    free(n->keys);
    free(n->key_len);
    free(n->props);
    free(n->first_req);
    node_free(n->items);
    free(n);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static jf_node *fail_node(jf_node *n, char *why, size_t cap, const char *path, const char *msg) {
    snprintf(why, cap, "%s: %s", path, msg);
    node_free(n);
    return NULL;
}

static jf_node *compile(const cJSON *sch, int depth, const char *path, char *why, size_t cap);

/* sch: the whole schema, so values that fail its other keywords (type,
 * bounds) are left out; NULL: keep all. */
static jf_node *compile_enum(jf_node *n, const cJSON *en, const cJSON *sch, const char *path, char *why, size_t cap) {
    n->kind = JN_LITERAL;
    int cnt = cJSON_GetArraySize(en);
    n->lits = calloc((size_t)cnt, sizeof *n->lits);
    n->lit_len = calloc((size_t)cnt, sizeof *n->lit_len);
    if (!n->lits || !n->lit_len) return fail_node(n, why, cap, path, "out of memory");
    const cJSON *v;
    cJSON_ArrayForEach(v, en) {
        if (!cJSON_IsString(v) && !cJSON_IsNumber(v) && !cJSON_IsBool(v) && !cJSON_IsNull(v))
            return fail_node(n, why, cap, path, "enum values must be strings, numbers, booleans or null");
        char w[8];
        if (sch && octo_jschema_validate(sch, v, "enum", w, sizeof w) != 0) continue;
        char *t = cJSON_PrintUnformatted(v);
        if (!t) return fail_node(n, why, cap, path, "out of memory");
        if (strlen(t) > 4096) {
            free(t);
            return fail_node(n, why, cap, path, "an enum value is longer than 4096 bytes");
        }
        n->lits[n->n_lits++] = t;
    }
    qsort(n->lits, (size_t)n->n_lits, sizeof *n->lits, cmp_str);
    int k = 0;
    for (int i = 0; i < n->n_lits; i++) {
        if (k > 0 && strcmp(n->lits[k - 1], n->lits[i]) == 0) {
            free(n->lits[i]);
            continue;
        }
        n->lits[k++] = n->lits[i];
    }
    n->n_lits = k;
    if (k == 0) return fail_node(n, why, cap, path, "no enum value satisfies the schema");
    for (int i = 0; i < k; i++) n->lit_len[i] = (uint16_t)strlen(n->lits[i]);
    return n;
}

static jf_node *compile_object(jf_node *n, const cJSON *sch, int depth, const char *path, char *why, size_t cap) {
    n->kind = JN_OBJECT;
    const cJSON *props = cJSON_GetObjectItemCaseSensitive(sch, "properties");
    int cnt = cJSON_IsObject(props) ? cJSON_GetArraySize(props) : 0;
    if (cnt > JF_MAX_PROPS) return fail_node(n, why, cap, path, "more than 64 properties");
    n->keys = calloc((size_t)cnt + 1, sizeof *n->keys);
    n->key_len = calloc((size_t)cnt + 1, sizeof *n->key_len);
    n->props = calloc((size_t)cnt + 1, sizeof *n->props);
    n->first_req = calloc((size_t)cnt + 1, sizeof *n->first_req);
    if (!n->keys || !n->key_len || !n->props || !n->first_req) return fail_node(n, why, cap, path, "out of memory");
    const cJSON *req = cJSON_GetObjectItemCaseSensitive(sch, "required");
    bool required[JF_MAX_PROPS + 1] = {0};
    const cJSON *p;
    cJSON_ArrayForEach(p, props) {
        int i = n->n_props;
        char sub[512];
        snprintf(sub, sizeof sub, "%s.properties.%s", path, p->string ? p->string : "?");
        cJSON *keystr = cJSON_CreateString(p->string ? p->string : "");
        n->keys[i] = keystr ? cJSON_PrintUnformatted(keystr) : NULL;
        cJSON_Delete(keystr);
        if (!n->keys[i]) return fail_node(n, why, cap, path, "out of memory");
        if (strlen(n->keys[i]) > 1024) return fail_node(n, why, cap, sub, "property name longer than 1024 bytes");
        n->key_len[i] = (uint16_t)strlen(n->keys[i]);
        n->n_props++;
        if (!(n->props[i] = compile(p, depth + 1, sub, why, cap))) {
            node_free(n);
            return NULL;
        }
        const cJSON *r;
        cJSON_ArrayForEach(r, req) if (cJSON_IsString(r) && p->string && strcmp(r->valuestring, p->string) == 0)
            required[i] = true;
    }
    n->first_req[n->n_props] = (uint16_t)n->n_props;
    for (int j = n->n_props - 1; j >= 0; j--) n->first_req[j] = required[j] ? (uint16_t)j : n->first_req[j + 1];
    return n;
}

static jf_node *compile(const cJSON *sch, int depth, const char *path, char *why, size_t cap) {
    jf_node *n = calloc(1, sizeof *n);
    if (!n) return fail_node(n, why, cap, path, "out of memory");
    /* The root takes one frame and each level of nesting one more; strings
     * and numbers need a frame of their own too. */
    if (depth >= JF_MAX_DEPTH - 1) return fail_node(n, why, cap, path, "nested too deeply (at most 6 levels)");
    if (!cJSON_IsObject(sch)) return fail_node(n, why, cap, path, "expected a schema object");
    const cJSON *en = cJSON_GetObjectItemCaseSensitive(sch, "enum");
    if (cJSON_IsArray(en) && cJSON_GetArraySize(en) > 0) return compile_enum(n, en, sch, path, why, cap);
    const cJSON *ty = cJSON_GetObjectItemCaseSensitive(sch, "type");
    const char *t = cJSON_IsString(ty) ? ty->valuestring : NULL;
    if (!t && cJSON_GetObjectItemCaseSensitive(sch, "properties")) t = "object";
    if (!t) return fail_node(n, why, cap, path, "no \"type\"");
    const cJSON *mn = cJSON_GetObjectItemCaseSensitive(sch, "minimum"), *mx = cJSON_GetObjectItemCaseSensitive(sch, "maximum");
    if (!strcmp(t, "string")) {
        n->kind = JN_STRING;
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(sch, "minLength"), *b = cJSON_GetObjectItemCaseSensitive(sch, "maxLength");
        n->min_len = cJSON_IsNumber(a) && a->valuedouble > 0 ? (int)fmin(ceil(a->valuedouble), 1e6) : 0;
        n->max_len = cJSON_IsNumber(b) && b->valuedouble >= 0 ? (int)fmin(floor(b->valuedouble), 1e6) : 1000000;
        if (n->min_len > n->max_len) return fail_node(n, why, cap, path, "minLength is above maxLength");
    } else if (!strcmp(t, "integer") || !strcmp(t, "number")) {
        n->kind = !strcmp(t, "integer") ? JN_INTEGER : JN_NUMBER;
        n->lo = cJSON_IsNumber(mn) ? mn->valuedouble : -INFINITY;
        n->hi = cJSON_IsNumber(mx) ? mx->valuedouble : INFINITY;
        n->bounded = cJSON_IsNumber(mn) || cJSON_IsNumber(mx);
        if (n->kind == JN_INTEGER) n->lo = ceil(n->lo), n->hi = floor(n->hi);
        if (n->lo > n->hi) return fail_node(n, why, cap, path, "no value lies between minimum and maximum");
        if (n->lo > 999999999999999.0 || n->hi < -999999999999999.0)
            return fail_node(n, why, cap, path, "minimum/maximum beyond 15 digits");
    } else if (!strcmp(t, "boolean") || !strcmp(t, "null")) {
        cJSON *lits = !strcmp(t, "null") ? cJSON_Parse("[null]") : cJSON_Parse("[false,true]");
        if (!lits) return fail_node(n, why, cap, path, "out of memory");
        n = compile_enum(n, lits, NULL, path, why, cap);
        cJSON_Delete(lits);
        return n;
    } else if (!strcmp(t, "array")) {
        n->kind = JN_ARRAY;
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(sch, "minItems"), *b = cJSON_GetObjectItemCaseSensitive(sch, "maxItems");
        n->min_items = cJSON_IsNumber(a) && a->valuedouble > 0 ? (int)fmin(ceil(a->valuedouble), 1e6) : 0;
        n->max_items = cJSON_IsNumber(b) && b->valuedouble < JF_MAX_ITEMS ? (int)fmax(floor(b->valuedouble), 0) : JF_MAX_ITEMS;
        if (n->min_items > n->max_items)
            return fail_node(n, why, cap, path, "minItems is above maxItems or above 16, the most the grammar writes");
        const cJSON *items = cJSON_GetObjectItemCaseSensitive(sch, "items");
        char sub[512];
        snprintf(sub, sizeof sub, "%s.items", path);
        cJSON *def = NULL;
        if (!cJSON_IsObject(items)) items = def = cJSON_Parse("{\"type\":\"string\"}");
        n->items = items ? compile(items, depth + 1, sub, why, cap) : NULL;
        cJSON_Delete(def);
        if (!n->items) {
            node_free(n);
            return NULL;
        }
    } else if (!strcmp(t, "object")) {
        return compile_object(n, sch, depth, path, why, cap);
    } else {
        return fail_node(n, why, cap, path, "type must be string, integer, number, boolean, array or object");
    }
    return n;
}

jf_schema *jf_compile(const cJSON *schema, int max_string, char *why, size_t cap) {
    jf_schema *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(why, cap, "out of memory");
        return NULL;
    }
    s->max_string = max_string > 0 ? max_string : 256;
    if (max_string > 60000) s->max_string = 60000;
    s->root = compile(schema, 0, "parameters", why, cap);
    if (!s->root) {
        free(s);
        return NULL;
    }
    if (s->root->kind != JN_OBJECT) {
        snprintf(why, cap, "parameters: the arguments must be an object");
        jf_free(s);
        return NULL;
    }
    return s;
}

void jf_free(jf_schema *s) {
    if (!s) return;
    node_free(s->root);
    free(s);
}

/* ---- running ---- */

void jf_start(jf_state *st, const jf_schema *s) {
    memset(st, 0, sizeof *st);
    st->schema = s;
    st->depth = 1;
    st->f[0].node = s->root;
}

static bool is_ws(unsigned char c) { return c == ' ' || c == '\n'; }
static bool is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
static bool is_hex(unsigned char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

static int push(jf_state *st, const jf_node *n) {
    if (st->depth >= JF_MAX_DEPTH) return -1;
    jf_frame *f = &st->f[st->depth++];
    memset(f, 0, sizeof *f);
    f->node = n;
    return 0;
}

/* Whitespace where the grammar allows it: 0 consumed, -1 too much. */
static int take_ws(const jf_state *st, jf_frame *f) { return !st->closing && f->ws++ < MAX_WS ? 0 : -1; }

/* Start reading a key: candidates are the properties from `next` up to and
 * including the first required one (those in between are optional and may
 * be skipped; nothing after a required one may come before it). */
static int begin_key(const jf_state *st, jf_frame *f) {
    const jf_node *n = f->node;
    if (f->next >= n->n_props) return -1;
    int last = n->first_req[f->next] < n->n_props ? n->first_req[f->next] : n->n_props - 1;
    int first = f->next;
    if (st->closing) { /* only the next required property */
        if (n->first_req[f->next] >= n->n_props) return -1;
        first = last;
    }
    f->cand = 0;
    for (int j = first; j <= last; j++) f->cand |= 1ull << j;
    f->n = 1; /* the opening quote */
    f->phase = O_KEY;
    return 0;
}

static int step_object(jf_state *st, jf_frame *f, unsigned char c) {
    const jf_node *n = f->node;
    switch (f->phase) {
    case P_START:
        if (is_ws(c)) return take_ws(st, f);
        if (c != '{') return -1;
        f->phase = O_OPEN;
        f->ws = 0;
        return 0;
    case O_OPEN:
    case O_AFTER:
        if (is_ws(c)) return take_ws(st, f);
        if (c == '}') {
            if (n->first_req[f->next] != n->n_props) return -1;
            st->depth--;
            return 0;
        }
        if (f->phase == O_OPEN) return c == '"' ? begin_key(st, f) : -1;
        if (c != ',' || f->next >= n->n_props) return -1;
        if (st->closing && n->first_req[f->next] >= n->n_props) return -1;
        f->phase = O_COMMA;
        f->ws = 0;
        return 0;
    case O_COMMA:
        if (is_ws(c)) return take_ws(st, f);
        return c == '"' ? begin_key(st, f) : -1;
    case O_KEY: {
        uint64_t nc = 0;
        for (int j = f->next; j < n->n_props; j++)
            if ((f->cand >> j & 1) && n->key_len[j] > f->n && (unsigned char)n->keys[j][f->n] == c) nc |= 1ull << j;
        if (!nc) return -1;
        f->cand = nc;
        f->n++;
        for (int j = f->next; j < n->n_props; j++)
            if ((nc >> j & 1) && n->key_len[j] == f->n) {
                f->cur = (uint16_t)j;
                f->phase = O_COLON;
                f->ws = 0;
            }
        return 0;
    }
    case O_COLON:
        if (is_ws(c)) return take_ws(st, f);
        if (c != ':') return -1;
        f->phase = O_AFTER;
        f->ws = 0;
        f->next = (uint16_t)(f->cur + 1);
        return push(st, n->props[f->cur]);
    }
    return -1;
}

/* Returns 0 consumed, -1 rejected, 1 the array wants c read as an item. */
static int step_array(jf_state *st, jf_frame *f, unsigned char c) {
    switch (f->phase) {
    case P_START:
        if (is_ws(c)) return take_ws(st, f);
        if (c != '[') return -1;
        f->phase = A_OPEN;
        f->ws = 0;
        return 0;
    case A_OPEN:
    case A_COMMA:
        if (is_ws(c)) return take_ws(st, f);
        if (c == ']' && f->phase == A_OPEN && f->node->min_items == 0) {
            st->depth--;
            return 0;
        }
        if (f->n >= f->node->max_items) return -1;
        if (st->closing && f->phase == A_OPEN && f->n >= f->node->min_items) return -1;
        f->n++;
        f->phase = A_AFTER;
        f->ws = 0;
        if (push(st, f->node->items)) return -1;
        return 1;
    case A_AFTER:
        if (is_ws(c)) return take_ws(st, f);
        if (c == ']' && f->n >= f->node->min_items) {
            st->depth--;
            return 0;
        }
        if (c != ',' || f->n >= f->node->max_items) return -1;
        if (st->closing && f->n >= f->node->min_items) return -1;
        f->phase = A_COMMA;
        f->ws = 0;
        return 0;
    }
    return -1;
}

/* n counts bytes (the max_string bound), cur characters (minLength,
 * maxLength); the byte bound only applies once minLength is met, so the
 * closing quote is always reachable. */
static int step_string(jf_state *st, jf_frame *f, unsigned char c) {
    const jf_node *nd = f->node;
    switch (f->phase) {
    case P_START:
        if (is_ws(c)) return take_ws(st, f);
        if (c != '"') return -1;
        f->phase = S_IN;
        return 0;
    case S_IN:
        if (f->utf8) {
            if (c < 0x80 || c > 0xBF) return -1;
            f->utf8--;
            return 0;
        }
        if (c == '"') {
            if (f->cur < nd->min_len) return -1;
            st->depth--;
            return 0;
        }
        if (f->cur >= nd->max_len || (f->n >= st->schema->max_string && f->cur >= nd->min_len)) return -1;
        if (st->closing && f->cur >= nd->min_len) return -1;
        f->cur++;
        if (c == '\\') {
            f->phase = S_ESC;
            f->n += 2;
            return 0;
        }
        if (c < 0x20 || c == 0x7F) return -1;
        if (c < 0x80) {
            f->n++;
            return 0;
        }
        if (c >= 0xC2 && c <= 0xDF) f->utf8 = 1;
        else if (c >= 0xE0 && c <= 0xEF) f->utf8 = 2;
        else if (c >= 0xF0 && c <= 0xF4) f->utf8 = 3;
        else return -1;
        f->n += (uint16_t)(1 + f->utf8);
        return 0;
    case S_ESC:
        if (c == 'u') {
            f->phase = S_U;
            f->aux = 0;
            f->n += 4;
            return 0;
        }
        if (!strchr("\"\\/bfnrt", c)) return -1;
        f->phase = S_IN;
        return 0;
    case S_U: {
        int k = f->aux & 7;
        if (!is_hex(c)) return -1;
        /* \uD800-\uDFFF would be half a surrogate pair, which parsers refuse. */
        if (k == 1 && (f->aux & 8) && !(c >= '0' && c <= '7')) return -1;
        if (k == 0 && (c == 'd' || c == 'D')) f->aux |= 8;
        f->aux = (uint8_t)((f->aux & 8) | (k + 1));
        if (k + 1 == 4) f->phase = S_IN;
        return 0;
    }
    }
    return -1;
}

/* ---- numbers ----
 * The text read so far is kept in st->num. With bounds, a prefix is
 * accepted only if some completion lies in [lo, hi]: the completions of
 * integer digits v (k of them) are the ranges [v 10^j, (v+1) 10^j) for the
 * digits that may still come, those of v.ddd (d decimals) the range
 * [v.ddd, v.ddd + 10^-d). Magnitudes are checked with the sign applied. */

static bool span_ok(const jf_node *nd, bool neg, double a, double b) {
    if (!neg) return a <= nd->hi && b > nd->lo;
    return -a >= nd->lo && -b < nd->hi;
}

static bool int_prefix_ok(const jf_node *nd, bool neg, double v, int k, bool zero) {
    if (!nd->bounded) return true;
    if (zero) return span_ok(nd, neg, 0, 1);
    if (k == 0) return span_ok(nd, neg, 0, 1e15);
    double p = 1;
    for (int j = 0; j <= MAX_INT_DIGITS - k; j++, p *= 10)
        if (span_ok(nd, neg, v * p, (v + 1) * p)) return true;
    return false;
}

static bool num_in_range(const jf_state *st, const jf_node *nd) {
    if (!nd->bounded) return true;
    double x = strtod(st->num, NULL);
    return x >= nd->lo && x <= nd->hi;
}

/* Magnitude of the text so far (sign dropped). */
static double num_abs(const jf_state *st) {
    double x = strtod(st->num, NULL);
    return x < 0 ? -x : x;
}

/* Returns 0 consumed, -1 rejected, 2 the value ended before c. */
static int step_number(jf_state *st, jf_frame *f, unsigned char c) {
    const jf_node *nd = f->node;
    bool is_int = nd->kind == JN_INTEGER;
    bool room = f->n + 4 <= MAX_NUMBER_CHARS; /* for a part that needs characters after it */
    bool exp_ok = !is_int && !nd->bounded;
    int ph = f->phase, to = -1;
    if (ph == P_START && is_ws(c)) return take_ws(st, f);
    if (f->n + 1 >= (int)sizeof st->num) room = false;
    switch (ph) {
    case P_START:
        if (c == '-') {
            if (!int_prefix_ok(nd, true, 0, 0, false)) return -1;
            f->neg = 1;
            to = N_SIGN;
            break;
        }
        /* fall through */
    case N_SIGN:
        if (c == '0') {
            if (!int_prefix_ok(nd, f->neg, 0, 1, true)) return -1;
            to = N_ZERO;
        } else if (is_digit(c)) {
            if (!int_prefix_ok(nd, f->neg, c - '0', 1, false)) return -1;
            f->cur = 1;
            to = N_INT;
        }
        break;
    case N_ZERO:
    case N_INT:
        if (st->closing && num_in_range(st, nd)) return 2;
        if (ph == N_INT && is_digit(c) && f->cur < MAX_INT_DIGITS && f->n < MAX_NUMBER_CHARS &&
            int_prefix_ok(nd, f->neg, num_abs(st) * 10 + (c - '0'), f->cur + 1, false)) {
            f->cur++;
            to = N_INT;
        } else if (!is_int && c == '.' && room && span_ok(nd, f->neg, num_abs(st), num_abs(st) + 1)) {
            to = N_DOT;
            f->aux = 0;
        } else if (exp_ok && (c == 'e' || c == 'E') && room) {
            to = N_E;
        } else {
            return num_in_range(st, nd) ? 2 : -1;
        }
        break;
    case N_DOT:
    case N_FRAC:
        if (st->closing && ph == N_FRAC && num_in_range(st, nd)) return 2;
        if (is_digit(c) && f->n < MAX_NUMBER_CHARS && f->n + 1 < (int)sizeof st->num) {
            if (nd->bounded) {
                char save = st->num[f->n];
                st->num[f->n] = (char)c;
                st->num[f->n + 1] = 0;
                double x = num_abs(st), u = pow(10.0, -(f->aux + 1));
                st->num[f->n] = save;
                st->num[f->n + 1] = 0;
                if (!span_ok(nd, f->neg, x, x + u)) return ph == N_FRAC && num_in_range(st, nd) ? 2 : -1;
            }
            if (f->aux < 255) f->aux++;
            to = N_FRAC;
        } else if (ph == N_FRAC && exp_ok && (c == 'e' || c == 'E') && room) {
            to = N_E;
        } else if (ph == N_FRAC) {
            return num_in_range(st, nd) ? 2 : -1;
        }
        break;
    case N_E:
        if (c == '+' || c == '-') to = N_ESIGN;
        else if (is_digit(c)) to = N_EXP, f->aux = 1;
        break;
    case N_ESIGN:
        if (is_digit(c)) to = N_EXP, f->aux = 1;
        break;
    case N_EXP:
        if (is_digit(c) && f->aux < 2 && !st->closing) to = N_EXP, f->aux++;
        else return 2;
        break;
    }
    if (to < 0) return -1;
    f->phase = (uint8_t)to;
    st->num[f->n++] = (char)c;
    st->num[f->n] = 0;
    return 0;
}

static int step_literal(jf_state *st, jf_frame *f, unsigned char c) {
    const jf_node *n = f->node;
    if (f->phase == P_START) {
        if (is_ws(c)) return take_ws(st, f);
        f->phase = L_IN;
        f->lo = 0;
        f->hi = (uint16_t)n->n_lits;
        f->n = 0;
    }
    /* The candidates [lo, hi) share their first n bytes and are sorted, so
     * those whose next byte is c are contiguous; one of length n (complete)
     * sorts first. */
    bool complete = n->lit_len[f->lo] == f->n;
    int i = f->lo + (complete ? 1 : 0);
    while (i < f->hi && (unsigned char)n->lits[i][f->n] < c) i++;
    int start = i;
    while (i < f->hi && (unsigned char)n->lits[i][f->n] == c) i++;
    if (start == i) return complete ? 2 : -1;
    f->lo = (uint16_t)start;
    f->hi = (uint16_t)i;
    f->n++;
    if (f->hi - f->lo == 1 && n->lit_len[f->lo] == f->n) st->depth--;
    return 0;
}

int jf_step(jf_state *st, unsigned char c) {
    if (c == 0) return -1;
    for (;;) {
        if (st->depth == 0) return -1; /* nothing may follow the root value */
        jf_frame *f = &st->f[st->depth - 1];
        if (!is_ws(c)) f->ws = 0;
        int r;
        switch (f->node->kind) {
        case JN_OBJECT: r = step_object(st, f, c); break;
        case JN_ARRAY: r = step_array(st, f, c); break;
        case JN_STRING: r = step_string(st, f, c); break;
        case JN_INTEGER:
        case JN_NUMBER: r = step_number(st, f, c); break;
        case JN_LITERAL: r = step_literal(st, f, c); break;
        default: return -1;
        }
        if (r == 2) st->depth--; /* the value ended: c belongs to the enclosing frame */
        else if (r != 1) return r;
    }
}

int jf_feed(jf_state *st, const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (jf_step(st, (unsigned char)s[i])) return -1;
    return 0;
}
