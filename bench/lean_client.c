/* lean-client: the `1+1` round trip of a kernel, measured by a client that costs next to nothing.
 *
 * lean_client.py, the Python lean client, spends 0.24-0.47 ms of CPU a cell against warden
 * (pyzmq, json, hmac over five messages; bench figures of 2026-12-03); on a 2-CPU machine that is
 * on the round trip of whichever kernel it measures, so it hides how fast a fast kernel is. This
 * client speaks the protocol with the kernel's own wire code (kernel/wire.c builds, signs and
 * verifies, kernel/connection.c reads the connection file): the same checks a client must make (the
 * signature of every message, the parent's msg_id), in C.
 *
 *   lean-client CONNECTION_FILE WARMUP COUNT [CODE [TIMEOUT_S]]
 *
 * connects a DEALER to shell and a SUB to iopub, sends kernel_info until its idle arrives on
 * iopub (the SUB is then connected), runs CODE (default 1+1) WARMUP times unmeasured and COUNT
 * times measured, and prints each measured round trip (request sent to both its execute_reply
 * and its idle received) in microseconds, one a line. Exit status 1 with a message on stderr
 * if the kernel fails a cell or does not answer a request within TIMEOUT_S (default 30). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "common/clock.h"
#include "kernel/connection.h"
#include "kernel/ids.h"
#include "kernel/sign.h"
#include "kernel/wire.h"

#define DEFAULT_TIMEOUT_S 30
#define MAX_TIMEOUT_S     3600
#define CONNECT_TRY_MS    500
#define MAX_CELLS         1000000

struct client {
    void *context, *shell, *iopub;
    long timeout_ms;
    struct signer *signer;
    char session[UUID_STR_LEN];
};

static int fail(const char *what)
{
    fprintf(stderr, "lean-client: %s\n", what);
    return -1;
}

static int open_client(struct client *c, const char *connection_file)
{
    struct connection_info info;
    char err[512], url[300];
    if (connection_load(connection_file, &info, err, sizeof err) != 0)
        return fail(err);
    c->signer = signer_new(info.signature_scheme, info.key, info.key_len);
    c->context = zmq_ctx_new();
    if (!c->signer || !c->context)
        return fail("cannot set up signing or ZeroMQ");
    ids_new_uuid(c->session);
    c->shell = zmq_socket(c->context, ZMQ_DEALER);
    c->iopub = zmq_socket(c->context, ZMQ_SUB);
    if (!c->shell || !c->iopub || zmq_setsockopt(c->iopub, ZMQ_SUBSCRIBE, "", 0) != 0)
        return fail(zmq_strerror(errno));
    connection_endpoint(&info, info.shell_port, url, sizeof url);
    if (zmq_connect(c->shell, url) != 0)
        return fail(zmq_strerror(errno));
    connection_endpoint(&info, info.iopub_port, url, sizeof url);
    if (zmq_connect(c->iopub, url) != 0)
        return fail(zmq_strerror(errno));
    return 0;
}

static void close_client(struct client *c)
{
    int linger = 0;
    if (c->shell)
        zmq_setsockopt(c->shell, ZMQ_LINGER, &linger, sizeof linger);
    if (c->iopub)
        zmq_setsockopt(c->iopub, ZMQ_LINGER, &linger, sizeof linger);
    zmq_close(c->shell);
    zmq_close(c->iopub);
    if (c->context)
        zmq_ctx_term(c->context);
    signer_free(c->signer);
}

/* The request's msg_id, copied to `id`; -1 if it could not be built or sent. */
static int send_request(struct client *c, const char *msg_type, json_t *content, char *id,
                        size_t id_len)
{
    struct jmsg *msg = jmsg_build(c->session, msg_type, NULL, content);
    if (!msg)
        return -1;
    snprintf(id, id_len, "%s", jmsg_id(msg));
    int rc = wire_send(c->shell, c->signer, msg);
    jmsg_free(msg);
    return rc;
}

static bool is_reply_to(const struct jmsg *msg, const char *id)
{
    const char *parent = json_string_value(json_object_get(msg->parent_header, "msg_id"));
    return parent && strcmp(parent, id) == 0;
}

static bool is_idle(const struct jmsg *msg)
{
    const char *state = json_string_value(json_object_get(msg->content, "execution_state"));
    return strcmp(jmsg_type(msg), "status") == 0 && state && strcmp(state, "idle") == 0;
}

/* Whether an execute_reply says "ok"; the reply is printed to stderr when it does not. */
static bool reply_is_ok(const struct jmsg *reply)
{
    const char *status = json_string_value(json_object_get(reply->content, "status"));
    if (status && strcmp(status, "ok") == 0)
        return true;
    char *text = json_dumps(reply->content, JSON_COMPACT);
    fprintf(stderr, "lean-client: the reply: %.2000s\n", text ? text : "?");
    free(text);
    return false;
}

/* Waits for the reply to `id` on shell and its idle on iopub. 0, or 1 if the reply's status is
 * not "ok", or -1 if they did not both come within timeout_ms. Messages of other requests, and
 * any that fail verification (wire_recv drops and logs them), are skipped. */
static int await_reply_and_idle(struct client *c, const char *id, long timeout_ms)
{
    bool replied = false, idle = false, ok = false;
    int64_t deadline = monotonic_ms() + timeout_ms;
    zmq_pollitem_t items[] = {{c->shell, 0, ZMQ_POLLIN, 0}, {c->iopub, 0, ZMQ_POLLIN, 0}};
    while (!replied || !idle) {
        long left = (long)(deadline - monotonic_ms());
        if (left <= 0 || zmq_poll(items, 2, left) < 0)
            return -1;
        for (int i = 0; i < 2; i++) {
            struct jmsg *msg = NULL;
            if (!(items[i].revents & ZMQ_POLLIN) ||
                wire_recv(items[i].socket, c->signer, &msg) != WIRE_RECV_MESSAGE || !msg)
                continue;
            if (is_reply_to(msg, id)) {
                if (i == 0) {
                    replied = true;
                    ok = reply_is_ok(msg);
                } else if (is_idle(msg)) {
                    idle = true;
                }
            }
            jmsg_free(msg);
        }
    }
    return ok ? 0 : 1;
}

/* kernel_info until one is answered with its idle on iopub: a SUB socket misses what was
 * published before it connected, so only then are a cell's iopub messages sure to arrive. */
static int wait_connected(struct client *c)
{
    char id[MSG_ID_LEN];
    int64_t deadline = monotonic_ms() + c->timeout_ms;
    while (monotonic_ms() < deadline) {
        if (send_request(c, "kernel_info_request", json_object(), id, sizeof id) != 0)
            return fail("cannot send kernel_info_request");
        if (await_reply_and_idle(c, id, CONNECT_TRY_MS) >= 0)
            return 0;
    }
    fprintf(stderr, "lean-client: no kernel_info_reply and idle within %ld s\n",
            c->timeout_ms / 1000);
    return -1;
}

/* One cell; its round trip in µs, or -1. */
static double run_cell(struct client *c, const char *code)
{
    char id[MSG_ID_LEN];
    json_t *content =
        json_pack("{s:s, s:b, s:b, s:{}, s:b, s:b}", "code", code, "silent", false, "store_history",
                  true, "user_expressions", "allow_stdin", false, "stop_on_error", true);
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    if (!content || send_request(c, "execute_request", content, id, sizeof id) != 0)
        return fail("cannot send execute_request");
    int rc = await_reply_and_idle(c, id, c->timeout_ms);
    clock_gettime(CLOCK_MONOTONIC, &end);
    if (rc != 0)
        return fail(rc > 0 ? "the cell failed" : "no execute_reply and idle within the timeout");
    return (double)(end.tv_sec - start.tv_sec) * 1e6 + (double)(end.tv_nsec - start.tv_nsec) / 1e3;
}

/* A whole number in [min, max], or -1. */
static long parse_number(const char *text, long min, long max)
{
    char *end;
    errno = 0;
    long n = strtol(text, &end, 10);
    return errno || end == text || *end || n < min || n > max ? -1 : n;
}

int main(int argc, char **argv)
{
    long warmup = argc >= 4 ? parse_number(argv[2], 0, MAX_CELLS) : -1;
    long count = argc >= 4 ? parse_number(argv[3], 0, MAX_CELLS) : -1;
    long timeout_s = argc == 6 ? parse_number(argv[5], 1, MAX_TIMEOUT_S) : DEFAULT_TIMEOUT_S;
    if (argc < 4 || argc > 6 || warmup < 0 || count < 0 || timeout_s < 0) {
        fprintf(stderr, "usage: lean-client CONNECTION_FILE WARMUP COUNT [CODE [TIMEOUT_S]]\n");
        return 2;
    }
    const char *code = argc >= 5 ? argv[4] : "1+1";
    struct client c = {.timeout_ms = timeout_s * 1000};
    int status = open_client(&c, argv[1]) == 0 && wait_connected(&c) == 0 ? 0 : 1;
    for (long i = 0; status == 0 && i < warmup + count; i++) {
        double us = run_cell(&c, code);
        if (us < 0)
            status = 1;
        else if (i >= warmup)
            printf("%.1f\n", us);
    }
    close_client(&c);
    return status;
}
