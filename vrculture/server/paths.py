"""Resolving a URL path inside a served folder, refusing anything that could leave it.

A module of its own, with no server imports: the registry checks bundle references with it at
load time, and the file routes use it per request.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path


@lru_cache(maxsize=16384)
def safe_join(root: Path, relative: str) -> Path | None:
    """`root/relative` if it names something inside root, else None.

    `root` must already be resolved. Dot segments, empty segments, hidden names, backslashes
    and NUL are refused outright; the resolved result must still lie inside root, so a symlink
    pointing out of the folder is refused too.

    Results are cached: resolving costs a few lstat calls per path component, more than the
    rest of serving a small file. Published bundle versions never change, and whoever can plant
    symlinks in a served folder owns the server anyway.
    """
    if not relative or len(relative) > 1024 or "\x00" in relative or "\\" in relative:
        return None
    parts = relative.split("/")
    if any(part in ("", ".", "..") or part.startswith(".") for part in parts):
        return None
    try:
        candidate = (root / relative).resolve()
    except (OSError, RuntimeError):  # symlink loop, name too long
        return None
    return candidate if candidate.is_relative_to(root) else None
