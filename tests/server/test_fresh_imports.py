"""Every server module imports on its own in a fresh interpreter, as `vrculture publish` does:
an import cycle (registry -> assets -> security -> appkeys -> registry) once broke it while
the test suite, importing the app first, passed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SERVER = Path(__file__).resolve().parents[2] / "vrculture" / "server"
MODULES = sorted(f"vrculture.server.{p.stem}" for p in SERVER.glob("*.py")
                 if p.stem != "__init__")


@pytest.mark.parametrize("module", MODULES)
def test_module_imports_first(module):
    done = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
