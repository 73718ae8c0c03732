"""Jail probes. Secrets: environment, /proc, the connection file and host files stay out.

See probe_helpers.py; each probe asserts containment from the cell's own output, then that the
kernel still runs the next cell. Run as root and as an unprivileged user."""

import re

import pytest

from probe_helpers import SECRET, API_KEY, SECRET_ENV, differs, ok, still_serves

pytestmark = pytest.mark.warden_only

# Secrets


def test_environment_has_no_secrets(k):
    out = ok(k, """
        import os
        print(sorted(os.environ))
        print(repr(dict(os.environ)))
    """)
    assert SECRET not in out and API_KEY not in out
    for name in SECRET_ENV:
        assert name not in out
    for name in ("JPY_PARENT_PID", "JUPYTER_PATH", "WARDEN_CONFIG", "WARDEN_HISTORY"):
        assert name not in out, out
    still_serves(k)


def test_proc_environ_and_cmdline_of_every_process(k):
    out = ok(k, """
        import os
        found = []
        for pid in os.listdir('/proc'):
            if not pid.isdigit():
                continue
            for f in ('environ', 'cmdline'):
                try:
                    found.append((pid, f, open('/proc/%s/%s' % (pid, f), 'rb').read()))
                except OSError as e:
                    found.append((pid, f, repr(e).encode()))
        print(repr(found))
    """)
    assert SECRET not in out and API_KEY not in out
    if differs("test_proc_environ_and_cmdline_of_every_process"):  # the host's processes
        import ast
        found = ast.literal_eval(out.strip())
        me = {pid for pid, f, data in found if f == "cmdline" and b"warden_worker.py" in data}
        others = [(pid, data) for pid, f, data in found if f == "environ" and pid not in me]
        assert others and all(data.startswith(b"PermissionError") for _, data in others), out
        assert any(f == "cmdline" and data.startswith(b"/") and pid == str(k.pid)
                   for pid, f, data in found), "the kernel's command line is readable: " + out
    else:
        assert "connection" not in out and "kernel-" not in out, out
    still_serves(k)


def test_connection_file_and_key_invisible(k):
    path = k.manager.connection_file
    key = k.connection_info["key"]
    key = key.decode() if isinstance(key, bytes) else key
    out = ok(k, f"""
        import os
        p = {path!r}
        d = os.path.dirname(p)
        try:
            listed = os.path.basename(p) in (os.listdir(d) if os.path.isdir(d) else [])
        except OSError as e:
            listed = type(e).__name__
        print('exists', os.path.exists(p), listed)
        try:
            open(p).read(); print('READ')
        except OSError as e:
            print('refused', type(e).__name__)
        hits = []
        for root, dirs, files in os.walk('/', onerror=lambda e: None):
            if root.startswith(('/proc', '/usr', '/sys')):
                dirs[:] = []
                continue
            for f in files:
                if f.startswith('kernel-') and f.endswith('.json'):
                    hits.append(os.path.join(root, f))
        print('hits', hits)
    """)
    if differs("test_connection_file_and_key_invisible"):  # there, and unreadable
        assert "exists True PermissionError" in out and "refused PermissionError" in out, out
        assert "hits []" in out, out
    else:
        assert "exists False False" in out and "refused" in out and "hits []" in out, out
    assert key not in out
    still_serves(k)


@pytest.mark.parametrize("path", ["/etc/shadow", "/etc/gshadow", "/root", "/etc/ssh",
                                  "/var", "/run", "/sys", "/boot", "/work", "/home/wtest",
                                  "/home/wardentest"])
def test_host_files_absent(k, path):
    out = ok(k, f"""
        import os
        p = {path!r}
        try:
            print('listing', os.listdir(p))
        except OSError as e:
            try:
                print('content', open(p, 'rb').read(64))
            except OSError as e2:
                print('absent', type(e).__name__, type(e2).__name__)
    """)
    assert out.startswith("absent"), out
    still_serves(k)


def test_real_home_and_passwd(k):
    out = ok(k, """
        import os, pwd
        try:
            print(os.listdir('/home'))
        except OSError as e:
            print('/home refused', type(e).__name__)
        print([p.pw_name for p in pwd.getall()] if hasattr(pwd, 'getall') else [p.pw_name for p in pwd.getpwall()])
        print(os.path.expanduser('~'))
    """)
    lines = out.splitlines()
    if differs("test_real_home_and_passwd"):  # the host's passwd, /home refused, ~ = scratch
        assert lines[0] == "/home refused PermissionError", out
        assert "'root'" in lines[1] and "'warden'" not in lines[1], out
        assert re.fullmatch(r"/\S*warden-jail\S*/w\d+-\w+", lines[2]), out
        still_serves(k)
        return
    assert lines[0] == "['warden']", out
    assert lines[1] == "['root', 'warden', 'nobody']", out
    assert lines[2] == "/home/warden"
    still_serves(k)


def test_init_memory_and_environ_unreadable(k):
    out = ok(k, """
        res = []
        for f in ('/proc/1/environ', '/proc/1/mem', '/proc/1/maps', '/proc/1/fd', '/proc/1/root/'):
            try:
                import os
                if f.endswith('/'):
                    os.listdir(f)
                else:
                    open(f, 'rb').read(16)
                res.append(f + ' READ')
            except OSError as e:
                res.append(f + ' ' + type(e).__name__)
        print('\\n'.join(res))
    """)
    assert "READ" not in out, out
    still_serves(k)
