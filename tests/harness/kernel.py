"""``Kernel``: a kernel started through jupyter_client, and the message pump that files every
message it sends under the request it answers (see the package docstring)."""

from __future__ import annotations

import json
import os
import signal
import tempfile
import time
from typing import Any, Optional

import zmq
from jupyter_client import KernelManager

from .environment import KERNEL_NAME, setup_environment, warden_missing_reason
from .execution import Execution, KernelTimeout, Reply, Result
from .jail import check_first_cells, wants_check
from .processes import alive, process_tree, snapshot_tree


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
        self.jail_checked = False  # its first cells were spent on the jail's notice (jail.py)

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
            self._check_jail()
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

    def _check_jail(self):
        """Under WARDEN_EXPECT_JAIL=landlock, a new kernel process's first cells say which jail
        runs them; the harness spends them on that check (jail.py)."""
        self.jail_checked = wants_check(self.kernel_name, self._config)
        if self.jail_checked:
            check_first_cells(self, timeout=self.startup_timeout)

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
        self._check_jail()

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
