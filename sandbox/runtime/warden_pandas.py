"""A pandas DataFrame's text/plain and text/html: the characters repr() and _repr_html_() give,
from one layout and one formatting of the shown cells instead of three of each.

In the worker pandas believes it runs in a terminal (there is no IPython kernel), so
display.max_columns is 0 and repr(DataFrame) fits the table to the terminal's width: it lays the
table out, measures its lines through pandas Series, then lays it out again with the columns
that fit (2.3 of repr's 3.4 ms for the bench's 1 000-row frame). When every line of the first
layout is narrower than the terminal, no column is dropped and the second layout is the first:
to_string with repr's own parameters but no line width returns exactly those characters. And
_repr_html_ builds a formatter of its own, with the same parameters but bold row labels (which
only HTML reads), that cuts the frame to its shown rows and formats their cells once more. Here
one formatter serves both, each column's cells formatted once (text and HTML 2.5 -> 1.2 ms).
Any other case (a table as wide as the terminal, other display options, a DataFrame subclass,
an error) is repr()'s and _repr_html_()'s.
"""

__builtins__ = dict(__import__("builtins").__dict__)  # private copy: user code may replace builtins

import warden_display


def on_pandas(pandas):
    """Called once pandas is imported."""
    warden_display.register_type_formatter(pandas.DataFrame, frame_bundle)
    warden_display.register_text_formatter(pandas.DataFrame, frame_text)


def frame_bundle(frame):
    """({"text/plain": repr(frame), "text/html": frame._repr_html_()}, {}), or None for the
    usual formatting to give them."""
    try:
        import pandas
        from pandas.io.formats import format as fmt
        params = _repr_params(frame)
        if params is None or not pandas.get_option("display.notebook_repr_html"):
            return None
        with pandas.option_context("display.max_colwidth", params["max_colwidth"]):
            formatter = fmt.DataFrameFormatter(
                frame, columns=None, col_space=None, na_rep="NaN", formatters=None,
                float_format=None, sparsify=None, justify=None, index_names=True, header=True,
                index=True, bold_rows=True, escape=True, max_rows=params["max_rows"],
                min_rows=params["min_rows"], max_cols=params["max_cols"],
                show_dimensions=params["show_dimensions"], decimal=".")
            _format_columns_once(formatter)
            text = fmt.DataFrameRenderer(formatter).to_string(line_width=None)
            if not _fits(text):
                return None
            html = fmt.DataFrameRenderer(formatter).to_html(notebook=True)
        if not isinstance(html, str):
            return None
        return {"text/plain": text, "text/html": html}, {}
    except Exception:
        return None


def frame_text(frame):
    """repr(frame), or None for repr() itself to give it."""
    try:
        params = _repr_params(frame)
        if params is None:
            return None
        text = frame.to_string(**dict(params, line_width=None))
        return text if _fits(text) else None
    except Exception:
        return None


def _repr_params(frame):
    """repr's to_string parameters when repr would fit the table to the terminal, else None."""
    import pandas
    from pandas.io.formats import format as fmt
    if type(frame) is not pandas.DataFrame or \
            pandas.get_option("display.large_repr") != "truncate":
        return None  # a subclass's own __repr__, or the info() summary
    params = fmt.get_dataframe_repr_params()
    if params.get("max_cols") != 0 or params.get("line_width") is None:
        return None  # repr lays the table out once anyway
    return params


def _fits(text):
    """No line as wide as the terminal: a line of `width` characters would make repr drop a
    column (pandas' string.py, _fit_strcols_to_terminal_width; its get_terminal_size is
    shutil's)."""
    import shutil  # here, not at start-up: it imports re
    width = shutil.get_terminal_size()[0]
    return isinstance(text, str) and max(map(len, text.split("\n"))) < width


def _format_columns_once(formatter):
    """The text and the HTML renderer each ask the formatter for every shown column's cells:
    answer the second from the first (a copy: a renderer may change its list)."""
    format_col = formatter.format_col
    done = {}

    def format_col_once(i):
        if i not in done:
            done[i] = format_col(i)
        return list(done[i])

    formatter.format_col = format_col_once
