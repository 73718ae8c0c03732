/* The jail, tested for real: commands spawned through spawn_process(), results read back through
 * the channel (fd 3). Skips (77) only when this machine cannot jail at all (jail_check says why).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "jail_fixture.h"
#include "sandbox/jail/spawn.h"

static char workdir[64];
static struct sandbox_config base_cfg;

static void run(char *const argv[], struct result *r) { run_cfg(&base_cfg, argv, NULL, r); }

/* /bin/sh -c SCRIPT, with its stdout going to the channel */
static void sh(const char *script, struct result *r) { sh_cfg(&base_cfg, script, r); }

static void py(const char *code, struct result *r)
{
    char full[8192];
    snprintf(full, sizeof full, "import os, sys\nsys.stdout = os.fdopen(3, 'w')\n%s", code);
    char *argv[] = {"/usr/bin/python3", "-I", "-c", full, NULL};
    run(argv, r);
}

static void test_identity(void)
{
    struct result r;
    sh("id -u; id -g; id -un; hostname; pwd", &r);
    CHECK(exited(&r, 0), "id: %s %s", r.err, r.cause);
    char expect[256];
    snprintf(expect, sizeof expect, "1000\n1000\nwarden\nwarden\n%s\n", workdir);
    CHECK(strcmp(r.out, expect) == 0, "identity/hostname/cwd: got [%s] want [%s]", r.out, expect);
}

static void test_root_listing(void)
{
    struct result r;
    sh("ls -1A /", &r);
    CHECK(exited(&r, 0), "ls /: %s %s", r.err, r.cause);
    static const char *allowed[] = {"bin",    "dev", "etc",  "home", "lib", "lib32", "lib64",
                                    "libx32", "opt", "proc", "sbin", "tmp", "usr"};
    static const char *required[] = {"usr", "proc", "dev", "tmp", "etc", "home", "opt"};
    char *save = NULL;
    char copy[sizeof r.out];
    snprintf(copy, sizeof copy, "%s", r.out);
    int n = 0;
    for (char *tok = strtok_r(copy, "\n", &save); tok; tok = strtok_r(NULL, "\n", &save)) {
        bool ok = false;
        for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++)
            if (strcmp(tok, allowed[i]) == 0)
                ok = true;
        CHECK(ok, "unexpected entry in /: %s", tok);
        n++;
    }
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++) {
        char needle[32];
        snprintf(needle, sizeof needle, "%s\n", required[i]);
        CHECK(strstr(r.out, needle) != NULL, "/ lacks %s: [%s]", required[i], r.out);
    }
    sh("ls -1A /home; ls -1A /dev | sort | tr '\\n' ' '", &r);
    CHECK(strcmp(r.out, "warden\nfd full null ptmx pts random shm stderr stdin stdout urandom "
                        "zero ") == 0,
          "/home, /dev: [%s]", r.out);
    if (base_cfg.runtime_dir[0]) {
        sh("ls /opt/warden/runtime/warden_worker.py; touch /opt/warden/runtime/x 2>/dev/null || "
           "echo ro",
           &r);
        CHECK(strcmp(r.out, "/opt/warden/runtime/warden_worker.py\nro\n") == 0, "runtime: [%s]",
              r.out);
    }
    /* host things that must not be there */
    sh("for p in /run /var /sys /root /etc/shadow /etc/ssh /home/wtest /work /tmp/.X11-unix "
       "/var/run/docker.sock /run/dbus; do [ -e $p ] && echo visible: $p; done; true",
       &r);
    CHECK(exited(&r, 0) && r.out[0] == '\0', "host paths visible: [%s]", r.out);
}

static void test_network(void)
{
    struct result r;
    sh("cat /proc/net/dev | tail -n +3 | cut -d: -f1 | tr -d ' '", &r);
    CHECK(exited(&r, 0), "net: %s %s", r.err, r.cause);
    CHECK(strcmp(r.out, "lo\n") == 0, "interfaces other than lo: [%s]", r.out);
    py("import socket\n"
       "s = socket.socket(); s.settimeout(2)\n"
       "try:\n    s.connect(('1.1.1.1', 80)); print('connected')\n"
       "except OSError as e:\n    print('refused', e.errno)\n"
       "l = socket.socket(); l.bind(('127.0.0.1', 0)); l.listen(); c = "
       "socket.create_connection(l.getsockname())\n"
       "print('loopback ok')\n",
       &r);
    CHECK(exited(&r, 0) && strstr(r.out, "refused") && strstr(r.out, "loopback ok"),
          "network: [%s] %s", r.out, r.cause);
}

static void test_env(void)
{
    setenv("WARDEN_TEST_SECRET", "hunter2-secret", 1);
    setenv("OPENAI_API_KEY", "sk-should-not-leak", 1);
    struct result r;
    char *argv[] = {"/usr/bin/env", NULL};
    char *extra[] = {"WARDEN_EXTRA=yes", NULL};
    /* env writes to stdout: wrap it */
    char *shargv[] = {"/bin/sh", "-c", "exec /usr/bin/env >&3", NULL};
    (void)argv;
    run_cfg(&base_cfg, shargv, extra, &r);
    CHECK(exited(&r, 0), "env: %s %s", r.err, r.cause);
    CHECK(!strstr(r.out, "hunter2") && !strstr(r.out, "sk-should"), "secret leaked: [%s]", r.out);
    CHECK(strstr(r.out, "HOME=/home/warden\n") && strstr(r.out, "USER=warden\n") &&
              strstr(r.out, "PATH=/usr/local/bin:/usr/bin:/bin\n") &&
              strstr(r.out, "MPLBACKEND=Agg\n") && strstr(r.out, "WARDEN_EXTRA=yes\n"),
          "environment: [%s]", r.out);
    /* nothing else than the allowlist */
    char copy[sizeof r.out];
    snprintf(copy, sizeof copy, "%s", r.out);
    char *save = NULL;
    for (char *tok = strtok_r(copy, "\n", &save); tok; tok = strtok_r(NULL, "\n", &save)) {
        static const char *keys[] = {
            "PATH=", "HOME=",       "USER=",         "LOGNAME=", "LANG=",  "LC_ALL=",
            "TZ=",   "MPLBACKEND=", "WARDEN_EXTRA=", "PWD=",     "SHLVL=", "_="};
        bool ok = false;
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
            if (strncmp(tok, keys[i], strlen(keys[i])) == 0)
                ok = true;
        CHECK(ok, "unexpected variable: %s", tok);
    }
    unsetenv("WARDEN_TEST_SECRET");
    unsetenv("OPENAI_API_KEY");
}

static void test_fds_and_privileges(void)
{
    struct result r;
    py("import stat\n"
       "print('fd3', stat.S_ISSOCK(os.fstat(3).st_mode))\n"
       "bad = []\n"
       "for fd in range(4, 256):\n"
       "    try:\n        os.fstat(fd); bad.append(fd)\n"
       "    except OSError: pass\n"
       "print('open', bad)\n"
       "print('stdin', os.readlink('/proc/self/fd/0'), os.readlink('/proc/self/fd/2'))\n"
       "st = open('/proc/self/status').read()\n"
       "for k in ('CapInh','CapPrm','CapEff','CapBnd','CapAmb','NoNewPrivs','Seccomp'):\n"
       "    print(k, [l.split()[1] for l in st.splitlines() if l.startswith(k + ':')][0])\n"
       "print('sid', os.getsid(0) == os.getpid(), 'pid', os.getpid())\n",
       &r);
    CHECK(exited(&r, 0), "fds: %s %s [%s]", r.err, r.cause, r.out);
    CHECK(strstr(r.out, "fd3 True\n") != NULL, "fd 3 is not the channel: [%s]", r.out);
    CHECK(strstr(r.out, "open []\n") != NULL, "fds >= 4 open: [%s]", r.out);
    CHECK(strstr(r.out, "stdin /dev/null /dev/null\n") != NULL, "stdio: [%s]", r.out);
    static const char *zero[] = {"CapInh 0000000000000000",
                                 "CapPrm 0000000000000000",
                                 "CapEff 0000000000000000",
                                 "CapBnd 0000000000000000",
                                 "CapAmb 0000000000000000",
                                 "NoNewPrivs 1",
                                 "Seccomp 2",
                                 "sid True pid 2"};
    for (size_t i = 0; i < sizeof zero / sizeof zero[0]; i++)
        CHECK(strstr(r.out, zero[i]) != NULL, "want %s: [%s]", zero[i], r.out);
}

/* init is a copy of this process that never execs: nothing of ours may show through /proc/1 */
static void test_init_scrubbed(void)
{
    struct result r;
    py("def rd(p):\n"
       "    try:\n        return open(p, 'rb').read()\n"
       "    except OSError as e:\n        return type(e).__name__.encode()\n"
       "c = rd('/proc/1/cmdline').rstrip(b'\\0')\n"
       "print(bool(c) and b'warden-jail-init'.startswith(c), rd('/proc/1/environ'), "
       "rd('/proc/1/mem'))\n"
       "print(rd('/proc/1/comm'))\n",
       &r);
    CHECK(exited(&r, 0), "init: %s %s", r.err, r.cause);
    CHECK(strstr(r.out, "True b'PermissionError' b'PermissionError'\n") != NULL, "/proc/1: [%s]",
          r.out);
    CHECK(strstr(r.out, "test_jail") == NULL && strstr(r.out, "jail-init") != NULL, "/proc/1: [%s]",
          r.out);
}

static void test_filesystem(void)
{
    struct result r;
    py("import errno\n"
       "def w(p):\n"
       "    try:\n        open(p, 'w').write('x'); return 'wrote'\n"
       "    except OSError as e:\n        return errno.errorcode[e.errno]\n"
       "print(w('/usr/x'), w('/etc/passwd'), w('/x'), w('/proc/sys/kernel/hostname'), w('x'))\n"
       "print(w('/tmp/x'), w('/home/warden/x'), w('/dev/shm/x'))\n"
       "print(open('/etc/passwd').read().count('\\n'))\n",
       &r);
    CHECK(exited(&r, 0), "fs: %s %s [%s]", r.err, r.cause, r.out);
    CHECK(strncmp(r.out, "EROFS EROFS EROFS EROFS EROFS\nwrote wrote wrote\n3\n", 50) == 0 ||
              strncmp(r.out, "EROFS EROFS EROFS EACCES EROFS\nwrote wrote wrote\n3\n", 51) == 0,
          "writes: [%s]", r.out);
}

static void test_syscalls(void)
{
    struct result r;
    py("import ctypes, errno\n"
       "libc = ctypes.CDLL(None, use_errno=True)\n"
       "def t(name, *a):\n"
       "    r = getattr(libc, name)(*a)\n"
       "    return '%s=%s' % (name, 'EPERM' if r == -1 and ctypes.get_errno() == errno.EPERM else "
       "r)\n"
       "print(t('unshare', 0x10000000), t('mount', b'none', b'/tmp', b'tmpfs', 0, None),\n"
       "      t('ptrace', 16, 1, 0, 0), t('syscall', 321, 0, 0, 0),\n" /* bpf */
       "      t('syscall', 250, 0, 0, 0), t('syscall', 323, 0), t('syscall', 425, 1, 0))\n" /* keyctl,
                                                                                               userfaultfd,
                                                                                               io_uring_setup
                                                                                             */
       "import socket\n"
       "for fam in (socket.AF_NETLINK, socket.AF_PACKET, 38, 40):\n"
       "    try:\n        socket.socket(fam, socket.SOCK_RAW if fam != 38 else "
       "socket.SOCK_SEQPACKET); print('opened', fam)\n"
       "    except OSError as e:\n        print(fam, errno.errorcode[e.errno])\n",
       &r);
    CHECK(exited(&r, 0), "syscalls: %s %s [%s]", r.err, r.cause, r.out);
    CHECK(strstr(r.out, "unshare=EPERM mount=EPERM ptrace=EPERM syscall=EPERM syscall=EPERM "
                        "syscall=EPERM syscall=EPERM\n") != NULL,
          "denied syscalls: [%s]", r.out);
    CHECK(strstr(r.out, "16 EPERM\n17 EPERM\n38 EPERM\n40 EPERM\n") != NULL,
          "socket families: [%s]", r.out);
}

static void test_causes(void)
{
    struct result r;
    sh("exit 3", &r);
    CHECK(exited(&r, 3) && strcmp(r.cause, "exited with code 3") == 0, "exit cause: %s", r.cause);
    sh("kill -9 $$", &r);
    CHECK(r.spawned && WIFSIGNALED(r.status) && WTERMSIG(r.status) == SIGKILL &&
              strcmp(r.cause, "killed by signal 9 (SIGKILL)") == 0,
          "signal cause: %s", r.cause);
    sh("kill -SEGV $$", &r);
    CHECK(strcmp(r.cause, "killed by signal 11 (SIGSEGV)") == 0, "segv cause: %s", r.cause);
    /* an x32 system call: the filter kills the process */
    py("import ctypes\nctypes.CDLL(None).syscall(0x40000000 | 39)\nprint('alive')\n", &r);
    CHECK(r.spawned && WIFSIGNALED(r.status) && WTERMSIG(r.status) == SIGSYS &&
              strcmp(r.cause, "killed for a forbidden system call (seccomp)") == 0 &&
              !strstr(r.out, "alive"),
          "seccomp cause: %s [%s]", r.cause, r.out);
    /* a command that cannot be executed: spawn_process fails with the reason */
    char *argv[] = {"/nonexistent/binary", NULL};
    run(argv, &r);
    CHECK(!r.spawned && strstr(r.err, "execve /nonexistent/binary: No such file"),
          "execve error: %s", r.err);
}

static void test_signal_and_kill(void)
{
    struct sandbox_config cfg = base_cfg;
    char *argv[] = {"/bin/sh", "-c", "sleep 60 & exec sleep 60", NULL};
    struct spawn_request req = {.cfg = &cfg, .argv = argv, .channel_fd = -1};
    struct jailed j;
    char err[1024], cause[256];
    CHECK(spawn_process(&req, &j, err, sizeof err) == 0, "spawn: %s", err);
    struct timespec ts = {0, 100 * 1000 * 1000};
    nanosleep(&ts, NULL);
    spawn_signal(&j, SIGINT);
    int st = spawn_reap(&j, cause, sizeof cause);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGINT, "SIGINT forwarded: %s", cause);
    CHECK(strcmp(cause, "killed by signal 2 (SIGINT)") == 0, "SIGINT cause: %s", cause);

    CHECK(spawn_process(&req, &j, err, sizeof err) == 0, "spawn: %s", err);
    pid_t init = j.pid;
    spawn_kill(&j);
    spawn_kill(&j); /* twice is fine */
    CHECK(kill(init, 0) < 0 && errno == ESRCH, "init survived spawn_kill");
    CHECK(j.reaped && j.pidfd < 0 && j.status_fd < 0, "spawn_kill did not release");
}

/* The jail dies with the thread that spawned it (PR_SET_PDEATHSIG on init). */
static void test_parent_death(void)
{
    int p[2];
    if (pipe(p) < 0)
        return;
    pid_t helper = fork();
    if (helper == 0) {
        close(p[0]);
        char *argv[] = {"/bin/sleep", "60", NULL};
        struct spawn_request req = {.cfg = &base_cfg, .argv = argv, .channel_fd = -1};
        struct jailed j;
        char err[1024];
        if (spawn_process(&req, &j, err, sizeof err) < 0)
            _exit(1);
        if (write(p[1], &j.pid, sizeof j.pid) < 0)
            _exit(1);
        _exit(0); /* without reaping or killing */
    }
    close(p[1]);
    pid_t init = -1;
    ssize_t n = read(p[0], &init, sizeof init);
    close(p[0]);
    waitpid(helper, NULL, 0);
    CHECK(n == (ssize_t)sizeof init && init > 0, "helper could not spawn");
    bool gone = false;
    for (int i = 0; i < 100 && n > 0; i++) {
        if (kill(init, 0) < 0 && errno == ESRCH) {
            gone = true;
            break;
        }
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    CHECK(gone, "the jail outlived the process that spawned it");
}

static void test_workdir_modes(void)
{
    struct result r;
    struct sandbox_config cfg = base_cfg;
    cfg.workdir_writable = true;
    char *argv[] = {"/bin/sh", "-c", "echo data > written.txt && echo ok >&3", NULL};
    run_cfg(&cfg, argv, NULL, &r);
    CHECK(exited(&r, 0) && strcmp(r.out, "ok\n") == 0, "rw workdir: %s %s [%s]", r.err, r.cause,
          r.out);
    char path[128];
    snprintf(path, sizeof path, "%s/written.txt", workdir);
    struct stat st;
    CHECK(stat(path, &st) == 0 && st.st_uid == geteuid(), "written file owner: %d", (int)st.st_uid);
    unlink(path);
    sh("echo data > written.txt 2>/dev/null || echo refused", &r);
    CHECK(strcmp(r.out, "refused\n") == 0, "ro workdir writable: [%s]", r.out);
}

/* A workdir that is a home: its credentials and Jupyter's connection files are hidden. */
static void test_secrets_masked(void)
{
    char path[256];
    const char *dirs[] = {".ssh",
                          ".local",
                          ".local/share",
                          ".local/share/jupyter",
                          ".local/share/jupyter/runtime",
                          ".config",
                          ".config/warden"};
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", workdir, dirs[i]);
        mkdir(path, 0755);
    }
    const char *files[] = {".ssh/id_rsa", ".local/share/jupyter/runtime/kernel-1.json",
                           ".config/warden/config.json", ".netrc", "notebook.ipynb"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", workdir, files[i]);
        FILE *f = fopen(path, "w");
        if (f) {
            fputs("SECRET-CONTENT\n", f);
            fclose(f);
        }
        chmod(path, 0644);
    }
    char *old_home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;
    setenv("HOME", workdir, 1);
    struct result r;
    sh("cat .ssh/id_rsa .local/share/jupyter/runtime/kernel-1.json .config/warden/config.json "
       ".netrc 2>/dev/null; ls .ssh .local/share/jupyter/runtime 2>/dev/null; cat notebook.ipynb",
       &r);
    if (old_home) {
        setenv("HOME", old_home, 1);
        free(old_home);
    }
    CHECK(strcmp(r.out, "SECRET-CONTENT\n") == 0, "home secrets visible: [%s] %s %s", r.out, r.err,
          r.cause);
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", workdir, files[i]);
        unlink(path);
    }
    for (size_t i = sizeof dirs / sizeof dirs[0]; i-- > 0;) {
        snprintf(path, sizeof path, "%s/%s", workdir, dirs[i]);
        rmdir(path);
    }
    /* a shared directory is never a workdir */
    struct sandbox_config cfg = base_cfg;
    snprintf(cfg.workdir, sizeof cfg.workdir, "/tmp");
    char *argv[] = {"/bin/true", NULL};
    run_cfg(&cfg, argv, NULL, &r);
    CHECK(!r.spawned && strstr(r.err, "working directory is /tmp: refusing"), "workdir /tmp: %s",
          r.err);
}

static void test_limits(void)
{
    struct result r;
    struct sandbox_config cfg = base_cfg;
    cfg.limits.memory_bytes = 256u << 20;
    cfg.limits.max_tasks = 32;
    cfg.limits.file_size_bytes = 1u << 20;
    cfg.limits.open_files = 64;
    char *argv[] = {"/usr/bin/python3", "-I", "-c",
                    "import os, sys\nout = os.fdopen(3, 'w', buffering=1)\n"
                    "try:\n    open('/tmp/big', 'wb').write(b'x' * (2 << 20)); out.write('fsize "
                    "not enforced\\n')\n"
                    "except OSError as e:\n    out.write('fsize %d\\n' % e.errno)\n"
                    "fds = []\ntry:\n    while True: fds.append(os.open('/dev/null', 0))\n"
                    "except OSError as e:\n    out.write('nofile %d %d\\n' % (e.errno, len(fds)))\n"
                    "for f in fds: os.close(f)\n"
                    "n = 0\ntry:\n    while n < 100:\n        pid = os.fork()\n"
                    "        if pid == 0:\n            import time; time.sleep(3); os._exit(0)\n   "
                    "     n += 1\n"
                    "except OSError as e:\n    out.write('tasks %d %d\\n' % (e.errno, n))\n"
                    "try:\n    x = bytearray(512 << 20)\n    x[::4096] = b'y' * len(x[::4096])\n   "
                    " out.write('memory not enforced\\n')\n"
                    "except MemoryError:\n    out.write('MemoryError\\n')\n",
                    NULL};
    run_cfg(&cfg, argv, NULL, &r);
    CHECK(strstr(r.out, "fsize 27\n") != NULL, "RLIMIT_FSIZE: [%s] %s", r.out, r.cause); /* EFBIG */
    CHECK(strstr(r.out, "nofile 24 ") != NULL, "RLIMIT_NOFILE: [%s]", r.out); /* EMFILE */
    CHECK(strstr(r.out, "tasks 11 ") != NULL, "tasks limit: [%s]", r.out);    /* EAGAIN */
    char desc[1024];
    spawn_describe_isolation(&cfg, desc, sizeof desc);
    if (strstr(desc, "via cgroup")) {
        CHECK(strcmp(r.cause, "memory limit of 256 MiB reached") == 0, "cgroup OOM cause: %s [%s]",
              r.cause, r.out);
    } else {
        CHECK(strstr(r.out, "MemoryError") != NULL, "RLIMIT_AS: %s [%s]", r.cause, r.out);
    }
}

/* Without cgroups the task limit is RLIMIT_NPROC, which (Linux >= 5.14) counts the processes of
 * the jail's own user namespace only: 40 processes of ours outside must not eat into it. */
static void test_nproc_per_namespace(void)
{
    pid_t kids[40];
    int n = 0;
    for (; n < 40; n++) {
        kids[n] = fork();
        if (kids[n] == 0) {
            pause();
            _exit(0);
        }
        if (kids[n] < 0)
            break;
    }
    setenv("WARDEN_JAIL_NO_CGROUP", "1", 1);
    struct sandbox_config cfg = base_cfg;
    cfg.limits.max_tasks = 32;
    struct result r;
    char *argv[] = {"/usr/bin/python3", "-I", "-c",
                    "import os, time\nn = 0\ntry:\n    while n < 100:\n"
                    "        if os.fork() == 0:\n            time.sleep(3); os._exit(0)\n"
                    "        n += 1\nexcept OSError as e:\n    os.write(3, b'forked %d' % n)\n",
                    NULL};
    run_cfg(&cfg, argv, NULL, &r);
    unsetenv("WARDEN_JAIL_NO_CGROUP");
    for (int i = 0; i < n; i++) {
        kill(kids[i], SIGKILL);
        waitpid(kids[i], NULL, 0);
    }
    /* 32 = init + python + 30 */
    CHECK(strcmp(r.out, "forked 30") == 0, "RLIMIT_NPROC per user namespace: [%s] %s", r.out,
          r.cause);
}

static void test_unjailed(void)
{
    struct result r;
    struct sandbox_config cfg = base_cfg;
    cfg.unjailed = true;
    setenv("WARDEN_TEST_SECRET", "hunter2-secret", 1);
    char *argv[] = {"/bin/sh", "-c", "env >&3; pwd >&3; exit 4", NULL};
    run_cfg(&cfg, argv, NULL, &r);
    unsetenv("WARDEN_TEST_SECRET");
    CHECK(exited(&r, 4), "unjailed: %s %s", r.err, r.cause);
    CHECK(!strstr(r.out, "hunter2") && strstr(r.out, "MPLBACKEND=Agg") && strstr(r.out, workdir),
          "unjailed env/cwd: [%s]", r.out);
    CHECK(strcmp(spawn_runtime_dir(&cfg), cfg.runtime_dir) == 0 &&
              strcmp(spawn_runtime_dir(&base_cfg), JAIL_RUNTIME_DIR) == 0,
          "spawn_runtime_dir");
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    char why[2048];
    sandbox_config_defaults(&base_cfg);
    /* the namespace jail itself (test_jail_landlock.c tests the other): skip where refused */
    snprintf(base_cfg.jail, sizeof base_cfg.jail, "namespaces");
    if (jail_check(&base_cfg, why, sizeof why) < 0) {
        printf("SKIP: this machine cannot jail: %s\n", why);
        return 77;
    }
    snprintf(workdir, sizeof workdir, "/tmp/warden-test-jail.XXXXXX");
    if (!mkdtemp(workdir)) {
        perror("mkdtemp");
        return 1;
    }
    chmod(workdir, 0755);
    snprintf(base_cfg.workdir, sizeof base_cfg.workdir, "%s", workdir);
    char probe[PATH_MAX + 32];
    snprintf(probe, sizeof probe, "%s/warden_worker.py", base_cfg.runtime_dir);
    if (access(probe, R_OK) != 0) {
        printf("note: no worker runtime at %s; testing without it\n", base_cfg.runtime_dir);
        base_cfg.runtime_dir[0] = '\0';
    }

    test_identity();
    test_root_listing();
    test_network();
    test_env();
    test_fds_and_privileges();
    test_init_scrubbed();
    test_filesystem();
    test_syscalls();
    test_causes();
    test_signal_and_kill();
    test_parent_death();
    test_workdir_modes();
    test_secrets_masked();
    test_limits();
    test_nproc_per_namespace();
    test_unjailed();

    rmdir(workdir);
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
