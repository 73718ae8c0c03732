/* The process that launched the kernel, watched so that the kernel never outlives it.
 *
 * jupyter_client puts its own pid in JPY_PARENT_PID when it starts a kernel; ipykernel's parent
 * poller exits when that process is gone. A frontend killed without shutting its kernel down
 * (a jupyter console whose terminal closed) would otherwise leave the kernel and its jailed
 * workers running for ever. The value is only trusted when that pid is one of the kernel's
 * ancestors: JupyterLab and VS Code may pass on a stale or foreign JPY_PARENT_PID. */
#ifndef WARDEN_LAUNCHER_H
#define WARDEN_LAUNCHER_H

#include <stdbool.h>
#include <sys/types.h>

struct launcher_watch {
    pid_t pid; /* the launcher; 0: nothing is watched */
    int pidfd; /* readable once the launcher has exited; -1: none (the fallback polls) */
    long long next_look_ms; /* the fallback's next look at the process tree */
};

/* Reads JPY_PARENT_PID and starts watching it when it names an ancestor; otherwise logs why not
 * and watches nothing. Never fails. */
void launcher_watch_start(struct launcher_watch *w);

/* The descriptor to poll for readability, or -1. */
int launcher_watch_fd(const struct launcher_watch *w);

/* How long the main loop may block (ms; -1: forever). Without a pidfd the launcher is looked
 * at about once a second. */
int launcher_watch_poll_ms(const struct launcher_watch *w);

/* True once the launcher is gone: its pidfd is readable, or (no pidfd) it is no longer an
 * ancestor, looked at no more than once a second however often this is called. */
bool launcher_watch_gone(struct launcher_watch *w);

void launcher_watch_stop(struct launcher_watch *w);

/* --- exposed for tests --- */

/* Parses a JPY_PARENT_PID value: a decimal pid above 1, nothing else. 0 when invalid. */
pid_t launcher_parse_pid(const char *text);

#endif
