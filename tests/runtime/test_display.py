"""Rich results, display(), IPython.display and matplotlib (and its shipped font list)."""

import base64

from wframes import RuntimeProc

RICH = '''
class Rich:
    def _repr_html_(self): return "<b>html</b>"
    def _repr_markdown_(self): return "*md*"
    def _repr_svg_(self): return "<svg></svg>"
    def _repr_png_(self): return b"\\x89PNG fake"
    def _repr_jpeg_(self): return b"\\xff\\xd8 fake"
    def _repr_latex_(self): return "$x^2$"
    def _repr_json_(self): return {"k": [1, 2]}
    def __repr__(self): return "Rich()"
Rich()
'''


def test_all_repr_methods(worker):
    r = worker.execute(RICH)
    assert r.result == {
        "text/html": "<b>html</b>", "text/markdown": "*md*", "image/svg+xml": "<svg></svg>",
        "image/png": base64.b64encode(b"\x89PNG fake").decode(),
        "image/jpeg": base64.b64encode(b"\xff\xd8 fake").decode(),
        "text/latex": "$x^2$", "application/json": {"k": [1, 2]}, "text/plain": "Rich()"}


def test_mimebundle_and_metadata(worker):
    r = worker.execute("class B:\n    def _repr_mimebundle_(self, include=None, exclude=None):\n"
                       "        return {'text/html': '<i>b</i>', 'text/plain': 'B!'}, "
                       "{'text/html': {'isolated': True}}\n"
                       "    def _repr_html_(self): return 'not used'\nB()")
    assert r.result == {"text/html": "<i>b</i>", "text/plain": "B!"}
    assert r.of("result")[0]["metadata"] == {"text/html": {"isolated": True}}


def test_failing_reprs_do_not_break_the_cell(worker):
    r = worker.execute("class Bad:\n    def _repr_html_(self): raise RuntimeError('html broke')\n"
                       "    def _repr_markdown_(self): return '*ok*'\n"
                       "    def __repr__(self): raise ValueError('repr broke')\nBad()")
    assert r.status == "ok"
    assert r.result["text/markdown"] == "*ok*"
    assert "text/html" not in r.result
    assert r.result["text/plain"].startswith("<Bad object at 0x")
    assert "html broke" in r.stderr and "repr broke" in r.stderr


def test_classes_show_their_repr_not_their_methods(worker):
    r = worker.execute("class H:\n    def _repr_html_(self): return 'x'\nH")
    assert r.result == {"text/plain": "<class '__main__.H'>"}


def test_long_containers_are_pretty_printed(worker):
    r = worker.execute("list(range(40))")
    assert r.result["text/plain"].count("\n") >= 5
    assert worker.execute("[1, 2]").result["text/plain"] == "[1, 2]"


def test_dataframe_renders_as_html_table(worker):
    r = worker.execute("import pandas as pd\npd.DataFrame({'col_a': [1, 2], 'col_b': ['x', 'y']})")
    assert "<table" in r.result["text/html"] and "col_a" in r.result["text/html"]
    assert "col_b" in r.result["text/plain"]


def test_builtin_display_without_importing_ipython(fresh):
    r = fresh.execute("display('a', {'b': 1})\nh = display(display_id='d1')\n"
                      "h.update('later')\nimport sys\n'IPython' in sys.modules")
    d = r.displays
    assert [x["data"] for x in d] == [{"text/plain": "'a'"}, {"text/plain": "{'b': 1}"}, {},
                                      {"text/plain": "'later'"}]
    assert d[2]["transient"] == {"display_id": "d1"} and d[2]["update"] is False
    assert d[3]["transient"] == {"display_id": "d1"} and d[3]["update"] is True
    assert r.result == {"text/plain": "False"}


def test_ipython_display_works_unchanged(worker):
    r = worker.execute(
        "from IPython.display import display, HTML, Markdown, Image, clear_output, update_display\n"
        "h = display(HTML('<b>one</b>'), display_id=True)\n"
        "h.update(Markdown('*two*'))\n"
        "update_display(HTML('<b>three</b>'), display_id=h.display_id)\n"
        "display(Image(data=b'\\x89PNG\\r\\n\\x1a\\nrest', format='png'))\n"
        "clear_output(wait=True)\n"
        "clear_output()\n"
        "type(h).__module__")
    frames = [f for f in r.frames if f["t"] in ("display", "clear")]
    did = frames[0]["transient"]["display_id"]
    assert frames[0]["data"]["text/html"] == "<b>one</b>" and frames[0]["update"] is False
    assert frames[1]["data"]["text/markdown"] == "*two*" and frames[1]["update"] is True
    assert frames[2]["data"]["text/html"] == "<b>three</b>" and frames[2]["update"] is True
    assert frames[1]["transient"] == frames[2]["transient"] == {"display_id": did}
    assert base64.b64decode(frames[3]["data"]["image/png"]).startswith(b"\x89PNG")
    assert frames[3]["transient"] == {}
    assert frames[4] == {"t": "clear", "id": r.frames[0]["id"], "wait": True}
    assert frames[5]["wait"] is False
    assert r.result["text/plain"] == "'IPython.core.display_functions'"


def test_display_output_follows_earlier_prints(worker):
    r = worker.execute("print('before')\ndisplay('shown')\nprint('after')")
    assert r.kinds == ["stream", "display", "stream", "done"]
    assert r.frames[0]["text"] == "before\n" and r.frames[2]["text"] == "after\n"


def _png(data):
    return base64.b64decode(data["image/png"]).startswith(b"\x89PNG\r\n\x1a\n")


def test_matplotlib_show_and_unshown_figures(fresh):
    r = fresh.execute("import sys\n'matplotlib.pyplot' in sys.modules, "
                      "__import__('os').environ['MPLBACKEND']")
    assert r.result["text/plain"] == "(False, 'Agg')"  # the runtime never imports pyplot
    r = fresh.execute("import matplotlib.pyplot as plt\nplt.plot([1, 2, 3])\nplt.show()\n"
                      "print('between')\nfig = plt.figure()\nplt.bar([1], [2])\n"
                      "print(plt.get_backend())")
    kinds = r.kinds
    assert kinds == ["display", "stream", "display", "done"], kinds
    first, last = r.displays
    assert _png(first["data"]) and _png(last["data"])
    assert first["data"]["text/plain"] == "<Figure size 640x480 with 1 Axes>"
    assert r.stdout == "between\nagg\n"
    r = fresh.execute("len(plt.get_fignums())")
    assert r.result == {"text/plain": "0"} and not r.displays  # all closed once shown


def test_figure_as_value_renders_png_once(worker):
    r = worker.execute("import matplotlib.pyplot as plt\nfig, ax = plt.subplots()\n"
                      "ax.plot([0, 1])\nfig")
    assert _png(r.result)
    assert r.result["text/plain"] == "<Figure size 640x480 with 1 Axes>"
    assert not r.displays  # not flushed a second time at the end of the cell


def test_figure_flushed_after_an_error(worker):
    r = worker.execute("import matplotlib.pyplot as plt\nplt.plot([1])\n1/0")
    assert r.kinds == ["error", "display", "done"]
    assert r.status == "error"


def test_output_beyond_the_frame_limit_keeps_text_plain(worker):
    r = worker.execute("class Huge:\n    def _repr_html_(self): return 'x' * (33 << 20)\n"
                       "    def __repr__(self): return 'Huge()'\nHuge()")
    assert r.result == {"text/plain": "Huge()"}
    assert "frame limit" in r.stderr and r.status == "ok"


def test_shipped_font_list_seeds_an_empty_cache(tmp_path):
    """A fresh jail's home has no matplotlib cache: the font list built with warden is copied in
    when matplotlib is imported, and font_manager uses it as it is (no rescan of the fonts)."""
    with RuntimeProc(env={"MPLCONFIGDIR": str(tmp_path / "mpl")}, cwd=tmp_path) as w:
        r = w.execute("import os, matplotlib, warden_mpl\n"
                      "shipped = sorted(os.listdir(warden_mpl.SHIPPED_CACHE))\n"
                      "cache = matplotlib.get_cachedir()\n"
                      "(shipped, sorted(n for n in os.listdir(cache) if n.startswith('font')))")
        shipped, seeded = eval(r.result["text/plain"])
        assert shipped and shipped[0].startswith("fontlist-"), r.frames
        assert seeded == shipped, r.frames
        r = w.execute("import matplotlib.font_manager as fm\n"
                      "def read(d): return open(os.path.join(d, shipped[0]), 'rb').read()\n"
                      "(read(cache) == read(warden_mpl.SHIPPED_CACHE), len(fm.fontManager.ttflist) > 0)")
        assert r.result["text/plain"] == "(True, True)", r.frames


def test_an_existing_font_list_is_left_alone(tmp_path):
    cache = tmp_path / "mpl"
    cache.mkdir()
    with RuntimeProc(env={"MPLCONFIGDIR": str(cache)}, cwd=tmp_path) as w:
        r = w.execute("import os, warden_mpl\nsorted(os.listdir(warden_mpl.SHIPPED_CACHE))")
        name = eval(r.result["text/plain"])[0]
        (cache / name).write_text("{}")  # the user's own (here: a broken) list
        r = w.execute("import matplotlib\nopen(os.path.join(matplotlib.get_cachedir(), %r)).read()"
                      % name)
        assert r.result["text/plain"] == "'{}'", r.frames
