"""A pandas DataFrame's text/plain: the characters repr() gives, laid out once instead of twice.

In the worker pandas believes it runs in a terminal (there is no IPython kernel), so
display.max_columns is 0 and repr(DataFrame) fits the table to the terminal's width: it lays the
table out, measures its lines through pandas Series, then lays it out again with the columns
that fit (2.3 of repr's 3.4 ms for the bench's 1 000-row frame). When every line of the first
layout is narrower than the terminal, no column is dropped and the second layout is the first:
to_string with repr's own parameters but no line width returns exactly those characters. Any
other case (a table as wide as the terminal, other display options, a DataFrame subclass, an
error) is repr()'s.
"""

__builtins__ = dict(__import__("builtins").__dict__)  # private copy: user code may replace builtins

import warden_display


def on_pandas(pandas):
    """Called once pandas is imported."""
    warden_display.register_text_formatter(pandas.DataFrame, frame_text)


def frame_text(frame):
    """repr(frame), or None for repr() itself to give it."""
    try:
        import shutil  # here, not at start-up: it imports re
        import pandas
        from pandas.io.formats import format as fmt
        if type(frame) is not pandas.DataFrame or \
                pandas.get_option("display.large_repr") != "truncate":
            return None  # a subclass's own __repr__, or the info() summary
        params = fmt.get_dataframe_repr_params()
        if params.get("max_cols") != 0 or params.get("line_width") is None:
            return None  # repr lays the table out once anyway
        text = frame.to_string(**dict(params, line_width=None))
        # pandas' get_terminal_size is shutil's; a line of `width` characters would make it
        # drop a column (string.py, _fit_strcols_to_terminal_width)
        width = shutil.get_terminal_size()[0]
        if not isinstance(text, str) or max(map(len, text.split("\n"))) >= width:
            return None
        return text
    except Exception:
        return None
