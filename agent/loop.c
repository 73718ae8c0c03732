/* The loop (loop.h). */
#include "agent/loop.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/extract.h"
#include "agent/prompt.h"
#include "agent/recorder.h"
#include "agent/show.h"

/* The state of one request. */
struct run {
    const struct agent_model *model;
    const struct agent_sandbox *sb;
    struct memory *memory;
    struct audit *audit;
    const struct loop_request *req;
    const struct output_sink *sink;
    struct cell_outcome *out;
    struct loop_result *res;
    struct show show;
    struct conversation conv;
    char last_error[600]; /* "ename: evalue" of the last failure, for "the same error" */
};

/* ---- the model's answer ---- */

static void on_text(void *ctx, const char *text, size_t len)
{
    struct run *r = ctx;
    if (!show_progress_due(&r->show))
        return; /* read the answer only when it is shown: it grows by every event */
    char *visible = extract_without_reasoning(text, len);
    if (visible)
        show_progress(&r->show, visible);
    free(visible);
}

static void on_wait(void *ctx, const char *why, long ms)
{
    show_wait(&((struct run *)ctx)->show, why, ms);
}

static void add_usage(struct run *r, const struct model_reply *reply)
{
    struct loop_result *res = r->res;
    if (reply->input_tokens >= 0)
        res->input_tokens = (res->input_tokens < 0 ? 0 : res->input_tokens) + reply->input_tokens;
    if (reply->output_tokens >= 0)
        res->output_tokens =
            (res->output_tokens < 0 ? 0 : res->output_tokens) + reply->output_tokens;
}

/* ---- the audit log: one record per attempt ---- */

static void audit_attempt(struct run *r, const char *code, const char *status,
                          const struct cell_error *error, const struct model_reply *reply)
{
    json_t *rec =
        json_pack("{s:i, s:s, s:i, s:s, s:s, s:s?, s:s}", "execution_count", r->req->count,
                  "request", r->req->request, "attempt", r->show.attempt, "model", r->model->name,
                  "provider", r->model->provider, "code", code, "status", status);
    if (!rec)
        return;
    if (error && error->ename) {
        json_object_set_new(rec, "ename", json_string(error->ename));
        json_object_set_new(rec, "evalue", json_string(error->evalue));
    }
    json_object_set_new(rec, "usage",
                        json_pack("{s:I, s:I}", "input_tokens", (json_int_t)reply->input_tokens,
                                  "output_tokens", (json_int_t)reply->output_tokens));
    audit_record(r->audit, rec, r->sink);
    json_decref(rec);
}

/* ---- what the answer holds ---- */

static bool single_word(const char *text)
{
    for (const char *p = text; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '_')
            return false;
    return true;
}

/* The code of the answer: its code blocks, or the whole answer when it compiles as Python
 * (and is more than a word: "Yes" compiles as a name). NULL when it is prose. */
static char *code_of(struct run *r, const struct extraction *x)
{
    if (x->code)
        return strdup(x->code);
    if (!x->unfenced || !*x->unfenced || single_word(x->unfenced))
        return NULL;
    struct syntax_check check;
    r->sb->check_syntax(r->sb->self, x->unfenced, &check);
    return check.status == SYNTAX_OK ? strdup(x->unfenced) : NULL;
}

/* ---- one attempt ---- */

enum attempt_end {
    ATTEMPT_DONE,   /* the cell is over (ran, prose, review, or stopped) */
    ATTEMPT_FAILED, /* the code failed: the conversation has the fix request */
};

/* The same failure twice: the follow-up says so. */
static const char *same_as_before(struct run *r, const char *ename, const char *evalue)
{
    char now[600];
    snprintf(now, sizeof now, "%.100s: %.480s", ename, evalue);
    bool same = strcmp(now, r->last_error) == 0;
    snprintf(r->last_error, sizeof r->last_error, "%s", now);
    return same ? r->last_error : NULL;
}

static enum attempt_end syntax_failed(struct run *r, const char *answer,
                                      const struct syntax_check *check, bool last)
{
    show_attempt_failed(&r->show, check->ename, check->evalue, !last, false);
    if (last) {
        char evalue[1400];
        snprintf(evalue, sizeof evalue,
                 "%s (line %d): gave up after %d attempts: the code "
                 "never compiled",
                 check->evalue, check->lineno, r->show.attempt);
        cell_fail(r->sink, r->out, CELL_ERROR, check->ename, evalue);
        return ATTEMPT_DONE;
    }
    char *fix = prompt_syntax_fix(check, same_as_before(r, check->ename, check->evalue));
    bool ok =
        fix && conversation_add(&r->conv, true, answer) && conversation_add(&r->conv, false, fix);
    free(fix);
    return ok ? ATTEMPT_FAILED : ATTEMPT_DONE;
}

/* Errors after which trying again cannot help: the sandbox's words end the cell. */
static bool stops_the_loop(const struct cell_outcome *ran, const struct recorder *rec)
{
    static const char *const final[] = {"KeyboardInterrupt", "TimeoutError",     "MemoryError",
                                        "WorkerDied",        "WorkerRestarted",  "ProtocolError",
                                        "JailUnavailable",   "WorkerStartFailed"};
    if (ran->status == CELL_WORKER_LOST || ran->state_lost || rec->truncated_output)
        return true;
    for (size_t i = 0; i < sizeof final / sizeof *final; i++)
        if (ran->error.ename && strcmp(ran->error.ename, final[i]) == 0)
            return true;
    return false;
}

/* The give-up: the cell's one error output, the last traceback and a line saying so. */
static void give_up(struct run *r, const struct cell_error *last)
{
    json_t *tb = json_copy(last->traceback);
    char line[200];
    snprintf(line, sizeof line, "warden: gave up after %d attempts", r->show.attempt);
    json_array_append_new(tb, json_string(line));
    cell_outcome_fail(r->out, CELL_ERROR, last->ename, last->evalue, tb);
    output_error(r->sink, &r->out->error);
    json_decref(tb);
}

static enum attempt_end run_failed(struct run *r, const char *answer, struct recorder *rec,
                                   struct cell_outcome *ran, bool last)
{
    const struct cell_error *e = &rec->error;
    if (!rec->had_error)
        e = &ran->error;
    if (stops_the_loop(ran, rec)) {
        cell_outcome_fail(r->out, ran->status, e->ename, e->evalue, e->traceback);
        r->out->state_lost = ran->state_lost;
        output_error(r->sink, &r->out->error);
        return ATTEMPT_DONE;
    }
    show_attempt_failed(&r->show, e->ename, e->evalue, !last, true);
    if (last) {
        give_up(r, e);
        return ATTEMPT_DONE;
    }
    char *error_text = memory_error_text(e, 4000);
    char *fix = prompt_fix(error_text, rec->tail, same_as_before(r, e->ename, e->evalue));
    bool ok =
        fix && conversation_add(&r->conv, true, answer) && conversation_add(&r->conv, false, fix);
    free(error_text);
    free(fix);
    return ok ? ATTEMPT_FAILED : ATTEMPT_DONE;
}

static void keep_code(struct run *r, const char *code)
{
    free(r->res->final_code);
    r->res->final_code = strdup(code);
}

/* Runs the code as a cell of the worker; its outputs appear live, its error is held. */
static enum attempt_end run_code(struct run *r, const char *answer, const char *code, bool last,
                                 const struct model_reply *reply)
{
    struct recorder rec;
    recorder_init(&rec, r->sink, true);
    struct sandbox_cell cell = {code, r->req->count, false, r->req->allow_stdin, r->req->wall_ms};
    struct cell_outcome ran = {0};
    r->sb->execute(r->sb->self, &cell, recorder_sink(&rec), &ran);
    keep_code(r, code);
    enum attempt_end end = ATTEMPT_DONE;
    bool ok = ran.status == CELL_OK && !rec.had_error;
    audit_attempt(r, code, ok ? "ok" : "error",
                  ok              ? NULL
                  : rec.had_error ? &rec.error
                                  : &ran.error,
                  reply);
    if (ok) {
        r->out->status = CELL_OK;
        r->out->pages = ran.pages ? json_incref(ran.pages) : NULL;
    } else {
        end = run_failed(r, answer, &rec, &ran, last);
    }
    memory_remember(r->memory, r->req->count, r->req->request, code, &rec);
    cell_outcome_clear(&ran);
    recorder_clear(&rec);
    return end;
}

static enum attempt_end answered(struct run *r, const struct model_reply *reply, bool last)
{
    struct extraction x;
    const char *text = reply->text ? reply->text : "";
    /* what goes back into the conversation: the answer without its reasoning (tokens) */
    char *answer = extract_without_reasoning(text, reply->len);
    if (!answer || !extract_reply(text, reply->len, &x)) {
        free(answer);
        cell_fail(r->sink, r->out, CELL_ERROR, "MemoryError", "out of memory reading the answer");
        return ATTEMPT_DONE;
    }
    char *code = code_of(r, &x);
    show_final(&r->show, code, x.code || !code ? x.prose : NULL);
    enum attempt_end end = ATTEMPT_DONE;
    if (!code) { /* prose only: an answer, nothing to run */
        audit_attempt(r, NULL, "prose", NULL, reply);
        r->out->status = CELL_OK;
    } else if (r->req->review) {
        size_t len = strlen(code) + 16;
        r->out->next_input = malloc(len);
        if (r->out->next_input)
            snprintf(r->out->next_input, len, "%%%%python\n%s", code);
        keep_code(r, code);
        audit_attempt(r, code, "review", NULL, reply);
        r->out->status = CELL_OK;
    } else {
        struct syntax_check check;
        r->sb->check_syntax(r->sb->self, code, &check);
        if (check.status == SYNTAX_ERROR) {
            audit_attempt(r, code, "syntax error", NULL, reply);
            end = syntax_failed(r, answer, &check, last);
        } else {
            end = run_code(r, answer, code, last, reply);
        }
    }
    free(code);
    free(answer);
    extraction_clear(&x);
    return end;
}

/* ---- the request ---- */

static bool first_turn(struct run *r)
{
    struct sandbox_context ctx = {0};
    struct describe_options opts = {(int)(r->req->context_chars / 2), (int)r->req->sample_rows,
                                    200};
    r->sb->describe(r->sb->self, &opts, &ctx);
    char *prompt = prompt_request(&ctx, r->memory, r->req->history_cells, r->req->context_chars,
                                  r->req->count, r->req->request);
    sandbox_context_clear(&ctx);
    r->conv.system = strdup(prompt_system);
    bool ok = prompt && r->conv.system && conversation_add(&r->conv, false, prompt);
    free(prompt);
    return ok;
}

void agent_loop(const struct agent_model *model, const struct agent_sandbox *sandbox,
                struct memory *memory, struct audit *audit, const struct loop_request *req,
                const struct output_sink *sink, struct cell_outcome *out, struct loop_result *res)
{
    *res = (struct loop_result){.input_tokens = -1, .output_tokens = -1};
    struct run r = {.model = model,
                    .sb = sandbox,
                    .memory = memory,
                    .audit = audit,
                    .req = req,
                    .sink = sink,
                    .out = out,
                    .res = res};
    show_init(&r.show, sink, req->count, (int)req->attempts);
    if (!first_turn(&r)) {
        cell_fail(sink, out, CELL_ERROR, "MemoryError", "out of memory building the prompt");
        conversation_clear(&r.conv);
        return;
    }
    struct model_watch watch = {&r, on_text, on_wait};
    for (unsigned n = 1; n <= req->attempts; n++) {
        show_writing(&r.show, (int)n);
        res->attempts_used = (int)n;
        struct model_reply reply = {.input_tokens = -1, .output_tokens = -1};
        struct cell_error error = {0};
        bool asked = model->ask(model->self, &r.conv, &watch, &reply, &error);
        add_usage(&r, &reply);
        enum attempt_end end = ATTEMPT_DONE;
        if (!asked) {
            show_final(&r.show, NULL, NULL);
            cell_outcome_fail(out, CELL_ERROR, error.ename, error.evalue, error.traceback);
            output_error(sink, &out->error);
        } else {
            end = answered(&r, &reply, n == req->attempts);
        }
        model_reply_clear(&reply);
        cell_error_clear(&error);
        if (end == ATTEMPT_DONE)
            break;
    }
    show_cost(&r.show, model->name, res->attempts_used, res->input_tokens, res->output_tokens);
    conversation_clear(&r.conv);
}

void loop_result_clear(struct loop_result *res)
{
    free(res->final_code);
    memset(res, 0, sizeof *res);
}
