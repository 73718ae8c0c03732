/* Worker frame validation and translation to typed values (what output.h's calls take, and the
 * answers to the editor's and the agent's queries). */
#include "sandbox/supervisor/translate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

static const char *const kind_names[] = {"stream", "display", "clear", "result", "error"};

/* The arguments of the output.h call an output becomes, as JSON: stream {name, text}; display
 * {data, metadata, display_id?, update?}; clear {wait}; result {data, metadata}; error {ename,
 * evalue, traceback}. */
static json_t *as_json(const struct worker_output *out)
{
    switch (out->kind) {
    case WOUT_STREAM:
        return json_pack("{s:s, s:O}", "name", out->stream == OUTPUT_STDERR ? "stderr" : "stdout",
                         "text", out->text);
    case WOUT_DISPLAY: {
        json_t *v = json_pack("{s:O, s:O}", "data", out->data, "metadata", out->metadata);
        if (out->display_id[0])
            json_object_set_new(v, "display_id", json_string(out->display_id));
        if (out->update)
            json_object_set_new(v, "update", json_true());
        return v;
    }
    case WOUT_CLEAR:
        return json_pack("{s:b}", "wait", out->wait);
    case WOUT_RESULT:
        return json_pack("{s:O, s:O}", "data", out->data, "metadata", out->metadata);
    case WOUT_ERROR:
        return json_pack("{s:s, s:s, s:O}", "ename", out->error.ename, "evalue", out->error.evalue,
                         "traceback", out->error.traceback);
    }
    return NULL;
}

/* Translates `frame_text` for id 5; returns its JSON form (caller frees) or NULL when dropped. */
static json_t *tr(const char *frame_text, const char **kind)
{
    json_t *frame = J(frame_text);
    struct worker_output out;
    bool ok = translate_output(frame, 5, &out);
    json_decref(frame);
    json_t *v = ok ? as_json(&out) : NULL;
    if (kind)
        *kind = ok ? kind_names[out.kind] : NULL;
    if (ok)
        worker_output_clear(&out);
    return v;
}

static void test_stream(void)
{
    const char *mt;
    json_t *c = tr("{\"t\":\"stream\",\"id\":5,\"name\":\"stdout\",\"text\":\"hi\\n\"}", &mt);
    CHECK(mt && strcmp(mt, "stream") == 0);
    CHECK(json_is(c, "{\"name\":\"stdout\",\"text\":\"hi\\n\"}"));
    json_decref(c);
    c = tr("{\"t\":\"stream\",\"id\":5,\"name\":\"stderr\",\"text\":\"\"}", &mt);
    CHECK(json_is(c, "{\"name\":\"stderr\",\"text\":\"\"}"));
    json_decref(c);
    /* Invalid: other names, missing or non-string text, wrong/missing id, string id. */
    CHECK(tr("{\"t\":\"stream\",\"id\":5,\"name\":\"stdin\",\"text\":\"x\"}", NULL) == NULL);
    CHECK(tr("{\"t\":\"stream\",\"id\":5,\"name\":1,\"text\":\"x\"}", NULL) == NULL);
    CHECK(tr("{\"t\":\"stream\",\"id\":5,\"name\":\"stdout\"}", NULL) == NULL);
    CHECK(tr("{\"t\":\"stream\",\"id\":5,\"name\":\"stdout\",\"text\":[\"x\"]}", NULL) == NULL);
    CHECK(tr("{\"t\":\"stream\",\"id\":6,\"name\":\"stdout\",\"text\":\"x\"}", NULL) == NULL);
    CHECK(tr("{\"t\":\"stream\",\"name\":\"stdout\",\"text\":\"x\"}", NULL) == NULL);
    CHECK(tr("{\"t\":\"stream\",\"id\":\"5\",\"name\":\"stdout\",\"text\":\"x\"}", NULL) == NULL);
    CHECK(tr("{\"t\":\"stream\",\"id\":5.0,\"name\":\"stdout\",\"text\":\"x\"}", NULL) == NULL);
    /* Unknown types are dropped. */
    CHECK(tr("{\"t\":\"exec_shell\",\"id\":5,\"cmd\":\"rm -rf /\"}", NULL) == NULL);
    CHECK(tr("{\"t\":\"done\",\"id\":5,\"status\":\"ok\"}", NULL) == NULL);
}

static void test_display(void)
{
    const char *mt;
    json_t *c =
        tr("{\"t\":\"display\",\"id\":5,\"data\":{\"text/plain\":\"x\",\"text/html\":\"<b>x</b>\"},"
           "\"metadata\":{\"a\":1},\"transient\":{},\"update\":false}",
           &mt);
    CHECK(mt && strcmp(mt, "display") == 0);
    CHECK(json_is(
        c, "{\"data\":{\"text/plain\":\"x\",\"text/html\":\"<b>x</b>\"},\"metadata\":{\"a\":1}}"));
    json_decref(c);

    /* Missing text/plain gets a fallback; missing metadata becomes {}, missing transient no id. */
    c = tr("{\"t\":\"display\",\"id\":5,\"data\":{\"image/png\":\"iVBOR\"}}", &mt);
    CHECK(json_is(c, "{\"data\":{\"image/png\":\"iVBOR\",\"text/plain\":\"<image/png output>\"},"
                     "\"metadata\":{}}"));
    json_decref(c);

    /* display_id carried; other transient keys dropped. */
    c = tr("{\"t\":\"display\",\"id\":5,\"data\":{\"text/plain\":\"1\"},"
           "\"transient\":{\"display_id\":\"abc\",\"evil\":1}}",
           &mt);
    CHECK(mt && strcmp(mt, "display") == 0);
    CHECK(json_is(c, "{\"data\":{\"text/plain\":\"1\"},\"metadata\":{},\"display_id\":\"abc\"}"));
    json_decref(c);

    /* Update with display_id. */
    c = tr("{\"t\":\"display\",\"id\":5,\"data\":{\"text/plain\":\"2\"},"
           "\"transient\":{\"display_id\":\"abc\"},\"update\":true}",
           &mt);
    CHECK(mt && strcmp(mt, "display") == 0);
    CHECK(json_is(c, "{\"data\":{\"text/"
                     "plain\":\"2\"},\"metadata\":{},\"display_id\":\"abc\",\"update\":true}"));
    json_decref(c);

    /* Update without display_id: dropped. */
    CHECK(tr("{\"t\":\"display\",\"id\":5,\"data\":{\"text/plain\":\"2\"},\"update\":true}",
             NULL) == NULL);
    CHECK(tr("{\"t\":\"display\",\"id\":5,\"data\":{\"text/"
             "plain\":\"2\"},\"transient\":{},\"update\":true}",
             NULL) == NULL);
    /* Wrong types. */
    CHECK(tr("{\"t\":\"display\",\"id\":5,\"data\":\"x\"}", NULL) == NULL);
    CHECK(tr("{\"t\":\"display\",\"id\":5}", NULL) == NULL);
    CHECK(tr("{\"t\":\"display\",\"id\":5,\"data\":{},\"metadata\":[]}", NULL) == NULL);
    CHECK(tr("{\"t\":\"display\",\"id\":5,\"data\":{},\"transient\":5}", NULL) == NULL);
    CHECK(tr("{\"t\":\"display\",\"id\":5,\"data\":{},\"update\":\"yes\"}", NULL) == NULL);
    CHECK(tr("{\"t\":\"display\",\"id\":5,\"data\":{},\"transient\":{\"display_id\":7}}", NULL) ==
          NULL);
    CHECK(tr("{\"t\":\"display\",\"id\":5,\"data\":{},\"transient\":{\"display_id\":\"\"}}",
             NULL) == NULL);
    CHECK(tr("{\"t\":\"display\",\"id\":4,\"data\":{\"text/plain\":\"x\"}}", NULL) == NULL);
    /* Oversized display_id. */
    char big[600];
    char id[300];
    memset(id, 'a', 299);
    id[299] = 0;
    snprintf(big, sizeof big,
             "{\"t\":\"display\",\"id\":5,\"data\":{},\"transient\":{\"display_id\":\"%s\"}}", id);
    CHECK(tr(big, NULL) == NULL);

    /* Bad mime keys and bad values are dropped entry by entry. */
    c = tr("{\"t\":\"display\",\"id\":5,\"data\":{\"text/plain\":\"ok\",\"nomime\":\"x\",\"a/b/"
           "c\":\"x\","
           "\"/x\":\"x\",\"x/\":\"x\",\"te xt/html\":\"x\",\"text/html\":5,\"image/png\":{\"a\":1},"
           "\"application/json\":{\"k\":[1,2]},\"application/vnd.vegalite.v5+json\":[1],"
           "\"text/markdown\":\"*m*\",\"-a/b\":\"x\"}}",
           NULL);
    CHECK(json_is(c, "{\"data\":{\"text/plain\":\"ok\",\"application/json\":{\"k\":[1,2]},"
                     "\"application/vnd.vegalite.v5+json\":[1],\"text/markdown\":\"*m*\"},"
                     "\"metadata\":{}}"));
    json_decref(c);

    /* Mime keys: bounded length. */
    CHECK(translate_mime_ok("text/plain"));
    CHECK(translate_mime_ok("application/vnd.jupyter.widget-view+json"));
    CHECK(!translate_mime_ok("text/plain; charset=utf-8"));
    CHECK(!translate_mime_ok(""));
    char longmime[400] = "text/";
    memset(longmime + 5, 'x', 300);
    longmime[305] = 0;
    CHECK(!translate_mime_ok(longmime));
    /* A bundle with too many entries is cut. */
    json_t *many = json_object();
    for (int i = 0; i < 200; i++) {
        char key[32];
        snprintf(key, sizeof key, "text/x%d", i);
        json_object_set_new(many, key, json_string("v"));
    }
    json_t *bundle = translate_mime_bundle(many, true);
    CHECK(bundle && json_object_size(bundle) == TR_MAX_MIME_ENTRIES + 1); /* + text/plain */
    json_decref(bundle);
    json_decref(many);
}

static void test_clear(void)
{
    const char *mt;
    json_t *c = tr("{\"t\":\"clear\",\"id\":5,\"wait\":true}", &mt);
    CHECK(mt && strcmp(mt, "clear") == 0);
    CHECK(json_is(c, "{\"wait\":true}"));
    json_decref(c);
    c = tr("{\"t\":\"clear\",\"id\":5}", &mt);
    CHECK(json_is(c, "{\"wait\":false}"));
    json_decref(c);
    CHECK(tr("{\"t\":\"clear\",\"id\":5,\"wait\":1}", NULL) == NULL);
    CHECK(tr("{\"t\":\"clear\",\"id\":2,\"wait\":true}", NULL) == NULL);
}

static void test_result(void)
{
    const char *mt;
    json_t *c =
        tr("{\"t\":\"result\",\"id\":5,\"data\":{\"text/plain\":\"2\"},\"metadata\":{}}", &mt);
    CHECK(mt && strcmp(mt, "result") == 0);
    CHECK(json_is(c, "{\"data\":{\"text/plain\":\"2\"},\"metadata\":{}}"));
    json_decref(c);
    c = tr("{\"t\":\"result\",\"id\":5,\"data\":{\"text/html\":\"<table/>\"}}", &mt);
    CHECK(json_is(c, "{\"data\":{\"text/html\":\"<table/>\",\"text/plain\":\"<text/html output>\"},"
                     "\"metadata\":{}}"));
    json_decref(c);
    c = tr("{\"t\":\"result\",\"id\":5,\"data\":{}}", &mt);
    CHECK(json_is(c, "{\"data\":{\"text/plain\":\"<empty output>\"},\"metadata\":{}}"));
    json_decref(c);
    CHECK(tr("{\"t\":\"result\",\"id\":5,\"data\":null}", NULL) == NULL);
    CHECK(tr("{\"t\":\"result\",\"id\":5,\"data\":{},\"metadata\":\"m\"}", NULL) == NULL);
    CHECK(tr("{\"t\":\"result\",\"id\":-1,\"data\":{}}", NULL) == NULL);
}

static void test_error(void)
{
    const char *mt;
    json_t *c = tr(
        "{\"t\":\"error\",\"id\":5,\"ename\":\"ZeroDivisionError\",\"evalue\":\"division by zero\","
        "\"traceback\":[\"Cell In[9], line 1\",\"ZeroDivisionError: division by zero\"]}",
        &mt);
    CHECK(mt && strcmp(mt, "error") == 0);
    CHECK(json_is(
        c, "{\"ename\":\"ZeroDivisionError\",\"evalue\":\"division by zero\","
           "\"traceback\":[\"Cell In[9], line 1\",\"ZeroDivisionError: division by zero\"]}"));
    json_decref(c);
    /* Missing traceback is []; non-string entries are skipped. */
    c = tr("{\"t\":\"error\",\"id\":5,\"ename\":\"E\",\"evalue\":\"v\"}", NULL);
    CHECK(json_is(c, "{\"ename\":\"E\",\"evalue\":\"v\",\"traceback\":[]}"));
    json_decref(c);
    c = tr("{\"t\":\"error\",\"id\":5,\"ename\":\"E\",\"evalue\":\"v\",\"traceback\":[1,\"a\",null,"
           "{}]}",
           NULL);
    CHECK(json_is(c, "{\"ename\":\"E\",\"evalue\":\"v\",\"traceback\":[\"a\"]}"));
    json_decref(c);
    CHECK(tr("{\"t\":\"error\",\"id\":5,\"ename\":1,\"evalue\":\"v\"}", NULL) == NULL);
    CHECK(tr("{\"t\":\"error\",\"id\":5,\"ename\":\"E\"}", NULL) == NULL);
    CHECK(tr("{\"t\":\"error\",\"id\":5,\"ename\":\"E\",\"evalue\":\"v\",\"traceback\":\"tb\"}",
             NULL) == NULL);

    /* Oversized strings are truncated at a UTF-8 boundary; huge tracebacks are cut. */
    size_t n = 100000;
    char *huge = malloc(n + 1);
    for (size_t i = 0; i < n; i += 2)
        memcpy(huge + i, "\xc3\xa9", 2); /* é */
    huge[n] = 0;
    json_t *frame = json_pack("{s:s, s:i, s:s, s:s, s:[]}", "t", "error", "id", 5, "ename", huge,
                              "evalue", huge, "traceback");
    json_t *tb = json_object_get(frame, "traceback");
    for (int i = 0; i < 3000; i++)
        json_array_append_new(tb, json_string(i == 0 ? huge : "line"));
    struct worker_output out;
    CHECK(translate_output(frame, 5, &out));
    CHECK(out.kind == WOUT_ERROR);
    CHECK(strlen(out.error.ename) <= TR_MAX_ENAME);
    CHECK(strlen(out.error.evalue) <= TR_MAX_EVALUE);
    CHECK(strlen(out.error.ename) > TR_MAX_ENAME - 8);
    /* Ends with the ellipsis, and the cut is on a character boundary (jansson checks UTF-8). */
    const char *ev = out.error.evalue;
    CHECK(strcmp(ev + strlen(ev) - 3, "\xe2\x80\xa6") == 0);
    json_t *content = as_json(&out);
    char *dumped = json_dumps(content, 0);
    json_t *reparsed = json_loads(dumped, 0, NULL);
    CHECK(reparsed != NULL);
    json_decref(reparsed);
    free(dumped);
    json_decref(content);
    json_t *lines = out.error.traceback;
    CHECK(json_array_size(lines) == TR_MAX_TB_LINES + 1);
    CHECK(json_string_length(json_array_get(lines, 0)) <= TR_MAX_TB_LINE);
    CHECK(strstr(json_string_value(json_array_get(lines, TR_MAX_TB_LINES)), "2000 more lines") !=
          NULL);
    worker_output_clear(&out);
    json_decref(frame);
    free(huge);
}

static void test_input_and_done(void)
{
    json_t *f =
        J("{\"t\":\"input\",\"id\":5,\"input_id\":2,\"prompt\":\"Name: \",\"password\":true}");
    long long input_id = 0;
    char *prompt = NULL;
    bool pw = false;
    CHECK(translate_input(f, 5, &input_id, &prompt, &pw));
    CHECK(input_id == 2 && pw && prompt && strcmp(prompt, "Name: ") == 0);
    free(prompt);
    prompt = NULL;
    CHECK(!translate_input(f, 4, &input_id, &prompt, &pw));
    json_decref(f);
    f = J("{\"t\":\"input\",\"id\":5,\"input_id\":\"2\"}");
    CHECK(!translate_input(f, 5, &input_id, &prompt, &pw));
    json_decref(f);
    f = J("{\"t\":\"input\",\"id\":5,\"input_id\":1,\"prompt\":3}");
    CHECK(!translate_input(f, 5, &input_id, &prompt, &pw));
    json_decref(f);

    bool ok = false;
    f = J("{\"t\":\"done\",\"id\":5,\"status\":\"ok\"}");
    CHECK(translate_done(f, 5, &ok) && ok);
    CHECK(!translate_done(f, 6, &ok));
    json_decref(f);
    f = J("{\"t\":\"done\",\"id\":5,\"status\":\"error\"}");
    CHECK(translate_done(f, 5, &ok) && !ok);
    json_decref(f);
    f = J("{\"t\":\"done\",\"id\":5,\"status\":7}");
    CHECK(translate_done(f, 5, &ok) && !ok);
    json_decref(f);
}

static void test_replies(void)
{
    /* "héllo" is 5 code points and 6 bytes. */
    const char *code = "h\xc3\xa9llo";
    struct completion c;
    json_t *f = J("{\"t\":\"completions\",\"id\":1,\"matches\":[\"hello\",3,\"\",\"help\"],"
                  "\"cursor_start\":0,\"cursor_end\":99,\"metadata\":{\"x\":1}}");
    translate_completion(f, code, 5, &c);
    CHECK(json_is(c.matches, "[\"hello\",\"help\"]"));
    CHECK(c.cursor_start == 0 && c.cursor_end == 5);
    CHECK(json_is(c.metadata, "{\"x\":1}"));
    completion_clear(&c);
    json_decref(f);
    f = J("{\"t\":\"completions\",\"id\":1,\"matches\":[\"a\"],\"cursor_start\":4,\"cursor_end\":2,"
          "\"metadata\":3}");
    translate_completion(f, code, 3, &c);
    CHECK(json_is(c.matches, "[\"a\"]"));
    CHECK(c.cursor_start == 2 && c.cursor_end == 2);
    CHECK(json_is(c.metadata, "{}"));
    completion_clear(&c);
    json_decref(f);
    /* Garbage and no frame: valid empty answer at the (clamped) cursor. */
    f = J("{\"t\":\"completions\",\"id\":1,\"matches\":\"abc\"}");
    translate_completion(f, code, 40, &c);
    CHECK(json_is(c.matches, "[]") && c.cursor_start == 5 && c.cursor_end == 5 &&
          json_is(c.metadata, "{}"));
    completion_clear(&c);
    json_decref(f);
    translate_completion(NULL, "abc", 2, &c);
    CHECK(json_is(c.matches, "[]") && c.cursor_start == 2 && c.cursor_end == 2 &&
          json_is(c.metadata, "{}"));
    completion_clear(&c);

    struct inspection in;
    f = J("{\"t\":\"inspection\",\"id\":1,\"found\":true,\"data\":{\"text/"
          "plain\":\"doc\",\"bad\":\"x\"},\"metadata\":{}}");
    translate_inspection(f, &in);
    CHECK(in.found && json_is(in.data, "{\"text/plain\":\"doc\"}") && json_is(in.metadata, "{}"));
    inspection_clear(&in);
    json_decref(f);
    f = J("{\"t\":\"inspection\",\"id\":1,\"found\":\"yes\",\"data\":{\"text/plain\":\"doc\"}}");
    translate_inspection(f, &in);
    CHECK(!in.found && json_is(in.data, "{}") && json_is(in.metadata, "{}"));
    inspection_clear(&in);
    json_decref(f);
    translate_inspection(NULL, &in);
    CHECK(!in.found && json_is(in.data, "{}") && json_is(in.metadata, "{}"));
    inspection_clear(&in);

    static const struct {
        const char *frame;
        enum completeness_status status;
        const char *indent;
    } samples[] = {
        {"{\"t\":\"completeness\",\"id\":1,\"status\":\"incomplete\",\"indent\":\"    \"}",
         COMPLETENESS_INCOMPLETE, "    "},
        {"{\"t\":\"completeness\",\"id\":1,\"status\":\"incomplete\",\"indent\":\"rm -rf\"}",
         COMPLETENESS_INCOMPLETE, ""},
        {"{\"t\":\"completeness\",\"id\":1,\"status\":\"complete\"}", COMPLETENESS_COMPLETE, ""},
        {"{\"t\":\"completeness\",\"id\":1,\"status\":\"invalid\"}", COMPLETENESS_INVALID, ""},
        {"{\"t\":\"completeness\",\"id\":1,\"status\":\"maybe\"}", COMPLETENESS_UNKNOWN, ""},
    };
    for (size_t i = 0; i < sizeof samples / sizeof *samples; i++) {
        struct completeness got;
        f = J(samples[i].frame);
        translate_completeness(f, &got);
        CHECK(got.status == samples[i].status && strcmp(got.indent, samples[i].indent) == 0);
        json_decref(f);
    }
    struct completeness none;
    translate_completeness(NULL, &none);
    CHECK(none.status == COMPLETENESS_UNKNOWN);
}

static void test_bytes(void)
{
    struct worker_output out;
    json_t *f = J("{\"t\":\"stream\",\"id\":5,\"name\":\"stdout\",\"text\":\"12345\"}");
    CHECK(translate_output(f, 5, &out) && worker_output_bytes(&out) == 5);
    worker_output_clear(&out);
    json_decref(f);
    f = J(
        "{\"t\":\"display\",\"id\":5,\"data\":{\"text/plain\":\"abc\",\"application/json\":[1]}}");
    CHECK(translate_output(f, 5, &out) && worker_output_bytes(&out) == 6);
    worker_output_clear(&out);
    json_decref(f);
    f = J("{\"t\":\"error\",\"id\":5,\"ename\":\"E\",\"evalue\":\"vv\",\"traceback\":[\"abc\"]}");
    CHECK(translate_output(f, 5, &out) && worker_output_bytes(&out) == 6);
    worker_output_clear(&out);
    json_decref(f);
}

/* What IPython's shell hands the frontend: the next cell's text (%load), the request to leave. */
static void test_next_input_and_exit(void)
{
    bool replace = false, keep = true;
    json_t *f =
        J("{\"t\":\"next_input\",\"id\":5,\"text\":\"# %load x.py\\nx = 1\\n\",\"replace\":true}");
    char *text = translate_next_input(f, 5, &replace);
    CHECK(text && strcmp(text, "# %load x.py\nx = 1\n") == 0 && replace);
    free(text);
    CHECK(translate_next_input(f, 6, &replace) == NULL);
    json_decref(f);
    static const char *const bad[] = {
        "{\"t\":\"next_input\",\"id\":5}",
        "{\"t\":\"next_input\",\"id\":5,\"text\":3}",
        "{\"t\":\"next_input\",\"id\":5,\"text\":\"x\",\"replace\":\"yes\"}",
        "{\"t\":\"next_input\",\"id\":5,\"text\":\"a\\u0000b\"}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        f = J(bad[i]);
        CHECK(translate_next_input(f, 5, &replace) == NULL);
        json_decref(f);
    }
    /* Bounded: a page of text, not a file of any size. */
    char *big = malloc(TR_MAX_NEXT_INPUT + 2);
    memset(big, 'x', TR_MAX_NEXT_INPUT + 1);
    big[TR_MAX_NEXT_INPUT + 1] = 0;
    f = json_pack("{s:s, s:i, s:s}", "t", "next_input", "id", 5, "text", big);
    CHECK(translate_next_input(f, 5, &replace) == NULL);
    json_decref(f);
    free(big);

    f = J("{\"t\":\"exit\",\"id\":5,\"keep_kernel\":false}");
    CHECK(translate_exit(f, 5, &keep) && !keep);
    CHECK(!translate_exit(f, 4, &keep));
    json_decref(f);
    f = J("{\"t\":\"exit\",\"id\":5,\"keep_kernel\":true}");
    CHECK(translate_exit(f, 5, &keep) && keep);
    json_decref(f);
    f = J("{\"t\":\"exit\",\"id\":5,\"keep_kernel\":1}");
    CHECK(!translate_exit(f, 5, &keep));
    json_decref(f);
}

static void test_page(void)
{
    json_t *f = J("{\"t\":\"page\",\"id\":5,\"data\":{\"text/plain\":\"Docstring: x\",\"bad\":1}}");
    json_t *page = translate_page(f, 5);
    CHECK(page != NULL);
    CHECK(json_is(page, "{\"text/plain\":\"Docstring: x\"}"));
    CHECK(translate_page(f, 6) == NULL);
    json_decref(page);
    json_decref(f);
    f = J("{\"t\":\"page\",\"id\":5,\"data\":\"text\"}");
    CHECK(translate_page(f, 5) == NULL);
    json_decref(f);
}

/* The agent's syntax check: what the worker says of the code, or UNKNOWN when it says nothing
 * usable (the caller then runs the code, and the cell's own error tells). */
static void test_syntax_check(void)
{
    struct syntax_check c;
    json_t *f = J("{\"t\":\"checked\",\"id\":1,\"ok\":true,\"ename\":\"\",\"evalue\":\"\","
                  "\"lineno\":0,\"offset\":0,\"text\":\"\"}");
    translate_syntax_check(f, &c);
    CHECK(c.status == SYNTAX_OK && c.ename[0] == 0 && c.lineno == 0);
    json_decref(f);
    f = J("{\"t\":\"checked\",\"id\":1,\"ok\":false,\"ename\":\"IndentationError\","
          "\"evalue\":\"expected an indented block\",\"lineno\":2,\"offset\":1,"
          "\"text\":\"print(1)\"}");
    translate_syntax_check(f, &c);
    CHECK(c.status == SYNTAX_ERROR && strcmp(c.ename, "IndentationError") == 0);
    CHECK(strcmp(c.evalue, "expected an indented block") == 0 && strcmp(c.text, "print(1)") == 0);
    CHECK(c.lineno == 2 && c.offset == 1);
    json_decref(f);
    /* Positions and text are optional: 0 and "" when missing, negative or of the wrong type. */
    f = J("{\"t\":\"checked\",\"id\":1,\"ok\":false,\"ename\":\"ValueError\",\"evalue\":\"NUL\","
          "\"lineno\":-3,\"offset\":\"7\",\"text\":5}");
    translate_syntax_check(f, &c);
    CHECK(c.status == SYNTAX_ERROR && c.lineno == 0 && c.offset == 0 && c.text[0] == 0);
    json_decref(f);
    f = J("{\"t\":\"checked\",\"id\":1,\"ok\":false,\"ename\":\"E\",\"evalue\":\"v\","
          "\"lineno\":99999999999}");
    translate_syntax_check(f, &c);
    CHECK(c.status == SYNTAX_ERROR && c.lineno == 0);
    json_decref(f);
    static const char *const unknown[] = {
        "{\"t\":\"checked\",\"id\":1}",
        "{\"t\":\"checked\",\"id\":1,\"ok\":1}",
        "{\"t\":\"checked\",\"id\":1,\"ok\":\"false\",\"ename\":\"E\",\"evalue\":\"v\"}",
        "{\"t\":\"checked\",\"id\":1,\"ok\":false}",
        "{\"t\":\"checked\",\"id\":1,\"ok\":false,\"ename\":\"\",\"evalue\":\"v\"}",
        "{\"t\":\"checked\",\"id\":1,\"ok\":false,\"ename\":3,\"evalue\":\"v\"}",
        "{\"t\":\"checked\",\"id\":1,\"ok\":false,\"ename\":\"E\",\"evalue\":null}",
        "{\"t\":\"checked\",\"id\":1,\"ok\":false,\"ename\":\"\\u0000E\",\"evalue\":\"v\"}",
    };
    for (size_t i = 0; i < sizeof unknown / sizeof *unknown; i++) {
        f = J(unknown[i]);
        translate_syntax_check(f, &c);
        CHECK(c.status == SYNTAX_UNKNOWN);
        json_decref(f);
    }
    translate_syntax_check(NULL, &c);
    CHECK(c.status == SYNTAX_UNKNOWN);

    /* Oversize strings are cut to the fields, at a UTF-8 boundary; an embedded NUL ends them. */
    char *huge = malloc(5001);
    for (size_t i = 0; i < 5000; i += 2)
        memcpy(huge + i, "\xc3\xa9", 2); /* é */
    huge[5000] = 0;
    f = json_pack("{s:s, s:b, s:s, s:s, s:s}", "t", "checked", "ok", 0, "ename", huge, "evalue",
                  huge, "text", huge);
    translate_syntax_check(f, &c);
    CHECK(c.status == SYNTAX_ERROR);
    CHECK(strlen(c.ename) == 62 && strlen(c.evalue) == 1022 && strlen(c.text) == 1022);
    json_decref(f);
    free(huge);
    f = J(
        "{\"t\":\"checked\",\"ok\":false,\"ename\":\"E\",\"evalue\":\"a\\u0000b\",\"text\":\"x\"}");
    translate_syntax_check(f, &c);
    CHECK(c.status == SYNTAX_ERROR && strcmp(c.evalue, "a") == 0);
    json_decref(f);
}

static struct sandbox_context ctx_of(const char *frame_text)
{
    json_t *f = J(frame_text);
    struct sandbox_context ctx;
    translate_context(f, &ctx);
    json_decref(f);
    return ctx;
}

static void test_context(void)
{
    struct sandbox_context ctx = ctx_of(
        "{\"t\":\"described\",\"id\":1,"
        "\"variables\":[{\"name\":\"df\",\"type\":\"pandas.DataFrame\",\"detail\":\"DataFrame, 3 "
        "rows\"},{\"name\":\"\xc3\xa9t\xc3\xa9\",\"type\":\"int\",\"detail\":\"1\"}],"
        "\"omitted\":4,\"libraries\":[\"numpy\",\"pandas\"],"
        "\"files\":[{\"name\":\"a b.csv\",\"size\":12,\"dir\":false},"
        "{\"name\":\"data\",\"size\":0,\"dir\":true}],"
        "\"files_omitted\":2,\"cwd\":\"/home/ann/nb\"}");
    CHECK(json_is(ctx.variables,
                  "[{\"name\":\"df\",\"type\":\"pandas.DataFrame\","
                  "\"detail\":\"DataFrame, 3 rows\"},"
                  "{\"name\":\"\xc3\xa9t\xc3\xa9\",\"type\":\"int\",\"detail\":\"1\"}]"));
    CHECK(ctx.omitted == 4 && ctx.files_omitted == 2);
    CHECK(json_is(ctx.libraries, "[\"numpy\",\"pandas\"]"));
    CHECK(json_is(ctx.files, "[{\"name\":\"a b.csv\",\"size\":12,\"dir\":false},"
                             "{\"name\":\"data\",\"size\":0,\"dir\":true}]"));
    CHECK(strcmp(ctx.cwd, "/home/ann/nb") == 0);
    sandbox_context_clear(&ctx);
    CHECK(ctx.variables == NULL && ctx.omitted == 0);

    /* No frame, or one of the wrong shape: empty arrays, never NULL. */
    translate_context(NULL, &ctx);
    CHECK(json_is(ctx.variables, "[]") && json_is(ctx.libraries, "[]") &&
          json_is(ctx.files, "[]") && ctx.cwd[0] == 0 && ctx.omitted == 0);
    sandbox_context_clear(&ctx);
    ctx = ctx_of("{\"t\":\"described\",\"variables\":{\"x\":1},\"omitted\":-1,\"libraries\":"
                 "\"numpy\",\"files\":7,\"files_omitted\":\"3\",\"cwd\":\"relative/dir\"}");
    CHECK(json_is(ctx.variables, "[]") && json_is(ctx.libraries, "[]") &&
          json_is(ctx.files, "[]") && ctx.cwd[0] == 0 && ctx.omitted == 0 &&
          ctx.files_omitted == 0);
    sandbox_context_clear(&ctx);
}

/* Invalid entries are dropped one by one (and counted as omitted); the valid ones stay. */
static void test_context_entries(void)
{
    struct sandbox_context ctx = ctx_of(
        "{\"t\":\"described\",\"omitted\":1,\"variables\":["
        "{\"name\":\"ok\",\"type\":\"int\",\"detail\":\"1\"},"
        "{\"name\":\"1x\",\"type\":\"int\",\"detail\":\"1\"},"        /* not an identifier */
        "{\"name\":\"a-b\",\"type\":\"int\",\"detail\":\"1\"},"       /* nor this */
        "{\"name\":\"a\\u0000b\",\"type\":\"int\",\"detail\":\"1\"}," /* NUL */
        "{\"name\":\"\",\"type\":\"int\",\"detail\":\"1\"},"          /* empty */
        "{\"name\":5,\"type\":\"int\",\"detail\":\"1\"},"             /* not a string */
        "{\"type\":\"int\",\"detail\":\"1\"},"                        /* no name */
        "{\"name\":\"t\",\"type\":\"in\\nt\",\"detail\":\"1\"},"      /* a control character */
        "{\"name\":\"t\",\"type\":\"\",\"detail\":\"1\"},"
        "{\"name\":\"t\",\"type\":[\"int\"],\"detail\":\"1\"},"
        "{\"name\":\"t\",\"type\":\"int\"}," /* no detail */
        "{\"name\":\"t\",\"type\":\"int\",\"detail\":3},"
        "\"x\",null,"
        "{\"name\":\"cut\",\"type\":\"str\",\"detail\":\"a\\u0000secret\"},"
        "{\"name\":\"_private\",\"type\":\"int\",\"detail\":\"2\\nlines\"}],"
        "\"libraries\":[\"numpy\",3,\"\",\"not a module\",\"os.path\",\"9lives\",\"sk\\u0000\","
        "\"sklearn\"],"
        "\"files\":[{\"name\":\"a\",\"size\":1,\"dir\":false},"
        "{\"name\":\"a/b\",\"size\":1,\"dir\":false},{\"name\":\"..\",\"size\":0,\"dir\":true},"
        "{\"name\":\"\",\"size\":1,\"dir\":false},{\"name\":\"n\\nl\",\"size\":1,\"dir\":false},"
        "{\"name\":\"neg\",\"size\":-1,\"dir\":false},{\"name\":\"f\",\"size\":1.5,\"dir\":false},"
        "{\"name\":\"s\",\"size\":\"1\",\"dir\":false},{\"name\":\"d\",\"size\":0,\"dir\":1},"
        "{\"name\":\"m\",\"size\":0},{\"size\":0,\"dir\":false},"
        "{\"name\":\"big\",\"size\":99999999999,\"dir\":false}],\"files_omitted\":0}");
    CHECK(json_is(ctx.variables,
                  "[{\"name\":\"ok\",\"type\":\"int\",\"detail\":\"1\"},"
                  "{\"name\":\"cut\",\"type\":\"str\",\"detail\":\"a\"},"
                  "{\"name\":\"_private\",\"type\":\"int\",\"detail\":\"2\\nlines\"}]"));
    CHECK(ctx.omitted == 1 + 13);
    CHECK(json_is(ctx.libraries, "[\"numpy\",\"sklearn\"]"));
    CHECK(json_is(ctx.files, "[{\"name\":\"a\",\"size\":1,\"dir\":false},"
                             "{\"name\":\"big\",\"size\":99999999999,\"dir\":false}]"));
    CHECK(ctx.files_omitted == 10);
    sandbox_context_clear(&ctx);
}

/* Oversize: long names and types are invalid, long details are cut; the arrays are bounded and
 * what is past the bound is counted; counts are clamped. */
static void test_context_bounds(void)
{
    char name[TR_MAX_VAR_NAME + 2], type[TR_MAX_VAR_TYPE + 2], lib[TR_MAX_LIBRARY_NAME + 2];
    char file[TR_MAX_FILE_NAME + 2], cwd[4200];
    memset(name, 'n', sizeof name - 1), name[sizeof name - 1] = 0;
    memset(type, 't', sizeof type - 1), type[sizeof type - 1] = 0;
    memset(lib, 'l', sizeof lib - 1), lib[sizeof lib - 1] = 0;
    memset(file, 'f', sizeof file - 1), file[sizeof file - 1] = 0;
    memset(cwd, 'c', sizeof cwd - 1), cwd[0] = '/', cwd[sizeof cwd - 1] = 0;
    char *detail = malloc(TR_MAX_VAR_DETAIL * 2 + 1);
    for (size_t i = 0; i < TR_MAX_VAR_DETAIL * 2; i += 2)
        memcpy(detail + i, "\xc3\xa9", 2);
    detail[TR_MAX_VAR_DETAIL * 2] = 0;

    json_t *f = json_pack("{s:s, s:I, s:I, s:s}", "t", "described", "omitted", (json_int_t)1 << 40,
                          "files_omitted", (json_int_t)5, "cwd", cwd);
    json_t *vars = json_array(), *libs = json_array(), *files = json_array();
    json_array_append_new(vars,
                          json_pack("{s:s, s:s, s:s}", "name", name, "type", "int", "detail", "1"));
    json_array_append_new(vars,
                          json_pack("{s:s, s:s, s:s}", "name", "x", "type", type, "detail", "1"));
    json_array_append_new(
        vars, json_pack("{s:s, s:s, s:s}", "name", "long", "type", "str", "detail", detail));
    name[TR_MAX_VAR_NAME] = 0, type[TR_MAX_VAR_TYPE] = 0; /* exactly at the bound: valid */
    json_array_append_new(vars,
                          json_pack("{s:s, s:s, s:s}", "name", name, "type", type, "detail", "1"));
    for (int i = 0; i < TR_MAX_VARIABLES + 10; i++)
        json_array_append_new(
            vars, json_pack("{s:s, s:s, s:s}", "name", "v", "type", "int", "detail", "1"));
    json_array_append_new(libs, json_string(lib));
    for (int i = 0; i < TR_MAX_LIBRARIES + 3; i++)
        json_array_append_new(libs, json_string("numpy"));
    json_array_append_new(files, json_pack("{s:s, s:i, s:b}", "name", file, "size", 1, "dir", 0));
    for (int i = 0; i < TR_MAX_FILES + 7; i++)
        json_array_append_new(files,
                              json_pack("{s:s, s:i, s:b}", "name", "x", "size", 1, "dir", 0));
    json_object_set_new(f, "variables", vars);
    json_object_set_new(f, "libraries", libs);
    json_object_set_new(f, "files", files);

    struct sandbox_context ctx;
    translate_context(f, &ctx);
    CHECK(json_array_size(ctx.variables) == TR_MAX_VARIABLES);
    json_t *cut = json_array_get(ctx.variables, 0);
    CHECK(strcmp(json_string_value(json_object_get(cut, "name")), "long") == 0);
    const char *text = json_string_value(json_object_get(cut, "detail"));
    CHECK(strlen(text) <= TR_MAX_VAR_DETAIL && strlen(text) > TR_MAX_VAR_DETAIL - 8);
    CHECK(strcmp(text + strlen(text) - 3, "\xe2\x80\xa6") == 0); /* … */
    CHECK(strlen(json_string_value(json_object_get(json_array_get(ctx.variables, 1), "name"))) ==
          TR_MAX_VAR_NAME);
    CHECK(ctx.omitted == TR_MAX_COUNT); /* 2^40 + 12 clamped */
    CHECK(json_array_size(ctx.libraries) == TR_MAX_LIBRARIES);
    CHECK(json_array_size(ctx.files) == TR_MAX_FILES && ctx.files_omitted == 5 + 1 + 7);
    CHECK(ctx.cwd[0] == 0); /* longer than the field: unknown, not cut (a cut path is wrong) */
    sandbox_context_clear(&ctx);
    json_decref(f);

    /* The counts of a valid frame add what was dropped: 3 omitted + 12 past the bound. */
    f = json_pack("{s:s, s:i, s:[]}", "t", "described", "omitted", 3, "variables");
    vars = json_object_get(f, "variables");
    for (int i = 0; i < TR_MAX_VARIABLES + 12; i++)
        json_array_append_new(
            vars, json_pack("{s:s, s:s, s:s}", "name", "v", "type", "int", "detail", "1"));
    translate_context(f, &ctx);
    CHECK(json_array_size(ctx.variables) == TR_MAX_VARIABLES && ctx.omitted == 15);
    sandbox_context_clear(&ctx);
    json_decref(f);
    free(detail);
}

int main(void)
{
    test_syntax_check();
    test_context();
    test_context_entries();
    test_context_bounds();
    test_page();
    test_next_input_and_exit();
    test_stream();
    test_display();
    test_clear();
    test_result();
    test_error();
    test_input_and_done();
    test_replies();
    test_bytes();
    return check_summary("translate");
}
