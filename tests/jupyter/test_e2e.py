"""End-to-end tests through jupyter_client (tests/harness.py): what a notebook or console sees.

Run: /usr/bin/python3 -m pytest tests/jupyter -q        (WARDEN_TEST_KERNEL=python3: ipykernel)

Ordering is asserted on events (message arrival, kernel-stamped header dates), never on sleeps.
"""

import base64
import re
import signal

import pytest
import zmq

from harness import (IS_WARDEN, Kernel, PYTHON_PREFIX, describe, python, snapshot_tree,
                     strip_ansi, wait_gone)

warden_only = pytest.mark.warden_only

PNG_1PX = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC")


def ok(r):
    assert r.status == "ok", r.summary()
    return r


def result_text(r):
    assert len(r.results) == 1, r.summary()
    return r.results[0]["text/plain"]


def apply_completion(code, reply, match):
    return code[:reply["cursor_start"]] + match + code[reply["cursor_end"]:]


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


def test_every_request_has_busy_and_idle(kernel):
    for msg_type, content in [("kernel_info_request", {}),
                              ("complete_request", {"code": python("pri"),
                                                    "cursor_pos": len(python("pri"))}),
                              ("is_complete_request", {"code": python("x = 1\n\n")}),
                              ("comm_info_request", {}),
                              ("inspect_request", {"code": python("len"),
                                                   "cursor_pos": len(python("len")),
                                                   "detail_level": 0}),
                              ("history_request", {"hist_access_type": "tail", "n": 1,
                                                   "output": False, "raw": True})]:
        rep = kernel.request(msg_type, content)
        states = [m["content"]["execution_state"] for m in rep.iopub if m["msg_type"] == "status"]
        assert states == ["busy", "idle"], (msg_type, states)
        assert rep.msg["msg_type"] == msg_type.replace("_request", "_reply")


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
# Rich outputs


def test_dataframe_renders_as_html_table(kernel):
    r = ok(kernel.run(python("import pandas as pd\n"
                             "pd.DataFrame({'a': [1, 2], 'b': ['x', 'y']})")))
    assert len(r.results) == 1, r.summary()
    data = r.results[0]
    assert "<table" in data["text/html"]
    assert "text/plain" in data and "a" in data["text/plain"]


def test_matplotlib_show_publishes_png(kernel):
    r = ok(kernel.run(python("import matplotlib.pyplot as plt\n"
                             "plt.plot([1, 2, 3], [3, 1, 2])\nplt.title('t')\nplt.show()"),
                      timeout=120))
    pngs = [d for d in r.displays if "image/png" in d]
    assert len(pngs) == 1, r.summary()
    assert "text/plain" in pngs[0]
    assert base64.b64decode(pngs[0]["image/png"])[:8] == b"\x89PNG\r\n\x1a\n"
    # shown figures are closed: the next cell publishes nothing
    r = ok(kernel.run(python("x = 1")))
    assert r.displays == []


def test_open_figure_flushed_at_end_of_cell(kernel):
    r = ok(kernel.run(python("import matplotlib.pyplot as plt\nfig, ax = plt.subplots()\n"
                             "ax.bar(['a', 'b'], [1, 2])\nNone"), timeout=120))
    assert [d for d in r.displays if "image/png" in d], r.summary()


def test_ipython_display_html_markdown_image(kernel):
    r = ok(kernel.run(python(
        "import base64\nfrom IPython.display import display, HTML, Markdown, Image\n"
        "display(HTML('<i>html</i>'))\ndisplay(Markdown('**md**'))\n"
        f"display(Image(data=base64.b64decode({base64.b64encode(PNG_1PX).decode()!r})))")))
    assert len(r.displays) == 3, r.summary()
    html, md, img = r.displays
    assert html["text/html"] == "<i>html</i>"
    assert md["text/markdown"] == "**md**"
    assert base64.b64decode(img["image/png"]) == PNG_1PX
    for d in r.displays:
        assert "text/plain" in d


def test_rich_reprs_of_the_result(kernel):
    r = ok(kernel.run(python(
        "class Rich:\n"
        "    def __repr__(self): return 'Rich()'\n"
        "    def _repr_html_(self): return '<b>rich</b>'\n"
        "    def _repr_markdown_(self): return '*rich*'\n"
        "    def _repr_latex_(self): return '$r$'\n"
        "    def _repr_json_(self): return {'rich': 1}\n"
        "    def _repr_svg_(self): return '<svg xmlns=\"http://www.w3.org/2000/svg\"></svg>'\n"
        "Rich()")))
    data = r.results[0]
    assert data["text/plain"] == "Rich()"
    assert data["text/html"] == "<b>rich</b>"
    assert data["text/markdown"] == "*rich*"
    assert data["text/latex"] == "$r$"
    assert data["application/json"] == {"rich": 1}
    assert "<svg" in data["image/svg+xml"]


def test_update_display(kernel):
    # Updates of one display within a cell may be coalesced (only the latest matters to what is
    # shown), so each cell checks the display's final content.
    r = ok(kernel.run(python(
        "from IPython.display import display, update_display\n"
        "h = display('first', display_id=True)\n"
        "h.update('second')")))
    kinds = [t for t, c in r.outputs]
    assert kinds[0] == "display_data" and set(kinds[1:]) == {"update_display_data"}, r.summary()
    display_id = r.outputs[0][1].get("transient", {}).get("display_id")
    assert display_id, r.summary()
    assert r.outputs[0][1]["data"]["text/plain"] == "'first'"
    assert r.outputs[-1][1]["data"]["text/plain"] == "'second'"
    assert all(c["transient"]["display_id"] == display_id for t, c in r.outputs[1:])

    r = ok(kernel.run(python("update_display('third', display_id=h.display_id)\n"
                             "h2 = display('shown again', display_id=h.display_id)")))
    kinds = [t for t, c in r.outputs]
    assert kinds == ["update_display_data", "display_data"], r.summary()
    assert [c["data"]["text/plain"] for t, c in r.outputs] == ["'third'", "'shown again'"]
    assert all(c["transient"]["display_id"] == display_id for t, c in r.outputs)


def test_clear_output(kernel):
    r = ok(kernel.run(python(
        "from IPython.display import clear_output\n"
        "print('a', flush=True)\nclear_output()\nprint('b', flush=True)\n"
        "clear_output(wait=True)\nprint('c')")))
    seq = [(t, c.get("text", c.get("wait"))) for t, c in r.outputs]
    assert seq == [("stream", "a\n"), ("clear_output", False), ("stream", "b\n"),
                   ("clear_output", True), ("stream", "c\n")], r.summary()


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
# Interrupts


INTERRUPTIBLE = {
    "busy_loop": "while True:\n    pass",
    "sleep": "import time\ntime.sleep(100)",
}


@pytest.mark.parametrize("name", sorted(INTERRUPTIBLE))
def test_interrupt(kernel, name):
    ok(kernel.run(python("kept = 'yes'")))
    ex = kernel.execute(python("print('started', flush=True)\n" + INTERRUPTIBLE[name]))
    ex.wait_for(lambda r: "started" in r.stdout, timeout=30, what="cell start")
    kernel.interrupt()
    r = ex.result(timeout=30)
    assert r.status == "error", r.summary()
    assert r.error["ename"] == "KeyboardInterrupt", r.summary()
    assert result_text(ok(kernel.run(python("kept")))) == "'yes'"


def test_sigint_to_kernel_pid_only_interrupts(kernel):
    """VS Code sends SIGINT to the kernel's pid, not to its process group."""
    ok(kernel.run(python("kept = 'still here'")))
    ex = kernel.execute(python("print('started', flush=True)\nwhile True:\n    pass"))
    ex.wait_for(lambda r: "started" in r.stdout, timeout=30, what="cell start")
    kernel.signal(signal.SIGINT)
    r = ex.result(timeout=30)
    assert r.status == "error" and r.error["ename"] == "KeyboardInterrupt", r.summary()
    assert result_text(ok(kernel.run(python("kept")))) == "'still here'"


@pytest.mark.parametrize("channel", [
    "control",
    # VS Code once sent it on shell: it must not wait behind the running execute
    pytest.param("shell", marks=warden_only),
])
def test_interrupt_request(kernel, channel):
    ex = kernel.execute(python("print('started', flush=True)\nimport time\ntime.sleep(100)"))
    ex.wait_for(lambda r: "started" in r.stdout, timeout=30, what="cell start")
    rep = kernel.request("interrupt_request", channel=channel, wait_idle=False)
    assert rep.msg["msg_type"] == "interrupt_reply"
    if IS_WARDEN:  # ipykernel 6.17 sends an empty content
        assert rep.content["status"] == "ok"
    r = ex.result(timeout=30)
    assert r.status == "error" and r.error["ename"] == "KeyboardInterrupt", r.summary()
    ok(kernel.run(python("1")))


# ---------------------------------------------------------------------------------------------
# Worker death (warden: the worker is a separate process; ipykernel would die itself)


DEATHS = {
    "os_exit_3": ("import os\nos._exit(3)", [("exit",), ("3",)]),
    "sigkill_self": ("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)",
                     [("sigkill", "signal 9")]),
}


@warden_only
@pytest.mark.parametrize("name", sorted(DEATHS))
def test_worker_death_is_reported_and_next_cell_gets_fresh_worker(kernel, name):
    code, words = DEATHS[name]
    pid = kernel.pid
    ok(kernel.run(python("lost = 1")))
    r = kernel.run(python(code), timeout=60)
    assert r.status == "error", r.summary()
    text = r.error_text.lower()
    for alternatives in words:
        assert any(w in text for w in alternatives), f"cause {alternatives} not named: {text!r}"
    assert kernel.is_alive() and kernel.pid == pid
    r = ok(kernel.run(python("'lost' in globals()"), timeout=60))
    assert result_text(r) == "False"
    assert result_text(ok(kernel.run(python("1 + 1")))) == "2"


@warden_only
def test_history_survives_worker_death(kernel):
    ok(kernel.run(python("before_death = 1")))
    kernel.run(python("import os\nos._exit(1)"), timeout=60)
    ok(kernel.run(python("after_death = 2")), )
    hist = kernel.history(hist_access_type="tail", n=3)["history"]
    assert [h[2] for h in hist] == [python("before_death = 1"), python("import os\nos._exit(1)"),
                                    python("after_death = 2")], hist


# ---------------------------------------------------------------------------------------------
# stdin


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


# ---------------------------------------------------------------------------------------------
# Cells that are not %%python


@warden_only
def test_non_python_cell_says_agent_not_available(kernel):
    r = kernel.run("What is 2 + 2?")
    assert r.status == "error", r.summary()
    text = r.error_text.lower()
    assert "agent" in text, text
    assert "not available" in text or "not yet" in text, text
    assert r.results == [] and r.displays == [] and r.stdout == "", r.summary()
    assert result_text(ok(kernel.run(python("2 + 2")))) == "4"


# ---------------------------------------------------------------------------------------------
# kernel_info, control, heartbeat


@pytest.mark.parametrize("channel", ["shell", "control"])
def test_kernel_info(kernel, channel):
    rep = kernel.request("kernel_info_request", channel=channel)
    c = rep.content
    assert rep.msg["msg_type"] == "kernel_info_reply"
    assert c["status"] == "ok"
    assert re.fullmatch(r"5\.\d+", c["protocol_version"]), c
    assert c["implementation"] == ("warden" if IS_WARDEN else "ipython")
    assert isinstance(c["implementation_version"], str)
    li = c["language_info"]
    assert li["name"] == "python"
    assert li["file_extension"] == ".py"
    assert li["mimetype"] == "text/x-python"
    assert isinstance(c["banner"], str)
    states = [m["content"]["execution_state"] for m in rep.iopub if m["msg_type"] == "status"]
    assert states == ["busy", "idle"]


def test_control_and_heartbeat_answer_while_a_cell_runs(kernel):
    ex = kernel.execute(python("import time\nprint('sleeping', flush=True)\ntime.sleep(5)"))
    ex.wait_for(lambda r: "sleeping" in r.stdout, timeout=30, what="cell start")
    rep = kernel.request("kernel_info_request", channel="control", wait_idle=False)
    assert rep.content["status"] == "ok"
    assert ex.snapshot().reply is None, "execute finished before control was answered"

    info = kernel.connection_info
    ctx = zmq.Context.instance()
    hb = ctx.socket(zmq.REQ)
    hb.linger = 0
    try:
        hb.connect(f"{info['transport']}://{info['ip']}:{info['hb_port']}")
        hb.send(b"ping-while-busy")
        assert hb.poll(4000), "no heartbeat echo while a cell runs"
        assert hb.recv() == b"ping-while-busy"
    finally:
        hb.close()
    assert ex.snapshot().reply is None, "heartbeat only answered after the cell"

    r = ok(ex.result(timeout=30))
    assert rep.time < r.reply_time


# ---------------------------------------------------------------------------------------------
# history, comm_info, is_complete, complete, inspect


def test_history_tail_range_search(kernel):
    codes = [python(f"hist_value_{i} = {i} * 10") for i in range(3)]
    for code in codes:
        ok(kernel.run(code))
    ok(kernel.run(python("hist_value_1 + 2")))
    tail = kernel.history(hist_access_type="tail", n=4, output=False, raw=True)
    assert tail["status"] == "ok"
    entries = tail["history"]
    assert [e[2] for e in entries] == codes + [python("hist_value_1 + 2")], entries
    session, start = entries[0][0], entries[0][1]
    assert [e[1] for e in entries] == [start, start + 1, start + 2, start + 3]

    rng = kernel.history(hist_access_type="range", session=session, start=start,
                         stop=start + 2, output=False, raw=True)["history"]
    assert [e[2] for e in rng] == codes[:2], rng
    assert [e[1] for e in rng] == [start, start + 1]
    for e in rng:
        assert e[0] == session or (not IS_WARDEN and e[0] == 0), e

    found = kernel.history(hist_access_type="search", pattern="*hist_value_1*", n=10,
                           output=False, raw=True)["history"]
    assert codes[1] in [e[2] for e in found], found
    assert python("hist_value_1 + 2") in [e[2] for e in found], found
    assert codes[0] not in [e[2] for e in found]

    with_output = kernel.history(hist_access_type="tail", n=1, output=True, raw=True)["history"]
    assert len(with_output) == 1 and len(with_output[0][2]) == 2
    assert with_output[0][2][0] == python("hist_value_1 + 2")
    if IS_WARDEN:
        assert with_output[0][2][1] == "12"


def test_comm_info_is_empty(kernel):
    assert kernel.comm_info() == {"status": "ok", "comms": {}}
    c = kernel.comm_info(target_name="jupyter.widget")
    assert c["status"] == "ok" and c["comms"] == {}


def test_is_complete(kernel):
    p = PYTHON_PREFIX
    c = kernel.is_complete(p + "x = 1")
    assert c["status"] == "incomplete" and isinstance(c["indent"], str), c
    assert kernel.is_complete(p + "x = 1\n\n")["status"] == "complete"
    assert kernel.is_complete(p + "if True:\n    y = 2\n\n")["status"] == "complete"
    assert kernel.is_complete("%%python")["status"] == "incomplete"
    assert kernel.is_complete(python("1 = 2\n\n"))["status"] == "invalid"


def test_complete_names_attributes_and_cursor(kernel):
    ok(kernel.run(python("import os\nmy_variable_alpha = 1\nmy_variable_beta = 2")))
    code = python("os.pa")
    c = kernel.complete(code)
    assert c["status"] == "ok"
    assert c["cursor_end"] == len(code)
    assert any(apply_completion(code, c, m).endswith("os.path") for m in c["matches"]), c

    code = python("my_variable_")
    c = kernel.complete(code)
    done = {apply_completion(code, c, m) for m in c["matches"]}
    assert {python("my_variable_alpha"), python("my_variable_beta")} <= done, c

    # cursor in the middle of the cell
    code = python("my_variable_al + 1")
    pos = len(python("my_variable_al"))
    c = kernel.complete(code, cursor_pos=pos)
    assert any(apply_completion(code, c, m) == python("my_variable_alpha + 1")
               for m in c["matches"]), c

    # cursor positions count code points, not bytes
    ok(kernel.run(python("größe_wert = 3")))
    code = python("s = 'é€'\ngröß")
    c = kernel.complete(code)
    assert c["cursor_end"] == len(code), c
    assert any(apply_completion(code, c, m).endswith("größe_wert") for m in c["matches"]), c


def test_complete_module_name_in_import(kernel):
    code = python("import collec")
    c = kernel.complete(code)
    assert any(apply_completion(code, c, m).endswith("import collections")
               for m in c["matches"]), c


def test_inspect(kernel):
    ok(kernel.run(python("def documented(a, b=2):\n    '''Adds things up.'''\n    return a + b")))
    c = kernel.inspect(python("documented"))
    assert c["status"] == "ok" and c["found"] is True, c
    text = strip_ansi(c["data"]["text/plain"])
    assert "Adds things up." in text
    assert "(a, b=2)" in text
    c = kernel.inspect(python("no_such_name_anywhere"))
    assert c["status"] == "ok" and c["found"] is False, c


# ---------------------------------------------------------------------------------------------
# Notebook directory


def test_notebook_dir_under_private_parents(tmp_path):
    """pytest's tmp_path is under /tmp/pytest-of-USER (0700), like a notebook under a private
    home (/root in a container). The cell must start there and read the notebook's files."""
    (tmp_path / "data.csv").write_text("a,b\n1,2\n3,4\n")
    with Kernel(cwd=tmp_path) as k:
        r = ok(k.run(python("import os, pandas as pd\nprint(os.getcwd())\n"
                            "int(pd.read_csv('data.csv')['b'].sum())"), timeout=60))
        assert r.stdout.strip() == str(tmp_path)
        assert result_text(r) == "6"


# ---------------------------------------------------------------------------------------------
# Lifecycle: shutdown, restart


def test_shutdown_leaves_no_process(workdir):
    k = Kernel(cwd=workdir)
    k.start()
    try:
        spawn = ("import subprocess\n"
                 "child = subprocess.Popen(['sleep', '1000'])\n")
        if IS_WARDEN:
            # escapes the process group: only a pid namespace (or care) gets it
            spawn += "detached = subprocess.Popen(['sleep', '1001'], start_new_session=True)\n"
        ok(k.run(python(spawn)))
        running = k.execute(python("import time\nprint('busy', flush=True)\ntime.sleep(1000)"))
        running.wait_for(lambda r: "busy" in r.stdout, timeout=30, what="cell start")
        snap = snapshot_tree(k.pid)
        assert len(snap) >= 2, describe(snap)
        listing = describe(snap)
        k.shutdown()
        left = wait_gone(snap, timeout=15)
        assert not left, f"left after shutdown:\n{describe(left)}\nbefore:\n{listing}"
    finally:
        k.close()


@pytest.mark.parametrize("channel", ["control", "shell"])
def test_shutdown_request_exits_the_kernel(workdir, channel):
    """shutdown_request moved to control in protocol 5.4; it is still accepted on shell."""
    with Kernel(cwd=workdir) as k:
        ok(k.run(python("1")))
        snap = snapshot_tree(k.pid)
        rep = k.request("shutdown_request", {"restart": False}, channel=channel,
                        wait_idle=False)
        assert rep.msg["msg_type"] == "shutdown_reply"
        assert rep.content["status"] == "ok" and rep.content["restart"] is False, rep.content
        left = wait_gone(snap, timeout=15)
        assert not left, f"left after shutdown_request:\n{describe(left)}"


def test_restart_resets_state(kernel):
    ok(kernel.run(python("gone_after_restart = 1")))
    old = snapshot_tree(kernel.pid)
    kernel.restart()
    assert not wait_gone(old, timeout=15), describe(old)
    r = ok(kernel.run(python("'gone_after_restart' in globals()")))
    assert result_text(r) == "False"
    assert r.execution_count == 1
    assert result_text(ok(kernel.run(python("1 + 1")))) == "2"


# ---------------------------------------------------------------------------------------------
# Hostile input on the shell socket


def test_malformed_and_unsigned_messages_are_ignored(kernel):
    info = kernel.connection_info
    session = kernel.client.session
    ctx = zmq.Context.instance()
    sock = ctx.socket(zmq.DEALER)
    sock.linger = 0
    sock.connect(f"{info['transport']}://{info['ip']}:{info['shell_port']}")

    def frames_for(msg_type, content, signature=None, mangle=None):
        msg = session.msg(msg_type, content)
        frames = session.serialize(msg)  # [delim, sig, header, parent, metadata, content]
        if mangle:
            frames = mangle(frames)
            frames[1] = session.sign(frames[2:6])
        if signature is not None:
            frames[1] = signature
        return frames

    def good_round_trip(only_reply):
        """Send a signed kernel_info_request; wait for its reply. With only_reply, any other
        reply arriving first (to a message that should have been dropped) fails the test."""
        good = session.msg("kernel_info_request", {})
        sock.send_multipart(session.serialize(good))
        while True:
            assert sock.poll(10000), "kernel stopped answering after malformed messages"
            _idents, reply = session.feed_identities(sock.recv_multipart())
            reply = session.deserialize(reply)
            if reply["parent_header"].get("msg_id") == good["header"]["msg_id"]:
                assert reply["msg_type"] == "kernel_info_reply"
                return
            assert not only_reply, f"the kernel answered a message it should have dropped: {reply}"

    forged_code = python("forged = 1")
    unsigned_or_garbage = [
        frames_for("execute_request", {"code": forged_code, "silent": False},
                   signature=b"0" * 64),
        frames_for("execute_request", {"code": forged_code, "silent": False}, signature=b""),
        frames_for("kernel_info_request", {}, signature=b"not hex at all"),
        frames_for("kernel_info_request", {}, signature=b"A" * 64),
        [b"garbage"],
        [b"<IDS|MSG>"],
        [b"<IDS|MSG>", b"x"],
        [b"\xff\xfe\x00" * 1000],
        [b"<IDS|MSG>", b"", b"{", b"}", b"[", b"]"],
        [b"<IDS|MSG>", b"1" * 64, b"x" * (1 << 20), b"{}", b"{}", b"{}"],
    ]
    # validly signed, but not a well-formed message: the kernel may drop or answer them, but
    # must survive and keep answering
    signed_malformed = [
        frames_for("kernel_info_request", {}, mangle=lambda f: f[:2] + [b"{not json"] + f[3:]),
        frames_for("kernel_info_request", {}, mangle=lambda f: f[:2] + [b"{}"] + f[3:]),
        frames_for("kernel_info_request", {}, mangle=lambda f: f[:2] + [b"[]"] + f[3:]),
        frames_for("kernel_info_request", {}, mangle=lambda f: f[:2] + [b"\xff\xfe"] + f[3:]),
        frames_for("kernel_info_request", {}, mangle=lambda f: f[:5] + [b"[1, 2]"]),
        frames_for("kernel_info_request", {}, mangle=lambda f: f[:5] + [b"null"]),
        frames_for("execute_request", {"code": 12345}),
        frames_for("execute_request", {}),
        frames_for("complete_request", {"code": python("x"), "cursor_pos": -5}),
        frames_for("complete_request", {"code": python("x"), "cursor_pos": 10 ** 9}),
        frames_for("inspect_request", {"code": None, "cursor_pos": "x"}),
        frames_for("history_request", {"hist_access_type": "nonsense"}),
        frames_for("no_such_request", {}),
    ]
    try:
        for frames in unsigned_or_garbage:
            sock.send_multipart(frames)
        good_round_trip(only_reply=True)
        for frames in signed_malformed:
            sock.send_multipart(frames)
        good_round_trip(only_reply=False)
    finally:
        sock.close()
    assert kernel.is_alive()
    # A barrier: the malformed executes above may end in errors that abort executes queued
    # behind them (stop_on_error); once this one is answered, all of them have been handled.
    kernel.run(python("1"))
    r = ok(kernel.run(python("'forged' in globals()")))
    assert result_text(r) == "False", "a message with a bad signature was executed"
