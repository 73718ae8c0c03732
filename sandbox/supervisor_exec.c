/* Worker supervisor, execute: one poll loop over the channel, the worker's pidfd, the interrupt
 * eventfd and timers (stream flush, wall time, interrupt grace). The worker is hostile: its frames
 * are validated (translate.c), its stream text is coalesced here, its output is counted against
 * the per-cell limit, and every way it can stop answering ends in a bounded time. */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "supervisor.h"
#include "translate.h"

#define MAX_SEGMENTS 4                  /* stdout/stderr runs kept apart within one flush */
#define MAX_PENDING_UPDATES 16          /* display ids whose latest update waits for a flush */
#define READ_BUDGET_FRAMES 256          /* per loop turn, so timers and interrupts stay live */
#define READ_BUDGET_BYTES (8u << 20)

struct segment {
    bool is_stderr;
    char *buf;
    size_t len, cap;
};

/* update_display_data only replaces what a display shows: when a cell updates the same display
 * faster than the flush interval, only the latest update per display id is sent. */
struct pending_update {
    char *display_id;
    json_t *content;
};

struct run {
    struct sandbox *sb;
    struct worker *w;
    const struct sandbox_cell *cell;
    const struct output_sink *sink;
    struct cell_outcome *out;
    long long id;
    /* stream coalescing */
    struct segment seg[MAX_SEGMENTS];
    int nseg;
    struct pending_update upd[MAX_PENDING_UPDATES];
    int nupd;
    int64_t last_flush;         /* last time pending output (streams, updates) was sent */
    /* output limit */
    uint64_t out_bytes;
    bool truncated, error_after_truncation;
    /* progress */
    bool error_seen, done, done_ok;
    bool ended;              /* the loop must stop: the worker is lost */
    char replace_why[64];    /* non-empty: replace the worker after the loop */
    /* interrupt and wall time */
    int64_t wall_deadline;   /* 0: none */
    int64_t grace_deadline;  /* 0: no SIGINT sent yet */
    bool wall_fired;
};

/* ---- output ----------------------------------------------------------------------------------- */

static size_t utf8_cut(const char *s, size_t len, size_t max)
{
    if (len <= max)
        return len;
    size_t cut = max;
    while (cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80)
        cut--;
    return cut;
}

static void seg_append(struct segment *s, const char *text, size_t len)
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

static void emit_stream_text(struct run *r, bool is_stderr, const char *text, size_t len)
{
    json_t *content = json_pack("{s:s, s:s%}", "name", is_stderr ? "stderr" : "stdout", "text",
                                text, len);
    if (content)
        sink_emit(r->sink, "stream", content);
}

static void stream_flush(struct run *r)
{
    for (int i = 0; i < r->nseg; i++) {
        struct segment *s = &r->seg[i];
        if (s->len)
            emit_stream_text(r, s->is_stderr, s->buf, s->len);
        s->len = 0;
    }
    if (r->nseg)
        r->last_flush = frame_now_ms();
    r->nseg = 0;
}

static void streams_free(struct run *r)
{
    for (int i = 0; i < MAX_SEGMENTS; i++)
        free(r->seg[i].buf);
    for (int i = 0; i < r->nupd; i++) {
        free(r->upd[i].display_id);
        json_decref(r->upd[i].content);
    }
    r->nupd = 0;
}

static void truncation_notice(struct run *r)
{
    r->truncated = true;
    stream_flush(r);
    char size[32], text[160];
    sup_format_size(r->sb->cfg.limits.output_bytes, size, sizeof size);
    snprintf(text, sizeof text,
             "\n[warden] output truncated: this cell exceeded %s of output; the rest is dropped\n",
             size);
    emit_stream_text(r, true, text, strlen(text));
    log_info("cell %lld: output truncated at %s", r->id, size);
}

static void add_stream(struct run *r, bool is_stderr, const char *text, size_t len)
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
        struct segment *target = NULL;
        if (r->nseg && r->seg[r->nseg - 1].is_stderr == is_stderr)
            target = &r->seg[r->nseg - 1];
        else if (r->nseg < MAX_SEGMENTS) {
            target = &r->seg[r->nseg++];
            target->is_stderr = is_stderr;
            target->len = 0;
        } else {
            /* A flood alternating stdout and stderr: keep the message count bounded, at the cost
             * of the relative order of the two within this flush. */
            for (int i = r->nseg - 1; i >= 0 && !target; i--)
                if (r->seg[i].is_stderr == is_stderr)
                    target = &r->seg[i];
            if (!target)
                target = &r->seg[r->nseg - 1];
        }
        seg_append(target, text, len);
    }
    if (over)
        truncation_notice(r);
}

/* Sends non-stream output now, within the output limit. Takes `content`. */
static void emit_now(struct run *r, const char *msg_type, json_t *content)
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

static void updates_flush(struct run *r)
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

/* Everything pending (streams, display updates), in the order it can matter. */
static void pending_flush(struct run *r)
{
    stream_flush(r);
    updates_flush(r);
}

static void queue_update(struct run *r, json_t *content)
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
        pending_flush(r);
        emit_now(r, "update_display_data", content);
        return;
    }
    if (r->nupd == MAX_PENDING_UPDATES)
        updates_flush(r);
    r->upd[r->nupd].display_id = copy;
    r->upd[r->nupd].content = content;
    r->nupd++;
}

/* Non-stream output: what is pending goes first so the order is kept. Takes `content`. */
static void emit_output(struct run *r, const char *msg_type, json_t *content)
{
    if (strcmp(msg_type, "update_display_data") == 0) {
        /* An update changes a display already shown: its order relative to pending text does
         * not matter, so text is not flushed for it (a print + update loop stays coalesced). */
        queue_update(r, content);
        return;
    }
    pending_flush(r);
    emit_now(r, msg_type, content);
}

static void set_outcome_error(struct run *r, const char *ename, const char *evalue,
                              const json_t *traceback)
{
    free(r->out->ename);
    free(r->out->evalue);
    json_decref(r->out->traceback);
    r->out->ename = strdup(ename);
    r->out->evalue = strdup(evalue);
    r->out->traceback = traceback ? json_deep_copy(traceback) : json_array();
}

/* Ends the cell with an error of the supervisor's own (not the worker's). */
static void fail_cell(struct run *r, enum cell_status status, const char *ename,
                      const char *evalue)
{
    pending_flush(r);
    char line[1400];
    snprintf(line, sizeof line, "%s: %s", ename, evalue);
    json_t *tb = json_pack("[s]", line);
    json_t *content = json_pack("{s:s, s:s, s:O}", "ename", ename, "evalue", evalue,
                                "traceback", tb);
    if (content)
        sink_emit(r->sink, "error", content);
    set_outcome_error(r, ename, evalue, tb);
    json_decref(tb);
    r->out->status = status;
    r->error_seen = true;
    r->ended = true;
    if (status == CELL_WORKER_LOST)
        r->out->state_lost = true;
}

/* The worker is gone (or must go): fail the cell and replace the worker after the loop. */
static void lose_worker(struct run *r, const char *ename, const char *evalue, const char *why)
{
    fail_cell(r, CELL_WORKER_LOST, ename, evalue);
    snprintf(r->replace_why, sizeof r->replace_why, "%s", why);
    log_warn("cell %lld: %s: %s", r->id, ename, evalue);
}

/* ---- frames ----------------------------------------------------------------------------------- */

static void record_error(struct run *r, json_t *content)
{
    const char *ename = json_string_value(json_object_get(content, "ename"));
    if (r->wall_fired && ename && strcmp(ename, "KeyboardInterrupt") == 0) {
        /* The interrupt came from the wall-time limit: say so, for the user and the agent. */
        char limit[32], evalue[96];
        sup_format_seconds(r->cell->wall_ms, limit, sizeof limit);
        snprintf(evalue, sizeof evalue, "wall-time limit of %s reached", limit);
        json_object_set_new(content, "ename", json_string("TimeoutError"));
        json_object_set_new(content, "evalue", json_string(evalue));
        char line[128];
        snprintf(line, sizeof line, "TimeoutError: %s", evalue);
        json_t *tb = json_object_get(content, "traceback");
        if (json_is_array(tb))
            json_array_append_new(tb, json_string(line));
    }
    r->error_seen = true;
    set_outcome_error(r, json_string_value(json_object_get(content, "ename")),
                      json_string_value(json_object_get(content, "evalue")),
                      json_object_get(content, "traceback"));
}

static void send_failed(struct run *r, const char *what)
{
    if (errno == ETIMEDOUT) {
        char evalue[256];
        snprintf(evalue, sizeof evalue,
                 "the Python worker stopped reading its channel (%s could not be delivered in "
                 "%d s); it was stopped and replaced, so its variables are lost",
                 what, SUP_WRITE_TIMEOUT_MS / 1000);
        worker_kill(r->w, "stopped reading its channel");
        lose_worker(r, "ProtocolError", evalue, "stopped reading");
    }
    /* Otherwise the worker is gone: the pidfd or EOF says so on the next turn. */
}

static void handle_input_request(struct run *r, const json_t *frame)
{
    long long input_id;
    char *prompt = NULL;
    bool password = false;
    if (!translate_input_request(frame, r->id, &input_id, &prompt, &password))
        return;
    pending_flush(r);
    char *value = NULL;
    if (r->cell->allow_stdin && r->sink && r->sink->read_input)
        value = r->sink->read_input(r->sink->ctx, prompt, password);
    free(prompt);
    json_t *jvalue = value ? json_string(value) : json_string("");
    if (!jvalue && value) {
        size_t clean_len;
        char *clean = frame_sanitize(value, strlen(value), &clean_len);
        jvalue = clean ? json_stringn(clean, clean_len) : NULL;
        free(clean);
    }
    json_t *reply = json_pack("{s:s, s:I, s:I, s:o, s:b}", "t", "input_reply", "id",
                              (json_int_t)r->id, "input_id", (json_int_t)input_id, "value",
                              jvalue ? jvalue : json_string(""), "cancelled", value == NULL);
    free(value);
    if (worker_send(r->w, reply, SUP_WRITE_TIMEOUT_MS) != 0)
        send_failed(r, "an input reply");
}

static void handle_frame(struct run *r, json_t *frame)
{
    const char *t = json_string_value(json_object_get(frame, "t"));
    if (strcmp(t, "done") == 0) {
        bool ok;
        if (translate_done(frame, r->id, &ok)) {
            r->done = true;
            r->done_ok = ok;
        }
        return;
    }
    if (strcmp(t, "input_request") == 0) {
        handle_input_request(r, frame);
        return;
    }
    if (strcmp(t, "ready") == 0)
        return;
    const char *msg_type;
    json_t *content;
    if (!translate_output(frame, r->id, r->cell->count, &msg_type, &content))
        return;
    if (strcmp(msg_type, "stream") == 0) {
        json_t *text = json_object_get(content, "text");
        add_stream(r, strcmp(json_string_value(json_object_get(content, "name")), "stderr") == 0,
                   json_string_value(text), json_string_length(text));
        json_decref(content);
        return;
    }
    if (strcmp(msg_type, "execute_result") == 0 && r->cell->silent) {
        json_decref(content);
        return;
    }
    if (strcmp(msg_type, "error") == 0)
        record_error(r, content);
    emit_output(r, msg_type, content);
}

/* ---- the worker ending ------------------------------------------------------------------------ */

static void worker_died(struct run *r)
{
    char evalue[512];
    snprintf(evalue, sizeof evalue, "the Python worker died: %s; its variables are lost",
             r->w->cause);
    lose_worker(r, "WorkerDied", evalue, "died");
}

static void protocol_violation(struct run *r)
{
    char detail[sizeof r->w->reader.detail];
    snprintf(detail, sizeof detail, "%s", r->w->reader.detail);
    worker_kill(r->w, "protocol violation");
    char evalue[512];
    snprintf(evalue, sizeof evalue,
             "the Python worker broke the channel protocol (%s); it was stopped and replaced, so "
             "its variables are lost",
             detail);
    lose_worker(r, "ProtocolError", evalue, "protocol violation");
}

/* Reads what the dead worker had sent (bounded in time), so its last output is shown. */
static void drain_dead(struct run *r)
{
    int64_t deadline = frame_now_ms() + SUP_DRAIN_MS;
    while (!r->done && !r->ended) {
        json_t *frame = NULL;
        enum frame_result res = worker_read(r->w, &frame);
        if (res == FRAME_OK) {
            handle_frame(r, frame);
            json_decref(frame);
            continue;
        }
        if (res != FRAME_AGAIN)
            break;
        int64_t left = deadline - frame_now_ms();
        if (left <= 0)
            break;
        struct pollfd p = {.fd = r->w->fd, .events = POLLIN};
        if (poll(&p, 1, (int)left) <= 0)
            break;
    }
}

static void on_exit_seen(struct run *r)
{
    drain_dead(r);
    if (r->ended)
        return;
    worker_reap(r->w, 0, "exited");
    if (r->done) {
        /* The cell had finished; the next one needs a new worker and the user should know. */
        snprintf(r->sb->notice, sizeof r->sb->notice,
                 "The Python worker died right after the previous cell (%.300s); a fresh one runs "
                 "this cell, so earlier variables are lost.",
                 r->w->cause);
        r->sb->notice_state_lost = true;
        snprintf(r->replace_why, sizeof r->replace_why, "died after a cell");
        return;
    }
    worker_died(r);
}

static void on_eof(struct run *r)
{
    if (r->done)
        return;
    worker_reap(r->w, SUP_EXIT_WAIT_MS, "closed its channel to the kernel and was stopped");
    worker_died(r);
}

/* ---- interrupt, wall time --------------------------------------------------------------------- */

static void send_interrupt(struct run *r)
{
    if (r->grace_deadline)
        return; /* already sent; the grace period decides */
    spawn_signal(&r->w->proc, SIGINT);
    r->grace_deadline = frame_now_ms() + r->sb->cfg.limits.interrupt_grace_ms;
    log_info("cell %lld: SIGINT sent to worker pid %d", r->id, (int)r->w->proc.pid);
}

static void wall_time_reached(struct run *r)
{
    r->wall_fired = true;
    char limit[32], text[160];
    sup_format_seconds(r->cell->wall_ms, limit, sizeof limit);
    stream_flush(r);
    snprintf(text, sizeof text, "\n[warden] wall-time limit of %s reached: interrupting the cell\n",
             limit);
    emit_stream_text(r, true, text, strlen(text));
    send_interrupt(r);
}

static void escalate(struct run *r)
{
    char grace[32], evalue[512];
    sup_format_seconds(r->sb->cfg.limits.interrupt_grace_ms, grace, sizeof grace);
    worker_kill(r->w, "ignored the interrupt");
    if (r->wall_fired) {
        char limit[32];
        sup_format_seconds(r->cell->wall_ms, limit, sizeof limit);
        snprintf(evalue, sizeof evalue,
                 "wall-time limit of %s reached and the cell ignored the interrupt for %s, so the "
                 "Python worker was restarted; its variables are lost",
                 limit, grace);
        lose_worker(r, "TimeoutError", evalue, "wall time");
    } else {
        snprintf(evalue, sizeof evalue,
                 "the cell ignored the interrupt for %s, so the Python worker was restarted; its "
                 "variables are lost",
                 grace);
        lose_worker(r, "WorkerRestarted", evalue, "interrupt ignored");
    }
}

/* ---- the loop --------------------------------------------------------------------------------- */

static void read_batch(struct run *r)
{
    uint64_t start = r->w->reader.bytes;
    for (int i = 0; i < READ_BUDGET_FRAMES && !r->done && !r->ended; i++) {
        json_t *frame = NULL;
        enum frame_result res = worker_read(r->w, &frame);
        if (res == FRAME_OK) {
            handle_frame(r, frame);
            json_decref(frame);
            if (r->w->reader.bytes - start > READ_BUDGET_BYTES)
                break;
            continue;
        }
        if (res == FRAME_AGAIN)
            break;
        if (frame_result_is_violation(res))
            protocol_violation(r);
        else
            on_eof(r);
        break;
    }
}

static int64_t min_deadline(int64_t a, int64_t b) { return a == 0 ? b : b == 0 ? a : a < b ? a : b; }

static void run_loop(struct run *r)
{
    struct worker *w = r->w;
    while (!r->done && !r->ended) {
        int64_t now = frame_now_ms();
        if ((r->nseg || r->nupd) && now >= r->last_flush + SUP_STREAM_INTERVAL_MS)
            pending_flush(r);
        if (r->wall_deadline && !r->wall_fired && now >= r->wall_deadline)
            wall_time_reached(r);
        if (r->grace_deadline && now >= r->grace_deadline) {
            escalate(r);
            break;
        }
        int64_t next = 0;
        if (r->nseg || r->nupd)
            next = r->last_flush + SUP_STREAM_INTERVAL_MS;
        if (r->wall_deadline && !r->wall_fired)
            next = min_deadline(next, r->wall_deadline);
        next = min_deadline(next, r->grace_deadline);
        int timeout = -1;
        if (next) {
            int64_t left = next - now;
            timeout = left < 0 ? 0 : left > INT_MAX ? INT_MAX : (int)left;
        }
        if (w->proc.pidfd < 0 && (timeout < 0 || timeout > 100))
            timeout = 100;
        /* Frames already read into the buffer (a read budget ran out) do not wake poll. */
        bool buffered = frame_reader_ready(&w->reader);
        if (buffered)
            timeout = 0;
        struct pollfd fds[3] = {
            {.fd = w->fd, .events = POLLIN},
            {.fd = w->proc.pidfd, .events = POLLIN},
            {.fd = r->sb->wake_fd, .events = POLLIN},
        };
        int n = poll(fds, 3, timeout);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            log_error("poll: %s", strerror(errno));
            worker_kill(w, "the kernel could not watch it");
            lose_worker(r, "WorkerDied", "the kernel lost track of the Python worker; it was "
                        "stopped and its variables are lost", "poll failed");
            break;
        }
        if (fds[2].revents & POLLIN) {
            sup_drain_wake(r->sb);
            if (atomic_exchange(&r->sb->interrupt_requested, false))
                send_interrupt(r);
        }
        if (fds[0].revents || buffered)
            read_batch(r);
        if (r->done || r->ended)
            break;
        if ((fds[1].revents & POLLIN) || (w->proc.pidfd < 0 && worker_exited(w)))
            on_exit_seen(r);
    }
    pending_flush(r);
}

/* ---- entry point ------------------------------------------------------------------------------ */

static void emit_notice(struct run *r, const char *text)
{
    char line[600];
    snprintf(line, sizeof line, "[warden] %s\n", text);
    emit_stream_text(r, true, line, strlen(line));
}

/* Waits for the active worker to be ready. false when the cell already failed. */
static bool wait_active_ready(struct run *r)
{
    struct worker *w = r->w;
    if (w->state != WORKER_STARTING)
        return true;
    int rc = sup_wait_ready(r->sb, w, SUP_READY_TIMEOUT_MS, true);
    if (rc == 1)
        return true;
    char evalue[700];
    if (rc == 2) {
        fail_cell(r, CELL_ERROR, "KeyboardInterrupt",
                  "interrupted while the Python worker was starting");
        return false;
    }
    if (rc == 0) {
        worker_kill(w, "did not start in time");
        snprintf(evalue, sizeof evalue,
                 "the Python worker did not become ready within %d s; it was stopped and a fresh "
                 "one will start for the next cell",
                 SUP_READY_TIMEOUT_MS / 1000);
        fail_cell(r, CELL_ERROR, "WorkerStartFailed", evalue);
        snprintf(r->replace_why, sizeof r->replace_why, "start timed out");
        return false;
    }
    if (frame_result_is_violation(w->reader.failed)) {
        char detail[sizeof w->reader.detail];
        snprintf(detail, sizeof detail, "%s", w->reader.detail);
        worker_kill(w, "protocol violation while starting");
        snprintf(evalue, sizeof evalue,
                 "the Python worker broke the channel protocol while starting (%s)", detail);
        fail_cell(r, CELL_ERROR, "ProtocolError", evalue);
    } else {
        worker_reap(w, SUP_EXIT_WAIT_MS, "closed its channel while starting and was stopped");
        snprintf(evalue, sizeof evalue, "the Python worker died while starting: %s", w->cause);
        fail_cell(r, CELL_ERROR, "WorkerDied", evalue);
    }
    snprintf(r->replace_why, sizeof r->replace_why, "died while starting");
    return false;
}

static json_t *code_string(const char *code)
{
    json_t *s = json_string(code ? code : "");
    if (s)
        return s;
    size_t len;
    char *clean = frame_sanitize(code, strlen(code), &len);
    s = clean ? json_stringn(clean, len) : NULL;
    free(clean);
    return s;
}

static void finish(struct run *r)
{
    if (r->done && !r->ended) {
        if (r->w->state == WORKER_BUSY)
            r->w->state = WORKER_READY;
        if (r->error_seen || !r->done_ok) {
            r->out->status = CELL_ERROR;
            if (!r->out->ename)
                set_outcome_error(r, "Error", "the cell failed without an error report", NULL);
        }
    }
    if (r->replace_why[0]) {
        char err[512];
        if (sup_replace_active(r->sb, r->replace_why, err, sizeof err) != 0)
            log_error("no worker for the next cell yet: %s", err);
    }
    streams_free(r);
}

void sandbox_execute(struct sandbox *sb, const struct sandbox_cell *cell,
                     const struct output_sink *sink, struct cell_outcome *outcome)
{
    memset(outcome, 0, sizeof *outcome);
    outcome->status = CELL_OK;
    sup_drain_wake(sb);
    atomic_store(&sb->interrupt_requested, false);
    struct run r;
    memset(&r, 0, sizeof r);
    r.sb = sb;
    r.cell = cell;
    r.sink = sink;
    r.out = outcome;
    r.id = sb->next_id++;

    if (sb->refusing) {
        fail_cell(&r, CELL_ERROR, "JailUnavailable", sb->refuse_why);
        streams_free(&r);
        return;
    }
    char err[512];
    if (sup_ensure_active(sb, err, sizeof err) != 0) {
        char evalue[700];
        snprintf(evalue, sizeof evalue, "cannot start the Python worker: %s", err);
        fail_cell(&r, CELL_ERROR, "WorkerStartFailed", evalue);
        streams_free(&r);
        return;
    }
    if (sb->notice[0]) {
        emit_notice(&r, sb->notice);
        outcome->state_lost = sb->notice_state_lost;
        sb->notice[0] = 0;
        sb->notice_state_lost = false;
    }
    r.w = sb->active;
    if (!wait_active_ready(&r)) {
        finish(&r);
        return;
    }

    json_t *code = code_string(cell->code);
    json_t *frame = code ? json_pack("{s:s, s:I, s:o, s:i, s:b, s:b}", "t", "execute", "id",
                                     (json_int_t)r.id, "code", code, "count", cell->count,
                                     "silent", cell->silent, "allow_stdin", cell->allow_stdin)
                         : NULL;
    if (!frame) {
        fail_cell(&r, CELL_ERROR, "ValueError", "the cell could not be encoded for the worker");
        finish(&r);
        return;
    }
    if (worker_send(r.w, frame, SUP_WRITE_TIMEOUT_MS) != 0) {
        if (errno == EMSGSIZE) {
            fail_cell(&r, CELL_ERROR, "ValueError",
                      "the cell is too large to send to the Python worker (over 32 MiB)");
            finish(&r);
            return;
        }
        send_failed(&r, "the cell");
        if (r.ended) {
            finish(&r);
            return;
        }
        /* EPIPE and friends: the loop finds the death and its cause. */
    }
    r.w->state = WORKER_BUSY;
    sup_maybe_spawn_standby(sb); /* overlaps with the cell; the first time, after ready */
    r.wall_deadline = cell->wall_ms ? frame_now_ms() + cell->wall_ms : 0;
    run_loop(&r);
    finish(&r);
}
