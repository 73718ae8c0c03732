#include "wire.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "common/log.h"
#include "ids.h"
#include "json_write.h"

const char *jmsg_type(const struct jmsg *msg)
{
    return json_string_value(json_object_get(msg->header, "msg_type"));
}

const char *jmsg_id(const struct jmsg *msg)
{
    return json_string_value(json_object_get(msg->header, "msg_id"));
}

void wire_parts_free(struct wire_part *parts, size_t count)
{
    if (!parts)
        return;
    for (size_t i = 0; i < count; i++)
        free(parts[i].data);
    free(parts);
}

void jmsg_free(struct jmsg *msg)
{
    if (!msg)
        return;
    wire_parts_free(msg->ids, msg->n_ids);
    free(msg->header_text.data);
    free(msg->parent_text.data);
    json_decref(msg->header);
    json_decref(msg->parent_header);
    json_decref(msg->metadata);
    json_decref(msg->content);
    free(msg);
}

static json_t *build_header(const char *session, const char *msg_type)
{
    char msg_id[MSG_ID_LEN], date[ISO_DATE_LEN];
    ids_new_msg_id(session, msg_id);
    ids_now_iso8601(date);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "msg_id", msg_id, "session", session,
                     "username", "warden", "date", date, "msg_type", msg_type, "version",
                     PROTOCOL_VERSION);
}

static int copy_part(struct wire_part *to, const void *data, size_t len)
{
    to->data = malloc(len ? len : 1);
    if (!to->data)
        return -1;
    memcpy(to->data, data, len);
    to->len = len;
    return 0;
}

struct jmsg *jmsg_build(const char *session, const char *msg_type, const struct jmsg *parent,
                        json_t *content)
{
    struct jmsg *msg = calloc(1, sizeof *msg);
    if (!msg) {
        json_decref(content);
        return NULL;
    }
    msg->header = build_header(session, msg_type);
    msg->parent_header = parent ? json_incref(parent->header) : json_object();
    msg->metadata = json_object();
    msg->content = content ? content : json_object();
    bool text_ok =
        !parent || !parent->header_text.data ||
        copy_part(&msg->parent_text, parent->header_text.data, parent->header_text.len) == 0;
    if (!msg->header || !msg->parent_header || !msg->metadata || !text_ok) {
        jmsg_free(msg);
        return NULL;
    }
    return msg;
}

int jmsg_copy_ids(struct jmsg *to, const struct jmsg *from)
{
    wire_parts_free(to->ids, to->n_ids);
    to->ids = NULL;
    to->n_ids = 0;
    if (from->n_ids == 0)
        return 0;
    to->ids = calloc(from->n_ids, sizeof *to->ids);
    if (!to->ids)
        return -1;
    for (size_t i = 0; i < from->n_ids; i++) {
        if (copy_part(&to->ids[i], from->ids[i].data, from->ids[i].len) != 0)
            return -1;
        to->n_ids = i + 1;
    }
    return 0;
}

bool jmsg_same_ids(const struct jmsg *a, const struct jmsg *b)
{
    if (a->n_ids != b->n_ids)
        return false;
    for (size_t i = 0; i < a->n_ids; i++)
        if (a->ids[i].len != b->ids[i].len ||
            memcmp(a->ids[i].data, b->ids[i].data, a->ids[i].len) != 0)
            return false;
    return true;
}

static json_t *decode_object(const struct wire_part *part, const char *what, char *why,
                             size_t why_len)
{
    json_error_t error;
    json_t *value = json_loadb(part->data, part->len, 0, &error);
    if (!value) {
        snprintf(why, why_len, "%s is not valid JSON: %s", what, error.text);
        return NULL;
    }
    if (!json_is_object(value)) {
        snprintf(why, why_len, "%s is not a JSON object", what);
        json_decref(value);
        return NULL;
    }
    return value;
}

static size_t find_delimiter(const struct wire_part *parts, size_t count)
{
    size_t delim_len = strlen(WIRE_DELIMITER);
    for (size_t i = 0; i < count; i++)
        if (parts[i].len == delim_len && memcmp(parts[i].data, WIRE_DELIMITER, delim_len) == 0)
            return i;
    return count;
}

static bool header_is_valid(const json_t *header, char *why, size_t why_len)
{
    const json_t *id = json_object_get(header, "msg_id");
    const json_t *type = json_object_get(header, "msg_type");
    if (!json_is_string(id) || !json_is_string(type) || json_string_length(type) == 0 ||
        json_string_length(type) > 64) {
        snprintf(why, why_len, "header lacks a string msg_id or a msg_type");
        return false;
    }
    return true;
}

static struct jmsg *decode_json_frames(const struct wire_part *json_parts, char *why,
                                       size_t why_len)
{
    struct jmsg *msg = calloc(1, sizeof *msg);
    if (!msg)
        return NULL;
    static const char *const names[4] = {"header", "parent_header", "metadata", "content"};
    json_t **slots[4] = {&msg->header, &msg->parent_header, &msg->metadata, &msg->content};
    for (int i = 0; i < 4; i++) {
        *slots[i] = decode_object(&json_parts[i], names[i], why, why_len);
        if (!*slots[i]) {
            jmsg_free(msg);
            return NULL;
        }
    }
    if (!header_is_valid(msg->header, why, why_len)) {
        jmsg_free(msg);
        return NULL;
    }
    return msg;
}

struct jmsg *wire_decode(const struct wire_part *parts, size_t count, struct signer *signer,
                         char *why, size_t why_len)
{
    size_t delim = find_delimiter(parts, count);
    if (delim == count) {
        snprintf(why, why_len, "no <IDS|MSG> delimiter");
        return NULL;
    }
    if (count - delim < 6) {
        snprintf(why, why_len, "too few frames after the delimiter");
        return NULL;
    }
    const struct wire_part *sig = &parts[delim + 1];
    const struct wire_part *json_parts = &parts[delim + 2];
    struct signed_part signed_parts[4];
    for (int i = 0; i < 4; i++)
        signed_parts[i] = (struct signed_part){json_parts[i].data, json_parts[i].len};
    if (!signer_verify(signer, signed_parts, sig->data, sig->len)) {
        snprintf(why, why_len, "bad or replayed signature");
        return NULL;
    }
    struct jmsg *msg = decode_json_frames(json_parts, why, why_len);
    if (!msg)
        return NULL;
    if (copy_part(&msg->header_text, json_parts[0].data, json_parts[0].len) != 0) {
        jmsg_free(msg);
        snprintf(why, why_len, "out of memory");
        return NULL;
    }
    if (delim > 0) {
        struct jmsg ids_only = {.ids = (struct wire_part *)parts, .n_ids = delim};
        if (jmsg_copy_ids(msg, &ids_only) != 0) {
            jmsg_free(msg);
            snprintf(why, why_len, "out of memory");
            return NULL;
        }
    }
    return msg;
}

/* The four JSON frames of msg (malloc'd texts) and their signature: what is sent after the ids
 * and the delimiter. 0, or -1 with nothing left allocated. */
static int encode_signed(const struct jmsg *msg, struct signer *signer, struct wire_part json[4],
                         char signature[SIGNATURE_HEX_LEN + 1])
{
    const json_t *objects[4] = {msg->header, msg->parent_header, msg->metadata, msg->content};
    struct signed_part signed_parts[4];
    for (int i = 0; i < 4; i++) {
        /* a reply's parent_header: the request's header bytes as they came (jmsg_build) */
        if (i == 1 && msg->parent_text.data) {
            if (copy_part(&json[i], msg->parent_text.data, msg->parent_text.len) != 0)
                json[i].data = NULL;
        } else {
            json[i].data = json_write_compact(objects[i], &json[i].len);
        }
        if (!json[i].data) {
            for (int j = 0; j < i; j++)
                free(json[j].data);
            return -1;
        }
        signed_parts[i] = (struct signed_part){json[i].data, json[i].len};
    }
    if (signer_sign(signer, signed_parts, signature) != 0) {
        for (int i = 0; i < 4; i++)
            free(json[i].data);
        return -1;
    }
    return 0;
}

int wire_encode(const struct jmsg *msg, struct signer *signer, struct wire_part **parts_out,
                size_t *count_out)
{
    size_t count = msg->n_ids + 6;
    struct wire_part *parts = calloc(count, sizeof *parts);
    char signature[SIGNATURE_HEX_LEN + 1];
    if (!parts || encode_signed(msg, signer, &parts[msg->n_ids + 2], signature) != 0) {
        free(parts);
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; i < msg->n_ids && rc == 0; i++)
        rc = copy_part(&parts[i], msg->ids[i].data, msg->ids[i].len);
    if (rc == 0)
        rc = copy_part(&parts[msg->n_ids], WIRE_DELIMITER, strlen(WIRE_DELIMITER));
    if (rc == 0)
        rc = copy_part(&parts[msg->n_ids + 1], signature, strlen(signature));
    if (rc != 0) {
        wire_parts_free(parts, count);
        return -1;
    }
    *parts_out = parts;
    *count_out = count;
    return 0;
}

static void free_text(void *data, void *hint)
{
    (void)hint;
    free(data);
}

/* Sends one frame; a JSON text is handed over to ZeroMQ (which frees it once sent) instead of
 * being copied: a big stream output is not copied once more. */
static int send_frame(void *socket, const void *data, size_t len, bool owned, bool more)
{
    int flags = (more ? ZMQ_SNDMORE : 0) | ZMQ_DONTWAIT;
    if (!owned)
        return zmq_send(socket, data, len, flags) < 0 ? -1 : 0;
    zmq_msg_t frame;
    if (zmq_msg_init_data(&frame, (void *)data, len, free_text, NULL) != 0) {
        free((void *)data);
        return -1;
    }
    if (zmq_msg_send(&frame, socket, flags) < 0) {
        zmq_msg_close(&frame); /* frees the text */
        return -1;
    }
    return 0;
}

int wire_send(void *socket, struct signer *signer, const struct jmsg *msg)
{
    struct wire_part json[4];
    char signature[SIGNATURE_HEX_LEN + 1];
    if (encode_signed(msg, signer, json, signature) != 0) {
        log_error("could not encode a %s message", jmsg_type(msg));
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; i < msg->n_ids && rc == 0; i++)
        rc = send_frame(socket, msg->ids[i].data, msg->ids[i].len, false, true);
    if (rc == 0)
        rc = send_frame(socket, WIRE_DELIMITER, strlen(WIRE_DELIMITER), false, true);
    if (rc == 0)
        rc = send_frame(socket, signature, strlen(signature), false, true);
    int i = 0;
    for (; i < 4 && rc == 0; i++)
        rc = send_frame(socket, json[i].data, json[i].len, true, i < 3);
    for (; i < 4; i++)
        free(json[i].data); /* not handed over: an earlier frame failed */
    if (rc != 0)
        log_warn("could not send %s: %s", jmsg_type(msg), zmq_strerror(zmq_errno()));
    return rc;
}

/* Reads every frame of one multipart message; frames past the bound are drained and the
 * message is reported as too large. */
static enum wire_recv_result recv_parts(void *socket, struct wire_part **parts_out,
                                        size_t *count_out, bool *oversized)
{
    struct wire_part *parts = calloc(WIRE_MAX_PARTS, sizeof *parts);
    if (!parts)
        return WIRE_RECV_FAILED;
    size_t count = 0;
    int more = 1;
    *oversized = false;
    while (more) {
        zmq_msg_t frame;
        zmq_msg_init(&frame);
        if (zmq_msg_recv(&frame, socket, count == 0 ? ZMQ_DONTWAIT : 0) < 0) {
            int err = zmq_errno();
            zmq_msg_close(&frame);
            wire_parts_free(parts, count);
            return err == EAGAIN ? WIRE_RECV_NOTHING : WIRE_RECV_FAILED;
        }
        more = zmq_msg_more(&frame);
        if (count < WIRE_MAX_PARTS)
            copy_part(&parts[count++], zmq_msg_data(&frame), zmq_msg_size(&frame));
        else
            *oversized = true;
        zmq_msg_close(&frame);
    }
    *parts_out = parts;
    *count_out = count;
    return WIRE_RECV_MESSAGE;
}

enum wire_recv_result wire_recv(void *socket, struct signer *signer, struct jmsg **out)
{
    struct wire_part *parts = NULL;
    size_t count = 0;
    bool oversized;
    enum wire_recv_result rc = recv_parts(socket, &parts, &count, &oversized);
    if (rc != WIRE_RECV_MESSAGE)
        return rc;
    char why[160] = "";
    struct jmsg *msg = NULL;
    if (oversized)
        snprintf(why, sizeof why, "more than %d frames", WIRE_MAX_PARTS);
    else
        msg = wire_decode(parts, count, signer, why, sizeof why);
    wire_parts_free(parts, count);
    if (!msg)
        log_warn("dropped an incoming message: %s", why);
    *out = msg;
    return WIRE_RECV_MESSAGE;
}
