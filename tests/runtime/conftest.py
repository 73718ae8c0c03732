"""Fixtures for the worker runtime tests (the runtime is started directly, without a jail)."""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from wframes import RuntimeProc  # noqa: E402


@pytest.fixture(scope="session")
def worker(tmp_path_factory):
    """One runtime for the whole run (heavy imports happen once), for tests that leave no state
    others depend on."""
    with RuntimeProc(cwd=tmp_path_factory.mktemp("shared")) as w:
        yield w


@pytest.fixture
def fresh(tmp_path):
    """A runtime of its own, cwd = the test's tmp_path."""
    with RuntimeProc(cwd=tmp_path) as w:
        yield w
