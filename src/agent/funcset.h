/* funcset.h - a function set: the functions an agent may call.
 *
 * File format: JSON, an object {"name": "...", "description": "...",
 * "functions": [...]} or a bare array, each function in the OpenAI "tools"
 * schema ({"type":"function","function":{name, description, parameters}}
 * or the inner object directly) plus an optional handler:
 *   "handler": {"exec": ["argv0", "--flag", "{param}"], "timeout_ms": 10000}
 *   "handler": {"http": "http://host/path", "timeout_ms": 10000}
 * or one handler per machine profile, the active one picked at load time
 * ($OCTO_HANDLERS, else "termux" on a Termux phone, else "linux"; then
 * "default"; none: the function has no handler):
 *   "handlers": {"linux": {"exec": [...]}, "termux": {"exec": [...]}}
 * In exec argv, "{param}" names a parameter (checked at load time); "{{" and
 * "}}" are literal braces. argv[0] is fixed: never a placeholder.
 * parameters is a JSON Schema object: properties with type (string,
 * integer, number, boolean, array, object), enum, description; required.
 * Loading validates all of it and fails with "FILE: functions[3].parameters.
 * properties.x.type: expected one of ..." style messages.
 */
#ifndef OCTO_AGENT_FUNCSET_H
#define OCTO_AGENT_FUNCSET_H

#include <stdbool.h>
#include <cjson/cJSON.h>

typedef enum {
    OCTO_JT_STRING,
    OCTO_JT_INTEGER,
    OCTO_JT_NUMBER,
    OCTO_JT_BOOLEAN,
    OCTO_JT_ARRAY,
    OCTO_JT_OBJECT,
} octo_json_type;

typedef struct {
    char *name;
    octo_json_type type;
    char *description;
    char **enum_values; /* string enums (NULL if none) */
    int n_enum;
    bool required;
    const cJSON *schema; /* the property's full schema (inside octo_function.parameters) */
} octo_fparam;

typedef enum { OCTO_HANDLER_NONE, OCTO_HANDLER_EXEC, OCTO_HANDLER_HTTP } octo_handler_kind;

typedef struct {
    octo_handler_kind kind;
    char **argv; /* exec: argv template, "{param}" placeholders; NULL-terminated */
    int argc;
    char *url;   /* http */
    int timeout_ms;
} octo_handler;

typedef struct {
    char *name;
    char *description;
    octo_fparam *params; /* in the order the schema lists them */
    int n_params;
    cJSON *parameters;   /* the JSON Schema object (owned) */
    octo_handler handler;
} octo_function;

typedef struct octo_funcset {
    char *name;        /* set name ("android"), from the file or its basename */
    char *description;
    char *path;
    octo_function *fns;
    int n;
} octo_funcset;

octo_funcset *octo_funcset_load(const char *path);
/* Parse from memory; origin names the source in error messages. */
octo_funcset *octo_funcset_parse(const char *json, size_t len, const char *origin);
/* The same with an explicit handler profile (NULL: the default one). */
octo_funcset *octo_funcset_load_profile(const char *path, const char *profile);
octo_funcset *octo_funcset_parse_profile(const char *json, size_t len, const char *origin, const char *profile);
/* $OCTO_HANDLERS, else "termux" on a Termux phone, else "linux". */
const char *octo_funcset_default_profile(void);
void octo_funcset_free(octo_funcset *fs);
int octo_funcset_find(const octo_funcset *fs, const char *name); /* index or -1 */

/* Check a call's arguments against the function's schema: required present,
 * no unknown names, types and enums right. Returns 0, or -1 with a one-line
 * reason in why ("argument \"date\": expected string"). */
int octo_args_validate(const octo_function *f, const cJSON *args, char *why, size_t cap);

/* Path of a shipped set by name ("android" -> <data dir>/functions/android.json),
 * looking in $OCTO_DATA_DIR, then beside the executable (../functions,
 * ../share/octo/functions), then ./functions. Returns a malloc'd path or NULL. */
char *octo_funcset_path(const char *name);

#endif
