/* The kernel's one builder of Jupyter content (kernel/content.c): each typed value as the
 * messaging spec shapes it. (Outputs as messages, in order, are in test_executor.c.) */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "kernel/content.h"

/* Compares, then releases, a content just built. */
static bool is(json_t *content, const char *expected)
{
    bool eq = json_is(content, expected);
    json_decref(content);
    return eq;
}

static void test_outputs(void)
{
    const char *t;
    CHECK(is(content_stream(OUTPUT_STDOUT, "hi\n", 3, &t),
             "{\"name\":\"stdout\",\"text\":\"hi\\n\"}"));
    CHECK(strcmp(t, "stream") == 0);
    /* Bytes that are not UTF-8 are shown with U+FFFD, never dropped or sent invalid. */
    CHECK(is(content_stream(OUTPUT_STDERR, "a\xff", 2, &t),
             "{\"name\":\"stderr\",\"text\":\"a\\ufffd\"}"));
    json_t *data = J("{\"text/plain\":\"x\"}"), *md = J("{\"isolated\":true}");
    CHECK(
        is(content_display(data, md, NULL, false, &t),
           "{\"data\":{\"text/plain\":\"x\"},\"metadata\":{\"isolated\":true},\"transient\":{}}"));
    CHECK(strcmp(t, "display_data") == 0);
    CHECK(is(content_display(data, md, "p1", true, &t),
             "{\"data\":{\"text/plain\":\"x\"},\"metadata\":{\"isolated\":true},"
             "\"transient\":{\"display_id\":\"p1\"}}"));
    CHECK(strcmp(t, "update_display_data") == 0);
    CHECK(is(content_display(data, md, "p1", false, &t),
             "{\"data\":{\"text/plain\":\"x\"},\"metadata\":{\"isolated\":true},"
             "\"transient\":{\"display_id\":\"p1\"}}"));
    CHECK(strcmp(t, "display_data") == 0);
    CHECK(is(content_result(data, md, 4, &t),
             "{\"data\":{\"text/"
             "plain\":\"x\"},\"metadata\":{\"isolated\":true},\"execution_count\":4}"));
    CHECK(strcmp(t, "execute_result") == 0);
    CHECK(is(content_clear(true, &t), "{\"wait\":true}") && strcmp(t, "clear_output") == 0);
    json_decref(data);
    json_decref(md);
}

static void test_errors(void)
{
    const char *t;
    struct cell_error e = {0};
    cell_error_set(&e, "NameError", "name 'x' is not defined", NULL);
    CHECK(is(content_error(&e, &t),
             "{\"ename\":\"NameError\",\"evalue\":\"name 'x' is not defined\","
             "\"traceback\":[\"NameError: name 'x' is not defined\"]}"));
    CHECK(strcmp(t, "error") == 0);
    CHECK(is(content_error_reply(&e), "{\"status\":\"error\",\"ename\":\"NameError\",\"evalue\":"
                                      "\"name 'x' is not defined\",\"traceback\":[\"NameError: "
                                      "name 'x' is not defined\"]}"));
    struct cell_outcome out = {.status = CELL_WORKER_LOST, .error = e};
    CHECK(is(content_execute_reply(&out, 3),
             "{\"status\":\"error\",\"ename\":\"NameError\",\"evalue\":\"name 'x' is not defined\","
             "\"traceback\":[\"NameError: name 'x' is not defined\"],\"execution_count\":3}"));
    cell_error_clear(&e);
    CHECK(
        is(content_error_reply_for("NotImplemented", "unsupported request"),
           "{\"status\":\"error\",\"ename\":\"NotImplemented\",\"evalue\":\"unsupported request\","
           "\"traceback\":[\"NotImplemented: unsupported request\"]}"));
    struct cell_outcome ok = {.status = CELL_OK};
    CHECK(is(content_execute_reply(&ok, 5), "{\"status\":\"ok\",\"execution_count\":5,"
                                            "\"user_expressions\":{},\"payload\":[]}"));
    /* What the cell hands the frontend, as IPython's payloads, in this order. */
    struct cell_outcome handed = {.status = CELL_OK,
                                  .pages = J("[{\"text/plain\":\"Docstring\"}]"),
                                  .next_input = strdup("# %load a.py\nx = 1\n"),
                                  .next_input_replaces = true,
                                  .exit_requested = true,
                                  .keep_kernel = true};
    CHECK(
        is(content_execute_reply(&handed, 6),
           "{\"status\":\"ok\",\"execution_count\":6,\"user_expressions\":{},\"payload\":["
           "{\"source\":\"page\",\"data\":{\"text/plain\":\"Docstring\"},\"start\":0},"
           "{\"source\":\"set_next_input\",\"text\":\"# %load a.py\\nx = 1\\n\",\"replace\":true},"
           "{\"source\":\"ask_exit\",\"keepkernel\":true}]}"));
    cell_outcome_clear(&handed);
}

static void test_replies(void)
{
    struct completion c = {0};
    completion_empty(&c, 4);
    json_array_append_new(c.matches, json_string("print"));
    c.cursor_start = 1;
    CHECK(is(content_complete_reply(&c), "{\"status\":\"ok\",\"matches\":[\"print\"],"
                                         "\"cursor_start\":1,\"cursor_end\":4,\"metadata\":{}}"));
    completion_clear(&c);
    struct inspection in = {0};
    inspection_empty(&in);
    CHECK(is(content_inspect_reply(&in),
             "{\"status\":\"ok\",\"found\":false,\"data\":{},\"metadata\":{}}"));
    inspection_clear(&in);
    struct completeness k = {COMPLETENESS_INCOMPLETE, "  "};
    CHECK(is(content_is_complete_reply(&k), "{\"status\":\"incomplete\",\"indent\":\"  \"}"));
    k.status = COMPLETENESS_INVALID;
    CHECK(is(content_is_complete_reply(&k), "{\"status\":\"invalid\"}"));
    k.status = COMPLETENESS_UNKNOWN;
    CHECK(is(content_is_complete_reply(&k), "{\"status\":\"unknown\"}"));

    struct language_info l = {"python",  "3.11.2", "text/x-python", ".py",         "ipython3",
                              "ipython", 3,        "python",        "banner words"};
    json_t *info = content_kernel_info_reply(&l);
    json_t *li = json_object_get(info, "language_info");
    CHECK(strcmp(json_string_value(json_object_get(info, "status")), "ok") == 0);
    CHECK(strcmp(json_string_value(json_object_get(info, "implementation")), "warden") == 0);
    CHECK(strcmp(json_string_value(json_object_get(li, "version")), "3.11.2") == 0);
    CHECK(json_integer_value(json_object_get(json_object_get(li, "codemirror_mode"), "version")) ==
          3);
    CHECK(strcmp(json_string_value(json_object_get(info, "banner")), "banner words") == 0);
    CHECK(json_is_array(json_object_get(info, "supported_features")));
    json_decref(info);
    l.codemirror_version = 0;
    info = content_kernel_info_reply(&l);
    CHECK(
        json_is_string(json_object_get(json_object_get(info, "language_info"), "codemirror_mode")));
    json_decref(info);
}

int main(void)
{
    test_outputs();
    test_errors();
    test_replies();
    return check_summary("content");
}
