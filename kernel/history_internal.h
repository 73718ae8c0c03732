/* The parts of the history (history.h) and what they share: the store (history_store.c: the
 * file, its schema, writes and their failures), the queries (history_query.c) and the one-time
 * import of the old JSON-lines file (history_import.c). The unit tests use it too. */
#ifndef WARDEN_HISTORY_INTERNAL_H
#define WARDEN_HISTORY_INTERNAL_H

#include <limits.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>

#include "history.h"

#define HISTORY_MAX_INPUT  (1u << 20)  /* a longer input is stored cut, with a note */
#define HISTORY_MAX_OUTPUT (64u << 10) /* the same for an output's text/plain */
/* Another kernel's write holds the file this long at most before ours is dropped (and said):
 * the kernel's main thread writes, and it must never stall the channels for long. */
#define HISTORY_BUSY_MS    250
/* Opening takes turns with other kernels' opens (a new file's schema, a claim of an old file):
 * once per kernel, so it may wait longer before this cell is dropped */
#define HISTORY_OPEN_MS    1000

/* The kinds of failure said once each (history_take_notice). */
enum history_failure {
    HISTORY_FAIL_OPEN = 1 << 0,  /* the file cannot be used: history kept in memory */
    HISTORY_FAIL_BUSY = 1 << 1,  /* another kernel held the file longer than HISTORY_BUSY_MS */
    HISTORY_FAIL_WRITE = 1 << 2, /* full, read-only, I/O error: that entry is not stored */
};

struct history_import;

struct history {
    char where[PATH_MAX]; /* kernel_config's history setting */
    char path[PATH_MAX];  /* the database file; "" when in memory */
    unsigned limit;       /* cells kept */
    unsigned unpruned;    /* cells stored since the last prune */
    bool opened;
    sqlite3 *db;
    int session;   /* this kernel's session number */
    int last_line; /* the highest line stored in this session (range counts back from it) */
    int said;      /* enum history_failure bits already said */
    char notice[2 * (PATH_MAX + 400)]; /* one or two failures said, waiting for a cell */
    bool notice_pending;
    struct history_import *import; /* NULL, or the old file being imported (history_import.c) */
    /* The writes every cell makes, prepared at their first use and kept: preparing parses and
     * compiles the SQL, several times the cost of the write itself. */
    sqlite3_stmt *add_cell, *set_output, *prune;
};

/* Opens the store at the first use (history_store.c). false when another kernel holds the file
 * (`what`, the entry, is said not stored unless NULL; the next use tries again) or even memory
 * failed. */
bool history_ensure_open(struct history *history, const char *what);
/* Says `what` (sqlite's code `rc`) once per kind, in the log and for the cell. */
void history_fail(struct history *history, int rc, const char *what);

/* `text` cut to at most `max` bytes (never inside a UTF-8 sequence) with a note saying how much
 * is missing; a malloc'd copy either way (NULL: out of memory), its length in *len. */
char *history_capped(const char *text, size_t len, size_t max, size_t *out_len);

/* Starts the one-time import of the JSON-lines history at `jsonl` (the format before SQLite), or
 * of the claim *.importing a kernel killed mid-import left, on a thread of its own; the file's
 * sessions are reserved before it returns, so this kernel's session comes after them. Nothing
 * happens when there is no such file, or another kernel is importing it. */
void history_import_start(struct history *history, const char *jsonl);
/* Waits for the import to end (with `stop`, at its next batch: the claim stays for the next
 * kernel). Nothing when there is none. */
void history_import_wait(struct history *history, bool stop);

#endif
