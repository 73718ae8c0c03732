"""Jupyter Notebook in a real browser: Debian's notebook server (6, the classic UI) and Debian's
Chromium, headless, driven by playwright-core (tests/browser/run_notebook.js; no browser
download). A request in plain language makes a plot: the page shows the model's code while it is
written, then the PNG. The screenshot is kept in artifacts_dir() (tests/.artifacts).

Needs what .ci/setup installs: jupyter-notebook, chromium, nodejs, and `npm ci` here."""

import json
import os
import secrets
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

import harness
from harness import artifacts_dir, make_workdir
from harness.model_server import ModelServer

pytestmark = pytest.mark.warden_only

HERE = Path(__file__).resolve().parent
CHROMIUM = "/usr/bin/chromium"
REQUEST = "plot y = x squared for x from 0 to 10"
CODE = """import matplotlib.pyplot as plt

xs = list(range(11))
plt.plot(xs, [x * x for x in xs], marker="o")
plt.title("y = x squared")
plt.show()"""


def missing():
    reason = harness.warden_missing_reason()
    if reason:
        return reason
    for what, ok in (("jupyter notebook (jupyter-notebook)", shutil.which("jupyter-notebook")),
                     ("chromium", os.access(CHROMIUM, os.X_OK)), ("node", shutil.which("node")),
                     ("playwright-core (npm ci in tests/browser)",
                      (HERE / "node_modules" / "playwright-core").is_dir())):
        if not ok:
            return "%s is not installed: run .ci/setup" % what
    return None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_server(url, server, timeout=90):
    deadline = time.monotonic() + timeout
    while True:
        if server.poll() is not None:
            raise AssertionError("jupyter notebook exited: %s" % server.returncode)
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError("jupyter notebook did not answer %s within %ss" % (url, timeout))
        time.sleep(0.2)  # polling the server's status URL: awaited with a deadline


def notebook(path):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "warden", "display_name": "warden",
                                 "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(REQUEST)]
    nbformat.write(nb, str(path))


def test_a_request_draws_a_plot_in_the_notebook(tmp_path):
    reason = missing()
    if reason:
        pytest.fail(reason, pytrace=False)
    workdir = Path(make_workdir())
    notebook(workdir / "plot.ipynb")
    token, port = secrets.token_hex(16), free_port()
    screenshot = artifacts_dir() / "notebook_plot.png"
    if screenshot.exists():
        screenshot.unlink()
    with ModelServer() as srv:
        # slow enough that the page shows the code growing before it runs
        srv.add(text="A line plot:\n```python\n%s\n```" % CODE, chunk_size=8, chunk_delay=0.08)
        env = dict(os.environ, OPENAI_BASE_URL=srv.openai_base,
                   WARDEN_AUDIT=str(tmp_path / "audit.jsonl"),
                   JUPYTER_CONFIG_DIR=str(tmp_path / "config"))
        log = open(tmp_path / "notebook.log", "w")
        server = subprocess.Popen(
            ["jupyter-notebook", "--no-browser", "--port=%d" % port, "--ip=127.0.0.1",
             "--NotebookApp.token=" + token, "--NotebookApp.port_retries=0",
             "--notebook-dir=" + str(workdir)] + (["--allow-root"] if os.geteuid() == 0 else []),
            env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            base = "http://127.0.0.1:%d" % port
            wait_for_server("%s/api/status?token=%s" % (base, token), server)
            done = subprocess.run(
                ["node", str(HERE / "run_notebook.js"),
                 "%s/notebooks/plot.ipynb?token=%s" % (base, token), str(screenshot), "150000"],
                cwd=HERE, capture_output=True, text=True, timeout=240)
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
            log.close()
        asked = srv.completions()
    lines = done.stdout.strip().splitlines()
    assert lines, "no report from the browser: %s\n%s" % (done.stderr[-3000:],
                                                         (tmp_path / "notebook.log").read_text())
    report = json.loads(lines[-1])
    server_log = (tmp_path / "notebook.log").read_text()[-3000:]
    assert report["errors"] == [], "%s\nserver log:\n%s" % (report["errors"], server_log)
    assert len(asked) == 1 and REQUEST in json.dumps(asked[0].json)
    assert report["streamed"], "the code was not on the page while the model wrote it"
    assert "plt.plot(xs, [x * x for x in xs]" in report["code"], report
    assert "attempt 1 of 3" in report["outputs"], report
    assert report["png"]["width"] > 100 and report["png"]["height"] > 100, report
    assert screenshot.stat().st_size > 10000
