/* jschema.h - the JSON Schema subset function parameters are written in.
 *
 * Supported keywords (everything a function's arguments need, nothing a
 * model could not be constrained to):
 *   type         "string" | "integer" | "number" | "boolean" | "array" | "object"
 *   enum         allowed values (compared as JSON values)
 *   items        schema of an array's elements
 *   properties, required, additionalProperties (boolean)   for objects
 *   minimum, maximum                for numbers and integers
 *   minLength, maxLength            for strings (in characters)
 *   minItems, maxItems              for arrays
 *   description, title, default, examples, format, pattern: annotations
 *                                   (kept, shown to models, not checked)
 * Anything else is an error, so a misspelt keyword ("requried") is caught
 * when the file is loaded instead of silently accepting every value.
 */
#ifndef OCTO_AGENT_JSCHEMA_H
#define OCTO_AGENT_JSCHEMA_H

#include <stddef.h>
#include <cjson/cJSON.h>

#include "agent/funcset.h"

/* Parse a type name; returns 0 or -1. */
int octo_jtype_parse(const char *s, octo_json_type *out);
const char *octo_jtype_name(octo_json_type t);

/* Check that schema is a schema of this subset. where names it in messages
 * ("functions[2].parameters.properties.date"). Returns 0, or -1 with
 * "where.keyword: what was expected" in why. */
int octo_jschema_check(const cJSON *schema, const char *where, char *why, size_t cap);

/* Check a value against a schema (already checked by octo_jschema_check).
 * where names the value ("argument \"date\""). Returns 0 or -1 with why. */
int octo_jschema_validate(const cJSON *schema, const cJSON *v, const char *where, char *why, size_t cap);

#endif
