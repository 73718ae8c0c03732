/* The Landlock jail (sandbox.jail = "landlock"), tested for real through spawn_process(), like
 * test_jail.c tests the namespace jail: files outside refused, the notebook directory read-only
 * (read-write when configured) with its secrets left out, the scratch directory private, writable
 * and removed, TCP connect/bind, UDP and unix sockets refused while socketpair works, abstract
 * sockets and signals out of reach, no ptrace of the kernel, rlimits, the processes the command
 * leaves killed, and the words of the scratch limit. Skips (77) only when this kernel has no
 * Landlock. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "jail_fixture.h"
#include "sandbox/jail/spawn.h"

static char root[64];     /* holds the notebook directory and a secret beside it */
static char workdir[128]; /* the notebook directory */
static char outside[160]; /* a file beside the notebook directory: never visible */
static struct sandbox_config base_cfg;
static char kernel_env[32]; /* KPID=<this process>, for the commands */
static int abi;

static void py_cfg(const struct sandbox_config *cfg, const char *code, struct result *r)
{
    char full[8192];
    snprintf(
        full, sizeof full,
        "import os, sys, errno\nsys.stdout = os.fdopen(3, 'w')\nKPID = int(os.environ['KPID'])\n"
        "def t(name, f):\n"
        "    try:\n        f(); print(name, 'ALLOWED')\n"
        "    except OSError as e:\n        print(name, errno.errorcode[e.errno])\n%s",
        code);
    char *argv[] = {"/usr/bin/python3", "-I", "-c", full, NULL};
    char *env[] = {kernel_env, NULL};
    run_cfg(cfg, argv, env, r);
}

static void py(const char *code, struct result *r) { py_cfg(&base_cfg, code, r); }

/* `line` is one whole line of the output. */
static bool has_line(const struct result *r, const char *line)
{
    char needle[256];
    snprintf(needle, sizeof needle, "\n%s\n", line);
    return strncmp(r->out, needle + 1, strlen(needle) - 1) == 0 || strstr(r->out, needle);
}

static void test_identity_and_scratch(void)
{
    struct result r;
    py("st = os.stat(os.environ['HOME'])\n"
       "print(os.getuid(), os.getcwd(), os.environ['HOME'] == os.environ['TMPDIR'])\n"
       "print(oct(st.st_mode & 0o777), st.st_uid == os.getuid())\n"
       "print(os.environ['HOME'])\n"
       "open(os.environ['HOME'] + '/f', 'w').write('x'); os.mkdir(os.environ['HOME'] + '/d')\n"
       "os.rename(os.environ['HOME'] + '/f', os.environ['HOME'] + '/d/f'); print('scratch rw')\n",
       &r);
    CHECK(exited(&r, 0), "identity: %s %s [%s]", r.err, r.cause, r.out);
    unsigned uid = geteuid() == 0 ? 2000000u : (unsigned)geteuid();
    char expect[512];
    snprintf(expect, sizeof expect, "%u %s True\n0o700 True\n", uid, workdir);
    CHECK(strncmp(r.out, expect, strlen(expect)) == 0, "identity: got [%s] want [%s...]", r.out,
          expect);
    CHECK(has_line(&r, "scratch rw"), "scratch writable: [%s]", r.out);
    char scratch[PATH_MAX] = "";
    const char *third = strchr(strchr(r.out, '\n') + 1, '\n') + 1;
    snprintf(scratch, sizeof scratch, "%.*s", (int)strcspn(third, "\n"), third);
    const char *home = getenv("HOME");
    CHECK(scratch[0] == '/' && (!home || strncmp(scratch, home, strlen(home)) != 0),
          "scratch %s outside the home", scratch);
    CHECK(access(scratch, F_OK) != 0 && errno == ENOENT, "scratch %s removed after the reap",
          scratch);
}

static void test_files(void)
{
    struct result r;
    char code[2048];
    snprintf(code, sizeof code,
             "t('shadow', lambda: open('/etc/shadow').read())\n"
             "t('tmp', lambda: os.listdir('/tmp'))\n"
             "t('root home', lambda: os.listdir(os.path.expanduser('~root')))\n"
             "t('outside', lambda: open('%s').read())\n"
             "t('kernel environ', lambda: open('/proc/%%d/environ' %% KPID).read())\n"
             "t('kernel mem', lambda: open('/proc/%%d/mem' %% KPID, 'rb').read(1))\n"
             "t('write notebook', lambda: open('new.txt', 'w'))\n"
             "t('write usr', lambda: open('/usr/x', 'w'))\n"
             "t('truncate notebook', lambda: os.truncate('data.txt', 0))\n"
             "t('read notebook', lambda: open('data.txt').read())\n"
             "t('python stdlib', lambda: __import__('json'))\n"
             "t('dev null', lambda: open('/dev/null', 'w').write('x'))\n",
             outside);
    py(code, &r);
    CHECK(exited(&r, 0), "files: %s %s [%s]", r.err, r.cause, r.out);
    static const char *const expect[] = {"shadow EACCES",         "tmp EACCES",
                                         "root home EACCES",      "outside EACCES",
                                         "kernel environ EACCES", "kernel mem EACCES",
                                         "write notebook EACCES", "write usr EACCES",
                                         "read notebook ALLOWED", "python stdlib ALLOWED",
                                         "dev null ALLOWED"};
    for (size_t i = 0; i < sizeof expect / sizeof *expect; i++)
        CHECK(has_line(&r, expect[i]), "want \"%s\": [%s]", expect[i], r.out);
    if (abi >= 3) /* truncate(2) is restricted from ABI 3 */
        CHECK(has_line(&r, "truncate notebook EACCES"), "truncate: [%s]", r.out);
    char data[PATH_MAX + 16];
    snprintf(data, sizeof data, "%s/data.txt", workdir);
    struct stat st;
    CHECK(stat(data, &st) == 0 && st.st_size == 5, "data.txt untouched");

    struct sandbox_config cfg = base_cfg;
    cfg.workdir_writable = true;
    py_cfg(&cfg,
           "open('new.txt', 'w').write('hi'); os.mkdir('sub'); open('sub/a', 'w').write('a')\n"
           "os.rename('sub/a', 'b'); os.remove('b'); os.rmdir('sub'); print('rw ok')\n",
           &r);
    CHECK(exited(&r, 0) && has_line(&r, "rw ok"), "writable notebook: %s [%s]", r.cause, r.out);
    char made[PATH_MAX + 16];
    snprintf(made, sizeof made, "%s/new.txt", workdir);
    CHECK(access(made, F_OK) == 0, "new.txt written on the host");
    unlink(made);
}

/* The notebook directory as a home: its secrets are out of the rules (names listed, contents
 * not read), the rest of it readable. */
static void test_secrets_left_out(void)
{
    char dir[PATH_MAX], file[PATH_MAX + 32];
    snprintf(dir, sizeof dir, "%s/.ssh", workdir);
    mkdir(dir, 0755);
    snprintf(file, sizeof file, "%s/id_rsa", dir);
    FILE *f = fopen(file, "w");
    if (f) {
        fputs("PRIVATE\n", f);
        fclose(f);
    }
    chmod(file, 0644);
    struct result r;
    py("t('key', lambda: open('.ssh/id_rsa').read())\n"
       "t('list ssh', lambda: os.listdir('.ssh'))\n"
       "t('data', lambda: open('data.txt').read())\n"
       "t('list notebook', lambda: os.listdir('.'))\n",
       &r);
    CHECK(has_line(&r, "key EACCES") && has_line(&r, "list ssh ALLOWED") &&
              has_line(&r, "data ALLOWED") && has_line(&r, "list notebook ALLOWED"),
          "secrets: %s [%s]", r.cause, r.out);
    unlink(file);
    rmdir(dir);
}

static void test_network(void)
{
    struct result r;
    /* an abstract socket of the kernel's: out of reach (no AF_UNIX socket at all, and scoped) */
    int lsn = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    memcpy(sa.sun_path, "\0warden-test-abstract", 22);
    bool listening =
        lsn >= 0 &&
        bind(lsn, (struct sockaddr *)&sa, offsetof(struct sockaddr_un, sun_path) + 22) == 0 &&
        listen(lsn, 1) == 0;
    py("import socket\n"
       "t('tcp connect', lambda: socket.create_connection(('127.0.0.1', 9), timeout=5))\n"
       "t('tcp6 connect', lambda: socket.create_connection(('::1', 9), timeout=5))\n"
       "t('tcp bind', lambda: socket.socket().bind(('127.0.0.1', 0)))\n"
       "t('udp', lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM))\n"
       "t('udp6', lambda: socket.socket(socket.AF_INET6, socket.SOCK_DGRAM))\n"
       "t('raw', lambda: socket.socket(socket.AF_INET, socket.SOCK_RAW, 1))\n"
       "t('sctp', lambda: socket.socket(socket.AF_INET, socket.SOCK_STREAM, 132))\n"
       "t('mptcp', lambda: socket.socket(socket.AF_INET, socket.SOCK_STREAM, 262))\n"
       "t('packet', lambda: socket.socket(17, socket.SOCK_RAW, 0))\n"
       "t('netlink', lambda: socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0))\n"
       "t('unix', lambda: socket.socket(socket.AF_UNIX, socket.SOCK_STREAM))\n"
       "t('abstract', lambda: socket.socket(socket.AF_UNIX).connect('\\0warden-test-abstract'))\n"
       "t('socketpair', lambda: socket.socketpair())\n",
       &r);
    if (lsn >= 0)
        close(lsn);
    CHECK(exited(&r, 0), "network: %s %s [%s]", r.err, r.cause, r.out);
    if (abi >= 4) {
        CHECK(has_line(&r, "tcp connect EACCES") && has_line(&r, "tcp6 connect EACCES") &&
                  has_line(&r, "tcp bind EACCES"),
              "TCP (Landlock ABI %d): [%s]", abi, r.out);
    }
    static const char *const eperm[] = {"udp",    "udp6",    "raw",  "sctp",    "mptcp",
                                        "packet", "netlink", "unix", "abstract"};
    for (size_t i = 0; i < sizeof eperm / sizeof *eperm; i++) {
        char want[64];
        snprintf(want, sizeof want, "%s EPERM", eperm[i]);
        CHECK(has_line(&r, want), "want \"%s\": [%s]", want, r.out);
    }
    CHECK(has_line(&r, "socketpair ALLOWED"), "socketpair: [%s]", r.out);
    CHECK(listening, "the test's abstract socket could be made");
}

static void test_processes(void)
{
    struct result r;
    py("import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\n"
       "t('kill kernel', lambda: os.kill(KPID, 0))\n"
       "t('kill init', lambda: os.kill(1, 0))\n"
       "t('kill own init', lambda: os.kill(os.getppid(), 9))\n"
       "r = libc.ptrace(16, KPID, 0, 0)\nprint('ptrace', r, errno.errorcode[ctypes.get_errno()])\n"
       "r = libc.unshare(0x10000000)\nprint('unshare', r, errno.errorcode[ctypes.get_errno()])\n"
       "r = libc.shmget(0, 4096, 0o1600)\nprint('shmget', r, errno.errorcode[ctypes.get_errno()])\n"
       "st = dict(l.split(':\\t', 1) for l in open('/proc/self/status') if ':\\t' in l)\n"
       "print('caps', st['CapEff'].strip(), st['CapBnd'].strip() if os.getuid() else '', "
       "'nnp', st['NoNewPrivs'].strip(), 'seccomp', st['Seccomp'].strip())\n",
       &r);
    CHECK(exited(&r, 0), "processes: %s %s [%s]", r.err, r.cause, r.out);
    CHECK(has_line(&r, "kill kernel EPERM") && has_line(&r, "ptrace -1 EPERM") &&
              has_line(&r, "unshare -1 EPERM") && has_line(&r, "shmget -1 EPERM"),
          "signals/ptrace/namespaces: [%s]", r.out);
    /* the host's init: refused by the uid of its own (root) or the signal scope (ABI 6) */
    if (geteuid() == 0 || abi >= 6)
        CHECK(has_line(&r, "kill init EPERM"), "kill(1): [%s]", r.out);
    /* the command's domain is nested in its init's: init, which kills what it leaves, is out of
     * its reach (ABI 6) */
    if (abi >= 6)
        CHECK(has_line(&r, "kill own init EPERM"), "kill(init): [%s]", r.out);
    CHECK(strstr(r.out, "caps 0000000000000000 ") && strstr(r.out, "nnp 1 seccomp 2"),
          "no capabilities, no_new_privs, seccomp: [%s]", r.out);
}

/* No pid namespace: the jail's init kills what the command left behind (a new session, a
 * double fork) before it reports the command's end. */
static void test_leftovers_killed(void)
{
    struct result r;
    py("import subprocess\n"
       "p = subprocess.Popen(['/bin/sh', '-c', '/bin/sleep 1000 & echo $!'], "
       "start_new_session=True, stdout=subprocess.PIPE)\n"
       "print(int(p.stdout.readline()))\n",
       &r);
    CHECK(exited(&r, 0), "leftovers: %s %s [%s]", r.err, r.cause, r.out);
    long pid = strtol(r.out, NULL, 10);
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/%ld", pid);
    CHECK(pid > 1 && access(proc, F_OK) != 0, "pid %ld outlived the jail", pid);
}

static void test_limits(void)
{
    struct result r;
    struct sandbox_config cfg = base_cfg;
    cfg.limits.file_size_bytes = 1u << 20;
    cfg.limits.open_files = 64;
    py_cfg(&cfg,
           "t('fsize', lambda: open(os.environ['HOME'] + '/big', 'wb').write(b'x' * (2 << 20)))\n"
           "import resource\n"
           "print('nofile', resource.getrlimit(resource.RLIMIT_NOFILE)[0])\n"
           "print('core', resource.getrlimit(resource.RLIMIT_CORE)[0])\n",
           &r);
    CHECK(has_line(&r, "fsize EFBIG") && has_line(&r, "nofile 64") && has_line(&r, "core 0"),
          "rlimits: %s [%s]", r.cause, r.out);

    /* without a cgroup: RLIMIT_AS, and RLIMIT_NPROC as the uid's tasks at the start plus the
     * budget (the uid is shared: the kernel's own, or the one all root-run jails use), so a fork
     * loop stops within max_tasks */
    setenv("WARDEN_JAIL_NO_CGROUP", "1", 1);
    cfg = base_cfg;
    cfg.limits.memory_bytes = 256u << 20;
    cfg.limits.max_tasks = 32;
    py_cfg(&cfg,
           "import resource\n"
           "print('as', resource.getrlimit(resource.RLIMIT_AS)[0] >> 20)\n"
           "print('nproc', resource.getrlimit(resource.RLIMIT_NPROC)[0])\n"
           "import time\n"
           "n = 0\n"
           "try:\n"
           "    while n < 200:\n"
           "        if os.fork() == 0:\n"
           "            time.sleep(3); os._exit(0)\n"
           "        n += 1\n"
           "except OSError as e:\n"
           "    print('forked', n, e.errno)\n"
           "t('memory', lambda: bytearray(512 << 20))",
           &r);
    unsetenv("WARDEN_JAIL_NO_CGROUP");
    CHECK(has_line(&r, "as 256"), "RLIMIT_AS: %s [%s]", r.cause, r.out);
    /* The limit is the budget plus the uid's tasks when the worker started; earlier jails of
     * this uid may still be exiting then, and each one gone while the loop runs leaves a slot to
     * it: so the loop is bounded by the limit itself, which must be the budget plus a few. */
    const char *forked = strstr(r.out, "forked "), *nproc_line = strstr(r.out, "nproc ");
    int nforked = -1, fork_errno = 0, nproc = -1;
    if (forked)
        sscanf(forked, "forked %d %d", &nforked, &fork_errno);
    if (nproc_line)
        sscanf(nproc_line, "nproc %d", &nproc);
    CHECK(nproc >= 32 && nproc <= 32 + 16 && nforked >= 0 && nforked < nproc &&
              fork_errno == EAGAIN,
          "a fork loop stops within the task budget: [%s]", r.out);
    CHECK(exited(&r, 1) || strstr(r.out, "MemoryError") || strstr(r.cause, "signal"),
          "RLIMIT_AS holds: %s [%s]", r.cause, r.out);
}

/* The scratch limit: spawn_check_scratch ends the jail, and the reap says which limit. */
static void test_scratch_limit(void)
{
    struct sandbox_config cfg = base_cfg;
    cfg.limits.tmpfs_bytes = 4u << 20;
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0, "socketpair");
    char *argv[] = {"/bin/sh", "-c",
                    "head -c 6000000 /dev/zero > \"$HOME/fill\" && echo full >&3 && exec sleep 60",
                    NULL};
    struct spawn_request req = {.cfg = &cfg, .argv = argv, .channel_fd = sv[1]};
    struct jailed j;
    char err[1024];
    if (spawn_process(&req, &j, err, sizeof err) < 0) {
        CHECK(false, "spawn: %s", err);
        return;
    }
    close(sv[1]);
    char buf[16] = "";
    ssize_t n = read(sv[0], buf, sizeof buf - 1);
    CHECK(n == 5 && strcmp(buf, "full\n") == 0, "filled: [%s]", buf);
    CHECK(spawn_check_scratch(&j), "over the limit");
    char cause[256];
    spawn_reap(&j, cause, sizeof cause);
    close(sv[0]);
    CHECK(strcmp(cause, "scratch space limit of 4 MiB reached") == 0, "cause: %s", cause);
}

/* As root, a notebook directory only root may enter: the jail keeps uid 0, with no capability in
 * any set (ABI 6: its signals are scoped). */
static void test_root_private_directory(void)
{
    if (geteuid() != 0 || abi < 6)
        return;
    char dir[PATH_MAX], file[PATH_MAX + 16];
    snprintf(dir, sizeof dir, "%s/private", root);
    mkdir(dir, 0700);
    snprintf(file, sizeof file, "%s/mine.txt", dir);
    FILE *f = fopen(file, "w");
    if (f) {
        fputs("mine\n", f);
        fclose(f);
    }
    chmod(file, 0600);
    struct sandbox_config cfg = base_cfg;
    snprintf(cfg.workdir, sizeof cfg.workdir, "%s", dir);
    struct result r;
    py_cfg(&cfg,
           "st = dict(l.split(':\\t', 1) for l in open('/proc/self/status') if ':\\t' in l)\n"
           "print(os.getuid(), open('mine.txt').read().strip(), st['CapEff'].strip(), "
           "st['CapBnd'].strip(), st['CapPrm'].strip())\n"
           "t('root home', lambda: os.listdir('/root'))\n"
           "t('kill kernel', lambda: os.kill(KPID, 0))\n",
           &r);
    CHECK(exited(&r, 0) &&
              has_line(&r, "0 mine 0000000000000000 0000000000000000 0000000000000000") &&
              has_line(&r, "root home EACCES") && has_line(&r, "kill kernel EPERM"),
          "root's private directory: %s %s [%s]", r.err, r.cause, r.out);
    unlink(file);
    rmdir(dir);
}

static void test_selection(void)
{
    char why[2048];
    CHECK(jail_check(&base_cfg, why, sizeof why) == 0, "jail_check(landlock): %s", why);
    CHECK(spawn_jail_kind(&base_cfg) == SANDBOX_JAIL_LANDLOCK, "forced kind");
    CHECK(strcmp(spawn_runtime_dir(&base_cfg), base_cfg.runtime_dir) == 0,
          "the runtime at its host path");
    const char *notice = spawn_jail_notice(&base_cfg);
    CHECK(notice && strcmp(notice, "jail: Landlock mode \xe2\x80\x94 no pid/mount/network "
                                   "namespaces; see warden doctor") == 0,
          "notice: %s", notice ? notice : "(none)");
    char desc[4096];
    spawn_describe_isolation(&base_cfg, desc, sizeof desc);
    CHECK(strstr(desc, "other processes are visible in /proc") &&
              strstr(desc, "the host's network interfaces are listed"),
          "describe: %s", desc);
    struct sandbox_config ns = base_cfg;
    snprintf(ns.jail, sizeof ns.jail, "namespaces");
    CHECK(spawn_jail_notice(&ns) == NULL && strcmp(spawn_runtime_dir(&ns), JAIL_RUNTIME_DIR) == 0,
          "the namespace jail: no notice, its own runtime path");
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    abi = (int)syscall(444, NULL, 0, 1); /* landlock_create_ruleset(NULL, 0, VERSION) */
    if (abi < 1) {
        printf("SKIP: this kernel has no Landlock\n");
        return 77;
    }
    sandbox_config_defaults(&base_cfg);
    snprintf(base_cfg.jail, sizeof base_cfg.jail, "landlock");
    snprintf(kernel_env, sizeof kernel_env, "KPID=%d", (int)getpid());
    snprintf(root, sizeof root, "/tmp/warden-test-landlock.XXXXXX");
    if (!mkdtemp(root)) {
        perror("mkdtemp");
        return 1;
    }
    chmod(root, 0755);
    snprintf(workdir, sizeof workdir, "%s/nb", root);
    snprintf(outside, sizeof outside, "%s/secret.txt", root);
    mkdir(workdir, 0755);
    chmod(workdir, geteuid() == 0 ? 0777 : 0755); /* writable for the jail's own uid as root */
    char data[PATH_MAX];
    snprintf(data, sizeof data, "%s/data.txt", workdir);
    FILE *f = fopen(data, "w");
    FILE *g = fopen(outside, "w");
    if (!f || !g)
        return 1;
    fputs("data\n", f);
    fputs("secret\n", g);
    fclose(f);
    fclose(g);
    chmod(data, 0644);
    chmod(outside, 0644);
    snprintf(base_cfg.workdir, sizeof base_cfg.workdir, "%s", workdir);

    test_selection();
    test_identity_and_scratch();
    test_files();
    test_secrets_left_out();
    test_network();
    test_processes();
    test_leftovers_killed();
    test_root_private_directory();
    test_limits();
    test_scratch_limit();

    unlink(data);
    unlink(outside);
    rmdir(workdir);
    rmdir(root);
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
