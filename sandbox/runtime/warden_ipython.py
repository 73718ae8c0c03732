"""IPython's input syntax and magics, from IPython itself, loaded only when something needs them.

A cell is compiled as Python first, which is free. Only when that fails and the cell looks like
IPython (a line starting with %, ! or ?, `x = !cmd`, a trailing `?`) does the runtime ask
IPython's own input transformation (`transform_cell`: line and cell magics, shell escapes, help)
and run what it gives in the cell's namespace, like any cell. The shell those transformations call
(`get_ipython()`) is a real IPython InteractiveShell over the worker's namespace, made on first use
or as soon as anything imports IPython (so libraries that probe for it, pandas, matplotlib, tqdm,
find it), and in the warm standby. What a notebook kernel does differently from a terminal
(warden_magics.py) is routed to the worker: displays, the pager, `set_next_input`, `exit`,
matplotlib's inline backend, and package installs (the jail has no network).

Importing IPython costs about 0.3 s: a cell that uses none of this never pays it.
"""

__builtins__ = dict(__import__("builtins").__dict__)  # private copy: user code may replace builtins

# Lines IPython transforms and Python rejects: a magic, a shell escape or help at the start of a
# line (after indentation), `x = !cmd` / `x = %magic`, and help at the end of a line.
_SYNTAX_RE = r"(?m)^[ \t]*[%!?]|=[ \t]*[!%]|\?[ \t]*$"

_state = {"shell": None, "creating": False, "worker": None}


def looks_like_ipython(code):
    import re
    return re.search(_SYNTAX_RE, code) is not None


class Exit:
    """`exit` / `quit` (with or without parentheses, and exit(keep_kernel=True)): asks the client
    to leave, as IPython's ZMQExitAutocall does, instead of raising SystemExit in the jail."""

    def __call__(self, keep_kernel=False):
        _worker().ask_exit(bool(keep_kernel))

    def __repr__(self):
        return "Use exit() or Ctrl-D (i.e. EOF) to exit"


EXIT = Exit()


def bare_exit(code, ns):
    """True for a cell that is just `exit` or `quit` (`;` too) naming EXIT: IPython calls it."""
    name = code.strip().rstrip(";").strip()
    return name in ("exit", "quit") and ns.get(name) is EXIT


def configure(worker):
    """The worker the shell reports to (warden_worker.Worker): its executor, publisher, outbox."""
    _state["worker"] = worker


def _worker():
    return _state["worker"]


def shell_if_loaded():
    return _state["shell"]


def get_ipython():
    """The `get_ipython` of the cell namespace: the shell, made on first use."""
    return shell()


def shell():
    """The InteractiveShell over the worker's namespace (made, and IPython imported, on first use)."""
    if _state["shell"] is None and not _state["creating"]:
        _state["creating"] = True
        try:
            import warden_magics
            _state["shell"] = warden_magics.make_shell(_worker())
        except ImportError as exc:
            if exc.name not in ("IPython", "traitlets"):
                raise
            raise ImportError("this uses IPython syntax (magics, !commands, obj?), and the "
                              "worker's Python has no IPython: apt install python3-ipython") \
                from exc
        finally:
            _state["creating"] = False
    return _state["shell"]


def on_ipython_imported(module):
    """Import hook: IPython is loaded, so the shell costs little more; libraries that call
    IPython.get_ipython() right after importing it then find one."""
    if _worker() is not None:
        shell()


def transform(code):
    """IPython's transformation of a cell into Python (magics become get_ipython() calls)."""
    return shell().transform_cell(code)


def begin_cell(raw, silent, store_history):
    """IPython's pre-run events, when the shell exists (autoreload and friends hook into them)."""
    ip = _state["shell"]
    if ip is None:
        return None
    from IPython.core.interactiveshell import ExecutionInfo, ExecutionResult
    info = ExecutionInfo(raw, store_history, silent, True, None)
    result = ExecutionResult(info)
    _trigger(ip, "pre_execute")
    if not silent:
        _trigger(ip, "pre_run_cell", info)
    return result


def end_cell(result, silent, error):
    ip = _state["shell"]
    if ip is None or result is None:
        return
    result.error_in_exec = error
    _trigger(ip, "post_execute")
    if not silent:
        _trigger(ip, "post_run_cell", result)


def _trigger(ip, event, *args):
    try:
        ip.events.trigger(event, *args)
    except Exception as exc:  # a callback's failure is the callback's, not the cell's
        _worker()._log("warden: IPython %s callback failed: %r\n" % (event, exc))


def set_count(count):
    ip = _state["shell"]
    if ip is not None:
        ip.execution_count = count


def complete(code, cursor):
    """IPython's completion, for magics and shell escapes: {"matches", "cursor_start", ...}."""
    from IPython.core.completer import provisionalcompleter
    with provisionalcompleter():
        found = list(shell().Completer.completions(code, cursor))
    start = min((c.start for c in found), default=cursor)
    end = max((c.end for c in found), default=cursor)
    matches = []
    for c in found:
        text = code[start:c.start] + c.text  # all matches replace the same span
        if text not in matches:
            matches.append(text)
    return {"matches": matches, "cursor_start": start, "cursor_end": end}


def check_complete(code):
    """IPython's own is_complete rules, for code with magics or shell escapes (a %%bash cell wants
    its body before it is complete): (status, indent)."""
    ip = shell()
    status, spaces = ip.input_transformer_manager.check_complete(code)
    return status, " " * (spaces or 0)


def wants_ipython_completion(code, cursor):
    line = code[:cursor].rsplit("\n", 1)[-1].lstrip()
    return line.startswith(("%", "!")) or code.lstrip().startswith("%%")

