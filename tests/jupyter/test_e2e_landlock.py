"""End-to-end, the Landlock jail (issue 12), forced with sandbox.jail = "landlock": cells run, the
first cell (only) says which jail runs them, and what the jail must hold holds through a real
kernel: the notebook directory read-only, a private scratch directory as HOME/TMPDIR that is gone
once the worker is, nothing else of the host's files (not /tmp, not the connection file, not the
kernel's environment), no TCP, UDP or unix socket, no signal to the kernel, processes a cell left
behind killed with the worker, the scratch size limit with the words of the other limits, and
interrupts keeping the variables. `warden doctor` says which jail and what it cannot hold. The
probe suite under a reproduced container is the harness's (tests/probes); this is the jail's own
contract. Skipped only where this kernel has no Landlock."""

import json
import os
import subprocess
import time

import pytest

from e2e_helpers import ok, result_text, warden_only
from harness import Kernel, make_workdir, python, warden_bin

pytestmark = warden_only

NOTICE = "jail: Landlock mode \u2014 no pid/mount/network namespaces; see warden doctor"
LANDLOCK = {"sandbox": {"jail": "landlock"}}


def landlock_abi() -> int:
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    v = libc.syscall(444, None, 0, 1)  # landlock_create_ruleset(NULL, 0, VERSION)
    return v if v > 0 else 0


ABI = landlock_abi()
if ABI < 1:
    pytestmark = [warden_only, pytest.mark.skip(reason="this kernel has no Landlock")]


def refused(code: str) -> str:
    """A cell fragment printing 'refused <errno name>' or 'ALLOWED' for one expression."""
    return ("import errno\ntry:\n    (" + code + ")\n    print('ALLOWED')\n"
            "except OSError as e:\n    print('refused', errno.errorcode[e.errno])\n")


@pytest.fixture
def notebook():
    path = make_workdir()
    with open(os.path.join(path, "data.csv"), "w") as f:
        f.write("a,b\n1,2\n")
    os.chmod(os.path.join(path, "data.csv"), 0o644)
    return path


@pytest.fixture
def lk(notebook):
    with Kernel(cwd=notebook, config=LANDLOCK) as k:
        yield k


def test_cells_run_and_the_first_one_says_which_jail(lk, notebook):
    first = ok(lk.run(python("import os\nprint(os.getcwd())\nprint(open('data.csv').read())")))
    assert NOTICE in first.stderr, first.summary()
    assert first.stdout == f"{notebook}\na,b\n1,2\n\n", first.summary()
    second = ok(lk.run(python("import numpy\nprint(int(numpy.arange(4).sum()))")))
    assert second.stdout == "6\n" and NOTICE not in second.stderr, second.summary()


def test_files_outside_are_refused_and_the_notebook_is_read_only(lk):
    conn = lk.manager.connection_file
    code = ("import os\n" + refused("open('new.txt', 'w')") + refused("os.listdir('/tmp')")
            + refused(f"open({conn!r}).read()") + refused("open('/etc/shadow').read()")
            + refused("os.listdir(os.path.expanduser('~root'))")
            + refused(f"open('/proc/{lk.pid}/environ').read()")
            + "home = os.environ['HOME']\nassert os.environ['TMPDIR'] == home\n"
            + "open(os.path.join(home, 'x'), 'w').write('scratch')\n"
            + "print(oct(os.stat(home).st_mode & 0o777), open(os.path.join(home, 'x')).read())\n")
    r = ok(lk.run(python(code)))
    assert r.stdout.splitlines() == ["refused EACCES"] * 6 + ["0o700 scratch"], r.summary()


def test_the_scratch_directory_is_removed_with_the_worker(notebook):
    with Kernel(cwd=notebook, config=LANDLOCK) as k:
        home = ok(k.run(python("import os\nprint(os.environ['HOME'])"))).stdout.strip()
        assert os.path.isdir(home) and home.startswith(("/run/", "/tmp/", "/run/user/")), home
        assert not home.startswith(os.path.expanduser("~") + "/"), home
        k.restart()
        fresh = ok(k.run(python("import os\nprint(os.environ['HOME'])"))).stdout.strip()
        assert fresh != home and not os.path.exists(home), (home, fresh)
    deadline = time.monotonic() + 10
    while os.path.exists(fresh) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not os.path.exists(fresh), fresh


def test_network_and_unix_sockets_are_refused_but_socketpair_works(lk):
    code = ("import socket\n"
            + refused("socket.create_connection(('127.0.0.1', 9), timeout=5)")
            + refused("socket.socket().bind(('127.0.0.1', 0))")
            + refused("socket.socket(socket.AF_INET, socket.SOCK_DGRAM)")
            + refused("socket.socket(socket.AF_INET6, socket.SOCK_RAW, 58)")
            + refused("socket.socket(socket.AF_INET, socket.SOCK_STREAM, 132)")  # SCTP
            + refused("socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)")
            + refused("socket.socket(socket.AF_NETLINK, socket.SOCK_RAW)")
            + "a, b = socket.socketpair()\na.send(b'ok')\nprint(b.recv(2).decode())\n")
    r = ok(lk.run(python(code)))
    tcp = "refused EACCES" if ABI >= 4 else "refused ECONNREFUSED"
    bind = ["refused EACCES"] if ABI >= 4 else ["ALLOWED"]
    assert r.stdout.splitlines() == [tcp] + bind + ["refused EPERM"] * 5 + ["ok"], r.summary()


def test_no_signal_or_trace_of_the_kernel(lk):
    code = ("import os, ctypes\n" + refused(f"os.kill({lk.pid}, 0)")
            + "libc = ctypes.CDLL(None, use_errno=True)\n"
            + f"print('ptrace', libc.ptrace(16, {lk.pid}, 0, 0), ctypes.get_errno())\n")
    r = ok(lk.run(python(code)))
    assert r.stdout.splitlines() == ["refused EPERM", "ptrace -1 1"], r.summary()
    assert lk.is_alive()


def test_processes_a_cell_left_die_with_the_worker(notebook):
    with Kernel(cwd=notebook, config=LANDLOCK) as k:
        r = ok(k.run(python("import subprocess\n"
                            "p = subprocess.Popen(['/bin/sleep', '1000'], start_new_session=True)\n"
                            "print(p.pid)")))
        left = int(r.stdout)
        assert os.path.exists(f"/proc/{left}")
        k.restart()
        ok(k.run(python("1")))
    deadline = time.monotonic() + 10
    while os.path.exists(f"/proc/{left}") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not os.path.exists(f"/proc/{left}"), f"pid {left} survived its worker"


def test_the_scratch_limit_ends_the_worker_with_its_words(notebook):
    config = {"sandbox": {"jail": "landlock", "tmpfs": "8M"}}
    with Kernel(cwd=notebook, config=config) as k:
        ok(k.run(python("kept = 1")))
        r = k.run(python("import os, time\nhome = os.environ['HOME']\n"
                         "for i in range(40):\n"
                         "    open(f'{home}/f{i}', 'wb').write(b'x' * (1 << 20))\n"
                         "time.sleep(30)"), timeout=60)
        assert r.status == "error" and r.error["ename"] == "WorkerDied", r.summary()
        assert "scratch space limit of 8 MiB reached" in r.error["evalue"], r.summary()
        again = k.run(python("print('fresh worker')"))
        assert again.stdout == "fresh worker\n", again.summary()


def test_an_interrupt_keeps_the_variables(lk):
    ok(lk.run(python("kept = 'yes'")))
    ex = lk.execute(python("import time\nprint('started', flush=True)\ntime.sleep(100)"))
    ex.wait_for(lambda r: "started" in r.stdout, timeout=30, what="cell start")
    lk.interrupt()
    r = ex.result(timeout=30)
    assert r.status == "error" and r.error["ename"] == "KeyboardInterrupt", r.summary()
    assert result_text(ok(lk.run(python("kept")))) == "'yes'"


def test_a_bad_jail_word_is_a_config_error(notebook):
    with Kernel(cwd=notebook, config={"sandbox": {"jail": "chroot"}}) as k:
        r = k.run(python("1"))
        assert r.status == "error" and r.error["ename"] == "ConfigError", r.summary()
        assert "sandbox.jail" in r.error["evalue"], r.summary()
        assert "auto|namespaces|landlock" in r.error["evalue"], r.summary()


def test_doctor_says_which_jail_and_what_it_cannot_hold(tmp_path, notebook):
    config = tmp_path / "config.json"
    config.write_text(json.dumps(LANDLOCK))
    p = subprocess.run([warden_bin(), "doctor", "--config", str(config)], capture_output=True,
                       text=True, cwd=notebook, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    out = p.stdout
    assert 'the Landlock jail (sandbox.jail = "landlock": forced)' in out, out
    assert f"Landlock ABI {ABI}" in out, out
    assert "other processes are visible in /proc" in out, out
    assert "the host's network interfaces are listed" in out, out
    assert "Cells can run jailed." in out, out
