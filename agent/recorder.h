/* A sink that records what a cell printed and how it failed, for the model (output.h's relay):
 * the tail of its text output (bounded: a model reads the end of a traceback-laden run, not all
 * of it), its error, and whether the output limit cut it. With `hold_errors` its error does not
 * reach the notebook: an attempt that failed is shown compactly, and only the final give-up is
 * an error output (loop.c). */
#ifndef WARDEN_RECORDER_H
#define WARDEN_RECORDER_H

#include <stdbool.h>
#include <stddef.h>

#include "common/outcome.h"
#include "common/output.h"

#define RECORDER_TAIL 2048

struct recorder {
    struct output_relay relay; /* first: the relay's callbacks get the recorder as ctx */
    bool hold_errors;
    char tail[RECORDER_TAIL + 1]; /* the last RECORDER_TAIL bytes printed (stdout and stderr) */
    size_t tail_len;
    bool truncated_output; /* the sandbox's output limit notice went by */
    bool had_error;
    struct cell_error error;
    size_t displays; /* rich outputs shown (a plot, a table) */
};

void recorder_init(struct recorder *r, const struct output_sink *next, bool hold_errors);
void recorder_clear(struct recorder *r);
/* The sink to run a cell with. */
static inline const struct output_sink *recorder_sink(struct recorder *r) { return &r->relay.sink; }

#endif
