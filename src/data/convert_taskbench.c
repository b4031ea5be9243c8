/* convert_taskbench.c - TaskBench labeled records -> canonical records
 * (see convert_taskbench.h).
 */
#include "data/convert_taskbench.h"
#include "base/error.h"
#include "base/file.h"
#include "data/record.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static const char *k_reason_names[OCTO_TB_N_REASONS] = {
    "not a JSON object", "no request text", "malformed", "steps/nodes count mismatch", "unknown tool",
    "malformed link", "link to a missing node", "ambiguous link", "cycle",
};

const char *octo_tb_reason_name(octo_tb_reason r) {
    return (unsigned)r < OCTO_TB_N_REASONS ? k_reason_names[r] : "?";
}

typedef struct {
    octo_tb_reason reason;
    char why[400];
} reject;

static int rej(reject *rj, octo_tb_reason r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int rej(reject *rj, octo_tb_reason r, const char *fmt, ...) {
    rj->reason = r;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rj->why, sizeof rj->why, fmt, ap);
    va_end(ap);
    return -1;
}

/* "Step 1: Do X" / "1. Do X" / "Step 2 - Do X" -> "Do X". */
static const char *strip_step_prefix(const char *s) {
    const char *p = s;
    while (*p == ' ' || *p == '\t') p++;
    const char *q = p;
    if (!strncasecmp(q, "step", 4)) {
        q += 4;
        while (*q == ' ') q++;
        if (!isdigit((unsigned char)*q)) return s;
        while (isdigit((unsigned char)*q)) q++;
        while (*q == ' ') q++;
        if (*q == ':' || *q == '.' || *q == ')' || *q == '-') q++;
    } else if (isdigit((unsigned char)*q)) {
        while (isdigit((unsigned char)*q)) q++;
        if (*q != '.' && *q != ')') return s;
        q++;
        if (*q != ' ') return s; /* "3.5 km" is text, not a number prefix */
    } else {
        return s;
    }
    while (*q == ' ' || *q == '\t') q++;
    return *q ? q : s;
}

static bool word_char(char c) { return isalnum((unsigned char)c) || c == '_'; }

/* Does text mention name as a whole word? */
static bool mentions(const char *text, const char *name) {
    size_t n = strlen(name);
    if (!n) return false;
    for (const char *p = text; (p = strstr(p, name)); p++)
        if ((p == text || !word_char(p[-1])) && !word_char(p[n])) return true;
    return false;
}

/* A node's arguments as an object keyed by parameter name. */
static cJSON *arguments_object(const cJSON *args, const octo_function *f, int node, reject *rj) {
    if (!args || cJSON_IsNull(args)) return cJSON_CreateObject();
    if (cJSON_IsObject(args)) return cJSON_Duplicate(args, 1);
    if (!cJSON_IsArray(args)) {
        rej(rj, OCTO_TB_MALFORMED, "task_nodes[%d].arguments: expected a list or an object", node);
        return NULL;
    }
    int named = 0, n = 0;
    const cJSON *a;
    cJSON_ArrayForEach(a, args) {
        n++;
        if (cJSON_IsObject(a) && cJSON_IsString(cJSON_GetObjectItemCaseSensitive(a, "name")) &&
            cJSON_GetObjectItemCaseSensitive(a, "value"))
            named++;
    }
    if (named && named != n) {
        rej(rj, OCTO_TB_MALFORMED, "task_nodes[%d].arguments: mixes {name, value} pairs and bare values", node);
        return NULL;
    }
    if (!named && n > 0 && !f) {
        rej(rj, OCTO_TB_MALFORMED, "task_nodes[%d].arguments: bare values need the tool's parameter list", node);
        return NULL;
    }
    if (!named && f && n > f->n_params) {
        rej(rj, OCTO_TB_MALFORMED, "task_nodes[%d].arguments: %d values but %s takes %d parameters", node, n, f->name,
            f->n_params);
        return NULL;
    }
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    int i = 0;
    cJSON_ArrayForEach(a, args) {
        const char *name = named ? cJSON_GetObjectItemCaseSensitive(a, "name")->valuestring : f->params[i].name;
        const cJSON *v = named ? cJSON_GetObjectItemCaseSensitive(a, "value") : a;
        if (cJSON_GetObjectItemCaseSensitive(o, name)) {
            rej(rj, OCTO_TB_MALFORMED, "task_nodes[%d].arguments: \"%.64s\" given twice", node, name);
            cJSON_Delete(o);
            return NULL;
        }
        cJSON *d = cJSON_Duplicate(v, 1);
        if (!d) {
            cJSON_Delete(o);
            return NULL;
        }
        cJSON_AddItemToObject(o, name, d);
        i++;
    }
    return o;
}

typedef struct {
    int n;
    int *step_of, *node_of, *order, *indeg, *pos;
    char *edge; /* n x n adjacency */
} graph;

static void graph_free(graph *g) {
    free(g->step_of), free(g->node_of), free(g->order), free(g->indeg), free(g->pos), free(g->edge);
}

/* One TaskBench object -> one canonical record, or a reason to reject it. */
static int convert_one(const cJSON *j, const octo_tb_opts *o, const char *domain, octo_record *r, reject *rj,
                       bool *reordered, bool *off_schema, bool *unknown) {
    memset(r, 0, sizeof *r);
    *reordered = *off_schema = *unknown = false;
    if (!cJSON_IsObject(j)) return rej(rj, OCTO_TB_BAD_JSON, "not a JSON object");
    const cJSON *q = cJSON_GetObjectItemCaseSensitive(j, "instruction");
    if (!q) q = cJSON_GetObjectItemCaseSensitive(j, "user_request");
    if (!cJSON_IsString(q) || strspn(q->valuestring, " \t\r\n") == strlen(q->valuestring))
        return rej(rj, OCTO_TB_NO_QUERY, "no \"instruction\" or \"user_request\" text");
    const cJSON *steps = cJSON_GetObjectItemCaseSensitive(j, "task_steps");
    const cJSON *nodes = cJSON_GetObjectItemCaseSensitive(j, "task_nodes");
    const cJSON *links = cJSON_GetObjectItemCaseSensitive(j, "task_links");
    if (!cJSON_IsArray(steps)) return rej(rj, OCTO_TB_MALFORMED, "task_steps: expected an array of strings");
    if (!cJSON_IsArray(nodes)) return rej(rj, OCTO_TB_MALFORMED, "task_nodes: expected an array");
    if (links && !cJSON_IsNull(links) && !cJSON_IsArray(links))
        return rej(rj, OCTO_TB_MALFORMED, "task_links: expected an array");
    int n = cJSON_GetArraySize(nodes), ns = cJSON_GetArraySize(steps);
    if (n == 0) return rej(rj, OCTO_TB_MALFORMED, "no task_nodes");
    if (n > 64) return rej(rj, OCTO_TB_MALFORMED, "%d task_nodes (at most 64)", n);
    if (ns != n) return rej(rj, OCTO_TB_COUNT_MISMATCH, "%d task_steps but %d task_nodes", ns, n);
    const char *task[64], *step[64];
    const cJSON *nargs[64];
    int i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, steps) {
        if (!cJSON_IsString(e) || strspn(e->valuestring, " \t\r\n") == strlen(e->valuestring))
            return rej(rj, OCTO_TB_MALFORMED, "task_steps[%d]: expected a non-empty string", i);
        step[i++] = strip_step_prefix(e->valuestring);
    }
    i = 0;
    cJSON_ArrayForEach(e, nodes) {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(e, "task");
        if (!cJSON_IsObject(e) || !cJSON_IsString(t) || !t->valuestring[0])
            return rej(rj, OCTO_TB_MALFORMED, "task_nodes[%d]: expected {\"task\", \"arguments\"}", i);
        if (o->fs && octo_funcset_find(o->fs, t->valuestring) < 0) {
            if (!o->keep_unknown_tools)
                return rej(rj, OCTO_TB_UNKNOWN_TOOL, "task_nodes[%d]: unknown tool \"%.64s\"", i, t->valuestring);
            *unknown = true;
        }
        task[i] = t->valuestring;
        nargs[i] = cJSON_GetObjectItemCaseSensitive(e, "arguments");
        i++;
    }
    graph g = {n, calloc(n, sizeof(int)), calloc(n, sizeof(int)), calloc(n, sizeof(int)), calloc(n, sizeof(int)),
               calloc(n, sizeof(int)), calloc((size_t)n * n, 1)};
    if (!g.step_of || !g.node_of || !g.order || !g.indeg || !g.pos || !g.edge) {
        graph_free(&g);
        return rej(rj, OCTO_TB_MALFORMED, "out of memory");
    }
    int rc = -1;
    i = 0;
    cJSON_ArrayForEach(e, links) {
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(e, "source"), *t = cJSON_GetObjectItemCaseSensitive(e, "target");
        if (!cJSON_IsString(s) || !cJSON_IsString(t)) {
            rej(rj, OCTO_TB_BAD_LINK, "task_links[%d]: expected {\"source\", \"target\"}", i);
            goto out;
        }
        int end[2] = {-1, -1};
        for (int k = 0; k < 2; k++) {
            const char *name = k ? t->valuestring : s->valuestring;
            int hits = 0;
            for (int m = 0; m < n; m++)
                if (!strcmp(task[m], name)) end[k] = m, hits++;
            if (hits == 0) {
                rej(rj, OCTO_TB_MISSING_NODE, "task_links[%d]: links to \"%.64s\", which no node calls", i, name);
                goto out;
            }
            if (hits > 1) {
                rej(rj, OCTO_TB_AMBIGUOUS_LINK, "task_links[%d]: \"%.64s\" is called by %d nodes", i, name, hits);
                goto out;
            }
        }
        if (end[0] == end[1]) {
            rej(rj, OCTO_TB_CYCLE, "task_links[%d]: \"%.64s\" links to itself", i, task[end[0]]);
            goto out;
        }
        if (!g.edge[end[0] * n + end[1]]) {
            g.edge[end[0] * n + end[1]] = 1;
            g.indeg[end[1]]++;
        }
        i++;
    }
    /* which step describes which node: a step naming exactly one tool */
    for (int k = 0; k < n; k++) g.step_of[k] = g.node_of[k] = -1;
    for (int s = 0; s < n; s++) {
        int hit = -1, hits = 0;
        for (int m = 0; m < n; m++)
            if (mentions(step[s], task[m])) {
                if (hit < 0 || strcmp(task[hit], task[m])) hits++;
                if (hit < 0) hit = m;
            }
        if (hits == 1) {
            /* a tool called twice: give the step to its first free node */
            int m = hit;
            while (m < n && (g.step_of[m] >= 0 || strcmp(task[m], task[hit]))) m++;
            if (m < n) g.step_of[m] = s, g.node_of[s] = m;
        }
    }
    /* Kahn's algorithm; among ready nodes the one whose step comes first
     * (nodes no step names follow, in file order) */
    for (int k = 0; k < n; k++) {
        int best = -1, bkey = 0;
        for (int m = 0; m < n; m++) {
            if (g.indeg[m] != 0 || g.pos[m]) continue;
            int key = g.step_of[m] >= 0 ? g.step_of[m] : n + m;
            if (best < 0 || key < bkey) best = m, bkey = key;
        }
        if (best < 0) {
            rej(rj, OCTO_TB_CYCLE, "task_links form a cycle");
            goto out;
        }
        g.order[k] = best;
        g.pos[best] = 1;
        for (int m = 0; m < n; m++)
            if (g.edge[best * n + m]) g.indeg[m]--;
    }
    /* steps no tool name pinned go, in their order, to the unpinned nodes in call order */
    int next_free = 0;
    for (int k = 0; k < n; k++) {
        int m = g.order[k];
        if (g.step_of[m] >= 0) continue;
        while (g.node_of[next_free] >= 0) next_free++;
        g.step_of[m] = next_free;
        g.node_of[next_free] = m;
    }
    for (int k = 0; k < n; k++) g.pos[g.order[k]] = k; /* node -> call index */
    r->query = strdup(q->valuestring);
    r->steps = calloc(n, sizeof *r->steps);
    r->calls = calloc(n, sizeof *r->calls);
    r->domains = calloc(1, sizeof *r->domains);
    r->extra = cJSON_CreateObject();
    if (!r->query || !r->steps || !r->calls || !r->domains || !r->extra || !(r->domains[0] = strdup(domain))) {
        rej(rj, OCTO_TB_MALFORMED, "out of memory");
        goto out;
    }
    r->n_domains = 1;
    for (int k = 0; k < n; k++) {
        int m = g.order[k];
        if (g.step_of[m] != k) *reordered = true;
        int fi = o->fs ? octo_funcset_find(o->fs, task[m]) : -1;
        const octo_function *f = fi >= 0 ? &o->fs->fns[fi] : NULL;
        cJSON *args = arguments_object(nargs[m], f, m, rj);
        if (!args) goto out;
        r->calls[k].arguments = args;
        r->calls[k].function = strdup(task[m]);
        r->steps[k] = strdup(step[g.step_of[m]]);
        r->n_calls = r->n_steps = k + 1;
        if (!r->calls[k].function || !r->steps[k]) {
            rej(rj, OCTO_TB_MALFORMED, "out of memory");
            goto out;
        }
        char why[256];
        if (f && octo_args_validate(f, args, why, sizeof why) != 0) *off_schema = true;
    }
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(j, "id");
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(j, "type");
    if (id) cJSON_AddItemToObject(r->extra, "id", cJSON_Duplicate(id, 1));
    cJSON_AddStringToObject(r->extra, "source", "taskbench");
    if (cJSON_IsString(type)) cJSON_AddStringToObject(r->extra, "type", type->valuestring);
    /* the dependency edges, as call indices in the new order */
    cJSON *ls = cJSON_AddArrayToObject(r->extra, "links");
    for (int a = 0; a < n && ls; a++)
        for (int b = 0; b < n; b++)
            if (g.edge[g.order[a] * n + g.order[b]]) {
                int pair[2] = {a, b};
                cJSON_AddItemToArray(ls, cJSON_CreateIntArray(pair, 2));
            }
    rc = 0;
out:
    graph_free(&g);
    if (rc) octo_record_free(r);
    return rc;
}

/* A rejected record with its reason, as one JSON line. */
static void write_reject(FILE *f, const cJSON *j, const char *raw, long where, const char *why) {
    if (!f) return;
    cJSON *o = cJSON_IsObject(j) ? cJSON_Duplicate(j, 1) : cJSON_CreateObject();
    if (!o) return;
    if (!cJSON_IsObject(j)) {
        cJSON_AddNumberToObject(o, "line", (double)where);
        cJSON_AddStringToObject(o, "text", raw ? raw : "");
    }
    cJSON *rs = cJSON_CreateArray();
    cJSON_AddItemToArray(rs, cJSON_CreateString(why));
    cJSON_DeleteItemFromObjectCaseSensitive(o, "reasons");
    cJSON_AddItemToObject(o, "reasons", rs);
    char *s = cJSON_PrintUnformatted(o);
    if (s) fprintf(f, "%s\n", s);
    free(s);
    cJSON_Delete(o);
}

typedef struct {
    const octo_tb_opts *o;
    const char *domain, *in_path;
    octo_tb_stats *st;
    FILE *out, *rejects;
    int io_error;
} conv_ctx;

static void handle(conv_ctx *c, const cJSON *j, const char *raw, long where, bool is_line) {
    octo_record r;
    reject rj = {0, ""};
    bool reordered, off_schema, unknown;
    c->st->n_in++;
    if (convert_one(j, c->o, c->domain, &r, &rj, &reordered, &off_schema, &unknown) != 0) {
        c->st->n_rejected++;
        c->st->by_reason[rj.reason]++;
        if (c->o->report)
            fprintf(c->o->report, "%s:%s%ld: rejected (%s): %s\n", c->in_path, is_line ? "" : "record ", where,
                    k_reason_names[rj.reason], rj.why);
        write_reject(c->rejects, j, raw, where, rj.why);
        return;
    }
    c->st->n_out++;
    c->st->n_reordered += reordered;
    c->st->n_args_off_schema += off_schema;
    c->st->n_unknown_kept += unknown;
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(r.extra, "type");
    if (cJSON_IsString(type)) {
        if (!strcmp(type->valuestring, "single")) c->st->by_type[0]++;
        else if (!strcmp(type->valuestring, "chain")) c->st->by_type[1]++;
        else if (!strcmp(type->valuestring, "dag")) c->st->by_type[2]++;
    }
    if (octo_record_write(c->out, &r) != 0) c->io_error = 1;
    octo_record_free(&r);
}

int octo_convert_taskbench(const char *in_path, const char *out_path, const octo_tb_opts *o, octo_tb_stats *st) {
    memset(st, 0, sizeof *st);
    size_t len;
    char *text = octo_read_file(in_path, &len);
    if (!text) return -1;
    conv_ctx c = {o, o->domain ? o->domain : (o->fs ? o->fs->name : "taskbench"), in_path, st, NULL, NULL, 0};
    octo_atomic_file out, rejects;
    if (octo_atomic_open(&out, out_path) != 0) {
        free(text);
        return -1;
    }
    c.out = out.fp;
    if (o->rejects_path) {
        if (octo_atomic_open(&rejects, o->rejects_path) != 0) {
            octo_atomic_abort(&out);
            free(text);
            return -1;
        }
        c.rejects = rejects.fp;
    }
    size_t lead = strspn(text, " \t\r\n");
    if (lead < len && text[lead] == '[') { /* one JSON array */
        cJSON *arr = cJSON_ParseWithLengthOpts(text, len + 1, NULL, 1);
        if (!cJSON_IsArray(arr) || strlen(text) != len) {
            cJSON_Delete(arr);
            octo_atomic_abort(&out);
            if (c.rejects) octo_atomic_abort(&rejects);
            free(text);
            return octo_fail("%s: starts with '[' but is not a valid JSON array", in_path);
        }
        long k = 0;
        const cJSON *e;
        cJSON_ArrayForEach(e, arr) handle(&c, e, NULL, k++, false);
        cJSON_Delete(arr);
    } else {
        long lineno = 0;
        for (char *p = text, *end = text + len; p < end;) {
            char *nl = memchr(p, '\n', (size_t)(end - p));
            char *stop = nl ? nl : end;
            lineno++;
            size_t n = (size_t)(stop - p);
            if (n && p[n - 1] == '\r') n--;
            char saved = p[n];
            p[n] = 0;
            if (strspn(p, " \t") != n) {
                cJSON *j = strlen(p) == n ? cJSON_ParseWithLengthOpts(p, n + 1, NULL, 1) : NULL;
                handle(&c, j, p, lineno, true);
                cJSON_Delete(j);
            }
            p[n] = saved;
            p = nl ? nl + 1 : end;
        }
    }
    free(text);
    int rc = 0;
    if (c.io_error) {
        octo_atomic_abort(&out);
        if (c.rejects) octo_atomic_abort(&rejects);
        return octo_fail("%s: write failed", out_path);
    }
    if (octo_atomic_commit(&out) != 0) rc = -1;
    if (c.rejects && octo_atomic_commit(&rejects) != 0) rc = -1;
    return rc;
}
