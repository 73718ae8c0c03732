"""Helpers shared by the end-to-end tests (test_e2e_*.py)."""

import pytest

warden_only = pytest.mark.warden_only


def ok(r):
    assert r.status == "ok", r.summary()
    return r


def result_text(r):
    assert len(r.results) == 1, r.summary()
    return r.results[0]["text/plain"]
