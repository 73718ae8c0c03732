"""VS Code, as vscode-jupyter really talks to a local kernel (it cannot run here: ``VSCodeKernel``
reproduces it from its source).

- The connection file carries an extra ``kernel_name`` key; the kernel is started from the
  kernelspec's argv, without JPY_PARENT_PID.
- Start-up sends kernel_info_request on control and shell every 500 ms until a reply has come and
  an IOPub message has been seen, then runs hidden Python (``store_history: false``) and awaits it.
- An interrupt is SIGINT to every descendant of the kernel, then to the kernel: the jailed worker
  gets it directly and through its jail's init as well as from the kernel.
- Restart and close send no shutdown_request: SIGTERM to the descendants, then the kernel is
  killed.
- VS Code hides kernelspecs it takes for its own default Python ones.
"""

import json
import os
import re
import signal
import subprocess
import time
import uuid

import pytest
from jupyter_client import BlockingKernelClient
from jupyter_client.connect import write_connection_file
from jupyter_client.kernelspec import KernelSpecManager

import harness
from harness import (IS_WARDEN, KERNEL_NAME, describe, process_tree, python, snapshot_tree,
                     strip_ansi, wait_gone)

STARTUP_POLL = 0.5  # seconds between vscode-jupyter's kernel_info_requests
STARTUP_DEADLINE = 60  # a deadline on a loaded machine, not a timing


class VSCodeKernel:
    """A kernel started and driven the way vscode-jupyter does it (see the module docstring)."""

    def __init__(self, tmp_path, workdir, marker=None):
        self.marker = marker or uuid.uuid4().hex
        spec = KernelSpecManager().get_kernel_spec(KERNEL_NAME)
        self.connection_file, _ = write_connection_file(
            str(tmp_path / f"kernel-{self.marker[:8]}.json"), kernel_name=KERNEL_NAME)
        with open(self.connection_file) as f:
            assert json.load(f)["kernel_name"] == KERNEL_NAME  # the extra key VS Code writes
        argv = [a.replace("{connection_file}", self.connection_file) for a in spec.argv]
        env = dict(os.environ, VSCODE_TEST_MARKER=self.marker)
        env.pop("JPY_PARENT_PID", None)
        if IS_WARDEN:
            # a cell's clean-up after an interrupt may take its time on a loaded machine before
            # the kernel restarts the worker (2 s by default)
            config = tmp_path / f"config-{self.marker[:8]}.json"
            config.write_text(json.dumps({"sandbox": {"interrupt_grace": 20}}))
            env["WARDEN_CONFIG"] = str(config)
        self.process = subprocess.Popen(argv, env=env, cwd=workdir, start_new_session=True)
        self.client = BlockingKernelClient()
        self.client.load_connection_file(self.connection_file)
        self.client.start_channels()
        self.iopub = {}  # parent msg_id -> [iopub messages]
        self.startup_seconds = None

    @property
    def pid(self):
        return self.process.pid

    # ---- messages -----------------------------------------------------------------------

    def _pump_iopub(self, timeout):
        try:
            msg = self.client.get_iopub_msg(timeout=timeout)
        except Exception:  # queue.Empty
            return None
        parent = msg.get("parent_header", {}).get("msg_id")
        self.iopub.setdefault(parent, []).append(msg)
        return msg

    def _reply(self, channel, timeout):
        try:
            return getattr(self.client, f"get_{channel}_msg")(timeout=timeout)
        except Exception:
            return None

    def start(self):
        """kernel_info_request on control and shell every 500 ms until a reply and an IOPub
        message have both arrived (vscode-jupyter's start-up), then the hidden start-up code."""
        started = time.monotonic()
        replied = seen_iopub = False
        while not (replied and seen_iopub):
            assert self.process.poll() is None, "the kernel exited during start-up"
            assert time.monotonic() - started < STARTUP_DEADLINE, \
                f"start-up stalled: reply {replied}, iopub {seen_iopub}"
            self.client.kernel_info()
            self.client.control_channel.send(self.client.session.msg("kernel_info_request"))
            until = time.monotonic() + STARTUP_POLL
            while time.monotonic() < until and not (replied and seen_iopub):
                for channel in ("shell", "control"):
                    reply = self._reply(channel, 0.02)
                    if reply and reply["msg_type"] == "kernel_info_reply":
                        replied = True
                seen_iopub = self._pump_iopub(0.02) is not None or seen_iopub
        self.startup_seconds = time.monotonic() - started
        # what vscode-jupyter runs first in a Python kernel, hidden, awaited
        reply, outputs = self.run("import os as __vsc_os\n__vsc_ipynb_file__ = 'x.ipynb'\n"
                                  "print(__vsc_os.getcwd() != '')", store_history=False)
        assert reply["content"]["status"] == "ok", (reply, outputs)
        assert stdout(outputs) == "True\n", outputs
        return self

    def execute(self, code, store_history=True):
        return self.client.execute(code, store_history=store_history, allow_stdin=False)

    def wait_output(self, msg_id, text, timeout=60):
        deadline = time.monotonic() + timeout
        while text not in stdout(self.iopub.get(msg_id, [])):
            assert time.monotonic() < deadline, f"no {text!r}: {self.iopub.get(msg_id)}"
            self._pump_iopub(0.05)

    def result(self, msg_id, timeout=60):
        """(execute_reply, iopub messages) once the reply and the idle status have come."""
        deadline = time.monotonic() + timeout
        reply = None
        while True:
            outputs = self.iopub.get(msg_id, [])
            idle = any(m["msg_type"] == "status" and m["content"]["execution_state"] == "idle"
                       for m in outputs)
            if reply and idle:
                return reply, outputs
            assert time.monotonic() < deadline, f"no reply/idle for {msg_id}: {outputs}"
            if reply is None:
                got = self._reply("shell", 0.02)
                if got and got["parent_header"].get("msg_id") == msg_id:
                    reply = got
            self._pump_iopub(0.02)

    def run(self, code, store_history=True, timeout=60):
        return self.result(self.execute(code, store_history), timeout)

    # ---- signals, as vscode-jupyter sends them ----------------------------------------------

    def descendants(self):
        return process_tree(self.pid)[1:]

    def interrupt(self):
        """SIGINT to every descendant pid, then the kernel."""
        for pid in self.descendants():
            try:
                os.kill(pid, signal.SIGINT)
            except ProcessLookupError:
                pass
        os.kill(self.pid, signal.SIGINT)

    def dispose(self, kill=signal.SIGKILL):
        """Restart or close: no shutdown_request; SIGTERM to the descendants, then the kernel is
        killed (Node's process.kill(): SIGTERM unless told otherwise; SIGKILL is the worst
        case, the kernel can clean nothing up)."""
        for pid in self.descendants():
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        self.process.send_signal(kill)
        self.process.wait(timeout=60)
        self.client.stop_channels()

    def close(self):
        """Whatever a test left: nothing of this kernel survives the test."""
        snap = snapshot_tree(self.pid) if self.process.poll() is None else {}
        self.client.stop_channels()
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=60)
        for pid in harness.alive(snap):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass


def stdout(outputs):
    return "".join(m["content"]["text"] for m in outputs
                   if m["msg_type"] == "stream" and m["content"]["name"] == "stdout")


def errors(outputs):
    return [m["content"] for m in outputs if m["msg_type"] == "error"]


def marked_processes(marker):
    """Every process whose environment carries ``marker``: the kernel and its jails' inits
    (copies of the kernel that never exec), wherever they were reparented."""
    needle = f"VSCODE_TEST_MARKER={marker}".encode()
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/environ", "rb") as f:
                if needle in f.read().split(b"\0"):
                    with open(f"/proc/{name}/stat") as s:
                        if s.read().rsplit(")", 1)[1].split()[0] != "Z":
                            found.append(int(name))
        except OSError:
            pass
    return found


@pytest.fixture
def vscode(tmp_path, workdir):
    reason = harness.warden_missing_reason()
    if reason:
        pytest.fail(reason, pytrace=False)
    k = VSCodeKernel(tmp_path, workdir)
    try:
        yield k.start()
    finally:
        k.close()


def test_startup_does_not_stall(vscode):
    # a reply and an iopub message within the first few polls, however loaded the machine
    assert vscode.startup_seconds < 30, vscode.startup_seconds
    reply, outputs = vscode.run(python("print(6 * 7)"))
    assert reply["content"]["status"] == "ok" and stdout(outputs) == "42\n"
    # the hidden start-up cell took no execution count and left no history
    assert reply["content"]["execution_count"] == 1


def worker_pid(k):
    reply, outputs = k.run(python("import os; print(os.getpid(), os.getppid())"))
    assert reply["content"]["status"] == "ok", outputs
    return stdout(outputs)


def interrupted_cell(k, code, late_copy=False):
    """Runs ``code`` (which prints 'started'), interrupts it the way VS Code does once it has
    started, and with ``late_copy`` once more while it cleans up; returns (reply, outputs)."""
    msg_id = k.execute(python("import time\n" + code))
    k.wait_output(msg_id, "started")
    k.interrupt()
    if late_copy:
        k.wait_output(msg_id, "cleaning up")
        assert "handled once" not in stdout(k.iopub[msg_id]), "the clean-up ended too soon"
        k.interrupt()
    return k.result(msg_id)


# A clean-up that takes a while: a second KeyboardInterrupt (a copy of the first) would land in
# it, and 'handled once' would never be printed. The copies that reach the worker through its
# jail's init and from the kernel come within a few ms, or coalesce with the first (about half
# the time): the cell runs three times. The late copy is sent by the test itself.
CLEAN_UP = """try:
    print('started', flush=True)  # in the try: the interrupt may come as soon as this is seen
    time.sleep(60)
except KeyboardInterrupt:
    print('cleaning up', flush=True)
    t = time.monotonic()
    while time.monotonic() - t < %s:
        pass
    print('handled once')
    raise
"""
SLEEP = "print('started', flush=True)\ntime.sleep(60)"
HANDLED = "started\ncleaning up\nhandled once\n"


@pytest.mark.parametrize("code,printed,late_copy,rounds", [
    (SLEEP, "started\n", False, 3),
    (CLEAN_UP % 0.5, HANDLED, False, 3),
    pytest.param(CLEAN_UP % 5, HANDLED, True, 1, marks=pytest.mark.warden_only),
], ids=["sleep", "clean-up", "late-copy"])
def test_interrupt_to_every_descendant_is_one_keyboard_interrupt(vscode, code, printed,
                                                                 late_copy, rounds):
    before = worker_pid(vscode)
    vscode.run(python("kept = 'yes'"))
    for _ in range(rounds):
        reply, outputs = interrupted_cell(vscode, code, late_copy)
        assert reply["content"]["status"] == "error", outputs
        assert [e["ename"] for e in errors(outputs)] == ["KeyboardInterrupt"], errors(outputs)
        tracebacks = [strip_ansi("\n".join(e["traceback"])) for e in errors(outputs)]
        assert stdout(outputs) == printed, tracebacks
    # the copies of those interrupts land nowhere: the next cells run, in the same worker
    for i in range(5):
        reply, outputs = vscode.run(python(f"print(kept, {i})"))
        assert reply["content"]["status"] == "ok", outputs
        assert stdout(outputs) == f"yes {i}\n", outputs
    assert worker_pid(vscode) == before


def test_interrupt_as_a_shell_command_starts(vscode):
    """`!sleep 30` interrupted as it starts: the KeyboardInterrupt often lands in an at-fork
    callback (logging's), where Python swallows it; the cell is still interrupted, not left to
    run until the kernel restarts the worker. IPython decides how the cell ends (^C, or its own
    error when the interrupt comes before the child exists)."""
    before = worker_pid(vscode)
    for _ in range(4):
        msg_id = vscode.execute(python("print('started', flush=True)\n!sleep 30"))
        vscode.wait_output(msg_id, "started")
        vscode.interrupt()
        interrupted = time.monotonic()
        reply, outputs = vscode.result(msg_id, timeout=60)
        took = time.monotonic() - interrupted
        assert "WorkerRestarted" not in [e["ename"] for e in errors(outputs)], errors(outputs)
        assert took < 15, f"the cell ran on for {took:.1f} s after the interrupt"
    assert worker_pid(vscode) == before


def jail_inits(k):
    found = []
    for pid in k.descendants():
        try:
            with open(f"/proc/{pid}/comm") as f:
                if f.read().strip() == "jail-init":
                    found.append(pid)
        except OSError:
            pass
    return found


@pytest.mark.skipif(not IS_WARDEN, reason="the jail's init is warden's")
def test_a_copy_of_an_interrupt_at_the_jails_init_interrupts_nothing(vscode):
    """The copy of VS Code's SIGINT that reaches the jail's init is not forwarded: arriving
    late, it would interrupt the next cell before its first line. The kernel's own interrupt
    goes straight to the worker."""
    worker_pid(vscode)  # the worker and its jail are up
    inits = jail_inits(vscode)
    assert inits, describe(vscode.pid)
    msg_id = vscode.execute(python("import time\nprint('started', flush=True)\n"
                                   "time.sleep(1.5)\nprint('ran to the end')"))
    vscode.wait_output(msg_id, "started")
    for pid in inits:
        os.kill(pid, signal.SIGINT)
    reply, outputs = vscode.result(msg_id)
    assert reply["content"]["status"] == "ok", errors(outputs)
    assert stdout(outputs) == "started\nran to the end\n"
    reply, outputs = interrupted_cell(vscode, SLEEP)  # the kernel's interrupt still works
    assert [e["ename"] for e in errors(outputs)] == ["KeyboardInterrupt"], errors(outputs)


def test_interrupts_between_cells_and_while_the_standby_starts_lose_nothing(vscode):
    """The warm standby starts after the first cell: interrupts while it starts must not kill
    it (it then still takes over, numpy and pandas loaded, when the worker dies), nor the idle
    worker."""
    before = worker_pid(vscode)
    until = time.monotonic() + 2  # the standby's start-up, at least its first part
    while time.monotonic() < until:
        vscode.interrupt()
        time.sleep(0.02)  # a burst of interrupts, not a wait for anything
    for i in range(3):
        reply, outputs = vscode.run(python(f"print({i})"))
        assert reply["content"]["status"] == "ok", outputs
    assert worker_pid(vscode) == before
    if IS_WARDEN:
        reply, outputs = vscode.run(python("import os\nos.kill(os.getpid(), 9)"))
        assert reply["content"]["status"] == "error"
        reply, outputs = vscode.run(python("import sys\nprint('pandas' in sys.modules)"))
        assert stdout(outputs) == "True\n", "the standby was lost: a fresh worker took over"


@pytest.mark.parametrize("kill", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_restart_and_close_leave_no_jail(tmp_path, workdir, kill):
    k = VSCodeKernel(tmp_path, workdir)
    try:
        k.start()
        reply, outputs = k.run(python("x = 1"))
        assert reply["content"]["status"] == "ok", outputs
        deadline = time.monotonic() + 60
        while IS_WARDEN and len(snapshot_tree(k.pid)) < 5 and time.monotonic() < deadline:
            time.sleep(0.05)  # the warm standby starts after the first cell
        snap = snapshot_tree(k.pid)
        if IS_WARDEN:
            assert len(snap) >= 5, "no worker and standby:\n" + describe(snap)
        if IS_WARDEN and os.geteuid() == 0:  # others may not read a jail init's environment
            # the marker finds the kernel and both jails' inits (the check below is not empty)
            assert len(marked_processes(k.marker)) >= 3, describe(marked_processes(k.marker))
        k.dispose(kill)
        left = wait_gone(snap, timeout=20)
        assert not left, "left after SIGTERM + kill:\n" + describe(left)
        deadline = time.monotonic() + 20
        while marked_processes(k.marker) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not marked_processes(k.marker), describe(marked_processes(k.marker))
    finally:
        k.close()
    # a restart is a new kernel in the same directory: it starts and runs cells
    k = VSCodeKernel(tmp_path, workdir)
    try:
        k.start()
        reply, outputs = k.run(python("print('again')"))
        assert stdout(outputs) == "again\n", outputs
    finally:
        k.close()


# ---- the kernelspec: VS Code must not take it for one of its own default Python specs -------

# vscode-jupyter hides kernelspecs it thinks it made itself or that stand for "the Python
# interpreter": names like python3 / python 3.11, and the display names below.
HIDDEN_NAME = re.compile(r"^python\s*\d*(\.\d+)?$", re.IGNORECASE)
HIDDEN_DISPLAY_NAMES = {"Python 3", "Python 3 (ipykernel)"}


@pytest.mark.warden_only
def test_kernelspec_is_not_hidden_by_vscode(tmp_path):
    prefix = tmp_path / "prefix"
    subprocess.run([harness.warden_bin(), "install", "--prefix", str(prefix)], check=True,
                   capture_output=True, timeout=60)
    kernels = prefix / "share" / "jupyter" / "kernels"
    names = os.listdir(kernels)
    assert names == ["warden"], names
    spec = json.loads((kernels / names[0] / "kernel.json").read_text())
    assert not HIDDEN_NAME.match(names[0])
    assert spec["display_name"] not in HIDDEN_DISPLAY_NAMES
    assert not HIDDEN_NAME.match(spec["display_name"])
    assert spec["interrupt_mode"] == "signal"  # how VS Code interrupts, as above
