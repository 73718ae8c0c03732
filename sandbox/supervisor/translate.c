/* Worker frames -> the sandbox's typed values (translate.h): every field of every frame is
 * checked and bounded here, so nothing past this file trusts what the worker sent. */
#include "translate.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/utf8.h"

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
    const char *t = frame_type(frame);
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

static json_int_t clamp_pos(const json_t *v, json_int_t fallback, json_int_t max)
{
    json_int_t pos = json_is_integer(v) ? json_integer_value(v) : fallback;
    if (pos < 0)
        pos = 0;
    if (pos > max)
        pos = max;
    return pos;
}

void translate_completion(const json_t *frame, const char *code, int cursor_pos,
                          struct completion *out)
{
    code = code ? code : "";
    json_int_t length = (json_int_t)utf8_codepoints(code, strlen(code));
    json_int_t cursor = cursor_pos < 0 ? 0 : cursor_pos > length ? length : cursor_pos;
    completion_empty(out, (int)cursor);
    json_t *in = json_object_get(frame, "matches");
    if (!json_is_array(in)) {
        if (frame)
            log_debug("completions without a matches array: no matches");
        return;
    }
    size_t i;
    json_t *m;
    json_array_foreach(in, i, m) {
        if (json_array_size(out->matches) >= TR_MAX_MATCHES)
            break;
        if (json_is_string(m) && json_string_length(m) > 0 &&
            json_string_length(m) <= TR_MAX_MATCH_LEN &&
            strlen(json_string_value(m)) == json_string_length(m))
            json_array_append(out->matches, m);
    }
    json_int_t end = clamp_pos(json_object_get(frame, "cursor_end"), cursor, length);
    json_int_t start = clamp_pos(json_object_get(frame, "cursor_start"), cursor, length);
    out->cursor_end = (int)end;
    out->cursor_start = (int)(start > end ? end : start);
    json_t *md = json_object_get(frame, "metadata");
    if (json_is_object(md)) {
        json_decref(out->metadata);
        out->metadata = json_deep_copy(md);
    }
}

void translate_inspection(const json_t *frame, struct inspection *out)
{
    inspection_empty(out);
    json_t *data = frame ? translate_mime_bundle(json_object_get(frame, "data"), false) : NULL;
    if (json_is_true(json_object_get(frame, "found")) && json_object_size(data) > 0) {
        out->found = true;
        json_decref(out->data);
        out->data = data;
    } else {
        json_decref(data);
    }
    json_t *md = json_object_get(frame, "metadata");
    if (json_is_object(md)) {
        json_decref(out->metadata);
        out->metadata = json_deep_copy(md);
    }
}

void translate_completeness(const json_t *frame, struct completeness *out)
{
    static const struct {
        const char *name;
        enum completeness_status status;
    } statuses[] = {{"complete", COMPLETENESS_COMPLETE},
                    {"incomplete", COMPLETENESS_INCOMPLETE},
                    {"invalid", COMPLETENESS_INVALID},
                    {"unknown", COMPLETENESS_UNKNOWN}};
    *out = (struct completeness){COMPLETENESS_UNKNOWN, ""};
    const char *status = json_string_value(json_object_get(frame, "status"));
    for (size_t i = 0; status && i < sizeof statuses / sizeof *statuses; i++)
        if (strcmp(status, statuses[i].name) == 0)
            out->status = statuses[i].status;
    if (out->status != COMPLETENESS_INCOMPLETE)
        return;
    /* indent: whitespace only, bounded. */
    const char *indent = json_string_value(json_object_get(frame, "indent"));
    if (indent && strlen(indent) < sizeof out->indent && strspn(indent, " \t") == strlen(indent))
        snprintf(out->indent, sizeof out->indent, "%s", indent);
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

/* ---- the agent's queries ---- */

/* Copies string `s` into dst (size bytes): cut at an embedded NUL and at a UTF-8 boundary. */
static void copy_text(char *dst, size_t size, const json_t *s)
{
    const char *v = json_string_value(s);
    size_t len = v ? utf8_cut(v, strlen(v), size - 1) : 0;
    memcpy(dst, v ? v : "", len);
    dst[len] = 0;
}

/* A 1-based position: a positive integer, else 0 (unknown). */
static int position(const json_t *v)
{
    json_int_t n = json_is_integer(v) ? json_integer_value(v) : 0;
    return n > 0 && n <= INT_MAX ? (int)n : 0;
}

void translate_syntax_check(const json_t *frame, struct syntax_check *out)
{
    memset(out, 0, sizeof *out);
    out->status = SYNTAX_UNKNOWN;
    if (!frame)
        return;
    json_t *ok = json_object_get(frame, "ok");
    json_t *ename = json_object_get(frame, "ename"), *evalue = json_object_get(frame, "evalue");
    if (!json_is_boolean(ok)) {
        DROP(frame, "ok must be a boolean");
        return;
    }
    if (json_is_true(ok)) {
        out->status = SYNTAX_OK;
        return;
    }
    /* An error the caller cannot name is no better than no answer: the cell will tell. */
    if (!json_is_string(ename) || !json_string_value(ename)[0] || !json_is_string(evalue)) {
        DROP(frame, "a failed check needs ename and evalue strings");
        return;
    }
    out->status = SYNTAX_ERROR;
    copy_text(out->ename, sizeof out->ename, ename);
    copy_text(out->evalue, sizeof out->evalue, evalue);
    copy_text(out->text, sizeof out->text, json_object_get(frame, "text"));
    out->lineno = position(json_object_get(frame, "lineno"));
    out->offset = position(json_object_get(frame, "offset"));
}

/* A string of 1..max bytes with no NUL and no control character (a type, a file name, a path:
 * one line of text). */
static bool one_line_ok(const json_t *s, size_t max)
{
    const char *v = json_string_value(s);
    size_t len = json_string_length(s);
    if (!v || len == 0 || len > max || strlen(v) != len)
        return false;
    for (const unsigned char *p = (const unsigned char *)v; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return false;
    return true;
}

/* ASCII letters, digits and '_'; bytes >= 0x80 are taken for non-ASCII letters (jansson has
 * checked the UTF-8; Python's own rule, XID_Continue, is more than bytes can tell). */
static bool identifier_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c >= 0x80;
}

/* A Python identifier as far as bytes tell: identifier characters, not starting with a digit. */
static bool identifier_ok(const json_t *s, size_t max)
{
    if (!one_line_ok(s, max))
        return false;
    const unsigned char *v = (const unsigned char *)json_string_value(s);
    if (v[0] >= '0' && v[0] <= '9')
        return false;
    for (const unsigned char *p = v; *p; p++)
        if (!identifier_char(*p))
            return false;
    return true;
}

/* The text of a detail: up to an embedded NUL (what a C reader sees), cut to max bytes. */
static json_t *detail_text(const json_t *s, size_t max)
{
    const char *v = json_string_value(s);
    if (strlen(v) == json_string_length(s))
        return translate_bounded_string(s, max);
    json_t *upto_nul = json_string(v);
    json_t *out = translate_bounded_string(upto_nul, max);
    json_decref(upto_nul);
    return out;
}

/* {name, type, detail}, validated; NULL when invalid. */
static json_t *variable_entry(const json_t *v)
{
    json_t *name = json_object_get(v, "name"), *type = json_object_get(v, "type");
    json_t *detail = json_object_get(v, "detail");
    if (!identifier_ok(name, TR_MAX_VAR_NAME) || !one_line_ok(type, TR_MAX_VAR_TYPE) ||
        !json_is_string(detail))
        return NULL;
    json_t *text = detail_text(detail, TR_MAX_VAR_DETAIL);
    if (!text)
        return NULL;
    return json_pack("{s:O, s:O, s:o}", "name", name, "type", type, "detail", text);
}

/* {name, size, dir}, validated; NULL when invalid. A name is one entry of one directory. */
static json_t *file_entry(const json_t *f)
{
    json_t *name = json_object_get(f, "name"), *size = json_object_get(f, "size");
    json_t *dir = json_object_get(f, "dir");
    if (!one_line_ok(name, TR_MAX_FILE_NAME) || strchr(json_string_value(name), '/') ||
        strcmp(json_string_value(name), ".") == 0 || strcmp(json_string_value(name), "..") == 0)
        return NULL;
    if (!json_is_integer(size) || json_integer_value(size) < 0 || !json_is_boolean(dir))
        return NULL;
    return json_pack("{s:O, s:O, s:O}", "name", name, "size", size, "dir", dir);
}

static json_t *library_entry(const json_t *s)
{
    return identifier_ok(s, TR_MAX_LIBRARY_NAME) ? json_incref((json_t *)s) : NULL;
}

/* Appends the valid entries of array `in` to `out`, up to max; returns how many were left out. */
static int keep_entries(const json_t *frame, const char *field, json_t *(*entry)(const json_t *),
                        size_t max, json_t *out)
{
    json_t *in = json_object_get(frame, field);
    if (in && !json_is_array(in))
        log_debug("described: %s is not an array: none kept", field);
    size_t i, left_out = 0;
    json_t *v;
    json_array_foreach(in, i, v) {
        json_t *kept = json_array_size(out) < max ? entry(v) : NULL;
        if (kept)
            json_array_append_new(out, kept);
        else
            left_out++;
    }
    if (left_out)
        log_debug("described: %zu %s left out (invalid or past %zu)", left_out, field, max);
    return left_out > TR_MAX_COUNT ? TR_MAX_COUNT : (int)left_out;
}

/* A non-negative count, clamped; 0 when missing or invalid. */
static int count(const json_t *v)
{
    json_int_t n = json_is_integer(v) ? json_integer_value(v) : 0;
    return n < 0 ? 0 : n > TR_MAX_COUNT ? TR_MAX_COUNT : (int)n;
}

static int add_counts(int a, int b) { return a > TR_MAX_COUNT - b ? TR_MAX_COUNT : a + b; }

void translate_context(const json_t *frame, struct sandbox_context *out)
{
    memset(out, 0, sizeof *out);
    out->variables = json_array();
    out->libraries = json_array();
    out->files = json_array();
    if (!frame)
        return;
    int dropped =
        keep_entries(frame, "variables", variable_entry, TR_MAX_VARIABLES, out->variables);
    out->omitted = add_counts(count(json_object_get(frame, "omitted")), dropped);
    keep_entries(frame, "libraries", library_entry, TR_MAX_LIBRARIES, out->libraries);
    dropped = keep_entries(frame, "files", file_entry, TR_MAX_FILES, out->files);
    out->files_omitted = add_counts(count(json_object_get(frame, "files_omitted")), dropped);
    json_t *cwd = json_object_get(frame, "cwd");
    if (one_line_ok(cwd, sizeof out->cwd - 1) && json_string_value(cwd)[0] == '/')
        memcpy(out->cwd, json_string_value(cwd), json_string_length(cwd) + 1);
}
