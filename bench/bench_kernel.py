"""The bench's client: one kernel launched through jupyter_client, driven the same way whichever
kernel it is (warden or ipykernel), and the process-tree readings the figures need; and a launch
without jupyter_client (lean_launch: Popen and the lean client).

Messages are received through synchronous shadows of jupyter_client's own sockets and decoded by
its `Session`, so the client's cost (signing, JSON, dates) is the same for every kernel and is
included in every figure but the lean client's.
"""

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

import zmq  # noqa: E402
from jupyter_client import KernelManager  # noqa: E402
from jupyter_client.connect import write_connection_file  # noqa: E402
from jupyter_client.kernelspec import KernelSpecManager  # noqa: E402

import harness  # noqa: E402
from lean_client import LeanClient  # noqa: E402


class BenchError(RuntimeError):
    pass


def now():
    return time.perf_counter()


_CONTEXT = None


def client_context():
    """The clients' zmq context: its sockets try to (re)connect every 10 ms instead of 100 ms,
    for both kernels alike, so the time to ready measures the kernel, not the client's
    reconnect timer."""
    global _CONTEXT
    if _CONTEXT is None:
        import zmq.asyncio
        _CONTEXT = zmq.asyncio.Context()
        _CONTEXT.setsockopt(zmq.RECONNECT_IVL, 10)
    return _CONTEXT


class Session:
    """One kernel launched for measurement: jupyter_client's KernelManager and client, with
    synchronous shadows of the client's sockets for low-overhead polling."""

    def __init__(self, label, kernel_name, env, cwd, is_warden, stderr=None):
        self.label = label
        self.kernel_name = kernel_name
        self.stderr = stderr
        self.env = env
        self.cwd = cwd
        self.is_warden = is_warden
        self.km = KernelManager(kernel_name=kernel_name)
        self.kc = None
        self.t_launch = None
        self.cells = 0  # execute_requests answered, through any client

    def code(self, body):
        """warden runs Python under `%%python`; for ipykernel that is IPython's script magic
        (a subprocess), so it gets the body alone."""
        return "%%python\n" + body if self.is_warden else body

    def launch(self):
        self.t_launch = now()
        self.km.start_kernel(env=self.env, cwd=self.cwd, stderr=self.stderr)
        self.kc = self.km.client(context=client_context())
        self.kc.start_channels(hb=False)
        self.session = self.kc.session
        self.shell = zmq.Socket.shadow(self.kc.shell_channel.socket.underlying)
        self.iopub = zmq.Socket.shadow(self.kc.iopub_channel.socket.underlying)
        self.poller = zmq.Poller()
        self.poller.register(self.shell, zmq.POLLIN)
        self.poller.register(self.iopub, zmq.POLLIN)

    @property
    def pid(self):
        return self.km.provisioner.pid

    def _recv(self, sock):
        frames = sock.recv_multipart(zmq.NOBLOCK)
        _ids, smsg = self.session.feed_identities(frames)
        return self.session.deserialize(smsg)

    def _poll(self, timeout_s):
        """(channel, msg, time) of what arrives within timeout_s (stops at the first batch)."""
        events = dict(self.poller.poll(max(0, int(timeout_s * 1000))))
        out = []
        for name, sock in (("shell", self.shell), ("iopub", self.iopub)):
            if sock in events:
                while True:
                    try:
                        msg = self._recv(sock)
                    except zmq.Again:
                        break
                    out.append((name, msg, now()))
        return out

    def send(self, msg_type, content):
        msg = self.session.msg(msg_type, content)
        self.session.send(self.shell, msg)
        return msg["header"]["msg_id"]

    def wait_ready(self, timeout=60):
        """Like jupyter_client's wait_for_ready: a kernel_info_reply on shell and an iopub
        message (so iopub is connected). Returns the time it was ready."""
        deadline = now() + timeout
        t_reply = t_iopub = None
        self.send("kernel_info_request", {})
        sent = now()
        while now() < deadline:
            for channel, msg, t in self._poll(0.05):
                if channel == "iopub" and t_iopub is None:
                    t_iopub = t
                if channel == "shell" and msg["msg_type"] == "kernel_info_reply" and t_reply is None:
                    t_reply = t
            if t_reply is not None and t_iopub is not None:
                return max(t_reply, t_iopub)
            if not self.km.is_alive():
                raise BenchError(f"{self.label} died before it was ready")
            # Re-send like wait_for_ready: a request sent before the iopub subscription took
            # effect has its busy/idle lost.
            waited = now() - (t_reply if t_reply is not None else sent)
            if (t_reply is not None and waited > 0.2) or (t_reply is None and waited > 1.0):
                t_reply = None
                self.send("kernel_info_request", {})
                sent = now()
        raise BenchError(f"{self.label} not ready within {timeout}s")

    def _until_reply_and_idle(self, msg_id, what, timeout):
        """Pump messages until msg_id's reply and its idle. Returns (reply content, iopub
        messages of it)."""
        reply, idle, iopub = None, False, []
        deadline = now() + timeout
        while not (reply is not None and idle):
            if now() > deadline:
                raise BenchError(f"{self.label}: no reply/idle to {what} in {timeout}s")
            for channel, msg, _t in self._poll(max(0.0, deadline - now())):
                if msg["parent_header"].get("msg_id") != msg_id:
                    continue
                if channel == "shell":
                    reply = msg["content"]
                else:
                    iopub.append(msg)
                    idle = idle or (msg["msg_type"] == "status"
                                    and msg["content"]["execution_state"] == "idle")
        return reply, iopub

    def kernel_info_round_trip(self, timeout=30):
        """kernel_info_request on shell until reply and idle: the kernel alone, no worker."""
        t0 = now()
        msg_id = self.send("kernel_info_request", {})
        self._until_reply_and_idle(msg_id, "kernel_info", timeout)
        return now() - t0

    def execute(self, code, timeout=120):
        """Send an execute_request; wait for its reply and its idle. Returns (seconds, reply
        content, iopub messages of it)."""
        t0 = now()
        msg_id = self.send("execute_request", {
            "code": code, "silent": False, "store_history": True, "user_expressions": {},
            "allow_stdin": False, "stop_on_error": True})
        reply, iopub = self._until_reply_and_idle(msg_id, repr(code[:60]), timeout)
        self.cells += 1
        return now() - t0, reply, iopub

    def execute_ok(self, code, timeout=120):
        """execute(), and the cell must have succeeded."""
        dt, reply, iopub = self.execute(code, timeout)
        if reply.get("status") != "ok":
            raise BenchError(f"{self.label}: {code[:60]!r} failed: {reply}")
        return dt, reply, iopub

    def rss(self):
        """(kernel process VmRSS, VmRSS summed over the whole tree, processes in the tree), KiB.
        Shared pages are counted in each process."""
        tree = harness.process_tree(self.pid)
        kernel = harness.rss_kib(self.pid) or 0
        return kernel, kernel + sum(harness.rss_kib(p) or 0 for p in tree[1:]), len(tree)

    def tree_cpu_seconds(self):
        total = 0
        for p in harness.process_tree(self.pid):
            try:
                with open(f"/proc/{p}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])
            except (OSError, IndexError, ValueError):
                pass
        return total / os.sysconf("SC_CLK_TCK")

    def drain_iopub(self, quiet_s=0.05):
        """Drop what the iopub socket holds, undecoded, until it has been quiet for quiet_s
        (the lean client's cells were broadcast to this socket too)."""
        while self.iopub.poll(int(quiet_s * 1000)):
            while True:
                try:
                    self.iopub.recv_multipart(zmq.NOBLOCK)
                except zmq.Again:
                    break

    def close(self):
        try:
            snap = harness.snapshot_tree(self.pid) if self.kc else {}
        except Exception:
            snap = {}
        try:
            if self.kc is not None:
                self.kc.stop_channels()
        except Exception:
            pass
        try:
            if self.km.has_kernel:
                self.km.shutdown_kernel(now=False)
        except Exception:
            try:
                self.km.shutdown_kernel(now=True)
            except Exception:
                pass
        for pid in harness.alive(snap):
            try:
                os.kill(pid, 9)
            except OSError:
                pass


def lean_launch(kernel_name, env, cwd, stderr=None, timeout=60):
    """Seconds from Popen of the kernelspec's argv until a kernel_info_reply and an iopub message
    have reached a lean client (lean_client.py) that reconnects every millisecond: the kernel's own
    start-up, without jupyter_client's KernelManager (its start_kernel alone takes 13-14 ms here,
    10 of them an asyncio.sleep; bench/client_floor.py measures its whole floor). The connection file is written and the kernelspec read before the
    clock starts; the request is re-sent like wait_ready does. The kernel is killed after."""
    spec = KernelSpecManager().get_kernel_spec(kernel_name)
    fname, info = write_connection_file(os.path.join(cwd, f"lean-{uuid.uuid4().hex}.json"),
                                        key=uuid.uuid4().hex.encode())
    argv = [a.replace("{connection_file}", fname) for a in spec.argv]
    env = dict(env, JPY_PARENT_PID=str(os.getpid()))  # as jupyter_client's launcher sets it
    t0 = now()
    proc = subprocess.Popen(argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=stderr,
                            start_new_session=True)
    client = LeanClient(info, reconnect_ivl_ms=1)
    try:
        client.send("kernel_info_request", {})
        sent, t_reply, t_iopub = now(), None, None
        while t_reply is None or t_iopub is None:
            if now() - t0 > timeout or proc.poll() is not None:
                raise BenchError(f"{kernel_name}: not ready through the lean client")
            for sock, _ in client.poller.poll(50):
                frames = sock.recv_multipart()
                if sock is client.iopub:
                    t_iopub = t_iopub or now()
                elif client._decode(frames) is not None:
                    t_reply = t_reply or now()
            waited = now() - (t_reply if t_reply is not None else sent)
            if t_iopub is None and ((t_reply is not None and waited > 0.2) or waited > 1.0):
                t_reply = None
                client.send("kernel_info_request", {})
                sent = now()
        return max(t_reply, t_iopub) - t0
    finally:
        client.close()
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        os.unlink(fname)


def wait_quiet(sessions, log, quiet_s=0.3, limit_s=20.0):
    """The documented settle wait: until no kernel's process tree uses CPU (warden's standby
    worker imports numpy, pandas and matplotlib after the first cell; ipykernel finishes its own
    start-up), so a figure does not compete with another kernel's background work for the two
    cores. There is no event for "idle CPU", hence the sampling."""
    start = now()
    last = sum(s.tree_cpu_seconds() for s in sessions)
    while now() - start < limit_s:
        time.sleep(quiet_s)
        cpu = sum(s.tree_cpu_seconds() for s in sessions)
        if cpu - last < 0.02:
            return
        last = cpu
    log(f"  still busy after {limit_s:.0f} s; measuring anyway")
