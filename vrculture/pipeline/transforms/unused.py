"""Drop vertex attributes nothing reads: texture coordinates on a primitive whose material has
no texture (a scan exported with UVs but no image, e.g. beast.obj).

They cost bytes in every level (beast: 61 KB of UVs in a 364 KB full level) and split vertices
along UV seams that nothing shows, so the weld that follows merges those vertices again (beast
41.2k -> 39.6k) and the simplifier is not held back by invisible seams. gltfpack does the same.

Only for models read from files: the exhibition's generated models keep their UVs, because the
viewer paints some of their untextured materials at run time (a smart exhibit's screen).
"""

from __future__ import annotations

from dataclasses import replace

from vrculture.pipeline.model import Model


def drop_untextured_uvs(model: Model) -> Model:
    """The model with `uvs` removed from every primitive whose material has no texture."""
    textured = [bool(m.textures()) for m in model.materials]

    def reads_uvs(material: int) -> bool:
        return 0 <= material < len(textured) and textured[material]

    if all(p.uvs is None or reads_uvs(p.material) for p in model.primitives()):
        return model
    nodes = [
        replace(n, primitives=[p if p.uvs is None or reads_uvs(p.material) else p.copy(uvs=None)
                               for p in n.primitives])
        for n in model.nodes
    ]
    return replace(model, nodes=nodes)
