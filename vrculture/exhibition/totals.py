"""Per-level totals over an exhibition and the check against a Quest-class budget."""

from __future__ import annotations

from dataclasses import dataclass

from vrculture.exhibition.rights import LEVEL_ORDER, level_rank

TOTAL_KEYS = ("triangles", "bytes", "texture_bytes", "gpu_texture_bytes")


@dataclass(frozen=True)
class Budget:
    triangles: int = 300_000
    gpu_texture_bytes: int = 128 * 1024 * 1024  # textures in GPU memory, mipmaps included


def level_for(levels: list[dict], wanted: str) -> dict:
    """The level a viewer shows for `wanted`: the highest published at or below it, else the
    object's lowest (a restricted object caps; a small source has only its full level)."""
    ranked = sorted(levels, key=lambda lv: level_rank(lv["name"]))
    below = [lv for lv in ranked if level_rank(lv["name"]) <= level_rank(wanted)]
    return below[-1] if below else ranked[0]


def totals_per_level(objects: list[dict], names: tuple[str, ...] = LEVEL_ORDER) -> dict:
    out: dict[str, dict[str, int]] = {}
    for name in names:
        sums = dict.fromkeys(TOTAL_KEYS, 0)
        for obj in objects:
            level = level_for(obj["levels"], name)
            for key in TOTAL_KEYS:
                sums[key] += int(level.get(key, 0))
        out[name] = sums
    return out


def budget_check(low_totals: dict[str, int], scenery: dict[str, int], budget: Budget) -> dict:
    """The whole exhibition at its lowest level (objects + architecture + smart exhibits)."""
    triangles = low_totals["triangles"] + scenery["triangles"]
    gpu = low_totals["gpu_texture_bytes"] + scenery["gpu_texture_bytes"]
    return {
        "level": "low", "triangles": triangles, "gpu_texture_bytes": gpu,
        "budget_triangles": budget.triangles, "budget_gpu_texture_bytes": budget.gpu_texture_bytes,
        "fits": triangles <= budget.triangles and gpu <= budget.gpu_texture_bytes,
    }
