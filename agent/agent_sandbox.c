/* The real sandbox behind agent_sandbox.h. The sandbox pointer is read by the calls that may come
 * from another thread (interrupt, python_version) while the executor thread starts or stops it:
 * a lock keeps them from using a sandbox that is being freed. */
#include "agent_sandbox.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

struct real_sandbox {
    struct agent_sandbox port;
    struct sandbox_config cfg;
    pthread_mutex_t lock; /* guards sb for interrupt and python_version */
    struct sandbox *sb;
};

static bool real_start(void *self, char *err, size_t errlen)
{
    struct real_sandbox *r = self;
    struct sandbox *sb = sandbox_start(&r->cfg, err, errlen);
    pthread_mutex_lock(&r->lock);
    r->sb = sb;
    pthread_mutex_unlock(&r->lock);
    return sb != NULL;
}

static void real_execute(void *self, const struct sandbox_cell *cell,
                         const struct output_sink *sink, struct cell_outcome *outcome)
{
    sandbox_execute(((struct real_sandbox *)self)->sb, cell, sink, outcome);
}

static void real_complete(void *self, const char *code, int cursor_pos, struct completion *out)
{
    sandbox_complete(((struct real_sandbox *)self)->sb, code, cursor_pos, out);
}

static void real_inspect(void *self, const char *code, int cursor_pos, int detail_level,
                         struct inspection *out)
{
    sandbox_inspect(((struct real_sandbox *)self)->sb, code, cursor_pos, detail_level, out);
}

static void real_is_complete(void *self, const char *code, struct completeness *out)
{
    sandbox_is_complete(((struct real_sandbox *)self)->sb, code, out);
}

static void real_check_syntax(void *self, const char *code, struct syntax_check *out)
{
    sandbox_check_syntax(((struct real_sandbox *)self)->sb, code, out);
}

static void real_describe(void *self, const struct describe_options *opts,
                          struct sandbox_context *out)
{
    sandbox_describe(((struct real_sandbox *)self)->sb, opts, out);
}

static void real_python_version(void *self, char *out, size_t len)
{
    struct real_sandbox *r = self;
    pthread_mutex_lock(&r->lock);
    if (r->sb)
        sandbox_python_version(r->sb, out, len);
    else
        sandbox_interpreter_version(r->cfg.python, out, len);
    pthread_mutex_unlock(&r->lock);
}

static void real_interrupt(void *self)
{
    struct real_sandbox *r = self;
    pthread_mutex_lock(&r->lock);
    if (r->sb)
        sandbox_interrupt(r->sb);
    pthread_mutex_unlock(&r->lock);
}

static void real_forget_interrupt(void *self)
{
    struct real_sandbox *r = self;
    pthread_mutex_lock(&r->lock);
    if (r->sb)
        sandbox_forget_interrupt(r->sb);
    pthread_mutex_unlock(&r->lock);
}

static void real_stop(void *self)
{
    struct real_sandbox *r = self;
    pthread_mutex_lock(&r->lock);
    struct sandbox *sb = r->sb;
    r->sb = NULL;
    pthread_mutex_unlock(&r->lock);
    sandbox_stop(sb);
    pthread_mutex_destroy(&r->lock);
    free(r);
}

struct agent_sandbox *agent_sandbox_new(const struct sandbox_config *cfg)
{
    struct real_sandbox *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->cfg = *cfg;
    pthread_mutex_init(&r->lock, NULL);
    r->port = (struct agent_sandbox){r,
                                     real_start,
                                     real_execute,
                                     real_complete,
                                     real_inspect,
                                     real_is_complete,
                                     real_check_syntax,
                                     real_describe,
                                     real_python_version,
                                     real_interrupt,
                                     real_forget_interrupt,
                                     real_stop};
    return &r->port;
}
