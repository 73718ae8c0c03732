/* What a model's reply holds: the Python to run and the prose around it. Reasoning first goes:
 * <think>...</think> blocks (Ollama, Groq, llama.cpp put them in the content; one left open at
 * the end drops the rest) are removed before anything is read. Then the fenced blocks: ```python,
 * ```py, ```python3, ```ipython and untagged ``` blocks (fences of three or more backticks or
 * tildes, a closing fence at least as long as the opening one, as in CommonMark; a block left
 * open at the end of the reply runs to the end) are the code, joined in order with a blank line;
 * blocks in any other language (bash, text, json, ...) are never code. Everything outside the
 * code blocks is the prose. A reply without any fenced block is either code without fences or
 * prose: the caller decides by compiling it (in the worker, which knows IPython's syntax). */
#ifndef WARDEN_EXTRACT_H
#define WARDEN_EXTRACT_H

#include <stdbool.h>
#include <stddef.h>

struct extraction {
    char *code;       /* malloc'd: the code blocks joined; NULL when there is none */
    char *prose;      /* malloc'd: the reply without its code blocks and reasoning, trimmed */
    char *unfenced;   /* malloc'd: when there is no fenced block at all (in any language), the
                       * whole reply (reasoning removed, trimmed) to try as code; else NULL */
    int blocks;       /* code blocks found */
    int other_blocks; /* fenced blocks in other languages (never run) */
};

/* Always fills *out (empty strings when the reply is empty); false only when out of memory. */
bool extract_reply(const char *reply, size_t len, struct extraction *out);
void extraction_clear(struct extraction *out);

/* The reply with its reasoning removed (what extract_reply reads), malloc'd. */
char *extract_without_reasoning(const char *reply, size_t len);

#endif
