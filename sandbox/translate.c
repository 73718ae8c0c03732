#include "translate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

static const char *frame_type(const json_t *frame)
{
    const char *t = json_string_value(json_object_get(frame, "t"));
    return t ? t : "?";
}

#define DROP(frame, why) log_debug("dropped worker frame \"%s\": %s", frame_type(frame), why)

bool translate_id_is(const json_t *frame, long long id)
{
    json_t *v = json_object_get(frame, "id");
    return json_is_integer(v) && json_integer_value(v) == id;
}

size_t translate_codepoints(const char *s)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if ((*p & 0xC0) != 0x80)
            n++;
    return n;
}

/* Largest length <= max that does not cut a UTF-8 sequence of s (valid UTF-8). */
size_t translate_utf8_cut(const char *s, size_t len, size_t max)
{
    if (len <= max)
        return len;
    size_t cut = max;
    while (cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80)
        cut--;
    return cut;
}

json_t *translate_bounded_string(const json_t *s, size_t max)
{
    if (!json_is_string(s))
        return NULL;
    const char *v = json_string_value(s);
    size_t len = json_string_length(s);
    if (len <= max)
        return json_stringn(v, len);
    static const char ellipsis[] = "\xe2\x80\xa6"; /* … */
    size_t cut = translate_utf8_cut(v, len, max > 3 ? max - 3 : 0);
    char *buf = malloc(cut + sizeof ellipsis);
    if (!buf)
        return NULL;
    memcpy(buf, v, cut);
    memcpy(buf + cut, ellipsis, sizeof ellipsis);
    json_t *out = json_stringn(buf, cut + sizeof ellipsis - 1);
    free(buf);
    return out;
}

static bool mime_char(char c, bool first)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return !first && strchr("!#$&^_.+-", c) != NULL;
}

bool translate_mime_ok(const char *mime)
{
    size_t len = strlen(mime);
    if (len < 3 || len > TR_MAX_MIME_LEN)
        return false;
    const char *slash = strchr(mime, '/');
    if (!slash || slash == mime || strchr(slash + 1, '/'))
        return false;
    for (const char *p = mime; p < slash; p++)
        if (!mime_char(*p, p == mime))
            return false;
    if (!slash[1])
        return false;
    for (const char *p = slash + 1; *p; p++)
        if (!mime_char(*p, p == slash + 1))
            return false;
    return true;
}

/* application/json, text/json, and any +json structured type may carry JSON values. */
static bool mime_is_json(const char *mime)
{
    size_t len = strlen(mime);
    const char *slash = strchr(mime, '/');
    if (!slash)
        return false;
    if (strcmp(slash + 1, "json") == 0)
        return true;
    return len > 5 && strcmp(mime + len - 5, "+json") == 0;
}

json_t *translate_mime_bundle(const json_t *data, bool need_text_plain)
{
    if (!json_is_object(data))
        return NULL;
    json_t *out = json_object();
    const char *mime;
    json_t *value;
    size_t kept = 0;
    const char *first_mime = NULL;
    json_object_foreach((json_t *)data, mime, value) {
        if (kept >= TR_MAX_MIME_ENTRIES) {
            log_debug("mime bundle: more than %d entries, rest dropped", TR_MAX_MIME_ENTRIES);
            break;
        }
        if (!translate_mime_ok(mime)) {
            log_debug("mime bundle: invalid mime key dropped");
            continue;
        }
        if (json_is_string(value) ||
            (mime_is_json(mime) && (json_is_object(value) || json_is_array(value)))) {
            json_object_set(out, mime, value);
            kept++;
            if (!first_mime)
                first_mime = mime;
        } else {
            log_debug("mime bundle: %s value of the wrong type dropped", mime);
        }
    }
    if (need_text_plain && !json_object_get(out, "text/plain")) {
        char fallback[TR_MAX_MIME_LEN + 32];
        if (first_mime)
            snprintf(fallback, sizeof fallback, "<%s output>", first_mime);
        else
            snprintf(fallback, sizeof fallback, "<empty output>");
        json_object_set_new(out, "text/plain", json_string(fallback));
    }
    return out;
}

static json_t *metadata_of(const json_t *frame)
{
    json_t *md = json_object_get(frame, "metadata");
    if (json_is_object(md))
        return json_deep_copy(md);
    return json_object();
}

static bool translate_stream(const json_t *frame, json_t **content)
{
    const char *name = json_string_value(json_object_get(frame, "name"));
    json_t *text = json_object_get(frame, "text");
    if (!name || (strcmp(name, "stdout") != 0 && strcmp(name, "stderr") != 0)) {
        DROP(frame, "stream name must be stdout or stderr");
        return false;
    }
    if (!json_is_string(text)) {
        DROP(frame, "stream text must be a string");
        return false;
    }
    *content = json_pack("{s:s, s:O}", "name", name, "text", text);
    return *content != NULL;
}

static bool translate_display(const json_t *frame, const char **msg_type, json_t **content)
{
    json_t *update = json_object_get(frame, "update");
    if (update && !json_is_boolean(update)) {
        DROP(frame, "update must be a boolean");
        return false;
    }
    bool is_update = json_is_true(update);
    json_t *md = json_object_get(frame, "metadata");
    if (md && !json_is_object(md)) {
        DROP(frame, "metadata must be an object");
        return false;
    }
    json_t *transient_in = json_object_get(frame, "transient");
    if (transient_in && !json_is_object(transient_in) && !json_is_null(transient_in)) {
        DROP(frame, "transient must be an object");
        return false;
    }
    json_t *transient = json_object();
    json_t *display_id = json_object_get(transient_in, "display_id");
    if (display_id && !json_is_null(display_id)) {
        if (!json_is_string(display_id) || json_string_length(display_id) == 0 ||
            json_string_length(display_id) > TR_MAX_DISPLAY_ID) {
            DROP(frame, "display_id must be a non-empty string of at most 256 bytes");
            json_decref(transient);
            return false;
        }
        json_object_set(transient, "display_id", display_id);
    } else if (is_update) {
        DROP(frame, "update without transient.display_id");
        json_decref(transient);
        return false;
    }
    json_t *data = translate_mime_bundle(json_object_get(frame, "data"), true);
    if (!data) {
        DROP(frame, "data must be an object");
        json_decref(transient);
        return false;
    }
    *msg_type = is_update ? "update_display_data" : "display_data";
    *content = json_pack("{s:o, s:o, s:o}", "data", data, "metadata", metadata_of(frame),
                         "transient", transient);
    return *content != NULL;
}

static bool translate_clear(const json_t *frame, json_t **content)
{
    json_t *wait = json_object_get(frame, "wait");
    if (wait && !json_is_boolean(wait)) {
        DROP(frame, "wait must be a boolean");
        return false;
    }
    *content = json_pack("{s:b}", "wait", json_is_true(wait));
    return *content != NULL;
}

static bool translate_result(const json_t *frame, int execution_count, json_t **content)
{
    json_t *md = json_object_get(frame, "metadata");
    if (md && !json_is_object(md)) {
        DROP(frame, "metadata must be an object");
        return false;
    }
    json_t *data = translate_mime_bundle(json_object_get(frame, "data"), true);
    if (!data) {
        DROP(frame, "data must be an object");
        return false;
    }
    *content = json_pack("{s:o, s:o, s:i}", "data", data, "metadata", metadata_of(frame),
                         "execution_count", execution_count);
    return *content != NULL;
}

static bool translate_error(const json_t *frame, json_t **content)
{
    json_t *ename = json_object_get(frame, "ename"), *evalue = json_object_get(frame, "evalue");
    json_t *tb = json_object_get(frame, "traceback");
    if (!json_is_string(ename) || !json_is_string(evalue)) {
        DROP(frame, "ename and evalue must be strings");
        return false;
    }
    if (tb && !json_is_array(tb)) {
        DROP(frame, "traceback must be an array of strings");
        return false;
    }
    json_t *lines = json_array();
    size_t i, total = json_array_size(tb);
    json_t *line;
    json_array_foreach(tb, i, line) {
        if (json_array_size(lines) >= TR_MAX_TB_LINES) {
            char note[96];
            snprintf(note, sizeof note, "[traceback truncated: %zu more lines]", total - i);
            json_array_append_new(lines, json_string(note));
            break;
        }
        if (!json_is_string(line)) {
            log_debug("error frame: non-string traceback entry dropped");
            continue;
        }
        json_array_append_new(lines, translate_bounded_string(line, TR_MAX_TB_LINE));
    }
    *content = json_pack("{s:o, s:o, s:o}", "ename", translate_bounded_string(ename, TR_MAX_ENAME),
                         "evalue", translate_bounded_string(evalue, TR_MAX_EVALUE), "traceback",
                         lines);
    return *content != NULL;
}

bool translate_output(const json_t *frame, long long id, int execution_count,
                      const char **msg_type, json_t **content)
{
    *content = NULL;
    *msg_type = NULL;
    const char *t = frame_type(frame);
    if (!translate_id_is(frame, id)) {
        log_debug("dropped worker frame \"%s\": not for the execute in progress (%lld)", t, id);
        return false;
    }
    if (strcmp(t, "stream") == 0) {
        *msg_type = "stream";
        return translate_stream(frame, content);
    }
    if (strcmp(t, "display") == 0)
        return translate_display(frame, msg_type, content);
    if (strcmp(t, "clear") == 0) {
        *msg_type = "clear_output";
        return translate_clear(frame, content);
    }
    if (strcmp(t, "result") == 0) {
        *msg_type = "execute_result";
        return translate_result(frame, execution_count, content);
    }
    if (strcmp(t, "error") == 0) {
        *msg_type = "error";
        return translate_error(frame, content);
    }
    log_debug("dropped worker frame \"%s\": unknown type", t);
    return false;
}

bool translate_input_request(const json_t *frame, long long id, long long *input_id,
                             char **prompt, bool *password)
{
    json_t *iid = json_object_get(frame, "input_id");
    json_t *p = json_object_get(frame, "prompt");
    json_t *pw = json_object_get(frame, "password");
    if (!translate_id_is(frame, id) || !json_is_integer(iid) || (p && !json_is_string(p)) ||
        (pw && !json_is_boolean(pw))) {
        log_debug("dropped invalid input_request");
        return false;
    }
    json_t *bounded = p ? translate_bounded_string(p, TR_MAX_PROMPT) : json_string("");
    *prompt = strdup(bounded ? json_string_value(bounded) : "");
    json_decref(bounded);
    *input_id = json_integer_value(iid);
    *password = json_is_true(pw);
    return *prompt != NULL;
}

json_t *translate_page(const json_t *frame, long long id)
{
    if (!translate_id_is(frame, id))
        return NULL;
    json_t *data = translate_mime_bundle(json_object_get(frame, "data"), true);
    if (!data)
        return NULL;
    return json_pack("{s:s, s:o, s:i}", "source", "page", "data", data, "start", 0);
}

bool translate_done(const json_t *frame, long long id, bool *ok)
{
    if (!translate_id_is(frame, id))
        return false;
    const char *status = json_string_value(json_object_get(frame, "status"));
    *ok = status && strcmp(status, "ok") == 0;
    return true;
}

static json_int_t clamp_pos(const json_t *v, json_int_t fallback, json_int_t max)
{
    json_int_t pos = json_is_integer(v) ? json_integer_value(v) : fallback;
    if (pos < 0)
        pos = 0;
    if (pos > max)
        pos = max;
    return pos;
}

json_t *translate_complete_reply(const json_t *frame, const char *code, int cursor_pos)
{
    json_int_t length = (json_int_t)translate_codepoints(code ? code : "");
    json_int_t cursor = cursor_pos < 0 ? 0 : cursor_pos > length ? length : cursor_pos;
    json_t *matches = json_array();
    json_int_t start = cursor, end = cursor;
    json_t *metadata = json_object();
    json_t *in = json_object_get(frame, "matches");
    if (frame && json_is_array(in)) {
        size_t i;
        json_t *m;
        json_array_foreach(in, i, m) {
            if (json_array_size(matches) >= TR_MAX_MATCHES)
                break;
            if (json_is_string(m) && json_string_length(m) > 0 &&
                json_string_length(m) <= TR_MAX_MATCH_LEN &&
                strlen(json_string_value(m)) == json_string_length(m))
                json_array_append(matches, m);
        }
        end = clamp_pos(json_object_get(frame, "cursor_end"), cursor, length);
        start = clamp_pos(json_object_get(frame, "cursor_start"), cursor, length);
        if (start > end)
            start = end;
        json_t *md = json_object_get(frame, "metadata");
        if (json_is_object(md)) {
            json_decref(metadata);
            metadata = json_deep_copy(md);
        }
    } else if (frame) {
        log_debug("complete_reply without a matches array: empty reply");
    }
    return json_pack("{s:s, s:o, s:I, s:I, s:o}", "status", "ok", "matches", matches,
                     "cursor_start", start, "cursor_end", end, "metadata", metadata);
}

json_t *translate_inspect_reply(const json_t *frame)
{
    json_t *found = json_object_get(frame, "found");
    json_t *data = frame ? translate_mime_bundle(json_object_get(frame, "data"), false) : NULL;
    bool is_found = json_is_true(found) && data && json_object_size(data) > 0;
    if (!is_found) {
        json_decref(data);
        data = json_object();
    }
    json_t *md = json_object_get(frame, "metadata");
    return json_pack("{s:s, s:b, s:o, s:o}", "status", "ok", "found", is_found, "data", data,
                     "metadata", json_is_object(md) ? json_deep_copy(md) : json_object());
}

json_t *translate_is_complete_reply(const json_t *frame)
{
    static const char *const statuses[] = {"complete", "incomplete", "invalid", "unknown"};
    const char *status = json_string_value(json_object_get(frame, "status"));
    const char *chosen = "unknown";
    for (size_t i = 0; status && i < 4; i++)
        if (strcmp(status, statuses[i]) == 0)
            chosen = statuses[i];
    if (strcmp(chosen, "incomplete") != 0)
        return json_pack("{s:s}", "status", chosen);
    /* indent: whitespace only, bounded. */
    const char *indent = json_string_value(json_object_get(frame, "indent"));
    char buf[81] = "";
    if (indent && strlen(indent) < sizeof buf && strspn(indent, " \t") == strlen(indent))
        snprintf(buf, sizeof buf, "%s", indent);
    return json_pack("{s:s, s:s}", "status", "incomplete", "indent", buf);
}

static size_t bundle_bytes(const json_t *data)
{
    size_t n = 0;
    const char *mime;
    json_t *value;
    json_object_foreach((json_t *)data, mime, value) {
        if (json_is_string(value))
            n += json_string_length(value);
        else
            n += json_dumpb(value, NULL, 0, JSON_COMPACT);
    }
    return n;
}

size_t translate_content_bytes(const char *msg_type, const json_t *content)
{
    if (strcmp(msg_type, "stream") == 0)
        return json_string_length(json_object_get(content, "text"));
    if (strcmp(msg_type, "error") == 0) {
        size_t n = json_string_length(json_object_get(content, "ename")) +
                   json_string_length(json_object_get(content, "evalue"));
        size_t i;
        json_t *line;
        json_array_foreach(json_object_get(content, "traceback"), i, line)
            n += json_string_length(line);
        return n;
    }
    json_t *data = json_object_get(content, "data");
    return data ? bundle_bytes(data) : 0;
}
