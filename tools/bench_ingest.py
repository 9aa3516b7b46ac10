#!/usr/bin/env python3
"""Durable ingest and MQTT-to-room latency, against a real `vrculture serve` on 127.0.0.1, on
each store: SQLite (the default) and PostgreSQL (`--database`; a private cluster with fsync on,
started from tests/pg_cluster.py when Debian's postgresql is installed).

1. Readings per second through POST /api/feeds/{feed}/readings, single readings and batches of
   100; the server answers only after COMMIT (SQLite: synchronous=FULL; PostgreSQL:
   synchronous_commit=on). Goal: >= 5,000/s batched on SQLite. Anchors, measured in the same
   run: sqlite3 alone inserting batches, one COMMIT each, synchronous=FULL in WAL mode in the
   same folder; asyncpg alone committing the store's batch statement into the same cluster
   (what this disk and database can commit at all).
2. Time from an uplink's MQTT publish (ChirpStack, QoS 1, to a local Mosquitto) to the reading's
   arrival in a connected room over the WebSocket: p50/p99. Goal: p99 <= 200 ms.

Load stays on 127.0.0.1 and is bounded in count and time. Public means only: time.perf_counter,
resource. Usage: .venv/bin/python tools/bench_ingest.py [--batches 100] [--singles 500]
[--store sqlite|postgresql|both]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
MOSQUITTO = "/usr/sbin/mosquitto"
GAUGE = "bench-gauge"
LIGHTS, EXHIBITION = "streetlights-park", "sjostad"  # a demo feed and its exhibition
TIME_LIMIT = 30.0  # seconds per measured round, whatever the counts
ROUNDS = 3


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, process: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.perf_counter() + timeout
    while True:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        if process.poll() is not None or time.perf_counter() > deadline:
            sys.exit(f"bench_ingest: {process.args[0]} did not listen on {port}")
        time.sleep(0.05)


def anchor(folder: Path, commits: int, size: int) -> float:
    """Rows per second that sqlite3 itself commits here, `size` rows a COMMIT (synchronous=FULL,
    WAL, as the store)."""
    path = folder / f"anchor-{size}.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE r (feed TEXT, t REAL, body TEXT, PRIMARY KEY (feed, t))")
    start = time.perf_counter()
    for b in range(commits):
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO r VALUES (?, ?, ?)",
                         [("a", b * size + i, '{"value": 1.5}') for i in range(size)])
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    return commits * size / elapsed


async def ingest(base: str, token: str, batches: int, singles: int, t0: float) -> dict:
    import aiohttp

    headers = {"Authorization": f"Bearer {token}"}
    url = f"{base}/api/feeds/{GAUGE}/readings"
    counter = iter(range(10**9))
    results: dict[str, float] = {}

    def readings(n: int) -> list[dict]:
        return [{"t": round(t0 - next(counter) * 0.001, 3), "value": 21.5} for _ in range(n)]

    async with aiohttp.ClientSession() as session:
        async def post(n: int) -> None:
            async with session.post(url, json={"readings": readings(n)},
                                    headers=headers) as response:
                if response.status >= 300:
                    sys.exit(f"bench_ingest: HTTP {response.status} {await response.text()}")

        for label, size, count, clients in (("single, 1 client", 1, singles, 1),
                                            ("batch of 100, 1 client", 100, batches, 1),
                                            ("batch of 100, 4 clients", 100, batches, 4)):
            rates = []
            for _ in range(ROUNDS):  # the median of a few rounds: the machine is shared
                start = time.perf_counter()
                done = await asyncio.gather(*(worker(post, count // clients, size, start)
                                              for _ in range(clients)))
                rates.append(sum(done) / (time.perf_counter() - start))
            results[label] = statistics.median(rates)
    return results


async def worker(post, share: int, size: int, start: float) -> int:
    """One client posting `share` requests of `size` readings, each awaited (acknowledged)."""
    done = 0
    for _ in range(share):
        if time.perf_counter() - start > TIME_LIMIT:
            break
        await post(size)
        done += size
    return done


async def latency(base: str, broker_port: int, samples: int, t0: float) -> list[float]:
    import aiohttp
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    from vrculture.cli.simulate_mqtt import chirpstack_uplink, uplink_topic
    from vrculture.server.rooms.client import RoomClient

    publisher = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-publisher")
    publisher.connect("127.0.0.1", broker_port)
    publisher.loop_start()
    times: list[float] = []
    try:
        async with aiohttp.ClientSession() as session:
            ws = base.replace("http://", "ws://") + f"/ws/rooms/{EXHIBITION}"
            room = await RoomClient.connect(session, ws, name="Bench")
            for i in range(samples):
                reading = {"t": round(t0 - i * 0.001, 3), "lamp": "lamp-1", "presence": True,
                           "level": float(i % 100), "power_w": 10.0, "rated_w": 60.0}
                payload = json.dumps(chirpstack_uplink(LIGHTS, reading)).encode()
                start = time.perf_counter()
                publisher.publish(uplink_topic(LIGHTS), payload, qos=1)
                while True:
                    message = await room.expect("reading", timeout=10)
                    got = message["reading"]
                    if message["feed"] == LIGHTS and got["level"] == reading["level"]:
                        break
                times.append(time.perf_counter() - start)
                await asyncio.sleep(0.02)  # a city's pace, not a flood (the bridge limits those)
    finally:
        publisher.disconnect()
        publisher.loop_stop()
    return times


def pg_anchor(dsn: str, commits: int, size: int) -> float:
    """Rows per second that asyncpg alone commits into this cluster, `size` rows a COMMIT, with
    the store's statement (INSERT ... SELECT FROM unnest ... ON CONFLICT DO NOTHING)."""
    import asyncpg

    async def run() -> float:
        conn = await asyncpg.connect(dsn, server_settings={"synchronous_commit": "on"})
        try:
            await conn.execute(f"CREATE TABLE anchor_{size} (feed TEXT, t DOUBLE PRECISION,"
                               " body TEXT, PRIMARY KEY (feed, t))")
            start = time.perf_counter()
            for b in range(commits):
                await conn.execute(
                    f"INSERT INTO anchor_{size} SELECT 'a', u.t, u.body FROM unnest($1::float8[],"
                    " $2::text[]) AS u(t, body) ON CONFLICT DO NOTHING",
                    [float(b * size + i) for i in range(size)], ['{"value": 1.5}'] * size)
            return commits * size / (time.perf_counter() - start)
        finally:
            await conn.close()

    return asyncio.run(run())


def start_postgres() -> tuple[Any, str | None]:
    """A private, durable (fsync on) PostgreSQL cluster from tests/pg_cluster.py, or None."""
    sys.path.insert(0, str(ROOT / "tests"))
    from pg_cluster import PostgresCluster, find_bindir

    bindir = find_bindir()
    if bindir is None:
        return None, None
    cluster = PostgresCluster(bindir, durable=True)
    cluster.init()
    cluster.start()
    return cluster, cluster.dsn("postgres")


def measure_store(name: str, database: str | None, folder: Path, bundle: Path,
                  broker_port: int | None, args: argparse.Namespace) -> None:
    """Ingest rates and MQTT latency of a `vrculture serve` on one store, printed against
    that store's anchor."""
    from vrculture.server.config import ServerConfig
    from vrculture.server.store_choice import open_blocking_store

    data = folder / f"data-{name}"
    data.mkdir()
    store = open_blocking_store(ServerConfig(data_dir=data, database=database))
    token = store.add_feed(GAUGE, kind="gauge", minimum=-1000, maximum=1000)
    store.add_feed(LIGHTS, exhibition=EXHIBITION)
    store.close()
    serve = [sys.executable, "-m", "vrculture", "serve", str(bundle), "--data", str(data)]
    if broker_port is not None:
        serve += ["--config", str(folder / "settings.toml")]
    # The DSN (with its password) in the environment, not argv, as a city would run it.
    env = {**os.environ, **({"VRCULTURE_DATABASE": database} if database else {})}
    port = free_port()
    server = subprocess.Popen([*serve, "--port", str(port)], stderr=subprocess.DEVNULL, env=env)
    try:
        wait_port(port, server)
        base = f"http://127.0.0.1:{port}"
        t0 = time.time() - 60  # readings a minute old: never in the server's future
        if database is None:
            rows = {1: anchor(folder, args.singles, 1), 100: anchor(folder, args.batches, 100)}
            what = "sqlite3 alone, {} row(s) a COMMIT, synchronous=FULL"
        else:
            rows = {1: pg_anchor(database, args.singles, 1),
                    100: pg_anchor(database, args.batches, 100)}
            what = "asyncpg alone, {} row(s) a COMMIT, synchronous_commit=on, fsync on"
        rates = asyncio.run(ingest(base, token, args.batches, args.singles, t0))
        for size, rate in rows.items():
            print(f"[{name}] anchor: {what.format(size)}: {rate:,.0f} rows/s")
        for label, rate in rates.items():
            ratio = rate / rows[1 if label.startswith("single") else 100]
            print(f"[{name}] ingest over HTTP, {label} (median of {ROUNDS}): {rate:,.0f} "
                  f"readings/s ({ratio:.2f} of its anchor)")
        batched = rates["batch of 100, 1 client"]
        verdict = "met" if batched >= 5000 else "MISSED"
        goal = "goal" if database is None else "the SQLite goal, for comparison"
        print(f"[{name}] {goal} >= 5,000 readings/s batched: {verdict}")
        if broker_port is not None:
            times = asyncio.run(latency(base, broker_port, args.samples, t0 - 3600))
            p50 = statistics.median(times) * 1000
            p99 = statistics.quantiles(times, n=100)[98] * 1000
            print(f"[{name}] MQTT publish -> room: p50 {p50:.1f} ms, p99 {p99:.1f} ms over "
                  f"{len(times)} readings; goal p99 <= 200 ms: "
                  f"{'met' if p99 <= 200 else 'MISSED'}")
        else:
            print(f"[{name}] MQTT latency: skipped (no /usr/sbin/mosquitto)")
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batches", type=int, default=100, help="batches of 100 (default 100)")
    parser.add_argument("--singles", type=int, default=500, help="single readings (default 500)")
    parser.add_argument("--samples", type=int, default=500, help="MQTT latency samples")
    parser.add_argument("--store", choices=["sqlite", "postgresql", "both"], default="both",
                        help="which stores to measure (default both)")
    args = parser.parse_args()
    from vrculture.cli.simulate_mqtt import demo_settings

    with tempfile.TemporaryDirectory(prefix="vrculture-bench-") as tmp:
        folder = Path(tmp)
        bundle = folder / "bundle"
        subprocess.run([sys.executable, "-m", "vrculture", "build", str(ROOT / "assets" / "demo"),
                        "-o", str(bundle)], check=True, stdout=subprocess.DEVNULL)
        broker: subprocess.Popen | None = None
        broker_port = None
        if os.access(MOSQUITTO, os.X_OK):
            broker_port = free_port()
            (folder / "mosquitto.conf").write_text(
                f"persistence false\nlistener {broker_port} 127.0.0.1\nallow_anonymous true\n")
            broker = subprocess.Popen([MOSQUITTO, "-c", str(folder / "mosquitto.conf")],
                                      stderr=subprocess.DEVNULL)
            wait_port(broker_port, broker)
            (folder / "settings.toml").write_text(
                demo_settings(bundle, f"mqtt://127.0.0.1:{broker_port}"))
        cluster: Any = None
        try:
            if args.store in ("sqlite", "both"):
                measure_store("sqlite", None, folder, bundle, broker_port, args)
            if args.store in ("postgresql", "both"):
                cluster, dsn = start_postgres()
                if dsn is None:
                    print("[postgresql] skipped: no PostgreSQL (tools/bootstrap --postgresql)")
                else:
                    measure_store("postgresql", dsn, folder, bundle, broker_port, args)
        finally:
            if cluster is not None:
                cluster.remove()
            if broker is not None:
                broker.terminate()
                broker.wait(timeout=30)
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(f"servers, broker and PostgreSQL CPU: {usage.ru_utime + usage.ru_stime:.1f} s "
          "(a shared, noisy 2-core machine: compare ratios, not absolutes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
