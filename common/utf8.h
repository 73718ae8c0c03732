/* UTF-8 as every layer needs it: positions in code points (Jupyter's cursor_pos counts them),
 * cuts that never split a character, and repair of bytes that are not UTF-8 (what a hostile
 * worker or a C extension may print). */
#ifndef WARDEN_UTF8_H
#define WARDEN_UTF8_H

#include <jansson.h>
#include <stddef.h>

/* Code points in the first `len` bytes of valid UTF-8 (continuation bytes are not counted). */
size_t utf8_codepoints(const char *s, size_t len);

/* The largest length <= max that does not cut a UTF-8 sequence of s (valid UTF-8, len bytes). */
size_t utf8_cut(const char *s, size_t len, size_t max);

/* Length of the valid UTF-8 sequence at s (1 to 4 bytes), or 0 when it is invalid; *bad_len
 * then gets the length of the maximal invalid subpart, which is replaced by one U+FFFD (as
 * Unicode recommends and Python's "replace" does). */
size_t utf8_sequence(const unsigned char *s, size_t avail, size_t *bad_len);

/* A malloc'd copy of `in` with every invalid sequence replaced by U+FFFD, or NULL when `in` is
 * valid already (or out of memory: *outlen is then 0). *outlen gets the copy's length. */
char *utf8_repair(const char *in, size_t len, size_t *outlen);

/* Length of the leading run of s that a JSON string holds as it is, in either direction: printable
 * ASCII but '"' and '\\'. Eight bytes a step: the bulk of a big output is such runs. */
size_t utf8_json_plain_run(const char *s, size_t len);

/* `len` bytes of text as a JSON string, with invalid UTF-8 repaired (jansson refuses it): what a
 * person typed or a worker printed is shown with U+FFFD, never dropped. NULL when out of memory. */
json_t *utf8_json_string(const char *text, size_t len);

/* A malloc'd copy of `len` bytes of text that is inert on a terminal and in a notebook: every C0
 * control character but newline and tab (and a carriage return before a newline) becomes its
 * visible picture (ESC is U+241B, BEL U+2407), DEL U+2421, C1 controls (U+0080..U+009F, which
 * some terminals read as CSI and OSC) and invalid bytes U+FFFD. What a model writes is shown
 * so: an escape sequence in it can neither retitle the terminal, write the clipboard (OSC 52),
 * conceal text nor move the cursor over what was shown. NULL when out of memory. */
char *utf8_inert(const char *text, size_t len);

#endif
