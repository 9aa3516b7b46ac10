"""The bundle's files as written: modes that follow the umask, nothing rewritten without a
change, reproducible with SOURCE_DATE_EPOCH, and the build report kept out of the bundle."""

from __future__ import annotations

from pathlib import Path

from build_helpers import run_build
from file_modes import assert_modes_follow_umask


def test_bundle_files_follow_the_umask(tmp_path: Path, small_collection: Path,
                                       umask_022: int) -> None:
    out = tmp_path / "out"
    assert run_build(small_collection, "-o", out, "--quiet") == 0
    assert list(out.rglob("*.glb")) and list(out.rglob("*.webp"))
    assert_modes_follow_umask(out, umask_022)
    assert_modes_follow_umask(tmp_path / ".vrculture-cache", umask_022)
