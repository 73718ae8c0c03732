/* HMAC-SHA256 on the x86 SHA extensions, for sign.c, which uses it where the CPU has them and
 * libsodium elsewhere. Only sign.c includes this. */
#ifndef WARDEN_SHA256_NI_H
#define WARDEN_SHA256_NI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SHA256_NI_DIGEST 32

struct sha256_ni {
    uint32_t h[8];
    uint64_t bytes;        /* hashed so far, buffered ones included */
    unsigned char buf[64]; /* a partial block */
    size_t fill;           /* bytes in buf */
};

/* The key's inner and outer states, computed once; copied per message. */
struct hmac_sha256_ni {
    struct sha256_ni inner, outer;
};

/* True when this CPU runs the SHA extensions (and SSE4.1). Valgrind's CPUID says no. */
bool sha256_ni_supported(void);

void hmac_sha256_ni_init(struct hmac_sha256_ni *hmac, const void *key, size_t key_len);
/* A copy of the keyed inner state: update it with the message, then finish. */
void sha256_ni_update(struct sha256_ni *s, const void *data, size_t len);
void hmac_sha256_ni_final(const struct hmac_sha256_ni *hmac, struct sha256_ni *inner,
                          unsigned char out[SHA256_NI_DIGEST]);

#endif
