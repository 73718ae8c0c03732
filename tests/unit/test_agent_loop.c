/* The generate-execute-fix loop with a fake model and a fake sandbox (loop.h): what runs, what
 * the model is told, when the loop stops; and the pieces it stands on: the prompt's budget,
 * masking, the warden commands, the settings' choice of provider. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "agent/commands.h"
#include "agent/loop.h"
#include "agent/mask.h"
#include "agent/prompt.h"
#include "agent/settings.h"
#include "check.h"

/* ---- a fake model: scripted answers, and what it was asked ---- */

struct fake_model {
    const char *answers[8];
    int n, asked;
    char last_user[8192]; /* the last user turn it read */
    char last_assistant[4096];
    const char *fail_ename; /* when set, the call fails with this error */
};

static bool fake_ask(void *self, const struct conversation *c, const struct model_watch *watch,
                     struct model_reply *reply, struct cell_error *error)
{
    struct fake_model *m = self;
    m->asked++;
    snprintf(m->last_user, sizeof m->last_user, "%s", c->turns[c->n - 1].text);
    m->last_assistant[0] = '\0';
    if (c->n >= 2)
        snprintf(m->last_assistant, sizeof m->last_assistant, "%s", c->turns[c->n - 2].text);
    if (m->fail_ename) {
        cell_error_set(error, m->fail_ename, "the fake model failed", NULL);
        return false;
    }
    const char *text = m->asked <= m->n ? m->answers[m->asked - 1] : "";
    reply->text = strdup(text);
    reply->len = strlen(text);
    reply->input_tokens = 10;
    reply->output_tokens = 2;
    if (watch && watch->on_text)
        watch->on_text(watch->ctx, reply->text, reply->len);
    return true;
}

/* ---- a fake sandbox: cells "raise NAME" fail with NAME, "die" loses the worker ---- */

struct fake_box {
    int runs, checks;
    char ran[8][256];
};

static void box_execute(void *self, const struct sandbox_cell *cell, const struct output_sink *sink,
                        struct cell_outcome *out)
{
    struct fake_box *b = self;
    if (b->runs < 8)
        snprintf(b->ran[b->runs], sizeof b->ran[0], "%s", cell->code);
    b->runs++;
    const char *raise = strstr(cell->code, "raise ");
    if (strstr(cell->code, "die")) {
        cell_fail(sink, out, CELL_WORKER_LOST, "WorkerDied", "the Python worker died");
    } else if (raise) {
        char name[64];
        sscanf(raise + 6, "%63[A-Za-z]", name);
        cell_fail(sink, out, CELL_ERROR, name, "raised on purpose");
    } else {
        output_stream(sink, OUTPUT_STDOUT, "ran\n", 4);
        out->status = CELL_OK;
    }
}

static void box_check(void *self, const char *code, struct syntax_check *out)
{
    struct fake_box *b = self;
    b->checks++;
    memset(out, 0, sizeof *out);
    out->status = strstr(code, "print(") && !strstr(code, ")") ? SYNTAX_ERROR : SYNTAX_OK;
    if (strchr(code, ' ') == NULL && !strchr(code, '('))
        out->status = SYNTAX_OK; /* a bare word compiles (a name) */
    if (strstr(code, "is not code"))
        out->status = SYNTAX_ERROR;
    if (out->status == SYNTAX_ERROR) {
        snprintf(out->ename, sizeof out->ename, "SyntaxError");
        snprintf(out->evalue, sizeof out->evalue, "'(' was never closed");
        out->lineno = 1;
        snprintf(out->text, sizeof out->text, "%s", code);
    }
}

static void box_describe(void *self, const struct describe_options *opts,
                         struct sandbox_context *out)
{
    (void)self, (void)opts;
    memset(out, 0, sizeof *out);
    out->variables = json_pack("[{s:s, s:s, s:s}]", "name", "df", "type", "DataFrame", "detail",
                               "DataFrame, 2 rows × 1 columns: a int64");
    out->libraries = json_pack("[s, s]", "numpy", "pandas");
    out->files = json_pack("[{s:s, s:i, s:b}]", "name", "sales.csv", "size", 2048, "dir", 0);
    snprintf(out->cwd, sizeof out->cwd, "/nb");
}

static struct agent_sandbox box_port(struct fake_box *b)
{
    return (struct agent_sandbox){
        .self = b, .execute = box_execute, .check_syntax = box_check, .describe = box_describe};
}

/* ---- running a request ---- */

struct seen {
    int errors, displays;
    char ename[64];
    char last_tb[256];
};

static void seen_error(void *ctx, const struct cell_error *e)
{
    struct seen *s = ctx;
    s->errors++;
    snprintf(s->ename, sizeof s->ename, "%s", e->ename);
    size_t n = json_array_size(e->traceback);
    snprintf(s->last_tb, sizeof s->last_tb, "%s",
             n ? json_string_value(json_array_get(e->traceback, n - 1)) : "");
}

static void seen_display(void *ctx, json_t *d, json_t *m, const char *id, bool update)
{
    (void)d, (void)m, (void)id;
    if (!update)
        ((struct seen *)ctx)->displays++;
}

struct outcome_of_run {
    struct cell_outcome out;
    struct loop_result res;
    struct seen seen;
};

static void run(struct fake_model *m, struct fake_box *b, const char *request, bool review,
                unsigned attempts, struct outcome_of_run *o)
{
    memset(o, 0, sizeof *o);
    struct agent_model model = {m, fake_ask, "fake-model", "openai"};
    struct agent_sandbox port = box_port(b);
    struct memory memory = {0};
    struct audit audit;
    audit_init(&audit, "off");
    struct loop_request req = {request, 7, attempts, review, false, 0, 12000, 3, 4};
    struct output_sink sink = {.ctx = &o->seen, .error = seen_error, .display = seen_display};
    agent_loop(&model, &port, &memory, &audit, &req, &sink, &o->out, &o->res);
    memory_clear(&memory);
}

static void done(struct outcome_of_run *o)
{
    cell_outcome_clear(&o->out);
    loop_result_clear(&o->res);
}

static void test_first_try(void)
{
    struct fake_model m = {.answers = {"```python\nx = 1\n```"}, .n = 1};
    struct fake_box b = {0};
    struct outcome_of_run o;
    run(&m, &b, "set x", false, 3, &o);
    CHECK(o.out.status == CELL_OK && m.asked == 1 && b.runs == 1 && o.seen.errors == 0);
    CHECK(strcmp(b.ran[0], "x = 1") == 0);
    CHECK(o.res.attempts_used == 1 && o.res.input_tokens == 10 && o.res.output_tokens == 2);
    CHECK(o.res.final_code && strcmp(o.res.final_code, "x = 1") == 0);
    /* the prompt: the request and its context */
    CHECK(strstr(m.last_user, "set x") && strstr(m.last_user, "df: DataFrame"));
    CHECK(strstr(m.last_user, "sales.csv (2 KiB)") && strstr(m.last_user, "numpy, pandas"));
    done(&o);
}

static void test_fix_then_give_up(void)
{
    struct fake_model m = {.answers = {"```python\nraise KeyError\n```",
                                       "```python\nraise KeyError\n```",
                                       "```python\nraise KeyError\n```"},
                           .n = 3};
    struct fake_box b = {0};
    struct outcome_of_run o;
    run(&m, &b, "do it", false, 3, &o);
    CHECK(m.asked == 3 && b.runs == 3);
    CHECK(o.out.status == CELL_ERROR && strcmp(o.out.error.ename, "KeyError") == 0);
    CHECK(o.seen.errors == 1 && strcmp(o.seen.ename, "KeyError") == 0); /* one error output */
    CHECK(strcmp(o.seen.last_tb, "warden: gave up after 3 attempts") == 0);
    /* the last fix request said it was the same error again, and held the failed code */
    CHECK(strstr(m.last_user, "same error") && strstr(m.last_user, "different approach"));
    CHECK(strstr(m.last_assistant, "raise KeyError"));
    done(&o);
}

static void test_syntax_error_is_not_run(void)
{
    struct fake_model m = {.answers = {"```python\nprint(1\n```", "```python\nprint(1)\n```"},
                           .n = 2};
    struct fake_box b = {0};
    struct outcome_of_run o;
    run(&m, &b, "print", false, 3, &o);
    CHECK(o.out.status == CELL_OK && b.runs == 1 && strcmp(b.ran[0], "print(1)") == 0);
    CHECK(m.asked == 2);
    done(&o);
}

static void test_a_dead_worker_stops_the_loop(void)
{
    struct fake_model m = {.answers = {"```python\ndie()\n```", "```python\nprint(1)\n```"},
                           .n = 2};
    struct fake_box b = {0};
    struct outcome_of_run o;
    run(&m, &b, "die", false, 3, &o);
    CHECK(m.asked == 1 && b.runs == 1); /* no retry on a dead worker */
    CHECK(o.out.status == CELL_WORKER_LOST && strcmp(o.out.error.ename, "WorkerDied") == 0);
    CHECK(o.seen.errors == 1);
    done(&o);
}

static void test_prose_review_and_model_errors(void)
{
    struct fake_model prose = {.answers = {"It means the name is unknown, which is not code."},
                               .n = 1};
    struct fake_box b = {0};
    struct outcome_of_run o;
    run(&prose, &b, "what?", false, 3, &o);
    CHECK(o.out.status == CELL_OK && b.runs == 0 && o.seen.displays >= 2);
    done(&o);

    struct fake_model word = {.answers = {"Yes"},
                              .n = 1}; /* compiles as a name, but is an answer */
    run(&word, &b, "is it?", false, 3, &o);
    CHECK(o.out.status == CELL_OK && b.runs == 0);
    done(&o);

    struct fake_model review = {.answers = {"```python\nx = 2\n```"}, .n = 1};
    run(&review, &b, "set x", true, 3, &o);
    CHECK(o.out.status == CELL_OK && b.runs == 0);
    CHECK(o.out.next_input && strcmp(o.out.next_input, "%%python\nx = 2") == 0);
    done(&o);

    struct fake_model failing = {.fail_ename = "ModelAuthError"};
    run(&failing, &b, "x", false, 3, &o);
    CHECK(failing.asked == 1 && o.out.status == CELL_ERROR && o.seen.errors == 1);
    CHECK(strcmp(o.out.error.ename, "ModelAuthError") == 0);
    done(&o);
}

/* ---- the prompt's budget, masking ---- */

static void test_prompt_budget(void)
{
    struct memory mem = {0};
    struct recorder rec;
    recorder_init(&rec, NULL, true);
    for (int i = 1; i <= 10; i++) {
        char code[64];
        snprintf(code, sizeof code, "cell_number_%d = %d", i, i);
        memory_remember(&mem, i, NULL, code, &rec);
    }
    recorder_clear(&rec);
    struct sandbox_context ctx = {
        .variables = json_array(), .libraries = json_array(), .files = json_array()};
    char *wide = prompt_request(&ctx, &mem, 8, 100000, 11, "the request");
    char *narrow = prompt_request(&ctx, &mem, 8, 300, 11, "the request");
    /* the newest cells that fit, oldest first; the request always */
    CHECK(wide && strstr(wide, "cell_number_3 =") && strstr(wide, "cell_number_10 ="));
    CHECK(!strstr(wide, "cell_number_2 ="));
    CHECK(strstr(wide, "cell_number_3 =") < strstr(wide, "cell_number_10 ="));
    CHECK(narrow && strlen(narrow) < strlen(wide) && strstr(narrow, "the request"));
    CHECK(!strstr(narrow, "cell_number_3 ="));
    free(wide);
    free(narrow);
    sandbox_context_clear(&ctx);
    memory_clear(&mem);
}

static void test_masking(void)
{
    char *m =
        mask_for_model("key sk-proj-abcdefghijklmnopqrstuvwx and AKIAABCDEFGHIJKLMNOP, "
                       "\x1b[0;31mred\x1b[0m, ghp_0123456789abcdefghijklmnopqrstu, fine_words");
    CHECK(m && !strstr(m, "abcdefghijklmnop") && !strstr(m, "AKIAABCD") && !strstr(m, "ghp_"));
    CHECK(strstr(m, "red") && !strchr(m, '\x1b') && strstr(m, "fine_words"));
    CHECK(strstr(m, "key [masked] and [masked]"));
    free(m);
}

/* ---- commands, settings ---- */

static void test_commands(void)
{
    struct command c = command_parse("%model gpt-4o");
    CHECK(c.kind == COMMAND_MODEL && strcmp(c.arg, "gpt-4o") == 0);
    c = command_parse("%provider anthropic https://example.test");
    CHECK(c.kind == COMMAND_PROVIDER && strcmp(c.url, "https://example.test") == 0);
    CHECK(command_parse("%provider gemini").kind == COMMAND_BAD);
    CHECK(command_parse("%attempts 4").number == 4 &&
          command_parse("%attempts 0").kind == COMMAND_BAD);
    c = command_parse("%%ask --review --attempts 2 --model m\nplot it");
    CHECK(c.kind == COMMAND_ASK && c.review && c.number == 2 && strcmp(c.model, "m") == 0);
    CHECK(c.request && strcmp(c.request, "plot it") == 0);
    CHECK(command_parse("%%ask --bogus\nx").kind == COMMAND_BAD);
    CHECK(command_parse("  exit()  \n").kind == COMMAND_EXIT &&
          command_parse("quit").kind == COMMAND_EXIT);
    CHECK(command_parse("exit the loop early").kind == COMMAND_NONE);
    c = command_parse("%matplotlib inline");
    CHECK(c.kind == COMMAND_BAD && strstr(c.error, "%%python"));
    CHECK(command_parse("plot the sales").kind == COMMAND_NONE);
}

static void test_settings(void)
{
    struct agent_config cfg;
    agent_config_defaults(&cfg);
    struct agent_overrides o = {0};
    struct model_settings s;
    unsigned attempts;
    struct cell_error e = {0};
    static const char *const vars[] = {"OPENAI_API_KEY", "OPENAI_BASE_URL", "ANTHROPIC_API_KEY",
                                       "ANTHROPIC_BASE_URL"};
    for (size_t i = 0; i < 4; i++)
        unsetenv(vars[i]);
    CHECK(!settings_resolve(&cfg, &o, &s, &attempts, &e));
    CHECK(strcmp(e.ename, "AgentNotConfigured") == 0 && strstr(e.evalue, "OPENAI_BASE_URL"));
    cell_error_clear(&e);
    setenv("ANTHROPIC_API_KEY", "sk-ant-x", 1); /* an Anthropic key alone means Anthropic */
    CHECK(settings_resolve(&cfg, &o, &s, &attempts, &e) && s.provider == PROVIDER_ANTHROPIC);
    CHECK(strcmp(s.base_url, "https://api.anthropic.com") == 0 && strcmp(s.key, "sk-ant-x") == 0);
    setenv("OPENAI_BASE_URL", "http://localhost:11434/v1/", 1); /* both: OpenAI-compatible */
    CHECK(settings_resolve(&cfg, &o, &s, &attempts, &e) && s.provider == PROVIDER_OPENAI);
    CHECK(strcmp(s.base_url, "http://localhost:11434/v1") == 0 && s.key[0] == '\0');
    snprintf(o.provider, sizeof o.provider, "anthropic"); /* an explicit one wins */
    o.attempts = 5;
    CHECK(settings_resolve(&cfg, &o, &s, &attempts, &e) && s.provider == PROVIDER_ANTHROPIC);
    CHECK(attempts == 5 && isnan(s.temperature) && s.max_tokens == 0);
    char masked[64];
    settings_masked_key("sk-abcdefghijkl-WXYZ", masked, sizeof masked);
    CHECK(strcmp(masked, "\xe2\x80\xa6WXYZ") == 0);
    for (size_t i = 0; i < 4; i++)
        unsetenv(vars[i]);
}

int main(void)
{
    test_first_try();
    test_fix_then_give_up();
    test_syntax_error_is_not_run();
    test_a_dead_worker_stops_the_loop();
    test_prose_review_and_model_errors();
    test_prompt_budget();
    test_masking();
    test_commands();
    test_settings();
    return check_summary("agent loop");
}
