#include "sign.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DIGEST_LEN 32

/* Replay defence: the digests of the messages verified lately, in two generations of hash sets
 * (open addressing, at most half full, so a probe always ends at an empty slot). When the current
 * generation is full the older one is emptied and becomes the current: every digest of the last
 * REPLAY_HISTORY_MIN messages, and up to twice as many, is remembered. A set keeps 64 bits of each
 * HMAC (already uniform: its first bits are the slot): a fresh message mistaken for a replay has a
 * chance of 2^-49 among 2^15 digests, and no one can aim at one without the key. */
#define REPLAY_SLOTS (2 * REPLAY_HISTORY_MIN)

struct signer {
    EVP_MAC_CTX *keyed; /* initialised with the key once; duplicated per message */
    bool enabled;
    uint64_t seen[2][REPLAY_SLOTS]; /* 0 is an empty slot */
    int current;                    /* the generation digests are added to */
    size_t current_count;
};

struct signer *signer_new(const char *scheme, const void *key, size_t key_len)
{
    if (scheme && scheme[0] && strcasecmp(scheme, "hmac-sha256") != 0)
        return NULL;
    struct signer *signer = calloc(1, sizeof *signer);
    if (!signer)
        return NULL;
    if (key_len == 0)
        return signer; /* signing disabled by an empty key, as the spec allows */
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    signer->keyed = mac ? EVP_MAC_CTX_new(mac) : NULL;
    EVP_MAC_free(mac);
    char digest_name[] = "SHA256";
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest_name, 0),
                           OSSL_PARAM_construct_end()};
    if (!signer->keyed || !EVP_MAC_init(signer->keyed, key, key_len, params)) {
        signer_free(signer);
        return NULL;
    }
    signer->enabled = true;
    return signer;
}

void signer_free(struct signer *signer)
{
    if (!signer)
        return;
    EVP_MAC_CTX_free(signer->keyed);
    OPENSSL_cleanse(signer, sizeof *signer);
    free(signer);
}

bool signer_enabled(const struct signer *signer) { return signer && signer->enabled; }

static int compute_digest(struct signer *signer, const struct signed_part parts[4],
                          unsigned char digest[DIGEST_LEN])
{
    EVP_MAC_CTX *ctx = EVP_MAC_CTX_dup(signer->keyed);
    if (!ctx)
        return -1;
    int ok = 1;
    for (int i = 0; i < 4 && ok; i++)
        ok = EVP_MAC_update(ctx, parts[i].data, parts[i].len);
    size_t out_len = 0;
    if (ok)
        ok = EVP_MAC_final(ctx, digest, &out_len, DIGEST_LEN);
    EVP_MAC_CTX_free(ctx);
    return ok && out_len == DIGEST_LEN ? 0 : -1;
}

static void to_hex(const unsigned char *bytes, size_t len, char *out)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = hex[bytes[i] >> 4];
        out[2 * i + 1] = hex[bytes[i] & 0x0f];
    }
    out[2 * len] = '\0';
}

int signer_sign(struct signer *signer, const struct signed_part parts[4],
                char out[SIGNATURE_HEX_LEN + 1])
{
    out[0] = '\0';
    if (!signer_enabled(signer))
        return 0;
    unsigned char digest[DIGEST_LEN];
    if (compute_digest(signer, parts, digest) != 0)
        return -1;
    to_hex(digest, DIGEST_LEN, out);
    return 0;
}

static bool parse_hex(const unsigned char *text, size_t len, unsigned char out[DIGEST_LEN])
{
    if (len != SIGNATURE_HEX_LEN)
        return false;
    for (size_t i = 0; i < DIGEST_LEN; i++) {
        int hi = OPENSSL_hexchar2int(text[2 * i]), lo = OPENSSL_hexchar2int(text[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    return true;
}

static bool set_has(const uint64_t *set, uint64_t key)
{
    for (size_t i = key & (REPLAY_SLOTS - 1); set[i] != 0; i = (i + 1) & (REPLAY_SLOTS - 1))
        if (set[i] == key)
            return true;
    return false;
}

static void set_add(uint64_t *set, uint64_t key)
{
    size_t i = key & (REPLAY_SLOTS - 1);
    while (set[i] != 0)
        i = (i + 1) & (REPLAY_SLOTS - 1);
    set[i] = key;
}

/* True when the digest was seen lately; else it is remembered. */
static bool seen_before(struct signer *signer, const unsigned char digest[DIGEST_LEN])
{
    uint64_t key;
    memcpy(&key, digest, sizeof key);
    key = key ? key : 1; /* 0 marks an empty slot */
    if (set_has(signer->seen[0], key) || set_has(signer->seen[1], key))
        return true;
    if (signer->current_count == REPLAY_HISTORY_MIN) {
        signer->current ^= 1;
        memset(signer->seen[signer->current], 0, sizeof signer->seen[0]);
        signer->current_count = 0;
    }
    set_add(signer->seen[signer->current], key);
    signer->current_count++;
    return false;
}

bool signer_verify(struct signer *signer, const struct signed_part parts[4], const void *signature,
                   size_t signature_len)
{
    if (!signer_enabled(signer))
        return true;
    unsigned char given[DIGEST_LEN], expected[DIGEST_LEN];
    if (!parse_hex(signature, signature_len, given))
        return false;
    if (compute_digest(signer, parts, expected) != 0)
        return false;
    if (CRYPTO_memcmp(given, expected, DIGEST_LEN) != 0)
        return false;
    return !seen_before(signer, expected);
}
