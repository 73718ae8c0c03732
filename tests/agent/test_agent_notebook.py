"""The agent in the notebook: the warden commands, %%ask and review mode, frontends' own code,
exit, the reply's metadata and the cost line, the audit log, and a notebook run by nbclient."""

import json
import os
import stat

import nbformat
from nbclient import NotebookClient

from conftest import code, texts
from harness import KERNEL_NAME, make_workdir


def test_model_and_agent_commands(agent, srv):
    k = agent(key="sk-test-abcdefghijklmnopqrstuv-WXYZ")
    r = k.run("%model my-model")
    assert r.status == "ok" and "my-model" in r.stdout
    r = k.run("%agent")
    assert r.status == "ok", r.summary()
    for words in ("provider: openai", "model: my-model", srv.openai_base, "attempts: 3",
                  "…WXYZ", "OPENAI_API_KEY", "audit log:"):
        assert words in r.stdout, r.stdout
    assert "abcdefghijklmnop" not in r.stdout  # the key, masked to its last 4 characters
    assert srv.completions() == []  # commands never reach the model
    srv.add(text=code("print(1)"))
    assert k.run("go", timeout=60).status == "ok"
    assert srv.completions()[0].json["model"] == "my-model"


def test_attempts_command_and_ask_options(agent, srv):
    k = agent()
    assert k.run("%attempts 1").status == "ok"
    srv.add(text=code("raise RuntimeError('once')"))
    r = k.run("fail once", timeout=60)
    assert r.status == "error" and len(srv.completions()) == 1
    assert r.error["traceback"][-1] == "warden: gave up after 1 attempts"
    srv.add(text=code("raise RuntimeError('a')"))
    srv.add(text=code("print('second try')"))
    r = k.run("%%ask --attempts 2 --model other\nfail then work", timeout=60)
    assert r.status == "ok" and "second try" in r.stdout, r.summary()
    assert srv.completions()[-1].json["model"] == "other"
    assert "fail then work" in srv.completions()[-2].json["messages"][1]["content"]


def test_review_mode_offers_the_code_as_the_next_cell(agent, srv, tmp_path):
    marker = tmp_path / "ran"
    srv.add(text=code("open(%r, 'w').write('x')" % str(marker)))
    r = agent().run("%%ask --review\nwrite a file", timeout=60)
    assert r.status == "ok", r.summary()
    payload = [p for p in r.reply["payload"] if p["source"] == "set_next_input"]
    assert len(payload) == 1 and payload[0]["text"].startswith("%%python\nopen(")
    assert not marker.exists()


def test_review_mode_from_the_config(srv, audit_path):
    from harness import Kernel
    srv.add(text=code("print('not run')"))
    env = {"OPENAI_BASE_URL": srv.openai_base, "WARDEN_AUDIT": audit_path}
    with Kernel(cwd=make_workdir(), env=env, config={"agent": {"review": True}}) as k:
        r = k.run("print", timeout=60)
    assert r.status == "ok" and r.stdout == ""
    assert any(p["source"] == "set_next_input" for p in r.reply["payload"])


def test_last_gives_the_last_requests_code(agent, srv):
    k = agent()
    assert k.run("%last").status == "error"  # nothing yet, said so
    srv.add(text=code("answer = 42"))
    assert k.run("set the answer", timeout=60).status == "ok"
    r = k.run("%last")
    assert r.status == "ok"
    assert [p["text"] for p in r.reply["payload"]] == ["%%python\nanswer = 42"]


def test_unknown_magic_is_not_sent_to_a_model(agent, srv):
    r = agent().run("%timeit sum(range(10))")
    assert r.status == "error" and r.error["ename"] == "UsageError", r.summary()
    assert "%%python" in r.error["evalue"] and "%agent" in r.error["evalue"]
    assert srv.completions() == []


def test_help(agent, srv):
    r = agent().run("%help")
    assert r.status == "ok" and "%model" in r.stdout and "%%ask" in r.stdout


def test_exit_is_not_a_request(agent, srv):
    for cell in ("exit", "quit()"):
        r = agent().run(cell)
        assert r.status == "ok" and srv.completions() == []
        assert {"source": "ask_exit", "keepkernel": False} in r.reply["payload"]


def test_frontends_own_code_runs_as_python(agent, srv):
    k = agent()
    r = k.run("__vsc_ipynb_file__ = 'x.ipynb'", store_history=False)
    assert r.status == "ok", r.summary()
    r = k.run("%config Completer.use_jedi = False", store_history=False)
    assert r.status == "ok", r.summary()
    assert srv.completions() == []
    assert k.run("%%python\n__vsc_ipynb_file__").results[0]["text/plain"] == "'x.ipynb'"


def test_usage_in_the_metadata_and_a_cost_line(agent, srv):
    srv.add(text=code("print(1)"), usage={"input_tokens": 812, "output_tokens": 95})
    r = agent().run("go", timeout=60)
    assert r.reply_msg["metadata"]["warden"] == {
        "model": "scripted-model", "attempts": 1,
        "usage": {"input_tokens": 812, "output_tokens": 95}}
    assert "scripted-model · 1 attempt · 812 in / 95 out tokens" in texts(r)


def test_the_audit_log(agent, srv, audit_path):
    key = "sk-audit-key-abcdefghijklmnopqrst"
    srv.add(text=code("print(undefined)"))
    srv.add(text=code("print('fine')"))
    k = agent(key=key)
    assert k.run("audited request", timeout=60).status == "ok"
    assert stat.S_IMODE(os.stat(audit_path).st_mode) == 0o600
    text = open(audit_path).read()
    assert key not in text
    records = [json.loads(line) for line in text.splitlines()]
    assert [r["attempt"] for r in records] == [1, 2]
    assert [r["status"] for r in records] == ["error", "ok"]
    first = records[0]
    assert first["request"] == "audited request" and first["ename"] == "NameError"
    assert first["code"] == "print(undefined)" and first["model"] == "scripted-model"
    assert first["provider"] == "openai" and "time" in first and "usage" in first
    assert first["execution_count"] == 1


def test_a_notebook_through_nbclient(srv, audit_path, tmp_path):
    """nbclient runs a notebook of requests and %%python cells; the executed notebook holds the
    code shown, the outputs and the table."""
    srv.add(text=code("import pandas as pd\ndf = pd.DataFrame({'a': [1, 2]})\ndf"))
    srv.add(text=code("print(df['a'].sum())"))
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("make a small table"),
                nbformat.v4.new_code_cell("%%python\nlen(df)"),
                nbformat.v4.new_code_cell("sum the column")]
    env = dict(os.environ, OPENAI_BASE_URL=srv.openai_base, WARDEN_AUDIT=audit_path)
    env.pop("OPENAI_API_KEY", None)
    client = NotebookClient(nb, kernel_name=KERNEL_NAME, timeout=120,
                            resources={"metadata": {"path": make_workdir()}})
    client.km = client.create_kernel_manager()
    client.km.extra_env = {}
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        client.execute()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    first, second, third = nb.cells
    html = [o["data"].get("text/html", "") for o in first.outputs if o.get("data")]
    assert any("<table" in h for h in html), first.outputs
    assert any("df = pd.DataFrame" in o["data"].get("text/plain", "")
               for o in first.outputs if o.get("data"))
    assert second.outputs[0]["data"]["text/plain"] == "2"
    assert any(o.get("text") == "3\n" for o in third.outputs), third.outputs
