"""matplotlib capture without IPython's kernel.

The Agg backend is forced through MPLBACKEND (set by the worker before anything can import
matplotlib). When pyplot is imported, plt.show is replaced by a function that publishes every
open figure as image/png + text/plain and closes it; at the end of every cell the figures that
were created but never shown are flushed the same way. A Figure that is a cell's value (or is
passed to display()) renders as PNG through a type formatter.

A fresh jail's home has no matplotlib cache, so the first font lookup would scan the system's
fonts (about 150 ms, fc-list included) in every new worker. The build writes that font list
ahead into the runtime's `matplotlib/` directory (CMakeLists.txt, from the same /usr the jail
sees); when matplotlib is imported, a copy is put in its cache directory unless one is there.
A stale list (fonts added since) is matplotlib's usual cache staleness: a missing font file makes
it rebuild, a newer matplotlib ignores a list of another version.
"""

__builtins__ = dict(__import__("builtins").__dict__)  # private copy: user code may replace builtins

import binascii
import os
import sys

import warden_display
import warden_render


# figure format -> (mime, savefig format, how the bytes become the bundle's value)
_FORMATS = {
    "png": ("image/png", "png", "b64"),
    "retina": ("image/png", "png", "b64"),
    "png2x": ("image/png", "png", "b64"),
    "jpeg": ("image/jpeg", "jpeg", "b64"),
    "jpg": ("image/jpeg", "jpeg", "b64"),
    "svg": ("image/svg+xml", "svg", "text"),
    "pdf": ("application/pdf", "pdf", "b64"),
}


def _settings():
    """(formats, savefig kwargs): %config InlineBackend.* once IPython's shell exists."""
    magics = sys.modules.get("warden_magics")
    if magics is None:
        return ("png",), {"bbox_inches": "tight"}
    return magics.figure_settings()


def _png_size(data):
    """(width, height) from a PNG's IHDR chunk."""
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def figure_bundle(fig):
    """(data, metadata) for a Figure; the figure is closed so the end-of-cell flush skips it."""
    formats, kwargs = _settings()
    data, md = {}, {}
    for name in formats:
        mime, fmt, kind = _FORMATS.get(name, _FORMATS["png"])
        if mime in data:
            continue
        # IPython's print_figure: bbox_inches is "tight" unless print_figure_kwargs says otherwise
        options = dict(kwargs)
        options.setdefault("bbox_inches", "tight")
        if name in ("retina", "png2x"):
            # twice the pixels, shown at the normal size (matplotlib-inline's retina figures)
            options["dpi"] = 2 * options.get("dpi", fig.dpi)
        raw = _one_draw_png(fig, options) if fmt == "png" else None
        if raw is None:
            raw = warden_render.savefig(fig, fmt, options)
        data[mime] = raw.decode("utf-8") if kind == "text" else \
            binascii.b2a_base64(raw, newline=False).decode("ascii")
        if name in ("retina", "png2x"):
            width, height = _png_size(raw)
            md[mime] = {"width": width // 2, "height": height // 2}
    data["text/plain"] = warden_display.plain_text(fig)
    plt = sys.modules.get("matplotlib.pyplot")
    if plt is not None:
        try:
            plt.close(fig)
        except Exception:
            pass
    return data, md


def _one_draw_png(fig, options):
    """warden_render's PNG, or None for savefig's: also when it fails, so that savefig raises
    the figure's own error (or renders what the one-draw path got wrong)."""
    try:
        return warden_render.tight_png(fig, options)
    except Exception:
        return None


SHIPPED_CACHE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "matplotlib")


def seed_font_cache(matplotlib):
    """Called once matplotlib (the package) is imported, before anything imports its
    font_manager: copy the shipped font list into the cache directory if it has none."""
    try:
        names = [n for n in os.listdir(SHIPPED_CACHE)
                 if n.startswith("fontlist-") and n.endswith(".json")]
    except OSError:
        return  # built without matplotlib: it makes its own list
    if not names:
        return
    try:
        cache = matplotlib.get_cachedir()
        for name in names:
            target = os.path.join(cache, name)
            if os.path.exists(target):
                continue
            with open(os.path.join(SHIPPED_CACHE, name), "rb") as src:
                data = src.read()
            with open(target, "xb") as dst:
                dst.write(data)
    except OSError:
        pass  # only a head start: matplotlib builds its own list when this fails


def on_figure_module(module):
    """Called once matplotlib.figure is imported."""
    warden_display.register_type_formatter(module.Figure, figure_bundle)


def on_pyplot(plt):
    """Called once matplotlib.pyplot is imported: replace show()."""
    original = plt.show

    def show(*args, **kwargs):
        """Publish every open figure as image/png (warden's replacement for plt.show)."""
        flush_figures()

    show.__wrapped__ = original
    plt.show = show


def flush_figures():
    """Publish and close every open pyplot figure. Never imports pyplot itself."""
    plt = sys.modules.get("matplotlib.pyplot")
    if plt is None:
        return
    try:
        from matplotlib._pylab_helpers import Gcf
        managers = list(Gcf.get_all_fig_managers())
    except Exception:
        return
    for manager in managers:
        fig = manager.canvas.figure
        try:
            data, md = figure_bundle(fig)
        except Exception as exc:
            warden_display._note("rendering a matplotlib figure", exc)
            _close(plt, fig)
            continue
        warden_display._publisher.publish(data, md)


def _close(plt, fig):
    try:
        plt.close(fig)
    except Exception:
        pass
