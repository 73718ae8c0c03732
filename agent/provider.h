/* The provider interface: what differs between the APIs, as a table (model.c drives it). An
 * implementation builds the request and reads what comes back — stream events, a whole body, an
 * error body, the model list — into a provider_state. Everything it reads is untrusted: a field of
 * the wrong type is a malformed answer, never a crash. */
#ifndef WARDEN_PROVIDER_H
#define WARDEN_PROVIDER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "agent/model.h"

#define PROVIDER_MAX_HEADERS 8

/* A request being made: its URL, headers and JSON body. */
struct provider_request {
    char url[640];
    char header_lines[PROVIDER_MAX_HEADERS][1200];
    const char *headers[PROVIDER_MAX_HEADERS + 1]; /* pointers into header_lines, NULL-ended */
    int n_headers;
    char *body; /* malloc'd JSON, or NULL for a GET */
};
void provider_request_header(struct provider_request *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void provider_request_clear(struct provider_request *r);

/* What a call has read so far. */
struct provider_state {
    struct model_reply *reply;
    const struct model_watch *watch;
    bool done;        /* the stream's terminator was seen ([DONE], message_stop) */
    bool failed;      /* an error came inside the answer, or it was malformed */
    bool malformed;   /* ... malformed (not JSON, wrong types) */
    char error[1024]; /* the server's words, or what was wrong */
};
bool provider_add_text(struct provider_state *st, const char *text, size_t len);
void provider_fail(struct provider_state *st, bool malformed, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

struct provider {
    enum provider_kind kind;
    /* The completion request (streamed or not). false when out of memory. */
    bool (*build)(const struct model_settings *s, const struct conversation *c, bool stream,
                  struct provider_request *out);
    /* One server-sent event of a streamed answer. */
    void (*event)(struct provider_state *st, const char *event, const char *data, size_t len);
    /* A whole (not streamed) answer. */
    void (*body)(struct provider_state *st, const char *body, size_t len);
    /* The message of an error body (its own shape), into out; "" when it has none. */
    void (*error_message)(const char *body, char *out, size_t len);
    /* The request that lists the models. */
    void (*models)(const struct model_settings *s, struct provider_request *out);
};

extern const struct provider provider_openai;
extern const struct provider provider_anthropic;
const struct provider *provider_for(enum provider_kind kind);

/* Shared readers of JSON answers. */
json_t *provider_parse(struct provider_state *st, const char *data, size_t len);
void provider_usage(struct provider_state *st, const json_t *usage, const char *input_key,
                    const char *output_key);

#endif
