"""matplotlib capture without IPython's kernel.

The Agg backend is forced through MPLBACKEND (set by the worker before anything can import
matplotlib). When pyplot is imported, plt.show is replaced by a function that publishes every
open figure as image/png + text/plain and closes it; at the end of every cell the figures that
were created but never shown are flushed the same way. A Figure that is a cell's value (or is
passed to display()) renders as PNG through a type formatter.
"""

__builtins__ = dict(__import__("builtins").__dict__)  # private copy: user code may replace builtins

import binascii
import io
import sys

import warden_display


def figure_bundle(fig):
    """(data, metadata) for a Figure; the figure is closed so the end-of-cell flush skips it."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    data = {"image/png": binascii.b2a_base64(buf.getvalue(), newline=False).decode("ascii"),
            "text/plain": warden_display.plain_text(fig)}
    plt = sys.modules.get("matplotlib.pyplot")
    if plt is not None:
        try:
            plt.close(fig)
        except Exception:
            pass
    return data, {}


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
