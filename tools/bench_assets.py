#!/usr/bin/env python3
"""Asset serving: `vrculture serve` against nginx on the same files, same machine, same run.

Files: a 5 MB and a 50 MB GLB and a 20 KB JSON, published in a bundle (content-hashed names,
so vrculture answers them as immutable) and placed in an nginx root. Load: `wrk` (installed
from Debian when missing) with keep-alive connections, 16 and 64 at a time. Reported: MB/s and
requests/s per server, and vrculture's ratio to nginx in MB/s (targets: >= 0.9x on the large files,
>= 0.5x on the 20 KB file).

Fairness: both servers get the same number of processes. vrculture runs one process by
default (`--vrculture-workers 2`: `serve --workers 2` with a Redis for the rooms), on the plain
asyncio loop, and nginx then gets `worker_processes` equal to that (sendfile on, access log off).
Debian's default `worker_processes auto` (one per core) against one vrculture process would
compare two processes with one; `--nginx-workers auto` still measures that. The targets are
judged on equal process counts (1 against 1: the per-process cost of serving a file), and the
report states both pairings. wrk itself needs CPU on this 2-core machine: `--pin` puts both
servers on core 1 and wrk on core 0 so neither steals the other's core. Measurements alternate
between the two servers so that background load on a shared machine hits both alike; medians
are printed.

`--recipe`: the deployment in deploy/ (nginx serving bundle files from the data folder with
the shipped site file, passing the rest to vrculture) against bare nginx serving the same
published folder with a plain `alias`, same run, same worker count, on small bundle files
(a 2 KB GLB and the 20 KB JSON); vrculture answering them alone is shown for reference.
Target: the recipe >= 0.9x bare nginx in requests/s. Measured (2 shared cores, load ~8,
9 rounds of 2 s): 0.94-1.21x in requests/s, 1.20-1.28x in requests per CPU-second (its
open-file cache); vrculture alone 0.22-0.35x.

Usage: tools/bench_assets.py [--seconds 8] [--rounds 3] [--nginx-workers N|auto]
                             [--vrculture-workers 1|2] [--pin] [--files 20kb,5mb,50mb]
                             [--recipe]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIZES = {"5mb": 5 * 1024 * 1024, "50mb": 50 * 1024 * 1024, "20kb": 20 * 1024}
CONNECTIONS = (16, 64)


def _ensure(binary: str, package: str) -> str:
    found = shutil.which(binary) or (f"/usr/sbin/{binary}" if Path(f"/usr/sbin/{binary}")
                                     .exists() else None)
    if found:
        return found
    print(f"installing {package} from Debian ...", file=sys.stderr)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "install", "-y", "--no-install-recommends", package],
                   check=True, env=env, stdout=subprocess.DEVNULL)
    return shutil.which(binary) or f"/usr/sbin/{binary}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _hashed(folder: Path, stem: str, ext: str, data: bytes) -> str:
    name = f"{stem}.{hashlib.sha256(data).hexdigest()[:12]}.{ext}"
    (folder / name).write_bytes(data)
    return name


LEVEL_FIELDS = {"triangles": 1, "texture_px": 0, "gpu_texture_bytes": 0}


def _write_manifest(bundle: Path, levels: list[dict[str, object]]) -> None:
    """A valid exhibition.json with one object whose levels are the benchmark's files."""
    manifest = {
        "schema_version": 1, "id": "bench", "generator": "tools/bench_assets.py",
        "default_language": "en", "languages": ["en"], "title": {"en": "bench"},
        "entrance": {"position": [0, 0, 0], "yaw": 0}, "rooms": [], "tours": [],
        "smart_exhibits": [], "feeds": {}, "totals": {},
        "objects": [{
            "id": "bench", "kind": "model", "title": {"en": "bench"},
            "rights": {"id": "CC0-1.0", "uri": "https://creativecommons.org/publicdomain/zero/"
                       "1.0/", "free_reuse": True},
            "bounds": {"min": [0, 0, 0], "max": [1, 1, 1]},
            "placement": {"room": "hall", "position": [0, 0, 0], "yaw": 0,
                          "footprint": [0, 0, 1, 1]},
            "levels": levels,
        }],
    }
    (bundle / "exhibition.json").write_text(json.dumps(manifest))


def make_files(work: Path) -> tuple[Path, dict[str, str]]:
    """A valid bundle holding the three files; returns it and each file's relative path."""
    bundle = work / "bundle"
    objects = bundle / "objects" / "bench"
    objects.mkdir(parents=True)
    rng = os.urandom  # incompressible, like real GLBs with compressed textures
    names = {
        "5mb": "objects/bench/" + _hashed(objects, "bench.medium", "glb", rng(SIZES["5mb"])),
        "50mb": "objects/bench/" + _hashed(objects, "bench.high", "glb", rng(SIZES["50mb"])),
    }
    record = {"records": [{"id": f"r{i}", "title": "x" * 40} for i in range(260)]}
    text = json.dumps(record).encode()[: SIZES["20kb"]]
    text = text + b" " * (SIZES["20kb"] - len(text))
    names["20kb"] = "objects/bench/" + _hashed(objects, "bench.meta", "json", text)
    _write_manifest(bundle, [
        {"name": "medium", "url": names["5mb"], "bytes": SIZES["5mb"], **LEVEL_FIELDS},
        {"name": "high", "url": names["50mb"], "bytes": SIZES["50mb"], **LEVEL_FIELDS},
    ])
    return bundle, names


def _wait_for(url: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited: {process.args}")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"{url} did not answer")


def start_redis(work: Path) -> tuple[subprocess.Popen, str]:
    redis = _ensure("redis-server", "redis-server")
    port = _free_port()
    process = subprocess.Popen([redis, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                "--appendonly", "no", "--dir", str(work)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    return process, f"redis://127.0.0.1:{port}/0"


def start_vrculture(bundle: Path, work: Path, port: int, workers: int = 1,
                    redis_url: str | None = None) -> subprocess.Popen:
    extra = ["--workers", str(workers), "--redis-url", redis_url] if workers > 1 else []
    process = subprocess.Popen(
        [*SERVER_CPU, sys.executable, "-m", "vrculture", "serve", str(bundle),
         "--data", str(work / "data"),
         "--port", str(port), "--log-level", "warning", *extra],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for(f"http://127.0.0.1:{port}/healthz", process)
    except SystemExit:
        process.terminate()
        raise
    return process


def start_nginx(nginx: str, bundle: Path, work: Path, port: int, workers: str):
    conf = work / "nginx.conf"
    conf.write_text(f"""
worker_processes {workers};
pid {work}/nginx.pid;
error_log {work}/nginx-error.log warn;
daemon off;
events {{ worker_connections 4096; }}
http {{
    include /etc/nginx/mime.types;
    types {{ model/gltf-binary glb; }}
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    client_body_temp_path {work}/nginx-body;
    proxy_temp_path {work}/nginx-proxy;
    fastcgi_temp_path {work}/nginx-fastcgi;
    uwsgi_temp_path {work}/nginx-uwsgi;
    scgi_temp_path {work}/nginx-scgi;
    server {{
        listen 127.0.0.1:{port};
        location /bundles/bench/ {{
            alias {bundle}/;
            add_header Cache-Control "public, max-age=31536000, immutable";
        }}
    }}
}}
""")
    process = subprocess.Popen([*SERVER_CPU, nginx, "-c", str(conf)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        _wait_for(f"http://127.0.0.1:{port}/bundles/bench/exhibition.json", process)
    except SystemExit:
        process.terminate()
        raise
    return process


# --pin: each server on CPU 1 and the load generator on CPU 0, so that neither steals the
# other's core (a per-core comparison: nginx's workers then share one core, like vrculture).
SERVER_CPU: list[str] = []
CLIENT_CPU: list[str] = []

UNITS = {"B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3}


def server_cpu_seconds(pid: int) -> float:
    """User + system CPU time of a server and all its descendants (nginx's workers, vrculture's
    forked workers), from /proc. Requests per CPU-second compare the servers' own cost, which
    a shared or oversubscribed machine (wrk needs a core too) blurs in plain requests/s."""
    parents: dict[int, int] = {}
    times: dict[int, int] = {}
    for stat_file in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat_file.read_text().rsplit(")", 1)[1].split()
        except OSError:  # exited meanwhile
            continue
        child = int(stat_file.parent.name)
        parents[child] = int(fields[1])
        times[child] = int(fields[11]) + int(fields[12])
    tree, frontier = {pid}, [pid]
    while frontier:
        parent = frontier.pop()
        for child, its_parent in parents.items():
            if its_parent == parent and child not in tree:
                tree.add(child)
                frontier.append(child)
    return sum(times.get(p, 0) for p in tree) / os.sysconf("SC_CLK_TCK")


def _client_process(url: str, connections: int, seconds: float, results) -> None:
    """One load-generating process: `connections` keep-alive clients in a loop."""
    import asyncio

    import aiohttp

    async def go() -> None:
        done = [0, 0]
        deadline = time.monotonic() + seconds
        connector = aiohttp.TCPConnector(limit=connections)
        async with aiohttp.ClientSession(connector=connector, auto_decompress=False) as session:

            async def client() -> None:
                while time.monotonic() < deadline:
                    try:
                        async with session.get(url) as response:
                            async for chunk in response.content.iter_chunked(1 << 20):
                                done[1] += len(chunk)
                            done[0] += response.status == 200
                    except aiohttp.ClientError:
                        await asyncio.sleep(0.01)  # counted as nothing done

            await asyncio.gather(*(client() for _ in range(connections)))
        results.put(tuple(done))

    asyncio.run(go())


def run_python_clients(url: str, connections: int, seconds: int) -> tuple[float, float]:
    """The fallback load generator: two client processes, so that it is not the bottleneck
    of a single Python loop. (requests/s, MB/s)"""
    import multiprocessing

    results = multiprocessing.Queue()
    processes = [multiprocessing.Process(target=_client_process,
                                         args=(url, connections // 2, seconds, results))
                 for _ in range(2)]
    start = time.monotonic()
    for process in processes:
        process.start()
    totals = [results.get(timeout=seconds + 60) for _ in processes]
    for process in processes:
        process.join()
    elapsed = time.monotonic() - start
    return sum(t[0] for t in totals) / elapsed, sum(t[1] for t in totals) / elapsed / 1024**2


def run_load(wrk: str | None, url: str, connections: int, seconds: int):
    if wrk is None:
        return run_python_clients(url, connections, seconds)
    return run_wrk(wrk, url, connections, seconds)


def run_wrk(wrk: str, url: str, connections: int, seconds: int) -> tuple[float, float]:
    """(requests/s, MB/s)"""
    out = subprocess.run(
        [*CLIENT_CPU, wrk, "-t", "2", "-c", str(connections), "-d", f"{seconds}s", "--latency",
         url],
        check=True, capture_output=True, text=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    amount, unit = re.search(r"Transfer/sec:\s+([\d.]+)(\w+)", out).groups()
    if re.search(r"Non-2xx or 3xx responses", out):
        raise SystemExit(f"errors from {url}:\n{out}")
    return rps, float(amount) * UNITS[unit] / 1024**2


RECIPE_FILES = {"2kb": 2 * 1024, "20kb": 20 * 1024}


def make_small_bundle(work: Path) -> tuple[Path, dict[str, str]]:
    """A valid bundle of small files (a 2 KB GLB level, a 20 KB JSON), as `vrculture build`
    names them."""
    bundle = work / "bundle"
    objects = bundle / "objects" / "bench"
    objects.mkdir(parents=True)
    glb = "objects/bench/" + _hashed(objects, "bench.low", "glb",
                                     os.urandom(RECIPE_FILES["2kb"]))
    text = json.dumps({"records": [{"id": f"r{i}", "title": "x" * 40} for i in range(260)]})
    text = text.encode()[: RECIPE_FILES["20kb"]].ljust(RECIPE_FILES["20kb"])
    names = {"2kb": glb, "20kb": "objects/bench/" + _hashed(objects, "bench.meta", "json", text)}
    _write_manifest(bundle, [
        {"name": "low", "url": glb, "bytes": RECIPE_FILES["2kb"], **LEVEL_FIELDS}])
    return bundle, names


def run_recipe(args: argparse.Namespace, nginx: str, wrk: str | None) -> int:
    """The deploy/ recipe against bare nginx on the same published files (see the docstring)."""
    sys.path.insert(0, str(ROOT / "tests" / "deploy"))
    import nginx_recipe  # the tests' runner of the shipped site file

    from vrculture.server.publishing import publish

    work = Path(tempfile.mkdtemp(prefix="vrculture-bench-recipe-"))
    work.chmod(0o755)  # nginx's workers run as an unprivileged user and must read the files
    servers: dict[str, subprocess.Popen] = {}
    try:
        bundle, names = make_small_bundle(work)
        data_dir = work / "data"
        old_umask = os.umask(nginx_recipe.unit_umask())  # as the service publishes
        try:
            publish(bundle, data_dir)
        finally:
            os.umask(old_umask)
        data_dir.chmod(nginx_recipe.unit_data_mode())
        ports = {"recipe": _free_port(), "bare": _free_port(), "vrculture": _free_port()}
        servers["vrculture"] = subprocess.Popen(
            [*SERVER_CPU, *nginx_recipe.serve_command(data_dir, ports["vrculture"]),
             "--log-level", "warning"], cwd=ROOT, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        _wait_for(f"http://127.0.0.1:{ports['vrculture']}/healthz", servers["vrculture"])
        servers["recipe"] = nginx_recipe.start_nginx(
            work / "recipe", port=ports["recipe"], data_dir=data_dir,
            upstream=f"127.0.0.1:{ports['vrculture']}", workers=args.nginx_workers,
            access_log=False, prefix=SERVER_CPU)
        published = (data_dir / "exhibitions" / "bench" / "current").resolve()
        (work / "bare").mkdir()
        servers["bare"] = start_nginx(nginx, published, work / "bare", ports["bare"],
                                      args.nginx_workers)
        print(f"recipe: deploy/nginx/vrculture.conf in front of one vrculture process; bare: "
              f"nginx alias on the same folder; nginx workers: {args.nginx_workers}; pinned: "
              f"{args.pin}; {args.rounds} alternating rounds of {args.seconds} s; medians")
        print(f"{'file':5} {'conns':>5} | {'recipe req/s':>12} | {'bare nginx':>10} | "
              f"{'vrculture alone':>15} | recipe/bare | cpu/req ratio | vrculture/bare")
        worst, worst_cpu = [], []
        for label, path in names.items():
            for connections in CONNECTIONS:
                rps: dict[str, list[float]] = {name: [] for name in ports}
                cpu_us: dict[str, list[float]] = {name: [] for name in ports}
                ratios, alone, cpu_ratios = [], [], []
                for _ in range(args.rounds):  # A/B/C in turn: background load hits all alike
                    for name, port in ports.items():
                        url = f"http://127.0.0.1:{port}/bundles/bench/{path}"
                        before = server_cpu_seconds(servers[name].pid)
                        rps[name].append(run_load(wrk, url, connections, args.seconds)[0])
                        spent = server_cpu_seconds(servers[name].pid) - before
                        cpu_us[name].append(spent / max(rps[name][-1] * args.seconds, 1) * 1e6)
                    ratios.append(rps["recipe"][-1] / max(rps["bare"][-1], 1e-9))
                    alone.append(rps["vrculture"][-1] / max(rps["bare"][-1], 1e-9))
                    # bare nginx's CPU per request over the recipe's: the requests/s ratio if
                    # each had a core to itself (a shared machine blurs plain requests/s)
                    cpu_ratios.append(cpu_us["bare"][-1] / max(cpu_us["recipe"][-1], 1e-9))
                ratio, cpu_ratio = statistics.median(ratios), statistics.median(cpu_ratios)
                worst.append(ratio)
                worst_cpu.append(cpu_ratio)
                medians = {name: statistics.median(values) for name, values in rps.items()}
                print(f"{label:5} {connections:>5} | {medians['recipe']:>12.0f} | "
                      f"{medians['bare']:>10.0f} | {medians['vrculture']:>15.0f} | "
                      f"{ratio:>10.2f}x | {cpu_ratio:>12.2f}x | "
                      f"{statistics.median(alone):>13.2f}x", flush=True)
        verdict = "ok" if min(worst) >= 0.9 else "BELOW TARGET"
        print(f"\nrecipe: {min(worst):.2f}-{max(worst):.2f}x bare nginx in requests/s "
              f"(target >= 0.9x): {verdict}; in CPU per request "
              f"{min(worst_cpu):.2f}-{max(worst_cpu):.2f}x")
    finally:
        for process in servers.values():
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        shutil.rmtree(work, ignore_errors=True)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=8, help="per measurement")
    parser.add_argument("--nginx-workers", default=None,
                        help="nginx worker_processes (default: as many as vrculture's)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pin", action="store_true",
                        help="servers on CPU 1, the load generator on CPU 0 (taskset)")
    parser.add_argument("--vrculture-workers", type=int, default=1,
                        help="`serve --workers N` (N > 1 starts a Redis for the rooms)")
    parser.add_argument("--recipe", action="store_true",
                        help="deploy/'s nginx site in front of vrculture vs bare nginx, on "
                        "small bundle files")
    parser.add_argument("--files", default=",".join(SIZES),
                        help=f"which files to measure (of {', '.join(SIZES)})")
    args = parser.parse_args()
    if args.nginx_workers is None:
        args.nginx_workers = str(args.vrculture_workers)
    wanted = [label.strip() for label in args.files.split(",") if label.strip()]
    if not wanted or any(label not in SIZES for label in wanted):
        parser.error(f"--files: choose from {', '.join(SIZES)}")
    if args.pin:
        SERVER_CPU[:] = ["taskset", "-c", "1"]
        CLIENT_CPU[:] = ["taskset", "-c", "0"]
    nginx = _ensure("nginx", "nginx-light")
    try:
        wrk: str | None = _ensure("wrk", "wrk")
    except (OSError, subprocess.CalledProcessError):
        wrk = None
        print("wrk unavailable: Python aiohttp clients in two processes generate the load",
              file=sys.stderr)
    if args.recipe:
        return run_recipe(args, nginx, wrk)
    work = Path(tempfile.mkdtemp(prefix="vrculture-bench-"))
    work.chmod(0o755)  # nginx's workers run as an unprivileged user and must read the files
    servers: list[subprocess.Popen] = []
    try:
        bundle, names = make_files(work)
        vport, nport = _free_port(), _free_port()
        redis_url = None
        if args.vrculture_workers > 1:  # several processes share rooms through Redis
            redis, redis_url = start_redis(work)
            servers.append(redis)
        servers.insert(0, start_vrculture(bundle, work, vport, args.vrculture_workers,
                                          redis_url))
        servers.append(start_nginx(nginx, bundle, work, nport, args.nginx_workers))
        print(f"vrculture processes: {args.vrculture_workers}; pinned: {args.pin}; "
              f"nginx workers: {args.nginx_workers}; {args.rounds} alternating rounds of "
              f"{args.seconds} s per cell; medians (the machine may be shared)")
        print(f"{'file':6} {'conns':>5} | {'vrculture req/s':>15} {'MB/s':>8} {'us/req':>7} | "
              f"{'nginx req/s':>11} {'MB/s':>8} {'us/req':>7} | ratio | cpu ratio")
        pids = {"vrculture": servers[0].pid, "nginx": servers[-1].pid}
        ratios: dict[str, list[float]] = {}
        for label, path in names.items():
            if label not in wanted:
                continue
            for connections in CONNECTIONS:
                runs: dict[str, list[tuple[float, float, float]]] = {"vrculture": [],
                                                                     "nginx": []}
                round_ratios = []
                for _ in range(args.rounds):  # A/B/A/B: both see the same background load
                    for server, port in (("vrculture", vport), ("nginx", nport)):
                        url = f"http://127.0.0.1:{port}/bundles/bench/{path}"
                        cpu_before = server_cpu_seconds(pids[server])
                        rps, mbps = run_load(wrk, url, connections, args.seconds)
                        cpu = server_cpu_seconds(pids[server]) - cpu_before
                        # server CPU microseconds per request
                        runs[server].append((rps, mbps, cpu / max(rps * args.seconds, 1) * 1e6))
                    # MB/s: wrk counts bytes of responses still in flight, while a 50 MB
                    # file at 64 connections may finish few requests in a short run.
                    round_ratios.append(runs["vrculture"][-1][1] / max(runs["nginx"][-1][1],
                                                                       1e-9))
                ratio = statistics.median(round_ratios)
                ratios.setdefault(label, []).append(ratio)
                v = [statistics.median(x) for x in zip(*runs["vrculture"], strict=True)]
                n = [statistics.median(x) for x in zip(*runs["nginx"], strict=True)]
                # nginx's CPU per request over vrculture's: the ratio if each had a core alone
                print(f"{label:6} {connections:>5} | {v[0]:>15.1f} {v[1]:>8.1f} {v[2]:>7.1f} | "
                      f"{n[0]:>11.1f} {n[1]:>8.1f} {n[2]:>7.1f} | {ratio:.2f}x | "
                      f"{n[2] / max(v[2], 1e-9):.2f}x", flush=True)
        print()
        targets = {"5mb": 0.9, "50mb": 0.9, "20kb": 0.5}
        for label, values in ratios.items():
            verdict = "ok" if min(values) >= targets[label] else "BELOW TARGET"
            print(f"{label}: {min(values):.2f}-{max(values):.2f}x nginx "
                  f"(target >= {targets[label]}x): {verdict}")
    finally:
        for process in servers:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
