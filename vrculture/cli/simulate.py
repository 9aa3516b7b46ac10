"""`vrculture simulate --url URL`: play realistic sensor readings through the public ingest API.

The feeds come from the server's exhibitions (their `feeds` maps). Tokens: `--token FEED=TOKEN`
for feeds that exist, or `--data DIR` on the server's machine, which registers the feeds that
have no token yet and keeps the simulator's tokens in DIR/simulator-tokens.json (mode 0600).

`--mqtt mqtt://[user:password@]host:port` (or mqtts://) publishes the readings instead as
ChirpStack v4 uplinks (QoS 1) on `application/vrculture-demo/device/<feed>/event/up`, as a city's
LoRaWAN network server would; the server's `[mqtt]` table maps those topics to the feeds
(tools/demo writes one). The feeds are still read from `--url`; no tokens are needed.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from vrculture.cli import EXIT_FAILED, EXIT_OK, EXIT_PARTIAL, EXIT_USAGE

TOKENS_FILE = "simulator-tokens.json"
TICK_REAL_SECONDS = 0.5
POST_BATCH = 1000  # the most readings the ingest API takes in one request


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "simulate",
        help="play realistic sensor readings for the demo's smart-city exhibits",
        description="Street lights that switch on when people pass at night, bins that fill, "
        "compact and get emptied, screening sessions per school day: posted through "
        "POST /api/feeds/{feed}/readings like real sensors.",
    )
    parser.add_argument("--url", default="http://127.0.0.1:8080", help="the server")
    parser.add_argument("--duration", type=float, default=300.0,
                        help="real seconds to run (default 300)")
    parser.add_argument("--speed", type=float, default=60.0,
                        help="simulated seconds per real second (default 60: an hour a minute)")
    parser.add_argument("--token", action="append", default=[], metavar="FEED=TOKEN")
    parser.add_argument("--data", type=Path,
                        help="the server's data folder: register missing feeds there")
    parser.add_argument("--exhibition", action="append", default=[],
                        help="only these exhibitions' feeds (repeatable)")
    parser.add_argument("--seed", type=int, default=None, help="for repeatable runs")
    parser.add_argument("--mqtt", metavar="URL",
                        help="publish ChirpStack uplinks to this broker instead of posting")
    parser.add_argument("--insecure", action="store_true",
                        help="accept a self-signed certificate (the gallery LAN mode)")


def _tokens_from_data(data: Path, feeds: dict[str, dict[str, Any]]) -> dict[str, str]:
    from vrculture.server.storage import Store

    path = data / TOKENS_FILE
    try:
        saved: dict[str, str] = json.loads(path.read_text())
    except (OSError, ValueError):
        saved = {}
    store = Store.open(data)
    try:
        for feed_id, spec in feeds.items():
            if feed_id in saved and store.check_feed_token(feed_id, saved[feed_id]):
                continue
            if store.feed(feed_id) is None:
                saved[feed_id] = store.add_feed(feed_id, exhibition=spec.get("exhibition"))
            else:
                saved.pop(feed_id, None)  # a real sensor's feed: never take its token over
    finally:
        store.close()
    tmp = path.with_name(f".{TOKENS_FILE}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(saved, handle)
    os.replace(tmp, path)
    return saved


async def _discover(session, url: str, only: list[str]) -> dict[str, dict[str, Any]]:
    feeds: dict[str, dict[str, Any]] = {}
    async with session.get(f"{url}/api/exhibitions") as response:
        response.raise_for_status()
        exhibitions = await response.json()
    for summary in exhibitions:
        if only and summary["id"] not in only:
            continue
        async with session.get(f"{url}/api/exhibitions/{summary['id']}") as response:
            response.raise_for_status()
            manifest = await response.json()
        for feed_id, spec in manifest.get("feeds", {}).items():
            feeds.setdefault(feed_id, {**spec, "exhibition": summary["id"]})
    return feeds


async def _simulate(args: argparse.Namespace, clock: Callable[[], float] = time.time) -> int:
    """Plays `args.duration` real seconds of readings. `clock` is the wall clock (epoch
    seconds) that the replay ends at; the pacing uses the event loop's monotonic clock."""
    import aiohttp

    from vrculture.server.simulate import Replay, model_for

    url = args.url.rstrip("/")
    connector = aiohttp.TCPConnector(ssl=False) if args.insecure else None
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        try:
            feeds = await _discover(session, url, args.exhibition)
        except (TimeoutError, aiohttp.ClientError, ValueError) as error:
            print(f"vrculture simulate: cannot read the exhibitions from {url}: {error}",
                  file=sys.stderr)
            return EXIT_FAILED
        tokens = dict(item.split("=", 1) for item in args.token)
        if args.data:
            tokens = {**_tokens_from_data(args.data, feeds), **tokens}
        if args.mqtt:
            return await _publish_all(args, feeds, clock)
        runnable = {f: s for f, s in feeds.items() if f in tokens}
        for feed_id in sorted(set(feeds) - set(runnable)):
            print(f"vrculture simulate: no token for feed {feed_id!r}: skipped (give "
                  "--token FEED=TOKEN, or --data on the server's machine)", file=sys.stderr)
        if not runnable:
            print("vrculture simulate: nothing to simulate", file=sys.stderr)
            return EXIT_FAILED
        rng = random.Random(args.seed)
        models = {f: model_for(f, spec, rng) for f, spec in runnable.items()}
        loop = asyncio.get_running_loop()
        real_start = loop.time()
        replay = Replay(models, clock() + args.duration, args.duration, args.speed)
        posted = 0
        failed: set[str] = set()
        while loop.time() - real_start < args.duration and len(failed) < len(models):
            await asyncio.sleep(TICK_REAL_SECONDS)
            for feed_id, readings in replay.advance(loop.time() - real_start).items():
                if feed_id in failed or not readings:
                    continue
                for i in range(0, len(readings), POST_BATCH):
                    batch = readings[i:i + POST_BATCH]
                    if not await _post(session, url, feed_id, tokens[feed_id], batch):
                        failed.add(feed_id)
                        break
                    posted += len(batch)
        for model in models.values():
            print(model.summary())
        print(f"{posted} readings posted", file=sys.stderr)
        return EXIT_PARTIAL if failed else EXIT_OK


async def _post(session, url: str, feed_id: str, token: str, readings: list) -> bool:
    import aiohttp

    headers = {"Authorization": f"Bearer {token}"}
    for attempt in range(3):
        try:
            async with session.post(f"{url}/api/feeds/{feed_id}/readings",
                                    json={"readings": readings}, headers=headers) as response:
                if response.status < 300:
                    return True
                detail = (await response.text())[:300]
                print(f"vrculture simulate: {feed_id}: HTTP {response.status} {detail}",
                      file=sys.stderr)
                return False
        except (TimeoutError, aiohttp.ClientError) as error:
            if attempt == 2:
                print(f"vrculture simulate: {feed_id}: {error}", file=sys.stderr)
                return False
            await asyncio.sleep(0.5 * (attempt + 1))
    return False


async def _publish_all(args: argparse.Namespace, feeds: dict[str, dict[str, Any]],
                       clock: Callable[[], float]) -> int:
    """The MQTT side: every feed's readings as ChirpStack uplinks, each acknowledged (PUBACK)
    by the broker before the next tick."""
    from vrculture.cli.simulate_mqtt import UplinkPublisher
    from vrculture.server.simulate import Replay, model_for

    try:
        publisher = UplinkPublisher.connect(args.mqtt, insecure=args.insecure)
    except (OSError, ValueError) as error:
        print(f"vrculture simulate: cannot connect to the broker: {error}", file=sys.stderr)
        return EXIT_FAILED
    try:
        rng = random.Random(args.seed)
        models = {f: model_for(f, spec, rng) for f, spec in feeds.items()}
        loop = asyncio.get_running_loop()
        real_start = loop.time()
        replay = Replay(models, clock() + args.duration, args.duration, args.speed)
        published = 0
        while loop.time() - real_start < args.duration:
            await asyncio.sleep(TICK_REAL_SECONDS)
            for feed_id, readings in replay.advance(loop.time() - real_start).items():
                try:
                    published += await publisher.publish(feed_id, readings)
                except OSError as error:
                    print(f"vrculture simulate: {feed_id}: {error}", file=sys.stderr)
                    return EXIT_PARTIAL
    finally:
        publisher.close()
    for model in models.values():
        print(model.summary())
    print(f"{published} readings published", file=sys.stderr)
    return EXIT_OK


def run(args: argparse.Namespace) -> int:
    if args.duration <= 0 or args.speed < 1:
        print("vrculture simulate: --duration must be positive and --speed at least 1",
              file=sys.stderr)
        return EXIT_USAGE
    if any("=" not in item for item in args.token):
        print("vrculture simulate: --token takes FEED=TOKEN", file=sys.stderr)
        return EXIT_USAGE
    if args.mqtt and not args.mqtt.startswith(("mqtt://", "mqtts://")):
        print("vrculture simulate: --mqtt takes mqtt://host:port or mqtts://host:port",
              file=sys.stderr)
        return EXIT_USAGE
    if args.mqtt and importlib.util.find_spec("paho") is None:
        print("vrculture simulate: --mqtt needs paho-mqtt: pip install 'vrculture[mqtt]'",
              file=sys.stderr)
        return EXIT_USAGE
    return asyncio.run(_simulate(args))
