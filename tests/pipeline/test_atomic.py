"""Outputs are whole or absent: no half-written GLB after Ctrl-C or a failed write."""

from __future__ import annotations

import os
import stat

import pytest
import trimesh
from file_modes import assert_modes_follow_umask
from pipeline_helpers import primitive_from_trimesh, single_node_model

from vrculture.cli import main
from vrculture.pipeline.atomic import write_atomic
from vrculture.pipeline.convert import ConvertSettings, convert_model
from vrculture.pipeline.errors import ConversionError
from vrculture.pipeline.readers import SourceModel


def test_write_atomic_replaces_whole_files(tmp_path):
    target = tmp_path / "a.glb"
    write_atomic(target, b"first")
    write_atomic(target, b"second version")
    assert target.read_bytes() == b"second version"
    assert [p.name for p in tmp_path.iterdir()] == ["a.glb"]


def test_interrupted_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    target = tmp_path / "a.glb"
    write_atomic(target, b"old")

    def interrupted(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_atomic(target, b"new" * 1000)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.glb"]


def test_unwritable_output_is_a_conversion_error(tmp_path):
    blocker = tmp_path / "out"
    blocker.write_text("a file where the output folder should be")
    model = single_node_model(primitive_from_trimesh(trimesh.creation.icosphere(2)))
    source = SourceModel(model=model, kind="model", default_up="+Y", format="generated",
                         already_metric=True)
    with pytest.raises(ConversionError, match="cannot write"):
        convert_model(source, blocker / "sub", "x", ConvertSettings(), source_label="gen:x")


@pytest.mark.parametrize("umask", [0o022, 0o027, 0o077])
def test_written_files_follow_the_umask(tmp_path, umask):
    previous = os.umask(umask)
    try:
        write_atomic(tmp_path / "a.glb", b"data")
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "a.glb").stat().st_mode) == 0o666 & ~umask


def test_convert_outputs_follow_the_umask(tmp_path, umask_022):
    source = tmp_path / "klot.obj"
    trimesh.creation.icosphere(subdivisions=2).export(source)
    assert main(["convert", str(source), "-o", str(tmp_path / "out"), "--levels", "full,low"]) == 0
    assert list((tmp_path / "out").rglob("*.glb"))
    assert_modes_follow_umask(tmp_path / "out")
