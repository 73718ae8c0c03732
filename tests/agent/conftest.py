"""The agent's scenarios: a warden kernel pointed at the scripted model server
(tests/harness/model_server.py), through jupyter_client. ``agent`` is a function that starts such
a kernel (OpenAI-compatible by default), ``srv`` the server its requests go to."""

import os

import pytest

from harness import Kernel, make_workdir
from harness.model_server import ModelServer

pytestmark = pytest.mark.warden_only


@pytest.fixture
def srv():
    with ModelServer() as s:
        yield s


@pytest.fixture
def audit_path(tmp_path):
    return str(tmp_path / "audit.jsonl")


@pytest.fixture
def agent(srv, audit_path):
    """agent(provider="openai", key=None, config=None, env=None, cwd=None) -> a started Kernel."""
    started = []

    def start(provider="openai", key=None, config=None, env=None, cwd=None):
        e = {"WARDEN_AUDIT": audit_path}
        if provider == "openai":
            e.update(OPENAI_BASE_URL=srv.openai_base, OPENAI_API_KEY=key)
        elif provider == "anthropic":
            e.update(ANTHROPIC_BASE_URL=srv.anthropic_base, ANTHROPIC_API_KEY=key or "sk-ant-test")
        e.update(env or {})
        k = Kernel(env=e, cwd=cwd or make_workdir(), config=config)
        k.start()
        started.append(k)
        return k

    yield start
    for k in started:
        k.close()


def code(text):
    """A reply holding `text` as its one python block."""
    return "Here is the code:\n```python\n%s\n```" % text


def texts(r):
    """The text/plain of the cell's displays, in order."""
    return [d.get("text/plain", "") for d in r.displays]


def os_environ_names():
    return set(os.environ)
