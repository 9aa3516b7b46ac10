"""Child process that reads one FBX/Collada file with assimp and writes plain arrays to an .npz.

Run as `python -m vrculture.pipeline.readers.assimp_worker SOURCE OUT.npz`. assimp is C++ code
parsing hostile bytes: in its own process with a memory cap, a crash or runaway allocation in it
ends this child, never the converter (see `assimp_reader.py`). Exit 0 = written, 2 = assimp refused
the file (message on stderr).
"""

from __future__ import annotations

import json
import sys

import numpy as np


def main(argv: list[str]) -> int:
    import assimp_py as ai

    source, out = argv[1], argv[2]
    flags = (
        ai.Process_Triangulate
        | ai.Process_JoinIdenticalVertices
        | ai.Process_PreTransformVertices  # bake node transforms into positions and normals
        | ai.Process_SortByPType  # points and lines apart from triangles
        | ai.Process_ValidateDataStructure
        | ai.Process_FindInvalidData
    )
    try:
        scene = ai.import_file(source, flags)
    except Exception as exc:  # assimp reports every parse failure as a Python exception here
        print(str(exc).strip() or type(exc).__name__, file=sys.stderr)
        return 2
    if scene is None:
        print("assimp could not read the file", file=sys.stderr)
        return 2
    arrays: dict[str, np.ndarray] = {}
    meshes = []
    for i, mesh in enumerate(scene.meshes):
        if mesh.num_faces == 0 or mesh.num_indices != 3 * mesh.num_faces:
            continue  # points or lines
        arrays[f"p{i}"] = np.asarray(mesh.vertices, dtype=np.float32).reshape(-1, 3)
        arrays[f"i{i}"] = np.asarray(mesh.indices, dtype=np.int64).reshape(-1, 3)
        if mesh.normals:
            arrays[f"n{i}"] = np.asarray(mesh.normals, dtype=np.float32).reshape(-1, 3)
        widths = mesh.num_uv_components or []  # one width per UV set
        if mesh.texcoords and widths and widths[0] >= 2:
            width = widths[0]
            uv = np.asarray(mesh.texcoords[0], dtype=np.float32).reshape(-1, width)
            arrays[f"t{i}"] = uv[:, :2]
        if mesh.colors:
            arrays[f"c{i}"] = np.asarray(mesh.colors[0], dtype=np.float32).reshape(-1, 4)
        meshes.append({"index": i, "name": mesh.name, "material": mesh.material_index})
    materials = []
    for material in scene.materials:
        textures = material.get("TEXTURES") or {}
        diffuse = textures.get(ai.TextureType_DIFFUSE) or []
        materials.append(
            {
                "name": str(material.get("NAME", "")),
                "diffuse": [float(v) for v in (material.get("COLOR_DIFFUSE") or [1, 1, 1])[:3]],
                "opacity": float(material.get("OPACITY", 1.0)),
                "diffuse_texture": str(diffuse[0]) if diffuse else "",
            }
        )
    info = {"meshes": meshes, "materials": materials}
    arrays["info"] = np.frombuffer(json.dumps(info).encode(), dtype=np.uint8)
    with open(out, "wb") as fh:
        np.savez(fh, allow_pickle=False, **arrays)  # numbers only, as the reader loads them
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
