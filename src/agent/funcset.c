/* funcset.c - loading and validating function-set files (see funcset.h),
 * checking call arguments, and finding the shipped sets.
 *
 * A function set is the contract between the training data, the models and
 * the handlers that act, so everything is checked once at load time with a
 * message naming the file and the JSON path; later stages trust it.
 */
#include "agent/funcset.h"
#include "agent/jschema.h"
#include "base/error.h"
#include "base/file.h"

#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_FUNCTIONS 4096
#define MAX_ARGV 256
#define DEFAULT_TIMEOUT_MS 10000

/* Parsing state: the origin for messages and the first error. */
typedef struct {
    const char *origin;
    const char *profile;
    char why[768];
    char *dir; /* the file's absolute directory, braces doubled: what {dir} becomes */
} parse_ctx;

static int pfail(parse_ctx *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int pfail(parse_ctx *p, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->why, sizeof p->why, fmt, ap);
    va_end(ap);
    return -1;
}

static char *xstrdup(const char *s) { return s ? strdup(s) : NULL; }

/* OpenAI's rule for function names, which also keeps them usable as
 * functional-token text: 1-64 of [A-Za-z0-9_-]. */
static bool valid_function_name(const char *s) {
    size_t n = strlen(s);
    if (n == 0 || n > 64) return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-') return false;
    return true;
}

/* Placeholders of an argv element: calls fn(name, len) for each "{name}"
 * where name is an identifier; "{{" and "}}" are literal braces. Returns
 * the first non-zero fn result. */
typedef int (*placeholder_fn)(void *user, const char *name, size_t len);
static int scan_placeholders(const char *s, placeholder_fn fn, void *user) {
    for (const char *p = s; *p; p++) {
        if ((p[0] == '{' && p[1] == '{') || (p[0] == '}' && p[1] == '}')) {
            p++;
            continue;
        }
        if (*p != '{') continue;
        const char *q = p + 1;
        while (isalnum((unsigned char)*q) || *q == '_' || *q == '-' || *q == '.') q++;
        if (*q == '}' && q > p + 1) {
            int r = fn(user, p + 1, (size_t)(q - p - 1));
            if (r) return r;
            p = q;
        }
    }
    return 0;
}

static int ph_any(void *user, const char *name, size_t len) {
    (void)user, (void)name, (void)len;
    return 1;
}

typedef struct {
    const octo_function *f;
    const char **bad;
    size_t *bad_len;
} ph_check;

static int ph_known(void *user, const char *name, size_t len) {
    ph_check *c = user;
    for (int i = 0; i < c->f->n_params; i++)
        if (strlen(c->f->params[i].name) == len && !memcmp(c->f->params[i].name, name, len))
            return len == 3 && !memcmp(name, "dir", 3) ? 2 : 0;
    if (len == 3 && !memcmp(name, "dir", 3)) return 0;
    *c->bad = name;
    *c->bad_len = len;
    return 1;
}

/* Replace the reserved {dir} placeholder by the set file's directory (whose
 * braces are already doubled, so the result is still a valid template). */
static char *resolve_dir(const char *t, const char *dir) {
    size_t n = strlen(t), dn = strlen(dir), cnt = 0;
    for (const char *q = t; (q = strstr(q, "{dir}")); q += 5) cnt++;
    char *out = malloc(n + cnt * dn + 1);
    if (!out) return NULL;
    size_t o = 0;
    for (const char *p = t; *p;) {
        if ((p[0] == '{' && p[1] == '{') || (p[0] == '}' && p[1] == '}')) {
            out[o++] = *p++;
            out[o++] = *p++;
        } else if (!strncmp(p, "{dir}", 5)) {
            memcpy(out + o, dir, dn);
            o += dn;
            p += 5;
        } else {
            out[o++] = *p++;
        }
    }
    out[o] = 0;
    return out;
}

/* Absolute directory of origin (the cwd when it names no file), braces doubled. */
static char *origin_dir(const char *origin) {
    char buf[PATH_MAX], *abs = origin ? realpath(origin, NULL) : NULL;
    const char *d;
    if (abs) {
        char *slash = strrchr(abs, '/');
        if (slash && slash != abs) *slash = 0;
        else if (slash) slash[1] = 0;
        d = abs;
    } else {
        d = getcwd(buf, sizeof buf) ? buf : ".";
    }
    size_t n = strlen(d);
    char *out = malloc(2 * n + 1);
    if (out) {
        size_t o = 0;
        for (size_t i = 0; i < n; i++) {
            out[o++] = d[i];
            if (d[i] == '{' || d[i] == '}') out[o++] = d[i];
        }
        out[o] = 0;
    }
    free(abs);
    return out;
}

static int timeout_of(parse_ctx *p, const cJSON *h, const char *where, int *out) {
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(h, "timeout_ms");
    *out = DEFAULT_TIMEOUT_MS;
    if (!t) return 0;
    if (!cJSON_IsNumber(t) || t->valuedouble < 1 || t->valuedouble > 3600000 || t->valuedouble != (int)t->valuedouble)
        return pfail(p, "%s.timeout_ms: expected an integer from 1 to 3600000", where);
    *out = (int)t->valuedouble;
    return 0;
}

static int parse_handler(parse_ctx *p, const cJSON *h, const char *where, octo_function *f) {
    octo_handler *hd = &f->handler;
    if (!cJSON_IsObject(h)) return pfail(p, "%s: expected an object {\"exec\": [...]} or {\"http\": \"URL\"}", where);
    const cJSON *k;
    cJSON_ArrayForEach(k, h) {
        const char *n = k->string ? k->string : "";
        if (strcmp(n, "exec") && strcmp(n, "http") && strcmp(n, "timeout_ms") && strcmp(n, "description"))
            return pfail(p, "%s.%.64s: unknown key (expected exec or http, timeout_ms, description)", where, n);
    }
    const cJSON *ex = cJSON_GetObjectItemCaseSensitive(h, "exec");
    const cJSON *ht = cJSON_GetObjectItemCaseSensitive(h, "http");
    if ((ex != NULL) == (ht != NULL)) return pfail(p, "%s: expected exactly one of \"exec\" and \"http\"", where);
    if (timeout_of(p, h, where, &hd->timeout_ms)) return -1;
    if (ht) {
        if (!cJSON_IsString(ht) || (strncmp(ht->valuestring, "http://", 7) && strncmp(ht->valuestring, "https://", 8)))
            return pfail(p, "%s.http: expected an http:// or https:// URL", where);
        hd->kind = OCTO_HANDLER_HTTP;
        if (!(hd->url = strdup(ht->valuestring))) return pfail(p, "out of memory");
        return 0;
    }
    int n = cJSON_GetArraySize(ex);
    if (!cJSON_IsArray(ex) || n < 1 || n > MAX_ARGV)
        return pfail(p, "%s.exec: expected an array of 1 to %d strings (program, arguments)", where, MAX_ARGV);
    hd->argv = calloc((size_t)n + 1, sizeof *hd->argv);
    if (!hd->argv) return pfail(p, "out of memory");
    hd->kind = OCTO_HANDLER_EXEC;
    const cJSON *e;
    cJSON_ArrayForEach(e, ex) {
        int i = hd->argc;
        if (!cJSON_IsString(e)) return pfail(p, "%s.exec[%d]: expected a string", where, i);
        if (!(hd->argv[i] = strdup(e->valuestring))) return pfail(p, "out of memory");
        hd->argc++;
        const char *bad = NULL;
        size_t bad_len = 0;
        ph_check c = {f, &bad, &bad_len};
        int sc = scan_placeholders(e->valuestring, ph_known, &c);
        if (sc == 2)
            return pfail(p, "%s.exec[%d]: {dir} is reserved (the set's directory) but %s has a parameter \"dir\"",
                         where, i, f->name);
        if (sc)
            return pfail(p, "%s.exec[%d]: placeholder {%.*s} names no parameter of %s", where, i, (int)bad_len, bad,
                         f->name);
        char *resolved = resolve_dir(hd->argv[i], p->dir);
        if (!resolved) return pfail(p, "out of memory");
        free(hd->argv[i]);
        hd->argv[i] = resolved;
        if (i == 0 && (!hd->argv[0][0] || scan_placeholders(hd->argv[0], ph_any, NULL)))
            return pfail(p, "%s.exec[0]: the program must be a fixed, non-empty name, not a placeholder", where);
    }
    return 0;
}

/* "handler": one handler; "handlers": {"profile": handler, ...} picks the
 * active profile's entry, else "default", else none. */
static int parse_handlers(parse_ctx *p, const cJSON *outer, const cJSON *inner, const char *where, octo_function *f) {
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(inner, "handler");
    const cJSON *hs = cJSON_GetObjectItemCaseSensitive(inner, "handlers");
    if (!h && !hs && outer != inner) {
        h = cJSON_GetObjectItemCaseSensitive(outer, "handler");
        hs = cJSON_GetObjectItemCaseSensitive(outer, "handlers");
    }
    char sub[256];
    if (h && hs) return pfail(p, "%s: give either \"handler\" or \"handlers\", not both", where);
    if (h) {
        snprintf(sub, sizeof sub, "%s.handler", where);
        return parse_handler(p, h, sub, f);
    }
    if (!hs) return 0;
    if (!cJSON_IsObject(hs)) return pfail(p, "%s.handlers: expected an object {\"profile\": handler, ...}", where);
    const cJSON *pick = NULL, *e;
    cJSON_ArrayForEach(e, hs) {
        /* every profile's entry is checked, not only the active one */
        snprintf(sub, sizeof sub, "%s.handlers.%.64s", where, e->string ? e->string : "");
        octo_function probe = *f;
        memset(&probe.handler, 0, sizeof probe.handler);
        int rc = parse_handler(p, e, sub, &probe);
        for (int i = 0; i < probe.handler.argc; i++) free(probe.handler.argv[i]);
        free(probe.handler.argv);
        free(probe.handler.url);
        if (rc) return -1;
        if (e->string && p->profile && !strcmp(e->string, p->profile)) pick = e;
    }
    if (!pick) pick = cJSON_GetObjectItemCaseSensitive(hs, "default");
    if (!pick) return 0;
    snprintf(sub, sizeof sub, "%s.handlers.%.64s", where, pick->string);
    return parse_handler(p, pick, sub, f);
}

static int parse_params(parse_ctx *p, octo_function *f, const cJSON *params, const char *where) {
    char sub[256];
    if (!params) {
        f->parameters = cJSON_Parse("{\"type\":\"object\",\"properties\":{},\"required\":[]}");
        return f->parameters ? 0 : pfail(p, "out of memory");
    }
    if (!cJSON_IsObject(params)) return pfail(p, "%s: expected a JSON Schema object", where);
    const cJSON *ty = cJSON_GetObjectItemCaseSensitive(params, "type");
    if (!cJSON_IsString(ty) || strcmp(ty->valuestring, "object"))
        return pfail(p, "%s.type: expected \"object\"", where);
    if (octo_jschema_check(params, where, p->why, sizeof p->why)) return -1;
    if (!(f->parameters = cJSON_Duplicate(params, 1))) return pfail(p, "out of memory");
    const cJSON *props = cJSON_GetObjectItemCaseSensitive(f->parameters, "properties");
    const cJSON *req = cJSON_GetObjectItemCaseSensitive(f->parameters, "required");
    int n = cJSON_GetArraySize(props);
    f->params = calloc(n > 0 ? (size_t)n : 1, sizeof *f->params);
    if (!f->params) return pfail(p, "out of memory");
    const cJSON *e;
    cJSON_ArrayForEach(e, props) {
        octo_fparam *fp = &f->params[f->n_params++];
        fp->schema = e;
        fp->name = strdup(e->string);
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(e, "type");
        octo_jtype_parse(t->valuestring, &fp->type);
        const cJSON *d = cJSON_GetObjectItemCaseSensitive(e, "description");
        fp->description = xstrdup(cJSON_IsString(d) ? d->valuestring : "");
        if (!fp->name || !fp->description) return pfail(p, "out of memory");
        const cJSON *r;
        cJSON_ArrayForEach(r, req) {
            if (!strcmp(r->valuestring, fp->name)) fp->required = true;
        }
        const cJSON *en = cJSON_GetObjectItemCaseSensitive(e, "enum");
        if (en && fp->type == OCTO_JT_STRING) {
            fp->enum_values = calloc((size_t)cJSON_GetArraySize(en), sizeof *fp->enum_values);
            if (!fp->enum_values) return pfail(p, "out of memory");
            const cJSON *v;
            cJSON_ArrayForEach(v, en) {
                if (!(fp->enum_values[fp->n_enum++] = strdup(v->valuestring))) return pfail(p, "out of memory");
            }
        }
    }
    (void)sub;
    return 0;
}

static int parse_function(parse_ctx *p, const cJSON *item, int idx, octo_funcset *fs) {
    char where[128];
    snprintf(where, sizeof where, "functions[%d]", idx);
    if (!cJSON_IsObject(item)) return pfail(p, "%s: expected an object", where);
    const cJSON *inner = item;
    const cJSON *ty = cJSON_GetObjectItemCaseSensitive(item, "type");
    const cJSON *fnobj = cJSON_GetObjectItemCaseSensitive(item, "function");
    if (ty || fnobj) { /* the OpenAI tools wrapper */
        if (!cJSON_IsString(ty) || strcmp(ty->valuestring, "function"))
            return pfail(p, "%s.type: expected \"function\"", where);
        if (!cJSON_IsObject(fnobj)) return pfail(p, "%s.function: expected an object", where);
        const cJSON *k;
        cJSON_ArrayForEach(k, item) {
            const char *n = k->string ? k->string : "";
            if (strcmp(n, "type") && strcmp(n, "function") && strcmp(n, "handler") && strcmp(n, "handlers"))
                return pfail(p, "%s.%.64s: unknown key (expected type, function, handler)", where, n);
        }
        inner = fnobj;
        snprintf(where, sizeof where, "functions[%d].function", idx);
    }
    const cJSON *k;
    cJSON_ArrayForEach(k, inner) {
        const char *n = k->string ? k->string : "";
        if (strcmp(n, "name") && strcmp(n, "description") && strcmp(n, "parameters") && strcmp(n, "handler") &&
            strcmp(n, "handlers") && strcmp(n, "strict"))
            return pfail(p, "%s.%.64s: unknown key (expected name, description, parameters, handler)", where, n);
    }
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(inner, "name");
    if (!cJSON_IsString(name) || !valid_function_name(name->valuestring))
        return pfail(p, "%s.name: expected 1-64 characters of A-Z a-z 0-9 _ -", where);
    for (int i = 0; i < fs->n; i++)
        if (!strcmp(fs->fns[i].name, name->valuestring))
            return pfail(p, "%s.name: \"%s\" is defined twice (also functions[%d])", where, name->valuestring, i);
    const cJSON *desc = cJSON_GetObjectItemCaseSensitive(inner, "description");
    if (desc && !cJSON_IsString(desc)) return pfail(p, "%s.description: expected a string", where);
    octo_function *f = &fs->fns[fs->n++];
    memset(f, 0, sizeof *f);
    f->name = strdup(name->valuestring);
    f->description = strdup(desc ? desc->valuestring : "");
    if (!f->name || !f->description) return pfail(p, "out of memory");
    char sub[160];
    snprintf(sub, sizeof sub, "%s.parameters", where);
    if (parse_params(p, f, cJSON_GetObjectItemCaseSensitive(inner, "parameters"), sub)) return -1;
    return parse_handlers(p, item, inner, where, f);
}

static void free_function(octo_function *f) {
    free(f->name);
    free(f->description);
    for (int i = 0; i < f->n_params; i++) {
        free(f->params[i].name);
        free(f->params[i].description);
        for (int k = 0; k < f->params[i].n_enum; k++) free(f->params[i].enum_values[k]);
        free(f->params[i].enum_values);
    }
    free(f->params);
    cJSON_Delete(f->parameters);
    for (int i = 0; i < f->handler.argc; i++) free(f->handler.argv[i]);
    free(f->handler.argv);
    free(f->handler.url);
}

void octo_funcset_free(octo_funcset *fs) {
    if (!fs) return;
    for (int i = 0; i < fs->n; i++) free_function(&fs->fns[i]);
    free(fs->fns);
    free(fs->name);
    free(fs->description);
    free(fs->path);
    free(fs);
}

/* The set's name when the file gives none: the basename without .json. */
static char *name_from_origin(const char *origin) {
    const char *b = strrchr(origin, '/');
    b = b ? b + 1 : origin;
    size_t n = strlen(b);
    if (n > 5 && !strcmp(b + n - 5, ".json")) n -= 5;
    return strndup(b, n);
}

const char *octo_funcset_default_profile(void) {
    const char *e = getenv("OCTO_HANDLERS");
    if (e && *e) return e;
    const char *prefix = getenv("PREFIX");
    if ((prefix && strstr(prefix, "com.termux")) || access("/data/data/com.termux", F_OK) == 0) return "termux";
    return "linux";
}

octo_funcset *octo_funcset_parse_profile(const char *json, size_t len, const char *origin, const char *profile) {
    parse_ctx p = {origin ? origin : "<memory>", profile ? profile : octo_funcset_default_profile(), "", NULL};
    cJSON *root = cJSON_ParseWithLength(json, len);
    if (!root || !(p.dir = origin_dir(origin))) {
        if (root) {
            cJSON_Delete(root);
            octo_fail("%s: out of memory", p.origin);
            return NULL;
        }
        const char *at = cJSON_GetErrorPtr();
        long off = (at && at >= json && at <= json + len) ? (long)(at - json) : -1;
        long line = 1;
        for (long i = 0; i < off; i++)
            if (json[i] == '\n') line++;
        octo_fail("%s:%ld: not valid JSON (near byte %ld)", p.origin, line, off);
        return NULL;
    }
    octo_funcset *fs = calloc(1, sizeof *fs);
    const cJSON *fns = root;
    if (!fs) {
        pfail(&p, "out of memory");
        goto fail;
    }
    if (cJSON_IsObject(root)) {
        const cJSON *k;
        cJSON_ArrayForEach(k, root) {
            const char *n = k->string ? k->string : "";
            if (strcmp(n, "name") && strcmp(n, "description") && strcmp(n, "functions") && strcmp(n, "version") &&
                strcmp(n, "notes")) {
                pfail(&p, "%.64s: unknown key (expected name, description, functions)", n);
                goto fail;
            }
        }
        fns = cJSON_GetObjectItemCaseSensitive(root, "functions");
        const cJSON *nm = cJSON_GetObjectItemCaseSensitive(root, "name");
        const cJSON *ds = cJSON_GetObjectItemCaseSensitive(root, "description");
        if ((nm && (!cJSON_IsString(nm) || !nm->valuestring[0])) || (ds && !cJSON_IsString(ds))) {
            pfail(&p, "%s: expected a string", nm && !cJSON_IsString(nm) ? "name" : "description");
            goto fail;
        }
        fs->name = xstrdup(nm ? nm->valuestring : NULL);
        fs->description = xstrdup(ds ? ds->valuestring : NULL);
        if (!cJSON_IsArray(fns)) {
            pfail(&p, "functions: expected an array of functions");
            goto fail;
        }
    } else if (!cJSON_IsArray(root)) {
        pfail(&p, "expected an object {\"name\", \"functions\": [...]} or an array of functions");
        goto fail;
    }
    int n = cJSON_GetArraySize(fns);
    if (n < 1 || n > MAX_FUNCTIONS) {
        pfail(&p, "functions: expected 1 to %d functions, got %d", MAX_FUNCTIONS, n);
        goto fail;
    }
    if (!(fs->fns = calloc((size_t)n, sizeof *fs->fns))) {
        pfail(&p, "out of memory");
        goto fail;
    }
    int i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, fns) {
        if (parse_function(&p, it, i++, fs)) goto fail;
    }
    if (!fs->name) fs->name = name_from_origin(p.origin);
    if (!fs->description) fs->description = strdup("");
    fs->path = strdup(p.origin);
    if (!fs->name || !fs->description || !fs->path) {
        pfail(&p, "out of memory");
        goto fail;
    }
    cJSON_Delete(root);
    free(p.dir);
    return fs;
fail:
    cJSON_Delete(root);
    free(p.dir);
    octo_funcset_free(fs);
    octo_fail("%s: %s", p.origin, p.why);
    return NULL;
}

octo_funcset *octo_funcset_parse(const char *json, size_t len, const char *origin) {
    return octo_funcset_parse_profile(json, len, origin, NULL);
}

octo_funcset *octo_funcset_load_profile(const char *path, const char *profile) {
    size_t n;
    char *text = octo_read_file(path, &n);
    if (!text) return NULL;
    octo_funcset *fs = octo_funcset_parse_profile(text, n, path, profile);
    free(text);
    return fs;
}

octo_funcset *octo_funcset_load(const char *path) { return octo_funcset_load_profile(path, NULL); }

int octo_funcset_find(const octo_funcset *fs, const char *name) {
    if (!fs || !name) return -1;
    for (int i = 0; i < fs->n; i++)
        if (!strcmp(fs->fns[i].name, name)) return i;
    return -1;
}

int octo_args_validate(const octo_function *f, const cJSON *args, char *why, size_t cap) {
    if (!cJSON_IsObject(args)) {
        if (why && cap) snprintf(why, cap, "%s: arguments: expected an object", f->name);
        return -1;
    }
    char where[128];
    const cJSON *e;
    cJSON_ArrayForEach(e, args) {
        const char *name = e->string ? e->string : "";
        for (const cJSON *q = args->child; q != e; q = q->next)
            if (q->string && !strcmp(q->string, name)) {
                if (why && cap) snprintf(why, cap, "argument \"%.64s\": given twice", name);
                return -1;
            }
        const octo_fparam *fp = NULL;
        for (int i = 0; i < f->n_params; i++)
            if (!strcmp(f->params[i].name, name)) fp = &f->params[i];
        if (!fp && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(f->parameters, "additionalProperties"))) continue;
        if (!fp) {
            if (why && cap) {
                int o = snprintf(why, cap, "argument \"%.64s\": unknown to %s (it takes:", name, f->name);
                for (int i = 0; i < f->n_params && o > 0 && (size_t)o < cap; i++)
                    o += snprintf(why + o, cap - (size_t)o, " %s", f->params[i].name);
                if (o > 0 && (size_t)o < cap) snprintf(why + o, cap - (size_t)o, "%s)", f->n_params ? "" : " nothing");
            }
            return -1;
        }
        snprintf(where, sizeof where, "argument \"%.64s\"", name);
        if (octo_jschema_validate(fp->schema, e, where, why, cap)) return -1;
    }
    for (int i = 0; i < f->n_params; i++)
        if (f->params[i].required && !cJSON_GetObjectItemCaseSensitive(args, f->params[i].name)) {
            if (why && cap) snprintf(why, cap, "argument \"%.64s\": required by %s but missing", f->params[i].name, f->name);
            return -1;
        }
    return 0;
}

static bool is_file(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

char *octo_funcset_path(const char *name) {
    if (!name || !name[0]) {
        octo_fail("function set: empty name");
        return NULL;
    }
    size_t n = strlen(name);
    if (strchr(name, '/') || (n > 5 && !strcmp(name + n - 5, ".json"))) {
        if (is_file(name)) return strdup(name);
        octo_fail("%s: no such function-set file", name);
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        if ((!isalnum((unsigned char)name[i]) && name[i] != '_' && name[i] != '-') || n > 64) {
            octo_fail("function set \"%s\": not a set name (up to 64 letters, digits, _ and -)", name);
            return NULL;
        }
    char dirs[6][PATH_MAX + 64];
    int nd = 0;
    const char *env = getenv("OCTO_DATA_DIR");
    if (env && *env) {
        snprintf(dirs[nd++], sizeof dirs[0], "%s/functions", env);
        snprintf(dirs[nd++], sizeof dirs[0], "%s", env);
    }
    char exe[PATH_MAX];
    ssize_t k = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (k > 0) {
        exe[k] = 0;
        char *slash = strrchr(exe, '/');
        if (slash) *slash = 0;
        snprintf(dirs[nd++], sizeof dirs[0], "%s/../functions", exe);
        snprintf(dirs[nd++], sizeof dirs[0], "%s/../share/octo/functions", exe);
        snprintf(dirs[nd++], sizeof dirs[0], "%s/../../functions", exe); /* build/tests/x */
    }
    snprintf(dirs[nd++], sizeof dirs[0], "functions");
    char path[sizeof dirs[0] + 80];
    for (int i = 0; i < nd; i++) {
        snprintf(path, sizeof path, "%.4159s/%.64s.json", dirs[i], name);
        if (is_file(path)) {
            char *real = realpath(path, NULL); /* "/usr/bin/../functions/x.json" -> "/usr/functions/x.json" */
            return real ? real : strdup(path);
        }
    }
    octo_fail("function set \"%s\": not found (looked in $OCTO_DATA_DIR/functions, beside the executable, ./functions)",
              name);
    return NULL;
}
