/* The history in SQLite (kernel/history*.c): the file and its schema, history_request's tail,
 * range and search as ipykernel answers them, the caps on what is stored, the one-time import of
 * history.jsonl, pruning to the limit, two writers at once, and a file that is unusable,
 * read-only, full or held by another kernel (said once, the history still answering). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "kernel/history_internal.h"

static char dir[] = "/tmp/warden-test-history-XXXXXX";

static const char *in_dir(const char *name)
{
    static char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return path;
}

static json_t *ask(struct history *h, const char *request)
{
    json_t *req = J(request);
    json_t *reply = history_reply(h, req);
    json_decref(req);
    return reply;
}

/* The reply to `request` is `expected` (JSON); says what it got when not. */
static bool answers(struct history *h, const char *request, const char *expected)
{
    json_t *reply = ask(h, request);
    bool same = json_is(reply, expected);
    json_decref(reply);
    return same;
}

static long long count_rows(const char *path, const char *sql)
{
    sqlite3 *db;
    long long n = -1;
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW)
        n = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return n;
}

static void test_schema_and_file(void)
{
    const char *path = in_dir("schema.sqlite");
    struct history *h = history_open(path, 100);
    CHECK(access(path, F_OK) != 0); /* nothing until the first use */
    history_add(h, 1, "a = 1");
    struct stat st;
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
    CHECK(h->session == 1 && history_take_notice(h) == NULL);
    CHECK(count_rows(path, "SELECT count(*) FROM sessions") == 1);
    CHECK(count_rows(path, "SELECT count(*) FROM history WHERE source = 'a = 1'") == 1);
    CHECK(count_rows(path, "PRAGMA user_version") == 1);
    sqlite3_stmt *stmt = NULL;
    sqlite3_prepare_v2(h->db, "PRAGMA journal_mode", -1, &stmt, NULL);
    CHECK(sqlite3_step(stmt) == SQLITE_ROW &&
          strcmp((const char *)sqlite3_column_text(stmt, 0), "wal") == 0);
    sqlite3_finalize(stmt);
    history_close(h);
    /* the next kernel is the next session; the first one's end is recorded */
    CHECK(count_rows(path, "SELECT num_cmds FROM sessions WHERE session = 1 AND end NOT NULL") ==
          1);
    h = history_open(path, 100);
    history_add(h, 1, "b = 2");
    CHECK(h->session == 2);
    history_close(h);

    /* IPython's own history.sqlite (no id, no output column) is not written into */
    const char *ipython = in_dir("ipython.sqlite");
    sqlite3 *db;
    sqlite3_open(ipython, &db);
    sqlite3_exec(db,
                 "CREATE TABLE history (session integer, line integer, source text, source_raw "
                 "text, PRIMARY KEY (session, line)); PRAGMA user_version = 1;",
                 NULL, NULL, NULL);
    sqlite3_close(db);
    h = history_open(ipython, 100);
    history_add(h, 1, "c = 3");
    const char *notice = history_take_notice(h);
    CHECK(notice && strstr(notice, ipython) && strstr(notice, "kept in memory"));
    CHECK(answers(h, "{\"hist_access_type\": \"tail\", \"n\": 5}",
                  "{\"status\": \"ok\", \"history\": [[1, 1, \"c = 3\"]]}"));
    history_close(h);
}

/* Two sessions: 1 (lines 1-4) and 2, this one (lines 1-3, line 2 with an output). */
static struct history *two_sessions(const char *name)
{
    struct history *h = history_open(in_dir(name), 100);
    const char *first[] = {"x = 1", "y = 2", "x + y", "x = 1"};
    for (int i = 0; i < 4; i++)
        history_add(h, i + 1, first[i]);
    history_close(h);
    h = history_open(in_dir(name), 100);
    history_add(h, 1, "z = 3");
    history_add(h, 2, "z * 2");
    history_set_output(h, 2, "6");
    history_add(h, 3, "print(x)");
    return h;
}

static void test_tail(void)
{
    struct history *h = two_sessions("tail.sqlite");
    CHECK(answers(h, "{\"hist_access_type\": \"tail\", \"n\": 4}",
                  "{\"status\": \"ok\", \"history\": [[1, 4, \"x = 1\"], [2, 1, \"z = 3\"],"
                  " [2, 2, \"z * 2\"], [2, 3, \"print(x)\"]]}"));
    CHECK(answers(h, "{\"hist_access_type\": \"tail\", \"n\": 2, \"output\": true}",
                  "{\"status\": \"ok\", \"history\": [[2, 2, [\"z * 2\", \"6\"]],"
                  " [2, 3, [\"print(x)\", null]]]}"));
    CHECK(answers(h, "{\"hist_access_type\": \"tail\", \"n\": 0}",
                  "{\"status\": \"ok\", \"history\": []}"));
    json_t *reply = ask(h, "{\"hist_access_type\": \"tail\"}"); /* n: IPython's 10 */
    CHECK(json_array_size(json_object_get(reply, "history")) == 7);
    json_decref(reply);
    history_close(h);
}

static void test_range(void)
{
    struct history *h = two_sessions("range.sqlite");
    CHECK(answers(h, "{\"hist_access_type\": \"range\", \"session\": 1, \"start\": 2, \"stop\": 4}",
                  "{\"status\": \"ok\", \"history\": [[1, 2, \"y = 2\"], [1, 3, \"x + y\"]]}"));
    /* session 0 is this one, -1 the one before; no stop: to the end; start defaults to 1 */
    CHECK(answers(h, "{\"hist_access_type\": \"range\", \"session\": -1, \"start\": 4}",
                  "{\"status\": \"ok\", \"history\": [[1, 4, \"x = 1\"]]}"));
    CHECK(answers(h, "{\"hist_access_type\": \"range\", \"output\": true}",
                  "{\"status\": \"ok\", \"history\": [[2, 1, [\"z = 3\", null]],"
                  " [2, 2, [\"z * 2\", \"6\"]], [2, 3, [\"print(x)\", null]]]}"));
    /* in this session, below 0 counts back from the end, as IPython's list does */
    CHECK(answers(h, "{\"hist_access_type\": \"range\", \"session\": 0, \"start\": -2}",
                  "{\"status\": \"ok\", \"history\": [[2, 2, \"z * 2\"], [2, 3, \"print(x)\"]]}"));
    CHECK(answers(h, "{\"hist_access_type\": \"range\", \"start\": 1, \"stop\": -2}",
                  "{\"status\": \"ok\", \"history\": [[2, 1, \"z = 3\"]]}"));
    CHECK(answers(h, "{\"hist_access_type\": \"range\", \"session\": 7}",
                  "{\"status\": \"ok\", \"history\": []}"));
    history_close(h);
}

static void test_search(void)
{
    struct history *h = two_sessions("search.sqlite");
    CHECK(answers(h, "{\"hist_access_type\": \"search\", \"pattern\": \"x*\"}",
                  "{\"status\": \"ok\", \"history\": [[1, 1, \"x = 1\"], [1, 3, \"x + y\"],"
                  " [1, 4, \"x = 1\"]]}"));
    /* unique: the newest of each input; n: the newest n, oldest first */
    CHECK(answers(h, "{\"hist_access_type\": \"search\", \"pattern\": \"x*\", \"unique\": true}",
                  "{\"status\": \"ok\", \"history\": [[1, 3, \"x + y\"], [1, 4, \"x = 1\"]]}"));
    CHECK(answers(h, "{\"hist_access_type\": \"search\", \"pattern\": \"*\", \"n\": 2}",
                  "{\"status\": \"ok\", \"history\": [[2, 2, \"z * 2\"], [2, 3, \"print(x)\"]]}"));
    CHECK(answers(h,
                  "{\"hist_access_type\": \"search\", \"pattern\": \"*x*\", \"n\": 2, "
                  "\"unique\": true, \"output\": true}",
                  "{\"status\": \"ok\", \"history\": [[1, 4, [\"x = 1\", null]],"
                  " [2, 3, [\"print(x)\", null]]]}"));
    /* GLOB is case-sensitive and [] classes work, as in IPython */
    CHECK(answers(h, "{\"hist_access_type\": \"search\", \"pattern\": \"[yz] ?*\"}",
                  "{\"status\": \"ok\", \"history\": [[1, 2, \"y = 2\"], [2, 1, \"z = 3\"],"
                  " [2, 2, \"z * 2\"]]}"));
    CHECK(answers(h, "{\"hist_access_type\": \"search\", \"pattern\": \"X*\"}",
                  "{\"status\": \"ok\", \"history\": []}"));
    CHECK(answers(h, "{\"hist_access_type\": \"search\"}", /* no pattern: IPython's GLOB NULL */
                  "{\"status\": \"ok\", \"history\": []}"));
    history_close(h);
}

static void test_bad_requests(void)
{
    struct history *h = two_sessions("bad.sqlite");
    CHECK(answers(h, "{\"hist_access_type\": \"nonsense\"}", /* ipykernel: no history */
                  "{\"status\": \"ok\", \"history\": []}"));
    CHECK(answers(h, "{}", "{\"status\": \"ok\", \"history\": []}"));
    const char *bad[] = {
        "{\"hist_access_type\": \"tail\", \"n\": \"5\"}",
        "{\"hist_access_type\": \"range\", \"start\": 1.5}",
        "{\"hist_access_type\": \"range\", \"session\": 99999999999}",
        "{\"hist_access_type\": \"search\", \"pattern\": 5}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        json_t *reply = ask(h, bad[i]);
        CHECK(strcmp(json_string_value(json_object_get(reply, "status")), "error") == 0);
        CHECK(strcmp(json_string_value(json_object_get(reply, "ename")), "HistoryError") == 0);
        json_decref(reply);
    }
    /* null is the same as absent: n's default */
    json_t *reply = ask(h, "{\"hist_access_type\": \"tail\", \"n\": null}");
    CHECK(json_array_size(json_object_get(reply, "history")) == 7);
    json_decref(reply);
    history_close(h);
}

static void test_caps(void)
{
    struct history *h = history_open(in_dir("caps.sqlite"), 100);
    size_t big = HISTORY_MAX_INPUT + 1000;
    char *input = malloc(big + 1);
    memset(input, 'a', big);
    input[big] = 0;
    memcpy(input + HISTORY_MAX_INPUT - 1, "\xc3\xa9", 2); /* a character across the cut */
    history_add(h, 1, input);
    history_set_output(h, 1, input);
    json_t *reply = ask(h, "{\"hist_access_type\": \"tail\", \"n\": 1, \"output\": true}");
    json_t *pair = json_array_get(json_array_get(json_object_get(reply, "history"), 0), 2);
    const char *stored = json_string_value(json_array_get(pair, 0));
    const char *output = json_string_value(json_array_get(pair, 1));
    CHECK(stored && strlen(stored) < HISTORY_MAX_INPUT + 100);
    CHECK(stored && strstr(stored, "# [warden: cut at 1024 KiB; 1001 more bytes not stored]"));
    CHECK(stored && stored[HISTORY_MAX_INPUT - 1] == '\n'); /* é not split */
    CHECK(output && strlen(output) < HISTORY_MAX_OUTPUT + 100 && strstr(output, "cut at 64 KiB"));
    json_decref(reply);
    /* under the cap: as it was */
    history_add(h, 2, "small");
    CHECK(answers(h, "{\"hist_access_type\": \"tail\", \"n\": 1}",
                  "{\"status\": \"ok\", \"history\": [[1, 2, \"small\"]]}"));
    free(input);
    history_close(h);
}

static void test_import(void)
{
    const char *jsonl = in_dir("old.jsonl");
    FILE *f = fopen(jsonl, "w");
    fputs("{\"s\":3,\"l\":1,\"i\":\"old = 1\"}\n"
          "not json at all\n"
          "{\"s\":3,\"l\":2,\"i\":\"old + 1\"}\n"
          "{\"s\":3,\"l\":2,\"i\":\"old + 1\",\"o\":\"2\"}\n"
          "{\"s\":\"3\",\"l\":3,\"i\":\"bad session\"}\n"
          "{\"s\":4,\"l\":1,\"i\":\"later\"}\n"
          "{\"s\":4,\"l\":2,\"i\":\"torn",
          f);
    fclose(f);
    /* kernel.history naming the old file: the database goes beside it */
    struct history *h = history_open(jsonl, 100);
    history_add(h, 1, "new");
    CHECK(h->session == 5); /* after the old sessions, reserved before the import ran */
    history_import_wait(h, false);
    CHECK(access(jsonl, F_OK) != 0 && access(in_dir("old.jsonl.imported"), F_OK) == 0);
    CHECK(access(in_dir("old.sqlite"), F_OK) == 0);
    CHECK(answers(h, "{\"hist_access_type\": \"tail\", \"n\": 10, \"output\": true}",
                  "{\"status\": \"ok\", \"history\": [[3, 1, [\"old = 1\", null]],"
                  " [3, 2, [\"old + 1\", \"2\"]], [4, 1, [\"later\", null]],"
                  " [5, 1, [\"new\", null]]]}"));
    history_close(h);
    /* once: a file that appears again by the same name is imported again, the renamed one not */
    h = history_open(jsonl, 100);
    json_t *reply = ask(h, "{\"hist_access_type\": \"tail\", \"n\": 100}");
    CHECK(json_array_size(json_object_get(reply, "history")) == 4);
    json_decref(reply);
    history_close(h);
}

/* A kernel killed mid-import left its claim (*.importing) and nothing in the database: the next
 * one imports it. */
static void test_import_resumed(void)
{
    const char *claimed = in_dir("killed.jsonl.importing");
    FILE *f = fopen(claimed, "w");
    fputs("{\"s\":1,\"l\":1,\"i\":\"from the killed import\"}\n", f);
    fclose(f);
    struct history *h = history_open(in_dir("killed.jsonl"), 100);
    history_add(h, 1, "next kernel");
    CHECK(h->session == 2);
    history_import_wait(h, false);
    CHECK(access(claimed, F_OK) != 0 && access(in_dir("killed.jsonl.imported"), F_OK) == 0);
    CHECK(answers(h, "{\"hist_access_type\": \"tail\", \"n\": 10}",
                  "{\"status\": \"ok\", \"history\": [[1, 1, \"from the killed import\"],"
                  " [2, 1, \"next kernel\"]]}"));
    history_close(h);
}

/* The import runs beside the kernel: cells stored meanwhile wait for none of it, and the limit
 * keeps the newest cells by session and line, whatever order they came in. */
static void test_import_beside_cells(void)
{
    const char *jsonl = in_dir("beside.jsonl");
    FILE *f = fopen(jsonl, "w");
    char input[2000];
    memset(input, 'i', sizeof input - 1);
    input[sizeof input - 1] = 0;
    for (int i = 0; i < 4000; i++)
        fprintf(f, "{\"s\":%d,\"l\":%d,\"i\":\"%s %d\"}\n", 1 + i / 100, 1 + i % 100, input, i);
    fclose(f);
    struct history *h = history_open(jsonl, 3950);
    for (int line = 1; line <= 60; line++)
        history_add(h, line, "during the import");
    CHECK(h->session == 41 && history_take_notice(h) == NULL);
    history_import_wait(h, false);
    CHECK(count_rows(in_dir("beside.sqlite"), "SELECT count(*) FROM history") == 3950);
    /* the 60 new cells and the newest 3890 old ones */
    CHECK(count_rows(in_dir("beside.sqlite"), "SELECT count(*) FROM history WHERE session = 41") ==
          60);
    CHECK(count_rows(in_dir("beside.sqlite"), "SELECT min(session * 1000 + line) FROM history") ==
          2 * 1000 + 11);
    history_close(h);
}

static void test_limit(void)
{
    struct history *h = history_open(in_dir("limit.sqlite"), 5);
    for (int i = 1; i <= 4; i++) {
        char code[16];
        snprintf(code, sizeof code, "a%d", i);
        history_add(h, i, code);
    }
    history_close(h);
    h = history_open(in_dir("limit.sqlite"), 5);
    for (int i = 1; i <= 4; i++) {
        char code[16];
        snprintf(code, sizeof code, "b%d", i);
        history_add(h, i, code);
    }
    CHECK(answers(h, "{\"hist_access_type\": \"tail\", \"n\": 100}",
                  "{\"status\": \"ok\", \"history\": [[1, 4, \"a4\"], [2, 1, \"b1\"],"
                  " [2, 2, \"b2\"], [2, 3, \"b3\"], [2, 4, \"b4\"]]}"));
    history_close(h);
    CHECK(count_rows(in_dir("limit.sqlite"), "SELECT count(*) FROM history") == 5);
}

/* A large limit is kept by a prune every hundredth of it: never more than 1 % over. */
static void test_limit_pruned_in_steps(void)
{
    const char *path = in_dir("steps.sqlite");
    struct history *h = history_open(path, 1000);
    for (int i = 1; i <= 1009; i++)
        history_add(h, i, "x");
    CHECK(count_rows(path, "SELECT count(*) FROM history") == 1009);
    history_add(h, 1010, "x");
    CHECK(count_rows(path, "SELECT count(*) FROM history") == 1000);
    CHECK(count_rows(path, "SELECT min(line) FROM history") == 11);
    history_close(h);
}

static void write_cells(const char *path, const char *prefix, int count)
{
    struct history *h = history_open(path, 100000);
    for (int i = 1; i <= count; i++) {
        char code[32];
        snprintf(code, sizeof code, "%s%d", prefix, i);
        history_add(h, i, code);
    }
    bool quiet = history_take_notice(h) == NULL;
    history_close(h);
    exit(quiet ? 0 : 1);
}

static void test_two_writers(void)
{
    const char *path = in_dir("two.sqlite");
    /* two kernels of one process, interleaved */
    struct history *a = history_open(path, 100), *b = history_open(path, 100);
    history_add(a, 1, "from a");
    history_add(b, 1, "from b");
    history_add(a, 2, "a again");
    CHECK(a->session != b->session);
    CHECK(
        answers(b, "{\"hist_access_type\": \"tail\", \"n\": 3}",
                a->session < b->session
                    ? "{\"status\": \"ok\", \"history\": [[1, 1, \"from a\"], [1, 2, \"a again\"],"
                      " [2, 1, \"from b\"]]}"
                    : "{\"status\": \"ok\", \"history\": [[1, 1, \"from b\"], [2, 1, \"from a\"],"
                      " [2, 2, \"a again\"]]}"));
    history_close(a);
    history_close(b);
    /* two processes at once: every cell of both is there, nothing was dropped */
    pid_t one = fork();
    if (one == 0)
        write_cells(path, "p", 300);
    pid_t two = fork();
    if (two == 0)
        write_cells(path, "q", 300);
    int status1 = -1, status2 = -1;
    waitpid(one, &status1, 0);
    waitpid(two, &status2, 0);
    CHECK(WIFEXITED(status1) && WEXITSTATUS(status1) == 0);
    CHECK(WIFEXITED(status2) && WEXITSTATUS(status2) == 0);
    CHECK(count_rows(path, "SELECT count(*) FROM history WHERE source GLOB 'p*'") == 300);
    CHECK(count_rows(path, "SELECT count(*) FROM history WHERE source GLOB 'q*'") == 300);
    CHECK(count_rows(path, "SELECT count(DISTINCT session) FROM history") == 4);
    /* kernels that open a new file at the same moment (each converting it to WAL) all use it */
    for (int round = 0; round < 10; round++) {
        char fresh[32];
        snprintf(fresh, sizeof fresh, "fresh%d.sqlite", round);
        path = in_dir(fresh);
        pid_t kids[3];
        for (int c = 0; c < 3; c++)
            if ((kids[c] = fork()) == 0)
                write_cells(path, "r", 1);
        int failed = 0;
        for (int c = 0; c < 3; c++) {
            int status = -1;
            waitpid(kids[c], &status, 0);
            failed += !WIFEXITED(status) || WEXITSTATUS(status) != 0;
        }
        CHECK(failed == 0 && count_rows(path, "SELECT count(*) FROM history") == 3);
    }
}

static double seconds_since(const struct timespec *start)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) + (now.tv_nsec - start->tv_nsec) / 1e9;
}

static void test_unusable_file(void)
{
    /* a path that cannot be a file: memory, said once, and the history still answers */
    struct history *h = history_open("/dev/null/no/history.sqlite", 100);
    history_add(h, 1, "kept = 1");
    const char *notice = history_take_notice(h);
    CHECK(notice && strstr(notice, "/dev/null/no/history.sqlite") &&
          strstr(notice, "kept in memory only"));
    history_add(h, 2, "kept + 1");
    CHECK(history_take_notice(h) == NULL);
    CHECK(
        answers(h, "{\"hist_access_type\": \"tail\", \"n\": 5}",
                "{\"status\": \"ok\", \"history\": [[1, 1, \"kept = 1\"], [1, 2, \"kept + 1\"]]}"));
    history_close(h);
    /* off: memory, and nothing said */
    h = history_open("off", 100);
    history_add(h, 1, "quiet");
    CHECK(history_take_notice(h) == NULL && h->db != NULL);
    history_close(h);
}

static void test_full_and_read_only(void)
{
    /* full: the file may not grow (SQLite's own cap stands for a full disk: SQLITE_FULL) */
    struct history *h = history_open(in_dir("full.sqlite"), 100);
    history_add(h, 1, "fits");
    sqlite3_exec(h->db, "PRAGMA max_page_count = 1", NULL, NULL, NULL);
    char *big = malloc(200000);
    memset(big, 'b', 199999);
    big[199999] = 0;
    history_add(h, 2, big);
    const char *notice = history_take_notice(h);
    CHECK(notice && strstr(notice, "cannot write") && strstr(notice, "full") &&
          strstr(notice, "cell 2 not stored"));
    history_add(h, 3, big); /* said once */
    CHECK(history_take_notice(h) == NULL);
    free(big);
    sqlite3_exec(h->db, "PRAGMA max_page_count = 1000000", NULL, NULL, NULL);
    history_add(h, 4, "room again");
    CHECK(answers(h, "{\"hist_access_type\": \"range\"}",
                  "{\"status\": \"ok\", \"history\": [[1, 1, \"fits\"], [1, 4, \"room again\"]]}"));
    history_close(h);

    /* read-only (root writes whatever the file's mode: SQLite's query_only stands for it; the
     * e2e tests use a read-only mount) */
    h = history_open(in_dir("ro.sqlite"), 100);
    history_add(h, 1, "before");
    sqlite3_exec(h->db, "PRAGMA query_only = 1", NULL, NULL, NULL);
    history_add(h, 2, "after");
    notice = history_take_notice(h);
    CHECK(notice && strstr(notice, "readonly") && strstr(notice, "cell 2 not stored"));
    CHECK(answers(h, "{\"hist_access_type\": \"tail\", \"n\": 5}",
                  "{\"status\": \"ok\", \"history\": [[1, 1, \"before\"]]}"));
    history_close(h);

    /* held by another kernel past the busy timeout: that write is dropped, after ~250 ms */
    h = history_open(in_dir("busy.sqlite"), 100);
    history_add(h, 1, "first");
    sqlite3 *other;
    sqlite3_open(in_dir("busy.sqlite"), &other);
    CHECK(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK);
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    history_add(h, 2, "blocked");
    double waited = seconds_since(&start);
    CHECK(waited >= 0.2 && waited < 5);
    notice = history_take_notice(h);
    CHECK(notice && strstr(notice, "another kernel held") && strstr(notice, "250 ms"));
    sqlite3_exec(other, "COMMIT", NULL, NULL, NULL);
    sqlite3_close(other);
    history_add(h, 3, "free again");
    CHECK(history_take_notice(h) == NULL);
    CHECK(
        answers(h, "{\"hist_access_type\": \"tail\", \"n\": 5}",
                "{\"status\": \"ok\", \"history\": [[1, 1, \"first\"], [1, 3, \"free again\"]]}"));
    history_close(h);

    /* another kernel opening the file for long (importing an old one, say): this cell is not
     * stored, and the next one opens it */
    mkdir(in_dir("turns"), 0700);
    int turn = open(in_dir("turns"), O_RDONLY | O_DIRECTORY);
    CHECK(flock(turn, LOCK_EX) == 0);
    h = history_open(in_dir("turns/history.sqlite"), 100);
    history_add(h, 1, "while another opens");
    notice = history_take_notice(h);
    CHECK(notice && strstr(notice, "another kernel held") && strstr(notice, "cell 1 not stored"));
    CHECK(h->db == NULL);
    close(turn);
    history_add(h, 2, "after");
    CHECK(history_take_notice(h) == NULL);
    CHECK(answers(h, "{\"hist_access_type\": \"tail\", \"n\": 5}",
                  "{\"status\": \"ok\", \"history\": [[1, 2, \"after\"]]}"));
    history_close(h);
}

int main(void)
{
    if (!mkdtemp(dir))
        return 2;
    test_schema_and_file();
    test_tail();
    test_range();
    test_search();
    test_bad_requests();
    test_caps();
    test_import();
    test_import_resumed();
    test_import_beside_cells();
    test_limit();
    test_limit_pruned_in_steps();
    test_two_writers();
    test_unusable_file();
    test_full_and_read_only();
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return check_summary("history");
}
