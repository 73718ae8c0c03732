/* Jupyter message content from the typed values the engine gives (common/output.h,
 * common/outcome.h, engine.h): the one place that knows the messaging spec's shapes of outputs
 * and replies, and which message type each output is. Each returns new content (NULL only when
 * out of memory); the output builders also say their message type. */
#ifndef WARDEN_CONTENT_H
#define WARDEN_CONTENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/outcome.h"
#include "common/output.h"
#include "kernel/engine.h"

/* ---- outputs (iopub) ---- */
json_t *content_stream(enum output_stream name, const char *text, size_t len,
                       const char **msg_type);
/* display_data, or update_display_data with `update` (transient.display_id set either way when
 * there is one). */
json_t *content_display(json_t *data, json_t *metadata, const char *display_id, bool update,
                        const char **msg_type);
json_t *content_clear(bool wait, const char **msg_type);
json_t *content_result(json_t *data, json_t *metadata, int execution_count, const char **msg_type);
json_t *content_error(const struct cell_error *error, const char **msg_type);

/* ---- replies ---- */
/* status "error" with ename, evalue, traceback: any request that failed. */
json_t *content_error_reply(const struct cell_error *error);
/* The same, for an error of the kernel's own (one-line traceback, common/outcome.h). */
json_t *content_error_reply_for(const char *ename, const char *evalue);
/* execute_reply: status ok (user_expressions, payload with the pager's pages) or error. */
json_t *content_execute_reply(const struct cell_outcome *outcome, int execution_count);
json_t *content_complete_reply(const struct completion *completion);
json_t *content_inspect_reply(const struct inspection *inspection);
json_t *content_is_complete_reply(const struct completeness *completeness);
json_t *content_kernel_info_reply(const struct language_info *language);

/* ---- stdin ---- */
json_t *content_input_request(const char *prompt, bool password);

#endif
