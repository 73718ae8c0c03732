/* HMAC-SHA256 (RFC 2104) over libcrypto's SHA-256, linked statically: its low-level SHA256_*
 * functions only, about 19 KiB of code, which run on the CPU's SHA extensions where there are
 * some (AVX2 or SSSE3 code where not). Measured on this VM: 1.0 us to hash 1 600 bytes (a
 * typical message's four parts) against libsodium's 5.9 us of portable C, which signed every
 * small message before and was 45 % of the main thread's instructions on a `1+1` (callgrind:
 * six messages a cell). libcrypto's HMAC itself (EVP_MAC) is not used: its provider fetch alone
 * made 2.4 MiB resident, in a kernel of 6 MiB. The HMAC construction is the few lines below:
 * the key's inner and outer states are hashed once per signer and copied per message.
 * libsodium still gives the constant-time comparison and the zeroing of key material. */
#define OPENSSL_SUPPRESS_DEPRECATED /* SHA256_Init and co: deprecated for EVP, see above */
#include "sign.h"

#include <openssl/sha.h>
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DIGEST_LEN SHA256_DIGEST_LENGTH

/* Replay defence: the digests of the messages verified lately, in two generations of hash sets
 * (open addressing, at most half full, so a probe always ends at an empty slot). When the current
 * generation has REPLAY_HISTORY_MIN digests the older one is emptied and becomes the current:
 * every digest of the last REPLAY_HISTORY_MIN messages, and up to twice as many, is remembered.
 * A set keeps 64 bits of each HMAC (already uniform: its first bits are the slot): a fresh
 * message mistaken for a replay has a chance of 2^-49 among 2^15 digests, and no one can aim at
 * one without the key. A set starts small and doubles as it fills: a kernel that has verified a
 * few hundred messages holds a few KiB of them, not the 512 KiB of two full sets (a hash spreads
 * its writes over every page of a set allocated whole, so all of them became resident). */
#define REPLAY_SLOTS_MAX     (2 * REPLAY_HISTORY_MIN)
#define REPLAY_SLOTS_INITIAL 256

struct digest_set {
    uint64_t *slots; /* 0 is an empty slot; NULL until the first digest */
    size_t capacity; /* a power of two, or 0 */
    size_t count;
};

struct signer {
    /* SHA-256 states after the key XOR ipad and XOR opad blocks: copied per message */
    SHA256_CTX inner, outer;
    bool enabled;
    struct digest_set seen[2];
    int current; /* the generation digests are added to */
};

/* RFC 2104: a key longer than a block is hashed first; the block is the key, zero-padded. */
static void key_states(struct signer *signer, const unsigned char *key, size_t key_len)
{
    unsigned char block[SHA256_CBLOCK] = {0}, pad[SHA256_CBLOCK];
    SHA256_CTX hash;
    if (key_len > sizeof block) { /* not SHA256(): its object file pulls in all of EVP */
        SHA256_Init(&hash);
        SHA256_Update(&hash, key, key_len);
        SHA256_Final(block, &hash);
    } else
        memcpy(block, key, key_len);
    for (size_t i = 0; i < sizeof block; i++)
        pad[i] = block[i] ^ 0x36;
    SHA256_Init(&signer->inner);
    SHA256_Update(&signer->inner, pad, sizeof pad);
    for (size_t i = 0; i < sizeof block; i++)
        pad[i] = block[i] ^ 0x5c;
    SHA256_Init(&signer->outer);
    SHA256_Update(&signer->outer, pad, sizeof pad);
    sodium_memzero(&hash, sizeof hash);
    sodium_memzero(block, sizeof block);
    sodium_memzero(pad, sizeof pad);
}

struct signer *signer_new(const char *scheme, const void *key, size_t key_len)
{
    if (scheme && scheme[0] && strcasecmp(scheme, "hmac-sha256") != 0)
        return NULL;
    struct signer *signer = calloc(1, sizeof *signer);
    if (!signer)
        return NULL;
    if (key_len == 0)
        return signer; /* signing disabled by an empty key, as the spec allows */
    if (sodium_init() < 0) {
        signer_free(signer);
        return NULL;
    }
    key_states(signer, key, key_len);
    signer->enabled = true;
    return signer;
}

static void set_clear(struct digest_set *set)
{
    free(set->slots);
    *set = (struct digest_set){0};
}

void signer_free(struct signer *signer)
{
    if (!signer)
        return;
    set_clear(&signer->seen[0]);
    set_clear(&signer->seen[1]);
    sodium_memzero(signer, sizeof *signer);
    free(signer);
}

bool signer_enabled(const struct signer *signer) { return signer && signer->enabled; }

static void compute_digest(const struct signer *signer, const struct signed_part parts[4],
                           unsigned char digest[DIGEST_LEN])
{
    SHA256_CTX state = signer->inner;
    for (int i = 0; i < 4; i++)
        SHA256_Update(&state, parts[i].data, parts[i].len);
    unsigned char inner[DIGEST_LEN];
    SHA256_Final(inner, &state);
    state = signer->outer;
    SHA256_Update(&state, inner, sizeof inner);
    SHA256_Final(digest, &state);
    sodium_memzero(&state, sizeof state);
    sodium_memzero(inner, sizeof inner);
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
    compute_digest(signer, parts, digest);
    to_hex(digest, DIGEST_LEN, out);
    return 0;
}

static int hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20; /* either case, as jupyter_client's hexdigest comparison does not care */
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static bool parse_hex(const unsigned char *text, size_t len, unsigned char out[DIGEST_LEN])
{
    if (len != SIGNATURE_HEX_LEN)
        return false;
    for (size_t i = 0; i < DIGEST_LEN; i++) {
        int hi = hex_value(text[2 * i]), lo = hex_value(text[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    return true;
}

static bool set_has(const struct digest_set *set, uint64_t key)
{
    size_t mask = set->capacity - 1;
    for (size_t i = key & mask; set->capacity && set->slots[i] != 0; i = (i + 1) & mask)
        if (set->slots[i] == key)
            return true;
    return false;
}

static void set_insert(uint64_t *slots, size_t capacity, uint64_t key)
{
    size_t i = key & (capacity - 1);
    while (slots[i] != 0)
        i = (i + 1) & (capacity - 1);
    slots[i] = key;
}

/* Doubles the set (rehashing its digests) so that it stays at most half full. */
static int set_grow(struct digest_set *set)
{
    size_t capacity = set->capacity ? 2 * set->capacity : REPLAY_SLOTS_INITIAL;
    if (capacity > REPLAY_SLOTS_MAX)
        return -1; /* cannot happen: a generation is rotated at REPLAY_HISTORY_MIN digests */
    uint64_t *slots = calloc(capacity, sizeof *slots);
    if (!slots)
        return -1;
    for (size_t i = 0; i < set->capacity; i++)
        if (set->slots[i] != 0)
            set_insert(slots, capacity, set->slots[i]);
    free(set->slots);
    set->slots = slots;
    set->capacity = capacity;
    return 0;
}

static int set_add(struct digest_set *set, uint64_t key)
{
    if (2 * (set->count + 1) > set->capacity && set_grow(set) != 0)
        return -1;
    set_insert(set->slots, set->capacity, key);
    set->count++;
    return 0;
}

/* True when the digest was seen lately (or cannot be remembered: out of memory, the message is
 * refused rather than let through unchecked); else it is remembered. */
static bool seen_before(struct signer *signer, const unsigned char digest[DIGEST_LEN])
{
    uint64_t key;
    memcpy(&key, digest, sizeof key);
    key = key ? key : 1; /* 0 marks an empty slot */
    if (set_has(&signer->seen[0], key) || set_has(&signer->seen[1], key))
        return true;
    if (signer->seen[signer->current].count == REPLAY_HISTORY_MIN) {
        signer->current ^= 1;
        set_clear(&signer->seen[signer->current]);
    }
    return set_add(&signer->seen[signer->current], key) != 0;
}

size_t signer_replay_slots(const struct signer *signer)
{
    return signer->seen[0].capacity + signer->seen[1].capacity;
}

bool signer_verify(struct signer *signer, const struct signed_part parts[4], const void *signature,
                   size_t signature_len)
{
    if (!signer_enabled(signer))
        return true;
    unsigned char given[DIGEST_LEN], expected[DIGEST_LEN];
    if (!parse_hex(signature, signature_len, given))
        return false;
    compute_digest(signer, parts, expected);
    if (sodium_memcmp(given, expected, DIGEST_LEN) != 0)
        return false;
    return !seen_before(signer, expected);
}
