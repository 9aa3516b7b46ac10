"""Outputs are whole or absent: no half-written GLB after Ctrl-C or a failed write."""

from __future__ import annotations

import os

import pytest
import trimesh
from pipeline_helpers import primitive_from_trimesh, single_node_model

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
