/* Worker frame validation and translation to Jupyter content. */
#include "sandbox/translate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"


/* Translates `frame_text` for id 5, count 9; returns content (caller frees) or NULL. */
static json_t *tr(const char *frame_text, const char **msg_type)
{
    json_t *frame = J(frame_text);
    json_t *content = NULL;
    const char *mt = NULL;
    bool ok = translate_output(frame, 5, 9, &mt, &content);
    json_decref(frame);
    if (msg_type)
        *msg_type = mt;
    if (ok != (content != NULL)) {
        fprintf(stderr, "translate_output: return value disagrees with content\n");
        check_failed++;
    }
    return content;
}

static bool same(json_t *content, const char *expected)
{
    json_t *want = J(expected);
    bool eq = content && json_equal(content, want);
    if (!eq) {
        char *got = content ? json_dumps(content, JSON_SORT_KEYS) : strdup("NULL");
        fprintf(stderr, "  got:  %s\n  want: %s\n", got, expected);
        free(got);
    }
    json_decref(want);
    return eq;
}

static void test_stream(void)
{
    const char *mt;
    json_t *c = tr("{\"t\":\"stream\",\"id\":5,\"name\":\"stdout\",\"text\":\"hi\\n\"}", &mt);
    CHECK(mt && strcmp(mt, "stream") == 0);
    CHECK(same(c, "{\"name\":\"stdout\",\"text\":\"hi\\n\"}"));
    json_decref(c);
    c = tr("{\"t\":\"stream\",\"id\":5,\"name\":\"stderr\",\"text\":\"\"}", &mt);
    CHECK(same(c, "{\"name\":\"stderr\",\"text\":\"\"}"));
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
    json_t *c = tr("{\"t\":\"display\",\"id\":5,\"data\":{\"text/plain\":\"x\",\"text/html\":\"<b>x</b>\"},"
                   "\"metadata\":{\"a\":1},\"transient\":{},\"update\":false}", &mt);
    CHECK(mt && strcmp(mt, "display_data") == 0);
    CHECK(same(c, "{\"data\":{\"text/plain\":\"x\",\"text/html\":\"<b>x</b>\"},\"metadata\":{\"a\":1},"
                  "\"transient\":{}}"));
    json_decref(c);

    /* Missing text/plain gets a fallback; missing metadata/transient become {}. */
    c = tr("{\"t\":\"display\",\"id\":5,\"data\":{\"image/png\":\"iVBOR\"}}", &mt);
    CHECK(same(c, "{\"data\":{\"image/png\":\"iVBOR\",\"text/plain\":\"<image/png output>\"},"
                  "\"metadata\":{},\"transient\":{}}"));
    json_decref(c);

    /* display_id carried; other transient keys dropped. */
    c = tr("{\"t\":\"display\",\"id\":5,\"data\":{\"text/plain\":\"1\"},"
           "\"transient\":{\"display_id\":\"abc\",\"evil\":1}}", &mt);
    CHECK(mt && strcmp(mt, "display_data") == 0);
    CHECK(same(c, "{\"data\":{\"text/plain\":\"1\"},\"metadata\":{},\"transient\":{\"display_id\":\"abc\"}}"));
    json_decref(c);

    /* Update with display_id. */
    c = tr("{\"t\":\"display\",\"id\":5,\"data\":{\"text/plain\":\"2\"},"
           "\"transient\":{\"display_id\":\"abc\"},\"update\":true}", &mt);
    CHECK(mt && strcmp(mt, "update_display_data") == 0);
    CHECK(same(c, "{\"data\":{\"text/plain\":\"2\"},\"metadata\":{},\"transient\":{\"display_id\":\"abc\"}}"));
    json_decref(c);

    /* Update without display_id: dropped. */
    CHECK(tr("{\"t\":\"display\",\"id\":5,\"data\":{\"text/plain\":\"2\"},\"update\":true}", NULL) == NULL);
    CHECK(tr("{\"t\":\"display\",\"id\":5,\"data\":{\"text/plain\":\"2\"},\"transient\":{},\"update\":true}", NULL) == NULL);
    /* Wrong types. */
    CHECK(tr("{\"t\":\"display\",\"id\":5,\"data\":\"x\"}", NULL) == NULL);
    CHECK(tr("{\"t\":\"display\",\"id\":5}", NULL) == NULL);
    CHECK(tr("{\"t\":\"display\",\"id\":5,\"data\":{},\"metadata\":[]}", NULL) == NULL);
    CHECK(tr("{\"t\":\"display\",\"id\":5,\"data\":{},\"transient\":5}", NULL) == NULL);
    CHECK(tr("{\"t\":\"display\",\"id\":5,\"data\":{},\"update\":\"yes\"}", NULL) == NULL);
    CHECK(tr("{\"t\":\"display\",\"id\":5,\"data\":{},\"transient\":{\"display_id\":7}}", NULL) == NULL);
    CHECK(tr("{\"t\":\"display\",\"id\":5,\"data\":{},\"transient\":{\"display_id\":\"\"}}", NULL) == NULL);
    CHECK(tr("{\"t\":\"display\",\"id\":4,\"data\":{\"text/plain\":\"x\"}}", NULL) == NULL);
    /* Oversized display_id. */
    char big[600];
    char id[300];
    memset(id, 'a', 299);
    id[299] = 0;
    snprintf(big, sizeof big, "{\"t\":\"display\",\"id\":5,\"data\":{},\"transient\":{\"display_id\":\"%s\"}}", id);
    CHECK(tr(big, NULL) == NULL);

    /* Bad mime keys and bad values are dropped entry by entry. */
    c = tr("{\"t\":\"display\",\"id\":5,\"data\":{\"text/plain\":\"ok\",\"nomime\":\"x\",\"a/b/c\":\"x\","
           "\"/x\":\"x\",\"x/\":\"x\",\"te xt/html\":\"x\",\"text/html\":5,\"image/png\":{\"a\":1},"
           "\"application/json\":{\"k\":[1,2]},\"application/vnd.vegalite.v5+json\":[1],"
           "\"text/markdown\":\"*m*\",\"-a/b\":\"x\"}}", NULL);
    CHECK(same(c, "{\"data\":{\"text/plain\":\"ok\",\"application/json\":{\"k\":[1,2]},"
                  "\"application/vnd.vegalite.v5+json\":[1],\"text/markdown\":\"*m*\"},"
                  "\"metadata\":{},\"transient\":{}}"));
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
    CHECK(mt && strcmp(mt, "clear_output") == 0);
    CHECK(same(c, "{\"wait\":true}"));
    json_decref(c);
    c = tr("{\"t\":\"clear\",\"id\":5}", &mt);
    CHECK(same(c, "{\"wait\":false}"));
    json_decref(c);
    CHECK(tr("{\"t\":\"clear\",\"id\":5,\"wait\":1}", NULL) == NULL);
    CHECK(tr("{\"t\":\"clear\",\"id\":2,\"wait\":true}", NULL) == NULL);
}

static void test_result(void)
{
    const char *mt;
    json_t *c = tr("{\"t\":\"result\",\"id\":5,\"data\":{\"text/plain\":\"2\"},\"metadata\":{}}", &mt);
    CHECK(mt && strcmp(mt, "execute_result") == 0);
    CHECK(same(c, "{\"data\":{\"text/plain\":\"2\"},\"metadata\":{},\"execution_count\":9}"));
    json_decref(c);
    c = tr("{\"t\":\"result\",\"id\":5,\"data\":{\"text/html\":\"<table/>\"}}", &mt);
    CHECK(same(c, "{\"data\":{\"text/html\":\"<table/>\",\"text/plain\":\"<text/html output>\"},"
                  "\"metadata\":{},\"execution_count\":9}"));
    json_decref(c);
    c = tr("{\"t\":\"result\",\"id\":5,\"data\":{}}", &mt);
    CHECK(same(c, "{\"data\":{\"text/plain\":\"<empty output>\"},\"metadata\":{},\"execution_count\":9}"));
    json_decref(c);
    CHECK(tr("{\"t\":\"result\",\"id\":5,\"data\":null}", NULL) == NULL);
    CHECK(tr("{\"t\":\"result\",\"id\":5,\"data\":{},\"metadata\":\"m\"}", NULL) == NULL);
    CHECK(tr("{\"t\":\"result\",\"id\":-1,\"data\":{}}", NULL) == NULL);
}

static void test_error(void)
{
    const char *mt;
    json_t *c = tr("{\"t\":\"error\",\"id\":5,\"ename\":\"ZeroDivisionError\",\"evalue\":\"division by zero\","
                   "\"traceback\":[\"Cell In[9], line 1\",\"ZeroDivisionError: division by zero\"]}", &mt);
    CHECK(mt && strcmp(mt, "error") == 0);
    CHECK(same(c, "{\"ename\":\"ZeroDivisionError\",\"evalue\":\"division by zero\","
                  "\"traceback\":[\"Cell In[9], line 1\",\"ZeroDivisionError: division by zero\"]}"));
    json_decref(c);
    /* Missing traceback is []; non-string entries are skipped. */
    c = tr("{\"t\":\"error\",\"id\":5,\"ename\":\"E\",\"evalue\":\"v\"}", NULL);
    CHECK(same(c, "{\"ename\":\"E\",\"evalue\":\"v\",\"traceback\":[]}"));
    json_decref(c);
    c = tr("{\"t\":\"error\",\"id\":5,\"ename\":\"E\",\"evalue\":\"v\",\"traceback\":[1,\"a\",null,{}]}", NULL);
    CHECK(same(c, "{\"ename\":\"E\",\"evalue\":\"v\",\"traceback\":[\"a\"]}"));
    json_decref(c);
    CHECK(tr("{\"t\":\"error\",\"id\":5,\"ename\":1,\"evalue\":\"v\"}", NULL) == NULL);
    CHECK(tr("{\"t\":\"error\",\"id\":5,\"ename\":\"E\"}", NULL) == NULL);
    CHECK(tr("{\"t\":\"error\",\"id\":5,\"ename\":\"E\",\"evalue\":\"v\",\"traceback\":\"tb\"}", NULL) == NULL);

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
    json_t *content = NULL;
    CHECK(translate_output(frame, 5, 1, &mt, &content));
    json_t *ename = json_object_get(content, "ename"), *evalue = json_object_get(content, "evalue");
    CHECK(json_string_length(ename) <= TR_MAX_ENAME);
    CHECK(json_string_length(evalue) <= TR_MAX_EVALUE);
    CHECK(json_string_length(ename) > TR_MAX_ENAME - 8);
    /* Ends with the ellipsis, and the cut is on a character boundary (jansson checks UTF-8). */
    const char *ev = json_string_value(evalue);
    CHECK(strcmp(ev + strlen(ev) - 3, "\xe2\x80\xa6") == 0);
    char *dumped = json_dumps(content, 0);
    json_t *reparsed = json_loads(dumped, 0, NULL);
    CHECK(reparsed != NULL);
    json_decref(reparsed);
    free(dumped);
    json_t *lines = json_object_get(content, "traceback");
    CHECK(json_array_size(lines) == TR_MAX_TB_LINES + 1);
    CHECK(json_string_length(json_array_get(lines, 0)) <= TR_MAX_TB_LINE);
    CHECK(strstr(json_string_value(json_array_get(lines, TR_MAX_TB_LINES)), "2000 more lines") != NULL);
    json_decref(content);
    json_decref(frame);
    free(huge);
}

static void test_input_and_done(void)
{
    json_t *f = J("{\"t\":\"input_request\",\"id\":5,\"input_id\":2,\"prompt\":\"Name: \",\"password\":true}");
    long long input_id = 0;
    char *prompt = NULL;
    bool pw = false;
    CHECK(translate_input_request(f, 5, &input_id, &prompt, &pw));
    CHECK(input_id == 2 && pw && prompt && strcmp(prompt, "Name: ") == 0);
    free(prompt);
    prompt = NULL;
    CHECK(!translate_input_request(f, 4, &input_id, &prompt, &pw));
    json_decref(f);
    f = J("{\"t\":\"input_request\",\"id\":5,\"input_id\":\"2\"}");
    CHECK(!translate_input_request(f, 5, &input_id, &prompt, &pw));
    json_decref(f);
    f = J("{\"t\":\"input_request\",\"id\":5,\"input_id\":1,\"prompt\":3}");
    CHECK(!translate_input_request(f, 5, &input_id, &prompt, &pw));
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
    CHECK(translate_codepoints(code) == 5);
    json_t *f = J("{\"t\":\"complete_reply\",\"id\":1,\"matches\":[\"hello\",3,\"\",\"help\"],"
                  "\"cursor_start\":0,\"cursor_end\":99,\"metadata\":{\"x\":1}}");
    json_t *r = translate_complete_reply(f, code, 5);
    CHECK(same(r, "{\"status\":\"ok\",\"matches\":[\"hello\",\"help\"],\"cursor_start\":0,"
                  "\"cursor_end\":5,\"metadata\":{\"x\":1}}"));
    json_decref(r);
    json_decref(f);
    f = J("{\"t\":\"complete_reply\",\"id\":1,\"matches\":[\"a\"],\"cursor_start\":4,\"cursor_end\":2,\"metadata\":3}");
    r = translate_complete_reply(f, code, 3);
    CHECK(same(r, "{\"status\":\"ok\",\"matches\":[\"a\"],\"cursor_start\":2,\"cursor_end\":2,\"metadata\":{}}"));
    json_decref(r);
    json_decref(f);
    /* Garbage and no frame: valid empty reply at the (clamped) cursor. */
    f = J("{\"t\":\"complete_reply\",\"id\":1,\"matches\":\"abc\"}");
    r = translate_complete_reply(f, code, 40);
    CHECK(same(r, "{\"status\":\"ok\",\"matches\":[],\"cursor_start\":5,\"cursor_end\":5,\"metadata\":{}}"));
    json_decref(r);
    json_decref(f);
    r = translate_complete_reply(NULL, "abc", 2);
    CHECK(same(r, "{\"status\":\"ok\",\"matches\":[],\"cursor_start\":2,\"cursor_end\":2,\"metadata\":{}}"));
    json_decref(r);

    f = J("{\"t\":\"inspect_reply\",\"id\":1,\"found\":true,\"data\":{\"text/plain\":\"doc\",\"bad\":\"x\"},\"metadata\":{}}");
    r = translate_inspect_reply(f);
    CHECK(same(r, "{\"status\":\"ok\",\"found\":true,\"data\":{\"text/plain\":\"doc\"},\"metadata\":{}}"));
    json_decref(r);
    json_decref(f);
    f = J("{\"t\":\"inspect_reply\",\"id\":1,\"found\":\"yes\",\"data\":{\"text/plain\":\"doc\"}}");
    r = translate_inspect_reply(f);
    CHECK(same(r, "{\"status\":\"ok\",\"found\":false,\"data\":{},\"metadata\":{}}"));
    json_decref(r);
    json_decref(f);
    r = translate_inspect_reply(NULL);
    CHECK(same(r, "{\"status\":\"ok\",\"found\":false,\"data\":{},\"metadata\":{}}"));
    json_decref(r);

    f = J("{\"t\":\"is_complete_reply\",\"id\":1,\"status\":\"incomplete\",\"indent\":\"    \"}");
    r = translate_is_complete_reply(f);
    CHECK(same(r, "{\"status\":\"incomplete\",\"indent\":\"    \"}"));
    json_decref(r);
    json_decref(f);
    f = J("{\"t\":\"is_complete_reply\",\"id\":1,\"status\":\"incomplete\",\"indent\":\"rm -rf\"}");
    r = translate_is_complete_reply(f);
    CHECK(same(r, "{\"status\":\"incomplete\",\"indent\":\"\"}"));
    json_decref(r);
    json_decref(f);
    f = J("{\"t\":\"is_complete_reply\",\"id\":1,\"status\":\"complete\"}");
    r = translate_is_complete_reply(f);
    CHECK(same(r, "{\"status\":\"complete\"}"));
    json_decref(r);
    json_decref(f);
    f = J("{\"t\":\"is_complete_reply\",\"id\":1,\"status\":\"maybe\"}");
    r = translate_is_complete_reply(f);
    CHECK(same(r, "{\"status\":\"unknown\"}"));
    json_decref(r);
    json_decref(f);
    r = translate_is_complete_reply(NULL);
    CHECK(same(r, "{\"status\":\"unknown\"}"));
    json_decref(r);
}

static void test_bytes(void)
{
    json_t *c = J("{\"name\":\"stdout\",\"text\":\"12345\"}");
    CHECK(translate_content_bytes("stream", c) == 5);
    json_decref(c);
    c = J("{\"data\":{\"text/plain\":\"abc\",\"application/json\":[1]},\"metadata\":{}}");
    CHECK(translate_content_bytes("display_data", c) == 6);
    json_decref(c);
}

static void test_page(void)
{
    json_t *f = J("{\"t\":\"page\",\"id\":5,\"data\":{\"text/plain\":\"Docstring: x\",\"bad\":1}}");
    json_t *payload = translate_page(f, 5);
    CHECK(payload != NULL);
    CHECK(strcmp(json_string_value(json_object_get(payload, "source")), "page") == 0);
    json_t *data = json_object_get(payload, "data");
    CHECK(strcmp(json_string_value(json_object_get(data, "text/plain")), "Docstring: x") == 0);
    CHECK(json_object_get(data, "bad") == NULL);
    CHECK(json_integer_value(json_object_get(payload, "start")) == 0);
    CHECK(translate_page(f, 6) == NULL);
    json_decref(payload);
    json_decref(f);
    f = J("{\"t\":\"page\",\"id\":5,\"data\":\"text\"}");
    CHECK(translate_page(f, 5) == NULL);
    json_decref(f);
}

int main(void)
{
    test_page();
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
