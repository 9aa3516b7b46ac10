"""Where the viewer's files are, installed from a wheel or run from a checkout.

The wheel carries web/ as `vrculture/web` (copied by setup.py at build time) and three.js as
`vrculture/vendor/three` (package data, vendored by tools/vendor_three.py). A checkout or an
editable install has no `vrculture/web`: web/ is beside the package there.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent
THREE_DIR = PACKAGE / "vendor" / "three"
# The Basis transcoder's worker as three's KTX2Loader builds it (tools/vendor_three.py), served
# from a URL of its own so that it gets its own Content-Security-Policy.
BASIS_WORKER = PACKAGE / "vendor" / "basis_worker.js"
VIEWER_PAGES = ("index.html", "exhibition.html", "embed.html", "vrculture-embed.js")


def default_web_dir() -> Path:
    installed = PACKAGE / "web"
    if (installed / "exhibition.html").is_file():
        return installed
    return PACKAGE.parent / "web"


def missing_viewer_files(web_dir: Path) -> list[str]:
    """What the server cannot work without, for a clear refusal at start-up (not 404s)."""
    missing = [page for page in VIEWER_PAGES if not (web_dir / page).is_file()]
    if not (THREE_DIR / "build" / "three.module.js").is_file():
        missing.append(str(THREE_DIR / "build" / "three.module.js"))
    if not BASIS_WORKER.is_file():
        missing.append(str(BASIS_WORKER))
    return missing
