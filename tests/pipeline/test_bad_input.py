"""Hostile and broken sources: each gives one ConversionError naming the file and the problem.

Nothing else may escape (no IndexError, struct.error, MemoryError...), nothing is allocated from a
lying header, and nothing outside the source's folder is ever read.
"""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from readers_fixtures import (
    QUAD,
    TRIANGLE,
    data_uri,
    glb,
    gltf_document,
    obj_text,
    off_text,
    ply_ascii,
    ply_binary,
    png_bytes,
    png_header_only,
    stl_ascii,
    stl_binary,
    write,
)

from vrculture.pipeline.errors import ConversionError
from vrculture.pipeline.readers import ReadLimits, read_source


def refused(path: Path, *words: str, **kwargs: object) -> str:
    """Read `path`, expect a ConversionError naming the file and containing every word."""
    with pytest.raises(ConversionError) as err:
        read_source(path, **kwargs)  # type: ignore[arg-type]
    message = str(err.value)
    assert str(path) in message, message
    for word in words:
        assert word.lower() in message.lower(), message
    assert "\n" not in message  # one clear line
    return message


# ---------------------------------------------------------------- empty, garbage, missing


@pytest.mark.parametrize("suffix", [".obj", ".ply", ".stl", ".glb", ".gltf", ".jpg", ".png"])
def test_empty_file(tmp_path: Path, suffix: str) -> None:
    refused(write(tmp_path / f"empty{suffix}", b""), "empty")


@pytest.mark.parametrize("suffix", [".obj", ".ply", ".glb", ".gltf", ".png", ".xyz"])
def test_binary_garbage(tmp_path: Path, suffix: str) -> None:
    garbage = np.random.default_rng(7).integers(0, 256, 5000, dtype=np.uint8).tobytes()
    refused(write(tmp_path / f"garbage{suffix}", b"\x00\x01" + garbage), "not a recognised")


def test_binary_garbage_named_stl_is_checked_as_binary_stl(tmp_path: Path) -> None:
    """Binary STL has no magic number: garbage named .stl fails the length check instead."""
    garbage = np.random.default_rng(8).integers(0, 256, 5000, dtype=np.uint8).tobytes()
    refused(write(tmp_path / "garbage.stl", garbage), "STL", "triangles")


def test_text_that_is_no_model(tmp_path: Path) -> None:
    refused(write(tmp_path / "notes.obj", "Dear curator,\nthis is a letter.\n"), "not a recognised")


def test_missing_file_and_directory(tmp_path: Path) -> None:
    refused(tmp_path / "nope.obj", "not found")
    (tmp_path / "dir.obj").mkdir()
    refused(tmp_path / "dir.obj", "not a regular file")


def test_file_over_the_size_limit(tmp_path: Path) -> None:
    path = write(tmp_path / "big.obj", obj_text())
    refused(path, "over the limit", limits=ReadLimits(max_file_bytes=20))


# ---------------------------------------------------------------- truncated


def test_truncated_obj_loses_its_faces(tmp_path: Path) -> None:
    text = obj_text()
    refused(write(tmp_path / "cut.obj", text[: text.index("f ")]), "zero triangles")


def test_obj_face_cut_mid_corner(tmp_path: Path) -> None:
    refused(write(tmp_path / "cut.obj", obj_text("f 1/1 2/")), "OBJ")


def test_truncated_binary_ply(tmp_path: Path) -> None:
    data = ply_binary()
    refused(write(tmp_path / "cut.ply", data[:-10]), "face", "truncated")
    header_end = data.index(b"end_header\n") + 11
    refused(write(tmp_path / "cut2.ply", data[: header_end + 20]), "vertex", "bytes remain")


def test_ply_header_without_end(tmp_path: Path) -> None:
    refused(
        write(tmp_path / "head.ply", b"ply\nformat ascii 1.0\nelement vertex 3\n"), "end_header"
    )


def test_truncated_ascii_ply(tmp_path: Path) -> None:
    data = ply_ascii()
    refused(write(tmp_path / "cut.ply", data[: len(data) - 12]), "face")


def test_truncated_binary_stl(tmp_path: Path) -> None:
    data = stl_binary(np.stack([TRIANGLE] * 10))
    refused(write(tmp_path / "cut.stl", data[:-30]), "declares 10 triangles", "holds only 9")


def test_truncated_binary_stl_whose_header_says_solid(tmp_path: Path) -> None:
    data = stl_binary(np.stack([TRIANGLE] * 10), header=b"solid exported by a scanner")
    refused(write(tmp_path / "cut.stl", data[:-30]), "declares 10 triangles")


def test_truncated_ascii_stl(tmp_path: Path) -> None:
    """The project's rule for a bad facet: dropped with a warning naming the file and line, the
    rest kept; a file with no whole facet left is refused."""
    data = stl_ascii(np.stack([TRIANGLE] * 2))
    cut = data[: data.rindex(b"vertex")]
    source = read_source(write(tmp_path / "cut.stl", cut))
    assert source.model.triangle_count == 1
    assert any("cut.stl" in w and "line 9" in w and "truncated" in w for w in source.model.warnings)
    inside_first = cut[: cut.index(b"endloop") - 10]  # in the first facet's third vertex
    refused(write(tmp_path / "cut1.stl", inside_first), "no valid facet", "line 2", "truncated")


@pytest.mark.parametrize("keep", [10, 30, -8])
def test_truncated_glb(tmp_path: Path, keep: int) -> None:
    data = glb(*gltf_document())
    refused(write(tmp_path / "cut.glb", data[:keep]), "GLB")


# ---------------------------------------------------------------- lying headers (no allocation)


def test_ply_vertex_count_beyond_data(tmp_path: Path) -> None:
    data = ply_binary(declared_vertices=2_000_000_000)
    refused(write(tmp_path / "liar.ply", data), "2000000000", "bytes remain")


def test_ply_face_count_beyond_data(tmp_path: Path) -> None:
    refused(write(tmp_path / "liar.ply", ply_binary(declared_faces=10**9)), "face", "remain")


def test_ascii_ply_count_beyond_data(tmp_path: Path) -> None:
    data = ply_ascii().replace(b"element vertex 4", b"element vertex 4000000000")
    refused(write(tmp_path / "liar.ply", data), "numbers left")


def test_stl_count_beyond_data(tmp_path: Path) -> None:
    data = stl_binary(np.stack([TRIANGLE]), declared=4_000_000_000)
    refused(write(tmp_path / "liar.stl", data), "declares 4000000000 triangles")


def test_glb_chunk_longer_than_file(tmp_path: Path) -> None:
    data = bytearray(glb(*gltf_document()))
    struct.pack_into("<I", data, 12, 10**9)
    refused(write(tmp_path / "liar.glb", bytes(data)), "chunk", "past the file end")


def test_glb_total_length_beyond_file(tmp_path: Path) -> None:
    data = bytearray(glb(*gltf_document()))
    struct.pack_into("<I", data, 8, len(data) + 1000)
    refused(write(tmp_path / "liar.glb", bytes(data)), "truncated")


def test_gltf_accessor_count_beyond_buffer_view(tmp_path: Path) -> None:
    doc, data = gltf_document()
    doc["accessors"][0]["count"] = 1_000_000
    refused(write(tmp_path / "liar.glb", glb(doc, data)), "accessor", "bad accessor range")


def test_gltf_accessor_offset_beyond_buffer_view(tmp_path: Path) -> None:
    doc, data = gltf_document()
    doc["accessors"][1]["byteOffset"] = 64
    refused(write(tmp_path / "liar.glb", glb(doc, data)), "bad accessor range")


def test_gltf_buffer_view_beyond_buffer(tmp_path: Path) -> None:
    doc, data = gltf_document()
    doc["bufferViews"][1]["byteLength"] = 10_000
    refused(write(tmp_path / "liar.glb", glb(doc, data)), "bufferView 1", "past the end")


def test_gltf_buffer_shorter_than_declared(tmp_path: Path) -> None:
    doc, data = gltf_document()
    doc["buffers"][0]["byteLength"] = 10_000
    refused(write(tmp_path / "liar.glb", glb(doc, data)), "buffer 0", "truncated")


def test_gltf_accessor_count_over_limits(tmp_path: Path) -> None:
    doc, data = gltf_document()
    doc["accessors"][0]["count"] = 10**12
    refused(write(tmp_path / "liar.glb", glb(doc, data)), "over the limit")


# ---------------------------------------------------------------- indices, NaN, zero triangles


def test_obj_index_out_of_range(tmp_path: Path) -> None:
    refused(write(tmp_path / "bad.obj", obj_text("f 1 2 99\n")), "index 99", "out of range")


def test_obj_relative_index_before_the_first_vertex(tmp_path: Path) -> None:
    refused(write(tmp_path / "bad.obj", obj_text("f -1 -2 -9\n")), "index -9", "out of range")


def test_obj_index_zero(tmp_path: Path) -> None:
    refused(write(tmp_path / "bad.obj", obj_text("f 0 1 2\n")), "index 0")


def test_obj_uv_index_out_of_range(tmp_path: Path) -> None:
    text = obj_text("vt 0 0\nf 1/1 2/1 3/7\n")
    refused(write(tmp_path / "bad.obj", text), "uv index 7")


def test_ply_index_out_of_range(tmp_path: Path) -> None:
    data = ply_binary(faces=np.array([[0, 1, 2], [0, 2, 400]]))
    refused(write(tmp_path / "bad.ply", data), "index 400", "out of range")


def test_ply_negative_index(tmp_path: Path) -> None:
    refused(write(tmp_path / "bad.ply", ply_binary(faces=np.array([[0, -5, 2]]))), "-5")


def test_gltf_index_out_of_range(tmp_path: Path) -> None:
    doc, data = gltf_document(indices=np.array([0, 1, 7], dtype=np.uint16))
    refused(write(tmp_path / "bad.glb", glb(doc, data)), "index 7", "out of range")


def test_nan_vertices_drop_their_triangles_with_a_warning(tmp_path: Path) -> None:
    """Policy: triangles touching a NaN/inf vertex are dropped, the rest is kept, and a warning
    says how many; a mesh left with nothing is refused."""
    vertices = np.vstack([QUAD, [[np.nan, 0, 0], [0, np.inf, 0]]])
    text = obj_text("f 1 2 3\nf 1 3 4\nf 1 5 2\nf 6 2 3\n", vertices)
    source = read_source(write(tmp_path / "nan.obj", text))
    prim = source.model.primitives()[0]
    assert prim.triangle_count == 2
    assert prim.vertex_count == 4  # the non-finite vertices are gone, not just unreferenced
    assert np.isfinite(prim.positions).all()
    assert any("NaN" in w and "dropped the 2 triangles" in w for w in source.model.warnings)


def test_all_nan_mesh_is_refused(tmp_path: Path) -> None:
    vertices = np.full((3, 3), np.nan, dtype=np.float32)
    refused(write(tmp_path / "nan.stl", stl_binary(vertices[None])), "zero drawable triangles")


def test_nan_in_ply(tmp_path: Path) -> None:
    vertices = QUAD.copy()
    vertices[3] = (np.nan, np.nan, np.nan)
    source = read_source(write(tmp_path / "nan.ply", ply_binary(vertices)))
    assert source.model.triangle_count == 1


@pytest.mark.parametrize(
    ("name", "data", "words"),
    [
        ("points.obj", "v 0 0 0\nv 1 0 0\nv 0 1 0\n", ("zero triangles",)),
        ("nothing.obj", "# only a comment\no empty\ng group\n", ("no vertices",)),
        ("cloud.ply", b"", ("zero triangles", "point cloud")),
        ("zero.stl", b"", ("zero triangles",)),
        ("degenerate.obj", "v 0 0 0\nv 1 0 0\nf 1 2 2\n", ("zero drawable",)),
    ],
)
def test_zero_triangles(tmp_path: Path, name: str, data: str | bytes, words: tuple[str]) -> None:
    if name == "cloud.ply":
        data = ply_binary(faces=np.zeros((0, 3), int))
    elif name == "zero.stl":
        data = stl_binary(np.zeros((0, 3, 3)))
    refused(write(tmp_path / name, data), *words)


def test_gltf_with_only_points_has_zero_triangles(tmp_path: Path) -> None:
    doc, data = gltf_document()
    doc["meshes"][0]["primitives"][0]["mode"] = 0
    refused(write(tmp_path / "points.glb", glb(doc, data)), "zero triangles")


# ---------------------------------------------------------------- wrong extension (sniffed)


def test_ply_named_obj_is_read_as_ply(tmp_path: Path) -> None:
    source = read_source(write(tmp_path / "scan.obj", ply_binary()))
    assert source.format == "ply" and source.model.triangle_count == 2
    assert any("named .obj" in w and "PLY" in w for w in source.model.warnings)


def test_glb_named_stl_is_read_as_glb(tmp_path: Path) -> None:
    source = read_source(write(tmp_path / "thing.stl", glb(*gltf_document())))
    assert source.format == "glb" and source.model.triangle_count == 1


def test_png_named_stl_is_read_as_the_image_it_is(tmp_path: Path) -> None:
    image = Image.new("RGB", (40, 20), (200, 10, 10))
    source = read_source(write(tmp_path / "model.stl", png_bytes(image)))
    assert (source.kind, source.format) == ("painting", "image")
    assert any("named .stl" in w and "IMAGE" in w for w in source.model.warnings)


def test_stl_named_ply_is_read_as_stl(tmp_path: Path) -> None:
    source = read_source(write(tmp_path / "x.ply", stl_ascii(np.stack([TRIANGLE]))))
    assert source.format == "stl" and source.model.triangle_count == 1


@pytest.mark.parametrize(
    ("head", "words"),
    [
        (b"PK\x03\x04" + b"\x00" * 100, ("ZIP",)),
        (b"DRACO\x02\x02" + b"\x00" * 100, ("Draco",)),
        (b"GIF89a" + b"\x00" * 100, ("GIF", "not supported")),
    ],
)
def test_other_real_formats_are_named(tmp_path: Path, head: bytes, words: tuple[str]) -> None:
    refused(write(tmp_path / "object.obj", head), *words)


# ---------------------------------------------------------------- images


def test_huge_image_header_refused_before_decoding(tmp_path: Path) -> None:
    path = write(tmp_path / "bomb.png", png_header_only(100_000, 100_000))
    refused(path, "100000x100000", "refused before decoding")


def test_image_just_over_the_limit_is_refused_too(tmp_path: Path) -> None:
    """Between our limit and twice it Pillow only warns; that must still be a refusal."""
    path = write(tmp_path / "big.png", png_header_only(12_000, 10_000))
    refused(
        path,
        "12000x10000",
        "over the limit of 100000000",
        limits=ReadLimits(max_image_pixels=10**8),
    )


def test_truncated_jpeg(tmp_path: Path) -> None:
    import io

    buf = io.BytesIO()
    Image.new("RGB", (64, 64), (10, 200, 30)).save(buf, "JPEG")
    refused(write(tmp_path / "cut.jpg", buf.getvalue()[:300]), "truncated or corrupt")


def test_huge_texture_in_gltf_refused(tmp_path: Path) -> None:
    doc, data = gltf_document()
    doc["buffers"][0]["uri"] = data_uri(data)
    doc["images"] = [{"uri": data_uri(png_header_only(100_000, 100_000), "image/png")}]
    doc["textures"] = [{"source": 0}]
    doc["materials"] = [{"pbrMetallicRoughness": {"baseColorTexture": {"index": 0}}}]
    doc["meshes"][0]["primitives"][0]["material"] = 0
    refused(write(tmp_path / "bomb.gltf", json.dumps(doc)), "100000x100000")


def test_painting_height_must_be_plausible(tmp_path: Path) -> None:
    path = write(tmp_path / "p.png", png_bytes(Image.new("RGB", (8, 8))))
    refused(path, "not plausible", painting_height_m=-1.0)
    refused(path, "not plausible", painting_height_m=float("nan"))


# ---------------------------------------------------------------- paths leaving the folder


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    """A file outside the source folder that no reader may touch."""
    return write(tmp_path / "secret" / "passwd.png", png_bytes(Image.new("RGB", (4, 4))))


def _obj_with_mtl(folder: Path, mtl_line: str, mtllib: str = "m.mtl") -> Path:
    write(folder / "m.mtl", f"newmtl m\nKd 1 1 1\n{mtl_line}\n")
    # With UVs: a textured material whose faces have none drops its maps, which would hide
    # whether the reader refused or read them.
    faces = "vt 0 0\nvt 1 0\nvt 1 1\nf 1/1 2/2 3/3\nf 1/1 3/3 4/2\n"
    return write(folder / "x.obj", f"mtllib {mtllib}\nusemtl m\n" + obj_text(faces))


@pytest.mark.parametrize(
    "reference",
    ["../secret/passwd.png", "../../etc/passwd", "/etc/passwd", "C:\\Windows\\win.ini",
     "file:///etc/passwd", "http://example.com/t.png"],
)  # fmt: skip
def test_mtl_texture_outside_the_folder(tmp_path: Path, secret: Path, reference: str) -> None:
    source = _obj_with_mtl(tmp_path / "src", f"map_Kd {reference}")
    message = refused(source, reference.split("/")[-1].split("\\")[-1])
    assert "outside" in message or "URL" in message


def test_mtllib_outside_the_folder(tmp_path: Path) -> None:
    write(tmp_path / "evil.mtl", "newmtl m\n")
    source = _obj_with_mtl(tmp_path / "src", "", mtllib="../evil.mtl")
    refused(source, "../evil.mtl", "outside")


def test_mtl_texture_symlink_leading_out(tmp_path: Path, secret: Path) -> None:
    folder = tmp_path / "src"
    folder.mkdir()
    os.symlink(secret, folder / "innocent.png")
    refused(_obj_with_mtl(folder, "map_Kd innocent.png"), "innocent.png", "outside")


def test_mtl_texture_inside_the_folder_is_read(tmp_path: Path) -> None:
    folder = tmp_path / "src"
    write(folder / "tex" / "wood.png", png_bytes(Image.new("RGB", (8, 4), (120, 60, 20))))
    source = read_source(_obj_with_mtl(folder, "map_Kd -s 1 1 1 tex/wood.png"))
    texture = source.model.materials[0].base_color_texture
    assert texture is not None and texture.image.size == (8, 4)


def test_missing_mtl_texture_is_a_warning(tmp_path: Path) -> None:
    source = read_source(_obj_with_mtl(tmp_path / "src", "map_Kd gone.png"))
    assert source.model.materials[0].base_color_texture is None
    assert any("gone.png" in w for w in source.model.warnings)


@pytest.mark.parametrize(
    "reference", ["../secret/passwd.png", "/etc/passwd", "%2E%2E/secret/passwd.png"]
)
def test_gltf_buffer_outside_the_folder(tmp_path: Path, secret: Path, reference: str) -> None:
    doc, _ = gltf_document(buffer_uri=reference)
    source = write(tmp_path / "src" / "x.gltf", json.dumps(doc))
    message = refused(source, "outside")
    assert reference in message


def test_gltf_image_symlink_leading_out(tmp_path: Path, secret: Path) -> None:
    folder = tmp_path / "src"
    doc, data = gltf_document(buffer_uri="x.bin")
    write(folder / "x.bin", data)
    os.symlink(secret, folder / "look.png")
    doc["images"] = [{"uri": "look.png"}]
    doc["textures"] = [{"source": 0}]
    doc["materials"] = [{"pbrMetallicRoughness": {"baseColorTexture": {"index": 0}}}]
    doc["meshes"][0]["primitives"][0]["material"] = 0
    refused(write(folder / "x.gltf", json.dumps(doc)), "look.png", "outside")


def test_gltf_external_buffer_and_image_inside_the_folder(tmp_path: Path) -> None:
    folder = tmp_path / "src"
    doc, data = gltf_document(buffer_uri="bin/x%20y.bin")
    write(folder / "bin" / "x y.bin", data)
    write(folder / "t.png", png_bytes(Image.new("RGBA", (4, 4), (0, 0, 255, 128))))
    doc["images"] = [{"uri": "t.png"}]
    doc["textures"] = [{"source": 0}]
    doc["materials"] = [{"pbrMetallicRoughness": {"baseColorTexture": {"index": 0}}}]
    doc["meshes"][0]["primitives"][0]["material"] = 0
    source = read_source(write(folder / "x.gltf", json.dumps(doc)))
    texture = source.model.materials[0].base_color_texture
    assert texture is not None and texture.has_alpha


# ---------------------------------------------------------------- malformed glTF JSON


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("[1, 2, 3]", ("must be an object",)),
        ('"just a string"', ("must be an object",)),
        ("{not json", ("not valid JSON",)),
        ('{"asset": {"version": "1.0"}}', ("version",)),
        ("[" * 100_000 + "]" * 100_000, ()),
    ],
)
def test_gltf_json_that_is_not_a_document(tmp_path: Path, text: str, words: tuple[str]) -> None:
    refused(write(tmp_path / "x.gltf", text), *words)


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda d: d["meshes"][0]["primitives"][0].update(indices=9), ("index 9", "accessors")),
        (lambda d: d["nodes"][0].update(mesh="zero"), ("'zero'",)),
        (lambda d: d["nodes"][0].update(children=[0]), ("cycle",)),
        (lambda d: d["accessors"][0].update(componentType=1), ("componentType",)),
        (lambda d: d["accessors"][1].update(componentType=5126), ("indices",)),
        (lambda d: d["accessors"][0].update(type="VEC2"), ("POSITION must be VEC3",)),
        (lambda d: d["bufferViews"][0].update(byteStride=2), ("byteStride",)),
        (lambda d: d["bufferViews"][0].update(byteOffset=-4), ("byteOffset",)),
        (lambda d: d.update(extensionsRequired=["EXT_unknown"]), ("EXT_unknown",)),
        (lambda d: d.update(accessors={"a": 1}), ("must be an array",)),
        (lambda d: d["nodes"][0].update(matrix=[1, 2]), ("matrix",)),
        (lambda d: d["nodes"][0].update(translation=[0, "x", 0]), ("translation",)),
        (lambda d: d.update(scene=4), ("scene",)),
        (lambda d: d["meshes"][0]["primitives"][0].update(attributes=[]), ("attributes", "object")),
        (lambda d: d["meshes"][0]["primitives"][0].update(attributes={}), ("POSITION",)),
        (
            lambda d: d["meshes"][0]["primitives"][0].update(
                extensions={"KHR_draco_mesh_compression": {"bufferView": 0, "attributes": {}}}
            ),
            ("Draco",),
        ),
    ],
)
def test_gltf_malformed_fields(tmp_path: Path, change: object, words: tuple[str]) -> None:
    doc, data = gltf_document()
    change(doc)  # type: ignore[operator]
    refused(write(tmp_path / "x.glb", glb(doc, data)), *words)


def test_gltf_bad_base64_data_uri(tmp_path: Path) -> None:
    doc, _ = gltf_document(buffer_uri="data:application/octet-stream;base64,@@@@")
    refused(write(tmp_path / "x.gltf", json.dumps(doc)), "base64")


# ---------------------------------------------------------------- assimp formats, total budget


def test_fbx_header_with_garbage_body(tmp_path: Path) -> None:
    data = b"Kaydara FBX Binary  \x00\x1a\x00" + bytes(range(256)) * 8
    refused(write(tmp_path / "broken.fbx", data), "FBX", "cannot be read")


def test_truncated_real_fbx(corpus: Path, tmp_path: Path) -> None:
    head = (corpus / "danish" / "DancingGirl.fbx").read_bytes()[:50_000]
    refused(write(tmp_path / "cut.fbx", head), "FBX")


def test_collada_that_is_not_xml(tmp_path: Path) -> None:
    refused(write(tmp_path / "x.dae", "<?xml version='1.0'?><COLLADA><library_"), "Collada")


def test_external_buffer_over_the_file_limit(tmp_path: Path) -> None:
    doc, data = gltf_document(buffer_uri="big.bin")
    write(tmp_path / "big.bin", data + bytes(4000))
    path = write(tmp_path / "x.gltf", json.dumps(doc))
    refused(path, "big.bin", "over the limit", limits=ReadLimits(max_file_bytes=3000))


def test_source_and_external_files_over_the_total_limit(tmp_path: Path) -> None:
    doc, data = gltf_document(buffer_uri="x.bin")
    write(tmp_path / "x.bin", data + bytes(3000))
    path = write(tmp_path / "x.gltf", json.dumps(doc))
    limits = ReadLimits(max_file_bytes=10_000, max_total_bytes=3000)
    refused(path, "exceed 3000 bytes", limits=limits)


def test_gltf_with_too_many_primitives(tmp_path: Path) -> None:
    doc, data = gltf_document()
    doc["meshes"][0]["primitives"] *= 50
    refused(
        write(tmp_path / "many.glb", glb(doc, data)),
        "50 primitives",
        limits=ReadLimits(max_nodes=10),
    )


def test_ply_duplicate_property(tmp_path: Path) -> None:
    data = ply_binary().replace(b"property float y", b"property float x")
    refused(write(tmp_path / "dup.ply", data), "duplicate property 'x'")


def test_ply_first_list_claims_two_billion_entries(tmp_path: Path) -> None:
    header = (
        b"ply\nformat binary_little_endian 1.0\nelement vertex 3\nproperty float x\n"
        b"property float y\nproperty float z\nelement face 1\n"
        b"property list int int vertex_indices\nend_header\n"
    )
    body = TRIANGLE.astype("<f4").tobytes() + struct.pack("<i", 2_000_000_000) + bytes(12)
    refused(write(tmp_path / "huge.ply", header + body), "face", "truncated")


def test_texture_name_in_another_case_is_found_inside_only(tmp_path: Path, secret: Path) -> None:
    folder = tmp_path / "src"
    write(folder / "wood.jpg", png_bytes(Image.new("RGB", (3, 3))))
    source = read_source(_obj_with_mtl(folder, "map_Kd Wood.JPG"))
    texture = source.model.materials[0].base_color_texture
    assert texture is not None and texture.image.size == (3, 3)
    # A differently-cased name that is a symlink leading out is still refused.
    os.symlink(secret, folder / "escape.png")
    source = read_source(_obj_with_mtl(folder, "map_Kd ESCAPE.png"))
    assert source.model.materials[0].base_color_texture is None


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("m.obj", obj_text()),
        ("m.ply", ply_binary()),
        ("m.stl", stl_binary(np.stack([TRIANGLE] * 2))),
        ("m.glb", glb(*gltf_document(np.vstack([TRIANGLE, TRIANGLE + 1])))),
    ],
)
def test_triangle_limit(tmp_path: Path, name: str, data: str | bytes) -> None:
    refused(write(tmp_path / name, data), "limit", limits=ReadLimits(max_triangles=1))


MEMORY_CAPPED_READ = """
import resource, sys
from pathlib import Path
cap = 1536 << 20
resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
from vrculture.pipeline.errors import ConversionError
from vrculture.pipeline.readers import read_source
for name in sys.argv[1:]:
    try:
        read_source(Path(name))
        print(name, "READ")
    except ConversionError as err:
        print(name, "REFUSED", err.problem)
"""


def test_lying_headers_are_refused_under_a_memory_cap(tmp_path: Path) -> None:
    """Run in a child limited to 1.5 GB of address space: a reader that allocated from a lying
    header before checking it (which overcommit would otherwise hide) fails here."""
    import subprocess
    import sys

    doc, data = gltf_document()
    doc["accessors"][0]["count"] = 19_000_000  # within max_vertices, far beyond the buffer
    files = [
        write(tmp_path / "v.ply", ply_binary(declared_vertices=1_900_000_000)),
        write(tmp_path / "f.ply", ply_binary(declared_faces=1_900_000_000)),
        write(tmp_path / "t.stl", stl_binary(np.stack([TRIANGLE]), declared=1_900_000_000)),
        write(tmp_path / "a.glb", glb(doc, data)),
        write(tmp_path / "i.png", png_header_only(100_000, 100_000)),
    ]
    env = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-c", MEMORY_CAPPED_READ, *map(str, files)],
        capture_output=True, text=True, timeout=120, env=env, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert len(lines) == len(files)
    for line in lines:
        assert " REFUSED " in line and "memory" not in line, line


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (off_text().replace("4 1 0", "4000000 1 0"), ("declares 4000000 vertices",)),
        (off_text(faces="3 0 1 9\n"), ("index 9", "out of range")),
        (off_text(faces="3 0 1\n"), ("face 1 is malformed",)),
        (off_text(faces="3 0 1 2.5\n"), ("integers",)),
        ("OFF\n", ("counts",)),
        ("4OFF\n1 1 0\n", ("not supported",)),
        (off_text(faces="2 0 1\n"), ("zero triangles",)),
    ],
)
def test_broken_off(tmp_path: Path, text: str, words: tuple[str]) -> None:
    refused(write(tmp_path / "b.off", text), *words)


def test_obj_with_a_material_per_face(tmp_path: Path) -> None:
    """Grouping by material is one sort, and each group keeps only its own vertices."""
    n = 2000
    vertices = np.arange(3 * n * 3, dtype=float).reshape(-1, 3) % 97
    faces = "".join(f"usemtl m{i}\nf {3 * i + 1} {3 * i + 2} {3 * i + 3}\n" for i in range(n))
    path = write(tmp_path / "many.obj", obj_text(faces, vertices))
    source = read_source(path)
    prims = source.model.primitives()
    assert len(prims) == n and all(p.vertex_count == 3 for p in prims)
    refused(path, "2000 materials", limits=ReadLimits(max_nodes=100))


def test_gltf_instancing_counts_against_the_vertex_limit(tmp_path: Path) -> None:
    doc, data = gltf_document()
    doc["nodes"] = [{"children": [1, 2, 3, 4, 5]}] + [{"mesh": 0}] * 5
    path = write(tmp_path / "inst.glb", glb(doc, data))
    assert read_source(path).model.triangle_count == 5
    refused(path, "exceed the limit of 10", limits=ReadLimits(max_vertices=10))


def test_repeated_mtllib_lines_read_the_library_once(tmp_path: Path) -> None:
    write(tmp_path / "m.mtl", "newmtl m\nKd 1 0 0\n")
    text = "mtllib m.mtl\n" * 5000 + "usemtl m\n" + obj_text()
    limits = ReadLimits(max_total_bytes=100_000)  # 5000 reads of the library would exceed it
    source = read_source(write(tmp_path / "x.obj", text), limits=limits)
    assert source.model.materials[0].base_color_factor[:3] == (1.0, 0.0, 0.0)
