/* The history_request answers (kernel/history.c) against history files that push its bounds,
 * found while writing its fuzz harness (tests/fuzz/fuzz_history.c): a unique tail of a full
 * history must answer quickly (it is answered on the main thread, where the control channel is
 * served too), and an input or output cut at the 1 MiB bound must still be answered. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "kernel/history.h"

#define MiB (1u << 20)

static char dir[] = "/tmp/warden-test-history.XXXXXX";

/* A history file written from `records` (JSON lines), opened. */
static struct history *open_with(const char *name, const char *const *records, size_t n)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%s\n", records[i]);
    fclose(f);
    return history_open(path);
}

static json_t *ask(struct history *h, const char *request)
{
    json_t *req = J(request);
    json_t *reply = history_reply(h, req);
    json_decref(req);
    return reply;
}

static double seconds_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* 20000 entries (the most kept), the last 100 repeats of the first 100: a unique tail of all. */
static void test_unique_tail_of_a_full_history(void)
{
    char path[256];
    snprintf(path, sizeof path, "%s/full.jsonl", dir);
    FILE *f = fopen(path, "w");
    for (int i = 1; i <= 20000; i++)
        fprintf(f, "{\"s\": 1, \"l\": %d, \"i\": \"x = %d\"}\n", i, i <= 19900 ? i : i - 19900);
    fclose(f);
    struct history *h = history_open(path);
    double start = seconds_now();
    json_t *reply = ask(h, "{\"hist_access_type\": \"tail\", \"n\": 0, \"unique\": true}");
    double took = seconds_now() - start;
    json_t *list = json_object_get(reply, "history");
    CHECK(json_array_size(list) == 19900);
    /* newest first kept, oldest first returned: lines 1..100 are the repeats left out */
    CHECK(json_is(json_array_get(list, 0), "[1, 101, \"x = 101\"]"));
    CHECK(json_is(json_array_get(list, 19899), "[1, 20000, \"x = 100\"]"));
    /* It took 7.3 s (a scan of what was kept for each entry) on the main thread, which serves
     * the control channel too; a hash of what was kept takes milliseconds. The bound is for a
     * loaded machine. */
    CHECK(took < 2.0);
    if (took >= 2.0)
        fprintf(stderr, "  a unique tail of 20000 entries took %.2f s\n", took);
    json_decref(reply);
    history_close(h);
}

/* Inputs and outputs past 1 MiB are cut there; a cut inside a UTF-8 character made a string
 * that is not UTF-8, and the entry vanished from every answer. */
static void test_cut_at_the_bound_keeps_utf8(void)
{
    size_t n = MiB - 1; /* 'a' * (1 MiB - 1), then "é" (2 bytes) across the bound */
    char *big = malloc(n + 64);
    memset(big, 'a', n);
    strcpy(big + n, "\xc3\xa9");
    char *input = malloc(n + 128), *output = malloc(n + 128);
    snprintf(input, n + 128, "{\"s\": 1, \"l\": 1, \"i\": \"%s\"}", big);
    snprintf(output, n + 128, "{\"s\": 1, \"l\": 2, \"i\": \"x\", \"o\": \"%s\"}", big);
    const char *records[] = {input, "{\"s\": 1, \"l\": 2, \"i\": \"x\"}", output};
    struct history *h = open_with("cut.jsonl", records, 3);
    json_t *reply = ask(h, "{\"hist_access_type\": \"tail\", \"n\": 0, \"output\": true}");
    json_t *list = json_object_get(reply, "history");
    CHECK(json_array_size(list) == 2);
    json_t *first = json_array_get(json_array_get(list, 0), 2);
    CHECK(json_string_length(json_array_get(first, 0)) == n); /* cut before the "é" */
    json_t *second = json_array_get(json_array_get(list, 1), 2);
    CHECK(json_string_length(json_array_get(second, 1)) == n);
    json_decref(reply);
    history_close(h);
    free(big);
    free(input);
    free(output);
}

int main(void)
{
    if (!mkdtemp(dir))
        return 2;
    test_unique_tail_of_a_full_history();
    test_cut_at_the_bound_keeps_utf8();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return check_summary("history");
}
