"""Wire formats for ``model_server.py``: OpenAI Chat Completions and Anthropic Messages bodies,
error shapes and server-sent-event streams, built from a ``Plan`` (one scripted reply applied to
one request). Pure functions, no I/O: the server decides when to write, cut or break a stream.

A stream is a list of ``(kind, bytes)`` items. ``kind`` tells the server where a fault may go:
``"head"`` (before any delta: OpenAI's role chunk; Anthropic's message_start, first
content_block_start and ping), ``"delta"`` (one reasoning/thinking or content/text delta; these
are what ``cut_after`` and ``error_event_after`` count), ``"frame"`` (structure between deltas:
Anthropic's signature_delta, content_block_stop and the next block's start) and ``"tail"``
(the terminator: finish chunk, usage chunk, ``[DONE]``; Anthropic's last content_block_stop,
message_delta, message_stop). A stream cut before its tail therefore has no terminator.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import List, Optional, Tuple

Item = Tuple[str, bytes]

# OpenAI's error ``type`` and ``code`` by status, as its API sends them (429 "requests" +
# rate_limit_exceeded is a rate limit; a quota error, "insufficient_quota", is scripted with
# ``error``). Other 4xx are invalid_request_error, other 5xx server_error.
_OPENAI_ERRORS = {
    400: ("invalid_request_error", None, "Invalid request (scripted)."),
    401: ("invalid_request_error", "invalid_api_key", "Incorrect API key provided."),
    403: ("request_forbidden", None, "You are not allowed to use this model (scripted)."),
    404: ("invalid_request_error", "model_not_found",
          "The model does not exist or you do not have access to it."),
    429: ("requests", "rate_limit_exceeded", "Rate limit reached. Please try again in 1s."),
    500: ("server_error", None, "The server had an error while processing your request."),
    502: ("server_error", None, "Bad gateway."),
    503: ("server_error", None, "The server is overloaded or not ready yet."),
    529: ("server_error", "overloaded", "Overloaded."),
}
# Anthropic's documented error types (docs "Errors"); 529 is its "overloaded" status.
_ANTHROPIC_ERRORS = {
    400: ("invalid_request_error", "Invalid request (scripted)."),
    401: ("authentication_error", "invalid x-api-key"),
    402: ("billing_error", "Billing error."),
    403: ("permission_error", "Your API key does not have permission to use this resource."),
    404: ("not_found_error", "The requested resource could not be found."),
    413: ("request_too_large", "Request exceeds the maximum allowed number of bytes."),
    429: ("rate_limit_error", "Number of request tokens has exceeded your rate limit."),
    500: ("api_error", "Internal server error"),
    503: ("api_error", "Service unavailable"),
    504: ("timeout_error", "Request timed out"),
    529: ("overloaded_error", "Overloaded"),
}

# finish_reason (OpenAI) <-> stop_reason (Anthropic), so one script can serve either API.
TO_STOP_REASON = {"stop": "end_turn", "length": "max_tokens", "tool_calls": "tool_use",
                  "content_filter": "refusal"}
TO_FINISH_REASON = {v: k for k, v in TO_STOP_REASON.items()}


def openai_error(status: int, message: Optional[str] = None, type: Optional[str] = None,
                 code: Optional[str] = None, param: Optional[str] = None) -> dict:
    """``{"error": {"message", "type", "param", "code"}}`` with OpenAI's type for ``status``."""
    dtype, dcode, dmsg = _OPENAI_ERRORS.get(
        status, ("invalid_request_error" if status < 500 else "server_error", None,
                 "Scripted error %d." % status))
    return {"error": {"message": message or dmsg, "type": type or dtype, "param": param,
                      "code": code if code is not None else dcode}}


def anthropic_error(status: int, message: Optional[str] = None,
                    type: Optional[str] = None) -> dict:
    """``{"type": "error", "error": {"type", "message"}, "request_id"}`` as Anthropic sends."""
    dtype, dmsg = _ANTHROPIC_ERRORS.get(
        status, ("invalid_request_error" if status < 500 else "api_error",
                 "Scripted error %d." % status))
    return {"type": "error", "error": {"type": type or dtype, "message": message or dmsg},
            "request_id": "req_" + uuid.uuid4().hex[:24]}


def error_body(api: str, status: int, message: Optional[str] = None) -> dict:
    return (anthropic_error if api == "anthropic" else openai_error)(status, message)


@dataclass
class Plan:
    """What to send: the reply's keys resolved against the request."""
    api: str                    # "openai" or "anthropic"
    id: str
    created: int
    model: str
    text: str                   # content, "<think>…</think>" already prepended if asked
    reasoning: str              # reasoning sent apart ("" when think_in_content)
    reasoning_field: str        # OpenAI: "reasoning" (Ollama, vLLM) or "reasoning_content"
    chunk_size: int
    finish_reason: str          # already in the API's vocabulary
    input_tokens: int
    output_tokens: int
    include_usage: bool         # OpenAI stream_options.include_usage


def sse(data, event: Optional[str] = None) -> bytes:
    """One SSE event: optional ``event:`` line, one ``data:`` line, blank line."""
    payload = data if isinstance(data, str) else json.dumps(data)
    head = "event: %s\n" % event if event else ""
    return ("%sdata: %s\n\n" % (head, payload)).encode()


def pieces(text: str, size: int) -> List[str]:
    return [text[i:i + size] for i in range(0, len(text), size)]


# ---------------------------------------------------------------- OpenAI

def _usage_openai(p: Plan) -> dict:
    return {"prompt_tokens": p.input_tokens, "completion_tokens": p.output_tokens,
            "total_tokens": p.input_tokens + p.output_tokens}


def openai_body(p: Plan) -> dict:
    message = {"role": "assistant", "content": p.text}
    if p.reasoning:
        message[p.reasoning_field] = p.reasoning
    return {"id": p.id, "object": "chat.completion", "created": p.created, "model": p.model,
            "choices": [{"index": 0, "message": message, "logprobs": None,
                         "finish_reason": p.finish_reason}],
            "usage": _usage_openai(p), "system_fingerprint": "fp_scripted"}


def _chunk(p: Plan, delta: dict, finish_reason=None) -> bytes:
    chunk = {"id": p.id, "object": "chat.completion.chunk", "created": p.created,
             "model": p.model, "system_fingerprint": "fp_scripted",
             "choices": [{"index": 0, "delta": delta, "logprobs": None,
                          "finish_reason": finish_reason}]}
    if p.include_usage:
        chunk["usage"] = None   # with include_usage every other chunk has "usage": null
    return sse(chunk)


def openai_events(p: Plan) -> List[Item]:
    items: List[Item] = [("head", _chunk(p, {"role": "assistant", "content": ""}))]
    for piece in pieces(p.reasoning, p.chunk_size):
        # Ollama repeats role and an empty content beside "reasoning"; llama.cpp sends
        # "reasoning_content" alone.
        delta = ({"role": "assistant", "content": "", "reasoning": piece}
                 if p.reasoning_field == "reasoning" else {"reasoning_content": piece})
        items.append(("delta", _chunk(p, delta)))
    for piece in pieces(p.text, p.chunk_size):
        items.append(("delta", _chunk(p, {"content": piece})))
    items.append(("tail", _chunk(p, {}, p.finish_reason)))
    if p.include_usage:
        usage = {"id": p.id, "object": "chat.completion.chunk", "created": p.created,
                 "model": p.model, "system_fingerprint": "fp_scripted", "choices": [],
                 "usage": _usage_openai(p)}
        items.append(("tail", sse(usage)))
    items.append(("tail", b"data: [DONE]\n\n"))
    return items


def openai_error_event(error=None) -> bytes:
    """The error object OpenRouter-style gateways put in a data line after a 200."""
    if isinstance(error, dict):
        return sse(error)
    body = openai_error(502, error or "Upstream provider error (scripted error_event_after).")
    return sse(body)


# ---------------------------------------------------------------- Anthropic

_SIGNATURE = "c2NyaXB0ZWQtc2lnbmF0dXJl"  # opaque base64, as real signatures are


def anthropic_body(p: Plan) -> dict:
    content = []
    if p.reasoning:
        content.append({"type": "thinking", "thinking": p.reasoning, "signature": _SIGNATURE})
    content.append({"type": "text", "text": p.text})
    return {"id": p.id, "type": "message", "role": "assistant", "model": p.model,
            "content": content, "stop_reason": p.finish_reason, "stop_sequence": None,
            "usage": {"input_tokens": p.input_tokens, "output_tokens": p.output_tokens}}


def _event(name: str, **data) -> bytes:
    return sse(dict(type=name, **data), event=name)


def anthropic_events(p: Plan) -> List[Item]:
    start = {"id": p.id, "type": "message", "role": "assistant", "model": p.model,
             "content": [], "stop_reason": None, "stop_sequence": None,
             "usage": {"input_tokens": p.input_tokens, "output_tokens": 1}}
    items: List[Item] = [("head", _event("message_start", message=start))]
    blocks = []
    if p.reasoning:
        blocks.append(("thinking", p.reasoning))
    blocks.append(("text", p.text))
    for index, (kind, text) in enumerate(blocks):
        where = "head" if index == 0 else "frame"
        block = {"type": "thinking", "thinking": ""} if kind == "thinking" else \
            {"type": "text", "text": ""}
        items.append((where, _event("content_block_start", index=index, content_block=block)))
        if index == 0:
            items.append(("head", _event("ping")))   # the real API pings after the first start
        for piece in pieces(text, p.chunk_size):
            delta = {"type": "thinking_delta", "thinking": piece} if kind == "thinking" else \
                {"type": "text_delta", "text": piece}
            items.append(("delta", _event("content_block_delta", index=index, delta=delta)))
        if kind == "thinking":
            items.append(("frame", _event("content_block_delta", index=index,
                                          delta={"type": "signature_delta",
                                                 "signature": _SIGNATURE})))
        last = index == len(blocks) - 1
        items.append(("tail" if last else "frame", _event("content_block_stop", index=index)))
    items.append(("tail", _event("message_delta",
                                 delta={"stop_reason": p.finish_reason, "stop_sequence": None},
                                 usage={"output_tokens": p.output_tokens})))
    items.append(("tail", _event("message_stop")))
    return items


def anthropic_error_event(error=None) -> bytes:
    """``event: error`` with overloaded_error, as the API sends under load after a 200."""
    if isinstance(error, dict):
        return sse(error, event="error")
    body = {"type": "error",
            "error": {"type": "overloaded_error", "message": error or "Overloaded"}}
    return sse(body, event="error")


def malformed_event(api: str) -> bytes:
    """A data line cut in the middle of its JSON (a broken proxy, a truncated write)."""
    if api == "anthropic":
        return b'event: content_block_delta\ndata: {"type": "content_block_delta", "index": 0, ' \
               b'"delta": {"type": "text_del\n\n'
    return b'data: {"id": "chatcmpl-broken", "object": "chat.completion.chunk", ' \
           b'"choices": [{"de\n\n'


MALFORMED_BODY = b"<html><body><h1>502 Bad Gateway</h1></body></html>\n"


def huge_text(size: int) -> str:
    """Exactly ``size`` bytes (ASCII) of numbered lines, so a client's truncation is visible."""
    out, n, total = [], 0, 0
    while total < size:
        line = "line %08d of a huge scripted reply\n" % n
        out.append(line)
        total += len(line)
        n += 1
    return "".join(out)[:size]
