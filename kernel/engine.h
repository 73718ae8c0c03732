/* The kernel's only view of whatever runs cells. The kernel knows nothing of models or jails:
 * it hands requests to an engine on its executor thread and turns the sink's outputs into iopub
 * messages. agent/ provides the real engine; tests can provide a fake one. */
#ifndef WARDEN_ENGINE_H
#define WARDEN_ENGINE_H

#include <jansson.h>
#include <stdbool.h>

#include "../sandbox/sink.h"

struct engine_request {
    const char *code;     /* the cell as the user wrote it */
    int execution_count;  /* the count this cell will be shown with */
    bool silent;
    bool allow_stdin;
};

struct engine {
    void *self;
    /* Called once on the executor thread before any job (workers are spawned from there). */
    void (*start)(void *self);
    /* Runs a cell. Returns reply content: {"status":"ok"} or
     * {"status":"error","ename","evalue","traceback"}. Outputs go to sink while it runs. */
    json_t *(*execute)(void *self, const struct engine_request *req, const struct output_sink *sink);
    /* Return Jupyter reply content (complete_reply, inspect_reply, is_complete_reply). */
    json_t *(*complete)(void *self, const char *code, int cursor_pos);
    json_t *(*inspect)(void *self, const char *code, int cursor_pos, int detail_level);
    json_t *(*is_complete)(void *self, const char *code);
    /* Any thread; must return at once. */
    void (*interrupt)(void *self);
    /* On the executor thread at shutdown: kill workers, free everything. */
    void (*stop)(void *self);
};

#endif
