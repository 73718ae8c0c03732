/* HMAC-SHA256 comes from libsodium, which libzmq loads anyway (CurveZMQ): a few pages of code
 * touched per message, its keyed state plain memory copied per message. Linked, OpenSSL cost a
 * kernel that is otherwise about 9 MiB 0.4 MiB of anonymous and 1.1 MiB of file-backed memory for
 * libcrypto merely mapped, and its EVP_MAC provider fetch 2.4 MiB more. But libsodium's SHA-256
 * is portable C (8 MiB in 24 ms on this VM), the bulk of a big output's cost in the kernel, where
 * libcrypto's runs on the SHA extensions if the CPU has them (4.6 ms). So a message whose signed
 * parts total SIGN_LIBCRYPTO_MIN_BYTES or more is signed by libcrypto, loaded with dlopen when
 * the first such message comes (a kernel that only ever sends small ones never maps it); if it
 * cannot be loaded, or one of its calls fails, libsodium signs everything, said once. */
#include "sign.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/dynlib.h"
#include "common/log.h"

#define DIGEST_LEN crypto_auth_hmacsha256_BYTES

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
    crypto_auth_hmacsha256_state keyed; /* initialised with the key once; copied per message */
    unsigned char *key;                 /* for libcrypto's HMAC, keyed per message */
    size_t key_len;
    bool enabled;
    struct digest_set seen[2];
    int current; /* the generation digests are added to */
};

/* The libcrypto functions used here, resolved once (load_libcrypto). */
static struct crypto_api {
    EVP_MAC *(*mac_fetch)(OSSL_LIB_CTX *libctx, const char *algorithm, const char *properties);
    EVP_MAC_CTX *(*ctx_new)(EVP_MAC *mac);
    void (*ctx_free)(EVP_MAC_CTX *ctx);
    int (*init)(EVP_MAC_CTX *ctx, const unsigned char *key, size_t key_len,
                const OSSL_PARAM params[]);
    int (*update)(EVP_MAC_CTX *ctx, const unsigned char *data, size_t len);
    int (*final)(EVP_MAC_CTX *ctx, unsigned char *out, size_t *out_len, size_t out_size);
} crypto;

static EVP_MAC *hmac_mac;            /* fetched once: the fetch is libcrypto's costly part */
static atomic_bool libcrypto_usable; /* loaded and no call has failed */
static pthread_once_t libcrypto_once = PTHREAD_ONCE_INIT;
static const char *libcrypto_soname = "libcrypto.so.3";

void signer_libcrypto_soname_for_tests(const char *soname) { libcrypto_soname = soname; }

/* Loaded once, under libcrypto_once. Today every message is signed and verified on the kernel's
 * main loop thread (kernel.c, events.c: the executor thread hands its events over by event_fd;
 * the heartbeat and history-import threads sign nothing), but a signer is meant to be usable from
 * any thread, and pthread_once costs an atomic load once loaded. */
static void load_libcrypto(void)
{
    static const struct dynlib_symbol symbols[] = {
#define SYMBOL(field, name) {name, offsetof(struct crypto_api, field)}
        SYMBOL(mac_fetch, "EVP_MAC_fetch"),   SYMBOL(ctx_new, "EVP_MAC_CTX_new"),
        SYMBOL(ctx_free, "EVP_MAC_CTX_free"), SYMBOL(init, "EVP_MAC_init"),
        SYMBOL(update, "EVP_MAC_update"),     SYMBOL(final, "EVP_MAC_final"),
#undef SYMBOL
    };
    bool loaded = dynlib_load(libcrypto_soname, symbols, sizeof symbols / sizeof *symbols, &crypto);
    hmac_mac = loaded ? crypto.mac_fetch(NULL, "HMAC", NULL) : NULL;
    if (!hmac_mac)
        log_warn("sign: %s %s: libsodium signs every message", libcrypto_soname,
                 loaded ? "has no HMAC" : "cannot be loaded");
    atomic_store(&libcrypto_usable, hmac_mac != NULL);
}

bool signer_libcrypto_loaded(void) { return atomic_load(&libcrypto_usable); }

/* The HMAC by libcrypto; false (and libcrypto given up, said once) when a call fails. A context
 * keyed per message: its set-up measured at about 1 us against the 37 us of hashing 64 KiB, so a
 * keyed context kept per signer (and duplicated per message) would save nothing worth its state,
 * and nothing is shared between threads but the fetched HMAC (reference-counted by libcrypto). */
static bool libcrypto_digest(const struct signer *signer, const struct signed_part parts[4],
                             unsigned char digest[DIGEST_LEN])
{
    pthread_once(&libcrypto_once, load_libcrypto);
    if (!atomic_load(&libcrypto_usable))
        return false;
    OSSL_PARAM params[] = {
        OSSL_PARAM_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", sizeof "SHA256" - 1),
        OSSL_PARAM_END,
    };
    EVP_MAC_CTX *ctx = crypto.ctx_new(hmac_mac);
    bool ok = ctx && crypto.init(ctx, signer->key, signer->key_len, params) == 1;
    for (int i = 0; ok && i < 4; i++)
        ok = parts[i].len == 0 || crypto.update(ctx, parts[i].data, parts[i].len) == 1;
    size_t len = 0;
    ok = ok && crypto.final(ctx, digest, &len, DIGEST_LEN) == 1 && len == DIGEST_LEN;
    if (ctx)
        crypto.ctx_free(ctx);
    if (!ok && atomic_exchange(&libcrypto_usable, false))
        log_warn("sign: libcrypto's HMAC failed: libsodium signs every message");
    return ok;
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
    if (sodium_init() < 0 || crypto_auth_hmacsha256_init(&signer->keyed, key, key_len) != 0) {
        signer_free(signer);
        return NULL;
    }
    signer->key = malloc(key_len);
    if (!signer->key) {
        signer_free(signer);
        return NULL;
    }
    memcpy(signer->key, key, key_len);
    signer->key_len = key_len;
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
    if (signer->key)
        sodium_memzero(signer->key, signer->key_len);
    free(signer->key);
    sodium_memzero(signer, sizeof *signer);
    free(signer);
}

bool signer_enabled(const struct signer *signer) { return signer && signer->enabled; }

static void sodium_digest(const struct signer *signer, const struct signed_part parts[4],
                          unsigned char digest[DIGEST_LEN])
{
    crypto_auth_hmacsha256_state state = signer->keyed;
    for (int i = 0; i < 4; i++)
        crypto_auth_hmacsha256_update(&state, parts[i].data, parts[i].len);
    crypto_auth_hmacsha256_final(&state, digest);
    sodium_memzero(&state, sizeof state);
}

static void compute_digest(const struct signer *signer, const struct signed_part parts[4],
                           unsigned char digest[DIGEST_LEN])
{
    size_t total = 0;
    for (int i = 0; i < 4; i++)
        total += parts[i].len;
    if (total >= SIGN_LIBCRYPTO_MIN_BYTES && libcrypto_digest(signer, parts, digest))
        return;
    sodium_digest(signer, parts, digest);
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
