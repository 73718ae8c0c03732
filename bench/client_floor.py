"""jupyter_client's floor under "launch -> kernel_info ready": the bench's own launch and
wait_ready (bench_kernel.Session) where the kernel is already up before the clock starts, so
whatever the figure still shows is the client's, not any kernel's.

A warden kernel is started first on a connection file of its own; then, each round, a
KernelManager is given that file's ports and key and launches a kernelspec whose argv is
`/bin/sleep` (a process that does nothing, as `start_kernel` needs one to Popen), and the clock
runs as in the bench's launch figure: start_kernel, the client and its channels, a
kernel_info_request until its reply and an iopub message. Also timed: `start_kernel` alone with
`/bin/true` as the kernel (the client's own start-up, with its port search).

    /usr/bin/python3 bench/client_floor.py [--rounds N] [--warden-bin PATH]

The one difference from a real launch: the manager does not search for five free ports
(`cache_ports` off, or it would pick new ones); `start_kernel` with `/bin/true` includes that.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

import harness  # noqa: E402
from bench_kernel import Session, now  # noqa: E402
from jupyter_client.connect import write_connection_file  # noqa: E402

FAKES = {"floor-sleep": ["/bin/sleep", "3600"], "floor-true": ["/bin/true"]}


def write_fake_kernelspecs(root):
    for name, argv in FAKES.items():
        spec = Path(root) / "kernels" / name
        spec.mkdir(parents=True, exist_ok=True)
        (spec / "kernel.json").write_text(json.dumps(
            {"argv": argv, "display_name": name, "language": "python"}))


def start_kernel_only(env, work):
    """Seconds of KernelManager.start_kernel() with /bin/true as the kernel."""
    s = Session("floor", "floor-true", env, work, True)
    t0 = now()
    s.km.start_kernel(env=env, cwd=work)
    dt = now() - t0
    s.km.shutdown_kernel(now=True)
    return dt


def ready_with_kernel_up(connection_file, env, work):
    """(start_kernel done, channels up, ready) in seconds from the launch, as Session.launch and
    wait_ready measure it, with the kernel already listening on the ports."""
    s = Session("floor", "floor-sleep", env, work, True)
    s.km.cache_ports = False
    s.km.load_connection_file(connection_file)
    t0 = now()
    s.km.start_kernel(env=env, cwd=work)
    t_started = now()
    s.km.start_kernel = lambda **kw: None  # done: launch() makes the client and its sockets
    try:
        s.launch()
        t_channels = now()
        t_ready = s.wait_ready()
    finally:
        # Not Session.close: its shutdown_request would stop the kernel that stays up.
        if s.kc is not None:
            s.kc.stop_channels()
        s.km.shutdown_kernel(now=True)
    return [t - t0 for t in (t_started, t_channels, t_ready)]


class FloorKernel:
    """The warden kernel that stays up while the rounds launch `/bin/sleep` on its ports."""

    def __init__(self, env, work, stderr=None):
        write_fake_kernelspecs(harness.setup_environment())
        self.env, self.work = env, work
        self.connection_file, _info = write_connection_file(
            os.path.join(work, f"floor-{uuid.uuid4().hex}.json"), key=uuid.uuid4().hex.encode())
        self.proc = subprocess.Popen([harness.warden_bin(), "kernel", "-f", self.connection_file],
                                     env=env, cwd=work, stdout=subprocess.DEVNULL, stderr=stderr,
                                     start_new_session=True)

    def ready(self):
        """Seconds from launch to ready, the kernel's share removed."""
        return ready_with_kernel_up(self.connection_file, self.env, self.work)[2]

    def close(self):
        self.proc.terminate()
        self.proc.wait()
        os.unlink(self.connection_file)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--warden-bin", help="warden binary (default: $WARDEN_BIN or build/warden)")
    opts = ap.parse_args(argv)
    if opts.warden_bin:
        os.environ["WARDEN_BIN"] = os.path.abspath(opts.warden_bin)
    harness.setup_environment()
    work = tempfile.mkdtemp(prefix="warden-floor-")
    env = dict(os.environ, WARDEN_HISTORY=os.path.join(work, "history.jsonl"))
    kernel = FloorKernel(env, work)
    only, up = [], []
    try:
        for i in range(opts.rounds + 1):  # round 0 pays jupyter_client's first use: dropped
            a = start_kernel_only(env, work)
            b = ready_with_kernel_up(kernel.connection_file, env, work)
            if i:
                only.append(a)
                up.append(b)
    finally:
        kernel.close()

    def row(name, values):
        ms = sorted(round(v * 1000, 1) for v in values)
        print(f"{name:44s} median {statistics.median(values) * 1000:6.2f} ms  {ms}")
    row("start_kernel(), /bin/true as the kernel", only)
    for j, name in enumerate(("kernel up: start_kernel() done", "kernel up: client and channels",
                              "kernel up: ready (reply and iopub)")):
        row(name, [r[j] for r in up])
    return 0


if __name__ == "__main__":
    sys.exit(main())
