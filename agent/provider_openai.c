/* OpenAI Chat Completions, and everything that speaks it (Ollama, vLLM, llama.cpp's server,
 * LM Studio, OpenRouter, Groq): POST {base}/chat/completions. Streamed answers are `data:` chunks
 * with choices[0].delta.content, ended by `data: [DONE]`; stream_options.include_usage asks for
 * one more chunk with empty choices and the usage. max_tokens is sent only when configured
 * (o-series models reject it, Ollama ignores max_completion_tokens), and temperature likewise.
 * Reasoning (delta.reasoning from Ollama and vLLM, reasoning_content from llama.cpp and older
 * vLLM) is counted, never code. An `error` object in a data line after a 200 (OpenRouter), or
 * vLLM's top-level {"object":"error"}, is the server's error. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "agent/provider.h"

static json_t *messages(const struct conversation *c)
{
    json_t *list = json_array();
    if (c->system)
        json_array_append_new(list,
                              json_pack("{s:s, s:s}", "role", "system", "content", c->system));
    for (size_t i = 0; i < c->n; i++)
        json_array_append_new(list, json_pack("{s:s, s:s}", "role",
                                              c->turns[i].assistant ? "assistant" : "user",
                                              "content", c->turns[i].text));
    return list;
}

static bool build(const struct model_settings *s, const struct conversation *c, bool stream,
                  struct provider_request *out)
{
    snprintf(out->url, sizeof out->url, "%s/chat/completions", s->base_url);
    provider_request_header(out, "Content-Type: application/json");
    if (stream)
        provider_request_header(out, "Accept: text/event-stream");
    if (s->key[0]) /* a local server without a key gets no Authorization header at all */
        provider_request_header(out, "Authorization: Bearer %s", s->key);
    json_t *body =
        json_pack("{s:s, s:o, s:b}", "model", s->model, "messages", messages(c), "stream", stream);
    if (!body)
        return false;
    if (stream)
        json_object_set_new(body, "stream_options", json_pack("{s:b}", "include_usage", 1));
    if (s->max_tokens)
        json_object_set_new(body, "max_tokens", json_integer(s->max_tokens));
    if (!isnan(s->temperature))
        json_object_set_new(body, "temperature", json_real(s->temperature));
    out->body = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    return out->body != NULL;
}

/* The server's error inside an answer: {"error": {...}} or vLLM's {"object":"error",...}. */
static bool server_error(struct provider_state *st, const json_t *v)
{
    const json_t *err = json_object_get(v, "error");
    const char *object = json_string_value(json_object_get(v, "object"));
    if (!err && !(object && strcmp(object, "error") == 0))
        return false;
    const json_t *msg =
        json_is_object(err) ? json_object_get(err, "message") : json_object_get(v, "message");
    const char *text = json_string_value(msg) ? json_string_value(msg) : json_string_value(err);
    /* An empty message is none: the error must say something (found by tests/fuzz). */
    provider_fail(st, false, "%s", text && *text ? text : "an error without a message");
    return true;
}

/* The reasoning of OpenAI-compatible servers, which is never code. */
static void reasoning(struct provider_state *st, const json_t *delta)
{
    static const char *const keys[] = {"reasoning", "reasoning_content"};
    for (size_t i = 0; i < 2; i++) {
        const json_t *r = json_object_get(delta, keys[i]);
        if (json_is_string(r))
            st->reply->reasoning_bytes += json_string_length(r);
    }
}

static void choice(struct provider_state *st, const json_t *choice, const char *part)
{
    const json_t *delta = json_object_get(choice, part);
    if (delta && !json_is_object(delta)) {
        provider_fail(st, true, "the model server's %s is not an object", part);
        return;
    }
    const json_t *content = json_object_get(delta, "content");
    if (json_is_string(content))
        provider_add_text(st, json_string_value(content), json_string_length(content));
    else if (content && !json_is_null(content))
        provider_fail(st, true, "the model server's content is not text");
    reasoning(st, delta);
    const char *finish = json_string_value(json_object_get(choice, "finish_reason"));
    if (finish)
        snprintf(st->reply->finish, sizeof st->reply->finish, "%s", finish);
}

static void read_answer(struct provider_state *st, const json_t *v, const char *part)
{
    if (server_error(st, v))
        return;
    const json_t *choices = json_object_get(v, "choices");
    if (choices && !json_is_array(choices)) {
        provider_fail(st, true, "the model server's choices are not a list");
        return;
    }
    if (json_array_size(choices) > 0)
        choice(st, json_array_get(choices, 0), part);
    provider_usage(st, json_object_get(v, "usage"), "prompt_tokens", "completion_tokens");
}

static void event(struct provider_state *st, const char *name, const char *data, size_t len)
{
    (void)name; /* OpenAI names no events */
    if (len == 6 && memcmp(data, "[DONE]", 6) == 0) {
        st->done = true;
        return;
    }
    json_t *v = provider_parse(st, data, len);
    if (v)
        read_answer(st, v, "delta");
    json_decref(v);
}

static void body(struct provider_state *st, const char *text, size_t len)
{
    json_t *v = provider_parse(st, text, len);
    if (v) {
        read_answer(st, v, "message");
        st->done = !st->failed;
    }
    json_decref(v);
}

static void error_message(const char *text, char *out, size_t len)
{
    out[0] = '\0';
    json_t *v = text ? json_loads(text, 0, NULL) : NULL;
    const json_t *err = json_object_get(v, "error");
    const char *msg = json_string_value(json_object_get(err, "message"));
    if (!msg)
        msg = json_string_value(err);
    if (!msg)
        msg = json_string_value(json_object_get(v, "message")); /* vLLM, some proxies */
    if (msg)
        snprintf(out, len, "%s", msg);
    json_decref(v);
}

static void models(const struct model_settings *s, struct provider_request *out)
{
    snprintf(out->url, sizeof out->url, "%s/models", s->base_url);
    if (s->key[0])
        provider_request_header(out, "Authorization: Bearer %s", s->key);
}

const struct provider provider_openai = {PROVIDER_OPENAI, build, event, body,
                                         error_message,   models};
