"""A zip dropped in the studio is unpacked into sources/ as hostile input: escapes, links,
bombs and too many entries refuse it whole and leave nothing behind."""

from __future__ import annotations

import io
import os
import stat
import zipfile
from pathlib import Path

import pytest

from vrculture.server.config import ServerConfig
from vrculture.server.studio.archives import ZipLimits
from vrculture.server.studio.uploads import StudioUploadLimits

from .studio_helpers import ANNA, BASE, TUS, make_app, make_exhibition, upload


@pytest.fixture
def root(config: ServerConfig) -> Path:
    return make_exhibition(config.data_dir)


@pytest.fixture
async def client(aiohttp_client, config, root):
    limits = StudioUploadLimits(zip=ZipLimits(max_entries=20))
    return await aiohttp_client(make_app(config, limits=limits))


def zipped(entries: dict[str, bytes], *, links: tuple[str, ...] = ()) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
        for name in links:
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, "/etc/passwd")
    return buffer.getvalue()


TRIANGLE = b"mtllib tri.mtl\nv 0 0 0\nv 1 0 0\nv 0 1 0\nvt 0 0\nvt 1 0\nvt 0 1\nf 1/1 2/2 3/3\n"


async def listing(client) -> list[dict]:
    return (await (await client.get(f"{BASE}/uploads", headers=ANNA)).json())["uploads"]


async def test_a_zipped_folder_is_unpacked_and_its_objects_found(client, root) -> None:
    archive = zipped({"vas/tri.obj": TRIANGLE, "vas/tri.mtl": b"newmtl m\nmap_Kd tex.png\n",
                      "vas/tex.png": os.urandom(100), "vas/painting.jpg": os.urandom(100),
                      "__MACOSX/vas/._tri.obj": b"junk", "vas/readme.txt": b"hello"})
    response = await upload(client, "fynd.zip", archive)
    assert response.status == 204, await response.text()
    folder = root / "sources" / "fynd" / "vas"
    assert sorted(p.name for p in folder.iterdir()) == ["painting.jpg", "tex.png", "tri.mtl",
                                                        "tri.obj"]
    assert not (root / "sources" / "fynd" / "__MACOSX").exists()
    [info] = await listing(client)
    assert info["objects"] == ["tri", "painting"]  # the texture is no painting
    assert any("readme.txt" in why for why in info["skipped"])
    toml = (root / "collection.toml").read_text("utf-8")
    assert toml.startswith("# written by the studio\n")  # the curator's file, kept as it was
    assert 'source = "sources/fynd/vas/tri.obj"' in toml


@pytest.mark.parametrize(("entries", "links", "status", "words"), [
    ({"../escape.obj": TRIANGLE}, (), 400, "'..'"),
    ({"/etc/cron.d/x.obj": TRIANGLE}, (), 400, "absolute"),
    ({"a\\..\\b.obj": TRIANGLE}, (), 400, "backslash"),
    ({"ok.obj": TRIANGLE}, ("ok/link.obj",), 400, "symbolic link"),
    ({"bomb.obj": bytes(30 << 20)}, (), 413, "zip bomb"),
    ({f"f{n}.obj": TRIANGLE for n in range(21)}, (), 413, "entries"),
    ({"readme.txt": b"no scans here"}, (), 422, "no file the studio can use"),
    # these were 500s ("the file could not be stored"): the zip's fault, not the server's
    ({"a.obj": TRIANGLE, "a.obj/b.obj": TRIANGLE}, (), 400, "both a file and a folder"),
    ({"d.obj/b.obj": TRIANGLE, "d.obj": TRIANGLE}, (), 400, "both a file and a folder"),
    ({"\u00e9" * 130 + ".obj": TRIANGLE}, (), 400, "255 bytes"),
])
async def test_hostile_zips_are_refused_whole(client, root, entries, links, status,
                                              words) -> None:
    response = await upload(client, "hostile.zip", zipped(entries, links=links))
    assert response.status == status
    assert words in (await response.json())["message"]
    assert not (root / "sources" / "hostile").exists()
    assert not [p for p in (root / "sources").iterdir() if p.name.startswith(".")]
    assert not (root.parent / "escape.obj").exists()
    [info] = await listing(client)
    assert info["finished"] and info["error"]


async def test_a_name_that_is_not_utf8_though_flagged_so(client, root) -> None:
    """The zip says its names are UTF-8 (flag bit 11) but one is not: zipfile raised
    UnicodeDecodeError out of the handler (a 500 with a traceback)."""
    archive = zipped({"x\u00e9.obj": TRIANGLE}).replace(b"x\xc3\xa9.obj", b"x\xff\xfe.obj")
    response = await upload(client, "hostile.zip", archive)
    assert response.status == 400
    assert "not a zip the studio can read" in (await response.json())["message"]
    assert not (root / "sources" / "hostile").exists()


async def test_something_that_is_no_zip(client, root) -> None:
    response = await upload(client, "fake.zip", os.urandom(5000))
    assert response.status == 400
    assert "not a zip" in (await response.json())["message"]
    [info] = await listing(client)
    head = await client.head(f"{BASE}/uploads/{info['id']}", headers={**TUS, **ANNA})
    assert head.headers["Upload-Offset"] == "5000"  # done: the client does not send it again
