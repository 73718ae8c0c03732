/* What every layer shares (common/): sizes and seconds in words, UTF-8 counting, cutting and
 * repair, the one shape of an error, and the output relay a wrapper is built on. */
#include <limits.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "common/files.h"
#include "common/format.h"
#include "common/outcome.h"
#include "common/output.h"
#include "common/utf8.h"

static bool size_is(uint64_t bytes, const char *want)
{
    char got[32];
    format_size(bytes, got, sizeof got);
    if (strcmp(got, want) != 0)
        fprintf(stderr, "  format_size(%llu) = \"%s\", want \"%s\"\n", (unsigned long long)bytes,
                got, want);
    return strcmp(got, want) == 0;
}

static void test_format(void)
{
    const uint64_t KiB = 1024, MiB = KiB * 1024, GiB = MiB * 1024;
    CHECK(size_is(0, "0 bytes"));
    CHECK(size_is(1500, "1500 bytes"));
    CHECK(size_is(64 * KiB, "64 KiB"));
    CHECK(size_is(64 * KiB + 1, "65537 bytes"));
    CHECK(size_is(512 * MiB, "512 MiB"));
    CHECK(size_is(MiB + MiB / 2, "1.5 MiB"));
    CHECK(size_is(2 * GiB, "2 GiB"));
    CHECK(size_is(3 * GiB / 2, "1.5 GiB"));
    CHECK(size_is(1024 * GiB, "1024 GiB"));
    char s[16];
    format_seconds(30000, s, sizeof s);
    CHECK(strcmp(s, "30 s") == 0);
    format_seconds(1500, s, sizeof s);
    CHECK(strcmp(s, "1.5 s") == 0);
}

static void test_utf8(void)
{
    const char *text = "h\xc3\xa9llo \xf0\x9f\x98\x80"; /* héllo 😀: 7 code points, 11 bytes */
    CHECK(utf8_codepoints(text, strlen(text)) == 7);
    CHECK(utf8_codepoints(text, 3) == 2);
    CHECK(utf8_cut(text, strlen(text), 2) == 1); /* not inside é */
    CHECK(utf8_cut(text, strlen(text), 9) == 7); /* not inside 😀 */
    CHECK(utf8_cut(text, strlen(text), 50) == strlen(text));
    size_t len = 99;
    CHECK(utf8_repair(text, strlen(text), &len) == NULL); /* valid: nothing to do */
    char *fixed = utf8_repair("a\xff"
                              "b\xe2\x82",
                              5, &len);
    CHECK(fixed && len == 8 &&
          memcmp(fixed,
                 "a\xef\xbf\xbd"
                 "b\xef\xbf\xbd",
                 8) == 0);
    free(fixed);
    /* Overlong forms and surrogates are invalid, one U+FFFD per maximal subpart. */
    fixed = utf8_repair("\xc0\xaf\xed\xa0\x80", 5, &len);
    CHECK(fixed && len == 15);
    free(fixed);
}

static void test_utf8_inert(void)
{
    /* ESC, BEL, a lone CR and DEL as their pictures; CSI as C1 (U+009B) and an invalid byte as
     * U+FFFD; newline, tab, CR LF and other text (é) kept. */
    const char in[] = "a\x1b]0;t\x07\rb\x7f\xc2\x9b\xff\t\xc3\xa9\r\n";
    char *out = utf8_inert(in, sizeof in - 1);
    CHECK(out && strcmp(out, "a\xe2\x90\x9b]0;t\xe2\x90\x87\xe2\x90\x8d"
                             "b\xe2\x90\xa1\xef\xbf\xbd\xef\xbf\xbd\t\xc3\xa9\r\n") == 0);
    free(out);
    out = utf8_inert("x\0y", 3); /* NUL too */
    CHECK(out && strcmp(out, "x\xe2\x90\x80y") == 0);
    free(out);
}

static void test_cell_error(void)
{
    struct cell_error e = {0};
    cell_error_set(&e, "WorkerDied", "the Python worker died", NULL);
    CHECK(strcmp(e.ename, "WorkerDied") == 0 && strcmp(e.evalue, "the Python worker died") == 0);
    CHECK(json_array_size(e.traceback) == 1);
    CHECK(strcmp(json_string_value(json_array_get(e.traceback, 0)),
                 "WorkerDied: the Python worker died") == 0);
    /* Set from its own fields (the wall-time rename does): no use after free. */
    cell_error_set(&e, e.ename, e.evalue, e.traceback);
    CHECK(strcmp(e.ename, "WorkerDied") == 0 && json_array_size(e.traceback) == 1);
    json_t *tb = J("[\"Traceback\", \"NameError: x\"]");
    cell_error_set(&e, "NameError", "name 'x' is not defined", tb);
    CHECK(json_equal(e.traceback, tb) && e.traceback != tb);
    json_decref(tb);
    cell_error_clear(&e);
    CHECK(!e.ename && !e.evalue && !e.traceback);

    struct cell_outcome out = {0};
    cell_outcome_fail(&out, CELL_WORKER_LOST, "WorkerDied", "gone", NULL);
    CHECK(out.status == CELL_WORKER_LOST && out.state_lost);
    cell_outcome_clear(&out);
    CHECK(out.status == CELL_OK && !out.error.ename);
}

/* ---- the relay: a wrapper that records what was printed and passes everything on ---- */

struct counts {
    int stream, display, clear, result, error, input;
    char printed[64];
};

static void count_stream(void *ctx, enum output_stream name, const char *text, size_t len)
{
    (void)name;
    struct counts *c = ctx;
    c->stream++;
    strncat(c->printed, text, len);
}
static void count_display(void *ctx, json_t *d, json_t *m, const char *id, bool update)
{
    (void)d, (void)m, (void)id, (void)update;
    ((struct counts *)ctx)->display++;
}
static void count_clear(void *ctx, bool wait)
{
    (void)wait;
    ((struct counts *)ctx)->clear++;
}
static void count_result(void *ctx, json_t *d, json_t *m)
{
    (void)d, (void)m;
    ((struct counts *)ctx)->result++;
}
static void count_error(void *ctx, const struct cell_error *e)
{
    (void)e;
    ((struct counts *)ctx)->error++;
}
static char *count_input(void *ctx, const char *prompt, bool password, int fd)
{
    (void)prompt, (void)password, (void)fd;
    ((struct counts *)ctx)->input++;
    return strdup("typed");
}

struct recorder {
    struct output_relay relay;
    size_t printed_bytes;
};

static void record_stream(void *ctx, enum output_stream name, const char *text, size_t len)
{
    struct recorder *r = ctx;
    r->printed_bytes += len;
    output_stream(r->relay.next, name, text, len);
}

static void test_relay(void)
{
    struct counts c = {0};
    struct output_sink inner = {&c,           count_stream, count_display, count_clear,
                                count_result, count_error,  count_input};
    struct recorder rec = {0};
    output_relay_init(&rec.relay, &inner);
    rec.relay.sink.stream = record_stream;
    const struct output_sink *sink = &rec.relay.sink;
    json_t *data = J("{\"text/plain\":\"1\"}"), *md = J("{}");
    output_stream(sink, OUTPUT_STDOUT, "hello", 5);
    output_display(sink, data, md, "id", true);
    output_clear(sink, false);
    output_result(sink, data, md);
    struct cell_error e = {0};
    cell_error_set(&e, "E", "v", NULL);
    output_error(sink, &e);
    cell_error_clear(&e);
    char *typed = output_input(sink, "? ", false, -1);
    CHECK(typed && strcmp(typed, "typed") == 0);
    free(typed);
    CHECK(rec.printed_bytes == 5 && strcmp(c.printed, "hello") == 0);
    CHECK(c.stream == 1 && c.display == 1 && c.clear == 1 && c.result == 1 && c.error == 1 &&
          c.input == 1);
    /* No sink, or a sink without an operation: dropped; input answers "cancelled". */
    output_stream(NULL, OUTPUT_STDOUT, "x", 1);
    struct output_sink empty = {0};
    output_result(&empty, data, md);
    CHECK(output_input(&empty, "?", false, -1) == NULL);
    json_decref(data);
    json_decref(md);
}

static void test_files(void)
{
    char dir[] = "/tmp/warden-test-files-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char data[PATH_MAX];
    snprintf(data, sizeof data, "%s/deep/data", dir);
    setenv("XDG_DATA_HOME", data, 1);
    char path[PATH_MAX];
    CHECK(warden_data_file("audit.jsonl", path, sizeof path));
    char want[PATH_MAX + 32];
    snprintf(want, sizeof want, "%s/warden/audit.jsonl", data);
    CHECK(strcmp(path, want) == 0);
    struct stat st;
    snprintf(want, sizeof want, "%s/warden", data);
    CHECK(stat(want, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 0777) == 0700);
    unsetenv("XDG_DATA_HOME");
    rmdir(want);
    rmdir(data);
    snprintf(want, sizeof want, "%s/deep", dir);
    rmdir(want);
    rmdir(dir);

    char *buf = NULL;
    size_t used = 0;
    CHECK(buffer_append(&buf, &used, "ab", 2) && buffer_append(&buf, &used, "c\0d", 3));
    CHECK(used == 5 && memcmp(buf, "abc\0d", 5) == 0 && buf[5] == '\0');
    free(buf);
}

/* A model's answer arrives in thousands of small pieces: the buffer must grow by doubling (a few
 * dozen reallocations), not piece by piece, or an allocator that moves grown blocks makes it
 * quadratic. The allocation's size is the witness: it changes only when the buffer grows. */
static void test_buffer_growth(void)
{
    char *buf = NULL;
    size_t used = 0, last_size = 0;
    int grew = 0;
    bool ok = true;
    for (int i = 0; i < 100000; i++) {
        char c = (char)('a' + i % 26);
        ok = ok && buffer_append(&buf, &used, &c, 1);
        size_t size = malloc_usable_size(buf);
        if (size != last_size)
            grew++;
        last_size = size;
    }
    CHECK(ok && used == 100000 && buf[99999] == (char)('a' + 99999 % 26) && buf[100000] == '\0');
    CHECK(grew <= 20);
    used = 3; /* a shorter buffer has room for what it held: appending neither moves nor loses */
    char *before = buf;
    CHECK(buffer_append(&buf, &used, "xyz", 3) && buf == before && memcmp(buf, "abcxyz", 7) == 0);
    free(buf);
}

/* The plain run ends at the first byte a JSON string escapes, wherever it falls in a word. */
static void test_json_plain_run(void)
{
    static const char specials[] = {'"', '\\', '\n', '\x01', '\x1f', (char)0x80, (char)0xc3, 0};
    bool all = true;
    for (size_t k = 0; k < sizeof specials; k++)
        for (size_t at = 0; at < 24; at++) {
            char text[32];
            memset(text, 'x', sizeof text);
            text[5 + at % 3] = ' ';
            text[at] = specials[k];
            all = all && utf8_json_plain_run(text, sizeof text) == at;
        }
    CHECK(all);
    CHECK(utf8_json_plain_run("~ !#/0Az{}", 10) == 10 && utf8_json_plain_run("", 0) == 0);
}

int main(void)
{
    test_files();
    test_buffer_growth();
    test_format();
    test_utf8();
    test_utf8_inert();
    test_json_plain_run();
    test_cell_error();
    test_relay();
    return check_summary("common");
}
