"""Incremental builds: nothing reconverted when nothing changed, only the changed object when
one changed; an interrupted build leaves the previous bundle intact and usable."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from build_helpers import ROOT, load_json, run_build, write_shape

from vrculture.exhibition.bundle import report_path
from vrculture.exhibition.worker import JobAnswer, ObjectJob, run_object_job

LEVELS = ("--levels", "low,medium", "--quiet", "--jobs", "2")


def _low_urls(out: Path) -> dict[str, str]:
    return {o["id"]: o["levels"][0]["url"] for o in load_json(out / "exhibition.json")["objects"]}


def _report(out: Path) -> dict:
    return load_json(report_path(out))


def _all_urls_exist(out: Path) -> None:
    manifest = load_json(out / "exhibition.json")
    urls = [manifest["architecture"]["url"]]
    for obj in manifest["objects"]:
        urls += [lv["url"] for lv in obj["levels"]] + [obj["thumbnail"]["url"]]
    for url in urls:
        assert (out / url).is_file(), url


def test_unchanged_collection_reconverts_nothing(tmp_path: Path, small_collection: Path) -> None:
    out = tmp_path / "bundle"
    assert run_build(small_collection, "-o", out, *LEVELS) == 0
    first = _report(out)
    assert first["counts"]["reconverted"] == 3
    manifest_before = load_json(out / "exhibition.json")

    assert run_build(small_collection, "-o", out, *LEVELS) == 0
    second = _report(out)
    assert second["counts"]["reconverted"] == 0 and second["counts"]["cached"] == 3
    assert second["generated_reconverted"] == []
    manifest_after = load_json(out / "exhibition.json")
    manifest_before.pop("built_at")
    manifest_after.pop("built_at")
    assert manifest_after == manifest_before  # same content-hashed urls, same layout
    _all_urls_exist(out)


def test_changing_one_source_rebuilds_only_that_one(tmp_path: Path,
                                                    small_collection: Path) -> None:
    out = tmp_path / "bundle"
    assert run_build(small_collection, "-o", out, *LEVELS) == 0
    old_urls = _low_urls(out)
    write_shape(small_collection / "src" / "klot.obj", "sphere", 3, seed=7)
    assert run_build(small_collection, "-o", out, *LEVELS) == 0
    report = _report(out)
    assert report["reconverted"] == ["klot"]
    new_urls = _low_urls(out)
    assert new_urls["klot"] != old_urls["klot"] and new_urls["ring"] == old_urls["ring"]
    assert not (out / old_urls["klot"]).exists()  # the bundle holds only what it lists
    _all_urls_exist(out)


def test_settings_and_referenced_files_are_part_of_the_key(tmp_path: Path) -> None:
    folder = tmp_path / "c"
    write_shape(folder / "m.obj", "box")
    obj = (folder / "m.obj").read_text()
    (folder / "m.obj").write_text("mtllib m.mtl\nusemtl paint\n" + obj)
    (folder / "m.mtl").write_text("newmtl paint\nKd 0.8 0.2 0.2\nmap_Kd tex.png\n")
    from PIL import Image

    Image.new("RGB", (16, 16), (200, 30, 30)).save(folder / "tex.png")
    (folder / "collection.toml").write_text(
        '[[objects]]\nid = "m"\nsource = "m.obj"\ntitle = "M"\nrights = "CC0-1.0"\n')
    out = tmp_path / "bundle"
    assert run_build(folder, "-o", out, *LEVELS) == 0
    Image.new("RGB", (16, 16), (30, 30, 200)).save(folder / "tex.png")  # only the texture
    assert run_build(folder, "-o", out, *LEVELS) == 0
    assert _report(out)["reconverted"] == ["m"]
    assert run_build(folder, "-o", out, "--levels", "low", "--quiet") == 0  # other settings
    assert _report(out)["reconverted"] == ["m"]
    (folder / "collection.toml").write_text(   # a new title is embedded in the GLB metadata
        '[[objects]]\nid = "m"\nsource = "m.obj"\ntitle = "Ny"\nrights = "CC0-1.0"\n')
    assert run_build(folder, "-o", out, "--levels", "low", "--quiet") == 0
    assert _report(out)["reconverted"] == ["m"]


def test_interrupted_build_keeps_the_previous_bundle(tmp_path: Path,
                                                     small_collection: Path) -> None:
    out = tmp_path / "bundle"
    assert run_build(small_collection, "-o", out, *LEVELS) == 0
    before = (out / "exhibition.json").read_bytes()
    for name in ("klot.obj", "ring.ply"):  # force real work so the build is caught mid-way
        write_shape(small_collection / "src" / name, "cone", seed=3)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "vrculture", "build", str(small_collection), "-o", str(out),
         "--levels", "low,medium", "--jobs", "1", "--quiet"],
        cwd=ROOT, env=env, start_new_session=True)
    staging = tmp_path / ".vrculture-cache" / "staging"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if staging.is_dir() and any(staging.iterdir()):
            break
        time.sleep(0.01)
    assert proc.poll() is None, "the build finished before it could be interrupted"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert (out / "exhibition.json").read_bytes() == before
    _all_urls_exist(out)
    # The next build cleans up after the killed one and completes.
    assert run_build(small_collection, "-o", out, *LEVELS) == 0
    assert not list(tmp_path.glob(".bundle.building-*"))
    assert _report(out)["counts"]["built"] == 3


def test_cache_prunes_entries_unused_for_a_month(tmp_path: Path, small_collection: Path) -> None:
    out = tmp_path / "bundle"
    assert run_build(small_collection, "-o", out, *LEVELS) == 0
    cache = tmp_path / ".vrculture-cache"
    stale = cache / "entries" / "ab" / ("ab" + "0" * 62)
    stale.mkdir(parents=True)
    (stale / "result.json").write_text('{"files": []}')
    # A month before the build's own last use of its entries (the file system's clock, which
    # prune compares against): no wall clock read here.
    last_used = max(r.stat().st_mtime for r in cache.glob("entries/*/*/result.json"))
    month_ago = last_used - 31 * 86400
    os.utime(stale / "result.json", (month_ago, month_ago))
    killed = cache / "staging" / "cd.999999999"
    killed.mkdir(parents=True)
    assert run_build(small_collection, "-o", out, *LEVELS) == 0
    assert not stale.exists() and not killed.exists()
    assert _report(out)["counts"]["cached"] == 3  # entries in use are kept


def test_annotation_outside_the_object_is_a_warning(tmp_path: Path,
                                                    small_collection: Path) -> None:
    toml = small_collection / "collection.toml"
    toml.write_text(toml.read_text() + (
        '\n[[objects.annotations]]\nid = "far"\nposition = [0.0, 30.0, 0.0]\n'
        'normal = [0, 1, 0]\ntitle = "Långt bort"\n'))
    out = tmp_path / "bundle"
    assert run_build(small_collection, "-o", out, *LEVELS) == 0  # a warning, not an error
    warnings = [i for i in _report(out)["issues"] if i["severity"] == "warning"]
    line = toml.read_text().splitlines().index("position = [0.0, 30.0, 0.0]") + 1
    assert any(i["field"] == "objects[2].annotations[0].position" and i["line"] == line
               and "outside the object" in i["message"] for i in warnings), warnings



def _dies_on_ring(job: ObjectJob) -> JobAnswer:
    """A job function whose worker exits abruptly on "ring", as under the OOM killer."""
    if job.id == "ring":
        os._exit(9)
    return run_object_job(job)


def test_a_dying_worker_fails_only_its_object(tmp_path: Path, small_collection: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Fault injection (worker processes are forked, so they inherit the patched function)."""
    import vrculture.exhibition.run as run

    monkeypatch.setattr(run, "run_object_job", _dies_on_ring)
    out = tmp_path / "bundle"
    assert run_build(small_collection, "-o", out, *LEVELS) == 3
    report = _report(out)
    status = {o["id"]: o["status"] for o in report["objects"]}
    assert status == {"klot": "built", "ring": "failed", "tavla": "built"}
    ring = next(o for o in report["objects"] if o["id"] == "ring")
    assert "process died" in ring["error"]


def test_a_damaged_cache_entry_is_rebuilt(tmp_path: Path, small_collection: Path) -> None:
    out = tmp_path / "bundle"
    assert run_build(small_collection, "-o", out, *LEVELS) == 0
    victim = next((tmp_path / ".vrculture-cache" / "entries").glob("*/*/klot.*.glb"))
    victim.unlink()
    assert run_build(small_collection, "-o", out, *LEVELS) == 0
    assert _report(out)["reconverted"] == ["klot"]
    _all_urls_exist(out)
