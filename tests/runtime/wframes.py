"""Talk to the worker runtime directly (unjailed) over a socketpair on its fd 3.

    with RuntimeProc() as w:          # starts /usr/bin/python3 -I sandbox/runtime/warden_worker.py
        r = w.execute("print(1)\\n1+1")
        r.stdout, r.result, r.error, r.status, r.frames

Everything waits on real events (frames read with timeouts), never on sleeps.
"""

import json
import os
import select
import signal
import socket
import subprocess
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WORKER = os.path.join(REPO, "sandbox", "runtime", "warden_worker.py")
PYTHON = "/usr/bin/python3"
TIMEOUT = 10.0


def encode(obj):
    body = json.dumps(obj).encode()
    return len(body).to_bytes(4, "big") + body


RAW_HEAD = b'{"t":"stream_raw",'


def decode(body):
    """A frame's payload as the kernel reads it: JSON (strict: valid UTF-8), or a stream_raw
    frame (its JSON head, then the text raw) as the stream frame it stands for."""
    if body.startswith(RAW_HEAD):
        end = body.index(b"}") + 1
        frame = json.loads(body[:end].decode("utf-8"))
        return {"t": "stream", "id": frame["id"], "name": frame["name"],
                "text": body[end:].decode("utf-8")}
    return json.loads(body.decode("utf-8"))


class Result:
    def __init__(self, frames):
        self.frames = frames

    @property
    def kinds(self):
        """Frame types in order, consecutive stream frames counted once (timing decides how
        output is split, not the code)."""
        out = []
        for f in self.frames:
            if not (f["t"] == "stream" and out and out[-1] == "stream"):
                out.append(f["t"])
        return out

    def of(self, t):
        return [f for f in self.frames if f["t"] == t]

    def text(self, name):
        return "".join(f["text"] for f in self.of("stream") if f["name"] == name)

    @property
    def stdout(self):
        return self.text("stdout")

    @property
    def stderr(self):
        return self.text("stderr")

    @property
    def status(self):
        return self.frames[-1]["status"]

    @property
    def result(self):
        res = self.of("result")
        return res[0]["data"] if res else None

    @property
    def error(self):
        err = self.of("error")
        return err[0] if err else None

    @property
    def displays(self):
        return self.of("display")


class RuntimeProc:
    def __init__(self, env=None, cwd=None, script=None):
        self.script = script or WORKER
        self.extra_env = env or {}
        self.cwd = cwd
        self.next_id = 0
        self.buf = b""

    def start(self):
        parent, child = socket.socketpair()
        child_fd = child.fileno()

        def to_fd3():
            if child_fd != 3:
                os.dup2(child_fd, 3)
            os.set_inheritable(3, True)

        env = dict(os.environ)
        env.pop("WARDEN_PRELOAD", None)
        env.update(self.extra_env)
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen([PYTHON, "-I", self.script], preexec_fn=to_fd3, pass_fds=(3,),
                                     stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=self.log, env=env, cwd=self.cwd)
        # Popen returns once the exec succeeded: start-up is measured from there to `ready`.
        self.t_exec = time.perf_counter()
        child.close()
        self.sock = parent
        self.ready = self.recv(timeout=30)
        self.startup_s = time.perf_counter() - self.t_exec
        assert self.ready["t"] == "ready", self.ready
        return self

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self.sock.close()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def logtext(self):
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    # ---- frames --------------------------------------------------------------------------
    def send(self, frame):
        self.sock.sendall(encode(frame))

    def send_raw(self, data):
        self.sock.sendall(data)

    def recv(self, timeout=TIMEOUT):
        """Next frame; raises TimeoutError if none arrives in time, EOFError on close."""
        deadline = time.monotonic() + timeout
        while True:
            if len(self.buf) >= 4:
                n = int.from_bytes(self.buf[:4], "big")
                if len(self.buf) >= 4 + n:
                    body, self.buf = self.buf[4:4 + n], self.buf[4 + n:]
                    frame = decode(body)
                    assert isinstance(frame, dict) and isinstance(frame["t"], str)
                    return frame
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.sock], [], [], left)[0]:
                raise TimeoutError("no frame within %.1fs; worker log:\n%s"
                                   % (timeout, self.logtext()))
            data = self.sock.recv(1 << 20)
            if not data:
                raise EOFError("worker closed the channel; log:\n" + self.logtext())
            self.buf += data

    def wait_stream(self, text, name="stdout"):
        """Read stream frames until their text (concatenated) starts with `text`."""
        got = ""
        while len(got) < len(text):
            frame = self.recv()
            assert frame["t"] == "stream" and frame["name"] == name, frame
            got += frame["text"]
        assert got.startswith(text), got[:200]
        return got

    def new_id(self):
        self.next_id += 1
        return self.next_id

    # ---- requests ------------------------------------------------------------------------
    def start_execute(self, code, silent=False, allow_stdin=False, count=None, output=None):
        eid = self.new_id()
        frame = {"t": "execute", "id": eid, "code": code,
                 "count": eid if count is None else count, "silent": silent,
                 "allow_stdin": allow_stdin}
        if output is not None:
            frame["output"] = output
        self.send(frame)
        return eid

    def collect(self, eid, timeout=TIMEOUT, on_frame=None):
        """Frames of execute `eid` up to and including its done."""
        frames = []
        deadline = time.monotonic() + timeout
        while True:
            frame = self.recv(timeout=max(0.01, deadline - time.monotonic()))
            assert frame.get("id") == eid, frame
            frames.append(frame)
            if on_frame is not None:
                on_frame(frame)
            if frame["t"] == "done":
                return Result(frames)

    def execute(self, code, timeout=TIMEOUT, **kw):
        return self.collect(self.start_execute(code, **kw), timeout=timeout)

    # the answer frame's type for each query
    ANSWERS = {"complete": "completions", "inspect": "inspection", "is_complete": "completeness",
               "check": "checked", "describe": "described"}

    def request(self, t, **fields):
        rid = self.new_id()
        self.send(dict(fields, t=t, id=rid))
        reply = self.recv()
        assert reply["t"] == self.ANSWERS[t] and reply["id"] == rid, reply
        return reply

    def complete(self, code, cursor=None):
        return self.request("complete", code=code, cursor=len(code) if cursor is None else cursor)

    def interrupt(self):
        self.proc.send_signal(signal.SIGINT)
