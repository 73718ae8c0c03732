/* The SSE parser (agent/sse.h) on what OpenAI's, OpenRouter's and Anthropic's streams really
 * send: every stream gives the same events however the network cuts it into reads (one byte at a
 * time, at every split point, in random pieces) and whichever line ending it uses; and the ways a
 * stream goes wrong: an event too large, a stream cut short, a reader that stops. */
#include <stdlib.h>
#include <string.h>

#include "agent/sse.h"
#include "check.h"

#define MAX_EVENTS 32

struct recorder {
    int n;
    char names[MAX_EVENTS][64];
    char *data[MAX_EVENTS];
    size_t lens[MAX_EVENTS];
    int stop_at; /* return false on this event (1-based); 0: never */
};

static bool record(void *ctx, const char *event, const char *data, size_t len)
{
    struct recorder *r = ctx;
    if (r->n < MAX_EVENTS) {
        snprintf(r->names[r->n], sizeof r->names[r->n], "%s", event);
        r->data[r->n] = malloc(len + 1);
        memcpy(r->data[r->n], data, len + 1); /* the NUL too: it must be there */
        r->lens[r->n] = len;
    }
    r->n++;
    return r->n != r->stop_at;
}

static void recorder_clear(struct recorder *r)
{
    for (int i = 0; i < r->n && i < MAX_EVENTS; i++)
        free(r->data[i]);
    memset(r, 0, sizeof *r);
}

static bool same_events(const struct recorder *a, const struct recorder *b)
{
    if (a->n != b->n)
        return false;
    for (int i = 0; i < a->n && i < MAX_EVENTS; i++)
        if (strcmp(a->names[i], b->names[i]) != 0 || a->lens[i] != b->lens[i] ||
            memcmp(a->data[i], b->data[i], a->lens[i] + 1) != 0)
            return false;
    return true;
}

static bool event_is(const struct recorder *r, int i, const char *name, const char *data)
{
    bool ok = i < r->n && strcmp(r->names[i], name) == 0 && r->lens[i] == strlen(data) &&
              strcmp(r->data[i], data) == 0;
    if (!ok)
        fprintf(stderr, "  event %d: got %s \"%s\", want %s \"%s\"\n", i,
                i < r->n ? r->names[i] : "(none)", i < r->n ? r->data[i] : "", name, data);
    return ok;
}

/* ---- feeding a stream in pieces ---- */

/* How long the next read is, given what is left. */
typedef size_t (*next_piece)(void *state, size_t left);

static size_t piece_of_one(void *state, size_t left)
{
    (void)state, (void)left;
    return 1;
}

static size_t piece_then_rest(void *state, size_t left) /* *state bytes, then all the rest */
{
    size_t *first = state, n = *first ? *first : left;
    *first = 0;
    return n;
}

static size_t piece_random(void *state, size_t left) /* 1 to 40 bytes: a fixed xorshift */
{
    unsigned *x = state;
    *x ^= *x << 13, *x ^= *x >> 17, *x ^= *x << 5;
    (void)left;
    return 1 + *x % 40;
}

static enum sse_result parse_pieces(const char *s, size_t len, next_piece next, void *state,
                                    struct recorder *rec)
{
    struct sse_parser p;
    sse_init(&p, 1 << 16);
    enum sse_result r = SSE_OK;
    for (size_t i = 0; i < len && r == SSE_OK;) {
        size_t n = next(state, len - i);
        n = n > len - i ? len - i : n;
        r = sse_feed(&p, s + i, n, record, rec);
        i += n;
    }
    sse_free(&p);
    return r;
}

static enum sse_result parse_whole(const char *s, struct recorder *rec)
{
    size_t all = 0;
    return parse_pieces(s, strlen(s), piece_then_rest, &all, rec);
}

/* The events of `s` read whole equal `want`'s, and so do those of every cutting of it. */
static bool same_events_however_cut(const char *s, const struct recorder *want)
{
    size_t len = strlen(s);
    bool same = true;
    struct recorder got = {0};
    parse_pieces(s, len, piece_of_one, NULL, &got);
    same = same && same_events(&got, want);
    recorder_clear(&got);
    for (size_t cut = 1; cut < len && same; cut++) {
        size_t first = cut;
        parse_pieces(s, len, piece_then_rest, &first, &got);
        same = same_events(&got, want);
        if (!same)
            fprintf(stderr, "  differs when cut after byte %zu\n", cut);
        recorder_clear(&got);
    }
    unsigned seed = 12345;
    for (int i = 0; i < 200 && same; i++) {
        parse_pieces(s, len, piece_random, &seed, &got);
        same = same_events(&got, want);
        recorder_clear(&got);
    }
    return same;
}

/* `s` with each \n written as `eol`, malloc'd. */
static char *with_line_ends(const char *s, const char *eol)
{
    char *out = malloc(strlen(s) * 2 + 1), *o = out;
    for (; *s; s++) {
        if (*s == '\n')
            for (const char *e = eol; *e; e++)
                *o++ = *e;
        else
            *o++ = *s;
    }
    *o = '\0';
    return out;
}

/* The same events however the stream is cut, with \n, \r\n or \r line ends. */
static bool robust(const char *stream, const struct recorder *want)
{
    bool ok = same_events_however_cut(stream, want);
    const char *ends[] = {"\r\n", "\r"};
    for (int i = 0; i < 2; i++) {
        char *other = with_line_ends(stream, ends[i]);
        ok = ok && same_events_however_cut(other, want);
        free(other);
    }
    return ok;
}

/* ---- real streams ---- */

#define OPENAI_CHUNK                                                                               \
    "data: {\"id\":\"chatcmpl-9x\",\"object\":\"chat.completion.chunk\",\"created\":1718000000,"   \
    "\"model\":\"gpt-4o-mini\",\"system_fingerprint\":\"fp_1\","

static const char openai_stream[] =
    ": OPENROUTER PROCESSING\n\n" OPENAI_CHUNK
    "\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},"
    "\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}\n\n" OPENAI_CHUNK
    "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hello\"},\"logprobs\":null,"
    "\"finish_reason\":null}],\"usage\":null}\n\n" OPENAI_CHUNK
    "\"choices\":[{\"index\":0,\"delta\":{\"content\":\" world\"},\"logprobs\":null,"
    "\"finish_reason\":null}],\"usage\":null}\n\n" OPENAI_CHUNK
    "\"choices\":[{\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\":\"stop\"}],"
    "\"usage\":null}\n\n" OPENAI_CHUNK
    "\"choices\":[],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":2,"
    "\"total_tokens\":11}}\n\n"
    "data: [DONE]\n\n";

static const char *chunk_content(const char *data)
{
    static char text[64];
    json_t *v = json_loads(data, 0, NULL);
    const char *s = json_string_value(json_object_get(
        json_object_get(json_array_get(json_object_get(v, "choices"), 0), "delta"), "content"));
    snprintf(text, sizeof text, "%s", s ? s : "");
    json_decref(v);
    return text;
}

static void test_openai_stream(void)
{
    struct recorder r = {0};
    CHECK(parse_whole(openai_stream, &r) == SSE_OK);
    CHECK(r.n == 6); /* the comment, and the blank line after it, are no event */
    char text[64] = "";
    for (int i = 0; i < 4 && i < r.n; i++)
        strcat(text, chunk_content(r.data[i]));
    CHECK(strcmp(text, "Hello world") == 0);
    CHECK(r.n == 6 && strstr(r.data[3], "\"finish_reason\":\"stop\""));
    json_t *usage = r.n == 6 ? json_loads(r.data[4], 0, NULL) : NULL;
    CHECK(json_array_size(json_object_get(usage, "choices")) == 0 &&
          json_integer_value(json_object_get(json_object_get(usage, "usage"), "total_tokens")) ==
              11);
    json_decref(usage);
    CHECK(event_is(&r, 5, "", "[DONE]")); /* just data: the caller knows what it means */
    CHECK(robust(openai_stream, &r));
    recorder_clear(&r);
}

static const char anthropic_stream[] =
    "event: message_start\n"
    "data: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_01\",\"type\":\"message\","
    "\"role\":\"assistant\",\"content\":[],\"model\":\"claude-sonnet-4-5\",\"stop_reason\":null,"
    "\"stop_sequence\":null,\"usage\":{\"input_tokens\":25,\"output_tokens\":1}}}\n\n"
    "event: content_block_start\n"
    "data: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\","
    "\"text\":\"\"}}\n\n"
    "event: ping\n"
    "data: {\"type\": \"ping\"}\n\n"
    "event: content_block_delta\n"
    "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\","
    "\"text\":\"Hello\"}}\n\n"
    "event: content_block_delta\n"
    "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\","
    "\"text\":\", \"}}\n\n"
    "event: content_block_delta\n"
    "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\","
    "\"text\":\"world\"}}\n\n"
    "event: content_block_stop\n"
    "data: {\"type\":\"content_block_stop\",\"index\":0}\n\n"
    "event: message_delta\n"
    "data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\","
    "\"stop_sequence\":null},\"usage\":{\"output_tokens\":15}}\n\n"
    "event: message_stop\n"
    "data: {\"type\":\"message_stop\"}\n\n";

static void test_anthropic_stream(void)
{
    static const char *const names[] = {
        "message_start",       "content_block_start", "ping",
        "content_block_delta", "content_block_delta", "content_block_delta",
        "content_block_stop",  "message_delta",       "message_stop"};
    struct recorder r = {0};
    CHECK(parse_whole(anthropic_stream, &r) == SSE_OK);
    CHECK(r.n == 9);
    bool names_ok = r.n == 9, types_ok = r.n == 9;
    char text[64] = "";
    for (int i = 0; i < r.n && i < 9; i++) {
        names_ok = names_ok && strcmp(r.names[i], names[i]) == 0;
        json_t *v = json_loads(r.data[i], 0, NULL); /* each event's "type" is its name */
        types_ok = types_ok && strcmp(json_string_value(json_object_get(v, "type")), names[i]) == 0;
        const char *delta = json_string_value(json_object_get(json_object_get(v, "delta"), "text"));
        if (delta)
            strcat(text, delta);
        json_decref(v);
    }
    CHECK(names_ok && types_ok);
    CHECK(strcmp(text, "Hello, world") == 0);
    CHECK(!strchr(r.data[0], '\n'));
    CHECK(robust(anthropic_stream, &r));
    recorder_clear(&r);

    const char *error = "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":"
                        "\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n";
    CHECK(parse_whole(error, &r) == SSE_OK && r.n == 1);
    CHECK(event_is(&r, 0, "error",
                   "{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":"
                   "\"Overloaded\"}}"));
    CHECK(robust(error, &r));
    recorder_clear(&r);
}

/* ---- the rules of the format ---- */

static void test_fields(void)
{
    struct recorder r = {0};
    CHECK(parse_whole("data: a\ndata: b\ndata:\ndata: c\n\n", &r) == SSE_OK && r.n == 1);
    CHECK(event_is(&r, 0, "", "a\nb\n\nc"));
    recorder_clear(&r);
    /* one space after the colon goes, no more; no space at all is fine */
    CHECK(parse_whole("data:x\n\ndata:  two\n\ndata\n\n", &r) == SSE_OK && r.n == 3);
    CHECK(event_is(&r, 0, "", "x") && event_is(&r, 1, "", " two") && event_is(&r, 2, "", ""));
    recorder_clear(&r);
    /* a name lasts for its event only; an event with no data is not dispatched and does not
     * name the next one */
    CHECK(parse_whole("event: message_start\ndata: {}\n\nevent: ping\n\ndata: 1\n\n", &r) ==
          SSE_OK);
    CHECK(r.n == 2 && event_is(&r, 0, "message_start", "{}") && event_is(&r, 1, "", "1"));
    recorder_clear(&r);
    /* comments, id:, retry: and unknown fields change nothing */
    const char *noisy = ": OPENROUTER PROCESSING\n:\nid: 7\nretry: 3000\nfoo: bar\ndata: x\n"
                        ": keep-alive\n\n";
    CHECK(parse_whole(noisy, &r) == SSE_OK && r.n == 1 && event_is(&r, 0, "", "x"));
    CHECK(robust(noisy, &r));
    recorder_clear(&r);
    /* a data line holding a NUL: the length counts it */
    struct sse_parser p;
    sse_init(&p, 100);
    CHECK(sse_feed(&p, "data: a\0b\n\n", 11, record, &r) == SSE_OK);
    CHECK(r.n == 1 && r.lens[0] == 3 && memcmp(r.data[0], "a\0b", 4) == 0);
    recorder_clear(&r);
    CHECK(sse_feed(&p, NULL, 0, record, &r) == SSE_OK && r.n == 0);
    sse_free(&p);
}

static void test_line_ends(void)
{
    struct recorder r = {0};
    CHECK(parse_whole("data: a\r\n\r\ndata: b\r\rdata: c\n\r\n", &r) == SSE_OK && r.n == 3);
    CHECK(event_is(&r, 0, "", "a") && event_is(&r, 1, "", "b") && event_is(&r, 2, "", "c"));
    recorder_clear(&r);
    /* a \r ends the line at once: a \n in the next read is not a second, blank line */
    struct sse_parser p;
    sse_init(&p, 100);
    CHECK(sse_feed(&p, "data: a\r", 8, record, &r) == SSE_OK && r.n == 0);
    CHECK(sse_feed(&p, "\n", 1, record, &r) == SSE_OK && r.n == 0);
    CHECK(sse_feed(&p, "\r", 1, record, &r) == SSE_OK && event_is(&r, 0, "", "a"));
    sse_free(&p);
    recorder_clear(&r);
}

static void test_too_large(void)
{
    struct sse_parser p;
    struct recorder r = {0};
    sse_init(&p, 8);
    CHECK(sse_feed(&p, "data: 12345678\n\n", 16, record, &r) == SSE_OK && r.n == 1);
    CHECK(sse_feed(&p, "data: 1234\ndata: 5678\n", 22, record, &r) == SSE_TOO_LARGE);
    /* failed for good: a good event afterwards is not read */
    CHECK(sse_feed(&p, "\ndata: x\n\n", 10, record, &r) == SSE_TOO_LARGE && r.n == 1);
    sse_free(&p);
    recorder_clear(&r);

    /* one endless line (no newline ever) is bounded too, comment or not */
    char blob[4096];
    memset(blob, 'a', sizeof blob);
    blob[0] = ':';
    sse_init(&p, 1000);
    enum sse_result res = SSE_OK;
    for (int i = 0; i < 10 && res == SSE_OK; i++)
        res = sse_feed(&p, blob, sizeof blob, record, &r);
    CHECK(res == SSE_TOO_LARGE && r.n == 0);
    CHECK(p.line_cap <= 2048); /* memory stayed near the bound */
    sse_free(&p);
}

static void test_pending_and_stop(void)
{
    struct sse_parser p;
    struct recorder r = {0};
    sse_init(&p, 100);
    CHECK(!sse_pending(&p));
    CHECK(sse_feed(&p, "data: whole\n\n", 13, record, &r) == SSE_OK && !sse_pending(&p));
    CHECK(sse_feed(&p, ": ping\n", 7, record, &r) == SSE_OK && !sse_pending(&p));
    CHECK(sse_feed(&p, "data: {\"choices\":[{\"delta\":", 27, record, &r) == SSE_OK);
    CHECK(sse_pending(&p) && r.n == 1); /* the stream was cut here */
    sse_free(&p);
    sse_init(&p, 100);
    CHECK(sse_feed(&p, "data: x\n", 8, record, &r) == SSE_OK && sse_pending(&p));
    sse_free(&p);
    sse_init(&p, 100);
    CHECK(sse_feed(&p, "event: message_stop\n", 20, record, &r) == SSE_OK && sse_pending(&p));
    sse_free(&p);
    recorder_clear(&r);

    r.stop_at = 1;
    sse_init(&p, 100);
    CHECK(sse_feed(&p, "data: 1\n\ndata: 2\n\n", 18, record, &r) == SSE_STOPPED);
    CHECK(r.n == 1 && event_is(&r, 0, "", "1"));
    sse_free(&p);
    sse_free(&p); /* twice is harmless */
    recorder_clear(&r);
}

int main(void)
{
    test_openai_stream();
    test_anthropic_stream();
    test_fields();
    test_line_ends();
    test_too_large();
    test_pending_and_stop();
    return check_summary("sse");
}
