"""End-to-end, execution (through jupyter_client, tests/harness/): state across cells, execution
counts, silent cells, the order and parents of a cell's messages, streams, errors and queued
executes after an error, and cells that are not %%python.

Ordering is asserted on events (message arrival, kernel-stamped header dates), never on sleeps.
"""

import re

from e2e_helpers import ok, result_text, warden_only
from harness import IS_WARDEN, python, strip_ansi


# ---------------------------------------------------------------------------------------------
# State, counters, silent


def test_state_across_cells(kernel):
    ok(kernel.run(python("x = 41\ndef double(v):\n    return 2 * v")))
    r = ok(kernel.run(python("double(x + 1) // 2")))
    assert result_text(r) == "42"
    r = ok(kernel.run(python("import math\nmath.floor(x / 2)")))
    assert result_text(r) == "20"


def test_execution_count_increments_only_with_store_history(kernel):
    r1 = ok(kernel.run(python("'one'")))
    n = r1.execution_count
    assert isinstance(n, int) and n >= 1
    assert r1.execute_input["execution_count"] == n
    assert [c["execution_count"] for t, c in r1.outputs if t == "execute_result"] == [n]
    ok(kernel.run(python("'not stored'"), store_history=False))
    ok(kernel.run(python("'silent'"), silent=True))
    r2 = ok(kernel.run(python("'two'")))
    assert r2.execution_count == n + 1, r2.summary()
    assert r2.execute_input["execution_count"] == n + 1


def test_silent_gives_no_execute_input_nor_result(kernel):
    r = ok(kernel.run(python("quiet = 5\nquiet * 2"), silent=True))
    kinds = [m["msg_type"] for m in r.iopub]
    assert "execute_input" not in kinds, r.summary()
    assert "execute_result" not in kinds, r.summary()
    assert r.states == ["busy", "idle"], r.summary()
    # the code did run
    assert result_text(ok(kernel.run(python("quiet")))) == "5"


# ---------------------------------------------------------------------------------------------
# Ordering and parent headers


def test_execute_message_order_and_parents(kernel):
    code = python("import sys\nprint('out')\nprint('err', file=sys.stderr)\n6 * 7")
    r = ok(kernel.run(code))
    kinds = [m["msg_type"] + (":" + m["content"]["execution_state"]
                              if m["msg_type"] == "status" else "") for m in r.iopub]
    assert kinds[0] == "status:busy", kinds
    assert kinds[1] == "execute_input", kinds
    assert kinds[-1] == "status:idle", kinds
    assert kinds.count("status:busy") == 1 and kinds.count("status:idle") == 1, kinds
    assert set(kinds[2:-1]) <= {"stream", "execute_result"}, kinds
    assert r.execute_input["code"] == code
    assert result_text(r) == "42"
    assert r.stdout == "out\n" and r.stderr == "err\n"
    session = r.reply_msg["parent_header"]["session"]
    for m in r.iopub + [r.reply_msg]:
        assert m["parent_header"]["msg_id"] == r.msg_id
        assert m["parent_header"]["msg_type"] == "execute_request"
        assert m["parent_header"]["session"] == session
    assert r.reply_msg["msg_type"] == "execute_reply"
    # order inside the kernel: busy <= execute_input <= outputs <= reply <= idle (header dates)
    dates = [m["header"]["date"] for m in r.iopub]
    if IS_WARDEN:  # ipykernel stamps streams when its IOPub thread flushes them
        assert dates == sorted(dates), dates
    assert dates[-2] <= r.reply_msg["header"]["date"] <= dates[-1]


# ---------------------------------------------------------------------------------------------
# Streams


def test_stream_order_kept_within_each_name(kernel):
    code = python("import sys\nfor i in range(300):\n"
                  "    print(f'o{i}')\n    sys.stderr.write(f'e{i}\\n')")
    r = ok(kernel.run(code))
    assert r.stdout == "".join(f"o{i}\n" for i in range(300))
    assert r.stderr == "".join(f"e{i}\n" for i in range(300))


def test_output_streams_before_the_reply(kernel):
    ex = kernel.execute(python("import time\nprint('first', flush=True)\n"
                               "time.sleep(3)\nprint('second')"))
    snap = ex.wait_for(lambda r: "first" in r.stdout, timeout=20, what="'first' on stdout")
    assert snap.reply is None, "the reply came before the cell's first output was delivered"
    assert "second" not in snap.stdout
    r = ok(ex.result(timeout=30))
    assert r.stdout == "first\nsecond\n"


def test_many_prints_are_coalesced(kernel):
    r = ok(kernel.run(python("for i in range(20000):\n    print(i)")))
    assert r.stdout == "".join(f"{i}\n" for i in range(20000))
    streams = [c for t, c in r.outputs if t == "stream"]
    assert len(streams) < 200, f"{len(streams)} stream messages for one fast loop"


@warden_only  # ipykernel 6.17 does not capture fd 1/2
def test_subprocess_and_fd_output_captured(kernel):
    r = ok(kernel.run(python("import os, subprocess\nos.system('echo from-system')\n"
                             "subprocess.run(['sh', '-c', 'echo from-sh >&2'])\n"
                             "os.write(1, b'from-fd1\\n')")))
    assert "from-system" in r.stdout, r.summary()
    assert "from-fd1" in r.stdout, r.summary()
    assert "from-sh" in r.stderr, r.summary()


# ---------------------------------------------------------------------------------------------
# Errors


def test_error_has_ename_evalue_and_cell_traceback(kernel):
    code = python("def f():\n    return 1 / 0\n\nf()")
    r = kernel.run(code)
    assert r.status == "error", r.summary()
    assert r.reply["ename"] == "ZeroDivisionError"
    assert r.reply["evalue"] == "division by zero"
    assert r.error is not None and r.error["ename"] == "ZeroDivisionError"
    assert [t for t, c in r.outputs] == ["error"], r.summary()
    tb = strip_ansi("\n".join(r.error["traceback"]))
    cell_name = r"Cell In\[(\d+)\]" if IS_WARDEN else r"Cell In ?\[(\d+)\]"
    m = re.search(cell_name, tb)
    assert m, tb
    assert int(m.group(1)) == r.execution_count
    assert "return 1 / 0" in tb, tb
    assert "ZeroDivisionError" in tb


def test_syntax_error(kernel):
    r = kernel.run(python("x = (1,\nprint('never')\n"))
    assert r.status == "error", r.summary()
    assert r.error["ename"] == "SyntaxError", r.summary()
    ok(kernel.run(python("1")))


def test_stop_on_error_aborts_queued_executes(kernel):
    e1 = kernel.execute(python("import time\ntime.sleep(1)\nraise RuntimeError('first fails')"))
    e2 = kernel.execute(python("ran_second = True"))
    e3 = kernel.execute(python("print('third ran')"))
    r1, r2, r3 = e1.result(), e2.result(), e3.result()
    assert r1.status == "error" and r1.error["ename"] == "RuntimeError", r1.summary()
    assert r2.status == "aborted", r2.summary()
    assert r3.status == "aborted", r3.summary()
    assert r3.stdout == ""
    # a cell sent after the error was answered runs normally; the aborted ones did not run
    r = ok(kernel.run(python("'ran_second' in globals()")))
    assert result_text(r) == "False"


def test_no_stop_on_error_runs_queued_executes(kernel):
    e1 = kernel.execute(python("import time\ntime.sleep(0.5)\nraise RuntimeError('x')"),
                        stop_on_error=False)
    e2 = kernel.execute(python("ran_second = True\nprint('second ran')"))
    assert e1.result().status == "error"
    r2 = ok(e2.result())
    assert r2.stdout == "second ran\n"


# ---------------------------------------------------------------------------------------------
# Cells that are not %%python


@warden_only
def test_request_without_a_model_says_how_to_configure_one(kernel):
    """No model configured (the harness's kernels have no key and no base URL): a request cell
    answers at once with the ways to configure one, and %%python cells work."""
    r = kernel.run("What is 2 + 2?")
    assert r.status == "error", r.summary()
    assert r.error["ename"] == "AgentNotConfigured", r.summary()
    for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "OPENAI_BASE_URL", "config.json"):
        assert name in r.error["evalue"], r.error["evalue"]
    assert r.results == [] and r.displays == [] and r.stdout == "", r.summary()
    assert result_text(ok(kernel.run(python("2 + 2")))) == "4"
