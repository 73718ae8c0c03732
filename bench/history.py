"""What the size of the history costs a kernel (the SQLite history, kernel/history_store.c).

For each size (--sizes, MB) a history file is made in a temporary directory: a kernel creates it,
then cells of about 50 kB (a comment and a number, the kind of large input of the issue) are
added straight into it with Python's sqlite3. A fresh kernel is then started on it, runs one cell,
and the figures are taken: the kernel process's VmRSS after that cell, and the time of a
history_request tail (n=10) and of a search for a pattern no cell matches (n=10: a scan of the
whole file). Last, the one-time import of an old history.jsonl of the largest size: when the
first cell (which starts it) is done, when the import is, and the RSS of the kernel that did it. Nothing is asserted (tests/jupyter/test_e2e_history.py does).

    /usr/bin/python3 bench/history.py [--sizes 0,10,100] [--warden-bin build/warden]
"""

import argparse
import json
import os
import sqlite3
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))

from harness import Kernel, make_workdir, python  # noqa: E402
from harness.processes import rss_kib  # noqa: E402

CELL = "# " + "x" * 50_000 + "\n"


def fill(path, megabytes):
    with Kernel(env={"WARDEN_HISTORY": str(path)}, cwd=make_workdir()) as k:
        k.run(python("1"))
    count = megabytes * 1_000_000 // len(CELL)
    with sqlite3.connect(path) as db:
        db.executemany("INSERT INTO sessions (start) VALUES (datetime('now'))",
                       [()] * ((count + 49) // 50))
        db.executemany("INSERT INTO history (session, line, source) VALUES (?, ?, ?)",
                       ((2 + i // 50, 1 + i % 50, python(f"{CELL}{i}")) for i in range(count)))


def timed_ms(k, n=5, **request):
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        reply = k.history(timeout=120, **request)
        times.append(time.perf_counter() - t0)
        assert reply["status"] == "ok", reply
    return round(statistics.median(times) * 1000, 1)


def measure(path):
    with Kernel(env={"WARDEN_HISTORY": str(path)}, cwd=make_workdir()) as k:
        r = k.run(python("1 + 1"), timeout=120)
        assert r.status == "ok", r.summary()
        rss = rss_kib(k.pid)
        tail = timed_ms(k, hist_access_type="tail", n=10)
        search = timed_ms(k, hist_access_type="search", pattern="*no cell has this*", n=10)
        return rss, tail, search, rss_kib(k.pid)


def measure_import(directory, megabytes):
    old = os.path.join(directory, "history.jsonl")
    count = megabytes * 1_000_000 // len(CELL)
    with open(old, "w") as f:
        for i in range(count):
            f.write(json.dumps({"s": 1 + i // 50, "l": 1 + i % 50, "i": python(f"{CELL}{i}")}) + "\n")
    with Kernel(env={"WARDEN_HISTORY": old}, cwd=make_workdir()) as k:
        t0 = time.perf_counter()
        r = k.run(python("1 + 1"), timeout=600)  # its first use of the history starts the import
        first = time.perf_counter() - t0
        assert r.status == "ok", r.summary()
        while not os.path.exists(old + ".imported"):  # done on the kernel's own thread
            time.sleep(0.05)
            assert time.perf_counter() - t0 < 600, "the import did not end"
        return first, time.perf_counter() - t0, rss_kib(k.pid)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="0,10,100", help="history sizes in MB")
    parser.add_argument("--warden-bin", help="the binary (default $WARDEN_BIN, else build/warden)")
    opts = parser.parse_args()
    if opts.warden_bin:
        os.environ["WARDEN_BIN"] = os.path.abspath(opts.warden_bin)
    sizes = [int(s) for s in opts.sizes.split(",")]
    print(f"{'history':>12} {'file MiB':>9} {'RSS after a cell':>17} {'tail n=10':>10} "
          f"{'search n=10 (scan)':>19} {'RSS after':>10}")
    with tempfile.TemporaryDirectory(prefix="warden-bench-history-") as directory:
        for megabytes in sizes:
            path = os.path.join(directory, f"h{megabytes}.sqlite")
            if megabytes:
                fill(path, megabytes)
            size = os.path.getsize(path) / 2**20 if os.path.exists(path) else 0
            rss, tail, search, after = measure(path)
            print(f"{megabytes:>9} MB {size:>9.1f} {rss:>13} KiB {tail:>7} ms {search:>16} ms "
                  f"{after:>6} KiB")
        first, took, rss = measure_import(directory, max(sizes))
        print(f"import of a {max(sizes)} MB history.jsonl: first cell done in {first:.2f} s, "
              f"import done in {took:.1f} s, kernel RSS then {rss} KiB")


if __name__ == "__main__":
    main()
