/* What a running cell shows, as typed calls in the worker's own vocabulary: the interface between
 * the sandbox (which makes these calls from worker frames), the agent (which wraps it: to show
 * code, to record what a run printed for the model) and the kernel (which turns each call into a
 * Jupyter message, in kernel/content.c). Like xeus's publish_stream, display_data,
 * publish_execution_result and publish_execution_error, nothing here names a message type.
 *
 * Arguments are borrowed for the duration of the call: an implementation that keeps a json_t
 * takes its own reference (jansson's reference counts are atomic, so it may hand it to another
 * thread). Every call may come with a NULL sink or a NULL operation: it is then dropped (input
 * answers "cancelled"). */
#ifndef WARDEN_OUTPUT_H
#define WARDEN_OUTPUT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/outcome.h"

enum output_stream { OUTPUT_STDOUT, OUTPUT_STDERR };

struct output_sink {
    void *ctx;
    /* Text the cell printed (valid UTF-8, len bytes, not NUL-terminated). */
    void (*stream)(void *ctx, enum output_stream name, const char *text, size_t len);
    /* A rich display: `data` a mime bundle with text/plain, `metadata` an object, `display_id`
     * NULL or the id it can be updated by; with `update`, it replaces what that id shows. */
    void (*display)(void *ctx, json_t *data, json_t *metadata, const char *display_id, bool update);
    /* Clear what the cell showed so far (with `wait`: when the next output arrives). */
    void (*clear)(void *ctx, bool wait);
    /* The value of the cell's last expression. */
    void (*result)(void *ctx, json_t *data, json_t *metadata);
    /* The cell failed: an exception, or warden's own reason (common/outcome.h's one shape). */
    void (*error)(void *ctx, const struct cell_error *error);
    /* Ask the person for a line. Blocks until answered; a malloc'd string, or NULL when input is
     * not allowed for this cell or the wait was cancelled (interrupt, shutdown). abandon_fd (or
     * -1) becomes readable when nobody needs the answer any more: the worker's pidfd, so a worker
     * that dies at the prompt does not leave the cell waiting for the person. */
    char *(*input)(void *ctx, const char *prompt, bool password, int abandon_fd);
};

void output_stream(const struct output_sink *sink, enum output_stream name, const char *text,
                   size_t len);
void output_display(const struct output_sink *sink, json_t *data, json_t *metadata,
                    const char *display_id, bool update);
void output_clear(const struct output_sink *sink, bool wait);
void output_result(const struct output_sink *sink, json_t *data, json_t *metadata);
void output_error(const struct output_sink *sink, const struct cell_error *error);
char *output_input(const struct output_sink *sink, const char *prompt, bool password,
                   int abandon_fd);

/* A sink that passes every call on to `next`: the base of a wrapper. Embed it as the first member
 * of the wrapper's own struct, call output_relay_init, then replace the operations the wrapper
 * cares about; each replacement gets the relay as ctx and passes the call on with the functions
 * above, to relay->next:
 *
 *     struct recorder { struct output_relay relay; size_t printed; };
 *     static void count(void *ctx, enum output_stream name, const char *text, size_t len) {
 *         struct recorder *r = ctx;
 *         r->printed += len;
 *         output_stream(r->relay.next, name, text, len);
 *     }
 *     output_relay_init(&rec.relay, sink);
 *     rec.relay.sink.stream = count;      // then run the cell with &rec.relay.sink */
struct output_relay {
    struct output_sink sink;
    const struct output_sink *next;
};
void output_relay_init(struct output_relay *relay, const struct output_sink *next);

#endif
