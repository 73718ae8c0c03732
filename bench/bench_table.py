"""The bench's output: each figure for every kernel, the ratio of ipykernel's to warden's, and
the target of issue 11 (and the older ones of issues 3 and 9) with met / not met beside it.

The ratio always reads "times better for warden": ipykernel's figure over warden's for times
and memory, warden's over ipykernel's for throughput. Nothing is asserted.
"""

import os
import platform
import sys

KERNELS = ("warden", "warden-unjailed", "ipykernel")

# (title, result key, kind, target). kind: "ms" (lower is better), "rate" (higher is better),
# "kib" (lower is better, shown in MiB); no ratio for "info" (ms of unlike work: the client's
# own CPU, a flood warden cuts), "flood" (bytes reaching the client), "n" (a count).
# target: ("ratio", x): ratio >= x; ("max", x): warden's own figure <= x; None.
ROWS = [
    ("launch -> kernel_info ready, median (ms)", "ready_ms", "ms", ("ratio", 30)),
    ("  the same from Popen, lean client (ms)", "ready_lean_ms", "ms", None),
    ("launch -> first cell done, median (ms)", "first_cell_ms", "ms", ("max", 150)),
    ("  then first IPython-syntax cell (ms)", "first_magic_ms", "ms", None),
    ("  then first plot, fresh kernel (ms)", "first_plot_ms", "ms", None),
    ("1+1 round trip, jupyter_client, median (ms)", "round_trip_ms", "ms", None),
    ("1+1 round trip, jupyter_client, p99 (ms)", "round_trip_p99_ms", "ms", None),
    ("  client CPU per round trip (ms)", "client_cpu_ms", "info", None),
    ("1+1 round trip, lean C client, median (ms)", "lean_round_trip_ms", "ms", ("ratio", 8)),
    ("1+1 round trip, lean C client, p99 (ms)", "lean_round_trip_p99_ms", "ms", None),
    ("1+1 round trip, lean Python client, median (ms)", "lean_py_round_trip_ms", "ms", None),
    ("  its CPU per round trip (ms)", "lean_py_client_cpu_ms", "info", None),
    ("kernel_info round trip, median (ms)", "kernel_info_round_trip_ms", "ms", None),
    ("10 000-line print cell, median (ms)", "print_lines_ms", "ms", ("ratio", 2)),
    ("stdout throughput (MB/s)", "throughput_mb_s", "rate", ("ratio", 2)),
    ("flood: stdout reaching the client (MiB)", "flood_bytes", "flood", None),
    ("  flood cell time (ms)", "flood_ms", "info", None),
    ("1 000-row DataFrame cell, median (ms)", "dataframe_ms", "ms", ("ratio", 2)),
    ("plot, first in the measured kernel (ms)", "plot_here_first_ms", "ms", None),
    ("plot, warm, median (ms)", "plot_warm_ms", "ms", ("ratio", 2)),
    ("kernel RSS after 100 cells (MiB)", "kernel_rss_kib", "kib", ("ratio", 10)),
    ("whole-tree RSS after 100 cells (MiB)", "tree_rss_kib", "kib", None),
    ("  processes in the tree", "tree_procs", "n", None),
    ("worker restart: os._exit -> 1+1 done (ms)", "restart_ms", "ms", ("max", 50)),
    ("plain-language cell, instant model (ms)", "agent_request_ms", "ms", None),
    ("  beyond the model's and code's time (ms)", "agent_overhead_ms", "ms", ("max", 5)),
]
JAIL_TARGET = 0.10  # issue 3: jailed 1+1 round trip within 10 % of unjailed


def ratio(warden, ipykernel, kind):
    if warden is None or ipykernel is None or kind not in ("ms", "rate", "kib"):
        return None
    num, den = (warden, ipykernel) if kind == "rate" else (ipykernel, warden)
    return round(num / den, 2) if den else None


def judge(target, warden, r):
    """True / False / None (no figure) against the row's target."""
    if target is None:
        return None
    how, x = target
    value = r if how == "ratio" else warden
    if value is None:
        return None
    return value >= x if how == "ratio" else value <= x


def summarize(results):
    """Per row with a target: warden's figure, the ratio, met. Plus the jail overhead and the
    most any kernel could show through jupyter_client (ipykernel's round trip over the
    client's own CPU per round trip)."""
    w = results.get("warden") or {}
    u = results.get("warden-unjailed") or {}
    i = results.get("ipykernel") or {}
    out = {}
    for _title, key, kind, target in ROWS:
        r = ratio(w.get(key), i.get(key), kind)
        out[key] = {"warden": w.get(key), "ipykernel": i.get(key), "ratio": r,
                    "target": target, "met": judge(target, w.get(key), r)}
    for suffix, key in (("", "round_trip_ms"), ("_lean", "lean_round_trip_ms")):
        jail = ratio(u.get(key), w.get(key), "ms")  # jailed / unjailed
        out["jail_overhead" + suffix] = None if jail is None else round(jail - 1, 3)
    out["round_trip_client_cap"] = ratio(w.get("client_cpu_ms"), i.get("round_trip_ms"), "ms")
    out["ready_client_floor_ms"] = w.get("ready_floor_ms")
    out["ready_client_cap"] = ratio(w.get("ready_floor_ms"), i.get("ready_ms"), "ms")
    return out


def fmt(v, kind="ms"):
    if v is None:
        return "-"
    if kind == "kib":
        return f"{v / 1024:.1f}"
    if kind == "flood":
        return f"{v / (1 << 20):.1f}"
    if isinstance(v, float):
        return f"{v:.2f}" if abs(v) < 100 else f"{v:.0f}"
    return str(v)


def target_text(target):
    if target is None:
        return ""
    how, x = target
    return f">= {x}x" if how == "ratio" else f"<= {x} ms"


def cell(result, key, kind):
    if result.get(key) is None and "error" in result:
        return "skipped" if result.get("skipped") else "error"
    text = fmt(result.get(key), kind)
    if kind == "flood" and result.get(key) is not None:
        text += " cut" if result.get("flood_cut") else " all"
    return text


def print_table(results, summary, opts, out=sys.stdout):
    cols = [c for c in KERNELS if c in results]
    width = max(len(r[0]) for r in ROWS) + 1
    head = "".join(f"{c:>16}" for c in cols)
    print(f"{'':{width}}{head}{'ratio':>8}  {'target':10} met", file=out)
    for title, key, kind, target in ROWS:
        s = summary[key]
        vals = "".join(f"{cell(results[c], key, kind):>16}" for c in cols)
        r = "" if s["ratio"] is None else f"{s['ratio']:.2f}x"
        met = {True: "met", False: "NOT met", None: ""}[s["met"]]
        if target and s["met"] is None:
            met = "n/a"
        print(f"{title:{width}}{vals}{r:>8}  {target_text(target):10} {met}".rstrip(), file=out)
    for c in cols:
        if "error" in results[c]:
            print(f"\n{c}: {results[c]['error']}", file=out)
    notes(summary, opts, out)


def notes(summary, opts, out):
    for suffix, client in (("", "jupyter_client"), ("_lean", "lean C client")):
        jail = summary.get("jail_overhead" + suffix)
        if jail is not None:
            met = "met" if jail <= JAIL_TARGET else "NOT met"
            print(f"{'' if suffix else chr(10)}jailed vs unjailed 1+1 round trip, {client}: "
                  f"{jail * 100:+.1f} % (target within +{JAIL_TARGET * 100:.0f} %, issue 3): "
                  f"{met}", file=out)
    cap = summary.get("round_trip_client_cap")
    if cap is not None:
        print(f"through jupyter_client no kernel can beat ipykernel by more than {cap:.1f}x "
              "here (its round trip over the client's own CPU per round trip)", file=out)
    floor = summary.get("ready_client_floor_ms")
    if floor is not None:
        cap = summary.get("ready_client_cap")
        print(f"through jupyter_client no kernel is ready in less than {floor:.1f} ms here (the "
              "same launch with a kernel up before it)"
              + (f": at most {cap:.1f}x ipykernel's launch -> ready" if cap else ""), file=out)
    print("ratio: times better for warden (ipykernel's figure / warden's; for throughput "
          "warden's / ipykernel's). Figures only: nothing is asserted.", file=out)
    print(f"{opts.launches} interleaved launches per kernel after one discarded round, "
          f"{opts.round_trips} round trips in {opts.rounds} interleaved rounds after "
          f"{opts.warmup} warm-up, {opts.output_reps} "
          f"output cells, {opts.throughput_mib} MiB throughput, {opts.flood_mib} MiB flood, "
          f"{opts.plots} warm plots, {opts.restarts} restarts; {platform.node()}, "
          f"{os.cpu_count()} cpus, Linux {platform.release()}, python "
          f"{platform.python_version()}", file=out)
