"""A client that dies without shutting its kernel down (a terminal closed under jupyter console,
a crashed or killed notebook server): the kernel it started must not live on, jail and all.
jupyter_client starts kernels in a session of their own, so no SIGHUP reaches them; it names
itself in JPY_PARENT_PID, and the kernel stops when that process exits (as ipykernel does)."""

import json
import os
import signal
import subprocess
import sys
import textwrap

import pytest

import harness
from harness import KERNEL_NAME, describe, snapshot_tree, wait_gone

# a client that starts a kernel, runs a cell (so the jail's worker is up), reports the kernel's
# pid, then waits to be killed
CLIENT = textwrap.dedent("""
    import json, sys
    from jupyter_client import KernelManager
    km = KernelManager(kernel_name=sys.argv[1])
    km.start_kernel(cwd=sys.argv[2])
    kc = km.client(); kc.start_channels(); kc.wait_for_ready(timeout=60)
    reply = kc.execute_interactive(sys.argv[3], timeout=60, output_hook=lambda msg: None)
    print(json.dumps({"pid": km.provisioner.pid, "status": reply["content"]["status"]}),
          flush=True)
    sys.stdin.read()  # until the test kills this process
""")


def test_the_kernel_exits_when_its_client_is_killed(workdir):
    reason = harness.warden_missing_reason()
    if reason:
        pytest.fail(reason, pytrace=False)
    client = subprocess.Popen([sys.executable, "-c", CLIENT, KERNEL_NAME, workdir,
                               harness.python("print(1)")],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    tree = {}
    try:
        started = json.loads(client.stdout.readline() or "{}")
        assert started.get("status") == "ok", started
        tree = snapshot_tree(started["pid"])
        assert len(tree) > 1, "no worker under the kernel:\n" + describe(tree)
        os.kill(client.pid, signal.SIGKILL)
        client.wait(timeout=30)
        left = wait_gone(tree, timeout=30)
        assert not left, "left after the client was killed:\n" + describe(left)
    finally:
        if client.poll() is None:
            client.kill()
        for pid in harness.alive(tree):
            os.kill(pid, signal.SIGKILL)
