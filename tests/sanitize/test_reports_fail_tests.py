"""The harness's side of the sanitizer stage (tests/sanitize/stage.sh): a report that a kernel
writes while a test runs — here a fake one, as a sanitized kernel's log_path would write it —
fails that test, in a pytest run of its own (the conftest.py hook under test is the repository's,
reached through rootdir tests/)."""

import os
import subprocess
import sys
import textwrap

TESTS_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_inner(tmp_path, body, with_logs=True):
    logs = tmp_path / "logs"
    logs.mkdir()
    inner = tmp_path / "inner"
    inner.mkdir()
    # under tests/ so that tests/conftest.py (and its hook) applies; removed afterwards
    case = os.path.join(TESTS_DIR, "sanitize", f"_inner_{os.getpid()}_test.py")
    with open(case, "w") as f:
        f.write(textwrap.dedent(body))
    try:
        env = dict(os.environ, WARDEN_SANITIZER_LOGS=str(logs) if with_logs else "")
        return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                               case], cwd=TESTS_DIR, env=env, capture_output=True, text=True,
                              timeout=120)
    finally:
        os.unlink(case)


def test_a_report_written_during_a_test_fails_it(tmp_path):
    r = run_inner(tmp_path, """
        import os

        def test_quiet():
            pass

        def test_kernel_reports():
            path = os.path.join(os.environ["WARDEN_SANITIZER_LOGS"], "asan.4242")
            with open(path, "w") as f:
                f.write("==4242==ERROR: LeakSanitizer: detected memory leaks\\n")

        def test_after():
            pass
    """)
    out = r.stdout + r.stderr
    assert r.returncode != 0, out
    # the three tests pass; the teardown of the one during which the report came fails
    assert "3 passed, 1 error" in out, out
    assert "ERROR at teardown of test_kernel_reports" in out, out
    assert "LeakSanitizer: detected memory leaks" in out and "asan.4242" in out, out


def test_a_report_on_stderr_fails_the_test(tmp_path):
    """UBSan writes to stderr (gcc's libubsan ignores log_path), which a kernel shares with the
    test that started it."""
    r = run_inner(tmp_path, """
        import subprocess

        def test_kernel_says_ub():
            subprocess.run(["sh", "-c", "echo 'kernel/x.c:1:2: runtime error: signed integer "
                                        "overflow' >&2"])

        def test_after():
            pass
    """)
    out = r.stdout + r.stderr
    assert r.returncode != 0 and "2 passed, 1 error" in out, out
    assert "ERROR at teardown of test_kernel_says_ub" in out, out
    assert "sanitizer report on stderr:\nkernel/x.c:1:2: runtime error: signed integer" in out, out


def test_without_a_log_directory_nothing_changes(tmp_path):
    r = run_inner(tmp_path, """
        import os

        def test_quiet():
            with open(os.path.join(os.environ["TMP_LOGS"], "asan.4242"), "w") as f:
                f.write("not watched")
    """.replace('os.environ["TMP_LOGS"]', repr(str(tmp_path))), with_logs=False)
    assert r.returncode == 0 and "1 passed" in r.stdout, r.stdout + r.stderr
