"""Jail probes. Network: loopback only, no other socket family, no host unix socket.

See probe_helpers.py; each probe asserts containment from the cell's own output, then that the
kernel still runs the next cell. Run as root and as an unprivileged user."""


import pytest

from probe_helpers import differs, ok, still_serves

pytestmark = pytest.mark.warden_only

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
    if differs("test_udp_outside"):  # stricter: no datagram socket at all
        out = ok(k, """
            import socket, errno
            for family in (socket.AF_INET, socket.AF_INET6):
                try:
                    socket.socket(family, socket.SOCK_DGRAM); print('CREATED')
                except OSError as e:
                    print('refused', errno.errorcode.get(e.errno))
        """)
        assert out == "refused EPERM\nrefused EPERM\n", out
        still_serves(k)
        return
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
    if differs("test_only_loopback"):  # the host's interfaces, listed (and unusable)
        assert "'lo'" in out.splitlines()[0], out
    else:
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
            try:
                s = socket.socket(socket.AF_UNIX)
                s.connect(name); res.append('CONNECTED')
            except OSError as e:
                res.append(type(e).__name__)
        print(res)
    """)
    assert "sockets []" in out and "True" not in out and "CONNECTED" not in out, out
    if differs("test_no_host_unix_sockets"):  # stricter: no unix socket at all
        assert "['PermissionError', 'PermissionError']" in out, out
    still_serves(k)
