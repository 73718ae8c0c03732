/* How a cell ends and what the editor's queries return, as typed values shared by the sandbox
 * (which produces them), the agent (which routes and will loop on them) and the kernel (which
 * turns them into Jupyter replies, in kernel/content.c).
 *
 * An error has one shape wherever it comes from — a Python exception, a refused cell, a worker
 * that died, a bad config file: a name, a value and a traceback a person can read. Errors that are
 * warden's own get a one-line traceback "ename: evalue" from cell_error_set; cell_fail is the one
 * way such an error ends a cell. */
#ifndef WARDEN_OUTCOME_H
#define WARDEN_OUTCOME_H

#include <jansson.h>
#include <stdbool.h>

struct output_sink;

struct cell_error {
    char *ename;       /* malloc'd */
    char *evalue;      /* malloc'd */
    json_t *traceback; /* an array of strings */
};

/* Replaces what *error held with copies of ename and evalue and a copy of traceback, or, when
 * traceback is NULL, the one line "ename: evalue". */
void cell_error_set(struct cell_error *error, const char *ename, const char *evalue,
                    const json_t *traceback);
void cell_error_clear(struct cell_error *error);

enum cell_status {
    CELL_OK,          /* it ran to the end */
    CELL_ERROR,       /* it failed: `error` says how */
    CELL_WORKER_LOST, /* it failed and took the worker with it: the namespace is gone */
};

struct cell_outcome {
    enum cell_status status;
    struct cell_error error;  /* set unless status is CELL_OK */
    bool state_lost;          /* the worker was replaced: earlier variables are gone */
    json_t *pages;            /* mime bundles for the pager (IPython's `name?`), or NULL */
    char *next_input;         /* the frontend's next cell (IPython's set_next_input: %load), or
                               * NULL */
    bool next_input_replaces; /* ... replacing the cell that ran */
    bool exit_requested;      /* `exit` / `quit`: the client should leave */
    bool keep_kernel;         /* ... and leave the kernel running */
    json_t *metadata;         /* what the reply's metadata says of the cell (the agent's model,
                               * attempts and token usage, under "warden"), or NULL */
};

void cell_outcome_clear(struct cell_outcome *outcome);
/* Records an error as the outcome (status CELL_ERROR or CELL_WORKER_LOST; see cell_error_set). */
void cell_outcome_fail(struct cell_outcome *outcome, enum cell_status status, const char *ename,
                       const char *evalue, const json_t *traceback);
/* A cell ends with an error of warden's own: the error goes to `sink` as the cell's error output
 * and into the outcome, with the one-line traceback. */
void cell_fail(const struct output_sink *sink, struct cell_outcome *outcome,
               enum cell_status status, const char *ename, const char *evalue);

/* Completion at a cursor; positions count code points. */
struct completion {
    json_t *matches;  /* array of strings */
    int cursor_start; /* the text from cursor_start to cursor_end is what a match replaces */
    int cursor_end;
    json_t *metadata; /* object */
};
/* No matches, at `cursor`. */
void completion_empty(struct completion *completion, int cursor);
void completion_clear(struct completion *completion);

/* What is known about the name at a cursor (the editor's Shift+Tab). */
struct inspection {
    bool found;
    json_t *data;     /* mime bundle; empty when not found */
    json_t *metadata; /* object */
};
void inspection_empty(struct inspection *inspection);
void inspection_clear(struct inspection *inspection);

/* Whether code typed so far is a whole cell (a console's Enter key). */
enum completeness_status {
    COMPLETENESS_COMPLETE,
    COMPLETENESS_INCOMPLETE, /* wants more lines, starting with `indent` */
    COMPLETENESS_INVALID,
    COMPLETENESS_UNKNOWN,
};
struct completeness {
    enum completeness_status status;
    char indent[81]; /* spaces and tabs only */
};

#endif
