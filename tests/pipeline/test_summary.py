"""Conversion summaries: the highest written level, sizes, and the JSON round trip."""

from __future__ import annotations

import pytest

from vrculture.pipeline.summary import Bounds, ConversionSummary, LevelSummary


def _level(name: str, triangles: int, top: float) -> LevelSummary:
    return LevelSummary(name=name, file=f"s.{name}.glb", written=True, same_as=None,
                        bytes=triangles * 10, triangles=triangles, error=0.0,
                        simplifier_error=0.0, texture_px=0, texture_bytes=0,
                        gpu_texture_bytes=0, texture_format="none", compression="meshopt",
                        extensions_required=("EXT_meshopt_compression",),
                        bounds=Bounds((-0.5, 0.0, -0.5), (0.5, top, 0.5)))


def _summary(*levels: LevelSummary) -> ConversionSummary:
    return ConversionSummary(source="s.obj", stem="s", kind="model", format="obj", up_axis="+Y",
                             units="m", source_triangles=9000, seconds=0.5,
                             warnings=("units not given",), levels=levels)


def test_highest_is_the_written_level_with_the_most_triangles() -> None:
    full, low = _level("full", 9000, 2.0), _level("low", 500, 1.9)
    summary = _summary(full, full.repeated_as("high"), low)
    assert summary.highest == full
    # Order does not decide, and a level standing in for another is not "written".
    assert _summary(low, full).highest == full
    assert summary.level("high").same_as == "full" and not summary.level("high").written
    assert [level.name for level in summary.written] == ["full", "low"]


def test_a_summary_without_written_levels_has_no_highest() -> None:
    with pytest.raises(ValueError, match="no level"):
        _ = _summary(_level("full", 10, 1.0).repeated_as("low")).highest


def test_bounds_size_has_a_floor() -> None:
    flat = Bounds((0.0, 0.0, 0.0), (2.0, 0.0, 1.0))
    assert flat.size() == (2.0, 0.0, 1.0)
    assert flat.size(0.01) == (2.0, 0.01, 1.0)


def test_json_round_trip_and_shape() -> None:
    summary = _summary(_level("full", 9000, 2.0), _level("low", 500, 1.9))
    data = summary.as_json()
    assert data["levels"][0]["bounds"] == {"min": [-0.5, 0.0, -0.5], "max": [0.5, 2.0, 0.5]}
    assert data["warnings"] == ["units not given"]
    assert ConversionSummary.from_json(data) == summary
    del data["levels"][0]["triangles"]
    with pytest.raises(KeyError):
        ConversionSummary.from_json(data)
