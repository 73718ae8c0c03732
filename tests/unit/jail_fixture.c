/* See jail_fixture.h. */
#include "jail_fixture.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

void run_cfg(const struct sandbox_config *cfg, char *const argv[], char *const *extra_env,
             struct result *r)
{
    memset(r, 0, sizeof *r);
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
        snprintf(r->err, sizeof r->err, "socketpair: %s", strerror(errno));
        return;
    }
    struct spawn_request req = {
        .cfg = cfg, .argv = argv, .extra_env = extra_env, .channel_fd = sv[1], .keep_stdio = false};
    struct jailed j;
    if (spawn_process(&req, &j, r->err, sizeof r->err) < 0) {
        close(sv[0]);
        close(sv[1]);
        return;
    }
    close(sv[1]);
    r->spawned = true;
    size_t used = 0;
    for (;;) {
        struct pollfd p = {.fd = sv[0], .events = POLLIN};
        if (poll(&p, 1, 30000) <= 0) {
            snprintf(r->err, sizeof r->err, "timed out reading the channel");
            spawn_kill(&j);
            break;
        }
        ssize_t n = read(sv[0], r->out + used, sizeof r->out - 1 - used);
        if (n <= 0)
            break;
        used += (size_t)n;
        if (used == sizeof r->out - 1)
            break;
    }
    r->out[used] = '\0';
    close(sv[0]);
    r->status = spawn_reap(&j, r->cause, sizeof r->cause);
}

void sh_cfg(const struct sandbox_config *cfg, const char *script, struct result *r)
{
    char full[4096];
    snprintf(full, sizeof full, "exec 1>&3; %s", script);
    char *argv[] = {"/bin/sh", "-c", full, NULL};
    run_cfg(cfg, argv, NULL, r);
}

bool exited(const struct result *r, int code)
{
    return r->spawned && WIFEXITED(r->status) && WEXITSTATUS(r->status) == code;
}
