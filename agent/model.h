/* Asking a model. One call interface over the providers (provider.h: OpenAI Chat Completions and
 * everything compatible with it, Anthropic Messages), streamed, with the official SDKs' retry
 * rules (retry.h), every wait interruptible (http.h), and every way it can fail turned into an
 * error in words that say what to do — never a key in them. */
#ifndef WARDEN_MODEL_H
#define WARDEN_MODEL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/http.h"
#include "common/outcome.h"

enum provider_kind { PROVIDER_NONE, PROVIDER_OPENAI, PROVIDER_ANTHROPIC };

/* The settings of a call, resolved (agent/settings.c: config, environment, commands). */
struct model_settings {
    enum provider_kind provider;
    char base_url[512]; /* without a trailing slash */
    char model[256];
    char key[1024];      /* "" : no key is sent (a local server) */
    char key_name[64];   /* where the key came from, for messages ("OPENAI_API_KEY") */
    uint32_t max_tokens; /* 0: not sent (OpenAI-compatible) or the default (Anthropic) */
    double temperature;  /* NaN: not sent (Anthropic's newest API rejects it otherwise) */
    long connect_timeout_ms;
    long idle_timeout_ms;
    size_t max_reply_bytes;
    unsigned max_retries;
};

const char *provider_name(enum provider_kind provider);

/* A conversation: the system prompt, then turns alternating user / assistant, first user. */
struct conversation {
    char *system;
    struct turn {
        bool assistant;
        char *text;
    } * turns;
    size_t n, cap;
};
/* Appends a turn (a copy); one of the same role as the last is joined to it. */
bool conversation_add(struct conversation *c, bool assistant, const char *text);
void conversation_clear(struct conversation *c);

struct model_reply {
    char *text; /* the content as sent (reasoning inside it included) */
    size_t len;
    size_t reasoning_bytes; /* reasoning the server sent apart (never code) */
    long input_tokens;      /* -1: not reported */
    long output_tokens;
    char finish[32]; /* finish_reason / stop_reason */
};
void model_reply_clear(struct model_reply *reply);

/* What the caller sees while the model answers. */
struct model_watch {
    void *ctx;
    void (*on_text)(void *ctx, const char *text, size_t len); /* the reply so far */
    void (*on_wait)(void *ctx, const char *why, long ms);     /* before a retry wait */
};

/* Asks; true with *reply, or false with *error (ename/evalue, one-line traceback). */
bool model_call(struct http_client *http, const struct model_settings *s,
                const struct conversation *conv, const struct model_watch *watch,
                struct model_reply *reply, struct cell_error *error);

/* The models the server serves (GET {base}/models): *ids an array of strings. */
bool model_list(struct http_client *http, const struct model_settings *s, json_t **ids,
                struct cell_error *error);

#endif
