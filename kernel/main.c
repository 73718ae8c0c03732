/* warden: one binary, several jobs. `warden kernel -f FILE` is what Jupyter launches. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../agent/agent.h"
#include "../sandbox/log.h"
#include "../sandbox/sandbox.h"
#include "install.h"
#include "kernel.h"

#define CONFIG_MAX_BYTES (1 << 20)

static void usage(FILE *out)
{
    fprintf(out,
            "warden %s - a Jupyter kernel that turns plain language into Python and runs it in a "
            "jail\n\n"
            "usage:\n"
            "  warden kernel -f CONNECTION_FILE [--config FILE] [--unjailed]\n"
            "  warden install [--user | --prefix PREFIX | --sys-prefix]\n"
            "  warden jail [OPTIONS] -- COMMAND [ARGS...]   run a command in the worker's jail\n"
            "  warden doctor                                 what isolation works here\n"
            "  warden --version | --help\n\n"
            "The config file (default $WARDEN_CONFIG, else ~/.config/warden/config.json) is JSON:\n"
            "  {\"sandbox\": {\"memory\": \"2G\", \"tasks\": 256, \"workdir_writable\": false, ...}}\n"
            "--unjailed runs cells WITHOUT the jail. Only for machines that cannot jail, and only "
            "for code you trust.\n",
            WARDEN_VERSION);
}

static void default_config_path(char *out, size_t len)
{
    const char *chosen = getenv("WARDEN_CONFIG");
    const char *xdg = getenv("XDG_CONFIG_HOME");
    const char *home = getenv("HOME");
    if (chosen && *chosen)
        snprintf(out, len, "%s", chosen);
    else if (xdg && *xdg)
        snprintf(out, len, "%s/warden/config.json", xdg);
    else if (home && *home)
        snprintf(out, len, "%s/.config/warden/config.json", home);
    else
        out[0] = '\0';
}

/* The config file is untrusted input: bounded, must be an object of known sections. A missing
 * default file is fine; a missing file that was asked for is an error. */
static int apply_config_file(const char *path, bool required, struct sandbox_config *cfg,
                             char *err, size_t err_len)
{
    FILE *file = path[0] ? fopen(path, "rb") : NULL;
    if (!file) {
        if (required)
            snprintf(err, err_len, "warden config file %s cannot be read", path);
        return required ? -1 : 0;
    }
    json_error_t error;
    json_t *root = json_loadf(file, 0, &error);
    long size = ftell(file);
    fclose(file);
    int rc = -1;
    const char *key;
    json_t *section;
    if (size > CONFIG_MAX_BYTES)
        snprintf(err, err_len, "warden config file %s is larger than 1 MiB", path);
    else if (!json_is_object(root))
        snprintf(err, err_len, "warden config file %s is not a JSON object: %s", path,
                 root ? "wrong type" : error.text);
    else {
        rc = 0;
        json_object_foreach(root, key, section)
        {
            char why[768];
            if (strcmp(key, "sandbox") == 0)
                rc = sandbox_config_apply_json(cfg, section, why, sizeof why);
            else {
                snprintf(why, sizeof why, "unknown section \"%s\" (known: \"sandbox\")", key);
                rc = -1;
            }
            if (rc != 0) {
                snprintf(err, err_len, "warden config file %s: %s", path, why);
                break;
            }
        }
    }
    json_decref(root);
    return rc;
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
    struct sandbox_config cfg;
    sandbox_config_defaults(&cfg);
    char path[PATH_MAX], config_error[1024] = "";
    snprintf(path, sizeof path, "%s", config_path ? config_path : "");
    if (!config_path)
        default_config_path(path, sizeof path);
    if (apply_config_file(path, config_path != NULL, &cfg, config_error, sizeof config_error))
        log_error("%s", config_error);
    if (unjailed)
        cfg.unjailed = true;
    struct engine *engine = agent_engine_new(&cfg, config_error);
    if (!engine)
        return 1;
    int rc = kernel_run(connection_file, engine);
    agent_engine_free(engine);
    return rc;
}

int main(int argc, char **argv)
{
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
        return sandbox_jail_main(argc - 1, argv + 1);
    if (strcmp(command, "doctor") == 0)
        return sandbox_doctor_main(argc - 1, argv + 1);
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
