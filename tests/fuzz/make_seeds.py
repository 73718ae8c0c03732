#!/usr/bin/env python3
"""Writes the seed corpora (tests/fuzz/seeds/<harness>/): real-looking inputs for each harness,
in the input format its file describes. Run it again after changing one; the files it writes are
committed, so that the short runs in tests/run start from the same seeds every time. Crashing
inputs found by fuzzing are added beside them by hand (named regression-*)."""
import hashlib, hmac, json, os, struct, sys

here = os.path.dirname(os.path.abspath(__file__))
KEY = b"0f6a1ac2-7d4e-4a10-9b7c-3f1c8d2e9a55"  # fuzz_wire.c's FUZZ_KEY


def write(harness, name, data):
    d = os.path.join(here, "seeds", harness)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def dumps(v):
    return json.dumps(v, separators=(",", ":")).encode()


# ---- wire: flags byte, frames joined by "\n--\n" ----
def wire(name, flags, ids, header, parent, metadata, content, buffers=(), signature=None):
    parts = [dumps(header), dumps(parent), dumps(metadata), dumps(content)]
    if signature is None:
        mac = hmac.new(KEY, digestmod=hashlib.sha256)
        for p in parts:
            mac.update(p)
        signature = mac.hexdigest().encode() if flags & 1 else b""
    frames = list(ids) + [b"<IDS|MSG>", signature] + parts + list(buffers)
    write("wire", name, bytes([flags]) + b"\n--\n".join(frames))


def header(msg_type, msg_id="a1b2c3d4-0001"):
    return {"msg_id": msg_id, "session": "5e1f2a3b", "username": "user", "date":
            "2026-12-02T04:00:00.000000Z", "msg_type": msg_type, "version": "5.3"}


wire("kernel_info_unsigned", 0, [b"\x00k\x8b\x45\x67"], header("kernel_info_request"), {}, {}, {})
wire("execute_signed", 1, [b"\x00k\x8b\x45\x67"], header("execute_request"), {}, {},
     {"code": "print('hi')\n", "silent": False, "store_history": True,
      "user_expressions": {"x": "1+1"}, "allow_stdin": True, "stop_on_error": True})
wire("execute_resigned", 3, [b"id-1", b"id-2"], header("execute_request", "m-2"),
     header("kernel_info_request"), {"deletedCells": [], "cellId": "c-9"},
     {"code": "x = 'caf\u00e9 \U0001F600'", "silent": False}, buffers=[b"\x00\x01\x02"])
wire("complete_resigned", 3, [], header("complete_request", "m-3"), {}, {},
     {"code": "import numpy as np\nnp.ar", "cursor_pos": 24})
wire("comm_open_resigned", 3, [b"z"], header("comm_open", "m-4"), {}, {},
     {"comm_id": "c1", "target_name": "jupyter.widget", "data": {"a": [1, 2.5, None, True]}})
wire("bad_signature", 1, [b"x"], header("shutdown_request"), {}, {}, {"restart": False},
     signature=b"0" * 64)
wire("no_delimiter", 0, [], header("status"), {}, {}, {})

# ---- history: the request's content, "\n--\n", the history file ----
history_file = "".join(json.dumps(r) + "\n" for r in [
    {"s": 1, "l": 1, "i": "import numpy as np"}, {"s": 1, "l": 2, "i": "np.arange(3)"},
    {"s": 1, "l": 2, "i": "np.arange(3)", "o": "array([0, 1, 2])"},
    {"s": 2, "l": 1, "i": "x = 1"}, {"s": 2, "l": 2, "i": "x = 1"}, {"s": 2, "l": 3, "i": "print(x)"}])
history_file += "not json\n{\"s\": -1, \"l\": 1, \"i\": \"bad\"}\n"
for name, request in [
        ("tail_output", {"hist_access_type": "tail", "n": 3, "output": True, "raw": True}),
        ("tail_unique", {"hist_access_type": "tail", "n": 0, "unique": True}),
        ("range", {"hist_access_type": "range", "session": -1, "start": 1, "stop": 3,
                   "output": False}),
        ("search", {"hist_access_type": "search", "pattern": "*arange*", "n": 10,
                    "unique": True}),
        ("bad_type", {"hist_access_type": "everything"})]:
    write("history", name, dumps(request) + b"\n--\n" + history_file.encode())

# ---- frame: 4-byte big-endian length, then a JSON object ----
def frames(name, *objs, raw=b""):
    out = b""
    for o in objs:
        p = o if isinstance(o, bytes) else json.dumps(o, separators=(",", ":"),
                                                       ensure_ascii=False).encode()
        out += struct.pack(">I", len(p)) + p
    write("frame", name, out + raw)


frames("ready_then_stream", {"t": "ready", "python": "3.11.2"},
       {"t": "stream", "id": 1, "name": "stdout", "text": "hello\n"},
       {"t": "done", "id": 1, "status": "ok"})
frames("display_result", {"t": "display", "id": 2, "data": {"text/plain": "<Figure>",
       "image/png": "iVBORw0KGgo=", "application/vnd.vegalite.v5+json": {"mark": "bar"}},
       "metadata": {"image/png": {"width": 640}}, "transient": {"display_id": "d-1"},
       "update": False},
       {"t": "result", "id": 2, "data": {"text/plain": "42"}, "metadata": {}},
       {"t": "clear", "id": 2, "wait": True})
frames("error", {"t": "error", "id": 3, "ename": "ZeroDivisionError", "evalue": "division by zero",
       "traceback": ["Traceback (most recent call last):", "  File \"<cell>\", line 1",
                     "ZeroDivisionError: division by zero"]},
       {"t": "done", "id": 3, "status": "error"})
frames("requests", {"t": "input", "id": 4, "input_id": 7, "prompt": "name? ", "password": False},
       {"t": "page", "id": 4, "data": {"text/plain": "Docstring:\n..."}},
       {"t": "next_input", "id": 4, "text": "%load x.py", "replace": True},
       {"t": "exit", "id": 4, "keep_kernel": False})
frames("answers", {"t": "completions", "id": 5, "matches": ["np.arange", "np.array"],
       "cursor_start": 21, "cursor_end": 24, "metadata": {}},
       {"t": "inspection", "id": 6, "found": True, "data": {"text/plain": "int(x=0)"},
        "metadata": {}},
       {"t": "completeness", "id": 7, "status": "incomplete", "indent": "    "},
       {"t": "checked", "id": 8, "ok": False, "ename": "SyntaxError", "evalue": "invalid syntax",
        "text": "def f(:\n", "lineno": 1, "offset": 7})
frames("described", {"t": "described", "id": 9, "variables": [
        {"name": "df", "type": "DataFrame", "detail": "3 rows x 2 columns"},
        {"name": "x", "type": "int", "detail": "42"}], "omitted": 0,
        "libraries": ["numpy", "pandas"], "files": [{"name": "data.csv", "size": 1024,
        "dir": False}, {"name": "out", "size": 0, "dir": True}], "files_omitted": 0,
        "cwd": "/home/user/notebooks"})
frames("surrogates_and_bad_utf8",
       b'{"t":"stream","id":1,"name":"stdout","text":"\\udc80 \xff\xfe caf\xc3\xa9 \\ud83d\\ude00"}')
frames("truncated", {"t": "stream", "id": 1, "name": "stderr", "text": "x"},
       raw=struct.pack(">I", 100) + b'{"t":')
frames("bad_length", raw=struct.pack(">I", 0x7fffffff))

# past every bound of translate.h, so that the truncations run under the sanitizers at each run
frames("past_the_bounds",
       {"t": "error", "id": 1, "ename": "E" * 300, "evalue": "\u00e9" * 32800,
        "traceback": ["line"] * 1001 + [5]},
       {"t": "display", "id": 1, "data": {"text/x%d" % i: "v" for i in range(70)}},
       {"t": "completions", "id": 2, "matches": ["m"] * 5001 + ["x" * 1025], "cursor_start": -5,
        "cursor_end": 1 << 40},
       {"t": "described", "id": 3, "variables": [{"name": "v", "type": "t", "detail": ""}] *
        2001 + [{"name": "1bad", "type": "int", "detail": "1"}], "omitted": 1 << 40,
        "libraries": ["lib"] * 501, "files": [{"name": "f", "size": 1, "dir": False}] * 1001,
        "files_omitted": 2147483647, "cwd": "/" + "d" * 5000},
       {"t": "input", "id": 4, "input_id": 1, "prompt": "\u00e9" * 3000})

# ---- sse: bound byte, then the stream ----
openai = ('data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":'
          '{"role":"assistant","content":""},"finish_reason":null}]}\n\n'
          'data: {"id":"c1","choices":[{"index":0,"delta":{"content":"```python\\nprint(1)\\n'
          '```"},"finish_reason":null}]}\n\n'
          'data: {"id":"c1","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],'
          '"usage":{"prompt_tokens":12,"completion_tokens":7}}\n\n'
          'data: [DONE]\n\n')
anthropic = ('event: message_start\ndata: {"type":"message_start","message":{"id":"m1","usage":'
             '{"input_tokens":25,"output_tokens":1}}}\n\n'
             'event: content_block_start\ndata: {"type":"content_block_start","index":0,'
             '"content_block":{"type":"text","text":""}}\n\n'
             'event: ping\ndata: {"type": "ping"}\n\n'
             'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":'
             '{"type":"text_delta","text":"```python\\nx = 1\\n```"}}\n\n'
             'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":'
             '{"type":"thinking_delta","thinking":"hmm"}}\n\n'
             'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":'
             '"end_turn"},"usage":{"output_tokens":15}}\n\n'
             'event: message_stop\ndata: {"type":"message_stop"}\n\n')
openrouter = ': OPENROUTER PROCESSING\r\n\r\n' + openai.replace('\n', '\r\n')
errors = ('event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":'
          '"Overloaded"}}\n\n')
write("sse", "openai", b"\x08" + openai.encode())
write("sse", "anthropic", b"\x08" + anthropic.encode())
write("sse", "openrouter_crlf", b"\x08" + openrouter.encode())
write("sse", "multiline_cr", b"\x02" + b"id: 7\rretry: 100\rdata: a\rdata:b\r\rdata\r\r")
write("sse", "small_bound", b"\x00" + b"data: 0123456789abcdefXYZ\n\nevent: e\ndata: x\n\n")

# ---- model: flags byte (1 Anthropic, 2 body), then the answer ----
write("model", "openai_stream", b"\x00" + openai.encode())
write("model", "anthropic_stream", b"\x01" + anthropic.encode())
write("model", "anthropic_error_event", b"\x01" + errors.encode())
write("model", "openai_body", b"\x02" + dumps({"id": "c2", "object": "chat.completion",
      "choices": [{"index": 0, "message": {"role": "assistant", "content":
      "<think>plan</think>```python\nimport pandas as pd\n```", "reasoning_content": "r"},
      "finish_reason": "stop"}], "usage": {"prompt_tokens": 10, "completion_tokens": 20}}))
write("model", "anthropic_body", b"\x03" + dumps({"id": "m2", "type": "message", "role":
      "assistant", "content": [{"type": "thinking", "thinking": "t"}, {"type": "text", "text":
      "Here:\n```py\nprint(2)\n```"}], "stop_reason": "end_turn", "usage": {"input_tokens": 3,
      "output_tokens": 4}}))
write("model", "openai_error_body", b"\x02" + dumps({"error": {"message": "You exceeded your "
      "current quota", "type": "insufficient_quota", "code": "insufficient_quota"}}))
write("model", "anthropic_error_body", b"\x03" + dumps({"type": "error", "error": {"type":
      "rate_limit_error", "message": "Number of request tokens has exceeded your rate limit"}}))
write("model", "retry_headers", b"\x02" + b"1500.5\nWed, 01 Jan 2026 00:00:30 GMT")
write("model", "retry_seconds", b"\x02" + b"\n7")

# ---- extract: a model's reply ----
write("extract", "one_block", "Here is the code:\n\n```python\nimport numpy as np\n"
      "print(np.arange(3))\n```\n\nIt prints 0 1 2.\n")
write("extract", "think_and_blocks", "<think>The user wants a plot.</think>\n```py\nx = 1\n```\n"
      "and\n~~~~\ny = 2\n~~~~\n```bash\nrm -rf /\n```\n")
write("extract", "nested_fences", "````markdown\n```python\nnot code\n```\n````\n   ```ipython"
      " extra\n   %timeit x\n   ```\n")
write("extract", "unfenced", "import pandas as pd\ndf = pd.read_csv('data.csv')\n")
write("extract", "open_block", "```python\nfor i in range(3):\n    print(i)\n")
write("extract", "open_think", "answer <think> never closed ```python\nx\n```")

# ---- config: the config file ----
write("config", "readme_example", json.dumps({
    "kernel": {"history": "/tmp/history.jsonl"},
    "agent": {"provider": "openai", "base_url": "http://localhost:11434/v1", "model":
              "qwen2.5-coder", "max_attempts": 3, "wall_time": 120, "review": False,
              "sample_rows": 3, "context_chars": 12000, "history_cells": 4,
              "connect_timeout": 10, "idle_timeout": 120, "max_retries": 2,
              "max_reply_size": "8M", "max_tokens": 0, "temperature": 0.2,
              "audit_log": "/tmp/audit.jsonl", "key_file": "/tmp/key"},
    "sandbox": {"memory": "2G", "tasks": 256, "cpus": 1.5, "file_size": "1G", "open_files": 1024,
                "tmpfs": "512M", "output": "32M", "python_wall_time": 0, "interrupt_grace": 2.0,
                "workdir": "/tmp", "workdir_writable": False, "standby": True,
                "unjailed": False}}, indent=1))
write("config", "sizes", '{"sandbox": {"memory": "1.5GiB", "tmpfs": 1048576, "output": "64K",'
      ' "agent_wall_time": 30}, "agent": {"provider": "anthropic", "history_cells": 0}}')
write("config", "bad_field", '{"sandbox": {"memory": "lots"}, "kernel": {"history": "off"}}')
write("config", "unknown_section", '{"colors": {}}')
write("config", "empty", '{}')

# ---- connection: the connection file ----
write("connection", "jupyter_client", json.dumps({
    "shell_port": 53794, "iopub_port": 53795, "stdin_port": 53796, "control_port": 53797,
    "hb_port": 53798, "ip": "127.0.0.1", "key": "a0436f6c-1916-498b-8eb9-e81ab9368e84",
    "transport": "tcp", "signature_scheme": "hmac-sha256", "kernel_name": "warden"}, indent=1))
write("connection", "ipc", json.dumps({"shell_port": 1, "iopub_port": 2, "stdin_port": 3,
      "control_port": 4, "hb_port": 5, "ip": "/tmp/kernel-1", "key": "", "transport": "ipc",
      "signature_scheme": "hmac-sha256"}))
write("connection", "bad_port", '{"shell_port": 70000, "iopub_port": -1, "key": 5}')
