"""The generate-execute-fix loop through a real kernel and the scripted model server: first-try
success, a fix with the traceback in the next request, a syntax error fixed without running,
giving up after exactly max_attempts, the same-error step-back, prose, <think>, plots, the
namespace and files in the prompt, and outputs live in the same namespace as %%python cells."""

import json
import os

from conftest import code, texts


def user_turns(req):
    return [m["content"] for m in req.json["messages"] if m["role"] == "user"]


def test_first_try_runs_and_shows_the_code(agent, srv):
    srv.add(text=code("x = 21 * 2\nprint('answer', x)"))
    k = agent()
    r = k.run("compute the answer", timeout=60)
    assert r.status == "ok", r.summary()
    assert r.stdout == "answer 42\n"
    shown = "\n".join(texts(r))
    assert "x = 21 * 2" in shown and "attempt 1 of 3" in shown
    assert r.error is None
    req = srv.completions()[0].json
    assert req["stream"] is True and req["stream_options"] == {"include_usage": True}
    assert req["messages"][0]["role"] == "system" and "```python" in req["messages"][0]["content"]
    assert "compute the answer" in req["messages"][-1]["content"]
    assert "max_tokens" not in req and "temperature" not in req
    # the code ran in the kernel's namespace: a %%python cell sees x
    assert k.run("%%python\nx + 1").results[0]["text/plain"] == "43"


def test_name_error_fixed_on_the_second_attempt(agent, srv):
    srv.add(text=code("print(totl)"))
    srv.add(text=code("total = 5\nprint(total)"))
    r = agent().run("print a total", timeout=60)
    assert r.status == "ok" and r.stdout.strip() == "5", r.summary()
    assert r.error is None  # only the give-up is an error output
    assert any("attempt 1 failed" in t and "NameError" in t for t in texts(r)), texts(r)
    second = srv.completions()[1].json["messages"]
    assert second[-2]["role"] == "assistant" and "print(totl)" in second[-2]["content"]
    assert "NameError" in second[-1]["content"] and "totl" in second[-1]["content"]
    assert "\x1b[" not in second[-1]["content"]  # no terminal colours for the model


def test_syntax_error_goes_back_without_running(agent, srv, tmp_path):
    marker = tmp_path / "ran"
    srv.add(text=code("open(%r, 'w').write('x')\nprint(1" % str(marker)))
    srv.add(text=code("print('fixed')"))
    r = agent().run("print something", timeout=60)
    assert r.status == "ok" and r.stdout == "fixed\n", r.summary()
    assert not marker.exists()  # the broken code never ran
    fix = srv.completions()[1].json["messages"][-1]["content"]
    assert "does not compile" in fix and "SyntaxError" in fix


def test_gives_up_after_exactly_max_attempts(agent, srv):
    for i in range(3):
        srv.add(text=code("raise ValueError('try %d')" % i))
    r = agent().run("do the impossible", timeout=60)
    assert r.status == "error", r.summary()
    assert len(srv.completions()) == 3
    errors = [c for t, c in r.outputs if t == "error"]
    assert len(errors) == 1 and errors[0]["ename"] == "ValueError"
    assert errors[0]["evalue"] == "try 2"
    assert errors[0]["traceback"][-1] == "warden: gave up after 3 attempts"
    assert r.reply_msg["metadata"]["warden"]["attempts"] == 3


def test_the_same_error_twice_asks_for_a_different_approach(agent, srv):
    srv.add(text=code("import nosuchmodule"))
    srv.add(text=code("import nosuchmodule as m"))
    srv.add(text=code("print('other way')"))
    r = agent().run("use nosuchmodule", timeout=60)
    assert r.status == "ok", r.summary()
    first_fix = srv.completions()[1].json["messages"][-1]["content"]
    second_fix = srv.completions()[2].json["messages"][-1]["content"]
    assert "same error" not in first_fix
    assert "same error" in second_fix and "different approach" in second_fix


def test_prose_only_answers_and_runs_nothing(agent, srv):
    srv.add(text="A NameError means a name was used before it was defined.")
    r = agent().run("what does NameError mean?", timeout=60)
    assert r.status == "ok", r.summary()
    assert any("before it was defined" in t for t in texts(r))
    assert r.stdout == "" and len(srv.completions()) == 1


def test_unfenced_code_runs(agent, srv):
    srv.add(text="print('no fence')")
    r = agent().run("print without fences", timeout=60)
    assert r.status == "ok" and r.stdout == "no fence\n", r.summary()


def test_think_blocks_are_never_code(agent, srv):
    srv.add(text=code("print('the answer')"), reasoning="```python\nraise SystemExit('think')\n```",
            think_in_content=True)
    r = agent().run("think first", timeout=60)
    assert r.status == "ok" and r.stdout == "the answer\n", r.summary()
    assert not any("think" in t and "SystemExit" in t for t in texts(r))


def test_reasoning_fields_are_never_code(agent, srv):
    srv.add(text=code("print(2)"), reasoning="raise SystemExit()", reasoning_field="reasoning")
    r = agent().run("reason", timeout=60)
    assert r.status == "ok" and r.stdout == "2\n", r.summary()


def test_other_languages_are_never_run(agent, srv):
    srv.add(text="```bash\nrm -rf ~\n```\n```python\nprint('only this')\n```")
    r = agent().run("two blocks", timeout=60)
    assert r.status == "ok" and r.stdout == "only this\n", r.summary()


def test_a_plot_request_returns_a_png(agent, srv):
    srv.add(text=code("import matplotlib.pyplot as plt\nplt.plot([1, 2, 3])\nplt.show()"))
    r = agent().run("plot 1 2 3", timeout=90)
    assert r.status == "ok", r.summary()
    assert any("image/png" in d for d in r.displays), r.summary()


def test_the_second_request_sees_the_dataframe_the_first_made(agent, srv):
    srv.add(text=code("import pandas as pd\nsales = pd.DataFrame({'region': ['n', 's'], "
                      "'revenue': [1.5, 2.5]})"))
    srv.add(text=code("print(sales['revenue'].sum())"))
    k = agent()
    assert k.run("make a sales table", timeout=90).status == "ok"
    r = k.run("sum the revenue", timeout=60)
    assert r.status == "ok" and r.stdout.strip() == "4.0", r.summary()
    prompt = user_turns(srv.completions()[1])[0]
    assert "sales: DataFrame" in prompt and "region" in prompt and "revenue float64" in prompt
    assert "make a sales table" in prompt  # the earlier cell is in the context


def test_files_of_the_working_directory_are_listed(agent, srv, tmp_path):
    wd = tmp_path / "nb"
    wd.mkdir()
    wd.chmod(0o755)
    (wd / "sales.csv").write_text("region,revenue\nn,1\n")
    srv.add(text=code("import pandas as pd\nprint(len(pd.read_csv('sales.csv')))"))
    r = agent(cwd=str(wd)).run("load the sales data", timeout=90)
    assert r.status == "ok" and r.stdout.strip() == "1", r.summary()
    assert "sales.csv" in user_turns(srv.completions()[0])[0]


def test_fix_the_error_above_sees_the_python_cell(agent, srv):
    k = agent()
    assert k.run("%%python\nvalue = int('seven')").status == "error"
    srv.add(text=code("value = 7\nprint(value)"))
    r = k.run("fix the error above", timeout=60)
    assert r.status == "ok", r.summary()
    prompt = user_turns(srv.completions()[0])[0]
    assert "int('seven')" in prompt and "ValueError" in prompt


def test_secrets_are_absent_from_the_jail(agent, srv):
    srv.add(text=code("import os\nprint(sorted(os.environ))\nprint('key' in str(os.environ))"))
    r = agent(key="sk-verysecret-0123456789abcdef").run("show the environment", timeout=60)
    assert r.status == "ok", r.summary()
    assert "OPENAI_API_KEY" not in r.stdout and "sk-verysecret" not in r.stdout


def test_what_the_model_sees_is_masked(agent, srv):
    k = agent()
    assert k.run("%%python\ntoken = 'sk-proj-abcdefghijklmnopqrstuvwxyz0123'\n"
                 "print('leaked sk-proj-abcdefghijklmnopqrstuvwxyz0123')").status == "ok"
    srv.add(text=code("print('ok')"))
    assert k.run("carry on", timeout=60).status == "ok"
    sent = json.dumps(srv.completions()[0].json)
    assert "abcdefghijklmnopqrstuvwxyz0123" not in sent
    assert "token" in sent  # the variable is listed, its value is not


def test_outputs_stream_while_the_code_runs(agent, srv):
    srv.add(text=code("import time\nprint('first', flush=True)\ntime.sleep(1)\nprint('second')"))
    k = agent()
    ex = k.execute("print twice")
    early = ex.wait_for(lambda r: "first" in r.stdout, timeout=30, what="the first print")
    assert "second" not in early.stdout
    assert ex.result(timeout=30).status == "ok"


def test_the_code_grows_in_one_display_then_is_shown_once(agent, srv):
    body = "\n".join("x%d = %d" % (i, i) for i in range(12)) + "\nprint(x11)"
    srv.add(text=code(body), chunk_size=4, chunk_delay=0.04)  # about 40 deltas over 1.6 s
    r = agent().run("count up", timeout=60)
    assert r.status == "ok" and r.stdout == "11\n", r.summary()
    first = [c for t, c in r.outputs if t == "display_data" and c["transient"].get("display_id")]
    assert len(first) == 1
    display_id = first[0]["transient"]["display_id"]
    updates = [c for t, c in r.outputs
               if t == "update_display_data" and c["transient"]["display_id"] == display_id]
    assert 2 <= len(updates) <= 15, len(updates)  # a few a second, not one per delta
    growing = [u["data"]["text/markdown"] for u in updates[:-1]]
    assert any("```python" in g for g in growing) and growing == sorted(growing, key=len)
    assert updates[-1]["data"] == {"text/markdown": "", "text/plain": ""}  # given way to ...
    final = [c for t, c in r.outputs if t == "display_data" and "x11 = 11" in
             c["data"].get("text/plain", "") and not c["transient"]]
    assert len(final) == 1  # ... the final code, once, as a display every client shows
