"""The reproduced default container (as_container.c) is what it says: Docker's capability set,
no_new_privs left off, EPERM to the namespace and mount calls and ENOSYS to clone3 while threads
and children still work; as root and with --user. Under it the namespace jail is refused with
its clear error, and "auto" picks Landlock and says so. Needs root (as a container runtime)."""

import os
import re
import shutil
import subprocess

import pytest

from harness import make_workdir, warden_bin

AS_CONTAINER = os.environ.get("WARDEN_AS_CONTAINER") or os.path.join(
    os.path.dirname(warden_bin()), "as-container")
DOCKER_CAPS = "00000000a80425fb"  # moby's 14 default capabilities, as /proc shows them
USER = "wardentest"

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="a container runtime starts as root")

PROBE = r"""
import ctypes, errno, os, subprocess, threading
st = dict(l.split(':\t', 1) for l in open('/proc/self/status').read().splitlines() if ':\t' in l)
for key in ('Uid', 'CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb', 'NoNewPrivs', 'Seccomp'):
    print(key, st[key].split()[0])
libc = ctypes.CDLL(None, use_errno=True)
calls = {'unshare': lambda: libc.unshare(0x10000000), 'setns': lambda: libc.setns(0, 0),
         'mount': lambda: libc.mount(b'none', b'/mnt', b'tmpfs', 0, None),
         'umount2': lambda: libc.umount2(b'/mnt', 2),
         'pivot_root': lambda: libc.syscall(155, b'/', b'/'),
         'clone_newns': lambda: libc.syscall(56, 0x00020000 | 17, 0, 0, 0, 0),
         'clone_newuser': lambda: libc.syscall(56, 0x10000000 | 17, 0, 0, 0, 0),
         'clone3': lambda: libc.syscall(435, None, 0)}
for name, call in calls.items():
    ctypes.set_errno(0)
    print(name, call(), errno.errorcode.get(ctypes.get_errno()))
t = threading.Thread(target=print, args=('thread ran',)); t.start(); t.join()
print(subprocess.run(['/bin/echo', 'child ran'], capture_output=True, text=True).stdout.strip())
"""


def in_container(*command, user=None, env=None):
    prefix = [AS_CONTAINER] + (["--user", user] if user else []) + ["--"]
    return subprocess.run(prefix + list(command), capture_output=True, text=True, timeout=120,
                          env=env, cwd=make_workdir("container-"))


@pytest.fixture(scope="module")
def user():
    if subprocess.run(["id", USER], capture_output=True).returncode != 0:
        subprocess.run(["useradd", "--create-home", "--shell", "/bin/bash", USER], check=True)
    return USER


@pytest.mark.parametrize("as_user", [False, True], ids=["root", "user"])
def test_docker_capabilities_and_seccomp(as_user, user):
    r = in_container("/usr/bin/python3", "-c", PROBE, user=user if as_user else None)
    assert r.returncode == 0, r.stderr
    lines = dict(line.split(" ", 1) for line in r.stdout.splitlines() if " " in line)
    assert lines["CapBnd"] == DOCKER_CAPS and lines["CapInh"] == lines["CapAmb"] == "0" * 16
    want = "0" * 16 if as_user else DOCKER_CAPS  # leaving uid 0 empties them, as --user does
    assert lines["CapPrm"] == lines["CapEff"] == want, r.stdout
    assert lines["NoNewPrivs"] == "0" and lines["Seccomp"] == "2", r.stdout
    assert (lines["Uid"] != "0") == as_user, r.stdout
    for name in ("unshare", "setns", "mount", "umount2", "pivot_root", "clone_newns",
                 "clone_newuser"):
        assert lines[name] == "-1 EPERM", f"{name}: {r.stdout}"
    assert lines["clone3"] == "-1 ENOSYS", r.stdout
    assert "thread ran" in r.stdout and "child ran" in r.stdout, r.stdout


def test_unshare_tool_fails(user):
    for who in (None, user):
        r = in_container(shutil.which("unshare"), "-U", "true", user=who)
        assert r.returncode != 0 and "Operation not permitted" in r.stderr, r.stderr


def _doctor(jail, user=None):
    config = os.path.join(make_workdir("container-config-"), "config.json")
    with open(config, "w") as f:
        f.write('{"sandbox": {"jail": "%s"}}' % jail)
    os.chmod(config, 0o644)
    return in_container(warden_bin(), "doctor", user=user,
                        env=dict(os.environ, WARDEN_CONFIG=config))


@pytest.mark.parametrize("as_user", [False, True], ids=["root", "user"])
def test_namespace_jail_refused_with_its_clear_error(as_user, user):
    r = _doctor("namespaces", user if as_user else None)
    out = r.stdout + r.stderr
    assert r.returncode == 1, out
    assert "cannot create the jail's namespaces" in out and "this looks like a container" in out


@pytest.mark.parametrize("as_user", [False, True], ids=["root", "user"])
def test_auto_picks_landlock_and_says_so(as_user, user):
    r = _doctor("auto", user if as_user else None)
    out = r.stdout + r.stderr
    assert r.returncode == 0, out
    assert "jail: Landlock mode" in out and "Cells can run jailed" in out, out
    # a task limit, never none: as root the pids cgroup (RLIMIT_NPROC where none is writable); an
    # ordinary user has no writable cgroup here, and its kernel's uid is shared: RLIMIT_NPROC, the
    # budget beyond what the uid runs
    tasks = [line for line in r.stdout.splitlines()
             if re.match(r"\s*\[\w+\]\s+task limit", line)]
    assert len(tasks) == 1 and re.search(r"via (cgroup|RLIMIT_NPROC)", tasks[0]), out
    if as_user:
        assert "[WARN]" in tasks[0] and "256 beyond what uid" in tasks[0], tasks[0]
