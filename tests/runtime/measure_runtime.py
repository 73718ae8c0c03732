"""Start-up and round-trip figures of the worker runtime alone (unjailed, no kernel).

    /usr/bin/python3 tests/runtime/measure_runtime.py [--runs N]

Prints medians: exec -> `ready` (lean and WARDEN_PRELOAD=1), and the execute round trip of
`1+1` (frame out -> result -> done back) over the socketpair.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from wframes import RuntimeProc  # noqa: E402


# The floor: an interpreter started the same way that sends `ready` at once.
BARE = """import os
os.write(3, b'\\x00\\x00\\x00\\x0d{"t":"ready"}')
os.read(3, 1)
"""


def startup(runs, env=None):
    """(median, min) of exec -> ready for the runtime, and the same for the bare interpreter,
    interleaved so that machine load affects both alike."""
    with tempfile.NamedTemporaryFile("w", suffix=".py") as bare:
        bare.write(BARE)
        bare.flush()
        ours, floor = [], []
        for _ in range(runs):
            with RuntimeProc(env=env) as w:
                ours.append(w.startup_s)
            with RuntimeProc(script=bare.name) as w:
                floor.append(w.startup_s)
    return (statistics.median(ours), min(ours)), (statistics.median(floor), min(floor))


def round_trip(runs):
    with RuntimeProc() as w:
        for _ in range(20):  # warm-up: first-cell imports, caches
            w.execute("1+1")
        times = []
        for _ in range(runs):
            t = time.perf_counter()
            w.execute("1+1")
            times.append(time.perf_counter() - t)
    return statistics.median(times), min(times)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    ms = lambda pair: "median %.1f ms (min %.1f ms)" % (pair[0] * 1000, pair[1] * 1000)
    print("load average: %.2f %.2f %.2f" % os.getloadavg())
    lean, floor = startup(args.runs)
    print("bare python -I to a frame:  ", ms(floor))
    print("lean start-up to ready:     ", ms(lean))
    print("preload start-up to ready:  ", ms(startup(max(3, args.runs // 4),
                                                     {"WARDEN_PRELOAD": "1"})[0]))
    med, low = round_trip(args.runs * 25)
    print("1+1 round trip:              median %.3f ms (min %.3f ms)" % (med * 1000, low * 1000))


if __name__ == "__main__":
    main()
