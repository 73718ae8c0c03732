/* The Jupyter wire decoder (kernel/wire.c) and its signature check (kernel/sign.c), on what a
 * client on the other end of a ZeroMQ socket may send.
 *
 * Input: one flags byte, then the frames of one multipart message separated by the line
 * "\n--\n". Flags: bit 0 signs with a key (otherwise signing is off, as with an empty key);
 * bit 1 replaces the signature frame with the right HMAC of the four JSON frames, so that the
 * fuzzer reaches the JSON decoding behind the check (it could never forge one).
 *
 * Invariants: a decoded message has a string msg_id and a msg_type of 1..64 bytes, and its
 * routing identities are the frames before the delimiter; it encodes again, and what it encodes
 * to decodes to the same message; a signed message is refused the second time (replay); a refused
 * one says why. */
#include <jansson.h>
#include <string.h>

#include "fuzz.h"
#include "kernel/wire.h"

#define SEPARATOR     "\n--\n"
#define FUZZ_KEY      "0f6a1ac2-7d4e-4a10-9b7c-3f1c8d2e9a55"
#define MAX_FRAMES    (WIRE_MAX_PARTS + 8)
#define FLAG_KEYED    1
#define FLAG_RESIGNED 2

static size_t split_frames(const uint8_t *data, size_t size, struct wire_part *parts)
{
    size_t n = 0, sep = strlen(SEPARATOR);
    const uint8_t *p = data, *end = data + size;
    while (n < MAX_FRAMES) {
        const uint8_t *next = memmem(p, (size_t)(end - p), SEPARATOR, sep);
        parts[n].data = (void *)p;
        parts[n].len = (size_t)((next ? next : end) - p);
        n++;
        if (!next)
            break;
        p = next + sep;
    }
    return n;
}

static struct signer *new_signer(bool keyed)
{
    struct signer *s = keyed ? signer_new("hmac-sha256", FUZZ_KEY, strlen(FUZZ_KEY))
                             : signer_new("hmac-sha256", "", 0);
    FUZZ_ASSERT(s);
    return s;
}

/* The index of the delimiter frame, or count. */
static size_t delimiter_at(const struct wire_part *parts, size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (parts[i].len == strlen(WIRE_DELIMITER) &&
            memcmp(parts[i].data, WIRE_DELIMITER, parts[i].len) == 0)
            return i;
    return count;
}

static void resign(struct wire_part *parts, size_t count, char signature[SIGNATURE_HEX_LEN + 1])
{
    size_t delim = delimiter_at(parts, count);
    if (count - delim < 6 || delim == count)
        return;
    struct signer *s = new_signer(true);
    struct signed_part signed_parts[4];
    for (int i = 0; i < 4; i++)
        signed_parts[i] = (struct signed_part){parts[delim + 2 + i].data, parts[delim + 2 + i].len};
    FUZZ_ASSERT(signer_sign(s, signed_parts, signature) == 0);
    parts[delim + 1] = (struct wire_part){signature, strlen(signature)};
    signer_free(s);
}

static void check_message(const struct jmsg *msg, const struct wire_part *parts, size_t count)
{
    const char *type = jmsg_type(msg);
    FUZZ_ASSERT(type && strlen(type) >= 1 && strlen(type) <= 64);
    FUZZ_ASSERT(jmsg_id(msg));
    FUZZ_ASSERT(json_is_object(msg->parent_header) && json_is_object(msg->metadata) &&
                json_is_object(msg->content));
    FUZZ_ASSERT(msg->n_ids == delimiter_at(parts, count));
    for (size_t i = 0; i < msg->n_ids; i++)
        FUZZ_ASSERT(msg->ids[i].len == parts[i].len &&
                    memcmp(msg->ids[i].data, parts[i].data, parts[i].len) == 0);
}

/* Encoded with a fresh signer, the message decodes (with another) to itself. */
static void check_round_trip(const struct jmsg *msg, bool keyed)
{
    struct signer *out = new_signer(keyed), *in = new_signer(keyed);
    struct wire_part *parts;
    size_t count;
    FUZZ_ASSERT(wire_encode(msg, out, &parts, &count) == 0);
    char why[200] = "";
    struct jmsg *again = wire_decode(parts, count, in, why, sizeof why);
    if (!again)
        fprintf(stderr, "re-decoding failed: %s\n", why);
    FUZZ_ASSERT(again);
    FUZZ_ASSERT(json_equal(msg->header, again->header));
    FUZZ_ASSERT(json_equal(msg->parent_header, again->parent_header));
    FUZZ_ASSERT(json_equal(msg->metadata, again->metadata));
    FUZZ_ASSERT(json_equal(msg->content, again->content));
    FUZZ_ASSERT(again->n_ids == msg->n_ids);
    jmsg_free(again);
    wire_parts_free(parts, count);
    signer_free(out);
    signer_free(in);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    bool keyed = data[0] & FLAG_KEYED;
    static struct wire_part parts[MAX_FRAMES];
    size_t count = split_frames(data + 1, size - 1, parts);
    char signature[SIGNATURE_HEX_LEN + 1];
    if (keyed && (data[0] & FLAG_RESIGNED))
        resign(parts, count, signature);

    struct signer *signer = new_signer(keyed);
    char why[200] = "";
    struct jmsg *msg = wire_decode(parts, count, signer, why, sizeof why);
    if (!msg) {
        FUZZ_ASSERT(why[0] != '\0');
    } else {
        check_message(msg, parts, count);
        check_round_trip(msg, keyed);
        if (keyed) { /* the same frames again are a replay */
            struct jmsg *replayed = wire_decode(parts, count, signer, why, sizeof why);
            FUZZ_ASSERT(!replayed);
        }
        jmsg_free(msg);
    }
    signer_free(signer);
    return 0;
}
