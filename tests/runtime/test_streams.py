"""stdout/stderr capture: coalescing, live streaming, fd-level output, robustness."""

import os
import time

import pytest


def test_many_prints_are_coalesced_in_order(worker):
    r = worker.execute("for i in range(1000):\n    print(i)")
    streams = r.of("stream")
    assert r.stdout == "".join("%d\n" % i for i in range(1000))
    assert len(streams) < 20, len(streams)


def test_a_flood_past_the_output_limit_is_not_sent(worker):
    """The kernel gives the cell's output limit; the worker sends a little past it (so the
    kernel's truncation notice still comes), not the 64 MiB flood, and the cell goes on."""
    r = worker.execute("import sys\nblock = 'z' * 65535 + '\\n'\nfor _ in range(1024):\n"
                       "    sys.stdout.write(block)\nprint('x' * 10, file=sys.stderr)\n"
                       "raise ValueError('after the flood')", output=100_000)
    sent = len(r.stdout) + len(r.stderr)
    assert 100_000 < sent <= 100_000 + 2 * 65536, sent
    assert r.status == "error" and r.of("error")[0]["ename"] == "ValueError"
    r = worker.execute("print('next cell')", output=100_000)  # the budget is per cell
    assert r.stdout == "next cell\n"
    r = worker.execute("print('y' * 300_000)")  # no limit given: everything
    assert len(r.stdout) == 300_001


def test_stdout_stderr_interleaving_is_kept(worker):
    r = worker.execute("import sys\nprint('a')\nprint('b', file=sys.stderr)\nprint('c')")
    assert [(f["name"], f["text"]) for f in r.of("stream")] == [
        ("stdout", "a\n"), ("stderr", "b\n"), ("stdout", "c\n")]


def test_output_streams_live(fresh, tmp_path):
    """Each line shows up while the cell still runs (the cell waits on a FIFO we control)."""
    fifo = tmp_path / "go"
    os.mkfifo(fifo)
    eid = fresh.start_execute(
        "f = open(%r)\nfor i in range(3):\n    print('line', i)\n    f.readline()\nprint('end')"
        % str(fifo))
    with open(fifo, "w") as go:
        for i in range(3):
            t = time.monotonic()
            fresh.wait_stream("line %d\n" % i)
            latency = time.monotonic() - t
            assert latency < 1.0
            go.write("\n")
            go.flush()
    r = fresh.collect(eid)
    assert r.stdout == "end\n" and r.status == "ok"


def test_fd_level_output_is_captured_in_order(worker):
    r = worker.execute("import os, subprocess\nprint('py1')\nos.system('echo shell')\n"
                       "print('py2')\nsubprocess.run(['echo', 'child'])\nprint('py3')\n"
                       "os.system('echo to-stderr >&2')")
    assert r.stdout == "py1\nshell\npy2\nchild\npy3\n"
    assert r.stderr == "to-stderr\n"


def test_c_level_stdio_is_flushed(worker):
    r = worker.execute("import ctypes\nctypes.CDLL(None).printf(b'from C\\n')\n'after'")
    assert r.stdout == "from C\n"
    assert r.frames.index(r.of("stream")[0]) < r.frames.index(r.of("result")[0])


def test_binary_junk_becomes_replacement_chars(worker):
    r = worker.execute("import os, sys\nos.write(1, b'ok \\xff\\xfe\\x80 end\\n')\n"
                       "sys.stdout.buffer.write(b'buf \\xc3\\xa9 \\xff\\n')")
    assert r.status == "ok"
    assert "ok \ufffd\ufffd\ufffd end\n" in r.stdout
    assert "buf \u00e9 \ufffd\n" in r.stdout


def test_huge_output_is_split_and_complete(worker):
    r = worker.execute("print('x' * 3_000_000)")
    assert len(r.stdout) == 3_000_001
    assert max(len(f["text"]) for f in r.of("stream")) <= 64 * 1024


def test_user_rebinding_or_closing_streams(fresh):
    r = fresh.execute("import io, sys, os\nsys.stdout = io.StringIO()\nprint('lost')\n"
                      "os.system('echo fd-still-works')\nsys.stderr.close()\n42")
    assert r.stdout == "fd-still-works\n" and r.result == {"text/plain": "42"}
    r = fresh.execute("sys.stdout = sys.__stdout__\nprint('via __stdout__')\n"
                      "print('err', file=sys.stderr)")
    assert r.stdout == "via __stdout__\n" and r.stderr == "err\n"


def test_closed_fd1_is_restored_next_cell(fresh):
    r = fresh.execute("import os\nos.close(1)\n'closed'")
    assert r.status == "ok"
    r = fresh.execute("os.system('echo back')\n")
    assert r.stdout == "back\n"



def test_restored_fd1_keeps_fd_and_python_output_in_order(fresh):
    # drain() polls a cached set of pipes: the pipe made after a close must be in it, or fd-level
    # bytes written before a print would arrive after it.
    assert fresh.execute("import os\nos.close(1)\n'closed'").status == "ok"
    r = fresh.execute("os.system('echo back')\nfor i in range(3):\n"
                      "    os.write(1, b'fd%d ' % i)\n    print('py%d' % i)\n")
    assert r.stdout == "back\nfd0 py0\nfd1 py1\nfd2 py2\n"

def test_forked_child_output_reaches_parent(fresh):
    r = fresh.execute("import os\npid = os.fork()\nif pid == 0:\n    print('child says hi')\n"
                      "    display('child display is dropped')\n    os._exit(0)\n"
                      "os.waitpid(pid, 0)\nprint('parent')")
    assert r.status == "ok" and not r.displays
    assert "child says hi\n" in r.stdout and r.stdout.endswith("parent\n")
    assert fresh.execute("'channel intact'").result == {"text/plain": "'channel intact'"}


def test_background_thread_output(worker):
    r = worker.execute("import threading\nt = threading.Thread(target=print, args=('thr',))\n"
                       "t.start(); t.join()")
    assert r.stdout == "thr\n"


def test_warnings_go_to_stderr(worker):
    r = worker.execute("import warnings\nwarnings.warn('careful')")
    assert "UserWarning: careful" in r.stderr


@pytest.mark.parametrize("path", ["outbox", "stream"])
def test_drain_waits_for_a_read_in_flight(tmp_path, path):
    """The capture thread has taken bytes out of the pipe but not yet buffered them: a print in
    the main thread must wait for them (it drains first), or it overtakes fd-level output. Both
    ways in: Outbox.drain + write (Python), and an OutStream's write (warden_outbuf.c)."""
    import sys
    import threading
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "sandbox", "runtime"))
    import warden_streams

    class Channel:
        write_lock = threading.RLock()

    outbox = warden_streams.Outbox(Channel(), 2)
    target = os.open(os.devnull, os.O_WRONLY)  # the fd the capture takes over (not our stdout)
    cap = warden_streams.FdCapture(outbox, target, "stdout")
    inside, resume = threading.Event(), threading.Event()
    decode = cap.decoder.decode

    def slow_decode(data, final=False):  # the capture thread, between read and buffer
        inside.set()
        resume.wait(10)
        return decode(data, final)

    cap.decoder.decode = slow_decode
    outbox.captures = (cap,)
    cap.start()
    os.write(target, b"fd-level\n")
    assert inside.wait(10)
    cap.decoder.decode = decode
    if path == "outbox":
        printer = threading.Thread(target=lambda: (outbox.drain(),
                                                   outbox.write("stdout", "print\n")))
    else:
        stream = warden_streams.OutStream(outbox, "stdout", target)
        printer = threading.Thread(target=stream.write, args=("print\n",))
    printer.start()
    printer.join(0.3)  # without the wait, the print lands now, ahead of the bytes in flight
    resume.set()
    printer.join(10)
    text = "".join("".join(parts) for _, parts in outbox.segments)
    assert text == "fd-level\nprint\n"


def test_stream_frames_are_raw_text_after_a_json_head():
    """encode_stream, the flusher's encoder: a stream_raw frame whose text is the same as the
    stream frame encode() would make (lone surrogates '?', as there)."""
    import json
    import sys
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "sandbox", "runtime"))
    import warden_channel
    from wframes import decode
    texts = ["plain\n" * 1000, "", "\x00\x01\x1f \"quoted\" back\\slash /", "é € 😀 ünï",
             "lone \ud800 surrogate \udcff", "\t\r\n}{" * 3, "del \x7f"]
    for text in texts:
        for exec_id, name in ((1, "stdout"), (12345678901234, "stderr")):
            data = warden_channel.encode_stream(exec_id, name, text)
            general = warden_channel.encode({"t": "stream", "id": exec_id, "name": name,
                                             "text": text})
            assert int.from_bytes(data[:4], "big") == len(data) - 4
            assert data[4:].startswith(b'{"t":"stream_raw","id":%d,"name":"%s"}'
                                       % (exec_id, name.encode()))
            assert decode(data[4:]) == json.loads(general[4:]), text[:40]
