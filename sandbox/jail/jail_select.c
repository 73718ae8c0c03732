/* Which jail a worker gets, and whether this machine can build it (jail_check).
 *
 * "namespaces" is the namespace jail or a refusal saying why; "landlock" the Landlock jail; "auto"
 * (the default) the namespace jail where the machine allows it, else the Landlock jail where its
 * ABI is at least JAIL_LANDLOCK_MIN_AUTO_ABI, else a refusal giving both reasons. The machine does
 * not change under a running kernel, so auto decides once per process, by building a test jail of
 * each kind (the truest answer), and says so once in the log; the first cell and `warden doctor`
 * say it too (spawn_jail_notice). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/format.h"
#include "common/log.h"
#include "jail_internal.h"

#define UNJAILED_HINT                                                                              \
    ". To run cells without any isolation instead (NOT recommended: the code can read your files " \
    "and API keys), set \"sandbox\": {\"unjailed\": true} in the config or pass --unjailed."

static const char landlock_notice[] =
    "jail: Landlock mode \xe2\x80\x94 no pid/mount/network namespaces; see warden doctor";

const char *spawn_runtime_dir(const struct sandbox_config *cfg)
{
    if (cfg->unjailed || spawn_jail_kind(cfg) == SANDBOX_JAIL_LANDLOCK)
        return cfg->runtime_dir; /* the Landlock jail sees the host's paths */
    return JAIL_RUNTIME_DIR;
}

/* Build a complete jail of this kind and exit in it (no workdir, no runtime: this is about the
 * machine, not about a directory). 0, or -1 with why. */
static int try_kind(const struct sandbox_config *config, enum sandbox_jail kind, char *why,
                    size_t len)
{
    struct sandbox_config cfg = *config;
    cfg.unjailed = false;
    cfg.workdir_writable = false;
    cfg.workdir[0] = '\0';
    cfg.runtime_dir[0] = '\0';
    char *argv[] = {"/bin/true", NULL};
    struct spawn_request req = {.cfg = &cfg, .argv = argv, .channel_fd = -1};
    struct jailed j;
    char err[1536];
    if (spawn_jail(&req, &j, kind, true, err, sizeof err) < 0) {
        snprintf(why, len, "%s", err);
        return -1;
    }
    char cause[256];
    int st = spawn_reap(&j, cause, sizeof cause);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        snprintf(why, len, "a test jail was built but its process failed: %s", cause);
        return -1;
    }
    if (len)
        why[0] = '\0';
    return 0;
}

static pthread_mutex_t auto_lock = PTHREAD_MUTEX_INITIALIZER;
static bool auto_decided;
static bool auto_ok;
static enum sandbox_jail auto_kind = SANDBOX_JAIL_NAMESPACES;
static char auto_why[3400]; /* why the namespace jail (and maybe Landlock) was refused */

static void decide_auto(const struct sandbox_config *cfg)
{
    pthread_mutex_lock(&auto_lock);
    if (auto_decided)
        goto out;
    auto_decided = true;
    char ns_why[1536], ll_why[1536];
    if (try_kind(cfg, SANDBOX_JAIL_NAMESPACES, ns_why, sizeof ns_why) == 0) {
        auto_ok = true;
        goto out;
    }
    int abi = jail_landlock_abi();
    if (abi < JAIL_LANDLOCK_MIN_AUTO_ABI) {
        snprintf(ll_why, sizeof ll_why,
                 abi ? "its ABI %d restricts no TCP (ABI %d does, Linux >= 6.7)"
                     : "this kernel has no Landlock (ABI %d; ABI %d is needed, Linux >= 6.7)",
                 abi, JAIL_LANDLOCK_MIN_AUTO_ABI);
    } else if (try_kind(cfg, SANDBOX_JAIL_LANDLOCK, ll_why, sizeof ll_why) == 0) {
        auto_ok = true;
        auto_kind = SANDBOX_JAIL_LANDLOCK;
        snprintf(auto_why, sizeof auto_why, "%s", ns_why);
        log_warn("%s (the namespace jail cannot be built: %s)", landlock_notice, ns_why);
        goto out;
    }
    snprintf(auto_why, sizeof auto_why,
             "neither jail can be built here. The namespace jail: %s. The Landlock jail: %s",
             ns_why, ll_why);
out:
    pthread_mutex_unlock(&auto_lock);
}

enum sandbox_jail spawn_jail_kind(const struct sandbox_config *cfg)
{
    enum sandbox_jail kind = sandbox_jail_kind(cfg);
    if (kind != SANDBOX_JAIL_AUTO)
        return kind;
    decide_auto(cfg);
    return auto_kind;
}

const char *spawn_jail_notice(const struct sandbox_config *cfg)
{
    return !cfg->unjailed && spawn_jail_kind(cfg) == SANDBOX_JAIL_LANDLOCK ? landlock_notice : NULL;
}

void spawn_jail_choice(const struct sandbox_config *cfg, char *out, size_t len)
{
    enum sandbox_jail asked = sandbox_jail_kind(cfg);
    if (asked == SANDBOX_JAIL_NAMESPACES)
        snprintf(out, len, "the namespace jail (sandbox.jail = \"namespaces\")");
    else if (asked == SANDBOX_JAIL_LANDLOCK)
        snprintf(out, len, "the Landlock jail (sandbox.jail = \"landlock\": forced)");
    else if (spawn_jail_kind(cfg) == SANDBOX_JAIL_LANDLOCK)
        snprintf(out, len,
                 "the Landlock jail (sandbox.jail = \"auto\": the namespace jail cannot "
                 "be built here: %s)",
                 auto_why);
    else
        snprintf(out, len, "the namespace jail (sandbox.jail = \"auto\")");
}

int jail_check(const struct sandbox_config *cfg, char *why, size_t len)
{
    enum sandbox_jail asked = sandbox_jail_kind(cfg);
    if (asked == SANDBOX_JAIL_AUTO) {
        decide_auto(cfg);
        if (auto_ok) {
            if (len)
                why[0] = '\0';
            return 0;
        }
        snprintf(why, len, "%s%s", auto_why, UNJAILED_HINT);
        return -1;
    }
    char err[1536];
    if (try_kind(cfg, asked, err, sizeof err) < 0) {
        snprintf(why, len, "%s%s", err, UNJAILED_HINT);
        return -1;
    }
    if (asked == SANDBOX_JAIL_LANDLOCK && jail_landlock_abi() < JAIL_LANDLOCK_MIN_AUTO_ABI) {
        static atomic_bool warned;
        if (!atomic_exchange(&warned, true))
            log_warn("the Landlock jail is forced on Landlock ABI %d, which does NOT restrict TCP: "
                     "cells can reach the network (see warden doctor)",
                     jail_landlock_abi());
    }
    if (len)
        why[0] = '\0';
    return 0;
}

static void describe_limits(const struct sandbox_config *cfg, bool tasks_by_rlimit, char *out,
                            size_t len)
{
    char cg[256];
    int v = jail_cgroup_probe(cg, sizeof cg);
    char mem[64];
    format_size(cfg->limits.memory_bytes, mem, sizeof mem);
    if (v)
        snprintf(out, len, "memory %s and tasks %u via %s", mem, cfg->limits.max_tasks, cg);
    else if (tasks_by_rlimit)
        snprintf(out, len, "memory %s and tasks %u via rlimits (RLIMIT_AS, RLIMIT_NPROC)", mem,
                 cfg->limits.max_tasks);
    else
        snprintf(out, len,
                 "memory %s via RLIMIT_AS; tasks NOT limited (RLIMIT_NPROC would count every "
                 "process of the kernel's uid, and no cgroup is writable)",
                 mem);
}

void spawn_describe_isolation(const struct sandbox_config *cfg, char *out, size_t len)
{
    if (cfg->unjailed) {
        snprintf(out, len,
                 "UNJAILED (sandbox.unjailed): no namespaces, no seccomp, full access to this "
                 "user's files, network and environment; rlimits only");
        return;
    }
    char limits[512];
    if (spawn_jail_kind(cfg) == SANDBOX_JAIL_LANDLOCK) {
        char what[2048];
        jail_landlock_describe(jail_landlock_abi(), what, sizeof what);
        describe_limits(cfg, jail_landlock_own_ids(), limits, sizeof limits);
        snprintf(out, len, "jailed (Landlock mode, no namespaces): %s; %s", what, limits);
        return;
    }
    uid_t uid;
    gid_t gid;
    bool deny;
    jail_choose_ids(&uid, &gid, &deny);
    describe_limits(cfg, true, limits, sizeof limits);
    snprintf(out, len,
             "jailed: user+pid+mount+net+ipc+uts+cgroup namespaces; pivot_root into read-only "
             "binds; loopback only; no capabilities, no_new_privs; seccomp (%s); %s mode, uid %d "
             "inside = host uid %u; %s",
             jail_seccomp_summary(false), geteuid() == 0 ? "root" : "unprivileged", JAIL_UID,
             (unsigned)uid, limits);
}
