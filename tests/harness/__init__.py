"""Test harness: start a Jupyter kernel through jupyter_client and talk to it with events.

Used by tests/jupyter/, the probe suites and bench/. Run everything with /usr/bin/python3
(Debian's jupyter-client 7.4, pyzmq 24). Everything below is imported from ``harness`` itself; the
modules are ``environment`` (which kernel, kernelspec, environment, notebook directories),
``kernel`` (``Kernel`` and its message pump), ``execution`` (``Result``, ``Reply``, ``Execution``),
``processes`` (process trees) and ``jail`` (which jail the kernels must be in).

Which kernel
------------
``WARDEN_TEST_KERNEL`` picks the kernel the tests talk to: ``warden`` (default) or ``python3``
(Debian's ipykernel; used to validate the tests themselves where the semantics match).
``KERNEL_NAME`` and ``IS_WARDEN`` expose the choice. ``python(code)`` returns ``"%%python\\n" +
code`` for warden and ``code`` unchanged for ipykernel (where ``%%python`` is IPython's script
magic, which would run the body in a subprocess).

Kernelspec and environment
--------------------------
``setup_environment()`` (called by tests/conftest.py at import time; idempotent) writes a
temporary kernelspec ``<tmp>/kernels/warden/kernel.json`` whose argv runs the binary named by
``WARDEN_BIN`` (default ``<repo>/build/warden``), and prepends ``<tmp>`` to ``JUPYTER_PATH`` so
jupyter_client, jupyter console, nbclient and jupyter_kernel_test find it without any system-wide
install. It also isolates state: ``WARDEN_HISTORY``, ``IPYTHONDIR`` and ``JUPYTER_RUNTIME_DIR``
(connection files) point into ``<tmp>`` unless already set (and, when ``~`` is not writable, the
config, data, cache and matplotlib dirs too). ``write_kernelspec(dir, binary)`` writes a kernelspec
anywhere. ``make_workdir()`` makes a fresh world-readable notebook directory (pytest's
``tmp_path`` sits under a 0700 directory, which a jail mapping root's worker to another uid
cannot enter). ``artifacts_dir()`` is where tests keep screenshots and screens
(``WARDEN_ARTIFACTS``, else ``tests/.artifacts``).

Kernel
------
::

    from harness import Kernel, python
    with Kernel(env={...}, cwd=path, kernel_name="warden", config=None) as k:
        r = k.run(python("print(1)"), timeout=30, allow_stdin=False, stdin=None)

``Kernel(env=None, cwd=None, kernel_name=None, config=None, startup_timeout=60)``: a
``KernelManager`` + ``BlockingKernelClient``. ``env`` is *added* to ``os.environ`` (a value of
``None`` removes a variable) and passed with ``cwd`` to ``km.start_kernel(env=..., cwd=...)``.
``config`` (a dict) is written to a temporary JSON file passed as ``WARDEN_CONFIG``
(e.g. ``{"sandbox": {"unjailed": True}}``). The kernel is started by ``start()`` or on entering the
``with`` block, and ``wait_for_ready`` is done. ``close()`` (also on leaving the block, even when a
test fails) shuts the kernel down politely, then kills the kernel and every process of its tree
that is still there (snapshot taken just before the shutdown), and removes the connection file.

``k.run(code, timeout=30, allow_stdin=False, stdin=None, silent=False, store_history=True,
stop_on_error=True, user_expressions=None)`` sends an execute_request and collects, by events (no
sleeps), every iopub message whose parent is this request up to its ``idle`` and the
execute_reply. ``stdin`` is a list of strings answered, in order, to the input_requests as they
come (needs ``allow_stdin=True``). Returns a ``Result``:

- ``r.status``: execute_reply status; ``r.reply``: execute_reply content; ``r.reply_msg``: whole
  message; ``r.execution_count``: from the reply.
- ``r.stdout``, ``r.stderr``: concatenated stream text.
- ``r.error``: content of the first ``error`` output (``ename``, ``evalue``, ``traceback``) or None;
  ``r.error_text``: ename, evalue and traceback joined, ANSI colours removed.
- ``r.results``: data dicts of ``execute_result``; ``r.displays``: data dicts of ``display_data``.
- ``r.outputs``: ``(msg_type, content)`` of the iopub outputs in order, between busy and idle
  (``status`` and ``execute_input`` excluded).
- ``r.iopub``: every iopub message with this parent (status and execute_input included), in order
  of arrival; ``r.execute_input``: its content or None; ``r.input_requests``: contents of the
  input_requests; ``r.times``: receipt time (``time.monotonic()``) of each iopub message;
  ``r.reply_time``: receipt time of the reply. Order *inside the kernel* is best judged from
  ``msg["header"]["date"]`` (the shell and iopub sockets are separate, so receipt order across them
  proves nothing).

Lower level, for tests that act while a cell runs:

- ``ex = k.execute(code, **same options)`` sends only and returns an ``Execution``;
  ``ex.wait_for(predicate, timeout)`` pumps messages until ``predicate(ex.snapshot())`` is true
  (e.g. ``lambda r: "started" in r.stdout``) and returns that snapshot; ``ex.result(timeout)``
  waits for reply + idle. Any number of executions can be in flight (queued cells).
- ``k.request(msg_type, content=None, channel="shell", timeout=10, wait_idle=True)`` sends any
  request on shell or control and returns a ``Reply`` (``.msg``, ``.content``, ``.iopub``,
  ``.time``). Shortcuts returning reply *content*: ``k.kernel_info(channel="shell")``,
  ``k.complete(code, cursor_pos=None)``, ``k.inspect(code, cursor_pos=None, detail_level=0)``,
  ``k.is_complete(code)``, ``k.history(**kw)``, ``k.comm_info()``.
- ``k.interrupt()``: ``km.interrupt_kernel()`` (SIGINT to the kernel's process group for
  ``interrupt_mode: signal``). ``k.signal(sig)``: a signal to the kernel pid only (what VS Code
  does). ``k.restart()``: ``km.restart_kernel()`` then ``wait_for_ready``. ``k.shutdown()``: polite
  shutdown through jupyter_client (``km.shutdown_kernel()``), without the kill-the-leftovers step.
- ``k.pid``, ``k.client``, ``k.manager``, ``k.connection_info``; ``k.log``: every message received,
  as ``(monotonic_time, channel, msg)``; ``k.bad_messages``: frames that failed to deserialize.

Which jail
----------
``WARDEN_EXPECT_JAIL`` (``harness/jail.py``): "namespaces" (default) or "landlock" (tests/run's
stages under tests/container's as-container). In Landlock mode every ``Kernel`` whose config does
not choose the jail itself spends its first two cells, hidden (``store_history: false``), after
start and after each restart: the first must carry the one-time Landlock notice exactly once, the
second not (``k.jail_checked`` says it was done). Tests then see the kernel as in the namespace
jail, and a silent fall-back fails them.

Processes
---------
``process_tree(pid)`` lists ``pid`` and all its descendants (read from ``/proc``).
``snapshot_tree(pid)`` records them with their start times (so a reused pid is not mistaken for a
survivor); ``alive(snapshot)`` lists those still running (zombies count as dead);
``wait_gone(snapshot, timeout)`` waits until none is left and returns the survivors;
``describe(pids)`` gives a readable ``pid: cmdline`` listing for assertion messages.

Sanitizers
----------
``sanitizer_log_dir()``, ``sanitizer_reports()``, ``describe_reports(paths)``: the reports a
kernel built with ``WARDEN_SANITIZE=ON`` wrote under ``WARDEN_SANITIZER_LOGS``;
``sanitizer_report_in(text)``: one in captured stderr (UBSan's); ``new_sanitizer_reports(seen,
stderr)``: both, as a failure message (``harness/sanitizer.py``); tests/conftest.py fails the
test in which one appears.
"""

from .environment import (IS_WARDEN, KERNEL_NAME, PYTHON_PREFIX, REPO_ROOT, make_workdir, python,
                          setup_environment, strip_ansi, warden_bin, warden_missing_reason,
                          write_kernelspec)
from .environment import artifacts_dir
from .execution import Execution, KernelTimeout, Reply, Result
from .kernel import Kernel
from .processes import alive, describe, process_tree, rss_kib, snapshot_tree, wait_gone
from .sanitizer import describe_reports, sanitizer_log_dir, sanitizer_reports
from .sanitizer import new_reports as new_sanitizer_reports
from .sanitizer import report_in as sanitizer_report_in

__all__ = [
    "Kernel", "Execution", "Result", "Reply", "KernelTimeout", "python", "strip_ansi",
    "KERNEL_NAME", "IS_WARDEN", "PYTHON_PREFIX", "REPO_ROOT", "warden_bin",
    "warden_missing_reason", "write_kernelspec", "setup_environment", "make_workdir", "process_tree",
    "snapshot_tree", "alive", "wait_gone", "describe", "rss_kib",
    "artifacts_dir",
    "sanitizer_log_dir", "sanitizer_reports", "describe_reports", "sanitizer_report_in",
    "new_sanitizer_reports",
]
