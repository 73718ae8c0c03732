/* The command's environment, rebuilt from an allowlist: nothing of the kernel's environment (API
 * keys, JPY_*, the connection file path) reaches the command unless listed here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jail_internal.h"

void jail_free_strv(char **v)
{
    if (!v)
        return;
    for (char **p = v; *p; p++)
        free(*p);
    free(v);
}

static int push(char ***v, size_t *n, size_t *cap, const char *key, const char *value)
{
    if (*n + 2 > *cap) {
        size_t ncap = *cap ? *cap * 2 : 16;
        char **nv = realloc(*v, ncap * sizeof *nv);
        if (!nv)
            return -1;
        *v = nv;
        *cap = ncap;
    }
    char *s;
    if (value) {
        size_t len = strlen(key) + strlen(value) + 2;
        s = malloc(len);
        if (s)
            snprintf(s, len, "%s=%s", key, value);
    } else {
        s = strdup(key); /* already "K=V" */
    }
    if (!s)
        return -1;
    /* a later entry with the same key replaces an earlier one */
    size_t klen = strcspn(s, "=");
    for (size_t i = 0; i < *n; i++) {
        if (strncmp((*v)[i], s, klen) == 0 && (*v)[i][klen] == '=') {
            free((*v)[i]);
            (*v)[i] = s;
            return 0;
        }
    }
    (*v)[(*n)++] = s;
    (*v)[*n] = NULL;
    return 0;
}

/* Host locale/timezone values are passed through only if they look like what they should be. */
static bool sane_value(const char *v)
{
    if (!v || !*v || strlen(v) > 128)
        return false;
    for (const char *p = v; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c < 0x20 || c == 0x7f)
            return false;
    }
    return true;
}

char **jail_build_env(const struct spawn_request *req, bool jailed, const char *scratch)
{
    char **v = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    rc |= push(&v, &n, &cap, "PATH", "/usr/local/bin:/usr/bin:/bin");
    if (jailed) {
        rc |= push(&v, &n, &cap, "HOME", scratch ? scratch : JAIL_HOME);
        /* the Landlock jail shares the host's /tmp, which it may not touch: its own scratch */
        if (scratch)
            rc |= push(&v, &n, &cap, "TMPDIR", scratch);
        rc |= push(&v, &n, &cap, "USER", JAIL_USER);
        rc |= push(&v, &n, &cap, "LOGNAME", JAIL_USER);
    } else {
        const char *home = getenv("HOME");
        const char *user = getenv("USER");
        rc |= push(&v, &n, &cap, "HOME", sane_value(home) ? home : "/");
        if (sane_value(user)) {
            rc |= push(&v, &n, &cap, "USER", user);
            rc |= push(&v, &n, &cap, "LOGNAME", user);
        }
    }
    const char *lang = getenv("LANG"), *lc_all = getenv("LC_ALL"), *tz = getenv("TZ");
    rc |= push(&v, &n, &cap, "LANG", sane_value(lang) ? lang : "C.UTF-8");
    if (sane_value(lc_all))
        rc |= push(&v, &n, &cap, "LC_ALL", lc_all);
    if (sane_value(tz))
        rc |= push(&v, &n, &cap, "TZ", tz);
    rc |= push(&v, &n, &cap, "MPLBACKEND", "Agg");
    if (req->extra_env) {
        for (char *const *e = req->extra_env; *e; e++) {
            if (!strchr(*e, '=') || **e == '=')
                continue;
            rc |= push(&v, &n, &cap, *e, NULL);
        }
    }
    if (rc != 0) {
        jail_free_strv(v);
        return NULL;
    }
    return v;
}
