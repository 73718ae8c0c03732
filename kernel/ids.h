/* Message ids and timestamps as the Jupyter protocol wants them. */
#ifndef WARDEN_IDS_H
#define WARDEN_IDS_H

#include <stddef.h>

#define UUID_STR_LEN 37
#define MSG_ID_LEN   (UUID_STR_LEN + 24)
#define ISO_DATE_LEN 40

/* Random (version 4) UUID in canonical 8-4-4-4-12 form. */
void ids_new_uuid(char out[UUID_STR_LEN]);
/* A message id: "<session>_<n>" with n counting up, as jupyter_client makes its own — unique
 * because the session is a random UUID per kernel start, and without a call into the random
 * generator for every message. */
void ids_new_msg_id(const char *session, char out[MSG_ID_LEN]);
/* Current UTC time as ISO 8601 with zero-padded microseconds and a zone:
 * 2026-11-22T03:53:17.000123Z (clients parse the padding strictly). */
void ids_now_iso8601(char out[ISO_DATE_LEN]);

#endif
