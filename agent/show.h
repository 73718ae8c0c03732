/* What a request shows in the notebook while the agent works (output.h calls). While the model
 * writes, one display with an id shows its answer growing (Markdown, the code in its python
 * fence, plus text/plain), updated a few times a second at most and once at the end. Then that
 * display is blanked and the final code of the attempt is published as a new display — jupyter
 * console ignores display updates, so a console user still sees each attempt's code, and a
 * notebook does not show it twice. A failed attempt is a short note, not a traceback; prose is
 * Markdown; the last line says what the cell cost. */
#ifndef WARDEN_SHOW_H
#define WARDEN_SHOW_H

#include <stdbool.h>
#include <stdint.h>

#include "common/output.h"

#define SHOW_UPDATE_MS    250
#define SHOW_PROGRESS_MAX (32u << 10) /* the growing display shows the last 32 KiB at most */

struct show {
    const struct output_sink *sink;
    int count;    /* the cell's execution count, for display ids */
    int attempt;  /* the attempt being written */
    int attempts; /* how many there may be */
    char display_id[64];
    int64_t last_update;
    bool pending; /* an update waits for the next slot */
};

void show_init(struct show *s, const struct output_sink *sink, int count, int attempts);
/* The model starts writing attempt n (1-based). */
void show_writing(struct show *s, int attempt);
/* Whether the growing display may be updated now (a few times a second); when not, the final
 * update shows what came meanwhile. Asked before the answer is read, which costs its size. */
bool show_progress_due(struct show *s);
/* The answer so far (reasoning already removed), its end when it is long. */
void show_progress(struct show *s, const char *answer);
/* The answer is complete: blank the growing display, show the code (if any) and the prose. */
void show_final(struct show *s, const char *code, const char *prose);
void show_attempt_failed(struct show *s, const char *ename, const char *evalue, bool retrying,
                         bool compiled);
void show_wait(struct show *s, const char *why, long ms);
/* "model · 2 attempts · 812 in / 95 out tokens". */
void show_cost(struct show *s, const char *model, int attempts, long in, long out);

#endif
