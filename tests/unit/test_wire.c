/* Signing and the wire codec, with known vectors. */
#include <regex.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "kernel/ids.h"
#include "kernel/json_write.h"
#include "kernel/sign.h"
#include "kernel/wire.h"

static struct signed_part part(const char *text)
{
    return (struct signed_part){text, strlen(text)};
}

/* RFC 4231 test case 2, with the data split over the four signed frames. */
static void test_rfc4231_vector(void)
{
    struct signer *signer = signer_new("hmac-sha256", "Jefe", 4);
    struct signed_part parts[4] = {part("what do "), part("ya want "), part("for "),
                                   part("nothing?")};
    char hex[SIGNATURE_HEX_LEN + 1];
    CHECK(signer_sign(signer, parts, hex) == 0);
    CHECK(strcmp(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843") == 0);
    signer_free(signer);
}

/* RFC 4231 test cases 1, 3, 4, 6 and 7 (2 is above): keys of 20, 25 and 131 bytes (longer than a
 * block: hashed first), binary data, data longer than a block. */
static void test_rfc4231_more_vectors(void)
{
    unsigned char k20[20], k25[25], k131[131], d50a[50], d50b[50];
    memset(k20, 0x0b, sizeof k20);
    memset(k131, 0xaa, sizeof k131);
    for (int i = 0; i < 25; i++)
        k25[i] = (unsigned char)(i + 1);
    memset(d50a, 0xdd, sizeof d50a);
    memset(d50b, 0xcd, sizeof d50b);
    static const char big_key_text[] = "This is a test using a larger than block-size key and a "
                                       "larger than block-size data. The key needs to be hashed "
                                       "before being used by the HMAC algorithm.";
    struct {
        const void *key, *data;
        size_t key_len, data_len;
        const char *want;
    } cases[] = {
        {k20, "Hi There", 20, 8,
         "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
        {k131, d50a, 20, 50, "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
        {k25, d50b, 25, 50, "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"},
        {k131, "Test Using Larger Than Block-Size Key - Hash Key First", 131, 54,
         "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
        {k131, big_key_text, 131, sizeof big_key_text - 1,
         "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"},
    }; /* case 3's key is 0xaa x 20: k131's first 20 bytes */
    bool all_equal = true;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct signer *signer = signer_new("hmac-sha256", cases[i].key, cases[i].key_len);
        /* the data over the four frames, unevenly */
        size_t n = cases[i].data_len, a = n / 5, b = n / 2;
        const char *d = cases[i].data;
        struct signed_part parts[4] = {{d, a}, {d + a, 0}, {d + a, b - a}, {d + b, n - b}};
        char hex[SIGNATURE_HEX_LEN + 1];
        all_equal = all_equal && signer && signer_sign(signer, parts, hex) == 0 &&
                    strcmp(hex, cases[i].want) == 0;
        signer_free(signer);
    }
    CHECK(all_equal);
}

/* libsodium's HMAC of a buffer split as signer_* splits it, in hex: the reference. */
static void sodium_hex(const void *key, size_t key_len, const struct signed_part parts[4],
                       char hex[SIGNATURE_HEX_LEN + 1])
{
    unsigned char mac[32];
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, key, key_len);
    for (int i = 0; i < 4; i++)
        crypto_auth_hmacsha256_update(&st, parts[i].data, parts[i].len);
    crypto_auth_hmacsha256_final(&st, mac);
    sodium_bin2hex(hex, SIGNATURE_HEX_LEN + 1, mac, sizeof mac);
}

/* The HMAC built on libcrypto's SHA-256 gives libsodium's digest (an independent implementation)
 * for keys shorter than, as long as and longer than a block, and for every size around the block
 * and padding boundaries of the first blocks and of a big message, split unevenly over the four
 * parts. */
static void test_hmac_matches_libsodium(void)
{
    static unsigned char key[200], data[70000];
    for (size_t i = 0; i < sizeof key; i++)
        key[i] = (unsigned char)(i * 7 + 3);
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (unsigned char)(i * 31 + 11);
    static const size_t key_lens[] = {1, 4, 36, 63, 64, 65, 200};
    bool all_equal = true;
    for (size_t k = 0; k < sizeof key_lens / sizeof key_lens[0]; k++) {
        struct signer *signer = signer_new("hmac-sha256", key, key_lens[k]);
        for (size_t len = 0; len <= sizeof data; len = len == 300 ? sizeof data - 140 : len + 1) {
            size_t a = len / 3, b = a + len % 7 / 2, c = len > b + 40 ? len - 40 : b;
            struct signed_part parts[4] = {
                {data, a}, {data + a, b - a}, {data + b, c - b}, {data + c, len - c}};
            char want[SIGNATURE_HEX_LEN + 1], got[SIGNATURE_HEX_LEN + 1];
            sodium_hex(key, key_lens[k], parts, want);
            all_equal = all_equal && signer_sign(signer, parts, got) == 0 &&
                        strcmp(want, got) == 0 && signer_verify(signer, parts, got, 64);
        }
        signer_free(signer);
    }
    CHECK(all_equal);
}

/* json_write_compact's text is ASCII, parses back to the same value, and is what json_dumps
 * writes wherever the two agree on an escape's form (plain text, short escapes). */
static void test_json_write(void)
{
    json_t *v =
        json_pack("{s:s, s:[i, I, f, b, b, n], s:{s:s%}, s:s, s:{}, s:[]}", "plain", "hello world",
                  "list", 1, (json_int_t)-1234567890123LL, 0.25, 1, 0, "nested", "text",
                  "a\"b\\c/\n\r\t\b\f\x01\x1f\x7f\0end", (size_t)18, "unicode",
                  "\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "empty_object", "empty_array");
    size_t len = 0;
    char *text = json_write_compact(v, &len);
    CHECK(text != NULL && strlen(text) == len);
    bool ascii = true;
    for (size_t i = 0; text && i < len; i++)
        ascii = ascii && (unsigned char)text[i] < 0x80;
    CHECK(ascii);
    json_t *back = text ? json_loadb(text, len, JSON_ALLOW_NUL, NULL) : NULL;
    CHECK(back && json_equal(back, v));
    CHECK(text && strstr(text, "\\ud83d\\ude00") != NULL); /* a pair for U+1F600 */
    json_decref(back);
    free(text);
    json_decref(v);

    json_t *plain = json_pack("{s:s, s:i}", "name", "stdout", "n", 3);
    text = json_write_compact(plain, &len);
    char *theirs = json_dumps(plain, JSON_COMPACT | JSON_ENSURE_ASCII);
    CHECK(text && theirs && strcmp(text, theirs) == 0);
    free(text);
    free(theirs);
    json_decref(plain);

    json_t *bad = json_stringn_nocheck("\xff", 1); /* not UTF-8: refused, as by json_dumps */
    CHECK(json_write_compact(bad, &len) == NULL);
    json_decref(bad);
}

/* Computed with Python's hmac over the four frames of a kernel_info_request. */
static void test_jupyter_vector(void)
{
    struct signer *signer = signer_new("hmac-sha256", "secret-key", 10);
    struct signed_part parts[4] = {part("{\"msg_id\":\"a\",\"msg_type\":\"kernel_info_request\"}"),
                                   part("{}"), part("{}"), part("{}")};
    const char *expected = "e8daa688bf116b5407d8b00b4f8b7b759f68e988c8649d4f731f14236f8b7d7e";
    CHECK(signer_verify(signer, parts, expected, strlen(expected)));
    CHECK(!signer_verify(signer, parts, expected, strlen(expected))); /* replay */
    char wrong[65];
    strcpy(wrong, expected);
    wrong[10] = wrong[10] == '0' ? '1' : '0';
    CHECK(!signer_verify(signer, parts, wrong, 64));
    CHECK(!signer_verify(signer, parts, expected, 63));
    CHECK(!signer_verify(signer, parts, "zz", 2));
    signer_free(signer);
}

/* A replay is refused even after REPLAY_HISTORY_MIN other messages came between. */
static void test_replay_after_a_flood(void)
{
    struct signer *signer = signer_new("hmac-sha256", "secret-key", 10);
    struct signed_part parts[4] = {part("{\"msg_id\":\"first\"}"), part("{}"), part("{}"),
                                   part("{}")};
    char first[SIGNATURE_HEX_LEN + 1], hex[SIGNATURE_HEX_LEN + 1];
    CHECK(signer_sign(signer, parts, first) == 0 && signer_verify(signer, parts, first, 64));
    char id[64];
    bool all_fresh = true;
    for (int i = 0; i < REPLAY_HISTORY_MIN; i++) {
        snprintf(id, sizeof id, "{\"msg_id\":\"%d\"}", i);
        parts[0] = part(id);
        all_fresh = all_fresh && signer_sign(signer, parts, hex) == 0 &&
                    signer_verify(signer, parts, hex, 64);
    }
    CHECK(all_fresh); /* none of them mistaken for a replay */
    parts[0] = part("{\"msg_id\":\"first\"}");
    CHECK(!signer_verify(signer, parts, first, 64));
    signer_free(signer);
}

/* The replay sets start small and grow with the messages verified (a kernel that has seen a
 * few hundred messages holds a few KiB of digests, not two full sets); a digest remembered
 * before a set grew is still found after, and the sets never pass their bound. */
static void test_replay_sets_grow_when_needed(void)
{
    struct signer *signer = signer_new("hmac-sha256", "secret-key", 10);
    CHECK(signer_replay_slots(signer) == 0);
    struct signed_part parts[4] = {part("{\"msg_id\":\"early\"}"), part("{}"), part("{}"),
                                   part("{}")};
    char early[SIGNATURE_HEX_LEN + 1], hex[SIGNATURE_HEX_LEN + 1], id[64];
    CHECK(signer_sign(signer, parts, early) == 0 && signer_verify(signer, parts, early, 64));
    size_t first_size = signer_replay_slots(signer);
    CHECK(first_size > 0 && first_size <= 1024);
    bool all_fresh = true;
    size_t largest = 0;
    for (int i = 0; i < 3 * REPLAY_HISTORY_MIN; i++) {
        if (i == 2000) {
            CHECK(signer_replay_slots(signer) > first_size); /* grew */
            CHECK(signer_replay_slots(signer) <= 8 * 2000);  /* with what it holds */
            parts[0] = part("{\"msg_id\":\"early\"}");
            CHECK(!signer_verify(signer, parts, early, 64)); /* found after rehashing */
        }
        snprintf(id, sizeof id, "{\"msg_id\":\"m%d\"}", i);
        parts[0] = part(id);
        all_fresh = all_fresh && signer_sign(signer, parts, hex) == 0 &&
                    signer_verify(signer, parts, hex, 64);
        size_t slots = signer_replay_slots(signer);
        largest = slots > largest ? slots : largest;
    }
    CHECK(all_fresh);
    CHECK(largest <= 4 * (size_t)REPLAY_HISTORY_MIN); /* two generations, at most half full */
    signer_free(signer);
}

static void test_schemes(void)
{
    CHECK(signer_new("hmac-md5", "k", 1) == NULL);
    struct signer *unsigned_signer = signer_new("hmac-sha256", "", 0);
    CHECK(unsigned_signer && !signer_enabled(unsigned_signer));
    struct signed_part parts[4] = {part("{}"), part("{}"), part("{}"), part("{}")};
    char hex[SIGNATURE_HEX_LEN + 1];
    CHECK(signer_sign(unsigned_signer, parts, hex) == 0 && hex[0] == '\0');
    CHECK(signer_verify(unsigned_signer, parts, "", 0));
    signer_free(unsigned_signer);
}

static struct jmsg *round_trip(struct signer *sender, struct signer *receiver, struct jmsg *msg,
                               char *why)
{
    struct wire_part *parts;
    size_t count;
    if (wire_encode(msg, sender, &parts, &count) != 0)
        return NULL;
    struct jmsg *decoded = wire_decode(parts, count, receiver, why, 160);
    wire_parts_free(parts, count);
    return decoded;
}

static void test_round_trip(void)
{
    struct signer *a = signer_new("hmac-sha256", "k1", 2);
    struct signer *b = signer_new("hmac-sha256", "k1", 2);
    struct signer *other = signer_new("hmac-sha256", "k2", 2);
    struct jmsg *parent = jmsg_build("sess", "execute_request", NULL, NULL);
    json_object_set_new(parent->header, "msg_id", json_string("p1"));
    struct jmsg *msg =
        jmsg_build("sess", "execute_reply", parent, json_pack("{s:s}", "status", "ok"));
    struct jmsg ids_holder = {.ids = (struct wire_part[]){{"id-1", 4}, {"id-2", 4}}, .n_ids = 2};
    CHECK(jmsg_copy_ids(msg, &ids_holder) == 0);
    char why[160] = "";
    struct jmsg *decoded = round_trip(a, b, msg, why);
    CHECK(decoded != NULL);
    if (decoded) {
        CHECK(strcmp(jmsg_type(decoded), "execute_reply") == 0);
        CHECK(decoded->n_ids == 2 && memcmp(decoded->ids[1].data, "id-2", 4) == 0);
        CHECK(strcmp(json_string_value(json_object_get(decoded->parent_header, "msg_id")), "p1") ==
              0);
        CHECK(strcmp(json_string_value(json_object_get(decoded->header, "version")), "5.3") == 0);
        CHECK(json_is(json_object_get(decoded->content, "status"), "\"ok\""));
    }
    CHECK(round_trip(a, other, msg, why) == NULL); /* wrong key */
    CHECK(strstr(why, "signature") != NULL);
    jmsg_free(decoded);
    jmsg_free(msg);
    jmsg_free(parent);
    signer_free(a);
    signer_free(b);
    signer_free(other);
}

/* An 8 MiB stream message (libcrypto signs it) round-trips through the wire code; tampered with,
 * it is refused. */
static void test_big_round_trip(void)
{
    struct signer *a = signer_new("hmac-sha256", "k1", 2);
    struct signer *b = signer_new("hmac-sha256", "k1", 2);
    size_t n = 8u << 20;
    char *text = malloc(n + 1);
    for (size_t i = 0; i < n; i++)
        text[i] = (char)('a' + i % 26);
    text[n] = '\0';
    struct jmsg *msg =
        jmsg_build("sess", "stream", NULL, json_pack("{s:s, s:s}", "name", "stdout", "text", text));
    struct wire_part *parts;
    size_t count;
    CHECK(wire_encode(msg, a, &parts, &count) == 0);
    char why[160] = "";
    struct jmsg *decoded = wire_decode(parts, count, b, why, sizeof why);
    CHECK(decoded != NULL);
    const char *got = decoded ? json_string_value(json_object_get(decoded->content, "text")) : NULL;
    CHECK(got && strcmp(got, text) == 0);
    jmsg_free(decoded);
    struct wire_part *content = &parts[count - 1]; /* the last frame: content */
    ((char *)content->data)[content->len / 2] ^= 1;
    CHECK(wire_decode(parts, count, b, why, sizeof why) == NULL);
    CHECK(strstr(why, "signature") != NULL);
    wire_parts_free(parts, count);
    jmsg_free(msg);
    free(text);
    signer_free(a);
    signer_free(b);
}

/* A message built in answer to a received one carries that one's header frame, byte for byte,
 * as its parent_header (not a re-dump of the parsed header: key order and spacing kept). */
static void test_parent_header_is_the_request_header_as_received(void)
{
    struct signer *client = signer_new("hmac-sha256", "k1", 2);
    struct signer *kernel = signer_new("hmac-sha256", "k1", 2);
    const char *header = "{\"msg_type\": \"execute_request\", \"msg_id\": \"m-1\", "
                         "\"session\": \"s\", \"username\": \"\u00e9\", \"version\": \"5.3\"}";
    struct signed_part signed_parts[4] = {
        {header, strlen(header)}, {"{}", 2}, {"{}", 2}, {"{\"code\": \"1\"}", 13}};
    char signature[SIGNATURE_HEX_LEN + 1];
    CHECK(signer_sign(client, signed_parts, signature) == 0);
    struct wire_part frames[6] = {{WIRE_DELIMITER, strlen(WIRE_DELIMITER)},
                                  {signature, strlen(signature)},
                                  {(void *)header, strlen(header)},
                                  {"{}", 2},
                                  {"{}", 2},
                                  {"{\"code\": \"1\"}", 13}};
    char why[160] = "";
    struct jmsg *request = wire_decode(frames, 6, kernel, why, sizeof why);
    CHECK(request != NULL);
    if (!request)
        goto out;
    struct jmsg *reply = jmsg_build("k", "execute_reply", request, NULL);
    struct wire_part *parts = NULL;
    size_t count = 0;
    CHECK(reply && wire_encode(reply, kernel, &parts, &count) == 0);
    if (parts) {
        CHECK(parts[3].len == strlen(header) && memcmp(parts[3].data, header, parts[3].len) == 0);
        struct jmsg *seen = wire_decode(parts, count, client, why, sizeof why);
        CHECK(seen && strcmp(json_string_value(json_object_get(seen->parent_header, "msg_id")),
                             "m-1") == 0);
        jmsg_free(seen);
    }
    wire_parts_free(parts, count);
    jmsg_free(reply);
    jmsg_free(request);
out:
    signer_free(client);
    signer_free(kernel);
}

static struct jmsg *decode_texts(const char *const *texts, size_t count, char *why)
{
    struct wire_part parts[12];
    for (size_t i = 0; i < count; i++)
        parts[i] = (struct wire_part){(void *)texts[i], strlen(texts[i])};
    struct signer *none = signer_new("hmac-sha256", "", 0);
    struct jmsg *msg = wire_decode(parts, count, none, why, 160);
    signer_free(none);
    return msg;
}

static void test_malformed(void)
{
    char why[160];
    const char *no_delim[] = {"id", "sig", "{}", "{}", "{}", "{}"};
    CHECK(decode_texts(no_delim, 6, why) == NULL && strstr(why, "delimiter"));
    const char *short_msg[] = {"<IDS|MSG>", "", "{}", "{}"};
    CHECK(decode_texts(short_msg, 4, why) == NULL);
    const char *not_json[] = {"<IDS|MSG>", "", "{nope", "{}", "{}", "{}"};
    CHECK(decode_texts(not_json, 6, why) == NULL && strstr(why, "header"));
    const char *array[] = {"<IDS|MSG>", "",   "{\"msg_id\":\"1\",\"msg_type\":\"x\"}",
                           "[]",        "{}", "{}"};
    CHECK(decode_texts(array, 6, why) == NULL && strstr(why, "parent_header"));
    const char *no_type[] = {"<IDS|MSG>", "", "{\"msg_id\":\"1\"}", "{}", "{}", "{}"};
    CHECK(decode_texts(no_type, 6, why) == NULL && strstr(why, "msg_type"));
    const char *type_number[] = {"<IDS|MSG>", "",   "{\"msg_id\":\"1\",\"msg_type\":7}",
                                 "{}",        "{}", "{}"};
    CHECK(decode_texts(type_number, 6, why) == NULL);
    const char *good[] = {"<IDS|MSG>", "",      "{\"msg_id\":\"1\",\"msg_type\":\"x\"}", "{}", "{}",
                          "{}",        "buffer"};
    struct jmsg *msg = decode_texts(good, 7, why);
    CHECK(msg != NULL && msg->n_ids == 0);
    jmsg_free(msg);
}

static void test_ids(void)
{
    char uuid[UUID_STR_LEN], date[ISO_DATE_LEN];
    ids_new_uuid(uuid);
    ids_now_iso8601(date);
    regex_t uuid_re, date_re;
    regcomp(&uuid_re, "^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$",
            REG_EXTENDED | REG_NOSUB);
    regcomp(&date_re, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{6}Z$",
            REG_EXTENDED | REG_NOSUB);
    CHECK(regexec(&uuid_re, uuid, 0, NULL, 0) == 0);
    CHECK(regexec(&date_re, date, 0, NULL, 0) == 0);
    char first[MSG_ID_LEN], second[MSG_ID_LEN];
    ids_new_msg_id(uuid, first);
    ids_new_msg_id(uuid, second);
    CHECK(strncmp(first, uuid, UUID_STR_LEN - 1) == 0 && first[UUID_STR_LEN - 1] == '_');
    CHECK(strncmp(second, uuid, UUID_STR_LEN - 1) == 0 && strcmp(first, second) != 0);
    struct jmsg *a = jmsg_build(uuid, "status", NULL, NULL);
    struct jmsg *b = jmsg_build(uuid, "status", NULL, NULL);
    CHECK(a && b && strcmp(jmsg_id(a), jmsg_id(b)) != 0);
    jmsg_free(a);
    jmsg_free(b);
    regfree(&uuid_re);
    regfree(&date_re);
}

/* Whether an input_reply comes from the client that was asked: the same routing identities. */
static void test_same_ids(void)
{
    struct wire_part alice[] = {{"alice", 5}}, alicia[] = {{"alicia", 6}},
                     two[] = {{"alice", 5}, {"x", 1}};
    struct jmsg asked = {.ids = alice, .n_ids = 1}, same = {.ids = alice, .n_ids = 1},
                longer = {.ids = alicia, .n_ids = 1}, more = {.ids = two, .n_ids = 2}, none = {0};
    struct jmsg *copy = jmsg_build("s", "input_request", NULL, NULL);
    CHECK(copy && jmsg_copy_ids(copy, &asked) == 0);
    CHECK(jmsg_same_ids(&asked, &same) && jmsg_same_ids(copy, &asked));
    CHECK(!jmsg_same_ids(&asked, &longer) && !jmsg_same_ids(&longer, &asked));
    CHECK(!jmsg_same_ids(&asked, &more) && !jmsg_same_ids(&asked, &none));
    CHECK(jmsg_same_ids(&none, &none));
    jmsg_free(copy);
}

int main(void)
{
    test_rfc4231_vector();
    test_rfc4231_more_vectors();
    test_hmac_matches_libsodium();
    test_json_write();
    test_jupyter_vector();
    test_replay_after_a_flood();
    test_replay_sets_grow_when_needed();
    test_schemes();
    test_round_trip();
    test_big_round_trip();
    test_parent_header_is_the_request_header_as_received();
    test_malformed();
    test_ids();
    test_same_ids();
    return check_summary("test_wire");
}
