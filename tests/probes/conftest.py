"""The probes' kernels: one per module with secrets in its environment, a fresh one for
destructive probes. Overrides tests/conftest.py's workdir: probes share a module-scoped one."""

import os

import pytest

from harness import Kernel
from probe_helpers import SECRET_ENV


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    d = tmp_path_factory.mktemp("probe-work")
    (d / "data.csv").write_text("a,b\n1,2\n3,4\n")
    # as root the jail's user is a host uid of its own: the notebook directory must be readable
    os.chmod(d, 0o755)
    return d


@pytest.fixture(scope="module")
def k(workdir):
    with Kernel(env=SECRET_ENV, cwd=str(workdir)) as kern:
        yield kern


@pytest.fixture
def fresh(tmp_path):
    os.chmod(tmp_path, 0o755)
    with Kernel(env=SECRET_ENV, cwd=str(tmp_path)) as kern:
        yield kern
