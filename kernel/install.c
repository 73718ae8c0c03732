#include "install.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KERNEL_NAME "warden"

static int make_dirs(const char *path)
{
    char partial[PATH_MAX];
    snprintf(partial, sizeof partial, "%s", path);
    for (char *slash = strchr(partial + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
        *slash = '\0';
        if (mkdir(partial, 0755) != 0 && errno != EEXIST)
            return -1;
        *slash = '/';
    }
    return mkdir(partial, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

static int user_data_dir(char *out, size_t len)
{
    const char *jupyter = getenv("JUPYTER_DATA_DIR");
    const char *xdg = getenv("XDG_DATA_HOME");
    const char *home = getenv("HOME");
    if (jupyter && *jupyter)
        snprintf(out, len, "%s", jupyter);
    else if (xdg && *xdg)
        snprintf(out, len, "%s/jupyter", xdg);
    else if (home && *home)
        snprintf(out, len, "%s/.local/share/jupyter", home);
    else
        return -1;
    return 0;
}

static int copy_file(const char *from, const char *to)
{
    if (strcmp(from, to) == 0)
        return 0;
    FILE *in = fopen(from, "rb");
    if (!in)
        return -1;
    FILE *out = fopen(to, "wb");
    if (!out) {
        fclose(in);
        return -1;
    }
    char buffer[8192];
    size_t n;
    int rc = 0;
    while ((n = fread(buffer, 1, sizeof buffer, in)) > 0)
        if (fwrite(buffer, 1, n, out) != n)
            rc = -1;
    fclose(in);
    if (fclose(out) != 0)
        rc = -1;
    return rc;
}

/* Logos ship beside the installed kernelspec, or in the source tree for a build-tree binary. */
static void copy_logos(const char *exe, const char *dest)
{
    static const char *const logos[] = {"logo-32x32.png", "logo-64x64.png"};
    char installed[PATH_MAX + 64], exe_dir[PATH_MAX];
    snprintf(exe_dir, sizeof exe_dir, "%s", exe);
    char *slash = strrchr(exe_dir, '/');
    if (slash)
        *slash = '\0';
    for (size_t i = 0; i < 2; i++) {
        char from[PATH_MAX + 128], to[PATH_MAX + 64];
        snprintf(installed, sizeof installed, "%s/../share/jupyter/kernels/" KERNEL_NAME, exe_dir);
        snprintf(from, sizeof from, "%s/%s", installed, logos[i]);
        if (access(from, R_OK) != 0)
            snprintf(from, sizeof from, "%s/%s", WARDEN_SOURCE_KERNELSPEC_DIR, logos[i]);
        snprintf(to, sizeof to, "%s/%s", dest, logos[i]);
        char real_from[PATH_MAX], real_to[PATH_MAX];
        if (realpath(from, real_from) && realpath(to, real_to) && strcmp(real_from, real_to) == 0)
            continue;
        if (copy_file(from, to) != 0)
            fprintf(stderr, "warden install: could not copy %s\n", from);
    }
}

static int write_kernel_json(const char *exe, const char *dest)
{
    json_t *spec = json_pack("{s:[s, s, s, s], s:s, s:s, s:s, s:{s:b}}", "argv", exe, "kernel",
                             "-f", "{connection_file}", "display_name", "warden", "language",
                             "python", "interrupt_mode", "signal", "metadata", "debugger", 0);
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/kernel.json", dest);
    int rc = spec ? json_dump_file(spec, path, JSON_INDENT(2)) : -1;
    json_decref(spec);
    return rc;
}

static void usage(FILE *out)
{
    fprintf(out, "usage: warden install [--user | --prefix PREFIX | --sys-prefix] [--quiet]\n"
                 "  --user        ~/.local/share/jupyter/kernels/warden (default)\n"
                 "  --prefix P    P/share/jupyter/kernels/warden\n"
                 "  --sys-prefix  /usr/share/jupyter/kernels/warden (Debian's Jupyter)\n");
}

static int choose_data_dir(int argc, char **argv, char *data_dir, size_t len, bool *quiet)
{
    bool chosen = false;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--quiet") == 0)
            *quiet = true;
        else if (strcmp(argv[i], "--user") == 0 && !chosen)
            chosen = user_data_dir(data_dir, len) == 0;
        else if (strcmp(argv[i], "--prefix") == 0 && i + 1 < argc && !chosen) {
            snprintf(data_dir, len, "%s/share/jupyter", argv[++i]);
            chosen = true;
        } else if (strcmp(argv[i], "--sys-prefix") == 0 && !chosen) {
            snprintf(data_dir, len, "/usr/share/jupyter");
            chosen = true;
        } else {
            usage(stderr);
            return -1;
        }
    }
    if (!chosen && user_data_dir(data_dir, len) != 0) {
        fprintf(stderr, "warden install: HOME is not set; use --prefix\n");
        return -1;
    }
    return 0;
}

int install_main(int argc, char **argv)
{
    if (argc > 0 && (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0)) {
        usage(stdout);
        return 0;
    }
    char data_dir[PATH_MAX - 64], dest[PATH_MAX], exe[PATH_MAX];
    bool quiet = false;
    if (choose_data_dir(argc, argv, data_dir, sizeof data_dir, &quiet) != 0)
        return 2;
    snprintf(dest, sizeof dest, "%s/kernels/" KERNEL_NAME, data_dir);
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) {
        fprintf(stderr, "warden install: cannot find my own path\n");
        return 1;
    }
    exe[n] = '\0';
    if (make_dirs(dest) != 0 || write_kernel_json(exe, dest) != 0) {
        fprintf(stderr, "warden install: cannot write %s: %s\n", dest, strerror(errno));
        return 1;
    }
    copy_logos(exe, dest);
    if (!quiet)
        printf("installed the warden kernelspec in %s\n", dest);
    return 0;
}
