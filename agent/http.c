/* HTTP through libcurl's multi interface (http.h). libcurl is loaded with dlopen at the first
 * request, not linked: with the libraries it pulls in (TLS, HTTP/2, LDAP, SSH...) it costs every
 * kernel about 4 MiB of memory and a few milliseconds of start-up, and most kernels of a session
 * never ask a model. */
#include "http.h"

#include <curl/curl.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/clock.h"
#include "common/dynlib.h"
#include "common/files.h"

#define ERROR_BODY_MAX (64u * 1024u) /* what is kept of a non-2xx body (the error message) */
#define POLL_SLICE_MS  200           /* poll wakes this often to check the idle timeout */

struct http_client {
    CURLM *multi;
    atomic_bool cancelled;
};

/* The libcurl functions used here, resolved once. */
static struct curl_api {
    CURLcode (*global_init)(long flags);
    CURLM *(*multi_init)(void);
    CURLMcode (*multi_cleanup)(CURLM *multi);
    CURLMcode (*multi_wakeup)(CURLM *multi);
    CURLMcode (*multi_poll)(CURLM *multi, struct curl_waitfd fds[], unsigned n, int timeout_ms,
                            int *numfds);
    CURLMcode (*multi_perform)(CURLM *multi, int *running);
    CURLMsg *(*multi_info_read)(CURLM *multi, int *left);
    CURLMcode (*multi_add_handle)(CURLM *multi, CURL *easy);
    CURLMcode (*multi_remove_handle)(CURLM *multi, CURL *easy);
    CURL *(*easy_init)(void);
    CURLcode (*easy_setopt)(CURL *easy, CURLoption option, ...);
    CURLcode (*easy_getinfo)(CURL *easy, CURLINFO info, ...);
    void (*easy_cleanup)(CURL *easy);
    const char *(*easy_strerror)(CURLcode code);
    struct curl_slist *(*slist_append)(struct curl_slist *list, const char *line);
    void (*slist_free_all)(struct curl_slist *list);
} api;

/* libcurl.so.4 and its functions; false when it is missing. Called from one thread only (the
 * executor's, at the first request), before any other use. */
static bool load_curl(void)
{
    static int state; /* 0 not tried, 1 loaded, -1 failed */
    if (state)
        return state > 0;
    static const struct dynlib_symbol symbols[] = {
#define SYMBOL(field) {"curl_" #field, offsetof(struct curl_api, field)}
        SYMBOL(global_init),     SYMBOL(multi_init),       SYMBOL(multi_cleanup),
        SYMBOL(multi_wakeup),    SYMBOL(multi_poll),       SYMBOL(multi_perform),
        SYMBOL(multi_info_read), SYMBOL(multi_add_handle), SYMBOL(multi_remove_handle),
        SYMBOL(easy_init),       SYMBOL(easy_setopt),      SYMBOL(easy_getinfo),
        SYMBOL(easy_cleanup),    SYMBOL(easy_strerror),    SYMBOL(slist_append),
        SYMBOL(slist_free_all),
#undef SYMBOL
    };
    state = dynlib_load("libcurl.so.4", symbols, sizeof symbols / sizeof *symbols, &api) ? 1 : -1;
    if (state > 0)
        api.global_init(CURL_GLOBAL_DEFAULT);
    return state > 0;
}

struct http_client *http_client_new(void)
{
    if (!load_curl())
        return NULL;
    struct http_client *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->multi = api.multi_init();
    if (!c->multi) {
        free(c);
        return NULL;
    }
    atomic_init(&c->cancelled, false);
    return c;
}

void http_client_free(struct http_client *client)
{
    if (!client)
        return;
    api.multi_cleanup(client->multi);
    free(client);
}

void http_client_cancel(struct http_client *client)
{
    if (!client)
        return;
    atomic_store(&client->cancelled, true);
    api.multi_wakeup(client->multi); /* thread-safe: ends a curl_multi_poll in progress */
}

void http_client_reset(struct http_client *client) { atomic_store(&client->cancelled, false); }

bool http_client_cancelled(struct http_client *client) { return atomic_load(&client->cancelled); }

bool http_client_sleep(struct http_client *client, long ms)
{
    int64_t deadline = monotonic_ms() + ms;
    while (!http_client_cancelled(client)) {
        int64_t left = deadline - monotonic_ms();
        if (left <= 0)
            return true;
        api.multi_poll(client->multi, NULL, 0, (int)left, NULL);
    }
    return false;
}

/* ---- one transfer ---- */

struct transfer {
    const struct http_request *req;
    struct http_response *resp;
    CURL *easy;
    size_t received;
    int64_t last_byte;
    bool stopped, too_large;
    bool idle; /* ended by idle_timeout_ms (libcurl's own timeouts say connect) */
};

static bool status_is_success(long status) { return status >= 200 && status < 300; }

static bool collect(struct transfer *t, const char *bytes, size_t len, size_t bound)
{
    struct http_response *r = t->resp;
    if (r->body_len + len > bound) {
        t->too_large = true;
        return false;
    }
    return buffer_append(&r->body, &r->body_len, bytes, len);
}

static size_t on_body(char *bytes, size_t size, size_t nmemb, void *arg)
{
    struct transfer *t = arg;
    size_t len = size * nmemb;
    t->last_byte = monotonic_ms();
    t->received += len;
    if (t->received > t->req->max_body_bytes) {
        t->too_large = true;
        return 0; /* aborts the transfer */
    }
    long status = 0;
    api.easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
    if (t->req->on_data && status_is_success(status)) {
        if (!t->req->on_data(t->req->ctx, bytes, len)) {
            t->stopped = true;
            return 0;
        }
        return len;
    }
    size_t bound = t->req->on_data ? ERROR_BODY_MAX : t->req->max_body_bytes;
    return collect(t, bytes, len, bound) ? len : 0;
}

/* "Name: value\r\n" into out when the name matches. */
static void header_value(const char *line, size_t len, const char *name, char *out, size_t cap)
{
    size_t n = strlen(name);
    if (len <= n + 1 || strncasecmp(line, name, n) != 0 || line[n] != ':')
        return;
    const char *v = line + n + 1;
    const char *end = line + len;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
        end--;
    size_t vlen = (size_t)(end - v) < cap - 1 ? (size_t)(end - v) : cap - 1;
    memcpy(out, v, vlen);
    out[vlen] = '\0';
}

static size_t on_header(char *line, size_t size, size_t nmemb, void *arg)
{
    struct transfer *t = arg;
    size_t len = size * nmemb;
    t->last_byte = monotonic_ms();
    header_value(line, len, "retry-after", t->resp->retry_after, sizeof t->resp->retry_after);
    header_value(line, len, "retry-after-ms", t->resp->retry_after_ms,
                 sizeof t->resp->retry_after_ms);
    return len;
}

static struct curl_slist *header_list(const char *const *headers)
{
    struct curl_slist *list = NULL;
    for (size_t i = 0; headers && headers[i]; i++) {
        struct curl_slist *next = api.slist_append(list, headers[i]);
        if (!next)
            break;
        list = next;
    }
    /* No "Expect: 100-continue" round trip before a POST body. */
    struct curl_slist *next = api.slist_append(list, "Expect:");
    return next ? next : list;
}

static CURL *make_easy(struct transfer *t, struct curl_slist *headers)
{
    const struct http_request *req = t->req;
    CURL *easy = api.easy_init();
    if (!easy)
        return NULL;
    api.easy_setopt(easy, CURLOPT_URL, req->url);
    api.easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
    api.easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body);
    api.easy_setopt(easy, CURLOPT_WRITEDATA, t);
    api.easy_setopt(easy, CURLOPT_HEADERFUNCTION, on_header);
    api.easy_setopt(easy, CURLOPT_HEADERDATA, t);
    api.easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, req->connect_timeout_ms);
    api.easy_setopt(easy, CURLOPT_NOSIGNAL, 1L); /* never SIGALRM in a threaded kernel */
    api.easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
    api.easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
    api.easy_setopt(easy, CURLOPT_ACCEPT_ENCODING, ""); /* whatever libcurl can decode */
    if (strcmp(req->method, "POST") == 0) {
        api.easy_setopt(easy, CURLOPT_POST, 1L);
        api.easy_setopt(easy, CURLOPT_POSTFIELDS, req->body ? req->body : "");
    }
    return easy;
}

/* Runs the transfer until it ends, is cancelled or goes idle too long. */
static CURLcode drive(struct http_client *c, struct transfer *t)
{
    CURLcode code = CURLE_OK;
    for (;;) {
        int running = 0;
        api.multi_perform(c->multi, &running);
        CURLMsg *msg;
        int left;
        while ((msg = api.multi_info_read(c->multi, &left)) != NULL)
            if (msg->msg == CURLMSG_DONE && msg->easy_handle == t->easy)
                return msg->data.result;
        if (!running)
            return code;
        if (http_client_cancelled(c))
            return CURLE_ABORTED_BY_CALLBACK;
        if (monotonic_ms() - t->last_byte > t->req->idle_timeout_ms) {
            t->idle = true;
            return CURLE_OPERATION_TIMEDOUT;
        }
        api.multi_poll(c->multi, NULL, 0, POLL_SLICE_MS, NULL);
    }
}

static void describe_result(struct transfer *t, CURLcode code, bool cancelled)
{
    struct http_response *r = t->resp;
    api.easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &r->status);
    if (cancelled)
        r->result = HTTP_CANCELLED;
    else if (t->too_large)
        r->result = HTTP_TOO_LARGE;
    else if (t->stopped)
        r->result = HTTP_STOPPED;
    else if (code == CURLE_OK)
        r->result = HTTP_DONE;
    else if (t->idle) /* connected, and then silent: headers late or a stall between chunks */
        r->result = HTTP_IDLE_TIMEOUT;
    else if (r->status != 0 && (code == CURLE_PARTIAL_FILE || code == CURLE_RECV_ERROR))
        r->result = HTTP_CUT; /* a chunked body without its last chunk, a short Content-Length */
    else if (code == CURLE_COULDNT_CONNECT || code == CURLE_COULDNT_RESOLVE_HOST ||
             code == CURLE_COULDNT_RESOLVE_PROXY || code == CURLE_OPERATION_TIMEDOUT ||
             code == CURLE_SSL_CONNECT_ERROR || code == CURLE_PEER_FAILED_VERIFICATION)
        r->result = HTTP_CANNOT_CONNECT;
    else
        r->result = HTTP_FAILED;
    if (code != CURLE_OK && !cancelled)
        snprintf(r->error, sizeof r->error, "%s", api.easy_strerror(code));
}

void http_perform(struct http_client *client, const struct http_request *req,
                  struct http_response *resp)
{
    memset(resp, 0, sizeof *resp);
    struct transfer t = {.req = req, .resp = resp, .last_byte = monotonic_ms()};
    if (http_client_cancelled(client)) {
        resp->result = HTTP_CANCELLED;
        return;
    }
    struct curl_slist *headers = header_list(req->headers);
    t.easy = make_easy(&t, headers);
    if (!t.easy || api.multi_add_handle(client->multi, t.easy) != CURLM_OK) {
        resp->result = HTTP_FAILED;
        snprintf(resp->error, sizeof resp->error, "cannot set up the request");
        if (t.easy)
            api.easy_cleanup(t.easy);
        api.slist_free_all(headers);
        return;
    }
    CURLcode code = drive(client, &t);
    describe_result(&t, code, http_client_cancelled(client));
    api.multi_remove_handle(client->multi, t.easy);
    api.easy_cleanup(t.easy);
    api.slist_free_all(headers);
}

void http_response_clear(struct http_response *resp)
{
    free(resp->body);
    memset(resp, 0, sizeof *resp);
}
