"""OBJ/MTL files as old exporters write them, converted end to end and checked by the Khronos
validator: CRLF, negative and mixed index forms, groups, several materials, textured and
untextured ones side by side, missing and unicode-named textures."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from gltf_validator import assert_valid
from PIL import Image
from pipeline_helpers import read_glb
from readers_fixtures import png_bytes, write

from vrculture.pipeline.convert import ConvertSettings, convert_file
from vrculture.pipeline.readers import read_source
from vrculture.pipeline.readers.obj_scan import scan_obj

UNICODE_TEXTURE = "träd_木.png"
SIDE = 48  # quads per side: 4608 triangles per material region, so every level simplifies


def _grid(offset: float) -> tuple[list[str], list[str], list[str], list[list[int]]]:
    """A wavy SIDE x SIDE patch: v / vt / vn lines and its quads as 0-based corner numbers."""
    n = SIDE + 1
    xs, zs = np.meshgrid(np.linspace(0, 1, n), np.linspace(0, 1, n))
    ys = 0.05 * np.sin(6 * xs) * np.cos(5 * zs)
    v = [
        f"v {x + offset:.6f} {y:.6f} {z:.6f}"
        for x, y, z in zip(xs.ravel(), ys.ravel(), zs.ravel(), strict=True)
    ]
    vt = [f"vt {x:.6f} {z:.6f}" for x, z in zip(xs.ravel(), zs.ravel(), strict=True)]
    vn = ["vn 0 1 0"] * len(v)
    quads = [
        [r * n + c, (r + 1) * n + c, (r + 1) * n + c + 1, r * n + c + 1]
        for r in range(SIDE)
        for c in range(SIDE)
    ]
    return v, vt, vn, quads


def _corner(form: str, i: int, total: int, negative: bool) -> str:
    """One face corner for table position i (0-based) of `total` entries so far."""
    ref = str(i - total if negative else i + 1)
    return {
        "v": ref,
        "v/vt": f"{ref}/{ref}",
        "v//vn": f"{ref}//{ref}",
        "v/vt/vn": f"{ref}/{ref}/{ref}",
    }[form]


# (material, corner form, negative indices) per patch; "painted" has a texture but no UVs.
MIXED = [
    ("wood", "v/vt/vn", False),
    ("plain", "v", True),
    ("painted", "v//vn", False),
    ("lost", "v/vt", True),
]
UNIFORM = [("wood", "v/vt/vn", True), ("lost", "v/vt/vn", False)]


def _quirky_obj(folder: Path, patches: list[tuple[str, str, bool]]) -> Path:
    write(folder / UNICODE_TEXTURE, png_bytes(Image.new("RGB", (8, 8), (150, 90, 40))))
    write(folder / "painted.png", png_bytes(Image.new("RGB", (8, 8), (20, 90, 200))))
    mtl = (
        "newmtl wood\r\nKd 1 1 1\r\nmap_Kd " + UNICODE_TEXTURE + "\r\n"
        "newmtl plain\r\nKd 0.8 0.1 0.1\r\n"
        "newmtl painted\r\nKd 1 1 1\r\nmap_Kd painted.png\r\n"
        "newmtl lost\r\nKd 1 1 1\r\nmap_Kd gone/missing.png\r\n"
    )
    (folder / "quirks.mtl").write_bytes(mtl.encode("utf-8"))
    lines = ["# exported by an old scanner suite", "mtllib quirks.mtl", "o scan"]
    count = 0
    for number, (material, form, negative) in enumerate(patches):
        v, vt, vn, quads = _grid(offset=1.1 * number)
        # Each patch defines its own tables right before its faces, as grouped exports do, so
        # negative indices count back from here.
        lines += [f"g part{number}", "s 1", *v, *vt, *vn, f"usemtl {material}"]
        for quad in quads:
            corners = (_corner(form, count + i, count + len(v), negative) for i in quad)
            lines.append("f " + " ".join(corners))
        count += len(v)
    return write(folder / "quirks.obj", "\r\n".join(lines) + "\r\n")


def _glb_materials(path: Path) -> list[tuple[str, bool, bool]]:
    """(material name, has a texture, primitive has TEXCOORD_0) per primitive in the GLB."""
    gltf, _ = read_glb(path)
    out = []
    for mesh in gltf["meshes"]:
        for prim in mesh["primitives"]:
            material = gltf["materials"][prim["material"]]
            textured = "baseColorTexture" in material.get("pbrMetallicRoughness", {})
            out.append((material["name"], textured, "TEXCOORD_0" in prim["attributes"]))
    return sorted(out)


def test_materials_keep_their_own_attributes(tmp_path: Path) -> None:
    source = read_source(_quirky_obj(tmp_path, MIXED))
    model = source.model
    by_name = {model.materials[p.material].name: p for p in model.primitives()}
    assert sorted(by_name) == ["lost", "painted", "plain", "wood"]
    assert by_name["wood"].uvs is not None and by_name["wood"].normals is not None
    assert by_name["lost"].uvs is not None and by_name["lost"].normals is None
    assert by_name["painted"].uvs is None and by_name["painted"].normals is not None
    assert by_name["plain"].uvs is None and by_name["plain"].normals is None
    for prim in by_name.values():
        assert prim.triangle_count == 2 * SIDE * SIDE
        assert prim.vertex_count == (SIDE + 1) ** 2  # negative indices resolved per patch
    materials = {m.name: m for m in model.materials}
    assert materials["wood"].base_color_texture is not None  # the unicode-named file
    assert materials["painted"].base_color_texture is None  # no UVs to sample it with
    assert materials["lost"].base_color_texture is None
    assert any("'painted'" in w and "no texture coordinates" in w for w in model.warnings)
    assert any("missing.png" in w for w in model.warnings)
    # UVs are those of the file, flipped to glTF's top-left origin.
    wood = by_name["wood"]
    corner = np.argmin(wood.positions[:, 0] + wood.positions[:, 2])
    assert np.allclose(wood.uvs[corner], (0.0, 1.0))


@pytest.mark.parametrize("patches", [MIXED, UNIFORM], ids=["mixed", "uniform"])
def test_quirky_obj_converts_to_valid_glbs(tmp_path: Path, patches) -> None:
    path = _quirky_obj(tmp_path / "src", patches)
    # The uniform file takes the bulk scanner, the mixed one the line-by-line parse.
    assert (scan_obj(path.read_bytes()) is not None) == (patches is UNIFORM)
    summary = convert_file(path, tmp_path / "out", ConvertSettings(compress=False))
    written = [tmp_path / "out" / level.file for level in summary.written]
    assert len(written) >= 2  # full and a simplified level: each primitive went through both
    assert_valid(written)
    for glb in written:
        # UVs reach the GLB where a texture reads them: "lost" (its texture missing) has them
        # in the source (test above) but nothing in the GLB would sample them.
        expected = {(material, material == "wood", "vt" in form and material == "wood")
                    for material, form, _ in patches}
        assert set(_glb_materials(glb)) == expected, glb.name


def test_quirky_obj_compressed_is_valid(tmp_path: Path) -> None:
    path = _quirky_obj(tmp_path / "src", MIXED)
    summary = convert_file(path, tmp_path / "out", ConvertSettings())
    assert_valid([tmp_path / "out" / level.file for level in summary.written])


def test_a_material_with_uvs_on_some_faces_only_drops_them_and_its_texture(tmp_path: Path) -> None:
    write(tmp_path / "t.png", png_bytes(Image.new("RGB", (4, 4), (9, 9, 9))))
    write(tmp_path / "m.mtl", "newmtl half\nmap_Kd t.png\n")
    text = (
        "mtllib m.mtl\nv 0 0 0\nv 1 0 0\nv 1 1 0\nv 0 1 0\nvt 0 0\nvt 1 0\nvt 1 1\n"
        "usemtl half\nf 1/1 2/2 3/3\nf 1 3 4\n"
    )
    model = read_source(write(tmp_path / "half.obj", text)).model
    (prim,) = model.primitives()
    assert prim.uvs is None and prim.triangle_count == 2
    assert model.materials[0].base_color_texture is None
    assert any("'half': some faces have no texture coordinates" in w for w in model.warnings)


def test_a_skipped_short_face_does_not_cost_a_material_its_uvs(tmp_path: Path) -> None:
    text = "v 0 0 0\nv 1 0 0\nv 1 1 0\nvt 0 0\nvt 1 0\nvt 1 1\nf 1/1 2/2 3/3\nf 1 2\n"
    model = read_source(write(tmp_path / "short.obj", text)).model
    (prim,) = model.primitives()
    assert prim.uvs is not None
    assert any("fewer than 3 corners" in w for w in model.warnings)
