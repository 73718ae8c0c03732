#!/usr/bin/python3
"""warden vs ipykernel, side by side through jupyter_client, in one run. Figures only.

    /usr/bin/python3 bench/bench.py            # full run (a few minutes at most)
    /usr/bin/python3 bench/bench.py --quick    # fast pass
    /usr/bin/python3 bench/bench.py --json     # machine-readable

See bench/README.md for what each figure means and how it is measured.
"""

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

import zmq  # noqa: E402
from jupyter_client import KernelManager  # noqa: E402

import harness  # noqa: E402
import agent_overhead  # noqa: E402
from lean_client import LeanClient  # noqa: E402

PLOT_BODY = "import matplotlib.pyplot as plt\nplt.plot([1, 2, 3], [1, 4, 9])\nplt.show()"

# Targets from issues 2 and 3.
TARGETS = {
    "round_trip_speedup": 5.0,      # ipykernel / warden, 1+1 round trip (jupyter_client)
    "lean_round_trip_speedup": 5.0,  # the same through the lean client
    "ready_speedup": 10.0,          # ipykernel / warden, launch -> kernel_info ready
    "kernel_rss_fraction": 0.2,     # warden kernel process / ipykernel process
    "first_cell_ms": 150.0,         # warden, launch -> first %%python cell done (jail included)
    "restart_ms": 50.0,             # warden, os._exit cell -> next 1+1 done (with standby)
    "agent_overhead_ms": 5.0,       # warden, a request cell less its model and code time
    "jail_overhead": 0.10,          # jailed / unjailed 1+1 round trip - 1
}


class BenchError(RuntimeError):
    pass


def now():
    return time.perf_counter()


_CONTEXT = None


def client_context():
    """The clients' zmq context: its sockets try to (re)connect every 10 ms instead of 100 ms,
    for both kernels alike, so the time to ready measures the kernel, not the client's
    reconnect timer."""
    global _CONTEXT
    if _CONTEXT is None:
        import zmq.asyncio
        _CONTEXT = zmq.asyncio.Context()
        _CONTEXT.setsockopt(zmq.RECONNECT_IVL, 10)
    return _CONTEXT


class Session:
    """One kernel launched for measurement: jupyter_client's KernelManager and client, with
    synchronous shadows of the client's sockets for low-overhead polling."""

    def __init__(self, kernel_name, env, cwd, is_warden, stderr=None):
        self.kernel_name = kernel_name
        self.stderr = stderr
        self.env = env
        self.cwd = cwd
        self.is_warden = is_warden
        self.km = KernelManager(kernel_name=kernel_name)
        self.kc = None
        self.t_launch = None

    def code(self, body):
        return "%%python\n" + body if self.is_warden else body

    def launch(self):
        self.t_launch = now()
        self.km.start_kernel(env=self.env, cwd=self.cwd, stderr=self.stderr)
        self.kc = self.km.client(context=client_context())
        self.kc.start_channels(hb=False)
        self.session = self.kc.session
        self.shell = zmq.Socket.shadow(self.kc.shell_channel.socket.underlying)
        self.iopub = zmq.Socket.shadow(self.kc.iopub_channel.socket.underlying)
        self.poller = zmq.Poller()
        self.poller.register(self.shell, zmq.POLLIN)
        self.poller.register(self.iopub, zmq.POLLIN)

    @property
    def pid(self):
        return self.km.provisioner.pid

    def _recv(self, sock):
        frames = sock.recv_multipart(zmq.NOBLOCK)
        _ids, smsg = self.session.feed_identities(frames)
        return self.session.deserialize(smsg)

    def _poll(self, timeout_s):
        """Yield (channel, msg, time) for what arrives within timeout_s (stops at the first
        batch)."""
        events = dict(self.poller.poll(max(0, int(timeout_s * 1000))))
        out = []
        for name, sock in (("shell", self.shell), ("iopub", self.iopub)):
            if sock in events:
                while True:
                    try:
                        msg = self._recv(sock)
                    except zmq.Again:
                        break
                    out.append((name, msg, now()))
        return out

    def send(self, msg_type, content):
        msg = self.session.msg(msg_type, content)
        self.session.send(self.shell, msg)
        return msg["header"]["msg_id"]

    def wait_ready(self, timeout=60):
        """Like jupyter_client's wait_for_ready: a kernel_info_reply on shell and an iopub
        message (so iopub is connected). Returns the time it was ready."""
        deadline = now() + timeout
        t_reply = t_iopub = None
        self.send("kernel_info_request", {})
        sent = now()
        while now() < deadline:
            for channel, msg, t in self._poll(0.05):
                if channel == "iopub" and t_iopub is None:
                    t_iopub = t
                if channel == "shell" and msg["msg_type"] == "kernel_info_reply" and t_reply is None:
                    t_reply = t
            if t_reply is not None and t_iopub is not None:
                return max(t_reply, t_iopub)
            if not self.km.is_alive():
                raise BenchError(f"{self.kernel_name} died before it was ready")
            waited = now() - (t_reply if t_reply is not None else sent)
            if (t_reply is not None and waited > 0.2) or (t_reply is None and waited > 1.0):
                t_reply = None
                self.send("kernel_info_request", {})
                sent = now()
        raise BenchError(f"{self.kernel_name} not ready within {timeout}s")

    def kernel_info_round_trip(self, timeout=30):
        """kernel_info_request on shell until reply and idle: the kernel alone, no worker."""
        t0 = now()
        msg_id = self.send("kernel_info_request", {})
        reply = idle = False
        while not (reply and idle):
            if now() - t0 > timeout:
                raise BenchError(f"{self.kernel_name}: no kernel_info reply/idle in {timeout}s")
            for channel, msg, t in self._poll(timeout):
                if msg["parent_header"].get("msg_id") != msg_id:
                    continue
                if channel == "shell":
                    reply = True
                elif (msg["msg_type"] == "status"
                      and msg["content"]["execution_state"] == "idle"):
                    idle = True
        return now() - t0

    def execute(self, code, timeout=120):
        """Send an execute_request; wait for its reply and its idle. Returns (seconds, reply
        content, iopub messages of it)."""
        t0 = now()
        msg_id = self.send("execute_request", {
            "code": code, "silent": False, "store_history": True, "user_expressions": {},
            "allow_stdin": False, "stop_on_error": True})
        reply = None
        idle = False
        iopub = []
        deadline = t0 + timeout
        while not (reply is not None and idle):
            if now() > deadline:
                raise BenchError(f"{self.kernel_name}: no reply/idle to {code!r} in {timeout}s")
            for channel, msg, t in self._poll(max(0.0, deadline - now())):
                if msg["parent_header"].get("msg_id") != msg_id:
                    continue
                if channel == "shell":
                    reply = msg["content"]
                else:
                    iopub.append(msg)
                    if (msg["msg_type"] == "status"
                            and msg["content"]["execution_state"] == "idle"):
                        idle = True
        return now() - t0, reply, iopub

    def rss(self):
        tree = harness.process_tree(self.pid)
        kernel = harness.rss_kib(self.pid) or 0
        others = sum(harness.rss_kib(p) or 0 for p in tree[1:])
        return kernel, others, len(tree) - 1

    def close(self):
        try:
            snap = harness.snapshot_tree(self.pid) if self.kc else {}
        except Exception:
            snap = {}
        try:
            if self.kc is not None:
                self.kc.stop_channels()
        except Exception:
            pass
        try:
            if self.km.has_kernel:
                self.km.shutdown_kernel(now=False)
        except Exception:
            try:
                self.km.shutdown_kernel(now=True)
            except Exception:
                pass
        for pid in harness.alive(snap):
            try:
                os.kill(pid, 9)
            except OSError:
                pass


def median_ms(values):
    return round(statistics.median(values) * 1000, 2) if values else None


def pct_ms(values, q):
    if not values:
        return None
    v = sorted(values)
    return round(v[min(len(v) - 1, int(q * len(v)))] * 1000, 2)


def drain_raw(sock, quiet_s=0.05):
    """Drop what a socket holds, undecoded, until it has been quiet for quiet_s."""
    while sock.poll(int(quiet_s * 1000)):
        while True:
            try:
                sock.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                break


def measure_launches(label, kernel_name, is_warden, env, cwd, opts, log, stderr, res):
    """Launch the kernel --launches times: ready and first-cell figures. Returns the last
    session, left running."""
    ready, first, magic = [], [], []
    launches = opts.launches + (0 if opts.quick else 1)  # the first one warms caches
    keep = None
    for i in range(launches):
        s = Session(kernel_name, env, cwd, is_warden, stderr)
        try:
            s.launch()
            t_ready = s.wait_ready()
            dt, reply, _ = s.execute(s.code("1+1"))
            t_first = now()
            if reply.get("status") != "ok":
                raise BenchError(f"{label}: first cell failed: {reply}")
            if i > 0 or opts.quick:
                ready.append(t_ready - s.t_launch)
                first.append(t_first - s.t_launch)
            if i < launches - 1:
                # The first IPython syntax of a kernel: warden loads IPython for it (once per
                # worker). Not in the session kept for the other figures (its worker's memory).
                dt_magic, reply, _ = s.execute(s.code("%time 1"))
                if reply.get("status") != "ok":
                    raise BenchError(f"{label}: first magic cell failed: {reply}")
                magic.append(dt_magic)
            log(f"  {label} launch {i + 1}/{launches}: ready {1000 * (t_ready - s.t_launch):.1f} ms,"
                f" first cell {1000 * (t_first - s.t_launch):.1f} ms")
        except BaseException:
            s.close()
            raise
        if i == launches - 1:
            keep = s
        else:
            s.close()
    res["ready_ms"] = median_ms(ready)
    res["ready_all_ms"] = [round(x * 1000, 2) for x in ready]
    res["first_cell_ms"] = median_ms(first)
    res["first_cell_all_ms"] = [round(x * 1000, 2) for x in first]
    res["first_magic_ms"] = median_ms(magic)
    return keep


def tree_cpu_seconds(pid):
    total = 0
    for p in harness.process_tree(pid):
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            pass
    return total / os.sysconf("SC_CLK_TCK")


def wait_quiet(pid, log, label, quiet_s=0.3, limit_s=20.0):
    """Wait until the kernel's process tree stops using CPU (warden's standby worker imports
    numpy, pandas and matplotlib after the first cell; ipykernel finishes its own start-up), so
    round trips do not compete with start-up work for the two cores."""
    start = now()
    last = tree_cpu_seconds(pid)
    while now() - start < limit_s:
        time.sleep(quiet_s)
        cpu = tree_cpu_seconds(pid)
        if cpu - last < 0.02:
            return
        last = cpu
    log(f"  {label}: still busy after {limit_s:.0f} s; measuring anyway")


def measure_round_trips(label, s, opts, log, res):
    """1+1 round trips through jupyter_client (with the client's own CPU per round trip), then
    through the lean client on the same kernel."""
    code = s.code("1+1")
    wait_quiet(s.pid, log, label)
    for _ in range(opts.warmup):
        s.execute(code)
    rts = []
    cpu0 = time.thread_time()
    for _ in range(opts.round_trips):
        dt, reply, _ = s.execute(code)
        rts.append(dt)
    res["client_cpu_ms"] = round((time.thread_time() - cpu0) / opts.round_trips * 1000, 2)
    res["round_trip_ms"] = median_ms(rts)
    res["round_trip_p90_ms"] = pct_ms(rts, 0.9)
    res["round_trip_min_ms"] = round(min(rts) * 1000, 3)
    res["round_trips"] = len(rts)
    log(f"  {label}: 1+1 round trip median {res['round_trip_ms']} ms over {len(rts)} "
        f"(client CPU {res['client_cpu_ms']} ms each)")

    lean = LeanClient(s.km.get_connection_info())
    try:
        lean.wait_connected()
        for _ in range(opts.warmup):
            lean.execute(code)
        lean_rts = []
        for _ in range(opts.round_trips):
            t0 = now()
            reply = lean.execute(code)
            lean_rts.append(now() - t0)
            if reply.get("status") != "ok":
                raise BenchError(f"{label}: 1+1 through the lean client failed: {reply}")
    finally:
        lean.close()
    res["lean_round_trip_ms"] = median_ms(lean_rts)
    res["lean_round_trip_p90_ms"] = pct_ms(lean_rts, 0.9)
    log(f"  {label}: 1+1 round trip through the lean client median {res['lean_round_trip_ms']} ms")
    # jupyter_client's iopub socket saw all of that too: drop it undecoded before going on.
    drain_raw(s.iopub)


def measure_kernel_extras(label, s, is_warden, opts, log, res):
    """kernel_info round trip, RSS, plot cells and (warden) worker restarts."""
    code = s.code("1+1")
    kis = [s.kernel_info_round_trip() for _ in range(max(10, opts.round_trips // 4))]
    res["kernel_info_round_trip_ms"] = median_ms(kis)

    k, w, n = s.rss()
    res["kernel_rss_kib"], res["worker_tree_rss_kib"], res["worker_tree_procs"] = k, w, n

    plot = s.code(PLOT_BODY)
    dt, reply, iopub = s.execute(plot)
    res["plot_cold_ms"] = round(dt * 1000, 2)
    res["plot_png"] = any(m["msg_type"] == "display_data" and "image/png" in m["content"]["data"]
                          for m in iopub)
    warm = [s.execute(plot)[0] for _ in range(opts.plots)]
    res["plot_warm_ms"] = median_ms(warm)
    log(f"  {label}: plot cold {res['plot_cold_ms']} ms, warm {res['plot_warm_ms']} ms, "
        f"png={res['plot_png']}")
    k, w, n = s.rss()
    res["kernel_rss_after_plot_kib"], res["worker_tree_rss_after_plot_kib"] = k, w

    if is_warden and opts.restarts:
        totals, deaths = [], []
        for _ in range(opts.restarts):
            time.sleep(opts.settle)  # let the standby worker get ready
            t0 = now()
            d, reply, _ = s.execute(s.code("import os\nos._exit(0)"))
            _, reply2, _ = s.execute(code)
            t1 = now()
            if reply2.get("status") != "ok":
                raise BenchError(f"{label}: 1+1 after worker death failed: {reply2}")
            totals.append(t1 - t0)
            deaths.append(d)
        res["restart_ms"] = median_ms(totals)
        res["restart_all_ms"] = [round(x * 1000, 2) for x in totals]
        res["death_cell_ms"] = median_ms(deaths)
        log(f"  {label}: os._exit cell -> 1+1 done, median {res['restart_ms']} ms")


def measure(label, kernel_name, is_warden, env, cwd, opts, log, stderr):
    """All figures for one kernel configuration."""
    res = {"label": label, "kernel": kernel_name}
    s = measure_launches(label, kernel_name, is_warden, env, cwd, opts, log, stderr, res)
    try:
        measure_round_trips(label, s, opts, log, res)
        measure_kernel_extras(label, s, is_warden, opts, log, res)
    finally:
        s.close()
    if label == "warden":  # the agent's own cost, in the jailed kernel
        agent_overhead.measure(Session, label, env, cwd, opts, log, stderr, res)
    return res


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return round(a / b, 2)


def summarize(results):
    w = results.get("warden") or {}
    u = results.get("warden-unjailed") or {}
    i = results.get("ipykernel") or {}
    s = {}
    s["round_trip_speedup"] = ratio(i.get("round_trip_ms"), w.get("round_trip_ms"))
    s["lean_round_trip_speedup"] = ratio(i.get("lean_round_trip_ms"), w.get("lean_round_trip_ms"))
    # No kernel's round trip can be shorter than the client's own CPU per round trip: this is
    # the most any kernel could show through jupyter_client against this ipykernel run.
    s["round_trip_cap"] = ratio(i.get("round_trip_ms"), w.get("client_cpu_ms"))
    s["ready_speedup"] = ratio(i.get("ready_ms"), w.get("ready_ms"))
    s["kernel_rss_fraction"] = ratio(w.get("kernel_rss_kib"), i.get("kernel_rss_kib"))
    s["first_cell_ms"] = w.get("first_cell_ms")
    s["restart_ms"] = w.get("restart_ms")
    s["agent_overhead_ms"] = w.get("agent_overhead_ms")
    jr = ratio(w.get("round_trip_ms"), u.get("round_trip_ms"))
    s["jail_overhead"] = round(jr - 1, 3) if jr is not None else None
    return s


def meets(key, value):
    if value is None:
        return None
    target = TARGETS[key]
    if key in ("round_trip_speedup", "lean_round_trip_speedup", "ready_speedup"):
        return value >= target
    return value <= target


def fmt(v, unit=""):
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.2f}{unit}" if abs(v) < 100 else f"{v:.0f}{unit}"
    return f"{v}{unit}"


def print_table(results, summary, opts, out=sys.stdout):
    cols = [c for c in ("warden", "warden-unjailed", "ipykernel") if c in results]
    rows = [
        ("launch -> kernel_info ready, median (ms)", "ready_ms"),
        ("launch -> first cell done, median (ms)", "first_cell_ms"),
        ("then the first IPython-syntax cell, %time 1 (ms)", "first_magic_ms"),
        ("1+1 round trip, median (ms)", "round_trip_ms"),
        ("1+1 round trip, p90 (ms)", "round_trip_p90_ms"),
        ("client CPU per 1+1 round trip (ms)", "client_cpu_ms"),
        ("1+1 round trip, lean client, median (ms)", "lean_round_trip_ms"),
        ("1+1 round trip, lean client, p90 (ms)", "lean_round_trip_p90_ms"),
        ("kernel_info round trip, median (ms)", "kernel_info_round_trip_ms"),
        ("plot cell, first (ms)", "plot_cold_ms"),
        ("plot cell, warm median (ms)", "plot_warm_ms"),
        ("kernel process RSS (MiB)", "kernel_rss_kib"),
        ("worker tree RSS, sum (MiB)", "worker_tree_rss_kib"),
        ("kernel RSS after plot (MiB)", "kernel_rss_after_plot_kib"),
        ("worker tree RSS after plot (MiB)", "worker_tree_rss_after_plot_kib"),
        ("os._exit cell -> next 1+1 done (ms)", "restart_ms"),
        ("plain-language cell, instant model (ms)", "agent_request_ms"),
        ("  of which warden's own (ms)", "agent_overhead_ms"),
    ]
    width = max(len(r[0]) for r in rows) + 2
    print(f"{'':{width}}" + "".join(f"{c:>18}" for c in cols), file=out)
    for title, key in rows:
        vals = []
        for c in cols:
            r = results[c]
            if "error" in r:
                vals.append("skipped" if r.get("skipped") else "error")
                continue
            v = r.get(key)
            if key.endswith("_kib") and v is not None:
                v = round(v / 1024, 1)
            vals.append(fmt(v))
        print(f"{title:{width}}" + "".join(f"{v:>18}" for v in vals), file=out)
    for c in cols:
        if "error" in results[c]:
            print(f"\n{c}: {results[c]['error']}", file=out)
    print("\nTargets (figures only, nothing is asserted):", file=out)
    lines = [
        ("round trip, ipykernel / warden", "round_trip_speedup", "x", ">= 5x"),
        ("  same, lean client", "lean_round_trip_speedup", "x", ">= 5x"),
        ("kernel_info ready, ipykernel / warden", "ready_speedup", "x", ">= 10x"),
        ("kernel RSS, warden / ipykernel", "kernel_rss_fraction", "", "<= 0.2"),
        ("first %%python cell from launch (ms)", "first_cell_ms", "", "<= 150"),
        ("plain-language cell overhead (ms)", "agent_overhead_ms", "", "<= 5"),
        ("worker restart with standby (ms)", "restart_ms", "", "<= 50"),
        ("jailed vs unjailed round trip", "jail_overhead", "", "within +10 %"),
    ]
    for title, key, unit, target in lines:
        v = summary.get(key)
        m = meets(key, v)
        mark = {True: "meets", False: "misses", None: "n/a"}[m]
        shown = f"{v * 100:+.1f} %" if key == "jail_overhead" and v is not None else fmt(v, unit)
        note = ""
        if key == "round_trip_speedup" and summary.get("round_trip_cap") is not None:
            note = f"  (client-bound: at most {fmt(summary['round_trip_cap'], 'x')})"
        print(f"  {title:42} {shown:>10}   target {target:13} {mark}{note}", file=out)
    print(f"\n{opts.launches} launches per kernel ({'no' if opts.quick else 'one more, discarded,'} "
          f"warm-up launch), {opts.round_trips} round trips after {opts.warmup} warm-up, "
          f"{opts.plots} warm plots, {opts.restarts} restarts; {platform.node()}, "
          f"{os.cpu_count()} cpus, python {platform.python_version()}", file=out)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="fast pass with fewer repetitions")
    ap.add_argument("--json", action="store_true", help="print JSON instead of a table")
    ap.add_argument("--kernels", default="warden,warden-unjailed,ipykernel",
                    help="comma-separated subset of warden,warden-unjailed,ipykernel")
    ap.add_argument("--warden-bin", help="warden binary (default: $WARDEN_BIN or build/warden)")
    ap.add_argument("--launches", type=int)
    ap.add_argument("--round-trips", type=int)
    ap.add_argument("--warmup", type=int)
    ap.add_argument("--plots", type=int)
    ap.add_argument("--restarts", type=int)
    ap.add_argument("--settle", type=float,
                    help="seconds left between restarts for the standby to be rebuilt")
    opts = ap.parse_args(argv)
    defaults = dict(launches=2, round_trips=50, warmup=5, plots=2, restarts=2, settle=2.0) \
        if opts.quick else dict(launches=5, round_trips=200, warmup=20, plots=5, restarts=5,
                                settle=3.0)
    for k, v in defaults.items():
        if getattr(opts, k) is None:
            setattr(opts, k, v)
    if opts.warden_bin:
        os.environ["WARDEN_BIN"] = os.path.abspath(opts.warden_bin)

    harness.setup_environment()

    log = (lambda m: print(m, file=sys.stderr, flush=True))
    work = tempfile.mkdtemp(prefix="warden-bench-")
    base_env = dict(os.environ)
    base_env["WARDEN_HISTORY"] = os.path.join(work, "history.jsonl")
    unjailed_cfg = os.path.join(work, "unjailed.json")
    with open(unjailed_cfg, "w") as f:
        json.dump({"sandbox": {"unjailed": True}}, f)
    os.chmod(work, 0o755)
    os.chmod(unjailed_cfg, 0o644)

    configs = {
        "warden": ("warden", True, {k: v for k, v in base_env.items() if k != "WARDEN_CONFIG"}),
        "warden-unjailed": ("warden", True, dict(base_env, WARDEN_CONFIG=unjailed_cfg)),
        "ipykernel": ("python3", False, base_env),
    }
    wanted = [k.strip() for k in opts.kernels.split(",") if k.strip()]
    results = {}
    for label in wanted:
        if label not in configs:
            ap.error(f"unknown kernel {label!r}")
        kernel_name, is_warden, env = configs[label]
        if is_warden:
            reason = harness.warden_missing_reason()
            if reason:
                results[label] = {"label": label, "error": reason, "skipped": True}
                log(f"{label}: skipped: {reason}")
                continue
        log(f"{label}:")
        try:
            with open(os.path.join(work, f"{label}.stderr.log"), "ab") as stderr:
                results[label] = measure(label, kernel_name, is_warden, env, work, opts, log,
                                         stderr)
        except Exception as e:  # figures only: report and go on
            results[label] = {"label": label, "error": f"{type(e).__name__}: {e}"}
            log(f"{label}: failed: {e}")
    log(f"kernels' stderr: {work}/*.stderr.log")
    summary = summarize(results)
    if opts.json:
        print(json.dumps({"results": results, "summary": summary, "targets": TARGETS,
                          "options": vars(opts)}, indent=1))
    else:
        print_table(results, summary, opts)
    return 0


if __name__ == "__main__":
    sys.exit(main())
