#include "commands.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char command_help[] =
    "warden: a cell in plain language is a request; the model writes Python, warden runs it in "
    "the jail and fixes it when it fails. A cell starting with %%python runs as Python.\n"
    "Commands (a cell's first line):\n"
    "  %model NAME                      the model of later requests\n"
    "  %provider openai|anthropic [URL] the API, and its base URL\n"
    "  %attempts N                      tries per request (1-10: the first and the fixes)\n"
    "  %agent                           what is active (the key masked)\n"
    "  %last                            the last request's code as the next cell\n"
    "  %help                            this\n"
    "  %%ask [--review] [--attempts N] [--model NAME]\n"
    "                                   the rest of the cell is a request with these options;\n"
    "                                   --review shows the code as the next cell, not run\n";

static const char *known = "%model, %provider, %attempts, %agent, %last, %help, %%ask";

/* The first line's words, into argv (bounded); returns how many. */
static int words(const char *line, size_t len, char argv[][512], int max)
{
    int n = 0;
    size_t i = 0;
    while (i < len && n < max) {
        while (i < len && isspace((unsigned char)line[i]))
            i++;
        size_t start = i;
        while (i < len && !isspace((unsigned char)line[i]))
            i++;
        if (i > start) {
            size_t w = i - start < 511 ? i - start : 511;
            memcpy(argv[n], line + start, w);
            argv[n][w] = '\0';
            n++;
        }
    }
    return n;
}

static bool parse_count(const char *s, uint32_t *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*end || end == s || v < 1 || v > 10)
        return false;
    *out = (uint32_t)v;
    return true;
}

static bool is_exit(const char *cell)
{
    static const char *const forms[] = {"exit", "quit", "exit()", "quit()"};
    while (isspace((unsigned char)*cell))
        cell++;
    size_t len = strlen(cell);
    while (len && isspace((unsigned char)cell[len - 1]))
        len--;
    for (size_t i = 0; i < 4; i++)
        if (len == strlen(forms[i]) && strncmp(cell, forms[i], len) == 0)
            return true;
    return false;
}

static struct command bad(const char *fmt, const char *word)
{
    struct command c = {.kind = COMMAND_BAD};
    snprintf(c.error, sizeof c.error, fmt, word);
    return c;
}

static struct command parse_ask(char argv[][512], int n, const char *rest)
{
    struct command c = {.kind = COMMAND_ASK, .request = rest};
    for (int i = 1; i < n; i++) {
        if (strcmp(argv[i], "--review") == 0)
            c.review = true;
        else if (strcmp(argv[i], "--attempts") == 0 && i + 1 < n &&
                 parse_count(argv[i + 1], &c.number))
            i++;
        else if (strcmp(argv[i], "--model") == 0 && i + 1 < n) {
            snprintf(c.model, sizeof c.model, "%s", argv[++i]);
        } else
            return bad("%%%%ask: unknown option %.200s (use --review, --attempts N, --model NAME)",
                       argv[i]);
    }
    return c;
}

static struct command parse_line(char argv[][512], int n, const char *rest)
{
    const char *name = argv[0];
    struct command c = {0};
    if (strcmp(name, "%%ask") == 0)
        return parse_ask(argv, n, rest);
    if (strcmp(name, "%model") == 0) {
        if (n != 2)
            return bad("%.100s needs one model name, e.g. %%model gpt-4o-mini", name);
        c.kind = COMMAND_MODEL;
        snprintf(c.arg, sizeof c.arg, "%s", argv[1]);
    } else if (strcmp(name, "%provider") == 0) {
        if (n < 2 || n > 3 || (strcmp(argv[1], "openai") && strcmp(argv[1], "anthropic")))
            return bad("%.100s wants openai or anthropic, and a base URL if not the default", name);
        if (n == 3 && strncmp(argv[2], "http://", 7) && strncmp(argv[2], "https://", 8))
            return bad("%%provider: %.300s is not an http:// or https:// URL", argv[2]);
        c.kind = COMMAND_PROVIDER;
        snprintf(c.arg, sizeof c.arg, "%s", argv[1]);
        if (n == 3)
            snprintf(c.url, sizeof c.url, "%s", argv[2]);
    } else if (strcmp(name, "%attempts") == 0) {
        if (n != 2 || !parse_count(argv[1], &c.number))
            return bad("%.100s wants a number from 1 to 10", name);
        c.kind = COMMAND_ATTEMPTS;
    } else if (strcmp(name, "%agent") == 0 || strcmp(name, "%last") == 0 ||
               strcmp(name, "%help") == 0) {
        c.kind = name[1] == 'a' ? COMMAND_AGENT : name[1] == 'l' ? COMMAND_LAST : COMMAND_HELP;
    } else {
        struct command b = bad("", "");
        snprintf(b.error, sizeof b.error,
                 "%.100s is not a warden command (they are %s); IPython's magics run in %%%%python "
                 "cells",
                 name, known);
        return b;
    }
    return c;
}

struct command command_parse(const char *cell)
{
    struct command none = {.kind = COMMAND_NONE};
    if (is_exit(cell))
        return (struct command){.kind = COMMAND_EXIT};
    const char *first = cell;
    while (*first == ' ' || *first == '\t' || *first == '\n' || *first == '\r')
        first++;
    if (*first != '%')
        return none;
    const char *eol = strchr(first, '\n');
    size_t len = eol ? (size_t)(eol - first) : strlen(first);
    char argv[8][512];
    int n = words(first, len, argv, 8);
    return n ? parse_line(argv, n, eol ? eol + 1 : "") : none;
}
