"""complete, inspect and is_complete."""

import re

import pytest

ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture(scope="module")
def ns_worker(worker):
    r = worker.execute(
        "import os, collections\nmy_variable = 1\nmy_value = 2\n"
        "data = {'alpha': 1, 'beta': 2, 'al\"q': 3, 7: 'seven'}\n"
        "calls = []\ndef side_effect():\n    calls.append(1)\n    return os\n"
        "import pandas as pd\ndf = pd.DataFrame({'price': [1], 'profit': [2], 'size': [3]})\n"
        "def documented(a, b=2):\n    'Adds things.'\n    return a + b\n")
    assert r.status == "ok", r.error
    return worker


def matches(w, code, cursor=None):
    reply = w.complete(code, cursor)
    assert reply["metadata"] == {}
    return reply


def test_complete_names(ns_worker):
    r = matches(ns_worker, "my_v")
    assert r["matches"] == ["my_value", "my_variable"]
    assert (r["cursor_start"], r["cursor_end"]) == (0, 4)
    assert matches(ns_worker, "zi")["matches"] == ["zip"]
    assert "while" in matches(ns_worker, "whi")["matches"]
    assert matches(ns_worker, "x = 1")["matches"] == []


def test_complete_attributes(ns_worker):
    r = matches(ns_worker, "x = os.pa")
    assert "path" in r["matches"] and "pardir" in r["matches"]
    assert (r["cursor_start"], r["cursor_end"]) == (7, 9)
    assert "join" in matches(ns_worker, "os.path.jo")["matches"]
    assert "OrderedDict" in matches(ns_worker, "collections.Ord")["matches"]
    assert "__init__" not in matches(ns_worker, "os.path.")["matches"]
    assert "__name__" in matches(ns_worker, "os.__na")["matches"]


def test_complete_never_calls_user_code(ns_worker):
    assert matches(ns_worker, "side_effect().pa")["matches"] == []
    assert ns_worker.execute("len(calls)").result == {"text/plain": "0"}


def test_complete_dict_keys_and_columns(ns_worker):
    r = matches(ns_worker, "data['al")
    assert r["matches"] == ["al\"q", "alpha"] and r["cursor_start"] == len("data['")
    assert matches(ns_worker, 'data["al')["matches"] == ['al\\"q', "alpha"]
    assert set(matches(ns_worker, "data[")["matches"]) == {"'alpha'", "'beta'", "'al\"q'", "7"}
    assert matches(ns_worker, "df['pr")["matches"] == ["price", "profit"]


def test_complete_module_names(ns_worker):
    r = matches(ns_worker, "import jso")
    assert "json" in r["matches"] and r["cursor_start"] == 7
    assert all(m.startswith("jso") for m in r["matches"])
    assert "collections.abc" in matches(ns_worker, "import collections.ab")["matches"]
    assert "etree" in " ".join(matches(ns_worker, "from xml.e")["matches"])
    assert "path" in matches(ns_worker, "from os import pa")["matches"]
    # a package not imported yet: submodules and top-level names, read without importing it
    assert matches(ns_worker, "from tomllib import lo")["matches"] == ["load", "loads"]
    assert "_parser" in matches(ns_worker, "from tomllib import _")["matches"]
    assert ns_worker.execute("import sys\n'tomllib' in sys.modules").result[
        "text/plain"] == "False"


def test_complete_cursor_counts_code_points(ns_worker):
    code = "é = '日本'\nmy_v + 1"
    cursor = code.index("my_v") + 4
    r = matches(ns_worker, code, cursor)
    assert r["matches"] == ["my_value", "my_variable"]
    assert (r["cursor_start"], r["cursor_end"]) == (cursor - 4, cursor)


def inspect(w, code, cursor=None, detail=0):
    return w.request("inspect", code=code, cursor=len(code) if cursor is None else cursor,
                     detail=detail)


def test_inspect_function(ns_worker):
    reply = inspect(ns_worker, "documented")
    assert reply["found"] is True and reply["metadata"] == {}
    text = ANSI.sub("", reply["data"]["text/plain"])
    assert "Signature: documented(a, b=2)" in text
    assert "Docstring: Adds things." in text and "Type:" in text and "function" in text
    assert "Source:" not in text
    text = ANSI.sub("", inspect(ns_worker, "documented", detail=1)["data"]["text/plain"])
    assert "Source:" in text and "return a + b" in text


def test_inspect_inside_call_and_builtins(ns_worker):
    code = "print(my_variable, "
    text = ANSI.sub("", inspect(ns_worker, code)["data"]["text/plain"])
    assert "Signature: print(" in text or "Docstring:" in text
    assert "builtin_function_or_method" in text
    text = ANSI.sub("", inspect(ns_worker, "os.path.join", cursor=4)["data"]["text/plain"])
    assert "Type:" in text and "module" in text  # the name up to the cursor: os.path


def test_inspect_not_found(ns_worker):
    assert inspect(ns_worker, "no_such_name")["found"] is False
    assert inspect(ns_worker, "")["found"] is False
    assert inspect(ns_worker, "   ")["data"] == {}


SAMPLES = ["x = 1", "for i in range(3):", "for i in range(3):\n    print(i)",
           "for i in range(3):\n    print(i)\n", "for i in range(3):\n    print(i)\n\n",
           "x = (1,", "1)", "def f(:", "if x:\n    if y:", "'''doc", "x = 1 \\",
           "print('hello'", "class A:\n    pass\n", "  x = 1", "", "\n\n", "a = [\n  1,\n",
           "import os; os.", "x +", "@decorator", "try:\n    pass\nexcept:", "return 5",
           "x = 1\ny = 2", "if True:\n\tpass", "if True:\n    x = (1,\n", "1 2"]


def test_is_complete_matches_ipython(ns_worker):
    from IPython.core.inputtransformer2 import TransformerManager
    tm = TransformerManager()
    for code in SAMPLES:
        status, indent = tm.check_complete(code)
        reply = ns_worker.request("is_complete", code=code)
        assert reply["status"] == status, code
        if status == "incomplete" and indent is not None:
            assert reply["indent"] == " " * indent, code


def test_is_complete_samples(ns_worker):
    def check(code):
        r = ns_worker.request("is_complete", code=code)
        return r["status"], r["indent"]
    assert check("x = 1") == ("complete", "")
    assert check("for i in x:") == ("incomplete", "    ")
    assert check("for i in x:\n    if i:") == ("incomplete", "        ")
    assert check("x = (1,")[0] == "incomplete"
    assert check("for i in x:\n    pass")[0] == "incomplete"  # needs the blank line
    assert check("for i in x:\n    pass\n")[0] == "complete"
    assert check("1)")[0] == "invalid"
    assert check("1 2")[0] == "invalid"


def test_help_syntax_pages(ns_worker):
    """`name?` / `name??` send the description for the pager, not an output."""
    cell = ns_worker.execute("documented?")
    assert cell.status == "ok" and cell.displays == [] and cell.result is None
    pages = cell.of("page")
    assert len(pages) == 1
    text = ANSI.sub("", pages[0]["data"]["text/plain"])
    assert "Signature: documented(a, b=2)" in text and "Source:" not in text
    deep = ns_worker.execute("documented??").of("page")
    assert "return a + b" in ANSI.sub("", deep[0]["data"]["text/plain"])
    missing = ns_worker.execute("no_such_thing?")
    assert missing.of("page") == [] and "Object `no_such_thing` not found." in missing.stdout
    assert ns_worker.execute("x = 1 if True else 2  # not help?").of("page") == []
