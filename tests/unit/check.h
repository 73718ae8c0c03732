/* The unit tests' one assertion macro and summary line ("N passed, N failed", which CI reads). */
#ifndef WARDEN_CHECK_H
#define WARDEN_CHECK_H

#include <stdio.h>

static int check_passed, check_failed;

#define CHECK(cond)                                                                               \
    do {                                                                                          \
        if (cond)                                                                                 \
            check_passed++;                                                                       \
        else {                                                                                    \
            check_failed++;                                                                       \
            fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);                       \
        }                                                                                         \
    } while (0)

static inline int check_summary(const char *suite)
{
    printf("%s: %d passed, %d failed\n", suite, check_passed, check_failed);
    return check_failed == 0 ? 0 : 1;
}

#endif
