#include "frame.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/utf8.h"

#define READ_CHUNK (64u * 1024u)
/* A buffer this large is released once it is empty again (after one big frame). */
#define KEEP_CAP   (1024u * 1024u)

const char *frame_result_str(enum frame_result r)
{
    switch (r) {
    case FRAME_OK:
        return "ok";
    case FRAME_AGAIN:
        return "incomplete frame";
    case FRAME_EOF:
        return "channel closed";
    case FRAME_EOF_PARTIAL:
        return "channel closed in the middle of a frame";
    case FRAME_BAD_LENGTH:
        return "frame length out of range";
    case FRAME_BAD_JSON:
        return "frame is not valid JSON";
    case FRAME_NOT_OBJECT:
        return "frame is not a JSON object";
    case FRAME_NO_TYPE:
        return "frame has no string \"t\"";
    case FRAME_IO_ERROR:
        return "read error on the channel";
    }
    return "unknown frame error";
}

void frame_reader_init(struct frame_reader *r)
{
    memset(r, 0, sizeof *r);
    r->failed = FRAME_OK;
}

void frame_reader_free(struct frame_reader *r)
{
    free(r->buf);
    memset(r, 0, sizeof *r);
}

/* Makes room for `want` more bytes after r->end. Returns 0 or -1 (out of memory). */
static int reserve(struct frame_reader *r, size_t want)
{
    if (r->start == r->end) {
        r->start = r->end = 0;
        if (r->cap > KEEP_CAP && want <= READ_CHUNK) {
            free(r->buf);
            r->buf = NULL;
            r->cap = 0;
        }
    }
    if (r->cap - r->end >= want)
        return 0;
    if (r->start > 0) {
        memmove(r->buf, r->buf + r->start, r->end - r->start);
        r->end -= r->start;
        r->start = 0;
        if (r->cap - r->end >= want)
            return 0;
    }
    size_t need = r->end + want;
    size_t cap = r->cap ? r->cap : READ_CHUNK;
    while (cap < need)
        cap *= 2;
    char *grown = realloc(r->buf, cap);
    if (!grown)
        return -1;
    r->buf = grown;
    r->cap = cap;
    return 0;
}

void frame_reader_feed(struct frame_reader *r, const void *data, size_t len)
{
    if (len == 0 || r->failed != FRAME_OK)
        return;
    if (reserve(r, len) != 0) {
        r->failed = FRAME_IO_ERROR;
        snprintf(r->detail, sizeof r->detail, "out of memory buffering the channel");
        return;
    }
    memcpy(r->buf + r->end, data, len);
    r->end += len;
    r->bytes += len;
}

void frame_reader_feed_eof(struct frame_reader *r)
{
    if (r->failed != FRAME_OK)
        return;
    /* Complete frames still buffered are returned first; see frame_reader_next. */
    r->failed = FRAME_EOF;
}

/* ---- UTF-8 sanitising: common/utf8.h repairs the bytes, JSON escapes are fixed here ---- */

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Value of the \uXXXX escape at s[0] == '\\', or -1. */
static long u_escape(const char *s, size_t avail)
{
    if (avail < 6 || s[0] != '\\' || s[1] != 'u')
        return -1;
    long v = 0;
    for (int i = 2; i < 6; i++) {
        int h = hexval(s[i]);
        if (h < 0)
            return -1;
        v = v * 16 + h;
    }
    return v;
}

/* Finds (and, when `fix`, rewrites in place to \ufffd) lone surrogate escapes inside JSON strings,
 * which jansson rejects but Python's json.dumps produces for surrogateescape'd bytes. */
static bool fix_surrogate_escapes(char *buf, size_t len, bool fix)
{
    bool found = false, in_string = false;
    for (size_t i = 0; i < len; i++) {
        char c = buf[i];
        if (!in_string) {
            if (c == '"')
                in_string = true;
            continue;
        }
        if (c == '"') {
            in_string = false;
            continue;
        }
        if (c != '\\')
            continue;
        if (i + 1 >= len)
            break;
        if (buf[i + 1] != 'u') {
            i++; /* skip the escaped character */
            continue;
        }
        long v = u_escape(buf + i, len - i);
        if (v < 0) {
            i++;
            continue;
        }
        if (v >= 0xD800 && v <= 0xDBFF) {
            long low = u_escape(buf + i + 6, len - i - 6);
            if (low >= 0xDC00 && low <= 0xDFFF) {
                i += 11;
                continue;
            }
        } else if (!(v >= 0xDC00 && v <= 0xDFFF)) {
            i += 5;
            continue;
        }
        found = true;
        if (fix)
            memcpy(buf + i, "\\ufffd", 6);
        i += 5;
    }
    return found;
}

char *frame_sanitize(const char *in, size_t len, size_t *outlen)
{
    size_t olen;
    char *out = utf8_repair(in, len, &olen);
    if (!out) {
        if (!fix_surrogate_escapes((char *)in, len, false))
            return NULL;
        out = malloc(len ? len : 1);
        if (!out)
            return NULL;
        memcpy(out, in, len);
        olen = len;
    }
    fix_surrogate_escapes(out, olen, true);
    *outlen = olen;
    return out;
}

/* ---- reading ----------------------------------------------------------------------------------
 */

static enum frame_result fail(struct frame_reader *r, enum frame_result why)
{
    r->failed = why;
    return why;
}

static enum frame_result parse_payload(struct frame_reader *r, const char *payload, uint32_t len,
                                       json_t **out)
{
    *out = frame_parse_stream(payload, len); /* nearly every byte a cell sends */
    if (*out)
        return FRAME_OK;
    size_t clean_len = len;
    char *clean = frame_sanitize(payload, len, &clean_len);
    json_error_t jerr;
    json_t *value = json_loadb(clean ? clean : payload, clean ? clean_len : len,
                               JSON_ALLOW_NUL | JSON_DECODE_ANY, &jerr);
    free(clean);
    if (!value) {
        snprintf(r->detail, sizeof r->detail,
                 "a %u-byte frame is not valid JSON (%.100s at byte %d)", len, jerr.text,
                 jerr.position);
        return fail(r, FRAME_BAD_JSON);
    }
    if (!json_is_object(value)) {
        snprintf(r->detail, sizeof r->detail, "a %u-byte frame is JSON but not an object", len);
        json_decref(value);
        return fail(r, FRAME_NOT_OBJECT);
    }
    if (!json_is_string(json_object_get(value, "t"))) {
        snprintf(r->detail, sizeof r->detail, "a %u-byte frame has no string field \"t\"", len);
        json_decref(value);
        return fail(r, FRAME_NO_TYPE);
    }
    *out = value;
    return FRAME_OK;
}

enum frame_result frame_reader_next(struct frame_reader *r, json_t **out)
{
    *out = NULL;
    if (r->failed != FRAME_OK && r->failed != FRAME_EOF)
        return r->failed;
    size_t have = r->end - r->start;
    if (have >= 4) {
        const unsigned char *h = (const unsigned char *)r->buf + r->start;
        uint32_t len = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
        if (len == 0 || len > FRAME_MAX) {
            snprintf(r->detail, sizeof r->detail,
                     "frame length %u is outside 1..%u (the 32 MiB limit)", len, FRAME_MAX);
            return fail(r, FRAME_BAD_LENGTH);
        }
        if (have - 4 >= len) {
            const char *payload = r->buf + r->start + 4;
            r->start += 4 + (size_t)len;
            r->last_len = len;
            enum frame_result res = parse_payload(r, payload, len, out);
            if (res == FRAME_OK)
                r->frames++;
            return res;
        }
    }
    if (r->failed == FRAME_EOF) {
        if (have > 0) {
            snprintf(r->detail, sizeof r->detail,
                     "the channel closed with %zu bytes of an incomplete frame", have);
            return fail(r, FRAME_EOF_PARTIAL);
        }
        snprintf(r->detail, sizeof r->detail, "the channel closed");
        return FRAME_EOF;
    }
    return FRAME_AGAIN;
}

bool frame_reader_ready(const struct frame_reader *r)
{
    if (r->failed != FRAME_OK)
        return true;
    size_t have = r->end - r->start;
    if (have < 4)
        return false;
    const unsigned char *h = (const unsigned char *)r->buf + r->start;
    uint32_t len = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
    return len == 0 || len > FRAME_MAX || have - 4 >= len;
}

/* Bytes still missing for the frame being buffered (at least a header's worth). */
static size_t bytes_wanted(const struct frame_reader *r)
{
    size_t have = r->end - r->start;
    if (have < 4)
        return READ_CHUNK;
    const unsigned char *h = (const unsigned char *)r->buf + r->start;
    uint32_t len = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
    size_t missing = (size_t)len + 4 > have ? (size_t)len + 4 - have : 0;
    return missing > READ_CHUNK ? missing : READ_CHUNK;
}

enum frame_result frame_read(struct frame_reader *r, int fd, json_t **out)
{
    enum frame_result res = frame_reader_next(r, out);
    if (res != FRAME_AGAIN)
        return res;
    size_t want = bytes_wanted(r);
    if (reserve(r, want) != 0) {
        snprintf(r->detail, sizeof r->detail, "out of memory buffering a frame");
        return fail(r, FRAME_IO_ERROR);
    }
    for (;;) {
        ssize_t n = read(fd, r->buf + r->end, r->cap - r->end);
        if (n > 0) {
            r->end += (size_t)n;
            r->bytes += (uint64_t)n;
            break;
        }
        if (n == 0) {
            r->failed = FRAME_EOF;
            break;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return FRAME_AGAIN;
        snprintf(r->detail, sizeof r->detail, "read error on the channel: %s", strerror(errno));
        return fail(r, FRAME_IO_ERROR);
    }
    return frame_reader_next(r, out);
}

/* ---- writing ----------------------------------------------------------------------------------
 */

int frame_write_all(int fd, const void *data, size_t len, int timeout_ms)
{
    const char *p = data;
    int64_t deadline = monotonic_ms() + (timeout_ms < 0 ? 0 : timeout_ms);
    bool is_socket = true;
    while (len > 0) {
        ssize_t n = is_socket ? send(fd, p, len, MSG_NOSIGNAL) : write(fd, p, len);
        if (n < 0 && is_socket && errno == ENOTSOCK) {
            is_socket = false;
            continue;
        }
        if (n > 0) {
            p += n;
            len -= (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
            return -1;
        int64_t left = deadline - monotonic_ms();
        if (left <= 0) {
            errno = ETIMEDOUT;
            return -1;
        }
        struct pollfd pfd = {.fd = fd, .events = POLLOUT};
        int pr = poll(&pfd, 1, (int)left);
        if (pr < 0 && errno != EINTR)
            return -1;
        if (pr > 0 && (pfd.revents & (POLLERR | POLLNVAL)) && !(pfd.revents & POLLOUT)) {
            errno = EPIPE;
            return -1;
        }
    }
    return 0;
}

int frame_write(int fd, const json_t *frame, int timeout_ms)
{
    size_t size = json_dumpb(frame, NULL, 0, JSON_COMPACT);
    if (size == 0) {
        errno = EINVAL;
        return -1;
    }
    if (size > FRAME_MAX) {
        errno = EMSGSIZE;
        return -1;
    }
    char *buf = malloc(size + 4);
    if (!buf) {
        errno = ENOMEM;
        return -1;
    }
    if (json_dumpb(frame, buf + 4, size, JSON_COMPACT) != size) {
        free(buf);
        errno = EINVAL;
        return -1;
    }
    buf[0] = (char)(size >> 24);
    buf[1] = (char)(size >> 16);
    buf[2] = (char)(size >> 8);
    buf[3] = (char)size;
    int rc = frame_write_all(fd, buf, size + 4, timeout_ms);
    int saved = errno;
    free(buf);
    errno = saved;
    return rc;
}
