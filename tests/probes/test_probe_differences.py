"""The list of the Landlock jail's differences (landlock_differences.py) is the list the probes
consult: every entry names a probe whose body asks differs() for that very name, and every
differs() call in the probes names an entry. No kernel: it holds in both modes."""

import ast
import glob
import os

from landlock_differences import DIFFERENCES

HERE = os.path.dirname(os.path.abspath(__file__))


def _differs_calls():
    """{probe function: set of names its body passes to differs()}, over tests/probes."""
    calls = {}
    for path in glob.glob(os.path.join(HERE, "test_probe_*.py")):
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
        assert probe in calls.get(probe, set()), f"{probe}: listed, but no probe of that name asks"


def test_every_consulted_difference_is_listed_and_explained():
    for fn, names in _differs_calls().items():
        for name in names:
            assert name in DIFFERENCES, f"{fn} asks differs({name!r}), which is not listed"
            assert name == fn, f"{fn} asks about another probe's difference, {name!r}"
    for probe, why in DIFFERENCES.items():
        assert len(why) > 40, f"{probe}: say what differs and why"
