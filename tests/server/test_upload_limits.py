"""Upload limits hold before anything is written: pax sparse members, gzip bombs within the
unpacked limit, and a disk that the upload would leave nearly full. Real tar files, built here."""

from __future__ import annotations

import gzip
import io
import shutil
import tarfile
from pathlib import Path

import pytest
from fixed_clock import FakeClock

from vrculture.server.admin import UPLOAD_LIMITS
from vrculture.server.app import create_app
from vrculture.server.bundle_upload import UploadError, UploadLimits, unpack
from vrculture.server.config import ServerConfig
from vrculture.server.storage import Store

from .bundle_factory import make_bundle
from .test_admin import TAR, auth, error_of, tar_with


def _sparse_member(name: str, real_size: int) -> tuple[tarfile.TarInfo, bytes]:
    """A GNU sparse 1.0 member in pax format (what `tar --sparse --format=pax` writes): the
    archive holds a map and one byte, the file it describes is `real_size` bytes of holes."""
    info = tarfile.TarInfo(f"GNUSparseFile.0/{name}")
    info.pax_headers = {"GNU.sparse.major": "1", "GNU.sparse.minor": "0",
                        "GNU.sparse.name": name, "GNU.sparse.realsize": str(real_size)}
    sparse_map = f"1\n{real_size - 1}\n1\n".encode().ljust(tarfile.BLOCKSIZE, b"\0")
    data = sparse_map + b"x"
    info.size = len(data)
    return info, data


def _uploads_left(config: ServerConfig) -> list[Path]:
    uploads = config.data_dir / "uploads"
    return list(uploads.iterdir()) if uploads.is_dir() else []


@pytest.fixture
def curator(config: ServerConfig) -> str:
    store = Store.open(config.data_dir, clock=FakeClock())
    try:
        return store.create_curator_token()
    finally:
        store.close()


def _admin_app(config: ServerConfig, **limits) -> object:
    app = create_app(config, watch_interval=3600, clock=FakeClock())
    app[UPLOAD_LIMITS] = UploadLimits(**{"max_upload_bytes": 4 << 20,
                                         "max_unpacked_bytes": 256 << 20, **limits})
    return app


@pytest.mark.parametrize("real_size", [100_000, 1 << 30])
async def test_a_pax_sparse_member_is_refused_before_writing(aiohttp_client, tmp_path, config,
                                                             curator, real_size):
    bundle = make_bundle(tmp_path / "gallery", "gallery")
    body = tar_with(_sparse_member("objects/holes.bin", real_size), base=bundle)
    assert len(body) < 64 * 1024
    admin = await aiohttp_client(_admin_app(config))
    response = await admin.put("/api/admin/exhibitions/gallery", data=body,
                               headers={**auth(curator), **TAR})
    error = await error_of(response, 400)
    assert error["code"] == "bad_archive" and "sparse" in error["message"]
    assert _uploads_left(config) == []


def test_unpack_writes_nothing_of_a_sparse_member(tmp_path):
    archive = tmp_path / "upload.tar"
    archive.write_bytes(tar_with(_sparse_member("holes.bin", 1 << 30)))
    with pytest.raises(UploadError, match="sparse"):
        unpack(archive, tmp_path / "out", UploadLimits())
    assert list((tmp_path / "out").rglob("*")) == []


async def test_a_gzip_bomb_within_the_unpacked_limit_is_refused_by_its_ratio(
        aiohttp_client, tmp_path, config, curator):
    bundle = make_bundle(tmp_path / "gallery", "gallery")
    info = tarfile.TarInfo("objects/zeros.bin")
    info.size = 32 << 20  # far below the 256 MB unpacked limit, ~1000x its gzip size
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        for path in sorted(bundle.rglob("*")):
            tar.add(path, arcname=path.relative_to(bundle).as_posix(), recursive=False)
        tar.addfile(info, io.BytesIO(bytes(info.size)))
    body = gzip.compress(raw.getvalue(), compresslevel=9)
    assert len(body) < 200 * 1024
    admin = await aiohttp_client(_admin_app(config, max_expansion_ratio=20.0))
    response = await admin.put("/api/admin/exhibitions/gallery", data=body,
                               headers={**auth(curator), "Content-Type": "application/gzip"})
    error = await error_of(response, 413)
    assert "zeros.bin" in error["message"] and "compressed size" in error["message"]
    assert _uploads_left(config) == []


def test_unpack_refuses_a_bomb_member_before_writing_it(tmp_path):
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        info = tarfile.TarInfo("zeros.bin")
        info.size = 16 << 20
        tar.addfile(info, io.BytesIO(bytes(info.size)))
    archive = tmp_path / "upload.tar.gz"
    archive.write_bytes(gzip.compress(raw.getvalue()))
    with pytest.raises(UploadError, match="compressed size"):
        unpack(archive, tmp_path / "out", UploadLimits(max_expansion_ratio=10.0))
    assert not (tmp_path / "out" / "zeros.bin").exists()


async def test_an_upload_that_would_fill_the_disk_is_refused(aiohttp_client, tmp_path, config,
                                                             curator):
    bundle = make_bundle(tmp_path / "gallery", "gallery")
    body = tar_with(base=bundle)
    config.data_dir.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(config.data_dir).free
    admin = await aiohttp_client(_admin_app(config, min_free_bytes=free + (1 << 40)))
    response = await admin.put("/api/admin/exhibitions/gallery", data=body,
                               headers={**auth(curator), **TAR})
    assert (await error_of(response, 507))["code"] == "no_space"
    assert _uploads_left(config) == []
    assert not (config.data_dir / "exhibitions" / "gallery").exists()


async def test_a_member_that_would_fill_the_disk_is_refused_before_writing(
        aiohttp_client, tmp_path, config, curator):
    # The upload itself is small (gzip); its one member would eat the disk's last reserve.
    bundle = make_bundle(tmp_path / "gallery", "gallery")
    info = tarfile.TarInfo("objects/big.bin")
    info.size = 64 << 20
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        for path in sorted(bundle.rglob("*")):
            tar.add(path, arcname=path.relative_to(bundle).as_posix(), recursive=False)
        tar.addfile(info, io.BytesIO(bytes(info.size)))
    body = gzip.compress(raw.getvalue())
    config.data_dir.mkdir(parents=True, exist_ok=True)
    reserve = shutil.disk_usage(config.data_dir).free - (16 << 20)  # 16 MB left to use
    admin = await aiohttp_client(_admin_app(config, min_free_bytes=reserve,
                                            max_expansion_ratio=10_000.0))
    response = await admin.put("/api/admin/exhibitions/gallery", data=body,
                               headers={**auth(curator), "Content-Type": "application/gzip"})
    assert (await error_of(response, 507))["code"] == "no_space"
    assert _uploads_left(config) == []
