/* The secrets a notebook directory may hold (when it is, or contains, a home): credentials, the
 * warden config (API keys), the Jupyter runtime directory with the connection files (the key that
 * signs kernel messages), the connection file this kernel was started with. Both jails hide them:
 * the namespace jail masks each with an empty mount (jail_mount.c), the Landlock jail leaves them
 * out of its rules (jail_landlock_fs.c). One list, so that the two cannot drift apart. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "jail_internal.h"

/* Below a home directory (the workdir, or a home inside it). */
static const char *const home_secrets[] = {
    ".ssh",
    ".gnupg",
    ".aws",
    ".azure",
    ".kube",
    ".docker",
    ".netrc",
    ".pgpass",
    ".git-credentials",
    ".password-store",
    ".config/gcloud",
    ".config/gh",
    ".config/warden",
    ".config/hub",
    ".local/share/jupyter/runtime",
    ".local/share/keyrings",
    ".jupyter/runtime",
    ".ipython/profile_default/security",
    ".bash_history",
    ".python_history",
    ".zsh_history",
    ".mozilla",
    ".config/google-chrome",
    ".config/chromium",
    ".env",
};

static bool under(const char *path, const char *dir)
{
    size_t n = strlen(dir);
    return strncmp(path, dir, n) == 0 && (path[n] == '/' || path[n] == '\0') &&
           !(n == 1 && dir[0] == '/');
}

/* Report host_path when it is a directory or file (not a symlink: its target is what would be
 * shown, and is reported where it lies) below the workdir. */
static void found(jail_secret_fn fn, void *ctx, const char *host_path, const char *workdir)
{
    struct stat st;
    char real[PATH_MAX];
    if (lstat(host_path, &st) < 0 || S_ISLNK(st.st_mode))
        return;
    if (!realpath(host_path, real) || !under(real, workdir))
        return;
    if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
        return;
    fn(real, S_ISDIR(st.st_mode), ctx);
}

void jail_find_secrets(const char *workdir, jail_secret_fn fn, void *ctx)
{
    char path[PATH_MAX], home[PATH_MAX];
    const char *bases[2] = {workdir, NULL};
    const char *h = getenv("HOME");
    if (h && h[0] == '/' && realpath(h, home) && under(home, workdir) && strcmp(home, workdir) != 0)
        bases[1] = home;
    for (size_t k = 0; k < 2 && bases[k]; k++) {
        for (size_t i = 0; i < sizeof home_secrets / sizeof home_secrets[0]; i++) {
            snprintf(path, sizeof path, "%s/%s", bases[k], home_secrets[i]);
            found(fn, ctx, path, workdir);
        }
    }
    /* wherever they are configured to be */
    static const char *const dir_vars[] = {"JUPYTER_RUNTIME_DIR", "IPYTHONDIR"};
    for (size_t i = 0; i < 2; i++) {
        const char *v = getenv(dir_vars[i]);
        if (v && v[0] == '/')
            found(fn, ctx, v, workdir);
    }
    const char *cfg = getenv("WARDEN_CONFIG");
    if (cfg && cfg[0] == '/')
        found(fn, ctx, cfg, workdir);
    /* the connection file this kernel was started with (-f FILE), and its directory */
    FILE *f = fopen("/proc/self/cmdline", "re");
    if (f) {
        char args[8192];
        size_t n = fread(args, 1, sizeof args - 1, f);
        fclose(f);
        args[n] = '\0';
        for (size_t off = 0; off < n;) {
            const char *a = args + off;
            size_t len = strlen(a);
            if ((strcmp(a, "-f") == 0 || strcmp(a, "--connection-file") == 0) &&
                off + len + 1 < n) {
                const char *file = a + len + 1;
                char dir[PATH_MAX];
                if (realpath(file, dir)) {
                    found(fn, ctx, dir, workdir);
                    char *slash = strrchr(dir, '/');
                    if (slash && slash != dir) {
                        *slash = '\0';
                        if (strcmp(dir, workdir) != 0)
                            found(fn, ctx, dir, workdir);
                    }
                }
            }
            off += len + 1;
        }
    }
}
