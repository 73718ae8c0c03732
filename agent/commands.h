/* The warden commands: a cell whose first line is one of these is answered by the agent itself,
 * never sent to a model:
 *   %model NAME                       the model of later requests
 *   %provider openai|anthropic [URL]  the API (and its base URL)
 *   %attempts N                       tries per request (the first and the fixes)
 *   %agent                            what is active: provider, base URL, model, attempts, audit
 *                                     log, the key (masked)
 *   %last                             the last request's final code as the next cell
 *   %help                             this
 *   %%ask [--review] [--attempts N] [--model NAME]   the rest of the cell is a request, with these
 * Any other %name on the first line is an error listing them (IPython's magics run in %%python
 * cells). A cell that is only exit, quit, exit() or quit() asks the client to leave. */
#ifndef WARDEN_COMMANDS_H
#define WARDEN_COMMANDS_H

#include <stdbool.h>
#include <stdint.h>

enum command_kind {
    COMMAND_NONE, /* not a command: a request */
    COMMAND_MODEL,
    COMMAND_PROVIDER,
    COMMAND_ATTEMPTS,
    COMMAND_AGENT,
    COMMAND_LAST,
    COMMAND_HELP,
    COMMAND_ASK,
    COMMAND_EXIT,
    COMMAND_BAD, /* a %name that is none of these, or one used wrongly: `error` says how */
};

struct command {
    enum command_kind kind;
    char arg[512];       /* %model's name, %provider's name */
    char url[512];       /* %provider's base URL */
    uint32_t number;     /* %attempts, %%ask --attempts */
    bool review;         /* %%ask --review */
    char model[256];     /* %%ask --model */
    const char *request; /* %%ask: the request (points into the cell) */
    char error[600];
};

struct command command_parse(const char *cell);

extern const char command_help[];

#endif
