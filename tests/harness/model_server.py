"""A scripted, OpenAI- and Anthropic-compatible HTTP server for tests (standard library only).

::

    from harness.model_server import ModelServer
    with ModelServer(require_key=None, models=["scripted-model"]) as srv:
        srv.add(text="```python\\nprint(1)\\n```", reasoning="easy")
        # point the client at srv.openai_base ("http://127.0.0.1:PORT/v1")
        # or srv.anthropic_base ("http://127.0.0.1:PORT"; clients POST {base}/v1/messages)
        srv.wait_requests(1, timeout=10)
        assert srv.completions()[0].json["messages"][0]["role"] == "user"

``ModelServer(require_key=None, models=("scripted-model",), host="127.0.0.1", port=0,
default_reply=None)`` serves on a random port from a daemon thread (``.url``, ``.port``,
``.openai_base``, ``.anthropic_base``); ``close()`` (or leaving the ``with``) stops it, wakes
every delayed reply and shuts every open connection, so it never holds a test up.

Endpoints: ``POST /v1/chat/completions`` (OpenAI), ``POST /v1/messages`` (Anthropic),
``GET /v1/models`` (OpenAI list format). Anything else: 404 with an OpenAI-style error body.

Script: ``srv.add(reply)`` or ``srv.add(**keys)`` queues a reply; completion requests of both APIs
consume the queue in order. With the queue empty the answer is 500, error message "no scripted
reply left" (unless ``default_reply`` was given: then that reply, every time). A request rejected
by validation does not consume a reply. Reply keys (unknown keys raise ValueError):

- ``text`` (str, default ""): the assistant's content.
- ``reasoning`` (str): thinking text. OpenAI API: ``delta.<reasoning_field>`` stream deltas before
  the content (``message.<reasoning_field>`` when not streaming). Anthropic: a ``thinking`` block
  (``thinking_delta`` events, then a ``signature_delta``) before the text block.
- ``reasoning_field``: ``"reasoning_content"`` (default; llama.cpp, DeepSeek, older vLLM) or
  ``"reasoning"`` (Ollama, vLLM; Ollama-style deltas also carry role and an empty content).
- ``think_in_content`` (bool): send ``"<think>" + reasoning + "</think>" + text`` as the content
  instead (Ollama/Groq/llama.cpp with raw reasoning); no separate reasoning then.
- ``status`` (int, default 200): HTTP status. Not 200: an error body (JSON, even if a stream was
  asked for), built from ``error``.
- ``error``: for a non-200 status, the body: a dict is sent as is, a str is the message inside the
  provider's real shape (OpenAI ``{"error": {message, type, param, code}}``, Anthropic
  ``{"type": "error", "error": {type, message}}``), none gives that shape with the provider's type
  for the status (see model_streams). With ``error_event_after``: the mid-stream error (dict: the
  event's data; str: its message).
- ``headers`` (dict): extra response headers, e.g. ``{"retry-after": "1"}``,
  ``{"retry-after-ms": "200"}``.
- ``stream`` (bool or None, default None): None follows the request's ``"stream"``.
- ``chunk_size`` (int, default 4; 1024 with ``huge``): characters per delta.
- ``delay`` (seconds): wait before the response headers. ``chunk_delay`` (seconds): between stream
  events.
- ``cut_after`` (int n): close the connection right after the n-th delta (reasoning deltas
  count; a reply with fewer is cut before its terminator): no terminator then (OpenAI: no finish
  chunk, no usage chunk, no ``[DONE]``; Anthropic: no last content_block_stop, message_delta,
  message_stop).
- ``stall_after`` (int n): right after the n-th delta, send nothing more (the connection stays
  open) until the server closes or 60 s pass: a server that stalls mid-answer.
- ``error_event_after`` (int n): same place, a mid-stream error, then close. OpenAI: a
  ``data: {"error": {...}}`` line (OpenRouter style); Anthropic: ``event: error`` with
  ``overloaded_error``.
- ``comments`` (bool): an SSE comment line ``: OPENROUTER PROCESSING`` before every event.
- ``malformed`` (bool): streams get a data line of broken JSON after the first delta; a
  non-streaming answer gets a non-JSON body (HTML, still labelled application/json).
- ``huge`` (int bytes): the content is that many bytes of numbered ASCII lines (replaces text).
- ``chunked`` (bool): stream with ``Transfer-Encoding: chunked`` (as OpenAI and Ollama do) instead
  of a body delimited by the connection's close; a cut stream then lacks the last 0-chunk.
- ``usage`` (dict ``{"input_tokens": a, "output_tokens": b}``): token counts reported (OpenAI as
  prompt/completion/total_tokens). Default: about a quarter of the request's messages (and
  system) length, and of the reply's length.
- ``finish_reason`` / ``stop_reason``: default "stop" / "end_turn" ("length" / "max_tokens"...).
  Either key serves both APIs: stop<->end_turn, length<->max_tokens, tool_calls<->tool_use.
- ``model``: the model name echoed; default the requested one.

Streams follow the real formats (see model_streams): OpenAI ``data: {chat.completion.chunk}``
lines, a first chunk with delta ``{"role": "assistant", "content": ""}``, content deltas, a chunk
with ``finish_reason`` and an empty delta, with ``stream_options.include_usage`` a ``"choices": []``
chunk with usage, then ``data: [DONE]``. Anthropic: message_start, content_block_start, ping,
content_block_delta..., content_block_stop, message_delta (stop_reason, cumulative
output_tokens), message_stop. ``text/event-stream``, no Content-Length, ``Connection: close``.

Validation (400 in the provider's shape, recorded; checks client bugs): Anthropic needs headers
``anthropic-version`` and ``content-type: application/json``, a string ``model``, an integer
``max_tokens``, non-empty ``messages`` alternating user/assistant from user, no role "system"
(``system`` is top-level). OpenAI needs a string ``model``, a non-empty ``messages`` list, and no
``stream_options`` without ``stream``. With ``require_key="sk-test"`` OpenAI requests (and
``/v1/models``) need ``Authorization: Bearer sk-test``, Anthropic ones ``x-api-key: sk-test``,
else 401; with ``require_key=None`` any key or none is accepted (like Ollama).

Records: ``srv.requests`` (a copy) lists ``Request`` objects (method, path, headers with
lowercased keys, body bytes, json or None, time (``time.monotonic()`` at arrival), api,
status, error, reply, outcome); ``srv.last``; ``srv.completions()`` (completion endpoints only);
``srv.wait_requests(n, timeout)`` waits on a Condition for n completion requests, returns them,
raises TimeoutError. ``srv.pending`` is the number of replies still queued.

Command line (manual runs, bench)::

    python3 tests/harness/model_server.py --port 8123 --reply-text "..."  # until Ctrl-C
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
import threading
import time
import uuid
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import List, Optional

try:
    from . import model_streams as ms
except ImportError:  # run as a script: tests/harness/ is sys.path[0]
    import model_streams as ms

COMPLETION_PATHS = {"/v1/chat/completions": "openai", "/v1/messages": "anthropic"}
REPLY_KEYS = {
    "text", "reasoning", "reasoning_field", "think_in_content", "status", "headers", "error",
    "stream", "chunk_size", "delay", "chunk_delay", "cut_after", "error_event_after", "comments",
    "stall_after",
    "malformed", "huge", "chunked", "usage", "finish_reason", "stop_reason", "model",
}
COMMENT = b": OPENROUTER PROCESSING\n\n"


class Request:
    """One request as received. ``status``/``error`` say how it was answered (``error``: the
    validation or script message, None if served); ``outcome``: "complete", "cut",
    "error_event", "error" (non-200), "malformed", "stalled", "disconnected" (the client went
    away) or "closed" (the server closed mid-reply)."""

    def __init__(self, method, path, headers, body):
        self.method, self.path, self.headers, self.body = method, path, headers, body
        self.time = time.monotonic()
        self.api = COMPLETION_PATHS.get(path)
        self.json = None
        if body:
            try:
                self.json = json.loads(body)
            except ValueError:
                pass
        self.status: Optional[int] = None
        self.error: Optional[str] = None
        self.reply: Optional[dict] = None
        self.outcome: Optional[str] = None

    def __repr__(self):
        return "<Request %s %s -> %s>" % (self.method, self.path, self.status)


def _check_reply(reply: dict) -> dict:
    unknown = set(reply) - REPLY_KEYS
    if unknown:
        raise ValueError("unknown reply keys: %s" % ", ".join(sorted(unknown)))
    return dict(reply)


def _validate(req: Request, require_key: Optional[str]):
    """(status, message) for a request a real API would reject; None if it is acceptable."""
    h, body = req.headers, req.json
    if req.api == "anthropic":
        if require_key is not None:
            key = h.get("x-api-key")
            if key is None:
                return 401, "x-api-key header is required"
            if key != require_key:
                return 401, "invalid x-api-key"
        if "anthropic-version" not in h:
            return 400, "anthropic-version: header is required"
        if not h.get("content-type", "").lower().startswith("application/json"):
            return 400, "content-type: must be application/json"
    else:
        if require_key is not None:
            auth = h.get("authorization")
            if not auth or not auth.startswith("Bearer "):
                return 401, ("You didn't provide an API key. You need to provide your API key in "
                             "an Authorization header using Bearer auth (i.e. Authorization: "
                             "Bearer YOUR_KEY).")
            if auth[len("Bearer "):] != require_key:
                return 401, "Incorrect API key provided: %s." % auth[len("Bearer "):]
    if not isinstance(body, dict):
        return 400, "We could not parse the JSON body of your request."
    if not isinstance(body.get("model"), str):
        return 400, ("model: Field required" if req.api == "anthropic"
                     else "you must provide a model parameter")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return 400, ("messages: at least one message is required" if req.api == "anthropic"
                     else "Missing required parameter: 'messages'.")
    if not all(isinstance(m, dict) and isinstance(m.get("role"), str) for m in messages):
        return 400, "messages: each message must be an object with a role"
    if req.api == "openai":
        if body.get("stream_options") is not None and not body.get("stream"):
            return 400, "The 'stream_options' parameter is only allowed when 'stream' is enabled."
        return None
    mt = body.get("max_tokens")
    if not isinstance(mt, int) or isinstance(mt, bool) or mt < 1:
        return 400, "max_tokens: Field required (a positive integer)"
    previous = "assistant"
    for i, m in enumerate(messages):
        role = m["role"]
        if role not in ("user", "assistant"):
            return 400, ('messages.%d: Unexpected role "%s". The Messages API accepts a top-level '
                         '`system` parameter, not "system" as an input message role.' % (i, role))
        if i == 0 and role != "user":
            return 400, 'messages: first message must use the "user" role'
        if role == previous:
            return 400, ('messages: roles must alternate between "user" and "assistant", but '
                         'found multiple "%s" roles in a row' % role)
        previous = role
    return None


def _plan(reply: dict, req: Request) -> ms.Plan:
    body = req.json
    reasoning = reply.get("reasoning") or ""
    text = ms.huge_text(reply["huge"]) if reply.get("huge") else reply.get("text", "")
    if reply.get("think_in_content") and reasoning:
        text, reasoning = "<think>%s</think>%s" % (reasoning, text), ""
    if req.api == "anthropic":
        reason = reply.get("stop_reason") or ms.TO_STOP_REASON.get(
            reply.get("finish_reason"), reply.get("finish_reason")) or "end_turn"
    else:
        reason = reply.get("finish_reason") or ms.TO_FINISH_REASON.get(
            reply.get("stop_reason"), reply.get("stop_reason")) or "stop"
    usage = reply.get("usage") or {}
    prompt_len = len(json.dumps(body.get("messages"))) + len(json.dumps(body.get("system", "")))
    opts = body.get("stream_options")
    return ms.Plan(
        api=req.api, created=int(time.time()),
        id=("msg_" if req.api == "anthropic" else "chatcmpl-") + uuid.uuid4().hex[:24],
        model=reply.get("model") or body.get("model"), text=text, reasoning=reasoning,
        reasoning_field=reply.get("reasoning_field", "reasoning_content"),
        chunk_size=max(1, reply.get("chunk_size") or (1024 if reply.get("huge") else 4)),
        finish_reason=reason,
        input_tokens=usage.get("input_tokens", max(1, prompt_len // 4)),
        output_tokens=usage.get("output_tokens", max(1, (len(text) + len(reasoning)) // 4)),
        include_usage=isinstance(opts, dict) and opts.get("include_usage") is True)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "_HTTPServer"

    def log_message(self, *args):  # quiet: tests read srv.requests, not stderr
        pass

    def setup(self):
        super().setup()
        self.server.owner._track(self.connection, True)

    def finish(self):
        try:
            super().finish()
        finally:
            self.server.owner._track(self.connection, False)

    # ---- plumbing
    def _read(self) -> Request:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        req = Request(self.command, self.path.split("?")[0], headers, body)
        self.server.owner._record(req)
        return req

    def _send(self, req: Request, status: int, payload, ctype="application/json", extra=None):
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        req.status = status
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self._request_id(req)
        for k, v in (extra or {}).items():
            self.send_header(k, str(v))
        self.end_headers()
        self.wfile.write(data)

    def _request_id(self, req: Request):
        # Anthropic names it request-id, OpenAI x-request-id
        self.send_header("request-id" if req.api == "anthropic" else "x-request-id",
                         "req_" + uuid.uuid4().hex[:24])

    def _fail(self, req: Request, status: int, message: str, extra=None):
        api = req.api or "openai"
        req.error, req.outcome = message, "error"
        self._send(req, status, ms.error_body(api, status, message), extra=extra)

    # ---- endpoints
    def do_GET(self):
        req = self._read()
        owner = self.server.owner
        if req.path != "/v1/models":
            return self._not_found(req)
        key = owner.require_key
        auth = req.headers.get("authorization", "")
        if key is not None and auth != "Bearer " + key and req.headers.get("x-api-key") != key:
            return self._fail(req, 401, "Incorrect API key provided.")
        created = int(time.time())
        data = [{"id": m, "object": "model", "created": created, "owned_by": "scripted"}
                for m in owner.models]
        req.outcome = "complete"
        self._send(req, 200, {"object": "list", "data": data})

    def do_POST(self):
        req = self._read()
        if req.api is None:
            return self._not_found(req)
        owner = self.server.owner
        problem = _validate(req, owner.require_key)
        if problem:
            return self._fail(req, *problem)
        reply = owner._next_reply()
        if reply is None:
            return self._fail(req, 500, "no scripted reply left")
        req.reply = reply
        try:
            self._serve(req, reply)
        except OSError:   # broken pipe, reset; or our own close() shut the socket
            req.outcome = "closed" if owner._closing.is_set() else "disconnected"
            self.close_connection = True

    def _not_found(self, req: Request):
        self._fail(req, 404, "Invalid URL (%s %s)" % (req.method, req.path))

    def _serve(self, req: Request, reply: dict):
        closing = self.server.owner._closing
        if reply.get("delay") and closing.wait(reply["delay"]):
            req.outcome, self.close_connection = "closed", True
            return
        status = reply.get("status", 200)
        headers = reply.get("headers") or {}
        if status != 200:
            err = reply.get("error")
            body = err if isinstance(err, dict) else ms.error_body(req.api, status, err)
            req.error, req.outcome = json.dumps(body), "error"
            return self._send(req, status, body, extra=headers)
        plan = _plan(reply, req)
        stream = reply.get("stream")
        if stream is None:
            stream = req.json.get("stream") is True
        if not stream:
            if reply.get("malformed"):
                req.outcome = "malformed"
                return self._send(req, 200, ms.MALFORMED_BODY, extra=headers)
            req.outcome = "complete"
            body = ms.anthropic_body(plan) if req.api == "anthropic" else ms.openai_body(plan)
            return self._send(req, 200, body, extra=headers)
        self._stream(req, reply, plan, headers)

    def _stream(self, req: Request, reply: dict, plan: ms.Plan, headers: dict):
        chunked = bool(reply.get("chunked"))
        req.status = 200
        self.close_connection = True
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self._request_id(req)
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        for k, v in headers.items():
            self.send_header(k, str(v))
        self.end_headers()

        def write(data: bytes):
            if chunked:
                data = b"%x\r\n%s\r\n" % (len(data), data)
            self.wfile.write(data)
            self.wfile.flush()

        closing = self.server.owner._closing
        anthropic = req.api == "anthropic"
        items = ms.anthropic_events(plan) if anthropic else ms.openai_events(plan)
        cut, err_after = reply.get("cut_after"), reply.get("error_event_after")
        malformed = bool(reply.get("malformed"))
        deltas, first = 0, True
        for kind, data in items:
            if not first and reply.get("chunk_delay") and closing.wait(reply["chunk_delay"]):
                req.outcome = "closed"    # the server is closing
                return
            first = False
            if kind != "head":          # a fault comes right after the n-th delta
                # (or before the terminator when the reply has fewer deltas)
                end = kind == "tail"
                if cut is not None and (deltas >= cut or end):
                    req.outcome = "cut"   # no terminator, not even chunked's last chunk
                    return
                if err_after is not None and (deltas >= err_after or end):
                    ev = ms.anthropic_error_event if anthropic else ms.openai_error_event
                    write(ev(reply.get("error")))
                    req.outcome = "error_event"
                    break
                if malformed and kind == "tail":   # no delta at all: before the terminator
                    write(ms.malformed_event(req.api))
                    malformed = False
            if reply.get("comments"):
                write(COMMENT)
            write(data)
            if kind == "delta":
                deltas += 1
                if reply.get("stall_after") is not None and deltas >= reply["stall_after"]:
                    closing.wait(60)
                    req.outcome = "stalled"
                    return
                if malformed:
                    write(ms.malformed_event(req.api))
                    malformed = False
        else:
            req.outcome = "malformed" if reply.get("malformed") else "complete"
        if chunked:
            self.wfile.write(b"0\r\n\r\n")


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True       # a handler stuck in a delay never holds interpreter exit
    block_on_close = False      # server_close() does not join handler threads
    allow_reuse_address = True  # command-line mode restarts on a fixed port

    def handle_error(self, request, client_address):
        # a client that hangs up is normal in these tests; a bug of the server is not
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


class ModelServer:
    """The scripted server (see the module docstring)."""

    def __init__(self, require_key: Optional[str] = None, models=("scripted-model",),
                 host: str = "127.0.0.1", port: int = 0, default_reply: Optional[dict] = None):
        self.require_key = require_key
        self.models = list(models)
        self.default_reply = _check_reply(default_reply) if default_reply is not None else None
        self._replies = deque()
        self._requests: List[Request] = []
        self._cond = threading.Condition()
        self._closing = threading.Event()
        self._conns = set()
        self._httpd = _HTTPServer((host, port), _Handler)
        self._httpd.owner = self
        self.port = self._httpd.server_address[1]
        self.url = "http://%s:%d" % (host, self.port)
        self.openai_base = self.url + "/v1"
        self.anthropic_base = self.url
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={
            "poll_interval": 0.02}, name="model-server", daemon=True)
        self._thread.start()

    # ---- script
    def add(self, reply: Optional[dict] = None, **keys) -> None:
        """Queue one reply (a dict, or keyword arguments, or both merged)."""
        merged = dict(reply or {}, **keys)
        with self._cond:
            self._replies.append(_check_reply(merged))

    @property
    def pending(self) -> int:
        with self._cond:
            return len(self._replies)

    def _next_reply(self) -> Optional[dict]:
        with self._cond:
            if self._replies:
                return self._replies.popleft()
        return self.default_reply

    # ---- records
    def _record(self, req: Request):
        with self._cond:
            self._requests.append(req)
            self._cond.notify_all()

    @property
    def requests(self) -> List[Request]:
        with self._cond:
            return list(self._requests)

    @property
    def last(self) -> Optional[Request]:
        with self._cond:
            return self._requests[-1] if self._requests else None

    def completions(self) -> List[Request]:
        with self._cond:
            return [r for r in self._requests if r.api]

    def wait_requests(self, n: int, timeout: float = 10) -> List[Request]:
        """Wait until ``n`` completion requests have arrived; return them all."""
        with self._cond:
            if not self._cond.wait_for(
                    lambda: sum(1 for r in self._requests if r.api) >= n, timeout):
                got = [r for r in self._requests if r.api]
                raise TimeoutError("%d completion request(s) after %ss, wanted %d: %r"
                                   % (len(got), timeout, n, got))
            return [r for r in self._requests if r.api]

    # ---- lifetime
    def _track(self, conn, add: bool):
        with self._cond:
            (self._conns.add if add else self._conns.discard)(conn)
            self._cond.notify_all()

    def close(self) -> None:
        """Stop serving, wake delayed replies, shut every open connection. Idempotent."""
        if self._closing.is_set():
            return
        self._closing.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        with self._cond:
            conns = list(self._conns)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        # The handlers, woken by _closing or by the shut socket, record each reply's outcome
        # before they let go of their connection: wait for them, so that srv.last.outcome is
        # final when close() returns (the client may see the socket go before that is written).
        with self._cond:
            self._cond.wait_for(lambda: not self._conns, timeout=5)
        self._thread.join(timeout=5)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        return "<ModelServer %s, %d queued, %d requests>" % (self.url, self.pending,
                                                             len(self.requests))


def main(argv=None):
    p = argparse.ArgumentParser(description="Serve one fixed reply to every completion request "
                                "(OpenAI /v1/chat/completions and Anthropic /v1/messages).")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8123)
    p.add_argument("--reply-text", default="```python\nprint('hello from the model server')\n```")
    p.add_argument("--reasoning", default=None, help="thinking text sent with every reply")
    p.add_argument("--require-key", default=None, help="API key clients must send")
    p.add_argument("--model", action="append", help="model name for /v1/models (repeatable)")
    p.add_argument("--chunk-delay", type=float, default=0.0, help="seconds between stream events")
    args = p.parse_args(argv)
    reply = {"text": args.reply_text, "chunk_delay": args.chunk_delay}
    if args.reasoning:
        reply["reasoning"] = args.reasoning
    srv = ModelServer(require_key=args.require_key, models=args.model or ["scripted-model"],
                      host=args.host, port=args.port, default_reply=reply)
    print("model server on %s (OpenAI base %s, Anthropic base %s); Ctrl-C stops it"
          % (srv.url, srv.openai_base, srv.anthropic_base), flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        srv.close()


if __name__ == "__main__":
    main()
