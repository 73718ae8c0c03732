/* Worker frames -> typed values, for the answers to queries: the editor's (completion,
 * inspection, completeness) and the agent's (a syntax check, a description of the namespace).
 * Untrusted like every frame (translate.h): checked field by field, bounded, never a crash. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/utf8.h"
#include "translate.h"

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
