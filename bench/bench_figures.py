"""The bench's measurements: each takes a launched kernel (bench_kernel.Session) and returns its
figures as a dict. Each checks that the cell's output really reached the client (every line, a
real PNG, the DataFrame's HTML) and raises BenchError if not; none asserts anything about speed.
"""

import base64
import os
import statistics
import subprocess
import time

from bench_kernel import BenchError, harness, now  # bench_kernel puts tests/ on sys.path
from lean_client import LeanClient

PLOT_BODY = "import matplotlib.pyplot as plt\nplt.plot([1, 2, 3], [1, 4, 9])\nplt.show()"
PRINT_LINES = 10_000
PRINT_BODY = f"for i in range({PRINT_LINES}):\n    print(i)"
PRINT_EXPECTED = "".join(f"{i}\n" for i in range(PRINT_LINES))
DATAFRAME_BODY = ("import pandas as pd\n"
                  "pd.DataFrame({'a': range(1000), 'b': [x*0.5 for x in range(1000)]})")
LINE = 1024  # bytes per line of the throughput and flood cells
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
RSS_AFTER_CELLS = 100


def median_ms(values):
    return round(statistics.median(values) * 1000, 2) if values else None


def pct_ms(values, q):
    if not values:
        return None
    v = sorted(values)
    return round(v[min(len(v) - 1, int(q * len(v)))] * 1000, 2)


def stream_text(iopub, name="stdout"):
    return "".join(m["content"]["text"] for m in iopub
                   if m["msg_type"] == "stream" and m["content"]["name"] == name)


def require_png(label, iopub):
    """The cell displayed a PNG: its image/png decodes to bytes starting with PNG's magic."""
    for m in iopub:
        if m["msg_type"] == "display_data" and "image/png" in m["content"]["data"]:
            if base64.b64decode(m["content"]["data"]["image/png"])[:8] == PNG_MAGIC:
                return
            raise BenchError(f"{label}: the plot's image/png is not a PNG")
    raise BenchError(f"{label}: the plot cell displayed no image/png")


def write_cell(s, total_bytes):
    """A cell writing total_bytes to stdout in lines of LINE bytes, and its line count."""
    lines = total_bytes // LINE
    return s.code("import sys\nline = 'x' * %d + '\\n'\nfor _ in range(%d):\n"
                  "    sys.stdout.write(line)" % (LINE - 1, lines)), lines * LINE


# ---- launches ----------------------------------------------------------------------------
def launch_once(s):
    """One fresh kernel: launch -> ready; -> first cell (`1+1`) done; then the first IPython-
    syntax cell; then the first plot. The kernel is closed after."""
    try:
        s.launch()
        t_ready = s.wait_ready()
        s.execute_ok(s.code("1+1"))
        t_first = now()
        magic = s.execute_ok(s.code("%time 1"))[0]
        plot, _, iopub = s.execute_ok(s.code(PLOT_BODY))
        require_png(s.label, iopub)
    finally:
        s.close()
    return {"ready": t_ready - s.t_launch, "first_cell": t_first - s.t_launch,
            "first_magic": magic, "first_plot": plot}


def summarize_launches(runs):
    res = {}
    for key in ("ready", "ready_lean", "first_cell", "first_magic", "first_plot"):
        values = [r[key] for r in runs]
        res[key + "_ms"] = median_ms(values)
        res[key + "_all_ms"] = [round(v * 1000, 2) for v in values]
    return res


# ---- figures of one running kernel -------------------------------------------------------
# The round trips are taken in opts.rounds rounds, every kernel in turn in each (bench.py): a
# round trip is under a millisecond, so 200 of one kernel in a row take a fifth of a second, and
# one slow moment of this VM's host moved a kernel's median by 30 % between runs. Interleaved,
# the slow moments fall on every kernel alike. Each sampler returns one round's samples; its
# summary turns the samples of all rounds into the figures.
def round_trip_samples(s, opts, log, count):
    """`1+1` through jupyter_client: (round-trip seconds, the client's own CPU seconds)."""
    code = s.code("1+1")
    for _ in range(opts.warmup // opts.rounds + 1):
        s.execute_ok(code)
    rts = []
    cpu0 = time.thread_time()
    for _ in range(count):
        rts.append(s.execute_ok(code)[0])
    return [(rt, (time.thread_time() - cpu0) / count) for rt in rts]


def round_trip_summary(label, samples, log):
    rts = [rt for rt, _ in samples]
    cpu = statistics.mean(c for _, c in samples)
    log(f"  {label}: 1+1 round trip median {median_ms(rts)} ms, p99 {pct_ms(rts, 0.99)} ms")
    return {"round_trip_ms": median_ms(rts), "round_trip_p90_ms": pct_ms(rts, 0.9),
            "round_trip_p99_ms": pct_ms(rts, 0.99), "client_cpu_ms": round(cpu * 1000, 2),
            "round_trips": len(rts)}


def lean_round_trip_samples(s, opts, log, count):
    """The same cells through lean-client (bench/lean_client.c: the kernel's own wire code in C,
    a few µs of CPU a message) on the same kernel, which prints each round trip in µs."""
    warmup = opts.warmup // opts.rounds + 1
    binary = lean_client_binary()
    try:
        out = subprocess.run([binary, s.km.connection_file, str(warmup), str(count),
                              s.code("1+1")], capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise BenchError(f"{s.label}: {binary}: {e}")
    if out.returncode != 0:
        raise BenchError(f"{s.label}: 1+1 through lean-client failed: {out.stderr.strip()}")
    rts = [float(line) / 1e6 for line in out.stdout.split()]
    if len(rts) != count:
        raise BenchError(f"{s.label}: lean-client printed {len(rts)} round trips, not {count}")
    s.cells += warmup + count
    s.drain_iopub()
    return rts


def lean_round_trip_summary(label, rts, log):
    log(f"  {label}: lean C client median {median_ms(rts)} ms, p99 {pct_ms(rts, 0.99)} ms")
    return {"lean_round_trip_ms": median_ms(rts), "lean_round_trip_p90_ms": pct_ms(rts, 0.9),
            "lean_round_trip_p99_ms": pct_ms(rts, 0.99)}


def lean_client_binary():
    """lean-client beside the warden binary under test (the build directory builds both)."""
    path = os.path.join(os.path.dirname(harness.warden_bin()), "lean-client")
    if not os.access(path, os.X_OK):
        raise BenchError(f"no {path}: build it (cmake --build build) beside the warden binary")
    return path


def lean_py_round_trip_samples(s, opts, log, count):
    """The same cells through lean_client.py: (round-trip seconds, the client's own CPU seconds
    per round trip)."""
    code = s.code("1+1")
    lean = LeanClient(s.km.get_connection_info())
    rts = []
    warmup = opts.warmup // opts.rounds + 1
    try:
        lean.wait_connected()
        for _ in range(warmup):
            lean.execute(code)
        cpu0 = time.thread_time()
        for _ in range(count):
            t0 = now()
            reply = lean.execute(code)
            rts.append(now() - t0)
            if reply.get("status") != "ok":
                raise BenchError(f"{s.label}: 1+1 through the lean client failed: {reply}")
        cpu = (time.thread_time() - cpu0) / max(count, 1)
    finally:
        lean.close()
        s.cells += warmup + len(rts)
    s.drain_iopub()
    return [(rt, cpu) for rt in rts]


def lean_py_round_trip_summary(label, samples, log):
    rts = [rt for rt, _ in samples]
    cpu = statistics.mean(c for _, c in samples)
    log(f"  {label}: lean Python client median {median_ms(rts)} ms, its CPU {cpu * 1000:.2f} ms")
    return {"lean_py_round_trip_ms": median_ms(rts), "lean_py_client_cpu_ms": round(cpu * 1000, 2)}


def kernel_info(s, opts, log):
    kis = [s.kernel_info_round_trip() for _ in range(max(10, opts.round_trips // 4))]
    return {"kernel_info_round_trip_ms": median_ms(kis)}


def rss_after_cells(s, opts, log):
    """RSS once the kernel has answered RSS_AFTER_CELLS cells (topped up with `1+1`)."""
    while s.cells < RSS_AFTER_CELLS:
        s.execute_ok(s.code("1+1"))
    kernel, tree, procs = s.rss()
    log(f"  {s.label}: after {s.cells} cells, kernel {kernel} KiB, tree {tree} KiB ({procs})")
    return {"kernel_rss_kib": kernel, "tree_rss_kib": tree, "tree_procs": procs,
            "rss_cells": s.cells}


def print_lines(s, opts, log):
    """The 10 000-line print; every line must reach the client, in order."""
    times = []
    for _ in range(opts.output_reps):
        dt, _, iopub = s.execute_ok(s.code(PRINT_BODY))
        if stream_text(iopub) != PRINT_EXPECTED:
            raise BenchError(f"{s.label}: the {PRINT_LINES} lines did not all arrive, in order")
        times.append(dt)
    log(f"  {s.label}: {PRINT_LINES}-line print median {median_ms(times)} ms")
    return {"print_lines_ms": median_ms(times)}


def throughput(s, opts, log):
    """MB/s of stdout reaching the client: a cell writing opts.throughput_mib MiB (under
    warden's 32 MiB output limit), every byte counted at the client, over the cell's time."""
    code, expected = write_cell(s, opts.throughput_mib << 20)
    rates = []
    for _ in range(opts.output_reps):
        dt, _, iopub = s.execute_ok(code)
        got = len(stream_text(iopub))
        if got != expected:
            raise BenchError(f"{s.label}: {got} of {expected} stdout bytes arrived")
        rates.append(expected / dt / 1e6)
    rate = round(statistics.median(rates), 1)
    log(f"  {s.label}: stdout throughput {rate} MB/s ({opts.throughput_mib} MiB)")
    return {"throughput_mb_s": rate}


def flood(s, opts, log):
    """A cell writing opts.flood_mib MiB: how much of it reaches the client, and whether the
    kernel said it cut it (warden: a notice on stderr past its output limit)."""
    code, expected = write_cell(s, opts.flood_mib << 20)
    dt, _, iopub = s.execute_ok(code, timeout=600)
    got = len(stream_text(iopub))
    cut = "output truncated" in stream_text(iopub, "stderr")
    if not cut and got != expected:
        raise BenchError(f"{s.label}: {got} of {expected} flood bytes arrived, with no notice")
    log(f"  {s.label}: {opts.flood_mib} MiB flood: {got} bytes reached the client"
        f"{' (cut, with a notice)' if cut else ''} in {dt:.2f} s")
    return {"flood_bytes": got, "flood_cut": cut, "flood_ms": round(dt * 1000, 1)}


def dataframe(s, opts, log):
    """A cell whose last expression is a 1 000-row DataFrame; its text/html must arrive. The
    first run (pandas' import) is left out."""
    code = s.code(DATAFRAME_BODY)
    times = []
    for i in range(opts.output_reps + 1):
        dt, _, iopub = s.execute_ok(code)
        html = [m["content"]["data"].get("text/html", "") for m in iopub
                if m["msg_type"] == "execute_result"]
        if not html or "<table" not in html[0]:
            raise BenchError(f"{s.label}: the DataFrame cell gave no text/html table")
        if i:
            times.append(dt)
    log(f"  {s.label}: DataFrame cell median {median_ms(times)} ms")
    return {"dataframe_ms": median_ms(times)}


def warm_plot(s, opts, log):
    """The line plot again and again in one kernel: the first run here (matplotlib's import
    in this worker, unless preloaded) apart, then the median of opts.plots more."""
    code = s.code(PLOT_BODY)
    if not s.is_warden:  # ipykernel's figure is its inline backend's, as in a notebook
        backend = stream_text(s.execute_ok("import matplotlib\nprint(matplotlib.get_backend())")[2])
        if "inline" not in backend:
            raise BenchError(f"{s.label}: matplotlib's backend is {backend.strip()!r}, not inline")
    times = []
    for _ in range(opts.plots + 1):
        dt, _, iopub = s.execute_ok(code)
        require_png(s.label, iopub)
        times.append(dt)
    log(f"  {s.label}: plot here first {times[0] * 1000:.1f} ms, warm {median_ms(times[1:])} ms")
    return {"plot_here_first_ms": round(times[0] * 1000, 2), "plot_warm_ms": median_ms(times[1:])}


def restarts(s, opts, log):
    """warden only: from an `os._exit(0)` cell until a following `1+1` is done (death seen,
    worker replaced from the warm standby, first cell run). opts.settle seconds before each,
    so the standby is rebuilt, as between two real crashes."""
    if not s.is_warden or not opts.restarts:
        return {}
    totals = []
    for _ in range(opts.restarts):
        time.sleep(opts.settle)  # the documented settle wait: no event tells a client
        t0 = now()
        s.execute(s.code("import os\nos._exit(0)"))
        s.execute_ok(s.code("1+1"))
        totals.append(now() - t0)
    log(f"  {s.label}: os._exit cell -> 1+1 done, median {median_ms(totals)} ms")
    return {"restart_ms": median_ms(totals), "restart_all_ms": [round(t * 1000, 2) for t in totals]}


# First, in rounds (above): (sampler, summary).
INTERLEAVED_FIGURES = [(round_trip_samples, round_trip_summary),
                       (lean_round_trip_samples, lean_round_trip_summary),
                       (lean_py_round_trip_samples, lean_py_round_trip_summary)]
# Then in this order, each for every kernel in turn before the next.
KERNEL_FIGURES = [kernel_info, rss_after_cells, print_lines, throughput, flood, dataframe,
                  warm_plot, restarts]
