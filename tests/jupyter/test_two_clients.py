"""Two clients on one kernel, as when a notebook server's kernel is also opened with
`jupyter console --existing`: the console (in tmux, showing other clients' output) and a
jupyter_client client (the harness, which started the kernel). Both see every cell's iopub
stream, whoever ran it; an input() prompt goes only to the client whose cell asked, and its
answer comes back from there.

The console draws other clients' output over its own prompt now and then ("Remote Iit is Bob
[5]:"), its own glitch: the screen is matched on the words, not on whole lines."""

import re
import shutil
import sys

import pytest
from jupyter_client import BlockingKernelClient

import harness
from harness import Kernel, artifacts_dir, python
from harness.model_server import ModelServer
from harness.tmux import Tmux

pytestmark = pytest.mark.warden_only


def iopub_of_others(k, own_ids):
    """(msg_type, content) of the iopub messages the harness got for requests it did not send."""
    return [(m["header"]["msg_type"], m["content"]) for _, channel, m in k.log
            if channel == "iopub" and m["parent_header"].get("msg_id") not in own_ids]


def stdin_messages(k):
    return [m for _, channel, m in k.log if channel == "stdin"]


def test_two_clients_share_iopub_and_stdin_goes_to_the_asker(workdir, tmp_path):
    reason = harness.warden_missing_reason() or (None if shutil.which("tmux") else
                                                 "tmux is not installed (.ci/setup installs it)")
    if reason:
        pytest.fail(reason, pytrace=False)
    with ModelServer() as srv, Kernel(cwd=workdir, env={
            "OPENAI_BASE_URL": srv.openai_base,
            "WARDEN_AUDIT": str(tmp_path / "audit.jsonl")}) as k:
        argv = [sys.executable, "-m", "jupyter_console", "--existing", k.manager.connection_file,
                "--ZMQTerminalInteractiveShell.include_other_output=True",
                "--ZMQTerminalInteractiveShell.kernel_timeout=60",
                "--ZMQTerminalInteractiveShell.kernel_is_complete_timeout=30"]
        with Tmux(argv, env={"TERM": "xterm-256color",
                             "JUPYTER_CONFIG_DIR": str(tmp_path / "config")}) as console:
            console.expect(r"In \[\d+\]: ", timeout=90)
            own = set()

            # the harness's cell: its output reaches the console too
            r = k.run(python("print('from the notebook')"), timeout=60)
            own.add(r.reply_msg["parent_header"]["msg_id"])
            assert r.stdout == "from the notebook\n"
            console.expect(r"from the notebook(?!')")  # not the code's line

            # a request from the harness: the console sees the model's code and its output
            srv.add(text="```python\nprint('the model says', 6 * 7)\n```")
            r = k.run("say the answer", timeout=90)
            own.add(r.reply_msg["parent_header"]["msg_id"])
            assert r.status == "ok" and r.stdout == "the model says 42\n", r.summary()
            console.expect(r"print\('the model says', 6 \* 7\)")
            console.expect(r"the model says 42")

            # the console's cell asks for input: the prompt is the console's, not the harness's
            for line in ("%%python", "name = input('your name? ')", "print('hello', name)", ""):
                console.type_line(line)
            console.expect(r"your name\?[ ]*$")
            k.drain(1.0)
            assert stdin_messages(k) == []
            console.type_line("Ada")
            console.expect(r"hello Ada")
            k.drain(1.0)
            streams = [c["text"] for t, c in iopub_of_others(k, own) if t == "stream"]
            assert "hello Ada\n" in streams, "the harness did not see the console's output"

            # the harness's cell asks for input: it gets the prompt and answers it
            r = k.run(python("who = input('who is there? ')\nprint('it is', who)"), timeout=60,
                      allow_stdin=True, stdin=["Bob"])
            assert [q["prompt"] for q in r.input_requests] == ["who is there? "]
            assert r.stdout == "it is Bob\n", r.summary()
            console.expect(r"it is Bob")  # its output reaches the console too ...
            screen = console.screen()
            console.save(str(artifacts_dir() / "two_clients_console.txt"))
            assert "who is there?" not in screen[:screen.rfind("it is Bob")].replace(
                "input('who is there? ')", "")  # ... its prompt does not
            assert len(stdin_messages(k)) == 1
        assert len(srv.completions()) == 1


def test_only_the_client_that_was_asked_answers_its_input(kernel):
    """A second client's input_reply does not answer the first one's prompt: the kernel asked
    one client (the routing identity of the cell's request) and takes the answer from it only."""
    ex = kernel.execute(python("print('got', input('? '))"), allow_stdin=True)
    ex.wait_for(lambda r: r.input_requests, timeout=60, what="the input_request")
    other = BlockingKernelClient(connection_file=kernel.manager.connection_file)
    other.load_connection_file()
    other.start_channels()
    try:
        other.input("intruder")
        # two round trips on the other client's shell: by the second reply the kernel has gone
        # once more through its whole loop, stdin included, since the intruder's answer arrived
        for _ in range(2):
            other.kernel_info(reply=True, timeout=30)
    finally:
        other.stop_channels()
    kernel.client.input("owner")
    r = ex.result(timeout=60)
    assert r.stdout == "got owner\n", r.summary()
