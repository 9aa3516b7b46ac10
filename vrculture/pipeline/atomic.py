"""Atomic file writes: a temporary file in the same folder, then `os.replace`."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomic(path: Path, data: bytes, mode: int = 0o666) -> None:
    """Write `data` to `path` so that readers see the old file or the whole new one, never half.

    The file gets `mode` less the umask, as `open()` would give it (mkstemp's temporary file is
    0600 whatever the umask: renamed into place, a published GLB would be private)."""
    path = Path(path)
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            os.fchmod(out.fileno(), mode & ~current_umask())
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    except BaseException:
        # Ctrl-C or a full disk: leave no temporary file behind.
        Path(temp).unlink(missing_ok=True)
        raise


def current_umask() -> int:
    """The process's umask, read without setting it (os.umask is a set: another thread creating
    a file in between would get the wrong mode)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)  # no /proc: the set-and-restore fallback
    os.umask(mask)
    return mask
