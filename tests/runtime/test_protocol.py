"""Frame protocol, start-up, execution semantics."""

import json
import statistics
import time

from wframes import RuntimeProc, encode


def test_ready_is_lean(fresh):
    assert fresh.ready == {"t": "ready", "python": "3.11.2"}
    heavy = ("numpy", "pandas", "matplotlib", "IPython", "asyncio", "inspect", "traceback",
             "re", "json", "ast", "linecache", "tokenize", "signal", "enum")
    r = fresh.execute("import sys\nsorted(m for m in %r if m in sys.modules)" % (heavy,))
    assert r.result["text/plain"] == "[]"  # nor after a first cell: it needs none of them
    print("lean start-up to ready: %.1f ms" % (fresh.startup_s * 1000))


def test_state_persists_and_result(worker):
    assert worker.execute("x = 20").frames == [{"t": "done", "id": worker.next_id,
                                                "status": "ok"}]
    r = worker.execute("x += 1\nx * 2")
    assert r.result == {"text/plain": "42"}
    assert r.of("result")[0]["metadata"] == {}
    assert r.kinds == ["result", "done"]


def test_no_result_for_semicolon_silent_none_or_statement(worker):
    assert worker.execute("1 + 1;").result is None
    assert worker.execute("1 + 1  ;  # comment").result is None
    assert worker.execute("1 + 1", silent=True).result is None
    assert worker.execute("None").result is None
    assert worker.execute("y = 3").result is None
    assert worker.execute("'a;b'").result == {"text/plain": "'a;b'"}
    assert worker.execute("print('x');1").result == {"text/plain": "1"}


def test_history_names_like_ipython(fresh):
    fresh.execute("10", count=1)
    fresh.execute("20", count=2)
    fresh.execute("30", count=3)
    r = fresh.execute("(_, __, ___, Out[2], _1, In[2], _i, _ii, _i4 == In[4])", count=4)
    # _i is the cell before this one, as in IPython (tests/jupyter/test_ipython_syntax.py checks
    # against ipykernel)
    assert r.result["text/plain"] == "(30, 20, 10, 20, 10, '20', '30', '20', True)"
    fresh.execute("_ = 'mine'", count=5)
    fresh.execute("99", count=6)
    assert fresh.execute("_", count=7).result["text/plain"] == "'mine'"  # user binding wins


def test_main_module_pickles_user_classes(worker):
    r = worker.execute("import pickle, sys\nclass P:\n    def __init__(self): self.v = 7\n"
                       "(pickle.loads(pickle.dumps(P())).v, __name__, "
                       "sys.modules['__main__'].P is P)")
    assert r.result["text/plain"] == "(7, '__main__', True)", r.error


def test_top_level_await(worker):
    r = worker.execute("import asyncio\nasync def f(x):\n    await asyncio.sleep(0)\n"
                       "    return x * 2\nv = await f(4)\nawait f(v)")
    assert r.result == {"text/plain": "16"}, r.error
    assert worker.execute("v").result == {"text/plain": "8"}


def test_cwd_first_on_sys_path(fresh, tmp_path):
    (tmp_path / "mymodule.py").write_text("VALUE = 'from the notebook dir'\n")
    r = fresh.execute("import mymodule, sys\n(mymodule.VALUE, sys.path[0])")
    assert r.result["text/plain"] == "('from the notebook dir', '')"


def test_malformed_frames_are_ignored(fresh):
    bad = [b"\x00\x00\x00\x00",                       # empty frame
           encode([1, 2]), encode({"x": 1}), encode({"t": 5}),
           encode({"t": "nope", "id": 1}),
           encode({"t": "execute", "code": "print('no id')"}),
           encode({"t": "execute", "id": "1", "code": "print('str id')"}),
           encode({"t": "execute", "id": 1, "code": 5}),
           encode({"t": "input_value", "id": 1, "input_id": 1, "value": "stray"}),
           b"\x00\x00\x00\x05{{{{{",
           b"\x00\x00\x00\x04\xff\xfe\xfd\xfc"]
    for data in bad:
        fresh.send_raw(data)
    r = fresh.execute("'still alive'")
    assert r.result == {"text/plain": "'still alive'"}
    assert r.kinds == ["result", "done"]


def test_oversized_frame_is_skipped(fresh):
    n = 32 * 1024 * 1024 + 1
    fresh.send_raw(n.to_bytes(4, "big") + b" " * n)
    assert fresh.execute("1").result == {"text/plain": "1"}


def test_eof_exits_promptly():
    w = RuntimeProc().start()
    w.execute("import threading, time\n"
              "threading.Thread(target=time.sleep, args=(60,)).start()")  # non-daemon thread
    w.sock.close()
    assert w.proc.wait(timeout=5) == 0


def test_eof_during_a_busy_cell_exits_promptly():
    w = RuntimeProc().start()
    w.start_execute("print('busy')\nwhile True:\n    pass")
    w.wait_stream("busy\n")
    w.sock.close()
    assert w.proc.wait(timeout=5) == 0


def test_frames_are_valid_json_even_for_odd_values(worker):
    r = worker.execute("class J:\n    def _repr_json_(self): return {'a': float('nan')}\n"
                       "print('\\udcff lone surrogate')\nJ()")
    assert r.status == "ok"
    assert "application/json" not in r.result  # NaN is not JSON: skipped, noted on stderr
    assert "_repr_json_" in r.stderr
    assert "lone surrogate" in r.stdout


def test_round_trip_of_one_plus_one(worker):
    times = []
    for _ in range(50):
        t = time.perf_counter()
        r = worker.execute("1+1")
        times.append(time.perf_counter() - t)
        assert r.result == {"text/plain": "2"}
    median = statistics.median(times)
    print("median 1+1 round trip: %.3f ms" % (median * 1000))
    assert median < 0.05


def test_silent_count_reuse_keeps_older_cell_source(fresh):
    fresh.execute("def f():\n    raise ValueError('boom')", count=1)
    fresh.execute("pass\npass\npass", count=1, silent=True)
    r = fresh.execute("f()", count=2)
    text = "\n".join(r.error["traceback"])
    assert "raise ValueError('boom')" in text


def test_unknown_fields_and_defaults(worker):
    worker.send({"t": "execute", "id": 999, "code": "'defaults'", "extra": [1]})
    frames = [worker.recv(), worker.recv()]
    assert frames[0]["t"] == "result" and frames[1] == {"t": "done", "id": 999, "status": "ok"}
    json.dumps(frames)
