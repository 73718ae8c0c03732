"""Test harness: start a Jupyter kernel through jupyter_client and talk to it with events.

Used by tests/jupyter/, the probe suites and bench/. Run everything with /usr/bin/python3
(Debian's jupyter-client 7.4, pyzmq 24).

Which kernel
------------
``WARDEN_TEST_KERNEL`` picks the kernel the tests talk to: ``warden`` (default) or ``python3``
(Debian's ipykernel; used to validate the tests themselves where the semantics match).
``KERNEL_NAME`` and ``IS_WARDEN`` expose the choice. ``python(code)`` returns ``"%%python\\n" +
code`` for warden and ``code`` unchanged for ipykernel (where ``%%python`` is IPython's script
magic, which would run the body in a subprocess).

Kernelspec and environment
--------------------------
``setup_environment()`` (called by tests/conftest.py at import time; idempotent) writes a
temporary kernelspec ``<tmp>/kernels/warden/kernel.json`` whose argv runs the binary named by
``WARDEN_BIN`` (default ``<repo>/build/warden``), and prepends ``<tmp>`` to ``JUPYTER_PATH`` so
jupyter_client, jupyter console, nbclient and jupyter_kernel_test find it without any system-wide
install. It also isolates state: ``WARDEN_HISTORY``, ``IPYTHONDIR`` and ``JUPYTER_RUNTIME_DIR``
(connection files) point into ``<tmp>`` unless already set (and, when ``~`` is not writable, the
config, data, cache and matplotlib dirs too). ``write_kernelspec(dir, binary)`` writes a kernelspec
anywhere. ``make_workdir()`` makes a fresh world-readable notebook directory (pytest's
``tmp_path`` sits under a 0700 directory, which a jail mapping root's worker to another uid
cannot enter).

Kernel
------
::

    from harness import Kernel, python
    with Kernel(env={...}, cwd=path, kernel_name="warden", config=None) as k:
        r = k.run(python("print(1)"), timeout=30, allow_stdin=False, stdin=None)

``Kernel(env=None, cwd=None, kernel_name=None, config=None, startup_timeout=60)``: a
``KernelManager`` + ``BlockingKernelClient``. ``env`` is *added* to ``os.environ`` (a value of
``None`` removes a variable) and passed with ``cwd`` to ``km.start_kernel(env=..., cwd=...)``.
``config`` (a dict) is written to a temporary JSON file passed as ``WARDEN_CONFIG``
(e.g. ``{"sandbox": {"unjailed": True}}``). The kernel is started by ``start()`` or on entering the
``with`` block, and ``wait_for_ready`` is done. ``close()`` (also on leaving the block, even when a
test fails) shuts the kernel down politely, then kills the kernel and every process of its tree
that is still there (snapshot taken just before the shutdown), and removes the connection file.

``k.run(code, timeout=30, allow_stdin=False, stdin=None, silent=False, store_history=True,
stop_on_error=True, user_expressions=None)`` sends an execute_request and collects, by events (no
sleeps), every iopub message whose parent is this request up to its ``idle`` and the
execute_reply. ``stdin`` is a list of strings answered, in order, to the input_requests as they
come (needs ``allow_stdin=True``). Returns a ``Result``:

- ``r.status``: execute_reply status; ``r.reply``: execute_reply content; ``r.reply_msg``: whole
  message; ``r.execution_count``: from the reply.
- ``r.stdout``, ``r.stderr``: concatenated stream text.
- ``r.error``: content of the first ``error`` output (``ename``, ``evalue``, ``traceback``) or None;
  ``r.error_text``: ename, evalue and traceback joined, ANSI colours removed.
- ``r.results``: data dicts of ``execute_result``; ``r.displays``: data dicts of ``display_data``.
- ``r.outputs``: ``(msg_type, content)`` of the iopub outputs in order, between busy and idle
  (``status`` and ``execute_input`` excluded).
- ``r.iopub``: every iopub message with this parent (status and execute_input included), in order
  of arrival; ``r.execute_input``: its content or None; ``r.input_requests``: contents of the
  input_requests; ``r.times``: receipt time (``time.monotonic()``) of each iopub message;
  ``r.reply_time``: receipt time of the reply. Order *inside the kernel* is best judged from
  ``msg["header"]["date"]`` (the shell and iopub sockets are separate, so receipt order across them
  proves nothing).

Lower level, for tests that act while a cell runs:

- ``ex = k.execute(code, **same options)`` sends only and returns an ``Execution``;
  ``ex.wait_for(predicate, timeout)`` pumps messages until ``predicate(ex.snapshot())`` is true
  (e.g. ``lambda r: "started" in r.stdout``) and returns that snapshot; ``ex.result(timeout)``
  waits for reply + idle. Any number of executions can be in flight (queued cells).
- ``k.request(msg_type, content=None, channel="shell", timeout=10, wait_idle=True)`` sends any
  request on shell or control and returns a ``Reply`` (``.msg``, ``.content``, ``.iopub``,
  ``.time``). Shortcuts returning reply *content*: ``k.kernel_info(channel="shell")``,
  ``k.complete(code, cursor_pos=None)``, ``k.inspect(code, cursor_pos=None, detail_level=0)``,
  ``k.is_complete(code)``, ``k.history(**kw)``, ``k.comm_info()``.
- ``k.interrupt()``: ``km.interrupt_kernel()`` (SIGINT to the kernel's process group for
  ``interrupt_mode: signal``). ``k.signal(sig)``: a signal to the kernel pid only (what VS Code
  does). ``k.restart()``: ``km.restart_kernel()`` then ``wait_for_ready``. ``k.shutdown()``: polite
  shutdown through jupyter_client (``km.shutdown_kernel()``), without the kill-the-leftovers step.
- ``k.pid``, ``k.client``, ``k.manager``, ``k.connection_info``; ``k.log``: every message received,
  as ``(monotonic_time, channel, msg)``; ``k.bad_messages``: frames that failed to deserialize.

Processes
---------
``process_tree(pid)`` lists ``pid`` and all its descendants (read from ``/proc``).
``snapshot_tree(pid)`` records them with their start times (so a reused pid is not mistaken for a
survivor); ``alive(snapshot)`` lists those still running (zombies count as dead);
``wait_gone(snapshot, timeout)`` waits until none is left and returns the survivors;
``describe(pids)`` gives a readable ``pid: cmdline`` listing for assertion messages.
"""

from __future__ import annotations

import atexit
import json
import os
import re
import shutil
import signal
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Iterable, Optional

import zmq
from jupyter_client import KernelManager

REPO_ROOT = Path(__file__).resolve().parent.parent
KERNEL_NAME = os.environ.get("WARDEN_TEST_KERNEL", "warden")
IS_WARDEN = KERNEL_NAME == "warden"
PYTHON_PREFIX = "%%python\n"

_ANSI = re.compile(r"\x1b(\[[0-9;?]*[A-Za-z]|\][^\x07]*\x07|[()][A-Z0-9]|[=>])")


def strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)


def python(code: str) -> str:
    """A Python cell: ``%%python\\n`` + code for warden; the code itself for ipykernel."""
    return PYTHON_PREFIX + code if IS_WARDEN else code


def warden_bin() -> str:
    """Absolute path of the warden binary under test (``WARDEN_BIN`` or ``<repo>/build/warden``)."""
    return os.path.abspath(os.environ.get("WARDEN_BIN") or str(REPO_ROOT / "build" / "warden"))


def warden_missing_reason() -> Optional[str]:
    """None when the kernel under test can start; otherwise why it cannot."""
    if not IS_WARDEN:
        return None
    path = warden_bin()
    if not os.path.isfile(path) or not os.access(path, os.X_OK):
        return (f"warden binary not found or not executable at {path}: build it "
                f"(cmake -S . -B build && cmake --build build) or set WARDEN_BIN")
    return None


def write_kernelspec(kernels_dir: os.PathLike | str, binary: Optional[str] = None,
                     name: str = "warden") -> Path:
    """Write ``<kernels_dir>/<name>/kernel.json`` launching ``binary``; return that directory."""
    binary = os.path.abspath(binary or warden_bin())
    spec_dir = Path(kernels_dir) / name
    spec_dir.mkdir(parents=True, exist_ok=True)
    spec = {
        "argv": [binary, "kernel", "-f", "{connection_file}"],
        "display_name": "warden",
        "language": "python",
        "interrupt_mode": "signal",
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec, indent=1))
    return spec_dir


_ENV_ROOT: Optional[str] = None


def setup_environment() -> str:
    """Create the temporary Jupyter data dir with the warden kernelspec, put it first on
    JUPYTER_PATH, isolate history files. Idempotent; returns the data dir."""
    global _ENV_ROOT
    if _ENV_ROOT is not None:
        return _ENV_ROOT
    root = tempfile.mkdtemp(prefix="warden-test-")
    os.chmod(root, 0o755)
    write_kernelspec(Path(root) / "kernels", warden_bin())
    old = os.environ.get("JUPYTER_PATH")
    os.environ["JUPYTER_PATH"] = root + (os.pathsep + old if old else "")
    os.environ.setdefault("WARDEN_HISTORY", os.path.join(root, "history.jsonl"))
    # connection files: a private runtime dir (works for users without a writable home too)
    os.environ.setdefault("JUPYTER_RUNTIME_DIR", os.path.join(root, "runtime"))
    home = os.path.expanduser("~")
    if not os.access(home, os.W_OK):  # e.g. nobody: tools that write under ~ need a place
        os.environ.setdefault("MPLCONFIGDIR", os.path.join(root, "matplotlib"))
        os.environ.setdefault("JUPYTER_CONFIG_DIR", os.path.join(root, "config"))
        os.environ.setdefault("JUPYTER_DATA_DIR", os.path.join(root, "data"))
        os.environ.setdefault("XDG_CACHE_HOME", os.path.join(root, "cache"))  # jedi
    ipython_dir = os.path.join(root, "ipython")
    os.makedirs(ipython_dir, exist_ok=True)
    os.environ.setdefault("IPYTHONDIR", ipython_dir)
    # ipykernel's debugger prints a warning about frozen modules on stderr at start.
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    atexit.register(shutil.rmtree, root, True)
    _ENV_ROOT = root
    return root


def make_workdir(prefix: str = "nb-") -> str:
    """A fresh notebook directory that any uid can enter and read (0755, under the 0755 harness
    dir). pytest's tmp_path lies under a 0700 directory that, as root, a jail mapping the worker
    to another uid cannot enter; tests that are not about that use this instead."""
    root = setup_environment()
    path = tempfile.mkdtemp(prefix=prefix, dir=root)
    os.chmod(path, 0o755)
    return path


# ---------------------------------------------------------------------------------------------
# Processes


def _stat(pid: int) -> Optional[tuple[int, int, str]]:
    """(ppid, starttime, state) of a process, or None if it does not exist."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read().decode("utf-8", "replace")
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    # comm may hold spaces and parentheses: split after the last ')'
    rest = data[data.rindex(")") + 2:].split()
    state, ppid, starttime = rest[0], int(rest[1]), int(rest[19])
    return ppid, starttime, state


def _all_stats() -> dict[int, tuple[int, int, str]]:
    stats = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            st = _stat(int(name))
            if st is not None:
                stats[int(name)] = st
    return stats


def process_tree(pid: int) -> list[int]:
    """``pid`` followed by all its live descendants (zombies left out)."""
    stats = _all_stats()
    if pid not in stats:
        return []
    children: dict[int, list[int]] = {}
    for p, (ppid, _start, _state) in stats.items():
        children.setdefault(ppid, []).append(p)
    out, todo = [], [pid]
    while todo:
        p = todo.pop(0)
        if stats.get(p, (0, 0, "Z"))[2] != "Z":
            out.append(p)
        todo.extend(sorted(children.get(p, [])))
    return out


def snapshot_tree(pid: int) -> dict[int, int]:
    """{pid: starttime} of ``pid`` and all its descendants."""
    snap = {}
    for p in process_tree(pid):
        st = _stat(p)
        if st is not None:
            snap[p] = st[1]
    return snap


def alive(snapshot: dict[int, int]) -> list[int]:
    """Pids of the snapshot that still run (same start time, not a zombie)."""
    out = []
    for pid, start in snapshot.items():
        st = _stat(pid)
        if st is not None and st[1] == start and st[2] != "Z":
            out.append(pid)
    return out


def wait_gone(snapshot: dict[int, int], timeout: float = 10.0) -> list[int]:
    """Wait until no process of the snapshot runs; return the survivors after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        left = alive(snapshot)
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.02)


def describe(pids: Iterable[int]) -> str:
    lines = []
    for pid in pids:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode("utf-8", "replace").strip()
        except OSError:
            cmd = "?"
        lines.append(f"{pid}: {cmd}")
    return "\n".join(lines)


def rss_kib(pid: int) -> Optional[int]:
    """Resident set size of one process in KiB (VmRSS), or None."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return 0


# ---------------------------------------------------------------------------------------------
# Results


class KernelTimeout(AssertionError):
    """Raised when the kernel does not produce what was waited for in time."""


_OUTPUT_TYPES_EXCLUDED = ("status", "execute_input")


class Result:
    """What one execute_request produced (a snapshot; see the module docstring)."""

    def __init__(self, msg_id: str, code: str, iopub: list, times: list,
                 reply_msg: Optional[dict], reply_time: Optional[float], input_requests: list):
        self.msg_id = msg_id
        self.code = code
        self.iopub = list(iopub)
        self.times = list(times)
        self.reply_msg = reply_msg
        self.reply_time = reply_time
        self.reply = reply_msg["content"] if reply_msg else None
        self.status = self.reply.get("status") if self.reply else None
        self.execution_count = self.reply.get("execution_count") if self.reply else None
        self.input_requests = [m["content"] for m in input_requests]
        self.outputs = [(m["msg_type"], m["content"]) for m in self.iopub
                        if m["msg_type"] not in _OUTPUT_TYPES_EXCLUDED]
        self.stdout = "".join(c["text"] for t, c in self.outputs
                              if t == "stream" and c.get("name") == "stdout")
        self.stderr = "".join(c["text"] for t, c in self.outputs
                              if t == "stream" and c.get("name") == "stderr")
        errors = [c for t, c in self.outputs if t == "error"]
        self.error = errors[0] if errors else None
        self.results = [c["data"] for t, c in self.outputs if t == "execute_result"]
        self.displays = [c["data"] for t, c in self.outputs if t == "display_data"]
        inputs = [m["content"] for m in self.iopub if m["msg_type"] == "execute_input"]
        self.execute_input = inputs[0] if inputs else None
        self.states = [m["content"]["execution_state"] for m in self.iopub
                       if m["msg_type"] == "status"]
        self.done = reply_msg is not None and "idle" in self.states

    @property
    def error_text(self) -> str:
        if not self.error:
            return ""
        parts = [self.error.get("ename", ""), self.error.get("evalue", "")]
        parts += list(self.error.get("traceback", []))
        return strip_ansi("\n".join(str(p) for p in parts))

    def summary(self) -> str:
        kinds = [m["msg_type"] + (":" + m["content"].get("execution_state", "")
                                  if m["msg_type"] == "status" else "") for m in self.iopub]
        return (f"code={self.code!r}\n  iopub={kinds}\n  reply={self.reply!r}\n"
                f"  stdout={self.stdout[-500:]!r}\n  stderr={self.stderr[-500:]!r}\n"
                f"  error={self.error_text[-1500:]!r}")

    def __repr__(self) -> str:
        return f"<Result {self.summary()}>"


class Reply:
    """A non-execute request's reply (``.msg``, ``.content``, ``.iopub``, ``.time``)."""

    def __init__(self, msg: dict, iopub: list, t: float):
        self.msg = msg
        self.content = msg["content"]
        self.iopub = list(iopub)
        self.time = t


class Execution:
    """An execute_request in flight."""

    def __init__(self, kernel: "Kernel", msg_id: str, code: str, stdin: Optional[list]):
        self.kernel = kernel
        self.msg_id = msg_id
        self.code = code
        self.answers = list(stdin) if stdin is not None else None
        self.sent_time = time.monotonic()

    def snapshot(self) -> Result:
        k = self.kernel
        reply = k._replies.get(self.msg_id)
        return Result(self.msg_id, self.code, k._iopub.get(self.msg_id, []),
                      k._iopub_times.get(self.msg_id, []),
                      reply[1] if reply else None, reply[0] if reply else None,
                      k._stdin_requests.get(self.msg_id, []))

    def wait_for(self, predicate: Callable[[Result], bool], timeout: float = 30,
                 what: str = "condition") -> Result:
        deadline = time.monotonic() + timeout
        while True:
            snap = self.snapshot()
            if predicate(snap):
                return snap
            left = deadline - time.monotonic()
            if left <= 0:
                raise KernelTimeout(f"timed out after {timeout}s waiting for {what}; "
                                    f"kernel alive={self.kernel.is_alive()}\n  {snap.summary()}")
            self.kernel._pump(left)

    def result(self, timeout: float = 30) -> Result:
        """Wait for the execute_reply and the idle of this request."""
        res = self.wait_for(lambda r: r.done, timeout, "execute_reply and idle")
        if not IS_WARDEN and res.status == "error":
            # ipykernel 6 keeps aborting new executes for one event-loop turn after an error
            # (stop_on_error_timeout); let it pass so the next cell is not aborted by chance.
            time.sleep(0.05)
        return res


# ---------------------------------------------------------------------------------------------
# Kernel


class Kernel:
    """A running kernel (see the module docstring)."""

    def __init__(self, env: Optional[dict] = None, cwd: Optional[os.PathLike | str] = None,
                 kernel_name: Optional[str] = None, config: Optional[dict] = None,
                 startup_timeout: float = 60):
        setup_environment()
        self.kernel_name = kernel_name or KERNEL_NAME
        self.cwd = str(cwd) if cwd is not None else None
        self.startup_timeout = startup_timeout
        self._env_extra = dict(env or {})
        self._config = config
        self._config_path: Optional[str] = None
        self.manager: Optional[KernelManager] = None
        self.client = None
        self.log: list = []
        self.bad_messages: list = []
        self._reset_store()
        self._socks: dict = {}
        self._poller: Optional[zmq.Poller] = None
        self._executions: dict[str, Execution] = {}
        self._last_snapshot: dict[int, int] = {}

    # -- lifecycle --------------------------------------------------------------------------

    def _reset_store(self):
        self._iopub: dict[str, list] = {}
        self._iopub_times: dict[str, list] = {}
        self._replies: dict[str, tuple] = {}
        self._stdin_requests: dict[str, list] = {}

    def _build_env(self) -> dict:
        env = dict(os.environ)
        for key, value in self._env_extra.items():
            if value is None:
                env.pop(key, None)
            else:
                env[key] = str(value)
        if self._config is not None:
            fd, path = tempfile.mkstemp(prefix="warden-config-", suffix=".json")
            with os.fdopen(fd, "w") as f:
                json.dump(self._config, f)
            os.chmod(path, 0o644)
            self._config_path = path
            env["WARDEN_CONFIG"] = path
        return env

    def start(self) -> "Kernel":
        reason = warden_missing_reason() if self.kernel_name == "warden" else None
        if reason:
            raise FileNotFoundError(reason)
        try:
            self.manager = KernelManager(kernel_name=self.kernel_name)
            kwargs: dict[str, Any] = {"env": self._build_env()}
            if self.cwd is not None:
                kwargs["cwd"] = self.cwd
            self.manager.start_kernel(**kwargs)
            self._connect()
        except BaseException:
            self.close()
            raise
        return self

    def _connect(self):
        self.client = self.manager.client()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=self.startup_timeout)
        self._socks = {}
        self._poller = zmq.Poller()
        for name in ("shell", "iopub", "stdin", "control"):
            channel = getattr(self.client, f"{name}_channel")
            sock = zmq.Socket.shadow(channel.socket.underlying)
            self._socks[name] = sock
            self._poller.register(sock, zmq.POLLIN)

    def __enter__(self) -> "Kernel":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def pid(self) -> Optional[int]:
        prov = getattr(self.manager, "provisioner", None) if self.manager else None
        return getattr(prov, "pid", None) if prov is not None else None

    @property
    def connection_info(self) -> dict:
        return self.manager.get_connection_info() if self.manager else {}

    def process_tree(self) -> list[int]:
        return process_tree(self.pid) if self.pid else []

    def is_alive(self) -> bool:
        try:
            return bool(self.manager and self.manager.is_alive())
        except Exception:
            return False

    def interrupt(self) -> None:
        self.manager.interrupt_kernel()

    def signal(self, sig: int) -> None:
        """Send ``sig`` to the kernel process only (not its group)."""
        os.kill(self.pid, sig)

    def restart(self, now: bool = False) -> None:
        self._close_client()
        self.manager.restart_kernel(now=now)
        self._reset_store()
        self._executions = {}
        self._connect()

    def shutdown(self, timeout: float = 15) -> None:
        """Polite shutdown through jupyter_client (interrupt, shutdown_request, then signals)."""
        self._close_client()
        if self.manager is not None and self.manager.has_kernel:
            self.manager.shutdown_kernel(now=False)

    def _close_client(self):
        for sock in self._socks.values():
            try:
                self._poller.unregister(sock)
            except Exception:
                pass
        self._socks = {}
        if self.client is not None:
            try:
                self.client.stop_channels()
            except Exception:
                pass
            self.client = None

    def close(self) -> None:
        """Shut down, then kill whatever is left of the kernel's process tree. Never raises."""
        snap: dict[int, int] = {}
        try:
            if self.pid:
                snap = snapshot_tree(self.pid)
        except Exception:
            pass
        self._close_client()
        if self.manager is not None:
            try:
                if self.manager.has_kernel:
                    self.manager.shutdown_kernel(now=False)
            except Exception:
                try:
                    self.manager.shutdown_kernel(now=True)
                except Exception:
                    pass
            try:
                self.manager.cleanup_resources()
            except Exception:
                pass
        self._last_snapshot = snap
        for pid in alive(snap):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        if self._config_path:
            try:
                os.unlink(self._config_path)
            except OSError:
                pass
            self._config_path = None

    # -- message pump -----------------------------------------------------------------------

    def _pump(self, timeout: float) -> int:
        """Receive whatever is ready (waiting up to ``timeout`` s for the first); dispatch it."""
        if not self._poller:
            raise RuntimeError("kernel client is not connected")
        events = dict(self._poller.poll(max(0, int(timeout * 1000))))
        handled = 0
        for name, sock in list(self._socks.items()):
            if sock not in events:
                continue
            while True:
                try:
                    frames = sock.recv_multipart(zmq.NOBLOCK)
                except zmq.Again:
                    break
                now = time.monotonic()
                try:
                    _idents, smsg = self.client.session.feed_identities(frames)
                    msg = self.client.session.deserialize(smsg)
                except Exception as e:  # bad signature, malformed frames
                    self.bad_messages.append((name, frames, repr(e)))
                    continue
                handled += 1
                self._dispatch(name, msg, now)
        return handled

    def _dispatch(self, channel: str, msg: dict, now: float) -> None:
        self.log.append((now, channel, msg))
        parent = (msg.get("parent_header") or {}).get("msg_id")
        if channel == "iopub":
            if parent:
                self._iopub.setdefault(parent, []).append(msg)
                self._iopub_times.setdefault(parent, []).append(now)
        elif channel in ("shell", "control"):
            if parent:
                self._replies[parent] = (now, msg)
        elif channel == "stdin":
            if msg["msg_type"] == "input_request" and parent:
                self._stdin_requests.setdefault(parent, []).append(msg)
                ex = self._executions.get(parent)
                if ex is not None and ex.answers:
                    self.client.input(ex.answers.pop(0))

    def drain(self, timeout: float = 0.0) -> None:
        """Receive and store everything already sent (waiting up to ``timeout`` s)."""
        while self._pump(timeout):
            timeout = 0

    # -- requests ---------------------------------------------------------------------------

    def execute(self, code: str, silent: bool = False, store_history: bool = True,
                allow_stdin: bool = False, stop_on_error: bool = True,
                user_expressions: Optional[dict] = None,
                stdin: Optional[list] = None) -> Execution:
        msg_id = self.client.execute(code, silent=silent, store_history=store_history,
                                     user_expressions=user_expressions or {},
                                     allow_stdin=allow_stdin, stop_on_error=stop_on_error)
        ex = Execution(self, msg_id, code, stdin)
        self._executions[msg_id] = ex
        return ex

    def run(self, code: str, timeout: float = 30, allow_stdin: bool = False,
            stdin: Optional[list] = None, **kwargs) -> Result:
        return self.execute(code, allow_stdin=allow_stdin, stdin=stdin, **kwargs).result(timeout)

    def send(self, msg_type: str, content: Optional[dict] = None, channel: str = "shell") -> str:
        """Send any request; returns its msg_id."""
        msg = self.client.session.msg(msg_type, content or {})
        getattr(self.client, f"{channel}_channel").send(msg)
        return msg["header"]["msg_id"]

    def wait_reply(self, msg_id: str, timeout: float = 10, wait_idle: bool = True) -> Reply:
        deadline = time.monotonic() + timeout
        while True:
            got = self._replies.get(msg_id)
            states = [m["content"].get("execution_state") for m in self._iopub.get(msg_id, [])
                      if m["msg_type"] == "status"]
            if got and (not wait_idle or "idle" in states):
                return Reply(got[1], self._iopub.get(msg_id, []), got[0])
            left = deadline - time.monotonic()
            if left <= 0:
                raise KernelTimeout(
                    f"no {'reply and idle' if wait_idle else 'reply'} to {msg_id} in {timeout}s "
                    f"(reply={'yes' if got else 'no'}, status={states}, "
                    f"kernel alive={self.is_alive()})")
            self._pump(left)

    def request(self, msg_type: str, content: Optional[dict] = None, channel: str = "shell",
                timeout: float = 10, wait_idle: bool = True) -> Reply:
        return self.wait_reply(self.send(msg_type, content, channel), timeout, wait_idle)

    def kernel_info(self, channel: str = "shell", timeout: float = 10) -> dict:
        return self.request("kernel_info_request", {}, channel, timeout).content

    def complete(self, code: str, cursor_pos: Optional[int] = None, timeout: float = 10) -> dict:
        pos = len(code) if cursor_pos is None else cursor_pos
        return self.request("complete_request", {"code": code, "cursor_pos": pos},
                            timeout=timeout).content

    def inspect(self, code: str, cursor_pos: Optional[int] = None, detail_level: int = 0,
                timeout: float = 10) -> dict:
        pos = len(code) if cursor_pos is None else cursor_pos
        return self.request("inspect_request", {"code": code, "cursor_pos": pos,
                                                "detail_level": detail_level},
                            timeout=timeout).content

    def is_complete(self, code: str, timeout: float = 10) -> dict:
        return self.request("is_complete_request", {"code": code}, timeout=timeout).content

    def history(self, timeout: float = 10, **kw) -> dict:
        content = {"output": False, "raw": True, "hist_access_type": "tail", "n": 10}
        content.update(kw)
        return self.request("history_request", content, timeout=timeout).content

    def comm_info(self, target_name: Optional[str] = None, timeout: float = 10) -> dict:
        content = {} if target_name is None else {"target_name": target_name}
        return self.request("comm_info_request", content, timeout=timeout).content


__all__ = [
    "Kernel", "Execution", "Result", "Reply", "KernelTimeout", "python", "strip_ansi",
    "KERNEL_NAME", "IS_WARDEN", "PYTHON_PREFIX", "REPO_ROOT", "warden_bin",
    "warden_missing_reason", "write_kernelspec", "setup_environment", "make_workdir", "process_tree",
    "snapshot_tree", "alive", "wait_gone", "describe", "rss_kib",
]
