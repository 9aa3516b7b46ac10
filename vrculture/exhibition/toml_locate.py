"""Find the line of a key in a TOML file: `tomllib` keeps no positions, so scan the text.

A path is a tuple of table names, array-of-table indices and a final key, for example
("objects", 2, "annotations", 0, "title") for the title of the first annotation of the third
`[[objects]]`. The answer is the key's line, else its table's header line, else None.
"""

from __future__ import annotations

import re

_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r'^\s*("?)([A-Za-z0-9_.\-@]+)\1\s*=')


def _clean(name: str) -> str:
    return ".".join(part.strip().strip('"').strip("'") for part in name.split("."))


class TomlLocator:
    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        # (0-based line index, dotted table name, is_array_of_tables)
        self.headers: list[tuple[int, str, bool]] = []
        for i, line in enumerate(self.lines):
            m = _HEADER.match(line)
            if m:
                self.headers.append((i, _clean(m.group(2)), m.group(1) == "[["))

    def _next_header_after(self, index: int) -> int:
        for i, _, _ in self.headers:
            if i > index:
                return i
        return len(self.lines)

    def _key_line(self, start: int, end: int, key: str) -> int | None:
        for i in range(start, end):
            m = _KEY.match(self.lines[i])
            if m and m.group(2) == key:
                return i + 1
        return None

    def line_of(self, path: tuple[str | int, ...]) -> int | None:
        table = ""
        start, end = 0, len(self.lines)
        header_line: int | None = None
        parts = list(path)
        i = 0
        while i < len(parts):
            part = parts[i]
            nxt = parts[i + 1] if i + 1 < len(parts) else None
            name = f"{table}.{part}" if table else str(part)
            if isinstance(nxt, int):
                found = [h for h in self.headers if h[1] == name and h[2] and start <= h[0] < end]
                if nxt >= len(found):
                    # Written inline (`objects = [{...}]`): the best we know is the key itself.
                    return self._key_line(start, end, str(part)) or header_line
                line_index = found[nxt][0]
                # The array element ends at the next header of this array or of an ancestor.
                later = [h[0] for h in self.headers if h[0] > line_index
                         and not h[1].startswith(name + ".")]
                end = min(later) if later else len(self.lines)
                start = line_index
                header_line = line_index + 1
                table = name
                i += 2
                continue
            if nxt is None:
                # The final key: search the table body (before any sub-table header).
                body_end = self._next_header_after(start) if header_line else (
                    self.headers[0][0] if self.headers else len(self.lines))
                return self._key_line(start, min(body_end, end), str(part)) or header_line
            sub = [h for h in self.headers if h[1] == name and not h[2] and start <= h[0] < end]
            if not sub:
                return self._key_line(start, end, str(part)) or header_line
            start = sub[0][0]
            header_line = start + 1
            table = name
            i += 1
        return header_line
