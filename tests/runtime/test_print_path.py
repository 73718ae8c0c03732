"""The C print path (sandbox/runtime/warden_outbuf.c): print() and sys.stdout.write behave as
the builtin and a text stream do, in every case the fast path takes and every case it leaves to
Python, and fd-level output written before a print still comes before it."""

import json


def run_json(worker, code):
    """Run `code`, which prints (to stderr, so stdout stays what it tests) one JSON line."""
    r = worker.execute(code)
    assert r.status == "ok", r.of("error")
    return r, json.loads(r.stderr.strip().splitlines()[-1])


def test_print_writes_what_the_builtin_writes(worker):
    """Each call's output next to what the same call writes into a StringIO, which is the
    builtin's own path (our print leaves any file that is not a stream of ours to it)."""
    cases = ["()", "(1, 2.5, True, None, 'text', -0.0, 10**30)", "('a', 'b', sep='-', end='!\\n')",
             "('x', sep=None, end=None)", "('', '', '')", "('no newline', end='')",
             "('é 😀', '\\x00\\x1f')", "(Sub('subclass'), Obj())", "(*range(5), sep='')",
             "('flushed', flush=True)", "('f', flush=0)", "(1, 2, sep='', end='')"]
    code = ("import io, sys, json\n"
            "class Sub(str): pass\n"
            "class Obj:\n    def __str__(self): return 'obj-str'\n"
            "got = []\n")
    lines = []
    for case in cases:
        inner = case[1:-1]
        to_ref = "(%s%sfile=ref)" % (inner, ", " if inner else "")
        lines.append("print%s" % case)
        lines.append("ref = io.StringIO(); print%s; got.append(ref.getvalue())" % to_ref)
    code += "\n".join(lines) + "\nsys.stderr.write(json.dumps(got) + '\\n')\n"
    r, expected = run_json(worker, code)
    assert r.stdout == "".join(expected)
    assert "1 2.5 True None text -0.0 " + str(10**30) + "\n" in expected
    assert "subclass obj-str\n" in expected


def test_print_errors_are_the_builtins(worker):
    code = ("import sys, json\nerrs = []\n"
            "for call in (lambda: print('x', bogus=1), lambda: print('x', sep=1),\n"
            "             lambda: print('x', end=2), lambda: print(10**5000),\n"
            "             lambda: print('x', file=1)):\n"
            "    try:\n        call()\n    except Exception as e:\n"
            "        errs.append([type(e).__name__, str(e)])\n"
            "sys.stderr.write(json.dumps(errs) + '\\n')\n")
    r, errs = run_json(worker, code)
    names = [e[0] for e in errs]
    assert names == ["TypeError", "TypeError", "TypeError", "ValueError", "AttributeError"], errs
    assert "'bogus' is an invalid keyword argument for print()" in errs[0][1]
    assert "sep must be None or a string, not int" in errs[1][1]
    assert "end must be None or a string, not int" in errs[2][1]
    assert r.stdout == ""  # the builtin writes nothing of a call it refuses


def test_print_is_still_builtins_print(worker):
    code = ("import builtins, sys, json\n"
            "sys.stderr.write(json.dumps([print is builtins.print, print.__module__,\n"
            "    print.__name__, 'sep' in (print.__doc__ or ''), type(print).__name__]) + '\\n')\n")
    _, facts = run_json(worker, code)
    assert facts == [True, "builtins", "print", True, "builtin_function_or_method"]
    _, sig = run_json(worker, "import inspect, sys, json\n"
                              "sys.stderr.write(json.dumps(str(inspect.signature(print))) + '\\n')")
    assert sig == "(*args, sep=' ', end='\\n', file=None, flush=False)"


def test_stream_write_is_a_text_stream_write(worker):
    code = ("import sys, json\nout = []\n"
            "class Sub(str): pass\n"
            "out.append(sys.stdout.write('abc'))\n"
            "out.append(sys.stdout.write(''))\n"
            "out.append(sys.stdout.write(Sub('sub')))\n"
            "out.append(type(sys.stdout).write(sys.stdout, '!'))\n"
            "for bad in (b'bytes', 3, None):\n"
            "    try:\n        sys.stdout.write(bad)\n"
            "    except TypeError as e:\n        out.append(str(e))\n"
            "try:\n    sys.stdout.write('a', 'b')\nexcept TypeError as e:\n    out.append(str(e))\n"
            "sys.stdout.writelines(['l1 ', 'l2'])\n"
            "sys.stderr.write(json.dumps(out) + '\\n')\n")
    r, out = run_json(worker, code)
    assert r.stdout == "abcsub!l1 l2"
    assert out[:4] == [3, 0, 3, 1]
    assert out[4:7] == ["write() argument must be str, not bytes",
                        "write() argument must be str, not int",
                        "write() argument must be str, not NoneType"]
    assert "exactly one argument" in out[7]


def test_fd_level_output_before_each_print_stays_before_it(worker):
    """Every shape of the fast path (print of ints and strs, several arguments, to stderr, and
    sys.stdout.write) right after an fd-level write of the same stream: strict alternation."""
    code = ("import os, sys\n"
            "for i in range(300):\n"
            "    os.write(1, b'fd%d\\n' % i)\n"
            "    print(i)\n"
            "    os.write(1, b'fd-b\\n')\n"
            "    print('s', i, sep=':')\n"
            "    os.write(1, b'fd-c\\n')\n"
            "    sys.stdout.write('w\\n')\n"
            "    os.write(2, b'e-fd\\n')\n"
            "    print('e-py', file=sys.stderr)\n")
    r = worker.execute(code)
    assert r.status == "ok"
    assert r.stdout == "".join("fd%d\n%d\nfd-b\ns:%d\nfd-c\nw\n" % (i, i, i) for i in range(300))
    assert r.stderr == "e-fd\ne-py\n" * 300


def test_printf_from_c_before_print_stays_before_it(worker):
    code = ("import ctypes\nlibc = ctypes.CDLL(None)\n"
            "for i in range(50):\n"
            "    libc.printf(b'c%d\\n', i)\n    libc.fflush(None)\n    print(i)\n")
    r = worker.execute(code)
    assert r.stdout == "".join("c%d\n%d\n" % (i, i) for i in range(50))


def test_user_replaced_stdout_gets_the_prints(worker):
    code = ("import io, sys\nbuf = io.StringIO()\nold = sys.stdout\nsys.stdout = buf\n"
            "print('hidden', 1)\nsys.stdout = old\nprint('seen', repr(buf.getvalue()))\n")
    r = worker.execute(code)
    assert r.stdout == "seen 'hidden 1\\n'\n"


def test_a_stream_write_replaced_by_user_code_is_used(worker):
    code = ("import sys\ngot = []\nold = sys.stdout.write\n"
            "sys.stdout.write = lambda s: got.append(s) or len(s)\n"
            "print('captured', 2)\nsys.stdout.write = old\nprint(got)\n")
    r = worker.execute(code)
    assert r.stdout == "['captured', ' ', '2', '\\n']\n"


def test_threads_printing_at_once_lose_nothing(worker):
    code = ("import threading\n"
            "def run(t):\n    for i in range(2000):\n        print(t, i)\n"
            "ts = [threading.Thread(target=run, args=(t,)) for t in range(4)]\n"
            "for t in ts: t.start()\n"
            "for i in range(2000): print('main', i)\n"
            "for t in ts: t.join()\n")
    r = worker.execute(code)
    lines = r.stdout.splitlines()
    assert sorted(lines) == sorted(["%s %d" % (t, i) for t in list(range(4)) + ["main"]
                                    for i in range(2000)])
    for t in ["0", "1", "2", "3", "main"]:  # each thread's own lines in its order
        mine = [int(x.split()[1]) for x in lines if x.split()[0] == t]
        assert mine == list(range(2000))


def test_the_module_refuses_misuse_without_crashing(worker):
    """User code can import warden_outbuf too: misuse is an exception, never a crash."""
    code = ("import warden_outbuf, sys, json\nB = warden_outbuf.Buffer\nerrs = []\n"
            "def bare(): return B.__new__(B)\n"
            "for call in (lambda: bare().take(), lambda: bare().append('stdout', 'x'),\n"
            "             lambda: bare().mark_idle_if_empty(), lambda: bare().segments,\n"
            "             lambda: bare().writer('stdout', print),\n"
            "             lambda: B(1, 2, 3, 4, 5).append(1, 'x'),\n"
            "             lambda: B(1, 2, 3, 4, 5).append('stdout', b'x'),\n"
            "             lambda: B(1, 2, 3, 4, 5).writer(1, 2),\n"
            "             lambda: setattr(B(1, 2, 3, 4, 5), 'poll_fd', 'x'),\n"
            "             lambda: setattr(B(1, 2, 3, 4, 5), 'idle', 1 << 40),\n"
            "             lambda: B(1, 2, 3, 4, 5).writer('stdout', 3)('text'),\n"
            "             lambda: warden_outbuf.make_print(3)):\n"
            "    try:\n        call()\n        errs.append(None)\n"
            "    except Exception as e:\n        errs.append(type(e).__name__)\n"
            "sys.stderr.write(json.dumps(errs) + '\\n')\n")
    _, errs = run_json(worker, code)
    assert errs == ["RuntimeError"] * 5 + ["TypeError"] * 4 + ["OverflowError", "TypeError",
                                                                "TypeError"], errs
    r = worker.execute("print('still', 'fine')")
    assert r.stdout == "still fine\n"
