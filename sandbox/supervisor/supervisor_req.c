/* Worker supervisor, requests: complete / inspect / is_complete. Each is a short request/reply
 * (SUP_REQUEST_TIMEOUT_MS in all, start-up included); a worker that is not ready in time, dies,
 * or answers garbage gets a valid empty reply, never an error or a wait. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "supervisor.h"
#include "translate.h"

/* Something went wrong with the active worker outside a cell: replace it and tell the next cell. */
static void lose_between_cells(struct sandbox *sb, const char *what)
{
    snprintf(sb->notice, sizeof sb->notice,
             "The Python worker %.300s while answering a completion or inspection request; a "
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
 * NULL. */
static json_t *request(struct sandbox *sb, json_t *req, const char *reply_t)
{
    if (!req)
        return NULL;
    if (sb->refusing) {
        json_decref(req);
        return NULL;
    }
    int64_t deadline = frame_now_ms() + SUP_REQUEST_TIMEOUT_MS;
    char err[512];
    if (sup_ensure_active(sb, err, sizeof err) != 0) {
        log_debug("%s: no worker: %s", reply_t, err);
        json_decref(req);
        return NULL;
    }
    struct worker *w = sb->active;
    if (w->state == WORKER_STARTING) {
        enum ready_wait wait = sup_wait_ready(sb, w, (int)(deadline - frame_now_ms()), false);
        if (wait != READY_OK) {
            json_decref(req);
            if (wait == READY_BROKEN)
                handle_broken(sb, w, w->reader.failed);
            else
                log_debug("%s: worker not ready within %d ms: empty reply", reply_t,
                          SUP_REQUEST_TIMEOUT_MS);
            return NULL;
        }
    }
    long long id = sb->next_id++;
    json_object_set_new(req, "id", json_integer(id));
    int64_t left = deadline - frame_now_ms();
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
        left = deadline - frame_now_ms();
        if (left <= 0) {
            log_debug("%s: no reply within %d ms: empty reply", reply_t, SUP_REQUEST_TIMEOUT_MS);
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
    json_t *reply = request(sb, req, "completions");
    translate_completion(reply, code, cursor_pos, out);
    json_decref(reply);
}

void sandbox_inspect(struct sandbox *sb, const char *code, int cursor_pos, int detail_level,
                     struct inspection *out)
{
    json_t *req = json_pack("{s:s, s:s, s:i, s:i}", "t", "inspect", "code", code ? code : "",
                            "cursor", cursor_pos, "detail", detail_level ? 1 : 0);
    json_t *reply = request(sb, req, "inspection");
    translate_inspection(reply, out);
    json_decref(reply);
}

void sandbox_is_complete(struct sandbox *sb, const char *code, struct completeness *out)
{
    json_t *req = json_pack("{s:s, s:s}", "t", "is_complete", "code", code ? code : "");
    json_t *reply = request(sb, req, "completeness");
    translate_completeness(reply, out);
    json_decref(reply);
}
