"""Where the shared corpus of real meshes and images is, for the tests and tools/bench_*.py.

`VRCULTURE_CORPUS` names the folder; a relative value is taken from the checkout. Without it:
../shared/corpus beside the checkout. The corpus is large and not in the repository, so tests
that need it are skipped (with this path in the reason) where it is absent.
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENV = "VRCULTURE_CORPUS"
DEFAULT = Path("..") / "shared" / "corpus"


def corpus_dir() -> Path:
    """The corpus folder (which may not exist)."""
    return (ROOT / (os.environ.get(ENV) or DEFAULT)).resolve()
