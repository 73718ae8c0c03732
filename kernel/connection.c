#include "connection.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define CONNECTION_FILE_MAX (64 * 1024)

static int copy_string(const json_t *root, const char *key, const char *fallback, char *out,
                       size_t len, char *err, size_t err_len)
{
    const json_t *value = json_object_get(root, key);
    const char *text = fallback;
    if (value) {
        if (!json_is_string(value) || json_string_length(value) >= len) {
            snprintf(err, err_len, "\"%s\" must be a string shorter than %zu bytes", key, len);
            return -1;
        }
        text = json_string_value(value);
    }
    if (!text) {
        snprintf(err, err_len, "\"%s\" is missing", key);
        return -1;
    }
    snprintf(out, len, "%s", text);
    return 0;
}

static int read_port(const json_t *root, const char *key, int *port, char *err, size_t err_len)
{
    const json_t *value = json_object_get(root, key);
    if (!json_is_integer(value) || json_integer_value(value) < 0 ||
        json_integer_value(value) > 65535) {
        snprintf(err, err_len, "\"%s\" must be an integer port (0-65535)", key);
        return -1;
    }
    *port = (int)json_integer_value(value);
    return 0;
}

static int parse_connection(const json_t *root, struct connection_info *info, char *err,
                            size_t err_len)
{
    char key_text[sizeof info->key];
    if (copy_string(root, "transport", "tcp", info->transport, sizeof info->transport, err,
                    err_len) ||
        copy_string(root, "ip", "127.0.0.1", info->ip, sizeof info->ip, err, err_len) ||
        copy_string(root, "signature_scheme", "hmac-sha256", info->signature_scheme,
                    sizeof info->signature_scheme, err, err_len) ||
        copy_string(root, "key", "", key_text, sizeof key_text, err, err_len))
        return -1;
    if (strcmp(info->transport, "tcp") != 0 && strcmp(info->transport, "ipc") != 0) {
        snprintf(err, err_len, "\"transport\" must be \"tcp\" or \"ipc\"");
        return -1;
    }
    if (read_port(root, "shell_port", &info->shell_port, err, err_len) ||
        read_port(root, "control_port", &info->control_port, err, err_len) ||
        read_port(root, "stdin_port", &info->stdin_port, err, err_len) ||
        read_port(root, "iopub_port", &info->iopub_port, err, err_len) ||
        read_port(root, "hb_port", &info->hb_port, err, err_len))
        return -1;
    info->key_len = strlen(key_text);
    memcpy(info->key, key_text, info->key_len);
    return 0;
}

int connection_load(const char *path, struct connection_info *info, char *err, size_t err_len)
{
    memset(info, 0, sizeof *info);
    FILE *file = fopen(path, "rb");
    if (!file) {
        snprintf(err, err_len, "cannot open connection file %s", path);
        return -1;
    }
    char buffer[CONNECTION_FILE_MAX];
    size_t len = fread(buffer, 1, sizeof buffer, file);
    fclose(file);
    if (len == sizeof buffer) {
        snprintf(err, err_len, "connection file %s is larger than %d bytes", path,
                 CONNECTION_FILE_MAX);
        return -1;
    }
    json_error_t error;
    json_t *root = json_loadb(buffer, len, 0, &error);
    if (!json_is_object(root)) {
        snprintf(err, err_len, "connection file %s is not a JSON object (%s)", path,
                 root ? "wrong type" : error.text);
        json_decref(root);
        return -1;
    }
    char why[200];
    int rc = parse_connection(root, info, why, sizeof why);
    json_decref(root);
    if (rc != 0)
        snprintf(err, err_len, "connection file %s: %s", path, why);
    return rc;
}

void connection_endpoint(const struct connection_info *info, int port, char *out, size_t len)
{
    if (strcmp(info->transport, "ipc") == 0)
        snprintf(out, len, "ipc://%s-%d", info->ip, port);
    else
        snprintf(out, len, "tcp://%s:%d", info->ip, port);
}

/* Why not zmq_bind: for a bind, libzmq's resolver first tries the address as a network
 * interface's name (getifaddrs: a netlink socket and two kernel dumps, RTM_GETLINK and
 * RTM_GETADDR) before it parses it as a number, for each of the five sockets; there is no
 * option that skips that but the wildcard "*", which would listen on every interface. With
 * ZMQ_USE_FD libzmq takes a socket that is already listening and resolves nothing. Measured
 * (5 binds, 127.0.0.1): 0.44-0.83 ms through zmq_bind, 0.22-0.35 ms this way. It also lets the
 * kernel listen on all five ports before it starts libzmq's threads, so a client that connects
 * early is queued by the TCP stack instead of refused and left to its reconnect timer. */
int connection_listen(const struct connection_info *info, int port)
{
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (strcmp(info->transport, "tcp") != 0 || port == 0 ||
        inet_pton(AF_INET, info->ip, &address.sin_addr) != 1)
        return -1;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    /* as libzmq: a restarted kernel rebinds its predecessor's ports despite TIME_WAIT */
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(fd, (const struct sockaddr *)&address, sizeof address) != 0 ||
        listen(fd, 100) != 0) { /* 100: libzmq's default ZMQ_BACKLOG */
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}
