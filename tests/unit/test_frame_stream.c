/* The fast path for stream frames (frame_stream.c) against the general path (sanitising, then
 * jansson): where it decides, it decides the same; it takes what the runtime writes; it leaves
 * everything else (repairs, rejections, other shapes) to the general path. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "sandbox/supervisor/frame.h"

/* What parse_payload does without the fast path. */
static json_t *general(const char *payload, size_t len)
{
    size_t clean_len = len;
    char *clean = frame_sanitize(payload, len, &clean_len);
    json_t *v = json_loadb(clean ? clean : payload, clean ? clean_len : len,
                           JSON_ALLOW_NUL | JSON_DECODE_ANY, NULL);
    free(clean);
    return v;
}

/* Checks one payload: the fast path agrees with the general one, and takes it iff `fast`. */
static bool agrees(const char *payload, size_t len, bool fast)
{
    json_t *quick = frame_parse_stream(payload, len);
    json_t *slow = general(payload, len);
    bool ok = quick ? (slow && json_equal(quick, slow)) : true;
    if (!ok || (quick != NULL) != fast)
        printf("  disagreement on %.*s (fast path %s)\n", (int)(len > 120 ? 120 : len), payload,
               quick ? "took it" : "left it");
    json_decref(quick);
    json_decref(slow);
    return ok && (quick != NULL) == fast;
}

static bool agrees_str(const char *payload, bool fast)
{
    return agrees(payload, strlen(payload), fast);
}

static void test_what_the_runtime_writes(void)
{
    CHECK(
        agrees_str("{\"t\":\"stream\",\"id\":1,\"name\":\"stdout\",\"text\":\"hello\\n\"}", true));
    CHECK(agrees_str("{\"t\":\"stream\",\"id\":0,\"name\":\"stderr\",\"text\":\"\"}", true));
    CHECK(agrees_str(
        "{\"t\":\"stream\",\"id\":123456789012345678,\"name\":\"stdout\",\"text\":\"x\"}", true));
    CHECK(agrees_str("{\"t\":\"stream\",\"id\":7,\"name\":\"stdout\",\"text\":"
                     "\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\\u001f\\u00e9\\u20AC\\ud83d\\ude00\"}",
                     true));
    CHECK(agrees_str("{\"t\":\"stream\",\"id\":7,\"name\":\"stdout\",\"text\":"
                     "\"raw \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"}",
                     true));
    static const char nul[] =
        "{\"t\":\"stream\",\"id\":7,\"name\":\"stdout\",\"text\":\"a\\u0000b\"}";
    CHECK(agrees(nul, sizeof nul - 1, true));
}

static void test_left_to_the_general_path(void)
{
    /* repaired there: invalid UTF-8, lone surrogate escapes */
    CHECK(
        agrees_str("{\"t\":\"stream\",\"id\":1,\"name\":\"stdout\",\"text\":\"bad \xff\"}", false));
    CHECK(agrees_str("{\"t\":\"stream\",\"id\":1,\"name\":\"stdout\",\"text\":\"\xed\xa0\x80\"}",
                     false));
    CHECK(
        agrees_str("{\"t\":\"stream\",\"id\":1,\"name\":\"stdout\",\"text\":\"\\ud800\"}", false));
    CHECK(
        agrees_str("{\"t\":\"stream\",\"id\":1,\"name\":\"stdout\",\"text\":\"\\udc00x\"}", false));
    CHECK(agrees_str("{\"t\":\"stream\",\"id\":1,\"name\":\"stdout\",\"text\":\"\\ud800\\u0041\"}",
                     false));
    /* rejected there: not JSON */
    CHECK(agrees_str("{\"t\":\"stream\",\"id\":01,\"name\":\"stdout\",\"text\":\"x\"}", false));
    CHECK(agrees_str("{\"t\":\"stream\",\"id\":1,\"name\":\"stdout\",\"text\":\"a\x01\"}", false));
    CHECK(agrees_str("{\"t\":\"stream\",\"id\":1,\"name\":\"stdout\",\"text\":\"\\x\"}", false));
    CHECK(
        agrees_str("{\"t\":\"stream\",\"id\":1,\"name\":\"stdout\",\"text\":\"\\u12G4\"}", false));
    CHECK(agrees_str("{\"t\":\"stream\",\"id\":1,\"name\":\"stdout\",\"text\":\"open}", false));
    CHECK(agrees_str("{\"t\":\"stream\",\"id\":1,\"name\":\"stdout\",\"text\":\"x\"}x", false));
    CHECK(agrees_str("{\"t\":\"stream\",\"id\":1,\"name\":\"stdout\",\"text\":\"x\"", false));
    CHECK(agrees_str("{\"t\":\"stream\",\"id\":1,\"name\":\"stdout\",\"text\":\"\\", false));
    /* other shapes, valid or not: whitespace, other names, big or negative ids, more keys */
    CHECK(agrees_str("{\"t\":\"stream\",\"id\": 1,\"name\":\"stdout\",\"text\":\"x\"}", false));
    CHECK(agrees_str("{\"t\":\"stream\",\"id\":1,\"name\":\"stdout\",\"text\":\"x\"} ", false));
    CHECK(agrees_str("{\"t\":\"stream\",\"id\":1,\"name\":\"stdin\",\"text\":\"x\"}", false));
    CHECK(agrees_str("{\"t\":\"stream\",\"id\":-1,\"name\":\"stdout\",\"text\":\"x\"}", false));
    CHECK(agrees_str(
        "{\"t\":\"stream\",\"id\":1234567890123456789,\"name\":\"stdout\",\"text\":\"x\"}", false));
    CHECK(agrees_str("{\"t\":\"stream\",\"id\":1,\"name\":\"stdout\",\"text\":\"x\",\"more\":1}",
                     false));
    CHECK(agrees_str("{\"t\":\"stream\",\"id\":1,\"text\":\"x\",\"name\":\"stdout\"}", false));
}

/* Random texts, encoded by jansson as the runtime would (compact, raw UTF-8 or all escaped). */
static void test_random_texts(void)
{
    static const char *const pieces[] = {"a",
                                         "line\n",
                                         "\t",
                                         "\"",
                                         "\\",
                                         "/",
                                         "\x01",
                                         "\x7f",
                                         "\xc3\xa9",
                                         "\xe2\x82\xac",
                                         "\xf0\x9f\x98\x80",
                                         " ",
                                         "\r\n",
                                         "0123456789"};
    unsigned seed = 12345;
    bool all = true;
    for (int round = 0; round < 400; round++) {
        char text[4096];
        size_t len = 0;
        int n = round % 97;
        for (int i = 0; i < n; i++) {
            seed = seed * 1103515245u + 12345u;
            const char *piece = pieces[(seed >> 16) % (sizeof pieces / sizeof pieces[0])];
            memcpy(text + len, piece, strlen(piece));
            len += strlen(piece);
        }
        json_t *frame = json_pack("{s:s, s:i, s:s, s:s%}", "t", "stream", "id", round, "name",
                                  round % 2 ? "stdout" : "stderr", "text", text, len);
        size_t flags = JSON_COMPACT | (round % 3 == 0 ? JSON_ENSURE_ASCII : 0);
        char *payload = json_dumps(frame, flags);
        all = all && agrees(payload, strlen(payload), true);
        free(payload);
        json_decref(frame);
    }
    CHECK(all);
}

/* stream_raw: the header, then the text to the end of the frame, repaired as the general path
 * repairs a stream frame's JSON text; any other shape is for the general path, where it is not
 * JSON (so a protocol violation). */
static bool raw_gives(const char *text, size_t len, const char *json_text)
{
    char payload[256], as_json[256];
    int head =
        snprintf(payload, sizeof payload, "{\"t\":\"stream_raw\",\"id\":9,\"name\":\"stderr\"}");
    memcpy(payload + head, text, len);
    snprintf(as_json, sizeof as_json,
             "{\"t\":\"stream\",\"id\":9,\"name\":\"stderr\",\"text\":\"%s\"}", json_text);
    json_t *quick = frame_parse_stream(payload, (size_t)head + len);
    json_t *slow = general(as_json, strlen(as_json));
    bool same = quick && slow && json_equal(quick, slow);
    json_decref(quick);
    json_decref(slow);
    return same;
}

static void test_raw_stream_frames(void)
{
    CHECK(raw_gives("hello\n", 6, "hello\\n"));
    CHECK(raw_gives("", 0, ""));
    CHECK(raw_gives("a\0b", 3, "a\\u0000b"));
    CHECK(raw_gives("\"q\" \\ \x01 \xc3\xa9", 10, "\\\"q\\\" \\\\ \\u0001 \xc3\xa9"));
    CHECK(raw_gives("bad \xff"
                    " end",
                    9,
                    "bad \xff"
                    " end")); /* U+FFFD on both paths */
    static const char *const bad[] = {
        "{\"t\":\"stream_raw\",\"id\":1,\"name\":\"stdin\"}x",
        "{\"t\":\"stream_raw\",\"id\":01,\"name\":\"stdout\"}x",
        "{\"t\":\"stream_raw\",\"id\":1,\"name\":\"stdout\"x",
        "{\"t\":\"stream_raw\", \"id\":1,\"name\":\"stdout\"}x",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *quick = frame_parse_stream(bad[i], strlen(bad[i]));
        json_t *slow = general(bad[i], strlen(bad[i]));
        CHECK(!quick && !slow);
        json_decref(quick);
        json_decref(slow);
    }
}

int main(void)
{
    test_what_the_runtime_writes();
    test_left_to_the_general_path();
    test_random_texts();
    test_raw_stream_frames();
    return check_summary("test_frame_stream");
}
