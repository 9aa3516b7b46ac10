"""`turn`: the curator's turn of an object about +Y, in degrees, read and checked."""

from __future__ import annotations

from pathlib import Path

import pytest

from vrculture.exhibition.collection import load_collection
from vrculture.exhibition.run import turned_size

TOML = """\
[exhibition]
id = "turns"
languages = ["en"]
title = "Turns"

[[objects]]
id = "vase"
source = "vase.obj"
title = "Vase"
rights = "CC0-1.0"
{turn}
"""


def _load(tmp_path: Path, turn: str):
    (tmp_path / "vase.obj").write_text("v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n")
    (tmp_path / "collection.toml").write_text(TOML.format(turn=turn), encoding="utf-8")
    return load_collection(tmp_path)


@pytest.mark.parametrize(("turn", "expected"), [("", 0.0), ("turn = 90", 90.0),
                                                ("turn = -180", -180.0), ("turn = 12.5", 12.5)])
def test_a_turn_is_read_in_degrees(tmp_path, turn, expected):
    collection, issues = _load(tmp_path, turn)
    assert not issues.errors
    assert collection.objects[0].turn == expected


@pytest.mark.parametrize("turn", ["turn = 180.5", "turn = -400", "turn = nan", "turn = true",
                                  'turn = "left"'])
def test_a_turn_out_of_range_is_an_error_on_its_field(tmp_path, turn):
    collection, issues = _load(tmp_path, turn)
    assert any(i.field == "objects[0].turn" for i in issues.errors), issues.errors
    assert not collection.objects


def test_a_turned_object_takes_the_room_of_its_turned_box():
    assert turned_size((0.6, 1.0, 0.2), 0) == (0.6, 1.0, 0.2)
    assert turned_size((0.6, 1.0, 0.2), 90) == pytest.approx((0.2, 1.0, 0.6))
    diagonal = turned_size((1.0, 1.0, 1.0), 45)
    assert diagonal[0] == pytest.approx(2 ** 0.5) and diagonal[2] == pytest.approx(2 ** 0.5)
