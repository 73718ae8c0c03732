#include "mask.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define MASK "[masked]"

static bool token_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
}

static bool starts(const char *s, size_t len, const char *prefix)
{
    size_t n = strlen(prefix);
    return len >= n && memcmp(s, prefix, n) == 0;
}

static bool mixes_letters_and_digits(const char *s, size_t len)
{
    bool letter = false, digit = false;
    for (size_t i = 0; i < len; i++) {
        letter = letter || (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z');
        digit = digit || (s[i] >= '0' && s[i] <= '9');
    }
    return letter && digit;
}

/* Does the token (a maximal run of token characters) look like a credential? */
static bool looks_secret(const char *s, size_t len)
{
    static const struct {
        const char *prefix;
        size_t min_len;
    } known[] = {{"sk-", 23},   {"AKIA", 20},  {"ghp_", 24},  {"gho_", 24},       {"ghu_", 24},
                 {"ghs_", 24},  {"ghr_", 24},  {"xoxb-", 15}, {"xoxp-", 15},      {"xoxa-", 15},
                 {"xoxr-", 15}, {"xoxs-", 15}, {"AIza", 39},  {"github_pat_", 31}};
    for (size_t i = 0; i < sizeof known / sizeof *known; i++)
        if (starts(s, len, known[i].prefix) && len >= known[i].min_len)
            return true;
    return len >= 32 && mixes_letters_and_digits(s, len);
}

/* Length of an ANSI escape sequence at s (CSI: ESC [ params final), or 0. */
static size_t ansi_length(const char *s)
{
    if (s[0] != '\x1b')
        return 0;
    if (s[1] != '[')
        return s[1] ? 2 : 1;
    size_t i = 2;
    while (s[i] && ((s[i] >= '0' && s[i] <= '?') || (s[i] >= ' ' && s[i] <= '/')))
        i++;
    return s[i] ? i + 1 : i;
}

char *mask_for_model(const char *text)
{
    size_t len = strlen(text);
    /* the output is never longer than the input but for "[masked]" replacing a shorter token,
     * which cannot happen: a masked token is at least 15 characters long */
    char *out = malloc(len + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        size_t esc = ansi_length(text + i);
        if (esc) {
            i += esc;
            continue;
        }
        if (!token_char(text[i])) {
            out[o++] = text[i++];
            continue;
        }
        size_t j = i;
        while (j < len && token_char(text[j]))
            j++;
        if (looks_secret(text + i, j - i)) {
            memcpy(out + o, MASK, sizeof MASK - 1);
            o += sizeof MASK - 1;
        } else {
            memcpy(out + o, text + i, j - i);
            o += j - i;
        }
        i = j;
    }
    out[o] = '\0';
    return out;
}
