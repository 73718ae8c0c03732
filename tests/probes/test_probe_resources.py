"""Jail probes. Resources: every limit holds and the kernel serves the next cell.

See probe_helpers.py; each probe asserts containment from the cell's own output, then that the
kernel still runs the next cell. Run as root and as an unprivileged user."""

import glob
import os
import time

import pytest

from harness import python
from probe_helpers import run, ok, run_after_error, still_serves, fresh_with

pytestmark = pytest.mark.warden_only

# Resources


def test_fork_bomb_and_kill_minus_one(fresh):
    """A real fork bomb in the background; the pids limit holds it, the kernel keeps serving, and
    kill(-1, SIGKILL) from the worker clears the jail without touching anything outside it."""
    out = ok(fresh, """
        import os, subprocess, time, signal
        p = subprocess.Popen(['/bin/sh', '-c', 'b() { b | b & }; b'], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        time.sleep(3)
        def live():
            n = 0
            for d in os.listdir('/proc'):
                try:
                    if d.isdigit() and open('/proc/%s/stat' % d).read().rsplit(')', 1)[1].split()[0] != 'Z':
                        n += 1
                except OSError:
                    pass
            return n
        # zombies waiting for init to reap them are not tasks any more (a cgroup does not count them)
        print("processes", max(live() for i in range(3)))
        os.kill(-1, signal.SIGKILL)   # everything in the jail but init and us
        p.wait()
        for i in range(100):
            left = sorted(int(d) for d in os.listdir('/proc') if d.isdigit())
            if left == [1, 2]:
                break
            time.sleep(0.05)
        print('after', left)
    """, timeout=60)
    n = int(out.split("processes ")[1].split()[0])
    assert n <= 256, out
    assert "after [1, 2]" in out, out
    still_serves(fresh)


def test_fork_loop_hits_task_limit(k):
    out = ok(k, """
        import os, time
        pids, err = [], None
        for i in range(5000):
            try:
                pid = os.fork()
            except OSError as e:
                err = e.errno; break
            if pid == 0:
                time.sleep(20); os._exit(0)
            pids.append(pid)
        print('forked', len(pids), 'errno', err)
        for p in pids: os.kill(p, 9)
        for p in pids: os.waitpid(p, 0)
    """, timeout=120)
    forked = int(out.split()[1])
    assert forked < 256 and "errno 11" in out, out  # EAGAIN
    still_serves(k)


def test_memory_bomb():
    with fresh_with({"memory": "256M"}) as kern:
        ok(kern, "keep = 'state before the bomb'")
        r = run(kern, """
            chunks = []
            while True:
                chunks.append(b'x' * (32 << 20))
        """, timeout=120)
        assert r.status == "error", r.summary()
        text = r.error_text
        # cgroup: the worker is OOM-killed and the cause is named; rlimit: MemoryError
        assert "memory limit of 256 MiB reached" in text or "MemoryError" in text, text
        still_serves(kern)


V1_CPU = "/sys/fs/cgroup/cpu"


@pytest.mark.skipif(not (os.geteuid() == 0 and os.access(V1_CPU, os.W_OK)),
                    reason="a CPU quota needs a cpu cgroup of our own (here: root, cgroup v1)")
def test_cpu_quota_throttles_busy_processes():
    """Four busy processes in a jail allowed half a CPU: the cgroup quota throttles them, so they
    cannot take the CPUs the kernel needs, and the kernel serves the next cell. Each spins until
    it has used 0.3 s of CPU (not of wall time: on a loaded machine four processes may get less
    than half a CPU and never meet the quota), so the four need 1.2 s of CPU, which half a CPU
    spreads over 2.4 s or more."""
    with fresh_with({"cpus": 0.5}) as kern:
        out = ok(kern, """
            import os, time
            start = time.monotonic()
            pids = []
            for _ in range(4):
                pid = os.fork()
                if pid == 0:
                    give_up = time.monotonic() + 30
                    while time.process_time() < 0.3 and time.monotonic() < give_up:
                        pass
                    os._exit(0)
                pids.append(pid)
            for pid in pids:
                os.waitpid(pid, 0)
            t = os.times()
            print('cpu', t.children_user + t.children_system, 'wall', time.monotonic() - start)
        """, timeout=90)
        jails = glob.glob(f"{V1_CPU}/warden/w{kern.pid}-*")
        assert jails, "no cpu cgroup for the kernel's jails"
        assert {open(d + "/cpu.cfs_quota_us").read().strip() for d in jails} == {"50000"}
        throttled = 0
        for d in jails:
            stat = dict(line.split() for line in open(d + "/cpu.stat").read().splitlines())
            throttled += int(stat["nr_throttled"])
        cpu, wall = float(out.split()[1]), float(out.split()[3])
        assert cpu >= 1.1, out  # they did spin
        # unbounded, four processes on two CPUs use 2 s of CPU a second; the quota gives 0.5
        assert cpu / wall < 0.75, out
        # a machine busy with other work may give the whole jail less than its quota (cgroup v1
        # weighs the jails' group like one process), and then nothing is throttled; a jail that
        # got near its quota must have been
        assert throttled > 0 or cpu / wall < 0.4, out
        still_serves(kern)


def test_disk_fill_tmp():
    with fresh_with({"tmpfs": "32M", "file_size": "1G"}) as kern:
        out = ok(kern, """
            import os, errno
            res = []
            for d in ('/tmp', '/home/warden'):
                n = 0
                try:
                    with open(d + '/fill', 'wb') as f:
                        while True:
                            f.write(b'\\0' * (1 << 20)); f.flush(); n += 1
                except OSError as e:
                    res.append((d, n, errno.errorcode.get(e.errno)))
                os.remove(d + '/fill')
            print(res)
        """, timeout=120)
        import ast
        res = ast.literal_eval(out.strip())
        assert [r[0] for r in res] == ["/tmp", "/home/warden"], out
        for d, n, err in res:
            assert err == "ENOSPC" and 28 <= n <= 32, out   # 32 MiB, less what is already there
        still_serves(kern)


def test_file_size_limit():
    with fresh_with({"file_size": "4M"}) as kern:
        out = ok(kern, """
            import errno
            try:
                with open('/tmp/big', 'wb') as f:
                    f.write(b'x' * (8 << 20))
                print('WROTE')
            except OSError as e:
                print('refused', errno.errorcode.get(e.errno))
        """)
        assert "refused EFBIG" in out, out
        still_serves(kern)


def test_fd_exhaustion(k):
    out = ok(k, """
        import os
        fds, err = [], None
        try:
            while True:
                fds.append(os.open('/dev/null', os.O_RDONLY))
        except OSError as e:
            err = e.errno
        print('opened', len(fds), 'errno', err)
        for f in fds: os.close(f)
    """)
    assert "errno 24" in out and int(out.split()[1]) < 1024, out  # EMFILE
    still_serves(k)


def test_thread_exhaustion(k):
    out = ok(k, """
        import threading
        stop = threading.Event()
        threads, err = [], None
        try:
            for i in range(5000):
                t = threading.Thread(target=stop.wait, daemon=True); t.start(); threads.append(t)
        except RuntimeError as e:
            err = str(e)
        print('threads', len(threads), 'error', err)
        stop.set()
        for t in threads: t.join()
    """, timeout=120)
    assert int(out.split()[1]) < 256 and "can't start new thread" in out, out
    still_serves(k)


def test_output_flood():
    with fresh_with({"output": "1M"}) as kern:
        r = run(kern, """
            import sys, os
            for i in range(64):
                sys.stdout.write('x' * (1 << 20))
            os.write(1, bytes(range(256)) * 64)     # binary junk on the real fd 1
            print('end')
        """, timeout=120)
        total = len(r.stdout) + len(r.stderr)
        assert total < 2 << 20, f"{total} bytes of output went through"
        still_serves(kern)


def test_infinite_loop_interrupt_keeps_state(k):
    ok(k, "kept = 'still here'")
    ex = k.execute(python("print('looping', flush=True)\nwhile True:\n    pass"))
    ex.wait_for(lambda r: "looping" in r.stdout, timeout=30)
    time.sleep(0.3)
    k.interrupt()
    r = ex.result(timeout=30)
    assert r.status == "error" and r.error["ename"] == "KeyboardInterrupt", r.summary()
    r = run_after_error(k, "print(kept)")
    assert r.status == "ok" and r.stdout.strip() == "still here", r.summary()
    still_serves(k)


def test_sigint_ignored_escalates():
    with fresh_with({"interrupt_grace": 1.0}) as kern:
        ok(kern, "kept = 1")
        ex = kern.execute(python(
            "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
            "print('stubborn', flush=True)\nwhile True:\n    pass"))
        ex.wait_for(lambda r: "stubborn" in r.stdout, timeout=30)
        kern.interrupt()
        r = ex.result(timeout=60)
        assert r.status == "error", r.summary()
        assert "lost" in r.error_text.lower(), r.error_text
        r2 = run_after_error(kern, "print(kept)")
        assert r2.status == "error" and r2.error["ename"] == "NameError", r2.summary()
        still_serves(kern)
