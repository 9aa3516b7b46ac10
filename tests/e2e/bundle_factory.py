"""A small, fully known exhibition bundle for the end-to-end tests.

The viewer tests need exact colours, positions and triangle counts (a pixel check is only
meaningful when the test knows what should be there), plus one meshopt-compressed and one KTX2
level. So this writes plain GLBs with numpy (one mesh per node, one flat-coloured PBR material),
compresses one of them with the npm gltfpack, encodes one texture with alktx2, and writes an
exhibition.json that follows `vrculture/schemas/exhibition.schema.json`.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import struct
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
GLTFPACK = ROOT / "node_modules" / "gltfpack" / "cli.js"

EXHIBITION_ID = "e2e"
# Object colours the pixel test looks for (base colour factors; the test checks the hue).
RED = (0.85, 0.05, 0.05, 1.0)
GREEN = (0.05, 0.75, 0.1, 1.0)
BLUE = (0.1, 0.2, 0.9, 1.0)
GREY = (0.45, 0.45, 0.45, 1.0)


@dataclass
class MeshPart:
    name: str
    positions: np.ndarray  # (n, 3) float32
    normals: np.ndarray  # (n, 3) float32
    indices: np.ndarray  # (m,) uint32
    color: tuple[float, float, float, float]
    emissive: tuple[float, float, float] = (0.0, 0.0, 0.0)
    uvs: np.ndarray | None = None
    ktx2_texture: bytes | None = None
    translation: tuple[float, float, float] = (0.0, 0.0, 0.0)


def sphere(radius: float, segments: int, rings: int, centre=(0.0, 0.0, 0.0)):
    """A UV sphere: 2*segments*(rings-1) triangles, smooth normals."""
    theta = np.linspace(0, math.pi, rings + 1)
    phi = np.linspace(0, 2 * math.pi, segments + 1)
    t, p = np.meshgrid(theta, phi, indexing="ij")
    normals = np.stack([np.sin(t) * np.cos(p), np.cos(t), np.sin(t) * np.sin(p)], -1).reshape(-1, 3)
    positions = normals * radius + np.asarray(centre)
    idx = []
    for r in range(rings):
        for s in range(segments):
            a = r * (segments + 1) + s
            b = a + segments + 1
            if r != 0:
                idx.append((a, a + 1, b))
            if r != rings - 1:
                idx.append((a + 1, b + 1, b))
    return (positions.astype(np.float32), normals.astype(np.float32),
            np.asarray(idx, dtype=np.uint32).reshape(-1))


def box(size: tuple[float, float, float], centre=(0.0, 0.0, 0.0)):
    """An axis-aligned box with flat faces (24 vertices, 12 triangles)."""
    sx, sy, sz = (s / 2 for s in size)
    positions, normals, idx = [], [], []
    for axis in range(3):
        for sign in (-1.0, 1.0):
            n = np.zeros(3)
            n[axis] = sign
            u = np.zeros(3)
            u[(axis + 1) % 3] = 1
            v = np.cross(n, u)
            base = len(positions)
            for du, dv in ((-1, -1), (1, -1), (1, 1), (-1, 1)):
                positions.append(n + du * u + dv * v)
                normals.append(n)
            idx += [base, base + 1, base + 2, base, base + 2, base + 3]
    pos = np.asarray(positions) * np.asarray([sx, sy, sz]) + np.asarray(centre)
    return pos.astype(np.float32), np.asarray(normals, np.float32), np.asarray(idx, np.uint32)


def quad_xy(width: float, height: float, centre=(0.0, 0.0, 0.0)):
    """A quad facing +Z with UVs (for the textured painting)."""
    w, h = width / 2, height / 2
    cx, cy, cz = centre
    pos = np.asarray([[cx - w, cy - h, cz], [cx + w, cy - h, cz], [cx + w, cy + h, cz],
                      [cx - w, cy + h, cz]], np.float32)
    nrm = np.tile(np.asarray([0, 0, 1], np.float32), (4, 1))
    uvs = np.asarray([[0, 1], [1, 1], [1, 0], [0, 0]], np.float32)
    return pos, nrm, np.asarray([0, 1, 2, 0, 2, 3], np.uint32), uvs


def write_glb(parts: list[MeshPart]) -> bytes:
    """Serialise parts as a minimal valid glTF 2.0 binary (one node + mesh + material each)."""
    blob = bytearray()
    views: list[dict[str, Any]] = []
    accessors: list[dict[str, Any]] = []

    def add_view(data: bytes, target: int | None) -> int:
        while len(blob) % 4:
            blob.append(0)
        view = {"buffer": 0, "byteOffset": len(blob), "byteLength": len(data)}
        if target:
            view["target"] = target
        blob.extend(data)
        views.append(view)
        return len(views) - 1

    def add_accessor(array: np.ndarray, kind: str, target: int, minmax: bool = False) -> int:
        comp = 5125 if array.dtype == np.uint32 else 5126
        acc: dict[str, Any] = {"bufferView": add_view(array.tobytes(), target),
                               "componentType": comp, "count": int(array.shape[0]), "type": kind}
        if minmax:
            acc["min"] = array.min(axis=0).tolist()
            acc["max"] = array.max(axis=0).tolist()
        accessors.append(acc)
        return len(accessors) - 1

    nodes, meshes, materials, textures, images = [], [], [], [], []
    uses_basisu = False
    for part in parts:
        attrs = {"POSITION": add_accessor(part.positions, "VEC3", 34962, minmax=True),
                 "NORMAL": add_accessor(part.normals, "VEC3", 34962)}
        material: dict[str, Any] = {"name": part.name,
                                    "pbrMetallicRoughness": {"baseColorFactor": list(part.color),
                                                             "metallicFactor": 0.0,
                                                             "roughnessFactor": 0.8}}
        if any(part.emissive):
            material["emissiveFactor"] = list(part.emissive)
        if part.uvs is not None and part.ktx2_texture is not None:
            attrs["TEXCOORD_0"] = add_accessor(part.uvs, "VEC2", 34962)
            view = add_view(part.ktx2_texture, None)
            images.append({"bufferView": view, "mimeType": "image/ktx2"})
            textures.append({"extensions": {"KHR_texture_basisu": {"source": len(images) - 1}}})
            material["pbrMetallicRoughness"]["baseColorTexture"] = {"index": len(textures) - 1}
            uses_basisu = True
        materials.append(material)
        meshes.append({"name": part.name, "primitives": [{
            "attributes": attrs, "indices": add_accessor(part.indices, "SCALAR", 34963),
            "material": len(materials) - 1}]})
        node: dict[str, Any] = {"name": part.name, "mesh": len(meshes) - 1}
        if any(part.translation):
            node["translation"] = list(part.translation)
        nodes.append(node)

    gltf: dict[str, Any] = {
        "asset": {"version": "2.0", "generator": "vrculture e2e bundle factory"},
        "scene": 0, "scenes": [{"nodes": list(range(len(nodes)))}], "nodes": nodes,
        "meshes": meshes, "materials": materials, "accessors": accessors,
        "bufferViews": views, "buffers": [{"byteLength": len(blob)}]}
    if textures:
        gltf["textures"], gltf["images"] = textures, images
    if uses_basisu:
        gltf["extensionsUsed"] = ["KHR_texture_basisu"]
        gltf["extensionsRequired"] = ["KHR_texture_basisu"]
    while len(blob) % 4:
        blob.append(0)
    js = json.dumps(gltf, separators=(",", ":")).encode()
    js += b" " * ((4 - len(js) % 4) % 4)
    total = 12 + 8 + len(js) + 8 + len(blob)
    return (struct.pack("<III", 0x46546C67, 2, total) + struct.pack("<II", len(js), 0x4E4F534A) + js
            + struct.pack("<II", len(blob), 0x004E4942) + bytes(blob))


def part(name, geom, color, **kw) -> MeshPart:
    pos, nrm, idx = geom[:3]
    return MeshPart(name, pos, nrm, idx, color, **kw)


@dataclass
class Bundle:
    root: Path
    manifest: dict[str, Any]
    files: dict[str, Path] = field(default_factory=dict)


class BundleWriter:
    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def put(self, folder: str, stem: str, data: bytes, ext: str = "glb") -> tuple[str, int]:
        digest = hashlib.sha256(data).hexdigest()[:12]
        rel = f"{folder}/{stem}.{digest}.{ext}"
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(data)
        tmp.replace(path)
        return rel, len(data)


def meshopt_compress(glb: bytes, work: Path) -> bytes:
    """Run the npm gltfpack with -cc (EXT_meshopt_compression + quantisation); keep node names."""
    src, dst = work / "mo_in.glb", work / "mo_out.glb"
    src.write_bytes(glb)
    subprocess.run(["node", str(GLTFPACK), "-i", str(src), "-o", str(dst), "-cc", "-kn", "-km"],
                   check=True, capture_output=True, timeout=120)
    return dst.read_bytes()


def ktx2_checker(size: int = 64) -> bytes:
    """A size x size blue/white checkerboard (8 x 8 squares) as ETC1S KTX2 with mipmaps."""
    img = Image.new("RGB", (size, size))
    px = img.load()
    square = size // 8
    for y in range(size):
        for x in range(size):
            px[x, y] = (30, 60, 230) if ((x // square + y // square) % 2) else (240, 240, 240)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    import alktx2  # imported here: only the KTX2 level needs it

    return alktx2.encode_bytes_to_ktx2(buf.getvalue(), mime="image/png", codec="etc1s",
                                       mipmaps=True)


def _level(name, rel, size, tris, *, fmt="none", tex_px=0, gpu=0, compression="none", ext=None):
    lvl = {"name": name, "url": rel, "bytes": size, "triangles": tris, "texture_px": tex_px,
           "gpu_texture_bytes": gpu, "texture_format": fmt, "compression": compression}
    if ext:
        lvl["extensions_required"] = ext
    return lvl


def _text(sv: str, en: str) -> dict[str, str]:
    return {"sv": sv, "en": en}


def make_bundle(root: Path) -> Bundle:
    """Writes the e2e bundle into root and returns its manifest.

    Layout (metres, -Z ahead of the entrance at (0, 0, 2)): a red sphere straight ahead on a
    plinth at z=-1, a green sphere to the left, a KTX2 painting on the back wall, a far blue
    sphere at z=-18 (the budget test's far object), and a street lamp and a bin (smart city)."""
    w = BundleWriter(root)
    work = root / ".work"
    work.mkdir(exist_ok=True)

    arch = write_glb([
        part("floor", box((12, 0.02, 24), (0, -0.01, -7)), GREY),
        part("plinth_red", box((0.5, 0.9, 0.5), (0, 0.45, -1)), (0.9, 0.9, 0.88, 1)),
        part("plinth_green", box((0.5, 0.9, 0.5), (-2.5, 0.45, -1)), (0.9, 0.9, 0.88, 1)),
        part("back_wall", box((12, 4, 0.1), (0, 2, -19)), (0.8, 0.78, 0.75, 1)),
    ])
    arch_rel, arch_bytes = w.put("rooms", "gallery", arch)

    def sphere_levels(oid: str, color, radius: float, meshopt_high: bool = False):
        levels = []
        for name, seg, rings in (("low", 8, 5), ("medium", 24, 13), ("high", 64, 33)):
            geom = sphere(radius, seg, rings, (0, radius, 0))
            glb = write_glb([part(oid, geom, color)])
            compression, ext = "none", None
            if meshopt_high and name == "high":
                glb = meshopt_compress(glb, work)
                compression, ext = "meshopt", ["EXT_meshopt_compression", "KHR_mesh_quantization"]
            rel, size = w.put(f"objects/{oid}", f"{oid}.{name}", glb)
            levels.append(_level(name, rel, size, len(geom[2]) // 3,
                                 compression=compression, ext=ext))
        return levels

    def placement(room, pos, yaw=0.0, footprint=None, view=None, mount="plinth", plinth=0.9):
        x, _, z = pos
        pl = {"room": room, "position": list(pos), "yaw": yaw, "mount": mount,
              "plinth_height": plinth,
              "footprint": footprint or [x - 0.3, z - 0.3, x + 0.3, z + 0.3]}
        if view:
            pl["view_point"] = {"position": list(view[0]), "yaw": view[1]}
        return pl

    def rights():
        return {"id": "CC-BY-4.0", "uri": "https://creativecommons.org/licenses/by/4.0/",
                "label": "CC BY 4.0", "free_reuse": True}

    objects = [
        {"id": "red-vase", "kind": "model", "title": _text("Röd vas", "Red vase"),
         "description": _text("En röd vas av glas.", "A red glass vase."),
         "creator": "Okänd mästare", "date": "1890",
         "credit": _text("Foto: Testmuseet", "Photo: Test Museum"), "rights": rights(),
         "bounds": {"min": [-0.25, 0, -0.25], "max": [0.25, 0.5, 0.25]},
         "levels": sphere_levels("red-vase", RED, 0.25, meshopt_high=True),
         "annotations": [{"id": "rim", "position": [0, 0.5, 0], "normal": [0, 1, 0],
                          "title": _text("Mynningen", "The rim"),
                          "text": _text("Slipad kant.", "A ground edge.")}],
         "placement": placement("gallery", (0, 0.9, -1), view=((0, 0, 0.5), 0.0))},
        {"id": "green-bowl", "kind": "model", "title": _text("Grön skål", "Green bowl"),
         "description": _text("En grön skål.", "A green bowl."),
         "credit": _text("Gåva 1923", "Gift 1923"), "rights": rights(),
         "bounds": {"min": [-0.25, 0, -0.25], "max": [0.25, 0.5, 0.25]},
         "levels": sphere_levels("green-bowl", GREEN, 0.25),
         "placement": placement("gallery", (-2.5, 0.9, -1), view=((-2.5, 0, 0.5), 0.0))},
        {"id": "far-globe", "kind": "model", "title": _text("Avlägsen glob", "Distant globe"),
         "credit": _text("Testmuseet", "Test Museum"), "rights": rights(),
         "bounds": {"min": [-0.6, 0, -0.6], "max": [0.6, 1.2, 0.6]},
         "levels": sphere_levels("far-globe", BLUE, 0.6),
         "placement": placement("gallery", (3.5, 0, -18), mount="floor", plinth=0)},
    ]

    ktx = ktx2_checker()
    pos, nrm, idx, uvs = quad_xy(1.2, 0.9, (0, 0.45, 0))
    painting = write_glb([MeshPart("canvas", pos, nrm, idx, (1, 1, 1, 1), uvs=uvs,
                                   ktx2_texture=ktx)])
    p_rel, p_size = w.put("objects/checker-painting", "checker-painting.low", painting)
    objects.append({
        "id": "checker-painting", "kind": "painting", "title": _text("Schackruta", "Checkerboard"),
        "credit": _text("Testmuseet", "Test Museum"), "rights": rights(),
        "bounds": {"min": [-0.6, 0, 0], "max": [0.6, 0.9, 0]},
        "levels": [_level("low", p_rel, p_size, 2, fmt="ktx2", tex_px=64, gpu=64 * 64 * 4 * 4 // 3,
                          ext=["KHR_texture_basisu"])],
        "placement": placement("gallery", (-3, 1.2, -18.9), mount="wall", plinth=0)})

    lamp = write_glb([
        part("lamp_pole", box((0.1, 3, 0.1), (0, 1.5, 0)), (0.2, 0.2, 0.22, 1)),
        part("lamp_light", sphere(0.25, 16, 9, (0, 3.1, 0)), (1, 1, 0.9, 1),
             emissive=(1, 0.9, 0.6)),
    ])
    lamp_rel, lamp_size = w.put("objects/street-lamp", "street-lamp", lamp)
    binm = write_glb([
        part("bin_body", box((0.6, 1.0, 0.6), (0, 0.5, 0)), (0.3, 0.35, 0.3, 1)),
        part("bin_fill", box((0.5, 1.0, 0.5), (0, 0.5, 0)), (0.6, 0.45, 0.1, 1),
             translation=(0, 0, 0)),
    ])
    bin_rel, bin_size = w.put("objects/smart-bin", "smart-bin", binm)
    smart = [
        {"id": "street-lamp", "kind": "street-lighting", "title": _text("Gatlykta", "Street light"),
         "description": _text("Lyser upp när någon går förbi.", "Brightens when someone passes."),
         "goal": "climate", "feeds": ["e2e-lamp"],
         "model": {"url": lamp_rel, "bytes": lamp_size, "nodes": {"light": "lamp_light"}},
         "placement": placement("gallery", (3.0, 0, -3), mount="floor", plinth=0)},
        {"id": "smart-bin", "kind": "smart-bin", "title": _text("Smart soptunna", "Smart bin"),
         "goal": "economic", "feeds": ["e2e-bin"],
         "model": {"url": bin_rel, "bytes": bin_size, "nodes": {"fill": "bin_fill"}},
         "placement": placement("gallery", (4.5, 0, -3), mount="floor", plinth=0)},
    ]

    totals: dict[str, dict[str, int]] = {}
    for lname in ("low", "medium", "high"):
        t = {"triangles": 0, "bytes": 0, "texture_bytes": 0, "gpu_texture_bytes": 0}
        for o in objects:
            cands = [lv for lv in o["levels"] if lv["name"] == lname] or [o["levels"][-1]]
            t["triangles"] += cands[0]["triangles"]
            t["bytes"] += cands[0]["bytes"]
            t["gpu_texture_bytes"] += cands[0]["gpu_texture_bytes"]
        totals[lname] = t

    manifest = {
        "schema_version": 1, "id": EXHIBITION_ID, "generator": "vrculture e2e bundle factory",
        "default_language": "sv", "languages": ["sv", "en"],
        "title": _text("Testutställning", "Test exhibition"),
        "description": _text("Utställning för webbläsartester.", "Exhibition for browser tests."),
        "entrance": {"position": [0, 0, 2], "yaw": 0.0},
        "architecture": {"url": arch_rel, "bytes": arch_bytes},
        "rooms": [{"id": "gallery", "title": _text("Galleriet", "The gallery"), "kind": "gallery",
                   "bounds": [-6, -19, 6, 5], "height": 4}],
        "walkable": [[-6, -19, 6, 5]],
        "objects": objects,
        "tours": [{"id": "highlights", "title": _text("Höjdpunkter", "Highlights"), "stops": [
            {"object": "red-vase", "title": _text("Vasen", "The vase"),
             "narration": _text("Här står den röda vasen.", "Here stands the red vase."),
             "view_point": {"position": [0, 0, 0.5], "yaw": 0.0}},
            {"object": "green-bowl", "title": _text("Skålen", "The bowl"),
             "narration": _text("Och här den gröna skålen.", "And here the green bowl."),
             "view_point": {"position": [-2.5, 0, 0.5], "yaw": 0.0}}]}],
        "smart_exhibits": smart,
        "feeds": {"e2e-lamp": {"kind": "street-lighting", "exhibit": "street-lamp", "unit": "%",
                             "min": 0, "max": 100},
                  "e2e-bin": {"kind": "smart-bin", "exhibit": "smart-bin", "unit": "%",
                            "min": 0, "max": 100}},
        "budget": {"triangles": 300_000, "gpu_texture_bytes": 256 * 1024 * 1024},
        "totals": totals,
    }
    data = json.dumps(manifest, indent=1, ensure_ascii=False).encode()
    (root / "exhibition.json.tmp").write_bytes(data)
    (root / "exhibition.json.tmp").replace(root / "exhibition.json")
    (root / "build-report.json").write_text(json.dumps({"objects": []}))
    for f in work.iterdir():
        f.unlink()
    work.rmdir()
    return Bundle(root, manifest)
