"""Rich formatting (mime bundles) and the display publisher.

The rules follow IPython's DisplayFormatter: text/plain always (repr, pretty-printed for long
builtin containers), `_repr_mimebundle_` first, then each `_repr_*_` method for the mime types
the bundle did not give. A failing `_repr_*_` costs only its own mime type, with a note on stderr.
"""

__builtins__ = dict(__import__("builtins").__dict__)  # private copy: user code may replace builtins

import binascii
import os
import sys

from warden_channel import encode_json

# method -> (mime, kind): "text" must return str, "b64" bytes (or base64 str), "json" JSON data
_REPR_METHODS = (
    ("_repr_html_", "text/html", "text"),
    ("_repr_markdown_", "text/markdown", "text"),
    ("_repr_svg_", "image/svg+xml", "text"),
    ("_repr_png_", "image/png", "b64"),
    ("_repr_jpeg_", "image/jpeg", "b64"),
    ("_repr_pdf_", "application/pdf", "b64"),
    ("_repr_latex_", "text/latex", "text"),
    ("_repr_json_", "application/json", "json"),
    ("_repr_javascript_", "application/javascript", "text"),
)

_PRETTY_TYPES = (list, tuple, dict, set, frozenset)
_PRETTY_WIDTH = 79

# Type formatters registered by integrations (matplotlib Figure -> png, pandas DataFrame -> text
# and HTML from one formatter).
_type_formatters = {}


# Exact-type text/plain formatters (pandas DataFrame -> its repr, computed once): func(obj) -> str,
# or None for repr().
_text_formatters = {}


def register_type_formatter(cls, func):
    """func(obj) -> (data, metadata) or None; used for objects of exactly `cls` or subclasses."""
    _type_formatters[cls] = func


def register_text_formatter(cls, func):
    """func(obj) -> the text repr(obj) would give, or None; used for objects of exactly `cls`."""
    _text_formatters[cls] = func


_stderr = None  # the runtime's own stderr stream (user code may rebind sys.stderr)


def _note(what, exc):
    try:
        _stderr.write("warden: %s failed: %s: %s\n" % (what, type(exc).__name__, exc))
    except Exception:
        pass


def _lookup(obj, name):
    """A bound repr method, or None. Classes are shown by their repr, never by their methods."""
    if isinstance(obj, type):
        return None
    try:
        method = getattr(obj, name, None)
    except Exception:
        return None
    return method if callable(method) else None


def _split_md(value):
    # _repr_*_ may return (data, metadata)
    if isinstance(value, tuple) and len(value) == 2:
        return value
    return value, None


def _as_mime_value(value, kind):
    """Validated JSON-safe value for a mime type, or None."""
    if value is None:
        return None
    if kind == "text":
        return value if isinstance(value, str) else None
    if kind == "b64":
        if isinstance(value, (bytes, bytearray, memoryview)):
            return binascii.b2a_base64(bytes(value), newline=False).decode("ascii")
        return value if isinstance(value, str) else None
    if isinstance(value, str):  # _repr_json_ may return JSON text
        import json
        try:
            value = json.loads(value)
        except ValueError:
            return None
    encode_json(value)  # raises on NaN / non-JSON values: reported as a failure
    return value


def plain_text(obj):
    """repr(obj), pretty-printed when a builtin container is long. Never raises."""
    try:
        pretty = getattr(type(obj), "_repr_pretty_", None)
        if pretty is not None and "IPython.lib.pretty" in sys.modules:
            return sys.modules["IPython.lib.pretty"].pretty(obj)
        text = None
        fast = _text_formatters.get(type(obj))
        if fast is not None:
            text = fast(obj)
        if text is None:
            text = repr(obj)
        if not isinstance(text, str):
            raise TypeError("__repr__ returned non-string (type %s)" % type(text).__name__)
    except Exception as exc:
        _note("repr() of %s" % _type_name(obj), exc)
        return "<%s object at %#x>" % (_type_name(obj), id(obj))
    if len(text) > _PRETTY_WIDTH and type(obj) in _PRETTY_TYPES and len(text) < 200000:
        try:
            import pprint
            return pprint.pformat(obj, width=_PRETTY_WIDTH, sort_dicts=False)
        except Exception:
            pass
    return text


def _type_name(obj):
    try:
        return type(obj).__qualname__
    except Exception:
        return "object"


def _from_mimebundle(obj, include, exclude):
    method = _lookup(obj, "_repr_mimebundle_")
    if method is None:
        return {}, {}
    try:
        value = method(include=include, exclude=exclude)
    except Exception as exc:
        _note("_repr_mimebundle_ of %s" % _type_name(obj), exc)
        return {}, {}
    value, md = _split_md(value)
    data, meta = {}, dict(md) if isinstance(md, dict) else {}
    if isinstance(value, dict):
        for mime, v in value.items():
            if not isinstance(mime, str):
                continue
            kind = "json" if mime.endswith("json") else "b64" if _is_binary(mime) else "text"
            try:
                v = _as_mime_value(v, kind)
            except Exception as exc:
                _note("%s from _repr_mimebundle_" % mime, exc)
                continue
            if v is not None:
                data[mime] = v
    return data, meta


def _wanted(mime, include, exclude):
    return (not include or mime in include) and not (exclude and mime in exclude)


def _is_binary(mime):
    return (mime.startswith("image/") and mime != "image/svg+xml") or mime == "application/pdf"


def _from_type_formatter(obj):
    for cls, func in list(_type_formatters.items()):
        if isinstance(obj, cls):
            try:
                return func(obj)
            except Exception as exc:
                _note("rendering %s" % _type_name(obj), exc)
    return None


def format_object(obj, include=None, exclude=None):
    """(data, metadata) mime bundle for obj; ({}, {}) when the object displayed itself."""
    ipy_display = _lookup(obj, "_ipython_display_")
    if ipy_display is not None:
        ipy_display()
        return {}, {}
    data, meta = _from_mimebundle(obj, include, exclude)
    special = _from_type_formatter(obj)
    if special:
        for mime, v in special[0].items():
            if _wanted(mime, include, exclude):
                data.setdefault(mime, v)
        meta.update(special[1] or {})
    for name, mime, kind in _REPR_METHODS:
        if mime in data or not _wanted(mime, include, exclude):
            continue
        method = _lookup(obj, name)
        if method is None:
            continue
        try:
            value, md = _split_md(method())
            value = _as_mime_value(value, kind)
        except Exception as exc:
            _note("%s of %s" % (name, _type_name(obj)), exc)
            continue
        if value is not None:
            data[mime] = value
            if isinstance(md, dict):
                meta[mime] = md
    if "text/plain" not in data and _wanted("text/plain", include, exclude):
        data["text/plain"] = plain_text(obj)
    return data, meta


class Publisher:
    """Sends display/clear/result frames for the current execute."""

    # Set once IPython's shell exists (warden_magics.py): returns the display publisher that
    # outputs go to instead of the kernel (IPython's capture_output, %%capture), or None.
    divert = None

    def __init__(self, outbox):
        self.outbox = outbox

    def _diverted(self):
        return self.divert() if self.divert is not None else None

    def publish(self, data, metadata=None, transient=None, update=False):
        other = self._diverted()
        if other is not None:
            other.publish(data, metadata or {}, transient=transient or {}, update=update)
        else:
            self.send_display(data, metadata, transient, update)

    def clear(self, wait=False):
        other = self._diverted()
        if other is not None:
            other.clear_output(wait)
        else:
            self.send_clear(wait)

    def result(self, data, metadata):
        other = self._diverted()
        if other is not None:
            other.publish(data, metadata or {})
        else:
            self.outbox.send({"t": "result", "id": self.outbox.exec_id, "data": data,
                              "metadata": metadata or {}})

    def send_display(self, data, metadata=None, transient=None, update=False):
        self.outbox.send({"t": "display", "id": self.outbox.exec_id, "data": data,
                          "metadata": metadata or {}, "transient": transient or {},
                          "update": bool(update)})

    def send_clear(self, wait=False):
        self.outbox.send({"t": "clear", "id": self.outbox.exec_id, "wait": bool(wait)})


_publisher = None


def set_publisher(publisher, stderr):
    global _publisher, _stderr
    _publisher, _stderr = publisher, stderr


def _new_id():
    return binascii.b2a_hex(os.urandom(16)).decode("ascii")


class DisplayHandle:
    """Returned by display(..., display_id=...) when IPython is not loaded (same API)."""

    def __init__(self, display_id=None):
        self.display_id = display_id or _new_id()

    def __repr__(self):
        return "<%s display_id=%s>" % (type(self).__name__, self.display_id)

    def display(self, obj, **kwargs):
        display(obj, display_id=self.display_id, **kwargs)

    def update(self, obj, **kwargs):
        update_display(obj, display_id=self.display_id, **kwargs)


def _handle(display_id):
    ipy = sys.modules.get("IPython.core.display_functions")
    cls = getattr(ipy, "DisplayHandle", None) if ipy is not None else None
    return (cls or DisplayHandle)(display_id)


def display(*objs, include=None, exclude=None, metadata=None, transient=None, display_id=None,
            raw=False, clear=False, update=False, **kwargs):
    """IPython's display(), publishing through the worker (signature of IPython 8.5)."""
    transient = dict(transient or {})
    if display_id:
        if display_id is True:
            display_id = _new_id()
        transient["display_id"] = str(display_id)
    if update and "display_id" not in transient:
        raise TypeError("display_id required for update_display")
    if not objs and display_id:
        objs, raw = ({},), True  # an empty output that can be updated later
    if clear:
        clear_output(wait=True)
    for obj in objs:
        if raw:
            data, md = dict(obj), {}
        else:
            data, md = format_object(obj, include=include, exclude=exclude)
            if not data:
                continue  # _ipython_display_ took over
        if metadata:
            md = dict(md, **metadata)
        _publisher.publish(data, md, transient, update)
    if display_id:
        return _handle(transient["display_id"])
    return None


def update_display(obj, *, display_id, **kwargs):
    kwargs["update"] = True
    display(obj, display_id=display_id, **kwargs)


def clear_output(wait=False):
    _publisher.clear(wait)


def publish_display_data(data, metadata=None, source=None, *, transient=None, **kwargs):
    _publisher.publish(dict(data), metadata, transient, kwargs.get("update", False))
