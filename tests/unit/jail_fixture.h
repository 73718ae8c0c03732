/* Shared by the jail's C tests (test_jail*.c; jail_fixture.c is linked into each): run a command
 * in a real jail through spawn_process(), collect what it writes on its channel (fd 3) until EOF,
 * reap it and keep the cause of its end in words. */
#ifndef WARDEN_JAIL_FIXTURE_H
#define WARDEN_JAIL_FIXTURE_H

#include <stdbool.h>
#include <stdio.h>

#include "sandbox/jail/spawn.h"

/* Each test program's counts, and its check: a failure says why (printf-style), since a jail's
 * refusal is only readable in words. */
static int passed __attribute__((unused)),
    failed __attribute__((unused)); /* unused in jail_fixture.c */

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (cond) {                                                                                \
            passed++;                                                                              \
        } else {                                                                                   \
            failed++;                                                                              \
            printf("FAIL %s:%d: ", __FILE__, __LINE__);                                            \
            printf(__VA_ARGS__);                                                                   \
            printf("\n");                                                                          \
        }                                                                                          \
    } while (0)

struct result {
    int status; /* raw wait status from spawn_reap */
    char cause[256];
    char out[65536]; /* what the command wrote to fd 3 */
    bool spawned;
    char err[1024]; /* spawn_process's refusal, or a timeout reading the channel */
};

/* Run argv in the jail (cfg), extra_env (NULL-terminated "K=V", or NULL) added. */
void run_cfg(const struct sandbox_config *cfg, char *const argv[], char *const *extra_env,
             struct result *r);

/* /bin/sh -c SCRIPT in the jail (cfg), its stdout going to the channel. */
void sh_cfg(const struct sandbox_config *cfg, const char *script, struct result *r);

/* Spawned, and exited with this code. */
bool exited(const struct result *r, int code);

#endif
