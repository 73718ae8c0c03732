"""The notebooks in examples/ run end to end with `jupyter nbconvert --execute --to notebook`,
each against the scripted model server loaded with its replies (examples/<name>.replies.json: the
model's answers in order, each with the request it answers). The executed notebooks hold what a
person sees: the model's code, the tables as HTML, the plots as PNG, and no error."""

import base64
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

import harness
from harness import REPO_ROOT, artifacts_dir, make_workdir
from harness.model_server import ModelServer

pytestmark = pytest.mark.warden_only

EXAMPLES = sorted((REPO_ROOT / "examples").glob("*.ipynb"))
PNG = b"\x89PNG\r\n\x1a\n"


def test_there_are_examples():
    assert len(EXAMPLES) >= 2, EXAMPLES
    for path in EXAMPLES:
        assert path.with_suffix(".replies.json").is_file(), path


def outputs(nb, kind=None):
    return [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
            if kind is None or o.output_type == kind]


def data_of(nb, mime):
    return [o.data[mime] for o in outputs(nb) if "data" in o and mime in o.data]


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_runs_under_nbconvert(path, tmp_path):
    reason = harness.warden_missing_reason()
    if reason:
        pytest.fail(reason, pytrace=False)
    replies = json.loads(path.with_suffix(".replies.json").read_text())
    workdir = Path(make_workdir())
    shutil.copy(path, workdir / path.name)
    with ModelServer() as srv:
        for reply in replies:
            srv.add({k: v for k, v in reply.items() if k != "request"})
        env = dict(os.environ, OPENAI_BASE_URL=srv.openai_base,
                   WARDEN_AUDIT=str(tmp_path / "audit.jsonl"))
        done = subprocess.run(
            [sys.executable, "-m", "nbconvert", "--to", "notebook", "--execute",
             "--ExecutePreprocessor.timeout=300", "--ExecutePreprocessor.startup_timeout=90",
             "--output-dir", str(tmp_path), path.name],
            cwd=workdir, env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-4000:]
        asked = srv.completions()
    assert len(asked) == len(replies), "every scripted reply was asked for, no more"
    for reply, request in zip(replies, asked):
        assert reply["request"] in json.dumps(request.json, ensure_ascii=False), reply["request"]

    executed = tmp_path / path.name
    shutil.copy(executed, artifacts_dir() / ("executed-" + path.name))
    nb = nbformat.read(str(executed), as_version=4)
    nbformat.validate(nb)
    assert outputs(nb, "error") == []
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1))
    requests = [c for c in code if not c.source.startswith("%%python")]
    for cell in requests:  # each request shows the model's code as it ran
        shown = "".join(o.data.get("text/markdown", "") for o in cell.outputs if "data" in o)
        assert "```python" in shown, cell.source
    attempts = [t for t in data_of(nb, "text/plain") if t.startswith("# attempt ")]
    assert len(attempts) == len(replies), "every answer's code is shown, a failed one too"
    tables = data_of(nb, "text/html")
    assert any("<table" in t for t in tables), "no HTML table"
    pngs = data_of(nb, "image/png")
    assert pngs and all(base64.b64decode(p)[:8] == PNG for p in pngs), "no PNG plot"
