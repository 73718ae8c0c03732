"""Model servers fail, as they do: rate limits with Retry-After, 503 and 529 retried, a quota that
waiting cannot fix, a refused key, an unknown model, malformed JSON, a cut stream, an error event
after a 200, a huge answer, a slow server interrupted mid-call and mid-stream, and no
configuration at all. Each is one clear error (or a success after the retry), and the next cell
works."""

import time

import pytest

from conftest import code
from harness import Kernel, make_workdir


def still_works(k):
    r = k.run("%%python\nprint('still here')", timeout=60)
    assert r.status == "ok" and r.stdout == "still here\n", r.summary()


def test_429_waits_what_retry_after_says_then_succeeds(agent, srv):
    srv.add(status=429, headers={"retry-after": "1"})
    srv.add(text=code("print('after the wait')"))
    k = agent()
    r = k.run("try", timeout=60)
    assert r.status == "ok" and "after the wait" in r.stdout, r.summary()
    first, second = srv.completions()
    assert second.time - first.time >= 1.0
    assert "rate limited, retrying in 1 s" in r.stderr


def test_retry_after_ms_wins(agent, srv):
    srv.add(status=429, headers={"retry-after-ms": "200", "retry-after": "30"})
    srv.add(text=code("print('quick')"))
    t0 = time.monotonic()
    r = agent().run("try", timeout=60)
    assert r.status == "ok" and time.monotonic() - t0 < 10, r.summary()
    assert "retrying in 0.2 s" in r.stderr


@pytest.mark.parametrize("status", [500, 503])
def test_server_errors_are_retried(agent, srv, status):
    srv.add(status=status)
    srv.add(text=code("print('recovered')"))
    r = agent().run("try", timeout=60)
    assert r.status == "ok" and "recovered" in r.stdout, r.summary()
    assert len(srv.completions()) == 2


def test_529_overloaded_anthropic_is_retried(agent, srv):
    srv.add(status=529)
    srv.add(text=code("print('anthropic ok')"))
    r = agent(provider="anthropic").run("try", timeout=60)
    assert r.status == "ok" and "anthropic ok" in r.stdout, r.summary()
    assert "overloaded" in r.stderr


def test_retries_are_bounded(agent, srv):
    for _ in range(3):
        srv.add(status=503, headers={"retry-after-ms": "10"})
    r = agent().run("try", timeout=60)
    assert r.status == "error" and r.error["ename"] == "ModelUnavailable", r.summary()
    assert "503" in r.error["evalue"] and "after 3 tries" in r.error["evalue"]
    assert len(srv.completions()) == 3  # the first try and the SDKs' two retries


def test_quota_429_is_explained_not_retried(agent, srv):
    srv.add(status=429, error={"error": {"message": "You exceeded your current quota.",
                                         "type": "insufficient_quota", "param": None,
                                         "code": "insufficient_quota"}})
    r = agent(key="sk-test-quota-key-000000000000").run("try", timeout=60)
    assert r.status == "error" and r.error["ename"] == "ModelQuotaError", r.summary()
    assert "quota" in r.error["evalue"] and "OPENAI_API_KEY" in r.error["evalue"]
    assert len(srv.completions()) == 1


def test_refused_key_names_the_variable_never_the_key(agent, srv):
    srv.add(status=401)
    key = "sk-wrong-key-abcdefghijklmnop0123"
    k = agent(key=key)
    r = k.run("try", timeout=60)
    assert r.status == "error" and r.error["ename"] == "ModelAuthError", r.summary()
    assert "OPENAI_API_KEY" in r.error["evalue"] and key not in r.error_text
    assert srv.completions()[0].headers["authorization"] == "Bearer " + key
    still_works(k)


def test_unknown_model_names_the_model_and_the_url(agent, srv):
    srv.add(status=404, error="The model `gpt-nope` does not exist")
    r = agent(env={"WARDEN_MODEL": "gpt-nope"}).run("try", timeout=60)
    assert r.status == "error" and r.error["ename"] == "ModelNotFound", r.summary()
    assert "gpt-nope" in r.error["evalue"] and srv.openai_base in r.error["evalue"]


def test_bad_request_gives_the_servers_words(agent, srv):
    srv.add(status=400, error="messages: too long for this model")
    r = agent().run("try", timeout=60)
    assert r.status == "error" and r.error["ename"] == "ModelRequestError", r.summary()
    assert "too long for this model" in r.error["evalue"]


@pytest.mark.parametrize("reply,words", [
    (dict(text="x", malformed=True), "not a JSON object"),
    (dict(text=code("print(1)"), cut_after=3), "cut"),
    (dict(text=code("print(1)"), error_event_after=2, error="Overloaded"), "Overloaded"),
])
def test_broken_answers_are_clear_errors(agent, srv, reply, words):
    srv.add(**reply)
    k = agent()
    r = k.run("try", timeout=60)
    assert r.status == "error" and r.error["ename"] == "ModelResponseError", r.summary()
    assert words in r.error["evalue"], r.error["evalue"]
    assert r.stdout == ""  # nothing of a broken answer ran
    still_works(k)


def test_anthropic_error_event_after_a_200(agent, srv):
    srv.add(text=code("print(1)"), error_event_after=2)
    r = agent(provider="anthropic").run("try", timeout=60)
    assert r.status == "error" and "overloaded" in r.error["evalue"].lower(), r.summary()


def test_a_huge_answer_is_refused(agent, srv):
    srv.add(huge=9 * 1024 * 1024)
    r = agent().run("write a lot", timeout=60)
    assert r.status == "error" and "larger than 8 MiB" in r.error["evalue"], r.summary()


@pytest.mark.parametrize("slow", [dict(delay=30), dict(chunk_delay=5, text=code("print(1)"))])
def test_an_interrupt_ends_a_slow_call_at_once(agent, srv, slow):
    srv.add(**slow)
    k = agent()
    ex = k.execute("take your time")
    srv.wait_requests(1, timeout=10)
    time.sleep(0.3)  # the call is under way (its request arrived): now the person interrupts
    t0 = time.monotonic()
    k.interrupt()
    r = ex.result(timeout=10)
    assert time.monotonic() - t0 < 2.0
    assert r.status == "error" and r.error["ename"] == "KeyboardInterrupt", r.summary()
    still_works(k)


def test_nothing_configured_answers_at_once(tmp_path):
    with Kernel(cwd=make_workdir()) as k:
        t0 = time.monotonic()
        r = k.run("plot something", timeout=30)
        assert time.monotonic() - t0 < 1.0
        assert r.status == "error" and r.error["ename"] == "AgentNotConfigured", r.summary()
        for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "OPENAI_BASE_URL"):
            assert name in r.error["evalue"]


def test_a_keyless_local_server_gets_no_authorization(agent, srv):
    srv.add(text=code("print('local')"))
    r = agent().run("try", timeout=60)
    assert r.status == "ok", r.summary()
    assert "authorization" not in srv.completions()[0].headers


def test_the_config_file_instead_of_the_environment(srv, audit_path):
    srv.add(text=code("print('from the config file')"))
    config = {"agent": {"provider": "openai", "base_url": srv.openai_base + "/",
                        "model": "configured-model", "max_attempts": 2}}
    with Kernel(cwd=make_workdir(), config=config, env={"WARDEN_AUDIT": audit_path}) as k:
        r = k.run("try", timeout=60)
    assert r.status == "ok" and "from the config file" in r.stdout, r.summary()
    assert srv.completions()[0].json["model"] == "configured-model"


def test_no_model_configured_asks_the_server(agent, srv):
    srv.add(text=code("print('discovered')"))
    r = agent().run("try", timeout=60)
    assert r.status == "ok", r.summary()
    assert any(q.path.endswith("/models") for q in srv.requests)
    assert srv.completions()[0].json["model"] == "scripted-model"


def test_several_models_are_listed_for_the_person_to_choose(audit_path):
    from harness.model_server import ModelServer
    with ModelServer(models=["alpha", "beta"]) as many:
        env = {"OPENAI_BASE_URL": many.openai_base, "WARDEN_AUDIT": audit_path}
        with Kernel(cwd=make_workdir(), env=env) as k:
            r = k.run("try", timeout=30)
            assert r.status == "error" and r.error["ename"] == "AgentNotConfigured"
            assert "alpha" in r.error["evalue"] and "beta" in r.error["evalue"]
            assert "%model" in r.error["evalue"]
            many.add(text=code("print('beta it is')"))
            assert k.run("%model beta").status == "ok"
            r = k.run("try again", timeout=30)
            assert r.status == "ok" and many.completions()[0].json["model"] == "beta"


def test_anthropic_requests_are_shaped_as_the_api_wants(agent, srv):
    srv.add(text=code("print('claude')"))
    r = agent(provider="anthropic", key="sk-ant-test-key-0000000000000").run("try", timeout=60)
    assert r.status == "ok" and "claude" in r.stdout, r.summary()
    req = srv.completions()[0]
    assert req.headers["x-api-key"] == "sk-ant-test-key-0000000000000"
    assert req.headers["anthropic-version"] == "2023-06-01"
    assert isinstance(req.json["max_tokens"], int) and "temperature" not in req.json
    assert "system" in req.json and req.json["messages"][0]["role"] == "user"
    assert r.reply_msg["metadata"]["warden"]["usage"]["output_tokens"] > 0


def test_an_interrupt_ends_a_retry_wait(agent, srv):
    srv.add(status=429, headers={"retry-after": "30"})
    k = agent()
    ex = k.execute("wait for me")
    ex.wait_for(lambda r: "retrying in 30 s" in r.stderr, timeout=30, what="the retry wait")
    t0 = time.monotonic()
    k.interrupt()
    r = ex.result(timeout=10)
    assert time.monotonic() - t0 < 2.0
    assert r.status == "error" and r.error["ename"] == "KeyboardInterrupt", r.summary()
    assert len(srv.completions()) == 1
    still_works(k)
