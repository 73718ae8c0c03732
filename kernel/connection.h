/* The connection file jupyter_client writes for us: where to bind and how to sign. */
#ifndef WARDEN_CONNECTION_H
#define WARDEN_CONNECTION_H

#include <stddef.h>

struct connection_info {
    char transport[16]; /* tcp or ipc */
    char ip[256];
    int shell_port, control_port, stdin_port, iopub_port, hb_port;
    char signature_scheme[32];
    unsigned char key[512];
    size_t key_len;
};

/* 0 on success; -1 with `err` naming the file and the field at fault. */
int connection_load(const char *path, struct connection_info *info, char *err, size_t err_len);

/* "tcp://127.0.0.1:5555" or "ipc://path-N" for the given port. */
void connection_endpoint(const struct connection_info *info, int port, char *out, size_t len);

/* A listening TCP socket on the connection's numeric IPv4 address and `port`, set up as
 * libzmq's own bind would (close-on-exec, SO_REUSEADDR, backlog 100), for ZMQ_USE_FD; or -1
 * where zmq_bind must do it (ipc, a host name, IPv6, port 0, or any failure, which zmq_bind
 * then reports in its own words). */
int connection_listen(const struct connection_info *info, int port);

#endif
