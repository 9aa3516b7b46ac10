"""The up axis when the source does not state it: estimated from the geometry (flat base, open
bottom, resting poses, mirror symmetry) with the format's habit as the prior.

Synthetic shapes pin each cue; the corpus tests pin the real scans, as stored and turned to
each of the six axes and saved without any hint."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings

import numpy as np
import pytest
import trimesh
from pipeline_helpers import primitive_from_trimesh, single_node_model

from vrculture.pipeline.convert import ConvertSettings, convert_model
from vrculture.pipeline.model import Model, Primitive
from vrculture.pipeline.readers import SourceModel, read_source
from vrculture.pipeline.transforms.normalise import UP_ROTATIONS, NormaliseOptions, normalise
from vrculture.pipeline.transforms.up_axis import AXES, UNSURE_BELOW, choose_up, estimate_up

# Known up axis of each corpus scan, judged from renders of all six choices and from what the
# objects are (MANIFEST.tsv names their sources): nefertiti, laurana and gargoyle are a bust and
# a statuette on a cut base; igea is the marble head of the Igea (Cyberware scan), broken off
# at the neck: its face looks along +Z, the crown is +Y; the bunny, beast, ogre, spot and the
# horse stand on feet or hooves. The STL is igea's geometry (MANIFEST: derived from igea.ply).
CORPUS_UP = {
    "nefertiti.obj": "+Z",
    "stanford-bunny.obj": "+Y",
    "beast.obj": "+Y",
    "ogre.obj": "+Y",
    "spot/spot.obj": "+Y",
    "igea.ply": "+Y",
    "horse.ply": "+Z",
    "laurana.ply": "+Y",
    "gargoyle.ply": "+Y",
    "derived/igea_from_tristrips.stl": "+Y",
}


def _turned(model: Model, up: str, to: str) -> Model:
    """`model` (whose up is `up`) turned so that its up is the source axis `to`."""
    turn = UP_ROTATIONS[up].T @ UP_ROTATIONS[to]
    nodes = []
    for node in model.nodes:
        prims = [p.copy(positions=(p.positions.astype(np.float64) @ turn).astype(np.float32),
                        normals=None) for p in node.primitives]
        nodes.append(type(node)(node.name, prims))
    return Model(nodes=nodes, materials=model.materials, roots=model.roots)


def _model(mesh: trimesh.Trimesh) -> Model:
    return single_node_model(primitive_from_trimesh(mesh))


def _bust() -> trimesh.Trimesh:
    """A head on a round plinth whose cut base is flat (+Y up)."""
    plinth = trimesh.creation.cylinder(radius=0.3, height=0.2, sections=64)
    plinth.apply_transform(trimesh.transformations.rotation_matrix(np.pi / 2, [1, 0, 0]))
    plinth.apply_translation([0, 0.1, 0])
    head = trimesh.creation.icosphere(subdivisions=4, radius=0.28)
    head.apply_translation([0, 0.5, 0.03])
    return trimesh.util.concatenate([plinth, head])


def _vase() -> trimesh.Trimesh:
    """A turned vase, open at its wide foot and at its narrow mouth (+Y up)."""
    heights = np.linspace(0, 1, 40)
    radius = 0.3 + 0.15 * np.sin(np.pi * heights) - 0.22 * heights
    profile = np.column_stack([radius, heights])
    vase = trimesh.creation.revolve(profile, sections=64)  # about Z
    vase.apply_transform(trimesh.transformations.rotation_matrix(-np.pi / 2, [1, 0, 0]))
    return vase


def _relief() -> trimesh.Trimesh:
    """A relief plate: flat back, figures standing out of its front (+Y up: lying on its
    back, the way it rests and the way such fragments are scanned)."""
    plate = trimesh.creation.box(extents=[1.0, 0.06, 0.7])
    rng = np.random.default_rng(3)
    parts = [plate]
    for x, z in rng.uniform([-0.4, -0.28], [0.4, 0.28], size=(7, 2)):
        bump = trimesh.creation.icosphere(subdivisions=2, radius=0.08)
        bump.apply_translation([x, 0.04, z])
        parts.append(bump)
    return trimesh.util.concatenate(parts)


def _broken_head() -> trimesh.Trimesh:
    """A head broken off at the neck (+Y up), closed there by a rough break slanted ~11
    degrees: no flat base, no open bottom, and it would topple off its neck (like igea)."""
    neck = trimesh.creation.cylinder(radius=0.2, height=0.4, sections=48)
    neck.apply_transform(trimesh.transformations.rotation_matrix(np.pi / 2, [1, 0, 0]))
    neck.apply_translation([0, 0.2, 0.05])
    vertices, faces = trimesh.remesh.subdivide_to_size(neck.vertices, neck.faces, max_edge=0.03)
    bottom = vertices[:, 1] < 1e-6
    rough = np.random.default_rng(5).uniform(-0.02, 0.02, bottom.sum())
    vertices[bottom, 1] += rough + 0.2 * (vertices[bottom, 2] - 0.05)
    skull = trimesh.creation.icosphere(subdivisions=4, radius=0.45)
    skull.apply_translation([0, 0.7, 0])
    return trimesh.util.concatenate([trimesh.Trimesh(vertices, faces), skull])


@pytest.mark.parametrize("shape", [_bust, _vase, _relief, _broken_head])
@pytest.mark.parametrize("to", AXES)
def test_synthetic_shapes_stand_up_whichever_axis_they_are_stored_on(shape, to):
    model = _turned(_model(shape()), "+Y", to)
    for habit in ("+Y", "+Z"):  # whatever the format's habit says
        choice = estimate_up(model, habit=habit)
        assert choice.axis == to, (shape.__name__, habit, choice)
        assert choice.source == "estimated"


def test_the_bust_is_found_by_its_flat_base_with_confidence():
    choice = estimate_up(_turned(_model(_bust()), "+Y", "-X"), habit="+Z")
    assert choice.confidence >= UNSURE_BELOW
    assert choice.evidence[0].startswith("flat base facing +X")


def test_a_broken_neck_is_found_by_the_crease_around_it():
    choice = estimate_up(_turned(_model(_broken_head()), "+Y", "+Z"), habit="+Y")
    assert (choice.axis, choice.source) == ("+Z", "estimated")
    assert choice.confidence >= UNSURE_BELOW
    rim = choice.evidence[0]  # the decisive cue comes first
    assert rim.startswith("crease ringing -Z: ")
    assert float(rim.split(": ")[1].split(" ")[0]) > 0.2  # of the perimeter at the break


def test_a_shape_that_says_nothing_keeps_the_format_habit_and_is_unsure():
    sphere = _model(trimesh.creation.icosphere(subdivisions=3, radius=1.0))
    choice = estimate_up(sphere, habit="+Z")
    assert (choice.axis, choice.source) == ("+Z", "format-habit")
    assert choice.confidence < UNSURE_BELOW


def test_declared_up_and_gltf_win_over_the_geometry():
    lying = _turned(_model(_bust()), "+Y", "+X")
    assert choose_up(lying, declared="-Z", source_format="ply", habit="+Z").axis == "-Z"
    gltf = choose_up(lying, declared=None, source_format="glb", habit="+Y")
    assert (gltf.axis, gltf.source, gltf.confidence) == ("+Y", "declared", 1.0)
    estimated = choose_up(lying, declared=None, source_format="ply", habit="+Z")
    assert (estimated.axis, estimated.source) == ("+X", "estimated")


def test_the_summary_carries_the_orientation_and_warns_when_unsure(tmp_path):
    bust = SourceModel(_turned(_model(_bust()), "+Y", "-Z"), "model", "+Z", "ply", False)
    summary = convert_model(bust, tmp_path, "bust", ConvertSettings(levels=("low",)))
    assert summary.up_axis == "-Z" and summary.orientation is not None
    assert summary.orientation.source == "estimated"
    assert not [w for w in summary.warnings if w.startswith("up axis")]
    height = summary.highest.bounds.size()[1]
    assert height == pytest.approx(0.78, abs=0.01)  # plinth and head stand on +Y (metres)

    sphere = SourceModel(_model(trimesh.creation.icosphere(subdivisions=3)), "model", "+Z",
                         "ply", False)
    unsure = convert_model(sphere, tmp_path, "ball", ConvertSettings(levels=("low",)))
    assert unsure.orientation is not None and unsure.orientation.source == "format-habit"
    assert [w for w in unsure.warnings if w.startswith("up axis not given and unsure")]
    declared = convert_model(sphere, tmp_path, "ball", ConvertSettings(levels=("low",), up="+X"))
    assert declared.orientation is not None and declared.orientation.source == "declared"
    assert not [w for w in declared.warnings if w.startswith("up axis")]


def _standing(model: Model, up: str) -> np.ndarray:
    """Every triangle's centre, stood with `up`: the same whatever the file's vertex order,
    indexed or a soup (STL)."""
    stood = normalise(model, NormaliseOptions(up=up)).model
    return np.concatenate([p.positions[p.indices].astype(np.float64).mean(axis=1)
                           for p in stood.primitives()])


def _saved_without_hint(model: Model, folder, name: str, to: str) -> list:
    """`model` saved as its own format would hold it, with no up axis in the file: PLY, OBJ,
    and an STL scan as both ASCII and binary STL."""
    mesh = trimesh.Trimesh(np.concatenate([p.positions for p in model.primitives()]),
                           _joined_indices(model), process=False)
    stem = f"turned_{'plus' if to[0] == '+' else 'minus'}{to[1]}"
    suffix = name.rsplit(".", 1)[1]
    if suffix == "stl":
        ascii_path, binary_path = folder / f"{stem}_ascii.stl", folder / f"{stem}_binary.stl"
        _write_ascii_stl(ascii_path, mesh)
        binary_path.write_bytes(trimesh.exchange.stl.export_stl(mesh))
        return [ascii_path, binary_path]
    path = folder / f"{stem}.{suffix}"
    exported = mesh.export(file_type=suffix)
    path.write_bytes(exported.encode("ascii") if isinstance(exported, str) else exported)
    return [path]


def _write_ascii_stl(path, mesh: trimesh.Trimesh) -> None:
    """An ASCII STL, one facet per row of np.savetxt (trimesh's writer takes ~13 s on igea)."""
    rows = np.concatenate([mesh.face_normals[:, None], mesh.vertices[mesh.faces]], axis=1)
    facet = ("facet normal %.9g %.9g %.9g\n outer loop\n" + "  vertex %.9g %.9g %.9g\n" * 3
             + " endloop\nendfacet")
    with path.open("w", encoding="ascii") as file:
        file.write("solid turned\n")
        np.savetxt(file, rows.reshape(len(rows), 12), fmt=facet)
        file.write("endsolid turned\n")


def _joined_indices(model: Model) -> np.ndarray:
    offsets = np.cumsum([0] + [p.vertex_count for p in model.primitives()])
    return np.concatenate([p.indices.astype(np.int64) + offset
                           for p, offset in zip(model.primitives(), offsets, strict=False)])


@pytest.mark.slow
@pytest.mark.parametrize("name", CORPUS_UP)
def test_corpus_scans_turned_to_any_axis_stand_as_with_the_right_up(corpus, tmp_path, name):
    source = read_source(corpus / name)
    truth = CORPUS_UP[name]
    expected = np.sort(_standing(source.model, truth), axis=0)
    for to in AXES:
        for path in _saved_without_hint(_turned(source.model, truth, to), tmp_path, name, to):
            saved = read_source(path)
            assert saved.format == path.suffix[1:]
            choice = choose_up(saved.model, declared=None, source_format=saved.format,
                               habit=saved.default_up)
            assert choice.axis == to, (path.name, choice)
            assert choice.source == "estimated" and choice.confidence >= UNSURE_BELOW, \
                (path.name, choice)
            stood = np.sort(_standing(saved.model, choice.axis), axis=0)
            np.testing.assert_allclose(stood, expected, atol=1e-3 * np.ptp(expected))


@pytest.mark.parametrize("positions, triangles", [
    ([[0, 0, 0], [1, 0, 0], [0, 1, 0]], [[0, 1, 2]]),  # one triangle
    ([[0, 0, 0], [1, 0, 0], [2, 0, 0]], [[0, 1, 2]]),  # a line
    ([[1, 1, 1]] * 3, [[0, 1, 2]]),  # a point
    (np.eye(3) * 1e30, [[0, 1, 2]]),  # far out
    (np.eye(3) * 1e-30, [[0, 1, 2]]),  # tiny
])
def test_degenerate_geometry_gets_an_answer_without_warnings(positions, triangles):
    model = single_node_model(Primitive(np.asarray(positions, np.float32),
                                        np.asarray(triangles, np.uint32)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no division by zero on the way
        choice = estimate_up(model, habit="+Z")
    assert choice.axis in AXES and 0.0 <= choice.confidence < UNSURE_BELOW


def test_a_georeferenced_64_bit_soup_stands_like_the_same_scan_near_the_origin():
    # A vase saved as a triangle soup (STL-like) far from the origin, in 64-bit coordinates as
    # the readers may keep them: its open foot is found only if corners are welded exactly.
    vase = _vase()
    vase.apply_scale(0.2)  # 20 cm: 32-bit floats are 0.5 m apart at 6.5e6
    corners = np.asarray(vase.vertices, np.float64)[np.asarray(vase.faces)].reshape(-1, 3)
    corners = corners @ (UP_ROTATIONS["+Y"].T @ UP_ROTATIONS["+Z"]) + [6.5e6, 1.6e6, 40.0]
    soup = single_node_model(Primitive(corners, np.arange(len(corners), dtype=np.uint32)
                                       .reshape(-1, 3)))
    choice = estimate_up(soup, habit="+Y")
    assert choice.axis == "+Z" and choice.source == "estimated"
    opening = next(e for e in choice.evidence if e.startswith("open boundary at -Z: "))
    assert float(opening.rsplit(" ", 1)[1]) > 0.5  # the foot's rim, not every edge or none


def test_up_on_the_command_line_overrides_a_confident_estimate(tmp_path):
    # The bust's flat base says +X; a curator who knows better (say, a relief scanned from
    # its side) gives --up, and the summary records that it was declared, without a warning.
    source = tmp_path / "bust.ply"
    lying = _turned(_model(_bust()), "+Y", "+X").primitives()[0]
    source.write_bytes(trimesh.Trimesh(lying.positions, lying.indices, process=False)
                       .export(file_type="ply"))
    summaries = {}
    for label, extra in (("guessed", []), ("declared", ["--up=-Z"])):
        out = tmp_path / label
        result = subprocess.run([sys.executable, "-m", "vrculture", "convert", str(source), "-o",
                                 str(out), "--levels", "low", *extra],
                                capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr
        summaries[label] = json.loads((out / "bust" / "bust.json").read_text())
        assert "up axis not given and unsure" not in result.stderr
    assert summaries["guessed"]["orientation"]["axis"] == "+X"
    assert summaries["guessed"]["orientation"]["source"] == "estimated"
    assert summaries["guessed"]["orientation"]["confidence"] >= UNSURE_BELOW
    assert summaries["declared"]["orientation"] == {
        "axis": "-Z", "source": "declared", "confidence": 1.0,
        "evidence": ["given in the collection or with --up"]}
    assert summaries["declared"]["up_axis"] == "-Z"
