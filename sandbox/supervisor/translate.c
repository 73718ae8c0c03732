/* Worker frames -> the sandbox's typed values (translate.h): every field of every frame is
 * checked and bounded here, so nothing past this file trusts what the worker sent. */
#include "translate.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/utf8.h"

const char *translate_frame_type(const json_t *frame)
{
    const char *t = json_string_value(json_object_get(frame, "t"));
    return t ? t : "?";
}

bool translate_id_is(const json_t *frame, long long id)
{
    json_t *v = json_object_get(frame, "id");
    return json_is_integer(v) && json_integer_value(v) == id;
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
    size_t cut = utf8_cut(v, len, max > 3 ? max - 3 : 0);
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

static bool translate_stream(const json_t *frame, struct worker_output *out)
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
    out->stream = strcmp(name, "stderr") == 0 ? OUTPUT_STDERR : OUTPUT_STDOUT;
    out->text = json_incref(text);
    return true;
}

/* data and metadata of a display or result frame. */
static bool translate_bundle(const json_t *frame, struct worker_output *out)
{
    json_t *md = json_object_get(frame, "metadata");
    if (md && !json_is_object(md)) {
        DROP(frame, "metadata must be an object");
        return false;
    }
    out->data = translate_mime_bundle(json_object_get(frame, "data"), true);
    if (!out->data) {
        DROP(frame, "data must be an object");
        return false;
    }
    out->metadata = md ? json_deep_copy(md) : json_object();
    return out->metadata != NULL;
}

static bool translate_display(const json_t *frame, struct worker_output *out)
{
    json_t *update = json_object_get(frame, "update");
    if (update && !json_is_boolean(update)) {
        DROP(frame, "update must be a boolean");
        return false;
    }
    out->update = json_is_true(update);
    json_t *transient = json_object_get(frame, "transient");
    if (transient && !json_is_object(transient) && !json_is_null(transient)) {
        DROP(frame, "transient must be an object");
        return false;
    }
    json_t *display_id = json_object_get(transient, "display_id");
    if (display_id && !json_is_null(display_id)) {
        size_t len = json_string_length(display_id);
        if (!json_is_string(display_id) || len == 0 || len > TR_MAX_DISPLAY_ID ||
            strlen(json_string_value(display_id)) != len) {
            DROP(frame, "display_id must be a non-empty string of at most 256 bytes");
            return false;
        }
        memcpy(out->display_id, json_string_value(display_id), len + 1);
    } else if (out->update) {
        DROP(frame, "update without transient.display_id");
        return false;
    }
    return translate_bundle(frame, out);
}

static bool translate_clear(const json_t *frame, struct worker_output *out)
{
    json_t *wait = json_object_get(frame, "wait");
    if (wait && !json_is_boolean(wait)) {
        DROP(frame, "wait must be a boolean");
        return false;
    }
    out->wait = json_is_true(wait);
    return true;
}

static json_t *bounded_traceback(const json_t *tb)
{
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
    return lines;
}

static bool translate_error(const json_t *frame, struct worker_output *out)
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
    json_t *name = translate_bounded_string(ename, TR_MAX_ENAME);
    json_t *value = translate_bounded_string(evalue, TR_MAX_EVALUE);
    json_t *lines = bounded_traceback(tb);
    bool ok = name && value && lines;
    /* (An embedded NUL ends the C strings: what a person reads stops there too.) */
    if (ok)
        cell_error_set(&out->error, json_string_value(name), json_string_value(value), lines);
    json_decref(name);
    json_decref(value);
    json_decref(lines);
    return ok;
}

bool translate_output(const json_t *frame, long long id, struct worker_output *out)
{
    memset(out, 0, sizeof *out);
    const char *t = translate_frame_type(frame);
    if (!translate_id_is(frame, id)) {
        log_debug("dropped worker frame \"%s\": not for the execute in progress (%lld)", t, id);
        return false;
    }
    static const struct {
        const char *type;
        enum worker_output_kind kind;
        bool (*translate)(const json_t *frame, struct worker_output *out);
    } kinds[] = {
        {"stream", WOUT_STREAM, translate_stream}, {"display", WOUT_DISPLAY, translate_display},
        {"clear", WOUT_CLEAR, translate_clear},    {"result", WOUT_RESULT, translate_bundle},
        {"error", WOUT_ERROR, translate_error},
    };
    for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++) {
        if (strcmp(t, kinds[i].type) != 0)
            continue;
        out->kind = kinds[i].kind;
        if (kinds[i].translate(frame, out))
            return true;
        worker_output_clear(out);
        return false;
    }
    log_debug("dropped worker frame \"%s\": unknown type", t);
    return false;
}

void worker_output_clear(struct worker_output *out)
{
    json_decref(out->text);
    json_decref(out->data);
    json_decref(out->metadata);
    cell_error_clear(&out->error);
    memset(out, 0, sizeof *out);
}

bool translate_input(const json_t *frame, long long id, long long *input_id, char **prompt,
                     bool *password)
{
    json_t *iid = json_object_get(frame, "input_id");
    json_t *p = json_object_get(frame, "prompt");
    json_t *pw = json_object_get(frame, "password");
    if (!translate_id_is(frame, id) || !json_is_integer(iid) || (p && !json_is_string(p)) ||
        (pw && !json_is_boolean(pw))) {
        log_debug("dropped an invalid input frame");
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
    return translate_mime_bundle(json_object_get(frame, "data"), true);
}

char *translate_next_input(const json_t *frame, long long id, bool *replace)
{
    json_t *text = json_object_get(frame, "text"), *rep = json_object_get(frame, "replace");
    if (!translate_id_is(frame, id) || !json_is_string(text) || (rep && !json_is_boolean(rep)) ||
        json_string_length(text) > TR_MAX_NEXT_INPUT ||
        strlen(json_string_value(text)) != json_string_length(text)) {
        DROP(frame, "next_input needs a text (at most 1 MiB, no NUL) and a boolean replace");
        return NULL;
    }
    *replace = json_is_true(rep);
    return strdup(json_string_value(text));
}

bool translate_exit(const json_t *frame, long long id, bool *keep_kernel)
{
    json_t *keep = json_object_get(frame, "keep_kernel");
    if (!translate_id_is(frame, id) || (keep && !json_is_boolean(keep))) {
        DROP(frame, "exit needs a boolean keep_kernel");
        return false;
    }
    *keep_kernel = json_is_true(keep);
    return true;
}

bool translate_done(const json_t *frame, long long id, bool *ok)
{
    if (!translate_id_is(frame, id))
        return false;
    const char *status = json_string_value(json_object_get(frame, "status"));
    *ok = status && strcmp(status, "ok") == 0;
    return true;
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

size_t worker_output_bytes(const struct worker_output *out)
{
    switch (out->kind) {
    case WOUT_STREAM:
        return json_string_length(out->text);
    case WOUT_ERROR: {
        size_t n = strlen(out->error.ename) + strlen(out->error.evalue);
        size_t i;
        json_t *line;
        json_array_foreach(out->error.traceback, i, line)
            n += json_string_length(line);
        return n;
    }
    case WOUT_DISPLAY:
    case WOUT_RESULT:
        return bundle_bytes(out->data);
    case WOUT_CLEAR:
        break;
    }
    return 0;
}
