"""How large a label's text is drawn.

bpmn-js renders external labels in 11px Arial (CJK falls back to a 1em wide font) and wraps
the text at the width of the label box.
"""

from __future__ import annotations

import math
import unicodedata

LABEL_FONT_PX = 11
LABEL_LINE_H = 14
LABEL_MAX_W = 90


def _char_width(ch: str) -> float:
    return LABEL_FONT_PX if unicodedata.east_asian_width(ch) in ("W", "F") else LABEL_FONT_PX * 0.56


def _text_width(text: str) -> float:
    return sum(_char_width(ch) for ch in text)


def _wrapped_size(width: float, lines: int) -> tuple[int, int]:
    if lines <= 1:
        return math.ceil(width) + 4, LABEL_LINE_H
    # diagram-js breaks a long CJK run one character earlier than would fit, so one
    # character of slack keeps the lines balanced instead of leaving a short tail.
    return math.ceil(width / lines + LABEL_FONT_PX), lines * LABEL_LINE_H


def label_size(text: str) -> tuple[int, int]:
    """Size of the label box; bpmn-js wraps the text at the box width."""
    width = _text_width(text)
    return _wrapped_size(width, math.ceil(width / (LABEL_MAX_W - 2)))


def label_sizes(text: str) -> list[tuple[int, int]]:
    """The natural label size first, then one more line, for spots too narrow for it."""
    width = _text_width(text)
    lines = math.ceil(width / (LABEL_MAX_W - 2))
    sizes = [_wrapped_size(width, lines)]
    if width >= 5 * LABEL_FONT_PX:
        sizes.append(_wrapped_size(width, lines + 1))
    return sizes
