/* The notebook directory in the jail. As root: a private directory (0700, a 0600 file) of another
 * owner, and a root-owned mkdtemp folder, are shown through an idmapped mount, so the jailed
 * process (host uid 2000000, never host root) reads them, and in writable mode its files land
 * owned by the directory's owner; on ramfs (no idmapped mounts) a private directory is refused
 * with a reason naming the filesystem, a readable one is a plain bind. As an unprivileged user:
 * the jail's user is the user, its own private directory is a plain bind (idmap is root-only).
 * Skips (77) only when this machine cannot jail at all. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "jail_fixture.h"
#include "sandbox/jail/spawn.h"

#define OWNER_UID 1234
#define OWNER_GID 4321

static struct sandbox_config base_cfg;

/* A fresh 0700 directory under `parent` holding "secret" (0600, "hunter2"), both owned by
 * uid:gid. */
static void private_dir(const char *parent, char *dir, size_t len, uid_t uid, gid_t gid)
{
    snprintf(dir, len, "%s/warden-test-workdir.XXXXXX", parent);
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        exit(1);
    }
    char path[512];
    snprintf(path, sizeof path, "%s/secret", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 || write(fd, "hunter2\n", 8) != 8) {
        perror(path);
        exit(1);
    }
    close(fd);
    if (chmod(dir, 0700) < 0 || chown(path, uid, gid) < 0 || chown(dir, uid, gid) < 0) {
        perror("chown");
        exit(1);
    }
}

static void remove_tree(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        printf("note: could not remove %s\n", dir);
}

static struct sandbox_config in_dir(const char *dir, bool writable)
{
    struct sandbox_config cfg = base_cfg;
    snprintf(cfg.workdir, sizeof cfg.workdir, "%s", dir);
    cfg.workdir_writable = writable;
    return cfg;
}

static bool owned_by(const char *dir, const char *name, uid_t uid, gid_t gid)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    struct stat st;
    return stat(path, &st) == 0 && st.st_uid == uid && st.st_gid == gid;
}

/* The jail's uid 1000 as the host sees it: the second column of the jail's uid_map. */
#define HOST_UID_SCRIPT "set -- $(cat /proc/self/uid_map); echo host=$2;"

static void test_private_dir_read_only(void)
{
    char dir[256];
    private_dir("/tmp", dir, sizeof dir, OWNER_UID, OWNER_GID);
    struct sandbox_config cfg = in_dir(dir, false);
    struct result r;
    sh_cfg(&cfg,
           HOST_UID_SCRIPT " cat secret; stat -c %u:%g secret; id -u;"
                           " echo x > new 2>/dev/null || echo refused",
           &r);
    CHECK(exited(&r, 0), "private dir read-only: %s %s", r.err, r.cause);
    CHECK(strcmp(r.out, "host=2000000\nhunter2\n1000:1000\n1000\nrefused\n") == 0,
          "private dir read-only: got [%s]", r.out);

    char how[1024];
    CHECK(jail_workdir_check(&cfg, how, sizeof how) == JW_IDMAPPED && strstr(how, "idmapped"),
          "workdir check: %s", how);
    remove_tree(dir);
}

/* Only the owner is mapped: a file of someone else (root) below the directory stays theirs. */
static void test_other_owners_stay_out(void)
{
    char dir[256];
    private_dir("/tmp", dir, sizeof dir, OWNER_UID, OWNER_GID);
    char path[512];
    snprintf(path, sizeof path, "%s/roots", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0)
        close(fd);
    struct sandbox_config cfg = in_dir(dir, true);
    struct result r;
    sh_cfg(&cfg,
           "stat -c %u roots; cat roots 2>/dev/null || echo unreadable;"
           " echo x >> roots 2>/dev/null || echo unwritable",
           &r);
    CHECK(exited(&r, 0) && strcmp(r.out, "65534\nunreadable\nunwritable\n") == 0,
          "another owner's file: %s %s [%s]", r.err, r.cause, r.out);
    remove_tree(dir);
}

static void test_private_dir_writable(void)
{
    char dir[256];
    private_dir("/tmp", dir, sizeof dir, OWNER_UID, OWNER_GID);
    struct sandbox_config cfg = in_dir(dir, true);
    struct result r;
    sh_cfg(&cfg,
           HOST_UID_SCRIPT " echo data > new && mkdir sub && echo data > sub/deeper &&"
                           " cat secret",
           &r);
    CHECK(exited(&r, 0) && strcmp(r.out, "host=2000000\nhunter2\n") == 0,
          "private dir writable: %s %s [%s]", r.err, r.cause, r.out);
    CHECK(owned_by(dir, "new", OWNER_UID, OWNER_GID), "a new file belongs to the dir's owner");
    CHECK(owned_by(dir, "sub", OWNER_UID, OWNER_GID), "a new directory belongs to the owner");
    CHECK(owned_by(dir, "sub/deeper", OWNER_UID, OWNER_GID), "and what is created below it");

    /* a set-id program left there would run as the owner for anyone on the host */
    sh_cfg(&cfg,
           "chmod 4755 new 2>/dev/null || echo no-setuid; chmod 2755 new 2>/dev/null ||"
           " echo no-setgid; mkdir -m 2755 d 2>/dev/null || echo no-setgid-dir",
           &r);
    CHECK(exited(&r, 0) && strcmp(r.out, "no-setuid\nno-setgid\nno-setgid-dir\n") == 0,
          "set-id bits: %s %s [%s]", r.err, r.cause, r.out);
    char path[512];
    snprintf(path, sizeof path, "%s/new", dir);
    struct stat st;
    CHECK(stat(path, &st) == 0 && (st.st_mode & 06000) == 0, "new is not set-id: %o",
          (unsigned)st.st_mode);
    remove_tree(dir);
}

/* Root's own private directory (the usual container case): readable, and in writable mode the
 * jail's user is still host uid 2000000, never host root, though its files belong to root. */
static void test_root_owned_private_dir(void)
{
    char dir[256];
    private_dir("/tmp", dir, sizeof dir, 0, 0);
    struct sandbox_config cfg = in_dir(dir, false);
    struct result r;
    sh_cfg(&cfg, HOST_UID_SCRIPT " cat secret; echo x > new 2>/dev/null || echo refused", &r);
    CHECK(exited(&r, 0) && strcmp(r.out, "host=2000000\nhunter2\nrefused\n") == 0,
          "root's 0700 dir, read-only: %s %s [%s]", r.err, r.cause, r.out);

    cfg.workdir_writable = true;
    sh_cfg(&cfg, HOST_UID_SCRIPT " echo data > new && echo ok", &r);
    CHECK(exited(&r, 0) && strcmp(r.out, "host=2000000\nok\n") == 0,
          "root's 0700 dir, writable: %s %s [%s]", r.err, r.cause, r.out);
    CHECK(owned_by(dir, "new", 0, 0), "a file written in root's dir belongs to root");
    remove_tree(dir);
}

/* ramfs has no idmapped mounts: a private directory there is refused, naming the filesystem; a
 * readable one falls back to the plain read-only bind, and writable mode is refused. */
static void test_ramfs_fallback(void)
{
    char mnt[] = "/tmp/warden-test-ramfs.XXXXXX";
    if (!mkdtemp(mnt)) {
        perror("mkdtemp");
        failed++;
        return;
    }
    if (mount("ramfs", mnt, "ramfs", MS_NOSUID | MS_NODEV, "mode=0755") < 0) {
        printf("note: cannot mount ramfs here (%s): fallback not tested\n", strerror(errno));
        rmdir(mnt);
        return;
    }
    char dir[256];
    private_dir(mnt, dir, sizeof dir, 0, 0);
    struct sandbox_config cfg = in_dir(dir, false);
    struct result r;
    sh_cfg(&cfg, "cat secret", &r);
    CHECK(!r.spawned && strstr(r.err, "cannot read the working directory") &&
              strstr(r.err, "ramfs") && strstr(r.err, "idmapped mounts") &&
              strstr(r.err, "chmod o+rx"),
          "private dir on ramfs: spawned=%d [%s]", r.spawned, r.err);
    char how[1024];
    CHECK(jail_workdir_check(&cfg, how, sizeof how) == JW_REFUSED && strstr(how, "ramfs"),
          "workdir check on ramfs: %s", how);

    chmod(dir, 0755);
    sh_cfg(&cfg, "ls; echo x > new 2>/dev/null || echo refused", &r);
    CHECK(exited(&r, 0) && strcmp(r.out, "secret\nrefused\n") == 0,
          "readable dir on ramfs (plain bind): %s %s [%s]", r.err, r.cause, r.out);
    CHECK(jail_workdir_check(&cfg, how, sizeof how) == JW_PLAIN && strstr(how, "plain read-only"),
          "workdir check, readable on ramfs: %s", how);

    cfg.workdir_writable = true;
    sh_cfg(&cfg, "echo x > new", &r);
    CHECK(!r.spawned && strstr(r.err, "cannot write to the working directory") &&
              strstr(r.err, "ramfs"),
          "writable on ramfs: spawned=%d [%s]", r.spawned, r.err);

    remove_tree(dir);
    if (umount2(mnt, MNT_DETACH) < 0)
        printf("note: umount %s: %s\n", mnt, strerror(errno));
    rmdir(mnt);
}

/* How many host mounts lie below dir (/proc/self/mountinfo, field 5). */
static int mounts_below(const char *dir)
{
    FILE *f = fopen("/proc/self/mountinfo", "re");
    if (!f)
        return -1;
    char line[4096], prefix[300];
    snprintf(prefix, sizeof prefix, "%s/", dir);
    int n = 0;
    while (fgets(line, sizeof line, f)) {
        char point[1024];
        if (sscanf(line, "%*s %*s %*s %*s %1023s", point) == 1 &&
            strncmp(point, prefix, strlen(prefix)) == 0)
            n++;
    }
    fclose(f);
    return n;
}

/* Under a shared mount (systemd makes / shared), the idmapped copy must not be a peer of the
 * host's: the mask the jail mounts over a secret in it would appear on the host, and stay. */
static void test_no_mount_reaches_the_host(void)
{
    char mnt[] = "/tmp/warden-test-shared.XXXXXX";
    if (!mkdtemp(mnt)) {
        perror("mkdtemp");
        failed++;
        return;
    }
    if (mount("tmpfs", mnt, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m") < 0 ||
        mount(NULL, mnt, NULL, MS_SHARED, NULL) < 0) {
        printf("note: cannot mount a shared tmpfs here (%s): propagation not tested\n",
               strerror(errno));
        rmdir(mnt);
        return;
    }
    char dir[256], ssh[300];
    private_dir(mnt, dir, sizeof dir, OWNER_UID, OWNER_GID);
    snprintf(ssh, sizeof ssh, "%s/.ssh", dir);
    if (mkdir(ssh, 0700) < 0)
        perror(ssh);
    struct sandbox_config cfg = in_dir(dir, false);
    struct result r;
    sh_cfg(&cfg, "cat secret; ls .ssh 2>/dev/null || echo masked", &r);
    CHECK(exited(&r, 0) && strcmp(r.out, "hunter2\nmasked\n") == 0,
          "workdir on a shared mount: %s %s [%s]", r.err, r.cause, r.out);
    int leaked = mounts_below(dir);
    CHECK(leaked == 0, "%d of the jail's mounts reached the host below %s", leaked, dir);
    if (leaked > 0)
        umount2(ssh, MNT_DETACH);
    remove_tree(dir);
    if (umount2(mnt, MNT_DETACH) < 0)
        printf("note: umount %s: %s\n", mnt, strerror(errno));
    rmdir(mnt);
}

/* An ordinary user: the jail's user is the user, who owns the directory; no idmap. */
static void test_unprivileged_own_dir(void)
{
    printf("note: not root: idmapped mounts are root-only; testing the user's own directory\n");
    char dir[256];
    private_dir("/tmp", dir, sizeof dir, geteuid(), getegid());
    struct sandbox_config cfg = in_dir(dir, true);
    struct result r;
    char expect[128];
    snprintf(expect, sizeof expect, "host=%u\nhunter2\n", (unsigned)geteuid());
    sh_cfg(&cfg, HOST_UID_SCRIPT " cat secret && echo data > new", &r);
    CHECK(exited(&r, 0) && strcmp(r.out, expect) == 0, "own private dir: %s %s [%s]", r.err,
          r.cause, r.out);
    CHECK(owned_by(dir, "new", geteuid(), getegid()), "a new file belongs to the user");
    char how[1024];
    CHECK(jail_workdir_check(&cfg, how, sizeof how) == JW_PLAIN && strstr(how, "unprivileged"),
          "workdir check, unprivileged: %s", how);
    remove_tree(dir);
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
    base_cfg.runtime_dir[0] = '\0'; /* a shell is all these tests run */
    if (geteuid() == 0) {
        test_private_dir_read_only();
        test_other_owners_stay_out();
        test_private_dir_writable();
        test_root_owned_private_dir();
        test_ramfs_fallback();
        test_no_mount_reaches_the_host();
    } else {
        test_unprivileged_own_dir();
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
