/* The harnesses' shared helpers (fuzz.h). */
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"

char *fuzz_cstring(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    FUZZ_ASSERT(s);
    memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

/* A memfd is a regular file (S_ISREG), as the readers require; opening /proc/self/fd/N opens it
 * afresh at offset 0, as opening a path on disk would, with no disk in the loop. */
const char *fuzz_file(const uint8_t *data, size_t size)
{
    static int fd = -1;
    static char path[64];
    if (fd < 0) {
        fd = memfd_create("warden-fuzz-input", 0);
        FUZZ_ASSERT(fd >= 0);
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    }
    FUZZ_ASSERT(ftruncate(fd, 0) == 0);
    size_t done = 0;
    while (done < size) {
        ssize_t n = pwrite(fd, data + done, size - done, (off_t)done);
        FUZZ_ASSERT(n > 0);
        done += (size_t)n;
    }
    return path;
}

void fuzz_rng_seed(struct fuzz_rng *rng, const uint8_t *data, size_t size)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a over the input */
    for (size_t i = 0; i < size; i++)
        h = (h ^ data[i]) * 1099511628211ull;
    rng->state = h ? h : 1;
}

size_t fuzz_rng_chunk(struct fuzz_rng *rng, size_t max)
{
    uint64_t x = rng->state; /* xorshift64 */
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    rng->state = x;
    return max ? 1 + (size_t)(x % max) : 1;
}
