"""Jail probes: hostile %%python cells run through the real kernel.

Each probe asserts containment from the cell's own output, then that the kernel still runs the
next cell. Most share one kernel per module (fast); the destructive ones (they kill or replace the
worker) get a fresh kernel. The kernel is started with secrets in its environment; they must
never be visible inside. Run as root and as an unprivileged user (tests/run does both), so nothing
here assumes either.
"""

import os
import secrets
import signal
import stat
import textwrap
import time

import pytest

from harness import Kernel, python

pytestmark = pytest.mark.warden_only

SECRET = "probe-secret-" + secrets.token_hex(8)
API_KEY = "sk-probe-" + secrets.token_hex(12)
SECRET_ENV = {
    "WARDEN_PROBE_SECRET": SECRET,
    "OPENAI_API_KEY": API_KEY,
    "ANTHROPIC_API_KEY": API_KEY,
    "AWS_SECRET_ACCESS_KEY": SECRET,
}


def run(k, code, timeout=60):
    return k.run(python(textwrap.dedent(code)), timeout=timeout)


def ok(k, code, timeout=60):
    """Run a cell that must complete normally; return its stdout."""
    r = run(k, code, timeout)
    assert r.status == "ok", r.summary()
    return r.stdout


def run_after_error(k, code, timeout=60):
    """Run a cell right after one that failed: it must run, not be "aborted" (only executes
    queued before the error's reply are aborted)."""
    return k.run(python(textwrap.dedent(code)), timeout=timeout)


def still_serves(k, timeout=60):
    r = run_after_error(k, "print(6*7)", timeout=timeout)
    assert r.status == "ok" and r.stdout.strip() == "42", "kernel no longer serves: " + r.summary()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    d = tmp_path_factory.mktemp("probe-work")
    (d / "data.csv").write_text("a,b\n1,2\n3,4\n")
    # as root the jail's user is a host uid of its own: the notebook directory must be readable
    os.chmod(d, 0o755)
    return d


@pytest.fixture(scope="module")
def k(workdir):
    with Kernel(env=SECRET_ENV, cwd=str(workdir)) as kern:
        yield kern


@pytest.fixture
def fresh(tmp_path):
    os.chmod(tmp_path, 0o755)
    with Kernel(env=SECRET_ENV, cwd=str(tmp_path)) as kern:
        yield kern


def fresh_with(tmp_path, sandbox):
    os.chmod(tmp_path, 0o755)
    return Kernel(env=SECRET_ENV, cwd=str(tmp_path), config={"sandbox": sandbox})


# ---------------------------------------------------------------------------------------------
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
        print('exists', os.path.exists(p),
              os.path.basename(p) in (os.listdir(d) if os.path.isdir(d) else []))
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
        print(os.listdir('/home'))
        print([p.pw_name for p in pwd.getall()] if hasattr(pwd, 'getall') else [p.pw_name for p in pwd.getpwall()])
        print(os.path.expanduser('~'))
    """)
    lines = out.splitlines()
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


# ---------------------------------------------------------------------------------------------
# Filesystem


def test_writes_outside_allowed_dirs(k):
    out = ok(k, """
        import os, errno
        res = {}
        for p in ('/x', '/usr/x', '/etc/passwd', '/etc/x', '/opt/warden/runtime/x',
                  '/bin/x', '/dev/x', '/home/x', '/proc/x'):
            try:
                with open(p, 'w') as f:
                    f.write('pwned')
                res[p] = 'WROTE'
            except OSError as e:
                res[p] = errno.errorcode.get(e.errno, str(e.errno))
        print(res)
        for p in ('/tmp/ok', '/home/warden/ok'):
            open(p, 'w').write('fine'); print(p, open(p).read())
    """)
    assert "WROTE" not in out, out
    assert "/tmp/ok fine" in out and "/home/warden/ok fine" in out
    still_serves(k)


def test_workdir_read_only(k, workdir):
    out = ok(k, """
        import os, pandas as pd
        print(os.getcwd())
        print(pd.read_csv('data.csv').b.sum())
        for op in (lambda: open('new.txt', 'w'), lambda: open('data.csv', 'a'),
                   lambda: os.remove('data.csv'), lambda: os.mkdir('d')):
            try:
                op(); print('WRITE OK')
            except OSError as e:
                print('refused', e.errno)
    """)
    assert out.splitlines()[0] == str(workdir)
    assert out.splitlines()[1] == "6"
    # EROFS, or EACCES first when the file belongs to another host uid (root's kernel)
    assert "WRITE OK" not in out, out
    assert out.count("refused 30") + out.count("refused 13") == 4, out
    assert sorted(os.listdir(workdir)) == ["data.csv"]
    still_serves(k)


def test_proc_sys_writes(k):
    out = ok(k, """
        res = []
        for p in ('/proc/sys/kernel/hostname', '/proc/sys/vm/drop_caches', '/proc/sysrq-trigger',
                  '/proc/sys/kernel/core_pattern', '/proc/self/oom_score_adj'):
            try:
                with open(p, 'w') as f:
                    f.write('-1000\\n' if 'oom' in p else 'x\\n')
                res.append(p + ' WROTE')
            except OSError as e:
                res.append(p + ' refused')
        print('\\n'.join(res))
    """)
    lines = out.splitlines()
    # lowering one's own oom_score_adj needs CAP_SYS_RESOURCE: refused too
    assert all(l.endswith("refused") for l in lines), out
    still_serves(k)


def test_symlinks_to_host_paths(k):
    out = ok(k, """
        import os
        res = []
        for target in ('/etc/shadow', '/root/.bashrc', '/proc/1/root/etc/shadow', '/home',
                       '/proc/1/cwd', '../../../../../../etc/shadow'):
            link = '/tmp/l%d' % len(res)
            os.symlink(target, link)
            try:
                data = open(link, 'rb').read(32) if not os.path.isdir(link) else os.listdir(link)
                res.append('%s -> %r' % (target, data))
            except OSError as e:
                res.append('%s blocked %s' % (target, type(e).__name__))
        print('\\n'.join(res))
        print(os.readlink('/proc/self/root'), os.listdir('/proc/self/root/home'))
    """)
    assert "root:" not in out and "$6$" not in out, out
    assert "/home -> ['warden']" in out, out
    assert "/proc/1/root/etc/shadow blocked" in out and "/etc/shadow blocked" in out, out
    still_serves(k)


def test_tmp_is_size_capped(k):
    out = ok(k, """
        import os
        for p in ('/tmp', '/home/warden', '/dev/shm'):
            st = os.statvfs(p); print(p, st.f_blocks * st.f_frsize)
    """)
    sizes = {l.split()[0]: int(l.split()[1]) for l in out.splitlines()}
    assert sizes["/tmp"] <= 512 << 20 and sizes["/home/warden"] <= 512 << 20, out
    assert sizes["/dev/shm"] <= 64 << 20, out
    still_serves(k)


# ---------------------------------------------------------------------------------------------
# Network


def test_tcp_outside(k):
    out = ok(k, """
        import socket
        for addr in (('1.1.1.1', 443), ('8.8.8.8', 53), ('10.0.0.1', 80)):
            s = socket.socket(); s.settimeout(3)
            try:
                s.connect(addr); print('CONNECTED', addr)
            except OSError as e:
                print('blocked', addr, e.errno)
    """)
    assert "CONNECTED" not in out and out.count("blocked") == 3, out
    still_serves(k)


def test_udp_outside(k):
    out = ok(k, """
        import socket
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.sendto(b'x', ('8.8.8.8', 53)); print('SENT')
        except OSError as e:
            print('blocked', e.errno)
        s6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        try:
            s6.sendto(b'x', ('2001:4860:4860::8888', 53)); print('SENT6')
        except OSError as e:
            print('blocked6', e.errno)
    """)
    assert "SENT" not in out and "blocked 101" in out, out  # ENETUNREACH
    still_serves(k)


def test_dns(k):
    out = ok(k, """
        import socket
        for name in ('example.com', 'pypi.org'):
            try:
                print('RESOLVED', socket.getaddrinfo(name, 443))
            except socket.gaierror as e:
                print('no dns', e.errno)
        print(socket.gethostbyname('localhost'))
    """)
    assert "RESOLVED" not in out and out.count("no dns") == 2, out
    assert "127.0.0.1" in out
    still_serves(k)


def test_only_loopback(k):
    out = ok(k, """
        lines = open('/proc/net/dev').read().splitlines()[2:]
        print([l.split(':')[0].strip() for l in lines])
        print(open('/proc/net/route').read().splitlines()[1:])
    """)
    assert out.splitlines()[0] == "['lo']", out
    assert out.splitlines()[1] == "[]", out
    still_serves(k)


@pytest.mark.parametrize("family,kind,name", [
    (16, 3, "netlink"), (17, 3, "packet"), (38, 5, "AF_ALG"), (40, 1, "vsock"),
    (4, 2, "ipx"), (31, 3, "bluetooth"), (44, 3, "xdp"), (21, 5, "rds"),
])
def test_socket_families_denied(k, family, kind, name):
    out = ok(k, f"""
        import socket, errno, ctypes
        try:
            socket.socket({family}, {kind}); print('OPENED')
        except OSError as e:
            print('denied', errno.errorcode.get(e.errno))
        # the same family with garbage in the upper half of the register: the kernel ignores it
        libc = ctypes.CDLL(None, use_errno=True)
        libc.syscall.restype = ctypes.c_long
        r = libc.syscall(41, ctypes.c_long({family} | (1 << 32)), {kind}, 0)
        print('raw', r, errno.errorcode.get(ctypes.get_errno()))
    """)
    assert "OPENED" not in out and "denied EPERM" in out, f"{name}: {out}"
    assert "raw -1 EPERM" in out, f"{name}: {out}"
    still_serves(k)


def test_no_host_unix_sockets(k):
    out = ok(k, """
        import os, stat, socket
        found = []
        for root, dirs, files in os.walk('/', onerror=lambda e: None):
            if root.startswith(('/proc', '/usr')):
                dirs[:] = []
                continue
            for f in files + dirs:
                p = os.path.join(root, f)
                try:
                    if stat.S_ISSOCK(os.lstat(p).st_mode):
                        found.append(p)
                except OSError:
                    pass
        print('sockets', found)
        for p in ('/var/run/docker.sock', '/run/dbus/system_bus_socket', '/tmp/.X11-unix/X0'):
            print(p, os.path.exists(p))
        # abstract sockets live in the network namespace: the host's are unreachable
        res = []
        for name in (b'\\0/tmp/.X11-unix/X0', b'\\0/org/freedesktop/systemd1/notify'):
            s = socket.socket(socket.AF_UNIX)
            try:
                s.connect(name); res.append('CONNECTED')
            except OSError as e:
                res.append(type(e).__name__)
        print(res)
        print(len(open('/proc/net/unix').read().splitlines()) - 1)
    """)
    assert "sockets []" in out and "True" not in out and "CONNECTED" not in out, out
    still_serves(k)


# ---------------------------------------------------------------------------------------------
# Privilege


def test_no_capabilities_no_new_privs(k):
    out = ok(k, """
        st = dict(l.split(':\\t', 1) for l in open('/proc/self/status').read().splitlines() if ':\\t' in l)
        for key in ('Uid', 'Gid', 'CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb', 'NoNewPrivs', 'Seccomp'):
            print(key, st[key].split())
        import os
        for f in (lambda: os.setuid(0), lambda: os.setgid(0), lambda: os.chroot('/tmp'),
                  lambda: os.setgroups([0])):
            try:
                f(); print('GAINED')
            except OSError as e:
                print('refused', e.errno)
    """)
    for key in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
        assert f"{key} ['0000000000000000']" in out, out
    assert "NoNewPrivs ['1']" in out and "Seccomp ['2']" in out, out
    assert "Uid ['1000', '1000', '1000', '1000']" in out, out
    assert "GAINED" not in out, out
    still_serves(k)


def test_setuid_binaries_gain_nothing(k):
    out = ok(k, """
        import os, stat, subprocess
        suid = []
        for d in ('/usr/bin', '/usr/sbin', '/usr/lib/dbus-1.0', '/usr/lib/openssh'):
            try:
                names = os.listdir(d)
            except OSError:
                continue
            for n in names:
                p = os.path.join(d, n)
                try:
                    if os.stat(p).st_mode & stat.S_ISUID:
                        suid.append(p)
                except OSError:
                    pass
        res = {}
        for cmd in (['/usr/bin/su', '-c', 'id -u', 'root'], ['/usr/bin/mount', '-t', 'tmpfs', 'x', '/mnt'],
                    ['/usr/bin/chfn', '-f', 'x', 'root'], ['/usr/bin/newgrp', 'root']):
            if os.path.exists(cmd[0]):
                p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=10)
                res[cmd[0]] = (p.returncode, p.stdout.strip())
        print(repr((suid, res)))
    """)
    import ast
    suid, res = ast.literal_eval(out.strip())
    assert suid, "no setuid binary found to try"
    assert res, out
    for cmd, (rc, stdout) in res.items():
        assert rc != 0 and stdout != "0", f"{cmd} gained privilege: {res}"
    still_serves(k)


# ---------------------------------------------------------------------------------------------
# Dangerous system calls (ctypes): each must fail with EPERM, and the cell goes on


SYSCALL_PROBES = {
    "ptrace_attach_init": "libc.ptrace(16, 1, 0, 0)",
    "ptrace_traceme": "libc.ptrace(0, 0, 0, 0)",
    "unshare_user": "libc.unshare(0x10000000)",
    "unshare_net": "libc.unshare(0x40000000)",
    "setns": "libc.setns(0, 0)",
    "mount": "libc.mount(b'none', b'/tmp', b'tmpfs', 0, None)",
    "umount": "libc.umount2(b'/tmp', 2)",
    "pivot_root": "libc.syscall(155, b'/tmp', b'/tmp')",
    "chroot": "libc.chroot(b'/tmp')",
    "fsopen": "libc.syscall(430, b'tmpfs', 0)",
    "open_tree": "libc.syscall(428, -100, b'/tmp', 1)",
    "bpf": "libc.syscall(321, 0, 0, 0)",
    "keyctl": "libc.syscall(250, 0, 0, 0, 0, 0)",
    "add_key": "libc.syscall(248, b'user', b'k', b'v', 1, -2)",
    "request_key": "libc.syscall(249, b'user', b'k', None, 0)",
    "perf_event_open": "libc.syscall(298, 0, 0, -1, -1, 0)",
    "userfaultfd": "libc.syscall(323, 0)",
    "io_uring_setup": "libc.syscall(425, 8, ctypes.create_string_buffer(120))",
    "process_vm_readv": "libc.syscall(310, 1, 0, 0, 0, 0, 0)",
    "kexec_load": "libc.syscall(246, 0, 0, 0, 0)",
    "init_module": "libc.syscall(175, 0, 0, b'')",
    "finit_module": "libc.syscall(313, 0, b'', 0)",
    "reboot": "libc.syscall(169, ctypes.c_ulong(0xfee1dead), 672274793, 0x4321fedc, 0)",
    "swapon": "libc.syscall(167, b'/tmp/x', 0)",
    "acct": "libc.syscall(163, None)",
    "syslog": "libc.syscall(103, 3, ctypes.create_string_buffer(64), 64)",
    "iopl": "libc.syscall(172, 3)",
    "open_by_handle_at": "libc.syscall(304, -100, ctypes.create_string_buffer(64), 0)",
    "personality_no_aslr": "libc.personality(0x0040000)",
    "clone_newuser": "libc.syscall(56, 0x10000000 | 17, 0, 0, 0, 0)",
    "clone_newns": "libc.syscall(56, 0x00020000 | 17, 0, 0, 0, 0)",
    "clone_newnet": "libc.syscall(56, 0x40000000 | 17, 0, 0, 0, 0)",
    "tiocsti": "libc.ioctl(0, 0x5412, ctypes.c_char_p(b'x'))",
    "tiocsti_high_bits": "libc.syscall(16, 0, ctypes.c_ulong(0xffffffff00005412), ctypes.c_char_p(b'x'))",
    "tioclinux": "libc.ioctl(0, 0x541C, ctypes.c_char_p(b'\\x06'))",
}


@pytest.mark.parametrize("name", sorted(SYSCALL_PROBES))
def test_dangerous_syscall_denied(k, name):
    call = SYSCALL_PROBES[name]
    out = ok(k, f"""
        import ctypes, errno
        libc = ctypes.CDLL(None, use_errno=True)
        libc.syscall.restype = ctypes.c_long
        ctypes.set_errno(0)
        r = {call}
        print('result', r, errno.errorcode.get(ctypes.get_errno(), ctypes.get_errno()))
    """)
    assert out.strip() == "result -1 EPERM", f"{name}: {out}"
    still_serves(k)


def test_clone3_enosys_but_threads_and_processes_work(k):
    out = ok(k, """
        import ctypes, errno, threading, subprocess, os
        libc = ctypes.CDLL(None, use_errno=True)
        r = libc.syscall(435, None, 0)
        print('clone3', r, errno.errorcode.get(ctypes.get_errno()))
        res = []
        t = threading.Thread(target=lambda: res.append('thread ran')); t.start(); t.join()
        print(res[0], subprocess.run(['/bin/echo', 'child ran'], capture_output=True, text=True).stdout.strip())
        print('pid', os.getpid())
    """)
    assert "clone3 -1 ENOSYS" in out and "thread ran child ran" in out, out
    assert "pid 2" in out, out
    still_serves(k)


def test_personality_query_allowed(k):
    out = ok(k, """
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        print(libc.personality(0xffffffff), libc.personality(0))
    """)
    assert out.strip() == "0 0", out
    still_serves(k)


# ---------------------------------------------------------------------------------------------
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


def test_memory_bomb(tmp_path):
    with fresh_with(tmp_path, {"memory": "256M"}) as kern:
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


def test_disk_fill_tmp(tmp_path):
    with fresh_with(tmp_path, {"tmpfs": "32M", "file_size": "1G"}) as kern:
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


def test_file_size_limit(tmp_path):
    with fresh_with(tmp_path, {"file_size": "4M"}) as kern:
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


def test_output_flood(tmp_path):
    with fresh_with(tmp_path, {"output": "1M"}) as kern:
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


def test_sigint_ignored_escalates(tmp_path):
    with fresh_with(tmp_path, {"interrupt_grace": 1.0}) as kern:
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


# ---------------------------------------------------------------------------------------------
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
    # delivered to init, and ignored: it is not stopped (state S, sleeping in sigwaitinfo)
    assert "['sent', 'sent', 'sent'] 1 S" in out, out
    assert ok(k, "import os; print(os.getpid())").strip() == "2"   # same worker
    still_serves(k)
