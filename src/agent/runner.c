/* runner.c - the agent loop and its result (see runner.h). */
#include "agent/runner.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/actor.h"
#include "agent/handler.h"
#include "agent/render.h"
#include "base/error.h"

typedef struct {
    char *function; /* NULL: every function */
    octo_tool_fn fn;
    void *user;
} tool_reg;

struct octo_agent {
    octo_planner *pl;
    octo_actor *ac;
    const octo_funcset *fs;
    tool_reg *tools;
    int n_tools;
};

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

octo_agent *octo_agent_new(octo_planner *pl, octo_actor *ac) {
    if (!pl || !ac) {
        octo_fail("agent: a planner and an actor are both needed");
        return NULL;
    }
    octo_agent *ag = calloc(1, sizeof *ag);
    if (!ag) {
        octo_fail("out of memory");
        return NULL;
    }
    ag->pl = pl;
    ag->ac = ac;
    ag->fs = octo_actor_funcset(ac);
    return ag;
}

void octo_agent_free(octo_agent *ag) {
    if (!ag) return;
    for (int i = 0; i < ag->n_tools; i++) free(ag->tools[i].function);
    free(ag->tools);
    free(ag);
}

int octo_agent_set_handler(octo_agent *ag, const char *function, octo_tool_fn fn, void *user) {
    if (function && octo_funcset_find(ag->fs, function) < 0)
        return octo_fail("agent: no function \"%s\" in set %s", function, ag->fs->name ? ag->fs->name : "");
    for (int i = 0; i < ag->n_tools; i++) {
        tool_reg *t = &ag->tools[i];
        if ((!function && !t->function) || (function && t->function && !strcmp(function, t->function))) {
            t->fn = fn;
            t->user = user;
            return 0;
        }
    }
    tool_reg *nt = realloc(ag->tools, (size_t)(ag->n_tools + 1) * sizeof *nt);
    if (!nt) return octo_fail("out of memory");
    ag->tools = nt;
    tool_reg *t = &nt[ag->n_tools];
    t->function = function ? strdup(function) : NULL;
    if (function && !t->function) return octo_fail("out of memory");
    t->fn = fn;
    t->user = user;
    ag->n_tools++;
    return 0;
}

static const tool_reg *find_tool(const octo_agent *ag, const char *function) {
    const tool_reg *any = NULL;
    for (int i = 0; i < ag->n_tools; i++) {
        if (!ag->tools[i].function) any = &ag->tools[i];
        else if (!strcmp(ag->tools[i].function, function)) return &ag->tools[i];
    }
    return any;
}

/* Execute one call: 0 with *obs, or -1 with the error set (*obs may hold
 * what the handler printed). */
static int execute(octo_agent *ag, const octo_agent_call *call, char **obs) {
    *obs = NULL;
    const tool_reg *t = find_tool(ag, call->function);
    if (t && t->fn) {
        int rc = t->fn(t->user, call->function, call->arguments, obs);
        if (rc) return octo_fail("the handler failed (%d)%s%.300s", rc, *obs ? ": " : "", *obs ? *obs : "");
        return 0;
    }
    int k = octo_funcset_find(ag->fs, call->function);
    if (k < 0) return octo_fail("no function \"%s\"", call->function);
    const octo_function *f = &ag->fs->fns[k];
    if (f->handler.kind == OCTO_HANDLER_NONE) return octo_fail("no handler for %s on this machine", f->name);
    cJSON *args = cJSON_Parse(call->arguments);
    if (!args) return octo_fail("arguments are not JSON");
    int rc = octo_handler_run(f, args, obs);
    cJSON_Delete(args);
    return rc;
}

static char *strf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *strf(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (s) {
        va_start(ap, fmt);
        vsnprintf(s, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    return s;
}

/* Act and execute each step of r (steps already set). */
static int run_steps(octo_agent *ag, bool dry_run, octo_run_result *r) {
    int n = r->n_steps;
    r->calls = calloc((size_t)n + 1, sizeof *r->calls);
    r->observations = calloc((size_t)n + 1, sizeof *r->observations);
    if (!r->query || !r->calls || !r->observations) {
        r->failed_step = 0;
        return octo_fail("out of memory");
    }
    const char *obs = NULL;
    for (int i = 0; i < n; i++) {
        double t1 = now_ms();
        int rc = octo_actor_act(ag->ac, r->steps[i], obs, &r->calls[i]);
        r->act_ms += now_ms() - t1;
        if (rc) {
            r->failed_step = i;
            r->error = strf("step %d (\"%s\") maps to no function: %s", i + 1, r->steps[i], octo_last_error());
            return octo_fail("%s", r->error ? r->error : "step maps to no function");
        }
        r->n_calls = i + 1;
        if (dry_run) continue;
        double t2 = now_ms();
        rc = execute(ag, &r->calls[i], &r->observations[i]);
        r->exec_ms += now_ms() - t2;
        if (rc) {
            r->failed_step = i;
            r->error = strf("step %d (\"%s\"): the call %s %.400s failed: %s", i + 1, r->steps[i], r->calls[i].function,
                            r->calls[i].arguments, octo_last_error());
            return octo_fail("%s", r->error ? r->error : "a call failed");
        }
        obs = r->observations[i];
    }
    return 0;
}

int octo_agent_run(octo_agent *ag, const char *request, bool dry_run, octo_run_result *r) {
    memset(r, 0, sizeof *r);
    r->failed_step = -1;
    r->query = strdup(request ? request : "");
    double t0 = now_ms();
    int n = octo_planner_plan(ag->pl, request, &r->steps);
    r->plan_ms = now_ms() - t0;
    if (n < 0) {
        r->failed_step = 0;
        r->error = strf("planning failed: %s", octo_last_error());
        return -1;
    }
    r->n_steps = n;
    return run_steps(ag, dry_run, r);
}

int octo_agent_run_plan(octo_agent *ag, const char *request, const char *const *steps, int n, bool dry_run,
                        octo_run_result *r) {
    memset(r, 0, sizeof *r);
    r->failed_step = -1;
    r->query = strdup(request ? request : "");
    if (n < 1) {
        r->failed_step = 0;
        r->error = strf("no steps");
        return octo_fail("agent: no steps to run");
    }
    r->steps = calloc((size_t)n, sizeof *r->steps);
    for (int i = 0; r->steps && i < n; i++)
        if ((r->steps[r->n_steps] = strdup(steps[i]))) r->n_steps++;
    if (!r->steps || r->n_steps != n) {
        r->failed_step = 0;
        return octo_fail("out of memory");
    }
    return run_steps(ag, dry_run, r);
}

void octo_run_result_free(octo_run_result *r) {
    if (!r) return;
    free(r->query);
    octo_strings_free(r->steps, r->n_steps);
    if (r->calls)
        for (int i = 0; i < r->n_steps; i++) octo_agent_call_free(&r->calls[i]);
    free(r->calls);
    if (r->observations)
        for (int i = 0; i < r->n_steps; i++) free(r->observations[i]);
    free(r->observations);
    free(r->error);
    memset(r, 0, sizeof *r);
}

char *octo_run_result_json(const octo_run_result *r) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "query", r->query ? r->query : "");
    cJSON *steps = cJSON_AddArrayToObject(o, "steps");
    for (int i = 0; i < r->n_steps; i++) cJSON_AddItemToArray(steps, cJSON_CreateString(r->steps[i]));
    cJSON *calls = cJSON_AddArrayToObject(o, "calls");
    bool executed = false;
    for (int i = 0; i < r->n_calls; i++) {
        cJSON *c = cJSON_CreateObject();
        cJSON_AddStringToObject(c, "function", r->calls[i].function);
        cJSON *args = cJSON_Parse(r->calls[i].arguments);
        cJSON_AddItemToObject(c, "arguments", args ? args : cJSON_CreateObject());
        cJSON_AddItemToArray(calls, c);
        if (r->observations && r->observations[i]) executed = true;
    }
    if (executed) {
        cJSON *obs = cJSON_AddArrayToObject(o, "observations");
        for (int i = 0; i < r->n_calls; i++)
            cJSON_AddItemToArray(obs, r->observations[i] ? cJSON_CreateString(r->observations[i]) : cJSON_CreateNull());
    }
    if (r->error) cJSON_AddStringToObject(o, "error", r->error);
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}
