/* `warden jail [OPTIONS] -- CMD ARGS...`: run any command in the worker's jail, with the worker's
 * limits (from the same config file), stdio inherited. For debugging the jail and what runs in it. */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "jail_internal.h"
#include "log.h"

static void usage(FILE *out) {
    fprintf(out,
            "usage: warden jail [OPTIONS] -- COMMAND [ARGS...]\n"
            "Run COMMAND in the same jail, with the same limits, as the kernel's Python worker.\n"
            "stdin/stdout/stderr are inherited; the exit status is the command's (128+N for a "
            "signal).\n\n"
            "options (default: the \"sandbox\" section of the config file):\n"
            "  --config FILE       config file (default $WARDEN_CONFIG, else "
            "~/.config/warden/config.json)\n"
            "  --workdir DIR       directory bound at its own path, where COMMAND starts "
            "(default: current)\n"
            "  --rw                bind the workdir read-write (default read-only)\n"
            "  --memory SIZE       memory limit, e.g. 512M, 2G\n"
            "  --tasks N           processes + threads\n"
            "  --file-size SIZE    largest file the command may write\n"
            "  --open-files N      open file descriptors\n"
            "  --tmpfs SIZE        size of /tmp and of /home/warden, each\n"
            "  --env K=V           add a variable to the (allowlisted) environment; repeatable\n"
            "  --unjailed          run WITHOUT the jail (no isolation at all)\n"
            "  -h, --help          this text\n");
}

/* Apply one option through the config parser, so the CLI accepts exactly what the file does. */
static int apply_option(struct sandbox_config *cfg, const char *key, json_t *value) {
    json_t *obj = json_object();
    json_object_set_new(obj, key, value);
    char err[768];
    int rc = sandbox_config_apply_json(cfg, obj, err, sizeof err);
    json_decref(obj);
    if (rc < 0) fprintf(stderr, "warden jail: %s\n", err);
    return rc;
}

/* A bare command name is looked up in the jail's PATH (its /usr is the host's). */
static int resolve_command(const char *name, char *out, size_t len) {
    if (strchr(name, '/')) {
        if (name[0] == '/') {
            snprintf(out, len, "%s", name);
            return 0;
        }
        return -1; /* relative paths depend on the workdir: ask for an absolute one */
    }
    static const char *const dirs[] = {"/usr/local/bin", "/usr/bin", "/bin"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(out, len, "%s/%s", dirs[i], name);
        if (access(out, X_OK) == 0) return 0;
    }
    return -1;
}

int sandbox_jail_main(int argc, char **argv) {
    struct sandbox_config cfg;
    sandbox_config_defaults(&cfg);
    const char *config_path = NULL;
    int i = 1;
    /* the config file first, so options override it */
    for (int k = 1; k < argc && strcmp(argv[k], "--") != 0; k++)
        if (strcmp(argv[k], "--config") == 0 && k + 1 < argc) config_path = argv[k + 1];
    char err[1024];
    if (sandbox_config_load_file(&cfg, config_path, err, sizeof err) < 0) {
        fprintf(stderr, "warden jail: %s\n", err);
        return 125;
    }
    char **extra = calloc((size_t)argc + 1, sizeof *extra);
    size_t nextra = 0;
    if (!extra) return 125;
    for (; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int rc = 0;
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            free(extra);
            return 0;
        } else if (strcmp(a, "--rw") == 0) {
            cfg.workdir_writable = true;
            continue;
        } else if (strcmp(a, "--unjailed") == 0) {
            cfg.unjailed = true;
            continue;
        } else if (a[0] != '-') {
            break; /* the command, without "--" */
        } else if (!v) {
            fprintf(stderr, "warden jail: %s needs a value\n", a);
            rc = -1;
        } else if (strcmp(a, "--config") == 0) {
            /* done above */
        } else if (strcmp(a, "--workdir") == 0) {
            char real[PATH_MAX];
            if (!realpath(v, real)) {
                fprintf(stderr, "warden jail: --workdir %s: %s\n", v, strerror(errno));
                rc = -1;
            } else {
                rc = apply_option(&cfg, "workdir", json_string(real));
            }
        } else if (strcmp(a, "--memory") == 0) {
            rc = apply_option(&cfg, "memory", json_string(v));
        } else if (strcmp(a, "--file-size") == 0) {
            rc = apply_option(&cfg, "file_size", json_string(v));
        } else if (strcmp(a, "--tmpfs") == 0) {
            rc = apply_option(&cfg, "tmpfs", json_string(v));
        } else if (strcmp(a, "--tasks") == 0 || strcmp(a, "--open-files") == 0) {
            char *end;
            long long n = strtoll(v, &end, 10);
            if (*end || end == v) {
                fprintf(stderr, "warden jail: %s needs an integer\n", a);
                rc = -1;
            } else {
                rc = apply_option(&cfg, a[2] == 't' ? "tasks" : "open_files", json_integer(n));
            }
        } else if (strcmp(a, "--env") == 0) {
            if (!strchr(v, '=') || v[0] == '=') {
                fprintf(stderr, "warden jail: --env wants K=V\n");
                rc = -1;
            } else {
                extra[nextra++] = (char *)v;
            }
        } else {
            fprintf(stderr, "warden jail: unknown option %s\n\n", a);
            usage(stderr);
            rc = -1;
        }
        if (rc < 0) {
            free(extra);
            return 125;
        }
        i++; /* the value */
    }
    if (i >= argc) {
        usage(stderr);
        free(extra);
        return 125;
    }
    char cmd[PATH_MAX];
    if (resolve_command(argv[i], cmd, sizeof cmd) < 0) {
        fprintf(stderr,
                "warden jail: %s: not found (give an absolute path, or a name in "
                "/usr/local/bin, /usr/bin, /bin)\n",
                argv[i]);
        free(extra);
        return 127;
    }
    char **cargv = calloc((size_t)(argc - i) + 1, sizeof *cargv);
    if (!cargv) {
        free(extra);
        return 125;
    }
    cargv[0] = cmd;
    for (int k = i + 1; k < argc; k++) cargv[k - i] = argv[k];

    if (cfg.unjailed)
        fprintf(stderr,
                "warden jail: WARNING: --unjailed: the command runs with NO isolation: it can read "
                "and change your files, use the network and see your environment's secrets.\n");

    /* signals meant for us go to the command (it has a session of its own: no terminal) */
    sigset_t sigs, old;
    sigemptyset(&sigs);
    int fwd[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};
    for (size_t k = 0; k < sizeof fwd / sizeof fwd[0]; k++) sigaddset(&sigs, fwd[k]);
    sigprocmask(SIG_BLOCK, &sigs, &old);
    int sfd = signalfd(-1, &sigs, SFD_CLOEXEC);

    struct spawn_request req = {.cfg = &cfg, .argv = cargv, .extra_env = nextra ? extra : NULL,
                                .channel_fd = -1, .keep_stdio = true};
    struct jailed j;
    if (spawn_process(&req, &j, err, sizeof err) < 0) {
        fprintf(stderr, "warden jail: %s\n", err);
        free(cargv);
        free(extra);
        return 125;
    }
    for (;;) {
        struct pollfd p[2] = {{.fd = j.pidfd, .events = POLLIN}, {.fd = sfd, .events = POLLIN}};
        if (j.pidfd < 0 || sfd < 0) break; /* old kernel: just wait */
        int r = poll(p, 2, -1);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0 || (p[0].revents & (POLLIN | POLLHUP | POLLERR))) break;
        if (p[1].revents & POLLIN) {
            struct signalfd_siginfo si;
            if (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) spawn_signal(&j, (int)si.ssi_signo);
        }
    }
    char cause[256];
    int st = spawn_reap(&j, cause, sizeof cause);
    if (sfd >= 0) close(sfd);
    sigprocmask(SIG_SETMASK, &old, NULL);
    free(cargv);
    free(extra);
    if (WIFEXITED(st)) {
        /* a cgroup OOM kill can also end as an exit (the OOM killer chose a child) */
        if (strncmp(cause, "exited", 6) != 0) fprintf(stderr, "warden jail: %s\n", cause);
        return WEXITSTATUS(st);
    }
    fprintf(stderr, "warden jail: %s\n", cause);
    return WIFSIGNALED(st) ? 128 + WTERMSIG(st) : 125;
}
