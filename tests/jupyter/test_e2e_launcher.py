"""A kernel never outlives the process that launched it.

jupyter_client sets JPY_PARENT_PID to its own pid when it starts a kernel. When that process dies
without shutting the kernel down (killed, or a jupyter console whose terminal closed), the kernel
exits by itself and takes its jail (init, worker, warm standby) with it. A JPY_PARENT_PID that does
not name one of the kernel's ancestors (stale, foreign, not a pid) is ignored.

Against ipykernel (WARDEN_TEST_KERNEL=python3) the same tests hold: its parent poller does this.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest
from jupyter_client import BlockingKernelClient
from jupyter_client.connect import write_connection_file
from jupyter_client.kernelspec import KernelSpecManager

import harness
from harness import IS_WARDEN, KERNEL_NAME, describe, python, snapshot_tree, wait_gone
from harness.tmux import Tmux

GONE_WITHIN = 20  # seconds; the kernel itself takes about one (a deadline, not a timing)

# A frontend reduced to what matters here: it starts the kernel through jupyter_client, runs a
# cell (so the worker and its standby exist), starts a second one that runs on when "busy" is
# asked, prints the kernel's pid, then waits to be killed.
LAUNCHER = r"""
import json, sys, time
from jupyter_client import KernelManager
km = KernelManager(kernel_name=sys.argv[1])
km.start_kernel(cwd=sys.argv[2])
kc = km.client()
kc.start_channels()
kc.wait_for_ready(timeout=120)
reply = kc.execute_interactive(sys.argv[3], timeout=120, output_hook=lambda msg: None)
if len(sys.argv) > 4:
    kc.execute(sys.argv[4])
    while True:
        msg = kc.get_iopub_msg(timeout=120)
        if msg["msg_type"] == "stream" and "started" in msg["content"]["text"]:
            break
print(json.dumps({"kernel": km.provisioner.pid, "status": reply["content"]["status"]}),
      flush=True)
time.sleep(3600)
"""
RUNS_ON = "import time\nprint('started', flush=True)\ntime.sleep(600)"


def wait_for_tree(pid, size, timeout=60):
    """The process tree of ``pid`` once it has at least ``size`` processes (or what it has)."""
    deadline = time.monotonic() + timeout
    while True:
        snap = snapshot_tree(pid)
        if len(snap) >= size or time.monotonic() > deadline:
            return snap
        time.sleep(0.05)


def kernel_tree(kernel_pid):
    """The kernel and, for warden, its two jails (init + worker each: active and standby)."""
    snap = wait_for_tree(kernel_pid, 5 if IS_WARDEN else 1)
    if IS_WARDEN:
        assert len(snap) >= 5, "no worker and standby under the kernel:\n" + describe(snap)
    return snap


def kill_all(snap):
    for pid in harness.alive(snap):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


@pytest.mark.parametrize("state", ["idle", "busy"])
def test_kernel_exits_when_its_launcher_is_killed(workdir, state):
    busy = [python(RUNS_ON)] if state == "busy" else []
    launcher = subprocess.Popen(
        [sys.executable, "-c", LAUNCHER, KERNEL_NAME, workdir, python("x = 6 * 7"), *busy],
        stdout=subprocess.PIPE, text=True)
    snap = {}
    try:
        line = launcher.stdout.readline()
        assert line, "the launcher died before the kernel was up"
        started = json.loads(line)
        assert started["status"] == "ok"
        snap = kernel_tree(started["kernel"])
        launcher.kill()
        launcher.wait()
        killed = time.monotonic()
        left = wait_gone(snap, timeout=GONE_WITHIN)
        assert not left, "left after the launcher was killed:\n" + describe(left)
        print(f"{state} kernel tree of {len(snap)} processes gone "
              f"{time.monotonic() - killed:.2f} s after its launcher was killed")
    finally:
        if launcher.poll() is None:
            launcher.kill()
            launcher.wait()
        kill_all(snap)


# ---- a jupyter console in a tmux session that is killed ------------------------------------


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed (.ci/setup)")
def test_console_in_a_killed_tmux_session_leaves_nothing(tmp_path, workdir):
    env = {"TERM": "xterm", "PROMPT_TOOLKIT_NO_CPR": "1",
           "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
           "JUPYTER_CONFIG_DIR": str(tmp_path / "config")}
    argv = [sys.executable, "-m", "jupyter_console", "--kernel", KERNEL_NAME,
            "--ZMQTerminalInteractiveShell.kernel_timeout=60",
            "--ZMQTerminalInteractiveShell.kernel_is_complete_timeout=30"]
    snap = {}
    with Tmux(argv, env=env, cwd=workdir) as term:
        try:
            term.expect(r"In \[1\]: ", timeout=90)
            lines = ["%%python", "x = 6 * 7", "print('answer', x)", ""] if IS_WARDEN else \
                ["print('answer', 6 * 7)"]
            for line in lines:
                term.type_line(line)
            term.expect(r"^answer 42$")
            term.expect(r"In \[2\]: ")
            size = 6 if IS_WARDEN else 2  # console, kernel, and for warden its two jails
            snap = wait_for_tree(term.pid, size)
            assert len(snap) >= size, "no kernel and jail under the console:\n" + describe(snap)
            term.kill_session()
            killed = time.monotonic()
            left = wait_gone(snap, timeout=GONE_WITHIN)
            assert not left, "left after tmux kill-session:\n" + describe(left)
            print(f"console, kernel and jails ({len(snap)} processes) gone "
                  f"{time.monotonic() - killed:.2f} s after tmux kill-session")
        finally:
            kill_all(snap)


# ---- a JPY_PARENT_PID that is not the launcher ---------------------------------------------


def start_directly(tmp_path, workdir, parent_pid):
    """The kernel started from its kernelspec's argv by this process, JPY_PARENT_PID set to
    ``parent_pid`` (jupyter_client would overwrite it with its own pid)."""
    spec = KernelSpecManager().get_kernel_spec(KERNEL_NAME)
    connection_file, _info = write_connection_file(str(tmp_path / "kernel.json"))
    argv = [a.replace("{connection_file}", connection_file) for a in spec.argv]
    env = dict(os.environ, JPY_PARENT_PID=parent_pid)
    process = subprocess.Popen(argv, env=env, cwd=workdir, start_new_session=True)
    client = BlockingKernelClient()
    client.load_connection_file(connection_file)
    client.start_channels()
    try:
        client.wait_for_ready(timeout=120)
    except BaseException:
        client.stop_channels()
        snap = snapshot_tree(process.pid)
        process.kill()
        process.wait()
        kill_all(snap)
        raise
    return process, client


def run_cell(client, code):
    reply = client.execute_interactive(code, timeout=120, output_hook=lambda msg: None)
    return reply["content"]["status"]


@pytest.mark.parametrize("kind", ["foreign", "dead", "garbage"])
def test_a_jpy_parent_pid_that_is_not_an_ancestor_is_ignored(tmp_path, workdir, kind):
    if kind == "garbage" and not IS_WARDEN:
        pytest.skip("ipykernel fails to start on a JPY_PARENT_PID that is not a number")
    foreign = subprocess.Popen(["sleep", "3600"])  # a sibling of the kernel, not its parent
    if kind == "dead":
        foreign.kill()
        foreign.wait()
    value = {"foreign": str(foreign.pid), "dead": str(foreign.pid), "garbage": "12ab"}[kind]
    process, client = start_directly(tmp_path, workdir, value)
    try:
        assert run_cell(client, python("x = 1")) == "ok"
        if kind == "foreign":
            foreign.kill()
            foreign.wait()
        # what a launcher watch would have done by now, had it watched that pid (it takes a
        # second or two): still here, and still running cells
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            assert process.poll() is None, "the kernel exited"
            time.sleep(0.1)
        assert run_cell(client, python("x += 1; print(x)")) == "ok"
        assert process.poll() is None
    finally:
        client.stop_channels()
        if foreign.poll() is None:
            foreign.kill()
            foreign.wait()
        snap = snapshot_tree(process.pid)
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        kill_all(snap)
