/* A model call: the request through the provider's table, the streamed answer through the SSE
 * parser, the retries of the official SDKs (at most max_retries more tries, on connection failures
 * and 408/409/429/5xx/529, waiting what the server asks or backing off), and an error in words
 * for everything else. */
#include "agent/model.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/provider.h"
#include "agent/retry.h"
#include "agent/sse.h"
#include "common/files.h"
#include "common/format.h"
#include "common/utf8.h"

#define MAX_EVENT_BYTES (1u << 20)

/* The state of one try: a stream read through the SSE parser, or a whole JSON body when the
 * server answered without streaming. */
struct attempt {
    const struct provider *p;
    struct provider_state st;
    struct sse_parser sse;
    bool decided, whole_body; /* the first bytes said which */
    char *body;
    size_t body_len;
};

static bool on_event(void *ctx, const char *event, const char *data, size_t len)
{
    struct attempt *a = ctx;
    a->p->event(&a->st, event, data, len);
    return !a->st.failed && !a->st.done;
}

static bool on_data(void *ctx, const char *bytes, size_t len)
{
    struct attempt *a = ctx;
    if (!a->decided) {
        size_t i = 0;
        while (i < len && (bytes[i] == ' ' || bytes[i] == '\n' || bytes[i] == '\r'))
            i++;
        if (i == len)
            return true;
        a->decided = true;
        a->whole_body = bytes[i] == '{'; /* a server that ignored "stream": one JSON object */
    }
    if (a->whole_body)
        return buffer_append(&a->body, &a->body_len, bytes, len);
    enum sse_result r = sse_feed(&a->sse, bytes, len, on_event, a);
    if (r == SSE_TOO_LARGE)
        provider_fail(&a->st, true, "the model server sent an event larger than 1 MiB");
    return r == SSE_OK;
}

static void fail(struct cell_error *error, const char *ename, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void fail(struct cell_error *error, const char *ename, const char *fmt, ...)
{
    char evalue[1400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(evalue, sizeof evalue, fmt, ap);
    va_end(ap);
    /* It may quote the server (its error message, an event's): shown inert, as its answer is. */
    char *inert = utf8_inert(evalue, strlen(evalue));
    cell_error_set(error, ename, inert ? inert : "the model server's error could not be shown",
                   NULL);
    free(inert);
}

/* ---- what an answer that is not a 2xx means ---- */

static void auth_error(const struct model_settings *s, long status, const char *msg,
                       struct cell_error *error)
{
    if (!s->key[0])
        fail(error, "ModelAuthError",
             "the model server at %s wants an API key (HTTP %ld%s%s): set %s", s->base_url, status,
             msg[0] ? ": " : "", msg,
             s->provider == PROVIDER_ANTHROPIC ? "ANTHROPIC_API_KEY" : "OPENAI_API_KEY");
    else
        fail(error, "ModelAuthError",
             "the model server at %s refused the API key from %s (HTTP %ld%s%s); check it",
             s->base_url, s->key_name, status, msg[0] ? ": " : "", msg);
}

static void status_error(const struct model_settings *s, const struct http_response *r,
                         const char *msg, struct cell_error *error)
{
    if (r->status == 401 || r->status == 403)
        auth_error(s, r->status, msg, error);
    else if (r->status == 404)
        fail(error, "ModelNotFound",
             "the model \"%s\" or the URL %s is unknown to the server (HTTP 404%s%s)", s->model,
             s->base_url, msg[0] ? ": " : "", msg);
    else if (r->status == 429 && retry_is_quota_error(r->body))
        fail(error, "ModelQuotaError",
             "the account behind %s is out of quota or credit (HTTP 429%s%s): waiting will not "
             "help",
             s->key_name[0] ? s->key_name : "the key", msg[0] ? ": " : "", msg);
    else
        fail(error, retry_status_is_retryable(r->status) ? "ModelUnavailable" : "ModelRequestError",
             "the model server answered HTTP %ld%s%s", r->status, msg[0] ? ": " : "",
             msg[0] ? msg : "(no message)");
}

/* Why a try is worth repeating, in words; NULL when it is not. */
static const char *retry_reason(const struct http_response *r, const struct attempt *a)
{
    if (r->result == HTTP_CANNOT_CONNECT)
        return "cannot reach the model server";
    if (r->result == HTTP_IDLE_TIMEOUT && a->st.reply->len == 0)
        return "the model server does not answer";
    if (r->result != HTTP_DONE || !retry_status_is_retryable(r->status))
        return NULL;
    if (r->status == 429)
        return retry_is_quota_error(r->body) ? NULL : "rate limited";
    return r->status == 529 ? "the model server is overloaded" : "the model server failed";
}

static bool answer_error(const struct model_settings *s, const struct http_response *r,
                         struct attempt *a, struct cell_error *error)
{
    char size[32];
    switch (r->result) {
    case HTTP_CANCELLED:
        fail(error, "KeyboardInterrupt", "interrupted while waiting for the model");
        return true;
    case HTTP_TOO_LARGE:
        format_size(s->max_reply_bytes, size, sizeof size);
        fail(error, "ModelResponseError", "the model's answer is larger than %s", size);
        return true;
    case HTTP_CANNOT_CONNECT:
    case HTTP_FAILED:
        fail(error, "ModelUnavailable", "cannot reach the model server at %s: %s", s->base_url,
             r->error);
        return true;
    case HTTP_IDLE_TIMEOUT:
        fail(error, "ModelUnavailable", "the model server sent nothing for %ld s",
             s->idle_timeout_ms / 1000);
        return true;
    case HTTP_CUT:
        fail(error, "ModelResponseError",
             "the model's answer stopped before its end (the connection was cut)");
        return true;
    case HTTP_DONE:
    case HTTP_STOPPED:
        break;
    }
    if (r->status < 200 || r->status >= 300) {
        char msg[600];
        a->p->error_message(r->body, msg, sizeof msg);
        status_error(s, r, msg, error);
        return true;
    }
    if (a->whole_body)
        a->p->body(&a->st, a->body ? a->body : "", a->body_len);
    if (a->st.failed) {
        fail(error, "ModelResponseError", "%s%s",
             a->st.malformed ? ""
                             : "the model server "
                               "reported an error in its answer: ",
             a->st.error);
        return true;
    }
    if (!a->st.done) {
        fail(error, "ModelResponseError",
             "the model's answer stopped before its end (the stream was cut)");
        return true;
    }
    return false;
}

/* ---- the call ---- */

static void perform(struct http_client *http, const struct model_settings *s,
                    const struct provider_request *req, struct attempt *a,
                    struct http_response *resp)
{
    struct http_request hr = {
        .method = "POST",
        .url = req->url,
        .headers = req->headers,
        .body = req->body,
        .connect_timeout_ms = s->connect_timeout_ms,
        .idle_timeout_ms = s->idle_timeout_ms,
        .max_body_bytes = s->max_reply_bytes,
        .on_data = on_data,
        .ctx = a,
    };
    http_perform(http, &hr, resp);
}

static void attempt_clear(struct attempt *a)
{
    sse_free(&a->sse);
    free(a->body);
}

/* The wait before the next try; false when interrupted. */
static bool wait_to_retry(struct http_client *http, const struct model_watch *watch,
                          const char *why, const struct http_response *r, unsigned n)
{
    uint32_t ms;
    if (!retry_after_ms(r->retry_after_ms[0] ? r->retry_after_ms : NULL,
                        r->retry_after[0] ? r->retry_after : NULL, time(NULL), &ms))
        ms = retry_backoff_ms(n, (double)rand() / ((double)RAND_MAX + 1.0));
    if (watch && watch->on_wait)
        watch->on_wait(watch->ctx, why, (long)ms);
    return http_client_sleep(http, (long)ms);
}

bool model_call(struct http_client *http, const struct model_settings *s,
                const struct conversation *conv, const struct model_watch *watch,
                struct model_reply *reply, struct cell_error *error)
{
    const struct provider *p = provider_for(s->provider);
    struct provider_request req = {0};
    if (!p->build(s, conv, true, &req)) {
        fail(error, "MemoryError", "out of memory building the model request");
        return false;
    }
    bool ok = false;
    for (unsigned n = 0;; n++) {
        model_reply_clear(reply);
        struct attempt a = {.p = p, .st = {.reply = reply, .watch = watch}};
        sse_init(&a.sse, MAX_EVENT_BYTES);
        struct http_response resp;
        perform(http, s, &req, &a, &resp);
        const char *why = retry_reason(&resp, &a);
        bool retry = why && n < s->max_retries;
        if (retry && !wait_to_retry(http, watch, why, &resp, n)) {
            fail(error, "KeyboardInterrupt", "interrupted while waiting to ask the model again");
            retry = false;
        } else if (!retry) {
            ok = !answer_error(s, &resp, &a, error);
            if (!ok && why && n > 0) { /* say that it was not for lack of trying */
                char tried[1600];
                snprintf(tried, sizeof tried, "%s (after %u tries)", error->evalue, n + 1);
                cell_error_set(error, error->ename, tried, NULL);
            }
        }
        attempt_clear(&a);
        http_response_clear(&resp);
        if (!retry || error->ename)
            break;
    }
    provider_request_clear(&req);
    return ok;
}

bool model_list(struct http_client *http, const struct model_settings *s, json_t **ids,
                struct cell_error *error)
{
    const struct provider *p = provider_for(s->provider);
    struct provider_request req = {0};
    p->models(s, &req);
    struct http_request hr = {.method = "GET",
                              .url = req.url,
                              .headers = req.headers,
                              .connect_timeout_ms = s->connect_timeout_ms,
                              .idle_timeout_ms = s->idle_timeout_ms,
                              .max_body_bytes = 4u << 20};
    struct http_response resp;
    http_perform(http, &hr, &resp);
    *ids = json_array();
    bool ok = false;
    if (resp.result == HTTP_DONE && resp.status == 200) {
        json_t *v = json_loadb(resp.body ? resp.body : "", resp.body_len, 0, NULL);
        size_t i;
        json_t *m;
        json_array_foreach(json_object_get(v, "data"), i, m) {
            const json_t *id = json_object_get(m, "id");
            if (json_is_string(id) && json_string_length(id) < sizeof s->model &&
                json_array_size(*ids) < 200)
                json_array_append(*ids, (json_t *)id);
        }
        ok = json_is_object(v);
        if (!ok)
            fail(error, "ModelResponseError", "the model list of %s is not JSON", s->base_url);
        json_decref(v);
    } else {
        struct attempt none = {.p = p};
        answer_error(s, &resp, &none, error);
        if (!error->ename)
            fail(error, "ModelUnavailable", "cannot list the models of %s", s->base_url);
    }
    http_response_clear(&resp);
    provider_request_clear(&req);
    return ok;
}
