"""The history in SQLite through a real kernel: history_request over sessions, two kernels
writing one file at once, a kernel's memory that does not grow with the history, a full disk and
a read-only one (a clear error in the cell, the next cell fine), and a kernel killed mid-write
(the file still whole). The C side is tests/unit/test_history.c."""

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import time

import pytest

from e2e_helpers import ok, result_text, warden_only
from harness import Kernel, make_workdir, python
from harness.processes import rss_kib

pytestmark = warden_only


def kernel_on(path, **kw):
    return Kernel(env={"WARDEN_HISTORY": str(path)}, cwd=make_workdir(), **kw)


def rows(path, sql="SELECT session, line, source FROM history ORDER BY id"):
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        return db.execute(sql).fetchall()


def poll(condition, timeout, what):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_history_request_across_sessions(tmp_path):
    path = tmp_path / "history.sqlite"
    with kernel_on(path) as k:
        ok(k.run(python("a = 6")))
        assert result_text(ok(k.run(python("a * 7")))) == "42"
        first = k.history(hist_access_type="tail", n=2, output=True)["history"]
        assert [h[1:] for h in first] == [[1, [python("a = 6"), None]],
                                         [2, [python("a * 7"), "42"]]], first
        session = first[0][0]
    assert os.stat(path).st_mode & 0o777 == 0o600
    with kernel_on(path) as k:
        ok(k.run(python("b = 1")))
        # the session before this one, by counting back and by number
        assert k.history(hist_access_type="range", session=-1)["history"] == \
            [[session, 1, python("a = 6")], [session, 2, python("a * 7")]]
        assert k.history(hist_access_type="range", session=session, start=2, stop=3)["history"] \
            == [[session, 2, python("a * 7")]]
        assert k.history(hist_access_type="range")["history"] == \
            [[session + 1, 1, python("b = 1")]]
        found = k.history(hist_access_type="search", pattern="*a*", unique=True, n=5)["history"]
        assert [h[2] for h in found] == [python("a = 6"), python("a * 7")], found
    assert [r[0] for r in rows(path, "SELECT session FROM sessions")] == [session, session + 1]


def test_a_cell_is_stored_once_with_its_output_and_a_long_one_while_it_runs(tmp_path):
    # A short cell goes in with its output after its idle (one write); one still running after
    # a moment has its input stored then, so a kernel that dies in it keeps it.
    path = tmp_path / "history.sqlite"
    workdir = make_workdir()
    with kernel_on(path) as quick:
        assert result_text(ok(quick.run(python("6 * 7")))) == "42"
        # stored after the idle the client has just seen: it may land a moment later
        poll(lambda: rows(path, "SELECT line, source, output FROM history") ==
             [(1, python("6 * 7"), "42")], 10, "the quick cell with its output in the file")
    with Kernel(env={"WARDEN_HISTORY": str(path)}, cwd=workdir) as k:
        long_cell = python("import os, time\n"
                           "while not os.path.exists('go'):\n"
                           "    time.sleep(0.01)\n"
                           "'done'")
        ex = k.execute(long_cell)
        poll(lambda: (2, 1, long_cell) in [r[:3] for r in rows(
            path, "SELECT session, line, source, output FROM history")], 10,
            "the running cell's input in the file")
        assert rows(path, "SELECT output FROM history WHERE session = 2") == [(None,)]
        open(os.path.join(workdir, "go"), "w").close()
        assert result_text(ok(ex.result())) == "'done'"
        poll(lambda: rows(path, "SELECT line, source, output FROM history WHERE session = 2") ==
             [(1, long_cell, "'done'")], 10, "the long cell's output in the file")


def test_a_running_cell_is_in_the_history_it_is_asked_for(tmp_path):
    workdir = make_workdir()
    with Kernel(env={"WARDEN_HISTORY": str(tmp_path / "h.sqlite")}, cwd=workdir) as k:
        cell = python("import os, time\nwhile not os.path.exists('go'):\n    time.sleep(0.01)")
        ex = k.execute(cell)
        # asked as the cell starts (before its input would be stored on its own), it is there
        assert k.history(hist_access_type="tail", n=1)["history"][0][1:] == [1, cell]
        open(os.path.join(workdir, "go"), "w").close()
        ok(ex.result())


def test_two_kernels_write_at_once(tmp_path):
    path = tmp_path / "history.sqlite"
    with kernel_on(path) as one, kernel_on(path) as two:
        # both kernels' cells in flight together: each stores as the other does
        flights = [(k, k.execute(python(f"v = {i}  # {name}")))
                   for i in range(20) for k, name in ((one, "one"), (two, "two"))]
        for k, ex in flights:
            ok(ex.result(60))
        for k, name in ((one, "one"), (two, "two")):
            notices = [ex.result(1).stderr for kk, ex in flights if kk is k]
            assert not any("warden: history" in s for s in notices), notices
        tail = one.history(hist_access_type="tail", n=40)["history"]
        assert sorted(h[2] for h in tail) == sorted(ex.code for k, ex in flights)
    stored = rows(path)
    assert len(stored) == 40 and len({r[0] for r in stored}) == 2


def big_history(path, megabytes):
    """A history file of about `megabytes` MB: made by a kernel (its schema), then filled."""
    with kernel_on(path) as k:
        ok(k.run(python("1")))
    cell = "# " + "x" * 50_000 + "\n"
    with sqlite3.connect(path) as db:
        count = megabytes * 1_000_000 // len(cell)
        db.executemany("INSERT INTO sessions (start) VALUES (datetime('now'))",
                       [()] * ((count + 49) // 50))
        db.executemany("INSERT INTO history (session, line, source) VALUES (?, ?, ?)",
                       ((2 + i // 50, 1 + i % 50, python(f"{cell}{i}")) for i in range(count)))
    return os.path.getsize(path)


def kernel_rss_after_a_cell(path):
    with kernel_on(path) as k:
        assert result_text(ok(k.run(python("1 + 1")))) == "2"
        assert k.history(hist_access_type="tail", n=1)["history"][0][2] == python("1 + 1")
        return rss_kib(k.pid)


def test_kernel_memory_does_not_grow_with_history(tmp_path):
    big = tmp_path / "big.sqlite"
    size = big_history(big, 100)
    assert size > 90_000_000, size
    empty = kernel_rss_after_a_cell(tmp_path / "empty.sqlite")
    full = kernel_rss_after_a_cell(big)
    print(f"kernel RSS after a cell: {empty} KiB (empty history), {full} KiB ({size >> 20} MiB)")
    assert abs(full - empty) < 1024, (empty, full)


@pytest.fixture
def tiny_disk(tmp_path):
    """A 2 MB tmpfs of our own (root only), unmounted after the test."""
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a tmpfs needs root")
    mnt = tmp_path / "disk"
    mnt.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m,mode=0755", "tmpfs", str(mnt)],
                      capture_output=True).returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def fill(directory):
    """Fills the filesystem of `directory` to the last byte."""
    fd = os.open(directory / "filler", os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for chunk in (65536, 1):
            try:
                while os.write(fd, b"\0" * chunk) == chunk:
                    pass
            except OSError:
                pass
    finally:
        os.close(fd)


def test_full_disk_is_said_with_the_next_cell_and_cells_run_on(tiny_disk):
    path = tiny_disk / "history.sqlite"
    with kernel_on(path) as k:
        ok(k.run(python("x = 1")))
        fill(tiny_disk)
        # bigger than anything the file or its log could reuse; a cell is stored after its idle
        # (with its output), so what went wrong is said with the next cell, naming the cell
        r = ok(k.run(python("# " + "y" * 600_000 + "\nprint(x + 1)")))
        assert r.stdout == "2\n" and "warden: history" not in r.stderr, r.summary()
        r = ok(k.run(python("print(x + 2)")))
        assert r.stdout == "3\n", r.summary()
        assert "warden: history: cannot write" in r.stderr and "full" in r.stderr, r.summary()
        assert "cell 2 not stored" in r.stderr, r.summary()
        r = ok(k.run(python("print(x + 3)")))
        assert r.stdout == "4\n" and "warden: history" not in r.stderr, r.summary()
    assert rows(path)[0][2] == python("x = 1")


def test_read_only_disk_keeps_history_in_memory(tiny_disk):
    path = tiny_disk / "history.sqlite"
    with kernel_on(path) as k:
        ok(k.run(python("before = 1")))
    subprocess.run(["mount", "-o", "remount,ro", str(tiny_disk)], check=True)
    with kernel_on(path) as k:
        r = ok(k.run(python("print(before := 2)")))
        assert r.stdout == "2\n", r.summary()
        assert "warden: history: cannot use" in r.stderr and "in memory" in r.stderr, r.summary()
        r = ok(k.run(python("print(before + 1)")))
        assert r.stdout == "3\n" and "warden: history" not in r.stderr, r.summary()
        assert [h[2] for h in k.history(hist_access_type="tail", n=5)["history"]] == \
            [python("print(before := 2)"), python("print(before + 1)")]
    subprocess.run(["mount", "-o", "remount,rw", str(tiny_disk)], check=True)
    assert [r[2] for r in rows(path)] == [python("before = 1")]  # as it was


def test_kernel_killed_mid_write_leaves_a_readable_file(tmp_path):
    path = tmp_path / "history.sqlite"
    cell = "# " + "z" * 300_000 + "\n"
    with kernel_on(path) as k:
        ok(k.run(python("1")))
        for i in range(60):
            k.execute(python(f"{cell}n = {i}"))
        poll(lambda: len(rows(path)) > 3, 60, "cells stored")
        k.signal(signal.SIGKILL)
        poll(lambda: not k.is_alive(), 30, "the kernel to die")
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    stored = rows(path)
    assert len(stored) >= 4
    for session, line, source in stored[1:]:  # each cell whole, or not there at all
        assert source == python(f"{cell}n = {line - 2}"), (line, len(source))
    with kernel_on(path) as k:
        ok(k.run(python("after = 1")))
        assert k.history(hist_access_type="tail", n=1)["history"][0][2] == python("after = 1")


def test_old_history_imported_aside_and_through_a_kill(tmp_path):
    old = tmp_path / "history.jsonl"
    cell = "# " + "w" * 50_000 + "\n"
    with open(old, "w") as f:  # about 60 MB: its import takes seconds
        for i in range(1200):
            f.write(json.dumps({"s": 1 + i // 100, "l": 1 + i % 100, "i": f"{cell}{i}"}) + "\n")
    claimed, done = tmp_path / "history.jsonl.importing", tmp_path / "history.jsonl.imported"
    db = tmp_path / "history.sqlite"  # kernel.history naming the .jsonl: the .sqlite beside it
    with kernel_on(old) as k:
        k.execute(python("1"))  # the first use of the history starts the import
        poll(lambda: claimed.exists() and rows(db, "SELECT count(*) FROM history")[0][0] > 1,
             60, "the import to be under way")
        k.signal(signal.SIGKILL)
        poll(lambda: not k.is_alive(), 30, "the kernel to die")
    assert claimed.exists() and not old.exists() and not done.exists()
    assert rows(db, "PRAGMA integrity_check") == [("ok",)]
    with kernel_on(old) as k:  # takes the dead kernel's claim over
        t0 = time.monotonic()
        ok(k.run(python("after = 1"), timeout=120))
        k.kernel_info()
        answered = time.monotonic() - t0
        importing = claimed.exists()
        poll(done.exists, 120, "the import to end")
        assert importing, f"the import ended before the first cell's reply ({answered:.1f} s)"
        found = k.history(hist_access_type="search", pattern="*\n1199", n=5)["history"]
        assert [h[:2] for h in found] == [[12, 100]], found
        last = k.history(hist_access_type="tail", n=1)["history"][0]
        assert last[0] > 12 and last[2] == python("after = 1"), last
    assert not claimed.exists()
    assert rows(db, "SELECT count(*) FROM history WHERE session <= 12") == [(1200,)]
