/* What a model server answers, read as the agent reads it: a stream through the SSE parser into
 * a provider's event reader (agent/provider_openai.c, agent/provider_anthropic.c), or a whole
 * body; the error body's message; the retry headers and quota check (agent/retry.c); and the
 * reply's text through agent/extract.c, which takes the code out of it.
 *
 * Input: one byte (bit 0: Anthropic, else OpenAI; bit 1: a whole body, else a stream), then the
 * answer's bytes.
 *
 * Invariants: a failed answer says why; a whole body taken gives the text the API's documents say
 * it holds; the reply's length is its text's; a finish reason fits;
 * a retry wait that is honoured is within 0 < ms <= 60 s; the extraction always succeeds and
 * takes nothing that was not in the reply. */
#include <string.h>
#include <time.h>

#include "agent/extract.h"
#include "agent/provider.h"
#include "agent/retry.h"
#include "agent/sse.h"
#include "fuzz.h"

#define FLAG_ANTHROPIC 1
#define FLAG_BODY      2

struct call {
    const struct provider *p;
    struct provider_state st;
};

/* As agent/model.c's on_event: the stream stops at the terminator or at a failure. */
static bool on_event(void *ctx, const char *event, const char *data, size_t len)
{
    struct call *c = ctx;
    c->p->event(&c->st, event, data, len);
    return !c->st.failed && !c->st.done;
}

static void check_reply(const struct model_reply *reply)
{
    /* jansson refuses \u0000 without JSON_ALLOW_NUL: the text is a C string of its length */
    FUZZ_ASSERT(reply->len == 0 || (reply->text && strlen(reply->text) == reply->len));
    FUZZ_ASSERT(strlen(reply->finish) < sizeof reply->finish);
    struct extraction x;
    FUZZ_ASSERT(extract_reply(reply->text, reply->len, &x));
    FUZZ_ASSERT(x.prose);
    size_t taken = strlen(x.prose) + (x.code ? strlen(x.code) : 0);
    FUZZ_ASSERT(x.code || x.blocks == 0);
    FUZZ_ASSERT(taken <= reply->len + 1);
    extraction_clear(&x);
}

static void check_headers(const char *text)
{
    /* retry-after-ms, then Retry-After: the text split at its first newline. */
    char *copy = strdup(text);
    FUZZ_ASSERT(copy);
    char *nl = strchr(copy, '\n');
    const char *second = "";
    if (nl) {
        *nl = '\0';
        second = nl + 1;
    }
    uint32_t ms = 0;
    if (retry_after_ms(copy, second, (time_t)1767225600, &ms))
        FUZZ_ASSERT(ms > 0 && ms <= RETRY_MAX_HONOURED_MS);
    if (retry_after_ms(NULL, copy, (time_t)1767225600, &ms))
        FUZZ_ASSERT(ms > 0 && ms <= RETRY_MAX_HONOURED_MS);
    free(copy);
    (void)retry_is_quota_error(text);
}

/* What a whole body that was taken holds, read here as the APIs define it: OpenAI's
 * choices[0].message.content, Anthropic's text blocks joined. */
static char *expected_text(bool anthropic, const char *body, size_t len)
{
    json_t *v = json_loadb(body, len, 0, NULL);
    FUZZ_ASSERT(json_is_object(v)); /* the provider took it */
    size_t n = 0;
    char *text = calloc(1, len + 1);
    FUZZ_ASSERT(text);
    if (!anthropic) {
        const json_t *choice = json_array_get(json_object_get(v, "choices"), 0);
        const json_t *content = json_object_get(json_object_get(choice, "message"), "content");
        if (json_is_string(content))
            memcpy(text, json_string_value(content), n = json_string_length(content));
    } else {
        size_t i;
        json_t *block;
        json_array_foreach(json_object_get(v, "content"), i, block) {
            const char *type = json_string_value(json_object_get(block, "type"));
            const json_t *t = json_object_get(block, "text");
            if (type && strcmp(type, "text") == 0 && json_is_string(t)) {
                memcpy(text + n, json_string_value(t), json_string_length(t));
                n += json_string_length(t);
            }
        }
    }
    json_decref(v);
    return text;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *answer = (const char *)data + 1;
    size_t len = size - 1;
    struct model_reply reply = {.input_tokens = -1, .output_tokens = -1};
    struct call c = {
        .p = provider_for(data[0] & FLAG_ANTHROPIC ? PROVIDER_ANTHROPIC : PROVIDER_OPENAI),
        .st = {.reply = &reply}};
    FUZZ_ASSERT(c.p);
    if (data[0] & FLAG_BODY) {
        c.p->body(&c.st, answer, len);
        if (!c.st.failed) {
            char *want = expected_text(data[0] & FLAG_ANTHROPIC, answer, len);
            FUZZ_ASSERT(c.st.done && strcmp(want, reply.text ? reply.text : "") == 0);
            free(want);
        }
    } else {
        struct sse_parser sse;
        sse_init(&sse, 1u << 20);
        if (sse_feed(&sse, answer, len, on_event, &c) == SSE_TOO_LARGE)
            provider_fail(&c.st, true, "an event larger than 1 MiB");
        sse_free(&sse);
    }
    if (c.st.failed)
        FUZZ_ASSERT(c.st.error[0] != '\0');
    if (c.st.malformed)
        FUZZ_ASSERT(c.st.failed);
    check_reply(&reply);
    model_reply_clear(&reply);

    char *text = fuzz_cstring(data + 1, len);
    char message[512];
    provider_openai.error_message(text, message, sizeof message);
    FUZZ_ASSERT(strlen(message) < sizeof message);
    provider_anthropic.error_message(text, message, sizeof message);
    FUZZ_ASSERT(strlen(message) < sizeof message);
    check_headers(text);
    free(text);
    return 0;
}
