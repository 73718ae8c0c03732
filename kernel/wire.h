/* Jupyter wire format: [ids…, "<IDS|MSG>", signature, header, parent_header, metadata, content,
 * buffers…]. The one message builder (jmsg_build) and the one encoder/decoder; every message the
 * kernel sends goes through wire_send. Incoming frames are untrusted: decode validates all. */
#ifndef WARDEN_WIRE_H
#define WARDEN_WIRE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "sign.h"

#define WIRE_DELIMITER      "<IDS|MSG>"
#define WIRE_MAX_PARTS      256        /* identities + 6 + buffers; more is malformed */
#define WIRE_MAX_PART_BYTES (64 << 20) /* per part: every socket's ZMQ_MAXMSGSIZE */
#define PROTOCOL_VERSION    "5.3"

struct wire_part {
    void *data;
    size_t len;
};

struct jmsg {
    struct wire_part *ids; /* routing identities (owned) */
    size_t n_ids;
    json_t *header, *parent_header, *metadata, *content;
    /* Owned, may be empty. A decoded message: its header frame as it came. A message built in
     * answer to one: that text, sent as its parent_header instead of dumping the parsed header
     * again for each of the five or so messages of a request (the spec's parent_header is the
     * request's header; these are its bytes, already verified). */
    struct wire_part header_text, parent_text;
};

/* header.msg_type of a decoded or built message. */
const char *jmsg_type(const struct jmsg *msg);
const char *jmsg_id(const struct jmsg *msg);
void jmsg_free(struct jmsg *msg);

/* The one builder. Copies nothing it does not need: the parent's header is referenced (or {} when
 * parent is NULL) and its text copied, content is stolen (NULL → {}). */
struct jmsg *jmsg_build(const char *session, const char *msg_type, const struct jmsg *parent,
                        json_t *content);
/* Copy the routing identities of `from` onto `to` (replies go back to the requester). */
int jmsg_copy_ids(struct jmsg *to, const struct jmsg *from);
/* Whether two messages came from (or go to) the same peer: the same routing identities. */
bool jmsg_same_ids(const struct jmsg *a, const struct jmsg *b);

/* Decode received frames. Returns a message, or NULL with `why` saying what was wrong
 * (no delimiter, bad signature, replay, JSON that is not an object, missing msg_id/msg_type). */
struct jmsg *wire_decode(const struct wire_part *parts, size_t count, struct signer *signer,
                         char *why, size_t why_len);

/* Encode to frames: ids, delimiter, signature, 4 JSON frames. Caller frees with wire_parts_free. */
int wire_encode(const struct jmsg *msg, struct signer *signer, struct wire_part **parts,
                size_t *count);
void wire_parts_free(struct wire_part *parts, size_t count);

enum wire_recv_result {
    WIRE_RECV_MESSAGE, /* one was read: *out, or NULL when it was invalid and dropped (logged) */
    WIRE_RECV_NOTHING, /* none was waiting */
    WIRE_RECV_FAILED,  /* the socket failed */
};
/* ZeroMQ I/O. wire_recv reads one multipart message (bounded) without blocking. */
enum wire_recv_result wire_recv(void *socket, struct signer *signer, struct jmsg **out);
int wire_send(void *socket, struct signer *signer, const struct jmsg *msg);

#endif
