"""The glTF container and JSON: split a GLB, parse the JSON, and type-check it before use.

Everything here runs before a single buffer is touched: the GLB header and chunk lengths against
the file, the JSON's size and nesting, the extensions the file requires, the size of every
top-level array, and the type of every field the reader goes on to use, so that a wrong type is
reported with its path ("glTF meshes[0].primitives[1].attributes must be an object").
"""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any, TypeGuard

import numpy as np

from vrculture.pipeline.errors import ConversionError
from vrculture.pipeline.readers.common import ReadLimits, SourceBudget

# Extensions we read (or can safely ignore) when a file lists them as required.
READABLE_REQUIRED = {
    "KHR_draco_mesh_compression",
    "KHR_mesh_quantization",
    "KHR_materials_unlit",
    "KHR_texture_transform",
    "EXT_texture_webp",
    "KHR_materials_emissive_strength",
    "EXT_meshopt_compression",
}
_GLB_JSON, _GLB_BIN = 0x4E4F534A, 0x004E4942


def load_document(
    source: Path, data: bytes, budget: SourceBudget, *, binary: bool
) -> tuple[dict, memoryview | None]:
    """(JSON document, GLB binary chunk or None), checked as described above."""
    if binary:
        document, bin_chunk = _split_glb(source, data, budget)
    else:
        document, bin_chunk = _parse_json(source, data, budget), None
    check_document(source, document, budget.limits)
    return document, bin_chunk


def check_document(source: Path, doc: dict, limits: ReadLimits) -> None:
    required = doc.get("extensionsRequired", []) or []
    if not isinstance(required, list):
        raise ConversionError(source, "glTF extensionsRequired must be an array")
    missing = sorted(set(map(str, required)) - READABLE_REQUIRED)
    if missing:
        raise ConversionError(
            source, f"requires glTF extension(s) we cannot read: {', '.join(missing)}"
        )
    for key in COLLECTIONS:
        items = doc.get(key, [])
        if not isinstance(items, list):
            raise ConversionError(source, f"glTF '{key}' must be an array")
        if len(items) > limits.max_nodes:
            raise ConversionError(source, f"glTF has {len(items)} {key}, over {limits.max_nodes}")
    _check_structure(source, doc)
    primitives = sum(len(mesh.get("primitives", [])) for mesh in doc.get("meshes", []))
    if primitives > limits.max_nodes:
        raise ConversionError(source, f"glTF has {primitives} primitives, over {limits.max_nodes}")


def _split_glb(source: Path, data: bytes, budget: SourceBudget) -> tuple[dict, memoryview | None]:
    if len(data) < 20:
        raise ConversionError(source, f"GLB truncated: {len(data)} bytes, the header needs 20")
    magic, version, length = struct.unpack_from("<4sII", data, 0)
    if magic != b"glTF":
        raise ConversionError(source, "not a GLB file (no glTF magic)")
    if version != 2:
        raise ConversionError(source, f"GLB version {version} is not supported (only glTF 2.0)")
    if length > len(data):
        raise ConversionError(
            source, f"GLB truncated: header says {length} bytes, file has {len(data)}"
        )
    view = memoryview(data)[:length]
    pos = 12
    document: dict | None = None
    bin_chunk: memoryview | None = None
    while pos + 8 <= length:
        chunk_length, chunk_type = struct.unpack_from("<II", view, pos)
        start = pos + 8
        if start + chunk_length > length:
            raise ConversionError(
                source, f"GLB chunk at byte {pos} declares {chunk_length} bytes past the file end"
            )
        body = view[start : start + chunk_length]
        if chunk_type == _GLB_JSON and document is None:
            document = _parse_json(source, body, budget)
        elif chunk_type == _GLB_BIN and bin_chunk is None:
            bin_chunk = body
        pos = start + chunk_length
    if document is None:
        raise ConversionError(source, "GLB has no JSON chunk")
    return document, bin_chunk


def _parse_json(source: Path, data: bytes | memoryview, budget: SourceBudget) -> dict:
    if len(data) > budget.limits.max_json_bytes:
        raise ConversionError(
            source, f"glTF JSON is {len(data)} bytes, over {budget.limits.max_json_bytes}"
        )
    try:
        document = json.loads(bytes(data).decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConversionError(source, f"glTF JSON is not valid JSON ({exc})") from exc
    except RecursionError as exc:
        raise ConversionError(source, "glTF JSON is nested too deeply") from exc
    if not isinstance(document, dict):
        raise ConversionError(source, f"glTF JSON must be an object, not {type(document).__name__}")
    asset = document.get("asset")
    if not isinstance(asset, dict):
        raise ConversionError(source, "glTF has no 'asset' object")
    version = str(asset.get("version", ""))
    if not version.startswith("2"):
        raise ConversionError(source, f"glTF asset.version {version!r} is not 2.x")
    return document


COLLECTIONS = (
    "scenes", "nodes", "meshes", "accessors", "bufferViews", "buffers", "materials",
    "textures", "images", "samplers",
)  # fmt: skip


def _check_structure(source: Path, doc: dict) -> None:
    """Type-check every JSON field the reader touches, so a wrong type is named precisely
    ("glTF meshes[0].primitives[1].attributes must be an object") instead of surfacing as a
    Python error later."""

    def need(value: object, kind: type | tuple[type, ...], where: str) -> None:
        if not isinstance(value, kind) or (isinstance(value, bool) and kind in (int, float)):
            names = {dict: "an object", list: "an array", int: "an integer", str: "a string"}
            wanted = names.get(kind, "a number") if isinstance(kind, type) else "a number"
            raise ConversionError(source, f"glTF {where} must be {wanted}")

    def number(container: dict, key: str, where: str) -> None:
        if key in container:
            value = container[key]
            need(value, (int, float), f"{where}.{key}")
            if not np.isfinite(value):
                raise ConversionError(source, f"glTF {where}.{key} must be finite")

    def optional(container: dict, key: str, kind: type, where: str) -> None:
        if key in container:
            need(container[key], kind, f"{where}.{key}")

    for key in COLLECTIONS:
        items = doc.get(key, [])
        need(items, list, key)
        for i, item in enumerate(items):
            need(item, dict, f"{key}[{i}]")
            optional(item, "extensions", dict, f"{key}[{i}]")
    for key in ("extensionsUsed", "extensionsRequired"):
        optional(doc, key, list, "document")
    for i, scene in enumerate(doc.get("scenes", [])):
        optional(scene, "nodes", list, f"scenes[{i}]")
    for i, node in enumerate(doc.get("nodes", [])):
        optional(node, "children", list, f"nodes[{i}]")
    for i, mesh in enumerate(doc.get("meshes", [])):
        optional(mesh, "primitives", list, f"meshes[{i}]")
        for j, prim in enumerate(mesh.get("primitives", [])):
            where = f"meshes[{i}].primitives[{j}]"
            need(prim, dict, where)
            optional(prim, "attributes", dict, where)
            optional(prim, "extensions", dict, where)
            optional(prim, "mode", int, where)
            draco = prim.get("extensions", {}).get("KHR_draco_mesh_compression")
            if draco is not None:
                need(draco, dict, f"{where} KHR_draco_mesh_compression")
                optional(draco, "attributes", dict, f"{where} KHR_draco_mesh_compression")
    for i, accessor in enumerate(doc.get("accessors", [])):
        optional(accessor, "sparse", dict, f"accessors[{i}]")
        sparse = accessor.get("sparse")
        if sparse is not None:
            for part in ("indices", "values"):
                need(sparse.get(part), dict, f"accessors[{i}].sparse.{part}")
    for i, buffer in enumerate(doc.get("buffers", [])):
        optional(buffer, "uri", str, f"buffers[{i}]")
    for i, image in enumerate(doc.get("images", [])):
        optional(image, "uri", str, f"images[{i}]")
    for i, material in enumerate(doc.get("materials", [])):
        where = f"materials[{i}]"
        optional(material, "pbrMetallicRoughness", dict, where)
        pbr = material.get("pbrMetallicRoughness", {})
        for key in ("metallicFactor", "roughnessFactor"):
            number(pbr, key, f"{where}.pbrMetallicRoughness")
        number(material, "alphaCutoff", where)
        for key in ("normalTexture", "occlusionTexture", "emissiveTexture"):
            optional(material, key, dict, where)
        for key in ("baseColorTexture", "metallicRoughnessTexture"):
            optional(pbr, key, dict, f"{where}.pbrMetallicRoughness")


def is_count(value: object) -> TypeGuard[int]:
    """A JSON non-negative integer (true/false are not counts, though Python says bool is int)."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def lookup(table: dict, key: object) -> Any:
    return table.get(key) if isinstance(key, int | str) and not isinstance(key, bool) else None


def floats(source: Path, value: Any, count: int, where: str) -> np.ndarray:
    if not isinstance(value, list) or len(value) != count:
        raise ConversionError(source, f"glTF {where}: expected {count} numbers")
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ConversionError(source, f"glTF {where}: expected {count} numbers") from exc
    if not np.isfinite(array).all():
        raise ConversionError(source, f"glTF {where}: non-finite number")
    return array
