/* When a model call is tried again (agent/retry.h): the statuses the official SDKs retry, the
 * waits servers ask for (retry-after-ms, Retry-After in seconds or as an HTTP date, whatever the
 * local time zone), the backoff otherwise, and the 429 that waiting will not cure. */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/retry.h"
#include "check.h"

#define UNSET 4242u /* what *ms holds when nothing was honoured */

static void test_statuses(void)
{
    const long retryable[] = {408, 409, 429, 500, 502, 503, 504, 529};
    const long final[] = {0, 200, 301, 400, 401, 403, 404, 413, 422, 501, 505, 599, -1};
    bool all = true;
    for (size_t i = 0; i < sizeof retryable / sizeof retryable[0]; i++)
        all = all && retry_status_is_retryable(retryable[i]);
    CHECK(all);
    bool none = true;
    for (size_t i = 0; i < sizeof final / sizeof final[0]; i++) {
        if (retry_status_is_retryable(final[i]))
            fprintf(stderr, "  %ld is retryable\n", final[i]);
        none = none && !retry_status_is_retryable(final[i]);
    }
    CHECK(none);
}

/* The wait for these headers at `now`, or UNSET when none is honoured. */
static uint32_t wait_for(const char *ms_header, const char *header, time_t now)
{
    uint32_t ms = UNSET;
    bool honoured = retry_after_ms(ms_header, header, now, &ms);
    if (honoured != (ms != UNSET))
        fprintf(stderr, "  honoured=%d but ms=%u\n", honoured, ms);
    return honoured ? ms : UNSET;
}

static void test_retry_after_ms(void)
{
    CHECK(wait_for("1500", NULL, 0) == 1500);
    CHECK(wait_for("1500.5", NULL, 0) == 1500);
    CHECK(wait_for(" 250 ", NULL, 0) == 250);
    CHECK(wait_for("0.25", NULL, 0) == 1); /* honoured, so never 0 ms */
    CHECK(wait_for("60000", NULL, 0) == 60000);
    CHECK(wait_for("60000.5", NULL, 0) == UNSET);
    CHECK(wait_for("0", NULL, 0) == UNSET);
    CHECK(wait_for("-5", NULL, 0) == UNSET);
    CHECK(wait_for("", NULL, 0) == UNSET);
    CHECK(wait_for("abc", NULL, 0) == UNSET);
    CHECK(wait_for("12abc", NULL, 0) == UNSET);
    CHECK(wait_for("0x10", NULL, 0) == UNSET);
    CHECK(wait_for("inf", NULL, 0) == UNSET);
    CHECK(wait_for("nan", NULL, 0) == UNSET);
    CHECK(wait_for(NULL, NULL, 0) == UNSET);
    /* retry-after-ms wins; one not honoured leaves it to Retry-After */
    CHECK(wait_for("1500", "2", 0) == 1500);
    CHECK(wait_for("abc", "2", 0) == 2000);
    CHECK(wait_for("0", "3", 0) == 3000);
}

static void test_retry_after_seconds(void)
{
    CHECK(wait_for(NULL, "2", 0) == 2000);
    CHECK(wait_for(NULL, "1.5", 0) == 1500);
    CHECK(wait_for(NULL, "60", 0) == 60000);
    CHECK(wait_for(NULL, "61", 0) == UNSET);
    CHECK(wait_for(NULL, "0", 0) == UNSET);
    CHECK(wait_for(NULL, "-1", 0) == UNSET);
    CHECK(wait_for(NULL, "abc", 0) == UNSET);
    CHECK(wait_for(NULL, "2 s", 0) == UNSET);
    CHECK(wait_for(NULL, "", 0) == UNSET);
    CHECK(wait_for(NULL, "99999999999999999999", 0) == UNSET);
}

static void test_retry_after_date(void)
{
    const time_t date = 1445412480; /* Wed, 21 Oct 2015 07:28:00 GMT */
    const char *fixdate = "Wed, 21 Oct 2015 07:28:00 GMT";
    CHECK(wait_for(NULL, fixdate, date - 30) == 30000);
    CHECK(wait_for(NULL, fixdate, date - 60) == 60000);
    CHECK(wait_for(NULL, fixdate, date - 61) == UNSET); /* too far off */
    CHECK(wait_for(NULL, fixdate, date) == UNSET);      /* now */
    CHECK(wait_for(NULL, fixdate, date + 5) == UNSET);  /* past */
    CHECK(wait_for("700", fixdate, date - 30) == 700);
    /* the two obsolete forms HTTP still asks recipients to read */
    CHECK(wait_for(NULL, "Wednesday, 21-Oct-15 07:28:00 GMT", date - 10) == 10000);
    CHECK(wait_for(NULL, "Wed Oct 21 07:28:00 2015", date - 10) == 10000);
    CHECK(wait_for(NULL, "Sun Nov  6 08:49:37 1994", 784111777 - 1) == 1000);
    /* not dates */
    CHECK(wait_for(NULL, "Wed, 21 Oct 2015 07:28:00 PST", date - 10) == UNSET);
    CHECK(wait_for(NULL, "Wed, 21 Foo 2015 07:28:00 GMT", date - 10) == UNSET);
    CHECK(wait_for(NULL, "Wed, 32 Oct 2015 07:28:00 GMT", date - 10) == UNSET);
    CHECK(wait_for(NULL, "Wed, 21 Oct 2015 25:28:00 GMT", date - 10) == UNSET);
    CHECK(wait_for(NULL, "Wed, 21 Oct 2015 07:28:00 GMT trailing", date - 10) == UNSET);
    CHECK(wait_for(NULL, "Wed, 21 Oct 2015", date - 10) == UNSET);
    /* GMT is GMT wherever the kernel runs: no local time in the reading */
    const char *tz = getenv("TZ");
    char *saved = tz ? strdup(tz) : NULL;
    setenv("TZ", "America/New_York", 1);
    tzset();
    CHECK(wait_for(NULL, fixdate, date - 30) == 30000);
    setenv("TZ", "Asia/Kolkata", 1);
    tzset();
    CHECK(wait_for(NULL, fixdate, date - 30) == 30000);
    if (saved)
        setenv("TZ", saved, 1);
    else
        unsetenv("TZ");
    tzset();
    free(saved);
}

static void test_backoff(void)
{
    CHECK(retry_backoff_ms(0, 0.0) == 500);
    CHECK(retry_backoff_ms(1, 0.0) == 1000);
    CHECK(retry_backoff_ms(2, 0.0) == 2000);
    CHECK(retry_backoff_ms(3, 0.0) == 4000);
    CHECK(retry_backoff_ms(4, 0.0) == 8000);
    CHECK(retry_backoff_ms(5, 0.0) == 8000);
    CHECK(retry_backoff_ms(64, 0.0) == 8000); /* no shift past the width */
    CHECK(retry_backoff_ms(UINT_MAX, 0.0) == 8000);
    /* jitter takes up to a quarter off */
    CHECK(retry_backoff_ms(0, 0.5) == 437);
    CHECK(retry_backoff_ms(4, 0.5) == 7000);
    CHECK(retry_backoff_ms(0, 0.9999) == 375);
    bool in_range = true;
    for (unsigned attempt = 0; attempt < 8; attempt++)
        for (double j = 0; j < 1; j += 0.01) {
            uint32_t base = attempt >= 4 ? 8000 : 500u << attempt,
                     ms = retry_backoff_ms(attempt, j);
            in_range = in_range && ms <= base && ms >= base * 3 / 4;
        }
    CHECK(in_range);
    /* a bad jitter is no jitter at worst, never a longer or negative wait */
    CHECK(retry_backoff_ms(1, -3.0) == 1000);
    CHECK(retry_backoff_ms(1, 7.0) == 750);
    CHECK(retry_backoff_ms(1, NAN) == 1000);
}

static void test_quota(void)
{
    CHECK(retry_is_quota_error(
        "{\"error\":{\"message\":\"You exceeded your current quota, please check your plan and "
        "billing details.\",\"type\":\"insufficient_quota\",\"param\":null,"
        "\"code\":\"insufficient_quota\"}}"));
    CHECK(retry_is_quota_error("{\"error\":{\"message\":\"x\",\"type\":\"invalid_request_error\","
                               "\"code\":\"billing_hard_limit_reached\"}}"));
    CHECK(retry_is_quota_error("{\"error\":{\"type\":\"billing_not_active\"}}"));
    CHECK(retry_is_quota_error("[{\"error\":{\"code\":\"insufficient_quota\"}}]"));
    CHECK(retry_is_quota_error("{\"code\":\"insufficient_quota\",\"message\":\"no credit\"}"));
    /* a plain rate limit clears by waiting, whatever its message says */
    CHECK(!retry_is_quota_error(
        "{\"error\":{\"message\":\"Rate limit reached for gpt-4o in organization org-x on "
        "requests per min (RPM): Limit 3, Used 3. Please try again in 20s.\",\"type\":"
        "\"rate_limit_exceeded\",\"param\":null,\"code\":\"rate_limit_exceeded\"}}"));
    CHECK(!retry_is_quota_error("{\"type\":\"error\",\"error\":{\"type\":\"rate_limit_error\","
                                "\"message\":\"quota billing insufficient_quota\"}}"));
    CHECK(!retry_is_quota_error("{\"error\":{\"code\":429,\"status\":\"RESOURCE_EXHAUSTED\"}}"));
    CHECK(!retry_is_quota_error("{\"error\":{\"code\":\"no_billing\"}}"));
    CHECK(!retry_is_quota_error(NULL));
    CHECK(!retry_is_quota_error(""));
    CHECK(!retry_is_quota_error("insufficient_quota"));
    CHECK(!retry_is_quota_error("<html><body>429 Too Many Requests</body></html>"));
    CHECK(!retry_is_quota_error("{\"error\":{\"code\":\"insufficient_quota\"")); /* cut short */
}

int main(void)
{
    test_statuses();
    test_retry_after_ms();
    test_retry_after_seconds();
    test_retry_after_date();
    test_backoff();
    test_quota();
    return check_summary("retry");
}
