/* jschema.c - checking schemas of the supported JSON Schema subset, and
 * values against them (see jschema.h).
 *
 * Both walks are recursive over nested items/properties; a depth limit keeps
 * a hostile file from exhausting the stack (cJSON itself stops at 1000).
 */
#include "agent/jschema.h"

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define MAX_DEPTH 32

static const char *k_types[] = {"string", "integer", "number", "boolean", "array", "object"};

static int whyf(char *why, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int whyf(char *why, size_t cap, const char *fmt, ...) {
    if (why && cap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, cap, fmt, ap);
        va_end(ap);
    }
    return -1;
}

int octo_jtype_parse(const char *s, octo_json_type *out) {
    for (int i = 0; i < 6; i++)
        if (s && !strcmp(s, k_types[i])) {
            *out = (octo_json_type)i;
            return 0;
        }
    return -1;
}

const char *octo_jtype_name(octo_json_type t) { return (unsigned)t < 6 ? k_types[t] : "?"; }

static const char *value_kind(const cJSON *v) {
    if (cJSON_IsString(v)) return "string";
    if (cJSON_IsNumber(v)) return "number";
    if (cJSON_IsBool(v)) return "boolean";
    if (cJSON_IsArray(v)) return "array";
    if (cJSON_IsObject(v)) return "object";
    if (cJSON_IsNull(v)) return "null";
    return "invalid";
}

static bool is_integer(const cJSON *v) {
    if (!cJSON_IsNumber(v)) return false;
    double d = v->valuedouble;
    return isfinite(d) && d == floor(d) && fabs(d) <= 9007199254740992.0;
}

static bool type_matches(octo_json_type t, const cJSON *v) {
    switch (t) {
    case OCTO_JT_STRING: return cJSON_IsString(v);
    case OCTO_JT_INTEGER: return is_integer(v);
    case OCTO_JT_NUMBER: return cJSON_IsNumber(v) && isfinite(v->valuedouble);
    case OCTO_JT_BOOLEAN: return cJSON_IsBool(v);
    case OCTO_JT_ARRAY: return cJSON_IsArray(v);
    case OCTO_JT_OBJECT: return cJSON_IsObject(v);
    }
    return false;
}

static bool is_count(const cJSON *v) { return is_integer(v) && v->valuedouble >= 0; }

/* Characters of a UTF-8 string (continuation bytes not counted). */
static size_t utf8_len(const char *s) {
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80) n++;
    return n;
}

static int check(const cJSON *s, const char *where, char *why, size_t cap, int depth) {
    if (depth > MAX_DEPTH) return whyf(why, cap, "%s: schema nested deeper than %d levels", where, MAX_DEPTH);
    if (!cJSON_IsObject(s)) return whyf(why, cap, "%s: expected a schema object", where);
    const cJSON *ty = cJSON_GetObjectItemCaseSensitive(s, "type");
    octo_json_type t;
    if (!ty) return whyf(why, cap, "%s.type: missing (one of string, integer, number, boolean, array, object)", where);
    if (!cJSON_IsString(ty) || octo_jtype_parse(ty->valuestring, &t) != 0)
        return whyf(why, cap, "%s.type: expected one of string, integer, number, boolean, array, object", where);
    char sub[512];
    const cJSON *k;
    cJSON_ArrayForEach(k, s) {
        const char *n = k->string ? k->string : "";
        if (!strcmp(n, "type") || !strcmp(n, "title") || !strcmp(n, "default") || !strcmp(n, "examples") ||
            !strcmp(n, "format")) {
            continue;
        } else if (!strcmp(n, "description") || !strcmp(n, "pattern")) {
            if (!cJSON_IsString(k)) return whyf(why, cap, "%s.%s: expected a string", where, n);
        } else if (!strcmp(n, "enum")) {
            if (!cJSON_IsArray(k) || cJSON_GetArraySize(k) == 0)
                return whyf(why, cap, "%s.enum: expected a non-empty array", where);
            int i = 0;
            const cJSON *e;
            cJSON_ArrayForEach(e, k) {
                if (!type_matches(t, e))
                    return whyf(why, cap, "%s.enum[%d]: expected a %s like the type says", where, i, k_types[t]);
                i++;
            }
        } else if (!strcmp(n, "items")) {
            if (t != OCTO_JT_ARRAY) return whyf(why, cap, "%s.items: only for type array", where);
            snprintf(sub, sizeof sub, "%s.items", where);
            if (check(k, sub, why, cap, depth + 1)) return -1;
        } else if (!strcmp(n, "properties")) {
            if (t != OCTO_JT_OBJECT) return whyf(why, cap, "%s.properties: only for type object", where);
            if (!cJSON_IsObject(k)) return whyf(why, cap, "%s.properties: expected an object", where);
            const cJSON *p;
            cJSON_ArrayForEach(p, k) {
                if (!p->string || !p->string[0]) return whyf(why, cap, "%s.properties: empty property name", where);
                for (const cJSON *q = k->child; q != p; q = q->next)
                    if (!strcmp(q->string, p->string))
                        return whyf(why, cap, "%s.properties.%.64s: defined twice", where, p->string);
                snprintf(sub, sizeof sub, "%s.properties.%.64s", where, p->string);
                if (check(p, sub, why, cap, depth + 1)) return -1;
            }
        } else if (!strcmp(n, "required")) {
            if (t != OCTO_JT_OBJECT) return whyf(why, cap, "%s.required: only for type object", where);
            if (!cJSON_IsArray(k)) return whyf(why, cap, "%s.required: expected an array of property names", where);
            const cJSON *props = cJSON_GetObjectItemCaseSensitive(s, "properties");
            int i = 0;
            const cJSON *e;
            cJSON_ArrayForEach(e, k) {
                if (!cJSON_IsString(e)) return whyf(why, cap, "%s.required[%d]: expected a string", where, i);
                if (!cJSON_GetObjectItemCaseSensitive(props, e->valuestring))
                    return whyf(why, cap, "%s.required[%d]: \"%.64s\" is not in properties", where, i, e->valuestring);
                i++;
            }
        } else if (!strcmp(n, "additionalProperties")) {
            if (t != OCTO_JT_OBJECT || !cJSON_IsBool(k))
                return whyf(why, cap, "%s.additionalProperties: expected true or false on an object", where);
        } else if (!strcmp(n, "minimum") || !strcmp(n, "maximum")) {
            if (t != OCTO_JT_INTEGER && t != OCTO_JT_NUMBER)
                return whyf(why, cap, "%s.%s: only for integer or number", where, n);
            if (!cJSON_IsNumber(k)) return whyf(why, cap, "%s.%s: expected a number", where, n);
        } else if (!strcmp(n, "minLength") || !strcmp(n, "maxLength")) {
            if (t != OCTO_JT_STRING) return whyf(why, cap, "%s.%s: only for type string", where, n);
            if (!is_count(k)) return whyf(why, cap, "%s.%s: expected a non-negative integer", where, n);
        } else if (!strcmp(n, "minItems") || !strcmp(n, "maxItems")) {
            if (t != OCTO_JT_ARRAY) return whyf(why, cap, "%s.%s: only for type array", where, n);
            if (!is_count(k)) return whyf(why, cap, "%s.%s: expected a non-negative integer", where, n);
        } else {
            return whyf(why, cap,
                        "%s.%.64s: unknown keyword (supported: type, description, enum, items, properties, required, "
                        "additionalProperties, minimum, maximum, minLength, maxLength, minItems, maxItems, and the "
                        "annotations title, default, examples, format, pattern)",
                        where, n);
        }
    }
    return 0;
}

int octo_jschema_check(const cJSON *schema, const char *where, char *why, size_t cap) {
    return check(schema, where, why, cap, 0);
}

static double num(const cJSON *s, const char *k, double dflt) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(s, k);
    return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

static int validate(const cJSON *s, const cJSON *v, const char *where, char *why, size_t cap, int depth) {
    if (depth > MAX_DEPTH) return whyf(why, cap, "%s: nested deeper than %d levels", where, MAX_DEPTH);
    const cJSON *ty = cJSON_GetObjectItemCaseSensitive(s, "type");
    octo_json_type t;
    if (!cJSON_IsString(ty) || octo_jtype_parse(ty->valuestring, &t) != 0)
        return whyf(why, cap, "%s: the schema has no valid type", where);
    if (!type_matches(t, v)) return whyf(why, cap, "%s: expected %s, got %s", where, k_types[t], value_kind(v));
    const cJSON *en = cJSON_GetObjectItemCaseSensitive(s, "enum");
    if (en) {
        const cJSON *e;
        bool found = false;
        cJSON_ArrayForEach(e, en) {
            if (cJSON_Compare(e, v, true)) found = true;
        }
        if (!found) {
            char list[200] = "";
            size_t o = 0;
            cJSON_ArrayForEach(e, en) {
                if (o + 4 >= sizeof list) break;
                char *p = cJSON_PrintUnformatted(e);
                if (!p) break;
                o += (size_t)snprintf(list + o, sizeof list - o, "%s%s", o ? ", " : "", p);
                if (o >= sizeof list) o = sizeof list - 1;
                cJSON_free(p);
            }
            return whyf(why, cap, "%s: not one of the allowed values (%s)", where, list);
        }
    }
    char sub[512];
    switch (t) {
    case OCTO_JT_STRING: {
        size_t n = utf8_len(v->valuestring);
        if ((double)n < num(s, "minLength", 0)) return whyf(why, cap, "%s: shorter than minLength", where);
        if ((double)n > num(s, "maxLength", INFINITY)) return whyf(why, cap, "%s: longer than maxLength", where);
        break;
    }
    case OCTO_JT_INTEGER:
    case OCTO_JT_NUMBER:
        if (v->valuedouble < num(s, "minimum", -INFINITY))
            return whyf(why, cap, "%s: %g is below the minimum %g", where, v->valuedouble, num(s, "minimum", 0));
        if (v->valuedouble > num(s, "maximum", INFINITY))
            return whyf(why, cap, "%s: %g is above the maximum %g", where, v->valuedouble, num(s, "maximum", 0));
        break;
    case OCTO_JT_BOOLEAN: break;
    case OCTO_JT_ARRAY: {
        int n = cJSON_GetArraySize(v);
        if (n < num(s, "minItems", 0)) return whyf(why, cap, "%s: fewer than minItems elements", where);
        if (n > num(s, "maxItems", INFINITY)) return whyf(why, cap, "%s: more than maxItems elements", where);
        const cJSON *items = cJSON_GetObjectItemCaseSensitive(s, "items");
        if (items) {
            int i = 0;
            const cJSON *e;
            cJSON_ArrayForEach(e, v) {
                snprintf(sub, sizeof sub, "%s[%d]", where, i++);
                if (validate(items, e, sub, why, cap, depth + 1)) return -1;
            }
        }
        break;
    }
    case OCTO_JT_OBJECT: {
        const cJSON *props = cJSON_GetObjectItemCaseSensitive(s, "properties");
        const cJSON *addl = cJSON_GetObjectItemCaseSensitive(s, "additionalProperties");
        /* with properties listed, other names are refused unless allowed */
        bool closed = props && !cJSON_IsTrue(addl);
        if (cJSON_IsFalse(addl)) closed = true;
        const cJSON *e;
        cJSON_ArrayForEach(e, v) {
            const char *name = e->string ? e->string : "";
            for (const cJSON *q = v->child; q != e; q = q->next)
                if (q->string && !strcmp(q->string, name))
                    return whyf(why, cap, "%s.%.64s: given twice", where, name);
            const cJSON *ps = cJSON_GetObjectItemCaseSensitive(props, name);
            if (!ps) {
                if (closed) return whyf(why, cap, "%s.%.64s: unknown name", where, name);
                continue;
            }
            snprintf(sub, sizeof sub, "%s.%.64s", where, name);
            if (validate(ps, e, sub, why, cap, depth + 1)) return -1;
        }
        const cJSON *req = cJSON_GetObjectItemCaseSensitive(s, "required");
        cJSON_ArrayForEach(e, req) {
            if (cJSON_IsString(e) && !cJSON_GetObjectItemCaseSensitive(v, e->valuestring))
                return whyf(why, cap, "%s.%.64s: required but missing", where, e->valuestring);
        }
        break;
    }
    }
    return 0;
}

int octo_jschema_validate(const cJSON *schema, const cJSON *v, const char *where, char *why, size_t cap) {
    return validate(schema, v, where, why, cap, 0);
}
