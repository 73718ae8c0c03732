/* The code taken out of a model's reply (agent/extract.c): the reply is the model's, and what is
 * taken out of it runs in the jail, so a reply must never make it read past its end, lose a line
 * of a code block, or run a block in another language.
 *
 * Input: the reply's text, up to a NUL (a reply is a JSON string's text, and jansson refuses
 * \u0000 without JSON_ALLOW_NUL, so it never holds one).
 *
 * Invariants (agent/extract.h): always succeeds; code only when a Python block was found, and
 * the unfenced text only when no fence at all was; prose and code are trimmed and take no more
 * than the reply (a fence line is never copied into the code); the text without reasoning is never
 * longer than the reply. */
#include <string.h>

#include "agent/extract.h"
#include "fuzz.h"

static bool blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

static void check_trimmed(const char *s)
{
    size_t n = strlen(s);
    FUZZ_ASSERT(n == 0 || (!blank(s[0]) && !blank(s[n - 1])));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *reply = (const char *)data;
    const uint8_t *nul = memchr(data, '\0', size);
    if (nul)
        size = (size_t)(nul - data);
    struct extraction x;
    FUZZ_ASSERT(extract_reply(reply, size, &x));
    FUZZ_ASSERT(x.prose);
    check_trimmed(x.prose);
    FUZZ_ASSERT((x.code != NULL) == (x.blocks > 0));
    FUZZ_ASSERT((x.unfenced != NULL) == (x.blocks == 0 && x.other_blocks == 0));
    size_t code_len = x.code ? strlen(x.code) : 0;
    if (x.code) { /* the blank lines at a block's ends are dropped */
        FUZZ_ASSERT(code_len == 0 || !blank(x.code[code_len - 1]));
        FUZZ_ASSERT(code_len == 0 || x.code[0] != '\n');
    }
    FUZZ_ASSERT(strlen(x.prose) + code_len <= size);
    if (x.unfenced) { /* without any fence, every line is prose, and the same text */
        FUZZ_ASSERT(strcmp(x.unfenced, x.prose) == 0);
        check_trimmed(x.unfenced);
        FUZZ_ASSERT(strlen(x.unfenced) <= size);
    }
    extraction_clear(&x);

    char *without = extract_without_reasoning(reply, size);
    FUZZ_ASSERT(without);
    FUZZ_ASSERT(strlen(without) <= size);
    free(without);
    return 0;
}
