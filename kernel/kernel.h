/* The Jupyter kernel: sockets, main loop, dispatch. Knows nothing of models or jails; cells
 * go to an engine (engine.h) on the executor thread. */
#ifndef WARDEN_KERNEL_H
#define WARDEN_KERNEL_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "connection.h"
#include "engine.h"
#include "ids.h"
#include "launcher.h"
#include "wire.h"

struct executor;
struct history;
struct job;

/* The zmq sockets the main loop serves (kernel_loop.c), by their bit in kernel.unchecked. */
enum {
    KERNEL_SOCKET_CONTROL,
    KERNEL_SOCKET_SHELL,
    KERNEL_SOCKET_STDIN,
    KERNEL_SOCKET_IOPUB,
    KERNEL_N_SOCKETS
};

struct kernel {
    struct connection_info conn;
    struct signer *signer;
    char session[UUID_STR_LEN];
    void *zmq;
    void *shell, *control, *stdin_socket, *iopub, *heartbeat;
    struct engine *engine;
    struct executor *executor;
    struct history *history;
    int signal_fd;
    /* the last input_request sent, kept for its routing identities: only that client may
     * answer it (another one, e.g. a second frontend on the kernel, is not asked) */
    struct jmsg *input_asked;
    struct launcher_watch launcher; /* JPY_PARENT_PID: gone means shut down */
    bool heartbeat_running;
    bool shutting_down;
    /* a bit per socket used since it was last found empty: asked for ZMQ_EVENTS before the loop
     * sleeps (kernel_loop.c says why) */
    unsigned unchecked;
    /* the running cell's input, not in the history yet (events.c says when it is written) */
    char *unsaved_input;
    int unsaved_line;
    int64_t unsaved_due_ms; /* monotonic_ms() */
};

/* Runs the kernel until shutdown; returns the process exit code. */
int kernel_run(const char *connection_file, const struct kernel_config *cfg, struct engine *engine);

/* --- used by dispatch.c and the loop --- */

/* Publish on iopub with the given parent header (NULL for none). Steals content. */
void kernel_publish(struct kernel *k, const char *msg_type, const struct jmsg *parent,
                    json_t *content);
void kernel_publish_status(struct kernel *k, const struct jmsg *parent, const char *state);
/* Reply to `request` on `socket`: msg_type is the request's with _request → _reply. */
void kernel_reply(struct kernel *k, void *socket, const struct jmsg *request, json_t *content);
/* The same, with the reply's metadata (stolen; NULL: {}). */
void kernel_reply_with_metadata(struct kernel *k, void *socket, const struct jmsg *request,
                                json_t *content, json_t *metadata);

void dispatch_control(struct kernel *k, struct jmsg *msg);
void dispatch_shell(struct kernel *k, struct jmsg *msg);
void dispatch_stdin(struct kernel *k, struct jmsg *msg);
void dispatch_executor_events(struct kernel *k);
/* busy, and for an execute its execute_input and history entry. */
void publish_begin(struct kernel *k, const struct job *job);
void kernel_interrupt(struct kernel *k);
/* The running cell's input into the history now, if it is not yet (events.c). */
void kernel_save_unsaved_input(struct kernel *k);
/* ms until that input is due to be written (0: now); -1: none is waiting. */
int kernel_unsaved_input_wait_ms(const struct kernel *k);

/* --- kernel_loop.c --- */

/* Serves every socket and fd until shutdown. */
void kernel_loop_run(struct kernel *k);
/* Every send or receive on a socket outside the loop's own receives says so here. */
void kernel_socket_used(struct kernel *k, const void *socket);
/* Answers new iopub subscriptions (JEP 65) with an iopub_welcome. */
void kernel_welcome_subscribers(struct kernel *k);

#endif
