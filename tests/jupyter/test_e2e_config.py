"""End-to-end, the config file through a real kernel: a section per layer, a bad file that every
cell explains (the kernel still starts and answers kernel_info), the deprecated
sandbox.agent_wall_time, kernel.history, and the Python version kernel_info reports (the worker's
own, from its ready frame)."""

import sqlite3
import os
import subprocess

from e2e_helpers import ok, result_text, warden_only
from harness import Kernel, make_workdir, python

pytestmark = warden_only


def refused_everywhere(k, ename, *words):
    """Every kind of cell answers with the same error, in the one shape."""
    for code in (python("print('never runs')"), "plot something", python("1")):
        r = k.run(code, timeout=30)
        assert r.status == "error" and r.error and r.error["ename"] == ename, r.summary()
        assert r.reply["ename"] == ename and r.reply["evalue"] == r.error["evalue"]
        assert r.error["traceback"] == [f"{ename}: {r.error['evalue']}"], r.error
        assert "never runs" not in r.stdout
        for word in words:
            assert word in r.error["evalue"], r.error["evalue"]


def test_unknown_section_is_explained_in_every_cell():
    with Kernel(cwd=make_workdir(), config={"sandbox": {}, "agnet": {"wall_time": 5}}) as k:
        assert k.kernel_info()["status"] == "ok"
        assert k.kernel_info(channel="control")["status"] == "ok"
        refused_everywhere(k, "ConfigError", 'unknown section "agnet"', '"agent"')


def test_bad_field_of_any_section_is_explained():
    for config, words in (({"agent": {"wall_time": "2m"}}, ("agent.wall_time", "seconds")),
                          ({"kernel": {"history": "rel.jsonl"}}, ("kernel.history", "absolute")),
                          ({"sandbox": {"tasks": 1}}, ("sandbox.tasks", "between 8"))):
        with Kernel(cwd=make_workdir(), config=config) as k:
            refused_everywhere(k, "ConfigError", *words)


def test_every_section_accepted_and_the_old_agent_wall_time_too(tmp_path):
    history = tmp_path / "history.sqlite"
    config = {"kernel": {"history": str(history)}, "agent": {"wall_time": 60},
              "sandbox": {"memory": "1G", "agent_wall_time": 30}}
    with Kernel(cwd=make_workdir(), config=config, env={"WARDEN_HISTORY": None}) as k:
        assert result_text(ok(k.run(python("6 * 7")))) == "42"
    with sqlite3.connect(history) as db:
        entries = [row[0] for row in db.execute("SELECT source FROM history")]
    assert any("6 * 7" in e for e in entries), entries


def test_kernel_info_reports_the_workers_python():
    version = subprocess.run(["/usr/bin/python3", "-c", "import platform; print(platform.python_version())"],
                             capture_output=True, text=True, check=True).stdout.strip()
    with Kernel(cwd=make_workdir()) as k:
        first = k.kernel_info()["language_info"]["version"]
        # before the worker is up: what the interpreter's name says (major.minor), never wrong
        assert version == first or version.startswith(first + "."), (first, version)
        ok(k.run(python("1")))
        info = k.kernel_info()
        assert info["language_info"]["version"] == version
        assert f"Python {version}" in info["banner"]
