"""warden_channel's JSON text: the same characters as json.dumps (compact, ensure_ascii=False)
whichever of its two string escapers a string takes, and errors where json.dumps has them."""

import json
import math
import os
import random
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "sandbox", "runtime"))
import warden_channel  # noqa: E402

rng = random.Random(0)
STRINGS = ["", "abc", "a\"b\\c\n\t\x00\x1f", "\x7f", "x" * 1000 + "\x7f", "é", "東京 ok",
           "\ud800 lone surrogate", "emoji \U0001F600",
           "".join(chr(rng.randrange(0, 0x2000)) for _ in range(500)),
           "".join(chr(rng.randrange(0, 0x80)) for _ in range(500))]


@pytest.mark.parametrize("text", STRINGS, ids=range(len(STRINGS)))
def test_strings_encode_as_json_dumps_does(text):
    value = {"k": text, text: [text, 1, 2.5, None, True]}
    expected = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    assert warden_channel.encode_json(value) == expected


def test_non_json_values_still_raise():
    with pytest.raises(ValueError):
        warden_channel.encode_json({"x": math.nan})
    with pytest.raises(TypeError):
        warden_channel.encode_json({"x": object()})
    assert warden_channel.encode({"t": "x", "v": math.inf}) is None
