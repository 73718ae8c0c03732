"""End-to-end, interrupts and worker death (through jupyter_client, tests/harness/): SIGINT to the
process group or the kernel pid only, interrupt_request on control and shell, and a worker that
dies in a cell (reported, replaced, history kept)."""

import signal

import pytest

from e2e_helpers import ok, result_text, warden_only
from harness import IS_WARDEN, python


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
