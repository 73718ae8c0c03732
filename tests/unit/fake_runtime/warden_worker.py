"""A small stand-in for the worker runtime, used by the test_supervisor_* tests when
WARDEN_TEST_FAKE_WORKER is set (and before sandbox/runtime/ exists). It speaks the protocol of
docs/design.md plainly and without any coalescing, so the kernel-side limits are what the tests see.
Misbehaviour comes from the cell code itself (os.write on the channel fd, signals, os._exit),
exactly as with the real runtime."""
import ast
import codeop
import json
import os
import queue
import sys
import threading
import traceback

FD = 3
_lock = threading.Lock()


def send(obj):
    data = json.dumps(obj).encode("utf-8", "replace")
    raw = len(data).to_bytes(4, "big") + data
    with _lock:
        view = memoryview(raw)
        while view:
            try:
                n = os.write(FD, view)
            except InterruptedError:
                continue
            except OSError:
                os._exit(0)
            view = view[n:]


requests = queue.Queue()
replies = queue.Queue()


def reader():
    buf = b""
    while True:
        try:
            chunk = os.read(FD, 65536)
        except InterruptedError:
            continue
        except OSError:
            chunk = b""
        if not chunk:
            os._exit(0)
        buf += chunk
        while len(buf) >= 4:
            n = int.from_bytes(buf[:4], "big")
            if len(buf) < 4 + n:
                break
            frame = json.loads(buf[4:4 + n])
            buf = buf[4 + n:]
            (replies if frame.get("t") == "input_value" else requests).put(frame)


class Out:
    def __init__(self, name):
        self.name = name
        self.exec_id = None

    def write(self, text):
        if text:
            send({"t": "stream", "id": current["id"], "name": self.name, "text": text})
        return len(text)

    def flush(self):
        pass


current = {"id": None}
ns = {"__name__": "__main__"}


def fake_input(prompt="", password=False):
    current["input_id"] = current.get("input_id", 0) + 1
    send({"t": "input", "id": current["id"], "input_id": current["input_id"],
          "prompt": str(prompt), "password": password})
    reply = replies.get()
    if reply.get("cancelled"):
        raise KeyboardInterrupt("input cancelled")
    return reply.get("value", "")


def raw(data):
    """Write raw bytes on the channel (tests forge frames with it)."""
    with _lock:
        os.write(FD, data)


ns["input"] = fake_input
ns["_raw"] = raw
ns["_send"] = send
ns["_current"] = current


def execute(frame):
    current["id"] = frame["id"]
    status = "ok"
    try:
        tree = ast.parse(frame["code"], "<cell>")
        last = None
        if tree.body and isinstance(tree.body[-1], ast.Expr):
            last = ast.Expression(tree.body.pop().value)
        exec(compile(tree, "<cell>", "exec"), ns)
        if last is not None:
            value = eval(compile(last, "<cell>", "eval"), ns)
            if value is not None and not frame.get("silent"):
                send({"t": "result", "id": frame["id"], "data": {"text/plain": repr(value)},
                      "metadata": {}})
    except BaseException as e:  # noqa: B902 (KeyboardInterrupt included)
        if isinstance(e, SystemExit):
            raise
        status = "error"
        send({"t": "error", "id": frame["id"], "ename": type(e).__name__, "evalue": str(e),
              "traceback": traceback.format_exception(type(e), e, e.__traceback__)})
    send({"t": "done", "id": frame["id"], "status": status})


def token_before(code, cursor):
    cursor = max(0, min(cursor, len(code)))
    start = cursor
    while start > 0 and (code[start - 1].isalnum() or code[start - 1] == "_"):
        start -= 1
    return start, code[start:cursor]


def complete(frame):
    code, cursor = frame["code"], frame["cursor"]
    start, word = token_before(code, cursor)
    cursor = start + len(word)
    names = sorted(set(ns) | set(dir(__builtins__)))
    send({"t": "completions", "id": frame["id"],
          "matches": [n for n in names if n.startswith(word) and not n.startswith("_")],
          "cursor_start": start, "cursor_end": cursor, "metadata": {}})


def inspect(frame):
    code, cursor = frame["code"], frame["cursor"]
    _, word = token_before(code, cursor)
    if word in ns:
        send({"t": "inspection", "id": frame["id"], "found": True,
              "data": {"text/plain": repr(ns[word])}, "metadata": {}})
    else:
        send({"t": "inspection", "id": frame["id"], "found": False, "data": {}, "metadata": {}})


def is_complete(frame):
    try:
        status = "complete" if codeop.compile_command(frame["code"], "<cell>", "exec") else "incomplete"
    except (SyntaxError, ValueError, OverflowError):
        status = "invalid"
    send({"t": "completeness", "id": frame["id"], "status": status, "indent": "    "})


def main():
    sys.stdout, sys.stderr = Out("stdout"), Out("stderr")
    threading.Thread(target=reader, daemon=True).start()
    if os.environ.get("WARDEN_PRELOAD") == "1":
        import decimal, fractions  # noqa: F401 (a little work, like the real preload)
        ns["_preloaded"] = True
    send({"t": "ready", "python": sys.version.split()[0]})
    handlers = {"execute": execute, "complete": complete, "inspect": inspect,
                "is_complete": is_complete}
    while True:
        try:
            frame = requests.get()
            handler = handlers.get(frame.get("t"))
            if handler:
                handler(frame)
        except KeyboardInterrupt:
            continue


main()
