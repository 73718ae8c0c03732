/* When to try a model call again (agent/retry.h). The rules are the official SDKs': openai-python's
 * _calculate_retry_timeout and anthropic-sdk's, read from their sources. Every header value is
 * the server's, so untrusted: a value that does not parse is not honoured, never guessed at. */
#include "agent/retry.h"

#include <ctype.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BACKOFF_FIRST_MS 500u
#define BACKOFF_MAX_MS   8000u

bool retry_status_is_retryable(long status)
{
    switch (status) {
    case 408: /* request timeout */
    case 409: /* lock timeout (OpenAI) */
    case 429: /* rate limited */
    case 500:
    case 502:
    case 503:
    case 504:
    case 529: /* Anthropic: overloaded */
        return true;
    default: /* 501 Not Implemented will not change by asking again */
        return false;
    }
}

static bool only_space(const char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    return *s == '\0';
}

/* A plain decimal number ("2", "1500.5", " 3 "), as Python's float() reads it but for what
 * strtod would also take: no hex, no "inf" or "nan". */
static bool parse_number(const char *s, double *out)
{
    while (isspace((unsigned char)*s))
        s++;
    const char *first = s + (*s == '+' || *s == '-');
    if (!isdigit((unsigned char)*first) && *first != '.')
        return false;
    char *end;
    double value = strtod(s, &end);
    if (end == s || (size_t)(end - s) > strspn(s, "0123456789.eE+-"))
        return false;
    if (!only_space(end) || !isfinite(value))
        return false;
    *out = value;
    return true;
}

/* The SDKs honour 0 < wait <= 60 s; a wait under 1 ms is 1 ms, so an honoured wait is never 0. */
static bool honour(double wait_ms, uint32_t *ms)
{
    if (!(wait_ms > 0 && wait_ms <= RETRY_MAX_HONOURED_MS))
        return false;
    *ms = wait_ms < 1 ? 1 : (uint32_t)wait_ms;
    return true;
}

static int month_index(const char *name)
{
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    for (int i = 0; i < 12; i++)
        if (strcmp(name, months[i]) == 0)
            return i;
    return -1;
}

struct date_fields {
    char wday[10], mon[4];
    int day, year, hour, min, sec;
};

/* The three forms of RFC 9110 section 5.6.7; true when one matches the whole value. */
static bool read_date_fields(const char *s, struct date_fields *d)
{
    int end = -1;
    /* IMF-fixdate, what servers send: "Sun, 06 Nov 1994 08:49:37 GMT" */
    if (sscanf(s, " %3[A-Za-z], %2d %3[A-Za-z] %4d %2d:%2d:%2d GMT%n", d->wday, &d->day, d->mon,
               &d->year, &d->hour, &d->min, &d->sec, &end) == 7 &&
        end >= 0)
        return only_space(s + end);
    /* RFC 850, obsolete: "Sunday, 06-Nov-94 08:49:37 GMT" (a two-digit year) */
    if (sscanf(s, " %9[A-Za-z], %2d-%3[A-Za-z]-%2d %2d:%2d:%2d GMT%n", d->wday, &d->day, d->mon,
               &d->year, &d->hour, &d->min, &d->sec, &end) == 7 &&
        end >= 0) {
        d->year += d->year < 70 ? 2000 : 1900;
        return only_space(s + end);
    }
    /* asctime, obsolete: "Sun Nov  6 08:49:37 1994" */
    if (sscanf(s, " %3[A-Za-z] %3[A-Za-z] %2d %2d:%2d:%2d %4d%n", d->wday, d->mon, &d->day,
               &d->hour, &d->min, &d->sec, &d->year, &end) == 7 &&
        end >= 0)
        return only_space(s + end);
    return false;
}

/* Read by hand rather than by strptime, so that the locale cannot change what a month is called.
 * HTTP dates are always GMT, hence timegm and never mktime. */
static bool parse_http_date(const char *s, time_t *out)
{
    struct date_fields d;
    if (!read_date_fields(s, &d))
        return false;
    int month = month_index(d.mon);
    if (month < 0 || d.day < 1 || d.day > 31 || d.hour < 0 || d.hour > 23 || d.min < 0 ||
        d.min > 59 || d.sec < 0 || d.sec > 60 || d.year < 1970)
        return false;
    struct tm tm = {.tm_year = d.year - 1900,
                    .tm_mon = month,
                    .tm_mday = d.day,
                    .tm_hour = d.hour,
                    .tm_min = d.min,
                    .tm_sec = d.sec};
    time_t t = timegm(&tm);
    if (t == (time_t)-1)
        return false;
    *out = t;
    return true;
}

/* An honoured retry-after-ms wins; one that is absent, unreadable or out of range leaves the
 * choice to Retry-After (the TypeScript SDK does the same for 0 and for what does not parse). */
bool retry_after_ms(const char *retry_after_ms, const char *retry_after, time_t now, uint32_t *ms)
{
    double value;
    if (retry_after_ms && parse_number(retry_after_ms, &value) && honour(value, ms))
        return true;
    if (!retry_after)
        return false;
    if (parse_number(retry_after, &value))
        return honour(value * 1000.0, ms);
    time_t date;
    return parse_http_date(retry_after, &date) && honour(difftime(date, now) * 1000.0, ms);
}

uint32_t retry_backoff_ms(unsigned attempt, double jitter01)
{
    uint32_t base = attempt >= 4 ? BACKOFF_MAX_MS : BACKOFF_FIRST_MS << attempt;
    if (!(jitter01 >= 0)) /* also NaN */
        jitter01 = 0;
    if (jitter01 > 1)
        jitter01 = 1;
    return (uint32_t)((double)base * (1.0 - 0.25 * jitter01));
}

static bool says_quota(const json_t *value)
{
    const char *s = json_string_value(value);
    return s && (strstr(s, "insufficient_quota") || strncmp(s, "billing", 7) == 0);
}

/* OpenAI: {"error": {"type": "insufficient_quota", "code": "insufficient_quota", ...}}; some
 * servers send a list of such objects (Gemini's OpenAI endpoint) or the fields at the top. */
bool retry_is_quota_error(const char *body)
{
    if (!body)
        return false;
    json_t *root = json_loads(body, 0, NULL);
    const json_t *object = json_is_array(root) ? json_array_get(root, 0) : root;
    const json_t *error = json_object_get(object, "error");
    if (!json_is_object(error))
        error = object;
    bool quota =
        says_quota(json_object_get(error, "code")) || says_quota(json_object_get(error, "type"));
    json_decref(root);
    return quota;
}
