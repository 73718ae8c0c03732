"""Jail probes. The worker dies: the cause is named, the next cell runs in a fresh jail.

See probe_helpers.py; each probe asserts containment from the cell's own output, then that the
kernel still runs the next cell. Run as root and as an unprivileged user."""


import pytest

from probe_helpers import differs, run, ok, still_serves

pytestmark = pytest.mark.warden_only

# The worker dies: the cause is named, the next cell runs in a fresh jail


def _dies(kern, code, *words):
    r = run(kern, code, timeout=60)
    assert r.status == "error", r.summary()
    text = r.error_text
    assert any(w in text for w in words), text
    still_serves(kern)
    return r


def test_os_exit(fresh):
    _dies(fresh, "import os\nos._exit(3)", "exited with code 3")


def test_segfault_via_ctypes(fresh):
    _dies(fresh, "import ctypes\nctypes.string_at(0)", "SIGSEGV", "signal 11")


def test_x32_syscall_kills_worker(fresh):
    _dies(fresh, "import ctypes\nctypes.CDLL(None).syscall(0x40000000 | 39)",
          "forbidden system call")


def test_channel_forgery(fresh):
    # garbage that is not a JSON object
    _dies(fresh, "import os\nos.write(3, b'\\x00\\x00\\x00\\x05hello')\nimport time; time.sleep(5)",
          "protocol", "Protocol", "channel", "died", "violation")
    # a length header far above the frame limit
    _dies(fresh, "import os\nos.write(3, b'\\xff\\xff\\xff\\xff' + b'x' * 1000)\nimport time; time.sleep(5)",
          "protocol", "Protocol", "channel", "died", "violation", "large")
    # forged frames with a wrong id, an unknown type and invalid UTF-8: dropped, the cell goes on
    r = run(fresh, """
        import os, json
        def frame(obj):
            b = json.dumps(obj).encode()
            os.write(3, len(b).to_bytes(4, 'big') + b)
        frame({'t': 'done', 'id': 999999, 'status': 'ok'})
        frame({'t': 'no-such-type', 'id': 1})
        frame({'t': 'stream', 'id': 999999, 'name': 'stdout', 'text': 'forged'})
        b = b'{"t": "stream", "id": 999998, "name": "stdout", "text": "\\xff\\xfe"}'
        os.write(3, len(b).to_bytes(4, 'big') + b)
        print('after forgery')
    """)
    assert "forged" not in r.stdout, r.summary()
    still_serves(fresh)


def test_kill_init_from_inside(k):
    out = ok(k, """
        import os, signal
        res = []
        for sig in (signal.SIGKILL, signal.SIGTERM, signal.SIGSTOP):
            try:
                os.kill(1, sig); res.append('sent')
            except OSError as e:
                res.append(type(e).__name__)
        import time; time.sleep(0.2)
        print(res, os.getppid(), open('/proc/1/stat').read().rsplit(')', 1)[1].split()[0])
    """)
    if differs("test_kill_init_from_inside"):  # the host's init: refused
        assert out.startswith("['PermissionError', 'PermissionError', 'PermissionError'] "), out
        assert out.split()[-1] in ("S", "R"), out  # the host's init goes on
    else:
        # delivered to init, and ignored: it is not stopped (state S, sleeping in sigwaitinfo)
        assert "['sent', 'sent', 'sent'] 1 S" in out, out
        assert ok(k, "import os; print(os.getpid())").strip() == "2"   # same worker
    still_serves(k)
