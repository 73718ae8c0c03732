"""What the agent learns from the worker without running a cell: whether code compiles (the
`check` frame's answer, `checked`) and what the cell namespace, the importable libraries and the
notebook directory hold (the `describe` frame's answer, `described`).

A description goes to a model, so it leaves the machine. It is short and bounded (each detail at
most DETAIL_MAX characters, all of them within the request's budget), values of names that look
like secrets are never shown, and anything that looks like an API key becomes "[masked]"
(mask_secrets). Describing a value may call user code (len, repr, a DataFrame's head): each call
is guarded, so a failing __repr__ gives the type name, and runs as user code, so an interrupt
ends the description instead of hanging the worker. pandas and numpy values are recognised
through sys.modules: a cell that never imported pandas does not pay for it here.

Imports nothing heavy: re, inspect and pkgutil only when a request needs them.
"""

__builtins__ = dict(__import__("builtins").__dict__)  # private copy: user code may replace builtins

import os
import sys
import time
import types

import warden_ipython
from warden_signals import INTERRUPTS

# The runtime's own names in the cell namespace (IPython hides them from %who too).
RUNTIME_NAMES = ("In", "Out", "get_ipython", "exit", "quit", "display")

DETAIL_MAX = 2000        # characters of one variable's detail
DETAIL_MAX_BYTES = 4000  # ... and its UTF-8 bytes (the kernel cuts what is longer)
MAX_VARIABLES = 2000     # described per request (the kernel keeps no more)
MAX_LIBRARIES = 500
DESCRIBE_SECONDS = 2.0   # spent describing values at most: the kernel waits a few seconds only
HIDDEN = "(value hidden: the name looks like a secret)"
MASK = "[masked]"

_SECRET_WORDS = ("key", "token", "password", "passwd", "secret", "credential", "apikey")
_NAME_MAX = 256
_TYPE_MAX = 200
_COLUMNS_SHOWN = 50      # of a DataFrame's columns, named with their dtype
_PEEK = 10               # elements of a container whose types are named
_MASK_MARGIN = 256       # text masked beyond a cut, so no key is cut into an unmasked stub


# ---- syntax check --------------------------------------------------------------------------

_CHECK_TEXT_MAX = 1000


def check_reply(error):
    """The fields of `checked` for the outcome of compiling a cell: `error` is None when it
    compiles, else the exception compiling it raised (SyntaxError, ValueError for NUL bytes)."""
    reply = {"ok": error is None, "ename": "", "evalue": "", "lineno": 0, "offset": 0, "text": ""}
    if error is None:
        return reply
    reply["ename"] = type(error).__name__[:63]
    if isinstance(error, SyntaxError):
        msg, lineno, offset, text = error.msg, error.lineno, error.offset, error.text
        reply["lineno"] = lineno if type(lineno) is int and lineno > 0 else 0
        reply["offset"] = offset if type(offset) is int and offset > 0 else 0
        if isinstance(text, str):
            reply["text"] = text.rstrip("\r\n")[:_CHECK_TEXT_MAX]
    else:
        msg = _safe_str(error)
    reply["evalue"] = (msg if isinstance(msg, str) else _safe_str(error))[:_CHECK_TEXT_MAX]
    return reply


def _safe_str(obj):
    try:
        return str(obj)
    except Exception:
        return ""


# ---- masking -------------------------------------------------------------------------------

# Credentials with a known shape: (prefix, shortest whole token). A token is a maximal run of
# letters, digits, '_' and '-', as agent/mask.c reads them.
_KNOWN = (("sk-", 23), ("sk_live_", 24), ("sk_test_", 24), ("rk_live_", 24), ("AKIA", 20),
          ("ASIA", 20), ("ghp_", 24), ("gho_", 24), ("ghu_", 24), ("ghs_", 24), ("ghr_", 24),
          ("github_pat_", 31), ("xoxa-", 15), ("xoxb-", 15), ("xoxp-", 15), ("xoxr-", 15),
          ("xoxs-", 15), ("AIza", 39), ("hf_", 30), ("glpat-", 26))
_TOKEN_RE = r"[A-Za-z0-9_-]+"
# base64 with '+' and '/': a path has them too, so only mixed case plus digits counts there.
_BASE64_RE = r"[A-Za-z0-9_+/-]{32,}={0,2}"
_PRIVATE_KEY_RE = (r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?"
                   r"(?:-----END [A-Z ]*PRIVATE KEY-----|$)")  # to the end when cut short
_URL_PASSWORD_RE = r"(://[^/\s:@]+:)[^/\s@]+@"
_JWT_RE = r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"


def mask_secrets(text):
    """text with every string that looks like a credential replaced by "[masked]": OpenAI and
    Anthropic keys (sk-, sk-proj-, sk-ant-), Stripe, AWS access key ids, GitHub, GitLab, Slack,
    Google and Hugging Face tokens, JSON web tokens, private key blocks, passwords in URLs, and
    any run of 32 or
    more letters and digits ('_' and '-' too) that mixes letters and digits (a hex digest is
    masked as well: a small price), or base64 of 32+ characters with '+' or '/'."""
    if not isinstance(text, str) or not text:
        return text
    import re
    text = re.sub(_PRIVATE_KEY_RE, MASK, text)
    text = re.sub(_URL_PASSWORD_RE, r"\1" + MASK + "@", text)
    text = re.sub(_JWT_RE, MASK, text)
    text = re.sub(_TOKEN_RE, _mask_token, text)
    return re.sub(_BASE64_RE, _mask_base64, text)


def _mask_token(match):
    token = match.group(0)
    for prefix, shortest in _KNOWN:
        if token.startswith(prefix) and len(token) >= shortest:
            return MASK
    if len(token) >= 32 and _has_letter(token) and _has_digit(token):
        return MASK
    return token


def _mask_base64(match):
    token = match.group(0)
    random_looking = (("+" in token or "/" in token) and _has_digit(token)
                      and any(c.isupper() for c in token) and any(c.islower() for c in token))
    return MASK if random_looking else token


def _has_letter(s):
    return any("a" <= c <= "z" or "A" <= c <= "Z" for c in s)


def _has_digit(s):
    return any("0" <= c <= "9" for c in s)


def looks_like_secret_name(name):
    lowered = name.lower()
    return any(word in lowered for word in _SECRET_WORDS)


def _clip(text, limit):
    """text masked, then cut to `limit` characters ("…" marks a cut). Only a window a little
    wider than the cut is masked: a key that straddles the cut is still whole in it."""
    text = mask_secrets(text[:limit + _MASK_MARGIN])
    return text if len(text) <= limit else text[:max(0, limit - 1)] + "…"


# ---- describe ------------------------------------------------------------------------------

def describe(ns, budget, sample_rows, max_files):
    """The fields of `described`: variables (newest first, within `budget` characters of name,
    type and detail), omitted, libraries, files, files_omitted, cwd."""
    variables, omitted = describe_variables(ns, budget, sample_rows)
    files, files_omitted, cwd = list_files(max_files)
    return {"variables": variables, "omitted": omitted,
            "libraries": importable_libraries()[:MAX_LIBRARIES], "files": files,
            "files_omitted": files_omitted, "cwd": cwd}


def user_names(ns):
    """(name, value) of the user's names, newest first: no private names, modules, runtime
    names, or names IPython's shell hides."""
    hidden = _shell_hidden()
    missing = object()
    out = []
    for name, value in reversed(list(ns.items())):
        if not isinstance(name, str) or name.startswith("_") or name in RUNTIME_NAMES \
                or not name.isidentifier():  # globals()["a b"] = 1: no name a cell can use
            continue
        # issubclass of the type, not isinstance: that could call a user __getattribute__
        if hidden.get(name, missing) is value or issubclass(type(value), types.ModuleType):
            continue
        out.append((name, value))
    return out


def _shell_hidden():
    ip = warden_ipython.shell_if_loaded()
    hidden = getattr(ip, "user_ns_hidden", None) if ip is not None else None
    return hidden if isinstance(hidden, dict) else {}


def describe_variables(ns, budget, sample_rows):
    """([{name, type, detail}], omitted). A variable whose entry does not fit what is left of the
    budget is shown with its detail's first line (a DataFrame without its rows); when even that
    does not fit, it and every older one are counted as omitted, never sent."""
    import warnings
    names = user_names(ns)
    out, used = [], 0
    deadline = time.monotonic() + DESCRIBE_SECONDS
    with warnings.catch_warnings(record=True):  # pandas' warnings are not the user's output
        for name, value in names[:MAX_VARIABLES]:
            entry = _describe_guarded(name, value, sample_rows) \
                if time.monotonic() < deadline else None
            if entry is None:
                break
            if used + _cost(entry) > budget:
                entry["detail"] = entry["detail"].split("\n", 1)[0]
                if used + _cost(entry) > budget:
                    break
            used += _cost(entry)
            out.append(entry)
    return out, len(names) - len(out)


def _cost(entry):
    return len(entry["name"]) + len(entry["type"]) + len(entry["detail"])


def _describe_guarded(name, value, sample_rows):
    """One variable's entry, its value described as user code; None when interrupted."""
    try:
        INTERRUPTS.begin_user()  # inside the try: a SIGINT may land right after it
        return describe_variable(name, value, sample_rows)
    except KeyboardInterrupt:
        return None
    finally:
        INTERRUPTS.end_user()


def describe_variable(name, value, sample_rows):
    """{name, type, detail} for one variable; whatever user code raises, the type name."""
    kind = type_name(value)
    if looks_like_secret_name(name):
        return {"name": name[:_NAME_MAX], "type": kind, "detail": HIDDEN}
    try:
        detail = describe_value(value, sample_rows)
    except KeyboardInterrupt:
        raise
    except BaseException:  # a user __repr__ / __len__ may raise anything, SystemExit too
        detail = kind
    detail = _fit_bytes(_clip(detail, DETAIL_MAX), DETAIL_MAX_BYTES)
    return {"name": name[:_NAME_MAX], "type": kind, "detail": detail or kind}


def _fit_bytes(text, limit):
    data = text.encode("utf-8", "replace")
    if len(data) <= limit:
        return text
    return data[:limit - 3].decode("utf-8", "ignore") + "…"  # "…" is 3 bytes


def type_name(value):
    """The type as a person names it: "int", "Point", "pandas.DataFrame", "numpy.ndarray"."""
    cls = type(value)
    try:
        module, qualname = cls.__module__, cls.__qualname__
        if not isinstance(qualname, str):
            qualname = cls.__name__
        if isinstance(module, str) and module not in ("builtins", "__main__"):
            qualname = module.split(".")[0] + "." + qualname
        # one line of text: a class may set any __qualname__
        return "".join(c if c.isprintable() else "?" for c in qualname[:_TYPE_MAX]) or "object"
    except Exception:
        return "object"


def describe_value(value, sample_rows):
    """What a person needs to know of a value, in a line or a few (may raise: user code)."""
    pandas, numpy = sys.modules.get("pandas"), sys.modules.get("numpy")
    if pandas is not None and isinstance(value, pandas.DataFrame):
        return _dataframe(value, sample_rows)
    if pandas is not None and isinstance(value, pandas.Series):
        return _series(value, sample_rows)
    if numpy is not None and isinstance(value, numpy.ndarray):
        return "ndarray, shape %s, dtype %s" % (tuple(value.shape), value.dtype)
    if value is None or isinstance(value, (bool, int, float, complex)):
        return _scalar(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, (bytes, bytearray)):
        shown = _clip(repr(bytes(value[:80])), 100)
        return "%s, %d bytes: %s" % (type(value).__name__, len(value), shown)
    if isinstance(value, (list, tuple, set, frozenset, dict)):
        return _container(value)
    if isinstance(value, (types.FunctionType, types.BuiltinFunctionType)):
        return _function(value)
    if isinstance(value, type):
        return _class(value)
    return "%s: %s" % (type(value).__name__, _clip(repr(value), 100))


def _plural(n, word):
    return "%d %s%s" % (n, word, "" if n == 1 else "s")


def _dataframe(df, sample_rows):
    rows, cols = len(df.index), len(df.columns)
    import itertools
    named = ["%s %s" % (_clip(str(c), 60), t)
             for c, t in itertools.islice(df.dtypes.items(), _COLUMNS_SHOWN)]
    if cols > _COLUMNS_SHOWN:
        named.append("… %d more" % (cols - _COLUMNS_SHOWN))
    text = "%s, %s × %s" % (type(df).__name__, _plural(rows, "row"), _plural(cols, "column"))
    if named:
        text += ": " + ", ".join(named)
    if sample_rows > 0 and rows > 0:
        text += "\n" + _sample(df.head(sample_rows))
    return text


def _sample(head):
    """The first rows as text, values of columns whose names look like secrets hidden."""
    secret = [c for c in head.columns if looks_like_secret_name(str(c))]
    if secret:
        head = head.astype(object)
        for c in secret:
            head[c] = "(hidden)"
    try:
        text = head.to_string(max_cols=20, max_colwidth=50, show_dimensions=False)
    except TypeError:  # an old pandas without max_colwidth
        text = head.to_string(max_cols=20)
    return _clip(text, DETAIL_MAX)


def _series(s, sample_rows):
    name = s.name
    text = "%s%s, %s, dtype %s" % (type(s).__name__,
                                   "" if name is None else " " + _clip(repr(name), 60),
                                   _plural(len(s), "value"), s.dtype)
    if sample_rows > 0 and len(s) and not looks_like_secret_name(str(name)):
        text += "\n" + _clip(s.head(sample_rows).to_string(), DETAIL_MAX)
    return text


def _scalar(value):
    try:
        return _clip(repr(value), 100)
    except ValueError:  # an int too long for str() (sys.set_int_max_str_digits)
        return "int of %d bits" % value.bit_length()


def _string(s):
    shown = mask_secrets(s[:80 + _MASK_MARGIN])
    return "str, %s: %r%s" % (_plural(len(s), "char"), shown[:80], "…" if len(shown) > 80 else "")


def _container(value):
    import itertools
    kind = type(value).__name__
    text = "%s, %s" % (kind, _plural(len(value), "item"))
    if isinstance(value, dict):
        pairs = list(itertools.islice(dict.items(value), _PEEK))
        keys, values = _types_of(k for k, _ in pairs), _types_of(v for _, v in pairs)
        if pairs:
            text += ": %s -> %s" % (keys, values)
        peek = [k for pair in pairs for k in pair]
    else:
        peek = list(itertools.islice(iter(value), _PEEK))
        if peek:
            text += ": " + _types_of(peek)
    preview = _preview(value, peek)
    return text + ("; " + preview if preview else "")


def _types_of(values):
    names = []
    for v in values:
        name = type_name(v)
        if name not in names:
            names.append(name)
    return ", ".join(names[:5]) + (", …" if len(names) > 5 else "")


_PREVIEWED = (str, int, float, bool, type(None))


def _preview(value, peek):
    """A short repr of a container of plain values (never of objects: their repr is user code
    of unknown cost)."""
    if not peek or not all(type(v) in _PREVIEWED for v in peek):
        return ""
    try:
        if isinstance(value, dict):
            items = ["%s: %s" % (_short(peek[i]), _short(peek[i + 1]))
                     for i in range(0, min(len(peek), 8), 2)]
            open_, close = "{", "}"
        else:
            items = [_short(v) for v in peek[:6]]
            open_, close = {list: "[]", tuple: "()"}.get(type(value), "{}")
    except ValueError:  # a huge int
        return ""
    more = ", …" if len(value) > len(items) else ""
    if close == ")" and len(value) == 1:
        more = ","  # a 1-tuple
    return _clip(open_ + ", ".join(items) + more + close, 160)


def _short(v):
    return repr(v[:30] + "…" if len(v) > 30 else v) if isinstance(v, str) else repr(v)


def _function(func):
    import inspect
    try:
        sig = str(inspect.signature(func))
    except (TypeError, ValueError):
        sig = "(…)"
    return getattr(func, "__name__", "function") + sig + _doc_line(func)


def _class(cls):
    bases = ", ".join(getattr(b, "__name__", "?") for b in cls.__bases__)
    return "%s(%s)%s" % (cls.__name__, bases, _doc_line(cls))


def _doc_line(obj):
    doc = getattr(obj, "__doc__", None)
    if not isinstance(doc, str):
        return ""
    for line in doc.splitlines():
        if line.strip():
            return ": " + _clip(line.strip(), 200)
    return ""


# ---- the notebook directory ------------------------------------------------------------------

def list_files(max_files):
    """([{name, size, dir}], files_omitted, cwd) of the working directory (the notebook's): not
    recursive, hidden entries left out, sorted by name, the first max_files."""
    try:
        cwd = os.getcwd()
    except OSError:  # removed under us
        return [], 0, ""
    try:
        with os.scandir(cwd) as it:
            entries = [e for e in it if not e.name.startswith(".")]
    except OSError:
        return [], 0, cwd
    entries.sort(key=lambda e: e.name)
    files = []
    for entry in entries[:max_files]:
        try:
            is_dir = entry.is_dir()
            size = 0 if is_dir else entry.stat().st_size
        except OSError:  # e.g. a dangling symlink
            is_dir, size = False, 0
        files.append({"name": entry.name, "size": size, "dir": is_dir})
    return files, len(entries) - len(files), cwd


# ---- libraries -------------------------------------------------------------------------------

# Listed first when present: what a notebook reaches for. Left out: the system's and Jupyter's own
# plumbing, which no cell imports.
_FEATURED = ("numpy", "pandas", "matplotlib", "scipy", "sklearn", "seaborn", "statsmodels",
             "sympy", "networkx", "PIL", "skimage", "bs4", "lxml", "requests", "yaml", "openpyxl",
             "xlrd", "pyarrow", "polars", "tqdm", "IPython")
_PLUMBING = ("apt", "aptsources", "dbus", "gi", "debugpy", "ipykernel", "jupyter", "nbclient",
             "nbformat", "nbconvert", "notebook", "pip", "setuptools", "pkg_resources", "wheel",
             "distro", "secretstorage", "keyring", "lsb_release", "pexpect", "ptyprocess",
             "traitlets", "zmq", "tornado", "debian", "_distutils_hack", "softwareproperties",
             "pygtkcompat", "pydev", "pydevd", "pydevconsole")


def importable_libraries():
    """Top-level modules outside the standard library (no module is imported), the featured
    ones first; found once."""
    cached = getattr(importable_libraries, "cache", None)
    if cached is not None:
        return cached
    import pkgutil
    paths = [p for p in sys.path if isinstance(p, str) and "-packages" in p]
    names = {m.name for m in pkgutil.iter_modules(paths)
             if m.name.isidentifier() and not m.name.startswith("_")
             and m.name not in ("test", "tests") and not _is_plumbing(m.name)}
    featured = [n for n in _FEATURED if n in names]
    rest = sorted(names - set(featured), key=str.lower)
    importable_libraries.cache = featured + rest
    return importable_libraries.cache


def _is_plumbing(name):
    # "jupyter_client", "pydevd_plugins": a package's companions are plumbing as well
    return name in _PLUMBING or name.split("_")[0] in _PLUMBING
