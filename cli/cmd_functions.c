/* cmd_functions.c - `octo functions show|validate|path|call`: function-set
 * files (format: src/agent/funcset.h, docs/data.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "agent/funcset.h"
#include "agent/handler.h"

static const char *k_help =
    "usage: octo functions show F [--handlers PROFILE]\n"
    "       octo functions validate F... [--handlers PROFILE]\n"
    "       octo functions path NAME\n"
    "       octo functions call F FUNCTION [ARGUMENTS_JSON] [--handlers PROFILE]\n\n"
    "F is a function-set file or the name of a shipped set (android, ecommerce, travel,\n"
    "video_streaming, dailylife). show prints each function's signature, description and\n"
    "handler; validate checks files (schemas, handlers) and exits 1 at the first bad one,\n"
    "naming the file and the JSON path; path prints where a shipped set is found; call runs\n"
    "one function's handler with the arguments (a JSON object, default {}) and prints the\n"
    "observation (exit 1 if the call fails, with what output there was).\n\n"
    "  --handlers PROFILE   the handler profile to resolve (default: $OCTO_HANDLERS, else\n"
    "                       termux on a Termux phone, else linux)\n";

static octo_funcset *load(const char *cmd, const char *f, const char *profile) {
    char *path = octo_funcset_path(f);
    if (!path) {
        cli_error(cmd, "%s", octo_last_error());
        return NULL;
    }
    octo_funcset *fs = octo_funcset_load_profile(path, profile);
    free(path);
    if (!fs) cli_error(cmd, "%s", octo_last_error());
    return fs;
}

/* "string", "array of integer", "object {a, b}" */
static void print_type(const cJSON *schema, int depth) {
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(schema, "type");
    const char *ts = cJSON_IsString(t) ? t->valuestring : "?";
    printf("%s", ts);
    const cJSON *items = cJSON_GetObjectItemCaseSensitive(schema, "items");
    if (!strcmp(ts, "array") && items && depth < 4) {
        printf(" of ");
        print_type(items, depth + 1);
    }
    const cJSON *props = cJSON_GetObjectItemCaseSensitive(schema, "properties");
    if (!strcmp(ts, "object") && props && props->child) {
        printf(" {");
        const cJSON *p;
        cJSON_ArrayForEach(p, props) printf("%s%s", p == props->child ? "" : ", ", p->string);
        printf("}");
    }
    const cJSON *en = cJSON_GetObjectItemCaseSensitive(schema, "enum");
    if (en) {
        printf(" (");
        const cJSON *e;
        cJSON_ArrayForEach(e, en) {
            char *v = cJSON_PrintUnformatted(e);
            if (!v) break;
            /* strings without their quotes: "front|back" */
            bool q = cJSON_IsString(e);
            printf("%s%.*s", e == en->child ? "" : "|", (int)strlen(v) - (q ? 2 : 0), v + (q ? 1 : 0));
            cJSON_free(v);
        }
        printf(")");
    }
}

static void show(const octo_funcset *fs) {
    printf("%s (%s): %d functions\n", fs->name, fs->path, fs->n);
    if (fs->description[0]) printf("%s\n", fs->description);
    for (int i = 0; i < fs->n; i++) {
        const octo_function *f = &fs->fns[i];
        printf("\n%s(", f->name);
        for (int k = 0; k < f->n_params; k++) {
            const octo_fparam *p = &f->params[k];
            printf("%s%s%s: ", k ? ", " : "", p->name, p->required ? "" : "?");
            print_type(p->schema, 0);
        }
        printf(")\n");
        if (f->description[0]) printf("    %s\n", f->description);
        for (int k = 0; k < f->n_params; k++)
            if (f->params[k].description[0]) printf("    %s: %s\n", f->params[k].name, f->params[k].description);
        if (f->handler.kind == OCTO_HANDLER_EXEC) {
            printf("    handler: exec");
            for (int k = 0; k < f->handler.argc; k++) printf(" %s", f->handler.argv[k]);
            printf(" (timeout %d ms)\n", f->handler.timeout_ms);
        } else if (f->handler.kind == OCTO_HANDLER_HTTP) {
            printf("    handler: POST %s (timeout %d ms)\n", f->handler.url, f->handler.timeout_ms);
        } else {
            printf("    handler: none\n");
        }
    }
}

int cmd_functions(int argc, char **argv) {
    cli_args a = {argc, argv, 1, "octo functions"};
    const char *sub = NULL, *profile = NULL;
    const char *files[256];
    int nf = 0;
    while (a.i < argc) {
        if (cli_flag(&a, "-h", "--help")) {
            printf("%s", k_help);
            return 0;
        } else if (cli_flag(&a, "--handlers", NULL)) {
            if (!(profile = cli_value(&a))) return 2;
        } else if (argv[a.i][0] != '-' && !sub) {
            sub = argv[a.i++];
        } else if (argv[a.i][0] != '-' && nf < 256) {
            files[nf++] = argv[a.i++];
        } else {
            return cli_usage_error(&a);
        }
    }
    if (!sub) return cli_error(a.cmd, "expected show, validate, path or call (see --help)");
    if (!strcmp(sub, "show") || !strcmp(sub, "validate")) {
        bool is_show = !strcmp(sub, "show");
        if (nf == 0 || (is_show && nf != 1))
            return cli_error(a.cmd, "%s: expected %s", sub, is_show ? "one function set" : "function sets");
        for (int i = 0; i < nf; i++) {
            octo_funcset *fs = load(is_show ? "octo functions show" : "octo functions validate", files[i], profile);
            if (!fs) return 1;
            if (is_show) {
                show(fs);
            } else {
                int nh = 0;
                for (int k = 0; k < fs->n; k++) nh += fs->fns[k].handler.kind != OCTO_HANDLER_NONE;
                printf("%s: ok: %s, %d functions, %d with a handler (profile %s)\n", fs->path, fs->name, fs->n, nh,
                       profile ? profile : octo_funcset_default_profile());
            }
            octo_funcset_free(fs);
        }
        return 0;
    }
    if (!strcmp(sub, "call")) {
        const char *cmd = "octo functions call";
        if (nf < 2 || nf > 3) return cli_error(cmd, "expected F FUNCTION [ARGUMENTS_JSON]");
        cJSON *args = cJSON_Parse(nf == 3 ? files[2] : "{}");
        if (!cJSON_IsObject(args)) {
            cJSON_Delete(args);
            return cli_error(cmd, "arguments: expected a JSON object, got \"%.60s\"", files[2]);
        }
        octo_funcset *fs = load(cmd, files[0], profile);
        if (!fs) {
            cJSON_Delete(args);
            return 1;
        }
        int k = octo_funcset_find(fs, files[1]);
        int rc = 0;
        if (k < 0) {
            rc = cli_error(cmd, "%s has no function \"%s\"", fs->name, files[1]);
        } else {
            char *obs = NULL;
            if (octo_handler_run(&fs->fns[k], args, &obs) != 0) rc = cli_error(cmd, "%s", octo_last_error());
            if (obs) fputs(obs, stdout);
            free(obs);
        }
        cJSON_Delete(args);
        octo_funcset_free(fs);
        return rc;
    }
    if (!strcmp(sub, "path")) {
        if (nf != 1) return cli_error(a.cmd, "path: expected one set name");
        char *p = octo_funcset_path(files[0]);
        if (!p) return cli_error("octo functions path", "%s", octo_last_error());
        printf("%s\n", p);
        free(p);
        return 0;
    }
    fprintf(stderr, "octo functions: unknown command \"%s\" (see --help)\n", sub);
    return 2;
}
