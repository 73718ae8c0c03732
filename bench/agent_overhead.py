"""What a request in plain language costs beyond the model's time and the code's own run time
(issue 9's target: at most 5 ms).

A warden kernel is pointed at the scripted model server (tests/harness/model_server.py) answering
at once with one line of code. Three medians are taken: the request cell; the same code as a
%%python cell; and the model's own time — warden's very request (its recorded body) replayed
straight to the server from here, streamed and read to its end. The overhead is the first less the
other two: the describe and syntax-check round trips to the worker, the prompt, the SSE parsing,
the displays of the code.
"""

import http.client
import json
import statistics
import time
from urllib.parse import urlparse

from bench_kernel import BenchError, Session
from harness.model_server import ModelServer

REPLY = "```python\nx = 1\n```"


def _median_ms(values):
    return round(statistics.median(values) * 1000, 2) if values else None


def _replay(srv, body, n):
    """The server's time for warden's own request, from a plain HTTP client."""
    url = urlparse(srv.openai_base)
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
        conn.request("POST", url.path + "/chat/completions", body=body,
                     headers={"Content-Type": "application/json"})
        conn.getresponse().read()
        conn.close()
        times.append(time.perf_counter() - t0)
    return times


def measure(label, env, cwd, opts, log, stderr):
    """The figures of one warden kernel pointed at an instant scripted model, as a dict."""
    n = max(5, opts.round_trips // 10)
    with ModelServer(default_reply={"text": REPLY}) as srv:
        e = dict(env, OPENAI_BASE_URL=srv.openai_base, WARDEN_MODEL="scripted-model",
                 WARDEN_AUDIT="off")
        for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL"):
            e.pop(name, None)
        s = Session(label, "warden", e, cwd, True, stderr)
        s.launch()
        try:
            s.wait_ready()
            for _ in range(3):  # warm: the worker, the connection, the first describe
                s.execute("set x to one")
                s.execute("%%python\nx = 1")
            req, py = [], []
            for _ in range(n):
                dt, reply, iopub = s.execute("set x to one")
                if reply.get("status") != "ok":
                    raise BenchError(f"{label}: request cell failed: {reply}")
                if "x = 1" not in json.dumps([m["content"] for m in iopub]):
                    raise BenchError(f"{label}: the model's code was not shown")
                req.append(dt)
                py.append(s.execute("%%python\nx = 1")[0])
            model = _replay(srv, srv.completions()[-1].body, n)
        finally:
            s.close()
    res = {}
    res["agent_request_ms"] = _median_ms(req)
    res["agent_python_ms"] = _median_ms(py)
    res["agent_model_ms"] = _median_ms(model)
    res["agent_overhead_ms"] = round(res["agent_request_ms"] - res["agent_python_ms"]
                                     - res["agent_model_ms"], 2)
    log(f"  {label}: request cell {res['agent_request_ms']} ms = %%python cell "
        f"{res['agent_python_ms']} + model {res['agent_model_ms']} + warden "
        f"{res['agent_overhead_ms']}")
    return res
