"""Per-object presentation: the collection's `presentation` table is validated field by field,
the defaults follow the work's kind and size, and the layout, the architecture and the manifest
honour it (docs/collection-format.md "Presentation")."""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import jsonschema
import pytest
from build_helpers import SCHEMA, glb_json, load_json, run_build, write_painting, write_shape
from gltf_validator import assert_valid
from sightlines import EYE, blocked

from vrculture.exhibition.architecture import GLASS_MATERIAL, build_architecture
from vrculture.exhibition.collection import load_collection
from vrculture.exhibition.layout import Fixed, Item, RoomSize, plan
from vrculture.exhibition.presentation import GLASS_HEADROOM, Presentation, resolve
from vrculture.exhibition.records import PresentationRecord
from vrculture.exhibition.sightcheck import hidden_pairs

HEAD = textwrap.dedent("""\
    [exhibition]
    id = "vis"
    languages = ["en"]
    title = "Presentation"
    """)


def _object(oid: str, presentation: str, source: str = "a.obj") -> str:
    return textwrap.dedent(f"""
        [[objects]]
        id = "{oid}"
        source = "{source}"
        title = "{oid}"
        rights = "CC0-1.0"
        presentation = {presentation}
        """)


def _folder(tmp_path: Path, body: str) -> Path:
    folder = tmp_path / "coll"
    write_shape(folder / "a.obj")
    write_painting(folder / "p.jpg")
    (folder / "collection.toml").write_text(HEAD + body, "utf-8")
    return folder


# --- reading the collection -------------------------------------------------------------------

def test_valid_presentation_is_read(tmp_path: Path) -> None:
    folder = _folder(tmp_path, _object("a", '{ mount = "Vitrine", plinth_height = 0.9, '
                                            'light = 1.4 }')
                     + _object("p", "{ wall_height = 1.7, light = 0 }", "p.jpg"))
    collection, issues = load_collection(folder)
    assert not issues.errors
    records = {o.id: o.presentation for o in collection.objects}
    assert records["a"] == PresentationRecord("vitrine", 0.9, None, 1.4)
    assert records["p"] == PresentationRecord(None, None, 1.7, 0.0)


@pytest.mark.parametrize(("presentation", "field", "words"), [
    ('{ mount = "pedestal-ish" }', "presentation.mount", "not one of plinth, floor, wall"),
    ('{ mount = 3 }', "presentation.mount", "'3' is not one of"),
    ('{ mount = ["plinth"] }', "presentation.mount", "must be text"),
    ('{ light = 5 }', "presentation.light", "outside 0 to 2"),
    ('{ light = -0.5 }', "presentation.light", "outside 0 to 2"),
    ('{ light = "bright" }', "presentation.light", "not a number"),
    ('{ light = nan }', "presentation.light", "finite number"),
    ('{ plinth_height = 4.0 }', "presentation.plinth_height", "outside 0.05 to 1.5 m"),
    ('{ wall_height = 0.0 }', "presentation.wall_height", "outside 0.3 to 10 m"),
    ('{ glass = true }', "presentation.glass", "unknown key 'glass'"),
    ('"vitrine"', "presentation", "must be a table"),
    ('{ mount = "floor", plinth_height = 0.5 }', "presentation.plinth_height", "has no plinth"),
    ('{ mount = "plinth", wall_height = 1.2 }', "presentation.wall_height", "does not hang"),
])
def test_hostile_presentation_names_file_line_object_and_field(
        tmp_path: Path, presentation: str, field: str, words: str) -> None:
    folder = _folder(tmp_path, _object("bad", presentation) + _object("good", "{}"))
    collection, issues = load_collection(folder)
    assert [o.id for o in collection.objects] == ["good"]  # the rest still builds
    (error,) = [i for i in issues.errors if i.record == "bad"]
    assert error.file == str(folder.resolve() / "collection.toml")
    assert error.field == f"objects[0].{field}" and words in error.message, error
    assert error.line == 11  # the `presentation = ...` line of the bad object


def test_wall_height_and_placement_height_together_is_an_error(tmp_path: Path) -> None:
    body = _object("p", "{ wall_height = 1.7 }", "p.jpg") + \
        'placement = { wall = "north", along = 0.0, height = 1.6 }\n'
    collection, issues = load_collection(_folder(tmp_path, body))
    assert not collection.objects
    assert any(i.field == "objects[0].presentation.wall_height" and "once" in i.message
               for i in issues.errors)


# --- defaults by kind and size ----------------------------------------------------------------

def test_defaults_by_kind_and_size() -> None:
    assert resolve("painting", (1.0, 0.8, 0.03), None)[0] == Presentation("wall", 0.0, 1.5, 1.0)
    tall_painting = resolve("painting", (2.0, 3.0, 0.05), None)[0]
    assert tall_painting.wall_height == pytest.approx(0.3 + 1.5)  # lower edge 0.3 m up
    small = resolve("model", (0.2, 0.35, 0.15), None)[0]
    assert small.mount == "vitrine" and small.plinth_height == pytest.approx(1.0)  # the highest
    medium = resolve("model", (0.5, 0.6, 0.5), None)[0]
    assert medium.mount == "plinth" and medium.plinth_height == pytest.approx(0.95)
    assert resolve("model", (0.8, 2.3, 0.8), None)[0].mount == "floor"
    assert resolve("smart", (0.5, 1.2, 0.5), None)[0].mount == "floor"


def test_choices_that_do_not_fit_the_kind_fall_back_with_a_message() -> None:
    presented, problems = resolve("painting", (1, 1, 0.03), PresentationRecord("vitrine"))
    assert presented.mount == "wall" and problems[0][0] == "presentation.mount"
    presented, problems = resolve("model", (1, 1, 1), PresentationRecord("wall"))
    assert presented.mount == "plinth" and "cannot hang" in problems[0][1]
    presented, problems = resolve("model", (1, 1, 1), PresentationRecord(wall_height=1.2))
    assert problems == [("presentation.wall_height", "a 3D object does not hang on a wall")]


# --- layout and architecture ------------------------------------------------------------------

def _presented(kind: str, size: tuple[float, float, float], **choice: object) -> Presentation:
    return resolve(kind, size, PresentationRecord(**choice))[0]  # type: ignore[arg-type]


def _items() -> list[Item]:
    cup = (0.2, 0.25, 0.2)
    vase = (0.5, 0.6, 0.5)
    painting = (1.0, 0.8, 0.03)
    return [
        Item("cup", "model", "g", cup, _presented("model", cup)),
        Item("vase-floor", "model", "g", vase, _presented("model", vase, mount="floor")),
        Item("vase-low", "model", "g", vase, _presented("model", vase, plinth_height=0.3,
                                                        light=1.6)),
        Item("high", "painting", "g", painting, _presented("painting", painting,
                                                           wall_height=1.9)),
        Item("plain", "painting", "g", painting, _presented("painting", painting)),
        Item("cased-vase", "model", "g", vase, _presented("model", vase, mount="vitrine")),
    ]


@pytest.mark.parametrize("curated", [False, True])
def test_layout_honours_the_presentation(curated: bool) -> None:
    fixed = {"cup": Fixed(x=-1.5, z=0.0, facing=90.0), "high": Fixed(wall="north", along=0.0),
             "vase-floor": Fixed(x=1.5, z=-1.0, facing=-90.0)} if curated else {}
    sizes = {"g": RoomSize(8.0, 12.0, 4.0)} if curated else {}
    layout = plan(_items(), [("g", "gallery")], fixed, sizes)
    p = layout.placements
    assert p["vase-floor"].mount == "floor" and p["vase-floor"].position[1] == 0.0
    assert p["vase-low"].mount == "plinth" and p["vase-low"].position[1] == pytest.approx(0.3)
    # a wall-hung work's middle at its wall height
    assert p["high"].position[1] + 0.4 == pytest.approx(1.9)
    assert p["plain"].position[1] + 0.4 == pytest.approx(1.5)
    # one plinth per plinth or vitrine, none under the floor-standing vase
    assert len(layout.plinths) == 3
    floor_rect = p["vase-floor"].footprint
    assert not any(b.rect[0] >= floor_rect[0] and b.rect[2] <= floor_rect[2]
                   and b.rect[1] >= floor_rect[1] and b.rect[3] <= floor_rect[3]
                   for b in layout.plinths)
    # each vitrine's glass stands on its plinth and clears its object
    assert {k for k, v in p.items() if v.mount == "vitrine"} == {"cup", "cased-vase"}
    assert len(layout.vitrines) == 2
    for key, size in (("cup", 0.25), ("cased-vase", 0.6)):
        place = p[key]
        glass = next(v for v in layout.vitrines
                     if v.rect[0] < place.position[0] < v.rect[2]
                     and v.rect[1] < place.position[2] < v.rect[3])
        assert glass.bottom == pytest.approx(place.plinth_height)
        assert glass.bottom + glass.height == pytest.approx(place.plinth_height + size
                                                            + GLASS_HEADROOM)
    assert layout.presentations["vase-low"].light == pytest.approx(1.6)
    assert all(r.height >= max(v.bottom + v.height for v in layout.vitrines)
               for r in layout.rooms)
    assert not [m for m in hidden_pairs(layout, _items(), set(fixed)) if "hides" in m[1]]


def test_vitrine_glass_does_not_hide_its_own_object() -> None:
    """The glass is transparent: from the view point, the object in its case is in full sight
    (the sight check's occluders are the works' plinth-and-object boxes, never the glass)."""
    import numpy as np

    layout = plan(_items(), [("g", "gallery")])
    place = layout.placements["cup"]
    eye = np.array([place.view_point.position[0], EYE, place.view_point.position[2]])
    middle = np.array([place.position[0], place.position[1] + 0.125, place.position[2]])
    glass = np.array([[[v.rect[0], v.bottom, v.rect[1]],
                       [v.rect[2], v.bottom + v.height, v.rect[3]]] for v in layout.vitrines])
    # the glass box does enclose the object: counted as an occluder it would block the view
    assert blocked(eye, middle[None, :], glass).all()
    others = [(k, q) for k, q in layout.placements.items() if k != "cup"]
    boxes = np.array([[[q.footprint[0], 0.0, q.footprint[1]],
                       [q.footprint[2], 2.5, q.footprint[3]]] for _, q in others])
    assert not blocked(eye, middle[None, :], boxes).any()
    assert not hidden_pairs(layout, _items(), set())


def test_architecture_has_one_glass_primitive_for_all_vitrines() -> None:
    layout = plan(_items(), [("g", "gallery")])
    model = build_architecture(layout)
    node = next(n for n in model.nodes if n.name == "vitrines")
    (glass,) = node.primitives
    material = model.materials[glass.material]
    assert material.name == GLASS_MATERIAL and material.alpha_mode == "BLEND"
    assert material.base_color_factor[3] < 0.3
    assert len(glass.positions) == 24 * len(layout.vitrines)  # one box per vitrine


# --- a whole build: manifest and architecture GLB ---------------------------------------------

def test_build_carries_the_presentation_to_the_manifest(tmp_path: Path) -> None:
    folder = tmp_path / "coll"
    write_shape(folder / "cup.obj", scale=0.1)  # 0.2 m across: a vitrine by default
    write_shape(folder / "big.obj", "box")
    write_painting(folder / "p.jpg")
    (folder / "collection.toml").write_text(HEAD + textwrap.dedent("""
        [[objects]]
        id = "cup"
        source = "cup.obj"
        title = "Cup"
        rights = "CC0-1.0"
        units = "m"
        presentation = { light = 1.5 }

        [[objects]]
        id = "big"
        source = "big.obj"
        title = "Box"
        rights = "CC0-1.0"
        units = "m"
        presentation = { mount = "floor" }

        [[objects]]
        id = "p"
        source = "p.jpg"
        title = "Painting"
        rights = "CC0-1.0"
        height_m = 0.5
        presentation = { wall_height = 1.7 }
        """), "utf-8")
    out = tmp_path / "bundle"
    assert run_build(folder, "-o", out, "--levels", "low", "--quiet", "--jobs", "1") == 0
    manifest = load_json(out / "exhibition.json")
    jsonschema.Draft202012Validator(load_json(SCHEMA)).validate(manifest)
    objects = {o["id"]: o for o in manifest["objects"]}
    assert objects["cup"]["presentation"]["mount"] == "vitrine"
    assert objects["cup"]["presentation"]["light"] == 1.5
    assert objects["cup"]["placement"]["mount"] == "vitrine"
    assert objects["big"]["presentation"] == {"mount": "floor", "light": 1.0}
    assert objects["big"]["placement"]["position"][1] == 0.0
    painting = objects["p"]
    assert painting["presentation"]["wall_height"] == 1.7
    height = painting["bounds"]["max"][1] - painting["bounds"]["min"][1]
    assert math.isclose(painting["placement"]["position"][1] + height / 2, 1.7, abs_tol=0.01)
    glb = out / manifest["architecture"]["url"]
    assert_valid(glb)
    doc = glb_json(glb)
    assert "vitrines" in {n.get("name") for n in doc["nodes"]}
    glass = next(m for m in doc["materials"] if m.get("name") == GLASS_MATERIAL)
    assert glass["alphaMode"] == "BLEND"


def test_demo_shows_a_vitrine_and_a_lower_painting(demo_bundle: Path) -> None:
    manifest = load_json(demo_bundle / "exhibition.json")
    objects = {o["id"]: o for o in manifest["objects"]}
    assert objects["fajansvas"]["presentation"] == {"mount": "vitrine", "light": 1.3,
                                                    "plinth_height": pytest.approx(1.0)}
    winter = objects["vinterkvall"]
    height = winter["bounds"]["max"][1] - winter["bounds"]["min"][1]
    assert winter["placement"]["position"][1] + height / 2 == pytest.approx(1.35, abs=0.01)
    glb = demo_bundle / manifest["architecture"]["url"]
    assert "vitrines" in {n.get("name") for n in glb_json(glb)["nodes"]}
    assert_valid(glb)
