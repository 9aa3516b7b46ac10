"""A small but valid exhibition bundle written by hand, so that the server's tests do not depend
on the converter: an exhibition.json (schema v1) and a few content-hash-named files."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any


def _hashed(folder: Path, stem: str, ext: str, data: bytes) -> tuple[str, int, str]:
    digest = hashlib.sha256(data).hexdigest()
    name = f"{stem}.{digest[:12]}.{ext}"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)
    return name, len(data), digest


def _glb_bytes(size: int, seed: str) -> bytes:
    """Bytes that look like a GLB header followed by deterministic filler."""
    filler = hashlib.sha256(seed.encode()).digest() * (size // 32 + 1)
    return (b"glTF" + (2).to_bytes(4, "little") + size.to_bytes(4, "little") + filler)[:size]


def _pose(x: float = 0.0, z: float = 0.0) -> dict[str, Any]:
    return {"position": [x, 0.0, z], "yaw": 0.0}


def make_bundle(
    root: Path,
    exhibition_id: str = "demo",
    *,
    title_sv: str = "Sagor och ängder",
    objects: list[dict[str, Any]] | None = None,
    large_bytes: int = 0,
) -> Path:
    """Writes a bundle into `root` and returns it. `large_bytes` adds a high level that big
    (to exercise the sendfile path)."""
    root.mkdir(parents=True, exist_ok=True)
    objects = objects or [
        {"id": "angel", "title": {"sv": "Ängel med lyra", "en": "Angel with a lyre"},
         "description": {"sv": "En ÄNGEL i trä från Åre kyrka.", "en": "A wooden angel."},
         "creator": "Okänd mästare"},
        {"id": "bowl", "title": {"sv": "Skål", "en": "Bowl"},
         "description": {"sv": "Öländsk keramik, får och fåglar.", "en": "Ceramics."},
         "creator": "Anna Öberg"},
    ]
    records = []
    for i, spec in enumerate(objects):
        folder = root / "objects" / spec["id"]
        low, low_bytes, low_sha = _hashed(folder, f"{spec['id']}.low", "glb",
                                          _glb_bytes(3000 + i, spec["id"] + "low"))
        levels = [{"name": "low", "url": f"objects/{spec['id']}/{low}", "bytes": low_bytes,
                   "triangles": 100, "texture_px": 0, "gpu_texture_bytes": 0}]
        if large_bytes and i == 0:
            high, high_bytes, _ = _hashed(folder, f"{spec['id']}.high", "glb",
                                          _glb_bytes(large_bytes, spec["id"] + "high"))
            levels.append({"name": "high", "url": f"objects/{spec['id']}/{high}",
                           "bytes": high_bytes, "triangles": 10000, "texture_px": 0,
                           "gpu_texture_bytes": 0})
        thumb, thumb_bytes, thumb_sha = _hashed(folder, f"{spec['id']}.thumb", "webp",
                                                b"RIFF\x00\x00\x00\x00WEBPVP8 " + bytes(64))
        records.append({
            "id": spec["id"], "kind": "model", "title": spec["title"],
            "description": spec.get("description", {}), "creator": spec.get("creator", ""),
            "rights": {"id": "CC0-1.0", "uri": "https://creativecommons.org/publicdomain/zero/1.0/",
                       "free_reuse": True},
            "levels": levels,
            "bounds": {"min": [-0.5, 0, -0.5], "max": [0.5, 1, 0.5]},
            "thumbnail": {"url": f"objects/{spec['id']}/{thumb}", "bytes": thumb_bytes,
                          "sha256": thumb_sha},
            "placement": {"room": "hall", "position": [i * 2.0, 0, 0], "yaw": 0,
                          "footprint": [i * 2.0 - 0.5, -0.5, i * 2.0 + 0.5, 0.5]},
        })
    lamp_model, lamp_bytes, _ = _hashed(root / "rooms", "lamp", "glb", _glb_bytes(2000, "lamp"))
    manifest = {
        "schema_version": 1,
        "id": exhibition_id,
        "generator": "tests/server/bundle_factory.py",
        "default_language": "sv",
        "languages": ["sv", "en"],
        "title": {"sv": title_sv, "en": "Tales and meadows"},
        "description": {"sv": "En liten utställning.", "en": "A small exhibition."},
        "entrance": _pose(0, 4),
        "rooms": [{"id": "hall", "title": {"sv": "Hallen", "en": "The hall"}, "kind": "gallery",
                   "bounds": [-5, -5, 5, 5]}],
        "objects": records,
        "tours": [{"id": "highlights", "title": {"sv": "Höjdpunkter", "en": "Highlights"},
                   "stops": [{"object": records[0]["id"], "narration": {"sv": "Här.",
                              "en": "Here."}, "view_point": _pose(0, 1)}]}],
        "smart_exhibits": [{
            "id": "lights", "kind": "street-lighting", "title": {"sv": "Gatubelysning",
                                                                 "en": "Street lights"},
            "goal": "climate", "feeds": ["street-lights"],
            "model": {"url": f"rooms/{lamp_model}", "bytes": lamp_bytes},
            "placement": {"room": "hall", "position": [3, 0, 3], "yaw": 0,
                          "footprint": [2.5, 2.5, 3.5, 3.5]},
        }],
        "feeds": {
            "street-lights": {"kind": "street-lighting", "exhibit": "lights"},
            "bins": {"kind": "smart-bin", "exhibit": "lights"},
            "screening": {"kind": "eye-tracking-screening", "exhibit": "lights"},
            "temperature": {"kind": "gauge", "exhibit": "lights", "unit": "°C", "min": -40,
                            "max": 50},
        },
        "totals": {"low": {"triangles": 100 * len(records), "bytes": 3000,
                           "texture_bytes": 0, "gpu_texture_bytes": 0}},
    }
    data = json.dumps(manifest, ensure_ascii=False, indent=1).encode("utf-8")
    tmp = root / "exhibition.json.tmp"
    tmp.write_bytes(data)
    os.replace(tmp, root / "exhibition.json")
    return root
