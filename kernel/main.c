/* warden: one binary, several jobs. `warden kernel -f FILE` is what Jupyter launches.
 *
 * The composition root: the only code that knows all three layers. It reads the config file once
 * (main_config.c), hands each layer its section, and wires them together: the kernel (Jupyter)
 * drives the agent's engine, which runs Python in the sandbox. */
#include <limits.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent.h"
#include "common/log.h"
#include "kernel/install.h"
#include "kernel/kernel.h"
#include "kernel/main_config.h"
#include "sandbox/sandbox.h"

static void usage(FILE *out)
{
    fprintf(
        out,
        "warden %s - a Jupyter kernel that turns plain language into Python and runs it in a "
        "jail\n\n"
        "usage:\n"
        "  warden kernel -f CONNECTION_FILE [--config FILE] [--unjailed]\n"
        "  warden install [--user | --prefix PREFIX | --sys-prefix]\n"
        "  warden jail [OPTIONS] -- COMMAND [ARGS...]   run a command in the worker's jail\n"
        "  warden doctor                                 what isolation works here\n"
        "  warden --version | --help\n\n"
        "The config file (default $WARDEN_CONFIG, else ~/.config/warden/config.json) is JSON:\n"
        "  {\"kernel\": {\"history\": \"off\"}, \"agent\": {\"wall_time\": 120},\n"
        "   \"sandbox\": {\"memory\": \"2G\", \"tasks\": 256, \"workdir_writable\": false, ...}}\n"
        "--unjailed runs cells WITHOUT the jail. Only for machines that cannot jail, and only "
        "for code you trust.\n",
        WARDEN_VERSION);
}

static int kernel_main(int argc, char **argv)
{
    const char *connection_file = NULL, *config_path = NULL;
    bool unjailed = false;
    for (int i = 0; i < argc; i++) {
        if ((strcmp(argv[i], "-f") == 0 || strcmp(argv[i], "--connection-file") == 0) &&
            i + 1 < argc)
            connection_file = argv[++i];
        else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            config_path = argv[++i];
        else if (strcmp(argv[i], "--unjailed") == 0)
            unjailed = true;
        else {
            usage(stderr);
            return 2;
        }
    }
    if (!connection_file) {
        usage(stderr);
        return 2;
    }
    static struct warden_config cfg; /* large (paths): not on the stack */
    warden_config_defaults(&cfg);
    char config_error[1024] = "";
    if (warden_config_load(&cfg, config_path, config_error, sizeof config_error) != 0)
        log_error("%s", config_error);
    if (unjailed)
        cfg.sandbox.unjailed = true;
    struct engine *engine =
        agent_engine_new(&cfg.agent, agent_sandbox_new(&cfg.sandbox), config_error);
    if (!engine)
        return 1;
    int rc = kernel_run(connection_file, &cfg.kernel, engine);
    agent_engine_free(engine);
    return rc;
}

int main(int argc, char **argv)
{
    /* One malloc arena for every thread: the kernel's five threads (main, heartbeat, executor,
     * libzmq's I/O and reaper) allocate little and seldom at once, and each arena of its own kept
     * 200-350 KiB resident (measured: 0.2 MiB of RSS after 100 cells). */
    mallopt(M_ARENA_MAX, 1);
    log_set_level(log_level_from_env());
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *command = argv[1];
    if (strcmp(command, "kernel") == 0)
        return kernel_main(argc - 2, argv + 2);
    if (strcmp(command, "install") == 0)
        return install_main(argc - 2, argv + 2);
    if (strcmp(command, "jail") == 0)
        return sandbox_jail_main(argc - 1, argv + 1, warden_config_load_sandbox);
    if (strcmp(command, "doctor") == 0)
        return sandbox_doctor_main(argc - 1, argv + 1, warden_config_load_sandbox);
    if (strcmp(command, "--version") == 0 || strcmp(command, "version") == 0) {
        printf("warden %s\n", WARDEN_VERSION);
        return 0;
    }
    if (strcmp(command, "--help") == 0 || strcmp(command, "-h") == 0 ||
        strcmp(command, "help") == 0) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "warden: unknown command \"%s\"\n\n", command);
    usage(stderr);
    return 2;
}
