/* Worker supervisor, requests between cells: the editor's complete / inspect / is_complete and the
 * agent's syntax check and namespace description. Each is a short request/reply (its timeout in
 * all, start-up included); a worker that is not ready in time, dies, or answers garbage gets a
 * valid empty reply, never an error or a wait. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/utf8.h"
#include "supervisor.h"
#include "translate.h"

/* describe's ranges (sandbox.h): what a model can be shown in one prompt. */
#define DESCRIBE_MAX_BUDGET      200000
#define DESCRIBE_MAX_SAMPLE_ROWS 20

/* Something went wrong with the active worker outside a cell: replace it and tell the next cell. */
static void lose_between_cells(struct sandbox *sb, const char *what)
{
    snprintf(sb->notice, sizeof sb->notice,
             "The Python worker %.300s while answering a request between cells (completion, "
             "inspection, a syntax check or a description of the namespace); a "
             "fresh one runs this cell, so earlier variables are lost.",
             what);
    sb->notice_state_lost = true;
    char err[512];
    if (sup_replace_active(sb, "lost during a request", err, sizeof err) != 0)
        log_error("no worker for the next cell yet: %s", err);
}

static void handle_broken(struct sandbox *sb, struct worker *w, enum frame_result res)
{
    char what[400];
    if (frame_result_is_violation(res)) {
        snprintf(what, sizeof what, "broke the channel protocol (%.200s)", w->reader.detail);
        worker_kill(w, "protocol violation");
    } else {
        worker_reap(w, SUP_EXIT_WAIT_MS, "closed its channel to the kernel and was stopped");
        snprintf(what, sizeof what, "died (%.300s)", w->cause);
    }
    lose_between_cells(sb, what);
}

/* Sends `req` (stolen; "id" is added) and returns the reply frame of type `reply_t` for it, or
 * NULL after timeout_ms. */
static json_t *request(struct sandbox *sb, json_t *req, const char *reply_t, int timeout_ms)
{
    if (!req)
        return NULL;
    if (sb->refusing) {
        json_decref(req);
        return NULL;
    }
    int64_t deadline = monotonic_ms() + timeout_ms;
    char err[512];
    if (sup_ensure_active(sb, err, sizeof err) != 0) {
        log_debug("%s: no worker: %s", reply_t, err);
        json_decref(req);
        return NULL;
    }
    struct worker *w = sb->active;
    if (w->state == WORKER_STARTING) {
        enum ready_wait wait = sup_wait_ready(sb, w, (int)(deadline - monotonic_ms()), false);
        if (wait != READY_OK) {
            json_decref(req);
            if (wait == READY_BROKEN)
                handle_broken(sb, w, w->reader.failed);
            else
                log_debug("%s: worker not ready within %d ms: empty reply", reply_t, timeout_ms);
            return NULL;
        }
    }
    long long id = sb->next_id++;
    json_object_set_new(req, "id", json_integer(id));
    int64_t left = deadline - monotonic_ms();
    if (worker_send(w, req, left > 0 ? (int)left : 1) != 0) {
        log_debug("%s: could not send the request: %s", reply_t, strerror(errno));
        if (worker_exited(w))
            handle_broken(sb, w, FRAME_EOF);
        return NULL;
    }
    for (;;) {
        json_t *frame = NULL;
        enum frame_result res = worker_read(w, &frame);
        if (res == FRAME_OK) {
            const char *t = json_string_value(json_object_get(frame, "t"));
            if (strcmp(t, reply_t) == 0 && translate_id_is(frame, id))
                return frame;
            log_debug("%s: dropped a \"%s\" frame while waiting", reply_t, t);
            json_decref(frame);
            continue;
        }
        if (res != FRAME_AGAIN) {
            handle_broken(sb, w, res);
            return NULL;
        }
        left = deadline - monotonic_ms();
        if (left <= 0) {
            log_debug("%s: no reply within %d ms: empty reply", reply_t, timeout_ms);
            return NULL;
        }
        struct pollfd fds[2] = {{.fd = w->fd, .events = POLLIN},
                                {.fd = w->proc.pidfd, .events = POLLIN}};
        int n = poll(fds, 2, (int)left);
        if (n < 0 && errno != EINTR)
            return NULL;
        if ((fds[1].revents & POLLIN) && !(fds[0].revents & POLLIN)) {
            handle_broken(sb, w, FRAME_EOF);
            return NULL;
        }
    }
}

void sandbox_complete(struct sandbox *sb, const char *code, int cursor_pos, struct completion *out)
{
    json_t *req = json_pack("{s:s, s:s, s:i}", "t", "complete", "code", code ? code : "", "cursor",
                            cursor_pos);
    json_t *reply = request(sb, req, "completions", SUP_REQUEST_TIMEOUT_MS);
    translate_completion(reply, code, cursor_pos, out);
    json_decref(reply);
}

void sandbox_inspect(struct sandbox *sb, const char *code, int cursor_pos, int detail_level,
                     struct inspection *out)
{
    json_t *req = json_pack("{s:s, s:s, s:i, s:i}", "t", "inspect", "code", code ? code : "",
                            "cursor", cursor_pos, "detail", detail_level ? 1 : 0);
    json_t *reply = request(sb, req, "inspection", SUP_REQUEST_TIMEOUT_MS);
    translate_inspection(reply, out);
    json_decref(reply);
}

void sandbox_is_complete(struct sandbox *sb, const char *code, struct completeness *out)
{
    json_t *req = json_pack("{s:s, s:s}", "t", "is_complete", "code", code ? code : "");
    json_t *reply = request(sb, req, "completeness", SUP_REQUEST_TIMEOUT_MS);
    translate_completeness(reply, out);
    json_decref(reply);
}

void sandbox_check_syntax(struct sandbox *sb, const char *code, struct syntax_check *out)
{
    /* The code as a cell would get it: invalid UTF-8 repaired, not refused. */
    code = code ? code : "";
    json_t *text = utf8_json_string(code, strlen(code));
    json_t *req = text ? json_pack("{s:s, s:o}", "t", "check", "code", text) : NULL;
    json_t *reply = request(sb, req, "checked", SUP_REQUEST_TIMEOUT_MS);
    translate_syntax_check(reply, out);
    json_decref(reply);
}

static int clamp(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }

void sandbox_describe(struct sandbox *sb, const struct describe_options *opts,
                      struct sandbox_context *out)
{
    json_t *req = json_pack("{s:s, s:i, s:i, s:i}", "t", "describe", "budget",
                            clamp(opts->budget, 0, DESCRIBE_MAX_BUDGET), "sample_rows",
                            clamp(opts->sample_rows, 0, DESCRIBE_MAX_SAMPLE_ROWS), "max_files",
                            clamp(opts->max_files, 0, TR_MAX_FILES));
    json_t *reply = request(sb, req, "described", SUP_DESCRIBE_TIMEOUT_MS);
    translate_context(reply, out);
    json_decref(reply);
}

void sandbox_context_clear(struct sandbox_context *ctx)
{
    json_decref(ctx->variables);
    json_decref(ctx->libraries);
    json_decref(ctx->files);
    memset(ctx, 0, sizeof *ctx);
}
