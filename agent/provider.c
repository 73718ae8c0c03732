/* What the providers share: requests, the state of an answer, conversations, JSON readers. */
#include "agent/provider.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/files.h"

const char *provider_name(enum provider_kind provider)
{
    switch (provider) {
    case PROVIDER_OPENAI:
        return "openai";
    case PROVIDER_ANTHROPIC:
        return "anthropic";
    case PROVIDER_NONE:
        break;
    }
    return "none";
}

const struct provider *provider_for(enum provider_kind kind)
{
    return kind == PROVIDER_ANTHROPIC ? &provider_anthropic : &provider_openai;
}

void provider_request_header(struct provider_request *r, const char *fmt, ...)
{
    if (r->n_headers >= PROVIDER_MAX_HEADERS)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->header_lines[r->n_headers], sizeof r->header_lines[0], fmt, ap);
    va_end(ap);
    r->headers[r->n_headers] = r->header_lines[r->n_headers];
    r->n_headers++;
    r->headers[r->n_headers] = NULL;
}

void provider_request_clear(struct provider_request *r)
{
    free(r->body);
    memset(r, 0, sizeof *r);
}

bool provider_add_text(struct provider_state *st, const char *text, size_t len)
{
    struct model_reply *reply = st->reply;
    if (!buffer_append(&reply->text, &reply->len, text, len)) {
        provider_fail(st, false, "out of memory reading the answer");
        return false;
    }
    if (st->watch && st->watch->on_text && len)
        st->watch->on_text(st->watch->ctx, reply->text, reply->len);
    return true;
}

void provider_fail(struct provider_state *st, bool malformed, const char *fmt, ...)
{
    if (st->failed)
        return; /* the first reason is the one that matters */
    st->failed = true;
    st->malformed = malformed;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(st->error, sizeof st->error, fmt, ap);
    va_end(ap);
}

json_t *provider_parse(struct provider_state *st, const char *data, size_t len)
{
    json_error_t err;
    json_t *value = json_loadb(data, len, 0, &err);
    if (!value && json_error_code(&err) == json_error_null_character) {
        /* Valid JSON, but a NUL can be neither run (Python refuses it) nor shown. */
        provider_fail(st, true, "the model's answer holds a NUL character (\\u0000)");
        return NULL;
    }
    if (!json_is_object(value)) {
        json_decref(value);
        provider_fail(st, true,
                      "the model server sent something that is not a JSON object "
                      "(%.120s)",
                      value ? "another JSON value" : err.text);
        return NULL;
    }
    return value;
}

static long token_count(const json_t *v)
{
    return json_is_integer(v) ? (long)json_integer_value(v) : -1;
}

void provider_usage(struct provider_state *st, const json_t *usage, const char *input_key,
                    const char *output_key)
{
    if (!json_is_object(usage))
        return;
    long in = token_count(json_object_get(usage, input_key));
    long out = token_count(json_object_get(usage, output_key));
    if (in >= 0)
        st->reply->input_tokens = in;
    if (out >= 0)
        st->reply->output_tokens = out; /* cumulative in both APIs: the latest is the total */
}

void model_reply_clear(struct model_reply *reply)
{
    free(reply->text);
    *reply = (struct model_reply){.input_tokens = -1, .output_tokens = -1};
}

bool conversation_add(struct conversation *c, bool assistant, const char *text)
{
    if (c->n && c->turns[c->n - 1].assistant == assistant) {
        struct turn *last = &c->turns[c->n - 1];
        size_t old = strlen(last->text), add = strlen(text);
        char *joined = realloc(last->text, old + 2 + add + 1);
        if (!joined)
            return false;
        snprintf(joined + old, 2 + add + 1, "\n\n%s", text);
        last->text = joined;
        return true;
    }
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 8;
        struct turn *grown = realloc(c->turns, cap * sizeof *grown);
        if (!grown)
            return false;
        c->turns = grown;
        c->cap = cap;
    }
    char *copy = strdup(text);
    if (!copy)
        return false;
    c->turns[c->n++] = (struct turn){assistant, copy};
    return true;
}

void conversation_clear(struct conversation *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->turns[i].text);
    free(c->turns);
    free(c->system);
    memset(c, 0, sizeof *c);
}
