"""What a request produced: ``Result`` (an execute_request's messages, collected by events),
``Reply`` (any other request's), and ``Execution`` (an execute_request in flight, pumping the
kernel's messages until a condition holds). See the package docstring."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Callable, Optional

from .environment import IS_WARDEN, strip_ansi

if TYPE_CHECKING:
    from .kernel import Kernel


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
