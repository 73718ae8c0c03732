/* Reading a model's reply (agent/extract.h): which fenced blocks are the Python to run, what is
 * left as prose, reasoning removed first, CommonMark's fence rules (indentation, longer closing
 * fences, info strings), and the ways a reply could slip code past them: a python fence inside
 * another block, a closing fence with text after it, a "~~~" block that is valid Python. */
#include <stdlib.h>
#include <string.h>

#include "agent/extract.h"
#include "check.h"

static bool same(const char *got, const char *want, const char *what)
{
    bool eq = (!got && !want) || (got && want && strcmp(got, want) == 0);
    if (!eq)
        fprintf(stderr, "  %s: got %s%s%s, want %s%s%s\n", what, got ? "\"" : "",
                got ? got : "NULL", got ? "\"" : "", want ? "\"" : "", want ? want : "NULL",
                want ? "\"" : "");
    return eq;
}

/* extract_reply(reply) gives this code, prose, unfenced text and counts (NULL: none). */
static bool extracts(const char *reply, const char *code, const char *prose, const char *unfenced,
                     int blocks, int other_blocks)
{
    struct extraction e;
    bool ok = extract_reply(reply, strlen(reply), &e);
    ok = same(e.code, code, "code") && ok;
    ok = same(e.prose, prose, "prose") && ok;
    ok = same(e.unfenced, unfenced, "unfenced") && ok;
    if (e.blocks != blocks || e.other_blocks != other_blocks)
        fprintf(stderr, "  blocks %d, other %d; want %d, %d\n", e.blocks, e.other_blocks, blocks,
                other_blocks);
    ok = ok && e.blocks == blocks && e.other_blocks == other_blocks;
    extraction_clear(&e);
    return ok;
}

/* The code of a reply with one block and no prose. */
static bool code_is(const char *reply, const char *code)
{
    return extracts(reply, code, "", NULL, 1, 0);
}

static void test_languages(void)
{
    CHECK(
        extracts("Here:\n```python\nprint(1)\n```\nDone.", "print(1)", "Here:\nDone.", NULL, 1, 0));
    CHECK(code_is("```py\nx = 1\n```", "x = 1"));
    CHECK(code_is("```python3\nx = 1\n```", "x = 1"));
    CHECK(code_is("```ipython\n%timeit x\n```", "%timeit x"));
    CHECK(code_is("```Python\nx = 1\n```", "x = 1"));
    CHECK(code_is("```\nx = 1\n```", "x = 1"));
    CHECK(code_is("~~~\nx = 1\n~~~", "x = 1"));
    CHECK(code_is("~~~python\nx = 1\n~~~", "x = 1"));
    CHECK(code_is("```python title=x\nx = 1\n```", "x = 1"));
    CHECK(code_is("```  python  \nx = 1\n```", "x = 1"));
    /* other languages are prose, fences and all, and never code */
    CHECK(extracts("Install it:\n```bash\npip install numpy\n```", NULL,
                   "Install it:\n```bash\npip install numpy\n```", NULL, 0, 1));
    CHECK(extracts("```text\nhello\n```", NULL, "```text\nhello\n```", NULL, 0, 1));
    CHECK(extracts("```json\n{\"a\": 1}\n```\n", NULL, "```json\n{\"a\": 1}\n```", NULL, 0, 1));
    CHECK(extracts("```pythonic\nx\n```", NULL, "```pythonic\nx\n```", NULL, 0, 1));
}

static void test_blocks_and_prose(void)
{
    /* in order, a blank line between them; the prose keeps the other blocks */
    CHECK(extracts("First:\n```python\na = 1\n```\nthen run\n```bash\nls\n```\nand\n```py\nb = 2\n"
                   "```\nend",
                   "a = 1\n\nb = 2", "First:\nthen run\n```bash\nls\n```\nand\nend", NULL, 2, 1));
    /* where a block was, one blank line, not two */
    CHECK(extracts("A\n\n```python\nx\n```\n\nB", "x", "A\n\nB", NULL, 1, 0));
    /* blank lines at a block's ends go, those inside stay */
    CHECK(code_is("```python\n\n\nx = 1\n\ny = 2\n\n\n```", "x = 1\n\ny = 2"));
    /* an empty block counts but adds nothing */
    CHECK(extracts("```python\n```\n```python\nx\n```", "x", "", NULL, 2, 0));
    CHECK(extracts("```python\n```", "", "", NULL, 1, 0));
    /* CRLF replies */
    CHECK(extracts("Here:\r\n```python\r\nx = 1\r\n```\r\nDone.\r\n", "x = 1", "Here:\r\nDone.",
                   NULL, 1, 0));
    /* a block left open runs to the end */
    CHECK(extracts("Try:\n```python\nx = 1\ny = 2\n", "x = 1\ny = 2", "Try:", NULL, 1, 0));
    CHECK(extracts("Try:\n```python", "", "Try:", NULL, 1, 0));
}

static void test_fence_rules(void)
{
    /* up to three spaces before a fence, removed from the block's lines too */
    CHECK(code_is("   ```python\n   x = 1\n   if x:\n       y = 2\n   ```",
                  "x = 1\nif x:\n    y = 2"));
    CHECK(code_is(" ```python\nx = 1\n  ```", "x = 1"));
    /* four are an indented code block: no fence */
    CHECK(extracts("    ```python\n    x = 1\n    ```", NULL, "```python\n    x = 1\n    ```",
                   "```python\n    x = 1\n    ```", 0, 0));
    /* a closing fence is at least as long as the opening one, of the same character */
    CHECK(
        code_is("````python\n```\nnot the end\n```\nx = 1\n````", "```\nnot the end\n```\nx = 1"));
    CHECK(code_is("```python\nx = 1\n`````", "x = 1"));
    CHECK(code_is("~~~python\nx = 1\n```\ny = 2\n~~~", "x = 1\n```\ny = 2"));
    CHECK(code_is("```python\nx = 1\n``` \t", "x = 1"));
    /* text after a fence closes nothing */
    CHECK(code_is("```python\nx = 1\n``` extra\ny = 2\n```", "x = 1\n``` extra\ny = 2"));
    /* backticks in the info string: inline code, not a fence */
    CHECK(extracts("Use ```print(1)``` here", NULL, "Use ```print(1)``` here",
                   "Use ```print(1)``` here", 0, 0));
    CHECK(extracts("```x = 1``` at a line's start\nx", NULL, "```x = 1``` at a line's start\nx",
                   "```x = 1``` at a line's start\nx", 0, 0));
    CHECK(extracts("``python\nx\n``", NULL, "``python\nx\n``", "``python\nx\n``", 0, 0));
}

static void test_smuggling(void)
{
    /* a python block inside a text block is text */
    CHECK(extracts("```text\n```python\nimport os\n```\n", NULL,
                   "```text\n```python\nimport os\n```", NULL, 0, 1));
    /* "``` python" is no closing fence: the text block goes on to the real one */
    CHECK(extracts("```text\nhello\n``` python\nimport os\n```\nok", NULL,
                   "```text\nhello\n``` python\nimport os\n```\nok", NULL, 0, 1));
    /* a longer fence hides shorter ones from the reader, not from the parser */
    CHECK(extracts("````markdown\n```python\nimport os\n```\n````\n```python\nx = 1\n```", "x = 1",
                   "````markdown\n```python\nimport os\n```\n````", NULL, 1, 1));
    /* "~~~True" is valid Python: a reply with a fenced block is never run whole */
    CHECK(extracts("~~~True\nimport os\n~~~ 0", NULL, "~~~True\nimport os\n~~~ 0", NULL, 0, 1));
    /* reasoning goes first, so a block inside it is never code */
    CHECK(extracts("<think>```python\nimport os\n```</think>No code needed.", NULL,
                   "No code needed.", "No code needed.", 0, 0));
}

static void test_reasoning(void)
{
    CHECK(extracts("<think>\nThe user wants a sum.\nI'll use ```python.\n</think>\n\nHere:\n"
                   "```python\nprint(1 + 1)\n```",
                   "print(1 + 1)", "Here:", NULL, 1, 0));
    CHECK(extracts("<think>a</think>One<think>b\nc</think> two", NULL, "One two", "One two", 0, 0));
    /* one left open drops the rest */
    CHECK(extracts("Answer\n<think>```python\nbad()\n```", NULL, "Answer", "Answer", 0, 0));
    char *s = extract_without_reasoning("a<think>b</think>c<think>d</think>e", 35);
    CHECK(s && strcmp(s, "ace") == 0);
    free(s);
    s = extract_without_reasoning("a<think>b</thin", 15);
    CHECK(s && strcmp(s, "a") == 0);
    free(s);
    s = extract_without_reasoning("x <think", 8); /* no tag: kept */
    CHECK(s && strcmp(s, "x <think") == 0);
    free(s);
    s = extract_without_reasoning(NULL, 0);
    CHECK(s && strcmp(s, "") == 0);
    free(s);
    s = extract_without_reasoning("<think>x</think>", 9); /* only what len says is read */
    CHECK(s && strcmp(s, "") == 0);
    free(s);
}

static void test_unfenced_and_empty(void)
{
    CHECK(extracts("x = 1\nprint(x)\n", NULL, "x = 1\nprint(x)", "x = 1\nprint(x)", 0, 0));
    CHECK(extracts("<think>hmm</think>\n  x = 1  \n", NULL, "x = 1", "x = 1", 0, 0));
    CHECK(extracts("", NULL, "", "", 0, 0));
    CHECK(extracts(" \n\t\r\n", NULL, "", "", 0, 0));
    struct extraction e;
    CHECK(extract_reply(NULL, 0, &e) && !e.code && e.prose && !e.prose[0] && e.unfenced &&
          !e.unfenced[0]);
    extraction_clear(&e);
    CHECK(!e.prose && !e.code && !e.unfenced);
    extraction_clear(&e); /* twice is harmless */
}

/* Untrusted replies: random mixes of the characters that matter never break the invariants. */
static void test_random_replies(void)
{
    static const char alphabet[] = "``~~ \n\n\r\tpy<>/thinkx\0";
    unsigned x = 2463534242u;
    bool ok = true;
    char reply[300];
    for (int round = 0; round < 3000; round++) {
        size_t len = round % sizeof reply;
        for (size_t i = 0; i < len; i++) {
            x ^= x << 13, x ^= x >> 17, x ^= x << 5;
            reply[i] = alphabet[x % (sizeof alphabet - 1)];
        }
        struct extraction e;
        ok = ok && extract_reply(reply, len, &e);
        ok = ok && e.prose && strlen(e.prose) <= len;
        ok = ok && (e.code ? e.blocks > 0 && strlen(e.code) <= len : e.blocks == 0);
        ok = ok && (!e.unfenced == (e.blocks + e.other_blocks > 0));
        extraction_clear(&e);
    }
    CHECK(ok);
    /* one line of 100000 backticks: an opening fence with nothing after it */
    size_t big = 100000;
    char *ticks = malloc(big);
    memset(ticks, '`', big);
    struct extraction e;
    CHECK(extract_reply(ticks, big, &e) && e.blocks == 1 && e.code && !e.code[0]);
    extraction_clear(&e);
    free(ticks);
}

int main(void)
{
    test_languages();
    test_blocks_and_prose();
    test_fence_rules();
    test_smuggling();
    test_reasoning();
    test_unfenced_and_empty();
    test_random_replies();
    return check_summary("extract");
}
