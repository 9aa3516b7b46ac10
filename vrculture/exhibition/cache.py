"""The incremental build cache: converted objects keyed by everything that shapes them.

Key = sha256(pipeline version, the object's conversion settings, the source bytes and the bytes
of every file it references). An entry is a folder holding the level GLBs, the thumbnail and
`result.json`; it is written under a temporary name and renamed into place, so a half-written
entry never exists. Entries are immutable: the bundle hard-links (or copies) their files.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from vrculture.exhibition.stale import remove_orphans
from vrculture.exhibition.version import VERSION
from vrculture.pipeline.convert import ConvertSettings
from vrculture.pipeline.model import Model
from vrculture.pipeline.summary import ConversionSummary

CACHE_FORMAT = 6  # bump when the layout of an entry or the worker's output changes
MAX_AGE_DAYS = 30.0
RESULT = "result.json"


def pipeline_version() -> str:
    return f"vrculture-{VERSION}/cache-{CACHE_FORMAT}"


@dataclass(frozen=True)
class EntryFile:
    role: str  # "level:<name>", "thumbnail" or "summary"
    file: str  # name inside the entry's folder
    sha256: str = ""  # filled in by Cache.commit
    bytes: int = 0


@dataclass(frozen=True)
class Entry:
    """One converted object (or generated model) in the cache: its files and summary."""

    key: str
    id: str
    summary: ConversionSummary
    files: tuple[EntryFile, ...]
    warnings: tuple[str, ...]
    seconds: float = 0.0  # conversion time; 0 for generated models

    def as_json(self) -> dict[str, Any]:
        return {"key": self.key, "id": self.id, "summary": self.summary.as_json(),
                "files": [vars(f) for f in self.files], "warnings": list(self.warnings),
                "seconds": self.seconds}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Entry:
        """Raises KeyError/TypeError/ValueError for a document of another shape."""
        return cls(key=str(data["key"]), id=str(data["id"]),
                   summary=ConversionSummary.from_json(data["summary"]),
                   files=tuple(EntryFile(**f) for f in data["files"]),
                   warnings=tuple(str(w) for w in data["warnings"]),
                   seconds=float(data["seconds"]))


def _hash_file(digest: hashlib._Hash, path: Path) -> None:
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)


def _settings_bytes(stem: str, settings: ConvertSettings) -> bytes:
    """Every field of the settings (ConvertSettings.as_json), so none can be left out."""
    document = {"stem": stem, "settings": settings.as_json()}
    return json.dumps(document, sort_keys=True, ensure_ascii=True).encode()


def object_key(stem: str, settings: ConvertSettings, files: list[Path], root: Path) -> str:
    """The key of converting `files[0]` (with the files it references) as `stem`."""
    digest = hashlib.sha256()
    digest.update(pipeline_version().encode())
    digest.update(_settings_bytes(stem, settings))
    for path in files:
        # Name (relative to the collection) and length frame each file's bytes.
        name = path.resolve().relative_to(root.resolve()).as_posix()
        digest.update(f"\0{name}\0{path.stat().st_size}\0".encode())
        _hash_file(digest, path)
    return digest.hexdigest()


def generated_key(model: Model, stem: str, settings: ConvertSettings) -> str:
    """A generated model's key: its whole content, so any change to a generator rebuilds it."""
    digest = hashlib.sha256()
    digest.update(pipeline_version().encode())
    digest.update(_settings_bytes(stem, settings))
    digest.update(repr(model.materials).encode())  # generated models have no textures
    digest.update(json.dumps([model.roots, model.metadata], sort_keys=True).encode())
    for node in model.nodes:
        digest.update(repr((node.name, node.translation, node.rotation, node.scale,
                            node.children, node.extras)).encode())
        for prim in node.primitives:
            digest.update(str(prim.material).encode())
            for array in (prim.positions, prim.indices, prim.normals, prim.uvs, prim.colors):
                digest.update(b"-" if array is None else array.tobytes())
    return digest.hexdigest()


class Cache:
    def __init__(self, root: Path) -> None:
        self.root = root

    def entry(self, key: str) -> Path:
        return self.root / "entries" / key[:2] / key

    def lookup(self, key: str) -> Entry | None:
        """The stored result for `key`, or None when missing or damaged (then rebuilt)."""
        path = self.entry(key) / RESULT
        try:
            result = Entry.from_json(json.loads(path.read_text("utf-8")))
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None
        if not all((self.entry(key) / f.file).is_file() for f in result.files):
            return None
        with contextlib.suppress(OSError):
            os.utime(path)  # "last used", for prune()
        return result

    def prune(self, max_age_days: float = MAX_AGE_DAYS) -> int:
        """Remove entries no build has used for `max_age_days` (the cache may be shared by
        several bundles in one folder, so age, not this build's set, decides); and staging
        folders of builds that were killed. Returns the number of entries removed."""
        removed = 0
        cutoff = time.time() - max_age_days * 86400
        for result in self.root.glob(f"entries/*/*/{RESULT}"):
            try:
                if result.stat().st_mtime < cutoff:
                    shutil.rmtree(result.parent, ignore_errors=True)
                    removed += 1
            except OSError:
                continue
        remove_orphans(self.root.glob("staging/*"), ".")
        return removed

    def staging(self, key: str) -> Path:
        path = self.root / "staging" / f"{key}.{os.getpid()}"
        if path.exists():
            shutil.rmtree(path)
        path.mkdir(parents=True)
        return path

    def commit(self, key: str, staged: Path, result: Entry) -> Entry:
        """Record each file's content hash, then move the staged folder into place."""
        files = tuple(replace(item, sha256=file_sha256(staged / item.file),
                              bytes=(staged / item.file).stat().st_size)
                      for item in result.files)
        result = replace(result, files=files)
        (staged / RESULT).write_text(json.dumps(result.as_json(), indent=1), "utf-8")
        final = self.entry(key)
        final.parent.mkdir(parents=True, exist_ok=True)
        if final.exists():
            existing = self.lookup(key)
            if existing is not None:  # another build (sharing this cache) got here first
                shutil.rmtree(staged, ignore_errors=True)
                return existing
            shutil.rmtree(final, ignore_errors=True)  # a damaged entry
        try:
            os.rename(staged, final)
        except OSError:
            shutil.rmtree(staged, ignore_errors=True)
            if self.lookup(key) is None:
                raise
        return result


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    _hash_file(digest, path)
    return digest.hexdigest()

