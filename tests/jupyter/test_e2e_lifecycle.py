"""End-to-end, kernel lifecycle (through jupyter_client, tests/harness/): the notebook directory the
kernel starts in, shutdown (no process left behind, shutdown_request on control and shell) and
restart."""

import os
import subprocess

import pytest

from e2e_helpers import ok, result_text
from harness import IS_WARDEN, Kernel, describe, python, snapshot_tree, wait_gone
from harness.jail import differs


# ---------------------------------------------------------------------------------------------
# Notebook directory


def test_notebook_dir_under_private_parents(tmp_path):
    """pytest's tmp_path is under /tmp/pytest-of-USER (0700), like a notebook under a private
    home (/root in a container). A notebook directory others may read works from there: the
    cell starts in it and reads its files."""
    tmp_path.chmod(0o755)
    (tmp_path / "data.csv").write_text("a,b\n1,2\n3,4\n")
    with Kernel(cwd=tmp_path) as k:
        r = ok(k.run(python("import os, pandas as pd\nprint(os.getcwd())\n"
                            "int(pd.read_csv('data.csv')['b'].sum())"), timeout=60))
        assert r.stdout.strip() == str(tmp_path)
        assert result_text(r) == "6"


@pytest.mark.skipif(not IS_WARDEN or os.geteuid() != 0, reason="root maps the jail to another uid")
def test_private_notebook_dir_as_root_is_explained(tmp_path):
    """As root the jail runs as an unprivileged uid of its own (never host root): a 0700 notebook
    directory is shown to it through an idmapped mount (test_e2e_workdir.py), which ramfs cannot
    make. There the cell must say so and how to fix it, not fail obscurely."""
    if differs("test_private_notebook_dir_as_root_is_explained"):
        # no ramfs in a container, and no idmapped mount needed: root's own 0700 directory is
        # entered as uid 0 with no capability and locked securebits (Landlock ABI >= 6)
        nb = tmp_path / "nb"
        nb.mkdir(mode=0o700)
        with Kernel(cwd=nb) as k:
            r = ok(k.run(python(
                "import ctypes, os\nprint(os.getuid(), os.getcwd())\n"
                "caps = [l.split() for l in open('/proc/self/status') if l.startswith('Cap')]\n"
                "print(sorted({v for _, v in caps}))\n"
                "print(hex(ctypes.CDLL(None).prctl(27, 0, 0, 0, 0)))\n"  # PR_GET_SECUREBITS
                "for path in ('new.txt', '/tmp/new.txt', '/root/new.txt'):\n"
                "    try:\n        open(path, 'w')\n    except OSError as e:\n"
                "        print('refused', e.errno)"), timeout=60))
            assert r.stdout == f"0 {nb}\n['0000000000000000']\n0xef\n" + "refused 13\n" * 3, \
                r.summary()
        return
    ramfs = tmp_path / "ramfs"
    ramfs.mkdir()
    subprocess.run(["mount", "-t", "ramfs", "ramfs", str(ramfs)], check=True)
    try:
        nb = ramfs / "nb"
        nb.mkdir(mode=0o700)
        with Kernel(cwd=nb) as k:
            r = k.run(python("print(1)"), timeout=60)
            assert r.status == "error"
            text = r.error["evalue"] + "".join(r.error["traceback"])
            assert "chmod o+rx" in text and str(nb) in text and "ramfs" in text, text
            k.run(python("print(2)"), timeout=60)  # still answering, with the same explanation
    finally:
        subprocess.run(["umount", "-l", str(ramfs)], check=False)


# ---------------------------------------------------------------------------------------------
# Lifecycle: shutdown, restart


def test_shutdown_leaves_no_process(workdir):
    k = Kernel(cwd=workdir)
    k.start()
    try:
        spawn = ("import subprocess\n"
                 "child = subprocess.Popen(['sleep', '1000'])\n")
        if IS_WARDEN:
            # escapes the process group: only a pid namespace (or care) gets it
            spawn += "detached = subprocess.Popen(['sleep', '1001'], start_new_session=True)\n"
        ok(k.run(python(spawn)))
        running = k.execute(python("import time\nprint('busy', flush=True)\ntime.sleep(1000)"))
        running.wait_for(lambda r: "busy" in r.stdout, timeout=30, what="cell start")
        snap = snapshot_tree(k.pid)
        assert len(snap) >= 2, describe(snap)
        listing = describe(snap)
        k.shutdown()
        left = wait_gone(snap, timeout=15)
        assert not left, f"left after shutdown:\n{describe(left)}\nbefore:\n{listing}"
    finally:
        k.close()


@pytest.mark.parametrize("channel", ["control", "shell"])
def test_shutdown_request_exits_the_kernel(workdir, channel):
    """shutdown_request moved to control in protocol 5.4; it is still accepted on shell."""
    with Kernel(cwd=workdir) as k:
        ok(k.run(python("1")))
        snap = snapshot_tree(k.pid)
        rep = k.request("shutdown_request", {"restart": False}, channel=channel,
                        wait_idle=False)
        assert rep.msg["msg_type"] == "shutdown_reply"
        assert rep.content["status"] == "ok" and rep.content["restart"] is False, rep.content
        left = wait_gone(snap, timeout=15)
        assert not left, f"left after shutdown_request:\n{describe(left)}"


def test_restart_resets_state(kernel):
    ok(kernel.run(python("gone_after_restart = 1")))
    old = snapshot_tree(kernel.pid)
    kernel.restart()
    assert not wait_gone(old, timeout=15), describe(old)
    r = ok(kernel.run(python("'gone_after_restart' in globals()")))
    assert result_text(r) == "False"
    assert r.execution_count == 1
    assert result_text(ok(kernel.run(python("1 + 1")))) == "2"
