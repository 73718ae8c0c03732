/* Where libcrypto cannot be loaded, libsodium signs big messages too, with the same digests. A
 * process of its own: libcrypto is loaded (or not) once per process, and test_wire loads it. */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "kernel/sign.h"

int main(void)
{
    signer_libcrypto_soname_for_tests("libwarden-no-such-library.so.0");
    size_t n = SIGN_LIBCRYPTO_MIN_BYTES + 1000;
    unsigned char *data = malloc(n);
    for (size_t i = 0; i < n; i++)
        data[i] = (unsigned char)(i * 13 + 5);
    struct signer *signer = signer_new("hmac-sha256", "key", 3);
    struct signed_part parts[4] = {
        {data, 10}, {data + 10, 0}, {data + 10, n - 20}, {data + n - 10, 10}};
    char hex[SIGNATURE_HEX_LEN + 1], want[SIGNATURE_HEX_LEN + 1];
    CHECK(signer_sign(signer, parts, hex) == 0);
    CHECK(!signer_libcrypto_loaded()); /* the load was tried, and failed */
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, (const unsigned char *)"key", 3);
    crypto_auth_hmacsha256_update(&st, data, n);
    crypto_auth_hmacsha256_final(&st, mac);
    sodium_bin2hex(want, sizeof want, mac, sizeof mac);
    CHECK(strcmp(hex, want) == 0);
    CHECK(signer_verify(signer, parts, hex, SIGNATURE_HEX_LEN));
    signer_free(signer);
    free(data);
    return check_summary("test_sign_fallback");
}
