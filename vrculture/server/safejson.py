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
_FLOAT_MAX = sys.float_info.max  # about 1.8e308: a larger JSON integer fits no float
_SURROGATE = re.compile("[\ud800-\udfff]")


class JSONInputError(ValueError):
    """Refused JSON: an HTTP status (400: not JSON, 422: JSON we cannot hold), a short code,
    a message and the place in the document, if known."""

    def __init__(self, status: int, code: str, message: str, where: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.where = status, code, message, where


def _constant(name: str) -> Any:
    raise JSONInputError(400, "malformed", f"not valid JSON: {name} is not a JSON value")


def _scalar_problem(item: Any) -> str | None:
    """What is wrong with a string or number: "text", "number", or None."""
    kind = type(item)
    if kind is str:
        return "text" if not item.isascii() and _SURROGATE.search(item) else None
    if kind is float:
        return None if math.isfinite(item) else "number"
    if kind is int:
        return "number" if not -_FLOAT_MAX <= item <= _FLOAT_MAX else None
    return None


def _first_problem(value: Any) -> tuple[str, str] | None:
    """(what, where) of the first value the server cannot hold: "depth", "text" (a string or
    key with a lone surrogate) or "number" (beyond a float); `where` is a JSON path such as
    `$.readings[3].unit`. Iterative, so that depth alone cannot exhaust the stack."""
    stack: list[tuple[Any, str, int]] = [(value, "$", 1)]
    while stack:
        item, where, depth = stack.pop()
        if isinstance(item, dict):
            pairs: Any = item.items()
        elif isinstance(item, list):
            pairs = enumerate(item)
        else:
            problem = _scalar_problem(item)
            if problem:
                return problem, where
            continue
        if depth > MAX_DEPTH:
            return "depth", where
        for key, inner in pairs:
            path = f"{where}[{key}]" if isinstance(key, int) else f"{where}.{key}"
            if isinstance(key, str) and _scalar_problem(key):
                return "text", f"{where} (a field name)"
            stack.append((inner, path, depth + 1))
    return None


def _clean(value: Any) -> bool:
    """True when nothing in the document is a problem: the walk every request takes, so it
    builds no paths and leaves ASCII strings to one `isascii()` each."""
    stack: list[tuple[Any, int]] = [([value], 0)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            return False
        if type(item) is dict:
            for key in item:
                if not key.isascii() and _SURROGATE.search(key):
                    return False
            item = item.values()
        for inner in item:
            kind = type(inner)
            if kind is dict or kind is list:
                stack.append((inner, depth + 1))
            elif kind is str:
                if not inner.isascii() and _SURROGATE.search(inner):
                    return False
            elif kind is float:
                if not math.isfinite(inner):
                    return False
            elif kind is int and not -_FLOAT_MAX <= inner <= _FLOAT_MAX:
                return False
    return True


def loads(raw: bytes | str) -> Any:
    """The parsed document, or JSONInputError."""
    try:
        value = json.loads(raw, parse_constant=_constant)
    except JSONInputError:
        raise
    except RecursionError:
        raise JSONInputError(400, "malformed", f"not valid JSON here: nested more than "
                             f"{MAX_DEPTH} levels deep") from None
    except UnicodeDecodeError as error:
        raise JSONInputError(400, "malformed", f"not UTF-8: {error.reason} at byte "
                             f"{error.start}") from None
    except ValueError as error:  # JSONDecodeError; int() refusing over 4300 digits
        if "digits" in str(error) and not isinstance(error, json.JSONDecodeError):
            raise JSONInputError(422, "invalid_number", "a number has more than 4300 "
                                 "digits") from None
        raise JSONInputError(400, "malformed", f"not valid JSON: {error}") from None
    if _clean(value):
        return value
    what, where = _first_problem(value) or ("", "$")
    where = where[:128]
    if what == "depth":
        raise JSONInputError(400, "malformed", f"not valid JSON here: nested more than "
                             f"{MAX_DEPTH} levels deep")
    if what == "number":
        raise JSONInputError(422, "invalid_number", f"{where}: out of range (beyond "
                             "1.8e308)", where=where)
    raise JSONInputError(422, "invalid_text", f"{where}: holds an escaped lone surrogate "
                         "(\\ud800-\\udfff), which is not text", where=where)
