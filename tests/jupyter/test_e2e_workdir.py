"""End-to-end, the notebook directory: a kernel started in a private (0700) mkdtemp directory, the
usual case for root in a container, reads its files; in writable mode (sandbox.workdir_writable)
what a cell writes there belongs to the directory's owner on the host, while the jail's user is
never host root; `warden doctor` says how the directory is shown to the jail. As root the
directory is an idmapped mount (its owner, here uid 1234, appears as the jail's user); as an
ordinary user it is the user's own directory, a plain bind. In the Landlock jail (no user or mount
namespace) the worker takes the directory owner's host uid and the directory is a Landlock rule:
harness/landlock_differences.py says so test by test."""

import os
import re
import shutil
import subprocess
import tempfile

import pytest

from e2e_helpers import ok, warden_only
from harness import Kernel, python, warden_bin
from harness.jail import differs

pytestmark = warden_only

ROOT = os.geteuid() == 0
OWNER = (1234, 4321) if ROOT else (os.geteuid(), os.getegid())


@pytest.fixture
def private_dir():
    """A 0700 directory holding a 0600 file, both owned by OWNER (another uid than root's, as
    root)."""
    path = tempfile.mkdtemp(prefix="warden-private-")
    data = os.path.join(path, "data.csv")
    with open(data, "w") as f:
        f.write("a,b\n1,2\n")
    os.chmod(data, 0o600)
    for p in (data, path):
        os.chown(p, *OWNER)
    os.chmod(path, 0o700)
    yield path
    shutil.rmtree(path, ignore_errors=True)


HOST_UID = "import os\nprint('host uid', open('/proc/self/uid_map').read().split()[1])\n"


def test_a_private_directory_is_read_read_only(private_dir):
    with Kernel(cwd=private_dir) as k:
        r = ok(k.run(python(HOST_UID + "print(open('data.csv').read().split())\n"
                            "try:\n    open('new.txt', 'w')\nexcept OSError as e:\n"
                            "    print('write refused', e.errno)")))
        if differs("test_a_private_directory_is_read_read_only"):
            # the identity map (no user namespace); EACCES (a Landlock rule, not a mount)
            assert r.stdout == "host uid 0\n['a,b', '1,2']\nwrite refused 13\n", r.summary()
            assert ok(k.run(python("print(os.getuid())"))).stdout == f"{OWNER[0]}\n"
        else:
            host_uid = "2000000" if ROOT else str(os.geteuid())
            assert r.stdout == f"host uid {host_uid}\n['a,b', '1,2']\nwrite refused 30\n", \
                r.summary()
    assert not os.path.exists(os.path.join(private_dir, "new.txt"))


def test_writable_mode_writes_belong_to_the_directory_owner(private_dir):
    config = {"sandbox": {"workdir_writable": True}}
    with Kernel(cwd=private_dir, config=config) as k:
        r = ok(k.run(python(HOST_UID + "open('out.txt', 'w').write('x')\nos.mkdir('sub')\n"
                            "print(os.stat('out.txt').st_uid, os.getuid())")))
        if differs("test_writable_mode_writes_belong_to_the_directory_owner"):
            # no idmapped mount: the worker is the owner's host uid itself
            assert r.stdout == f"host uid 0\n{OWNER[0]} {OWNER[0]}\n", r.summary()
        else:
            host_uid = "2000000" if ROOT else str(os.geteuid())
            assert r.stdout == f"host uid {host_uid}\n1000 1000\n", r.summary()
    for name in ("out.txt", "sub"):
        st = os.stat(os.path.join(private_dir, name))
        assert (st.st_uid, st.st_gid) == OWNER, (name, st.st_uid, st.st_gid)


def test_doctor_names_how_the_notebook_directory_is_shown(private_dir, tmp_path):
    config = tmp_path / "config.json"
    config.write_text("{}")
    env = dict(os.environ, WARDEN_CONFIG=str(config))
    out = subprocess.run([warden_bin(), "doctor"], cwd=private_dir, env=env, text=True,
                         capture_output=True, timeout=120).stdout
    # the check's own line (in Landlock mode the jail's description names the directory too)
    lines = [line for line in out.splitlines()
             if re.match(r"\s*\[\w+\]\s+notebook directory\s", line)]
    assert len(lines) == 1, out
    if differs("test_doctor_names_how_the_notebook_directory_is_shown"):
        assert "[ok]" in lines[0] and private_dir in lines[0], lines[0]
        assert f"read-only through a Landlock rule, as uid {OWNER[0]}" in lines[0], lines[0]
    elif ROOT:
        assert "[ok]" in lines[0] and "idmapped read-only bind" in lines[0], lines[0]
        assert "uid 1234" in lines[0] and private_dir in lines[0], lines[0]
    else:
        assert "[ok]" in lines[0] and "plain read-only bind (unprivileged" in lines[0], lines[0]
