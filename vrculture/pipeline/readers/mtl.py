"""Wavefront MTL materials -> our PBR `Material`s, textures read only from inside the source folder.

Mapping: Kd (+ d / Tr) -> base colour factor, map_Kd -> base colour texture, Ke / map_Ke ->
emissive, Pr / Pm (the PBR extension of MTL) -> roughness / metallic; without Pr, roughness
follows the specular exponent Ns the way common exporters write it.
"""

from __future__ import annotations

from pathlib import Path

from vrculture.pipeline.errors import ConversionError
from vrculture.pipeline.model import Material, Texture
from vrculture.pipeline.readers.common import SourceBudget, resolve_inside
from vrculture.pipeline.readers.images import decode_image

# Texture-statement options and how many arguments each takes (-o/-s/-t take 1 to 3 numbers).
_OPTION_ARGS = {
    "-blendu": 1, "-blendv": 1, "-bm": 1, "-boost": 1, "-cc": 1, "-clamp": 1, "-imfchan": 1,
    "-mm": 2, "-texres": 1, "-type": 1, "-o": 3, "-s": 3, "-t": 3,
}  # fmt: skip


def texture_filename(arguments: str) -> str:
    """The file name at the end of a `map_Kd [-options] name with spaces.png` statement."""
    words = arguments.split()
    i = 0
    while i < len(words) and words[i].lower() in _OPTION_ARGS:
        most = _OPTION_ARGS[words[i].lower()]
        i += 1
        taken = 0
        while i < len(words) and taken < most:
            if most == 3 and taken >= 1 and not _is_number(words[i]):
                break
            i += 1
            taken += 1
    return " ".join(words[i:])


def _is_number(word: str) -> bool:
    try:
        float(word)
    except ValueError:
        return False
    return True


class MtlLibrary:
    """Materials parsed from every `mtllib` of one OBJ, keyed by name."""

    def __init__(self, source: Path, budget: SourceBudget, warnings: list[str]) -> None:
        self.source = source
        self.folder = source.parent
        self.budget = budget
        self.warnings = warnings
        self.materials: dict[str, Material] = {}
        self._textures: dict[Path, Texture | None] = {}
        self._loaded: set[Path] = set()

    def load(self, reference: str) -> None:
        path = resolve_inside(
            self.source, self.folder, reference, must_exist=False, listings=self.budget.listings
        )
        if not path.is_file() and " " in reference.strip():
            # "mtllib a.mtl b.mtl" names several libraries (a name with spaces was tried first).
            for part in reference.split():
                self.load(part)
            return
        if path in self._loaded:
            return  # repeated mtllib lines: read and parse each library once
        self._loaded.add(path)
        if not path.is_file():
            self.warnings.append(f"material library {reference!r} not found; using plain grey")
            return
        text = self.budget.read(path).decode("utf-8", errors="replace")
        self._parse(text, reference)

    def _parse(self, text: str, library: str) -> None:
        current: Material | None = None
        has_pr = False
        for number, raw in enumerate(text.splitlines(), start=1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            key, _, rest = line.partition(" ")
            key = key.lower()
            rest = rest.strip()
            if key == "newmtl":
                current = Material(name=rest or f"material{len(self.materials)}")
                self.materials[current.name] = current
                has_pr = False
                continue
            if current is None:
                continue
            where = f"{library} line {number}"
            try:
                if key == "kd":
                    r, g, b = _floats(rest, 3)
                    current.base_color_factor = (r, g, b, current.base_color_factor[3])
                elif key == "d":
                    current.base_color_factor = (
                        *current.base_color_factor[:3],
                        _floats(rest, 1)[0],
                    )
                elif key == "tr":
                    alpha = 1.0 - _floats(rest, 1)[0]
                    current.base_color_factor = (*current.base_color_factor[:3], alpha)
                elif key == "ke":
                    r, g, b = _floats(rest, 3)
                    current.emissive_factor = (r, g, b)
                elif key == "pr":
                    current.roughness_factor = _floats(rest, 1)[0]
                    has_pr = True
                elif key == "pm":
                    current.metallic_factor = _floats(rest, 1)[0]
                elif key == "ns" and not has_pr:
                    shininess = max(0.0, _floats(rest, 1)[0])
                    current.roughness_factor = (2.0 / (shininess + 2.0)) ** 0.25
                elif key == "map_kd":
                    current.base_color_texture = self._texture(texture_filename(rest), color=True)
                elif key == "map_ke":
                    current.emissive_texture = self._texture(texture_filename(rest), color=True)
                    if current.emissive_texture and current.emissive_factor == (0.0, 0.0, 0.0):
                        current.emissive_factor = (1.0, 1.0, 1.0)
                elif key in ("norm", "map_bump", "bump", "map_d", "map_ks", "map_ns", "disp"):
                    # Bump maps in MTL are usually height maps, not tangent-space normal maps:
                    # using them as normal maps would light the surface wrongly.
                    self.warnings.append(f"{where}: {key} texture not used")
            except ValueError as exc:
                raise ConversionError(self.source, f"{where}: malformed {key} ({exc})") from exc
        for material in self.materials.values():
            material.roughness_factor = min(1.0, max(0.0, material.roughness_factor))
            material.metallic_factor = min(1.0, max(0.0, material.metallic_factor))
            if material.base_color_factor[3] < 1.0:
                material.alpha_mode = "BLEND"

    def _texture(self, reference: str, *, color: bool) -> Texture | None:
        if not reference:
            return None
        path = resolve_inside(
            self.source, self.folder, reference, must_exist=False, listings=self.budget.listings
        )
        if path in self._textures:
            return self._textures[path]
        texture = None
        if path.is_file():
            data = self.budget.read(path)
            image = decode_image(
                self.source, data, reference, self.budget, color=color
            )
            texture = Texture(image=image, name=path.stem)
        else:
            self.warnings.append(f"texture {reference!r} not found next to the source; ignored")
        self._textures[path] = texture
        return texture


def _floats(text: str, count: int) -> list[float]:
    words = text.split()
    if len(words) < count:
        if count == 3 and len(words) == 1:  # "Kd 0.8" means grey
            words = words * 3
        else:
            raise ValueError(f"expected {count} numbers")
    values = [float(w) for w in words[:count]]
    if not all(v == v and abs(v) != float("inf") for v in values):
        raise ValueError("not a finite number")
    return values
