/* What every harness shares: the libFuzzer entry point's declaration, an assertion that stops
 * the run (a broken invariant is a finding, like a crash), and helpers for harnesses whose parser
 * reads a file or takes C strings. The harnesses assert on what the parsers promise in their
 * headers, not only that they do not crash. */
#ifndef WARDEN_FUZZ_H
#define WARDEN_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* abort() makes libFuzzer save the input as a crash, with the message just above it. */
#define FUZZ_ASSERT(cond)                                                                          \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz invariant broken at %s:%d: %s\n", __FILE__, __LINE__, #cond);    \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* A malloc'd NUL-terminated copy of the input (parsers of C strings). */
char *fuzz_cstring(const uint8_t *data, size_t size);

/* A path naming a regular in-memory file that now holds exactly the input (parsers that open a
 * path: the config file, the connection file). The file is reused from one input to the next. */
const char *fuzz_file(const uint8_t *data, size_t size);

/* A small deterministic generator: chunk sizes picked from the input itself, so that a crash
 * replays exactly. */
struct fuzz_rng {
    uint64_t state;
};
void fuzz_rng_seed(struct fuzz_rng *rng, const uint8_t *data, size_t size);
/* A number in [1, max]. */
size_t fuzz_rng_chunk(struct fuzz_rng *rng, size_t max);

#endif
