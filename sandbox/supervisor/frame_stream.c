/* The fast path of the worker channel's decoding (frame.h), for the frames that carry nearly all
 * the bytes a cell sends:
 * - `stream_raw`: {"t":"stream_raw","id":N,"name":"stdout"|"stderr"} and then the text itself,
 *   raw UTF-8 to the end of the frame. The runtime sends stream text so: JSON-escaping it cost
 *   the worker 31 instructions a byte (Python's C escaper) and this side as much to undo. Only
 *   this file reads it, exactly in that shape (anything else is not JSON: a protocol violation);
 *   bytes that are not UTF-8 become U+FFFD, as in any frame.
 * - `stream` exactly as json.dumps writes it, {"t":"stream","id":N,"name":...,"text":"..."},
 *   decoded in one pass over its text. The general path (UTF-8 repair scan, surrogate-escape
 *   scan, then jansson's parser) cost about 165 instructions a byte under callgrind; this costs
 *   a few. It takes a subset of what the general path does and gives the same frame for it:
 *   anything else (another shape, whitespace, invalid UTF-8, a lone surrogate escape, an id
 *   jansson would refuse) is left to the general path, which repairs or rejects it as before.
 * Both become the same {"t":"stream",...,"text":...} frame. tests/unit/test_frame_stream.c
 * compares the paths. */
#include <stdlib.h>
#include <string.h>

#include "common/utf8.h"
#include "frame.h"

#define PREFIX     "{\"t\":\"stream\",\"id\":"
#define RAW_PREFIX "{\"t\":\"stream_raw\",\"id\":"
#define MAX_DIGITS 18 /* always within json_int_t; longer ids go the general way */

static int hex4(const unsigned char *p)
{
    int v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned char c = p[i];
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (d < 0)
            return -1;
        v = v * 16 + d;
    }
    return v;
}

static size_t put_utf8(unsigned char *o, long cp)
{
    if (cp < 0x80) {
        o[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (unsigned char)(0xC0 | cp >> 6);
        o[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (unsigned char)(0xE0 | cp >> 12);
        o[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
        o[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (unsigned char)(0xF0 | cp >> 18);
    o[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3F));
    o[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
    o[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

/* The escape at p (p[0] == '\\') decoded into o: bytes consumed, or 0 when the general path
 * must decide (a lone surrogate, a bad escape). *olen gets the bytes written. */
static size_t unescape(const unsigned char *p, const unsigned char *end, unsigned char *o,
                       size_t *olen)
{
    if (end - p < 2)
        return 0;
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    const char *simple = p[1] ? strchr(from, p[1]) : NULL;
    if (simple) {
        *o = (unsigned char)to[simple - from];
        *olen = 1;
        return 2;
    }
    if (p[1] != 'u' || end - p < 6)
        return 0;
    long cp = hex4(p + 2);
    size_t used = 6;
    if (cp >= 0xDC00 && cp <= 0xDFFF)
        return 0;
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        if (end - p < 12 || p[6] != '\\' || p[7] != 'u')
            return 0;
        long low = hex4(p + 8);
        if (low < 0xDC00 || low > 0xDFFF)
            return 0;
        cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
        used = 12;
    }
    if (cp < 0)
        return 0;
    *olen = put_utf8(o, cp);
    return used;
}

/* Decodes the JSON string body at *pp (after its opening quote) into out; *pp ends after the
 * closing quote. The length decoded, or (size_t)-1 for the general path. */
static size_t decode_string(const unsigned char **pp, const unsigned char *end, unsigned char *out)
{
    const unsigned char *p = *pp;
    unsigned char *o = out;
    for (;;) {
        /* the common case first: printable ASCII that needs no escape */
        size_t run = utf8_json_plain_run((const char *)p, (size_t)(end - p));
        memcpy(o, p, run);
        o += run;
        p += run;
        if (p == end)
            return (size_t)-1;
        if (*p == '"')
            break;
        size_t n, olen;
        if (*p == '\\') {
            n = unescape(p, end, o, &olen);
        } else if (*p >= 0x80) {
            size_t bad;
            n = olen = utf8_sequence(p, (size_t)(end - p), &bad);
            memcpy(o, p, n);
        } else {
            n = 0; /* a raw control character: not JSON */
        }
        if (n == 0)
            return (size_t)-1;
        p += n;
        o += olen;
    }
    *pp = p + 1;
    return (size_t)(o - out);
}

static bool take(const unsigned char **pp, const unsigned char *end, const char *lit)
{
    size_t n = strlen(lit);
    if ((size_t)(end - *pp) < n || memcmp(*pp, lit, n) != 0)
        return false;
    *pp += n;
    return true;
}

/* The id: 0 or 1..MAX_DIGITS digits without a leading zero (JSON's rule, and jansson's). */
static bool take_id(const unsigned char **pp, const unsigned char *end, json_int_t *id)
{
    const unsigned char *p = *pp;
    json_int_t v = 0;
    int digits = 0;
    while (p < end && *p >= '0' && *p <= '9' && digits < MAX_DIGITS) {
        v = v * 10 + (*p++ - '0');
        digits++;
    }
    bool more = p < end && *p >= '0' && *p <= '9';
    if (digits == 0 || more || (digits > 1 && **pp == '0'))
        return false;
    *id = v;
    *pp = p;
    return true;
}

static json_t *stream_frame(json_int_t id, const char *name, json_t *text)
{
    return text ? json_pack("{s:s, s:I, s:s, s:o}", "t", "stream", "id", id, "name", name, "text",
                            text)
                : NULL;
}

json_t *frame_parse_stream(const char *payload, size_t len)
{
    const unsigned char *p = (const unsigned char *)payload, *end = p + len;
    json_int_t id;
    bool raw = take(&p, end, RAW_PREFIX);
    if ((!raw && !take(&p, end, PREFIX)) || !take_id(&p, end, &id) ||
        !take(&p, end, ",\"name\":\""))
        return NULL;
    const char *name = take(&p, end, "stdout\"")   ? "stdout"
                       : take(&p, end, "stderr\"") ? "stderr"
                                                   : NULL;
    if (raw)
        return name && take(&p, end, "}")
                   ? stream_frame(id, name, utf8_json_string((const char *)p, (size_t)(end - p)))
                   : NULL;
    if (!name || !take(&p, end, ",\"text\":\""))
        return NULL;
    unsigned char *text = malloc((size_t)(end - p) + 1); /* decoding never grows */
    if (!text)
        return NULL;
    size_t text_len = decode_string(&p, end, text);
    json_t *frame = NULL;
    if (text_len != (size_t)-1 && end - p == 1 && *p == '}')
        frame = stream_frame(id, name, json_stringn_nocheck((const char *)text, text_len));
    free(text);
    return frame;
}
