/* Execution history: kept in memory for this kernel and appended to a JSON-lines file so it
 * survives worker and kernel restarts (each kernel run is a new session number, like IPython).
 * Where it goes is kernel_config's history (kernel.history, WARDEN_HISTORY): a path, or "off" to
 * keep it in memory only. */
#ifndef WARDEN_HISTORY_H
#define WARDEN_HISTORY_H

#include <jansson.h>

struct history;

/* `where`: a path, "off", or "" for the default file. Nothing is read until the first use. */
struct history *history_open(const char *where);
void history_close(struct history *history);

void history_add(struct history *history, int line, const char *input);
void history_set_output(struct history *history, int line, const char *text_plain);

/* Answers a history_request's content with the reply content (status ok + history list, or a
 * status error naming the bad field). */
json_t *history_reply(struct history *history, const json_t *request);

#endif
