/* eval_input.c - what `octo eval` reads: the test set (canonical records or
 * raw TaskBench records, told apart by their first record) and a file of
 * predictions from any system, read leniently because a system's output
 * may be partial (a run that stopped at step 3 has 3 calls for 5 steps).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/error.h"
#include "data/convert_taskbench.h"
#include "eval/eval_run.h"

static bool blank_n(const char *s, size_t n) { return strspn(s, " \t\r") >= n; }

int octo_eval_is_taskbench(const char *path) {
    size_t len;
    char *text = octo_read_file(path, &len);
    if (!text) return -1;
    size_t lead = strspn(text, " \t\r\n");
    int tb = 0;
    if (lead < len && text[lead] == '[') { /* one JSON array: TaskBench's own layout, never JSONL */
        tb = 1;
    } else if (lead < len) {
        char *line = text + lead, *nl = strchr(line, '\n');
        cJSON *j = cJSON_ParseWithLength(line, nl ? (size_t)(nl - line) : strlen(line));
        tb = cJSON_IsObject(j) && !cJSON_GetObjectItemCaseSensitive(j, "calls") &&
             (cJSON_GetObjectItemCaseSensitive(j, "task_nodes") || cJSON_GetObjectItemCaseSensitive(j, "task_steps"));
        cJSON_Delete(j);
    }
    free(text);
    return tb;
}

/* The first line of the converter's report that names a line that is not
 * JSON: a broken file, not an odd record. */
static const char *first_bad_json(const char *report) {
    const char *tag = "rejected (" ;
    for (const char *p = report; p && *p;) {
        const char *nl = strchr(p, '\n');
        const char *t = strstr(p, tag);
        if (t && (!nl || t < nl) && strncmp(t + strlen(tag), octo_tb_reason_name(OCTO_TB_BAD_JSON),
                                            strlen(octo_tb_reason_name(OCTO_TB_BAD_JSON))) == 0)
            return p;
        p = nl ? nl + 1 : NULL;
    }
    return NULL;
}

static int read_taskbench(const char *path, const octo_funcset *fs, octo_record **out, int *n, int *n_skipped) {
    const char *tmp = getenv("TMPDIR");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/octo-eval-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) return octo_fail("%s: cannot make a temporary directory: %s", dir, strerror(errno));
    char conv[4200];
    snprintf(conv, sizeof conv, "%s/refs.jsonl", dir);
    char *rep = NULL;
    size_t rep_len = 0;
    FILE *report = open_memstream(&rep, &rep_len);
    octo_tb_opts o = {.fs = fs, .report = report, .keep_unknown_tools = true};
    octo_tb_stats st;
    int rc = report ? octo_convert_taskbench(path, conv, &o, &st) : octo_fail("out of memory");
    if (report) fclose(report);
    const char *bad = rc == 0 && rep ? first_bad_json(rep) : NULL;
    if (bad) {
        const char *nl = strchr(bad, '\n');
        rc = octo_fail("%.*s", nl ? (int)(nl - bad) : (int)strlen(bad), bad);
    } else if (rc == 0 && st.n_out == 0) {
        rc = octo_fail("%s: no TaskBench record could be read (%d rejected)", path, st.n_rejected);
    }
    if (rc == 0) {
        if (rep && *rep) fputs(rep, stderr); /* odd records: one line each, skipped */
        *n_skipped = st.n_rejected;
        int n_bad = 0;
        rc = octo_records_read(conv, true, out, n, &n_bad);
    }
    free(rep);
    unlink(conv);
    rmdir(dir);
    return rc;
}

int octo_eval_read_refs(const char *path, const octo_funcset *fs, octo_record **out, int *n, bool *taskbench,
                        int *n_skipped) {
    *out = NULL;
    *n = 0;
    *n_skipped = 0;
    int tb = octo_eval_is_taskbench(path);
    if (tb < 0) return -1;
    *taskbench = tb;
    int rc;
    if (tb) {
        rc = read_taskbench(path, fs, out, n, n_skipped);
    } else {
        int n_bad = 0;
        rc = octo_records_read(path, true, out, n, &n_bad);
    }
    if (rc == 0 && *n == 0) {
        octo_records_free(*out, *n);
        *out = NULL;
        return octo_fail("%s: no test records", path);
    }
    return rc;
}

/* ---- predictions ---- */

static char *dup_str(const char *s) {
    char *d = strdup(s ? s : "");
    if (!d) octo_fail("out of memory");
    return d;
}

/* One prediction from its parsed line; why gets the reason on failure. */
static int pred_from_json(const cJSON *j, octo_record *r, char *why, size_t cap) {
    memset(r, 0, sizeof *r);
    if (cJSON_IsNull(j)) return 0;
    if (!cJSON_IsObject(j)) return snprintf(why, cap, "expected a JSON object (or null for no plan)"), -1;
    const cJSON *q = cJSON_GetObjectItemCaseSensitive(j, "query");
    if (q && !cJSON_IsString(q)) return snprintf(why, cap, "\"query\": expected a string"), -1;
    if (q && !(r->query = dup_str(q->valuestring))) goto oom;
    const cJSON *steps = cJSON_GetObjectItemCaseSensitive(j, "steps");
    if (steps && !cJSON_IsNull(steps)) {
        if (!cJSON_IsArray(steps)) return snprintf(why, cap, "\"steps\": expected an array of strings"), -1;
        int ns = cJSON_GetArraySize(steps);
        if (ns && !(r->steps = calloc((size_t)ns, sizeof *r->steps))) goto oom;
        const cJSON *s;
        cJSON_ArrayForEach(s, steps) {
            if (!cJSON_IsString(s)) {
                snprintf(why, cap, "\"steps\"[%d]: expected a string", r->n_steps);
                return -1;
            }
            if (!(r->steps[r->n_steps] = dup_str(s->valuestring))) goto oom;
            r->n_steps++;
        }
    }
    const cJSON *calls = cJSON_GetObjectItemCaseSensitive(j, "calls");
    if (calls && !cJSON_IsNull(calls)) {
        if (!cJSON_IsArray(calls))
            return snprintf(why, cap, "\"calls\": expected an array of {\"function\", \"arguments\"}"), -1;
        int nc = cJSON_GetArraySize(calls);
        if (nc && !(r->calls = calloc((size_t)nc, sizeof *r->calls))) goto oom;
        const cJSON *c;
        cJSON_ArrayForEach(c, calls) {
            int i = r->n_calls;
            const cJSON *fn = cJSON_GetObjectItemCaseSensitive(c, "function");
            if (!cJSON_IsObject(c) || !cJSON_IsString(fn))
                return snprintf(why, cap, "\"calls\"[%d].function: expected a string", i), -1;
            const cJSON *a = cJSON_GetObjectItemCaseSensitive(c, "arguments");
            cJSON *args;
            if (!a || cJSON_IsNull(a)) {
                args = cJSON_CreateObject();
            } else if (cJSON_IsObject(a)) {
                args = cJSON_Duplicate(a, 1);
            } else if (cJSON_IsString(a)) { /* OpenAI's tool_calls write the arguments as JSON text */
                args = cJSON_Parse(a->valuestring);
                if (!cJSON_IsObject(args)) {
                    cJSON_Delete(args);
                    return snprintf(why, cap, "\"calls\"[%d].arguments: a string that is not a JSON object", i), -1;
                }
            } else {
                return snprintf(why, cap, "\"calls\"[%d].arguments: expected an object", i), -1;
            }
            r->calls[i].arguments = args;
            r->calls[i].function = dup_str(fn->valuestring);
            r->n_calls++;
            if (!args || !r->calls[i].function) goto oom;
        }
    }
    /* a system that states its dependencies is scored on them (edge F1,
     * which orders count), as a reference is */
    static const char *const keep[] = {"links", "task_links"};
    for (size_t k = 0; k < sizeof keep / sizeof keep[0]; k++) {
        const cJSON *l = cJSON_GetObjectItemCaseSensitive(j, keep[k]);
        if (!l || cJSON_IsNull(l)) continue;
        if (!cJSON_IsArray(l)) return snprintf(why, cap, "\"%s\": expected an array", keep[k]), -1;
        if (!r->extra && !(r->extra = cJSON_CreateObject())) goto oom;
        cJSON *d = cJSON_Duplicate(l, 1);
        if (!d || !cJSON_AddItemToObject(r->extra, keep[k], d)) {
            cJSON_Delete(d);
            goto oom;
        }
    }
    return 0;
oom:
    snprintf(why, cap, "out of memory");
    return -1;
}

int octo_eval_read_preds(const char *path, octo_record **out, int *n) {
    *out = NULL;
    *n = 0;
    size_t len;
    char *text = octo_read_file(path, &len);
    if (!text) return -1;
    octo_record *rs = NULL;
    int cnt = 0, cap = 0, rc = 0;
    long lineno = 0;
    for (char *p = text, *end = text + len; p < end && rc == 0;) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t ln = (size_t)((nl ? nl : end) - p);
        lineno++;
        char *line = p;
        p = nl ? nl + 1 : end;
        if (blank_n(line, ln)) continue;
        if (cnt == cap) {
            int nc = cap ? 2 * cap : 64;
            octo_record *g = realloc(rs, (size_t)nc * sizeof *g);
            if (!g) {
                rc = octo_fail("%s: out of memory", path);
                break;
            }
            rs = g, cap = nc;
        }
        char why[256] = "";
        cJSON *j = memchr(line, 0, ln) ? NULL : cJSON_ParseWithLength(line, ln);
        if (!j) {
            rc = octo_fail("%s:%ld: not valid JSON", path, lineno);
        } else if (pred_from_json(j, &rs[cnt], why, sizeof why) != 0) {
            octo_record_free(&rs[cnt]);
            rc = octo_fail("%s:%ld: %s", path, lineno, why);
        } else {
            cnt++;
        }
        cJSON_Delete(j);
    }
    free(text);
    if (rc) {
        octo_records_free(rs, cnt);
        return -1;
    }
    if (cnt == 0) {
        free(rs);
        return octo_fail("%s: no predictions", path);
    }
    *out = rs;
    *n = cnt;
    return 0;
}
