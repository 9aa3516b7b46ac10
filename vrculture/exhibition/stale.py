"""Temporary folders named after the process that made them, removed once that process is gone."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from pathlib import Path


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def remove_orphans(folders: Iterable[Path], separator: str) -> None:
    """Remove each folder whose name ends in `<separator><pid>` of a process that has died
    (a build killed halfway); folders of running builds are left alone."""
    for folder in folders:
        pid = folder.name.rsplit(separator, 1)[-1]
        if pid.isdigit() and not process_alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)
