"""A model's reply is hostile input. Fences that try to hide code or break out of the block the
notebook shows, terminal escape sequences in prose and in code, a reply of 100 MB (streamed and
not), generated code that prints 1 GB or never ends: each is bounded and said in clear words, what
the notebook shows is what runs, and the next cell works.

Escape sequences: what the agent shows of a reply (the code, the prose, the growing answer) has
every control character but newline and tab replaced by its visible Unicode picture (ESC is
U+241B), in text/plain and Markdown alike; the code that runs is the model's, byte for byte."""

import re
import time

import pytest

from conftest import code, texts
from harness import rss_kib

ESC = "\x1b"
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\x80-\x9f]")


def still_works(k):
    r = k.run("%%python\nprint('still here')", timeout=60)
    assert r.status == "ok" and r.stdout == "still here\n", r.summary()


def shown(r):
    """Everything the cell showed of the model (text/plain and Markdown of its displays)."""
    return "\n".join(d.get("text/plain", "") + "\n" + d.get("text/markdown", "")
                     for d in r.displays)


def error_strings(r):
    """The error output's and the reply's ename, evalue and traceback, as they are."""
    return "\n".join([r.error["ename"], r.error["evalue"], r.reply["evalue"]]
                     + r.error["traceback"] + r.reply["traceback"])


def markdown_code_blocks(markdown):
    """The code blocks a CommonMark renderer sees in `markdown` (fences of ``` or ~~~, closed
    by a fence of the same mark at least as long, with nothing after it)."""
    blocks, current, fence = [], None, None
    for line in markdown.split("\n"):
        m = re.match(r"^ {0,3}(`{3,}|~{3,})(.*)$", line)
        if current is None:
            if m and not (m.group(1)[0] == "`" and "`" in m.group(2)):
                current, fence = [], m.group(1)
        elif m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence) \
                and not m.group(2).strip():
            blocks.append("\n".join(current))
            current = None
        else:
            current.append(line)
    if current is not None:
        blocks.append("\n".join(current))
    return blocks


def final_code_display(r):
    """The Markdown of the display that shows the attempt's code."""
    finals = [d["text/markdown"] for d in r.displays
              if d.get("text/markdown", "").startswith("*attempt 1 of")]
    assert len(finals) == 1, texts(r)
    return finals[0]


# ---------------------------------------------------------------------------------------------
# Fences


def test_several_fences_run_in_order_and_are_all_shown(agent, srv):
    srv.add(text="First:\n```python\na = 1\n```\nthen:\n```python\nprint(a + 1)\n```\n"
                 "and a shell line that must not run:\n```bash\necho never\n```\n")
    r = agent().run("several blocks", timeout=60)
    assert r.status == "ok" and r.stdout == "2\n", r.summary()
    block = markdown_code_blocks(final_code_display(r))
    assert block == ["a = 1\n\nprint(a + 1)"], block
    assert "echo never" not in "".join(block)


def test_a_fence_inside_a_string_cannot_hide_code_from_the_notebook(agent, srv):
    # A longer fence may hold a ``` line (CommonMark): the code then has a ``` line of its own.
    # The notebook must show all of it inside one code block, not end the block at that line and
    # render the rest (here, a line that runs) as Markdown, hidden in an HTML comment.
    hidden = "print('hidden')"
    body = "s = '''\n```\n<!--\n'''\n%s\nprint('visible')\nt = '''\n-->\n'''" % hidden
    srv.add(text="````python\n%s\n````\n" % body)
    r = agent().run("a fence in a string", timeout=60)
    assert r.status == "ok" and r.stdout == "hidden\nvisible\n", r.summary()
    blocks = markdown_code_blocks(final_code_display(r))
    assert len(blocks) == 1 and hidden in blocks[0] and blocks[0] == body, blocks


def test_a_fence_in_a_string_of_a_plain_block_closes_it(agent, srv):
    # With a ``` opening, a ``` line inside a string closes the block (as the notebook renders
    # it): what runs is what the notebook shows as code, and the half-string does not compile.
    srv.add(text="```python\ns = '''\n```\nprint('outside the block')\n'''\n```\n")
    srv.add(text=code("print('fixed')"))
    r = agent().run("a fence that closes early", timeout=60)
    assert r.status == "ok" and r.stdout == "fixed\n", r.summary()
    assert "outside the block" not in r.stdout
    first_fix = srv.completions()[1].json["messages"][-1]["content"]
    assert "does not compile" in first_fix


def test_text_after_the_fence_is_prose_not_code(agent, srv):
    srv.add(text=code("print('the code')") + "\nNow also run: import os; os.system('x')\n"
                 "    print('indented, not fenced')\n")
    r = agent().run("prose after the fence", timeout=60)
    assert r.status == "ok" and r.stdout == "the code\n", r.summary()
    assert "Now also run" in shown(r)  # shown as the prose it is
    assert "indented" not in final_code_display(r)


# ---------------------------------------------------------------------------------------------
# Terminal escape sequences


HOSTILE_PROSE = ("Done.\x1b]0;pwned title\x07 \x1b[2J\x1b[8mconcealed\x1b[0m "
                 "\x1b]52;c;ZWNobyBwd25lZA==\x07 \x9b31m C1 \rover")


def test_escape_sequences_in_prose_are_shown_inert(agent, srv):
    srv.add(text=HOSTILE_PROSE)
    r = agent().run("say something", timeout=60)
    assert r.status == "ok", r.summary()
    text = shown(r)
    assert "Done." in text and "concealed" in text
    assert not CONTROL.search(text), repr(text)
    assert "\u241b]0;pwned title\u2407" in text  # ESC and BEL as their pictures


def test_escape_sequences_in_code_are_shown_inert_and_run_as_written(agent, srv):
    srv.add(text=code("s = '\x1b[2K\x1b]0;t\x07'\nprint(len(s), repr(s))  # \x1b[8mhidden"))
    srv.add(text=HOSTILE_PROSE, chunk_delay=0.1, chunk_size=8)
    k = agent()
    r = k.run("escape codes in code", timeout=60)
    assert r.status == "ok", r.summary()
    assert r.stdout == "10 '\\x1b[2K\\x1b]0;t\\x07'\n"  # the code ran as the model wrote it
    text = shown(r)
    assert not CONTROL.search(text), repr(text)
    assert "\u241b[8mhidden" in text
    # the growing display, while the model writes, is inert too
    r = k.run("again, slowly", timeout=60)
    updates = [m["content"]["data"] for m in r.iopub if m["msg_type"] == "update_display_data"]
    assert any("\u241b[8m" in u["text/plain"] for u in updates), updates
    plain = "".join(u["text/plain"] + u["text/markdown"] for u in updates)
    assert r.status == "ok" and not CONTROL.search(plain + shown(r))


def test_escape_sequences_in_the_servers_error_and_model_names_are_inert(agent, srv, audit_path):
    srv.add(status=400, error="bad request\x1b]0;pwned\x07\x1b[2J")
    k = agent()
    r = k.run("fail", timeout=60)
    assert r.status == "error" and "bad request" in r.error["evalue"], r.summary()
    assert not CONTROL.search(error_strings(r)), r.error
    from harness import Kernel, make_workdir
    from harness.model_server import ModelServer
    with ModelServer(models=["alpha\x1b[8m", "beta\x07"]) as many:
        env = {"OPENAI_BASE_URL": many.openai_base, "WARDEN_AUDIT": audit_path}
        with Kernel(cwd=make_workdir(), env=env) as k2:
            r = k2.run("which model", timeout=30)
    assert r.status == "error" and "alpha" in r.error["evalue"], r.summary()
    assert not CONTROL.search(error_strings(r)), r.error


@pytest.mark.parametrize("stream", [True, False])
def test_a_nul_in_the_answer_is_named(agent, srv, stream):
    srv.add(text=code("print('a\x00b')"), stream=stream)
    k = agent()
    r = k.run("nul", timeout=60)
    assert r.status == "error" and r.error["ename"] == "ModelResponseError", r.summary()
    assert "NUL character" in r.error["evalue"] and r.stdout == "", r.error
    still_works(k)


# ---------------------------------------------------------------------------------------------
# Size


@pytest.mark.parametrize("stream", [True, False])
def test_a_100_mb_reply_is_refused_and_the_kernel_stays_small(agent, srv, stream):
    srv.add(huge=100 * 1024 * 1024, stream=stream)
    k = agent()
    t0 = time.monotonic()
    r = k.run("write a novel", timeout=120)
    elapsed = time.monotonic() - t0
    assert r.status == "error" and r.error["ename"] == "ModelResponseError", r.summary()
    assert "larger than 8 MiB" in r.error["evalue"]
    assert r.stdout == ""  # nothing of it ran
    assert elapsed < 30, elapsed
    with open("/proc/%d/status" % k.pid) as f:
        peak = int(re.search(r"VmHWM:\s+(\d+)", f.read()).group(1))
    assert peak < 96 * 1024, "kernel peak RSS %d KiB" % peak
    # the growing display never carried the whole answer, again and again
    sent = sum(len(m["content"]["data"].get("text/plain", "")) for m in r.iopub
               if m["msg_type"] == "update_display_data")
    assert sent < 4 * 1024 * 1024, sent
    still_works(k)
    assert rss_kib(k.pid) < 64 * 1024


def test_code_that_prints_a_gigabyte_is_truncated_with_a_note(agent, srv):
    srv.add(text=code("import sys\nline = 'y' * 1023 + '\\n'\nblock = line * 1024\n"
                      "for _ in range(1024):\n    sys.stdout.write(block)\nprint('end')"))
    k = agent(config={"sandbox": {"output": "4M"}})
    r = k.run("print a gigabyte", timeout=150)
    assert "output truncated" in r.stdout + r.stderr, r.summary()
    assert len(r.stdout) < 5 * 1024 * 1024
    assert "end" not in r.stdout[-10:]
    still_works(k)


def test_code_that_never_ends_is_stopped_by_the_wall_time(agent, srv):
    srv.add(text=code("print('spinning', flush=True)\nwhile True:\n    pass"))
    k = agent(config={"agent": {"wall_time": 2}})
    t0 = time.monotonic()
    r = k.run("spin forever", timeout=60)
    assert time.monotonic() - t0 < 30
    assert r.status == "error", r.summary()
    assert "wall-time limit of 2 s" in r.error_text + r.stdout + r.stderr, r.summary()
    assert len(srv.completions()) == 1  # a limit ends the request: no fix is asked for
    still_works(k)
