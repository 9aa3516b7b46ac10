"""Run the Khronos glTF Validator (npm `gltf-validator`) over files a test wrote.

One node process serves the whole test run (`tools/gltf_validate.mjs --stdin`): starting node and
loading the validator cost more than validating a test's few small files, once per call."""

from __future__ import annotations

import atexit
import json
import subprocess
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "tools" / "gltf_validate.mjs"
TIMEOUT_S = 300  # per batch, as when each batch was its own process


class _Validator:
    """The long-lived validator process; started on first use, again if it has died."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: subprocess.Popen[str] | None = None

    def _running(self) -> subprocess.Popen[str]:
        if self._process is None or self._process.poll() is not None:
            self._process = subprocess.Popen(
                ["node", str(SCRIPT), "--stdin"], cwd=ROOT, stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, bufsize=1)
        return self._process

    def reports(self, files: list[Path]) -> list[dict]:
        with self._lock:
            process = self._running()
            assert process.stdin is not None and process.stdout is not None
            process.stdin.write(json.dumps([str(f) for f in files]) + "\n")
            process.stdin.flush()
            watchdog = threading.Timer(TIMEOUT_S, process.kill)  # a hung validator fails
            watchdog.start()
            try:
                reports = []
                for line in process.stdout:  # ends early only if the validator died
                    if not line.startswith("{"):
                        continue
                    answer = json.loads(line)
                    if answer == {"batch": "done"}:
                        return reports
                    reports.append(answer)
            finally:
                watchdog.cancel()
            raise RuntimeError(f"the glTF validator exited ({process.wait()}) mid-batch")

    def close(self) -> None:
        if self._process is not None and self._process.poll() is None:
            assert self._process.stdin is not None
            self._process.stdin.close()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()


_VALIDATOR = _Validator()
atexit.register(_VALIDATOR.close)


def validate(paths: list[Path] | Path) -> list[dict]:
    """Return the validator's report per file; raises if the validator itself cannot run."""
    files = [paths] if isinstance(paths, Path) else list(paths)
    if not files:
        return []
    return _VALIDATOR.reports(files)


def assert_valid(paths: list[Path] | Path) -> list[dict]:
    """Fail the test unless every file has zero validator errors; returns the reports."""
    reports = validate(paths)
    files = [paths] if isinstance(paths, Path) else list(paths)
    assert len(reports) == len(files), reports
    for report in reports:
        assert "fatal" not in report, report
        assert report["numErrors"] == 0, (report["file"], report["errors"][:5])
    return reports
