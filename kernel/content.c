#include "content.h"

#include <stdlib.h>
#include <string.h>

#include "common/utf8.h"
#include "kernel/wire.h"

/* ---- outputs ---- */

json_t *content_stream(enum output_stream name, const char *text, size_t len, const char **msg_type)
{
    *msg_type = "stream";
    json_t *value = utf8_json_string(text, len);
    return json_pack("{s:s, s:o}", "name", name == OUTPUT_STDERR ? "stderr" : "stdout", "text",
                     value);
}

json_t *content_display(json_t *data, json_t *metadata, const char *display_id, bool update,
                        const char **msg_type)
{
    *msg_type = update ? "update_display_data" : "display_data";
    json_t *transient = display_id ? json_pack("{s:s}", "display_id", display_id) : json_object();
    return json_pack("{s:O, s:O, s:o}", "data", data, "metadata", metadata, "transient", transient);
}

json_t *content_clear(bool wait, const char **msg_type)
{
    *msg_type = "clear_output";
    return json_pack("{s:b}", "wait", wait);
}

json_t *content_result(json_t *data, json_t *metadata, int execution_count, const char **msg_type)
{
    *msg_type = "execute_result";
    return json_pack("{s:O, s:O, s:i}", "data", data, "metadata", metadata, "execution_count",
                     execution_count);
}

static json_t *error_fields(const struct cell_error *error)
{
    return json_pack("{s:s, s:s, s:O}", "ename", error->ename ? error->ename : "Error", "evalue",
                     error->evalue ? error->evalue : "", "traceback",
                     error->traceback ? error->traceback : json_array());
}

json_t *content_error(const struct cell_error *error, const char **msg_type)
{
    *msg_type = "error";
    return error_fields(error);
}

/* ---- replies ---- */

json_t *content_error_reply(const struct cell_error *error)
{
    json_t *content = error_fields(error);
    if (content)
        json_object_set_new(content, "status", json_string("error"));
    return content;
}

json_t *content_error_reply_for(const char *ename, const char *evalue)
{
    struct cell_error error = {0};
    cell_error_set(&error, ename, evalue, NULL);
    json_t *content = content_error_reply(&error);
    cell_error_clear(&error);
    return content;
}

/* What the cell hands the frontend, as execute_reply payloads (IPython's sources): the pager's
 * pages, the next cell's text, the request to leave. */
static json_t *payloads(const struct cell_outcome *outcome)
{
    json_t *payload = json_array();
    size_t i;
    json_t *page;
    json_array_foreach(outcome->pages, i, page)
        json_array_append_new(
            payload, json_pack("{s:s, s:O, s:i}", "source", "page", "data", page, "start", 0));
    if (outcome->next_input)
        json_array_append_new(
            payload, json_pack("{s:s, s:o, s:b}", "source", "set_next_input", "text",
                               utf8_json_string(outcome->next_input, strlen(outcome->next_input)),
                               "replace", outcome->next_input_replaces));
    if (outcome->exit_requested)
        json_array_append_new(payload, json_pack("{s:s, s:b}", "source", "ask_exit", "keepkernel",
                                                 outcome->keep_kernel));
    return payload;
}

json_t *content_execute_reply(const struct cell_outcome *outcome, int execution_count)
{
    json_t *content;
    if (outcome->status == CELL_OK)
        content = json_pack("{s:s, s:{}, s:o}", "status", "ok", "user_expressions", "payload",
                            payloads(outcome));
    else
        content = content_error_reply(&outcome->error);
    if (content)
        json_object_set_new(content, "execution_count", json_integer(execution_count));
    return content;
}

json_t *content_complete_reply(const struct completion *c)
{
    return json_pack("{s:s, s:O, s:i, s:i, s:O}", "status", "ok", "matches",
                     c->matches ? c->matches : json_array(), "cursor_start", c->cursor_start,
                     "cursor_end", c->cursor_end, "metadata",
                     c->metadata ? c->metadata : json_object());
}

json_t *content_inspect_reply(const struct inspection *i)
{
    return json_pack("{s:s, s:b, s:O, s:O}", "status", "ok", "found", i->found, "data",
                     i->data ? i->data : json_object(), "metadata",
                     i->metadata ? i->metadata : json_object());
}

json_t *content_is_complete_reply(const struct completeness *c)
{
    static const char *const names[] = {"complete", "incomplete", "invalid", "unknown"};
    const char *status = (unsigned)c->status < 4 ? names[c->status] : "unknown";
    if (c->status == COMPLETENESS_INCOMPLETE)
        return json_pack("{s:s, s:s}", "status", status, "indent", c->indent);
    return json_pack("{s:s}", "status", status);
}

json_t *content_kernel_info_reply(const struct language_info *l)
{
    json_t *codemirror = l->codemirror_version ? json_pack("{s:s, s:i}", "name", l->codemirror_mode,
                                                           "version", l->codemirror_version)
                                               : json_string(l->codemirror_mode);
    return json_pack("{s:s, s:s, s:s, s:s, s:{s:s, s:s, s:s, s:s, s:s, s:o, s:s}, s:s, s:[], "
                     "s:[]}",
                     "status", "ok", "protocol_version", PROTOCOL_VERSION, "implementation",
                     "warden", "implementation_version", WARDEN_VERSION, "language_info", "name",
                     l->name, "version", l->version, "mimetype", l->mimetype, "file_extension",
                     l->file_extension, "pygments_lexer", l->pygments_lexer, "codemirror_mode",
                     codemirror, "nbconvert_exporter", l->nbconvert_exporter, "banner", l->banner,
                     "help_links", "supported_features");
}

/* ---- stdin ---- */

json_t *content_input_request(const char *prompt, bool password)
{
    return json_pack("{s:s, s:b}", "prompt", prompt ? prompt : "", "password", password);
}
