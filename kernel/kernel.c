#include "kernel.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>
#include <zmq.h>

#include "common/log.h"
#include "executor.h"
#include "history.h"

#define STOP_TIMEOUT_MS 2500

/* ---- sending ---- */

static void send_with_topic(struct kernel *k, struct jmsg *msg, const char *topic)
{
    struct wire_part id = {(void *)topic, strlen(topic)};
    msg->ids = &id;
    msg->n_ids = 1;
    wire_send(k->iopub, k->signer, msg);
    kernel_socket_used(k, k->iopub);
    msg->ids = NULL;
    msg->n_ids = 0;
}

void kernel_publish(struct kernel *k, const char *msg_type, const struct jmsg *parent,
                    json_t *content)
{
    struct jmsg *msg = jmsg_build(k->session, msg_type, parent, content);
    if (!msg)
        return;
    char topic[128];
    snprintf(topic, sizeof topic, "kernel.%s.%s", k->session, msg_type);
    send_with_topic(k, msg, topic);
    jmsg_free(msg);
}

void kernel_publish_status(struct kernel *k, const struct jmsg *parent, const char *state)
{
    kernel_publish(k, "status", parent, json_pack("{s:s}", "execution_state", state));
}

void kernel_reply_with_metadata(struct kernel *k, void *socket, const struct jmsg *request,
                                json_t *content, json_t *metadata)
{
    const char *type = jmsg_type(request);
    char reply_type[80];
    size_t len = strlen(type);
    if (len > 8 && strcmp(type + len - 8, "_request") == 0)
        snprintf(reply_type, sizeof reply_type, "%.*s_reply", (int)(len - 8), type);
    else
        snprintf(reply_type, sizeof reply_type, "%s_reply", type);
    struct jmsg *reply = jmsg_build(k->session, reply_type, request, content);
    if (!reply || jmsg_copy_ids(reply, request) != 0) {
        jmsg_free(reply);
        json_decref(metadata);
        return;
    }
    if (metadata) {
        json_decref(reply->metadata);
        reply->metadata = metadata;
    }
    wire_send(socket, k->signer, reply);
    kernel_socket_used(k, socket);
    jmsg_free(reply);
}

void kernel_reply(struct kernel *k, void *socket, const struct jmsg *request, json_t *content)
{
    kernel_reply_with_metadata(k, socket, request, content, NULL);
}

/* ---- iopub subscriptions: each new subscriber is welcomed (JEP 65) ---- */

void kernel_welcome_subscribers(struct kernel *k)
{
    char buffer[256];
    int len;
    while ((len = zmq_recv(k->iopub, buffer, sizeof buffer, ZMQ_DONTWAIT)) > 0) {
        if (buffer[0] != 1)
            continue; /* unsubscribe */
        size_t topic_len =
            (size_t)len - 1 < sizeof buffer - 1 ? (size_t)len - 1 : sizeof buffer - 1;
        char topic[256];
        memcpy(topic, buffer + 1, topic_len);
        topic[topic_len] = '\0';
        struct jmsg *msg = jmsg_build(k->session, "iopub_welcome", NULL,
                                      json_pack("{s:s}", "subscription", topic));
        if (msg) {
            send_with_topic(k, msg, topic);
            jmsg_free(msg);
        }
    }
}

/* ---- sockets ---- */

/* `listening`: a socket connection_listen made for the port (libzmq owns it from here), or -1
 * for zmq_bind to make its own. */
static void *open_socket(struct kernel *k, int type, int port, int listening, char *err,
                         size_t err_len)
{
    void *socket = zmq_socket(k->zmq, type);
    char endpoint[320];
    connection_endpoint(&k->conn, port, endpoint, sizeof endpoint);
    int64_t max_size = WIRE_MAX_PART_BYTES; /* libzmq disconnects a peer that sends more */
    int linger = 1000, one = 1;
    if (socket) {
        zmq_setsockopt(socket, ZMQ_MAXMSGSIZE, &max_size, sizeof max_size);
        zmq_setsockopt(socket, ZMQ_LINGER, &linger, sizeof linger);
        if (type == ZMQ_XPUB)
            zmq_setsockopt(socket, ZMQ_XPUB_VERBOSE, &one, sizeof one);
        if (type == ZMQ_ROUTER)
            zmq_setsockopt(socket, ZMQ_ROUTER_HANDOVER, &one, sizeof one);
        if (listening >= 0)
            zmq_setsockopt(socket, ZMQ_USE_FD, &listening, sizeof listening);
    } else if (listening >= 0) {
        close(listening);
    }
    if (!socket || zmq_bind(socket, endpoint) != 0) {
        snprintf(err, err_len, "cannot bind %s: %s", endpoint, zmq_strerror(zmq_errno()));
        if (socket)
            zmq_close(socket);
        return NULL;
    }
    return socket;
}

/* The five ports, in the order they are opened: shell and iopub first, the two a client needs
 * for kernel_info and its idle (wait_for_ready). */
enum { PORT_SHELL, PORT_IOPUB, PORT_CONTROL, PORT_STDIN, PORT_HB, N_PORTS };

static void ports_of(const struct connection_info *conn, int ports[N_PORTS])
{
    ports[PORT_SHELL] = conn->shell_port;
    ports[PORT_IOPUB] = conn->iopub_port;
    ports[PORT_CONTROL] = conn->control_port;
    ports[PORT_STDIN] = conn->stdin_port;
    ports[PORT_HB] = conn->hb_port;
}

/* Listening on every port is the first thing the kernel does after reading the connection file:
 * from then on a client's connections are accepted by the TCP stack and wait in its backlog
 * until libzmq takes them, whatever start-up work comes between. */
static void listen_early(const struct connection_info *conn, int listening[N_PORTS])
{
    int ports[N_PORTS];
    ports_of(conn, ports);
    for (int i = 0; i < N_PORTS; i++)
        listening[i] = connection_listen(conn, ports[i]);
}

static int open_sockets(struct kernel *k, int listening[N_PORTS], char *err, size_t err_len)
{
    static const int types[N_PORTS] = {ZMQ_ROUTER, ZMQ_XPUB, ZMQ_ROUTER, ZMQ_ROUTER, ZMQ_ROUTER};
    void **sockets[N_PORTS] = {&k->shell, &k->iopub, &k->control, &k->stdin_socket, &k->heartbeat};
    int ports[N_PORTS];
    ports_of(&k->conn, ports);
    int rc = 0;
    for (int i = 0; i < N_PORTS; i++) {
        if (rc == 0 &&
            !(*sockets[i] = open_socket(k, types[i], ports[i], listening[i], err, err_len)))
            rc = -1;
        else if (rc != 0 && listening[i] >= 0)
            close(listening[i]); /* not opened after a failure: its listener goes */
    }
    return rc;
}

/* The heartbeat echoes every frame back on its own thread, so a busy kernel still looks alive;
 * zmq_proxy with the same ROUTER as both ends is exactly an echo. It returns when the context
 * is shut down. */
static void *heartbeat_main(void *arg)
{
    struct kernel *k = arg;
    zmq_proxy(k->heartbeat, k->heartbeat, NULL);
    zmq_close(k->heartbeat);
    return NULL;
}

/* ---- signals: SIGINT interrupts the cell (VS Code signals every process of the kernel's tree,
 * the kernel last; the worker takes one interrupt per cell); SIGTERM and SIGHUP shut down.
 * Blocked in every thread and read through a signalfd in the main loop. ---- */

static int block_signals(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGQUIT);
    signal(SIGPIPE, SIG_IGN);
    if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0)
        return -1;
    return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

void kernel_interrupt(struct kernel *k) { executor_interrupt(k->executor); }

static void close_everything(struct kernel *k)
{
    void *sockets[] = {k->shell, k->control, k->stdin_socket, k->iopub};
    for (size_t i = 0; i < 4; i++)
        if (sockets[i])
            zmq_close(sockets[i]);
    zmq_ctx_shutdown(k->zmq); /* ends the heartbeat's proxy */
    jmsg_free(k->input_asked);
    kernel_save_unsaved_input(k); /* a cell cut short by the shutdown is still in the history */
    history_close(k->history);
    signer_free(k->signer);
    launcher_watch_stop(&k->launcher);
}

static int start(struct kernel *k, const char *connection_file, const struct kernel_config *cfg,
                 struct engine *engine)
{
    char err[512];
    if (connection_load(connection_file, &k->conn, err, sizeof err) != 0) {
        log_error("%s", err);
        return -1;
    }
    k->signer = signer_new(k->conn.signature_scheme, k->conn.key, k->conn.key_len);
    if (!k->signer) {
        log_error("unsupported signature scheme \"%s\" (only hmac-sha256)",
                  k->conn.signature_scheme);
        return -1;
    }
    int listening[N_PORTS];
    listen_early(&k->conn, listening);
    ids_new_uuid(k->session);
    k->engine = engine;
    k->history = history_open(cfg->history, cfg->history_limit);
    k->signal_fd = block_signals();
    launcher_watch_start(&k->launcher);
    k->zmq = zmq_ctx_new();
    if (k->signal_fd < 0 || !k->zmq) {
        log_error("%s", k->signal_fd < 0 ? "cannot set up signal handling" : "no zmq context");
        return -1; /* the process exits: the listeners go with it */
    }
    if (open_sockets(k, listening, err, sizeof err) != 0) {
        log_error("%s", err);
        return -1;
    }
    return 0;
}

int kernel_run(const char *connection_file, const struct kernel_config *cfg, struct engine *engine)
{
    struct kernel kernel = {0};
    struct kernel *k = &kernel;
    if (start(k, connection_file, cfg, engine) != 0)
        return 1;
    pthread_t heartbeat;
    k->heartbeat_running = pthread_create(&heartbeat, NULL, heartbeat_main, k) == 0;
    k->executor = executor_start(engine);
    if (!k->executor)
        return 1;
    kernel_publish_status(k, NULL, "starting");
    kernel_loop_run(k);
    bool stopped = executor_stop(k->executor, STOP_TIMEOUT_MS);
    k->executor = NULL; /* freed, or left to its stuck thread */
    close_everything(k);
    if (k->heartbeat_running)
        pthread_join(heartbeat, NULL);
    zmq_ctx_term(k->zmq);
    /* A stuck executor cannot hold the process: its workers die with it (parent-death signal). */
    if (!stopped)
        _exit(0);
    return 0;
}
