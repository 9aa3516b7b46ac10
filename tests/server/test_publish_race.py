"""Publishing never deletes a version that a running server still serves: the server sees a
new version only at its next poll, so two publishes inside one poll used to prune the version
in use and every file of the exhibition answered 404 until the poll."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys

from fixed_clock import FakeClock

from vrculture.server import appkeys
from vrculture.server.admin import UPLOAD_LIMITS
from vrculture.server.app import create_app
from vrculture.server.bundle_upload import UploadLimits
from vrculture.server.config import ServerConfig
from vrculture.server.leases import LEASE_FOLDER, versions_in_use
from vrculture.server.publishing import publish
from vrculture.server.registry import BundleRegistry
from vrculture.server.storage import Store

from .bundle_factory import make_bundle
from .test_admin import TAR, auth, tar_of


def test_two_publishes_between_polls_keep_the_served_version(tmp_path):
    data = tmp_path / "data"
    # keep=2: only current and previous are kept by count, so what keeps v1 alive below is
    # the server's lease alone
    v1 = publish(make_bundle(tmp_path / "v1", "gallery", title_sv="Ett"), data, keep=2,
                 clock=FakeClock())
    registry = BundleRegistry([], data)
    registry.scan()
    served = registry.get("gallery")
    assert served is not None and served.root.name == v1.version

    publish(make_bundle(tmp_path / "v2", "gallery", title_sv="Två"), data, keep=2,
            clock=FakeClock())
    # before any poll:
    publish(make_bundle(tmp_path / "v3", "gallery", title_sv="Tre"), data, keep=2,
            clock=FakeClock())
    assert (served.root / "exhibition.json").is_file()  # still what the server serves

    registry.scan()  # the poll: now serving v3
    assert registry.get("gallery").manifest["title"]["sv"] == "Tre"
    registry.scan()  # one more poll: requests that started on v1 have long finished
    publish(make_bundle(tmp_path / "v4", "gallery", title_sv="Fyra"), data, keep=2,
            clock=FakeClock())
    assert not served.root.exists()  # no longer served by anyone: pruned
    registry.close()
    assert not any((data / "exhibitions/gallery" / LEASE_FOLDER).iterdir())


def test_a_lease_of_a_process_that_is_gone_is_ignored(tmp_path):
    data = tmp_path / "data"
    publish(make_bundle(tmp_path / "v1", "gallery", title_sv="Ett"), data, clock=FakeClock())
    home = data / "exhibitions/gallery"
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True)
    dead_pid = int(child.stdout)
    registry = BundleRegistry([], data)
    registry.scan()
    (own,) = list((home / LEASE_FOLDER).iterdir())
    host = own.name.split(".")[0]
    stale = home / LEASE_FOLDER / f"{host}.{dead_pid}.0000"
    stale.write_text(json.dumps(["versions/gone"]))
    in_use = versions_in_use(home)
    assert "versions/gone" not in in_use and not stale.exists()
    assert in_use == {f"versions/{registry.get('gallery').root.name}"}
    registry.close()
    assert os.listdir(home / LEASE_FOLDER) == []


async def test_back_to_back_uploads_while_a_visitor_fetches_never_404(aiohttp_client, tmp_path,
                                                                     config: ServerConfig, clock):
    # No polling of its own: the test decides when the server looks at the data folder.
    app = create_app(config, watch_interval=3600, clock=clock)
    app[UPLOAD_LIMITS] = UploadLimits(max_upload_bytes=1 << 20, max_unpacked_bytes=4 << 20)
    client = await aiohttp_client(app)
    store = Store.open(config.data_dir, clock=FakeClock())
    curator = store.create_curator_token()
    store.close()
    headers = {**auth(curator), **TAR}
    registry = app[appkeys.EXHIBITIONS]

    async def upload(title: str) -> None:
        body = tar_of(make_bundle(tmp_path / title, "gallery", title_sv=title))
        response = await client.put("/api/admin/exhibitions/gallery", data=body, headers=headers)
        assert response.status == 201, await response.text()

    await upload("Ett")
    await asyncio.to_thread(registry.scan)
    assert registry.get("gallery") is not None

    statuses: list[tuple[int, str]] = []
    fetched = asyncio.Event()
    stop = asyncio.Event()

    async def visitor() -> None:
        while not stop.is_set():
            response = await client.get("/bundles/gallery/exhibition.json")
            statuses.append((response.status, "exhibition.json"))
            if response.status == 200:
                manifest = await response.json()
                for obj in manifest["objects"]:
                    for level in obj["levels"]:
                        file = await client.get(f"/bundles/gallery/{level['url']}")
                        await file.read()
                        statuses.append((file.status, level["url"]))
            fetched.set()  # one round done
            await asyncio.sleep(0)

    fetching = asyncio.create_task(visitor())
    await asyncio.wait_for(fetched.wait(), 10)
    await upload("Två")
    await upload("Tre")  # both inside one poll interval: the server still serves "Ett"
    fetched.clear()
    await asyncio.wait_for(fetched.wait(), 10)
    await asyncio.to_thread(registry.scan)  # the poll
    assert registry.get("gallery").manifest["title"]["sv"] == "Tre"
    fetched.clear()
    await asyncio.wait_for(fetched.wait(), 10)
    stop.set()
    await fetching
    assert statuses and all(status == 200 for status, _ in statuses), [
        s for s in statuses if s[0] != 200][:5]
