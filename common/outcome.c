#include "outcome.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/output.h"

static json_t *one_line_traceback(const char *ename, const char *evalue)
{
    size_t len = strlen(ename) + 2 + strlen(evalue);
    char *line = malloc(len + 1);
    if (!line)
        return json_array();
    snprintf(line, len + 1, "%s: %s", ename, evalue);
    json_t *traceback = json_pack("[s]", line);
    free(line);
    return traceback ? traceback : json_array();
}

void cell_error_set(struct cell_error *error, const char *ename, const char *evalue,
                    const json_t *traceback)
{
    ename = ename ? ename : "Error";
    evalue = evalue ? evalue : "";
    /* Copies first: ename or evalue may point into what *error holds now. */
    char *name = strdup(ename), *value = strdup(evalue);
    json_t *lines = traceback ? json_deep_copy(traceback) : one_line_traceback(ename, evalue);
    cell_error_clear(error);
    error->ename = name;
    error->evalue = value;
    error->traceback = json_is_array(lines) ? lines : (json_decref(lines), json_array());
}

void cell_error_clear(struct cell_error *error)
{
    free(error->ename);
    free(error->evalue);
    json_decref(error->traceback);
    *error = (struct cell_error){0};
}

void cell_outcome_clear(struct cell_outcome *outcome)
{
    if (!outcome)
        return;
    cell_error_clear(&outcome->error);
    json_decref(outcome->pages);
    free(outcome->next_input);
    json_decref(outcome->metadata);
    memset(outcome, 0, sizeof *outcome);
}

void cell_outcome_fail(struct cell_outcome *outcome, enum cell_status status, const char *ename,
                       const char *evalue, const json_t *traceback)
{
    cell_error_set(&outcome->error, ename, evalue, traceback);
    outcome->status = status == CELL_OK ? CELL_ERROR : status;
    if (status == CELL_WORKER_LOST)
        outcome->state_lost = true;
}

void cell_fail(const struct output_sink *sink, struct cell_outcome *outcome,
               enum cell_status status, const char *ename, const char *evalue)
{
    cell_outcome_fail(outcome, status, ename, evalue, NULL);
    output_error(sink, &outcome->error);
}

void completion_empty(struct completion *completion, int cursor)
{
    completion->matches = json_array();
    completion->cursor_start = completion->cursor_end = cursor < 0 ? 0 : cursor;
    completion->metadata = json_object();
}

void completion_clear(struct completion *completion)
{
    json_decref(completion->matches);
    json_decref(completion->metadata);
    *completion = (struct completion){0};
}

void inspection_empty(struct inspection *inspection)
{
    inspection->found = false;
    inspection->data = json_object();
    inspection->metadata = json_object();
}

void inspection_clear(struct inspection *inspection)
{
    json_decref(inspection->data);
    json_decref(inspection->metadata);
    *inspection = (struct inspection){0};
}
