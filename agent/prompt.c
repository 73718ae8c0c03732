#include "prompt.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/mask.h"
#include "common/format.h"

const char prompt_system[] =
    "You write Python for a Jupyter notebook. It runs in a persistent IPython namespace: the "
    "variables listed exist, IPython syntax (%timeit, !ls) works. Answer with the code in one "
    "```python block; a sentence outside it is fine. Print or display what was asked (the last "
    "expression's value is shown); end plots with plt.show(). Only the listed libraries exist: "
    "nothing can be installed, there is no network. Files are in the working directory. A "
    "question that needs no code gets prose, without a code block.";

/* A growing string. */
struct text {
    char *s;
    size_t len, cap;
    bool failed;
};

static void add(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(struct text *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || t->failed)
        return;
    if (t->len + (size_t)n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 1024;
        while (cap < t->len + (size_t)n + 1)
            cap *= 2;
        char *grown = realloc(t->s, cap);
        if (!grown) {
            t->failed = true;
            return;
        }
        t->s = grown;
        t->cap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(t->s + t->len, t->cap - t->len, fmt, ap);
    va_end(ap);
    t->len += (size_t)n;
}

static char *done(struct text *t)
{
    if (t->failed) {
        free(t->s);
        return NULL;
    }
    return t->s ? t->s : strdup("");
}

static void files(struct text *t, const struct sandbox_context *ctx, size_t max)
{
    add(t, "Working directory: %s\n", ctx->cwd[0] ? ctx->cwd : "?");
    size_t start = t->len, i;
    json_t *f;
    add(t, "Files:");
    json_array_foreach(ctx->files, i, f) {
        if (t->len - start > max) {
            add(t, " ... (%zu more)", json_array_size(ctx->files) - i);
            break;
        }
        char size[32];
        format_size((uint64_t)json_integer_value(json_object_get(f, "size")), size, sizeof size);
        bool dir = json_is_true(json_object_get(f, "dir"));
        add(t, "%s %s%s%s%s", i ? "," : "", json_string_value(json_object_get(f, "name")),
            dir ? "/" : " (", dir ? "" : size, dir ? "" : ")");
    }
    if (json_array_size(ctx->files) == 0)
        add(t, " none");
    if (ctx->files_omitted > 0)
        add(t, " (%d more)", ctx->files_omitted);
    add(t, "\n");
}

static void libraries(struct text *t, const struct sandbox_context *ctx, size_t max)
{
    size_t start = t->len, i;
    json_t *lib;
    add(t, "Libraries:");
    json_array_foreach(ctx->libraries, i, lib) {
        if (t->len - start > max) {
            add(t, " ...");
            break;
        }
        add(t, "%s %s", i ? "," : "", json_string_value(lib));
    }
    add(t, "\n");
}

static void variables(struct text *t, const struct sandbox_context *ctx)
{
    if (json_array_size(ctx->variables) == 0) {
        add(t, "Variables: none yet\n");
        return;
    }
    add(t, "Variables (newest first):\n");
    size_t i;
    json_t *v;
    json_array_foreach(ctx->variables, i, v) {
        char *detail = mask_for_model(json_string_value(json_object_get(v, "detail")));
        add(t, "- %s: %s\n", json_string_value(json_object_get(v, "name")), detail ? detail : "");
        free(detail);
    }
    if (ctx->omitted > 0)
        add(t, "(%d more not shown)\n", ctx->omitted);
}

static void one_cell(struct text *t, const struct remembered_cell *c)
{
    if (c->request)
        add(t, "In [%d], a request: %s\ncode:\n```python\n%s\n```\n", c->count, c->request,
            c->code ? c->code : "");
    else
        add(t, "In [%d]:\n```python\n%s\n```\n", c->count, c->code ? c->code : "");
    if (c->output && *c->output)
        add(t, "output (its end):\n%s\n", c->output);
    if (c->error)
        add(t, "error:\n%s\n", c->error);
}

/* The newest cells that fit in `budget`, shown oldest first. */
static void earlier_cells(struct text *t, const struct memory *mem, unsigned wanted, size_t budget)
{
    int fit = 0;
    size_t used = 0;
    for (int i = 0; i < (int)wanted; i++) {
        const struct remembered_cell *c = memory_newest(mem, i);
        if (!c)
            break;
        struct text one = {0};
        one_cell(&one, c);
        used += one.len;
        free(one.s);
        if (used > budget)
            break;
        fit++;
    }
    if (!fit)
        return;
    add(t, "Earlier cells (oldest first):\n");
    for (int i = fit - 1; i >= 0; i--)
        one_cell(t, memory_newest(mem, i));
}

char *prompt_request(const struct sandbox_context *ctx, const struct memory *mem,
                     unsigned history_cells, size_t budget, int count, const char *request)
{
    struct text t = {0};
    files(&t, ctx, budget / 8);
    libraries(&t, ctx, budget / 8);
    variables(&t, ctx);
    if (t.len < budget)
        earlier_cells(&t, mem, history_cells, budget - t.len);
    char *masked = mask_for_model(request);
    add(&t, "Request (In [%d]):\n%s\n", count, masked ? masked : request);
    free(masked);
    return done(&t);
}

static void same_error_note(struct text *t, const char *same_error)
{
    if (same_error)
        add(t,
            "\nThis is the same error as before (%s): the last fix did not work. Do not "
            "repeat it; take a different approach.",
            same_error);
}

char *prompt_fix(const char *error_text, const char *output_tail, const char *same_error)
{
    struct text t = {0};
    add(&t, "The code failed:\n%s\n", error_text ? error_text : "(no error report)");
    if (output_tail && *output_tail) {
        char *masked = mask_for_model(output_tail);
        add(&t, "What it printed before (its end):\n%s\n", masked ? masked : "");
        free(masked);
    }
    add(&t, "Fix it. Answer with the whole corrected code in one ```python block.");
    same_error_note(&t, same_error);
    return done(&t);
}

char *prompt_syntax_fix(const struct syntax_check *check, const char *same_error)
{
    struct text t = {0};
    add(&t, "The code does not compile, so nothing ran:\n%s: %s (line %d)\n%s\n", check->ename,
        check->evalue, check->lineno, check->text);
    add(&t, "Fix it. Answer with the whole corrected code in one ```python block.");
    same_error_note(&t, same_error);
    return done(&t);
}
