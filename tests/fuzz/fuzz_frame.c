/* The worker channel (sandbox/supervisor/frame.c) and the translation of what comes through it
 * (translate.c, translate_answers.c): what a hostile worker, in full control of the jail, may
 * write to its end of the socket.
 *
 * Input: the bytes of the channel, as they arrive. They are read three times: whole, in chunks of
 * sizes drawn from the input, and from a socket as the supervisor reads them (frame_read on a
 * non-blocking socketpair, the worker's end closed after writing), and each frame read is handed to
 * every translation the supervisor has (a frame's type picks only one of them in the supervisor,
 * but every one must take any object).
 *
 * Invariants: the results do not depend on how the bytes are cut into reads, nor on where they
 * are read from; a violation is
 * sticky; what frame_sanitize returns is valid UTF-8 and needs no second repair; a translated
 * value keeps its bounds (translate.h). */
#include <jansson.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/utf8.h"
#include "fuzz.h"
#include "sandbox/supervisor/frame.h"
#include "sandbox/supervisor/translate.h"

#define MAX_RESULTS 64

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    log_set_level(LOG_ERROR); /* the dropped frames' debug lines would drown the fuzzer's */
    return 0;
}

struct results {
    int n;
    enum frame_result r[MAX_RESULTS];
    char *dumps[MAX_RESULTS];
};

static void results_clear(struct results *res)
{
    for (int i = 0; i < res->n; i++)
        free(res->dumps[i]);
    res->n = 0;
}

static void check_output(const json_t *frame, long long id)
{
    struct worker_output out;
    if (!translate_output(frame, id, &out))
        return;
    (void)worker_output_bytes(&out);
    FUZZ_ASSERT(strlen(out.display_id) <= TR_MAX_DISPLAY_ID);
    if (out.kind == WOUT_STREAM)
        FUZZ_ASSERT(json_is_string(out.text));
    if (out.kind == WOUT_DISPLAY || out.kind == WOUT_RESULT) {
        FUZZ_ASSERT(json_is_object(out.data) && json_is_object(out.metadata));
        FUZZ_ASSERT(json_is_string(json_object_get(out.data, "text/plain")));
        FUZZ_ASSERT(json_object_size(out.data) <= TR_MAX_MIME_ENTRIES + 1);
    }
    if (out.kind == WOUT_ERROR)
        FUZZ_ASSERT(strlen(out.error.ename) <= TR_MAX_ENAME &&
                    strlen(out.error.evalue) <= TR_MAX_EVALUE &&
                    json_array_size(out.error.traceback) <= TR_MAX_TB_LINES + 1);
    worker_output_clear(&out);
}

static void check_requests(const json_t *frame, long long id)
{
    long long input_id;
    char *prompt = NULL;
    bool flag;
    if (translate_input(frame, id, &input_id, &prompt, &flag))
        FUZZ_ASSERT(strlen(prompt) <= TR_MAX_PROMPT);
    free(prompt);
    json_decref(translate_page(frame, id));
    char *next = translate_next_input(frame, id, &flag);
    FUZZ_ASSERT(!next || strlen(next) <= TR_MAX_NEXT_INPUT);
    free(next);
    (void)translate_exit(frame, id, &flag);
    (void)translate_done(frame, id, &flag);
}

static void check_answers(const json_t *frame)
{
    static const char code[] = "import numpy as np\nnp.ar";
    struct completion c;
    translate_completion(frame, code, (int)strlen(code), &c);
    FUZZ_ASSERT(0 <= c.cursor_start && c.cursor_start <= c.cursor_end &&
                c.cursor_end <= (int)strlen(code));
    FUZZ_ASSERT(json_array_size(c.matches) <= TR_MAX_MATCHES);
    completion_clear(&c);
    struct inspection in;
    translate_inspection(frame, &in);
    inspection_clear(&in);
    struct completeness cm;
    translate_completeness(frame, &cm);
    FUZZ_ASSERT(strspn(cm.indent, " \t") == strlen(cm.indent));
    struct syntax_check sc;
    translate_syntax_check(frame, &sc);
    FUZZ_ASSERT(sc.lineno >= 0 && sc.offset >= 0);
    struct sandbox_context ctx;
    translate_context(frame, &ctx);
    FUZZ_ASSERT(json_array_size(ctx.variables) <= TR_MAX_VARIABLES &&
                json_array_size(ctx.libraries) <= TR_MAX_LIBRARIES &&
                json_array_size(ctx.files) <= TR_MAX_FILES);
    FUZZ_ASSERT(ctx.omitted >= 0 && ctx.files_omitted >= 0);
    sandbox_context_clear(&ctx);
}

static void translate_all(const json_t *frame)
{
    const json_t *id = json_object_get(frame, "id");
    long long want = json_is_integer(id) ? json_integer_value(id) : 1;
    (void)translate_frame_type(frame);
    check_output(frame, want);
    check_requests(frame, want);
    check_answers(frame);
}

/* Every result the reader gives, until it has no more (AGAIN) or fails. */
static void drain(struct frame_reader *r, struct results *res, bool translate)
{
    for (;;) {
        json_t *frame = NULL;
        enum frame_result got = frame_reader_next(r, &frame);
        if (got == FRAME_AGAIN)
            return;
        FUZZ_ASSERT(res->n < MAX_RESULTS);
        res->r[res->n] = got;
        res->dumps[res->n] = frame ? json_dumps(frame, JSON_SORT_KEYS | JSON_ENCODE_ANY) : NULL;
        res->n++;
        if (got != FRAME_OK) {
            FUZZ_ASSERT(frame == NULL && r->detail[0] != '\0');
            json_t *again = NULL;
            FUZZ_ASSERT(frame_reader_next(r, &again) == got || got == FRAME_EOF); /* sticky */
            json_decref(again);
            return;
        }
        FUZZ_ASSERT(json_is_string(json_object_get(frame, "t")));
        if (translate)
            translate_all(frame);
        json_decref(frame);
        if (res->n == MAX_RESULTS)
            return;
    }
}

/* The input fed in chunks of 1..max_chunk bytes (0: all at once). */
static void read_channel(const uint8_t *data, size_t size, size_t max_chunk, struct results *res,
                         bool translate)
{
    struct frame_reader r;
    frame_reader_init(&r);
    struct fuzz_rng rng;
    fuzz_rng_seed(&rng, data, size);
    for (size_t done = 0; done < size && res->n < MAX_RESULTS;) {
        size_t n = max_chunk ? fuzz_rng_chunk(&rng, max_chunk) : size - done;
        if (n > size - done)
            n = size - done;
        frame_reader_feed(&r, data + done, n);
        done += n;
        drain(&r, res, translate);
        if (res->n > 0 && res->r[res->n - 1] != FRAME_OK)
            break;
    }
    if (res->n < MAX_RESULTS && (res->n == 0 || res->r[res->n - 1] == FRAME_OK)) {
        frame_reader_feed_eof(&r);
        drain(&r, res, false);
    }
    frame_reader_free(&r);
}

/* The input written to a socketpair whose writing end is then shut, and read with frame_read. */
static void read_socket(const uint8_t *data, size_t size, struct results *res)
{
    int sv[2];
    FUZZ_ASSERT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) == 0);
    FUZZ_ASSERT(frame_write_all(sv[1], data, size, 1000) == 0);
    shutdown(sv[1], SHUT_WR);
    struct frame_reader r;
    frame_reader_init(&r);
    /* Every byte is in the socket already: AGAIN can only mean a read that left a frame
     * incomplete, and each read takes at least one byte, so this ends. */
    for (size_t reads = 0; reads <= size + 2 && res->n < MAX_RESULTS; reads++) {
        json_t *frame = NULL;
        enum frame_result got = frame_read(&r, sv[0], &frame);
        if (got == FRAME_AGAIN)
            continue;
        res->r[res->n] = got;
        res->dumps[res->n] = frame ? json_dumps(frame, JSON_SORT_KEYS | JSON_ENCODE_ANY) : NULL;
        res->n++;
        json_decref(frame);
        if (got != FRAME_OK)
            break;
    }
    frame_reader_free(&r);
    close(sv[0]);
    close(sv[1]);
}

static void same_results(const struct results *a, const struct results *b)
{
    FUZZ_ASSERT(a->n == b->n);
    for (int i = 0; i < a->n; i++) {
        FUZZ_ASSERT(a->r[i] == b->r[i]);
        FUZZ_ASSERT((!a->dumps[i] && !b->dumps[i]) ||
                    (a->dumps[i] && b->dumps[i] && strcmp(a->dumps[i], b->dumps[i]) == 0));
    }
}

static void check_sanitize(const uint8_t *data, size_t size)
{
    size_t len = 0;
    char *clean = frame_sanitize((const char *)data, size, &len);
    if (!clean)
        return;
    size_t ignored;
    char *twice = utf8_repair(clean, len, &ignored);
    FUZZ_ASSERT(twice == NULL); /* valid UTF-8 */
    FUZZ_ASSERT(frame_sanitize(clean, len, &ignored) == NULL);
    free(clean);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct results whole = {0}, chunked = {0}, socket = {0};
    read_channel(data, size, 0, &whole, true); /* one read */
    read_channel(data, size, 7, &chunked, false);
    same_results(&whole, &chunked);
    /* A socket and a reader's 64 KiB buffer for each input would cost three quarters of the
     * speed: one input in four (by its first byte, so that a crash replays) goes that way. */
    if (size > 0 && data[0] % 4 == 0 && size <= 64 * 1024) { /* within a socket's buffer */
        read_socket(data, size, &socket);
        same_results(&whole, &socket);
    }
    results_clear(&whole);
    results_clear(&chunked);
    results_clear(&socket);
    check_sanitize(data, size);
    return 0;
}
