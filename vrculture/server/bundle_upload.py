"""An exhibition bundle uploaded as a tar (or tar.gz) archive: received and unpacked as hostile
input.

The body is streamed to a temporary file (never held in memory) up to a size limit. Unpacking
takes only regular files and folders, with relative names that stay inside the destination;
links, devices, FIFOs and sparse files (old GNU and pax alike) are refused, and so are too
many members or more bytes than the limit once unpacked (a few KB of gzip can claim
gigabytes). Every limit is checked against the sizes the headers declare BEFORE a byte is
written: a compressed upload may unpack to at most `max_expansion_ratio` times its own size,
and nothing is written that would leave the data folder's disk with less than
`min_free_bytes`. Files are written one by one by this module, never by `tarfile.extract*`,
so nothing but plain files can appear.
"""

from __future__ import annotations

import asyncio
import errno
import gzip
import io
import os
import shutil
import tarfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from vrculture.server.bodies import iter_body

BLOCK = tarfile.BLOCKSIZE
COPY_CHUNK = 256 * 1024
WRITE_BATCH = 1 << 20  # bytes gathered before one write to disk (in a thread)
# tarfile reads a pax or GNU long-name header in ONE read of the size the header declares;
# no legitimate header is near this, while a forged one could ask for gigabytes.
MAX_SINGLE_READ = 1 << 20
MANIFEST = "exhibition.json"
GZIP_MAGIC = b"\x1f\x8b"

_REFUSED_KINDS = {
    tarfile.SYMTYPE: "a symbolic link",
    tarfile.LNKTYPE: "a hard link",
    tarfile.CHRTYPE: "a character device",
    tarfile.BLKTYPE: "a block device",
    tarfile.FIFOTYPE: "a FIFO",
    tarfile.GNUTYPE_SPARSE: "a sparse file",
}


@dataclass(frozen=True)
class UploadLimits:
    max_upload_bytes: int = 2 << 30  # the request body as sent (compressed or not)
    max_unpacked_bytes: int = 4 << 30  # the files inside, together
    max_members: int = 20_000  # files and folders
    # Bundles are mostly compressed meshes and textures (gzip gains 1-3x, JSON ~10x); a gzip
    # bomb gains ~1000x. A compressed upload may unpack to this many times its size (plus
    # EXPANSION_SLACK, for small bundles of text).
    max_expansion_ratio: float = 20.0
    # Refuse what would leave the data folder's disk with less free space than this: a full
    # disk stops the database and the logs too.
    min_free_bytes: int = 512 << 20


EXPANSION_SLACK = 1 << 20


class UploadError(Exception):
    """A refused upload: an HTTP status, a short code and a message naming the member."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def ensure_room(folder: Path, needed: int, min_free_bytes: int) -> None:
    """Refuse (507) writing `needed` more bytes into `folder` if that would leave its disk with
    less than `min_free_bytes` free."""
    free = shutil.disk_usage(folder).free
    if free - needed < min_free_bytes:
        raise UploadError(507, "no_space", f"the server's disk is nearly full: {needed} more "
                          f"bytes would leave less than {min_free_bytes} free")


def tree_bytes(folder: Path) -> int:
    """The bytes of the regular files under `folder`."""
    total = 0
    for here, _, files in os.walk(folder):
        for name in files:
            total += os.lstat(os.path.join(here, name)).st_size
    return total


async def receive(request: web.Request, target: Path, max_bytes: int,
                  min_free_bytes: int = 0) -> int:
    """Stream the request body into `target`; returns its size. Memory stays bounded by
    WRITE_BATCH whatever the client sends (chunked bodies included); the disk keeps at least
    `min_free_bytes` free."""
    if request.content_length is not None and request.content_length > max_bytes:
        raise UploadError(413, "too_large", f"the upload is limited to {max_bytes} bytes")
    if request.content_length is not None:
        await asyncio.to_thread(ensure_room, target.parent, request.content_length,
                                min_free_bytes)
    received = 0
    pending = bytearray()
    with open(target, "wb") as out:
        # Whatever has arrived (aiohttp pauses the socket when its buffer fills, so a chunk
        # stays small): 4x faster than fixed-size chunks on a 300 MB bundle. iter_body
        # refuses (413) past max_bytes, and a client that stops sending (408).
        async for chunk in iter_body(request, max_bytes):
            received += len(chunk)
            pending += chunk
            if len(pending) >= WRITE_BATCH:
                await asyncio.to_thread(ensure_room, target.parent, len(pending),
                                        min_free_bytes)
                await asyncio.to_thread(out.write, bytes(pending))
                pending.clear()
        if pending:
            await asyncio.to_thread(out.write, bytes(pending))
    if received == 0:
        raise UploadError(400, "empty", "the body is empty: send the bundle as a tar archive")
    return received


class _BoundedReader:
    """The file object tarfile reads through: refuses to go past `limit` (decompressed) bytes
    and any single read above MAX_SINGLE_READ, so that neither a gzip bomb nor a forged header
    size can make the server decompress or hold more than the limits allow."""

    def __init__(self, raw: io.BufferedIOBase, limit: int) -> None:
        self._raw = raw
        self._limit = limit

    def _refuse(self) -> UploadError:
        return UploadError(413, "too_large",
                           f"the archive unpacks to more than {self._limit} bytes")

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0 or size > MAX_SINGLE_READ:
            raise UploadError(400, "bad_archive", "a tar header declares an implausible size")
        if self._raw.tell() + size > self._limit:
            data = self._raw.read(max(0, self._limit - self._raw.tell()) + 1)
            if self._raw.tell() > self._limit:
                raise self._refuse()
            return data
        return self._raw.read(size)

    def seek(self, offset: int, whence: int = 0) -> int:
        target = offset if whence == 0 else self._raw.tell() + offset if whence == 1 else None
        if target is None:
            raise UploadError(400, "bad_archive", "the archive asks for a seek from its end")
        if target > self._limit:
            raise self._refuse()
        return self._raw.seek(target)

    def tell(self) -> int:
        return self._raw.tell()

    # The rest of tarfile's file-object protocol: a read-only view, closed by its owner.
    def write(self, data: bytes) -> int:
        raise io.UnsupportedOperation("an uploaded archive is read-only")

    def close(self) -> None:
        pass


class _NoSparseTarInfo(tarfile.TarInfo):
    """Refuses sparse members while their headers are parsed: tarfile would otherwise read a
    pax sparse map of any length into memory, and `extractfile` would write the holes out as
    zeros (10 KB of archive claiming a gigabyte). A bundle never needs a sparse file."""

    def _refuse(self, *_args: object) -> None:
        raise UploadError(400, "bad_archive", "a sparse file; bundles may hold only regular "
                          "files and folders")

    _proc_sparse = _refuse  # old GNU sparse members (type 'S')
    _proc_gnusparse_00 = _refuse  # pax GNU.sparse.* versions 0.0, 0.1 and 1.0
    _proc_gnusparse_01 = _refuse
    _proc_gnusparse_10 = _refuse


def _relative_parts(name: str) -> list[str]:
    """The path components of a member name, refusing anything that could leave the folder."""
    if name.startswith("/") or "\\" in name or "\x00" in name or name[1:3] == ":/":
        raise UploadError(400, "bad_archive", f"{name!r}: absolute paths are not allowed")
    parts = [part for part in name.split("/") if part not in ("", ".")]
    if ".." in parts:
        raise UploadError(400, "bad_archive", f"{name!r}: '..' is not allowed in member names")
    return parts


def _extract(tar: tarfile.TarFile, destination: Path, limits: UploadLimits,
             max_unpacked: int) -> None:
    members = 0
    unpacked = 0
    for member in tar:  # lazily: headers are read one at a time, never all up front
        members += 1
        if members > limits.max_members:
            raise UploadError(413, "too_large",
                              f"the archive has more than {limits.max_members} members")
        parts = _relative_parts(member.name)
        refused = _REFUSED_KINDS.get(member.type) or (
            "a sparse file" if member.sparse is not None else None)
        if refused or not (member.isfile() or member.isdir()):
            what = refused or f"a member of type {member.type!r}"
            raise UploadError(400, "bad_archive", f"{member.name!r}: {what}; bundles may hold "
                              "only regular files and folders")
        target = destination.joinpath(*parts)
        if member.isdir():
            target.mkdir(parents=True, exist_ok=True)
            continue
        if not parts:
            raise UploadError(400, "bad_archive", f"{member.name!r}: a file without a name")
        if member.size > max_unpacked - unpacked:
            raise UploadError(413, "too_large", f"{member.name!r}: {member.size} bytes would "
                              f"take the bundle past {max_unpacked} bytes unpacked"
                              + (" (the limit for an archive of this compressed size)"
                                 if max_unpacked < limits.max_unpacked_bytes else ""))
        ensure_room(destination, member.size, limits.min_free_bytes)  # before writing it
        unpacked += member.size
        target.parent.mkdir(parents=True, exist_ok=True)
        source = tar.extractfile(member)
        if source is None:  # pragma: no cover - isfile() members always have data
            raise UploadError(400, "bad_archive", f"{member.name!r}: no data")
        if target.exists():  # a name given twice is refused, never overwritten
            raise UploadError(400, "bad_archive", f"{member.name!r}: appears twice in the archive")
        with source, open(target, "xb") as out:
            while chunk := source.read(COPY_CHUNK):
                out.write(chunk)


def _bundle_root(destination: Path) -> Path:
    """The folder holding exhibition.json: the archive's top level, or its only folder (an
    archive made with `tar czf gallery.tgz gallery/`)."""
    if (destination / MANIFEST).is_file():
        return destination
    entries = list(destination.iterdir())
    if len(entries) == 1 and entries[0].is_dir() and (entries[0] / MANIFEST).is_file():
        return entries[0]
    raise UploadError(422, "invalid_bundle", f"{MANIFEST} is missing from the archive's top "
                      "level (or its single top folder)")


def unpack(archive: Path, destination: Path, limits: UploadLimits) -> Path:
    """Unpack a tar or tar.gz archive into `destination` (created); returns the bundle root.
    Blocking: run it in a thread."""
    destination.mkdir(parents=True)
    with open(archive, "rb") as raw:
        compressed = raw.read(2) == GZIP_MAGIC
        raw.seek(0)
        max_unpacked = limits.max_unpacked_bytes
        if compressed:  # a gzip bomb is refused by its declared sizes, not after writing them
            archive_bytes = os.fstat(raw.fileno()).st_size
            max_unpacked = min(max_unpacked, int(limits.max_expansion_ratio * archive_bytes)
                               + EXPANSION_SLACK)
        # Room for headers (a few blocks per member) on top of the files' own bytes.
        stream_limit = max_unpacked + (limits.max_members + 2) * 8 * BLOCK
        stream: io.BufferedIOBase = gzip.GzipFile(fileobj=raw, mode="rb") if compressed else raw
        try:
            with tarfile.open(fileobj=_BoundedReader(stream, stream_limit), mode="r:",
                              tarinfo=_NoSparseTarInfo) as tar:
                _extract(tar, destination, limits, max_unpacked)
        except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as error:
            kind = "tar.gz" if compressed else "tar"
            raise UploadError(400, "bad_archive", f"not a valid {kind} archive ({error})") from None
        except OSError as error:
            if error.errno == errno.ENOSPC:
                raise UploadError(507, "no_space", "the server's disk is full") from None
            raise UploadError(400, "bad_archive", f"cannot unpack: {error.strerror}") from None
    return _bundle_root(destination)
