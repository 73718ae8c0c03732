/* The kernel's only view of whatever runs cells. The kernel knows nothing of models or jails: it
 * hands requests to an engine on its executor thread, and turns the engine's typed answers
 * (common/output.h while a cell runs, common/outcome.h when it ends) into Jupyter messages
 * (kernel/content.c). agent/ provides the real engine; tests provide fake ones. */
#ifndef WARDEN_ENGINE_H
#define WARDEN_ENGINE_H

#include <stdbool.h>

#include "common/outcome.h"
#include "common/output.h"

struct engine_request {
    const char *code;    /* the cell as the user wrote it */
    int execution_count; /* the count this cell will be shown with */
    bool silent;
    bool store_history; /* false: a frontend's own code, not a person's cell */
    bool allow_stdin;
};

/* The language the engine runs, for kernel_info (its language_info and banner). */
struct language_info {
    char name[32];               /* "python" */
    char version[64];            /* "3.11.2" */
    char mimetype[64];           /* "text/x-python" */
    char file_extension[16];     /* ".py" */
    char pygments_lexer[32];     /* "ipython3" */
    char codemirror_mode[32];    /* "ipython" */
    int codemirror_version;      /* 3; 0 when the mode is a name alone */
    char nbconvert_exporter[32]; /* "python" */
    char banner[512];
};

struct engine {
    void *self;
    /* Called once on the executor thread before any job (workers are spawned from there). */
    void (*start)(void *self);
    /* Runs a cell: outputs go to sink while it runs, and *outcome (zeroed by the caller) says how
     * it ended. */
    void (*execute)(void *self, const struct engine_request *req, const struct output_sink *sink,
                    struct cell_outcome *outcome);
    /* The editor's queries; each fills its answer (positions in code points). */
    void (*complete)(void *self, const char *code, int cursor_pos, struct completion *out);
    void (*inspect)(void *self, const char *code, int cursor_pos, int detail_level,
                    struct inspection *out);
    void (*is_complete)(void *self, const char *code, struct completeness *out);
    /* The main thread, while a cell may be running: must return at once. */
    void (*kernel_info)(void *self, struct language_info *out);
    /* Any thread; must return at once. */
    void (*interrupt)(void *self);
    /* On the executor thread at shutdown: kill workers, free everything. */
    void (*stop)(void *self);
    /* On the executor thread as each request ends, with interrupts held off: drop what is left
     * of an interrupt meant for it, so that one which came as it ended (VS Code's SIGINT to the
     * kernel often does) cannot reach the next request. NULL: the engine keeps none. */
    void (*forget_interrupt)(void *self);
};

#endif
