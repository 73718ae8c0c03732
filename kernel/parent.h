/* The client that started the kernel. jupyter_client starts a kernel in a session of its own
 * and names itself in JPY_PARENT_PID; when that client dies without a shutdown request (its
 * terminal closed, a crash, kill -9), nothing else would ever stop the kernel and its jail. */
#ifndef WARDEN_KERNEL_PARENT_H
#define WARDEN_KERNEL_PARENT_H

/* A pidfd that becomes readable when the parent named by JPY_PARENT_PID exits, or -1 when
 * there is none to watch: unset, invalid, pid 1, not this process's parent (a launcher in
 * between, or the parent already gone), or pidfds unsupported. */
int parent_watch_open(void);

#endif
