/* Reading a cell: which way it goes (%%python, blank, or a request in plain language), and where
 * its Python body starts. */
#ifndef WARDEN_CELL_H
#define WARDEN_CELL_H

#include <stdbool.h>
#include <stddef.h>

#define PYTHON_MAGIC "%%python"

struct cell_view {
    bool is_python;   /* first line is %%python */
    const char *body; /* text after the magic line (or the whole cell) */
    int body_offset;  /* code points before body */
};

enum cell_route {
    ROUTE_PYTHON,  /* %%python: the body runs in the worker as it is */
    ROUTE_BLANK,   /* nothing to do */
    ROUTE_REQUEST, /* a request in plain language, for the agent */
};

struct cell_view cell_parse(const char *code);
/* Where the cell goes; *view (when not NULL) gets cell_parse's view of it. */
enum cell_route cell_route(const char *code, struct cell_view *view);
/* Whitespace only. */
bool cell_is_blank(const char *text);
/* The last line of text is blank (a trailing newline counts as an empty last line). */
bool cell_ends_with_blank_line(const char *text);

#endif
