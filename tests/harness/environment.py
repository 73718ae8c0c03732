"""Which kernel the tests talk to, its temporary kernelspec, the isolated environment and notebook
directories (see the package docstring)."""

from __future__ import annotations

import atexit
import json
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Optional

REPO_ROOT = Path(__file__).resolve().parent.parent.parent
KERNEL_NAME = os.environ.get("WARDEN_TEST_KERNEL", "warden")
IS_WARDEN = KERNEL_NAME == "warden"
PYTHON_PREFIX = "%%python\n"

_ANSI = re.compile(r"\x1b(\[[0-9;?]*[A-Za-z]|\][^\x07]*\x07|[()][A-Z0-9]|[=>])")


def strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)


def python(code: str) -> str:
    """A Python cell: ``%%python\\n`` + code for warden; the code itself for ipykernel."""
    return PYTHON_PREFIX + code if IS_WARDEN else code


def warden_bin() -> str:
    """Absolute path of the warden binary under test (``WARDEN_BIN`` or ``<repo>/build/warden``)."""
    return os.path.abspath(os.environ.get("WARDEN_BIN") or str(REPO_ROOT / "build" / "warden"))


def warden_missing_reason() -> Optional[str]:
    """None when the kernel under test can start; otherwise why it cannot."""
    if not IS_WARDEN:
        return None
    path = warden_bin()
    if not os.path.isfile(path) or not os.access(path, os.X_OK):
        return (f"warden binary not found or not executable at {path}: build it "
                f"(cmake -S . -B build && cmake --build build) or set WARDEN_BIN")
    return None


def write_kernelspec(kernels_dir: os.PathLike | str, binary: Optional[str] = None,
                     name: str = "warden") -> Path:
    """Write ``<kernels_dir>/<name>/kernel.json`` launching ``binary``; return that directory."""
    binary = os.path.abspath(binary or warden_bin())
    spec_dir = Path(kernels_dir) / name
    spec_dir.mkdir(parents=True, exist_ok=True)
    spec = {
        "argv": [binary, "kernel", "-f", "{connection_file}"],
        "display_name": "warden",
        "language": "python",
        "interrupt_mode": "signal",
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec, indent=1))
    return spec_dir


_ENV_ROOT: Optional[str] = None


def setup_environment() -> str:
    """Create the temporary Jupyter data dir with the warden kernelspec, put it first on
    JUPYTER_PATH, isolate history files. Idempotent; returns the data dir."""
    global _ENV_ROOT
    if _ENV_ROOT is not None:
        return _ENV_ROOT
    root = tempfile.mkdtemp(prefix="warden-test-")
    os.chmod(root, 0o755)
    write_kernelspec(Path(root) / "kernels", warden_bin())
    old = os.environ.get("JUPYTER_PATH")
    os.environ["JUPYTER_PATH"] = root + (os.pathsep + old if old else "")
    os.environ.setdefault("WARDEN_HISTORY", os.path.join(root, "history.sqlite"))
    os.environ.setdefault("WARDEN_AUDIT", os.path.join(root, "audit.jsonl"))
    # No model unless a test points the kernel at one (tests/harness/model_server.py): a
    # developer's own keys must neither be used nor sent anywhere by the tests.
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL",
                 "WARDEN_PROVIDER", "WARDEN_MODEL", "WARDEN_MAX_ATTEMPTS"):
        os.environ.pop(name, None)
    # connection files: a private runtime dir (works for users without a writable home too)
    os.environ.setdefault("JUPYTER_RUNTIME_DIR", os.path.join(root, "runtime"))
    home = os.path.expanduser("~")
    if not os.access(home, os.W_OK):  # e.g. nobody: tools that write under ~ need a place
        os.environ.setdefault("MPLCONFIGDIR", os.path.join(root, "matplotlib"))
        os.environ.setdefault("JUPYTER_CONFIG_DIR", os.path.join(root, "config"))
        os.environ.setdefault("JUPYTER_DATA_DIR", os.path.join(root, "data"))
        os.environ.setdefault("XDG_CACHE_HOME", os.path.join(root, "cache"))  # jedi
    ipython_dir = os.path.join(root, "ipython")
    os.makedirs(ipython_dir, exist_ok=True)
    os.environ.setdefault("IPYTHONDIR", ipython_dir)
    # ipykernel's debugger prints a warning about frozen modules on stderr at start.
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    atexit.register(shutil.rmtree, root, True)
    _ENV_ROOT = root
    return root


def artifacts_dir() -> Path:
    """Where tests keep what a person may want to look at afterwards (screenshots, screens):
    ``WARDEN_ARTIFACTS``, else ``tests/.artifacts`` (gitignored)."""
    path = Path(os.environ.get("WARDEN_ARTIFACTS") or REPO_ROOT / "tests" / ".artifacts")
    path.mkdir(parents=True, exist_ok=True)
    return path


def make_workdir(prefix: str = "nb-") -> str:
    """A fresh notebook directory that any uid can enter and read (0755, under the 0755 harness
    dir). pytest's tmp_path lies under a 0700 directory that, as root, a jail mapping the worker
    to another uid cannot enter; tests that are not about that use this instead."""
    root = setup_environment()
    path = tempfile.mkdtemp(prefix=prefix, dir=root)
    os.chmod(path, 0o755)
    return path
