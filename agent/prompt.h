/* What the model reads: a short system prompt (it is paid for on every call), the request with
 * its context — the working directory's files, the importable libraries, the namespace's
 * variables (sandbox_describe), the last few cells (memory.h) — within a character budget, and
 * the follow-ups that ask for a fix. Everything from the notebook arrives here masked. */
#ifndef WARDEN_PROMPT_H
#define WARDEN_PROMPT_H

#include <stdbool.h>
#include <stddef.h>

#include "agent/memory.h"
#include "sandbox/sandbox.h"

extern const char prompt_system[];

/* The first user turn, malloc'd. `budget` bounds the context (not the request itself). */
char *prompt_request(const struct sandbox_context *ctx, const struct memory *mem,
                     unsigned history_cells, size_t budget, int count, const char *request);

/* After code that raised: its error (memory_error_text) and the end of what it printed. */
char *prompt_fix(const char *error_text, const char *output_tail, const char *same_error);
/* After code that does not compile: nothing ran. */
char *prompt_syntax_fix(const struct syntax_check *check, const char *same_error);

#endif
