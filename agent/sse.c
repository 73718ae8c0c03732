/* The SSE parser (agent/sse.h): bytes become lines, lines become fields, a blank line dispatches
 * the pending event. Both buffers grow by doubling and are bounded by max_event_bytes, so a server
 * that sends one endless line or event costs at most that much memory. */
#include "agent/sse.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A line holds a field name, its colon and a space besides the data it carries, so a line may
 * exceed the bound on an event's data by this much: a data line of exactly max_event_bytes fits. */
#define SSE_LINE_SLACK 64

void sse_init(struct sse_parser *p, size_t max_event_bytes)
{
    memset(p, 0, sizeof *p);
    p->max_event_bytes = max_event_bytes;
}

void sse_free(struct sse_parser *p)
{
    free(p->line);
    free(p->data);
    sse_init(p, p->max_event_bytes); /* freed twice, or fed again: still safe */
}

bool sse_pending(const struct sse_parser *p)
{
    /* A lone comment or id: line after the last event is no event cut short. */
    return p->line_len > 0 || p->has_data || p->event[0] != '\0';
}

static size_t line_limit(const struct sse_parser *p)
{
    if (p->max_event_bytes > SIZE_MAX / 2)
        return SIZE_MAX / 2;
    return p->max_event_bytes + SSE_LINE_SLACK;
}

/* Room for `need` bytes in *buf; `need` is already bounded by the caller. */
static bool reserve(char **buf, size_t *cap, size_t need)
{
    if (need <= *cap)
        return true;
    size_t grown_cap = *cap ? *cap : 256;
    while (grown_cap < need)
        grown_cap = grown_cap > SIZE_MAX / 2 ? need : grown_cap * 2;
    char *grown = realloc(*buf, grown_cap);
    if (!grown)
        return false;
    *buf = grown;
    *cap = grown_cap;
    return true;
}

/* Too large, or out of memory while within the bound: either way the stream cannot be read on. */
static enum sse_result fail(struct sse_parser *p)
{
    p->failed = true;
    return SSE_TOO_LARGE;
}

static bool append_line(struct sse_parser *p, const char *bytes, size_t n)
{
    if (n == 0)
        return true;
    if (n > line_limit(p) - p->line_len)
        return false;
    if (!reserve(&p->line, &p->line_cap, p->line_len + n + 1))
        return false;
    memcpy(p->line + p->line_len, bytes, n);
    p->line_len += n;
    return true;
}

static bool append_data(struct sse_parser *p, const char *value, size_t n)
{
    size_t joiner = p->has_data ? 1 : 0; /* data lines are joined with \n */
    if (joiner + n > p->max_event_bytes - p->data_len)
        return false;
    if (!reserve(&p->data, &p->data_cap, p->data_len + joiner + n + 1))
        return false;
    if (joiner)
        p->data[p->data_len++] = '\n';
    memcpy(p->data + p->data_len, value, n);
    p->data_len += n;
    p->data[p->data_len] = '\0';
    p->has_data = true;
    return true;
}

/* Names longer than the buffer are cut: no API names an event with more than a few words. */
static void set_event(struct sse_parser *p, const char *name, size_t n)
{
    if (n >= sizeof p->event)
        n = sizeof p->event - 1;
    memcpy(p->event, name, n);
    p->event[n] = '\0';
}

static enum sse_result dispatch(struct sse_parser *p, sse_on_event on_event, void *ctx)
{
    bool go_on = true;
    if (p->has_data && on_event)
        go_on = on_event(ctx, p->event, p->data ? p->data : "", p->data_len);
    /* The spec resets the name too, so an event with no data does not name the next one. */
    p->event[0] = '\0';
    p->data_len = 0;
    p->has_data = false;
    return go_on ? SSE_OK : SSE_STOPPED;
}

static bool field_is(const char *name, size_t n, const char *want)
{
    return n == strlen(want) && memcmp(name, want, n) == 0;
}

static enum sse_result end_line(struct sse_parser *p, sse_on_event on_event, void *ctx)
{
    const char *line = p->line;
    size_t n = p->line_len;
    p->line_len = 0; /* the buffer's bytes stay valid until the next append */
    if (n == 0)
        return dispatch(p, on_event, ctx);
    if (line[0] == ':') /* a comment; read as a field it would have no name, and be ignored */
        return SSE_OK;
    const char *colon = memchr(line, ':', n);
    size_t name_len = colon ? (size_t)(colon - line) : n;
    const char *value = colon ? colon + 1 : line + n;
    size_t value_len = (size_t)(line + n - value);
    if (value_len > 0 && value[0] == ' ') {
        value++;
        value_len--;
    }
    if (field_is(line, name_len, "event"))
        set_event(p, value, value_len);
    else if (field_is(line, name_len, "data") && !append_data(p, value, value_len))
        return fail(p);
    return SSE_OK; /* id:, retry: and unknown fields are ignored */
}

/* Bytes before the next \r or \n. */
static size_t text_run(const char *bytes, size_t len)
{
    size_t n = 0;
    while (n < len && bytes[n] != '\n' && bytes[n] != '\r')
        n++;
    return n;
}

enum sse_result sse_feed(struct sse_parser *p, const char *bytes, size_t len, sse_on_event on_event,
                         void *ctx)
{
    if (p->failed)
        return SSE_TOO_LARGE;
    size_t i = 0;
    while (i < len) {
        if (p->skip_lf) { /* the \n of a \r\n split across two feeds */
            p->skip_lf = false;
            if (bytes[i] == '\n') {
                i++;
                continue;
            }
        }
        size_t run = text_run(bytes + i, len - i);
        if (!append_line(p, bytes + i, run))
            return fail(p);
        i += run;
        if (i == len)
            break;
        p->skip_lf = bytes[i] == '\r';
        i++;
        enum sse_result r = end_line(p, on_event, ctx);
        if (r != SSE_OK)
            return r;
    }
    return SSE_OK;
}
