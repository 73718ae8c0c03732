/* Internal to the jail (spawn.c, jail_*.c), private to its CMake target (warden_jail): nothing
 * outside sandbox/jail/ includes it (tests/layers checks). The contract is spawn.h.
 *
 * Two kinds of code live here, and the difference matters:
 *  - parent side: runs in the kernel (multi-threaded). May allocate, format, log.
 *  - child side (names jail_child_* / jc_*): runs after a raw clone3() of a multi-threaded process,
 *    so it may NOT allocate, use stdio, take locks or log. Everything it needs is prepared by the
 *    parent in a `struct jail_plan` before the clone; it only makes system calls and reports
 *    failures through the error pipe with jc_fail(). */
#ifndef WARDEN_JAIL_INTERNAL_H
#define WARDEN_JAIL_INTERNAL_H

#include <limits.h>
#include <linux/filter.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "spawn.h"

/* As root, uid/gid 1000 inside maps to this host uid/gid: it owns nothing on the host. */
#define JAIL_ROOT_HOST_ID 2000000u

/* Fixed fd numbers in the jail's init after its fds are rearranged. */
#define JC_FD_CHANNEL 3
#define JC_FD_SYNC    4 /* socket: the parent sends 'g' when the maps are written; EOF = it died */
#define JC_FD_ERR     5 /* write end, O_CLOEXEC: setup errors; EOF at the command's execve */
#define JC_FD_STATUS  6 /* write end: init writes the command's raw wait status (4 bytes) */
#define JC_FD_WORKDIR                                                                              \
    7 /* the detached idmapped mount of the workdir (JM_WORKDIR_TREE), or closed */
#define JC_FD_COUNT   8 /* fds >= this are closed */
/* Landlock mode has no idmapped workdir: that slot carries the ruleset instead. */
#define JC_FD_RULESET JC_FD_WORKDIR

enum jail_mount_kind {
    JM_BIND,    /* bind src -> dst (recursive), read-only unless rw */
    JM_DEVBIND, /* bind a device node (file) */
    JM_TMPFS,   /* tmpfs at dst with data */
    JM_PROC,    /* fresh procfs at dst */
    JM_DEVPTS,  /* a devpts instance of the jail's own at dst (ptys for os.openpty, pexpect) */
    JM_SYMLINK, /* symlink dst -> src */
    JM_FILE,    /* regular file dst with content (written before the root is made read-only) */
    JM_DIR,     /* directory dst with mode */
    JM_RO_OVER, /* bind dst onto itself read-only (e.g. /proc/sys) */
    JM_SEAL,    /* remount our own tmpfs at dst read-only once populated (/dev) */
    JM_MASK, /* hide a secret below the workdir: empty read-only tmpfs (dir) or /dev/null (file) */
    JM_WORKDIR_TREE, /* attach the idmapped workdir mount (JC_FD_WORKDIR) at dst */
};

struct jail_mount {
    enum jail_mount_kind kind;
    const char *src;  /* host path (absolute, resolved) */
    const char *dst;  /* path inside the jail (absolute) */
    const char *data; /* tmpfs options / file content / symlink target */
    size_t data_len;
    unsigned long flags; /* extra MS_* flags (nosuid, nodev, noexec) */
    unsigned mode;       /* JM_DIR / JM_FILE mode */
    bool rw;             /* JM_BIND: leave writable */
    bool src_is_dir;     /* JM_BIND: create a directory (else a file) as the mount point */
    bool optional;       /* a missing source is not an error */
};

struct jail_rlimit {
    int resource;
    struct rlimit value;
};

struct jail_plan {
    /* ids */
    uid_t outside_uid;
    gid_t outside_gid;
    bool deny_setgroups; /* unprivileged: setgroups must be denied before gid_map */

    /* mounts, in order, into the new root */
    struct jail_mount *mounts;
    size_t nmounts;
    const char *workdir; /* the command starts here */
    int workdir_tree_fd; /* the detached idmapped workdir mount (JM_WORKDIR_TREE), or -1 */

    /* command */
    char *const *argv;
    char *const *envp;
    bool keep_stdio;
    bool have_channel;
    bool ignore_sigint; /* spawn_request.ignore_sigint */
    bool dry_run;       /* jail_check: build everything, then exit 0 instead of execve */

    struct jail_rlimit rlimits[8];
    size_t nrlimits;

    struct sock_fprog seccomp; /* exported by the parent (jail_seccomp.c) */

    /* The Landlock jail (jail_landlock*.c): no namespaces, so none of the mounts above */
    bool landlock;
    int landlock_abi;  /* what the ruleset was built for (1..) */
    bool switch_ids;   /* root with CAP_SETUID: become JAIL_ROOT_HOST_ID, no groups */
    pid_t kernel_pid;  /* signals init passes on come from it */
    int ruleset_fd;    /* the parent's copy (close-on-exec), -1 */
    char *scratch_dir; /* the private HOME/TMPDIR (malloc'd), or NULL */

    /* The kernel's argv area, which init (a copy of the kernel that never execs) scrubs: its
     * /proc/1/cmdline would otherwise show the kernel's command line (connection file path). */
    uintptr_t arg_start, arg_end;
};

/* ---- parent side ---- */
/* Environment for the command (allowlist + extra_env). malloc'd NULL-terminated array of
 * malloc'd strings; free with jail_free_strv. `scratch` (Landlock jail): HOME and TMPDIR, else
 * NULL (the namespace jail's home is JAIL_HOME). */
char **jail_build_env(const struct spawn_request *req, bool jailed, const char *scratch);
void jail_free_strv(char **v);

/* Mount plan (jail_mount.c). Fills plan->mounts; the strings belong to `arena` (freed by
 * jail_plan_free). 0 or -1 with err. */
int jail_plan_mounts(struct jail_plan *plan, const struct sandbox_config *cfg, char *err,
                     size_t errlen);
/* realpath of the configured workdir, refused if it is a shared directory (/, /tmp, /home...)
 * or too long. 0 or -1 with err. */
int jail_resolve_workdir(const char *workdir, char real[PATH_MAX], char *err, size_t errlen);
void jail_plan_free(struct jail_plan *plan);

/* seccomp (jail_seccomp.c): the compiled filter, built once per process and jail. The Landlock
 * jail's also refuses socket(AF_UNIX) (socketpair stays) and, for inet sockets, anything but TCP:
 * Landlock rules cover only TCP. 0 or -1 with err. */
int jail_seccomp_program(struct sock_fprog *out, bool landlock, char *err, size_t errlen);
/* Human-readable summary of the filter. */
const char *jail_seccomp_summary(bool landlock);

/* The host /etc files the jails show (jail_mount.c). */
extern const char *const jail_etc_files[];
extern const size_t jail_etc_nfiles;

/* Secrets below a notebook directory (jail_secrets.c): fn(real path, is a directory, ctx) for
 * each that exists, possibly more than once. `workdir` is absolute and resolved. */
typedef void (*jail_secret_fn)(const char *real, bool is_dir, void *ctx);
void jail_find_secrets(const char *workdir, jail_secret_fn fn, void *ctx);

/* Landlock (jail_landlock.c). The ABI the kernel offers: 0 when it has none (or disabled). */
int jail_landlock_abi(void);
/* The ruleset for one worker: read-only system, runtime and (unless writable) workdir minus its
 * secrets, read-write scratch, no TCP, scoped signals and abstract sockets (as far as `abi`
 * allows). A close-on-exec fd, or -1 with err. */
int jail_landlock_ruleset(const struct sandbox_config *cfg, const char *workdir,
                          const char *scratch, int abi, char *err, size_t errlen);
/* jail_landlock_fs.c: the path rules (see there). 0 or -1 with err. */
int jail_landlock_add_paths(int ruleset, uint64_t handled, const struct sandbox_config *cfg,
                            const char *workdir, const char *scratch, char *err, size_t errlen);
/* A path-beneath rule for `path` with `access` (masked by `handled`, and by the rights a file may
 * have when it is not a directory). 0 or -1 with errno. */
int jail_landlock_add_rule(int ruleset, const char *path, uint64_t access, uint64_t handled,
                           bool is_dir);
/* jail_workdir_check for the Landlock jail: with which uid, and which secrets its rules leave
 * out. `dir` is resolved. */
enum jail_workdir_how jail_landlock_workdir_check(const char *dir, bool writable, char *how,
                                                  size_t len);
/* Root with CAP_SETUID and CAP_SETGID: the jail gets ids of its own. */
bool jail_landlock_own_ids(void);
/* The ids of the Landlock jail: the kernel's own unless jail_landlock_own_ids; then
 * JAIL_ROOT_HOST_ID, or the notebook directory's owner (not root) when only it may read (or
 * write) the directory; or -1 with err saying what to change. */
int jail_landlock_choose_ids(const char *workdir, bool writable, uid_t *uid, gid_t *gid,
                             bool *switch_ids, char *err, size_t errlen);
/* What the Landlock jail holds on this ABI, and what it cannot, in words. */
void jail_landlock_describe(int abi, char *out, size_t len);
/* The lowest ABI "auto" accepts (below, the namespace jail's refusal stands). */
#define JAIL_LANDLOCK_MIN_AUTO_ABI 4

/* The private scratch directory of one Landlock worker (jail_scratch.c): created 0700 for the
 * jail's ids under a directory of the kernel's own; removed (with everything in it) once the
 * worker's processes are gone. */
int jail_scratch_create(uid_t uid, gid_t gid, char **path, char *err, size_t errlen);
void jail_scratch_remove(const char *path);
/* Bytes the directory's tree holds (allocated blocks), counted until it passes `stop`. */
uint64_t jail_scratch_usage(const char *path, uint64_t stop);

/* The notebook directory (jail_idmap.c). As root the jail's user owns nothing on the host, so a
 * private directory (under /root, a mkdtemp folder) is shown through an idmapped bind mount that
 * makes its owner appear as the jail's user; where the kernel or the filesystem cannot, a plain
 * bind if the jail's user may read it, else a refusal that says why. */
struct jail_workdir {
    enum jail_workdir_how how;
    int tree_fd; /* JW_IDMAPPED: close-on-exec, the caller closes it; else -1 */
    char detail[768];
};
/* `dir` is absolute and resolved; jail_uid/gid are the host ids of the jail's user. */
void jail_workdir_prepare(const char *dir, bool writable, uid_t jail_uid, gid_t jail_gid,
                          struct jail_workdir *out);

/* spawn.c: spawn_process with the jail's kind given (jail_select.c decides it); dry_run builds the
 * whole jail and exits 0 instead of the execve. */
int spawn_jail(const struct spawn_request *req, struct jailed *out, enum sandbox_jail kind,
               bool dry_run, char *err, size_t errlen);

/* spawn.c: a child in a new user namespace that only waits for EOF on hold_fd (the read end of a
 * pipe whose write end the caller keeps), so that the caller can write its maps and open
 * /proc/PID/ns/user. The caller closes the write end and reaps it. -1 with errno. */
pid_t spawn_userns_holder(int hold_fd, int close_fd);

/* ids (jail_ns.c) */
void jail_choose_ids(uid_t *uid, gid_t *gid, bool *deny_setgroups);
int jail_write_id_maps(pid_t pid, const struct jail_plan *plan, char *err, size_t errlen);
/* Write "inside outside 1" to /proc/PID/FILE (uid_map or gid_map). 0 or -1 with err. */
int jail_write_map(pid_t pid, const char *file, unsigned inside, unsigned outside, char *err,
                   size_t errlen);
/* Why creating the namespaces failed with errno `err` (sysctls, AppArmor, containers...) and how
 * to fix it; "" if nothing is known. */
void jail_userns_diagnose(int err, char *why, size_t len);

/* limits (jail_limits.c) */
struct jail_cgroup {
    int version;        /* 0 none, 1 v1, 2 v2 */
    char name[256];     /* v1: relative "warden/<name>"; v2: absolute directory */
    char mem_dir[512];  /* v1 memory dir or v2 dir */
    char pids_dir[512]; /* v1 pids dir or v2 dir */
    char cpu_dir[512];  /* where the CPU quota is set (v1 cpu dir or v2 dir); "" = no quota */
};
/* Create and configure the cgroup for one jail; version 0 if cgroups are not usable. */
void jail_cgroup_create(const struct sandbox_limits *lim, struct jail_cgroup *cg);
int jail_cgroup_attach(const struct jail_cgroup *cg, pid_t pid, char *err, size_t errlen);
/* Did the cgroup's OOM killer fire? */
bool jail_cgroup_oom(int version, const char *name);
void jail_cgroup_remove(int version, const char *name);
/* Which mechanism would limit memory/tasks: "cgroup v1", "cgroup v2" or "rlimit". */
int jail_cgroup_probe(char *detail, size_t len);
void jail_plan_rlimits(struct jail_plan *plan, const struct sandbox_limits *lim, bool have_cgroup,
                       bool jailed);
/* Without a cgroup, where the jail's uid is not its own alone: RLIMIT_NPROC = the uid's tasks now
 * plus lim->max_tasks. */
void jail_plan_shared_uid_tasks(struct jail_plan *plan, const struct sandbox_limits *lim,
                                uid_t uid);

/* Where the child builds the root: the host's root moves under JAIL_OLDROOT, the jail's under
 * JAIL_NEWROOT (a plan's mount destinations start with it). */
#define JAIL_OLDROOT "/oldroot"
#define JAIL_NEWROOT "/newroot"

/* ---- child side (async-signal-safe only) ---- */
/* Report "what: strerror(err)" on the error pipe and _exit(127). */
void jc_fail(const char *what, int err) __attribute__((noreturn));
void jc_fail2(const char *what, const char *path, int err) __attribute__((noreturn));
int jc_write_all(int fd, const void *buf, size_t len);
/* The jail's init: never returns. */
void jail_child_main(const struct jail_plan *plan) __attribute__((noreturn));
/* Command-process steps shared with the unjailed path. */
void jc_apply_rlimits(const struct jail_plan *plan);
/* Open every bind source (O_PATH) while still holding the creator's host uid (jail_mount.c). */
void jc_open_sources(const struct jail_plan *plan);
/* Mounts (jail_mount.c); called with the caps of the new user namespace. */
void jc_build_root(const struct jail_plan *plan);
/* Network and hostname (jail_ns.c). */
void jc_setup_net_uts(void);
/* Drop every capability: bounding, ambient, inheritable, permitted, effective. */
void jc_drop_caps(void);
/* The bounding set only (needs CAP_SETPCAP: before giving up root). */
void jc_drop_bounding_set(void);
/* The rest, with no privilege needed: ambient, inheritable, permitted, effective. */
void jc_clear_caps(void);
void jc_install_seccomp(const struct jail_plan *plan);
/* jail_init.c: the command (pid 2 of the namespace jail; the init's child in the Landlock jail):
 * setsid, fds, rlimits, signals, seccomp, execve. */
void jc_run_command(const struct jail_plan *plan) __attribute__((noreturn));
/* jail_init.c, both inits: block until the parent sends 'g' on JC_FD_SYNC; _exit(127) on EOF. */
void jc_wait_for_parent(void);
/* jail_init.c: setresgid/setresuid to gid/uid (raw system calls), setgroups(0) first if asked. */
void jc_set_ids(uid_t uid, gid_t gid, bool drop_groups);
/* jail_init.c: init's life once the command runs: pass the kernel's signals on, reap, report the
 * command's status on JC_FD_STATUS and exit with it. */
void jc_init_supervise(const struct jail_plan *plan, pid_t child) __attribute__((noreturn));
/* jail_landlock_init.c: the Landlock jail's init (never returns) and its last act, killing every
 * process the command left (init is their subreaper). */
void jail_landlock_child_main(const struct jail_plan *plan) __attribute__((noreturn));
void jc_landlock_kill_leftovers(const struct jail_plan *plan, pid_t child);
/* jail_landlock_init.c: the command's own domain, nested in init's (called by jc_run_command). */
void jc_landlock_enter_nested(void);
/* jail_child.c: place src[3..7] at fds 3..7 (close-on-exec), close every other fd >= 3. */
void jc_arrange_fds(const int src[JC_FD_COUNT]);
/* jail_child.c: channel to fd 3 (inheritable), drop the control fds, stdio to /dev/null unless
 * kept. */
void jc_prepare_command_fds(bool have_channel, bool keep_stdio);
/* jail_child.c: default dispositions, empty signal mask (the kernel blocks signals for its
 * signalfd); SIGINT ignored when `ignore_sigint` (spawn.h). */
void jc_reset_signals(bool ignore_sigint);

#endif
