"""Sanitizer reports of a kernel built with WARDEN_SANITIZE=ON, as test failures.

tests/sanitize/stage.sh points ``ASAN_OPTIONS``'s ``log_path`` into the directory named by
``WARDEN_SANITIZER_LOGS``, so every report of AddressSanitizer and LeakSanitizer a kernel writes
(an invalid access, a leak found at exit) is a file ``<dir>/asan.<pid>`` rather than lines lost in
the stderr the kernel shares with pytest. UBSan (gcc's libubsan) ignores log_path and writes to
stderr, which pytest captures for the test running at the time (the kernel inherits pytest's
fd 2): its reports are found there (``report_in``).

A sanitizer stops the kernel at its first error, which fails the test that was talking to it; a
leak is only found as the kernel exits, after the test's own assertions, so tests/conftest.py
turns any new report into a failure of the test during whose teardown it is seen (a module's
shared kernel stops in the teardown of that module's last test). Without
``WARDEN_SANITIZER_LOGS`` all of this is inert.
"""

from __future__ import annotations

import os
import re
from typing import Optional

MAX_REPORT_CHARS = 20000  # enough for a few stacks; a report can be megabytes of leaks


def sanitizer_log_dir() -> Optional[str]:
    return os.environ.get("WARDEN_SANITIZER_LOGS") or None


# what each sanitizer's report starts with (UBSan: "file:line:col: runtime error: ...")
_REPORT = re.compile(r"^.*(?:runtime error: |ERROR: (?:Address|Leak|UndefinedBehavior)Sanitizer)"
                     r".*$", re.M)


def report_in(text: str) -> Optional[str]:
    """The first report in captured output (and what follows it, cut), or None."""
    m = _REPORT.search(text or "")
    return text[m.start():m.start() + MAX_REPORT_CHARS] if m else None


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


def new_reports(seen: set[str], captured_stderr: str) -> Optional[str]:
    """What to fail a test with: the report files not in ``seen`` (added to it) and a report in
    the stderr captured during the test; None when there is neither."""
    new = sanitizer_reports() - seen
    seen |= new
    on_stderr = report_in(captured_stderr)
    parts = ([describe_reports(new)] if new else []) + \
        ([f"sanitizer report on stderr:\n{on_stderr}"] if on_stderr else [])
    return "\n".join(parts) or None
