/* The main loop: one epoll set over the sockets' ZMQ_FDs and the kernel's own fds (signals, the
 * executor's events, the launcher's pidfd).
 *
 * Why not zmq_poll: it asks every socket for ZMQ_EVENTS before and after each wait, and in
 * libzmq each ask is a poll and a getpid: about twenty system calls each time the loop wakes,
 * three wakes a cell (strace and perf trace of a `1+1` loop: 21 polls and 21 getpids a cell on
 * this thread, most of its time in a VM where a system call is dear). Here a socket is asked only
 * when it may have something: its ZMQ_FD fired, or this thread used it since it was last found
 * empty. The second rule is the ZMQ_FD contract: a send or a receive may consume the
 * notification the FD would have given (zmq_getsockopt(3), ZMQ_FD), so a socket that was used is
 * asked again before the loop sleeps.
 *
 * Order within a turn, as before: control first (it never waits behind shell traffic), then
 * signals, the executor's events, shell, stdin, iopub subscriptions. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>
#include <zmq.h>

#include "common/log.h"
#include "executor.h"
#include "kernel.h"

/* epoll data of each source: the zmq sockets are 0..KERNEL_N_SOCKETS-1 (their bit in
 * k->unchecked) */
enum { SRC_SIGNALS = KERNEL_N_SOCKETS, SRC_EXECUTOR, SRC_LAUNCHER };

static void *socket_of(const struct kernel *k, int index)
{
    switch (index) {
    case KERNEL_SOCKET_CONTROL:
        return k->control;
    case KERNEL_SOCKET_SHELL:
        return k->shell;
    case KERNEL_SOCKET_STDIN:
        return k->stdin_socket;
    default:
        return k->iopub;
    }
}

void kernel_socket_used(struct kernel *k, const void *socket)
{
    for (int i = 0; i < KERNEL_N_SOCKETS; i++)
        if (socket_of(k, i) == socket)
            k->unchecked |= 1u << i;
}

static bool has_message(void *socket)
{
    int events = 0;
    size_t len = sizeof events;
    return zmq_getsockopt(socket, ZMQ_EVENTS, &events, &len) == 0 && (events & ZMQ_POLLIN);
}

/* ---- signals: SIGINT interrupts the cell, SIGTERM and SIGHUP shut down (kernel.c blocks them
 * in every thread; they are read here through the signalfd) ---- */

static void handle_signals(struct kernel *k)
{
    struct signalfd_siginfo info;
    while (read(k->signal_fd, &info, sizeof info) == sizeof info) {
        if (info.ssi_signo == SIGINT) {
            log_info("SIGINT: interrupting the running cell");
            kernel_interrupt(k);
        } else {
            log_info("signal %u: shutting down", info.ssi_signo);
            k->shutting_down = true;
        }
    }
}

/* Up to a budget of messages, so one flooded socket cannot starve the others. A receive that
 * found nothing leaves the socket known empty: only a new ZMQ_FD event or a later use makes it
 * worth asking again (sends made while dispatching came before that receive). */
static void drain(struct kernel *k, int index, void (*dispatch)(struct kernel *, struct jmsg *))
{
    void *socket = socket_of(k, index);
    for (int budget = 64; budget > 0 && !k->shutting_down; budget--) {
        struct jmsg *msg = NULL;
        if (wire_recv(socket, k->signer, &msg) != WIRE_RECV_MESSAGE) {
            k->unchecked &= ~(1u << index); /* empty (or failed: not asked again in a spin) */
            return;
        }
        if (msg)
            dispatch(k, msg);
    }
}

static void serve(struct kernel *k, int index)
{
    if (!(k->unchecked & (1u << index)) || k->shutting_down)
        return;
    if (!has_message(socket_of(k, index))) {
        k->unchecked &= ~(1u << index);
        return;
    }
    switch (index) {
    case KERNEL_SOCKET_CONTROL:
        drain(k, index, dispatch_control);
        break;
    case KERNEL_SOCKET_SHELL:
        drain(k, index, dispatch_shell);
        break;
    case KERNEL_SOCKET_STDIN:
        drain(k, index, dispatch_stdin);
        break;
    default:
        kernel_welcome_subscribers(k);
        k->unchecked |= 1u << KERNEL_SOCKET_IOPUB; /* asked again: it may have more */
        break;
    }
}

/* Before sleeping: every socket used since it was last found empty is asked once; the loop
 * sleeps only if none has a message. */
static bool any_socket_ready(struct kernel *k)
{
    for (int i = 0; i < KERNEL_N_SOCKETS; i++) {
        if (!(k->unchecked & (1u << i)))
            continue;
        if (has_message(socket_of(k, i)))
            return true;
        k->unchecked &= ~(1u << i);
    }
    return false;
}

/* The launcher died without shutting the kernel down (its terminal closed, it was killed): the
 * same clean shutdown as a shutdown_request, so the workers go too; nobody is left to answer. */
static void check_launcher(struct kernel *k)
{
    if (!launcher_watch_gone(&k->launcher))
        return;
    log_info("the process that launched the kernel (pid %d) is gone: shutting down",
             (int)k->launcher.pid);
    k->shutting_down = true;
}

static int watch(int epoll_fd, int fd, uint32_t source)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = source};
    return epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev);
}

static int open_epoll(struct kernel *k)
{
    int epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    if (epoll_fd < 0)
        return -1;
    int rc = 0;
    for (int i = 0; i < KERNEL_N_SOCKETS && rc == 0; i++) {
        int fd = -1;
        size_t len = sizeof fd;
        rc = zmq_getsockopt(socket_of(k, i), ZMQ_FD, &fd, &len);
        if (rc == 0)
            rc = watch(epoll_fd, fd, (uint32_t)i);
    }
    if (rc == 0)
        rc = watch(epoll_fd, k->signal_fd, SRC_SIGNALS);
    if (rc == 0)
        rc = watch(epoll_fd, executor_event_fd(k->executor), SRC_EXECUTOR);
    if (rc == 0 && launcher_watch_fd(&k->launcher) >= 0)
        rc = watch(epoll_fd, launcher_watch_fd(&k->launcher), SRC_LAUNCHER);
    if (rc != 0) {
        close(epoll_fd);
        return -1;
    }
    return epoll_fd;
}

/* The shorter of two waits, -1 being forever. */
static int sleep_ms(const struct kernel *k, int idle_timeout)
{
    int history = kernel_unsaved_input_wait_ms(k);
    if (history < 0)
        return idle_timeout;
    return idle_timeout < 0 || history < idle_timeout ? history : idle_timeout;
}

void kernel_loop_run(struct kernel *k)
{
    int epoll_fd = open_epoll(k);
    if (epoll_fd < 0) {
        log_error("cannot watch the kernel's sockets: %s", strerror(errno));
        return;
    }
    k->unchecked = (1u << KERNEL_N_SOCKETS) - 1; /* nothing is known of them yet */
    bool pidfd = launcher_watch_fd(&k->launcher) >= 0;
    int idle_timeout = launcher_watch_poll_ms(&k->launcher);
    while (!k->shutting_down) {
        struct epoll_event events[8];
        int n =
            epoll_wait(epoll_fd, events, 8, any_socket_ready(k) ? 0 : sleep_ms(k, idle_timeout));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            log_error("epoll_wait failed: %s", strerror(errno));
            break;
        }
        bool signals = false, executor = false, launcher = !pidfd;
        for (int i = 0; i < n; i++) {
            uint32_t source = events[i].data.u32;
            if (source < KERNEL_N_SOCKETS)
                k->unchecked |= 1u << source;
            signals |= source == SRC_SIGNALS;
            executor |= source == SRC_EXECUTOR;
            launcher |= source == SRC_LAUNCHER;
        }
        serve(k, KERNEL_SOCKET_CONTROL);
        if (signals)
            handle_signals(k);
        if (executor)
            dispatch_executor_events(k);
        serve(k, KERNEL_SOCKET_SHELL);
        serve(k, KERNEL_SOCKET_STDIN);
        serve(k, KERNEL_SOCKET_IOPUB);
        if (launcher)
            check_launcher(k); /* without a pidfd it looks at most once a second */
        if (kernel_unsaved_input_wait_ms(k) == 0)
            kernel_save_unsaved_input(k); /* a cell that runs long: its input is kept now */
    }
    close(epoll_fd);
}
