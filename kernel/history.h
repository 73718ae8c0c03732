/* Execution history: kept in memory for this kernel and appended to a JSON-lines file so it
 * survives worker and kernel restarts (each kernel run is a new session number, like IPython).
 * WARDEN_HISTORY=<path> chooses the file; WARDEN_HISTORY=off keeps it in memory only. */
#ifndef WARDEN_HISTORY_H
#define WARDEN_HISTORY_H

#include <jansson.h>

struct history;

struct history *history_open(void);
void history_close(struct history *history);

void history_add(struct history *history, int line, const char *input);
void history_set_output(struct history *history, int line, const char *text_plain);

/* Answers a history_request's content with the reply content (status ok + history list, or a
 * status error naming the bad field). */
json_t *history_reply(struct history *history, const json_t *request);

#endif
