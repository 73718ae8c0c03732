"""Self-tests of harness/model_server.py, the scripted OpenAI/Anthropic server the agent tests
talk to. Only http.client: what goes over the wire is checked byte by byte, as a C client sees it.
"""

import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time
import types

import pytest

from harness.model_server import ModelServer

ANTHROPIC_EVENTS = ["message_start", "content_block_start", "ping", "content_block_delta",
                    "content_block_stop", "message_delta", "message_stop"]


@pytest.fixture
def srv():
    with ModelServer() as s:
        yield s


# ---------------------------------------------------------------- client helpers

class Response:
    def __init__(self, status, headers, body, incomplete=False):
        self.status, self.headers, self.body, self.incomplete = status, headers, body, incomplete

    @property
    def json(self):
        return json.loads(self.body)

    def events(self):
        return parse_sse(self.body)


def request(server, method, path, body=None, headers=None, timeout=5):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout)
    data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
    conn.request(method, path, body=data, headers=headers or {})
    resp = conn.getresponse()
    incomplete = False
    try:
        raw = resp.read()
    except http.client.IncompleteRead as e:   # a cut chunked stream
        raw, incomplete = e.partial, True
    headers = {k.lower(): v for k, v in resp.getheaders()}
    conn.close()
    return Response(resp.status, headers, raw, incomplete)


def openai(server, stream=False, key=None, include_usage=False, **body):
    payload = {"model": "gpt-test", "messages": [{"role": "user", "content": "hi"}]}
    if stream:
        payload["stream"] = True
    if include_usage:
        payload["stream_options"] = {"include_usage": True}
    payload.update(body)
    headers = {"Content-Type": "application/json"}
    if key:
        headers["Authorization"] = "Bearer " + key
    return request(server, "POST", "/v1/chat/completions", payload, headers)


def anthropic(server, stream=False, key=None, headers=None, **body):
    payload = {"model": "claude-test", "max_tokens": 64,
               "messages": [{"role": "user", "content": "hi"}]}
    if stream:
        payload["stream"] = True
    payload.update(body)
    h = {"content-type": "application/json", "anthropic-version": "2023-06-01"}
    if key:
        h["x-api-key"] = key
    h.update(headers or {})
    return request(server, "POST", "/v1/messages", payload, h)


def parse_sse(raw):
    """SSE events as dicts {event, data, comments}; data is parsed JSON, the raw text when it is
    not JSON (``[DONE]``, a malformed line) and then ``bad`` is True."""
    events, comments = [], []
    for block in raw.decode().split("\n\n"):
        if not block:
            continue
        name, data = None, []
        for line in block.split("\n"):
            if line.startswith(":"):
                comments.append(line)
            elif line.startswith("event: "):
                name = line[len("event: "):]
            elif line.startswith("data: "):
                data.append(line[len("data: "):])
        if not data:
            continue
        text = "\n".join(data)
        try:
            value, bad = json.loads(text), False
        except ValueError:
            value, bad = text, text != "[DONE]"
        events.append({"event": name, "data": value, "comments": list(comments), "bad": bad})
        comments.clear()
    return events


def openai_text(events, field="content"):
    return "".join(e["data"]["choices"][0]["delta"].get(field) or "" for e in events
                   if isinstance(e["data"], dict) and e["data"].get("choices"))


def anthropic_text(events, kind="text_delta", field="text"):
    return "".join(e["data"]["delta"][field] for e in events
                   if e["event"] == "content_block_delta" and e["data"]["delta"]["type"] == kind)


def collapse(names):
    """Event names with runs of content_block_delta folded into one."""
    out = []
    for n in names:
        if not (out and n == out[-1] == "content_block_delta"):
            out.append(n)
    return out


# ---------------------------------------------------------------- endpoints

def test_urls_and_models():
    with ModelServer(models=["a", "b"]) as s:
        assert s.url == "http://127.0.0.1:%d" % s.port and s.port > 0
        assert s.openai_base == s.url + "/v1" and s.anthropic_base == s.url
        r = request(s, "GET", "/v1/models")
        assert r.status == 200 and r.headers["content-type"] == "application/json"
        assert r.json["object"] == "list"
        assert [m["id"] for m in r.json["data"]] == ["a", "b"]
        for m in r.json["data"]:
            assert m["object"] == "model" and isinstance(m["created"], int) and m["owned_by"]
    with ModelServer() as s:
        assert [m["id"] for m in request(s, "GET", "/v1/models").json["data"]] == \
            ["scripted-model"]


@pytest.mark.parametrize("method,path", [("GET", "/nope"), ("POST", "/v1/completions"),
                                         ("POST", "/chat/completions"), ("POST", "/messages")])
def test_unknown_path_is_404_openai_shape(srv, method, path):
    r = request(srv, method, path, {"model": "m", "messages": []})
    assert r.status == 404
    err = r.json["error"]
    assert set(err) == {"message", "type", "param", "code"} and path in err["message"]
    assert srv.last.status == 404 and srv.completions() == []


# ---------------------------------------------------------------- OpenAI

def test_openai_stream_exact_sequence(srv):
    srv.add(text="hello world")
    r = openai(srv, stream=True)
    assert r.status == 200
    assert r.headers["content-type"].startswith("text/event-stream")
    assert "content-length" not in r.headers and r.headers["connection"] == "close"
    ev = r.events()
    chunks = [e["data"] for e in ev[:-1]]
    assert ev[-1]["data"] == "[DONE]" and r.body.endswith(b"data: [DONE]\n\n")
    assert [c["choices"][0]["delta"] for c in chunks] == [
        {"role": "assistant", "content": ""}, {"content": "hell"}, {"content": "o wo"},
        {"content": "rld"}, {}]
    assert [c["choices"][0]["finish_reason"] for c in chunks] == [None] * 4 + ["stop"]
    for c in chunks:
        assert c["object"] == "chat.completion.chunk" and c["model"] == "gpt-test"
        assert c["id"] == chunks[0]["id"] and c["created"] == chunks[0]["created"]
        assert c["choices"][0]["index"] == 0 and "usage" not in c
    assert srv.last.outcome == "complete"


def test_openai_stream_usage_chunk_only_with_include_usage(srv):
    srv.add(text="abcdefgh", usage={"input_tokens": 11, "output_tokens": 7})
    ev = openai(srv, stream=True, include_usage=True).events()
    assert ev[-1]["data"] == "[DONE]"
    usage = ev[-2]["data"]
    assert usage["choices"] == [] and usage["usage"] == {
        "prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18}
    assert all(e["data"]["usage"] is None for e in ev[:-2])   # null in every other chunk
    assert ev[-3]["data"]["choices"][0]["finish_reason"] == "stop"
    assert len(ev) == 1 + 2 + 1 + 1 + 1


def test_openai_non_streaming_body(srv):
    srv.add(text="the answer")
    r = openai(srv)
    assert r.status == 200 and r.headers["content-type"] == "application/json"
    assert int(r.headers["content-length"]) == len(r.body)
    b = r.json
    assert b["object"] == "chat.completion" and b["model"] == "gpt-test" and b["id"]
    ch = b["choices"][0]
    assert ch["message"] == {"role": "assistant", "content": "the answer"}
    assert ch["finish_reason"] == "stop" and ch["index"] == 0
    u = b["usage"]
    assert u["prompt_tokens"] >= 1 and u["completion_tokens"] >= 1
    assert u["total_tokens"] == u["prompt_tokens"] + u["completion_tokens"]


def test_openai_reasoning_content_llamacpp_style(srv):
    srv.add(text="ok", reasoning="let me think")
    ev = openai(srv, stream=True).events()
    deltas = [e["data"]["choices"][0]["delta"] for e in ev[1:-2]]
    assert deltas[:3] == [{"reasoning_content": p} for p in ("let ", "me t", "hink")]
    assert deltas[3:] == [{"content": "ok"}]
    srv.add(text="ok", reasoning="let me think")
    msg = openai(srv).json["choices"][0]["message"]
    assert msg["reasoning_content"] == "let me think" and msg["content"] == "ok"


def test_openai_reasoning_ollama_style(srv):
    srv.add(text="done", reasoning="hmm", reasoning_field="reasoning")
    ev = openai(srv, stream=True).events()
    assert ev[1]["data"]["choices"][0]["delta"] == {"role": "assistant", "content": "",
                                                    "reasoning": "hmm"}
    assert openai_text(ev, "reasoning") == "hmm" and openai_text(ev) == "done"
    srv.add(text="done", reasoning="hmm", reasoning_field="reasoning")
    msg = openai(srv).json["choices"][0]["message"]
    assert msg["reasoning"] == "hmm" and "reasoning_content" not in msg


def test_think_in_content_both_apis(srv):
    srv.add(text="answer", reasoning="why", think_in_content=True)
    ev = openai(srv, stream=True).events()
    assert openai_text(ev) == "<think>why</think>answer"
    assert openai_text(ev, "reasoning_content") == ""
    srv.add(text="answer", reasoning="why", think_in_content=True)
    content = anthropic(srv).json["content"]
    assert content == [{"type": "text", "text": "<think>why</think>answer"}]


def test_chunk_size(srv):
    srv.add(text="abc", chunk_size=1)
    ev = openai(srv, stream=True).events()
    assert [e["data"]["choices"][0]["delta"].get("content") for e in ev[1:-2]] == ["a", "b", "c"]
    srv.add(text="abcdef", chunk_size=5)
    ev = anthropic(srv, stream=True).events()
    assert [e["data"]["delta"]["text"] for e in ev if e["event"] == "content_block_delta"] == \
        ["abcde", "f"]


# ---------------------------------------------------------------- Anthropic

def test_anthropic_stream_exact_sequence(srv):
    srv.add(text="hello world", usage={"input_tokens": 12, "output_tokens": 5})
    r = anthropic(srv, stream=True)
    assert r.status == 200 and r.headers["content-type"].startswith("text/event-stream")
    assert "content-length" not in r.headers
    ev = r.events()
    names = [e["event"] for e in ev]
    assert names == ["message_start", "content_block_start", "ping"] + \
        ["content_block_delta"] * 3 + ["content_block_stop", "message_delta", "message_stop"]
    assert all(e["data"]["type"] == e["event"] for e in ev)
    start = ev[0]["data"]["message"]
    assert start["role"] == "assistant" and start["content"] == [] and start["model"] == \
        "claude-test" and start["stop_reason"] is None
    assert start["usage"] == {"input_tokens": 12, "output_tokens": 1}
    assert ev[1]["data"] == {"type": "content_block_start", "index": 0,
                             "content_block": {"type": "text", "text": ""}}
    assert anthropic_text(ev) == "hello world"
    delta = ev[-2]["data"]
    assert delta["delta"]["stop_reason"] == "end_turn" and delta["usage"]["output_tokens"] == 5
    assert r.body.endswith(b'event: message_stop\ndata: {"type": "message_stop"}\n\n')


def test_anthropic_stream_thinking_block_first(srv):
    srv.add(text="hi", reasoning="think hard")
    ev = anthropic(srv, stream=True).events()
    assert collapse(e["event"] for e in ev) == [
        "message_start", "content_block_start", "ping", "content_block_delta",
        "content_block_stop", "content_block_start", "content_block_delta",
        "content_block_stop", "message_delta", "message_stop"]
    starts = [e["data"] for e in ev if e["event"] == "content_block_start"]
    assert [(s["index"], s["content_block"]["type"]) for s in starts] == [(0, "thinking"),
                                                                          (1, "text")]
    kinds = [e["data"]["delta"]["type"] for e in ev if e["event"] == "content_block_delta"]
    assert kinds == ["thinking_delta"] * 3 + ["signature_delta", "text_delta"]
    assert anthropic_text(ev, "thinking_delta", "thinking") == "think hard"
    assert anthropic_text(ev) == "hi"


def test_anthropic_non_streaming_body(srv):
    srv.add(text="yes", reasoning="because")
    r = anthropic(srv)
    assert r.status == 200 and r.headers["content-type"] == "application/json"
    b = r.json
    assert b["type"] == "message" and b["role"] == "assistant" and b["model"] == "claude-test"
    assert b["id"].startswith("msg_") and b["stop_reason"] == "end_turn"
    assert b["content"][0]["type"] == "thinking" and b["content"][0]["thinking"] == "because"
    assert b["content"][0]["signature"]
    assert b["content"][1] == {"type": "text", "text": "yes"}
    assert b["usage"]["input_tokens"] >= 1 and b["usage"]["output_tokens"] >= 1


# ---------------------------------------------------------------- reply keys, both APIs

@pytest.mark.parametrize("status,otype,atype", [
    (400, "invalid_request_error", "invalid_request_error"),
    (401, "invalid_request_error", "authentication_error"),
    (403, "request_forbidden", "permission_error"),
    (404, "invalid_request_error", "not_found_error"),
    (429, "requests", "rate_limit_error"),
    (500, "server_error", "api_error"),
    (503, "server_error", "api_error"),
    (529, "server_error", "overloaded_error")])
def test_status_builds_real_error_shapes(srv, status, otype, atype):
    srv.add(status=status)
    srv.add(status=status)
    r = openai(srv, stream=True)
    assert r.status == status and r.headers["content-type"] == "application/json"
    assert set(r.json) == {"error"} and r.json["error"]["type"] == otype
    assert set(r.json["error"]) == {"message", "type", "param", "code"}
    if status == 429:
        assert r.json["error"]["code"] == "rate_limit_exceeded"
    r = anthropic(srv, stream=True)
    assert r.status == status and r.json["type"] == "error"
    assert r.json["error"]["type"] == atype and r.json["error"]["message"]
    assert srv.last.outcome == "error"


def test_headers_and_explicit_error_bodies(srv):
    quota = {"error": {"message": "You exceeded your current quota", "type": "insufficient_quota",
                       "param": None, "code": "insufficient_quota"}}
    srv.add(status=429, headers={"retry-after": "1"}, error=quota)
    srv.add(status=529, headers={"retry-after-ms": "200"}, error="busy, come back")
    srv.add(text="ok", headers={"x-ratelimit-remaining-requests": "9"})
    r = openai(srv)
    assert r.status == 429 and r.headers["retry-after"] == "1" and r.json == quota
    r = anthropic(srv)
    assert r.status == 529 and r.headers["retry-after-ms"] == "200"
    assert r.json["error"] == {"type": "overloaded_error", "message": "busy, come back"}
    r = openai(srv, stream=True)
    assert r.status == 200 and r.headers["x-ratelimit-remaining-requests"] == "9"


def test_stream_override(srv):
    srv.add(text="x", stream=True)
    srv.add(text="y", stream=False)
    srv.add(text="z", stream=True)
    r = openai(srv)   # the request did not ask for a stream
    assert r.headers["content-type"].startswith("text/event-stream")
    assert r.events()[-1]["data"] == "[DONE]"
    r = anthropic(srv, stream=True)
    assert r.headers["content-type"] == "application/json" and r.json["content"][0]["text"] == "y"
    assert anthropic(srv).events()[-1]["event"] == "message_stop"


def test_delay_before_headers(srv):
    srv.add(text="slow", delay=0.2)
    t = time.monotonic()
    r = openai(srv)
    assert time.monotonic() - t >= 0.2 and r.status == 200


def test_chunk_delay_between_events(srv):
    srv.add(text="abcdefgh", chunk_delay=0.03)   # anthropic: 3 + 2 + 3 = 8 events, 7 gaps
    t = time.monotonic()
    ev = anthropic(srv, stream=True).events()
    assert len(ev) == 8 and time.monotonic() - t >= 7 * 0.03


def test_cut_after_openai(srv):
    srv.add(text="abcdefghijkl", cut_after=2)
    r = openai(srv, stream=True, include_usage=True)
    ev = r.events()
    assert openai_text(ev) == "abcdefgh" and len(ev) == 3
    assert b"[DONE]" not in r.body and b"finish_reason\": \"stop" not in r.body
    assert all(e["data"]["choices"] for e in ev)    # no usage chunk on a cut stream
    assert srv.last.outcome == "cut"


def test_cut_after_counts_reasoning_anthropic(srv):
    srv.add(text="abcd", reasoning="xyz", cut_after=1)
    ev = anthropic(srv, stream=True).events()
    assert [e["event"] for e in ev] == ["message_start", "content_block_start", "ping",
                                        "content_block_delta"]
    srv.add(text="abcdefgh", cut_after=5)            # more than there are: cut before the tail
    ev = anthropic(srv, stream=True).events()
    assert anthropic_text(ev) == "abcdefgh" and ev[-1]["event"] == "content_block_delta"


def test_chunked_transfer_and_cut(srv):
    srv.add(text="hello", chunked=True)
    srv.add(text="hello", chunked=True, cut_after=1)
    r = openai(srv, stream=True)
    assert r.headers["transfer-encoding"] == "chunked" and not r.incomplete
    assert openai_text(r.events()) == "hello" and r.events()[-1]["data"] == "[DONE]"
    r = anthropic(srv, stream=True)
    assert r.incomplete and anthropic_text(r.events()) == "hell"


def test_error_event_after_openai(srv):
    srv.add(text="abcdefgh", error_event_after=1)
    r = openai(srv, stream=True)
    assert r.status == 200
    ev = r.events()
    assert openai_text(ev) == "abcd" and len(ev) == 3
    err = ev[-1]["data"]["error"]
    assert err["message"] and err["type"] and b"[DONE]" not in r.body
    assert srv.last.outcome == "error_event"


def test_error_event_after_anthropic(srv):
    srv.add(text="abcdefgh", error_event_after=0)
    ev = anthropic(srv, stream=True).events()
    assert [e["event"] for e in ev] == ["message_start", "content_block_start", "ping", "error"]
    assert ev[-1]["data"] == {"type": "error",
                              "error": {"type": "overloaded_error", "message": "Overloaded"}}


def test_comments_interleaved_both_apis(srv):
    srv.add(text="abcdef", comments=True)
    srv.add(text="abcdef", comments=True)
    r = openai(srv, stream=True)
    assert r.body.startswith(b": OPENROUTER PROCESSING\n\n")
    ev = r.events()
    assert all(e["comments"] == [": OPENROUTER PROCESSING"] for e in ev)
    assert openai_text(ev) == "abcdef" and ev[-1]["data"] == "[DONE]"
    ev = anthropic(srv, stream=True).events()
    assert all(e["comments"] for e in ev) and ev[-1]["event"] == "message_stop"


def test_malformed_stream_and_body(srv):
    for _ in range(2):
        srv.add(text="abcdefgh", malformed=True)
        srv.add(text="abc", malformed=True)
    ev = openai(srv, stream=True).events()
    assert [e["bad"] for e in ev] == [False, False, True, False, False, False]
    assert ev[-1]["data"] == "[DONE]"
    r = openai(srv)
    assert r.headers["content-type"] == "application/json"
    with pytest.raises(ValueError):
        json.loads(r.body)
    ev = anthropic(srv, stream=True).events()
    assert sum(e["bad"] for e in ev) == 1 and ev[-1]["event"] == "message_stop"
    with pytest.raises(ValueError):
        anthropic(srv).json
    assert srv.last.outcome == "malformed"


def test_huge_reply(srv):
    srv.add(huge=300_000)
    srv.add(huge=100_000, stream=False)
    text = openai_text(openai(srv, stream=True).events())
    assert len(text.encode()) == 300_000 and text.startswith("line 00000000")
    assert len(anthropic(srv).json["content"][0]["text"]) == 100_000


def test_usage_both_apis(srv):
    srv.add(text="x", usage={"input_tokens": 3, "output_tokens": 4})
    srv.add(text="x", usage={"input_tokens": 3, "output_tokens": 4})
    assert openai(srv).json["usage"] == {"prompt_tokens": 3, "completion_tokens": 4,
                                         "total_tokens": 7}
    assert anthropic(srv).json["usage"] == {"input_tokens": 3, "output_tokens": 4}


def test_finish_and_stop_reasons_map_across_apis(srv):
    srv.add(finish_reason="length")
    srv.add(finish_reason="length")
    srv.add(stop_reason="max_tokens")
    srv.add(stop_reason="max_tokens")
    ev = openai(srv, stream=True).events()
    assert ev[-2]["data"]["choices"][0]["finish_reason"] == "length"
    assert anthropic(srv).json["stop_reason"] == "max_tokens"
    assert openai(srv).json["choices"][0]["finish_reason"] == "length"
    ev = anthropic(srv, stream=True).events()
    assert ev[-2]["data"]["delta"]["stop_reason"] == "max_tokens"


def test_model_echo_and_override(srv):
    srv.add(text="a")
    srv.add(text="b", model="other-model")
    assert openai(srv, model="asked-for").json["model"] == "asked-for"
    ev = anthropic(srv, stream=True).events()
    assert ev[0]["data"]["message"]["model"] == "other-model"


# ---------------------------------------------------------------- script, validation, keys

def test_queue_shared_in_order_and_empty_500(srv):
    srv.add(text="first")
    srv.add(text="second")
    assert srv.pending == 2
    assert anthropic(srv).json["content"][0]["text"] == "first"
    assert openai(srv).json["choices"][0]["message"]["content"] == "second"
    r = openai(srv, stream=True)
    assert r.status == 500 and "no scripted reply left" in r.json["error"]["message"]
    r = anthropic(srv)
    assert r.status == 500 and r.json["type"] == "error"
    assert "no scripted reply left" in r.json["error"]["message"]
    assert srv.last.error == "no scripted reply left"


def test_default_reply_and_unknown_key():
    with ModelServer(default_reply={"text": "always"}) as s:
        for _ in range(2):
            assert openai(s).json["choices"][0]["message"]["content"] == "always"
        with pytest.raises(ValueError, match="txet"):
            s.add(txet="typo")


BAD_ANTHROPIC = [
    ({"headers": {"anthropic-version": None}}, "anthropic-version"),
    ({"headers": {"content-type": "text/plain"}}, "content-type"),
    ({"max_tokens": None}, "max_tokens"),
    ({"max_tokens": "64"}, "max_tokens"),
    ({"model": None}, "model"),
    ({"messages": []}, "messages"),
    ({"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "u"}]},
     "system"),
    ({"messages": [{"role": "assistant", "content": "a"}]}, "first message"),
    ({"messages": [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}]},
     "alternate"),
]


@pytest.mark.parametrize("change,word", BAD_ANTHROPIC)
def test_anthropic_validation(srv, change, word):
    srv.add(text="unused")
    change = dict(change)
    headers = {"content-type": "application/json", "anthropic-version": "2023-06-01"}
    headers.update(change.pop("headers", {}))
    payload = {"model": "m", "max_tokens": 64, "messages": [{"role": "user", "content": "hi"}]}
    payload.update(change)
    payload = {k: v for k, v in payload.items() if v is not None}
    r = request(srv, "POST", "/v1/messages", payload,
                {k: v for k, v in headers.items() if v is not None})
    assert r.status == 400 and r.json["type"] == "error"
    assert r.json["error"]["type"] == "invalid_request_error" and word in r.json["error"]["message"]
    assert srv.last.status == 400 and word in srv.last.error
    assert srv.pending == 1                     # a rejected request consumes no reply


def test_anthropic_top_level_system_accepted(srv):
    srv.add(text="fine")
    assert anthropic(srv, system="be brief").status == 200


@pytest.mark.parametrize("payload,word", [
    ({"model": "m"}, "messages"),
    ({"messages": [{"role": "user", "content": "x"}]}, "model"),
    ({"model": 3, "messages": [{"role": "user", "content": "x"}]}, "model"),
    ({"model": "m", "messages": [{"role": "user", "content": "x"}],
      "stream_options": {"include_usage": True}}, "stream_options"),
    (b"{not json", "JSON"),
])
def test_openai_validation(srv, payload, word):
    srv.add(text="unused")
    r = request(srv, "POST", "/v1/chat/completions", payload,
                {"Content-Type": "application/json"})
    assert r.status == 400 and r.json["error"]["type"] == "invalid_request_error"
    assert word in r.json["error"]["message"] and srv.pending == 1
    assert srv.last.status == 400


def test_require_key():
    with ModelServer(require_key="sk-test") as s:
        s.add(text="ok")
        s.add(text="ok")
        for r in (openai(s), openai(s, key="sk-wrong"),
                  anthropic(s, headers={"Authorization": "Bearer sk-test"}),
                  anthropic(s, key="sk-wrong"), request(s, "GET", "/v1/models")):
            assert r.status == 401
        assert openai(s, key="sk-wrong").json["error"]["code"] == "invalid_api_key"
        assert anthropic(s).json["error"]["type"] == "authentication_error"
        assert s.pending == 2
        assert openai(s, key="sk-test").status == 200
        assert anthropic(s, key="sk-test").status == 200
        r = request(s, "GET", "/v1/models", headers={"Authorization": "Bearer sk-test"})
        assert r.status == 200


def test_no_key_required_accepts_any(srv):
    srv.add(text="a")
    srv.add(text="b")
    srv.add(text="c")
    assert openai(srv, key="ollama").status == 200
    assert openai(srv).status == 200
    assert anthropic(srv, key="whatever").status == 200


# ---------------------------------------------------------------- records

def test_requests_recorded(srv):
    srv.add(text="a")
    srv.add(text="b")
    t0 = time.monotonic()
    openai(srv, key="k1", stream=True)
    request(srv, "GET", "/v1/models")
    anthropic(srv, key="k2", system="sys")
    reqs = srv.requests
    assert [(r.method, r.path) for r in reqs] == [
        ("POST", "/v1/chat/completions"), ("GET", "/v1/models"), ("POST", "/v1/messages")]
    first, _, last = reqs
    assert first.headers["authorization"] == "Bearer k1" and first.api == "openai"
    assert first.json["stream"] is True and json.loads(first.body) == first.json
    assert first.reply == {"text": "a"} and first.status == 200 and first.outcome == "complete"
    assert last.headers["x-api-key"] == "k2" and last.headers["anthropic-version"] == "2023-06-01"
    assert last.json["system"] == "sys" and srv.last is last
    assert t0 <= reqs[0].time <= reqs[1].time <= reqs[2].time <= time.monotonic()
    assert [r.path for r in srv.completions()] == ["/v1/chat/completions", "/v1/messages"]
    assert reqs[1].json is None and reqs[1].body == b""


def test_wait_requests(srv):
    srv.add(text="a")
    go = threading.Event()
    threading.Thread(target=lambda: (go.wait(5), openai(srv)), daemon=True).start()
    request(srv, "GET", "/v1/models")     # not a completion: does not count
    with pytest.raises(TimeoutError):
        srv.wait_requests(1, timeout=0.05)
    go.set()
    got = srv.wait_requests(1, timeout=5)
    assert len(got) == 1 and got[0].path == "/v1/chat/completions"


def test_client_disconnect_recorded(srv):
    srv.add(text="a" * 40, chunk_size=1, chunk_delay=0.01)
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=5)
    conn.request("POST", "/v1/chat/completions", json.dumps(
        {"model": "m", "messages": [{"role": "user", "content": "x"}], "stream": True}))
    resp = conn.getresponse()
    resp.read(10)
    conn.close()
    resp.close()
    deadline = time.monotonic() + 3
    while srv.last.outcome is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert srv.last.outcome == "disconnected"


def test_close_does_not_wait_for_a_delayed_reply():
    s = ModelServer()
    s.add(text="never", delay=30)
    errors = []

    def client():
        try:
            errors.append(openai(s, stream=True).status)
        except (OSError, http.client.HTTPException) as e:
            errors.append(e)
    t = threading.Thread(target=client, daemon=True)
    t.start()
    s.wait_requests(1, timeout=5)
    start = time.monotonic()
    s.close()
    t.join(5)
    assert time.monotonic() - start < 2 and not t.is_alive()
    assert errors and not isinstance(errors[0], int)   # the client saw the connection go
    assert s.last.outcome == "closed"


def test_command_line_mode():
    script = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                          "harness", "model_server.py")
    with subprocess.Popen([sys.executable, script, "--port", "0", "--reply-text", "fixed"],
                          stdout=subprocess.PIPE, text=True) as p:
        try:
            line = p.stdout.readline()
            addr = types.SimpleNamespace(port=int(line.split("http://127.0.0.1:")[1].split()[0]))
            for _ in range(2):   # the same reply, every time
                assert openai(addr).json["choices"][0]["message"]["content"] == "fixed"
            assert anthropic_text(anthropic(addr, stream=True).events()) == "fixed"
        finally:
            p.send_signal(signal.SIGINT)   # Ctrl-C: a clean exit
            assert p.wait(5) == 0
