/* json_fsm.h - a byte-level automaton for the JSON texts one JSON Schema
 * allows: the action model's arguments, checked one byte at a time while
 * they are being generated.
 *
 * The schema is compiled once into a tree of nodes; the run-time state is a
 * small fixed-size struct (a stack of frames, no heap), so the constrained
 * decoder can copy it to try a candidate token and throw the copy away.
 *
 * What the automaton accepts, for an object schema (the root must be one):
 *  - the properties in the order the schema lists them; optional ones may be
 *    left out, required ones may not; no other keys. One fixed order makes
 *    the automaton small and the training text canonical (the renderer
 *    writes arguments in the same order);
 *  - strings: any JSON string (escapes checked, \u surrogates refused so
 *    every output parses), valid UTF-8, at most max_string bytes, between
 *    minLength and maxLength characters;
 *  - integer: -?(0|[1-9][0-9]*), at most 15 digits (exact in a double);
 *    number: the JSON number grammar, at most 24 characters, exponent of at
 *    most 2 digits (never overflows to infinity). With minimum/maximum a
 *    digit is only accepted if some completion of the number still lies in
 *    the range (numbers then have no exponent);
 *  - enum (string or number values) and boolean: exactly one of the listed
 *    literals (enum values that fail the rest of the schema are dropped);
 *  - array: items of the "items" schema (string when absent), between
 *    minItems and min(maxItems, JF_MAX_ITEMS); an object without
 *    "properties" accepts only {};
 *  - insignificant whitespace (space, newline) before and after tokens, at
 *    most 2 bytes in a row (SentencePiece vocabularies emit " {" after a
 *    special token; a longer run would only let a bad model stall).
 * Every bound is finite, so every accepted text is finite and the decoder
 * always terminates. When the token budget runs low the decoder sets
 * `closing`: from then on only the shortest way to a complete text is
 * accepted (no whitespace, no optional properties, no more string content
 * or array items than the schema requires, numbers end as soon as they are
 * in range).
 */
#ifndef OCTO_AGENT_JSON_FSM_H
#define OCTO_AGENT_JSON_FSM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#define JF_MAX_DEPTH 8
#define JF_MAX_PROPS 64
#define JF_MAX_ITEMS 16

typedef struct jf_node jf_node;
typedef struct jf_schema jf_schema;

/* Compile an object schema ({"type":"object","properties":{...},"required":
 * [...]}). max_string: longest string value in bytes (<= 0: 256). Returns
 * NULL with a reason in why (the schema uses something the automaton cannot
 * express: too deep, too many properties, an enum of objects...). */
jf_schema *jf_compile(const cJSON *schema, int max_string, char *why, size_t cap);
void jf_free(jf_schema *s);

typedef struct {
    const jf_node *node;
    uint8_t phase;
    uint8_t ws;      /* whitespace bytes in a row */
    uint8_t utf8;    /* continuation bytes still expected (strings) */
    uint8_t aux;     /* string: \u digits seen; number: sub-state */
    uint16_t n;      /* bytes of a scalar / position in a key or literal / array items */
    uint16_t next;   /* object: first property that may still come */
    uint16_t cur;    /* object: property whose value is being read */
    uint16_t lo, hi; /* literal candidates [lo, hi) */
    uint8_t neg;     /* number: a minus sign was read */
    uint64_t cand;   /* object: properties whose key matches what was read */
} jf_frame;

typedef struct {
    int depth; /* frames in use; 0 once the root value is complete */
    const jf_schema *schema;
    bool closing; /* finish as soon as possible: nothing optional, no more content */
    char num[32]; /* the number being read (only the innermost value is ever a number) */
    jf_frame f[JF_MAX_DEPTH];
} jf_state;

void jf_start(jf_state *st, const jf_schema *s);
/* Feed one byte. Returns 0 if the text so far is still a prefix of an
 * accepted text, -1 if not (the state is then undefined: step a copy). */
int jf_step(jf_state *st, unsigned char c);
/* Feed n bytes (stops at the first rejected one). */
int jf_feed(jf_state *st, const char *s, size_t n);
/* The text read so far is a complete accepted text. */
static inline bool jf_done(const jf_state *st) { return st->depth == 0; }

#endif
