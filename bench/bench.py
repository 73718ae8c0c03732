#!/usr/bin/python3
"""warden vs ipykernel, side by side through the same client, in one run. Figures only.

    /usr/bin/python3 bench/bench.py            # full run (about three minutes)
    /usr/bin/python3 bench/bench.py --quick    # fast pass (about 35 s)
    /usr/bin/python3 bench/bench.py --json     # machine-readable (progress goes to stderr)

Launches are interleaved (warden, ipykernel, warden, ...) after one discarded round that warms
jupyter_client and the page cache for every kernel. Then one kernel of each kind is started and
kept, and every figure is taken on each of them in turn before the next figure. bench_kernel.py is
the client, bench_figures.py the measurements, bench_table.py the output; bench/README.md says
how each figure is taken.
"""

import argparse
import json
import os
import sys
import tempfile

import bench_figures as figures
import bench_table as table
import client_floor
from bench_kernel import BenchError, Session, lean_launch, wait_quiet
import agent_overhead
import harness

QUICK = dict(launches=2, round_trips=50, rounds=2, warmup=5, output_reps=2, throughput_mib=8,
             flood_mib=40, plots=2, restarts=2, settle=2.0)
FULL = dict(launches=5, round_trips=200, rounds=5, warmup=20, output_reps=5, throughput_mib=16,
            flood_mib=40, plots=15, restarts=5, settle=3.0)


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="fast pass with fewer repetitions")
    ap.add_argument("--json", action="store_true", help="print JSON instead of a table")
    ap.add_argument("--kernels", default=",".join(table.KERNELS),
                    help="comma-separated subset of " + ",".join(table.KERNELS))
    ap.add_argument("--warden-bin", help="warden binary (default: $WARDEN_BIN or build/warden)")
    for name in FULL:
        ap.add_argument("--" + name.replace("_", "-"), type=type(FULL[name]),
                        help=f"default {FULL[name]} ({QUICK[name]} with --quick)")
    opts = ap.parse_args(argv)
    for k, v in (QUICK if opts.quick else FULL).items():
        if getattr(opts, k) is None:
            setattr(opts, k, v)
    opts.kernels = [k.strip() for k in opts.kernels.split(",") if k.strip()]
    for k in opts.kernels:
        if k not in table.KERNELS:
            ap.error(f"unknown kernel {k!r}")
    return opts


def kernel_configs(work):
    """label -> (kernelspec name, is_warden, environment). The same environment and working
    directory for all; warden's history in a temporary file."""
    base = dict(os.environ)
    base["WARDEN_HISTORY"] = os.path.join(work, "history.jsonl")
    base.pop("WARDEN_CONFIG", None)
    unjailed = os.path.join(work, "unjailed.json")
    with open(unjailed, "w") as f:
        json.dump({"sandbox": {"unjailed": True}}, f)
    os.chmod(work, 0o755)
    os.chmod(unjailed, 0o644)
    return {"warden": ("warden", True, base),
            "warden-unjailed": ("warden", True, dict(base, WARDEN_CONFIG=unjailed)),
            "ipykernel": ("python3", False, base)}


class Bench:
    def __init__(self, opts, work, log):
        self.opts, self.work, self.log = opts, work, log
        self.configs = kernel_configs(work)
        self.results = {}
        self.labels = []
        self.stderr = {}
        for label in opts.kernels:
            reason = harness.warden_missing_reason() if self.configs[label][1] else None
            if reason:
                self.results[label] = {"label": label, "error": reason, "skipped": True}
                log(f"{label}: skipped: {reason}")
            else:
                self.results[label] = {"label": label, "kernel": self.configs[label][0]}
                self.labels.append(label)
                self.stderr[label] = open(os.path.join(work, f"{label}.stderr.log"), "ab")

    def session(self, label):
        name, is_warden, env = self.configs[label]
        return Session(label, name, env, self.work, is_warden, self.stderr[label])

    def fail(self, label, e):
        """Figures only: a kernel that fails a figure is reported and left out of the rest."""
        self.results[label]["error"] = f"{type(e).__name__}: {e}"
        self.labels.remove(label)
        self.log(f"{label}: failed: {e}")

    def launches(self):
        """Round 0 is discarded: it pays jupyter_client's first use (imports, kernelspec and
        provisioner look-ups, the first Session) and fills the page cache, for every kernel.
        Each round ends with the same launch where the kernel was up before it (client_floor):
        what no kernel can beat through jupyter_client."""
        runs = {label: [] for label in self.labels}
        floor, floors = None, []
        if "warden" in self.labels:  # jupyter_client's floor, beside the same rounds
            floor = client_floor.FloorKernel(self.configs["warden"][2], self.work,
                                             self.stderr["warden"])
        try:
            self.launch_rounds(runs, floor, floors)
        finally:
            if floor:
                floor.close()
        for label in self.labels:
            self.results[label].update(figures.summarize_launches(runs[label]))
        if floors and "warden" in self.labels:
            self.results["warden"]["ready_floor_ms"] = figures.median_ms(floors)
            self.results["warden"]["ready_floor_all_ms"] = [round(v * 1000, 2) for v in floors]

    def launch_rounds(self, runs, floor, floors):
        for i in range(self.opts.launches + 1):
            for label in list(self.labels):
                name, _is_warden, env = self.configs[label]
                try:
                    run = figures.launch_once(self.session(label))
                    run["ready_lean"] = lean_launch(name, env, self.work, self.stderr[label])
                except (BenchError, OSError, RuntimeError) as e:
                    self.fail(label, e)
                    continue
                self.log(f"  {label} launch {i}{' (warm-up, discarded)' if i == 0 else ''}: "
                         f"ready {run['ready'] * 1000:.1f} ms (lean client "
                         f"{run['ready_lean'] * 1000:.1f} ms), first cell "
                         f"{run['first_cell'] * 1000:.1f} ms, first plot "
                         f"{run['first_plot'] * 1000:.0f} ms")
                if i:
                    runs[label].append(run)
            if floor:
                try:
                    t = floor.ready()
                except (BenchError, OSError, RuntimeError) as e:
                    self.log(f"  jupyter_client floor: failed: {e}")
                    continue
                self.log(f"  jupyter_client floor {i}: ready {t * 1000:.1f} ms (kernel up before)")
                if i:
                    floors.append(t)

    def kernel_figures(self):
        """One kernel of each kind, kept; every figure on each in turn, after a settle wait."""
        sessions = {}
        try:
            for label in list(self.labels):
                s = sessions[label] = self.session(label)
                s.launch()
                s.wait_ready()
                s.execute_ok(s.code("1+1"))
            self.interleaved_figures(sessions)
            for figure in figures.KERNEL_FIGURES:
                wait_quiet([sessions[k] for k in self.labels], self.log)
                for label in list(self.labels):
                    try:
                        self.results[label].update(figure(sessions[label], self.opts, self.log))
                    except (BenchError, OSError, RuntimeError) as e:
                        self.fail(label, e)
        finally:
            for s in sessions.values():
                s.close()

    def interleaved_figures(self, sessions):
        """Each figure of INTERLEAVED_FIGURES in opts.rounds rounds, every kernel in turn in each
        (the order turned by one each round), after a settle wait per round."""
        per_round = max(1, self.opts.round_trips // self.opts.rounds)
        for sampler, summary in figures.INTERLEAVED_FIGURES:
            samples = {label: [] for label in self.labels}
            for r in range(self.opts.rounds):
                wait_quiet([sessions[k] for k in self.labels], self.log)
                order = list(self.labels)
                order = order[r % len(order):] + order[:r % len(order)]
                for label in order:
                    if label not in self.labels:
                        continue  # failed in an earlier round
                    try:
                        samples[label] += sampler(sessions[label], self.opts, self.log, per_round)
                    except (BenchError, OSError, RuntimeError) as e:
                        self.fail(label, e)
            for label in list(self.labels):
                self.results[label].update(summary(label, samples[label], self.log))

    def agent(self):
        if "warden" in self.labels:
            try:
                self.results["warden"].update(agent_overhead.measure(
                    "warden", self.configs["warden"][2], self.work, self.opts, self.log,
                    self.stderr["warden"]))
            except (BenchError, OSError, RuntimeError) as e:
                self.fail("warden", e)

    def run(self):
        self.log("launches (interleaved):")
        self.launches()
        self.log("figures of one kept kernel each:")
        self.kernel_figures()
        self.log("plain-language cell:")
        self.agent()
        for f in self.stderr.values():
            f.close()
        self.log(f"kernels' stderr: {self.work}/*.stderr.log")
        return self.results


def main(argv=None):
    opts = parse_args(argv)
    if opts.warden_bin:
        os.environ["WARDEN_BIN"] = os.path.abspath(opts.warden_bin)
    harness.setup_environment()
    log = (lambda m: print(m, file=sys.stderr, flush=True))
    work = tempfile.mkdtemp(prefix="warden-bench-")
    results = Bench(opts, work, log).run()
    summary = table.summarize(results)
    if opts.json:
        print(json.dumps({"results": results, "summary": summary, "options": vars(opts)},
                         indent=1))
    else:
        table.print_table(results, summary, opts)
    return 0


if __name__ == "__main__":
    sys.exit(main())
