/* The Jupyter kernel: sockets, main loop, dispatch. Knows nothing of models or jails; cells
 * go to an engine (engine.h) on the executor thread. */
#ifndef WARDEN_KERNEL_H
#define WARDEN_KERNEL_H

#include <stdbool.h>

#include "config.h"
#include "connection.h"
#include "engine.h"
#include "ids.h"
#include "launcher.h"
#include "wire.h"

struct executor;
struct history;
struct job;

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

#endif
