#include "output.h"

void output_stream(const struct output_sink *sink, enum output_stream name, const char *text,
                   size_t len)
{
    if (sink && sink->stream)
        sink->stream(sink->ctx, name, text, len);
}

void output_display(const struct output_sink *sink, json_t *data, json_t *metadata,
                    const char *display_id, bool update)
{
    if (sink && sink->display)
        sink->display(sink->ctx, data, metadata, display_id, update);
}

void output_clear(const struct output_sink *sink, bool wait)
{
    if (sink && sink->clear)
        sink->clear(sink->ctx, wait);
}

void output_result(const struct output_sink *sink, json_t *data, json_t *metadata)
{
    if (sink && sink->result)
        sink->result(sink->ctx, data, metadata);
}

void output_error(const struct output_sink *sink, const struct cell_error *error)
{
    if (sink && sink->error)
        sink->error(sink->ctx, error);
}

char *output_input(const struct output_sink *sink, const char *prompt, bool password,
                   int abandon_fd)
{
    if (sink && sink->input)
        return sink->input(sink->ctx, prompt, password, abandon_fd);
    return NULL;
}

/* ---- the relay: each operation passes the call on to relay->next ---- */

static void relay_stream(void *ctx, enum output_stream name, const char *text, size_t len)
{
    output_stream(((struct output_relay *)ctx)->next, name, text, len);
}

static void relay_display(void *ctx, json_t *data, json_t *metadata, const char *display_id,
                          bool update)
{
    output_display(((struct output_relay *)ctx)->next, data, metadata, display_id, update);
}

static void relay_clear(void *ctx, bool wait)
{
    output_clear(((struct output_relay *)ctx)->next, wait);
}

static void relay_result(void *ctx, json_t *data, json_t *metadata)
{
    output_result(((struct output_relay *)ctx)->next, data, metadata);
}

static void relay_error(void *ctx, const struct cell_error *error)
{
    output_error(((struct output_relay *)ctx)->next, error);
}

static char *relay_input(void *ctx, const char *prompt, bool password, int abandon_fd)
{
    return output_input(((struct output_relay *)ctx)->next, prompt, password, abandon_fd);
}

void output_relay_init(struct output_relay *relay, const struct output_sink *next)
{
    relay->next = next;
    relay->sink = (struct output_sink){relay,        relay_stream, relay_display, relay_clear,
                                       relay_result, relay_error,  relay_input};
}
