"""check and describe: what the agent learns from the worker without running a cell (the runtime
over its channel), and mask_secrets on its own."""

import os
import sys

import pytest

from wframes import REPO, RuntimeProc

sys.path.insert(0, os.path.join(REPO, "sandbox", "runtime"))
import warden_context  # noqa: E402

from warden_context import mask_secrets  # noqa: E402

OPENAI = "sk-proj-" + "Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z"
ANTHROPIC = "sk-ant-api03-" + "x7Yq2Lm9Pz4Rt6Vb1Nc8Kd3Fg5Hj0Ws"
AWS = "AKIAIOSFODNN7EXAMPLE"
GITHUB = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
GITHUB_PAT = "github_pat_" + "11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz"
SLACK = "xoxb-" + "123456789012-1234567890123-AbCdEfGhIjKl"
GOOGLE = "AIza" + "SyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q"
HEX = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
BASE64 = "dGhpcyBpcyBhIHNlY3JldCB2YWx1ZQ+/Zm9yIHRlc3Rpbmc9PQ=="


def check(w, code):
    reply = w.request("check", code=code)
    assert set(reply) == {"t", "id", "ok", "ename", "evalue", "lineno", "offset", "text"}, reply
    return reply


def describe(w, budget=20000, sample_rows=0, max_files=100):
    reply = w.request("describe", budget=budget, sample_rows=sample_rows, max_files=max_files)
    assert set(reply) == {"t", "id", "variables", "omitted", "libraries", "files",
                          "files_omitted", "cwd"}, reply
    return reply


def by_name(reply):
    return {v["name"]: v for v in reply["variables"]}


# ---- check -----------------------------------------------------------------------------------

def test_check_ok_and_errors(worker):
    assert check(worker, "x = 1\nx + 1")["ok"] is True
    assert check(worker, "")["ok"] is True
    r = check(worker, "x = 1\ny = (1,\nz = 3")
    assert (r["ok"], r["ename"], r["lineno"], r["text"]) == (False, "SyntaxError", 2, "y = (1,")
    assert r["offset"] == 5 and "never closed" in r["evalue"]
    r = check(worker, "if x:\nprint(1)")
    assert (r["ename"], r["lineno"], r["text"]) == ("IndentationError", 2, "print(1)")
    assert "expected an indented block" in r["evalue"]
    r = check(worker, "for i in x:\n    pass\n  y = 1\n")
    assert r["ename"] == "IndentationError" and r["lineno"] == 3
    r = check(worker, "print(1 +* 2)")
    try:
        compile("print(1 +* 2)", "x", "exec")
    except SyntaxError as exc:
        assert (r["ename"], r["lineno"], r["offset"]) == ("SyntaxError", 1, exc.offset)
    # compile errors beyond the parser's: the symbol table's, and NUL bytes
    r = check(worker, "return 5")
    assert (r["ok"], r["ename"], r["evalue"]) == (False, "SyntaxError", "'return' outside function")
    r = check(worker, "x = 1\0")
    assert (r["ok"], r["ename"], r["lineno"], r["offset"]) == (False, "ValueError", 0, 0)
    # top-level await is allowed in a cell
    assert check(worker, "import asyncio\nawait asyncio.sleep(0)")["ok"] is True


def test_check_ipython_syntax(worker):
    for code in ("%timeit x", "!ls", "x = !ls", "%%bash\necho hi", "len?", "x = 1\n%time y = x"):
        r = check(worker, code)
        assert r["ok"] is True, (code, r)
    # the magic's argument is the magic's business, at run time, as in a cell
    assert check(worker, "%time x = (")["ok"] is True
    r = check(worker, "files = !ls\ny = (")
    assert (r["ok"], r["ename"], r["lineno"], r["text"]) == (False, "SyntaxError", 2, "y = (")


def test_check_runs_nothing(worker, tmp_path):
    target = tmp_path / "x"
    eid = worker.start_execute("ran_before = 1")
    worker.collect(eid)
    assert check(worker, "open(%r, 'w')\nran_check = 1" % str(target))["ok"] is True
    assert not target.exists()
    # print(1) sends no stream: the next frame after the answer is the next execute's own
    assert check(worker, "print(1)")["ok"] is True
    assert check(worker, "import sys\nsys.stderr.write('x')\nx is 1")["ok"] is True  # no warning
    # nothing recorded either: no In entry, no name defined
    r = worker.execute("name = 'ran_' + 'check'\nname in globals(), any(name in c for c in In)")
    assert r.stdout == "" and r.stderr == "", r.frames
    assert r.result["text/plain"] == "(False, False)"


# ---- describe: the variables ------------------------------------------------------------------

SETUP = """
import os, pandas as pd, numpy as np
df = pd.DataFrame({'a': range(120), 'b': ['x'] * 120, 'c': [1.5] * 120})
prices = pd.Series([1.0, 2.5, 4.0], name='price')
arr = np.zeros((3, 4), dtype='float32')
items = [1, 'two', 3.0]
table = {'alpha': 1, 'beta': [2]}
letters = set('ab')
text = 'hello world ' * 20
count = 42
ratio = 0.5
flag = True
nothing = None
def add(a, b=2):
    '''Adds two numbers.

    More words.'''
    return a + b
class Point(dict):
    'A point on the plane.'
class Loud:
    def __repr__(self):
        raise RuntimeError('no repr for you')
    def __len__(self):
        raise RuntimeError('no len either')
loud = Loud()
"""


@pytest.fixture(scope="module")
def described(tmp_path_factory):
    with RuntimeProc(cwd=tmp_path_factory.mktemp("ctx")) as w:
        r = w.execute(SETUP)
        assert r.status == "ok", r.error
        yield w


def test_describe_details(described):
    v = by_name(describe(described))
    assert v["df"]["type"] == "pandas.DataFrame"
    assert v["df"]["detail"] == "DataFrame, 120 rows × 3 columns: a int64, b object, c float64"
    assert v["prices"]["type"] == "pandas.Series"
    assert v["prices"]["detail"] == "Series 'price', 3 values, dtype float64"
    assert v["arr"] == {"name": "arr", "type": "numpy.ndarray",
                        "detail": "ndarray, shape (3, 4), dtype float32"}
    assert v["items"]["detail"].startswith("list, 3 items: int, str, float")
    assert v["table"]["detail"].startswith("dict, 2 items: str -> int, list")
    assert v["letters"]["detail"].startswith("set, 2 items: str")
    assert v["text"]["detail"].startswith("str, 240 chars: 'hello world hello")
    assert len(v["text"]["detail"]) < 120
    assert (v["count"]["detail"], v["ratio"]["detail"]) == ("42", "0.5")
    assert (v["flag"]["detail"], v["nothing"]["detail"]) == ("True", "None")
    assert v["nothing"]["type"] == "NoneType"
    assert v["add"] == {"name": "add", "type": "function",
                        "detail": "add(a, b=2): Adds two numbers."}
    assert v["Point"]["detail"] == "Point(dict): A point on the plane."
    # a __repr__ (and __len__) that raises: the type name, and the rest is still described
    assert v["loud"] == {"name": "loud", "type": "Loud", "detail": "Loud"}


def test_describe_leaves_out(described):
    names = [v["name"] for v in describe(described)["variables"]]
    for name in ("os", "pd", "np", "In", "Out", "get_ipython", "exit", "quit", "display", "_",
                 "_i1", "__builtins__"):
        assert name not in names


def test_describe_newest_first(fresh):
    fresh.execute("first = 1\nsecond = 2")
    fresh.execute("third = 3")
    fresh.execute("first = 10")  # rebinding keeps a name's place
    assert [v["name"] for v in describe(fresh)["variables"]] == ["third", "second", "first"]
    # the hidden names of IPython's shell, once it exists, stay out too
    fresh.execute("%time fourth = 4")
    assert [v["name"] for v in describe(fresh)["variables"]] == ["fourth", "third", "second",
                                                                 "first"]


def test_describe_budget(fresh):
    fresh.execute("".join("v%d = %d\n" % (i, i) for i in range(10)))
    whole = describe(fresh)
    assert whole["omitted"] == 0 and len(whole["variables"]) == 10
    each = len("v9") + len("int") + len("9")
    r = describe(fresh, budget=each * 3)
    assert [v["name"] for v in r["variables"]] == ["v9", "v8", "v7"] and r["omitted"] == 7
    r = describe(fresh, budget=0)
    assert r["variables"] == [] and r["omitted"] == 10
    # out-of-range requests are clamped, not refused
    r = fresh.request("describe", budget=-5, sample_rows=99, max_files="x")
    assert r["variables"] == [] and r["omitted"] == 10


def test_describe_budget_drops_sample_rows_first(fresh):
    fresh.execute("import pandas as pd\ndf = pd.DataFrame({'a': range(50)})\nn = 1")
    full = by_name(describe(fresh, sample_rows=20))["df"]["detail"]
    header = "DataFrame, 50 rows × 1 column: a int64"
    assert full.startswith(header + "\n") and len(full) > 100
    budget = len("n") + len("int") + len("1") + len("df") + len("pandas.DataFrame") + len(header)
    r = describe(fresh, budget=budget, sample_rows=20)
    assert r["variables"][1] == {"name": "df", "type": "pandas.DataFrame", "detail": header}
    assert r["omitted"] == 0
    r = describe(fresh, budget=budget - 1, sample_rows=20)
    assert [v["name"] for v in r["variables"]] == ["n"] and r["omitted"] == 1


def test_describe_odd_names_and_types(fresh):
    fresh.execute("globals()['not an identifier'] = 1\nclass Odd:\n    pass\n"
                  "Odd.__qualname__ = 'Odd\\nLine'\nodd = Odd()")
    v = by_name(describe(fresh))
    assert "not an identifier" not in v and v["odd"]["type"] == "Odd?Line"


def test_describe_bounds_details(fresh):
    fresh.execute("import pandas as pd\n"
                  "wide = pd.DataFrame({'column_%d' % i: [i] * 30 for i in range(300)})\n"
                  "long_text = 'é' * 100000\nbig = list(range(10 ** 6))\nhuge = 10 ** 5000")
    v = by_name(describe(fresh, sample_rows=20))
    for entry in v.values():
        assert len(entry["detail"]) <= warden_context.DETAIL_MAX
        assert len(entry["detail"].encode()) <= warden_context.DETAIL_MAX_BYTES
    assert "… 250 more" in v["wide"]["detail"]
    assert v["big"]["detail"].startswith("list, 1000000 items: int; [0, 1, 2, 3, 4, 5, …]")
    assert v["huge"]["detail"] == "int of 16610 bits"


def test_describe_sample_rows(described):
    plain = by_name(describe(described, sample_rows=0))["df"]["detail"]
    assert "\n" not in plain
    shown = by_name(describe(described, sample_rows=3))
    lines = shown["df"]["detail"].split("\n")
    assert lines[0] == plain
    assert lines[1].split() == ["a", "b", "c"] and len(lines) == 5
    assert lines[4].split() == ["2", "2", "x", "1.5"]
    assert shown["prices"]["detail"].split("\n")[1:] == ["0    1.0", "1    2.5", "2    4.0"]


def test_describe_secrets(fresh):
    fresh.execute(
        "import pandas as pd\n"
        "api_key = 'short'\nGITHUB_TOKEN = 42\ndb_password = ['x']\nMySecret = object()\n"
        "aws_credentials = {}\n"
        "note = 'use %s for this'\n"
        "keys_df = pd.DataFrame({'user': ['ann', 'bob'], 'auth': ['%s', 'plain'],"
        " 'Secret_Key': ['a', 'b']})\n"
        "def call(url, auth=%r):\n    pass\n" % (OPENAI, GITHUB, AWS))
    v = by_name(describe(fresh, sample_rows=5))
    for name, kind in (("api_key", "str"), ("GITHUB_TOKEN", "int"), ("db_password", "list"),
                       ("MySecret", "object"), ("aws_credentials", "dict"),
                       ("keys_df", "pandas.DataFrame")):
        assert v[name] == {"name": name, "type": kind, "detail": warden_context.HIDDEN}
    assert v["note"]["detail"] == "str, %d chars: 'use [masked] for this'" % (len(OPENAI) + 13)
    assert "[masked]" in v["call"]["detail"] and AWS not in v["call"]["detail"]
    fresh.execute("frame = keys_df")
    detail = by_name(describe(fresh, sample_rows=5))["frame"]["detail"]
    assert GITHUB not in detail and "[masked]" in detail and "ann" in detail
    rows = detail.split("\n")[2:]
    assert len(rows) == 2 and all(row.endswith("(hidden)") for row in rows)  # Secret_Key's


def test_describe_never_imports_pandas(fresh):
    fresh.execute("x = [1, 2]\nclass DataFrame:\n    pass\nlooks_like_one = DataFrame()")
    v = by_name(describe(fresh, sample_rows=3))
    assert v["looks_like_one"]["type"] == "DataFrame" and v["x"]["detail"].startswith("list")
    r = fresh.execute("import sys\n'pandas' in sys.modules, 'numpy' in sys.modules")
    assert r.result["text/plain"] == "(False, False)"


def test_describe_interrupted_by_nothing_else(fresh):
    """A description between cells leaves the worker as it was: the next cell runs normally."""
    fresh.execute("class Slow:\n    def __repr__(self):\n        return 'slow'\ns = Slow()")
    assert by_name(describe(fresh))["s"]["detail"] == "Slow: slow"
    assert fresh.execute("1 + 1").result == {"text/plain": "2"}


# ---- describe: libraries and files ------------------------------------------------------------

def test_describe_libraries(described):
    libs = describe(described)["libraries"]
    assert libs[:2] == ["numpy", "pandas"]
    assert len(libs) == len(set(libs)) and len(libs) <= warden_context.MAX_LIBRARIES
    for plumbing in ("pip", "setuptools", "pkg_resources", "traitlets", "ipykernel", "zmq",
                     "jupyter_client", "json", "os"):
        assert plumbing not in libs
    assert all(name.isidentifier() for name in libs)


def test_describe_files(tmp_path):
    (tmp_path / "b.csv").write_text("x,y\n1,2\n")
    (tmp_path / "a.txt").write_text("hello")
    (tmp_path / "data").mkdir()
    (tmp_path / ".hidden").write_text("no")
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    with RuntimeProc(cwd=tmp_path) as w:
        r = describe(w, max_files=10)
        assert r["cwd"] == str(tmp_path)
        assert r["files"] == [{"name": "a.txt", "size": 5, "dir": False},
                              {"name": "b.csv", "size": 8, "dir": False},
                              {"name": "dangling", "size": 0, "dir": False},
                              {"name": "data", "size": 0, "dir": True}]
        assert r["files_omitted"] == 0
        r = describe(w, max_files=2)
        assert [f["name"] for f in r["files"]] == ["a.txt", "b.csv"] and r["files_omitted"] == 2
        r = describe(w, max_files=0)
        assert r["files"] == [] and r["files_omitted"] == 4


# ---- mask_secrets -----------------------------------------------------------------------------

@pytest.mark.parametrize("secret", [OPENAI, ANTHROPIC, "sk-" + "a" * 20 + "1", AWS, GITHUB,
                                    "gho_" + "Z" * 36, "ghs_" + "9" * 36, GITHUB_PAT, SLACK,
                                    "xoxp-1234567890-abc", GOOGLE, HEX, HEX.upper(), BASE64,
                                    "a1" * 16, "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc"])
def test_mask_secrets_masks(secret):
    for text, want in ((secret, "[masked]"), ("key: %s." % secret, "key: [masked]."),
                       ("'%s'" % secret, "'[masked]'"), ("x=%s\ny" % secret, "x=[masked]\ny"),
                       ("(%s, %s)" % (secret, secret), "([masked], [masked])")):
        assert mask_secrets(text) == want, text


@pytest.mark.parametrize("text", [
    "hello world", "", "sk-short", "AKIA1234", "ghp_short", "xoxb-1", "AIzaShort",
    "a" * 40, "1234567890" * 4, "the_quick_brown_fox_jumps_over_the_lazy_dog",
    "/usr/lib/python3/dist-packages/numpy/core", "data/raw/2023/sales_q1.csv",
    "DataFrame, 120 rows × 3 columns: a int64", "task-1234 desk-5678",
    "value hidden [masked] stays", "3.14159265358979323846264338327950288",
])
def test_mask_secrets_keeps(text):
    assert mask_secrets(text) == text


def test_mask_secrets_more_shapes():
    assert mask_secrets("postgres://ann:hunter2@db.example/sales") == \
        "postgres://ann:[masked]@db.example/sales"
    pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nabc\n-----END RSA PRIVATE KEY-----"
    assert mask_secrets("key:\n%s\nafter" % pem) == "key:\n[masked]\nafter"
    assert mask_secrets("-----BEGIN PRIVATE KEY-----\nMIIE") == "[masked]"  # cut short
    jwt = ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0."
           "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U")
    assert mask_secrets("Bearer %s" % jwt) == "Bearer [masked]"
    assert mask_secrets(None) is None


def test_mask_secrets_cut_never_leaves_a_stub():
    """A key straddling the place a detail is cut is masked whole, not shown in part."""
    text = "x" * 70 + " " + OPENAI + " tail"
    clipped = warden_context._clip(text, 90)
    assert "sk-" not in clipped and clipped.startswith("x" * 70 + " [masked]")
