"""The build report says which way each object stands, where that came from and how sure it
is, and warns on the record's `up` when the estimate is unsure."""

from __future__ import annotations

import math
from pathlib import Path

import trimesh
from build_helpers import load_json, run_build

from vrculture.exhibition.bundle import report_path

TOML = """\
[exhibition]
id = "upright"
default_language = "en"
languages = ["en"]
title = { en = "Upright" }

[[objects]]
id = "bust"
source = "src/bust.ply"
title = { en = "Bust" }
rights = "CC0-1.0"
height_m = 0.5

[[objects]]
id = "ball"
source = "src/ball.obj"
title = { en = "Ball" }
rights = "CC0-1.0"
height_m = 0.3

[[objects]]
id = "declared"
source = "src/declared.obj"
title = { en = "Declared" }
rights = "CC0-1.0"
height_m = 0.3
up = "-X"
"""


def _bust_lying_on_x() -> trimesh.Trimesh:
    """A head on a plinth whose flat base faces -X (up is +X), saved as PLY (habit +Z)."""
    plinth = trimesh.creation.cylinder(radius=0.3, height=0.2, sections=48)
    plinth.apply_translation([0, 0, 0.1])
    head = trimesh.creation.icosphere(subdivisions=3, radius=0.28)
    head.apply_translation([0, 0, 0.5])
    bust = trimesh.util.concatenate([plinth, head])
    turn = trimesh.transformations.rotation_matrix(math.pi / 2, [0, 1, 0])  # +Z to +X
    bust.apply_transform(turn)
    return bust


def test_the_report_records_each_objects_up_and_warns_when_unsure(tmp_path: Path) -> None:
    folder = tmp_path / "collection"
    (folder / "src").mkdir(parents=True)
    (folder / "src" / "bust.ply").write_bytes(_bust_lying_on_x().export(file_type="ply"))
    ball = trimesh.creation.icosphere(subdivisions=3)
    (folder / "src" / "ball.obj").write_text(ball.export(file_type="obj"))
    (folder / "src" / "declared.obj").write_text(ball.export(file_type="obj"))
    (folder / "collection.toml").write_text(TOML, "utf-8")
    out = tmp_path / "bundle"
    assert run_build(folder, "-o", out, "--quiet", "--levels", "low", "--jobs", "1") == 0
    report = load_json(report_path(out))
    orientation = {o["id"]: o["orientation"] for o in report["objects"]}
    assert orientation["bust"]["axis"] == "+X"  # the plinth's flat base faces -X
    assert orientation["bust"]["source"] == "estimated"
    assert orientation["bust"]["confidence"] >= 0.5
    assert orientation["ball"]["source"] == "format-habit"
    assert orientation["ball"]["confidence"] < 0.5
    assert orientation["declared"] == {"axis": "-X", "source": "declared", "confidence": 1.0,
                                       "evidence": ["given in the collection or with --up"]}
    unsure = [i for i in report["issues"] if i["severity"] == "warning" and i["field"]
              .endswith("up")]
    assert [i["record"] for i in unsure] == ["ball"]
    assert "set `up`" in unsure[0]["message"]
