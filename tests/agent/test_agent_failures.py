"""The parts fail. The model server closes the socket mid-stream, answers late or stalls between
chunks: bounded by the agent's timeouts, a clear error, and an interrupt ends the wait at once.
The worker is SIGKILLed (from outside, as the OOM killer or a person would) before the cell
starts, while it prints, while a plot renders (inside plt.savefig, plt.show and display), and
while the agent waits for the model: each cell says the worker died, the next cell runs, and
the history and the audit log stay whole."""

import json
import os
import signal
import sqlite3
import time

import pytest

from conftest import code
from harness import process_tree

NO_STANDBY = {"sandbox": {"standby": False}}


def still_works(k):
    r = k.run("%%python\nprint('still here')", timeout=60)
    assert r.status == "ok" and r.stdout == "still here\n", r.summary()


def worker_pids(k):
    """The Python workers of the kernel (the only one, with the standby off)."""
    found = []
    for pid in process_tree(k.pid):
        try:
            with open("/proc/%d/cmdline" % pid, "rb") as f:
                if b"warden_worker.py" in f.read():
                    found.append(pid)
        except OSError:
            pass
    return found


def kill_worker(k):
    pids = worker_pids(k)
    assert len(pids) == 1, pids
    os.kill(pids[0], signal.SIGKILL)
    return pids[0]


def assert_died(r):
    assert r.status == "error", r.summary()
    assert r.error["ename"] == "WorkerDied", r.summary()
    assert "SIGKILL" in r.error["evalue"] and "variables are lost" in r.error["evalue"], r.error


def records(path):
    with open(path) as f:
        return [json.loads(line) for line in f]  # every line whole JSON


# ---------------------------------------------------------------------------------------------
# The model server


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_the_server_closes_the_socket_mid_stream(agent, srv, provider):
    srv.add(text=code("print('never')"), cut_after=2, chunked=True)
    k = agent(provider=provider)
    r = k.run("go", timeout=60)
    assert r.status == "error" and r.error["ename"] == "ModelResponseError", r.summary()
    assert "cut" in r.error["evalue"] and r.stdout == ""
    srv.add(text=code("print('next')"))
    assert k.run("again", timeout=60).stdout == "next\n"


def test_a_late_first_byte_is_bounded_by_the_idle_timeout(agent, srv):
    for _ in range(3):
        srv.add(text=code("print('too late')"), delay=30)
    k = agent(config={"agent": {"idle_timeout": 1}})
    t0 = time.monotonic()
    r = k.run("are you there", timeout=60)
    assert time.monotonic() - t0 < 15
    assert r.status == "error" and r.error["ename"] == "ModelUnavailable", r.summary()
    assert "sent nothing for 1 s" in r.error["evalue"], r.error
    assert len(srv.completions()) == 3  # no answer at all is retried, like a connection error
    still_works(k)


def test_a_stall_between_chunks_is_bounded_by_the_idle_timeout(agent, srv):
    srv.add(text=code("print('stalled')"), stall_after=2)
    k = agent(config={"agent": {"idle_timeout": 1}})
    t0 = time.monotonic()
    r = k.run("stall", timeout=60)
    assert time.monotonic() - t0 < 10
    assert r.status == "error" and r.error["ename"] == "ModelUnavailable", r.summary()
    assert "sent nothing for 1 s" in r.error["evalue"], r.error
    assert len(srv.completions()) == 1  # half an answer is not asked again
    still_works(k)


def test_an_interrupt_ends_a_stall_at_once(agent, srv):
    srv.add(text=code("print('stalled')"), stall_after=2)
    k = agent()
    ex = k.execute("stall")
    ex.wait_for(lambda r: any(m["msg_type"] == "display_data" for m in r.iopub), timeout=30,
                what="the answer under way")
    srv.wait_requests(1, timeout=10)
    t0 = time.monotonic()
    k.interrupt()
    r = ex.result(timeout=10)
    assert time.monotonic() - t0 < 2.0
    assert r.status == "error" and r.error["ename"] == "KeyboardInterrupt", r.summary()
    still_works(k)


# ---------------------------------------------------------------------------------------------
# The worker


def test_worker_killed_before_the_cell_starts(agent, srv):
    k = agent(config=NO_STANDBY)
    assert k.run("%%python\nx = 1").status == "ok"
    old = kill_worker(k)
    deadline = time.monotonic() + 10
    while os.path.exists("/proc/%d" % old) and time.monotonic() < deadline:
        time.sleep(0.02)  # waits for a condition (the pid gone), with a deadline
    srv.add(text=code("print('fresh worker')"))
    r = k.run("go", timeout=60)
    assert r.status == "ok" and "fresh worker" in r.stdout, r.summary()
    assert "died since the previous cell" in r.stdout + r.stderr, r.summary()
    assert "variables are lost" in r.stdout + r.stderr
    r = k.run("%%python\nprint('x' in globals())")
    assert r.stdout == "False\n"


def test_worker_killed_mid_output(agent, srv, audit_path):
    srv.add(text=code("import itertools, time\nfor i in itertools.count():\n"
                      "    print('line', i, flush=True)\n    time.sleep(0.01)"))
    k = agent(config=NO_STANDBY)
    ex = k.execute("print forever")
    ex.wait_for(lambda r: "line 3" in r.stdout, timeout=60, what="output")
    kill_worker(k)
    r = ex.result(timeout=30)
    assert_died(r)
    assert len(srv.completions()) == 1  # a dead worker ends the request: no fix is asked
    still_works(k)
    audit = records(audit_path)
    assert len(audit) == 1 and audit[0]["ename"] == "WorkerDied", audit


RENDERS = {
    "savefig": """
import io, time
import matplotlib
matplotlib.use('Agg')
import matplotlib.pyplot as plt
from matplotlib.artist import Artist
class Slow(Artist):
    def draw(self, renderer):
        print('rendering', flush=True)
        time.sleep(60)
fig = plt.figure()
fig.add_artist(Slow())
fig.savefig(io.BytesIO(), format='png')
""",
    "show": """
import time
import matplotlib.pyplot as plt
from matplotlib.artist import Artist
class Slow(Artist):
    def draw(self, renderer):
        print('rendering', flush=True)
        time.sleep(60)
plt.figure().add_artist(Slow())
plt.show()
""",
    "display": """
import time
from IPython.display import display
class Slow:
    def _repr_html_(self):
        print('rendering', flush=True)
        time.sleep(60)
        return '<b>never</b>'
display(Slow())
""",
}


@pytest.mark.parametrize("where", sorted(RENDERS))
def test_worker_killed_while_a_plot_renders(agent, srv, where):
    srv.add(text=code(RENDERS[where].strip()))
    k = agent(config=NO_STANDBY)
    ex = k.execute("plot it")
    ex.wait_for(lambda r: "rendering" in r.stdout, timeout=90, what="the render")
    kill_worker(k)
    r = ex.result(timeout=30)
    assert_died(r)
    still_works(k)


def test_worker_killed_while_the_agent_waits_for_the_model(agent, srv, audit_path, tmp_path):
    history = tmp_path / "history.sqlite"
    k = agent(config=NO_STANDBY, env={"WARDEN_HISTORY": str(history)})
    assert k.run("%%python\ny = 2").status == "ok"
    srv.add(text=code("print('after the wait')"), delay=2)
    ex = k.execute("wait for the model")
    srv.wait_requests(1, timeout=30)
    kill_worker(k)
    r = ex.result(timeout=60)
    # The model's code runs in a fresh worker, and the cell says the old one died with y.
    text = r.stdout + r.stderr + r.error_text
    assert "died" in text and "variables are lost" in text, r.summary()
    still_works(k)
    # the audit log is whole JSON lines, one record per attempt; the history is a sound
    # database that has every cell
    audit = records(audit_path)
    assert [a["request"] for a in audit] == ["wait for the model"], audit
    inputs = [entry[2] for entry in k.history(n=10)["history"]]
    assert "wait for the model" in inputs and "%%python\ny = 2" in inputs, inputs
    with sqlite3.connect("file:%s?mode=ro" % history, uri=True) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
