/* Worker frames -> the sandbox's typed values (common/output.h, common/outcome.h). Every frame is
 * untrusted: each field is type-checked and bounded; anything invalid is dropped (debug log),
 * never trusted and never a crash. */
#ifndef WARDEN_TRANSLATE_H
#define WARDEN_TRANSLATE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/log.h"
#include "common/outcome.h"
#include "common/output.h"
#include "sandbox/sandbox.h"

#define TR_MAX_MIME_LEN       255           /* a mime key, bytes */
#define TR_MAX_MIME_ENTRIES   64            /* entries in one mime bundle */
#define TR_MAX_ENAME          256           /* bytes, longer is truncated */
#define TR_MAX_EVALUE         (64u * 1024u) /* bytes, longer is truncated */
#define TR_MAX_TB_LINES       1000          /* traceback entries kept */
#define TR_MAX_TB_LINE        (64u * 1024u) /* bytes per traceback entry, longer is truncated */
#define TR_MAX_DISPLAY_ID     256           /* bytes; longer is invalid */
#define TR_MAX_PROMPT         (4u * 1024u)  /* input prompt, longer is truncated */
#define TR_MAX_MATCHES        5000          /* completion matches kept */
#define TR_MAX_MATCH_LEN      1024          /* bytes per match; longer ones are dropped */
#define TR_MAX_PYTHON_VERSION 128           /* ready's python field, truncated */
#define TR_MAX_NEXT_INPUT     (1u << 20) /* next_input text (a %load of a file): longer is invalid */
/* A description of the namespace (`described`): what a model is shown, so small. Entries past a
 * bound, or invalid, are dropped one by one and counted as omitted. */
#define TR_MAX_VARIABLES      2000       /* variables kept */
#define TR_MAX_VAR_NAME       256        /* bytes; longer, or not an identifier, is invalid */
#define TR_MAX_VAR_TYPE       256        /* bytes; longer is invalid */
#define TR_MAX_VAR_DETAIL     4000       /* bytes, longer is truncated */
#define TR_MAX_LIBRARIES      500        /* library names kept */
#define TR_MAX_LIBRARY_NAME   128        /* bytes; longer, or not an identifier, is invalid */
#define TR_MAX_FILES          1000       /* directory entries kept */
#define TR_MAX_FILE_NAME      512        /* bytes; longer is invalid */
#define TR_MAX_COUNT          1000000000 /* omitted counts are clamped to this */

enum worker_output_kind { WOUT_STREAM, WOUT_DISPLAY, WOUT_CLEAR, WOUT_RESULT, WOUT_ERROR };

/* One validated output of a cell: the arguments of one output.h call. Holds references;
 * worker_output_clear releases them. */
struct worker_output {
    enum worker_output_kind kind;
    enum output_stream stream;              /* STREAM */
    json_t *text;                           /* STREAM: a string */
    json_t *data, *metadata;                /* DISPLAY, RESULT: a checked mime bundle, an object */
    char display_id[TR_MAX_DISPLAY_ID + 1]; /* DISPLAY: "" when it has none */
    bool update;                            /* DISPLAY: replaces what display_id shows */
    bool wait;                              /* CLEAR */
    struct cell_error error;                /* ERROR: bounded copies */
};

/* A stream/display/clear/result/error frame for execute `id`. true with *out filled (release
 * with worker_output_clear), false when the frame is dropped (wrong id, invalid field, unknown
 * type). */
bool translate_output(const json_t *frame, long long id, struct worker_output *out);
void worker_output_clear(struct worker_output *out);
/* Bytes of output it carries (text, data values), for the output limit. */
size_t worker_output_bytes(const struct worker_output *out);

/* frame["t"], or "?" (frames are checked to have one, but this is never trusted). */
const char *translate_frame_type(const json_t *frame);
/* What the translation files say of a frame they drop (debug log). */
#define DROP(frame, why)                                                                           \
    log_debug("dropped worker frame \"%s\": %s", translate_frame_type(frame), why)

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

/* An `input` frame for execute `id` (the cell asks for a line): fills input_id, prompt
 * (malloc'd, bounded) and password. */
bool translate_input(const json_t *frame, long long id, long long *input_id, char **prompt,
                     bool *password);

/* A `page` frame for execute `id` (IPython's `name?`): its mime bundle, or NULL when invalid. */
json_t *translate_page(const json_t *frame, long long id);

/* A `next_input` frame for execute `id` (IPython's set_next_input): the text (malloc'd) and
 * whether it replaces the cell. NULL when invalid. */
char *translate_next_input(const json_t *frame, long long id, bool *replace);

/* An `exit` frame for execute `id`: true with *keep_kernel. */
bool translate_exit(const json_t *frame, long long id, bool *keep_kernel);

/* A `done` frame for execute `id`: true with *ok = status == "ok". */
bool translate_done(const json_t *frame, long long id, bool *ok);

/* The answers to the editor's queries. `frame` may be NULL (timeout, dead worker): the result is
 * then a valid empty answer. Positions are clamped to the code's length in code points. */
void translate_completion(const json_t *frame, const char *code, int cursor_pos,
                          struct completion *out);
void translate_inspection(const json_t *frame, struct inspection *out);
void translate_completeness(const json_t *frame, struct completeness *out);

/* The answers to the agent's queries, likewise: `frame` may be NULL. A `checked` frame that is
 * not valid is SYNTAX_UNKNOWN; strings are cut to the struct's fields (at a UTF-8 boundary, and at
 * an embedded NUL). translate_context overwrites *out (release it with sandbox_context_clear). */
void translate_syntax_check(const json_t *frame, struct syntax_check *out);
void translate_context(const json_t *frame, struct sandbox_context *out);

#endif
