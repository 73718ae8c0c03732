/* Limits: one cgroup per jail (v2 when the unified hierarchy is ours to write, else v1 memory+pids
 * when writable), rlimits otherwise (RLIMIT_AS for memory, RLIMIT_NPROC for tasks: in a user
 * namespace of its own the task count is per (namespace, uid) since Linux 5.14). Always:
 * RLIMIT_FSIZE, RLIMIT_NOFILE, RLIMIT_CORE 0. With a cgroup, also a CPU quota where the cpu
 * controller is ours (best effort: without it the other limits still hold, and doctor says so). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include "common/files.h"
#include "common/log.h"
#include "jail_internal.h"

#define CG_ROOT       "/sys/fs/cgroup"
#define CG_V1_MEMORY  CG_ROOT "/memory"
#define CG_V1_PIDS    CG_ROOT "/pids"
#define CG_V1_CPU     CG_ROOT "/cpu"
#define CPU_PERIOD_US 100000

/* snprintf whose truncation is checked (paths built here are bounded by design). */
static bool fmt(char *buf, size_t len, const char *f, ...) __attribute__((format(printf, 3, 4)));
static bool fmt(char *buf, size_t len, const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    int n = vsnprintf(buf, len, f, ap);
    va_end(ap);
    return n >= 0 && (size_t)n < len;
}

static int write_text(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = write(fd, text, strlen(text));
    int e = errno;
    close(fd);
    if (n != (ssize_t)strlen(text)) {
        errno = n < 0 ? e : EIO;
        return -1;
    }
    return 0;
}

static int read_text(const char *path, char *buf, size_t len)
{
    return read_small_file(path, buf, len) < 0 ? -1 : 0;
}

static bool has_word(const char *list, const char *word)
{
    size_t wl = strlen(word);
    for (const char *p = list; (p = strstr(p, word)) != NULL; p += wl) {
        bool start = p == list || p[-1] == ' ' || p[-1] == '\n';
        bool end = p[wl] == '\0' || p[wl] == ' ' || p[wl] == '\n';
        if (start && end)
            return true;
    }
    return false;
}

static bool is_cgroup2(const char *path)
{
    struct statfs sf;
    return statfs(path, &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC;
}

/* A cgroup v2 directory under which we may create the jails' cgroups, with memory and pids
 * enabled for children (or enable-able by us), or "" if none. */
static bool v2_base(char *base, size_t len)
{
    if (!is_cgroup2(CG_ROOT))
        return false;
    char buf[512];
    /* 1. the root of the hierarchy, when we may write it (root, or a container's own cgroupns) */
    if (access(CG_ROOT "/cgroup.subtree_control", W_OK) == 0 &&
        read_text(CG_ROOT "/cgroup.controllers", buf, sizeof buf) == 0 && has_word(buf, "memory") &&
        has_word(buf, "pids")) {
        fmt(base, len, "%s", CG_ROOT);
        return true;
    }
    /* 2. the parent of our own cgroup, when it is delegated to us with the controllers enabled
     *    (systemd: Delegate=yes, e.g. user@UID.service/app.slice) */
    if (read_text("/proc/self/cgroup", buf, sizeof buf) == 0) {
        char *p = strstr(buf, "0::");
        if (p) {
            p += 3;
            p[strcspn(p, "\n")] = '\0';
            char *slash = strrchr(p, '/');
            if (slash)
                *slash = '\0';
            char dir[PATH_MAX], ctl[PATH_MAX + 32];
            fmt(dir, sizeof dir, "%s%s", CG_ROOT, p);
            fmt(ctl, sizeof ctl, "%s/cgroup.subtree_control", dir);
            char sub[256];
            if (access(dir, W_OK) == 0 && read_text(ctl, sub, sizeof sub) == 0 &&
                has_word(sub, "memory") && has_word(sub, "pids")) {
                fmt(base, len, "%s", dir);
                return true;
            }
        }
    }
    return false;
}

static bool v1_usable(void)
{
    struct statfs sf;
    if (statfs(CG_V1_MEMORY, &sf) != 0 || sf.f_type != CGROUP_SUPER_MAGIC)
        return false;
    if (statfs(CG_V1_PIDS, &sf) != 0 || sf.f_type != CGROUP_SUPER_MAGIC)
        return false;
    return access(CG_V1_MEMORY, W_OK) == 0 && access(CG_V1_PIDS, W_OK) == 0;
}

/* WARDEN_JAIL_NO_CGROUP=1: use rlimits even where cgroups are writable (tests of that path). */
static bool cgroups_disabled(void)
{
    const char *v = getenv("WARDEN_JAIL_NO_CGROUP");
    return v && v[0] == '1';
}

int jail_cgroup_probe(char *detail, size_t len)
{
    char base[PATH_MAX];
    if (cgroups_disabled()) {
        fmt(detail, len, "rlimits");
        return 0;
    }
    if (v2_base(base, sizeof base)) {
        fmt(detail, len, "cgroup v2 (%s/warden)", base);
        return 2;
    }
    if (v1_usable()) {
        fmt(detail, len, "cgroup v1 (memory and pids under %s/{memory,pids}/warden)", CG_ROOT);
        return 1;
    }
    fmt(detail, len, "rlimits");
    return 0;
}

/* Remove leftovers of kernels that died without cleaning up: "w<pid>-<n>" whose pid is gone (a
 * live kernel's cgroup may be empty for a moment, between its mkdir and its first process). */
static void sweep(const char *parent)
{
    DIR *d = opendir(parent);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] != 'w' || e->d_type != DT_DIR)
            continue;
        char *end;
        long pid = strtol(e->d_name + 1, &end, 10);
        if (pid <= 0 || *end != '-')
            continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue;
        char path[PATH_MAX];
        if (fmt(path, sizeof path, "%s/%s", parent, e->d_name))
            rmdir(path);
    }
    closedir(d);
}

/* The quota over one period: cpu.max (v2) or cpu.cfs_period_us + cpu.cfs_quota_us (v1). */
static bool write_cpu_quota(const char *dir, int version, uint32_t millis)
{
    char f[600], val[64];
    uint64_t quota = (uint64_t)millis * CPU_PERIOD_US / 1000;
    if (version == 2) {
        fmt(f, sizeof f, "%s/cpu.max", dir);
        fmt(val, sizeof val, "%" PRIu64 " %d", quota, CPU_PERIOD_US);
        return write_text(f, val) == 0;
    }
    fmt(f, sizeof f, "%s/cpu.cfs_period_us", dir);
    fmt(val, sizeof val, "%d", CPU_PERIOD_US);
    if (write_text(f, val) < 0)
        return false;
    fmt(f, sizeof f, "%s/cpu.cfs_quota_us", dir);
    fmt(val, sizeof val, "%" PRIu64, quota);
    return write_text(f, val) == 0;
}

static bool v1_cpu_usable(void)
{
    struct statfs sf;
    return statfs(CG_V1_CPU, &sf) == 0 && sf.f_type == CGROUP_SUPER_MAGIC &&
           access(CG_V1_CPU, W_OK) == 0;
}

/* v2: the cpu controller for the jails' cgroups (enabled in the base for the warden parent, and
 * in the parent for the jails). */
static bool v2_enable_cpu(const char *base, const char *parent)
{
    const char *dirs[] = {base, parent};
    for (size_t i = 0; i < 2; i++) {
        char ctl[PATH_MAX + 32], sub[256] = "";
        fmt(ctl, sizeof ctl, "%s/cgroup.subtree_control", dirs[i]);
        read_text(ctl, sub, sizeof sub);
        if (!has_word(sub, "cpu") && write_text(ctl, "+cpu") < 0)
            return false;
    }
    return true;
}

/* Sets the CPU quota of a cgroup just made (v2: in it, the controller enabled from base down;
 * v1: in a sibling under the cpu hierarchy's `parent`); on failure the jail runs without one. */
static void apply_cpu_quota(struct jail_cgroup *cg, const char *base, const char *parent,
                            const char *name, uint32_t millis)
{
    if (!millis)
        return;
    if (cg->version == 2) {
        if (v2_enable_cpu(base, parent) && write_cpu_quota(cg->mem_dir, 2, millis)) {
            fmt(cg->cpu_dir, sizeof cg->cpu_dir, "%s", cg->mem_dir);
            return;
        }
    } else if (v1_cpu_usable() && (mkdir(parent, 0755) == 0 || errno == EEXIST)) {
        fmt(cg->cpu_dir, sizeof cg->cpu_dir, "%s/%s", parent, name);
        if (mkdir(cg->cpu_dir, 0755) == 0) {
            if (write_cpu_quota(cg->cpu_dir, 1, millis))
                return;
            rmdir(cg->cpu_dir);
        }
    }
    static atomic_bool warned; /* once: every worker start would say the same */
    if (!atomic_exchange(&warned, true))
        log_warn("no CPU quota for the jails (%s): the cpu cgroup controller is not usable",
                 strerror(errno));
    cg->cpu_dir[0] = '\0';
}

static int ensure_parent(const char *dir, bool v2)
{
    if (mkdir(dir, 0755) < 0 && errno != EEXIST)
        return -1;
    if (v2) {
        char ctl[PATH_MAX + 32];
        fmt(ctl, sizeof ctl, "%s/cgroup.subtree_control", dir);
        char sub[256] = "";
        read_text(ctl, sub, sizeof sub);
        if (!(has_word(sub, "memory") && has_word(sub, "pids")) &&
            write_text(ctl, "+memory +pids") < 0)
            return -1;
    }
    return 0;
}

void jail_cgroup_create(const struct sandbox_limits *lim, struct jail_cgroup *cg)
{
    static atomic_uint seq;
    static atomic_bool swept;
    memset(cg, 0, sizeof *cg);
    char name[64];
    fmt(name, sizeof name, "w%d-%u", (int)getpid(), atomic_fetch_add(&seq, 1) + 1);
    char base[PATH_MAX], val[64];
    if (cgroups_disabled())
        return;

    if (v2_base(base, sizeof base)) {
        char parent[PATH_MAX + 16];
        fmt(parent, sizeof parent, "%s/warden", base);
        if (base[strlen(CG_ROOT)] == '\0') {
            /* the root: enable the controllers for its children */
            char sub[256] = "";
            read_text(CG_ROOT "/cgroup.subtree_control", sub, sizeof sub);
            if (!(has_word(sub, "memory") && has_word(sub, "pids")))
                write_text(CG_ROOT "/cgroup.subtree_control", "+memory +pids");
        }
        if (ensure_parent(parent, true) == 0) {
            if (!atomic_exchange(&swept, true))
                sweep(parent);
            fmt(cg->mem_dir, sizeof cg->mem_dir, "%s/%s", parent, name);
            if (mkdir(cg->mem_dir, 0755) == 0) {
                char f[600];
                int bad = 0;
                fmt(val, sizeof val, "%" PRIu64, lim->memory_bytes);
                fmt(f, sizeof f, "%s/memory.max", cg->mem_dir);
                bad |= write_text(f, val);
                fmt(f, sizeof f, "%s/memory.swap.max", cg->mem_dir);
                write_text(f, "0"); /* absent without swap accounting: fine */
                fmt(val, sizeof val, "%u", lim->max_tasks);
                fmt(f, sizeof f, "%s/pids.max", cg->mem_dir);
                bad |= write_text(f, val);
                if (!bad) {
                    cg->version = 2;
                    fmt(cg->pids_dir, sizeof cg->pids_dir, "%s", cg->mem_dir);
                    /* v2: the name is the absolute directory */
                    fmt(cg->name, sizeof cg->name, "%s", cg->mem_dir);
                    if (strlen(cg->mem_dir) < sizeof cg->name) {
                        apply_cpu_quota(cg, base, parent, name, lim->cpu_millis);
                        return;
                    }
                }
                rmdir(cg->mem_dir);
            }
            log_warn("cgroup v2 at %s not usable (%s); falling back", parent, strerror(errno));
        }
        memset(cg, 0, sizeof *cg);
    }

    if (v1_usable()) {
        if (ensure_parent(CG_V1_MEMORY "/warden", false) < 0 ||
            ensure_parent(CG_V1_PIDS "/warden", false) < 0) {
            log_warn("cgroup v1: cannot create the warden cgroups: %s", strerror(errno));
            return;
        }
        if (!atomic_exchange(&swept, true)) {
            sweep(CG_V1_MEMORY "/warden");
            sweep(CG_V1_PIDS "/warden");
            sweep(CG_V1_CPU "/warden");
        }
        fmt(cg->name, sizeof cg->name, "warden/%s", name);
        fmt(cg->mem_dir, sizeof cg->mem_dir, "%s/%s", CG_V1_MEMORY, cg->name);
        fmt(cg->pids_dir, sizeof cg->pids_dir, "%s/%s", CG_V1_PIDS, cg->name);
        if (mkdir(cg->mem_dir, 0755) < 0)
            goto v1_fail;
        if (mkdir(cg->pids_dir, 0755) < 0) {
            rmdir(cg->mem_dir);
            goto v1_fail;
        }
        char f[600];
        int bad = 0;
        fmt(val, sizeof val, "%" PRIu64, lim->memory_bytes);
        fmt(f, sizeof f, "%s/memory.limit_in_bytes", cg->mem_dir);
        bad |= write_text(f, val);
        fmt(f, sizeof f, "%s/memory.memsw.limit_in_bytes", cg->mem_dir);
        write_text(f, val); /* only with swap accounting */
        fmt(val, sizeof val, "%u", lim->max_tasks);
        fmt(f, sizeof f, "%s/pids.max", cg->pids_dir);
        bad |= write_text(f, val);
        if (bad) {
            log_warn("cgroup v1: cannot set limits: %s", strerror(errno));
            rmdir(cg->mem_dir);
            rmdir(cg->pids_dir);
            goto v1_fail;
        }
        cg->version = 1;
        apply_cpu_quota(cg, CG_ROOT, CG_V1_CPU "/warden", name, lim->cpu_millis);
        return;
    v1_fail:
        log_warn("cgroup v1: cannot create %s: %s; using rlimits", cg->name, strerror(errno));
        memset(cg, 0, sizeof *cg);
    }
}

int jail_cgroup_attach(const struct jail_cgroup *cg, pid_t pid, char *err, size_t errlen)
{
    char f[600], val[32];
    fmt(val, sizeof val, "%d", (int)pid);
    fmt(f, sizeof f, "%s/cgroup.procs", cg->mem_dir);
    if (write_text(f, val) < 0)
        goto fail;
    if (cg->version == 1) {
        fmt(f, sizeof f, "%s/cgroup.procs", cg->pids_dir);
        if (write_text(f, val) < 0)
            goto fail;
        fmt(f, sizeof f, "%s/cgroup.procs", cg->cpu_dir);
        if (cg->cpu_dir[0] && write_text(f, val) < 0)
            goto fail;
    }
    return 0;
fail:
    fmt(err, errlen, "cannot move the jail into its cgroup (%s): %s", f, strerror(errno));
    return -1;
}

static uint64_t field(const char *text, const char *key)
{
    size_t kl = strlen(key);
    for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
        if (strncmp(p, key, kl) == 0 && p[kl] == ' ')
            return strtoull(p + kl + 1, NULL, 10);
    }
    return 0;
}

bool jail_cgroup_oom(int version, const char *name)
{
    char f[600], buf[1024];
    if (version == 2) {
        fmt(f, sizeof f, "%s/memory.events", name);
        if (read_text(f, buf, sizeof buf) == 0)
            return field(buf, "oom_kill") > 0;
        return false;
    }
    if (version == 1) {
        fmt(f, sizeof f, "%s/%s/memory.oom_control", CG_V1_MEMORY, name);
        if (read_text(f, buf, sizeof buf) == 0 && strstr(buf, "oom_kill "))
            return field(buf, "oom_kill") > 0;
        fmt(f, sizeof f, "%s/%s/memory.failcnt", CG_V1_MEMORY, name);
        return read_text(f, buf, sizeof buf) == 0 && strtoull(buf, NULL, 10) > 0;
    }
    return false;
}

static void rmdir_retry(const char *dir)
{
    for (int i = 0; i < 50; i++) {
        if (rmdir(dir) == 0 || errno == ENOENT)
            return;
        if (errno != EBUSY)
            break;
        struct timespec ts = {0, 2 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    log_warn("cannot remove cgroup %s: %s", dir, strerror(errno));
}

void jail_cgroup_remove(int version, const char *name)
{
    if (!name || !name[0])
        return;
    if (version == 2) {
        rmdir_retry(name);
    } else if (version == 1) {
        char d[600];
        fmt(d, sizeof d, "%s/%s", CG_V1_MEMORY, name);
        rmdir_retry(d);
        fmt(d, sizeof d, "%s/%s", CG_V1_PIDS, name);
        rmdir_retry(d);
        fmt(d, sizeof d, "%s/%s", CG_V1_CPU, name);
        if (access(d, F_OK) == 0)
            rmdir_retry(d);
    }
}

static void add_rlimit(struct jail_plan *plan, int resource, uint64_t value)
{
    if (plan->nrlimits >= sizeof plan->rlimits / sizeof plan->rlimits[0])
        return;
    struct rlimit cur;
    rlim_t v = value == 0 ? RLIM_INFINITY : (rlim_t)value;
    /* never above the hard limit we were given: setrlimit would fail */
    if (getrlimit(resource, &cur) == 0 && cur.rlim_max != RLIM_INFINITY &&
        (v == RLIM_INFINITY || v > cur.rlim_max))
        v = cur.rlim_max;
    struct jail_rlimit *r = &plan->rlimits[plan->nrlimits++];
    r->resource = resource;
    r->value.rlim_cur = v;
    r->value.rlim_max = v;
}

void jail_plan_rlimits(struct jail_plan *plan, const struct sandbox_limits *lim, bool have_cgroup,
                       bool jailed)
{
    plan->nrlimits = 0;
    struct jail_rlimit core = {.resource = RLIMIT_CORE, .value = {0, 0}};
    plan->rlimits[plan->nrlimits++] = core;
    add_rlimit(plan, RLIMIT_FSIZE, lim->file_size_bytes);
    add_rlimit(plan, RLIMIT_NOFILE, lim->open_files ? lim->open_files : 1024);
    if (!have_cgroup) {
        add_rlimit(plan, RLIMIT_AS, lim->memory_bytes);
        /* unjailed, RLIMIT_NPROC would count every process of the host user */
        if (jailed)
            add_rlimit(plan, RLIMIT_NPROC, lim->max_tasks);
    }
}

/* Tasks (threads included: RLIMIT_NPROC counts tasks) whose real uid is `uid`, from /proc. */
static unsigned long tasks_of_uid(uid_t uid)
{
    unsigned long n = 0;
    DIR *d = opendir("/proc");
    if (!d)
        return 0;
    struct dirent *e;
    char path[288], buf[2048];
    while ((e = readdir(d))) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        snprintf(path, sizeof path, "/proc/%s/status", e->d_name);
        if (read_small_file(path, buf, sizeof buf) <= 0)
            continue;
        const char *u = strstr(buf, "\nUid:");
        const char *t = strstr(buf, "\nThreads:");
        if (u && t && strtoul(u + 5, NULL, 10) == uid)
            n += strtoul(t + 9, NULL, 10);
    }
    closedir(d);
    return n;
}

void jail_plan_shared_uid_tasks(struct jail_plan *plan, const struct sandbox_limits *lim, uid_t uid)
{
    /* RLIMIT_NPROC is checked against every task of the real uid, host-wide: a jail that shares
     * its uid (the kernel's own, or the one every root-run jail maps to) gets a limit of what the
     * uid runs now plus its own budget. Without it a fork bomb takes every pid of the machine.
     * Others of the uid that start later eat into the budget; the budget never grows. */
    unsigned long base = tasks_of_uid(uid);
    add_rlimit(plan, RLIMIT_NPROC, base + lim->max_tasks);
}

void jc_apply_rlimits(const struct jail_plan *plan)
{
    for (size_t i = 0; i < plan->nrlimits; i++) {
        if (setrlimit(plan->rlimits[i].resource, &plan->rlimits[i].value) < 0)
            jc_fail("setrlimit", errno);
    }
}
