"""Running cells like IPython.

The namespace is the dict of a real module installed as sys.modules["__main__"], so classes and
functions defined in cells pickle. A cell is parsed with ast; all statements but a final
expression run as one module, the final expression is evaluated on its own and its value is the
cell's result (unless the source ends with ';', the execute is silent, or the value is None).
Top-level await works: code compiled with PyCF_ALLOW_TOP_LEVEL_AWAIT that turns out to be a
coroutine runs on a persistent event loop.
"""

__builtins__ = dict(__import__("builtins").__dict__)  # private copy: user code may replace builtins

import _ast  # the node classes without the ast module's helpers (3 ms of start-up)
import builtins
import sys
import types

CELL_PREFIX = "Cell In["
# Cell file name -> source lines. linecache gets them too once something imports it (an import
# hook calls fill_linecache), so tracebacks and inspect.getsource() find cell code; importing
# linecache ourselves would cost start-up time (it pulls in tokenize and re).
CELLS = {}

_CO_COROUTINE = 0x80
_FLAGS = _ast.PyCF_ALLOW_TOP_LEVEL_AWAIT


def make_main_module():
    main = types.ModuleType("__main__", None)
    ns = main.__dict__
    ns.update({"__builtins__": builtins, "__package__": None, "__spec__": None,
               "__loader__": None, "In": [""], "Out": {}, "_": "", "__": "", "___": "",
               "_i": "", "_ii": "", "_iii": ""})
    return main


class Executor:
    def __init__(self, main_module):
        self.main = main_module
        self.ns = main_module.__dict__
        self._loop = None
        self._out_names = {}   # "_", "__", "___" -> value we last stored (user rebinding wins)
        self._count = 0        # of the cell running now
        self._current_input = ""

    def ensure_main(self):
        # user code may have replaced or deleted it; pickling needs it
        sys.modules["__main__"] = self.main

    # ---- compilation ---------------------------------------------------------------------
    def register_source(self, code, count):
        """Record the cell's source; returns its file name ("Cell In[N]")."""
        lines = _lines(code)
        self._count = count
        name = "%s%s]" % (CELL_PREFIX, count)
        n = 1
        while name in CELLS and CELLS[name] != lines:
            n += 1  # the same count reused (store_history=False): keep the older source intact
            name = "%s%s]-%d" % (CELL_PREFIX, count, n)
        CELLS[name] = lines
        linecache = sys.modules.get("linecache")
        if linecache is not None:
            _put(linecache, name, lines)
        return name

    def compile_cell(self, code, filename):
        """(body code object or None, last-expression code object or None). Raises SyntaxError."""
        # compile() rather than ast.parse(): ours is the private builtin, immune to user code
        tree = compile(code, filename, "exec", _ast.PyCF_ONLY_AST, True)
        last = None
        if tree.body and isinstance(tree.body[-1], _ast.Expr) and not _ends_with_semicolon(
                code, tree.body[-1]):
            last = _ast.Expression(tree.body.pop().value)
        body = compile(tree, filename, "exec", _FLAGS, True) if tree.body else None
        if last is not None:
            last = compile(last, filename, "eval", _FLAGS, True)
        return body, last

    # ---- running -------------------------------------------------------------------------
    def run(self, body, last):
        """Run compiled cell parts in the namespace; returns the final expression's value."""
        if body is not None:
            self._run_code(body)
        if last is not None:
            return self._run_code(last)
        return None

    def _run_code(self, code):
        value = eval(code, self.ns)
        if code.co_flags & _CO_COROUTINE:
            value = self._run_coroutine(value)
        return value

    def _run_coroutine(self, coro):
        import asyncio
        if self._loop is None or self._loop.is_closed():
            self._loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self._loop)
        task = self._loop.create_task(coro)
        try:
            return self._loop.run_until_complete(task)
        except BaseException:
            task.cancel()  # e.g. KeyboardInterrupt: the task must not resume in a later cell
            raise

    def nested_count(self):
        """The count a cell run from inside the running one is named by (its own)."""
        return self._count

    # ---- history, like IPython -----------------------------------------------------------
    def record_input(self, code, count):
        ns = self.ns
        hist = ns.get("In")
        if isinstance(hist, list) and count >= 0 and count - len(hist) < 100000:
            while len(hist) < count:
                hist.append("")
            if len(hist) == count:
                hist.append(code)
            else:
                hist[count] = code
        # As IPython's history manager: while a cell runs, _i is the cell before it (_iN is the
        # cell itself).
        ns["_iii"], ns["_ii"], ns["_i"] = ns.get("_ii", ""), ns.get("_i", ""), self._current_input
        self._current_input = ns["_i%d" % count] = code

    def record_output(self, value, count):
        ns = self.ns
        out = ns.get("Out")
        if isinstance(out, dict):
            out[count] = value
        ns["_%d" % count] = value
        prev = self._out_names
        # Shift _ -> __ -> ___ unless the user rebound a name (then it is theirs).
        new = {"___": prev.get("__", ""), "__": prev.get("_", ""), "_": value}
        for name, val in new.items():
            if name not in prev or ns.get(name, prev.get(name)) is prev.get(name):
                ns[name] = val
        self._out_names = new

    def forget_outputs(self):
        """After the namespace was emptied (%reset): _, __, ___ and _i start again."""
        self._out_names = {}
        self._current_input = ""


def fill_linecache(linecache):
    """Import hook for linecache: it learns every cell registered so far."""
    for name, lines in CELLS.items():
        _put(linecache, name, lines)


def _put(linecache, name, lines):
    # mtime None: linecache.checkcache() never drops the entry
    linecache.cache[name] = (sum(map(len, lines)), None, lines, name)


def _lines(code):
    lines = code.splitlines(True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    return lines


def _ends_with_semicolon(code, node):
    """True when the text after the last statement starts with ';' (IPython's output-hiding)."""
    lines = code.splitlines(True)
    line = lines[node.end_lineno - 1]
    # ast offsets are UTF-8 byte offsets
    rest = line.encode("utf-8")[node.end_col_offset:].decode("utf-8", "replace")
    tail = rest + "".join(lines[node.end_lineno:])
    for raw in tail.splitlines():
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        return stripped.startswith(";")
    return False
