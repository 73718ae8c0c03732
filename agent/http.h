/* The one place that talks HTTP: libcurl's multi interface, so that every wait — connecting,
 * reading a stream, sleeping before a retry — can be ended at once from another thread
 * (http_client_cancel wakes the poll with curl_multi_wakeup). TLS is verified against the system's
 * certificate authorities and proxies come from the environment (http_proxy, https_proxy,
 * no_proxy), as libcurl does by default. A server is untrusted: the body is bounded, a connection
 * that stops sending ends after the idle timeout, redirects are not followed. */
#ifndef WARDEN_HTTP_H
#define WARDEN_HTTP_H

#include <stdbool.h>
#include <stddef.h>

struct http_client;

enum http_result {
    HTTP_DONE,           /* an answer came (any status: see http_response.status) */
    HTTP_CANNOT_CONNECT, /* no connection (refused, DNS, TLS, connect timeout) */
    HTTP_IDLE_TIMEOUT,   /* the server sent nothing for idle_timeout_ms */
    HTTP_TOO_LARGE,      /* the body grew past max_body_bytes */
    HTTP_CANCELLED,      /* http_client_cancel */
    HTTP_STOPPED,        /* on_data asked to stop */
    HTTP_CUT,            /* an answer began, and its connection ended before its body did */
    HTTP_FAILED,         /* anything else (error says what) */
};

struct http_request {
    const char *method; /* "GET" or "POST" */
    const char *url;
    const char *const *headers; /* "Name: value" lines, NULL-terminated */
    const char *body;           /* POST body (JSON), or NULL */
    long connect_timeout_ms;
    long idle_timeout_ms; /* no byte received for this long: HTTP_IDLE_TIMEOUT */
    size_t max_body_bytes;
    /* With a 2xx status the body goes here as it arrives (return false to stop); otherwise, and
     * always when on_data is NULL, it is collected into the response (bounded). */
    bool (*on_data)(void *ctx, const char *bytes, size_t len);
    void *ctx;
};

struct http_response {
    enum http_result result;
    long status; /* 0 when no answer came */
    char *body;  /* malloc'd, NUL-terminated: what was collected */
    size_t body_len;
    char retry_after[64]; /* the headers a retry needs ("" when absent) */
    char retry_after_ms[64];
    char error[256]; /* words, for HTTP_CANNOT_CONNECT / HTTP_FAILED */
};

/* NULL when libcurl (libcurl.so.4, loaded at the first call) cannot be set up. */
struct http_client *http_client_new(void);
void http_client_free(struct http_client *client);

/* Performs one request (the calling thread blocks; http_client_cancel ends it). Always fills
 * *resp; release it with http_response_clear. */
void http_perform(struct http_client *client, const struct http_request *req,
                  struct http_response *resp);
void http_response_clear(struct http_response *resp);

/* Sleeps up to ms; false when cancelled first. */
bool http_client_sleep(struct http_client *client, long ms);

/* Any thread, at once: the request or sleep in progress ends with HTTP_CANCELLED, and so does
 * every later one until http_client_reset. */
void http_client_cancel(struct http_client *client);
void http_client_reset(struct http_client *client);
bool http_client_cancelled(struct http_client *client);

#endif
