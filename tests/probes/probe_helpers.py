"""Shared by the jail probes: the secrets put in the kernel's environment, cell helpers and the
kernels of `fresh_with` (the fixtures are in conftest.py).

WARDEN_PROBE_VIA says how a probe's Python reaches the jail: "python" (default) as a %%python
cell; "bash" as a %%bash cell that runs it as a child of the shell; "bang" as a `!` shell escape
doing the same. The shell is jailed exactly like Python, so the probes that read what the jail
lets through (secrets, filesystem, network, privilege) must hold the same through either shell;
tests/run runs them all three ways. Through a shell, a probe must also print a marker at its end:
a probe that broke half-way would otherwise pass by printing nothing."""

import base64
import os
import re
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


VIA = os.environ.get("WARDEN_PROBE_VIA", "python")
DONE = "warden-probe-ran-to-its-end"


def cell(code):
    """The probe's Python as a cell, the way VIA says."""
    code = textwrap.dedent(code)
    if VIA == "python":
        return python(code)
    code += "\nprint(%r)\n" % DONE
    if VIA == "bash":
        return "%%python\n%%bash\n/usr/bin/python3 - <<'WARDEN_PROBE'\n" + code + "WARDEN_PROBE\n"
    if VIA == "bang":  # base64 has no $ or {}: IPython expands nothing in the line
        encoded = base64.b64encode(code.encode()).decode()
        return "%%python\n!echo " + encoded + " | base64 -d | /usr/bin/python3 -"
    raise ValueError("WARDEN_PROBE_VIA must be python, bash or bang, not %r" % VIA)


def run(k, code, timeout=60):
    return k.run(cell(code), timeout=timeout)


def ok(k, code, timeout=60):
    """Run a cell that must complete normally; return its stdout."""
    r = run(k, code, timeout)
    assert r.status == "ok", r.summary()
    if VIA == "python":
        return r.stdout
    assert DONE in r.stdout, "the probe did not run to its end through the shell: " + r.summary()
    return re.sub(re.escape(DONE) + r"\r?\n?", "", r.stdout)


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
