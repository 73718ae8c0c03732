/* The SSE parser (agent/sse.c) on what a model server, or anything between it and warden, may
 * stream.
 *
 * Input: one byte that picks the parser's bound on an event (16 bytes to 4 KiB, so that the
 * bound is reached), then the stream. It is parsed twice: in one read, and in reads of sizes
 * drawn from the input.
 *
 * Invariants: the same events (name, data, length) and the same result whatever the reads, and
 * the same events as a plain reading of the spec (the WHATWG's "interpreting an event stream",
 * written below over the whole stream at once, with warden's two choices: a name is cut to its
 * buffer, and no event is named "message" by default); data is NUL-terminated at its length and
 * never longer than the bound; once too large, the parser stays failed. */
#include <stdint.h>
#include <string.h>

#include "agent/sse.h"
#include "fuzz.h"

#define MAX_EVENTS 256

struct events {
    size_t bound;
    int n;
    uint64_t hash[MAX_EVENTS]; /* of the name and the data */
    size_t lens[MAX_EVENTS];
};

static uint64_t hash_bytes(uint64_t h, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

static bool on_event(void *ctx, const char *event, const char *data, size_t len)
{
    struct events *ev = ctx;
    FUZZ_ASSERT(event && data);
    FUZZ_ASSERT(data[len] == '\0');
    FUZZ_ASSERT(len <= ev->bound);
    FUZZ_ASSERT(strlen(event) < sizeof((struct sse_parser *)0)->event);
    if (ev->n < MAX_EVENTS) {
        uint64_t h = hash_bytes(1469598103934665603ull, event, strlen(event) + 1);
        ev->hash[ev->n] = hash_bytes(h, data, len);
        ev->lens[ev->n] = len;
    }
    ev->n++;
    return true;
}

/* The spec, line by line: lines end at \r\n, \r or \n; a last line without an end is never
 * read. No bound: it is compared only with a parse that stayed within its own. */
static void reference(const char *s, size_t n, struct events *ev)
{
    char name[64] = "";
    char *data = malloc(n + 1);
    FUZZ_ASSERT(data);
    size_t data_len = 0;
    bool has_data = false;
    size_t i = 0;
    while (i < n) {
        size_t start = i;
        while (i < n && s[i] != '\r' && s[i] != '\n')
            i++;
        if (i == n)
            break; /* no line end: not a line yet */
        size_t len = i - start;
        i += (s[i] == '\r' && i + 1 < n && s[i + 1] == '\n') ? 2 : 1;
        const char *line = s + start;
        if (len == 0) {
            if (has_data) {
                data[data_len] = '\0';
                on_event(ev, name, data, data_len);
            }
            name[0] = '\0';
            data_len = 0;
            has_data = false;
            continue;
        }
        if (line[0] == ':')
            continue;
        const char *colon = memchr(line, ':', len);
        size_t field = colon ? (size_t)(colon - line) : len;
        const char *value = colon ? colon + 1 : line + len;
        size_t value_len = (size_t)(line + len - value);
        if (value_len && value[0] == ' ')
            value++, value_len--;
        if (field == 5 && memcmp(line, "event", 5) == 0) {
            size_t cut = value_len < sizeof name ? value_len : sizeof name - 1;
            memcpy(name, value, cut);
            name[cut] = '\0';
        } else if (field == 4 && memcmp(line, "data", 4) == 0) {
            if (has_data)
                data[data_len++] = '\n';
            memcpy(data + data_len, value, value_len);
            data_len += value_len;
            has_data = true;
        }
    }
    free(data);
}

/* Parses the stream in reads of 1..max_read bytes (0: one read); the first result that is not
 * SSE_OK, or SSE_OK. */
static enum sse_result parse(const char *s, size_t n, size_t max_read, struct events *ev,
                             bool *pending)
{
    struct sse_parser p;
    sse_init(&p, ev->bound);
    struct fuzz_rng rng;
    fuzz_rng_seed(&rng, (const uint8_t *)s, n);
    enum sse_result r = SSE_OK;
    for (size_t done = 0; done < n && r == SSE_OK;) {
        size_t len = max_read ? fuzz_rng_chunk(&rng, max_read) : n - done;
        if (len > n - done)
            len = n - done;
        r = sse_feed(&p, s + done, len, on_event, ev);
        done += len;
    }
    if (r == SSE_TOO_LARGE) /* sticky */
        FUZZ_ASSERT(sse_feed(&p, "\n\n", 2, on_event, ev) == SSE_TOO_LARGE);
    *pending = sse_pending(&p);
    sse_free(&p);
    sse_free(&p); /* twice is safe (sse.c) */
    return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t bound = (size_t)16 << (data[0] % 9); /* 16 B .. 4 KiB */
    const char *stream = (const char *)data + 1;
    size_t n = size - 1;
    struct events whole = {.bound = bound}, pieces = {.bound = bound};
    bool whole_pending, pieces_pending;
    enum sse_result a = parse(stream, n, 0, &whole, &whole_pending);
    enum sse_result b = parse(stream, n, 5, &pieces, &pieces_pending);
    FUZZ_ASSERT(a == b);
    FUZZ_ASSERT(whole.n == pieces.n);
    for (int i = 0; i < whole.n && i < MAX_EVENTS; i++)
        FUZZ_ASSERT(whole.hash[i] == pieces.hash[i] && whole.lens[i] == pieces.lens[i]);
    if (a == SSE_OK) {
        FUZZ_ASSERT(whole_pending == pieces_pending);
        struct events spec = {.bound = SIZE_MAX};
        reference(stream, n, &spec);
        FUZZ_ASSERT(spec.n == whole.n);
        for (int i = 0; i < whole.n && i < MAX_EVENTS; i++)
            FUZZ_ASSERT(whole.hash[i] == spec.hash[i] && whole.lens[i] == spec.lens[i]);
    }
    return 0;
}
