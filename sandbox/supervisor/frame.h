/* The worker channel codec: 4-byte big-endian length N (1 <= N <= FRAME_MAX), then N bytes of a
 * UTF-8 JSON object with a string field "t". Everything read is untrusted: the length is checked
 * from the header alone, invalid UTF-8 is replaced with U+FFFD (and lone surrogate escapes with
 * \ufffd) before parsing, and every failure is reported precisely. */
#ifndef WARDEN_FRAME_H
#define WARDEN_FRAME_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FRAME_MAX (32u * 1024u * 1024u)

enum frame_result {
    FRAME_OK = 0,      /* *out holds a frame (a JSON object with a string "t") */
    FRAME_AGAIN,       /* no complete frame yet: the fd would block */
    FRAME_EOF,         /* the peer closed the channel between frames */
    FRAME_EOF_PARTIAL, /* the peer closed the channel in the middle of a frame */
    FRAME_BAD_LENGTH,  /* header says 0 or more than FRAME_MAX */
    FRAME_BAD_JSON,    /* payload is not JSON */
    FRAME_NOT_OBJECT,  /* payload is JSON but not an object */
    FRAME_NO_TYPE,     /* object without a string "t" */
    FRAME_IO_ERROR,    /* read() failed (errno in the detail) */
};

/* True for the results that mean the channel can no longer be trusted. */
static inline bool frame_result_is_violation(enum frame_result r)
{
    return r == FRAME_BAD_LENGTH || r == FRAME_BAD_JSON || r == FRAME_NOT_OBJECT ||
           r == FRAME_NO_TYPE;
}

struct frame_reader {
    char *buf;
    size_t cap, start, end;   /* buffered bytes are buf[start, end) */
    enum frame_result failed; /* sticky once a violation, EOF or I/O error happened */
    uint32_t last_len;        /* payload length of the last frame returned */
    uint64_t frames, bytes;   /* totals, for logs */
    char detail[256];         /* words for the last error */
};

void frame_reader_init(struct frame_reader *r);
void frame_reader_free(struct frame_reader *r);
/* Appends bytes as if read from the fd (tests, and anything not backed by an fd). */
void frame_reader_feed(struct frame_reader *r, const void *data, size_t len);
/* Marks the input as ended (what a read() of 0 does). */
void frame_reader_feed_eof(struct frame_reader *r);
/* Next complete frame from buffered bytes only; FRAME_AGAIN when more bytes are needed. */
enum frame_result frame_reader_next(struct frame_reader *r, json_t **out);
/* Next frame, reading at most once from the non-blocking fd when the buffer has none. */
enum frame_result frame_read(struct frame_reader *r, int fd, json_t **out);
/* True when frame_reader_next would return something other than FRAME_AGAIN without reading:
 * a complete frame, a bad header or a pending EOF is buffered. A poll loop must not wait on the fd
 * while this is true (the bytes were already read from it). */
bool frame_reader_ready(const struct frame_reader *r);
/* Bytes buffered but not yet returned as frames. */
static inline size_t frame_reader_pending(const struct frame_reader *r)
{
    return r->end - r->start;
}

/* Short words for a result ("frame length out of range", ...). */
const char *frame_result_str(enum frame_result r);

/* Writes one frame. Non-blocking fds are fine: waits with poll, retries EINTR/EAGAIN, and gives up
 * after timeout_ms in total (errno ETIMEDOUT). -1 with errno EMSGSIZE when the encoding exceeds
 * FRAME_MAX, EPIPE/ECONNRESET when the peer is gone. Never raises SIGPIPE on sockets. */
int frame_write(int fd, const json_t *frame, int timeout_ms);
/* Writes raw bytes with the same rules (used by frame_write and by tests that forge frames). */
int frame_write_all(int fd, const void *data, size_t len, int timeout_ms);

/* Returns a malloc'd copy of `in` with invalid UTF-8 replaced by U+FFFD and lone surrogate JSON
 * escapes replaced by \ufffd, or NULL when `in` needs no change. *outlen gets the new length. */
char *frame_sanitize(const char *in, size_t len, size_t *outlen);

/* A `stream` frame's payload exactly as the runtime writes it, decoded in one pass
 * (frame_stream.c), or NULL: then the general path (sanitising, jansson) decides. Same result as
 * that path. */
json_t *frame_parse_stream(const char *payload, size_t len);

#endif
