"""Process trees read from /proc: what a kernel started, and whether it is still there (see the
package docstring)."""

from __future__ import annotations

import os
import time
from typing import Iterable, Optional


def _stat(pid: int) -> Optional[tuple[int, int, str]]:
    """(ppid, starttime, state) of a process, or None if it does not exist."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read().decode("utf-8", "replace")
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    # comm may hold spaces and parentheses: split after the last ')'
    rest = data[data.rindex(")") + 2:].split()
    state, ppid, starttime = rest[0], int(rest[1]), int(rest[19])
    return ppid, starttime, state


def _all_stats() -> dict[int, tuple[int, int, str]]:
    stats = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            st = _stat(int(name))
            if st is not None:
                stats[int(name)] = st
    return stats


def process_tree(pid: int) -> list[int]:
    """``pid`` followed by all its live descendants (zombies left out)."""
    stats = _all_stats()
    if pid not in stats:
        return []
    children: dict[int, list[int]] = {}
    for p, (ppid, _start, _state) in stats.items():
        children.setdefault(ppid, []).append(p)
    out, todo = [], [pid]
    while todo:
        p = todo.pop(0)
        if stats.get(p, (0, 0, "Z"))[2] != "Z":
            out.append(p)
        todo.extend(sorted(children.get(p, [])))
    return out


def snapshot_tree(pid: int) -> dict[int, int]:
    """{pid: starttime} of ``pid`` and all its descendants."""
    snap = {}
    for p in process_tree(pid):
        st = _stat(p)
        if st is not None:
            snap[p] = st[1]
    return snap


def alive(snapshot: dict[int, int]) -> list[int]:
    """Pids of the snapshot that still run (same start time, not a zombie)."""
    out = []
    for pid, start in snapshot.items():
        st = _stat(pid)
        if st is not None and st[1] == start and st[2] != "Z":
            out.append(pid)
    return out


def wait_gone(snapshot: dict[int, int], timeout: float = 10.0) -> list[int]:
    """Wait until no process of the snapshot runs; return the survivors after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        left = alive(snapshot)
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.02)


def describe(pids: Iterable[int]) -> str:
    lines = []
    for pid in pids:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode("utf-8", "replace").strip()
        except OSError:
            cmd = "?"
        lines.append(f"{pid}: {cmd}")
    return "\n".join(lines)


def rss_kib(pid: int) -> Optional[int]:
    """Resident set size of one process in KiB (VmRSS), or None."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return 0
