"""A zip a curator dropped: unpacked as hostile input, the way `bundle_upload` unpacks a tar.

Only regular files with accepted names are taken (see `names`); symbolic links, encrypted
entries and names that leave the folder refuse the whole archive, while files the studio has
no use for (a readme, `__MACOSX/` and other hidden entries) are skipped and listed. Before a
byte is written the declared sizes are checked: at most `max_entries` files, at most
`max_unpacked_bytes` together, at most `max_expansion_ratio` times the archive's own size (a
zip bomb gains ~1000x, scans ~3-5x), and room left on the disk. While writing, an entry that
decompresses to more than it declared is refused too. Everything goes into a temporary folder
that is renamed into place at the end, so a refused archive leaves nothing behind.
"""

from __future__ import annotations

import os
import shutil
import stat
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from vrculture.server.bundle_upload import EXPANSION_SLACK, UploadError, ensure_room
from vrculture.server.studio.names import RefusedName, check_accepted, is_archive, safe_relative

COPY_CHUNK = 1 << 20


@dataclass(frozen=True)
class ZipLimits:
    max_entries: int = 5_000
    max_unpacked_bytes: int = 8 << 30
    max_expansion_ratio: float = 20.0
    min_free_bytes: int = 512 << 20


@dataclass(frozen=True)
class Unpacked:
    files: tuple[PurePosixPath, ...]  # relative to the destination
    skipped: tuple[str, ...]  # entries not taken, with why


def _plan(archive: zipfile.ZipFile, archive_bytes: int,
          limits: ZipLimits) -> tuple[list[tuple[zipfile.ZipInfo, PurePosixPath]], list[str]]:
    infos = archive.infolist()
    if len(infos) > limits.max_entries:
        raise UploadError(413, "too_many_entries", f"the zip holds {len(infos)} entries; "
                          f"at most {limits.max_entries} are accepted")
    max_total = min(limits.max_unpacked_bytes,
                    int(limits.max_expansion_ratio * archive_bytes) + EXPANSION_SLACK)
    taken: list[tuple[zipfile.ZipInfo, PurePosixPath]] = []
    skipped: list[str] = []
    seen: set[PurePosixPath] = set()
    folders: set[PurePosixPath] = set()
    total = 0
    for info in infos:
        name = info.filename
        if info.is_dir():
            continue
        if stat.S_ISLNK(info.external_attr >> 16):
            raise UploadError(400, "bad_archive", f"{name!r} in the zip is a symbolic link; "
                              "zip the files themselves")
        if info.flag_bits & 0x1:
            raise UploadError(400, "bad_archive", f"{name!r} in the zip is encrypted; send it "
                              "without a password")
        if any(part.startswith(".") or part == "__MACOSX" for part in name.split("/")
               if part not in ("", ".", "..")):
            continue  # Finder's and editors' leftovers: never wanted, not worth a word
        try:
            relative = safe_relative(name)
        except RefusedName as refused:
            raise UploadError(400, "bad_archive", f"in the zip: {refused}") from None
        try:
            check_accepted(relative)
            if is_archive(relative):
                raise RefusedName(f"{relative.name}: a zip inside the zip is not unpacked")
        except RefusedName as refused:
            skipped.append(str(refused))
            continue
        if relative in seen:
            raise UploadError(400, "bad_archive", f"{name!r} appears twice in the zip")
        parents = set(relative.parents)
        if relative in folders or parents & seen:
            raise UploadError(400, "bad_archive", f"{name!r}: the zip has both a file and a "
                              "folder of this name (or of one of its folders)")
        seen.add(relative)
        folders |= parents
        total += info.file_size
        if total > max_total:
            raise UploadError(413, "too_large", f"the zip unpacks to more than {max_total} "
                              "bytes, more than a zip of its size should (a zip bomb?)")
        taken.append((info, relative))
    return taken, skipped


def _copy(archive: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path) -> None:
    written = 0
    with archive.open(info) as source, open(target, "xb") as out:
        while chunk := source.read(COPY_CHUNK):
            written += len(chunk)
            if written > info.file_size:  # more than declared: the header lies
                raise UploadError(400, "bad_archive", f"{info.filename!r} in the zip holds "
                                  "more than its header declares")
            out.write(chunk)


def unpack_zip(archive_path: Path, destination: Path, limits: ZipLimits) -> Unpacked:
    """Unpack into `destination`, which must not exist yet (it is created by a rename at the
    end). Blocking: run it in a thread. Raises UploadError for a refused archive."""
    staging = destination.with_name(f".{destination.name}.unpacking")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        with zipfile.ZipFile(archive_path) as archive:
            taken, skipped = _plan(archive, archive_path.stat().st_size, limits)
            if not taken:
                raise UploadError(422, "empty_archive", "the zip holds no file the studio can "
                                  "use" + (f" ({'; '.join(skipped[:3])})" if skipped else ""))
            ensure_room(archive_path.parent, sum(i.file_size for i, _ in taken),
                        limits.min_free_bytes)
            staging.mkdir(parents=True)
            for info, relative in taken:
                target = staging.joinpath(*relative.parts)
                target.parent.mkdir(parents=True, exist_ok=True)
                _copy(archive, info, target)
        os.rename(staging, destination)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError,
            NotImplementedError, UnicodeDecodeError) as bad:  # a name flagged UTF-8 that is not
        shutil.rmtree(staging, ignore_errors=True)
        raise UploadError(400, "bad_archive", f"not a zip the studio can read ({bad})") from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return Unpacked(tuple(relative for _, relative in taken), tuple(skipped))
