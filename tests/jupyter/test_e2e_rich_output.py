"""End-to-end, rich output (through jupyter_client, tests/harness/): pandas tables, matplotlib
figures, IPython.display objects, rich reprs of a result, display updates and clear_output."""

import base64

from e2e_helpers import ok, result_text, warden_only
from harness import python


PNG_1PX = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC")


@warden_only
def test_jailed_matplotlib_starts_from_the_shipped_font_list(kernel):
    """The jail's home is empty: the font list shipped with the runtime is what font_manager
    loads (no scan of the system's fonts on the first plot)."""
    r = ok(kernel.run(python(
        "import os, matplotlib, matplotlib.font_manager, warden_mpl\n"
        "names = [n for n in os.listdir(warden_mpl.SHIPPED_CACHE) if n.startswith('fontlist-')]\n"
        "def read(d): return open(os.path.join(d, names[0]), 'rb').read()\n"
        "(len(names), read(matplotlib.get_cachedir()) == read(warden_mpl.SHIPPED_CACHE))"),
        timeout=60))
    assert result_text(r) == "(1, True)", r.summary()


def test_dataframe_renders_as_html_table(kernel):
    r = ok(kernel.run(python("import pandas as pd\n"
                             "pd.DataFrame({'a': [1, 2], 'b': ['x', 'y']})")))
    assert len(r.results) == 1, r.summary()
    data = r.results[0]
    assert "<table" in data["text/html"]
    assert "text/plain" in data and "a" in data["text/plain"]


def test_matplotlib_show_publishes_png(kernel):
    r = ok(kernel.run(python("import matplotlib.pyplot as plt\n"
                             "plt.plot([1, 2, 3], [3, 1, 2])\nplt.title('t')\nplt.show()"),
                      timeout=120))
    pngs = [d for d in r.displays if "image/png" in d]
    assert len(pngs) == 1, r.summary()
    assert "text/plain" in pngs[0]
    assert base64.b64decode(pngs[0]["image/png"])[:8] == b"\x89PNG\r\n\x1a\n"
    # shown figures are closed: the next cell publishes nothing
    r = ok(kernel.run(python("x = 1")))
    assert r.displays == []


def test_open_figure_flushed_at_end_of_cell(kernel):
    r = ok(kernel.run(python("import matplotlib.pyplot as plt\nfig, ax = plt.subplots()\n"
                             "ax.bar(['a', 'b'], [1, 2])\nNone"), timeout=120))
    assert [d for d in r.displays if "image/png" in d], r.summary()


def test_ipython_display_html_markdown_image(kernel):
    r = ok(kernel.run(python(
        "import base64\nfrom IPython.display import display, HTML, Markdown, Image\n"
        "display(HTML('<i>html</i>'))\ndisplay(Markdown('**md**'))\n"
        f"display(Image(data=base64.b64decode({base64.b64encode(PNG_1PX).decode()!r})))")))
    assert len(r.displays) == 3, r.summary()
    html, md, img = r.displays
    assert html["text/html"] == "<i>html</i>"
    assert md["text/markdown"] == "**md**"
    assert base64.b64decode(img["image/png"]) == PNG_1PX
    for d in r.displays:
        assert "text/plain" in d


def test_rich_reprs_of_the_result(kernel):
    r = ok(kernel.run(python(
        "class Rich:\n"
        "    def __repr__(self): return 'Rich()'\n"
        "    def _repr_html_(self): return '<b>rich</b>'\n"
        "    def _repr_markdown_(self): return '*rich*'\n"
        "    def _repr_latex_(self): return '$r$'\n"
        "    def _repr_json_(self): return {'rich': 1}\n"
        "    def _repr_svg_(self): return '<svg xmlns=\"http://www.w3.org/2000/svg\"></svg>'\n"
        "Rich()")))
    data = r.results[0]
    assert data["text/plain"] == "Rich()"
    assert data["text/html"] == "<b>rich</b>"
    assert data["text/markdown"] == "*rich*"
    assert data["text/latex"] == "$r$"
    assert data["application/json"] == {"rich": 1}
    assert "<svg" in data["image/svg+xml"]


def test_update_display(kernel):
    # Updates of one display within a cell may be coalesced (only the latest matters to what is
    # shown), so each cell checks the display's final content.
    r = ok(kernel.run(python(
        "from IPython.display import display, update_display\n"
        "h = display('first', display_id=True)\n"
        "h.update('second')")))
    kinds = [t for t, c in r.outputs]
    assert kinds[0] == "display_data" and set(kinds[1:]) == {"update_display_data"}, r.summary()
    display_id = r.outputs[0][1].get("transient", {}).get("display_id")
    assert display_id, r.summary()
    assert r.outputs[0][1]["data"]["text/plain"] == "'first'"
    assert r.outputs[-1][1]["data"]["text/plain"] == "'second'"
    assert all(c["transient"]["display_id"] == display_id for t, c in r.outputs[1:])

    r = ok(kernel.run(python("update_display('third', display_id=h.display_id)\n"
                             "h2 = display('shown again', display_id=h.display_id)")))
    kinds = [t for t, c in r.outputs]
    assert kinds == ["update_display_data", "display_data"], r.summary()
    assert [c["data"]["text/plain"] for t, c in r.outputs] == ["'third'", "'shown again'"]
    assert all(c["transient"]["display_id"] == display_id for t, c in r.outputs)


def test_clear_output(kernel):
    r = ok(kernel.run(python(
        "from IPython.display import clear_output\n"
        "print('a', flush=True)\nclear_output()\nprint('b', flush=True)\n"
        "clear_output(wait=True)\nprint('c')")))
    seq = [(t, c.get("text", c.get("wait"))) for t, c in r.outputs]
    assert seq == [("stream", "a\n"), ("clear_output", False), ("stream", "b\n"),
                   ("clear_output", True), ("stream", "c\n")], r.summary()
