"""Shared by the jail probes: the secrets put in the kernel's environment, cell helpers and the
kernels of `fresh_with` (the fixtures are in conftest.py)."""

import os
import secrets
import textwrap


from harness import Kernel, python

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


def fresh_with(tmp_path, sandbox):
    os.chmod(tmp_path, 0o755)
    return Kernel(env=SECRET_ENV, cwd=str(tmp_path), config={"sandbox": sandbox})
