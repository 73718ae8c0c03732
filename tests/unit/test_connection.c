/* connection_listen: the listening sockets the kernel hands libzmq (ZMQ_USE_FD) instead of
 * zmq_bind's own — set up as libzmq's would be, refused for what only zmq_bind can do, and
 * working as a ZeroMQ socket's listener. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zmq.h>

#include "check.h"
#include "kernel/connection.h"

static struct connection_info tcp_info(const char *ip)
{
    struct connection_info info;
    memset(&info, 0, sizeof info);
    snprintf(info.transport, sizeof info.transport, "tcp");
    snprintf(info.ip, sizeof info.ip, "%s", ip);
    return info;
}

/* A port nothing listens on now (the kernel-chosen port of a socket just closed). */
static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    bind(fd, (struct sockaddr *)&a, sizeof a);
    getsockname(fd, (struct sockaddr *)&a, &len);
    close(fd);
    return ntohs(a.sin_port);
}

static int connect_to(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int int_option(int fd, int level, int name)
{
    int value = -1;
    socklen_t len = sizeof value;
    getsockopt(fd, level, name, &value, &len);
    return value;
}

static void test_listens_like_libzmq(void)
{
    struct connection_info info = tcp_info("127.0.0.1");
    int port = free_port();
    int fd = connection_listen(&info, port);
    CHECK(fd >= 0);
    CHECK(int_option(fd, SOL_SOCKET, SO_ACCEPTCONN) == 1);
    CHECK(int_option(fd, SOL_SOCKET, SO_REUSEADDR) == 1);
    CHECK((fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0); /* the worker must not inherit it */
    /* listening already: a client's connect is queued by the TCP stack before anyone accepts */
    int client = connect_to(port);
    CHECK(client >= 0);
    /* a second listener on the same port is refused: zmq_bind then reports it */
    CHECK(connection_listen(&info, port) == -1);
    close(client);
    close(fd);
}

/* A restarted kernel takes its predecessor's ports while the old connections are in TIME_WAIT
 * (the kernel closed them first): what SO_REUSEADDR is for. */
static void test_rebinds_after_close(void)
{
    struct connection_info info = tcp_info("127.0.0.1");
    int port = free_port();
    int fd = connection_listen(&info, port);
    int client = connect_to(port);
    int accepted = accept(fd, NULL, NULL);
    CHECK(accepted >= 0);
    close(accepted); /* server side first: its end goes to TIME_WAIT */
    close(fd);
    char byte;
    CHECK(read(client, &byte, 1) == 0);
    close(client);
    int again = connection_listen(&info, port);
    CHECK(again >= 0);
    close(again);
}

static void test_leaves_the_rest_to_zmq_bind(void)
{
    int port = free_port();
    struct connection_info info = tcp_info("localhost"); /* a name: only libzmq resolves it */
    CHECK(connection_listen(&info, port) == -1);
    info = tcp_info("::1"); /* IPv6: the kernel's sockets do not set ZMQ_IPV6 */
    CHECK(connection_listen(&info, port) == -1);
    info = tcp_info("127.0.0.1");
    CHECK(connection_listen(&info, 0) == -1); /* port 0: libzmq picks one */
    snprintf(info.transport, sizeof info.transport, "ipc");
    snprintf(info.ip, sizeof info.ip, "/tmp/warden-test-connection");
    CHECK(connection_listen(&info, port) == -1);
}

/* The socket really serves a ZeroMQ ROUTER: a DEALER's message arrives through it. */
static void test_serves_a_zmq_socket(void)
{
    struct connection_info info = tcp_info("127.0.0.1");
    int port = free_port();
    int fd = connection_listen(&info, port);
    void *ctx = zmq_ctx_new();
    void *router = zmq_socket(ctx, ZMQ_ROUTER);
    void *dealer = zmq_socket(ctx, ZMQ_DEALER);
    char endpoint[64];
    connection_endpoint(&info, port, endpoint, sizeof endpoint);
    CHECK(zmq_setsockopt(router, ZMQ_USE_FD, &fd, sizeof fd) == 0);
    CHECK(zmq_bind(router, endpoint) == 0);
    CHECK(zmq_connect(dealer, endpoint) == 0);
    CHECK(zmq_send(dealer, "hello", 5, 0) == 5);
    char id[256], body[16] = "";
    CHECK(zmq_recv(router, id, sizeof id, 0) > 0);
    CHECK(zmq_recv(router, body, sizeof body, 0) == 5 && memcmp(body, "hello", 5) == 0);
    int zero = 0;
    zmq_setsockopt(dealer, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(router, ZMQ_LINGER, &zero, sizeof zero);
    zmq_close(dealer);
    zmq_close(router);
    zmq_ctx_term(ctx);
    /* libzmq closed the listener with its socket: the port is free again */
    int again = connection_listen(&info, port);
    CHECK(again >= 0);
    close(again);
}

int main(void)
{
    test_listens_like_libzmq();
    test_rebinds_after_close();
    test_leaves_the_rest_to_zmq_bind();
    test_serves_a_zmq_socket();
    return check_summary("connection");
}
