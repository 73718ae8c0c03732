"""input() and getpass() over the channel."""


def test_input_round_trip_ignores_other_replies(worker):
    eid = worker.start_execute("name = input('Who? ')\nprint('hello', name)", allow_stdin=True)
    req = worker.recv()
    assert req["t"] == "input" and req["id"] == eid
    assert (req["prompt"], req["password"]) == ("Who? ", False)
    iid = req["input_id"]
    worker.send({"t": "input_value", "id": eid, "input_id": iid + 1, "value": "wrong id"})
    worker.send({"t": "input_value", "id": eid + 100, "input_id": iid, "value": "wrong exec"})
    worker.send({"t": "complete", "id": 12345, "code": "x", "cursor": 1})  # dropped meanwhile
    worker.send({"t": "input_value", "id": eid, "input_id": iid, "value": "Ada"})
    r = worker.collect(eid)
    assert r.stdout == "hello Ada\n" and r.status == "ok"


def test_output_before_input_is_flushed(worker):
    eid = worker.start_execute("print('first')\ninput()", allow_stdin=True)
    assert worker.recv()["text"] == "first\n"
    req = worker.recv()
    assert req["t"] == "input" and req["prompt"] == ""
    worker.send({"t": "input_value", "id": eid, "input_id": req["input_id"], "value": "v"})
    assert worker.collect(eid).result == {"text/plain": "'v'"}


def test_getpass_is_a_password_request(worker):
    eid = worker.start_execute("import getpass\ngetpass.getpass()", allow_stdin=True)
    req = worker.recv()
    assert (req["t"], req["prompt"], req["password"]) == ("input", "Password: ", True)
    worker.send({"t": "input_value", "id": eid, "input_id": req["input_id"], "value": "s3cret"})
    assert worker.collect(eid).result == {"text/plain": "'s3cret'"}


def test_cancelled_input_raises_keyboard_interrupt(worker):
    eid = worker.start_execute("input('x')", allow_stdin=True)
    req = worker.recv()
    worker.send({"t": "input_value", "id": eid, "input_id": req["input_id"], "value": "",
                 "cancelled": True})
    r = worker.collect(eid)
    assert r.error["ename"] == "KeyboardInterrupt"


def test_input_without_stdin_is_a_clear_error(worker):
    r = worker.execute("input('x')", allow_stdin=False)
    assert r.error["ename"] == "StdinNotImplementedError"
    assert "frontend does not support input requests" in r.error["evalue"]
    r = worker.execute("import getpass\ngetpass.getpass()")
    assert r.error["ename"] == "StdinNotImplementedError"
