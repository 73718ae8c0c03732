"""Exception -> (ename, evalue, traceback), in IPython's layout.

Cells are compiled under file names "Cell In[N]" whose source the runtime keeps, so every frame of
user code can show its lines. The runtime's own frames (and the asyncio runner, for top-level
await) are stripped: the traceback starts at the cell.
"""

__builtins__ = dict(__import__("builtins").__dict__)  # private copy: user code may replace builtins

import os

from warden_exec import CELL_PREFIX, CELLS

RUNTIME_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep

RED, GREEN, CYAN, RESET = "\x1b[0;31m", "\x1b[0;32m", "\x1b[0;36m", "\x1b[0m"
_RULE = RED + "-" * 75 + RESET
_MAX_FRAMES = 200      # frames kept per exception (the kernel keeps 1000 traceback entries)
_MAX_REPEAT = 3        # identical consecutive frames shown before "[... repeated N more times]"


def safe_str(exc):
    try:
        return str(exc)
    except Exception:
        return "<exception str() failed>"


def format_exception(exc):
    """(ename, evalue, [traceback entries]) for an exception raised by a cell."""
    if type(exc).__name__ == "UsageError" and type(exc).__module__ == "IPython.core.error":
        # A magic used wrongly: IPython shows its one line, never a traceback.
        text = safe_str(exc)
        return "UsageError", text, [RED + "UsageError" + RESET + ": " + text]
    entries = []
    for i, (e, note) in enumerate(_chain(exc)):
        if i:
            entries.append("\n" + note + "\n")
        entries.extend(_format_one(e))
    return type(exc).__name__, safe_str(exc), entries


_CAUSE = "The above exception was the direct cause of the following exception:"
_CONTEXT = "During handling of the above exception, another exception occurred:"


def _chain(exc):
    """[(exception, sentence shown before it)], oldest first, like Python's own report."""
    excs, links, seen = [], [], set()
    while exc is not None and id(exc) not in seen and len(excs) < 10:
        seen.add(id(exc))
        excs.append(exc)
        if exc.__cause__ is not None:
            links.append(_CAUSE)
            exc = exc.__cause__
        elif exc.__context__ is not None and not exc.__suppress_context__:
            links.append(_CONTEXT)
            exc = exc.__context__
        else:
            exc = None
    # excs[k + 1] led to excs[k]; links[k] says how.
    return [(excs[k], links[k] if k + 1 < len(excs) else "")
            for k in range(len(excs) - 1, -1, -1)]


def _format_one(exc):
    ename = type(exc).__name__
    frames = _frames(exc.__traceback__)
    if isinstance(exc, SyntaxError):
        # A cell that does not compile has no frames: just the line and the caret, as IPython.
        head = [_header(ename)] if frames else []
        return head + frames + [_syntax_error(exc)]
    value = safe_str(exc)
    return [_header(ename)] + frames + [RED + ename + RESET + (": " + value if value else "")]


def _header(ename):
    return _RULE + "\n" + RED + ename.ljust(42) + RESET + "Traceback (most recent call last)"


def _frames(tb):
    frames = []
    while tb is not None:
        frames.append((tb.tb_frame.f_code.co_filename, tb.tb_lineno, tb.tb_frame.f_code.co_name))
        tb = tb.tb_next
    # Start at the cell: everything before it is the runtime (or asyncio running the cell).
    # No cell frame at all means the runtime raised it (compiling the cell): show no frames.
    for i, (filename, _, _) in enumerate(frames):
        if filename.startswith(CELL_PREFIX):
            frames = frames[i:]
            break
    else:
        frames = []
    frames = [f for f in frames if not f[0].startswith(RUNTIME_DIR)]
    out, last, repeat = [], None, 0
    for frame in frames:
        if frame == last:
            repeat += 1
            if repeat >= _MAX_REPEAT:
                continue
        else:
            _add_repeat_note(out, repeat)
            last, repeat = frame, 0
        out.append(_frame_block(*frame))
    _add_repeat_note(out, repeat)
    if len(out) > _MAX_FRAMES:
        half = _MAX_FRAMES // 2
        out = out[:half] + ["    [... %d frames skipped ...]" % (len(out) - 2 * half)] + out[-half:]
    return out


def _add_repeat_note(out, repeat):
    if repeat >= _MAX_REPEAT:
        out.append("    [Previous frame repeated %d more times]" % (repeat - _MAX_REPEAT + 1))


def _frame_block(filename, lineno, name):
    if filename.startswith(CELL_PREFIX):
        where = GREEN + filename + RESET + ", line %d" % lineno
        if name != "<module>":
            where += ", in " + CYAN + name + "()" + RESET
    else:
        where = "File %s%s:%d%s, in %s%s()%s" % (GREEN, filename, lineno, RESET, CYAN, name, RESET)
    context = _context(filename, lineno)
    return where + ("\n" + context if context else "")


def _context(filename, lineno, before=2, after=2):
    """Numbered source lines around lineno, the current one marked with an arrow."""
    width = len(str(lineno + after))
    lines = []
    for n in range(max(1, lineno - before), lineno + after + 1):
        text = _getline(filename, n)
        if not text:
            if n > lineno:
                break
            continue
        mark = GREEN + "----> " + RESET if n == lineno else "      "
        lines.append(mark + str(n).rjust(width) + " " + text.rstrip("\r\n"))
    return "\n".join(lines)


def _getline(filename, n):
    # Cells from our own registry: linecache's code uses builtins that user code may replace.
    lines = CELLS.get(filename)
    if lines is None:
        try:
            import linecache
            lines = linecache.getlines(filename)
        except Exception:
            return ""
    return lines[n - 1] if 0 < n <= len(lines) else ""


def _syntax_error(exc):
    """The offending line with a caret, then 'SyntaxError: msg' (Python's own layout)."""
    import traceback
    try:
        parts = traceback.format_exception_only(type(exc), exc)
    except Exception:
        parts = ["%s: %s\n" % (type(exc).__name__, safe_str(exc))]
    text = "".join(parts).rstrip("\n")
    filename = getattr(exc, "filename", None) or ""
    if filename.startswith(CELL_PREFIX):
        text = text.replace('File "%s", line' % filename, GREEN + filename + RESET + ", line", 1)
    head, _, last = text.rpartition("\n")
    name, sep, msg = last.partition(":")
    last = RED + name + RESET + sep + msg if sep else last
    return (head + "\n" if head else "") + last
