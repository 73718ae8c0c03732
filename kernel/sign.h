/* The one place that signs and verifies Jupyter messages: HMAC-SHA256 (over libcrypto's SHA-256,
 * statically linked: sign.c says why) over the four JSON frames, hex-encoded; constant-time
 * comparison; recently seen signatures are rejected (replay), as jupyter_client does. An empty key
 * means no signing (empty signature). */
#ifndef WARDEN_SIGN_H
#define WARDEN_SIGN_H

#include <stdbool.h>
#include <stddef.h>

#define SIGNATURE_HEX_LEN  64
/* A replayed message is refused if its original came within the last REPLAY_HISTORY_MIN messages
 * (or up to twice as many): more than a flood of ten thousand, as jupyter_client's 65 536 is. */
#define REPLAY_HISTORY_MIN 16384
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

#endif
