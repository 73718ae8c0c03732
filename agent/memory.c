#include "memory.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/mask.h"
#include "common/utf8.h"

/* The last `max` bytes of text (cut at a character), masked. */
static char *tail_for_model(const char *text, size_t max)
{
    if (!text)
        return NULL;
    size_t len = strlen(text);
    const char *start = text;
    if (len > max) {
        start = text + len - max;
        while (*start && ((unsigned char)*start & 0xC0) == 0x80)
            start++;
    }
    return mask_for_model(start);
}

/* The beginning of code (cut at a character), masked. */
static char *head_for_model(const char *text, size_t max)
{
    if (!text)
        return NULL;
    size_t len = strlen(text), cut = utf8_cut(text, len, max);
    char *head = strndup(text, cut);
    char *masked = head ? mask_for_model(head) : NULL;
    free(head);
    return masked;
}

char *memory_error_text(const struct cell_error *error, size_t max)
{
    size_t total = 0, i;
    json_t *line;
    json_array_foreach(error->traceback, i, line)
        total += json_string_length(line) + 1;
    char *tb = malloc(total + 1), *p = tb;
    if (!tb)
        return NULL;
    json_array_foreach(error->traceback, i, line) {
        memcpy(p, json_string_value(line), json_string_length(line));
        p += json_string_length(line);
        *p++ = '\n';
    }
    *p = '\0';
    char *tail = tail_for_model(tb, max);
    free(tb);
    /* the traceback's last line normally is "ename: evalue"; say it first anyway */
    size_t len = strlen(error->ename) + strlen(error->evalue) + (tail ? strlen(tail) : 0) + 8;
    char *text = malloc(len);
    if (text)
        snprintf(text, len, "%s: %s\n%s", error->ename, error->evalue, tail ? tail : "");
    free(tail);
    char *masked = text ? mask_for_model(text) : NULL;
    free(text);
    return masked;
}

static void forget(struct remembered_cell *c)
{
    free(c->request);
    free(c->code);
    free(c->output);
    free(c->error);
    memset(c, 0, sizeof *c);
}

void memory_remember(struct memory *m, int count, const char *request, const char *code,
                     const struct recorder *rec)
{
    if (m->n == MEMORY_CELLS) {
        forget(&m->cells[m->first]);
        m->first = (m->first + 1) % MEMORY_CELLS;
        m->n--;
    }
    struct remembered_cell *c = &m->cells[(m->first + m->n) % MEMORY_CELLS];
    c->count = count;
    c->request = head_for_model(request, MEMORY_CODE_MAX);
    c->code = head_for_model(code, MEMORY_CODE_MAX);
    c->output = rec && rec->tail_len ? tail_for_model(rec->tail, RECORDER_TAIL) : NULL;
    c->error = rec && rec->had_error ? memory_error_text(&rec->error, MEMORY_ERROR_MAX) : NULL;
    m->n++;
}

const struct remembered_cell *memory_newest(const struct memory *m, int i)
{
    if (i < 0 || i >= m->n)
        return NULL;
    return &m->cells[(m->first + m->n - 1 - i) % MEMORY_CELLS];
}

void memory_set_last_code(struct memory *m, const char *code)
{
    free(m->last_request_code);
    m->last_request_code = code ? strdup(code) : NULL;
}

void memory_clear(struct memory *m)
{
    for (int i = 0; i < MEMORY_CELLS; i++)
        forget(&m->cells[i]);
    free(m->last_request_code);
    memset(m, 0, sizeof *m);
}
