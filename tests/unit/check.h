/* The unit tests' one assertion macro, summary line ("N passed, N failed", which CI reads), JSON
 * literal reader and JSON comparison. */
#ifndef WARDEN_CHECK_H
#define WARDEN_CHECK_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

static int check_passed, check_failed;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (cond)                                                                                  \
            check_passed++;                                                                        \
        else {                                                                                     \
            check_failed++;                                                                        \
            fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);                        \
        }                                                                                          \
    } while (0)

static inline int check_summary(const char *suite)
{
    printf("%s: %d passed, %d failed\n", suite, check_passed, check_failed);
    return check_failed == 0 ? 0 : 1;
}

/* JSON written in a test (any value, NUL escapes allowed); a typo in it stops the suite. */
static inline json_t *J(const char *text)
{
    json_error_t err;
    json_t *v = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
    if (!v) {
        fprintf(stderr, "bad test JSON: %s: %s\n", text, err.text);
        exit(2);
    }
    return v;
}

/* `value` equals the JSON written in `expected`; says what it got when not. */
static inline bool json_is(const json_t *value, const char *expected)
{
    json_t *want = J(expected);
    bool eq = value && json_equal((json_t *)value, want);
    if (!eq) {
        char *got = value ? json_dumps(value, JSON_SORT_KEYS) : NULL;
        fprintf(stderr, "  got:  %s\n  want: %s\n", got ? got : "NULL", expected);
        free(got);
    }
    json_decref(want);
    return eq;
}

#endif
