/* The jail's root filesystem, built the way bubblewrap builds it:
 *   1. make every mount private, mount a staging tmpfs, pivot_root into it so that the host root
 *      sits at /oldroot and the new root (another tmpfs) at /newroot;
 *   2. bind what is needed from /oldroot into /newroot (read-only, nosuid, nodev), write the
 *      generated /etc files, mount a fresh /proc, a minimal /dev, size-capped /tmp and home;
 *   3. detach /oldroot, pivot into /newroot, detach the staging root, remount / read-only.
 * The parent decides everything here (jail_plan_mounts); the child only executes the plan
 * (jail_root.c). */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "jail_internal.h"

/* ------------------------------------------------------------------------------------------ */
/* parent side: the plan                                                                        */
/* ------------------------------------------------------------------------------------------ */

struct builder {
    struct jail_plan *plan;
    size_t cap;
    bool oom;
};

static char *cat(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    char *s = malloc(la + lb + 1);
    if (!s)
        return NULL;
    memcpy(s, a, la);
    memcpy(s + la, b, lb + 1);
    return s;
}

static struct jail_mount *add(struct builder *b, enum jail_mount_kind kind, const char *dst)
{
    struct jail_plan *p = b->plan;
    if (p->nmounts == b->cap) {
        size_t ncap = b->cap ? b->cap * 2 : 64;
        struct jail_mount *nv = realloc(p->mounts, ncap * sizeof *nv);
        if (!nv) {
            b->oom = true;
            return NULL;
        }
        p->mounts = nv;
        b->cap = ncap;
    }
    struct jail_mount *m = &p->mounts[p->nmounts];
    memset(m, 0, sizeof *m);
    m->kind = kind;
    m->dst = cat(JAIL_NEWROOT, dst);
    if (!m->dst) {
        b->oom = true;
        return NULL;
    }
    p->nmounts++;
    return m;
}

static void set_src(struct builder *b, struct jail_mount *m, const char *host_path)
{
    if (!m)
        return;
    m->src = strdup(host_path);
    if (!m->src)
        b->oom = true;
}

static void set_data(struct builder *b, struct jail_mount *m, const char *text)
{
    if (!m)
        return;
    m->data = strdup(text);
    if (!m->data)
        b->oom = true;
    m->data_len = m->data ? strlen(m->data) : 0;
}

static void bind(struct builder *b, const char *host, const char *dst, bool rw, bool optional)
{
    struct stat st;
    char real[PATH_MAX];
    /* the child resolves the source under /oldroot, where an absolute symlink would point into
     * the staging root: resolve it here, against the real root */
    if (stat(host, &st) < 0 || !realpath(host, real)) {
        if (!optional)
            log_warn("jail: %s is missing on this host", host);
        return;
    }
    struct jail_mount *m = add(b, JM_BIND, dst);
    set_src(b, m, real);
    if (!m)
        return;
    m->rw = rw;
    m->src_is_dir = S_ISDIR(st.st_mode);
    m->optional = optional;
}

/* Mirror a host path: a symlink stays a symlink (its target is resolved inside the jail), a
 * directory or file is bound read-only. */
static void mirror(struct builder *b, const char *host)
{
    struct stat st;
    if (lstat(host, &st) < 0)
        return;
    if (S_ISLNK(st.st_mode)) {
        char target[PATH_MAX];
        ssize_t n = readlink(host, target, sizeof target - 1);
        if (n <= 0)
            return;
        target[n] = '\0';
        struct jail_mount *m = add(b, JM_SYMLINK, host);
        if (m)
            set_data(b, m, target);
        return;
    }
    if (S_ISDIR(st.st_mode) || S_ISREG(st.st_mode))
        bind(b, host, host, false, true);
}

static void file(struct builder *b, const char *dst, const char *content)
{
    struct jail_mount *m = add(b, JM_FILE, dst);
    set_data(b, m, content);
    if (m)
        m->mode = 0644;
}

static void tmpfs(struct builder *b, const char *dst, const char *opts, unsigned long flags)
{
    struct jail_mount *m = add(b, JM_TMPFS, dst);
    set_data(b, m, opts);
    if (m)
        m->flags = flags;
}

static void symlink_(struct builder *b, const char *dst, const char *target)
{
    struct jail_mount *m = add(b, JM_SYMLINK, dst);
    set_data(b, m, target);
}

const char *const jail_etc_files[] = {
    "/etc/ld.so.cache", "/etc/ld.so.conf",     "/etc/ld.so.conf.d", "/etc/localtime",
    "/etc/timezone",    "/etc/matplotlibrc",   "/etc/fonts",        "/etc/mime.types",
    "/etc/ssl/certs",   "/etc/alternatives",   "/etc/protocols",    "/etc/services",
    "/etc/os-release",  "/etc/debian_version", "/etc/magic",        "/etc/magic.mime",
    "/etc/mailcap",     "/etc/python3",        "/etc/python3.9",    "/etc/python3.10",
    "/etc/python3.11",  "/etc/python3.12",     "/etc/python3.13",   "/etc/gai.conf",
};
const size_t jail_etc_nfiles = sizeof jail_etc_files / sizeof jail_etc_files[0];

static const char passwd[] = "root:x:0:0:root:/root:/usr/sbin/nologin\n"
                             "warden:x:1000:1000:warden:/home/warden:/bin/sh\n"
                             "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n";
static const char group[] = "root:x:0:\nwarden:x:1000:\nnogroup:x:65534:\n";
static const char hosts[] =
    "127.0.0.1\tlocalhost warden\n::1\tlocalhost ip6-localhost ip6-loopback\n";
static const char nsswitch[] =
    "passwd: files\ngroup: files\nshadow: files\nhosts: files\nnetworks: files\n"
    "protocols: files\nservices: files\nethers: files\nrpc: files\n";

/* Never a workdir: shared with other users or the system, or holding live sockets. */
static const char *const shared_dirs[] = {"/",        "/tmp",  "/var/tmp", "/dev",
                                          "/dev/shm", "/run",  "/var/run", "/proc",
                                          "/sys",     "/home", "/var",     "/etc"};

static void add_mask(const char *real, bool is_dir, void *ctx)
{
    struct builder *b = ctx;
    for (size_t i = 0; i < b->plan->nmounts; i++) /* once */
        if (b->plan->mounts[i].kind == JM_MASK &&
            strcmp(b->plan->mounts[i].dst + strlen(JAIL_NEWROOT), real) == 0)
            return;
    struct jail_mount *m = add(b, JM_MASK, real);
    if (!m)
        return;
    m->src_is_dir = is_dir;
    set_src(b, m, "/dev/null");
}

int jail_resolve_workdir(const char *workdir, char real[PATH_MAX], char *err, size_t errlen)
{
    if (!realpath(workdir, real)) {
        snprintf(err, errlen, "working directory %s: %s", workdir, strerror(errno));
        return -1;
    }
    for (size_t i = 0; i < sizeof shared_dirs / sizeof shared_dirs[0]; i++) {
        if (strcmp(real, shared_dirs[i]) == 0) {
            snprintf(err, errlen,
                     "the working directory is %s: refusing to show it to the jail (it holds "
                     "other users' files, sockets or the whole system); start warden from the "
                     "notebook's own directory, or set sandbox.workdir",
                     real);
            return -1;
        }
    }
    if (strlen(real) + sizeof JAIL_NEWROOT >= PATH_MAX) {
        snprintf(err, errlen, "working directory path too long");
        return -1;
    }
    return 0;
}

int jail_plan_mounts(struct jail_plan *plan, const struct sandbox_config *cfg, char *err,
                     size_t errlen)
{
    struct builder b = {.plan = plan};
    const struct sandbox_limits *lim = &cfg->limits;
    char opts[256];

    /* the system: /usr and the usrmerge links (or directories on a non-merged system) */
    bind(&b, "/usr", "/usr", false, false);
    static const char *const top[] = {"/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32"};
    for (size_t i = 0; i < sizeof top / sizeof top[0]; i++)
        mirror(&b, top[i]);

    /* /etc: a few host files, and generated ones */
    for (size_t i = 0; i < jail_etc_nfiles; i++)
        mirror(&b, jail_etc_files[i]);
    file(&b, "/etc/passwd", passwd);
    file(&b, "/etc/group", group);
    file(&b, "/etc/hosts", hosts);
    file(&b, "/etc/hostname", "warden\n");
    file(&b, "/etc/nsswitch.conf", nsswitch);

    /* /proc of the jail's pid namespace; its kernel knobs read-only */
    add(&b, JM_PROC, "/proc");
    static const char *const proc_ro[] = {"/proc/sys", "/proc/sysrq-trigger", "/proc/irq",
                                          "/proc/bus", "/proc/fs"};
    for (size_t i = 0; i < sizeof proc_ro / sizeof proc_ro[0]; i++) {
        struct jail_mount *m = add(&b, JM_RO_OVER, proc_ro[i]);
        if (m)
            m->optional = true;
    }

    /* /dev: a tmpfs with the harmless devices bound from the host */
    tmpfs(&b, "/dev", "mode=0755,size=64k,nr_inodes=64", MS_NOSUID | MS_NOEXEC);
    static const char *const devs[] = {"null", "zero", "full", "random", "urandom"};
    for (size_t i = 0; i < sizeof devs / sizeof devs[0]; i++) {
        char host[32];
        snprintf(host, sizeof host, "/dev/%s", devs[i]);
        struct jail_mount *m = add(&b, JM_DEVBIND, host);
        set_src(&b, m, host);
    }
    snprintf(opts, sizeof opts, "mode=1777,size=%" PRIu64 ",nr_inodes=4096",
             lim->tmpfs_bytes && lim->tmpfs_bytes < 64u << 20 ? lim->tmpfs_bytes : 64u << 20);
    tmpfs(&b, "/dev/shm", opts, MS_NOSUID | MS_NODEV);
    /* ptys: a devpts instance of the jail's own (none of the host's terminals are in it; TIOCSTI
     * is refused by seccomp). Optional: a kernel that refuses it leaves the jail without ptys. */
    struct jail_mount *pts = add(&b, JM_DEVPTS, "/dev/pts");
    if (pts)
        pts->optional = true;
    symlink_(&b, "/dev/ptmx", "pts/ptmx");
    symlink_(&b, "/dev/fd", "/proc/self/fd");
    symlink_(&b, "/dev/stdin", "/proc/self/fd/0");
    symlink_(&b, "/dev/stdout", "/proc/self/fd/1");
    symlink_(&b, "/dev/stderr", "/proc/self/fd/2");
    struct jail_mount *seal = add(&b, JM_SEAL, "/dev");
    if (seal)
        seal->flags = MS_NOSUID | MS_NOEXEC;

    /* writable scratch: /tmp and the home, each capped */
    uint64_t tsize = lim->tmpfs_bytes ? lim->tmpfs_bytes : 512u << 20;
    uint64_t inodes = tsize / 4096 < 16384 ? 16384 : tsize / 4096;
    snprintf(opts, sizeof opts, "mode=1777,size=%" PRIu64 ",nr_inodes=%" PRIu64, tsize, inodes);
    tmpfs(&b, "/tmp", opts, MS_NOSUID | MS_NODEV);
    snprintf(opts, sizeof opts, "mode=0700,uid=%d,gid=%d,size=%" PRIu64 ",nr_inodes=%" PRIu64,
             JAIL_UID, JAIL_GID, tsize, inodes);
    tmpfs(&b, JAIL_HOME, opts, MS_NOSUID | MS_NODEV);

    /* the worker runtime */
    if (cfg->runtime_dir[0]) {
        char real[PATH_MAX];
        if (!realpath(cfg->runtime_dir, real)) {
            snprintf(err, errlen, "runtime directory %s: %s", cfg->runtime_dir, strerror(errno));
            goto fail;
        }
        bind(&b, real, JAIL_RUNTIME_DIR, false, false);
    }

    /* the notebook's directory, at its own path, last (it may be below /tmp or /home) */
    plan->workdir = NULL;
    if (cfg->workdir[0]) {
        char real[PATH_MAX];
        if (jail_resolve_workdir(cfg->workdir, real, err, errlen) < 0)
            goto fail;
        struct jail_workdir wd;
        jail_workdir_prepare(real, cfg->workdir_writable, plan->outside_uid, plan->outside_gid,
                             &wd);
        if (wd.how == JW_REFUSED) {
            snprintf(err, errlen, "%s", wd.detail);
            goto fail;
        }
        if (wd.how == JW_IDMAPPED) {
            plan->workdir_tree_fd = wd.tree_fd;
            add(&b, JM_WORKDIR_TREE, real);
        } else {
            bind(&b, real, real, cfg->workdir_writable, false);
        }
        plan->workdir = strdup(real);
        if (!plan->workdir)
            b.oom = true;
        jail_find_secrets(real, add_mask, &b);
    }
    if (b.oom) {
        snprintf(err, errlen, "out of memory planning the jail's mounts");
        goto fail;
    }
    return 0;
fail:
    jail_plan_free(plan);
    return -1;
}

void jail_plan_free(struct jail_plan *plan)
{
    for (size_t i = 0; i < plan->nmounts; i++) {
        free((char *)plan->mounts[i].src);
        free((char *)plan->mounts[i].dst);
        free((char *)plan->mounts[i].data);
    }
    free(plan->mounts);
    plan->mounts = NULL;
    plan->nmounts = 0;
    free((char *)plan->workdir);
    plan->workdir = NULL;
    if (plan->workdir_tree_fd >= 0)
        close(plan->workdir_tree_fd);
    plan->workdir_tree_fd = -1;
}
