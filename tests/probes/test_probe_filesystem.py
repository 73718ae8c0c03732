"""Jail probes. Filesystem: nothing outside the allowed directories can be written or reached.

See probe_helpers.py; each probe asserts containment from the cell's own output, then that the
kernel still runs the next cell. Run as root and as an unprivileged user."""

import os
import re

import pytest

from probe_helpers import differs, ok, still_serves

pytestmark = pytest.mark.warden_only

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
        for p in ('/tmp/ok', '/home/warden/ok', os.environ['HOME'] + '/ok'):
            try:
                open(p, 'w').write('fine'); print(p, open(p).read())
            except OSError as e:
                print(p, 'refused', errno.errorcode.get(e.errno))
    """)
    assert "WROTE" not in out, out
    if differs("test_writes_outside_allowed_dirs"):  # the scratch directory is HOME = TMPDIR
        assert "/tmp/ok refused" in out and "/home/warden/ok refused" in out, out
        assert re.search(r"^/\S*warden-jail\S*/w\d+-\w+/ok fine$", out, re.M), out
    else:
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
        import os, tempfile
        res = []
        for target in ('/etc/shadow', '/root/.bashrc', '/proc/1/root/etc/shadow', '/home',
                       '/proc/1/cwd', '../../../../../../etc/shadow'):
            link = os.path.join(tempfile.gettempdir(), 'l%d' % len(res))
            os.symlink(target, link)
            try:
                data = open(link, 'rb').read(32) if not os.path.isdir(link) else os.listdir(link)
                res.append('%s -> %r' % (target, data))
            except OSError as e:
                res.append('%s blocked %s' % (target, type(e).__name__))
        print('\\n'.join(res))
        try:
            print(os.readlink('/proc/self/root'), os.listdir('/proc/self/root/home'))
        except OSError as e:
            print('/proc/self/root/home blocked', type(e).__name__)
    """)
    assert "root:" not in out and "$6$" not in out, out
    if differs("test_symlinks_to_host_paths"):  # the host's files, refused
        assert "/home blocked PermissionError" in out, out
        assert "/proc/self/root/home blocked PermissionError" in out, out
    else:
        assert "/home -> ['warden']" in out, out
    assert "/proc/1/root/etc/shadow blocked" in out and "/etc/shadow blocked" in out, out
    still_serves(k)


def test_tmp_is_size_capped(k):
    if differs("test_tmp_is_size_capped"):  # no tmpfs: the supervisor measures the scratch
        out = ok(k, """
            import os, shutil
            home = os.environ['HOME']
            print(os.statvfs(home).f_blocks == os.statvfs('/usr').f_blocks or 'other fs',
                  home == os.environ['TMPDIR'])
            try:
                os.statvfs('/dev/shm'); open('/dev/shm/x', 'w'); print('/dev/shm WRITABLE')
            except OSError as e:
                print('/dev/shm refused', type(e).__name__)
        """)
        assert "True True" in out or "other fs True" in out, out
        assert "/dev/shm refused PermissionError" in out, out
        still_serves(k)
        return
    out = ok(k, """
        import os
        for p in ('/tmp', '/home/warden', '/dev/shm'):
            st = os.statvfs(p); print(p, st.f_blocks * st.f_frsize)
    """)
    sizes = {l.split()[0]: int(l.split()[1]) for l in out.splitlines()}
    assert sizes["/tmp"] <= 512 << 20 and sizes["/home/warden"] <= 512 << 20, out
    assert sizes["/dev/shm"] <= 64 << 20, out
    still_serves(k)
