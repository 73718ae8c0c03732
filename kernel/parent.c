#include "parent.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <unistd.h>

#include "common/log.h"

int parent_watch_open(void)
{
    const char *text = getenv("JPY_PARENT_PID");
    if (!text || !*text)
        return -1;
    char *end;
    errno = 0;
    long pid = strtol(text, &end, 10);
    if (errno || *end || pid <= 1 || pid > 0x3fffffff)
        return -1;
    /* Only our own parent: a pid that is not (any more) our parent may already belong to
     * another process, and watching it would stop the kernel at a stranger's exit. */
    if ((long)getppid() != pid) {
        log_debug("JPY_PARENT_PID %ld is not this kernel's parent: not watched", pid);
        return -1;
    }
    int fd = pidfd_open((pid_t)pid, 0);
    if (fd < 0) {
        log_debug("cannot watch the parent %ld: %s", pid, strerror(errno));
        return -1;
    }
    /* the parent may have exited between getppid() and pidfd_open(): then we are orphaned */
    if (getppid() != (pid_t)pid) {
        close(fd);
        return -1;
    }
    return fd;
}
