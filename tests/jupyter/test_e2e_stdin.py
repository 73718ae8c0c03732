"""End-to-end, stdin (through jupyter_client, tests/harness/): input() and getpass round trips,
input() in a cell that does not allow stdin, and a worker that dies at the prompt."""

import os
import signal

from e2e_helpers import ok, result_text, warden_only
from harness import describe, process_tree, python


def test_input_round_trip(kernel):
    r = ok(kernel.run(python("name = input('Your name: ')\nprint('hello ' + name)"),
                      allow_stdin=True, stdin=["Ada"]))
    assert r.input_requests == [{"prompt": "Your name: ", "password": False}]
    assert "hello Ada" in r.stdout
    assert result_text(ok(kernel.run(python("name")))) == "'Ada'"


def test_two_inputs_in_one_cell(kernel):
    r = ok(kernel.run(python("a = input('a? ')\nb = input('b? ')\nprint(a + b)"),
                      allow_stdin=True, stdin=["12", "34"]))
    assert [q["prompt"] for q in r.input_requests] == ["a? ", "b? "]
    assert "1234" in r.stdout


def test_input_without_allow_stdin_is_a_clear_error(kernel):
    r = kernel.run(python("input('prompt: ')"), allow_stdin=False, timeout=30)
    assert r.status == "error", r.summary()
    text = r.error_text.lower()
    assert "stdin" in text or "input" in text, text
    assert r.input_requests == []
    ok(kernel.run(python("1")))


def test_getpass(kernel):
    r = ok(kernel.run(python("import getpass\npw = getpass.getpass('Password: ')\n"
                             "print(len(pw))"), allow_stdin=True, stdin=["s3cret"]))
    assert len(r.input_requests) == 1
    assert r.input_requests[0]["prompt"] == "Password: "
    assert r.input_requests[0]["password"] is True
    assert r.stdout.strip().endswith("6"), r.summary()
    assert "s3cret" not in r.stdout + r.stderr


def _comm(pid):
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return None


@warden_only
def test_worker_death_at_the_prompt_ends_the_cell(kernel):
    """The worker dies while input() waits for the user: the cell ends with the cause, without
    anyone answering, and the next cell gets a fresh worker."""
    ok(kernel.run(python("lost = 1")))
    ex = kernel.execute(python("input('never answered: ')"), allow_stdin=True, stdin=[])
    ex.wait_for(lambda r: r.input_requests, timeout=30, what="the input request")
    workers = [p for p in process_tree(kernel.pid)[1:] if _comm(p) == "python3"]
    assert workers, describe(process_tree(kernel.pid))
    for pid in workers:  # the active worker and the standby alike
        os.kill(pid, signal.SIGKILL)
    r = ex.result(timeout=30)
    assert r.status == "error", r.summary()
    assert "sigkill" in r.error_text.lower() or "signal 9" in r.error_text, r.error_text
    assert result_text(ok(kernel.run(python("'lost' in globals()"), timeout=60))) == "False"
