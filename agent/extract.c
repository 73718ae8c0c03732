/* Reading a model's reply (agent/extract.h): reasoning out, then one pass over the lines that
 * sorts each into a code block, another block or the prose. Fences follow CommonMark, because
 * that is what models are trained to write and what a notebook renders: a model cannot hide a
 * block inside another by writing a fence that would not close it. */
#include "agent/extract.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define THINK_OPEN  "<think>"
#define THINK_CLOSE "</think>"

/* An output buffer sized from the input: nothing written can be longer than what was read, and
 * the bound is checked anyway. */
struct text {
    char *s;
    size_t len, cap;
};

static bool text_init(struct text *t, size_t cap)
{
    t->s = malloc(cap + 1);
    t->len = 0;
    t->cap = cap;
    if (t->s)
        t->s[0] = '\0';
    return t->s != NULL;
}

static void text_add(struct text *t, const char *bytes, size_t n)
{
    if (n > t->cap - t->len)
        n = t->cap - t->len;
    memcpy(t->s + t->len, bytes, n);
    t->len += n;
    t->s[t->len] = '\0';
}

static bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

/* <think> blocks out; one left open drops the rest of the reply. */
static char *strip_reasoning(const char *reply, size_t len, size_t *out_len)
{
    struct text out;
    if (!reply)
        len = 0;
    if (!text_init(&out, len))
        return NULL;
    size_t i = 0;
    while (i < len) {
        const char *open = memmem(reply + i, len - i, THINK_OPEN, strlen(THINK_OPEN));
        size_t stop = open ? (size_t)(open - reply) : len;
        text_add(&out, reply + i, stop - i);
        if (!open)
            break;
        const char *body = open + strlen(THINK_OPEN);
        const char *close =
            memmem(body, (size_t)(reply + len - body), THINK_CLOSE, strlen(THINK_CLOSE));
        if (!close)
            break;
        i = (size_t)(close - reply) + strlen(THINK_CLOSE);
    }
    *out_len = out.len;
    return out.s;
}

char *extract_without_reasoning(const char *reply, size_t len)
{
    size_t n;
    return strip_reasoning(reply, len, &n);
}

/* ---- fences ---- */

struct fence {
    char mark;        /* ` or ~ */
    size_t length;    /* how many of them */
    size_t indent;    /* spaces before them, removed from the block's lines too */
    const char *info; /* the language and what follows it, trimmed */
    size_t info_len;
};

/* Up to three spaces, then a run of `mark`; 0 when the line does not start so. */
static size_t fence_run(const char *line, size_t n, char mark, size_t *indent)
{
    size_t i = 0;
    while (i < n && i < 4 && line[i] == ' ')
        i++;
    if (i > 3)
        return 0; /* four spaces make an indented code block, not a fence */
    size_t run = 0;
    while (i + run < n && line[i + run] == mark)
        run++;
    *indent = i;
    return run;
}

static bool opening_fence(const char *line, size_t n, struct fence *f)
{
    size_t indent, run = 0;
    char mark = 0;
    if ((run = fence_run(line, n, '`', &indent)) >= 3)
        mark = '`';
    else if ((run = fence_run(line, n, '~', &indent)) >= 3)
        mark = '~';
    if (!mark)
        return false;
    const char *info = line + indent + run;
    size_t info_len = n - indent - run;
    /* CommonMark: a backtick fence's info string has no backtick, so ```x``` is inline code. */
    if (mark == '`' && memchr(info, '`', info_len))
        return false;
    while (info_len > 0 && is_blank(info[0]))
        info++, info_len--;
    while (info_len > 0 && is_blank(info[info_len - 1]))
        info_len--;
    *f = (struct fence){mark, run, indent, info, info_len};
    return true;
}

/* As long as the opening fence or longer, and nothing after it: "``` and more" closes nothing. */
static bool closing_fence(const char *line, size_t n, const struct fence *open)
{
    size_t indent, run = fence_run(line, n, open->mark, &indent);
    if (run < open->length)
        return false;
    for (size_t i = indent + run; i < n; i++)
        if (!is_blank(line[i]))
            return false;
    return true;
}

/* The info string's first word names the language; none means Python, the notebook's own. */
static bool is_python(const struct fence *f)
{
    static const char *const names[] = {"python", "py", "python3", "ipython"};
    size_t word = 0;
    while (word < f->info_len && !is_blank(f->info[word]))
        word++;
    if (word == 0)
        return true;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strlen(names[i]) == word && strncasecmp(f->info, names[i], word) == 0)
            return true;
    return false;
}

/* ---- the pass over the lines ---- */

struct reader {
    const char *s;
    size_t len, pos;
    struct text code, prose;
    bool after_code; /* the last thing read was a code block taken out of the prose */
    int blocks, other_blocks;
};

/* The line at `pos`: its length without the \n, and where the next one starts. */
static size_t line_at(const struct reader *r, size_t pos, size_t *next)
{
    const char *nl = memchr(r->s + pos, '\n', r->len - pos);
    size_t end = nl ? (size_t)(nl - r->s) : r->len;
    *next = nl ? end + 1 : r->len;
    return end - pos;
}

static bool line_is_blank(const char *line, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!is_blank(line[i]))
            return false;
    return true;
}

/* A block's line joins the code less the fence's indentation (CommonMark's rule, which keeps
 * Python's indentation right in a block indented inside a list item). */
static void add_code_line(struct text *code, const char *line, size_t n, size_t indent)
{
    size_t cut = 0;
    while (cut < indent && cut < n && line[cut] == ' ')
        cut++;
    text_add(code, line + cut, n - cut);
}

/* The block's lines [from, to) as code: blank lines at its ends dropped, a blank line between it
 * and the block before. */
static void add_code_block(struct reader *r, size_t from, size_t to, size_t indent)
{
    size_t next;
    while (from < to && line_is_blank(r->s + from, line_at(r, from, &next)))
        from = next;
    size_t start = r->code.len;
    if (from < to && r->code.len > 0)
        text_add(&r->code, "\n\n", 2);
    for (size_t pos = from; pos < to; pos = next) {
        size_t n = line_at(r, pos, &next);
        add_code_line(&r->code, r->s + pos, n, indent);
        if (next > pos + n) /* the line had its \n */
            text_add(&r->code, "\n", 1);
    }
    while (r->code.len > start && is_blank(r->code.s[r->code.len - 1]))
        r->code.len--;
    r->code.s[r->code.len] = '\0';
}

/* The block opened at `open_pos` by `f`: code, or prose as it stands. */
static void read_block(struct reader *r, size_t open_pos, size_t body, const struct fence *f)
{
    size_t end = r->len, after = r->len, next;
    for (size_t pos = body; pos < r->len; pos = next) {
        size_t n = line_at(r, pos, &next);
        if (closing_fence(r->s + pos, n, f)) {
            end = pos;
            after = next;
            break;
        }
    }
    if (is_python(f)) {
        r->blocks++;
        add_code_block(r, body, end, f->indent);
        r->after_code = true;
    } else {
        r->other_blocks++;
        text_add(&r->prose, r->s + open_pos, after - open_pos);
        r->after_code = false;
    }
    r->pos = after;
}

/* Where a code block was taken out, the blank lines on both sides would add up: keep one. */
static bool prose_has_gap(const struct text *prose)
{
    return prose->len == 0 || (prose->len >= 2 && prose->s[prose->len - 1] == '\n' &&
                               prose->s[prose->len - 2] == '\n');
}

static void read_lines(struct reader *r)
{
    while (r->pos < r->len) {
        size_t next, n = line_at(r, r->pos, &next);
        const char *line = r->s + r->pos;
        struct fence f;
        if (opening_fence(line, n, &f)) {
            read_block(r, r->pos, next, &f);
            continue;
        }
        bool blank = line_is_blank(line, n);
        if (!(r->after_code && blank && prose_has_gap(&r->prose)))
            text_add(&r->prose, line, next - r->pos);
        r->after_code = r->after_code && blank;
        r->pos = next;
    }
}

/* A malloc'd copy of s[0, n) without blank space at its ends. */
static char *trimmed_copy(const char *s, size_t n)
{
    while (n > 0 && is_blank(s[0]))
        s++, n--;
    while (n > 0 && is_blank(s[n - 1]))
        n--;
    struct text t;
    if (!text_init(&t, n))
        return NULL;
    text_add(&t, s, n);
    return t.s;
}

void extraction_clear(struct extraction *out)
{
    free(out->code);
    free(out->prose);
    free(out->unfenced);
    memset(out, 0, sizeof *out);
}

bool extract_reply(const char *reply, size_t len, struct extraction *out)
{
    memset(out, 0, sizeof *out);
    struct reader r = {0};
    char *text = strip_reasoning(reply, len, &r.len);
    r.s = text;
    bool ok = text && text_init(&r.code, r.len) && text_init(&r.prose, r.len);
    if (ok) {
        read_lines(&r);
        out->blocks = r.blocks;
        out->other_blocks = r.other_blocks;
        out->prose = trimmed_copy(r.prose.s, r.prose.len);
        if (r.blocks > 0) { /* already without blank lines at its ends */
            out->code = r.code.s;
            r.code.s = NULL;
        }
        /* Only a reply with no fence at all may be code without fences: the lines of a bash or
         * text block are never to be run, not even by way of the whole reply. */
        if (r.blocks == 0 && r.other_blocks == 0)
            out->unfenced = trimmed_copy(text, r.len);
        ok = out->prose && (out->unfenced || r.blocks > 0 || r.other_blocks > 0);
    }
    free(text);
    free(r.code.s);
    free(r.prose.s);
    if (!ok)
        extraction_clear(out);
    return ok;
}
