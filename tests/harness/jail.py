"""Which jail the kernels under test must be in, and the check that they are.

``WARDEN_EXPECT_JAIL`` says which jail warden is expected to build: "namespaces" (the default) or
"landlock" (the stages of tests/run under tests/container's as-container, where the namespaces
are refused and "auto" falls back). In Landlock mode warden says so once, on stderr of the
kernel's first cell that reaches the worker (``LANDLOCK_NOTICE``; issue 12 wants it there). Tests
that compare a first cell's output exactly would meet it, so under ``WARDEN_EXPECT_JAIL=landlock``
every ``Kernel`` the harness starts (and every restart, a new kernel process) spends its first two
cells on the check (``check_first_cells``): the first must carry the notice exactly once, the
second not at all. The tests then run unchanged, and a silent fall-back to another jail (or a
notice said twice, or never) fails whichever test started the kernel.

The spent cells are hidden ones (``store_history: false``, as a frontend's own start-up code):
they take no execution count and no history entry, so a test's first cell is still ``In [1]``.

Not checked: a kernel whose config chooses the jail itself (``sandbox.jail``,
``sandbox.unjailed``): the test asked for that jail and checks it (test_e2e_landlock does, on its
first cell). A kernel whose config is refused (``ConfigError``) builds no jail and runs no cell:
the spent cell must then be that refusal, with no notice.

What the Landlock jail cannot hold is written down test by test in landlock_differences.py; a test
that meets it asks ``differs(its own name)`` and asserts the outcome written there."""

from __future__ import annotations

import os

from .landlock_differences import DIFFERENCES

EXPECT_JAIL = os.environ.get("WARDEN_EXPECT_JAIL", "namespaces")
if EXPECT_JAIL not in ("namespaces", "landlock"):
    raise ValueError("WARDEN_EXPECT_JAIL must be namespaces or landlock, not %r" % EXPECT_JAIL)
LANDLOCK_NOTICE = "jail: Landlock mode \u2014 no pid/mount/network namespaces; see warden doctor"

# the spent cells' code; store_history false: no execution count, no history (see above)
_CHECK = "%%python\nprint('which jail')"


def differs(test: str) -> bool:
    """True when this test meets a listed limit of the jail under test (landlock_differences.py),
    and must then assert the different outcome written there. A test not listed is a KeyError in
    Landlock mode: every difference is written down before it is accepted."""
    if EXPECT_JAIL != "landlock":
        return False
    if test not in DIFFERENCES:
        raise KeyError("%s is not in landlock_differences.DIFFERENCES" % test)
    return True


def chooses_its_jail(config) -> bool:
    """True when a kernel's config picks the jail itself (the test checks that jail)."""
    sandbox = (config or {}).get("sandbox")
    return isinstance(sandbox, dict) and ("jail" in sandbox or "unjailed" in sandbox)


def wants_check(kernel_name: str, config) -> bool:
    """Whether the harness spends a new kernel's first cells on the Landlock notice."""
    return EXPECT_JAIL == "landlock" and kernel_name == "warden" and not chooses_its_jail(config)


def check_first_cells(kernel, timeout: float = 60) -> None:
    """Spend the kernel's first two cells: the notice exactly once in the first, never in the
    second. AssertionError (with both cells' summaries) otherwise."""
    first = kernel.run(_CHECK, timeout=timeout, store_history=False)
    if first.error and first.error.get("ename") == "ConfigError":
        assert LANDLOCK_NOTICE not in first.stderr, "a refused config said: " + first.summary()
        return
    assert first.status == "ok" and first.stdout == "which jail\n", \
        "the harness's first cell: " + first.summary()
    assert first.stderr.count(LANDLOCK_NOTICE) == 1, \
        "expected the Landlock notice once in the first cell: " + first.summary()
    second = kernel.run(_CHECK, timeout=timeout, store_history=False)
    assert second.status == "ok" and second.stdout == "which jail\n", \
        "the harness's second cell: " + second.summary()
    assert LANDLOCK_NOTICE not in second.stderr, \
        "the Landlock notice again in the second cell: " + second.summary()
