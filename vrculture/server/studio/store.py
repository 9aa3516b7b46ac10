"""Uploads in progress, kept on disk so that they outlive the server process.

`DATA/studio/uploads/<exhibition>/<upload id>/` holds `info.json` (what the upload is: its
declared length, name, target, who started it; replaced atomically) and `data` (the bytes
received so far). The offset is the size of `data`, so it is never out of step with the bytes
themselves: after a crash or a restart the client asks (HEAD) and continues from there.
A finished upload keeps its `info.json` (the client may still ask for its offset) and its
bytes move into the exhibition's `sources/`.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

UPLOAD_ID = re.compile(r"[0-9a-f]{32}")
EXHIBITION_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")  # the collection's id rule
UNFINISHED_DAYS = 7.0
FINISHED_DAYS = 30.0
INFO = "info.json"
DATA = "data"


@dataclass
class UploadInfo:
    id: str
    exhibition: str
    length: int
    name: str  # the path under sources/ (for a zip: of the folder it unpacks into)
    curator: str
    created: float
    metadata: dict[str, str] = field(default_factory=dict)
    batch: str | None = None  # files dropped together: objects are found once all arrived
    archive: bool = False  # a zip, unpacked into the folder `name`
    finished: bool = False
    files: list[str] = field(default_factory=list)  # what landed in sources/
    skipped: list[str] = field(default_factory=list)
    error: str | None = None  # why a finished upload was refused
    examined: bool = False  # its files have been looked through for objects
    objects: list[list[str]] = field(default_factory=list)  # [object id, source] found

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> UploadInfo:
        return cls(**data)


def replace_file(path: Path, data: bytes) -> None:
    """Write `path` atomically (a temporary file, then a rename; the mode follows the umask)
    without fsync: in ext4's ordered mode an fsync also flushes the data written just before,
    which after a finished upload is the whole file (seconds for 500 MB). A rename already
    survives a crash of the process; a power cut may cost the last few states."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
        with os.fdopen(descriptor, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


class UploadStore:
    """The studio's folders under the data folder."""

    def __init__(self, studio_root: Path) -> None:
        self.root = studio_root

    def exhibition(self, exhibition_id: str) -> Path:
        return self.root / "exhibitions" / exhibition_id

    def sources(self, exhibition_id: str) -> Path:
        return self.exhibition(exhibition_id) / "sources"

    def _uploads(self, exhibition_id: str) -> Path:
        return self.root / "uploads" / exhibition_id

    def folder(self, exhibition_id: str, upload_id: str) -> Path:
        return self._uploads(exhibition_id) / upload_id

    def data(self, info: UploadInfo) -> Path:
        return self.folder(info.exhibition, info.id) / DATA

    def create(self, info: UploadInfo) -> None:
        folder = self.folder(info.exhibition, info.id)
        folder.mkdir(parents=True)
        (folder / DATA).touch()
        self.save(info)

    def save(self, info: UploadInfo) -> None:
        folder = self.folder(info.exhibition, info.id)
        replace_file(folder / INFO, json.dumps(info.as_json(), ensure_ascii=False).encode())

    def load(self, exhibition_id: str, upload_id: str) -> UploadInfo | None:
        if not UPLOAD_ID.fullmatch(upload_id):
            return None
        try:
            raw = (self.folder(exhibition_id, upload_id) / INFO).read_text("utf-8")
            info = UploadInfo.from_json(json.loads(raw))
        except (OSError, ValueError, TypeError):
            return None
        return info if info.exhibition == exhibition_id and info.id == upload_id else None

    def offset(self, info: UploadInfo) -> int:
        if info.finished:
            return info.length
        try:
            return self.data(info).stat().st_size
        except FileNotFoundError:
            return 0

    def all(self, exhibition_id: str) -> list[UploadInfo]:
        folder = self._uploads(exhibition_id)
        if not folder.is_dir():
            return []
        found = [self.load(exhibition_id, entry.name) for entry in folder.iterdir()]
        return sorted((info for info in found if info), key=lambda info: info.created)

    def delete(self, info: UploadInfo) -> None:
        shutil.rmtree(self.folder(info.exhibition, info.id), ignore_errors=True)

    def claimed_bytes(self, exhibition_id: str) -> int:
        """The bytes already in sources/ plus those promised by unfinished uploads."""
        total = sum(info.length for info in self.all(exhibition_id) if not info.finished)
        for here, _, files in os.walk(self.sources(exhibition_id)):
            total += sum(os.lstat(os.path.join(here, name)).st_size for name in files)
        return total

    def expire(self, now: float, *, unfinished_days: float = UNFINISHED_DAYS,
               finished_days: float = FINISHED_DAYS) -> list[UploadInfo]:
        """Forget uploads nobody continued for `unfinished_days` (their bytes count against
        the quota) and the records of uploads finished `finished_days` ago (a client asking
        about one then starts over, which is harmless); remove unpacking folders a crash left
        in sources/. Returns the unfinished uploads removed."""
        removed: list[UploadInfo] = []
        uploads = self.root / "uploads"
        for folder in sorted(uploads.iterdir()) if uploads.is_dir() else []:
            if not EXHIBITION_ID.fullmatch(folder.name):
                continue
            for info in self.all(folder.name):
                try:
                    touched = (self.folder(info.exhibition, info.id) / INFO).stat().st_mtime
                    if not info.finished:
                        touched = max(touched, self.data(info).stat().st_mtime)
                except FileNotFoundError:
                    touched = 0.0
                days = finished_days if info.finished else unfinished_days
                if now - touched > days * 86400:
                    self.delete(info)
                    if not info.finished:
                        removed.append(info)
            for leftover in self.sources(folder.name).glob(".*.unpacking"):
                shutil.rmtree(leftover, ignore_errors=True)
        return removed

    def claimed_names(self, exhibition_id: str) -> set[str]:
        """Names that unfinished uploads will take in sources/."""
        return {info.name for info in self.all(exhibition_id) if not info.finished}
