#include "show.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/utf8.h"

/* A display of `markdown` (with `plain` for clients that only show text). Both hold the model's
 * words, so both are made inert first (utf8_inert): jupyter console prints text/plain straight to
 * the terminal, where an escape sequence would act. */
static void display(struct show *s, const char *markdown, const char *plain, const char *id,
                    bool update)
{
    char *inert_md = utf8_inert(markdown, strlen(markdown));
    char *inert_plain = utf8_inert(plain, strlen(plain));
    json_t *data = inert_md && inert_plain ? json_pack("{s:s, s:s}", "text/markdown", inert_md,
                                                       "text/plain", inert_plain)
                                           : NULL;
    json_t *md = json_object();
    if (data && md)
        output_display(s->sink, data, md, id, update);
    json_decref(data);
    json_decref(md);
    free(inert_md);
    free(inert_plain);
}

void show_init(struct show *s, const struct output_sink *sink, int count, int attempts)
{
    memset(s, 0, sizeof *s);
    s->sink = sink;
    s->count = count;
    s->attempts = attempts;
}

void show_writing(struct show *s, int attempt)
{
    s->attempt = attempt;
    snprintf(s->display_id, sizeof s->display_id, "warden-%d-%d-%lld", s->count, attempt,
             (long long)monotonic_ms());
    s->last_update = monotonic_ms();
    s->pending = false;
    display(s, "*writing code…*", "(the model is writing code)", s->display_id, false);
}

bool show_progress_due(struct show *s)
{
    int64_t now = monotonic_ms();
    if (now - s->last_update < SHOW_UPDATE_MS) {
        s->pending = true; /* the final update shows it */
        return false;
    }
    s->last_update = now;
    s->pending = false;
    return true;
}

void show_progress(struct show *s, const char *answer)
{
    size_t len = strlen(answer);
    if (len <= SHOW_PROGRESS_MAX) {
        display(s, answer, answer, s->display_id, true);
        return;
    }
    /* Only the end of a long answer: the whole of it, resent a few times a second, would be
     * quadratic in the answer's size on the way to the notebook. */
    size_t from = len - SHOW_PROGRESS_MAX;
    while (from < len && ((unsigned char)answer[from] & 0xC0) == 0x80)
        from++;
    char head[96];
    int n = snprintf(head, sizeof head, "… (%zu KiB so far, the end of it:)\n\n", len / 1024);
    char *tail = malloc((size_t)n + (len - from) + 1);
    if (!tail)
        return;
    memcpy(tail, head, (size_t)n);
    memcpy(tail + n, answer + from, len - from + 1);
    display(s, tail, tail, s->display_id, true);
    free(tail);
}

/* The longest run of backticks in `code`. */
static size_t longest_backtick_run(const char *code)
{
    size_t longest = 0, run = 0;
    for (const char *p = code; *p; p++) {
        run = *p == '`' ? run + 1 : 0;
        if (run > longest)
            longest = run;
    }
    return longest;
}

/* The code in a fence longer than any run of backticks in it (CommonMark's rule): a ``` line in
 * the code (it may hold one: the model may have opened a longer fence) cannot close the block
 * and have the rest of the code rendered as Markdown, or hidden in an HTML comment. */
static char *code_block(const char *code)
{
    size_t ticks = longest_backtick_run(code) + 1;
    if (ticks < 3)
        ticks = 3;
    size_t code_len = strlen(code), len = 2 * ticks + code_len + sizeof "python\n\n";
    char *md = malloc(len), *p = md;
    if (!md)
        return NULL;
    p = (char *)memset(p, '`', ticks) + ticks;
    p = (char *)memcpy(p, "python\n", 7) + 7;
    p = (char *)memcpy(p, code, code_len) + code_len;
    *p++ = '\n';
    p = (char *)memset(p, '`', ticks) + ticks;
    *p = '\0';
    return md;
}

void show_final(struct show *s, const char *code, const char *prose)
{
    display(s, "", "", s->display_id, true); /* the growing display gives way to the final one */
    if (prose && *prose)
        display(s, prose, prose, NULL, false);
    if (!code)
        return;
    char head[96];
    snprintf(head, sizeof head, "attempt %d of %d", s->attempt, s->attempts);
    char *block = code_block(code);
    size_t mlen = strlen(head) + (block ? strlen(block) : 0) + 16;
    size_t plen = strlen(head) + strlen(code) + 16;
    char *markdown = malloc(mlen), *plain = malloc(plen);
    if (block && markdown && plain) {
        snprintf(markdown, mlen, "*%s*\n\n%s", head, block);
        snprintf(plain, plen, "# %s\n%s", head, code);
        display(s, markdown, plain, NULL, false);
    }
    free(block);
    free(markdown);
    free(plain);
}

void show_attempt_failed(struct show *s, const char *ename, const char *evalue, bool retrying,
                         bool compiled)
{
    char line[1200];
    snprintf(line, sizeof line, "attempt %d %s: %s: %.900s%s", s->attempt,
             compiled ? "failed" : "does not compile", ename, evalue,
             retrying ? " — asking the model to fix it" : "");
    char md[1300];
    snprintf(md, sizeof md, "**%s**", line);
    display(s, md, line, NULL, false);
}

void show_wait(struct show *s, const char *why, long ms)
{
    char line[256];
    if (ms % 1000 == 0)
        snprintf(line, sizeof line, "[warden] %s, retrying in %ld s\n", why, ms / 1000);
    else
        snprintf(line, sizeof line, "[warden] %s, retrying in %.1f s\n", why, ms / 1000.0);
    output_stream(s->sink, OUTPUT_STDERR, line, strlen(line));
}

void show_cost(struct show *s, const char *model, int attempts, long in, long out)
{
    char line[400];
    int n =
        snprintf(line, sizeof line, "%s · %d attempt%s", model, attempts, attempts == 1 ? "" : "s");
    if (in >= 0 && out >= 0 && n > 0 && (size_t)n < sizeof line)
        snprintf(line + n, sizeof line - (size_t)n, " · %ld in / %ld out tokens", in, out);
    char md[420];
    snprintf(md, sizeof md, "*%s*", line);
    display(s, md, line, NULL, false);
}
