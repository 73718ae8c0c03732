"""Sanitizer reports of a kernel built with WARDEN_SANITIZE=ON, as test failures.

tests/sanitize/run points ``ASAN_OPTIONS``/``UBSAN_OPTIONS`` ``log_path`` into the directory named
by ``WARDEN_SANITIZER_LOGS``, so every report a kernel writes (an invalid access, undefined
behaviour, a leak found at exit) is a file ``<dir>/asan.<pid>`` or ``<dir>/ubsan.<pid>`` rather
than lines lost in the stderr the kernel shares with pytest. A sanitizer stops the kernel at its
first error, which fails the test that was talking to it; a leak is only found as the kernel exits,
after the test's own assertions, so tests/conftest.py also turns any new report into a failure of
the test during whose teardown it appeared (a module's shared kernel stops in the teardown of that
module's last test). Without ``WARDEN_SANITIZER_LOGS`` all of this is inert.
"""

from __future__ import annotations

import os
from typing import Optional

MAX_REPORT_CHARS = 20000  # enough for a few stacks; a report can be megabytes of leaks


def sanitizer_log_dir() -> Optional[str]:
    return os.environ.get("WARDEN_SANITIZER_LOGS") or None


def sanitizer_reports() -> set[str]:
    """Paths of the report files written so far (empty without a log directory)."""
    where = sanitizer_log_dir()
    if not where or not os.path.isdir(where):
        return set()
    return {os.path.join(where, name) for name in os.listdir(where)}


def describe_reports(paths: set[str]) -> str:
    """The reports' text, each cut to MAX_REPORT_CHARS, for an assertion message."""
    parts = []
    for path in sorted(paths):
        try:
            with open(path, errors="replace") as f:
                text = f.read(MAX_REPORT_CHARS + 1)
        except OSError as e:
            text = f"(unreadable: {e})"
        if len(text) > MAX_REPORT_CHARS:
            text = text[:MAX_REPORT_CHARS] + "\n[... cut]"
        parts.append(f"--- {path}\n{text}")
    return "sanitizer report(s) from the kernel:\n" + "\n".join(parts)
