/* The one monotonic clock in milliseconds that deadlines, timers and durations are taken from. */
#ifndef WARDEN_CLOCK_H
#define WARDEN_CLOCK_H

#include <stdint.h>

/* CLOCK_MONOTONIC in ms: never set back, so a deadline computed from it holds across clock
 * changes. */
int64_t monotonic_ms(void);

#endif
