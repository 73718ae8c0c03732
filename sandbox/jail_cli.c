/* `warden jail [OPTIONS] -- CMD ARGS...`: run any command in the worker's jail, with the worker's
 * limits (from the same config file), stdio inherited. For debugging the jail and what runs in it.
 */
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

#include "sandbox/jail/spawn.h"
#include "sandbox/sandbox.h"

static void usage(FILE *out)
{
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
            "  --tmpfs SIZE        size of /tmp and of /home/warden, each (Landlock: of the "
            "scratch directory)\n"
            "  --env K=V           add a variable to the (allowlisted) environment; repeatable\n"
            "  --jail KIND         auto, namespaces or landlock (see warden doctor)\n"
            "  --unjailed          run WITHOUT the jail (no isolation at all)\n"
            "  -h, --help          this text\n");
}

/* Apply one option through the config parser, so the CLI accepts exactly what the file does. */
static int apply_option(struct sandbox_config *cfg, const char *key, json_t *value)
{
    json_t *obj = json_object();
    json_object_set_new(obj, key, value);
    char err[768];
    int rc = sandbox_config_apply_json(cfg, obj, err, sizeof err);
    json_decref(obj);
    if (rc < 0)
        fprintf(stderr, "warden jail: %s\n", err);
    return rc;
}

/* A bare command name is looked up in the jail's PATH (its /usr is the host's). */
static int resolve_command(const char *name, char *out, size_t len)
{
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
        if (access(out, X_OK) == 0)
            return 0;
    }
    return -1;
}

struct jail_options {
    struct sandbox_config cfg;
    char **extra_env; /* "K=V" from --env, NULL-terminated */
    size_t nextra;
    int command; /* index of the command in argv */
};

/* The value of the option at argv[*i] (then *i moves past it). -1 when it is bad (said on stderr),
 * 1 for --help, 0 otherwise. */
static int parse_option(struct jail_options *o, int argc, char **argv, int *i)
{
    const char *a = argv[*i];
    const char *v = *i + 1 < argc ? argv[*i + 1] : NULL;
    struct sandbox_config *cfg = &o->cfg;
    if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)
        return 1;
    if (strcmp(a, "--rw") == 0) {
        cfg->workdir_writable = true;
        return 0;
    }
    if (strcmp(a, "--unjailed") == 0) {
        cfg->unjailed = true;
        return 0;
    }
    if (!v) {
        fprintf(stderr, "warden jail: %s needs a value\n", a);
        return -1;
    }
    (*i)++; /* the value */
    if (strcmp(a, "--config") == 0)
        return 0; /* read before the options */
    if (strcmp(a, "--workdir") == 0) {
        char real[PATH_MAX];
        if (realpath(v, real))
            return apply_option(cfg, "workdir", json_string(real));
        fprintf(stderr, "warden jail: --workdir %s: %s\n", v, strerror(errno));
        return -1;
    }
    static const char *const sizes[][2] = {
        {"--memory", "memory"}, {"--file-size", "file_size"}, {"--tmpfs", "tmpfs"}};
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++)
        if (strcmp(a, sizes[k][0]) == 0)
            return apply_option(cfg, sizes[k][1], json_string(v));
    if (strcmp(a, "--tasks") == 0 || strcmp(a, "--open-files") == 0) {
        char *end;
        long long n = strtoll(v, &end, 10);
        if (!*end && end != v)
            return apply_option(cfg, a[2] == 't' ? "tasks" : "open_files", json_integer(n));
        fprintf(stderr, "warden jail: %s needs an integer\n", a);
        return -1;
    }
    if (strcmp(a, "--jail") == 0)
        return apply_option(cfg, "jail", json_string(v));
    if (strcmp(a, "--env") == 0) {
        if (strchr(v, '=') && v[0] != '=') {
            o->extra_env[o->nextra++] = (char *)v;
            return 0;
        }
        fprintf(stderr, "warden jail: --env wants K=V\n");
        return -1;
    }
    fprintf(stderr, "warden jail: unknown option %s\n\n", a);
    usage(stderr);
    return -1;
}

/* The config file first (so options override it), then the options. -1 with the exit code in
 * *code when the command should not run. */
static int parse_command_line(struct jail_options *o, int argc, char **argv,
                              sandbox_config_loader load, int *code)
{
    const char *config_path = NULL;
    for (int k = 1; k < argc && strcmp(argv[k], "--") != 0; k++)
        if (strcmp(argv[k], "--config") == 0 && k + 1 < argc)
            config_path = argv[k + 1];
    char err[1024];
    sandbox_config_defaults(&o->cfg);
    *code = 125;
    if (load(config_path, &o->cfg, err, sizeof err) < 0) {
        fprintf(stderr, "warden jail: %s\n", err);
        return -1;
    }
    int i = 1;
    for (; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) {
            i++;
            break;
        }
        if (argv[i][0] != '-')
            break; /* the command, without "--" */
        int rc = parse_option(o, argc, argv, &i);
        if (rc != 0) {
            if (rc > 0)
                usage(stdout);
            *code = rc > 0 ? 0 : 125;
            return -1;
        }
    }
    if (i >= argc) {
        usage(stderr);
        return -1;
    }
    o->command = i;
    return 0;
}

/* Runs the command in the jail, passing on the signals meant for us (it has a session of its
 * own: no terminal), and returns its exit status as a shell would (128+N for a signal). */
static int run_jailed(const struct jail_options *o, char **cargv)
{
    sigset_t sigs, old;
    sigemptyset(&sigs);
    int fwd[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};
    for (size_t k = 0; k < sizeof fwd / sizeof fwd[0]; k++)
        sigaddset(&sigs, fwd[k]);
    sigprocmask(SIG_BLOCK, &sigs, &old);
    int sfd = signalfd(-1, &sigs, SFD_CLOEXEC);

    struct spawn_request req = {.cfg = &o->cfg,
                                .argv = cargv,
                                .extra_env = o->nextra ? o->extra_env : NULL,
                                .channel_fd = -1,
                                .keep_stdio = true};
    struct jailed j;
    char err[1024];
    if (spawn_process(&req, &j, err, sizeof err) < 0) {
        fprintf(stderr, "warden jail: %s\n", err);
        if (sfd >= 0)
            close(sfd);
        sigprocmask(SIG_SETMASK, &old, NULL);
        return 125;
    }
    for (;;) {
        struct pollfd p[2] = {{.fd = j.pidfd, .events = POLLIN}, {.fd = sfd, .events = POLLIN}};
        if (j.pidfd < 0 || sfd < 0)
            break; /* old kernel: just wait */
        int r = poll(p, 2, -1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 || (p[0].revents & (POLLIN | POLLHUP | POLLERR)))
            break;
        if (p[1].revents & POLLIN) {
            struct signalfd_siginfo si;
            if (read(sfd, &si, sizeof si) == (ssize_t)sizeof si)
                spawn_signal(&j, (int)si.ssi_signo);
        }
    }
    char cause[256];
    int st = spawn_reap(&j, cause, sizeof cause);
    if (sfd >= 0)
        close(sfd);
    sigprocmask(SIG_SETMASK, &old, NULL);
    if (WIFEXITED(st)) {
        /* a cgroup OOM kill can also end as an exit (the OOM killer chose a child) */
        if (strncmp(cause, "exited", 6) != 0)
            fprintf(stderr, "warden jail: %s\n", cause);
        return WEXITSTATUS(st);
    }
    fprintf(stderr, "warden jail: %s\n", cause);
    return WIFSIGNALED(st) ? 128 + WTERMSIG(st) : 125;
}

int sandbox_jail_main(int argc, char **argv, sandbox_config_loader load)
{
    struct jail_options o = {.extra_env = calloc((size_t)argc + 1, sizeof(char *))};
    if (!o.extra_env)
        return 125;
    int code = 125;
    char **cargv = NULL;
    if (parse_command_line(&o, argc, argv, load, &code) != 0)
        goto out;
    char cmd[PATH_MAX];
    if (resolve_command(argv[o.command], cmd, sizeof cmd) < 0) {
        fprintf(stderr,
                "warden jail: %s: not found (give an absolute path, or a name in "
                "/usr/local/bin, /usr/bin, /bin)\n",
                argv[o.command]);
        code = 127;
        goto out;
    }
    cargv = calloc((size_t)(argc - o.command) + 1, sizeof *cargv);
    if (!cargv)
        goto out;
    cargv[0] = cmd;
    for (int k = o.command + 1; k < argc; k++)
        cargv[k - o.command] = argv[k];
    if (o.cfg.unjailed)
        fprintf(stderr,
                "warden jail: WARNING: --unjailed: the command runs with NO isolation: it can read "
                "and change your files, use the network and see your environment's secrets.\n");
    code = run_jailed(&o, cargv);
out:
    free(cargv);
    free(o.extra_env);
    return code;
}
