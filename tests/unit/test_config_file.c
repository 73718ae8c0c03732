/* The config file as the composition root reads it (kernel/main_config.c): one file, a section
 * per layer, each checked by its owner; unknown sections named; all or nothing; the deprecated
 * sandbox.agent_wall_time; the environment over the file; and the kernel's and agent's own
 * sections. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "kernel/main_config.h"

static char dir[] = "/tmp/warden-test-config-XXXXXX";
static char path[256];

/* Writes `text` as the config file and loads it over defaults; returns rc, err and cfg. */
static int load(const char *text, struct warden_config *cfg, char *err, size_t len)
{
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    warden_config_defaults(cfg);
    return warden_config_load(cfg, path, err, len);
}

static bool mentions(const char *err, const char *a, const char *b)
{
    bool ok = strstr(err, a) && (!b || strstr(err, b));
    if (!ok)
        fprintf(stderr, "  error \"%s\" does not mention \"%s\"%s%s\n", err, a, b ? " / " : "",
                b ? b : "");
    return ok;
}

static void test_sections(void)
{
    struct warden_config cfg;
    char err[1024];
    CHECK(load("{\"kernel\":{\"history\":\"off\"},\"agent\":{\"wall_time\":30},"
               "\"sandbox\":{\"memory\":\"1G\"}}",
               &cfg, err, sizeof err) == 0);
    CHECK(err[0] == 0);
    CHECK(strcmp(cfg.kernel.history, "off") == 0);
    CHECK(cfg.agent.wall_ms == 30000);
    CHECK(cfg.sandbox.limits.memory_bytes == 1024ull * 1024 * 1024);
    CHECK(load("{\"kernel\":{\"history\":\"/tmp/h.jsonl\"}}", &cfg, err, sizeof err) == 0);
    CHECK(strcmp(cfg.kernel.history, "/tmp/h.jsonl") == 0);
    CHECK(load("{}", &cfg, err, sizeof err) == 0);
    CHECK(cfg.agent.wall_ms == 120000 && cfg.kernel.history[0] == 0);
    CHECK(cfg.kernel.history_limit == 100000);
    CHECK(load("{\"kernel\":{\"history_limit\":500}}", &cfg, err, sizeof err) == 0);
    CHECK(cfg.kernel.history_limit == 500);
    CHECK(load("{\"kernel\":{\"history_limit\":0}}", &cfg, err, sizeof err) == -1);
    CHECK(strstr(err, "kernel.history_limit") != NULL);
    CHECK(load("{\"agent\":{\"wall_time\":0},\"kernel\":null}", &cfg, err, sizeof err) == 0);
    CHECK(cfg.agent.wall_ms == 0);
}

static void test_errors_name_the_field(void)
{
    struct warden_config cfg;
    char err[1024];
    CHECK(load("{\"sandbox\":{},\"agnet\":{}}", &cfg, err, sizeof err) == -1);
    CHECK(mentions(err, path, "unknown section \"agnet\""));
    CHECK(mentions(err, "\"kernel\", \"agent\", \"sandbox\"", NULL));
    CHECK(load("{\"agent\":{\"wall_time\":\"2m\"}}", &cfg, err, sizeof err) == -1);
    CHECK(mentions(err, "agent.wall_time", "seconds"));
    CHECK(load("{\"agent\":{\"modle\":\"x\"}}", &cfg, err, sizeof err) == -1);
    CHECK(mentions(err, "agent.modle", "unknown key; accepted keys are provider, base_url, model"));
    CHECK(load("{\"agent\":{\"provider\":\"gemini\"}}", &cfg, err, sizeof err) == -1);
    CHECK(mentions(err, "agent.provider", "openai|anthropic"));
    CHECK(load("{\"agent\":{\"base_url\":\"localhost:11434\"}}", &cfg, err, sizeof err) == -1);
    CHECK(mentions(err, "agent.base_url", "http://"));
    CHECK(load("{\"agent\":{\"temperature\":3}}", &cfg, err, sizeof err) == -1);
    CHECK(mentions(err, "agent.temperature", "between 0 and 2"));
    CHECK(load("{\"agent\":{\"provider\":\"anthropic\",\"base_url\":\"http://h:1/\","
               "\"model\":\"m\",\"max_attempts\":5,\"temperature\":0.5,\"review\":true}}",
               &cfg, err, sizeof err) == 0);
    CHECK(strcmp(cfg.agent.provider, "anthropic") == 0 &&
          strcmp(cfg.agent.base_url, "http://h:1") == 0);
    CHECK(cfg.agent.max_attempts == 5 && cfg.agent.temperature == 0.5 && cfg.agent.review);
    CHECK(load("{\"agent\":[]}", &cfg, err, sizeof err) == -1);
    CHECK(mentions(err, "agent: must be an object", NULL));
    CHECK(load("{\"kernel\":{\"history\":\"relative.jsonl\"}}", &cfg, err, sizeof err) == -1);
    CHECK(mentions(err, "kernel.history", "absolute path"));
    CHECK(mentions(err, "\"off\"", NULL));
    CHECK(load("{\"kernel\":{\"history\":true}}", &cfg, err, sizeof err) == -1);
    CHECK(mentions(err, "kernel.history", NULL));
    CHECK(load("{\"sandbox\":{\"tasks\":1}}", &cfg, err, sizeof err) == -1);
    CHECK(mentions(err, path, "sandbox.tasks"));
    CHECK(load("[1]", &cfg, err, sizeof err) == -1);
    CHECK(mentions(err, "not a JSON object", NULL));
    CHECK(load("{\"sandbox\":", &cfg, err, sizeof err) == -1);
    CHECK(mentions(err, path, "not a JSON object"));
}

/* A bad key anywhere leaves every section at its defaults. */
static void test_all_or_nothing(void)
{
    struct warden_config cfg, defaults;
    char err[1024];
    warden_config_defaults(&defaults);
    CHECK(load("{\"sandbox\":{\"memory\":\"1G\"},\"agent\":{\"wall_time\":5},"
               "\"kernel\":{\"history\":5}}",
               &cfg, err, sizeof err) == -1);
    CHECK(cfg.sandbox.limits.memory_bytes == defaults.sandbox.limits.memory_bytes);
    CHECK(cfg.agent.wall_ms == defaults.agent.wall_ms);
    CHECK(memcmp(&cfg.sandbox, &defaults.sandbox, sizeof cfg.sandbox) == 0);
    CHECK(strcmp(cfg.kernel.history, defaults.kernel.history) == 0);
}

static void test_deprecated_agent_wall_time(void)
{
    struct warden_config cfg;
    char err[1024];
    CHECK(load("{\"sandbox\":{\"agent_wall_time\":60.5,\"memory\":\"1G\"}}", &cfg, err,
               sizeof err) == 0);
    CHECK(cfg.agent.wall_ms == 60500);
    CHECK(cfg.sandbox.limits.memory_bytes == 1024ull * 1024 * 1024);
    /* The agent's own key wins, whichever comes first in the file. */
    CHECK(load("{\"agent\":{\"wall_time\":10},\"sandbox\":{\"agent_wall_time\":60}}", &cfg, err,
               sizeof err) == 0);
    CHECK(cfg.agent.wall_ms == 10000);
    CHECK(load("{\"sandbox\":{\"agent_wall_time\":0}}", &cfg, err, sizeof err) == 0);
    CHECK(cfg.agent.wall_ms == 0);
    CHECK(load("{\"sandbox\":{\"agent_wall_time\":1e12}}", &cfg, err, sizeof err) == -1);
    CHECK(mentions(err, "sandbox.agent_wall_time", "between"));
    CHECK(mentions(err, "agent.wall_time", NULL));
}

static void test_environment_wins(void)
{
    struct warden_config cfg;
    char err[1024];
    setenv("WARDEN_HISTORY", "/tmp/from-env.jsonl", 1);
    CHECK(load("{\"kernel\":{\"history\":\"off\"}}", &cfg, err, sizeof err) == 0);
    CHECK(strcmp(cfg.kernel.history, "/tmp/from-env.jsonl") == 0);
    /* Also when the file is bad. */
    CHECK(load("{\"kernel\":{\"history\":1}}", &cfg, err, sizeof err) == -1);
    CHECK(strcmp(cfg.kernel.history, "/tmp/from-env.jsonl") == 0);
    setenv("WARDEN_HISTORY", "", 1);
    CHECK(load("{\"kernel\":{\"history\":\"off\"}}", &cfg, err, sizeof err) == 0);
    CHECK(strcmp(cfg.kernel.history, "off") == 0);
    unsetenv("WARDEN_HISTORY");
}

static void test_which_file(void)
{
    struct warden_config cfg;
    char err[1024];
    /* A file that was asked for must exist; the default one may be missing. */
    warden_config_defaults(&cfg);
    char missing[300];
    snprintf(missing, sizeof missing, "%s/none.json", dir);
    CHECK(warden_config_load(&cfg, missing, err, sizeof err) == -1);
    CHECK(mentions(err, missing, "No such file"));
    setenv("HOME", dir, 1);
    unsetenv("XDG_CONFIG_HOME");
    unsetenv("WARDEN_CONFIG");
    CHECK(warden_config_load(&cfg, NULL, err, sizeof err) == 0 && err[0] == 0);
    /* $WARDEN_CONFIG names one. */
    setenv("WARDEN_CONFIG", path, 1);
    FILE *f = fopen(path, "w");
    fputs("{\"agent\":{\"wall_time\":7}}", f);
    fclose(f);
    CHECK(warden_config_load(&cfg, NULL, err, sizeof err) == 0 && cfg.agent.wall_ms == 7000);
    unsetenv("WARDEN_CONFIG");
    /* Not a regular file: refused (a FIFO would block the read). */
    char fifo[300];
    snprintf(fifo, sizeof fifo, "%s/fifo.json", dir);
    CHECK(mkfifo(fifo, 0600) == 0);
    CHECK(warden_config_load(&cfg, fifo, err, sizeof err) == -1);
    CHECK(mentions(err, "not a regular file", NULL));
    unlink(fifo);
}

/* warden jail and warden doctor: the whole file is checked, the sandbox's section applied over
 * what the tool had. */
static void test_sandbox_loader(void)
{
    struct sandbox_config cfg;
    sandbox_config_defaults(&cfg);
    cfg.limits.max_tasks = 99;
    char err[1024];
    FILE *f = fopen(path, "w");
    fputs("{\"sandbox\":{\"memory\":\"1G\"},\"agent\":{\"wall_time\":3}}", f);
    fclose(f);
    CHECK(warden_config_load_sandbox(path, &cfg, err, sizeof err) == 0);
    CHECK(cfg.limits.memory_bytes == 1024ull * 1024 * 1024 && cfg.limits.max_tasks == 99);
    f = fopen(path, "w");
    fputs("{\"sandbox\":{},\"agent\":{\"wall_time\":\"x\"}}", f);
    fclose(f);
    CHECK(warden_config_load_sandbox(path, &cfg, err, sizeof err) == -1);
    CHECK(mentions(err, "agent.wall_time", NULL));
}

int main(void)
{
    if (!mkdtemp(dir))
        return 2;
    /* The environment's settings win over the file: start without them (tests/run sets some). */
    unsetenv("WARDEN_HISTORY");
    unsetenv("WARDEN_CONFIG");
    snprintf(path, sizeof path, "%s/config.json", dir);
    test_sections();
    test_errors_name_the_field();
    test_all_or_nothing();
    test_deprecated_agent_wall_time();
    test_environment_wins();
    test_which_file();
    test_sandbox_loader();
    unlink(path);
    rmdir(dir);
    return check_summary("config file");
}
