"""FBX and Collada through assimp (the `assimp-py` wheel), isolated in a child process.

assimp parses hostile bytes in C++; a crash there must not take the converter (or a build's
worker pool) down, and its memory must stay bounded. So the child gets an address-space cap and a
time limit, hands back plain arrays in an .npz, and everything it returns is checked again here
like any other reader's output (`checked_primitive`). Textures it names are resolved inside the
source's folder only.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from vrculture.pipeline.errors import ConversionError
from vrculture.pipeline.model import Material, Model, Node, Texture
from vrculture.pipeline.readers.common import SourceBudget, checked_primitive, resolve_inside
from vrculture.pipeline.readers.images import decode_image

TIME_LIMIT_S = 120
MIN_MEMORY_BYTES = 2 << 30
MEMORY_PER_FILE_BYTE = 40  # assimp's scene graph for an FBX is a few tens of times its size
NEUTRAL_GREY = (0.8, 0.8, 0.8, 1.0)


def assimp_available() -> bool:
    try:
        import assimp_py  # noqa: F401
    except ImportError:
        return False
    return True


def read_with_assimp(source: Path, label: str, budget: SourceBudget) -> Model:
    size = source.stat().st_size
    memory = max(MIN_MEMORY_BYTES, MEMORY_PER_FILE_BYTE * size)

    def cap_memory() -> None:  # runs in the child before exec
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))

    with tempfile.TemporaryDirectory(prefix="vrculture-assimp-") as tmp:
        out = Path(tmp) / "scene.npz"
        try:
            done = subprocess.run(
                [sys.executable, "-m", "vrculture.pipeline.readers.assimp_worker",
                 str(source), str(out)],
                capture_output=True, timeout=TIME_LIMIT_S, preexec_fn=cap_memory, check=False,
                # One BLAS thread: each would reserve address space under the memory cap.
                env={**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"},
            )  # fmt: skip
        except subprocess.TimeoutExpired as exc:
            raise ConversionError(
                source, f"{label} reader gave up after {TIME_LIMIT_S} s (file too complex?)"
            ) from exc
        message = done.stderr.decode("utf-8", errors="replace").strip().splitlines()
        if done.returncode == 2:
            reason = message[-1] if message else "unreadable"
            raise ConversionError(source, f"{label} file cannot be read: {reason}")
        if done.returncode != 0 or not out.is_file():
            raise ConversionError(
                source, f"{label} reader failed on this file (corrupt or too large for memory)"
            )
        with np.load(out, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    info = json.loads(arrays.pop("info").tobytes().decode())
    return _build(source, info, arrays, budget)


def _build(source: Path, info: dict, arrays: dict[str, np.ndarray], budget: SourceBudget) -> Model:
    model = Model()
    textures: dict[str, Texture | None] = {}
    for material in info["materials"]:
        model.materials.append(_material(source, material, budget, textures, model.warnings))
    if not model.materials:
        model.materials.append(Material(name="default", base_color_factor=NEUTRAL_GREY))
    total = 0
    for mesh in info["meshes"]:
        i = mesh["index"]
        material = mesh["material"] if 0 <= mesh["material"] < len(model.materials) else 0
        uvs = arrays.get(f"t{i}")
        if uvs is not None:
            uvs = uvs.copy()
            uvs[:, 1] = 1.0 - uvs[:, 1]  # assimp's v runs up from the bottom; glTF's runs down
        prim = checked_primitive(
            source, model.warnings, arrays[f"p{i}"], arrays[f"i{i}"],
            normals=arrays.get(f"n{i}"), uvs=uvs, colors=arrays.get(f"c{i}"),
            material=material, label=f"mesh {mesh['name'] or i!r}",
        )  # fmt: skip
        if prim is None:
            continue
        total += prim.triangle_count
        if total > budget.limits.max_triangles:
            raise ConversionError(source, f"over {budget.limits.max_triangles} triangles")
        model.nodes.append(Node(name=str(mesh["name"] or f"mesh{i}"), primitives=[prim]))
    if not model.nodes:
        raise ConversionError(source, "zero triangles in the file")
    model.roots = list(range(len(model.nodes)))
    return model


def _material(
    source: Path,
    info: dict,
    budget: SourceBudget,
    textures: dict[str, Texture | None],
    warnings: list[str],
) -> Material:
    name = info["name"] or "material"
    r, g, b = (float(np.clip(v, 0, 1)) for v in info["diffuse"])
    alpha = float(np.clip(info["opacity"], 0, 1))
    material = Material(name=name, base_color_factor=(r, g, b, alpha))
    if alpha < 1.0:
        material.alpha_mode = "BLEND"
    reference = info["diffuse_texture"]
    if reference.startswith("*"):
        warnings.append(f"material {name!r}: embedded texture {reference} not imported")
    elif reference:
        if reference not in textures:
            textures[reference] = _texture(source, reference, budget, warnings)
        material.base_color_texture = textures[reference]
    if material.base_color_texture is None and (r, g, b) == (0.0, 0.0, 0.0):
        # Exporters write black when no colour was set; a black statue is never what was meant.
        warnings.append(f"material {name!r} has a black diffuse colour; used light grey")
        material.base_color_factor = (*NEUTRAL_GREY[:3], alpha)
    return material


def _texture(
    source: Path, reference: str, budget: SourceBudget, warnings: list[str]
) -> Texture | None:
    try:
        path = resolve_inside(
            source, source.parent, reference, must_exist=False, listings=budget.listings
        )
    except ConversionError:  # absolute or escaping: only its bare name is looked up, inside
        path = source.parent / "\0"  # matches no file: falls through to the bare name
    if not path.is_file():
        # FBX files often carry the absolute path of the artist's machine: try the bare name.
        bare = reference.replace("\\", "/").rsplit("/", 1)[-1]
        path = resolve_inside(
            source, source.parent, bare, must_exist=False, listings=budget.listings
        )
        if not path.is_file():
            warnings.append(f"texture {reference!r} not found next to the source; ignored")
            return None
    image = decode_image(source, budget.read(path), path.name, budget)
    return Texture(image=image, name=path.stem)
