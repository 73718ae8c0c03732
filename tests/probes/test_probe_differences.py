"""The list of the Landlock jail's differences (harness/landlock_differences.py) is the list the
tests consult: every entry names a test (a probe, an end-to-end Jupyter test or an agent test)
whose body asks differs() for that very name, and every differs() call in those suites names an
entry. No kernel: it holds in both modes."""

import ast
import glob
import os

from harness.landlock_differences import DIFFERENCES

TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SUITES = ("probes/test_probe_*.py", "jupyter/test_*.py", "agent/test_*.py")


def _differs_calls():
    """{test function: set of names its body passes to differs()}, over SUITES."""
    calls = {}
    paths = [p for suite in SUITES for p in glob.glob(os.path.join(TESTS, suite))]
    for path in paths:
        tree = ast.parse(open(path).read(), path)
        for fn in ast.walk(tree):
            if not isinstance(fn, ast.FunctionDef):
                continue
            names = {node.args[0].value for node in ast.walk(fn)
                     if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "differs"
                     and node.args and isinstance(node.args[0], ast.Constant)}
            if names:
                calls[fn.name] = names
    return calls


def test_every_difference_is_consulted_by_its_probe():
    calls = _differs_calls()
    for probe in DIFFERENCES:
        assert probe in calls.get(probe, set()), f"{probe}: listed, but no test of that name asks"


def test_every_consulted_difference_is_listed_and_explained():
    for fn, names in _differs_calls().items():
        for name in names:
            assert name in DIFFERENCES, f"{fn} asks differs({name!r}), which is not listed"
            assert name == fn, f"{fn} asks about another probe's difference, {name!r}"
    for probe, why in DIFFERENCES.items():
        assert len(why) > 40, f"{probe}: say what differs and why"
