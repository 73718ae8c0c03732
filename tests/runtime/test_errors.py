"""Errors, tracebacks, interrupts and robustness against hostile cells."""

import re

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def tb_text(r):
    return ANSI.sub("", "\n".join(r.error["traceback"]))


def test_traceback_points_at_cell_lines(fresh):
    fresh.execute("def f(x):\n    return 1 / x", count=4)
    r = fresh.execute("a = 1\nb = 0\nf(b)", count=5)
    assert r.status == "error" and r.frames[-1] == {"t": "done", "id": fresh.next_id,
                                                     "status": "error"}
    err = r.error
    assert (err["ename"], err["evalue"]) == ("ZeroDivisionError", "division by zero")
    text = tb_text(r)
    assert "Cell In[5], line 3" in text and "----> 3 f(b)" in text
    assert "Cell In[4], line 2, in f()" in text and "----> 2     return 1 / x" in text
    assert "warden_" not in text  # the runtime's own frames are stripped
    assert text.endswith("ZeroDivisionError: division by zero")


def test_syntax_error_shows_line_and_caret(worker):
    r = worker.execute("x = 1\ny = (1,\n", count=7007)
    assert r.error["ename"] == "SyntaxError"
    text = tb_text(r)
    assert "Cell In[7007], line 2" in text
    assert "    y = (1,\n        ^" in text
    assert "Traceback" not in text
    r = worker.execute("for x in 1:\nprint(x)")
    assert r.error["ename"] == "IndentationError"


def test_system_exit_is_an_error_not_an_exit(worker):
    r = worker.execute("import sys\nsys.exit(3)")
    assert (r.error["ename"], r.error["evalue"], r.status) == ("SystemExit", "3", "error")
    assert worker.execute("'alive'").result == {"text/plain": "'alive'"}


def test_exit_and_quit_ask_the_client_to_leave(worker):
    """IPython's exit / quit (ask_exit), never SystemExit inside the jail: with or without
    parentheses, and exit(keep_kernel=True)."""
    for code, keep in (("exit", False), ("quit", False), ("exit()", False), ("quit()", False),
                       ("exit(keep_kernel=True)", True), ("exit;", False)):
        r = worker.execute(code)
        assert r.status == "ok" and r.error is None, (code, r.frames)
        exits = r.of("exit")
        assert len(exits) == 1 and exits[0]["keep_kernel"] is keep, (code, r.frames)
        assert not r.of("result"), (code, r.frames)
    assert worker.execute("'alive'").result == {"text/plain": "'alive'"}
    # A name of the user's own is just that.
    r = worker.execute("exit = 5\nexit")
    assert r.result == {"text/plain": "5"} and not r.of("exit")


def test_chained_exceptions(worker):
    r = worker.execute("try:\n    {}['k']\nexcept KeyError as e:\n    raise ValueError('v') from e")
    text = tb_text(r)
    assert text.index("KeyError: 'k'") < text.index("direct cause") < text.index("ValueError: v")


def test_deep_recursion_is_survived_and_summarised(worker):
    r = worker.execute("def down(n):\n    return down(n + 1)\ndown(0)")
    assert r.error["ename"] == "RecursionError"
    assert len(r.error["traceback"]) < 20
    assert "repeated" in tb_text(r)
    assert worker.execute("sum(range(10))").result == {"text/plain": "45"}


def test_hostile_cells_do_not_break_the_runtime(fresh):
    hostile = [
        "import sys\nfor m in ('json', 'os', 'linecache', 'warden_display', 'warden_mpl',"
        " 'asyncio'):\n    sys.modules.pop(m, None)",
        "class E(Exception):\n    def __str__(self): raise RuntimeError('no str')\nraise E()",
        "import sys\ndel sys.modules['__main__']",
        "import signal\nsignal.signal(signal.SIGINT, signal.SIG_DFL)\n"
        "signal.signal(signal.SIGINT, signal.default_int_handler)",
        "import builtins\nsaved = dict(vars(builtins))\nbuiltins.print = None\n"
        "builtins.len = lambda x: 0\nbuiltins.isinstance = None\ndel builtins.repr\n"
        "builtins.compile = None",
    ]
    for code in hostile:
        r = fresh.execute(code)
        assert r.frames[-1]["t"] == "done"
    # With builtins broken, the runtime still runs cells, formats results and tracebacks.
    r = fresh.execute("import sys\nsys.stdout.write('out\\n')\ndisplay('d')\n40 + 2")
    assert (r.stdout, r.result, r.displays[0]["data"]) == (
        "out\n", {"text/plain": "42"}, {"text/plain": "'d'"})
    r = fresh.execute("x = 1\nraise KeyError('x')")
    assert r.error["ename"] == "KeyError" and "----> 2 raise KeyError('x')" in tb_text(r)
    fresh.execute("vars(builtins).update(saved)")
    r = fresh.execute("import pickle\nclass Q: pass\n"
                      "[type(pickle.loads(pickle.dumps(Q()))).__name__]")
    assert r.result == {"text/plain": "['Q']"}, r.error


def _interrupt_cell(w, code):
    eid = w.start_execute("print('started')\n" + code)
    w.wait_stream("started\n")  # the cell is running now
    w.interrupt()
    return w.collect(eid)


def test_interrupt_busy_loop(fresh):
    r = _interrupt_cell(fresh, "while True:\n    pass")
    assert (r.error["ename"], r.status) == ("KeyboardInterrupt", "error")
    assert "Cell In[" in tb_text(r)


def test_interrupt_sleep(fresh):
    r = _interrupt_cell(fresh, "import time\ntime.sleep(100)")
    assert (r.error["ename"], r.status) == ("KeyboardInterrupt", "error")


def test_interrupt_between_cells_is_ignored(fresh):
    for _ in range(3):
        fresh.interrupt()
    # SIGINT is delivered asynchronously; the next execute must still just work.
    assert fresh.execute("'fine'").result == {"text/plain": "'fine'"}
    assert fresh.proc.poll() is None


def test_interrupt_during_flood_of_output(fresh):
    r = _interrupt_cell(fresh, "while True:\n    print('x' * 100)")
    assert r.error["ename"] == "KeyboardInterrupt"
    assert fresh.execute("'ok after flood'").result == {"text/plain": "'ok after flood'"}


def test_fd_exhaustion_still_ends_cells(fresh):
    r = fresh.execute("import os, resource\n"
                      "resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))\n"
                      "held = []\ntry:\n    while True:\n        held.append(os.open('/dev/null', 0))\n"
                      "except OSError as e:\n    err = e\nos.close(1)\nprint('still here')\n"
                      "err.errno")
    assert r.status == "ok" and r.result == {"text/plain": "24"} and "still here" in r.stdout
    r = fresh.execute("'runs anyway'")  # fd 1 cannot be restored yet: no fd left
    assert r.result == {"text/plain": "'runs anyway'"}
    fresh.execute("for fd in held:\n    os.close(fd)")
    r = fresh.execute("os.system('echo recovered')\n'ok'")
    assert r.result == {"text/plain": "'ok'"} and r.stdout == "recovered\n"


CLEAN_UP = """import time
try:
    print('started', flush=True)
    time.sleep(100)
except KeyboardInterrupt:
    print('cleaning up', flush=True)
    t = time.monotonic()
    while time.monotonic() - t < 5:
        pass
    print('handled once')
    raise
"""


LANDS_LATE = """import gc
worker = next(o for o in gc.get_objects() if type(o).__name__ == 'Worker' and hasattr(o, '_user'))
plain_user, calls = worker._user, []
def landing_late(func):
    calls.append(func)
    if len(calls) != 2:  # 1: this cell's figures; 2: the next cell's compile
        return plain_user(func)
    del worker._user  # once
    def then_sigint():
        func()
        raise KeyboardInterrupt  # as the handler raises when the signal lands right after func
    return plain_user(then_sigint)
worker._user = landing_late
"""


def test_an_interrupt_landing_as_the_compile_ends_ends_the_cell(fresh):
    """A SIGINT that lands once the cell is compiled, before its code starts, is the cell's
    KeyboardInterrupt: the cell used to run on, and every interrupt after it was ignored (the
    request's one was spent), so the kernel restarted the worker."""
    assert fresh.execute(LANDS_LATE).status == "ok"
    r = fresh.execute("print('ran')")
    assert r.error and r.error["ename"] == "KeyboardInterrupt", (r.error, r.stdout)
    assert r.stdout == "", r.stdout
    assert fresh.execute("'next cell'").result == {"text/plain": "'next cell'"}


def test_copies_of_one_interrupt_raise_once(fresh):
    """VS Code's interrupt reaches the worker up to three times (directly, through the jail's
    init, from the kernel): a copy that arrives while the cell cleans up is not a second
    KeyboardInterrupt. The next request may be interrupted again."""
    eid = fresh.start_execute(CLEAN_UP)
    fresh.wait_stream("started\n")
    fresh.interrupt()
    fresh.wait_stream("cleaning up\n")
    fresh.interrupt()  # the copy
    r = fresh.collect(eid)
    assert r.error["ename"] == "KeyboardInterrupt", r.error
    assert r.stdout == "handled once\n", r.stdout
    r = _interrupt_cell(fresh, "import time\ntime.sleep(100)")
    assert r.error["ename"] == "KeyboardInterrupt", r.error


def test_an_interrupt_python_swallowed_is_raised_again(fresh):
    """A KeyboardInterrupt raised where Python cannot raise (a __del__, an at-fork callback
    such as logging's around the fork of a `!cmd`) is swallowed: it did not count, and the
    cell is interrupted at the next chance (here its print) instead of running on."""
    r = fresh.execute("import signal, time\n"
                      "class LandsInDel:\n"
                      "    def __del__(self):\n"
                      "        signal.raise_signal(signal.SIGINT)\n"
                      "        for _ in range(1000):\n"
                      "            pass\n"
                      "x = LandsInDel()\n"
                      "del x\n"
                      "print('swallowed')\n"
                      "time.sleep(100)\n")
    assert r.error and r.error["ename"] == "KeyboardInterrupt", r.error
    assert "Exception ignored" not in r.stderr, r.stderr
