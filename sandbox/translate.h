/* Worker frames -> Jupyter content. Every frame is untrusted: each field is type-checked and
 * bounded; anything invalid is dropped (debug log), never trusted and never a crash. */
#ifndef WARDEN_TRANSLATE_H
#define WARDEN_TRANSLATE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define TR_MAX_MIME_LEN 255           /* a mime key, bytes */
#define TR_MAX_MIME_ENTRIES 64        /* entries in one mime bundle */
#define TR_MAX_ENAME 256              /* bytes, longer is truncated */
#define TR_MAX_EVALUE (64u * 1024u)   /* bytes, longer is truncated */
#define TR_MAX_TB_LINES 1000          /* traceback entries kept */
#define TR_MAX_TB_LINE (64u * 1024u)  /* bytes per traceback entry, longer is truncated */
#define TR_MAX_DISPLAY_ID 256         /* bytes; longer is invalid */
#define TR_MAX_PROMPT (4u * 1024u)    /* input prompt, longer is truncated */
#define TR_MAX_MATCHES 5000           /* completion matches kept */
#define TR_MAX_MATCH_LEN 1024         /* bytes per match; longer ones are dropped */
#define TR_MAX_PYTHON_VERSION 128     /* ready's python field, truncated */

/* Turns a stream/display/clear/result/error frame for execute `id` into (msg_type, content).
 * Returns true with *content owned by the caller, false when the frame is dropped (wrong id,
 * invalid field, unknown type). `execution_count` fills execute_result. */
bool translate_output(const json_t *frame, long long id, int execution_count,
                      const char **msg_type, json_t **content);

/* True when frame["id"] is the integer `id`. */
bool translate_id_is(const json_t *frame, long long id);

/* A validated copy of a mime bundle (mime -> string, or JSON for *json types), with invalid entries
 * dropped. With `need_text_plain`, adds a text/plain fallback when missing. NULL when `data` is not
 * an object. */
json_t *translate_mime_bundle(const json_t *data, bool need_text_plain);

/* True when `mime` looks like type/subtype (RFC 6838 characters, bounded length). */
bool translate_mime_ok(const char *mime);

/* Copy of a string truncated to at most max bytes at a UTF-8 boundary (jansson strings are valid
 * UTF-8, NULs allowed). */
json_t *translate_bounded_string(const json_t *s, size_t max);

/* input_request for execute `id`: fills input_id, prompt (malloc'd, bounded) and password. */
bool translate_input_request(const json_t *frame, long long id, long long *input_id,
                             char **prompt, bool *password);

/* page for execute `id` (IPython's `name?`): the execute_reply payload
 * {"source":"page","data":{...},"start":0}, or NULL when the frame is invalid. */
json_t *translate_page(const json_t *frame, long long id);

/* done for execute `id`: true with *ok = status == "ok". */
bool translate_done(const json_t *frame, long long id, bool *ok);

/* Reply content for the kernel. `frame` may be NULL (timeout, dead worker): the result is then a
 * valid empty reply. Positions are clamped to the code's length in code points. */
json_t *translate_complete_reply(const json_t *frame, const char *code, int cursor_pos);
json_t *translate_inspect_reply(const json_t *frame);
json_t *translate_is_complete_reply(const json_t *frame);

/* Largest length <= max that does not cut a UTF-8 sequence of s (valid UTF-8). */
size_t translate_utf8_cut(const char *s, size_t len, size_t max);

/* Unicode code points in a UTF-8 string. */
size_t translate_codepoints(const char *s);

/* Bytes of output a translated content carries (text, data values), for the output limit. */
size_t translate_content_bytes(const char *msg_type, const json_t *content);

#endif
