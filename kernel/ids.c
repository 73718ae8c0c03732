#include "ids.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/time.h>
#include <time.h>

void ids_new_uuid(char out[UUID_STR_LEN])
{
    unsigned char bytes[16];
    if (getrandom(bytes, sizeof bytes, GRND_NONBLOCK) != (ssize_t)sizeof bytes) {
        /* Only uniqueness matters for msg ids; fall back to time + counter. */
        static unsigned long counter;
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        unsigned long mix[2] = {(unsigned long)now.tv_nsec ^ (unsigned long)now.tv_sec, ++counter};
        memcpy(bytes, mix, sizeof bytes);
    }
    bytes[6] = (unsigned char)((bytes[6] & 0x0f) | 0x40);
    bytes[8] = (unsigned char)((bytes[8] & 0x3f) | 0x80);
    static const char hex[] = "0123456789abcdef";
    size_t pos = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[pos++] = '-';
        out[pos++] = hex[bytes[i] >> 4];
        out[pos++] = hex[bytes[i] & 0x0f];
    }
    out[pos] = '\0';
}

void ids_new_msg_id(const char *session, char out[MSG_ID_LEN])
{
    static atomic_ulong counter;
    snprintf(out, MSG_ID_LEN, "%.*s_%lu", UUID_STR_LEN - 1, session,
             atomic_fetch_add(&counter, 1) + 1);
}

void ids_now_iso8601(char out[ISO_DATE_LEN])
{
    struct timeval now;
    gettimeofday(&now, NULL);
    struct tm utc;
    gmtime_r(&now.tv_sec, &utc);
    char seconds[24];
    strftime(seconds, sizeof seconds, "%Y-%m-%dT%H:%M:%S", &utc);
    snprintf(out, ISO_DATE_LEN, "%s.%06ldZ", seconds, (long)now.tv_usec);
}
