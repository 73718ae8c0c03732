/* What the agent remembers of the notebook's last cells, for the prompt: "fix the error above"
 * after a failing %%python cell works because that cell's code and traceback are here. Each cell:
 * the request (when it was one), the code that ran, the tail of its output and its error, all
 * bounded and masked for the model (mask.h) when they are stored. */
#ifndef WARDEN_MEMORY_H
#define WARDEN_MEMORY_H

#include <stdbool.h>

#include "agent/recorder.h"

#define MEMORY_CELLS     16
#define MEMORY_CODE_MAX  6000
#define MEMORY_ERROR_MAX 3000

struct remembered_cell {
    int count;
    char *request; /* the request in plain language, or NULL for a %%python cell */
    char *code;    /* what ran (the final code of a request) */
    char *output;  /* the tail of what it printed */
    char *error;   /* "ename: evalue" and the end of its traceback, or NULL */
};

struct memory {
    struct remembered_cell cells[MEMORY_CELLS]; /* a ring: cells[(first + i) % MEMORY_CELLS] */
    int first, n;
    char *last_request_code; /* the last request's final code (%last) */
};

/* Remembers a cell from what its recorder saw (copies, bounded, masked). */
void memory_remember(struct memory *m, int count, const char *request, const char *code,
                     const struct recorder *rec);
/* The i-th newest cell (0: the newest), or NULL. */
const struct remembered_cell *memory_newest(const struct memory *m, int i);
void memory_set_last_code(struct memory *m, const char *code);
void memory_clear(struct memory *m);

/* "ename: evalue" and the last max bytes of the traceback, masked, malloc'd. */
char *memory_error_text(const struct cell_error *error, size_t max);

#endif
