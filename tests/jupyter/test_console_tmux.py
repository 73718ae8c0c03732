"""jupyter console in a real terminal (tmux), as a person uses it, against the scripted model
server (tests/harness/model_server.py): a ``%%python`` cell, a request in plain language (the
screen shows the model's code, what it printed and the cost line), Ctrl-C on a running cell and
on a request while the model writes, ``%agent``, and Ctrl-D to leave, which takes the kernel and its jail along.

The console is Debian's, with the one-line fix of its Ctrl-C bug (jupyter_console#296, any
kernel; see harness/console_sigint_fix.py): without it Ctrl-C never reaches a kernel."""

import re
import shutil
import sys
import time

import pytest

import harness
from harness import REPO_ROOT, artifacts_dir, describe, snapshot_tree, wait_gone
from harness.model_server import ModelServer
from harness.tmux import Tmux

pytestmark = pytest.mark.warden_only

PROMPT = r"In \[%d\]: "
REQUEST = "print the sum of the squares from 1 to 10"
MODEL_CODE = "total = sum(i * i for i in range(1, 11))\nprint('sum of squares', total)"


def console(srv, workdir, tmp_path, *extra):
    reason = harness.warden_missing_reason() or (None if shutil.which("tmux") else
                                                 "tmux is not installed (.ci/setup installs it)")
    if reason:
        pytest.fail(reason, pytrace=False)
    env = {"OPENAI_BASE_URL": srv.openai_base, "WARDEN_AUDIT": str(tmp_path / "audit.jsonl"),
           "TERM": "xterm-256color", "JUPYTER_CONFIG_DIR": str(tmp_path / "config")}
    # is_complete is answered by the kernel, but on a machine this loaded 1 s (the default, after
    # which the console stops asking for good) is too short a wait
    argv = [sys.executable, str(REPO_ROOT / "tests" / "harness" / "console_sigint_fix.py"),
            "--kernel", "warden",
            "--ZMQTerminalInteractiveShell.kernel_timeout=60",
            "--ZMQTerminalInteractiveShell.kernel_is_complete_timeout=30", *extra]
    return Tmux(argv, env=env, cwd=workdir)


def type_cell(term, lines):
    for line in lines:
        term.type_line(line)


def test_console_session_in_a_terminal(workdir, tmp_path):
    with ModelServer() as srv, console(srv, workdir, tmp_path) as term:
        try:
            session(term, srv)
        finally:
            term.save(str(artifacts_dir() / "console_session.txt"))


def session(term, srv):
    term.expect(PROMPT % 1, timeout=90)
    tree = snapshot_tree(term.pid)
    assert len(tree) > 1, "no kernel under jupyter console:\n" + describe(tree)

    type_cell(term, ["%%python", "x = 6 * 7", "print('answer', x)", ""])
    term.expect(r"^answer 42$")
    term.expect(PROMPT % 2)

    srv.add(text="Here is the code:\n```python\n%s\n```" % MODEL_CODE)
    term.type_line(REQUEST)
    term.expect(r"^# attempt 1 of 3$", timeout=90)
    for line in MODEL_CODE.splitlines():  # the model's code, as it will run
        term.expect("^" + re.escape(line) + "$")
    term.expect(r"^sum of squares 385$")
    term.expect(r"^scripted-model · 1 attempt · \d+ in / \d+ out tokens$")
    term.expect(PROMPT % 3)
    (request,) = srv.completions()
    assert REQUEST in request.json["messages"][-1]["content"]
    assert "x" in str(request.json["messages"])  # the namespace the first cell made

    type_cell(term, ["%%python", "import time", "print('sleeping', flush=True)",
                     "time.sleep(600)", ""])
    term.expect(r"^sleeping$")
    interrupted = time.monotonic()
    term.keys("C-c")
    term.expect(r"KeyboardInterrupt")
    term.expect(PROMPT % 4)
    assert time.monotonic() - interrupted < 30

    # Ctrl-C while the model is still writing: the request ends at once, nothing of it runs
    srv.add(text="```python\nprint('never printed')\n```", chunk_size=1, chunk_delay=1.0)
    term.type_line("print something slowly")
    srv.wait_requests(2, timeout=60)
    term.expect(r"\(the model is writing code\)")
    interrupted = time.monotonic()
    term.keys("C-c")
    term.expect(r"KeyboardInterrupt: interrupted while waiting for the model")
    term.expect(PROMPT % 5)
    assert time.monotonic() - interrupted < 30
    assert "never printed" not in term.screen()

    term.type_line("%agent")
    for words in ("provider: openai", "base URL: " + srv.openai_base, "model: scripted-model"):
        term.expect(re.escape(words))
    term.expect(PROMPT % 6)

    type_cell(term, ["%%python", "print('still', x)", ""])  # the interrupts kept the namespace
    term.expect(r"^still 42$")
    term.expect(PROMPT % 7)

    term.keys("C-d")
    term.expect(r"Do you really want to exit \(\[y\]/n\)\?")
    term.type_line("y")
    term.expect(r"Shutting down kernel")
    assert term.wait_exit() == 0, term.screen()[-3000:]
    left = wait_gone(tree, timeout=30)
    assert not left, "left after jupyter console exited:\n" + describe(left)
    assert len(srv.completions()) == 2  # commands and %%python cells never reach the model
