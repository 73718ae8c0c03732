"""Object inspection (shift-tab / `?` in frontends) and is_complete.

The object is the one IPython's token_at_cursor would pick: inside a call, the callable;
otherwise the last name at or before the cursor. It is found with getattr only.
"""

__builtins__ = dict(__import__("builtins").__dict__)  # private copy: user code may replace builtins

import keyword

from warden_complete import _MISSING, resolve

_HEAD, _RESET = "\x1b[0;31m", "\x1b[0m"
_LABEL_WIDTH = 11
_MAX_TEXT = 200000


def name_at_cursor(code, cursor):
    """The dotted name to inspect, or None."""
    import tokenize
    lines = code.splitlines(True)
    offsets, total = [0], 0
    for line in lines:
        total += len(line)
        offsets.append(total)
    names, calls, prev = [], [], None
    it = iter(lines)
    try:
        for tok in tokenize.generate_tokens(lambda: next(it, "")):
            if tok.type == tokenize.NAME and not keyword.iskeyword(tok.string):
                if names and prev is not None and prev.string == "." and prev.type == tokenize.OP:
                    names[-1] += "." + tok.string
                else:
                    names.append(tok.string)
            elif tok.type == tokenize.OP:
                if tok.string == "=" and names:
                    names.pop()  # never inspect the left side of an assignment
                elif tok.string == "(" and names:
                    calls.append(names[-1])
                elif tok.string == ")" and calls:
                    calls.pop()
            prev = tok
            end_line, end_col = tok.end
            if end_line - 1 < len(offsets) and offsets[end_line - 1] + end_col > cursor:
                break
    except (tokenize.TokenError, SyntaxError, IndentationError):
        pass
    if calls:
        return calls[-1]
    return names[-1] if names else None


def inspect_object(code, cursor, detail, ns):
    """(found, text/plain) for the object at the cursor."""
    cursor = max(0, min(len(code), cursor))
    name = name_at_cursor(code, cursor)
    if not name:
        return False, ""
    obj = resolve(name, ns)
    if obj is _MISSING:
        return False, ""
    return True, describe(name, obj, detail)[:_MAX_TEXT]


def help_request(code):
    """(name, detail) when the cell is IPython's help syntax `name?` / `name??`, else None."""
    text = code.strip()
    if not text.endswith("?"):
        return None
    detail = 1 if text.endswith("??") else 0
    name = text[:-(detail + 1)].strip()
    if name and all(part.isidentifier() for part in name.split(".")):
        return name, detail
    return None


def help_text(name, detail, ns):
    """The pager text for `name?`, or None when nothing of that name resolves."""
    obj = resolve(name, ns)
    if obj is _MISSING:
        return None
    return describe(name, obj, detail)[:_MAX_TEXT]


def _field(label, value):
    head = _HEAD + (label + ":").ljust(max(_LABEL_WIDTH, len(label) + 2)) + _RESET
    if "\n" in value:
        return _HEAD + label + ":" + _RESET + "\n" + value
    return head + value


def describe(name, obj, detail):
    import inspect
    fields = []
    sig = _signature(obj)
    if sig is not None:
        fields.append(_field("Signature", name.rsplit(".", 1)[-1] + sig))
    if not callable(obj) or inspect.ismodule(obj):
        fields.append(_field("String form", _short_repr(obj)))
    doc = _safe(lambda: inspect.getdoc(obj))
    fields.append(_field("Docstring", doc or "<no docstring>"))
    if detail:
        source = _safe(lambda: inspect.getsource(obj))
        if source:
            fields.append(_field("Source", source.rstrip("\n")))
    path = _safe(lambda: inspect.getsourcefile(obj) or inspect.getfile(obj))
    if path:
        fields.append(_field("File", path))
    fields.append(_field("Type", type(obj).__name__))
    return "\n".join(fields)


def _signature(obj):
    import inspect
    if not callable(obj):
        return None
    try:
        return str(inspect.signature(obj))
    except (TypeError, ValueError):
        return None
    except Exception:
        return None


def _short_repr(obj):
    try:
        text = repr(obj)
    except Exception:
        return "<repr failed>"
    return text if len(text) <= 200 else text[:100] + " ... " + text[-95:]


def _safe(func):
    try:
        return func()
    except Exception:
        return None


# ---- is_complete: IPython's TransformerManager.check_complete, without magics ---------------
def is_complete(code):
    """(status, indent) with status "complete" / "incomplete" / "invalid"."""
    import tokenize
    ends_with_newline = False
    for ch in reversed(code):
        if ch == "\n":
            ends_with_newline = True
            break
        if ch.strip():
            break
    if not ends_with_newline:
        code += "\n"
    lines = _strip_leading(code.splitlines(True))
    if not lines:
        return "complete", ""
    if lines[-1].endswith("\\"):
        return "incomplete", _last_indent(lines)
    by_line = _tokens_by_line(lines)
    if len(lines) == 1 and by_line and _sunken_brackets(by_line[0]):
        return "invalid", ""
    if not by_line:
        return "incomplete", _last_indent(lines)
    if by_line[-1][-1].type != tokenize.ENDMARKER:
        return "incomplete", _last_indent(lines)  # inside a multi-line string or brackets
    newline_types = {tokenize.NEWLINE, tokenize.COMMENT, tokenize.ENDMARKER}
    last_token_line = None
    if {t.type for t in by_line[-1]} in ({tokenize.DEDENT, tokenize.ENDMARKER},
                                         {tokenize.ENDMARKER}) and len(by_line) > 1:
        last_token_line = by_line.pop()
    while by_line[-1] and by_line[-1][-1].type in newline_types:
        by_line[-1].pop()
    if not by_line[-1]:
        return "incomplete", _last_indent(lines)
    if by_line[-1][-1].string == ":":
        ix = 0
        while by_line[-1][ix].type in (tokenize.INDENT, tokenize.DEDENT):
            ix += 1
        return "incomplete", " " * (by_line[-1][ix].start[1] + 4)
    if by_line[-1][0].line.endswith("\\"):
        return "incomplete", ""
    status = _compile_status("".join(lines))
    if status != "complete":
        return status, _last_indent(lines) if status == "incomplete" else ""
    if last_token_line and last_token_line[0].type == tokenize.DEDENT and not ends_with_newline:
        return "incomplete", _last_indent(lines)  # a block needs a blank line to end
    return "complete", ""


def _compile_status(source):
    import codeop
    import warnings
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", SyntaxWarning)
            code = codeop.compile_command(source, symbol="exec")
    except (SyntaxError, OverflowError, ValueError, TypeError, MemoryError, SyntaxWarning):
        return "invalid"
    return "incomplete" if code is None else "complete"


def _strip_leading(lines):
    """IPython's cleanup transforms: drop leading blank lines and a common leading indent."""
    while lines and not lines[0].strip():
        lines = lines[1:]
    if lines and lines[0][:1] in (" ", "\t"):
        first = lines[0]
        indent = first[:len(first) - len(first.lstrip(" \t"))]
        lines = [ln[len(indent):] if ln.startswith(indent) else ln for ln in lines]
    return lines


def _last_indent(lines):
    line = lines[-1]
    ws = line[:len(line) - len(line.lstrip(" \t"))]
    return " " * len(ws.replace("\t", "    "))


def _tokens_by_line(lines):
    import tokenize
    by_line, depth = [[]], 0
    it = iter(lines)
    try:
        for tok in tokenize.generate_tokens(lambda: next(it, "")):
            by_line[-1].append(tok)
            if tok.type == tokenize.NEWLINE or (tok.type == tokenize.NL and depth <= 0):
                by_line.append([])
            elif tok.string in ("(", "[", "{"):
                depth += 1
            elif tok.string in (")", "]", "}") and depth > 0:
                depth -= 1
    except tokenize.TokenError:
        pass  # input ends inside a string or brackets
    if not by_line[-1]:
        by_line.pop()
    return by_line


def _sunken_brackets(tokens):
    depth = 0
    for tok in tokens:
        if tok.string in ("(", "[", "{"):
            depth += 1
        elif tok.string in (")", "]", "}"):
            depth -= 1
            if depth < 0:
                return True
    return False
