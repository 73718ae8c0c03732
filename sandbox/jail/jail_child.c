/* Child-side helpers, shared by the jail's init and command (jail_init.c) and the unjailed child
 * (spawn.c): reporting a setup failure, arranging fds, resetting signals. All run after a fork or
 * a raw clone of a multi-threaded process: async-signal-safe only (no malloc, no stdio, no locks;
 * see jail_internal.h). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "jail_internal.h"

int jc_write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

static void put(const char *s)
{
    if (s)
        jc_write_all(JC_FD_ERR, s, strlen(s));
}

void jc_fail2(const char *what, const char *path, int err)
{
    put(what);
    if (path) {
        put(" ");
        put(path);
    }
    if (err) {
        put(": ");
        /* strerrordesc_np: no translation, no allocation */
        const char *desc = strerrordesc_np(err);
        put(desc ? desc : "unknown error");
    }
    _exit(127);
}

void jc_fail(const char *what, int err) { jc_fail2(what, NULL, err); }

/* Child side: place the given fds at 3..6 (close-on-exec), close every other fd >= 3. */
void jc_arrange_fds(const int src[JC_FD_COUNT])
{
    int tmp[JC_FD_COUNT];
    for (int i = 0; i < JC_FD_COUNT; i++) {
        tmp[i] = -1;
        if (i >= 3 && src[i] >= 0) {
            tmp[i] = fcntl(src[i], F_DUPFD_CLOEXEC, JC_FD_COUNT);
            if (tmp[i] < 0)
                _exit(126); /* the error pipe itself may be what failed */
        }
    }
    for (int i = 3; i < JC_FD_COUNT; i++) {
        if (tmp[i] >= 0) {
            if (dup3(tmp[i], i, O_CLOEXEC) < 0)
                _exit(126);
        } else {
            close(i);
        }
    }
    if (syscall(SYS_close_range, JC_FD_COUNT, ~0U, 0) < 0) {
        /* old kernel: close what may be open */
        for (int fd = JC_FD_COUNT; fd < 65536; fd++)
            close(fd);
    }
}

/* Child side: reset signal state inherited from the kernel (its signalfd mask, ignored signals).
 * An ignored SIGINT also drops one already pending, and survives execve. */
void jc_reset_signals(bool ignore_sigint)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    for (int s = 1; s < NSIG; s++) {
        if (s == SIGKILL || s == SIGSTOP)
            continue;
        sa.sa_handler = s == SIGINT && ignore_sigint ? SIG_IGN : SIG_DFL;
        sigaction(s, &sa, NULL); /* EINVAL for glibc-reserved signals: fine */
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

void jc_prepare_command_fds(bool have_channel, bool keep_stdio)
{
    if (have_channel) {
        if (fcntl(JC_FD_CHANNEL, F_SETFD, 0) < 0)
            jc_fail("channel fd", errno);
    } else {
        close(JC_FD_CHANNEL);
    }
    close(JC_FD_SYNC);
    close(JC_FD_STATUS);
    if (!keep_stdio) {
        int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (fd < 0)
            jc_fail("open /dev/null", errno);
        for (int i = 0; i < 3; i++)
            if (dup2(fd, i) < 0)
                jc_fail("dup2 /dev/null", errno);
        if (fd > 2)
            close(fd);
    }
}
