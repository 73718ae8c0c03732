"""End-to-end, stdin (through jupyter_client, tests/harness/): input() and getpass round trips,
and input() in a cell that does not allow stdin."""

from e2e_helpers import ok, result_text
from harness import python


def test_input_round_trip(kernel):
    r = ok(kernel.run(python("name = input('Your name: ')\nprint('hello ' + name)"),
                      allow_stdin=True, stdin=["Ada"]))
    assert r.input_requests == [{"prompt": "Your name: ", "password": False}]
    assert "hello Ada" in r.stdout
    assert result_text(ok(kernel.run(python("name")))) == "'Ada'"


def test_two_inputs_in_one_cell(kernel):
    r = ok(kernel.run(python("a = input('a? ')\nb = input('b? ')\nprint(a + b)"),
                      allow_stdin=True, stdin=["12", "34"]))
    assert [q["prompt"] for q in r.input_requests] == ["a? ", "b? "]
    assert "1234" in r.stdout


def test_input_without_allow_stdin_is_a_clear_error(kernel):
    r = kernel.run(python("input('prompt: ')"), allow_stdin=False, timeout=30)
    assert r.status == "error", r.summary()
    text = r.error_text.lower()
    assert "stdin" in text or "input" in text, text
    assert r.input_requests == []
    ok(kernel.run(python("1")))


def test_getpass(kernel):
    r = ok(kernel.run(python("import getpass\npw = getpass.getpass('Password: ')\n"
                             "print(len(pw))"), allow_stdin=True, stdin=["s3cret"]))
    assert len(r.input_requests) == 1
    assert r.input_requests[0]["prompt"] == "Password: "
    assert r.input_requests[0]["password"] is True
    assert r.stdout.strip().endswith("6"), r.summary()
    assert "s3cret" not in r.stdout + r.stderr
