"""A DataFrame's text/plain and text/html, from the worker's formatter, are byte for byte what
repr() and _repr_html_() give in the same worker (what the worker sent before warden_pandas),
for frames narrower and wider than the terminal and under other display options; display()'s
include and exclude still hold."""

import pytest

pytest.importorskip("pandas")

FRAMES = r"""
import datetime, warden_display, warden_pandas
import numpy as np, pandas as pd
frames = {
    "bench": pd.DataFrame({'a': range(1000), 'b': [x*0.5 for x in range(1000)]}),
    "small": pd.DataFrame({'x': [1, 2, 3], 'y': ['a', None, 'c']}),
    "empty": pd.DataFrame(),
    "no rows": pd.DataFrame(columns=['a', 'b']),
    "wide": pd.DataFrame(np.arange(3000).reshape(100, 30)),
    "very wide": pd.DataFrame(np.arange(200).reshape(2, 100)),
    "nan and dates": pd.DataFrame({'t': pd.date_range('2020-01-01', periods=70),
                                   'v': [np.nan, 1.5] * 35}),
    "multiindex": pd.DataFrame({'v': range(6)},
                               index=pd.MultiIndex.from_product([['a', 'b'], [1, 2, 3]])),
    "unicode": pd.DataFrame({'名前': ['東京', 'é' * 5], 'n': [1, 2]}),
}
# three string columns (pandas keeps two whatever the width): tables of every width around
# the terminal's (80 columns)
natural = {}
for n in range(22, 42):
    df = frames["cols %d" % n] = pd.DataFrame({'s': ['x' * n] * 3, 't': ['y' * 20] * 3,
                                               'u': ['z' * 20] * 3})
    natural["cols %d" % n] = max(map(len, df.to_string().split("\n")))
assert 80 in natural.values() and 79 in natural.values()

def check():
    fast, bad = [], []
    for name, df in frames.items():
        data, _ = warden_display.format_object(df)
        if data['text/plain'] != repr(df) or data.get('text/html') != df._repr_html_():
            bad.append(name)
        if warden_pandas.frame_text(df) is not None:
            fast.append(name)
            assert warden_pandas.frame_bundle(df) is not None or \
                not pd.get_option("display.notebook_repr_html"), name
    return bad, fast, natural
"""

OPTIONS = [
    "pd.reset_option('all')",
    "pd.set_option('display.max_columns', 5)",
    "pd.set_option('display.expand_frame_repr', False)",
    "pd.set_option('display.large_repr', 'info')",
    "pd.set_option('display.max_rows', 0)",
    "pd.set_option('display.min_rows', 3)",
    "pd.set_option('display.show_dimensions', True)",
    "pd.set_option('display.notebook_repr_html', False)",
    "pd.set_option('display.max_colwidth', 5)",
    "pd.set_option('display.precision', 2)",
]


def test_dataframe_text_is_reprs(fresh):
    r = fresh.execute(FRAMES)
    assert r.status == "ok", r.error
    for option in OPTIONS:
        r = fresh.execute("import warnings\nwarnings.simplefilter('ignore')\n"
                          "pd.reset_option('all')\n%s\ncheck()" % option)
        assert r.status == "ok", r.error
        bad, fast, natural = eval(r.result["text/plain"])
        assert bad == [], option
        if option == OPTIONS[0]:
            # the fast path is taken where it can be (narrower than the terminal), and left
            # where it cannot
            assert "bench" in fast and "wide" not in fast, fast
            for name, width in natural.items():
                assert (name in fast) == (width < 80), (name, width)


def test_display_include_and_exclude_hold_for_dataframes(fresh):
    r = fresh.execute("import pandas as pd\ndf = pd.DataFrame({'a': range(3)})\n"
                      "display(df, include=['text/plain'])\ndisplay(df, exclude=['text/plain'])")
    assert r.status == "ok", r.error
    first, second = r.displays
    assert list(first["data"]) == ["text/plain"]
    assert "<table" in second["data"]["text/html"] and "text/plain" not in second["data"]
