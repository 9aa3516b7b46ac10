"""`vrculture serve` with a data folder it cannot use (a damaged database file, a path that is a
file): one line naming the database and the problem, exit 1, no traceback. It once announced
the server and then died in a traceback from the start-up hook that opens SQLite."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


def _damaged_database(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    (data / "vrculture.sqlite3").write_bytes(b"not a database, just some bytes" * 64)
    return data


def _a_file(tmp_path: Path) -> Path:
    path = tmp_path / "not-a-folder"
    path.write_text("a file where the data folder should be\n")
    return path


@pytest.mark.parametrize(("make_data", "problem"), [
    (_damaged_database, "not a database"),
    (_a_file, "not-a-folder"),
])
def test_serve_refuses_an_unusable_data_folder_in_one_line(tmp_path, bundle, make_data,
                                                            problem):
    data = make_data(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "vrculture", "serve", str(bundle), "--port", "0",
         "--data", str(data)],
        capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    assert "vrculture serve: cannot start:" in done.stderr
    assert problem in done.stderr
    assert "vrculture.sqlite3" in done.stderr  # names the file it could not open
    assert "exhibition(s) on" not in done.stderr  # never announced as serving
