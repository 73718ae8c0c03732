#include "cell.h"

#include <ctype.h>
#include <string.h>

static int count_code_points(const char *text, size_t bytes)
{
    int count = 0;
    for (size_t i = 0; i < bytes; i++)
        if (((unsigned char)text[i] & 0xc0) != 0x80)
            count++;
    return count;
}

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
    view.body_offset = count_code_points(code, (size_t)(view.body - code));
    return view;
}
