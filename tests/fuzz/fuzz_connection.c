/* The connection file (kernel/connection.c) that the Jupyter client writes before it starts the
 * kernel: where to bind and the key that signs every message.
 *
 * Input: the file's bytes.
 *
 * Invariants: a file refused says why; one taken has the transport tcp or ipc, ports 0..65535,
 * a key shorter than its buffer, terminated strings, endpoints that fit the kernel's buffer uncut,
 * and a signature scheme and key that the signer (kernel/sign.c) takes or refuses without harm. */
#include <string.h>

#include "fuzz.h"
#include "kernel/connection.h"
#include "kernel/sign.h"

#define TERMINATED(field) FUZZ_ASSERT(memchr((field), '\0', sizeof(field)) != NULL)

static void check_taken(const struct connection_info *info)
{
    TERMINATED(info->transport);
    TERMINATED(info->ip);
    TERMINATED(info->signature_scheme);
    FUZZ_ASSERT(strcmp(info->transport, "tcp") == 0 || strcmp(info->transport, "ipc") == 0);
    const int ports[] = {info->shell_port, info->control_port, info->stdin_port, info->iopub_port,
                         info->hb_port};
    for (size_t i = 0; i < sizeof ports / sizeof *ports; i++) {
        FUZZ_ASSERT(ports[i] >= 0 && ports[i] <= 65535);
        char endpoint[320]; /* kernel/kernel.c's open_socket: an endpoint must never be cut */
        connection_endpoint(info, ports[i], endpoint, sizeof endpoint);
        FUZZ_ASSERT(strlen(endpoint) < sizeof endpoint - 1);
    }
    FUZZ_ASSERT(info->key_len < sizeof info->key);
    struct signer *signer = signer_new(info->signature_scheme, info->key, info->key_len);
    if (signer) {
        const struct signed_part parts[4] = {{"{}", 2}, {"{}", 2}, {"{}", 2}, {"{}", 2}};
        char signature[SIGNATURE_HEX_LEN + 1];
        FUZZ_ASSERT(signer_sign(signer, parts, signature) == 0);
        FUZZ_ASSERT(strlen(signature) == (info->key_len ? SIGNATURE_HEX_LEN : 0));
        signer_free(signer);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file(data, size);
    struct connection_info info;
    char err[512] = "";
    int rc = connection_load(path, &info, err, sizeof err);
    FUZZ_ASSERT(rc == 0 || rc == -1);
    if (rc != 0)
        FUZZ_ASSERT(err[0] != '\0' && memchr(err, '\0', sizeof err));
    else
        check_taken(&info);
    return 0;
}
