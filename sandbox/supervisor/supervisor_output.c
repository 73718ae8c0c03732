/* Worker supervisor, a cell's output on its way to the sink: stream text is coalesced (at most one
 * flush per SUP_STREAM_INTERVAL_MS, or per SUP_STREAM_FLUSH_BYTES of a flood; display updates
 * reduced to the latest per display id), and
 * everything is counted against the per-cell output limit, past which it is dropped with one
 * notice. The frames it comes from were validated already (translate.c, supervisor_frames.c);
 * here they become output.h calls. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/format.h"
#include "common/log.h"
#include "common/utf8.h"
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

void sup_emit_stream_text(struct cell_run *r, enum output_stream name, const char *text, size_t len)
{
    output_stream(r->sink, name, text, len);
}

void sup_stream_flush(struct cell_run *r)
{
    for (int i = 0; i < r->nseg; i++) {
        struct stream_segment *s = &r->seg[i];
        if (s->len)
            sup_emit_stream_text(r, s->name, s->buf, s->len);
        s->len = 0;
    }
    if (r->nseg)
        r->last_flush = monotonic_ms();
    r->nseg = 0;
    r->seg_bytes = 0;
}

void sup_output_free(struct cell_run *r)
{
    for (int i = 0; i < SUP_MAX_SEGMENTS; i++)
        free(r->seg[i].buf);
    for (int i = 0; i < r->nupd; i++)
        worker_output_clear(&r->upd[i].out);
    r->nupd = 0;
}

static void truncation_notice(struct cell_run *r)
{
    r->truncated = true;
    sup_stream_flush(r);
    char size[32], text[160];
    format_size(r->sb->cfg.limits.output_bytes, size, sizeof size);
    snprintf(text, sizeof text,
             "\n[warden] output truncated: this cell exceeded %s of output; the rest is dropped\n",
             size);
    sup_emit_stream_text(r, OUTPUT_STDERR, text, strlen(text));
    log_info("cell %lld: output truncated at %s", r->id, size);
}

/* The segment the text joins: the last one when it is the same stream, else a new one. */
static struct stream_segment *segment_for(struct cell_run *r, enum output_stream name)
{
    if (r->nseg && r->seg[r->nseg - 1].name == name)
        return &r->seg[r->nseg - 1];
    if (r->nseg < SUP_MAX_SEGMENTS) {
        struct stream_segment *fresh = &r->seg[r->nseg++];
        fresh->name = name;
        fresh->len = 0;
        return fresh;
    }
    /* A flood alternating stdout and stderr: keep the message count bounded, at the cost of the
     * relative order of the two within this flush. */
    for (int i = r->nseg - 1; i >= 0; i--)
        if (r->seg[i].name == name)
            return &r->seg[i];
    return &r->seg[r->nseg - 1];
}

void sup_add_stream(struct cell_run *r, enum output_stream name, const char *text, size_t len)
{
    if (r->truncated || len == 0)
        return;
    uint64_t limit = r->sb->cfg.limits.output_bytes;
    bool over = false;
    if (r->out_bytes + len > limit) {
        /* (errors are counted but never dropped, so out_bytes may already be past the limit) */
        len = r->out_bytes >= limit ? 0 : utf8_cut(text, len, (size_t)(limit - r->out_bytes));
        over = true;
    }
    r->out_bytes += len;
    if (len) {
        seg_append(segment_for(r, name), text, len);
        r->seg_bytes += len;
    }
    if (over)
        truncation_notice(r);
    else if (r->seg_bytes >= SUP_STREAM_FLUSH_BYTES)
        sup_stream_flush(r);
}

/* The output.h call for a validated output. */
static void deliver(struct cell_run *r, const struct worker_output *out)
{
    switch (out->kind) {
    case WOUT_STREAM:
        output_stream(r->sink, out->stream, json_string_value(out->text),
                      json_string_length(out->text));
        break;
    case WOUT_DISPLAY:
        output_display(r->sink, out->data, out->metadata,
                       out->display_id[0] ? out->display_id : NULL, out->update);
        break;
    case WOUT_CLEAR:
        output_clear(r->sink, out->wait);
        break;
    case WOUT_RESULT:
        output_result(r->sink, out->data, out->metadata);
        break;
    case WOUT_ERROR:
        output_error(r->sink, &out->error);
        break;
    }
}

/* Sends non-stream output now, within the output limit; releases `out`. */
static void emit_now(struct cell_run *r, struct worker_output *out)
{
    bool is_error = out->kind == WOUT_ERROR;
    if (r->truncated) {
        /* One error still gets through: it is what the user (and the agent) needs most. */
        if (is_error && !r->error_after_truncation) {
            r->error_after_truncation = true;
            deliver(r, out);
        }
    } else {
        size_t bytes = worker_output_bytes(out);
        if (!is_error && r->out_bytes + bytes > r->sb->cfg.limits.output_bytes) {
            truncation_notice(r);
        } else {
            r->out_bytes += bytes;
            deliver(r, out);
        }
    }
    worker_output_clear(out);
}

static void updates_flush(struct cell_run *r)
{
    int n = r->nupd;
    r->nupd = 0;
    for (int i = 0; i < n; i++)
        emit_now(r, &r->upd[i].out);
    if (n)
        r->last_flush = monotonic_ms();
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

/* Keeps the latest update per display id until the next flush; takes `out` over. */
static void queue_update(struct cell_run *r, struct worker_output *out)
{
    for (int i = 0; i < r->nupd; i++)
        if (strcmp(r->upd[i].out.display_id, out->display_id) == 0) {
            worker_output_clear(&r->upd[i].out);
            r->upd[i].out = *out;
            return;
        }
    if (r->nupd == SUP_MAX_PENDING_UPDATES)
        updates_flush(r);
    r->upd[r->nupd++].out = *out;
}

void sup_emit_output(struct cell_run *r, struct worker_output *out)
{
    if (out->kind == WOUT_DISPLAY && out->update) {
        /* An update changes a display already shown: its order relative to pending text does
         * not matter, so text is not flushed for it (a print + update loop stays coalesced). */
        queue_update(r, out);
        return;
    }
    sup_pending_flush(r);
    emit_now(r, out);
}
