"""Only configured host names are answered: DNS rebinding and a reflected Host header."""

from __future__ import annotations

import asyncio

import pytest

from vrculture.server.app import create_app
from vrculture.server.config import ServerConfig
from vrculture.server.security import allowed_hosts, host_of
from vrculture.server.settings import ConfigError, load_config


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8080", "127.0.0.1.evil.example",
                                  "localhost.evil.example", "[::2]:80", "", "a:b"])
async def test_pages_api_and_rooms_refuse_an_unknown_host(client, host):
    for path in ("/", "/exhibitions/demo", "/api/exhibitions", "/oembed", "/ws/rooms/demo"):
        response = await client.get(path, headers={"Host": host})
        assert response.status == 421, (path, host)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost:8080", "LOCALHOST", "[::1]:8080",
                                  "localhost."])
async def test_local_names_are_answered(client, host):
    assert (await client.get("/api/exhibitions", headers={"Host": host})).status == 200


async def test_oembed_provider_url_is_a_configured_host(aiohttp_client, config: ServerConfig,
                                                         clock):
    config.allowed_hosts = ["museum.local"]
    client = await aiohttp_client(create_app(config, watch_interval=3600, clock=clock))
    ok = await client.get("/oembed", params={"url": "http://museum.local/exhibitions/demo"},
                          headers={"Host": "museum.local"})
    assert ok.status == 200 and (await ok.json())["provider_url"] == "http://museum.local/"
    evil = await client.get("/oembed", params={"url": "http://evil.example/exhibitions/demo"},
                            headers={"Host": "evil.example"})
    assert evil.status == 421
    local = await client.get("/api/exhibitions", headers={"Host": "localhost"})
    assert local.status == 421  # a configured list replaces the defaults


def test_the_default_names():
    hosts = allowed_hosts(ServerConfig(host="127.0.0.1", public_url="https://Museum.Example/vr"))
    assert hosts == {"localhost", "127.0.0.1", "::1", "museum.example"}
    assert "gallery-pc" in allowed_hosts(ServerConfig(host="gallery-pc"))
    lan = allowed_hosts(ServerConfig(host="0.0.0.0"))  # the gallery's network: its addresses
    assert {"localhost", "127.0.0.1"} <= lan
    assert allowed_hosts(ServerConfig(allowed_hosts=["*"])) == {"*"}


def test_host_header_parsing():
    assert host_of("Example.org:8080") == "example.org"
    assert host_of("[::1]:443") == "::1" and host_of("[::1]") == "::1"
    assert host_of("[::1]x") is None and host_of("[nope]") is None
    assert host_of("example.org:http") is None
    # No closing bracket: not a host name (urlsplit of a link built from it raises ValueError)
    assert host_of("[::1") is None and host_of("[::1:443") is None


def test_allowed_hosts_setting():
    config = load_config(environ={"VRCULTURE_ALLOWED_HOSTS": "museum.local, 192.168.1.20"})
    assert config.allowed_hosts == ["museum.local", "192.168.1.20"]
    with pytest.raises(ConfigError):
        load_config(environ={"VRCULTURE_ALLOWED_HOSTS": "museum.local:8080"})


async def test_an_unclosed_ipv6_host_is_refused_not_a_500(client):
    """`Host: [::1` passed the check as ::1, then oEmbed's urlsplit of the server's own URL
    raised ValueError: a 500 and a traceback in the log."""
    for path in ("/oembed?url=http://127.0.0.1/exhibitions/demo", "/api/exhibitions"):
        reply = await _raw_get(client, path, "[::1")
        assert reply.startswith(b"HTTP/1.1 421"), reply[:300]


async def _raw_get(client, target: str, host: str) -> bytes:
    """One request written by hand: aiohttp's client cannot send an absolute-form target."""
    reader, writer = await asyncio.open_connection(client.host, client.port)
    writer.write(f"GET {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
    await writer.drain()
    reply = await reader.read()
    writer.close()
    return reply


@pytest.mark.parametrize("path", ["/", "/oembed?url=http://evil.example/exhibitions/demo",
                                  "/exhibitions/demo/labels", "/api/exhibitions"])
async def test_an_absolute_target_names_a_known_host_too(client, path):
    """`GET http://evil.example/... HTTP/1.1` with an allowed Host header: aiohttp takes the
    request's host from the target, so that name must pass the check as well (it was echoed in
    oEmbed's iframe and the labels' QR codes)."""
    reply = await _raw_get(client, f"http://evil.example{path}", f"127.0.0.1:{client.port}")
    assert reply.startswith(b"HTTP/1.1 421"), reply[:300]
    assert b"evil.example" not in reply
    own = f"127.0.0.1:{client.port}"
    ours = await _raw_get(client, f"http://{own}{path.replace('evil.example', own)}", own)
    assert not ours.startswith(b"HTTP/1.1 421"), ours[:300]
