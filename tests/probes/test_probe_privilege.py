"""Jail probes. Privilege and system calls: no capabilities, no_new_privs, the seccomp deny list.

See probe_helpers.py; each probe asserts containment from the cell's own output, then that the
kernel still runs the next cell. Run as root and as an unprivileged user."""


import os
import re

import pytest

from probe_helpers import VIA, differs, ok, still_serves

pytestmark = pytest.mark.warden_only

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
    keys = ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"]
    if differs("test_no_capabilities_no_new_privs") and os.geteuid() != 0:
        keys.remove("CapBnd")  # the container's: only CAP_SETPCAP could drop it, and none is held
    for key in keys:
        assert f"{key} ['0000000000000000']" in out, out
    assert "NoNewPrivs ['1']" in out and "Seccomp ['2']" in out, out
    if differs("test_no_capabilities_no_new_privs"):  # a host uid: its own, or the kernel's
        uid = re.search(r"^Uid \['(\d+)', '\1', '\1', '\1'\]$", out, re.M)
        assert uid, out
        if os.geteuid() == 0:
            assert int(uid.group(1)) not in (0, 1000), out
        else:
            assert int(uid.group(1)) == os.geteuid(), out
    else:
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
        print('init', open('/proc/1/comm').read().strip())
    """)
    assert "clone3 -1 ENOSYS" in out and "thread ran child ran" in out, out
    if differs("test_clone3_enosys_but_threads_and_processes_work"):  # the host's pids
        assert "init jail-init" not in out and "pid 2\n" not in out, out
    else:
        assert "init jail-init" in out, out  # the jail's pid namespace, whoever started it
    if VIA == "python" and not differs("test_clone3_enosys_but_threads_and_processes_work"):
        assert "pid 2" in out, out  # the worker is the jail's first process after its init
    still_serves(k)


def test_personality_query_allowed(k):
    out = ok(k, """
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        print(libc.personality(0xffffffff), libc.personality(0))
    """)
    assert out.strip() == "0 0", out
    still_serves(k)


def test_pty_of_its_own_and_no_tiocsti(k):
    """The jail has a devpts instance of its own: os.openpty works (pexpect, pty users), none of
    the host's terminals are there, and pushing input into a terminal (TIOCSTI) is refused."""
    if differs("test_pty_of_its_own_and_no_tiocsti"):  # no devpts of its own: no pty
        out = ok(k, """
            import os
            try:
                os.openpty(); print('OPENED')
            except OSError as e:
                print('openpty refused', type(e).__name__)
        """)
        assert out == "openpty refused PermissionError\n", out
        still_serves(k)
        return
    out = ok(k, """
        import os, fcntl, termios
        master, slave = os.openpty()
        os.write(slave, b'ping\\n')
        got = b''  # the line discipline may hand the echo over in pieces: read up to the newline
        while not got.endswith(b'\\n') and len(got) < 16:
            got += os.read(master, 16)
        print('tty', os.ttyname(slave), got)
        print('pts', sorted(os.listdir('/dev/pts')))
        try:
            fcntl.ioctl(slave, termios.TIOCSTI, b'x')
            print('TIOCSTI allowed')
        except OSError as e:
            print('TIOCSTI errno', e.errno)
    """)
    if VIA == "python":
        assert "tty /dev/pts/0 b'ping\\r\\n'" in out, out
        assert "pts ['0', 'ptmx']" in out, out
    else:  # a `!` escape runs in a pty of the jail's own (pexpect): the probe's is the next one
        assert re.search(r"tty /dev/pts/[01] b'ping\\r\\n'", out), out
        assert re.search(r"pts \['0', (?:'1', )?'ptmx'\]", out), out
    assert "TIOCSTI errno 1" in out, out
    still_serves(k)


def test_no_set_id_bits_on_any_file(k):
    """A set-id program the jail leaves in a writable notebook directory would run as its owner
    (often root) for whoever executes it on the host: seccomp refuses set-id mode bits everywhere
    (chmod, open/creat, mkdir, mknod); the sticky bit and plain modes stay allowed."""
    out = ok(k, """
        import os, tempfile
        d = tempfile.mkdtemp()
        p = os.path.join(d, 'prog')
        open(p, 'w').close()
        attempts = (lambda: os.chmod(p, 0o4755), lambda: os.chmod(p, 0o2755),
                    lambda: os.open(os.path.join(d, 'new'), os.O_CREAT | os.O_WRONLY, 0o4755),
                    lambda: os.mkdir(os.path.join(d, 'sub'), 0o2755))
        for f in attempts:
            try:
                f(); print('SET-ID')
            except OSError as e:
                print('refused', e.errno)
        os.chmod(p, 0o1755); os.chmod(p, 0o755)
        print('mode', oct(os.stat(p).st_mode & 0o7777))
    """)
    assert out.count("refused 1") == 4 and "SET-ID" not in out, out
    assert "mode 0o755" in out, out
    still_serves(k)
