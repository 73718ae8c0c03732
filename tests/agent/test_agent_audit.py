"""The audit log when its disk fails: full (/dev/full) or read-only, it is said once on the
stderr of the cell it happened in and the request runs as usual, as does the next; a torn last
line that a killed writer left is cut back before the next record (agent/audit.c; the C side is
tests/unit/test_audit.c)."""

import json
import os
import subprocess

import pytest

from conftest import code


def run_two_requests(k, srv):
    srv.add(text=code("print('first ran')"))
    srv.add(text=code("print('second ran')"))
    first = k.run("first request", timeout=60)
    assert first.status == "ok" and "first ran" in first.stdout, first.summary()
    second = k.run("second request", timeout=60)
    assert second.status == "ok" and "second ran" in second.stdout, second.summary()
    return first, second


def test_full_disk_is_said_once_and_requests_run(agent, srv):
    k = agent(env={"WARDEN_AUDIT": "/dev/full"})
    first, second = run_two_requests(k, srv)
    said = "warden: audit log /dev/full: cannot write it: No space left on device"
    assert first.stderr.count(said) == 1, first.summary()
    assert "audit log" not in second.stderr, second.summary()


@pytest.fixture
def read_only_dir(tmp_path):
    """A directory the kernel cannot write in: a read-only tmpfs as root, else mode 0555."""
    ro = tmp_path / "ro"
    ro.mkdir()
    if os.geteuid() != 0:
        ro.chmod(0o555)
        yield ro
        ro.chmod(0o755)
        return
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(ro)],
                      capture_output=True).returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    yield ro
    subprocess.run(["umount", "-l", str(ro)], capture_output=True)


def test_read_only_log_is_said_once_and_requests_run(agent, srv, read_only_dir):
    path = read_only_dir / "audit.jsonl"
    k = agent(env={"WARDEN_AUDIT": str(path)})
    first, second = run_two_requests(k, srv)
    assert first.stderr.count(f"warden: audit log {path}: cannot open it") == 1, first.summary()
    assert "audit log" not in second.stderr, second.summary()
    assert not path.exists()


def test_a_torn_last_line_is_cut_back(agent, srv, audit_path):
    with open(audit_path, "w") as f:
        f.write(json.dumps({"request": "whole", "attempt": 1}) + "\n")
        f.write('{"request": "killed mid-wri')
    k = agent()
    first, _ = run_two_requests(k, srv)
    assert "audit log" not in first.stderr, first.summary()
    lines = open(audit_path).read().splitlines()
    records = [json.loads(line) for line in lines]  # every line whole
    assert [r["request"] for r in records] == ["whole", "first request", "second request"]
