"""Conversion progress as server-sent events: in order, resumed with Last-Event-ID; and the
queue converting a good corpus scan while a corrupt one fails with a message in words."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from vrculture.server.config import ServerConfig
from vrculture.server.studio.progress import RING_SIZE
from vrculture.server.studio.uploads import STUDIO_UPLOADS

from .studio_helpers import ANNA, BASE, create, make_app, make_exhibition, patch, upload


@pytest.fixture
def root(config: ServerConfig) -> Path:
    return make_exhibition(config.data_dir)


@pytest.fixture
async def client(aiohttp_client, config, root):
    return await aiohttp_client(make_app(config))


class Stream:
    """An open event stream, read one event at a time."""

    def __init__(self, response) -> None:
        self.response = response

    async def next(self, timeout: float = 10.0) -> tuple[str, str, dict]:
        """(id, event, data) of the next event; comments and the retry line are skipped."""
        fields: dict[str, str] = {}
        async with asyncio.timeout(timeout):
            while True:
                line = (await self.response.content.readline()).decode().rstrip("\n")
                if line == "":
                    if "event" in fields:
                        return fields["id"], fields["event"], json.loads(fields["data"])
                    fields = {}
                    continue
                if line.startswith(":"):
                    continue
                name, _, value = line.partition(": ")
                fields[name] = value

    async def until(self, predicate, timeout: float = 120.0) -> list[tuple[str, str, dict]]:
        """Events up to and including the first one `predicate` accepts."""
        seen = []
        async with asyncio.timeout(timeout):
            while True:
                event = await self.next(timeout)
                seen.append(event)
                if predicate(event):
                    return seen


async def open_stream(client, last_event_id: str | None = None) -> Stream:
    headers = {**ANNA, **({"Last-Event-ID": last_event_id} if last_event_id else {})}
    response = await client.get(f"{BASE}/events", headers=headers)
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/event-stream")
    return Stream(response)


def publish(client, kind: str, **data) -> None:
    client.server.app[STUDIO_UPLOADS].hub.publish("sjostad", kind, data)


async def test_events_arrive_in_order_and_resume_after_the_last_seen(client) -> None:
    stream = await open_stream(client)
    for n in range(5):
        publish(client, "converting", object=f"o{n}", stage="reading")
    received = [await stream.next() for _ in range(5)]
    assert [data["object"] for _, _, data in received] == [f"o{n}" for n in range(5)]
    stream.response.close()  # the connection drops after the second event was handled

    resumed = await open_stream(client, last_event_id=received[1][0])
    again = [await resumed.next() for _ in range(3)]
    assert [event_id for event_id, _, _ in again] == [r[0] for r in received[2:]]
    publish(client, "done", object="o5")
    assert (await resumed.next())[2]["object"] == "o5"  # then live events, in order


async def test_an_id_from_before_a_restart_or_out_of_the_ring_starts_with_a_reset(
        client) -> None:
    for n in range(RING_SIZE + 10):
        publish(client, "queued", object=f"o{n}")
    for stale in ("0badbeef-3", "garbage", f"{client.server.app[STUDIO_UPLOADS].hub.boot}-3"):
        stream = await open_stream(client, last_event_id=stale)
        _, kind, _ = await stream.next()
        assert kind == "reset", stale  # the page re-reads GET /uploads
        _, _, first = await stream.next()
        assert first["object"] == "o10"  # the oldest event still kept
        stream.response.close()


async def test_a_good_scan_converts_and_a_corrupt_one_fails_in_words(client, root,
                                                                   corpus: Path) -> None:
    stream = await open_stream(client)
    spot = corpus / "spot"
    names = ("spot_texture.png", "spot.mtl", "spot.obj")  # the texture first
    # A dropped folder: every upload is created before any is sent (as upload.js does).
    urls = [await create(client, name, (spot / name).stat().st_size,
                         relativePath=f"spot/{name}", batch="drop-1") for name in names]
    for name, url in zip(names, urls, strict=True):
        response = await patch(client, url, 0, (spot / name).read_bytes())
        assert response.status == 204
    damaged = (corpus / "gargoyle.ply").read_bytes()
    response = await upload(client, "gargoyle-cut.ply", damaged[:len(damaged) // 2])
    assert response.status == 204

    finished: dict[str, tuple[str, dict]] = {}

    def both_finished(event: tuple[str, str, dict]) -> bool:
        _, kind, data = event
        if kind in ("done", "failed") and "object" in data:
            finished[data["object"]] = (kind, data)
        return len(finished) == 2

    events = await stream.until(both_finished, timeout=300)
    assert set(finished) == {"spot", "gargoyle-cut"}  # the texture is no painting
    kind, done = finished["spot"]
    assert kind == "done", done
    assert done["kind"] == "model" and done["triangles"] > 1000
    assert done["levels"] and done["bytes"] > 0
    kind, failed = finished["gargoyle-cut"]
    assert kind == "failed"
    assert failed["message"].startswith("gargoyle-cut.ply could not be converted: the file "
                                        "is incomplete")
    assert "vertex" in failed["detail"]  # the technician's detail goes along
    assert "Traceback" not in failed["message"]
    order = [(kind, data.get("object")) for _, kind, data in events if data.get("object")]
    for name in ("spot", "gargoyle-cut"):
        mine = [kind for kind, obj in order if obj == name]
        assert mine[0] == "queued" and mine[-1] in ("done", "failed")
        assert "converting" in mine
    states = (await (await client.get(f"{BASE}/uploads", headers=ANNA)).json())["objects"]
    assert states["spot"]["event"] == "done"
    assert states["gargoyle-cut"]["event"] == "failed"
    toml = (root / "collection.toml").read_text("utf-8")
    assert 'source = "sources/spot/spot.obj"' in toml


@pytest.mark.parametrize(("problem", "words"), [
    ("PLY element 'face' is truncated", "incomplete"),
    ("OBJ has zero triangles (no 'f' lines: a point cloud?)", "no surface"),
    ("external file 'tex.png' not found next to the source", "is missing"),
    ("not enough memory to read this file", "too large"),
    ("glTF JSON is not valid JSON (Expecting value)", "damaged"),
])
def test_converter_problems_in_plain_words(problem: str, words: str) -> None:
    from vrculture.server.studio.plain import in_plain_words

    message = in_plain_words("vas.obj", problem)
    assert message.startswith("vas.obj could not be converted: ")
    assert words in message


async def test_a_page_served_by_another_process_sees_the_conversion(aiohttp_client, config,
                                                                    root) -> None:
    """Two server processes sharing the data folder and the pub/sub (Redis in production; one
    in-process pub/sub here): the page follows process B while process A receives the upload
    and converts it."""
    from vrculture.server import appkeys
    from vrculture.server.pubsub import LocalPubSub

    shared = LocalPubSub()
    first, second = make_app(config), make_app(config)
    first[appkeys.PUBSUB] = second[appkeys.PUBSUB] = shared
    converting = await aiohttp_client(first)
    page = await aiohttp_client(second)
    stream = await open_stream(page)
    response = await upload(converting, "tetra.obj", b"v 0 0 0\nv 0.1 0 0\nv 0 0.1 0\n"
                            b"v 0 0 0.1\nf 1 3 2\nf 1 2 4\nf 1 4 3\nf 2 3 4\n")
    assert response.status == 204
    events = await stream.until(lambda event: event[1] == "done", timeout=120)
    assert [kind for _, kind, _ in events if kind != "upload"] == [
        "queued", "converting", "converting", "done"]
    states = (await (await page.get(f"{BASE}/uploads", headers=ANNA)).json())["objects"]
    assert states["tetra"]["event"] == "done"  # recorded on disk, read by any process
