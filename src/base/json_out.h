/* json_out.h - writing JSON text: string escaping for output streams.
 *
 * Parsing JSON is cJSON's job; writing large regular outputs (logits of
 * every position, JSONL datasets) is simpler and faster by hand, and only
 * needs correct string escaping, which lives here once.
 */
#ifndef OCTO_BASE_JSON_OUT_H
#define OCTO_BASE_JSON_OUT_H

#include <stddef.h>
#include <stdio.h>

/* Write s (n bytes) as a quoted JSON string. Invalid UTF-8 bytes are
 * written as U+FFFD so the output always parses. */
void octo_json_write_str(FILE *f, const char *s, size_t n);

#endif
