/* Execution history, kept in SQLite like IPython's own (history.sqlite: sessions and numbered
 * cells), so that several kernels write at once (WAL) and a kernel's memory never depends on how
 * much history there is: nothing is loaded, every history_request is a query. Each kernel run
 * is a new session number. Where it goes is kernel_config's history (kernel.history,
 * WARDEN_HISTORY): a path, or "off" to keep it in this kernel's memory only. The store is opened
 * at the first use, so start-up and kernel_info never pay for it. */
#ifndef WARDEN_HISTORY_H
#define WARDEN_HISTORY_H

#include <jansson.h>

struct history;

/* `where`: a path, "off", or "" for the default file; `limit`: cells kept (oldest pruned). */
struct history *history_open(const char *where, unsigned limit);
void history_close(struct history *history);

/* Opens the store now if it is not yet: a cell that will be stored calls it as it begins, so a
 * store that cannot be used is said in that cell, though the cell is written after its idle. */
void history_prepare(struct history *history);
void history_add(struct history *history, int line, const char *input);
/* A cell and its output (text/plain, or NULL for none) in one write. */
void history_add_with_output(struct history *history, int line, const char *input,
                             const char *text_plain);
void history_set_output(struct history *history, int line, const char *text_plain);

/* What went wrong with the history file and was not said yet (it cannot be opened, the disk is
 * full, it is read-only, another kernel held it too long), for the cell's stderr: each kind of
 * failure is said once per kernel; NULL when there is nothing to say. The cell runs either way. */
const char *history_take_notice(struct history *history);

/* Answers a history_request's content with the reply content, as ipykernel does (status ok +
 * history list; a status error naming a field of the wrong type). */
json_t *history_reply(struct history *history, const json_t *request);

#endif
