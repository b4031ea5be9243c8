/* unicode.h - the little Unicode the tokenizers need: UTF-8 decoding the way
 * llama.cpp does it, code point classes for the BPE pre-tokenizers, and the
 * GPT-2 byte <-> code point mapping of byte-level BPE.
 *
 * Decoding mirrors llama.cpp rather than a strict validator on purpose: token
 * ids must match the reference engine byte for byte, including on malformed
 * input, where every byte that does not start a well-formed sequence becomes
 * U+FFFD.
 */
#ifndef OCTO_TOKENIZER_UNICODE_H
#define OCTO_TOKENIZER_UNICODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
    OCTO_UCLASS_OTHER = 0,
    OCTO_UCLASS_LETTER = 1,
    OCTO_UCLASS_NUMBER = 2,
    OCTO_UCLASS_PUNCT = 3,
};

/* Generated tables (unicode_tables.c). */
extern const char octo_unicode_version[];
extern const uint32_t octo_unicode_runs[];
extern const uint32_t octo_unicode_n_runs;
extern const uint16_t octo_gpt2_byte_cpt[256];
extern const uint8_t octo_gpt2_remapped_byte[68];

/* Length of the UTF-8 sequence a lead byte announces (1 for stray
 * continuation bytes), from its high nibble alone. */
static inline size_t octo_utf8_len(unsigned char c) {
    static const unsigned char lookup[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
    return lookup[c >> 4];
}

/* Decode one code point at s[*off] (*off < n), advancing *off. Malformed or
 * truncated sequences yield U+FFFD and advance one byte. Overlong forms are
 * accepted, as in llama.cpp; values above U+10FFFF become U+FFFD. */
uint32_t octo_utf8_decode(const char *s, size_t n, size_t *off);

/* Encode cpt (<= 0x10FFFF) into out (4 bytes room); returns the length. */
int octo_utf8_encode(uint32_t cpt, char *out);

/* OCTO_UCLASS_* of a code point. */
int octo_unicode_class(uint32_t cpt);
/* Unicode White_Space property. */
bool octo_unicode_is_space(uint32_t cpt);

/* GPT-2 byte-level encoding: the code point standing for byte b, and back
 * (-1 for a code point that stands for no byte). */
uint32_t octo_byte_to_cpt(uint8_t b);
int octo_cpt_to_byte(uint32_t cpt);

#endif
