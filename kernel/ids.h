/* Message ids and timestamps as the Jupyter protocol wants them. */
#ifndef WARDEN_IDS_H
#define WARDEN_IDS_H

#include <stddef.h>

#define UUID_STR_LEN 37
#define ISO_DATE_LEN 40

/* Random (version 4) UUID in canonical 8-4-4-4-12 form. */
void ids_new_uuid(char out[UUID_STR_LEN]);
/* Current UTC time as ISO 8601 with zero-padded microseconds and a zone:
 * 2026-11-22T03:53:17.000123Z (clients parse the padding strictly). */
void ids_now_iso8601(char out[ISO_DATE_LEN]);

#endif
