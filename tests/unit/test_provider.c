/* The providers (provider.h): the requests they build (what is sent and what is not), and what
 * they read from the events of real streams, whole bodies and error bodies. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "agent/provider.h"
#include "check.h"

static struct model_settings settings(enum provider_kind kind, const char *key)
{
    struct model_settings s = {.provider = kind, .temperature = NAN};
    snprintf(s.base_url, sizeof s.base_url, "http://h:1/v1");
    snprintf(s.model, sizeof s.model, "m");
    snprintf(s.key, sizeof s.key, "%s", key);
    return s;
}

static bool has_header(const struct provider_request *r, const char *prefix)
{
    for (int i = 0; i < r->n_headers; i++)
        if (strncmp(r->headers[i], prefix, strlen(prefix)) == 0)
            return true;
    return false;
}

static void test_requests(void)
{
    struct conversation c = {.system = strdup("be brief")};
    conversation_add(&c, false, "first");
    conversation_add(&c, false, "joined"); /* same role: one turn */
    conversation_add(&c, true, "answer");
    conversation_add(&c, false, "again");
    CHECK(c.n == 3 && strcmp(c.turns[0].text, "first\n\njoined") == 0);

    struct model_settings s = settings(PROVIDER_OPENAI, "");
    struct provider_request r = {0};
    CHECK(provider_openai.build(&s, &c, true, &r));
    CHECK(strcmp(r.url, "http://h:1/v1/chat/completions") == 0);
    CHECK(!has_header(&r, "Authorization")); /* a keyless local server */
    json_t *body = J(r.body);
    CHECK(json_is_true(json_object_get(body, "stream")));
    CHECK(json_is_true(json_object_get(json_object_get(body, "stream_options"), "include_usage")));
    CHECK(!json_object_get(body, "max_tokens") && !json_object_get(body, "temperature"));
    CHECK(json_array_size(json_object_get(body, "messages")) == 4); /* system + 3 */
    json_decref(body);
    provider_request_clear(&r);
    s = settings(PROVIDER_OPENAI, "sk-x");
    s.max_tokens = 100;
    s.temperature = 0.2;
    CHECK(provider_openai.build(&s, &c, true, &r) && has_header(&r, "Authorization: Bearer sk-x"));
    body = J(r.body);
    CHECK(json_integer_value(json_object_get(body, "max_tokens")) == 100);
    CHECK(json_is_real(json_object_get(body, "temperature")));
    json_decref(body);
    provider_request_clear(&r);

    s = settings(PROVIDER_ANTHROPIC, "sk-ant");
    CHECK(provider_anthropic.build(&s, &c, true, &r));
    CHECK(strcmp(r.url, "http://h:1/v1/v1/messages") == 0); /* {base}/v1/messages */
    CHECK(has_header(&r, "x-api-key: sk-ant") && has_header(&r, "anthropic-version: 2023-06-01"));
    body = J(r.body);
    CHECK(json_integer_value(json_object_get(body, "max_tokens")) == 4096);
    CHECK(strcmp(json_string_value(json_object_get(body, "system")), "be brief") == 0);
    CHECK(!json_object_get(body, "temperature"));
    json_t *first = json_array_get(json_object_get(body, "messages"), 0);
    CHECK(strcmp(json_string_value(json_object_get(first, "role")), "user") == 0);
    json_decref(body);
    provider_request_clear(&r);
    conversation_clear(&c);
}

struct read {
    struct model_reply reply;
    struct provider_state st;
};

static void start(struct read *x)
{
    memset(x, 0, sizeof *x);
    x->reply = (struct model_reply){.input_tokens = -1, .output_tokens = -1};
    x->st.reply = &x->reply;
}

static void feed(const struct provider *p, struct read *x, const char *event, const char *data)
{
    p->event(&x->st, event, data, strlen(data));
}

static void test_openai_stream(void)
{
    struct read x;
    start(&x);
    static const char *const chunks[] = {
        "{\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":"
        "{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}",
        "{\"choices\":[{\"index\":0,\"delta\":{\"reasoning_content\":\"hmm\"}}]}",
        "{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"print\"}}]}",
        "{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"(1)\"}}]}",
        "{\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}",
        "{\"choices\":[],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":3}}",
        "[DONE]"};
    for (size_t i = 0; i < sizeof chunks / sizeof *chunks; i++)
        feed(&provider_openai, &x, "", chunks[i]);
    CHECK(x.st.done && !x.st.failed && strcmp(x.reply.text, "print(1)") == 0);
    CHECK(x.reply.reasoning_bytes == 3 && strcmp(x.reply.finish, "stop") == 0);
    CHECK(x.reply.input_tokens == 12 && x.reply.output_tokens == 3);
    model_reply_clear(&x.reply);

    start(&x); /* an error after a 200 (OpenRouter) */
    feed(&provider_openai, &x, "",
         "{\"error\":{\"message\":\"upstream overloaded\",\"code\":502}}");
    CHECK(x.st.failed && !x.st.malformed && strstr(x.st.error, "upstream overloaded"));
    model_reply_clear(&x.reply);
    start(&x); /* vLLM's top-level error */
    feed(&provider_openai, &x, "", "{\"object\":\"error\",\"message\":\"bad model\"}");
    CHECK(x.st.failed && strstr(x.st.error, "bad model"));
    model_reply_clear(&x.reply);
    start(&x);
    feed(&provider_openai, &x, "", "{not json");
    CHECK(x.st.failed && x.st.malformed);
    model_reply_clear(&x.reply);
    start(&x);
    feed(&provider_openai, &x, "", "{\"choices\":[{\"delta\":{\"content\":5}}]}");
    CHECK(x.st.failed && x.st.malformed);
    model_reply_clear(&x.reply);

    start(&x); /* a whole body */
    const char *body = "{\"choices\":[{\"message\":{\"role\":\"assistant\",\"content\":\"hi\"},"
                       "\"finish_reason\":\"length\"}],\"usage\":{\"prompt_tokens\":1,"
                       "\"completion_tokens\":2}}";
    provider_openai.body(&x.st, body, strlen(body));
    CHECK(x.st.done && strcmp(x.reply.text, "hi") == 0 && strcmp(x.reply.finish, "length") == 0);
    model_reply_clear(&x.reply);
    char msg[200];
    provider_openai.error_message("{\"error\":{\"message\":\"Incorrect API key\",\"type\":\"x\"}}",
                                  msg, sizeof msg);
    CHECK(strcmp(msg, "Incorrect API key") == 0);
    provider_openai.error_message("<html>", msg, sizeof msg);
    CHECK(msg[0] == '\0');
}

static void test_anthropic_stream(void)
{
    struct read x;
    start(&x);
    static const char *const events[][2] = {
        {"message_start", "{\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":25,"
                          "\"output_tokens\":1}}}"},
        {"content_block_start", "{\"type\":\"content_block_start\",\"index\":0,"
                                "\"content_block\":{\"type\":\"thinking\",\"thinking\":\"\"}}"},
        {"content_block_delta", "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":"
                                "{\"type\":\"thinking_delta\",\"thinking\":\"plan\"}}"},
        {"ping", "{\"type\":\"ping\"}"},
        {"content_block_delta", "{\"type\":\"content_block_delta\",\"index\":1,\"delta\":"
                                "{\"type\":\"text_delta\",\"text\":\"x = \"}}"},
        {"content_block_delta", "{\"type\":\"content_block_delta\",\"index\":1,\"delta\":"
                                "{\"type\":\"text_delta\",\"text\":\"1\"}}"},
        {"content_block_stop", "{\"type\":\"content_block_stop\",\"index\":1}"},
        {"message_delta", "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},"
                          "\"usage\":{\"output_tokens\":9}}"},
        {"message_stop", "{\"type\":\"message_stop\"}"}};
    for (size_t i = 0; i < sizeof events / sizeof *events; i++)
        feed(&provider_anthropic, &x, events[i][0], events[i][1]);
    CHECK(x.st.done && !x.st.failed && strcmp(x.reply.text, "x = 1") == 0);
    CHECK(x.reply.reasoning_bytes == 4 && strcmp(x.reply.finish, "end_turn") == 0);
    CHECK(x.reply.input_tokens == 25 && x.reply.output_tokens == 9);
    model_reply_clear(&x.reply);
    start(&x);
    feed(&provider_anthropic, &x, "error",
         "{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}"
         "}");
    CHECK(x.st.failed && strstr(x.st.error, "Overloaded") &&
          strstr(x.st.error, "overloaded_error"));
    model_reply_clear(&x.reply);
    start(&x); /* unnamed events: the data's type names them */
    feed(&provider_anthropic, &x, "", "{\"type\":\"message_stop\"}");
    CHECK(x.st.done);
    model_reply_clear(&x.reply);
    char msg[200];
    provider_anthropic.error_message(
        "{\"type\":\"error\",\"error\":{\"type\":\"not_found_error\",\"message\":\"model: x\"}}",
        msg, sizeof msg);
    CHECK(strcmp(msg, "model: x") == 0);
}

/* Found by tests/fuzz/fuzz_model.c: an error whose message is empty made an error in no words
 * ("the model server reported an error in its answer: " and nothing after). */
static void test_errors_with_empty_messages(void)
{
    static const char *const openai[] = {"{\"error\":\"\"}", "{\"error\":{\"message\":\"\"}}",
                                         "{\"object\":\"error\",\"message\":\"\"}"};
    struct read x;
    for (size_t i = 0; i < sizeof openai / sizeof *openai; i++) {
        start(&x);
        provider_openai.body(&x.st, openai[i], strlen(openai[i]));
        CHECK(x.st.failed && strcmp(x.st.error, "an error without a message") == 0);
        model_reply_clear(&x.reply);
        start(&x);
        feed(&provider_openai, &x, "", openai[i]);
        CHECK(x.st.failed && strcmp(x.st.error, "an error without a message") == 0);
        model_reply_clear(&x.reply);
    }
    static const char *const anthropic[] = {
        "{\"type\":\"error\",\"error\":{\"type\":\"\",\"message\":\"\"}}",
        "{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"\"}}"};
    static const char *const anthropic_said[] = {"an error without a message",
                                                 "an error without a message (overloaded_error)"};
    for (size_t i = 0; i < sizeof anthropic / sizeof *anthropic; i++) {
        start(&x);
        provider_anthropic.body(&x.st, anthropic[i], strlen(anthropic[i]));
        CHECK(x.st.failed && strcmp(x.st.error, anthropic_said[i]) == 0);
        model_reply_clear(&x.reply);
        start(&x);
        feed(&provider_anthropic, &x, "error", anthropic[i]);
        CHECK(x.st.failed && strcmp(x.st.error, anthropic_said[i]) == 0);
        model_reply_clear(&x.reply);
    }
}

int main(void)
{
    test_requests();
    test_openai_stream();
    test_anthropic_stream();
    test_errors_with_empty_messages();
    return check_summary("provider");
}
