"""The probes' kernels: one per module with secrets in its environment, a fresh one for
destructive probes. Overrides tests/conftest.py's workdir: probes share a module-scoped one."""

import os
from pathlib import Path

import pytest

from harness import make_workdir
from probe_helpers import probe_kernel


@pytest.fixture(scope="module")
def workdir():
    d = Path(make_workdir("probe-work-"))
    (d / "data.csv").write_text("a,b\n1,2\n3,4\n")
    # as root the jail's user is a host uid of its own: the notebook's files must be readable
    os.chmod(d / "data.csv", 0o644)
    return d


@pytest.fixture(scope="module")
def k(workdir):
    with probe_kernel(workdir) as kern:
        yield kern


@pytest.fixture
def fresh():
    with probe_kernel() as kern:
        yield kern
