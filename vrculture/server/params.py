"""Whole numbers in query parameters and headers, read with ASCII-only full matches.

`str.isdigit()` is true for "²" and "٣", which `int()` then refuses or reads as another number;
a full match of [0-9] with a bounded length admits only what `int()` reads as written.
"""

from __future__ import annotations

import re

_DIGITS = {digits: re.compile(f"[0-9]{{1,{digits}}}") for digits in (9, 18)}


def whole_number(text: str, max_digits: int = 9) -> int | None:
    """The number `text` spells in ASCII digits (at most `max_digits`: 9 or 18), else None."""
    if _DIGITS[max_digits].fullmatch(text) is None:
        return None
    return int(text)
