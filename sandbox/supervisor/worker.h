/* One Python worker: a (jailed) process from spawn.h, the kernel end of its channel (a non-blocking
 * AF_UNIX stream socket, fd 3 in the worker), a frame reader and a state. Nothing here trusts
 * the worker: every wait is bounded, every frame goes through frame.c. */
#ifndef WARDEN_WORKER_H
#define WARDEN_WORKER_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "frame.h"
#include "sandbox/jail/spawn.h"
#include "translate.h"

enum worker_state {
    WORKER_STARTING, /* spawned, no `ready` yet */
    WORKER_READY,    /* idle, takes requests */
    WORKER_BUSY,     /* running a cell */
    WORKER_DEAD,     /* exited or killed and reaped; `cause` says why */
};

struct worker {
    struct jailed proc;
    int fd; /* kernel end of the channel */
    struct frame_reader reader;
    enum worker_state state;
    bool preload;                 /* started as a standby (WARDEN_PRELOAD=1) */
    int64_t spawned_at, ready_at; /* monotonic_ms() */
    char python[TR_MAX_PYTHON_VERSION + 1];
    char cause[256]; /* once dead: why, in words */
};

/* Starts a worker (argv {python, -I, <runtime>/warden_worker.py}). NULL with err on failure. */
struct worker *worker_spawn(const struct sandbox_config *cfg, bool preload, char *err,
                            size_t errlen);

/* Sends a frame (the reference is stolen). 0, or -1 with errno (ETIMEDOUT: it stopped reading;
 * EPIPE/ECONNRESET: it is gone; EMSGSIZE: too large). */
int worker_send(struct worker *w, json_t *frame, int timeout_ms);

/* Next frame, reading the channel at most once (see frame_read). A `ready` frame moves a
 * starting worker to READY and is still returned. */
enum frame_result worker_read(struct worker *w, json_t **out);

/* Has the process exited (non-blocking, does not reap)? */
bool worker_exited(struct worker *w);

/* Waits up to wait_ms for the process to exit, then reaps it and fills w->cause in words; if it
 * is still alive after wait_ms it is killed and `fallback` becomes the cause. State: DEAD. */
void worker_reap(struct worker *w, int wait_ms, const char *fallback);

/* Kills the worker and everything in its jail; `why` becomes the cause. Safe when dead. */
void worker_kill(struct worker *w, const char *why);

/* Kills if needed, closes and frees. NULL is fine. */
void worker_free(struct worker *w);

/* Reads whatever is buffered without blocking; true once the worker is READY. Frames other than
 * `ready` are dropped (nothing is in progress). False with *violation set when the channel broke
 * (protocol violation, EOF); the caller decides what to do. */
bool worker_poll_ready(struct worker *w, bool *broken);

/* Time the worker took from spawn to `ready`, in ms (-1 while starting). */
int64_t worker_ready_ms(const struct worker *w);

#endif
