"""A converter problem told in words a curator understands, with the technical detail kept.

The converter's messages are precise for whoever knows the formats ("PLY element 'vertex'
declares 25002 items but only 674663 bytes remain"); a curator needs what happened and what to
do. The first rule whose words appear in the problem decides; the detail goes along for the
museum's technician.
"""

from __future__ import annotations

_RULES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("truncated", "bytes remain", "no end_header", "header needs", "numbers left"),
     "the file is incomplete: it ends before the data it announces (an interrupted copy or "
     "export?). Copy or export it again and upload it again"),
    (("not enough memory",),
     "the file is too large for this server to convert. Export a lighter version (fewer "
     "triangles, smaller textures) from the scanning software"),
    (("over the limit", "exceed", "over "),
     "the file is larger or more detailed than the converter accepts. Export a lighter "
     "version (fewer triangles, smaller textures) from the scanning software"),
    (("zero triangles", "no triangles", "zero drawable", "point cloud", "no vertices",
      "no faces"),
     "the file holds no surface to show (no triangles: a point cloud?). Export a mesh from "
     "the scanning software"),
    (("external file", "not found next to the source", "external reference"),
     "a file it refers to is missing (its MTL, textures or buffers). Drop them together with "
     "it, as a folder or a zip"),
    (("empty file", "no content"),
     "the file is empty. Upload it again"),
)
DAMAGED = ("the file is damaged, or not in the format its name says. Export it again, or try "
           "another format (GLB, OBJ or PLY)")


def in_plain_words(file_name: str, problem: str) -> str:
    lowered = problem.lower()
    advice = next((words for keys, words in _RULES if any(key in lowered for key in keys)),
                  DAMAGED)
    return f"{file_name} could not be converted: {advice}."
