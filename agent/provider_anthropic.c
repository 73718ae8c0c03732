/* Anthropic Messages: POST {base}/v1/messages with x-api-key and anthropic-version 2023-06-01;
 * max_tokens is required (a sane default is sent), `system` is top-level, messages alternate and
 * start with the user (conversation.c guarantees it). temperature is sent only when configured:
 * the newest API version rejects it even at its default. A streamed answer is named events:
 * message_start (input tokens), per block content_block_start / content_block_delta (text_delta;
 * thinking_delta is reasoning, never code) / content_block_stop, message_delta (stop_reason,
 * cumulative output tokens), message_stop; `ping` anywhere; `event: error` (overloaded_error) can
 * come after a 200. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "agent/provider.h"

#define ANTHROPIC_VERSION  "2023-06-01"
#define DEFAULT_MAX_TOKENS 4096

static json_t *messages(const struct conversation *c)
{
    json_t *list = json_array();
    for (size_t i = 0; i < c->n; i++)
        json_array_append_new(list, json_pack("{s:s, s:s}", "role",
                                              c->turns[i].assistant ? "assistant" : "user",
                                              "content", c->turns[i].text));
    return list;
}

static void auth_headers(const struct model_settings *s, struct provider_request *out)
{
    if (s->key[0])
        provider_request_header(out, "x-api-key: %s", s->key);
    provider_request_header(out, "anthropic-version: " ANTHROPIC_VERSION);
}

static bool build(const struct model_settings *s, const struct conversation *c, bool stream,
                  struct provider_request *out)
{
    snprintf(out->url, sizeof out->url, "%s/v1/messages", s->base_url);
    provider_request_header(out, "content-type: application/json");
    if (stream)
        provider_request_header(out, "accept: text/event-stream");
    auth_headers(s, out);
    json_t *body = json_pack("{s:s, s:i, s:o, s:b}", "model", s->model, "max_tokens",
                             s->max_tokens ? (int)s->max_tokens : DEFAULT_MAX_TOKENS, "messages",
                             messages(c), "stream", stream);
    if (!body)
        return false;
    if (c->system)
        json_object_set_new(body, "system", json_string(c->system));
    if (!isnan(s->temperature))
        json_object_set_new(body, "temperature", json_real(s->temperature));
    out->body = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    return out->body != NULL;
}

static void server_error(struct provider_state *st, const json_t *v)
{
    const json_t *err = json_object_get(v, "error");
    const char *type = json_string_value(json_object_get(err, "type"));
    const char *msg = json_string_value(json_object_get(err, "message"));
    /* An empty message or type is none: the error must say something (found by tests/fuzz). */
    msg = msg && *msg ? msg : "an error without a message";
    if (type && *type)
        provider_fail(st, false, "%s (%s)", msg, type);
    else
        provider_fail(st, false, "%s", msg);
}

static void delta(struct provider_state *st, const json_t *d)
{
    const char *type = json_string_value(json_object_get(d, "type"));
    if (!type) {
        provider_fail(st, true, "a content_block_delta without a type");
        return;
    }
    if (strcmp(type, "text_delta") == 0) {
        const json_t *text = json_object_get(d, "text");
        if (!json_is_string(text)) {
            provider_fail(st, true, "a text_delta without text");
            return;
        }
        provider_add_text(st, json_string_value(text), json_string_length(text));
    } else if (strcmp(type, "thinking_delta") == 0) {
        st->reply->reasoning_bytes += json_string_length(json_object_get(d, "thinking"));
    } /* signature_delta, input_json_delta: nothing of the answer's text */
}

static void read_event(struct provider_state *st, const char *type, const json_t *v)
{
    if (strcmp(type, "error") == 0)
        server_error(st, v);
    else if (strcmp(type, "message_start") == 0)
        provider_usage(st, json_object_get(json_object_get(v, "message"), "usage"), "input_tokens",
                       "output_tokens");
    else if (strcmp(type, "content_block_delta") == 0)
        delta(st, json_object_get(v, "delta"));
    else if (strcmp(type, "message_delta") == 0) {
        const char *stop =
            json_string_value(json_object_get(json_object_get(v, "delta"), "stop_reason"));
        if (stop)
            snprintf(st->reply->finish, sizeof st->reply->finish, "%s", stop);
        provider_usage(st, json_object_get(v, "usage"), "input_tokens", "output_tokens");
    } else if (strcmp(type, "message_stop") == 0)
        st->done = true;
}

static void event(struct provider_state *st, const char *name, const char *data, size_t len)
{
    json_t *v = provider_parse(st, data, len);
    if (!v)
        return;
    /* The data's own type names the event when the stream did not. */
    const char *type = name && *name ? name : json_string_value(json_object_get(v, "type"));
    if (type)
        read_event(st, type, v);
    json_decref(v);
}

static void body(struct provider_state *st, const char *text, size_t len)
{
    json_t *v = provider_parse(st, text, len);
    if (!v)
        return;
    const char *type = json_string_value(json_object_get(v, "type"));
    if (type && strcmp(type, "error") == 0) {
        server_error(st, v);
        json_decref(v);
        return;
    }
    size_t i;
    json_t *block;
    json_array_foreach(json_object_get(v, "content"), i, block) {
        const char *kind = json_string_value(json_object_get(block, "type"));
        const json_t *t =
            json_object_get(block, kind && strcmp(kind, "thinking") == 0 ? "thinking" : "text");
        if (kind && strcmp(kind, "text") == 0 && json_is_string(t))
            provider_add_text(st, json_string_value(t), json_string_length(t));
        else if (kind && strcmp(kind, "thinking") == 0)
            st->reply->reasoning_bytes += json_string_length(t);
    }
    const char *stop = json_string_value(json_object_get(v, "stop_reason"));
    if (stop)
        snprintf(st->reply->finish, sizeof st->reply->finish, "%s", stop);
    provider_usage(st, json_object_get(v, "usage"), "input_tokens", "output_tokens");
    st->done = !st->failed;
    json_decref(v);
}

static void error_message(const char *text, char *out, size_t len)
{
    out[0] = '\0';
    json_t *v = text ? json_loads(text, 0, NULL) : NULL;
    const char *msg = json_string_value(json_object_get(json_object_get(v, "error"), "message"));
    if (msg)
        snprintf(out, len, "%s", msg);
    json_decref(v);
}

static void models(const struct model_settings *s, struct provider_request *out)
{
    snprintf(out->url, sizeof out->url, "%s/v1/models", s->base_url);
    auth_headers(s, out);
}

const struct provider provider_anthropic = {PROVIDER_ANTHROPIC, build, event, body,
                                            error_message,      models};
