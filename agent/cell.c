/* Reading a cell (cell.h). */
#include "cell.h"

#include <ctype.h>
#include <string.h>

#include "common/utf8.h"

bool cell_is_blank(const char *text)
{
    for (; *text; text++)
        if (!isspace((unsigned char)*text))
            return false;
    return true;
}

/* The last line (the text after the final newline) is blank: the user pressed Enter on an empty
 * line, which is how a console user ends a cell magic. */
bool cell_ends_with_blank_line(const char *text)
{
    const char *last_newline = strrchr(text, '\n');
    return last_newline && cell_is_blank(last_newline + 1);
}

/* The magic must be the whole first line (trailing spaces allowed): "%%pythonic" is not it. */
struct cell_view cell_parse(const char *code)
{
    struct cell_view view = {false, code, 0};
    size_t magic_len = strlen(PYTHON_MAGIC);
    if (strncmp(code, PYTHON_MAGIC, magic_len) != 0)
        return view;
    const char *rest = code + magic_len;
    while (*rest == ' ' || *rest == '\t' || *rest == '\r')
        rest++;
    if (*rest != '\n' && *rest != '\0')
        return view;
    view.is_python = true;
    view.body = *rest == '\n' ? rest + 1 : rest;
    view.body_offset = (int)utf8_codepoints(code, (size_t)(view.body - code));
    return view;
}

enum cell_route cell_route(const char *code, struct cell_view *view)
{
    struct cell_view parsed = cell_parse(code);
    if (view)
        *view = parsed;
    if (parsed.is_python)
        return ROUTE_PYTHON;
    return cell_is_blank(code) ? ROUTE_BLANK : ROUTE_REQUEST;
}
