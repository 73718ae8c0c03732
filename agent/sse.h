/* Server-sent events (the streams of OpenAI's and Anthropic's APIs), parsed from bytes as they
 * arrive: an event may be split across reads and a read may hold several. Lines end with \n,
 * \r\n or \r; a line starting with ':' is a comment (OpenRouter sends them) and is skipped;
 * "event:" names the event, "data:" lines (one space after the colon is dropped) are joined with
 * \n; a blank line dispatches the event (one with no data is not dispatched); "id:" and "retry:"
 * are ignored. Untrusted input: an event larger than the parser's bound is an error, never an
 * allocation without end. */
#ifndef WARDEN_SSE_H
#define WARDEN_SSE_H

#include <stdbool.h>
#include <stddef.h>

/* One event: `event` is "" when the stream named none ("message" in the spec's terms); `data`
 * is NUL-terminated (len bytes, may contain NUL). Return false to stop the parse. */
typedef bool (*sse_on_event)(void *ctx, const char *event, const char *data, size_t len);

enum sse_result {
    SSE_OK,        /* all bytes consumed; more may follow */
    SSE_STOPPED,   /* the callback returned false */
    SSE_TOO_LARGE, /* an event (or a line) exceeded max_event_bytes */
};

struct sse_parser {
    size_t max_event_bytes;
    char *line; /* the line being read */
    size_t line_len, line_cap;
    bool skip_lf;   /* the last byte was \r: a \n right after it ends nothing */
    char event[64]; /* the pending event's name */
    char *data;     /* the pending event's data */
    size_t data_len, data_cap;
    bool has_data; /* a data: line was seen for the pending event */
    bool failed;   /* sticky after SSE_TOO_LARGE */
};

void sse_init(struct sse_parser *p, size_t max_event_bytes);
enum sse_result sse_feed(struct sse_parser *p, const char *bytes, size_t len, sse_on_event on_event,
                         void *ctx);
/* True when the stream ended in the middle of an event (bytes after the last blank line). */
bool sse_pending(const struct sse_parser *p);
void sse_free(struct sse_parser *p);

#endif
