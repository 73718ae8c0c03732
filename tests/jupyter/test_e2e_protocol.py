"""End-to-end, protocol requests (through jupyter_client, tests/harness/): busy/idle around every
request, kernel_info, control and heartbeat while a cell runs, history, comm_info, is_complete,
complete, inspect, malformed or unsigned messages on the shell socket, and libcrypto mapped only
once a big message is signed."""

import re
import subprocess

import pytest
import zmq

from e2e_helpers import ok, result_text
from harness import IS_WARDEN, PYTHON_PREFIX, Kernel, python, strip_ansi, warden_bin


def apply_completion(code, reply, match):
    return code[:reply["cursor_start"]] + match + code[reply["cursor_end"]:]


# ---------------------------------------------------------------------------------------------
# Every request: busy and idle


def test_every_request_has_busy_and_idle(kernel):
    for msg_type, content in [("kernel_info_request", {}),
                              ("complete_request", {"code": python("pri"),
                                                    "cursor_pos": len(python("pri"))}),
                              ("is_complete_request", {"code": python("x = 1\n\n")}),
                              ("comm_info_request", {}),
                              ("inspect_request", {"code": python("len"),
                                                   "cursor_pos": len(python("len")),
                                                   "detail_level": 0}),
                              ("history_request", {"hist_access_type": "tail", "n": 1,
                                                   "output": False, "raw": True})]:
        rep = kernel.request(msg_type, content)
        states = [m["content"]["execution_state"] for m in rep.iopub if m["msg_type"] == "status"]
        assert states == ["busy", "idle"], (msg_type, states)
        assert rep.msg["msg_type"] == msg_type.replace("_request", "_reply")


# ---------------------------------------------------------------------------------------------
# kernel_info, control, heartbeat


@pytest.mark.parametrize("channel", ["shell", "control"])
def test_kernel_info(kernel, channel):
    rep = kernel.request("kernel_info_request", channel=channel)
    c = rep.content
    assert rep.msg["msg_type"] == "kernel_info_reply"
    assert c["status"] == "ok"
    assert re.fullmatch(r"5\.\d+", c["protocol_version"]), c
    assert c["implementation"] == ("warden" if IS_WARDEN else "ipython")
    assert isinstance(c["implementation_version"], str)
    li = c["language_info"]
    assert li["name"] == "python"
    assert li["file_extension"] == ".py"
    assert li["mimetype"] == "text/x-python"
    assert isinstance(c["banner"], str)
    states = [m["content"]["execution_state"] for m in rep.iopub if m["msg_type"] == "status"]
    assert states == ["busy", "idle"]


def test_control_and_heartbeat_answer_while_a_cell_runs(kernel):
    ex = kernel.execute(python("import time\nprint('sleeping', flush=True)\ntime.sleep(5)"))
    ex.wait_for(lambda r: "sleeping" in r.stdout, timeout=30, what="cell start")
    rep = kernel.request("kernel_info_request", channel="control", wait_idle=False)
    assert rep.content["status"] == "ok"
    assert ex.snapshot().reply is None, "execute finished before control was answered"

    info = kernel.connection_info
    ctx = zmq.Context.instance()
    hb = ctx.socket(zmq.REQ)
    hb.linger = 0
    try:
        hb.connect(f"{info['transport']}://{info['ip']}:{info['hb_port']}")
        hb.send(b"ping-while-busy")
        assert hb.poll(4000), "no heartbeat echo while a cell runs"
        assert hb.recv() == b"ping-while-busy"
    finally:
        hb.close()
    assert ex.snapshot().reply is None, "heartbeat only answered after the cell"

    r = ok(ex.result(timeout=30))
    assert rep.time < r.reply_time


# ---------------------------------------------------------------------------------------------
# history, comm_info, is_complete, complete, inspect


def test_history_tail_range_search(kernel):
    codes = [python(f"hist_value_{i} = {i} * 10") for i in range(3)]
    for code in codes:
        ok(kernel.run(code))
    ok(kernel.run(python("hist_value_1 + 2")))
    tail = kernel.history(hist_access_type="tail", n=4, output=False, raw=True)
    assert tail["status"] == "ok"
    entries = tail["history"]
    assert [e[2] for e in entries] == codes + [python("hist_value_1 + 2")], entries
    session, start = entries[0][0], entries[0][1]
    assert [e[1] for e in entries] == [start, start + 1, start + 2, start + 3]

    rng = kernel.history(hist_access_type="range", session=session, start=start,
                         stop=start + 2, output=False, raw=True)["history"]
    assert [e[2] for e in rng] == codes[:2], rng
    assert [e[1] for e in rng] == [start, start + 1]
    for e in rng:
        assert e[0] == session or (not IS_WARDEN and e[0] == 0), e

    found = kernel.history(hist_access_type="search", pattern="*hist_value_1*", n=10,
                           output=False, raw=True)["history"]
    assert codes[1] in [e[2] for e in found], found
    assert python("hist_value_1 + 2") in [e[2] for e in found], found
    assert codes[0] not in [e[2] for e in found]

    with_output = kernel.history(hist_access_type="tail", n=1, output=True, raw=True)["history"]
    assert len(with_output) == 1 and len(with_output[0][2]) == 2
    assert with_output[0][2][0] == python("hist_value_1 + 2")
    if IS_WARDEN:
        assert with_output[0][2][1] == "12"


def test_comm_info_is_empty(kernel):
    assert kernel.comm_info() == {"status": "ok", "comms": {}}
    c = kernel.comm_info(target_name="jupyter.widget")
    assert c["status"] == "ok" and c["comms"] == {}


def test_is_complete(kernel):
    p = PYTHON_PREFIX
    c = kernel.is_complete(p + "x = 1")
    assert c["status"] == "incomplete" and isinstance(c["indent"], str), c
    assert kernel.is_complete(p + "x = 1\n\n")["status"] == "complete"
    assert kernel.is_complete(p + "if True:\n    y = 2\n\n")["status"] == "complete"
    assert kernel.is_complete("%%python")["status"] == "incomplete"
    assert kernel.is_complete(python("1 = 2\n\n"))["status"] == "invalid"


def test_complete_names_attributes_and_cursor(kernel):
    ok(kernel.run(python("import os\nmy_variable_alpha = 1\nmy_variable_beta = 2")))
    code = python("os.pa")
    c = kernel.complete(code)
    assert c["status"] == "ok"
    assert c["cursor_end"] == len(code)
    assert any(apply_completion(code, c, m).endswith("os.path") for m in c["matches"]), c

    code = python("my_variable_")
    c = kernel.complete(code)
    done = {apply_completion(code, c, m) for m in c["matches"]}
    assert {python("my_variable_alpha"), python("my_variable_beta")} <= done, c

    # cursor in the middle of the cell
    code = python("my_variable_al + 1")
    pos = len(python("my_variable_al"))
    c = kernel.complete(code, cursor_pos=pos)
    assert any(apply_completion(code, c, m) == python("my_variable_alpha + 1")
               for m in c["matches"]), c

    # cursor positions count code points, not bytes
    ok(kernel.run(python("größe_wert = 3")))
    code = python("s = 'é€'\ngröß")
    c = kernel.complete(code)
    assert c["cursor_end"] == len(code), c
    assert any(apply_completion(code, c, m).endswith("größe_wert") for m in c["matches"]), c


def test_complete_module_name_in_import(kernel):
    code = python("import collec")
    c = kernel.complete(code)
    assert any(apply_completion(code, c, m).endswith("import collections")
               for m in c["matches"]), c


def test_inspect(kernel):
    ok(kernel.run(python("def documented(a, b=2):\n    '''Adds things up.'''\n    return a + b")))
    c = kernel.inspect(python("documented"))
    assert c["status"] == "ok" and c["found"] is True, c
    text = strip_ansi(c["data"]["text/plain"])
    assert "Adds things up." in text
    assert "(a, b=2)" in text
    c = kernel.inspect(python("no_such_name_anywhere"))
    assert c["status"] == "ok" and c["found"] is False, c


# ---------------------------------------------------------------------------------------------
# Hostile input on the shell socket


def test_malformed_and_unsigned_messages_are_ignored(kernel):
    info = kernel.connection_info
    session = kernel.client.session
    ctx = zmq.Context.instance()
    sock = ctx.socket(zmq.DEALER)
    sock.linger = 0
    sock.connect(f"{info['transport']}://{info['ip']}:{info['shell_port']}")

    def frames_for(msg_type, content, signature=None, mangle=None):
        msg = session.msg(msg_type, content)
        frames = session.serialize(msg)  # [delim, sig, header, parent, metadata, content]
        if mangle:
            frames = mangle(frames)
            frames[1] = session.sign(frames[2:6])
        if signature is not None:
            frames[1] = signature
        return frames

    def good_round_trip(only_reply):
        """Send a signed kernel_info_request; wait for its reply. With only_reply, any other
        reply arriving first (to a message that should have been dropped) fails the test."""
        good = session.msg("kernel_info_request", {})
        sock.send_multipart(session.serialize(good))
        while True:
            assert sock.poll(10000), "kernel stopped answering after malformed messages"
            _idents, reply = session.feed_identities(sock.recv_multipart())
            reply = session.deserialize(reply)
            if reply["parent_header"].get("msg_id") == good["header"]["msg_id"]:
                assert reply["msg_type"] == "kernel_info_reply"
                return
            assert not only_reply, f"the kernel answered a message it should have dropped: {reply}"

    forged_code = python("forged = 1")
    unsigned_or_garbage = [
        frames_for("execute_request", {"code": forged_code, "silent": False},
                   signature=b"0" * 64),
        frames_for("execute_request", {"code": forged_code, "silent": False}, signature=b""),
        frames_for("kernel_info_request", {}, signature=b"not hex at all"),
        frames_for("kernel_info_request", {}, signature=b"A" * 64),
        [b"garbage"],
        [b"<IDS|MSG>"],
        [b"<IDS|MSG>", b"x"],
        [b"\xff\xfe\x00" * 1000],
        [b"<IDS|MSG>", b"", b"{", b"}", b"[", b"]"],
        [b"<IDS|MSG>", b"1" * 64, b"x" * (1 << 20), b"{}", b"{}", b"{}"],
    ]
    # validly signed, but not a well-formed message: the kernel may drop or answer them, but
    # must survive and keep answering
    signed_malformed = [
        frames_for("kernel_info_request", {}, mangle=lambda f: f[:2] + [b"{not json"] + f[3:]),
        frames_for("kernel_info_request", {}, mangle=lambda f: f[:2] + [b"{}"] + f[3:]),
        frames_for("kernel_info_request", {}, mangle=lambda f: f[:2] + [b"[]"] + f[3:]),
        frames_for("kernel_info_request", {}, mangle=lambda f: f[:2] + [b"\xff\xfe"] + f[3:]),
        frames_for("kernel_info_request", {}, mangle=lambda f: f[:5] + [b"[1, 2]"]),
        frames_for("kernel_info_request", {}, mangle=lambda f: f[:5] + [b"null"]),
        frames_for("execute_request", {"code": 12345}),
        frames_for("execute_request", {}),
        frames_for("complete_request", {"code": python("x"), "cursor_pos": -5}),
        frames_for("complete_request", {"code": python("x"), "cursor_pos": 10 ** 9}),
        frames_for("inspect_request", {"code": None, "cursor_pos": "x"}),
        frames_for("history_request", {"hist_access_type": "nonsense"}),
        frames_for("no_such_request", {}),
    ]
    try:
        for frames in unsigned_or_garbage:
            sock.send_multipart(frames)
        good_round_trip(only_reply=True)
        for frames in signed_malformed:
            sock.send_multipart(frames)
        good_round_trip(only_reply=False)
    finally:
        sock.close()
    assert kernel.is_alive()
    # A barrier: the malformed executes above may end in errors that abort executes queued
    # behind them (stop_on_error); once this one is answered, all of them have been handled.
    kernel.run(python("1"))
    r = ok(kernel.run(python("'forged' in globals()")))
    assert result_text(r) == "False", "a message with a bad signature was executed"


# ---------------------------------------------------------------------------------------------
# Signing: HMAC over libcrypto's SHA-256, linked in (kernel/sign.c): no library is loaded for it


@pytest.mark.skipif(not IS_WARDEN, reason="warden's signing")
def test_small_and_big_messages_are_signed_and_no_library_is_loaded_for_it():
    def mapped(k):
        with open("/proc/%d/maps" % k.pid) as f:
            return "libcrypto.so" in f.read()

    needed = subprocess.run(["readelf", "-d", warden_bin()], capture_output=True,
                            text=True).stdout
    linked_shared = "libcrypto.so" in needed  # the sanitizer builds link it shared
    with Kernel() as k:
        for n in range(100):
            r = k.run(python("%d + 1" % n))
            assert result_text(r) == str(n + 1), r.summary()  # verified by the client
        assert mapped(k) == linked_shared
        r = k.run(python("print('x' * (8 << 20))"), timeout=120)
        assert r.stdout == "x" * (8 << 20) + "\n", r.summary()  # signed and verified by the client
        assert mapped(k) == linked_shared, "a library was loaded to sign a big message"


# ---------------------------------------------------------------------------------------------
# The main loop wakes on the sockets' notifications (kernel/kernel_loop.c): none may be lost


def test_a_burst_of_requests_on_shell_and_control_is_all_answered_while_a_cell_prints(kernel):
    # Sends and receives on a socket can take the notification its ZMQ_FD would have given: a
    # request arriving as the kernel publishes output must still be answered, at once.
    ex = kernel.execute(python("for i in range(3000):\n    print(i)"))
    sent = []
    for _ in range(100):
        sent.append(("shell", kernel.send("kernel_info_request", channel="shell")))
        sent.append(("control", kernel.send("kernel_info_request", channel="control")))
    for channel, msg_id in sent:
        reply = kernel.wait_reply(msg_id, timeout=30, wait_idle=False)
        assert reply.content["status"] == "ok", (channel, reply.content)
    r = ok(ex.result(60))
    assert r.stdout.splitlines() == [str(i) for i in range(3000)]
