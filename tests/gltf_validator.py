"""Run the Khronos glTF Validator (npm `gltf-validator`) over files a test wrote."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "tools" / "gltf_validate.mjs"


def validate(paths: list[Path] | Path) -> list[dict]:
    """Return the validator's report per file; raises if the validator itself cannot run."""
    files = [paths] if isinstance(paths, Path) else list(paths)
    if not files:
        return []
    out = subprocess.run(
        ["node", str(SCRIPT), *map(str, files)],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=True,
    )
    return [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]


def assert_valid(paths: list[Path] | Path) -> list[dict]:
    """Fail the test unless every file has zero validator errors; returns the reports."""
    reports = validate(paths)
    files = [paths] if isinstance(paths, Path) else list(paths)
    assert len(reports) == len(files), reports
    for report in reports:
        assert "fatal" not in report, report
        assert report["numErrors"] == 0, (report["file"], report["errors"][:5])
    return reports
