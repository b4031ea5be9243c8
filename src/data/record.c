/* record.c - the canonical dataset record: parse, print, read JSONL files
 * (see record.h).
 *
 * Parsing is strict about the four known fields (a record that every later
 * stage can trust: a non-empty query, steps and calls aligned one to one,
 * arguments an object) and keeps every other field untouched in `extra`, so
 * rewriting a file never loses what another stage put there (ids, links,
 * templates).
 */
#include "data/record.h"
#include "base/error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static int why_set(char *why, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int why_set(char *why, size_t cap, const char *fmt, ...) {
    if (why && cap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, cap, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static bool is_known_field(const char *k) {
    return k && (!strcmp(k, "query") || !strcmp(k, "steps") || !strcmp(k, "calls") || !strcmp(k, "domains"));
}

/* Strings of a JSON array into a heap vector; field names the array in errors. */
static int string_array(const cJSON *arr, const char *field, char ***out, int *n_out, char *why, size_t cap) {
    *out = NULL;
    *n_out = 0;
    if (!cJSON_IsArray(arr)) return why_set(why, cap, "\"%s\": expected an array of strings", field);
    int n = cJSON_GetArraySize(arr);
    char **v = calloc(n > 0 ? (size_t)n : 1, sizeof *v);
    if (!v) return why_set(why, cap, "out of memory");
    int i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, arr) {
        if (!cJSON_IsString(e) || !e->valuestring) {
            for (int k = 0; k < i; k++) free(v[k]);
            free(v);
            return why_set(why, cap, "\"%s\"[%d]: expected a string", field, i);
        }
        if (!(v[i] = strdup(e->valuestring))) {
            for (int k = 0; k < i; k++) free(v[k]);
            free(v);
            return why_set(why, cap, "out of memory");
        }
        i++;
    }
    *out = v;
    *n_out = i;
    return 0;
}

static bool blank(const char *s) {
    for (; *s; s++)
        if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r') return false;
    return true;
}

int octo_record_from_json(const cJSON *j, octo_record *r, char *why, size_t cap) {
    memset(r, 0, sizeof *r);
    if (!cJSON_IsObject(j)) return why_set(why, cap, "expected a JSON object");
    const cJSON *q = cJSON_GetObjectItemCaseSensitive(j, "query");
    if (!cJSON_IsString(q) || !q->valuestring) return why_set(why, cap, "\"query\": expected a string");
    if (blank(q->valuestring)) return why_set(why, cap, "\"query\": empty");
    if (string_array(cJSON_GetObjectItemCaseSensitive(j, "steps"), "steps", &r->steps, &r->n_steps, why, cap))
        goto fail;
    for (int i = 0; i < r->n_steps; i++)
        if (blank(r->steps[i])) {
            why_set(why, cap, "\"steps\"[%d]: empty", i);
            goto fail;
        }
    const cJSON *calls = cJSON_GetObjectItemCaseSensitive(j, "calls");
    if (!cJSON_IsArray(calls)) {
        why_set(why, cap, "\"calls\": expected an array of {\"function\", \"arguments\"}");
        goto fail;
    }
    int nc = cJSON_GetArraySize(calls);
    if (nc == 0 || r->n_steps == 0) {
        why_set(why, cap, "no steps or no calls (%d steps, %d calls)", r->n_steps, nc);
        goto fail;
    }
    if (nc != r->n_steps) {
        why_set(why, cap, "%d steps but %d calls: steps and calls must be aligned one to one", r->n_steps, nc);
        goto fail;
    }
    r->calls = calloc((size_t)nc, sizeof *r->calls);
    if (!r->calls) {
        why_set(why, cap, "out of memory");
        goto fail;
    }
    const cJSON *c;
    cJSON_ArrayForEach(c, calls) {
        int i = r->n_calls;
        const cJSON *fn = cJSON_GetObjectItemCaseSensitive(c, "function");
        if (!cJSON_IsObject(c) || !cJSON_IsString(fn) || !fn->valuestring || !fn->valuestring[0]) {
            why_set(why, cap, "\"calls\"[%d].function: expected a non-empty string", i);
            goto fail;
        }
        const cJSON *args = cJSON_GetObjectItemCaseSensitive(c, "arguments");
        if (args && !cJSON_IsObject(args)) {
            why_set(why, cap, "\"calls\"[%d].arguments: expected an object", i);
            goto fail;
        }
        r->calls[i].function = strdup(fn->valuestring);
        r->calls[i].arguments = args ? cJSON_Duplicate(args, 1) : cJSON_CreateObject();
        r->n_calls++;
        if (!r->calls[i].function || !r->calls[i].arguments) {
            why_set(why, cap, "out of memory");
            goto fail;
        }
    }
    const cJSON *dom = cJSON_GetObjectItemCaseSensitive(j, "domains");
    if (dom && string_array(dom, "domains", &r->domains, &r->n_domains, why, cap)) goto fail;
    if (!(r->query = strdup(q->valuestring))) {
        why_set(why, cap, "out of memory");
        goto fail;
    }
    const cJSON *e;
    cJSON_ArrayForEach(e, j) {
        if (is_known_field(e->string)) continue;
        if (!e->string) continue;
        if (!r->extra && !(r->extra = cJSON_CreateObject())) goto oom;
        cJSON *d = cJSON_Duplicate(e, 1);
        if (!d) goto oom;
        cJSON_AddItemToObject(r->extra, e->string, d);
    }
    return 0;
oom:
    why_set(why, cap, "out of memory");
fail:
    octo_record_free(r);
    return -1;
}

cJSON *octo_record_to_json(const octo_record *r) {
    cJSON *j = cJSON_CreateObject();
    if (!j) return NULL;
    cJSON *steps = NULL, *calls = NULL, *dom = NULL;
    if (!cJSON_AddStringToObject(j, "query", r->query ? r->query : "")) goto oom;
    if (!(steps = cJSON_AddArrayToObject(j, "steps"))) goto oom;
    for (int i = 0; i < r->n_steps; i++) {
        cJSON *s = cJSON_CreateString(r->steps[i] ? r->steps[i] : "");
        if (!s) goto oom;
        cJSON_AddItemToArray(steps, s);
    }
    if (!(calls = cJSON_AddArrayToObject(j, "calls"))) goto oom;
    for (int i = 0; i < r->n_calls; i++) {
        cJSON *c = cJSON_CreateObject();
        if (!c) goto oom;
        cJSON_AddItemToArray(calls, c);
        if (!cJSON_AddStringToObject(c, "function", r->calls[i].function ? r->calls[i].function : "")) goto oom;
        cJSON *a = r->calls[i].arguments ? cJSON_Duplicate(r->calls[i].arguments, 1) : cJSON_CreateObject();
        if (!a) goto oom;
        cJSON_AddItemToObject(c, "arguments", a);
    }
    if (!(dom = cJSON_AddArrayToObject(j, "domains"))) goto oom;
    for (int i = 0; i < r->n_domains; i++) {
        cJSON *s = cJSON_CreateString(r->domains[i] ? r->domains[i] : "");
        if (!s) goto oom;
        cJSON_AddItemToArray(dom, s);
    }
    if (r->extra) {
        const cJSON *e;
        cJSON_ArrayForEach(e, r->extra) {
            if (!e->string || is_known_field(e->string)) continue;
            cJSON *d = cJSON_Duplicate(e, 1);
            if (!d) goto oom;
            cJSON_AddItemToObject(j, e->string, d);
        }
    }
    return j;
oom:
    cJSON_Delete(j);
    octo_fail("record: out of memory");
    return NULL;
}

int octo_record_write(FILE *f, const octo_record *r) {
    cJSON *j = octo_record_to_json(r);
    if (!j) return -1;
    char *s = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    if (!s) return octo_fail("record: out of memory");
    size_t n = strlen(s);
    int rc = (fwrite(s, 1, n, f) == n && fputc('\n', f) != EOF) ? 0 : octo_fail("write failed: %s", strerror(errno));
    free(s);
    return rc;
}

void octo_record_free(octo_record *r) {
    if (!r) return;
    free(r->query);
    for (int i = 0; i < r->n_steps; i++) free(r->steps[i]);
    free(r->steps);
    for (int i = 0; i < r->n_calls; i++) {
        free(r->calls[i].function);
        cJSON_Delete(r->calls[i].arguments);
    }
    free(r->calls);
    for (int i = 0; i < r->n_domains; i++) free(r->domains[i]);
    free(r->domains);
    cJSON_Delete(r->extra);
    memset(r, 0, sizeof *r);
}

int octo_records_read(const char *path, bool strict, octo_record **out, int *n_out, int *n_bad) {
    *out = NULL;
    *n_out = 0;
    if (n_bad) *n_bad = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return octo_fail("%s: cannot open: %s", path, strerror(errno));
    octo_record *rs = NULL;
    int n = 0, cap = 0, bad = 0;
    long lineno = 0;
    char *line = NULL;
    size_t lcap = 0;
    ssize_t len;
    int rc = 0;
    while ((len = getline(&line, &lcap, f)) >= 0) {
        lineno++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = 0;
        if (blank(line)) continue;
        char why[256] = "";
        octo_record r;
        /* a NUL inside the line would silently cut the JSON short; the
         * length includes the terminating NUL so trailing junk is refused */
        cJSON *j = strlen(line) == (size_t)len ? cJSON_ParseWithLengthOpts(line, (size_t)len + 1, NULL, 1) : NULL;
        int ok = j ? octo_record_from_json(j, &r, why, sizeof why) : -1;
        if (!j) snprintf(why, sizeof why, "not valid JSON");
        cJSON_Delete(j);
        if (ok != 0) {
            if (strict) {
                rc = octo_fail("%s:%ld: %s", path, lineno, why);
                break;
            }
            bad++;
            continue;
        }
        if (n == cap) {
            int nc = cap ? cap * 2 : 256;
            octo_record *nr = realloc(rs, (size_t)nc * sizeof *nr);
            if (!nr) {
                octo_record_free(&r);
                rc = octo_fail("%s: out of memory", path);
                break;
            }
            rs = nr;
            cap = nc;
        }
        rs[n++] = r;
    }
    if (rc == 0 && ferror(f)) rc = octo_fail("%s: read error", path);
    free(line);
    fclose(f);
    if (rc != 0) {
        octo_records_free(rs, n);
        return -1;
    }
    *out = rs;
    *n_out = n;
    if (n_bad) *n_bad = bad;
    return 0;
}

void octo_records_free(octo_record *rs, int n) {
    if (!rs) return;
    for (int i = 0; i < n; i++) octo_record_free(&rs[i]);
    free(rs);
}
