/* Reading a cell: is it %%python, and where does its Python body start? */
#ifndef WARDEN_CELL_H
#define WARDEN_CELL_H

#include <stdbool.h>
#include <stddef.h>

#define PYTHON_MAGIC "%%python"

struct cell_view {
    bool is_python;        /* first line is %%python */
    const char *body;      /* text after the magic line (or the whole cell) */
    int body_offset;       /* code points before body */
};

struct cell_view cell_parse(const char *code);
/* Whitespace only. */
bool cell_is_blank(const char *text);
/* The last line of text is blank (a trailing newline counts as an empty last line). */
bool cell_ends_with_blank_line(const char *text);

#endif
