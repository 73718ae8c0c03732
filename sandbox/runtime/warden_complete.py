"""Completion from the live namespace.

Contexts, tried in order on the text before the cursor:
  import x|, from x|, from pkg.sub|, from x import y|  -> module names (no module is imported)
  d["k|, df['co|, d[|                                 -> dict keys / DataFrame columns
  obj.attr.pre|                                       -> attributes
  pre|                                                -> namespace, builtins, keywords
Objects are found with getattr only: no user code runs beyond attribute access (and dir()).
"""

__builtins__ = dict(__import__("builtins").__dict__)  # private copy: user code may replace builtins

import builtins
import keyword
import os
import sys

_RUNTIME_DIR = os.path.dirname(os.path.abspath(__file__))
_MISSING = object()
_MAX_MATCHES = 2000

# Patterns as strings: re caches what it compiles, and start-up pays neither for compiling them
# nor for importing re.
_IMPORT_RE = r"\s*import\s+(?:[\w.]+\s*(?:as\s+\w+\s*)?,\s*)*(?P<mod>[\w.]*)$"
_FROM_RE = r"\s*from\s+(?P<mod>[\w.]*)$"
_FROM_IMPORT_RE = (r"\s*from\s+(?P<mod>[\w.]+)\s+import\s+\(?\s*"
                   r"(?:\w+\s*(?:as\s+\w+\s*)?,\s*)*(?P<name>\w*)$")
_KEY_RE = r"(?P<expr>[^\W\d][\w.]*)\s*\[\s*(?P<quote>[\"']?)(?P<prefix>[^\"'\]]*)$"
_ATTR_RE = r"(?P<expr>[^\W\d]\w*(?:\.[^\W\d]\w*)*)\.(?P<prefix>\w*)$"
_NAME_RE = r"[^\W\d]\w*$"


def _re():
    import re
    return re


def complete(code, cursor, ns):
    """{"matches", "cursor_start", "cursor_end"} for code with the cursor at `cursor`."""
    cursor = max(0, min(len(code), cursor))
    text = code[:cursor]
    line = text.rsplit("\n", 1)[-1]
    for finder in (_import_matches, _key_matches, _attr_matches, _name_matches):
        found = finder(text, line, ns)
        if found is not None:
            matches, length = found
            return {"matches": matches[:_MAX_MATCHES], "cursor_start": cursor - length,
                    "cursor_end": cursor}
    return {"matches": [], "cursor_start": cursor, "cursor_end": cursor}


def _filter(names, prefix):
    """Names starting with prefix; private names only when the prefix asks for them."""
    show_private = prefix.startswith("_")
    out = {n for n in names if isinstance(n, str) and n.startswith(prefix)
           and (show_private or not n.startswith("_"))}
    return sorted(out, key=lambda n: (n.startswith("_"), n.lower(), n))


# ---- names and attributes ---------------------------------------------------------------
def resolve(dotted, ns):
    """The object a dotted name refers to (getattr only), or _MISSING."""
    first, *rest = dotted.split(".")
    if first in ns:
        obj = ns[first]
    elif hasattr(builtins, first):
        obj = getattr(builtins, first)
    else:
        return _MISSING
    for part in rest:
        try:
            obj = getattr(obj, part)
        except Exception:
            return _MISSING
    return obj


def _name_matches(text, line, ns):
    m = _re().search(_NAME_RE, text)
    prefix = m.group(0) if m else ""
    before = text[:len(text) - len(prefix)][-1:]
    if before == "." or (not prefix and before and (before.isalnum() or before in "_'\"")):
        return [], 0  # an attribute of something unresolvable, or after a number or quote
    names = list(ns) + dir(builtins) + keyword.kwlist
    return _filter(names, prefix), len(prefix)


def _attr_matches(text, line, ns):
    m = _re().search(_ATTR_RE, text)
    if m is None:
        return None
    start = m.start()
    if start and text[start - 1] in ".)]'\"":
        return [], 0  # e.g. f().x|: resolving would mean calling user code
    obj = resolve(m.group("expr"), ns)
    if obj is _MISSING:
        return [], 0
    try:
        names = dir(obj)
    except Exception:
        names = []
    prefix = m.group("prefix")
    return _filter(names, prefix), len(prefix)


def _key_matches(text, line, ns):
    m = _re().search(_KEY_RE, text)
    if m is None or (not m.group("quote") and m.group("prefix")):
        return None
    obj = resolve(m.group("expr"), ns)
    keys = _keys_of(obj)
    if keys is None:
        return None
    prefix, quote = m.group("prefix"), m.group("quote")
    if quote:
        found = [k.replace("\\", "\\\\").replace(quote, "\\" + quote)
                 for k in keys if isinstance(k, str) and k.startswith(prefix)]
        return sorted(set(found)), len(prefix)
    found = [repr(k) for k in keys if isinstance(k, (str, int)) and not isinstance(k, bool)]
    return sorted(set(found)), 0


def _keys_of(obj):
    if isinstance(obj, dict):
        return list(dict.keys(obj))[:10000]  # dict.keys: no user-defined keys() runs
    pd = sys.modules.get("pandas")
    if pd is not None and isinstance(obj, pd.DataFrame):
        return list(obj.columns)[:10000]
    return None


# ---- module names -----------------------------------------------------------------------
_cache = {}


def _search_path():
    paths = []
    for p in sys.path:
        if not isinstance(p, str) or os.path.abspath(p or ".") == _RUNTIME_DIR:
            continue
        paths.append(p or os.getcwd())
    return paths


def _import_matches(text, line, ns):
    m = _re().match(_FROM_IMPORT_RE, line)
    if m:
        prefix = m.group("name")
        return _filter(_module_members(m.group("mod")), prefix), len(prefix)
    m = _re().match(_IMPORT_RE, line) or _re().match(_FROM_RE, line)
    if m is None:
        return None
    dotted = m.group("mod")
    if "." not in dotted:
        return _filter(_top_level_modules(), dotted), len(dotted)
    package, _, prefix = dotted.rpartition(".")
    subs = [package + "." + s for s in _submodules(package)]
    return _filter(subs, dotted), len(dotted)


def _top_level_modules():
    key = ("top", tuple(_search_path()))
    if key not in _cache:
        import pkgutil
        names = set(sys.builtin_module_names)
        names.update(n for n in sys.modules if "." not in n)
        try:
            names.update(info.name for info in pkgutil.iter_modules(list(key[1])))
        except Exception:
            pass
        names.discard("__main__")
        _cache[key] = sorted(n for n in names if n.isidentifier())
    return _cache[key]


def _package_paths(dotted):
    """Search locations of package `dotted`, found without importing (executing) anything."""
    module = sys.modules.get(dotted)
    if module is not None:
        return list(getattr(module, "__path__", None) or [])
    from importlib.machinery import PathFinder
    paths, name = _search_path(), ""
    for part in dotted.split("."):
        name = name + "." + part if name else part
        try:
            spec = PathFinder.find_spec(name, paths)
        except Exception:
            return []
        if spec is None or not spec.submodule_search_locations:
            return []
        paths = list(spec.submodule_search_locations)
    return paths


def _submodules(package):
    key = ("sub", package, tuple(_search_path()))
    if key not in _cache:
        import pkgutil
        try:
            _cache[key] = [i.name for i in pkgutil.iter_modules(_package_paths(package))]
        except Exception:
            _cache[key] = []
    return _cache[key]


def _module_members(dotted):
    """Names importable from module `dotted`: submodules plus its top-level names."""
    names = list(_submodules(dotted))
    module = sys.modules.get(dotted)
    if module is not None:
        try:
            names += dir(module)
        except Exception:
            pass
    else:
        names += _scan_source(dotted)
    return names


def _scan_source(dotted):
    """Top-level names of a not-yet-imported module, read from its source with ast."""
    key = ("scan", dotted, tuple(_search_path()))
    if key in _cache:
        return _cache[key]
    names = []
    try:
        from importlib.machinery import PathFinder
        package, _, _ = dotted.rpartition(".")
        paths = _package_paths(package) if package else _search_path()
        spec = PathFinder.find_spec(dotted, paths)
        origin = spec.origin if spec is not None else None
        if origin and origin.endswith(".py") and os.path.getsize(origin) < (2 << 20):
            with open(origin, "rb") as f:
                names = _top_level_names(f.read())
    except Exception:
        names = []
    _cache[key] = names
    return names


def _top_level_names(source):
    import ast
    tree = ast.parse(source)
    names = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.append(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names += [(a.asname or a.name).split(".")[0] for a in node.names if a.name != "*"]
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names += [t.id for t in targets if isinstance(t, ast.Name)]
    return names
