/* `warden doctor`: what isolation is active on this machine, checked for real by building the
 * worker's jail and running a probe inside it, the Python and libraries the worker sees, and each
 * problem with its fix. Exit 0 if cells can run jailed, 1 otherwise. */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/format.h"
#include "sandbox/jail/spawn.h"
#include "sandbox/sandbox.h"

static const char probe_code[] =
    "import os, sys, json, socket, ctypes, errno, resource\n"
    "out = {}\n"
    "def ns(n):\n"
    "    try: return os.readlink('/proc/self/ns/' + n)\n"
    "    except OSError as e: return 'error: %s' % e\n"
    "out['ns'] = {n: ns(n) for n in ('user','pid','mnt','net','ipc','uts','cgroup')}\n"
    "out['pid'] = os.getpid(); out['uid'] = os.getuid(); out['gid'] = os.getgid()\n"
    "out['uid_map'] = open('/proc/self/uid_map').read().split()\n"
    "st = dict(l.rstrip('\\n').split(':\\t', 1) for l in open('/proc/self/status') if ':\\t' in "
    "l)\n"
    "for k in ('CapInh','CapPrm','CapEff','CapBnd','CapAmb','NoNewPrivs','Seccomp'):\n"
    "    out[k] = st.get(k, '?').strip()\n"
    "def err(f):\n"
    "    try: f(); return 'allowed'\n"
    "    except OSError as e: return errno.errorcode.get(e.errno, '?')\n"
    "try: out['root'] = sorted(os.listdir('/'))\n"
    "except OSError as e: out['root'] = ['(cannot be listed: %s)' % errno.errorcode.get(e.errno)]\n"
    "out['tcp'] = err(lambda: socket.create_connection(('127.0.0.1', 9), timeout=5))\n"
    "out['unix'] = err(lambda: socket.socket(socket.AF_UNIX))\n"
    "out['tmp'] = err(lambda: os.listdir('/tmp'))\n"
    "out['nprocs'] = len([p for p in os.listdir('/proc') if p.isdigit()])\n"
    "out['hostname'] = socket.gethostname()\n"
    "out['ifaces'] = [l.split(':')[0].strip() for l in open('/proc/net/dev').readlines()[2:]]\n"
    "libc = ctypes.CDLL(None, use_errno=True)\n"
    "r = libc.unshare(0x10000000)\n"
    "out['unshare'] = errno.errorcode.get(ctypes.get_errno(), '?') if r else 'allowed'\n"
    "try:\n"
    "    socket.socket(socket.AF_NETLINK, socket.SOCK_RAW); out['netlink'] = 'allowed'\n"
    "except OSError as e: out['netlink'] = errno.errorcode.get(e.errno, '?')\n"
    "out['rlimits'] = {n: resource.getrlimit(getattr(resource, n)) for n in\n"
    "    ('RLIMIT_AS','RLIMIT_NPROC','RLIMIT_FSIZE','RLIMIT_NOFILE','RLIMIT_CORE')}\n"
    "out['python'] = sys.version.split()[0]; out['executable'] = sys.executable\n"
    "mods = {}\n"
    "for m in ('numpy','pandas','matplotlib','IPython'):\n"
    "    try:\n"
    "        mod = __import__(m); mods[m] = getattr(mod, '__version__', 'ok')\n"
    "    except BaseException as e: mods[m] = 'ERROR: %s: %s' % (type(e).__name__, e)\n"
    "out['modules'] = mods\n"
    "out['runtime'] = os.path.exists('/opt/warden/runtime/warden_worker.py')\n"
    "os.write(3, json.dumps(out).encode())\n";

static int problems;
static int fatal;
static char problem_text[8][1024];

static void problem(bool is_fatal, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problem(bool is_fatal, const char *fmt, ...)
{
    if (is_fatal)
        fatal++;
    if (problems >= 8)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(problem_text[problems++], sizeof problem_text[0], fmt, ap);
    va_end(ap);
}

static void line(const char *state, const char *what, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void line(const char *state, const char *what, const char *fmt, ...)
{
    char detail[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    printf("  %-7s %-20s %s\n", state, what, detail);
}

static const char *jstr(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "?";
}

/* The CPU quota line: set, off by configuration, or not enforceable here. */
static void report_cpu_quota(const struct sandbox_limits *lim, const struct jailed *info)
{
    if (!lim->cpu_millis) {
        line("[ok]", "CPU quota", "none (sandbox.cpus is 0)");
    } else if (info->cpu_limited) {
        line("[ok]", "CPU quota", "%.1f CPUs for the whole jail via cgroup v%d",
             lim->cpu_millis / 1000.0, info->cgroup_version);
    } else {
        line("[WARN]", "CPU quota", "not enforced: the cpu cgroup controller is not ours");
        problem(false, "no CPU quota: a cell that starts many busy processes can keep every CPU "
                       "busy until it is interrupted. Run warden as root, or from a delegated "
                       "cgroup v2 subtree with the cpu controller");
    }
}

/* Spawn the probe in the jail; returns its JSON output or NULL (err says why). */
static json_t *run_probe(const struct sandbox_config *cfg, struct jailed *info, double *ms,
                         char *err, size_t errlen)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
        snprintf(err, errlen, "socketpair: %s", strerror(errno));
        return NULL;
    }
    char *argv[] = {(char *)cfg->python, "-I", "-c", (char *)probe_code, NULL};
    struct spawn_request req = {.cfg = cfg, .argv = argv, .channel_fd = sv[1]};
    struct jailed j;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = spawn_process(&req, &j, err, errlen);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    *ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    close(sv[1]);
    if (rc < 0) {
        close(sv[0]);
        return NULL;
    }
    *info = j;
    char *buf = malloc(1 << 20);
    size_t used = 0;
    while (buf && used < (1 << 20) - 1) {
        struct pollfd p = {.fd = sv[0], .events = POLLIN};
        if (poll(&p, 1, 60000) <= 0)
            break;
        ssize_t n = read(sv[0], buf + used, (1 << 20) - 1 - used);
        if (n <= 0)
            break;
        used += (size_t)n;
    }
    close(sv[0]);
    char cause[256];
    spawn_kill(&j); /* no-op if it already ended; reaps either way */
    spawn_reap(&j, cause, sizeof cause);
    json_t *out = NULL;
    if (buf) {
        buf[used] = '\0';
        json_error_t jerr;
        out = json_loads(buf, 0, &jerr);
    }
    free(buf);
    if (!json_is_object(out)) {
        json_decref(out);
        snprintf(err, errlen, "the probe produced no report (%s)", cause);
        return NULL;
    }
    return out;
}

/* "label a b c" from a JSON array of strings, stopping before out is full. */
static void list_strings(char *out, size_t len, const char *label, const json_t *items)
{
    size_t k;
    json_t *e;
    char *p = out;
    p += snprintf(p, len, "%s", label);
    json_array_foreach(items, k, e) {
        size_t left = len - (size_t)(p - out);
        if (left < 16)
            break;
        p += snprintf(p, left, " %s", json_string_value(e));
    }
}

static void own_ns(const char *name, char *out, size_t len)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/self/ns/%s", name);
    ssize_t n = readlink(path, out, len - 1);
    out[n > 0 ? n : 0] = '\0';
}

static void report_namespaces(json_t *r)
{
    json_t *ns = json_object_get(r, "ns");
    static const char *const names[] = {"user", "pid", "mnt", "net", "ipc", "uts", "cgroup"};
    static const char *const labels[] = {"user namespace",    "pid namespace", "mount namespace",
                                         "network namespace", "ipc namespace", "uts namespace",
                                         "cgroup namespace"};
    for (size_t i = 0; i < 7; i++) {
        char mine[128];
        own_ns(names[i], mine, sizeof mine);
        const char *theirs = jstr(ns, names[i]);
        bool separate = strcmp(mine, theirs) != 0 && strncmp(theirs, "error", 5) != 0;
        char detail[256] = "";
        if (i == 0) {
            json_t *m = json_object_get(r, "uid_map");
            snprintf(detail, sizeof detail, "; uid %" JSON_INTEGER_FORMAT " inside = host uid %s",
                     json_integer_value(json_object_get(r, "uid")),
                     json_string_value(json_array_get(m, 1))
                         ? json_string_value(json_array_get(m, 1))
                         : "?");
        } else if (i == 1) {
            snprintf(detail, sizeof detail, "; the command is pid %" JSON_INTEGER_FORMAT,
                     json_integer_value(json_object_get(r, "pid")));
        } else if (i == 2) {
            list_strings(detail, sizeof detail, "; / holds:", json_object_get(r, "root"));
        } else if (i == 3) {
            list_strings(detail, sizeof detail, "; interfaces:", json_object_get(r, "ifaces"));
        } else if (i == 5) {
            snprintf(detail, sizeof detail, "; hostname \"%s\"", jstr(r, "hostname"));
        }
        line(separate ? "[ok]" : "[FAIL]", labels[i], "%s%s", separate ? "active" : "NOT active",
             detail);
        if (!separate)
            problem(true, "%s is not separate from the host's", labels[i]);
    }
}

/* landlock: an unprivileged kernel cannot empty the bounding set (that needs CAP_SETPCAP); with
 * no_new_privs nothing in it can be gained, so only the other sets must be empty. */
static void report_privileges(json_t *r, bool landlock)
{
    bool nocaps = true, bounding = true;
    static const char *const caps[] = {"CapInh", "CapPrm", "CapEff", "CapAmb", "CapBnd"};
    for (size_t i = 0; i < 5; i++) {
        bool zero = strcmp(jstr(r, caps[i]), "0000000000000000") == 0;
        if (i == 4)
            bounding = zero;
        else if (!zero)
            nocaps = false;
    }
    if (!landlock)
        nocaps = nocaps && bounding;
    line(nocaps ? "[ok]" : "[FAIL]", "capabilities", "%s",
         !nocaps    ? "some remain"
         : bounding ? "none in any set (bounding, permitted, effective, inheritable, ambient)"
                    : "none held (permitted, effective, inheritable, ambient); the bounding set "
                      "is the host's, which no_new_privs makes unreachable");
    if (!nocaps)
        problem(true, "capabilities remain inside the jail");
    bool nnp = strcmp(jstr(r, "NoNewPrivs"), "1") == 0;
    line(nnp ? "[ok]" : "[FAIL]", "no_new_privs", "%s", nnp ? "set" : "NOT set");
    bool sec = strcmp(jstr(r, "Seccomp"), "2") == 0 && strcmp(jstr(r, "unshare"), "EPERM") == 0;
    line(sec ? "[ok]" : "[FAIL]", "seccomp",
         "filter mode %s; unshare() -> %s, netlink socket -> %s", jstr(r, "Seccomp"),
         jstr(r, "unshare"), jstr(r, "netlink"));
    if (!sec)
        problem(true, "the seccomp filter is not in effect");
}

/* The Landlock jail, seen from inside: what holds, and what it cannot hold (no namespaces). */
static void report_landlock(json_t *r)
{
    bool fs = strcmp(jstr(r, "tmp"), "EACCES") == 0;
    line(fs ? "[ok]" : "[FAIL]", "filesystem",
         "Landlock allow-list; listing /tmp -> %s; / holds "
         "the host's own tree (no pivot_root)",
         jstr(r, "tmp"));
    if (!fs)
        problem(true, "the Landlock rules are not in effect (/tmp can be listed)");
    bool tcp = strcmp(jstr(r, "tcp"), "EACCES") == 0;
    line(tcp ? "[ok]" : "[WARN]", "network",
         "TCP connect -> %s, socket(AF_UNIX) -> %s, netlink "
         "-> %s",
         jstr(r, "tcp"), jstr(r, "unix"), jstr(r, "netlink"));
    if (!tcp)
        problem(false, "TCP is not restricted in the Landlock jail (Landlock ABI < 4, Linux < "
                       "6.7): cells can reach the network");
    line("[info]", "uid", "%" JSON_INTEGER_FORMAT " on the host (no user namespace)",
         json_integer_value(json_object_get(r, "uid")));
    char ifaces[256];
    list_strings(ifaces, sizeof ifaces, "interfaces:", json_object_get(r, "ifaces"));
    line("[WARN]", "cannot hold",
         "other processes are visible in /proc (%" JSON_INTEGER_FORMAT
         " seen: their command lines, not their memory or environment); the host's network "
         "interfaces are listed (%s); no pty, no /dev/shm",
         json_integer_value(json_object_get(r, "nprocs")), ifaces);
}

/* Without a writable cgroup the Landlock jail's tasks are bounded by RLIMIT_NPROC, which counts
 * every task of the jail's uid, host-wide: sandbox.tasks when the uid ran nothing else at the
 * worker's start, else what it ran then plus that budget (jail_plan_shared_uid_tasks: the uid is
 * the kernel's own, or the one every root-run jail gets), which the uid's later processes share. */
static bool report_landlock_tasks(const struct sandbox_config *cfg, json_t *r)
{
    json_t *nproc =
        json_array_get(json_object_get(json_object_get(r, "rlimits"), "RLIMIT_NPROC"), 0);
    json_int_t limit = json_integer_value(nproc), budget = (json_int_t)cfg->limits.max_tasks;
    json_int_t uid = json_integer_value(json_object_get(r, "uid"));
    if (limit == budget) {
        line("[ok]", "task limit", "%u processes+threads via RLIMIT_NPROC (a uid of its own)",
             cfg->limits.max_tasks);
        return true;
    }
    if (json_is_integer(nproc) && limit > budget) {
        line("[WARN]", "task limit",
             "%" JSON_INTEGER_FORMAT " processes+threads via RLIMIT_NPROC: %u beyond what uid "
             "%" JSON_INTEGER_FORMAT " ran at the worker's start (%" JSON_INTEGER_FORMAT
             " tasks; the uid is shared: its processes started later use the same budget)",
             limit, cfg->limits.max_tasks, uid, limit - budget);
        problem(false,
                "the Landlock jail's task limit is shared with the other processes of uid "
                "%" JSON_INTEGER_FORMAT ": a fork bomb stops within it, but another "
                "process of that uid can use it up. Give the kernel a writable cgroup (a "
                "delegated cgroup v2 subtree), or run it as root (a uid of the jail's own)",
                uid);
        return true;
    }
    line("[WARN]", "task limit", "none: no writable cgroup, and no RLIMIT_NPROC in the jail");
    problem(false, "the Landlock jail has no task limit here: a fork bomb is stopped only by the "
                   "host's limits. Give the kernel a writable cgroup (a delegated cgroup v2 "
                   "subtree), or run it as root (a uid of the jail's own)");
    return true;
}

static void report_limits(const struct sandbox_config *cfg, const struct jailed *info,
                          const struct utsname *un, json_t *r)
{
    char mem[64];
    format_size(cfg->limits.memory_bytes, mem, sizeof mem);
    if (info->landlock && !info->cgroup_version) {
        line("[ok]", "memory limit", "%s via RLIMIT_AS (no writable cgroup)", mem);
        report_landlock_tasks(cfg, r);
    } else if (info->cgroup_version) {
        line("[ok]", "memory limit", "%s via cgroup v%d", mem, info->cgroup_version);
        line("[ok]", "task limit", "%u processes+threads via cgroup v%d pids",
             cfg->limits.max_tasks, info->cgroup_version);
    } else {
        line("[ok]", "memory limit", "%s via RLIMIT_AS (no writable cgroup)", mem);
        int major = 0, minor = 0;
        sscanf(un->release, "%d.%d", &major, &minor);
        bool per_ns = major > 5 || (major == 5 && minor >= 14);
        line(per_ns ? "[ok]" : "[WARN]", "task limit", "%u processes+threads via RLIMIT_NPROC (%s)",
             cfg->limits.max_tasks,
             per_ns ? "counted per jail: its user namespace has its own count"
                    : "counted over ALL processes of this host user before Linux 5.14");
        if (!per_ns)
            problem(false, "Linux < 5.14: RLIMIT_NPROC counts every process of your user; "
                           "run as root (cgroups) or raise sandbox.tasks");
        problem(false, "no writable cgroup: memory is limited by address space (RLIMIT_AS), "
                       "which is coarser than a cgroup (memory-mapped files count, OOM shows as "
                       "MemoryError). To use cgroups, run warden as root, or from a delegated "
                       "cgroup v2 subtree (e.g. systemd-run --user -p Delegate=yes --scope ...)");
    }
    report_cpu_quota(&cfg->limits, info);
    char fsz[64], tsz[64];
    format_size(cfg->limits.file_size_bytes, fsz, sizeof fsz);
    format_size(cfg->limits.tmpfs_bytes, tsz, sizeof tsz);
    if (info->landlock)
        line("[ok]", "other limits",
             "file size %s, %u open files, scratch directory %s (measured by the kernel), no "
             "core dumps",
             fsz, cfg->limits.open_files, tsz);
    else
        line("[ok]", "other limits",
             "file size %s, %u open files, /tmp and home %s each, no core dumps", fsz,
             cfg->limits.open_files, tsz);
}

static void report_python(const struct sandbox_config *cfg, json_t *r, double ms)
{
    line("[ok]", "jailed start", "%.1f ms to a running jailed Python", ms);
    line("[ok]", "python", "%s -> Python %s", cfg->python, jstr(r, "python"));
    const char *mk;
    json_t *mv;
    json_object_foreach(json_object_get(r, "modules"), mk, mv) {
        const char *v = json_string_value(mv);
        bool good = v && strncmp(v, "ERROR", 5) != 0;
        line(good ? "[ok]" : "[WARN]", mk, "%s", v ? v : "?");
        if (!good)
            problem(false,
                    "%s does not import in the jail (%s): install it system-wide "
                    "(apt install python3-numpy python3-pandas python3-matplotlib "
                    "python3-ipython); user site-packages are not visible",
                    mk, v ? v : "?");
    }
}

/* A jailed Python, probed from inside: what holds there. */
static void report_probe(const struct sandbox_config *cfg, const struct utsname *un)
{
    struct sandbox_config pcfg = *cfg;
    pcfg.unjailed = false;
    /* the probe must not depend on where doctor was started */
    pcfg.workdir[0] = '\0';
    struct jailed info;
    double ms = 0;
    char err[2048];
    json_t *r = run_probe(&pcfg, &info, &ms, err, sizeof err);
    if (!r) {
        line("[FAIL]", "probe", "%s", err);
        problem(true, "a jailed Python could not run: %s", err);
        return;
    }
    bool landlock = spawn_jail_kind(cfg) == SANDBOX_JAIL_LANDLOCK;
    if (landlock)
        report_landlock(r);
    else
        report_namespaces(r);
    report_privileges(r, landlock);
    report_limits(cfg, &info, un, r);
    report_python(cfg, r, ms);
    json_decref(r);
}

/* The interpreter the worker runs and the runtime it loads: true when the probe can run. */
static bool report_interpreter(const struct sandbox_config *cfg)
{
    struct stat st;
    char realpy[PATH_MAX] = "";
    bool usable = false;
    if (stat(cfg->python, &st) != 0 || !realpath(cfg->python, realpy)) {
        line("[FAIL]", "python", "%s: %s", cfg->python, strerror(errno));
        problem(true,
                "the worker's Python %s does not exist: install python3 (apt install "
                "python3) or set sandbox.python",
                cfg->python);
    } else if (strncmp(realpy, "/usr/", 5) != 0) {
        line("[FAIL]", "python", "%s (%s) is outside /usr: not visible in the jail", cfg->python,
             realpy);
        problem(true, "the jail only shows /usr: set sandbox.python to a Python under /usr (e.g. "
                      "/usr/bin/python3)");
    } else {
        usable = true;
    }
    char runtime_file[PATH_MAX + 32];
    snprintf(runtime_file, sizeof runtime_file, "%s/warden_worker.py", cfg->runtime_dir);
    if (access(runtime_file, R_OK) != 0) {
        line("[FAIL]", "worker runtime", "%s: %s", runtime_file, strerror(errno));
        problem(true, "the worker runtime is missing: reinstall warden (cmake --install) so that "
                      "share/warden/runtime sits next to bin/warden");
    } else {
        line("[ok]", "worker runtime", "%s (read-only, %s %s)", cfg->runtime_dir,
             cfg->unjailed ? "used in place:" : "seen in the jail at", spawn_runtime_dir(cfg));
    }
    return usable;
}

/* Builds a test jail: true when it could. */
static bool report_jail(const struct sandbox_config *cfg)
{
    char why[2048];
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int ok = jail_check(cfg, why, sizeof why);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    if (ok != 0) {
        line("[FAIL]", "jail", "cannot be built here");
        problem(true, "%s", why);
        return false;
    }
    line("[ok]", "jail", "test jail built and torn down in %.1f ms", ms);
    if (cfg->unjailed)
        return true;
    char choice[4096];
    spawn_jail_choice(cfg, choice, sizeof choice);
    bool landlock = spawn_jail_kind(cfg) == SANDBOX_JAIL_LANDLOCK;
    line(landlock ? "[WARN]" : "[ok]", "which jail", "%s", choice);
    if (landlock) {
        char what[4096];
        spawn_describe_isolation(cfg, what, sizeof what);
        printf("          %s\n", what);
        if (sandbox_jail_kind(cfg) == SANDBOX_JAIL_AUTO)
            problem(false,
                    "%s: the namespace jail, which also hides other processes and the "
                    "network, cannot be built here (see \"which jail\"); in a container, "
                    "see the README (\"The Landlock jail\") for what allows it",
                    spawn_jail_notice(cfg));
    }
    return true;
}

/* The notebook directory (sandbox.workdir, else where doctor was started): idmapped, plain bind or
 * refused, and why. Not fatal: another directory may do. */
static void report_workdir(const struct sandbox_config *cfg)
{
    char how[1024];
    enum jail_workdir_how h = jail_workdir_check(cfg, how, sizeof how);
    line(h == JW_REFUSED ? "[WARN]" : "[ok]", "notebook directory", "%s%s",
         h == JW_REFUSED ? "refused: " : "", how);
    if (h == JW_REFUSED)
        problem(false, "cells started from this directory would be refused: %s", how);
}

static void report_summary(const struct sandbox_config *cfg)
{
    printf("\n");
    if (problems == 0) {
        printf("No problems.\n");
    } else {
        printf("Problems and fixes:\n");
        for (int i = 0; i < problems && i < 8; i++)
            printf("  - %s\n", problem_text[i]);
    }
    printf("\n%s\n",
           fatal ? "Cells can NOT run jailed on this machine."
                 : (cfg->unjailed ? "Cells can run jailed (but the config disables the jail)."
                                  : "Cells can run jailed."));
}

int sandbox_doctor_main(int argc, char **argv, sandbox_config_loader load)
{
    struct sandbox_config cfg;
    sandbox_config_defaults(&cfg);
    const char *config_path = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
            config_path = argv[++i];
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            printf("usage: warden doctor [--config FILE]\n"
                   "Builds the worker's jail on this machine, probes it from inside, and reports "
                   "what isolation is active and what to fix. Exit 0 if cells can run jailed.\n");
            return 0;
        } else {
            fprintf(stderr, "warden doctor: unknown argument %s\n", argv[i]);
            return 2;
        }
    }
    char err[2048];
    printf("warden doctor %s: isolation on this machine\n\n", WARDEN_VERSION);
    if (load(config_path, &cfg, err, sizeof err) < 0) {
        line("[FAIL]", "config", "%s", err);
        problem(true, "%s: fix the file (warden kernel would refuse every cell)", err);
    }
    struct utsname un;
    uname(&un);
    line("[info]", "kernel", "Linux %s (%s)", un.release, un.machine);
    line("[info]", "user mode", "%s (uid %u)", geteuid() == 0 ? "root" : "unprivileged",
         (unsigned)geteuid());
    if (cfg.unjailed) {
        line("[WARN]", "unjailed", "the config sets sandbox.unjailed: cells run WITHOUT the jail");
        problem(false,
                "sandbox.unjailed is true: cells run with no isolation. Remove it (or set it to "
                "false) unless this machine cannot jail.");
    }
    bool jail_ok = report_jail(&cfg);
    bool python_ok = report_interpreter(&cfg);
    if (jail_ok && python_ok)
        report_probe(&cfg, &un);
    if (jail_ok && !cfg.unjailed)
        report_workdir(&cfg);
    report_summary(&cfg);
    return fatal ? 1 : 0;
}
