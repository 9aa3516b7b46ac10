"""Written files follow the umask like any other tool's: 0644 files, 0755 folders under 022."""

from __future__ import annotations

import stat
from pathlib import Path


def assert_modes_follow_umask(folder: Path, umask: int = 0o022) -> None:
    wrong = {}
    for path in [folder, *sorted(folder.rglob("*"))]:
        if path.is_symlink():
            continue
        mode = stat.S_IMODE(path.stat().st_mode)
        expected = (0o777 if path.is_dir() else 0o666) & ~umask
        if mode != expected:
            wrong[path.relative_to(folder).as_posix()] = oct(mode)
    assert wrong == {}, f"modes other than umask {umask:04o} gives: {wrong}"
