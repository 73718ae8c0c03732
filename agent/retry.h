/* When to try a model call again, as both official SDKs do: which answers are worth a retry, how
 * long the server asked to wait (retry-after-ms, else Retry-After in seconds or as an HTTP date,
 * honoured when 0 < wait <= 60 s), and otherwise exponential backoff with jitter. */
#ifndef WARDEN_RETRY_H
#define WARDEN_RETRY_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#define RETRY_MAX_HONOURED_MS 60000u

/* 408, 409, 429, 500, 502, 503, 504 and 529 (Anthropic's "overloaded"). */
bool retry_status_is_retryable(long status);

/* The wait the server asked for, in ms: `retry_after_ms` (a number of milliseconds, may be a
 * real) first, else `retry_after` (a number of seconds, or an HTTP date read against `now`).
 * Either may be NULL. true with *ms only when the value parses and 0 < wait <= 60 s. */
bool retry_after_ms(const char *retry_after_ms, const char *retry_after, time_t now, uint32_t *ms);

/* min(0.5 * 2^attempt, 8) s, less up to 25 % jitter: `jitter01` in [0, 1) picks how much.
 * attempt 0 is the first retry. */
uint32_t retry_backoff_ms(unsigned attempt, double jitter01);

/* A 429 whose error code or type says quota or billing ("insufficient_quota", "billing_...")
 * will not clear by waiting: explain it instead of retrying. `body` is the error body (JSON or
 * not; may be NULL). */
bool retry_is_quota_error(const char *body);

#endif
