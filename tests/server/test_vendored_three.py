"""vrculture/vendor/three: exactly the three.js files the viewer loads, byte for byte those of
the npm package that package-lock.json pins. A failure here: run tools/vendor_three.py."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from vrculture.server.webfiles import BASIS_WORKER, THREE_DIR

ROOT = Path(__file__).resolve().parents[2]
NODE_THREE = ROOT / "node_modules" / "three"


def _tool():
    path = ROOT / "tools" / "vendor_three.py"
    spec = importlib.util.spec_from_file_location("vendor_three", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_vendored_three_is_the_version_package_lock_pins():
    lock = json.loads((ROOT / "package-lock.json").read_text("utf-8"))
    locked = lock["packages"]["node_modules/three"]["version"]
    declared = json.loads((ROOT / "package.json").read_text("utf-8"))
    assert locked in {**declared.get("dependencies", {}),
                      **declared.get("devDependencies", {})}["three"]
    assert json.loads((THREE_DIR / "package.json").read_text("utf-8"))["version"] == locked


def test_vendored_files_are_exactly_what_the_viewer_loads():
    tool = _tool()
    needed = tool.needed_files(ROOT / "web", THREE_DIR)
    assert {"build/three.module.js", "build/three.core.js",
            "examples/jsm/libs/meshopt_decoder.module.js",
            "examples/jsm/libs/basis/basis_transcoder.wasm"} <= needed
    assert tool.vendored_files(THREE_DIR) == needed


def test_an_import_of_an_addon_not_vendored_is_caught(tmp_path):
    tool = _tool()
    web = tmp_path / "web"
    (web / "js").mkdir(parents=True)
    # (OrbitControls is vendored now: the studio's object view uses it.)
    (web / "js" / "trackball.js").write_text(
        "import { TrackballControls } from 'three/addons/controls/TrackballControls.js';\n")
    with pytest.raises(tool.VendorError, match="TrackballControls.js is loaded by the viewer"):
        tool.needed_files(web, THREE_DIR)


def test_vendored_files_are_those_of_the_installed_npm_package():
    assert (NODE_THREE / "package.json").is_file(), "node_modules/three: run tools/bootstrap"
    installed = json.loads((NODE_THREE / "package.json").read_text("utf-8"))["version"]
    vendored = json.loads((THREE_DIR / "package.json").read_text("utf-8"))["version"]
    assert installed == vendored
    differ = [path for path in sorted(_tool().vendored_files(THREE_DIR) | {"LICENSE"})
              if (THREE_DIR / path).read_bytes() != (NODE_THREE / path).read_bytes()]
    assert differ == []


def test_the_basis_worker_is_what_ktx2loader_builds_from_the_vendored_transcoder():
    """vrculture/vendor/basis_worker.js: the worker script KTX2Loader would make a Blob of, built
    by three's own code in node (tests/e2e/test_workers.py compares it with the browser's)."""
    tool = _tool()
    assert BASIS_WORKER.read_bytes() == tool.basis_worker(THREE_DIR)
