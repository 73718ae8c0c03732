#include "utf8.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

size_t utf8_codepoints(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            n++;
    return n;
}

size_t utf8_cut(const char *s, size_t len, size_t max)
{
    if (len <= max)
        return len;
    size_t cut = max;
    while (cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80)
        cut--;
    return cut;
}

/* The ranges are Unicode's table of well-formed byte sequences: they exclude overlong forms,
 * surrogates (ED A0..BF) and code points above U+10FFFF. */
size_t utf8_sequence(const unsigned char *s, size_t avail, size_t *bad_len)
{
    unsigned char c = s[0];
    *bad_len = 1;
    if (c < 0x80)
        return 1;
    size_t n;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF)
        n = 2;
    else if (c == 0xE0) {
        n = 3;
        lo = 0xA0;
    } else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF)
        n = 3;
    else if (c == 0xED) {
        n = 3;
        hi = 0x9F;
    } else if (c == 0xF0) {
        n = 4;
        lo = 0x90;
    } else if (c >= 0xF1 && c <= 0xF3)
        n = 4;
    else if (c == 0xF4) {
        n = 4;
        hi = 0x8F;
    } else
        return 0;
    for (size_t i = 1; i < n; i++) {
        if (i >= avail)
            return (*bad_len = i, 0);
        unsigned char lo_i = i == 1 ? lo : 0x80, hi_i = i == 1 ? hi : 0xBF;
        if (s[i] < lo_i || s[i] > hi_i)
            return (*bad_len = i, 0);
    }
    return n;
}

char *utf8_repair(const char *in, size_t len, size_t *outlen)
{
    const unsigned char *s = (const unsigned char *)in;
    size_t first_bad = len, bad;
    *outlen = 0;
    for (size_t i = 0; i < len;) {
        size_t n = utf8_sequence(s + i, len - i, &bad);
        if (n == 0) {
            first_bad = i;
            break;
        }
        i += n;
    }
    if (first_bad == len)
        return NULL;
    /* Each invalid byte becomes at most the 3 bytes of U+FFFD. */
    char *out = malloc(len * 3 + 1);
    if (!out)
        return NULL;
    memcpy(out, in, first_bad);
    size_t olen = first_bad;
    for (size_t i = first_bad; i < len;) {
        size_t n = utf8_sequence(s + i, len - i, &bad);
        if (n) {
            memcpy(out + olen, s + i, n);
            olen += n;
            i += n;
        } else {
            memcpy(out + olen, "\xEF\xBF\xBD", 3);
            olen += 3;
            i += bad;
        }
    }
    out[olen] = '\0';
    *outlen = olen;
    return out;
}

#define ONES  0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL

/* Whether any byte of w is zero (exact as a yes/no; which byte is not told). */
static inline uint64_t has_zero(uint64_t w) { return (w - ONES) & ~w & HIGHS; }

static inline bool plain_byte(unsigned char c)
{
    return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

size_t utf8_json_plain_run(const char *s, size_t len)
{
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        /* a byte < 0x20 (0x20 - it borrows), '"', '\\', or one with its high bit set */
        uint64_t special = ((w - 0x20 * ONES) & ~w & HIGHS) | has_zero(w ^ ('"' * ONES)) |
                           has_zero(w ^ ('\\' * ONES)) | (w & HIGHS);
        if (special)
            break;
    }
    while (i < len && plain_byte((unsigned char)s[i]))
        i++;
    return i;
}

static bool is_ascii(const char *s, size_t len)
{
    uint64_t any = 0;
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        any |= w;
    }
    for (; i < len; i++)
        any |= (unsigned char)s[i];
    return (any & HIGHS) == 0;
}

json_t *utf8_json_string(const char *text, size_t len)
{
    /* ASCII is valid UTF-8: jansson's own check (a tenth of a big output's cost) is skipped */
    json_t *value = is_ascii(text, len) ? json_stringn_nocheck(text, len) : json_stringn(text, len);
    if (value)
        return value;
    size_t clean_len;
    char *clean = utf8_repair(text, len, &clean_len);
    value = clean ? json_stringn(clean, clean_len) : NULL;
    free(clean);
    return value;
}

#define REPLACEMENT "\xEF\xBF\xBD"

static bool keeps_control(const char *s, size_t len, size_t i)
{
    return s[i] == '\n' || s[i] == '\t' || (s[i] == '\r' && i + 1 < len && s[i + 1] == '\n');
}

char *utf8_inert(const char *text, size_t len)
{
    const unsigned char *s = (const unsigned char *)text;
    char *out = malloc(len * 3 + 1); /* no byte becomes more than 3 */
    if (!out)
        return NULL;
    size_t olen = 0, bad;
    for (size_t i = 0; i < len;) {
        size_t n = utf8_sequence(s + i, len - i, &bad);
        bool control = s[i] < 0x20 || s[i] == 0x7F;
        if (n == 1 && (!control || keeps_control(text, len, i))) {
            out[olen++] = text[i];
        } else if (n == 1) { /* U+2400 + c, or U+2421 for DEL */
            unsigned int picture = s[i] == 0x7F ? 0x2421 : 0x2400 + s[i];
            out[olen++] = (char)(0xE0 | picture >> 12);
            out[olen++] = (char)(0x80 | (picture >> 6 & 0x3F));
            out[olen++] = (char)(0x80 | (picture & 0x3F));
        } else if (n == 0 || (n == 2 && s[i] == 0xC2 && s[i + 1] <= 0x9F)) {
            memcpy(out + olen, REPLACEMENT, 3);
            olen += 3;
        } else {
            memcpy(out + olen, text + i, n);
            olen += n;
        }
        i += n ? n : bad;
    }
    out[olen] = '\0';
    return out;
}
