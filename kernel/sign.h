/* The one place that signs and verifies Jupyter messages: HMAC-SHA256 (libsodium, or libcrypto
 * for big messages: sign.c says why) over the four JSON frames, hex-encoded; constant-time
 * comparison; recently seen signatures are rejected (replay), as jupyter_client does. An empty key
 * means no signing (empty signature). */
#ifndef WARDEN_SIGN_H
#define WARDEN_SIGN_H

#include <stdbool.h>
#include <stddef.h>

#define SIGNATURE_HEX_LEN        64
/* A replayed message is refused if its original came within the last REPLAY_HISTORY_MIN messages
 * (or up to twice as many): more than a flood of ten thousand, as jupyter_client's 65 536 is. */
#define REPLAY_HISTORY_MIN       16384
/* The signed size (the four parts together) from which libcrypto signs, loaded at the first such
 * message. Measured on this VM (signer_sign, best of 5 runs): libsodium takes 185 us for 64 KiB
 * (2.4 us for 700 bytes), libcrypto 37 us, of which about 1 us is its per-message set-up; the
 * load itself takes about 2 ms once. Below 64 KiB a message costs libsodium at most 0.19 ms, and
 * a kernel whose messages all stay below it (every ordinary cell) never maps libcrypto. */
#define SIGN_LIBCRYPTO_MIN_BYTES (64u * 1024u)

struct signer;

struct signed_part {
    const void *data;
    size_t len;
};

/* Returns NULL if the scheme is not hmac-sha256 or libsodium fails. */
struct signer *signer_new(const char *scheme, const void *key, size_t key_len);
void signer_free(struct signer *signer);
bool signer_enabled(const struct signer *signer);

/* Writes SIGNATURE_HEX_LEN hex chars + NUL (or "" when signing is disabled). */
int signer_sign(struct signer *signer, const struct signed_part parts[4],
                char out[SIGNATURE_HEX_LEN + 1]);

/* True when `signature` is valid for parts and has not been seen before. */
bool signer_verify(struct signer *signer, const struct signed_part parts[4], const void *signature,
                   size_t signature_len);

/* Slots the replay sets hold now (both generations): they grow with the messages verified. */
size_t signer_replay_slots(const struct signer *signer);

/* True once libcrypto is loaded and none of its calls has failed (for tests and bench). */
bool signer_libcrypto_loaded(void);
/* Tests only (tests/unit/test_sign_fallback.c): the soname dlopen'ed instead of libcrypto.so.3,
 * set before the first big message, so that the fallback to libsodium can be tested where
 * libcrypto is installed. A test-only hook rather than an environment variable: nothing a
 * kernel's environment says can change what signs its messages. */
void signer_libcrypto_soname_for_tests(const char *soname);

#endif
