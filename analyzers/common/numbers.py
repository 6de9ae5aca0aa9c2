"""Numbers written in host files: ASCII digits only.

``str.isdigit()`` is true for "²" and "٣", which ``int()`` then refuses or reads as another
number, and ``int()`` refuses more than 4,300 digits: a port, an id or a build number from a
customer's file is read here or not at all.
"""

from __future__ import annotations

import re

_DIGITS = re.compile(r"[0-9]{1,9}")


def ascii_int(text: object, default: int = 0) -> int:
    """``text`` as a non-negative int when it is 1–9 ASCII digits (surrounding blanks allowed), else ``default``."""
    if not isinstance(text, str):
        return default
    text = text.strip()
    return int(text) if _DIGITS.fullmatch(text) else default


def is_ascii_int(text: object) -> bool:
    return isinstance(text, str) and _DIGITS.fullmatch(text.strip()) is not None
