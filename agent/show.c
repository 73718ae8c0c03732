#include "show.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A display of `markdown` (with `plain` for clients that only show text). */
static void display(struct show *s, const char *markdown, const char *plain, const char *id,
                    bool update)
{
    json_t *data = json_pack("{s:s, s:s}", "text/markdown", markdown, "text/plain", plain);
    json_t *md = json_object();
    if (data && md)
        output_display(s->sink, data, md, id, update);
    json_decref(data);
    json_decref(md);
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
             (long long)now_ms());
    s->last_update = now_ms();
    s->pending = false;
    display(s, "*writing code…*", "(the model is writing code)", s->display_id, false);
}

bool show_progress_due(struct show *s)
{
    if (now_ms() - s->last_update < SHOW_UPDATE_MS) {
        s->pending = true; /* the final update shows it */
        return false;
    }
    return true;
}

void show_progress(struct show *s, const char *answer)
{
    if (!show_progress_due(s))
        return;
    s->pending = false;
    display(s, answer, answer, s->display_id, true);
    /* the pause counts from the end of an update: one of a long answer (a few MiB, sent whole)
     * may take longer than the pause itself, and must not be followed by another at once */
    s->last_update = now_ms();
}

static char *code_block(const char *code)
{
    size_t len = strlen(code) + 32;
    char *md = malloc(len);
    if (md)
        snprintf(md, len, "```python\n%s\n```", code);
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
