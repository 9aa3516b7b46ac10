"""JSON from clients, parsed as hostile input: every value that comes out can be stored, compared
and sent on again.

Valid JSON can still hold what the rest of the server cannot handle: an escaped lone surrogate
("\\ud800") that UTF-8 cannot encode (the reply, the database row or the WebSocket frame that
carries it fails later, far from the request), an integer of 5000 digits (Python refuses to
convert it) or of 310 digits (beyond a float), 1e999 (infinity), or nesting deep enough to
exhaust the stack. All are refused here, before anything is stored.
"""

from __future__ import annotations

import json
import math
import re
import sys
from typing import Any

MAX_DEPTH = 32  # our documents are at most 3 levels deep; this bounds every later walk
MAX_INT_DIGITS = 309  # the digits of the largest finite float (about 1.8e308)
_SURROGATE = re.compile("[\ud800-\udfff]")


class JSONInputError(ValueError):
    """Refused JSON: an HTTP status (400: not JSON, 422: JSON we cannot hold), a short code,
    a message and the place in the document, if known."""

    def __init__(self, status: int, code: str, message: str, where: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.where = status, code, message, where


def _int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise JSONInputError(422, "invalid_number", f"a number of {len(text)} digits is out "
                             "of range")
    value = int(text)
    if abs(value) > sys.float_info.max:
        raise JSONInputError(422, "invalid_number", "a number is out of range")
    return value


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise JSONInputError(422, "invalid_number", f"{text[:32]}: out of range")
    return value


def _constant(name: str) -> Any:
    raise JSONInputError(400, "malformed", f"not valid JSON: {name} is not a JSON value")


def unencodable(value: Any) -> str | None:
    """Where (a JSON path such as `$.readings[3].unit`) the first string or key is that UTF-8
    cannot encode (a lone surrogate), or None when there is none. Walks without recursion."""
    stack: list[tuple[Any, str]] = [(value, "$")]
    while stack:
        item, where = stack.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                return where
        elif isinstance(item, dict):
            for key, inner in item.items():
                if isinstance(key, str) and _SURROGATE.search(key):
                    return f"{where} (a field name)"
                stack.append((inner, f"{where}.{key}"))
        elif isinstance(item, list):
            stack.extend((inner, f"{where}[{i}]") for i, inner in enumerate(item))
    return None


def _depth(value: Any) -> int:
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            if depth > MAX_DEPTH:
                return depth
            inner = item.values() if isinstance(item, dict) else item
            stack.extend((v, depth + 1) for v in inner if isinstance(v, dict | list))
    return deepest


def loads(raw: bytes | str) -> Any:
    """The parsed document, or JSONInputError."""
    try:
        value = json.loads(raw, parse_int=_int, parse_float=_float, parse_constant=_constant)
    except JSONInputError:
        raise
    except RecursionError:
        raise JSONInputError(400, "malformed", f"not valid JSON here: nested more than "
                             f"{MAX_DEPTH} levels deep") from None
    except UnicodeDecodeError as error:
        raise JSONInputError(400, "malformed", f"not UTF-8: {error.reason} at byte "
                             f"{error.start}") from None
    except ValueError as error:  # JSONDecodeError, and anything else the parser refuses
        raise JSONInputError(400, "malformed", f"not valid JSON: {error}") from None
    if _depth(value) > MAX_DEPTH:
        raise JSONInputError(400, "malformed", f"not valid JSON here: nested more than "
                             f"{MAX_DEPTH} levels deep")
    where = unencodable(value)
    if where is not None:
        raise JSONInputError(422, "invalid_text", f"{where[:128]}: holds an escaped lone "
                             "surrogate (\\ud800-\\udfff), which is not text", where=where[:128])
    return value
