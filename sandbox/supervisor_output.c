/* Worker supervisor, a cell's output on its way to the sink: stream text is coalesced (at most one
 * flush per SUP_STREAM_INTERVAL_MS, display updates reduced to the latest per display id), and
 * everything is counted against the per-cell output limit, past which it is dropped with one
 * notice. The frames it comes from were validated already (translate.c, supervisor_frames.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "supervisor.h"
#include "translate.h"

static void seg_append(struct stream_segment *s, const char *text, size_t len)
{
    if (s->len + len > s->cap) {
        size_t cap = s->cap ? s->cap : 4096;
        while (cap < s->len + len)
            cap *= 2;
        char *grown = realloc(s->buf, cap);
        if (!grown) {
            log_error("out of memory coalescing output; dropping %zu bytes", len);
            return;
        }
        s->buf = grown;
        s->cap = cap;
    }
    memcpy(s->buf + s->len, text, len);
    s->len += len;
}

void sup_emit_stream_text(struct cell_run *r, bool is_stderr, const char *text, size_t len)
{
    json_t *content = json_pack("{s:s, s:s%}", "name", is_stderr ? "stderr" : "stdout", "text",
                                text, len);
    if (content)
        sink_emit(r->sink, "stream", content);
}

void sup_stream_flush(struct cell_run *r)
{
    for (int i = 0; i < r->nseg; i++) {
        struct stream_segment *s = &r->seg[i];
        if (s->len)
            sup_emit_stream_text(r, s->is_stderr, s->buf, s->len);
        s->len = 0;
    }
    if (r->nseg)
        r->last_flush = frame_now_ms();
    r->nseg = 0;
}

void sup_output_free(struct cell_run *r)
{
    for (int i = 0; i < SUP_MAX_SEGMENTS; i++)
        free(r->seg[i].buf);
    for (int i = 0; i < r->nupd; i++) {
        free(r->upd[i].display_id);
        json_decref(r->upd[i].content);
    }
    r->nupd = 0;
}

static void truncation_notice(struct cell_run *r)
{
    r->truncated = true;
    sup_stream_flush(r);
    char size[32], text[160];
    sup_format_size(r->sb->cfg.limits.output_bytes, size, sizeof size);
    snprintf(text, sizeof text,
             "\n[warden] output truncated: this cell exceeded %s of output; the rest is dropped\n",
             size);
    sup_emit_stream_text(r, true, text, strlen(text));
    log_info("cell %lld: output truncated at %s", r->id, size);
}

/* The segment the text joins: the last one when it is the same stream, else a new one. */
static struct stream_segment *segment_for(struct cell_run *r, bool is_stderr)
{
    if (r->nseg && r->seg[r->nseg - 1].is_stderr == is_stderr)
        return &r->seg[r->nseg - 1];
    if (r->nseg < SUP_MAX_SEGMENTS) {
        struct stream_segment *fresh = &r->seg[r->nseg++];
        fresh->is_stderr = is_stderr;
        fresh->len = 0;
        return fresh;
    }
    /* A flood alternating stdout and stderr: keep the message count bounded, at the cost of the
     * relative order of the two within this flush. */
    for (int i = r->nseg - 1; i >= 0; i--)
        if (r->seg[i].is_stderr == is_stderr)
            return &r->seg[i];
    return &r->seg[r->nseg - 1];
}

void sup_add_stream(struct cell_run *r, bool is_stderr, const char *text, size_t len)
{
    if (r->truncated || len == 0)
        return;
    uint64_t limit = r->sb->cfg.limits.output_bytes;
    bool over = false;
    if (r->out_bytes + len > limit) {
        /* (errors are counted but never dropped, so out_bytes may already be past the limit) */
        len = r->out_bytes >= limit ? 0 : translate_utf8_cut(text, len, (size_t)(limit - r->out_bytes));
        over = true;
    }
    r->out_bytes += len;
    if (len)
        seg_append(segment_for(r, is_stderr), text, len);
    if (over)
        truncation_notice(r);
}

/* Sends non-stream output now, within the output limit. Takes `content`. */
static void emit_now(struct cell_run *r, const char *msg_type, json_t *content)
{
    bool is_error = strcmp(msg_type, "error") == 0;
    if (r->truncated) {
        /* One error still gets through: it is what the user (and the agent) needs most. */
        if (is_error && !r->error_after_truncation) {
            r->error_after_truncation = true;
            sink_emit(r->sink, msg_type, content);
        } else {
            json_decref(content);
        }
        return;
    }
    size_t bytes = translate_content_bytes(msg_type, content);
    if (!is_error && r->out_bytes + bytes > r->sb->cfg.limits.output_bytes) {
        json_decref(content);
        truncation_notice(r);
        return;
    }
    r->out_bytes += bytes;
    sink_emit(r->sink, msg_type, content);
}

static void updates_flush(struct cell_run *r)
{
    int n = r->nupd;
    r->nupd = 0;
    for (int i = 0; i < n; i++) {
        emit_now(r, "update_display_data", r->upd[i].content);
        free(r->upd[i].display_id);
    }
    if (n)
        r->last_flush = frame_now_ms();
}

void sup_pending_flush(struct cell_run *r)
{
    sup_stream_flush(r);
    updates_flush(r);
}

int64_t sup_flush_due_ms(const struct cell_run *r)
{
    if (r->nseg || r->nupd)
        return r->last_flush + SUP_STREAM_INTERVAL_MS;
    return 0;
}

static void queue_update(struct cell_run *r, json_t *content)
{
    const char *id = json_string_value(json_object_get(json_object_get(content, "transient"),
                                                       "display_id"));
    for (int i = 0; id && i < r->nupd; i++)
        if (strcmp(r->upd[i].display_id, id) == 0) {
            json_decref(r->upd[i].content);
            r->upd[i].content = content;
            return;
        }
    char *copy = id ? strdup(id) : NULL;
    if (!copy) {
        sup_pending_flush(r);
        emit_now(r, "update_display_data", content);
        return;
    }
    if (r->nupd == SUP_MAX_PENDING_UPDATES)
        updates_flush(r);
    r->upd[r->nupd].display_id = copy;
    r->upd[r->nupd].content = content;
    r->nupd++;
}

void sup_emit_output(struct cell_run *r, const char *msg_type, json_t *content)
{
    if (strcmp(msg_type, "update_display_data") == 0) {
        /* An update changes a display already shown: its order relative to pending text does
         * not matter, so text is not flushed for it (a print + update loop stays coalesced). */
        queue_update(r, content);
        return;
    }
    sup_pending_flush(r);
    emit_now(r, msg_type, content);
}
