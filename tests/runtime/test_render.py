"""warden_render: the one-draw tight PNG against savefig's two draws, pixel by pixel, and the
tick-layout memo against matplotlib without it, bit for bit. In-process (matplotlib on Agg)."""

import datetime
import io
import os
import sys

import pytest

np = pytest.importorskip("numpy")
# Agg through matplotlib.use, not MPLBACKEND: kernels that later tests start inherit os.environ
pytest.importorskip("matplotlib").use("Agg")
plt = pytest.importorskip("matplotlib.pyplot")
Image = pytest.importorskip("PIL.Image")

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "sandbox", "runtime"))
import warden_render  # noqa: E402


def line():
    fig = plt.figure()
    plt.plot([1, 2, 3], [1, 4, 9])
    return fig


def scatter_legend_outside():
    fig = plt.figure()
    rng = np.random.default_rng(1)
    plt.scatter(rng.random(50), rng.random(50), label="points")
    plt.legend(loc="upper left", bbox_to_anchor=(1.02, 1))
    return fig


def subplots():
    fig, axs = plt.subplots(2, 2)
    for i, ax in enumerate(axs.flat):
        ax.plot(np.arange(10) ** i)
    axs[0, 0].set_title("title")
    return fig


def colorbar():
    fig = plt.figure()
    plt.imshow(np.arange(100).reshape(10, 10))
    plt.colorbar()
    return fig


def text():
    fig = plt.figure()
    plt.plot([0, 1])
    plt.text(0.5, 0.5, "hello $x^2$", fontsize=20)
    plt.xlabel("x label")
    plt.ylabel("y label")
    plt.title("T")
    return fig


def constrained():
    fig, axs = plt.subplots(2, 2, layout="constrained")
    for i, ax in enumerate(axs.flat):
        ax.plot(np.arange(10) ** i)
    axs[0, 0].set_xlabel("x")
    fig.suptitle("suptitle")
    return fig


def tight_layout():
    fig = colorbar()
    fig.set_layout_engine("tight")
    return fig


# Each takes the one-draw path with every option set below.
ONE_DRAW = [line, subplots, colorbar, text, constrained, tight_layout]
OPTIONS = [{}, {"dpi": 200}, {"transparent": True}, {"facecolor": "yellow", "pad_inches": 0.3},
           {"transparent": True, "facecolor": "yellow"}]


def savefig_png(fig, options):
    buf = io.BytesIO()
    fig.savefig(buf, format="png", **options)
    return buf.getvalue()


def decode(png):
    image = Image.open(io.BytesIO(png))
    return np.asarray(image).astype(int), image.info


def differences(a, b):
    """(mean absolute difference per channel, share of pixels that no pixel of the other
    image within one pixel matches to 48 levels): a half-pixel shift of antialiased edges
    changes the first a little and the second hardly at all; a misplaced cut or a missing
    element changes both."""
    mean = np.abs(a - b).mean()
    h, w = a.shape[:2]
    padded = np.pad(b, ((1, 1), (1, 1), (0, 0)), mode="edge")
    best = np.full((h, w), 1 << 20)
    for dy in (0, 1, 2):
        for dx in (0, 1, 2):
            near = np.abs(a - padded[dy:dy + h, dx:dx + w]).max(axis=2)
            best = np.minimum(best, near)
    return mean, (best > 48).mean()


@pytest.mark.parametrize("options", OPTIONS, ids=lambda o: ",".join(o) or "default")
@pytest.mark.parametrize("make", ONE_DRAW, ids=lambda f: f.__name__)
def test_one_draw_png_is_savefigs_picture(make, options):
    options = dict(options, bbox_inches="tight")
    # two figures: a tight layout engine moves the axes a little at every draw
    fig, other = make(), make()
    try:
        ours = warden_render.tight_png(fig, options)
        theirs = savefig_png(other, options)
    finally:
        plt.close(fig)
        plt.close(other)
    assert ours is not None, "this figure should not need savefig"
    a, a_info = decode(ours)
    b, b_info = decode(theirs)
    assert a.shape == b.shape  # savefig's size in pixels, exactly
    assert a_info.get("dpi") == b_info.get("dpi") and a_info.get("Software") == b_info["Software"]
    mean, unmatched = differences(a, b)
    assert mean < 3.0 and unmatched < 0.003, (mean, unmatched)


def test_the_comparison_sees_a_cut_two_pixels_off():
    """The bound above fails a cut two pixels off (one pixel is within what it allows: the
    one-draw picture is up to half a pixel off already)."""
    fig = subplots()
    try:
        theirs, _ = decode(savefig_png(fig, {"bbox_inches": "tight"}))
    finally:
        plt.close(fig)
    shifted = np.pad(theirs[2:, 2:], ((0, 2), (0, 2), (0, 0)), mode="edge")
    mean, unmatched = differences(shifted, theirs)
    assert mean >= 3.0 or unmatched >= 0.003, (mean, unmatched)


def outside_canvas():
    fig = plt.figure()
    plt.plot([0, 1])
    plt.text(1.3, 0.5, "far outside the axes and the figure")
    return fig


def framed():
    fig = plt.figure(linewidth=3, edgecolor="red")
    plt.plot([0, 1])
    return fig


@pytest.mark.parametrize("make, options", [
    (scatter_legend_outside, {"bbox_inches": "tight"}),
    (outside_canvas, {"bbox_inches": "tight"}),
    (framed, {"bbox_inches": "tight"}),
    (line, {}),
    (line, {"bbox_inches": "tight", "metadata": {"Title": "t"}}),
], ids=["legend-outside", "text-outside", "frame", "not-tight", "metadata"])
def test_what_needs_savefig_gets_none(make, options):
    fig = make()
    try:
        assert warden_render.tight_png(fig, options) is None
        assert not any("_update_ticks" in vars(axis) for ax in fig.axes
                       for axis in (ax.xaxis, ax.yaxis))
    finally:
        plt.close(fig)


def zoo():
    """Figures whose axes share limits, keep an aspect, sit inside others, or are not
    Cartesian: the tick memo must change no pixel and no box of any of them."""
    fig, axs = plt.subplots(2, 2, sharex=True, sharey="row")
    for i, ax in enumerate(axs.flat):
        ax.plot(np.arange(10) ** i)
    yield fig
    fig, axs = plt.subplots(1, 2, sharey=True)
    axs[0].set_aspect("equal")
    axs[0].plot([0, 10], [0, 1])
    axs[1].plot([0, 1], [0, 5])
    yield fig
    fig, ax = plt.subplots()
    ax.set_aspect("equal", adjustable="datalim")
    ax.plot([0, 10], [0, 1])
    yield fig
    fig, ax = plt.subplots()
    ax.plot([1, 2])
    ax.twinx().plot([10, 1], "r")
    ax.inset_axes([0.5, 0.5, 0.4, 0.4]).plot([2, 1])
    yield fig
    yield colorbar()
    fig = plt.figure()
    days = [datetime.date(2020, 1, 1) + datetime.timedelta(days=30 * i) for i in range(12)]
    plt.semilogy(days, np.arange(1, 13) * 1e6)
    fig.autofmt_xdate()
    yield fig
    fig = plt.figure()
    fig.add_subplot(1, 2, 1, projection="polar").plot(np.linspace(0, 6, 50), np.linspace(0, 1, 50))
    fig.add_subplot(1, 2, 2, projection="3d").plot([0, 1], [0, 1], [0, 1])
    yield fig


def drawn(fig, memo):
    if memo:
        with warden_render._TickMemo(fig):
            return drawn(fig, False)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    return np.asarray(renderer.buffer_rgba()).copy(), fig.get_tightbbox(renderer).bounds


def test_tick_memo_changes_nothing():
    for plain, memoized in zip(zoo(), zoo()):
        try:
            pixels, box = drawn(plain, memo=False)
            memo_pixels, memo_box = drawn(memoized, memo=True)
            assert memo_box == box
            assert np.array_equal(memo_pixels, pixels)
            assert not any("_update_ticks" in vars(axis) for ax in memoized.axes
                           for axis in (ax.xaxis, ax.yaxis))
        finally:
            plt.close(plain)
            plt.close(memoized)


def test_png_encoder_round_trips():
    rng = np.random.default_rng(2)
    pixels = rng.integers(0, 256, (7, 5, 4), dtype=np.uint8)
    png = warden_render.encode_png(pixels, 150, "9.9")
    image = Image.open(io.BytesIO(png))
    assert image.mode == "RGBA" and np.array_equal(np.asarray(image), pixels)
    assert image.info["Software"] == "Matplotlib version9.9, https://matplotlib.org/"
    assert [round(v) for v in image.info["dpi"]] == [150, 150]


def test_the_figure_is_left_as_it_was():
    fig = text()
    try:
        before = (fig.dpi, fig.get_facecolor(), fig.get_edgecolor(), fig.canvas._is_saving,
                  [ax.patch.get_facecolor() for ax in fig.axes])
        options = {"bbox_inches": "tight", "dpi": 200, "transparent": True, "edgecolor": "red"}
        assert warden_render.tight_png(fig, options) is not None
        after = (fig.dpi, fig.get_facecolor(), fig.get_edgecolor(), fig.canvas._is_saving,
                 [ax.patch.get_facecolor() for ax in fig.axes])
        assert after == before
    finally:
        plt.close(fig)


@pytest.mark.parametrize("fmt", ["png", "pdf", "jpeg"])
def test_savefig_with_the_tick_memo_gives_savefigs_bytes(fmt):
    """savefig's own path (what the one-draw path leaves to it, and the other formats) with the
    memo: the same file, byte for byte. (Not SVG: its clip path ids hash Python object ids, so
    two equal figures never give the same SVG.)"""
    options = {"bbox_inches": "tight"}
    if fmt == "pdf":
        options["metadata"] = {"CreationDate": None}
    makers = [scatter_legend_outside, outside_canvas, framed, subplots, constrained]
    with plt.rc_context({"figure.max_open_warning": 0}):
        for plain, memoized in zip([make() for make in makers] + list(zoo()),
                                   [make() for make in makers] + list(zoo())):
            try:
                buf = io.BytesIO()
                plain.savefig(buf, format=fmt, **options)
                assert warden_render.savefig(memoized, fmt, options) == buf.getvalue()
            finally:
                plt.close(plain)
                plt.close(memoized)
