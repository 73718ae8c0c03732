/* Where a cell's outputs go. One type, shared by the sandbox (which fills it from worker frames),
 * the agent (which may wrap it) and the kernel (which turns it into iopub messages). */
#ifndef WARDEN_SINK_H
#define WARDEN_SINK_H

#include <jansson.h>
#include <stdbool.h>

struct output_sink {
    void *ctx;
    /* msg_type is one of: stream, display_data, update_display_data, clear_output,
     * execute_result, error. `content` is the Jupyter content object; emit takes ownership. */
    void (*emit)(void *ctx, const char *msg_type, json_t *content);
    /* Ask the user for a line of input. Blocks until answered. Returns a malloc'd string, or NULL
     * when input is not allowed for this cell or the wait was cancelled (interrupt, shutdown).
     * abandon_fd (or -1) becomes readable when nobody needs the answer any more: the worker's
     * pidfd, so a worker that dies at the prompt does not leave the cell waiting for the user. */
    char *(*read_input)(void *ctx, const char *prompt, bool password, int abandon_fd);
};

static inline void sink_emit(const struct output_sink *sink, const char *msg_type, json_t *content)
{
    if (sink && sink->emit)
        sink->emit(sink->ctx, msg_type, content);
    else
        json_decref(content);
}

#endif
