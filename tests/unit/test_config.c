/* The sandbox's section of the config file: defaults, every key, bad types, ranges, unknown keys
 * (the file as a whole, and the other sections: test_config_file.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "sandbox/config.h"

#define MiB (1024ull * 1024ull)
#define GiB (1024ull * MiB)

/* Applies `text`; returns rc, leaves the message in err. */
static int apply(struct sandbox_config *cfg, const char *text, char *err, size_t len)
{
    json_t *v = J(text);
    int rc = sandbox_config_apply_json(cfg, v, err, len);
    json_decref(v);
    return rc;
}

static void test_defaults(void)
{
    struct sandbox_config cfg;
    sandbox_config_defaults(&cfg);
    CHECK(cfg.limits.memory_bytes == 2 * GiB);
    CHECK(cfg.limits.max_tasks == 256);
    CHECK(cfg.limits.file_size_bytes == 1 * GiB);
    CHECK(cfg.limits.open_files == 1024);
    CHECK(cfg.limits.tmpfs_bytes == 512 * MiB);
    CHECK(cfg.limits.output_bytes == 32 * MiB);
    CHECK(cfg.limits.python_wall_ms == 0);
    CHECK(cfg.limits.interrupt_grace_ms == 2000);
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    CHECK(cfg.limits.cpu_millis == (cpus >= 2 ? (uint32_t)(cpus * 1000 - 500) : 0));
    char cwd[PATH_MAX];
    CHECK(getcwd(cwd, sizeof cwd) && strcmp(cfg.workdir, cwd) == 0);
    CHECK(!cfg.workdir_writable);
    CHECK(!cfg.unjailed);
    CHECK(cfg.standby);
    CHECK(strcmp(cfg.python, "/usr/bin/python3") == 0);
    /* From the build tree, the runtime is found in the source tree. */
    CHECK(strcmp(cfg.runtime_dir, WARDEN_SOURCE_RUNTIME_DIR) == 0);
}

static void test_every_key(void)
{
    struct sandbox_config cfg;
    sandbox_config_defaults(&cfg);
    char err[512] = "unset";
    int rc =
        apply(&cfg,
              "{\"memory\":\"4G\",\"file_size\":\"100M\",\"tmpfs\":268435456,\"output\":\"1MiB\","
              "\"tasks\":64,\"open_files\":4096,\"python_wall_time\":30,"
              "\"interrupt_grace\":0.5,\"workdir\":\"/tmp\",\"workdir_writable\":true,"
              "\"unjailed\":true,\"standby\":false,\"python\":\"/usr/local/bin/python3\"}",
              err, sizeof err);
    CHECK(rc == 0);
    CHECK(err[0] == 0);
    CHECK(cfg.limits.memory_bytes == 4 * GiB);
    CHECK(cfg.limits.file_size_bytes == 100 * MiB);
    CHECK(cfg.limits.tmpfs_bytes == 256 * MiB);
    CHECK(cfg.limits.output_bytes == 1 * MiB);
    CHECK(cfg.limits.max_tasks == 64);
    CHECK(cfg.limits.open_files == 4096);
    CHECK(cfg.limits.python_wall_ms == 30000);
    CHECK(cfg.limits.interrupt_grace_ms == 500);
    CHECK(strcmp(cfg.workdir, "/tmp") == 0);
    CHECK(cfg.workdir_writable);
    CHECK(cfg.unjailed);
    CHECK(!cfg.standby);
    CHECK(strcmp(cfg.python, "/usr/local/bin/python3") == 0);

    /* Size spellings. */
    static const struct {
        const char *text;
        unsigned long long bytes;
    } sizes[] = {{"\"512M\"", 512 * MiB},  {"\"512m\"", 512 * MiB},   {"\"2G\"", 2 * GiB},
                 {"\"2 GiB\"", 2 * GiB},   {"\"1.5G\"", 3 * GiB / 2}, {"\"100000000\"", 100000000},
                 {"\"65536K\"", 64 * MiB}, {"\"1T\"", 1024 * GiB},    {"134217728", 128 * MiB}};
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        char text[64];
        snprintf(text, sizeof text, "{\"memory\":%s}", sizes[i].text);
        CHECK(apply(&cfg, text, err, sizeof err) == 0);
        CHECK(cfg.limits.memory_bytes == sizes[i].bytes);
    }
    /* Wall time 0 means no limit. */
    CHECK(apply(&cfg, "{\"python_wall_time\":0}", err, sizeof err) == 0);
    CHECK(cfg.limits.python_wall_ms == 0);
    /* null / empty section: nothing changes. */
    struct sandbox_config before = cfg;
    CHECK(apply(&cfg, "{}", err, sizeof err) == 0);
    CHECK(sandbox_config_apply_json(&cfg, NULL, err, sizeof err) == 0);
    CHECK(memcmp(&before, &cfg, sizeof cfg) == 0);
}

/* Each bad section fails, names the key and leaves cfg untouched. */
static void expect_error(const char *text, const char *must_mention, const char *also)
{
    struct sandbox_config cfg, before;
    sandbox_config_defaults(&cfg);
    before = cfg;
    char err[512] = "";
    int rc = apply(&cfg, text, err, sizeof err);
    CHECK(rc == -1);
    CHECK(strstr(err, must_mention) != NULL);
    if (also)
        CHECK(strstr(err, also) != NULL);
    CHECK(memcmp(&before, &cfg, sizeof cfg) == 0);
    if (rc != -1 || !strstr(err, must_mention) || (also && !strstr(err, also)))
        fprintf(stderr, "  for %s: rc %d, \"%s\"\n", text, rc, err);
}

static void test_bad_types(void)
{
    expect_error("{\"memory\":true}", "sandbox.memory", "\"512M\"");
    expect_error("{\"memory\":[1]}", "sandbox.memory", NULL);
    expect_error("{\"memory\":1.5}", "sandbox.memory", NULL);
    expect_error("{\"memory\":\"lots\"}", "sandbox.memory", "not a size");
    expect_error("{\"memory\":\"2X\"}", "sandbox.memory", "not a size");
    expect_error("{\"memory\":\"-2G\"}", "sandbox.memory", NULL);
    expect_error("{\"output\":\"\"}", "sandbox.output", NULL);
    expect_error("{\"tasks\":\"64\"}", "sandbox.tasks", "integer");
    expect_error("{\"tasks\":64.5}", "sandbox.tasks", "integer");
    expect_error("{\"open_files\":null}", "sandbox.open_files", "integer");
    expect_error("{\"python_wall_time\":\"30s\"}", "sandbox.python_wall_time", "seconds");
    expect_error("{\"interrupt_grace\":false}", "sandbox.interrupt_grace", "seconds");
    expect_error("{\"workdir\":\"relative/dir\"}", "sandbox.workdir", "absolute");
    expect_error("{\"workdir\":5}", "sandbox.workdir", "absolute");
    expect_error("{\"workdir\":\"/nonexistent/warden/dir\"}", "sandbox.workdir",
                 "existing directory");
    expect_error("{\"python\":\"python3\"}", "sandbox.python", "absolute");
    expect_error("{\"workdir_writable\":\"yes\"}", "sandbox.workdir_writable", "true or false");
    expect_error("{\"unjailed\":1}", "sandbox.unjailed", "true or false");
    expect_error("{\"standby\":null}", "sandbox.standby", "true or false");
    expect_error("[1,2]", "sandbox", "object");
    expect_error("\"memory\"", "sandbox", "object");
}

static void test_ranges(void)
{
    expect_error("{\"memory\":\"1M\"}", "sandbox.memory", "between 64 MiB and 1024 GiB");
    expect_error("{\"memory\":\"2T\"}", "sandbox.memory", "between");
    expect_error("{\"memory\":-5}", "sandbox.memory", "between");
    expect_error("{\"memory\":\"99999999T\"}", "sandbox.memory", NULL);
    expect_error("{\"file_size\":1000}", "sandbox.file_size", "between");
    expect_error("{\"tmpfs\":\"100G\"}", "sandbox.tmpfs", "between");
    expect_error("{\"output\":10}", "sandbox.output", "between 1 KiB");
    expect_error("{\"output\":\"2G\"}", "sandbox.output", "between");
    expect_error("{\"tasks\":1}", "sandbox.tasks", "between 8 and 65536");
    expect_error("{\"tasks\":10000000}", "sandbox.tasks", "between");
    expect_error("{\"open_files\":3}", "sandbox.open_files", "between");
    expect_error("{\"python_wall_time\":-1}", "sandbox.python_wall_time", "between");
    expect_error("{\"python_wall_time\":0.01}", "sandbox.python_wall_time", "between");
    expect_error("{\"interrupt_grace\":0}", "sandbox.interrupt_grace", "between 0.1 and 60");
    expect_error("{\"interrupt_grace\":3600}", "sandbox.interrupt_grace", "between");
    expect_error("{\"cpus\":0.05}", "sandbox.cpus", "between 0.1 and 4096");
    expect_error("{\"cpus\":-1}", "sandbox.cpus", "0 for no limit");
    expect_error("{\"cpus\":5000}", "sandbox.cpus", "between");
    expect_error("{\"cpus\":\"2\"}", "sandbox.cpus", "number of CPUs");
    /* A valid key before a bad one does not stick. */
    expect_error("{\"tasks\":100,\"memory\":\"1K\"}", "sandbox.memory", NULL);
}

static void test_cpus(void)
{
    struct sandbox_config cfg;
    char err[256];
    sandbox_config_defaults(&cfg);
    CHECK(apply(&cfg, "{\"cpus\":1.5}", err, sizeof err) == 0 && cfg.limits.cpu_millis == 1500);
    CHECK(apply(&cfg, "{\"cpus\":2}", err, sizeof err) == 0 && cfg.limits.cpu_millis == 2000);
    CHECK(apply(&cfg, "{\"cpus\":0}", err, sizeof err) == 0 && cfg.limits.cpu_millis == 0);
    CHECK(apply(&cfg, "{\"cpus\":0.1}", err, sizeof err) == 0 && cfg.limits.cpu_millis == 100);
}

static void test_unknown_key(void)
{
    expect_error("{\"memroy\":\"2G\"}", "sandbox.memroy", "unknown key");
    expect_error("{\"memroy\":\"2G\"}", "accepted keys are memory", "python");
    expect_error("{\"runtime_dir\":\"/tmp\"}", "sandbox.runtime_dir", "unknown key");
    /* The agent's wall time is the agent's (the file still takes the old spelling: the
     * composition root moves it, test_config_file.c). */
    expect_error("{\"agent_wall_time\":5}", "sandbox.agent_wall_time", "unknown key");
}

int main(void)
{
    test_defaults();
    test_every_key();
    test_bad_types();
    test_ranges();
    test_cpus();
    test_unknown_key();
    return check_summary("config");
}
