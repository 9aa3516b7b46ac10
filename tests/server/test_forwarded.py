"""The client's address behind a reverse proxy: X-Forwarded-For / X-Real-IP / X-Forwarded-Proto
are believed only from a configured trusted proxy (per-address limits key on the address)."""

from __future__ import annotations

import dataclasses
import logging

import pytest
from fixed_clock import FakeClock
from multidict import CIMultiDict, CIMultiDictProxy

from vrculture.server.app import create_app
from vrculture.server.forwarded import client_address, parse_networks
from vrculture.server.settings import ConfigError, load_config

SPOOFED = "198.51.100.7"
VISITOR = "203.0.113.9"


def headers(**values: str) -> CIMultiDictProxy[str]:
    return CIMultiDictProxy(CIMultiDict({k.replace("_", "-"): v for k, v in values.items()}))


async def address_logged(aiohttp_client, config, caplog, **sent: str) -> str:
    """The address the server names when it refuses a bad curator token (the test client
    connects from 127.0.0.1)."""
    client = await aiohttp_client(create_app(config, clock=FakeClock()))
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="vrculture.server.admin"):
        response = await client.post("/api/admin/feeds", json={"id": "x"}, headers={
            "Authorization": "Bearer not-the-token",
            **{k.replace("_", "-"): v for k, v in sent.items()}})
    assert response.status == 401
    [line] = [r.getMessage() for r in caplog.records if "invalid curator token" in r.getMessage()]
    return line.split(" from ")[1].split(":")[0]


async def test_forwarded_headers_are_ignored_without_a_trusted_proxy(aiohttp_client, config,
                                                                     caplog):
    assert await address_logged(aiohttp_client, config, caplog,
                                X_Forwarded_For=VISITOR) == "127.0.0.1"
    assert await address_logged(aiohttp_client, config, caplog, X_Real_IP=VISITOR) == "127.0.0.1"


async def test_a_trusted_proxy_gives_the_client_address(aiohttp_client, config, caplog):
    trusting = dataclasses.replace(config, trusted_proxies=["127.0.0.1"])
    assert await address_logged(aiohttp_client, trusting, caplog,
                                X_Forwarded_For=VISITOR) == VISITOR
    # nginx appends the address it saw; what the client wrote further left is not believed
    assert await address_logged(aiohttp_client, trusting, caplog,
                                X_Forwarded_For=f"{SPOOFED}, {VISITOR}") == VISITOR
    assert await address_logged(aiohttp_client, trusting, caplog, X_Real_IP=VISITOR) == VISITOR
    assert await address_logged(aiohttp_client, trusting, caplog,
                                X_Forwarded_For="not-an-address") == "127.0.0.1"


async def test_a_proxy_outside_the_trusted_networks_is_not_believed(aiohttp_client, config,
                                                                    caplog):
    elsewhere = dataclasses.replace(config, trusted_proxies=["10.0.0.0/8"])
    assert await address_logged(aiohttp_client, elsewhere, caplog,
                                X_Forwarded_For=VISITOR) == "127.0.0.1"


def test_client_address_walks_past_trusted_hops_only():
    networks = parse_networks(["127.0.0.1", "10.0.0.0/8"])
    chain = headers(X_Forwarded_For=f"{SPOOFED}, {VISITOR}, 10.1.2.3")
    assert client_address("127.0.0.1", chain, networks) == VISITOR
    assert client_address("::ffff:127.0.0.1", chain, networks) == VISITOR  # dual-stack listener
    assert client_address("192.0.2.1", chain, networks) == "192.0.2.1"
    assert client_address(None, chain, networks) is None
    # every hop a trusted proxy: the leftmost is as far as anyone vouches
    assert client_address("127.0.0.1", headers(X_Forwarded_For="10.0.0.5, 10.0.0.6"),
                          networks) == "10.0.0.5"


async def test_forwarded_proto_makes_the_https_origin_our_own(aiohttp_client, config):
    """Behind a TLS-terminating proxy the browser's Origin is https://...: the rooms accept it
    when the trusted proxy says the request came over https, and only then."""

    async def status(cfg) -> int:
        client = await aiohttp_client(create_app(cfg, clock=FakeClock()))
        host = f"{client.host}:{client.port}"
        response = await client.get("/ws/rooms/demo", headers={
            "Origin": f"https://{host}", "X-Forwarded-Proto": "https", "Connection": "Upgrade",
            "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
            "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="})
        return response.status

    assert await status(config) == 403
    assert await status(dataclasses.replace(config, trusted_proxies=["127.0.0.1"])) == 101


def test_trusted_proxies_setting(tmp_path):
    toml = tmp_path / "vrculture.toml"
    toml.write_text('trusted_proxies = ["127.0.0.1", "10.0.0.0/8"]\n')
    assert load_config(toml, environ={}).trusted_proxies == ["127.0.0.1/32", "10.0.0.0/8"]
    from_env = load_config(environ={"VRCULTURE_TRUSTED_PROXIES": "::1, 192.168.1.0/24"})
    assert from_env.trusted_proxies == ["::1/128", "192.168.1.0/24"]
    flags = load_config(environ={}, overrides={"trusted_proxies": ["127.0.0.1"]})
    assert flags.trusted_proxies == ["127.0.0.1/32"]
    with pytest.raises(ConfigError, match="trusted_proxies.*'proxy.example'"):
        load_config(environ={"VRCULTURE_TRUSTED_PROXIES": "proxy.example"})


def test_serve_refuses_a_bad_trusted_proxy(tmp_path, capsys):
    from vrculture.cli import main

    assert main(["serve", "--data", str(tmp_path), "--trusted-proxy", "proxy.example"]) == 2
    assert "trusted_proxies" in capsys.readouterr().err
