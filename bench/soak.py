#!/usr/bin/python3
"""A long mixed session against one warden kernel: memory errors, leaks, and RSS growth.

    /usr/bin/python3 bench/soak.py                     # 1000 cells, plain and under valgrind
    /usr/bin/python3 bench/soak.py --cells 200 --check # the CI variant (tests/run): asserts
    /usr/bin/python3 bench/soak.py --modes plain       # RSS only, no valgrind

One kernel per mode runs ``--cells`` cells through jupyter_client, in a fixed cycle of 20:
prints, a stream of lines, errors, matplotlib plots (``plt.show()``: a PNG through the kernel),
a pandas table, ``input()`` answered, an interrupted cell (SIGINT while it sleeps), a worker that
dies (``os._exit``: the next cell gets a fresh worker from the warm standby), completion and
inspection requests, and plain-language cells against the scripted model server
(tests/harness/model_server.py): one whose code works, one whose first code raises and is fixed.

Modes:
- ``plain``: the built kernel. Its RSS (VmRSS of the kernel process, the jail and worker are not
  counted) is sampled after cell ``--rss-from`` (100) and after the last cell: what is left when a
  leak grows with cells.
- ``valgrind``: the same session with the kernel under ``valgrind --tool=memcheck
  --leak-check=full`` (the kernel only: ``--trace-children=no``, so the worker, which the kernel
  forks and execs, is not under valgrind; ``--child-silent-after-fork=yes``, so that fork does not
  report the kernel's memory as its own). The worker runs unjailed there (see soak()): valgrind
  lacks the seccomp(2) system call the jail's filter is built with. Reports the errors valgrind
  found and the bytes definitely and indirectly lost at the kernel's exit.

Prints one line per figure; ``--json`` prints them as JSON. With ``--check`` the exit status is 1
unless valgrind found no error, no byte was definitely or indirectly lost, and RSS grew between
the two samples by at most ``--rss-slack`` KiB (128) plus ``--rss-per-cell`` KiB (0.5) a cell:
the history's page cache grows to 256 KiB (about 0.2 KiB a cell measured over 900 cells), a leak
of a cell's messages would be kilobytes a cell.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

import harness  # noqa: E402
from harness.model_server import ModelServer  # noqa: E402

CYCLE = 20
PLOT = ("import matplotlib.pyplot as plt\n"
        "plt.figure(figsize=(2, 2))\nplt.plot([1, 2, 3], [{n}, 4, 9])\nplt.show()")


def code_reply(text: str) -> dict:
    return {"text": "Here is the code:\n```python\n%s\n```" % text}


class SoakError(RuntimeError):
    pass


def expect(cond: bool, what: str, r) -> None:
    if not cond:
        raise SoakError(f"{what}: status={r.status} stdout={r.stdout[-300:]!r} "
                        f"error={r.error_text[-600:]!r}")


def run_cell(k: harness.Kernel, srv: ModelServer, n: int, timeout: float) -> None:
    """Cell n of the session (the kind is n modulo CYCLE)."""
    py = harness.python
    kind = n % CYCLE
    if kind in (0, 7, 13):
        r = k.run(py(f"print('cell {n}')"), timeout=timeout)
        expect(r.status == "ok" and r.stdout == f"cell {n}\n", "print", r)
    elif kind == 1:
        r = k.run(py("for i in range(50):\n    print('line', i)"), timeout=timeout)
        expect(r.status == "ok" and r.stdout.count("\n") == 50, "stream of lines", r)
    elif kind in (2, 11):
        r = k.run(py(f"{n} / 0"), timeout=timeout)
        expect(r.status == "error" and r.error["ename"] == "ZeroDivisionError", "error", r)
    elif kind in (3, 15):
        r = k.run(py(PLOT.format(n=n)), timeout=timeout)
        expect(r.status == "ok" and any("image/png" in d for d in r.displays), "plot", r)
    elif kind == 4:
        r = k.run(py(f"import pandas as pd\npd.DataFrame({{'x': range(5), 'n': [{n}] * 5}})"),
                  timeout=timeout)
        expect(r.status == "ok" and any("text/html" in d for d in r.results), "table", r)
    elif kind == 5:
        r = k.run(py("print(input('? ') * 2)"), allow_stdin=True, stdin=[f"a{n}"], timeout=timeout)
        expect(r.status == "ok" and r.stdout.endswith(f"a{n}a{n}\n"), "input", r)
    elif kind == 6:
        ex = k.execute(py("import time\nprint('sleeping', flush=True)\ntime.sleep(60)"))
        ex.wait_for(lambda s: "sleeping" in s.stdout, timeout, "the cell to start")
        k.interrupt()
        r = ex.result(timeout)
        expect(r.status == "error" and r.error["ename"] == "KeyboardInterrupt", "interrupt", r)
    elif kind == 8:
        r = k.run(py(f"x{n} = {n}\nimport os\nos._exit(3)"), timeout=timeout)
        expect(r.status == "error", "worker death", r)
    elif kind == 9:
        r = k.run(py("'after a restart'"), timeout=timeout)
        expect(r.status == "ok", "cell after a restart", r)
    elif kind in (10, 17):
        srv.add(**code_reply(f"print('the model says {n}')"))
        r = k.run(f"say something for cell {n}", timeout=timeout)
        expect(r.status == "ok" and f"the model says {n}" in r.stdout, "request", r)
    elif kind == 12:
        srv.add(**code_reply("undefined_name_%d + 1" % n))
        srv.add(**code_reply(f"print('fixed {n}')"))
        r = k.run(f"a request whose first code fails, cell {n}", timeout=timeout)
        expect(r.status == "ok" and f"fixed {n}" in r.stdout, "request with a fix", r)
    elif kind == 14:
        content = k.complete(py("prin"), timeout=timeout)
        if "print" not in content.get("matches", []):
            raise SoakError(f"completion: {content}")
        content = k.inspect(py("len"), timeout=timeout)
        if content.get("status") != "ok":
            raise SoakError(f"inspection: {content}")
    elif kind == 16:
        r = k.run(py(f"import sys\nprint('to stderr {n}', file=sys.stderr)\n[{n}] * 3"),
                  timeout=timeout)
        expect(r.status == "ok" and "to stderr" in r.stderr, "stderr", r)
    elif kind == 18:
        r = k.run(py("from IPython.display import HTML, display\n"
                     f"display(HTML('<b>{n}</b>'), display_id='d')"), timeout=timeout)
        expect(r.status == "ok", "html display", r)
    else:
        r = k.run(py(f"sum(range({n}))"), timeout=timeout)
        expect(r.status == "ok", "result", r)


def kernelspec_under_valgrind(root: str, log_dir: str, warden: str) -> str:
    """A kernelspec whose argv starts the kernel under valgrind; returns its name."""
    wrapper = os.path.join(root, "warden-under-valgrind")
    with open(wrapper, "w") as f:
        f.write("#!/bin/sh\n"
                "exec valgrind --tool=memcheck --leak-check=full"
                " --show-leak-kinds=definite,indirect"
                " --errors-for-leak-kinds=definite,indirect --error-exitcode=99"
                " --trace-children=no --child-silent-after-fork=yes --num-callers=30"
                f" --log-file={log_dir}/valgrind.%p {warden} \"$@\"\n")
    os.chmod(wrapper, 0o755)
    harness.write_kernelspec(os.path.join(root, "kernels"), wrapper, name="warden-valgrind")
    os.environ["JUPYTER_PATH"] = root + os.pathsep + os.environ["JUPYTER_PATH"]
    return "warden-valgrind"


def valgrind_figures(log_dir: str) -> dict:
    """Errors and lost bytes from the kernel's valgrind log (the one process that logged)."""
    logs = sorted(Path(log_dir).glob("valgrind.*"))
    if not logs:
        raise SoakError(f"no valgrind log in {log_dir}")
    text = "\n".join(p.read_text(errors="replace") for p in logs)

    def number(pattern: str) -> int:
        m = re.findall(pattern, text)
        return sum(int(v.replace(",", "")) for v in m) if m else 0

    return {
        "valgrind_errors": number(r"ERROR SUMMARY: ([\d,]+) errors"),
        "definitely_lost_bytes": number(r"definitely lost: ([\d,]+) bytes"),
        "indirectly_lost_bytes": number(r"indirectly lost: ([\d,]+) bytes"),
        "valgrind_logs": [str(p) for p in logs],
        "leak_summary_seen": "LEAK SUMMARY" in text or "All heap blocks were freed" in text,
    }


def soak(mode: str, args, root: str) -> dict:
    kernel_name = None
    log_dir = None
    if mode == "valgrind":
        if not shutil.which("valgrind"):
            raise SoakError("valgrind is not installed (apt-get install valgrind)")
        log_dir = args.log_dir or tempfile.mkdtemp(prefix="valgrind-", dir=root)
        os.makedirs(log_dir, exist_ok=True)
        for old in Path(log_dir).glob("valgrind.*"):
            old.unlink()
        kernel_name = kernelspec_under_valgrind(root, log_dir, harness.warden_bin())
    timeout = args.timeout * (10 if mode == "valgrind" else 1)
    figures = {"mode": mode, "cells": args.cells}
    started = time.monotonic()
    with ModelServer(models=["scripted-model"]) as srv:
        # the history in a file of its own, as by default (WARDEN_HISTORY=off, as tests/run
        # sets, keeps it in memory: RSS would grow with it)
        env = {"OPENAI_BASE_URL": srv.openai_base, "OPENAI_API_KEY": "sk-soak",
               "WARDEN_MODEL": "scripted-model", "WARDEN_AUDIT": "off",
               "WARDEN_HISTORY": os.path.join(root, f"history-{mode}.sqlite")}
        # Under valgrind the worker runs unjailed: valgrind does not implement the seccomp(2)
        # system call, through which libseccomp learns what the kernel supports, so the jail's
        # filter cannot be built inside a valgrind'ed process (and installing one would filter
        # valgrind's own system calls). The jail's parent side is checked by the ASan stage
        # (tests/sanitize), and the plain run is jailed.
        # valgrind keeps file descriptors of its own above a hard limit it lowers, and refuses
        # any RLIMIT_NOFILE with another hard limit: asking for more than there is makes the
        # worker's limit that hard limit (jail_limits.c clamps it).
        config = None
        if mode == "valgrind":
            config = {"sandbox": {"unjailed": True, "open_files": 1048576}}
        k = harness.Kernel(env=env, cwd=harness.make_workdir(), kernel_name=kernel_name,
                           config=config, startup_timeout=timeout)
        k.start()
        try:
            pid = k.pid
            for n in range(1, args.cells + 1):
                run_cell(k, srv, n, timeout)
                if n == args.rss_from:
                    figures[f"rss_kib_at_{n}"] = harness.rss_kib(pid)
                if n % 100 == 0 and not args.json:
                    print(f"  {mode}: {n} cells, {time.monotonic() - started:.0f} s, "
                          f"RSS {harness.rss_kib(pid)} KiB", file=sys.stderr, flush=True)
                k.log.clear()  # the client's own record of every message: not the kernel's
            figures[f"rss_kib_at_{args.cells}"] = harness.rss_kib(pid)
            process = k.manager.provisioner.process  # a Popen: shutdown forgets it
            k.shutdown()
            try:
                figures["exit_status"] = process.wait(timeout)
            except subprocess.TimeoutExpired:
                figures["exit_status"] = None
        finally:
            k.close()
    figures["seconds"] = round(time.monotonic() - started, 1)
    if log_dir:
        figures.update(valgrind_figures(log_dir))
    return figures


def verdict(figures: list, args) -> list:
    """What --check finds wrong."""
    problems = []
    for f in figures:
        first, last = f.get(f"rss_kib_at_{args.rss_from}"), f.get(f"rss_kib_at_{args.cells}")
        allowed = args.rss_slack + args.rss_per_cell * (args.cells - args.rss_from)
        if f["mode"] == "plain" and first and last and last - first > allowed:
            problems.append(f"RSS grew by {last - first} KiB from cell {args.rss_from} to "
                            f"{args.cells} (allowed: {allowed:.0f} KiB)")
        if f["mode"] == "valgrind":
            if not f["leak_summary_seen"]:
                problems.append("valgrind printed no leak summary (did the kernel exit?)")
            for key in ("valgrind_errors", "definitely_lost_bytes", "indirectly_lost_bytes"):
                if f[key]:
                    problems.append(f"{key}: {f[key]} (see {', '.join(f['valgrind_logs'])})")
    return problems


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cells", type=int, default=1000)
    p.add_argument("--rss-from", type=int, default=100,
                   help="the cell after which RSS is sampled first")
    p.add_argument("--rss-slack", type=int, default=128,
                   help="KiB of RSS growth --check allows (malloc's arenas grow in steps) ...")
    p.add_argument("--rss-per-cell", type=float, default=0.5,
                   help="... plus this many KiB a cell (measured: about 0.2)")
    p.add_argument("--modes", default="plain,valgrind")
    p.add_argument("--timeout", type=float, default=60, help="per cell, s (x10 under valgrind)")
    p.add_argument("--check", action="store_true", help="exit 1 on errors, leaks or RSS growth")
    p.add_argument("--json", action="store_true")
    p.add_argument("--log-dir", help="where valgrind's log goes and stays (default: a temporary "
                   "directory, removed at exit)")
    args = p.parse_args()
    if args.rss_from >= args.cells:
        p.error("--rss-from must be below --cells")
    root = harness.setup_environment()
    results = []
    for mode in args.modes.split(","):
        results.append(soak(mode.strip(), args, root))
        if not args.json:
            f = results[-1]
            print(f"soak ({f['mode']}, {f['cells']} cells, {f['seconds']} s):")
            for key, value in f.items():
                if key not in ("mode", "cells", "seconds", "valgrind_logs", "leak_summary_seen"):
                    print(f"  {key}: {value}")
    problems = verdict(results, args)
    if args.json:
        print(json.dumps({"results": results, "problems": problems}, indent=1))
    for problem in problems:
        print(f"soak: {problem}", file=sys.stderr)
    return 1 if args.check and problems else 0


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    sys.exit(main())
