/* unicode.c - see unicode.h. */
#include "tokenizer/unicode.h"

uint32_t octo_utf8_decode(const char *str, size_t n, size_t *off) {
    const unsigned char *s = (const unsigned char *)str + *off;
    size_t left = n - *off;
    unsigned c = s[0];
    if (!(c & 0x80)) {
        *off += 1;
        return c;
    }
    /* A lead byte must be followed by enough continuation bytes; anything
     * else is replaced byte by byte. */
    if ((c & 0x40) && !(c & 0x20)) {
        if (left >= 2 && (s[1] & 0xc0) == 0x80) {
            *off += 2;
            return ((c & 0x1fu) << 6) | (s[1] & 0x3fu);
        }
    } else if ((c & 0x40) && !(c & 0x10)) {
        if (left >= 3 && (s[1] & 0xc0) == 0x80 && (s[2] & 0xc0) == 0x80) {
            *off += 3;
            return ((c & 0x0fu) << 12) | ((s[1] & 0x3fu) << 6) | (s[2] & 0x3fu);
        }
    } else if ((c & 0x40) && !(c & 0x08)) {
        if (left >= 4 && (s[1] & 0xc0) == 0x80 && (s[2] & 0xc0) == 0x80 && (s[3] & 0xc0) == 0x80) {
            uint32_t v = ((c & 0x07u) << 18) | ((s[1] & 0x3fu) << 12) | ((s[2] & 0x3fu) << 6) | (s[3] & 0x3fu);
            *off += 4;
            /* llama.cpp would throw re-encoding this; a replacement keeps the
             * tokenizer total. */
            return v <= 0x10FFFF ? v : 0xFFFD;
        }
    }
    *off += 1;
    return 0xFFFD;
}

int octo_utf8_encode(uint32_t cpt, char *out) {
    unsigned char *o = (unsigned char *)out;
    if (cpt <= 0x7f) {
        o[0] = (unsigned char)cpt;
        return 1;
    }
    if (cpt <= 0x7ff) {
        o[0] = (unsigned char)(0xc0 | (cpt >> 6));
        o[1] = (unsigned char)(0x80 | (cpt & 0x3f));
        return 2;
    }
    if (cpt <= 0xffff) {
        o[0] = (unsigned char)(0xe0 | (cpt >> 12));
        o[1] = (unsigned char)(0x80 | ((cpt >> 6) & 0x3f));
        o[2] = (unsigned char)(0x80 | (cpt & 0x3f));
        return 3;
    }
    if (cpt > 0x10ffff) return octo_utf8_encode(0xfffd, out);
    o[0] = (unsigned char)(0xf0 | (cpt >> 18));
    o[1] = (unsigned char)(0x80 | ((cpt >> 12) & 0x3f));
    o[2] = (unsigned char)(0x80 | ((cpt >> 6) & 0x3f));
    o[3] = (unsigned char)(0x80 | (cpt & 0x3f));
    return 4;
}

int octo_unicode_class(uint32_t cpt) {
    /* ASCII dominates real text; answer it without the search. */
    if (cpt < 0x80) {
        if ((cpt | 0x20) >= 'a' && (cpt | 0x20) <= 'z') return OCTO_UCLASS_LETTER;
        if (cpt >= '0' && cpt <= '9') return OCTO_UCLASS_NUMBER;
        if (cpt <= 0x20 || cpt == 0x7f) return OCTO_UCLASS_OTHER;
        /* $ + < = > ^ ` | ~ are symbols (S*), the rest punctuation */
        switch (cpt) {
        case '$': case '+': case '<': case '=': case '>': case '^': case '`': case '|': case '~':
            return OCTO_UCLASS_OTHER;
        default: return OCTO_UCLASS_PUNCT;
        }
    }
    if (cpt > 0x10ffff) return OCTO_UCLASS_OTHER;
    uint32_t lo = 0, hi = octo_unicode_n_runs; /* find the last run start <= cpt */
    while (hi - lo > 1) {
        uint32_t mid = (lo + hi) / 2;
        if ((octo_unicode_runs[mid] >> 2) <= cpt) lo = mid;
        else hi = mid;
    }
    return (int)(octo_unicode_runs[lo] & 3);
}

bool octo_unicode_is_space(uint32_t cpt) {
    if (cpt <= 0x20) return cpt == 0x20 || (cpt >= 0x09 && cpt <= 0x0d);
    if (cpt < 0x85) return false;
    switch (cpt) {
    case 0x85: case 0xa0: case 0x1680: case 0x2028: case 0x2029: case 0x202f: case 0x205f: case 0x3000:
        return true;
    default: return cpt >= 0x2000 && cpt <= 0x200a;
    }
}

uint32_t octo_byte_to_cpt(uint8_t b) { return octo_gpt2_byte_cpt[b]; }

int octo_cpt_to_byte(uint32_t cpt) {
    if (cpt < 256) return octo_gpt2_byte_cpt[cpt] == cpt ? (int)cpt : -1;
    if (cpt < 256 + sizeof octo_gpt2_remapped_byte) return octo_gpt2_remapped_byte[cpt - 256];
    return -1;
}
