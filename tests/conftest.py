"""pytest configuration shared by every Python test suite under tests/.

- Puts tests/ on sys.path so suites can ``from harness import Kernel, python``.
- Calls ``harness.setup_environment()`` at import time, before any test class starts a kernel:
  a temporary kernelspec for the warden binary (``WARDEN_BIN``, default ``<repo>/build/warden``)
  is put first on ``JUPYTER_PATH``; history files are isolated.
- ``WARDEN_TEST_KERNEL=python3`` runs the suites against ipykernel instead (to check the tests
  themselves); tests marked ``warden_only`` are then skipped.

Fixtures: ``kernel`` (a fresh kernel per test), ``shared_kernel`` (one kernel per module, for
tests that only need a working kernel and leave no state behind them); both start in a fresh
world-readable directory (``harness.make_workdir()``), ``workdir`` is such a directory.
"""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402

harness.setup_environment()


def pytest_configure(config):
    config.addinivalue_line("markers", "warden_only: needs warden (skipped against ipykernel)")


def pytest_report_header(config):
    where = harness.warden_bin() if harness.IS_WARDEN else "ipykernel (Debian)"
    return f"kernel under test: {harness.KERNEL_NAME} ({where}); JUPYTER_PATH={os.environ['JUPYTER_PATH']}"


def pytest_collection_modifyitems(config, items):
    if harness.IS_WARDEN:
        return
    skip = pytest.mark.skip(reason="warden-specific (WARDEN_TEST_KERNEL=%s)" % harness.KERNEL_NAME)
    for item in items:
        if "warden_only" in item.keywords:
            item.add_marker(skip)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A kernel built with WARDEN_SANITIZE=ON: a sanitizer report that appeared while this test ran
    (its teardown included, where kernels exit and leaks are found) fails it
    (harness/sanitizer.py)."""
    outcome = yield
    if call.when == "teardown" and harness.sanitizer_log_dir():
        report = outcome.get_result()
        seen = item.config.stash.setdefault(_SANITIZER_SEEN, set())
        failure = harness.new_sanitizer_reports(seen, report.capstderr)
        if failure:
            report.outcome, report.longrepr = "failed", failure


_SANITIZER_SEEN = pytest.StashKey()


def _require_kernel():
    reason = harness.warden_missing_reason()
    if reason:
        pytest.fail(reason, pytrace=False)


@pytest.fixture
def workdir():
    return harness.make_workdir()


@pytest.fixture
def kernel(workdir):
    _require_kernel()
    with harness.Kernel(cwd=workdir) as k:
        yield k


@pytest.fixture(scope="module")
def shared_kernel():
    _require_kernel()
    with harness.Kernel(cwd=harness.make_workdir()) as k:
        yield k
