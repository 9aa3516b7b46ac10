"""The exhibitions the server offers: bundle folders given on the command line plus bundles
published into the data folder (`DATA/exhibitions/<id>/current -> versions/<hash>`).

A bundle is loaded once (exhibition.json read, validated against the published JSON Schema,
every file it names checked to exist inside the bundle), then the registry swaps its whole
mapping in one assignment: a request holds the LoadedExhibition it started with, so visitors
downloading the old version keep getting consistent files while new requests see the new one.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

from vrculture.server import safejson
from vrculture.server.keys import LoadedExhibition
from vrculture.server.leases import Leases
from vrculture.server.paths import safe_join

log = logging.getLogger(__name__)

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "schemas" / "exhibition.schema.json"
MANIFEST = "exhibition.json"
MAX_MANIFEST_BYTES = 32 << 20


class BundleError(Exception):
    """A bundle that cannot be served; the message names the file and the problem."""


@cache
def _validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def _referenced_urls(manifest: dict[str, Any]) -> Iterable[tuple[str, str]]:
    """(json path, url) of every file the manifest points at."""
    if "architecture" in manifest:
        yield "architecture.url", manifest["architecture"]["url"]
    for i, obj in enumerate(manifest.get("objects", [])):
        for j, level in enumerate(obj.get("levels", [])):
            yield f"objects[{i}].levels[{j}].url", level["url"]
        if "thumbnail" in obj:
            yield f"objects[{i}].thumbnail.url", obj["thumbnail"]["url"]
    for i, exhibit in enumerate(manifest.get("smart_exhibits", [])):
        yield f"smart_exhibits[{i}].model.url", exhibit["model"]["url"]


def load_bundle(folder: Path) -> LoadedExhibition:
    """Read and check one bundle folder; raises BundleError naming the file and the field."""
    try:
        root = folder.resolve(strict=True)
    except (OSError, RuntimeError) as error:
        raise BundleError(f"{folder}: not found") from error
    manifest_path = root / MANIFEST
    try:
        if manifest_path.stat().st_size > MAX_MANIFEST_BYTES:
            raise BundleError(f"{manifest_path}: larger than {MAX_MANIFEST_BYTES} bytes")
        raw = manifest_path.read_bytes()
    except OSError as error:
        raise BundleError(f"{manifest_path}: cannot read ({error.strerror})") from error
    try:
        # As hostile as any upload: NaN and lone surrogates would be served to browsers whose
        # JSON.parse cannot read them, deep nesting would overflow the parser's stack.
        manifest = safejson.loads(raw)
    except safejson.JSONInputError as error:
        raise BundleError(f"{manifest_path}: not valid JSON ({error.message})") from error
    invalid = jsonschema.exceptions.best_match(_validator().iter_errors(manifest))
    if invalid is not None:
        where = "/".join(str(p) for p in invalid.absolute_path) or "(top level)"
        raise BundleError(f"{manifest_path}: {where}: {invalid.message}")
    for where, url in _referenced_urls(manifest):
        target = safe_join(root, url)
        if target is None or not target.is_file():
            raise BundleError(f"{manifest_path}: {where}: file {url!r} missing from the bundle")
    return LoadedExhibition(
        id=manifest["id"],
        root=root,
        manifest=manifest,
        version=hashlib.sha256(raw).hexdigest(),
    )


@dataclass(frozen=True)
class _Source:
    """Where a bundle comes from and a cheap fingerprint that changes when it is replaced."""

    folder: Path  # a bundle folder, or DATA/exhibitions/<id>/current
    published: bool


def _fingerprint(source: _Source) -> tuple | None:
    try:
        target = os.readlink(source.folder) if source.published else ""
        st = os.stat(source.folder / MANIFEST)
    except OSError:
        return None
    return (target, st.st_ino, st.st_size, st.st_mtime_ns)


class BundleRegistry:
    """Implements keys.ExhibitionRegistry; `refresh()` picks up published or changed bundles."""

    def __init__(self, bundles: list[Path], data_dir: Path | None) -> None:
        self._explicit = [_Source(Path(b), published=False) for b in bundles]
        self._published_dir = data_dir / "exhibitions" if data_dir else None
        self._by_id: dict[str, LoadedExhibition] = {}
        self._seen: dict[_Source, tuple | None] = {}
        self._loaded: dict[_Source, LoadedExhibition] = {}
        self.errors: dict[str, str] = {}  # source folder -> why it is not served
        self._listeners: list[Callable[[list[LoadedExhibition]], None]] = []
        self._leases = Leases()  # tells `publishing` which versions this process still serves
        self._last_served: dict[_Source, str] = {}  # published source -> "versions/<hash>"

    # keys.ExhibitionRegistry
    def get(self, exhibition_id: str) -> LoadedExhibition | None:
        return self._by_id.get(exhibition_id)

    def all(self) -> list[LoadedExhibition]:
        return sorted(self._by_id.values(), key=lambda e: e.id)

    def on_change(self, listener: Callable[[list[LoadedExhibition]], None]) -> None:
        """Called (on the event loop) with the new list whenever the set of bundles changes."""
        self._listeners.append(listener)

    def _sources(self) -> list[_Source]:
        sources = list(self._explicit)
        if self._published_dir is not None and self._published_dir.is_dir():
            for entry in sorted(self._published_dir.iterdir()):
                if (entry / "current").is_symlink():
                    sources.append(_Source(entry / "current", published=True))
        return sources

    def scan(self) -> bool:
        """Reload changed bundles (blocking: call in a thread). True when anything changed."""
        sources = self._sources()
        changed = set(self._seen) != set(sources)
        for source in sources:
            fingerprint = _fingerprint(source)
            if source in self._seen and self._seen[source] == fingerprint:
                continue
            self._seen[source] = fingerprint
            changed = True
            try:
                self._loaded[source] = load_bundle(self._leased_folder(source, fingerprint))
                self.errors.pop(str(source.folder), None)
            except BundleError as error:
                self.errors[str(source.folder)] = str(error)
                log.error("not serving %s", error)
                if fingerprint is None:  # the bundle is gone
                    self._loaded.pop(source, None)
                # Otherwise the last good version stays online: a broken publish, or a bundle
                # caught half-way through being rebuilt in place, must not take it down.
        for gone in set(self._seen) - set(sources):
            self._seen.pop(gone, None)
            self._loaded.pop(gone, None)
        self._renew_leases(sources)
        if not changed:
            return False
        by_id: dict[str, LoadedExhibition] = {}
        for source in sources:
            exhibition = self._loaded.get(source)
            if exhibition is None:
                continue
            if exhibition.id in by_id:
                log.warning(
                    "exhibition %r in %s ignored: already served from %s",
                    exhibition.id, source.folder, by_id[exhibition.id].root,
                )
                continue
            by_id[exhibition.id] = exhibition
        if by_id == self._by_id:
            return False
        self._by_id = by_id  # one assignment: readers see the old or the new mapping, never a mix
        return True

    def _leased_folder(self, source: _Source, fingerprint: tuple | None) -> Path:
        """The folder to load: for a published bundle, the version `current` pointed at when
        fingerprinted (not the link again: it may have moved since), leased before it is read
        so that a publish cannot delete it under us."""
        if not source.published or fingerprint is None:
            return source.folder
        target = fingerprint[0]
        try:
            self._leases.hold(source.folder.parent, {self._served_version(source), target,
                                                     self._last_served.get(source, "")})
        except OSError as error:  # a read-only data folder: serve anyway, say why
            log.warning("cannot write the serving lease in %s: %s", source.folder.parent, error)
        return source.folder.parent / target

    def _served_version(self, source: _Source) -> str:
        loaded = self._loaded.get(source)
        return f"versions/{loaded.root.name}" if loaded is not None else ""

    def _renew_leases(self, sources: list[_Source]) -> None:
        """Lease what is served now plus what was served until the previous scan: a request
        that picked up the old version just before the swap may still be opening its files."""
        served = {s: self._served_version(s) for s in sources if s.published}
        for source in served.keys() | self._last_served.keys():
            versions = {served.get(source, ""), self._last_served.get(source, "")}
            try:
                self._leases.hold(source.folder.parent, versions)
            except OSError as error:  # a read-only data folder: serve anyway, say why
                log.warning("cannot write the serving lease in %s: %s", source.folder.parent,
                            error)
        self._last_served = served

    def close(self) -> None:
        """Release this process's leases (at shutdown): its versions may be pruned again."""
        self._leases.release_all()

    def notify(self) -> None:
        current = self.all()
        for listener in self._listeners:
            try:
                listener(current)
            except Exception:
                log.exception("exhibition change listener failed")
