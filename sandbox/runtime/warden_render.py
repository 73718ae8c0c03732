"""A figure's tight PNG from one draw (the inline figure's usual case), savefig with less
repeated work for the rest, and the PNG encoder.

savefig(bbox_inches="tight"), what inline backends use, lays the figure out twice: a first draw
with drawing disabled, only to find the tight box, then a real draw of the figure moved into a
canvas of that box's size. Here the figure is drawn once on its full Agg canvas, the tight box is
taken from that draw (same renderer, same layout, so the same box), and the rendered RGBA buffer
is cut to it before one PNG encode. While it draws and finds the box, each axis lays its ticks
out once instead of four times (_TickMemo). A line plot: 56.6 -> 27.1 ms (thread time).

The cut starts on a whole pixel, where savefig's second draw starts at the box's exact corner: the
picture can sit up to half a pixel from where savefig puts it (antialiased edges differ a little;
the size in pixels is savefig's). A layout engine (tight or constrained layout) runs at the start
of the one draw, as it does in savefig's first. Whatever this does not handle goes to savefig
(with the tick memo): a box that leaves the canvas (artists outside the figure), a figure frame
that savefig would draw around the box, a canvas that is not Agg, savefig arguments other than
bbox_inches/dpi/pad_inches/facecolor/edgecolor/transparent, other formats.
"""

__builtins__ = dict(__import__("builtins").__dict__)  # private copy: user code may replace builtins

import io
import struct
import zlib

# savefig arguments the one-draw path reproduces; any other one takes savefig's path.
_HANDLED = frozenset(("bbox_inches", "dpi", "pad_inches", "facecolor", "edgecolor", "transparent"))

# zlib level of the PNGs: see encode_png.
PNG_LEVEL = 3


def tight_png(fig, options):
    """PNG bytes of savefig(format="png", **options) with bbox_inches="tight", from one draw;
    None when this figure or these options need savefig itself."""
    if options.get("bbox_inches") != "tight" or not _HANDLED.issuperset(options):
        return None
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    canvas = fig.canvas
    if type(canvas) is not FigureCanvasAgg:
        return None
    dpi, pad, colors, transparent = _settings(fig, options, matplotlib.rcParams)
    with _Saving(fig, canvas, dpi, colors, transparent), _TickMemo(fig):
        if fig.patch.get_visible() and fig.patch.get_linewidth() > 0:
            return None  # savefig draws this frame around the tight box, not around the canvas
        canvas.draw()
        renderer = canvas.get_renderer()
        pixels = _cut(renderer, fig.get_tightbbox(renderer), pad, dpi)
        if pixels is None:
            return None
        return encode_png(pixels, dpi, matplotlib.__version__)


def _settings(fig, options, rc):
    """(dpi, pad_inches, {facecolor/edgecolor to set}, transparent) as Figure.savefig and
    print_figure resolve them from the options and rcParams["savefig.*"]."""
    dpi = options.get("dpi")
    if dpi is None:
        dpi = rc["savefig.dpi"]
    if dpi == "figure":
        dpi = getattr(fig, "_original_dpi", fig.dpi)
    pad = options.get("pad_inches")
    if pad is None:
        pad = rc["savefig.pad_inches"]
    transparent = options.get("transparent")
    if transparent is None:
        transparent = rc["savefig.transparent"]
    colors = {}
    for prop in ("facecolor", "edgecolor"):
        # Figure.savefig: transparent is a default for both colours; print_figure: None is rc's
        color = options[prop] if prop in options else ("none" if transparent else None)
        if color is None:
            color = rc["savefig." + prop]
        if not (isinstance(color, str) and color == "auto"):
            colors[prop] = color
    return dpi, pad, colors, transparent


def savefig(fig, fmt, options):
    """The bytes of fig.savefig(format=fmt, **options), with each axis laying its ticks out once
    per position (_TickMemo: the same bytes, a quarter less time on a figure with a legend
    outside its axes); savefig's own when that fails, so its error is the figure's."""
    buf = io.BytesIO()
    try:
        with _TickMemo(fig):
            fig.savefig(buf, format=fmt, **options)
    except Exception:
        buf = io.BytesIO()
        fig.savefig(buf, format=fmt, **options)
    return buf.getvalue()


class _Saving:
    """What print_figure sets while it saves (dpi, colours, pixel ratio, `_is_saving`) and
    savefig's transparent patches, restored after."""

    def __init__(self, fig, canvas, dpi, colors, transparent):
        self.fig, self.canvas, self.dpi = fig, canvas, dpi
        self.colors, self.transparent = colors, transparent

    def __enter__(self):
        fig, canvas = self.fig, self.canvas
        self.saved = (fig.dpi, fig.get_facecolor(), fig.get_edgecolor(),
                      canvas._device_pixel_ratio, canvas._is_saving)
        self.patches = [(ax.patch, ax.patch.get_facecolor(), ax.patch.get_edgecolor())
                        for ax in fig.axes] if self.transparent else []
        fig.dpi = self.dpi
        canvas._device_pixel_ratio = 1
        canvas._is_saving = True
        if "facecolor" in self.colors:
            fig.set_facecolor(self.colors["facecolor"])
        if "edgecolor" in self.colors:
            fig.set_edgecolor(self.colors["edgecolor"])
        for patch, _, _ in self.patches:
            patch.set_facecolor("none")
            patch.set_edgecolor("none")
        return self

    def __exit__(self, *exc):
        fig, canvas = self.fig, self.canvas
        dpi, face, edge, ratio, saving = self.saved
        for patch, pface, pedge in self.patches:
            patch.set_facecolor(pface)
            patch.set_edgecolor(pedge)
        fig.set_facecolor(face)
        fig.set_edgecolor(edge)
        canvas._device_pixel_ratio = ratio
        canvas._is_saving = saving
        fig.dpi = dpi
        return False


class _TickMemo:
    """While a figure is drawn and its tight box found, each axis lays its ticks out once.

    matplotlib lays out an axis's ticks (locator, formatter, the labels' boxes) twice as it draws
    it and twice more in get_tightbbox: the same figure, the same answer, 7 of get_tightbbox's
    11 ms on a line plot. Here each Axis of the figure answers _update_ticks and
    _get_ticklabel_bboxes from the last time it was asked, as long as what they depend on is
    unchanged: its view limits and its axes' box in pixels (which apply_aspect may move during
    the draw). The wrappers are instance attributes over matplotlib's methods, removed after."""

    def __init__(self, fig):
        self.axes = []
        for ax in fig.axes:
            axis_map = getattr(ax, "_axis_map", None)
            self.axes.extend(axis_map.values() if isinstance(axis_map, dict) else ())

    def __enter__(self):
        for axis in self.axes:
            _memoize_ticks(axis)
        return self

    def __exit__(self, *exc):
        for axis in self.axes:
            for name in ("_update_ticks", "_get_ticklabel_bboxes"):
                axis.__dict__.pop(name, None)
        return False


def _memoize_ticks(axis):
    update_ticks, label_boxes = axis._update_ticks, axis._get_ticklabel_bboxes
    memo = {}

    def state():
        return tuple(axis.get_view_interval()), axis.axes.bbox.bounds

    def memo_update_ticks():
        key = state()
        if memo.get("ticks_key") != key:
            memo.clear()  # the label boxes were of the ticks laid out before
            memo["ticks"] = update_ticks()
            memo["ticks_key"] = key
        return memo["ticks"]

    def memo_label_boxes(ticks, renderer=None):
        key = (state(), id(ticks), id(renderer))
        if memo.get("boxes_key") != key:
            memo["boxes"] = label_boxes(ticks, renderer)
            memo["boxes_key"] = key
        return memo["boxes"]

    axis._update_ticks, axis._get_ticklabel_bboxes = memo_update_ticks, memo_label_boxes


def _cut(renderer, box, pad, dpi):
    """The rendered RGBA pixels that savefig's tight canvas would hold (a numpy array, often a
    view of the renderer's buffer); None when the tight box is not inside the canvas.

    savefig's canvas is int(padded box size * dpi) pixels and shows the figure moved by the
    padded box's corner; Agg counts rows from the top of a canvas of whole pixels. The pad may
    reach past the canvas (an x label near the bottom edge, the usual case): savefig's figure
    background covers it there, and so does the canvas's outermost row or column, repeated. The
    box itself must keep a pixel clear of the edges, for the antialiased fringe of what touches
    it."""
    import numpy as np
    full = np.asarray(renderer.buffer_rgba())
    full_h, full_w = full.shape[:2]
    if box.x0 * dpi < 1 or box.y0 * dpi < 1 or box.x1 * dpi > full_w - 1 or \
            box.y1 * dpi > full_h - 1:
        return None
    box = box.padded(pad)
    width, height = int(box.width * dpi), int(box.height * dpi)
    left = int(round(box.x0 * dpi))
    top = int(round(full_h - height - box.y0 * dpi))
    bottom, right = top + height, left + width
    pixels = full[max(top, 0):min(bottom, full_h), max(left, 0):min(right, full_w)]
    if top < 0 or left < 0 or bottom > full_h or right > full_w:
        pixels = np.pad(pixels, ((max(-top, 0), max(bottom - full_h, 0)),
                                 (max(-left, 0), max(right - full_w, 0)), (0, 0)), mode="edge")
    return pixels


def encode_png(pixels, dpi, version):
    """A PNG of an (h, w, 4) uint8 RGBA array, with savefig's metadata (a Software text and the
    DPI in pHYs). Filter type None on every row, zlib level PNG_LEVEL: a matplotlib picture is
    mostly flat colour, where the None filter compresses as well as PIL's per-row choice, and
    choosing costs nothing. Measured (thread time, 640x480 canvases; PIL as savefig calls it /
    level 3 / level 4 / level 6): line plot 10.0 ms 16.9 KB / 1.8 ms 20.2 KB / 3.7 ms 15.3 KB /
    6.9 ms 15.3 KB; 2 000-point scatter 22.0 ms 203 KB / 6.0 ms 181 KB / 8.2 ms 170 KB /
    10.6 ms 168 KB; smooth imshow 29.5 ms 88 KB / 5.8 ms 107 KB / 5.6 ms 73 KB / 8.0 ms 69 KB.
    Level 3 is the fastest that stays within about a fifth of today's sizes."""
    import numpy as np
    height, width = pixels.shape[:2]
    rows = np.empty((height, width * 4 + 1), np.uint8)
    rows[:, 0] = 0  # filter type None
    rows[:, 1:] = pixels.reshape(height, width * 4)
    ppm = int(dpi / 0.0254 + 0.5)
    software = "Matplotlib version%s, https://matplotlib.org/" % version
    return b"".join((
        b"\x89PNG\r\n\x1a\n",
        _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)),
        _chunk(b"tEXt", b"Software\0" + software.encode("latin-1")),
        _chunk(b"pHYs", struct.pack(">IIB", ppm, ppm, 1)),
        _chunk(b"IDAT", zlib.compress(rows, PNG_LEVEL)),
        _chunk(b"IEND", b""),
    ))


def _chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + \
        struct.pack(">I", zlib.crc32(data, zlib.crc32(kind)))
