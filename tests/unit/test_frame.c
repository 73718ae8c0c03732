/* The worker channel codec: round trips, split and merged reads, every rejection. */
#include "common/clock.h"
#include "sandbox/supervisor/frame.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"

static void header(unsigned char *h, uint32_t len)
{
    h[0] = (unsigned char)(len >> 24);
    h[1] = (unsigned char)(len >> 16);
    h[2] = (unsigned char)(len >> 8);
    h[3] = (unsigned char)len;
}

/* Feeds header + payload to a fresh reader and returns the result. */
static enum frame_result feed_one(const char *payload, size_t len, json_t **out,
                                  struct frame_reader *r)
{
    unsigned char h[4];
    header(h, (uint32_t)len);
    frame_reader_init(r);
    frame_reader_feed(r, h, 4);
    frame_reader_feed(r, payload, len);
    return frame_reader_next(r, out);
}

static void socketpair_nb(int sv[2])
{
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
        perror("socketpair");
        exit(1);
    }
    fcntl(sv[0], F_SETFL, O_NONBLOCK);
    fcntl(sv[1], F_SETFL, O_NONBLOCK);
}

static void test_round_trip(void)
{
    int sv[2];
    socketpair_nb(sv);
    json_t *frame =
        json_pack("{s:s, s:i, s:s}", "t", "stream", "id", 7, "text", "h\xc3\xa9llo \xe2\x82\xac");
    CHECK(frame_write(sv[0], frame, 1000) == 0);
    struct frame_reader r;
    frame_reader_init(&r);
    json_t *got = NULL;
    CHECK(frame_read(&r, sv[1], &got) == FRAME_OK);
    CHECK(got && json_equal(got, frame));
    CHECK(r.frames == 1);
    json_decref(got);
    CHECK(frame_read(&r, sv[1], &got) == FRAME_AGAIN);
    CHECK(got == NULL);

    /* A large frame (4 MiB of text) crosses many reads. */
    char *big = malloc(4u << 20);
    memset(big, 'x', 4u << 20);
    json_t *large = json_pack("{s:s, s:s%}", "t", "stream", "text", big, (size_t)(4u << 20));
    free(big);
    /* Writer and reader alternate: the socket buffer is far smaller than the frame. */
    size_t size = json_dumpb(large, NULL, 0, JSON_COMPACT);
    char *enc = malloc(size + 4);
    header((unsigned char *)enc, (uint32_t)size);
    json_dumpb(large, enc + 4, size, JSON_COMPACT);
    size_t off = 0;
    enum frame_result res = FRAME_AGAIN;
    got = NULL;
    while (res == FRAME_AGAIN) {
        if (off < size + 4) {
            ssize_t n = write(sv[0], enc + off, size + 4 - off);
            if (n > 0)
                off += (size_t)n;
        }
        res = frame_read(&r, sv[1], &got);
    }
    CHECK(res == FRAME_OK);
    CHECK(got && json_equal(got, large));
    CHECK(r.last_len == size);
    json_decref(got);
    free(enc);

    /* EOF between frames is a clean EOF. */
    close(sv[0]);
    CHECK(frame_read(&r, sv[1], &got) == FRAME_EOF);
    CHECK(frame_read(&r, sv[1], &got) == FRAME_EOF);
    frame_reader_free(&r);
    close(sv[1]);
    json_decref(frame);
    json_decref(large);
}

static void test_write_rejects_oversize_and_times_out(void)
{
    int sv[2];
    socketpair_nb(sv);
    char *big = malloc(FRAME_MAX);
    memset(big, 'a', FRAME_MAX);
    json_t *huge = json_pack("{s:s, s:s%}", "t", "x", "text", big, (size_t)FRAME_MAX);
    free(big);
    errno = 0;
    CHECK(frame_write(sv[0], huge, 100) == -1 && errno == EMSGSIZE);
    json_decref(huge);

    /* Nobody reads sv[1]: a 1 MiB frame cannot fit, so the write gives up after the timeout. */
    char *mb = malloc(1u << 20);
    memset(mb, 'b', 1u << 20);
    json_t *frame = json_pack("{s:s, s:s%}", "t", "x", "text", mb, (size_t)(1u << 20));
    free(mb);
    int64_t t0 = monotonic_ms();
    errno = 0;
    CHECK(frame_write(sv[0], frame, 200) == -1 && errno == ETIMEDOUT);
    int64_t took = monotonic_ms() - t0;
    CHECK(took >= 150 && took < 2000);

    /* Peer gone: EPIPE, not SIGPIPE. */
    close(sv[1]);
    errno = 0;
    CHECK(frame_write(sv[0], frame, 200) == -1 && (errno == EPIPE || errno == ECONNRESET));
    json_decref(frame);
    close(sv[0]);
}

static void test_split_reads(void)
{
    const char *payload = "{\"t\":\"done\",\"id\":3,\"status\":\"ok\"}";
    size_t len = strlen(payload);
    unsigned char h[4];
    header(h, (uint32_t)len);
    char all[128];
    memcpy(all, h, 4);
    memcpy(all + 4, payload, len);
    struct frame_reader r;
    frame_reader_init(&r);
    json_t *got = NULL;
    int agains = 0;
    for (size_t i = 0; i < len + 4; i++) {
        frame_reader_feed(&r, all + i, 1);
        enum frame_result res = frame_reader_next(&r, &got);
        if (i + 1 < len + 4) {
            if (res == FRAME_AGAIN)
                agains++;
        } else {
            CHECK(res == FRAME_OK);
        }
    }
    CHECK(agains == (int)(len + 3));
    CHECK(got && strcmp(json_string_value(json_object_get(got, "t")), "done") == 0);
    CHECK(json_integer_value(json_object_get(got, "id")) == 3);
    json_decref(got);
    frame_reader_free(&r);

    /* The same through a real socket, one byte per write. */
    int sv[2];
    socketpair_nb(sv);
    frame_reader_init(&r);
    enum frame_result res = FRAME_AGAIN;
    for (size_t i = 0; i < len + 4; i++) {
        CHECK(write(sv[0], all + i, 1) == 1);
        res = frame_read(&r, sv[1], &got);
        if (i + 1 < len + 4 && res != FRAME_AGAIN)
            break;
    }
    CHECK(res == FRAME_OK);
    json_decref(got);
    frame_reader_free(&r);
    close(sv[0]);
    close(sv[1]);
}

static void test_two_frames_one_read(void)
{
    int sv[2];
    socketpair_nb(sv);
    const char *a = "{\"t\":\"stream\",\"n\":1}", *b = "{\"t\":\"stream\",\"n\":2}";
    char buf[128];
    size_t off = 0;
    header((unsigned char *)buf, (uint32_t)strlen(a));
    memcpy(buf + 4, a, strlen(a));
    off = 4 + strlen(a);
    header((unsigned char *)buf + off, (uint32_t)strlen(b));
    memcpy(buf + off + 4, b, strlen(b));
    off += 4 + strlen(b);
    /* Plus the first two bytes of a third header. */
    buf[off++] = 0;
    buf[off++] = 0;
    CHECK(write(sv[0], buf, off) == (ssize_t)off);
    struct frame_reader r;
    frame_reader_init(&r);
    json_t *x = NULL, *y = NULL, *z = NULL;
    CHECK(!frame_reader_ready(&r));
    CHECK(frame_read(&r, sv[1], &x) == FRAME_OK);
    /* The second frame is buffered: poll would not report it, frame_reader_ready does. */
    CHECK(frame_reader_ready(&r));
    CHECK(frame_read(&r, sv[1], &y) == FRAME_OK);
    CHECK(!frame_reader_ready(&r)); /* 2 bytes of a header */
    CHECK(frame_read(&r, sv[1], &z) == FRAME_AGAIN);
    CHECK(x && json_integer_value(json_object_get(x, "n")) == 1);
    CHECK(y && json_integer_value(json_object_get(y, "n")) == 2);
    CHECK(frame_reader_pending(&r) == 2);
    json_decref(x);
    json_decref(y);
    /* EOF with 2 bytes of a header buffered: EOF in the middle of a frame. */
    close(sv[0]);
    CHECK(frame_read(&r, sv[1], &z) == FRAME_EOF_PARTIAL);
    CHECK(strstr(r.detail, "incomplete") != NULL);
    frame_reader_free(&r);
    close(sv[1]);
}

static void test_bad_lengths(void)
{
    struct frame_reader r;
    json_t *got = NULL;
    /* Length 0: rejected with just the header. */
    frame_reader_init(&r);
    unsigned char h[4];
    header(h, 0);
    frame_reader_feed(&r, h, 4);
    CHECK(frame_reader_next(&r, &got) == FRAME_BAD_LENGTH);
    CHECK(got == NULL);
    CHECK(frame_result_is_violation(FRAME_BAD_LENGTH));
    frame_reader_free(&r);

    /* FRAME_MAX + 1: rejected from the header alone, nothing else needs to arrive. */
    frame_reader_init(&r);
    header(h, FRAME_MAX + 1);
    frame_reader_feed(&r, h, 4);
    CHECK(frame_reader_next(&r, &got) == FRAME_BAD_LENGTH);
    CHECK(strstr(r.detail, "33554433") != NULL);
    /* Sticky: the channel is no longer trusted. */
    frame_reader_feed(&r, "{\"t\":\"x\"}", 9);
    CHECK(frame_reader_next(&r, &got) == FRAME_BAD_LENGTH);
    frame_reader_free(&r);

    /* 0xFFFFFFFF through a socket with the header only. */
    int sv[2];
    socketpair_nb(sv);
    CHECK(write(sv[0], "\xff\xff\xff\xff", 4) == 4);
    frame_reader_init(&r);
    CHECK(frame_read(&r, sv[1], &got) == FRAME_BAD_LENGTH);
    CHECK(r.cap < 1024 * 1024); /* nothing close to the claimed size was allocated */
    frame_reader_free(&r);
    close(sv[0]);
    close(sv[1]);

    /* Exactly FRAME_MAX is a legal length: the reader waits for the payload. */
    frame_reader_init(&r);
    header(h, FRAME_MAX);
    frame_reader_feed(&r, h, 4);
    CHECK(frame_reader_next(&r, &got) == FRAME_AGAIN);
    frame_reader_free(&r);
}

static void test_bad_payloads(void)
{
    struct frame_reader r;
    json_t *got = NULL;
    CHECK(feed_one("not json at all", 15, &got, &r) == FRAME_BAD_JSON);
    CHECK(strstr(r.detail, "not valid JSON") != NULL);
    frame_reader_free(&r);

    CHECK(feed_one("[1,2,3]", 7, &got, &r) == FRAME_NOT_OBJECT);
    frame_reader_free(&r);
    CHECK(feed_one("\"t\"", 3, &got, &r) == FRAME_NOT_OBJECT);
    frame_reader_free(&r);

    CHECK(feed_one("{\"id\":1}", 8, &got, &r) == FRAME_NO_TYPE);
    frame_reader_free(&r);
    CHECK(feed_one("{\"t\":5}", 7, &got, &r) == FRAME_NO_TYPE);
    frame_reader_free(&r);

    /* Trailing garbage after the object is not JSON either. */
    CHECK(feed_one("{\"t\":\"a\"} x", 11, &got, &r) == FRAME_BAD_JSON);
    frame_reader_free(&r);

    /* Binary junk with NULs. */
    CHECK(feed_one("\0\0\x01\x02\xff", 5, &got, &r) == FRAME_BAD_JSON);
    frame_reader_free(&r);

    /* Deep nesting is refused by the parser, not a stack overflow. */
    size_t depth = 100000;
    char *deep = malloc(depth * 2 + 16);
    size_t n = 0;
    memcpy(deep, "{\"t\":", 5);
    n = 5;
    for (size_t i = 0; i < depth; i++)
        deep[n++] = '[';
    for (size_t i = 0; i < depth; i++)
        deep[n++] = ']';
    deep[n++] = '}';
    CHECK(feed_one(deep, n, &got, &r) == FRAME_BAD_JSON);
    frame_reader_free(&r);
    free(deep);
}

static void test_invalid_utf8(void)
{
    struct frame_reader r;
    json_t *got = NULL;
    /* Lone continuation byte, truncated 3-byte sequence, overlong '/', surrogate encoded in UTF-8,
     * a byte that never appears in UTF-8. */
    const char payload[] = "{\"t\":\"stream\",\"text\":\"a\x80"
                           "b\xe2\x82"
                           "c\xc0\xaf"
                           "d\xed\xa0\x80"
                           "e\xff"
                           "f\"}";
    CHECK(feed_one(payload, sizeof payload - 1, &got, &r) == FRAME_OK);
    const char *text = json_string_value(json_object_get(got, "text"));
    CHECK(text != NULL);
    if (text) {
        const char *want = "a\xef\xbf\xbd"
                           "b\xef\xbf\xbd"
                           "c\xef\xbf\xbd\xef\xbf\xbd"
                           "d\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
                           "e\xef\xbf\xbd"
                           "f";
        CHECK(strcmp(text, want) == 0);
        if (strcmp(text, want) != 0)
            fprintf(stderr, "got: %s\n", text);
    }
    json_decref(got);
    frame_reader_free(&r);

    /* Valid multi-byte text is untouched (no copy made). */
    size_t outlen = 0;
    CHECK(frame_sanitize("h\xc3\xa9 \xf0\x9f\x98\x80", 8, &outlen) == NULL);

    /* Lone surrogate escapes (what json.dumps makes of surrogateescape'd bytes) are replaced;
     * a proper pair and an escaped backslash before 'u' are not. */
    const char esc[] = "{\"t\":\"s\",\"a\":\"x\\udc80y\",\"b\":\"\\ud83d\\ude00\",\"c\":"
                       "\"\\\\ud800\",\"d\":\"\\ud800\"}";
    CHECK(feed_one(esc, sizeof esc - 1, &got, &r) == FRAME_OK);
    if (got) {
        CHECK(strcmp(json_string_value(json_object_get(got, "a")), "x\xef\xbf\xbdy") == 0);
        CHECK(strcmp(json_string_value(json_object_get(got, "b")), "\xf0\x9f\x98\x80") == 0);
        CHECK(strcmp(json_string_value(json_object_get(got, "c")), "\\ud800") == 0);
        CHECK(strcmp(json_string_value(json_object_get(got, "d")), "\xef\xbf\xbd") == 0);
    }
    json_decref(got);
    frame_reader_free(&r);

    /* \u0000 inside a string is accepted and kept. */
    const char nul[] = "{\"t\":\"s\",\"text\":\"a\\u0000b\"}";
    CHECK(feed_one(nul, sizeof nul - 1, &got, &r) == FRAME_OK);
    CHECK(got && json_string_length(json_object_get(got, "text")) == 3);
    json_decref(got);
    frame_reader_free(&r);
}

static void test_eof_mid_frame(void)
{
    struct frame_reader r;
    json_t *got = NULL;
    frame_reader_init(&r);
    unsigned char h[4];
    header(h, 100);
    frame_reader_feed(&r, h, 4);
    frame_reader_feed(&r, "{\"t\":", 5);
    CHECK(frame_reader_next(&r, &got) == FRAME_AGAIN);
    frame_reader_feed_eof(&r);
    CHECK(frame_reader_next(&r, &got) == FRAME_EOF_PARTIAL);
    frame_reader_free(&r);

    /* A complete frame before EOF is still delivered, then EOF. */
    frame_reader_init(&r);
    header(h, 9);
    frame_reader_feed(&r, h, 4);
    frame_reader_feed(&r, "{\"t\":\"a\"}", 9);
    frame_reader_feed_eof(&r);
    CHECK(frame_reader_next(&r, &got) == FRAME_OK);
    json_decref(got);
    CHECK(frame_reader_next(&r, &got) == FRAME_EOF);
    frame_reader_free(&r);

    /* Through a socket: header promising 50 bytes, 10 sent, then close. */
    int sv[2];
    socketpair_nb(sv);
    header(h, 50);
    CHECK(write(sv[0], h, 4) == 4);
    CHECK(write(sv[0], "{\"t\":\"abc\"", 10) == 10);
    close(sv[0]);
    frame_reader_init(&r);
    enum frame_result res;
    do
        res = frame_read(&r, sv[1], &got);
    while (res == FRAME_AGAIN);
    CHECK(res == FRAME_EOF_PARTIAL);
    frame_reader_free(&r);
    close(sv[1]);
}

int main(void)
{
    test_round_trip();
    test_write_rejects_oversize_and_times_out();
    test_split_reads();
    test_two_frames_one_read();
    test_bad_lengths();
    test_bad_payloads();
    test_invalid_utf8();
    test_eof_mid_frame();
    return check_summary("frame");
}
