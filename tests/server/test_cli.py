"""The server-side commands: feeds, guides, publish, serve's refusals, and TLS."""

from __future__ import annotations

import datetime
import ipaddress
import socket
import ssl
import time
import urllib.request
from importlib import metadata

import aiohttp
import pytest
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from cryptography.x509.oid import ExtendedKeyUsageOID
from fixed_clock import FIXED_NOW, FakeClock

from vrculture.cli import build_parser, main
from vrculture.cli import feeds as feeds_command
from vrculture.server.app import create_app
from vrculture.server.config import ServerConfig
from vrculture.server.storage import Store
from vrculture.server.tls import (
    VALID_DAYS,
    TLSError,
    context_from_files,
    lan_addresses,
    self_signed,
)

from .bundle_factory import make_bundle
from .serve_process import announced_server, logging_restored


@pytest.fixture(autouse=True)
def _logging_restored():
    with logging_restored():
        yield


def test_feeds_add_rotate_list_remove(tmp_path, capsys):
    data = str(tmp_path / "data")
    assert main(["feeds", "add", "lamps", "--kind", "street-lighting", "--data", data]) == 0
    token = capsys.readouterr().out.strip()
    assert token.startswith("vrf_") and len(token) > 40
    store = Store.open(tmp_path / "data", clock=FakeClock())
    assert store.check_feed_token("lamps", token) is not None
    store.close()
    assert main(["feeds", "--data", data, "add", "lamps"]) == 1  # exists
    assert "already exists" in capsys.readouterr().err
    assert main(["feeds", "rotate", "lamps", "--data", data]) == 0
    rotated = capsys.readouterr().out.strip()
    assert rotated != token
    assert main(["feeds", "list", "--data", data]) == 0
    listing = capsys.readouterr().out
    assert "lamps\tstreet-lighting" in listing and token not in listing
    store = Store.open(tmp_path / "data", clock=FakeClock())
    store.insert_readings("lamps", [(FIXED_NOW - 40 * 86400, {"t": "old"}),
                                    (FIXED_NOW - 29 * 86400, {"t": "new"})])
    store.close()
    # 30 days back from the command's clock (injected: what the wall clock says plays no part)
    prune = build_parser("feeds").parse_args(["feeds", "prune", "--older-than", "30",
                                              "--data", data])
    assert feeds_command.run(prune, clock=FakeClock()) == 0
    assert "1 readings deleted" in capsys.readouterr().err
    assert main(["feeds", "prune", "--older-than", "0", "--data", data]) == 2
    assert main(["feeds", "remove", "lamps", "--data", data]) == 0
    assert main(["feeds", "rotate", "lamps", "--data", data]) == 1


@pytest.mark.parametrize("argv", [
    ["feeds", "add", "Bad Id"],
    ["feeds", "add", "x", "--kind", "smart-bin", "--unit", "C"],
    ["feeds", "add", "x", "--kind", "gauge", "--min", "5", "--max", "1"],
    ["guides", "add", "../etc"],
])
def test_usage_errors_exit_2(tmp_path, argv, capsys):
    assert main([*argv, "--data", str(tmp_path)]) == 2
    assert capsys.readouterr().err.startswith("vrculture")


def test_guides_add_list_revoke(tmp_path, capsys):
    data = str(tmp_path / "data")
    assert main(["publish", str(make_bundle(tmp_path / "demo", "demo")), "--data", data]) == 0
    capsys.readouterr()
    assert main(["guides", "add", "demo", "--label", "anna", "--data", data]) == 0
    code = capsys.readouterr().out.strip()
    assert len(code) == 19 and code.count("-") == 3
    assert main(["guides", "list", "--data", data]) == 0
    listing = capsys.readouterr().out
    assert "demo\tanna" in listing and code not in listing
    assert main(["guides", "revoke", "demo", "--data", data]) == 0
    assert Store.open(tmp_path / "data", clock=FakeClock()).guide_codes() == []


def test_publish_and_rollback_commands(tmp_path, capsys):
    data = str(tmp_path / "data")
    assert main(["publish", str(make_bundle(tmp_path / "a", "gallery")), "--data", data]) == 0
    assert main(["publish", str(make_bundle(tmp_path / "b", "gallery", title_sv="B")),
                 "--data", data]) == 0
    assert "previous" in capsys.readouterr().out
    assert main(["publish", "--rollback", "gallery", "--data", data]) == 0
    assert main(["publish", str(tmp_path / "missing"), "--data", data]) == 1
    assert main(["publish", "--data", data]) == 2
    capsys.readouterr()


def test_publishing_the_current_version_again_says_nothing_changed(tmp_path, capsys):
    """It once printed 'previous <the current version> kept for --rollback', while rollback
    still returns to the version before."""
    data = str(tmp_path / "data")
    assert main(["publish", str(make_bundle(tmp_path / "a", "gallery")), "--data", data]) == 0
    bundle = str(make_bundle(tmp_path / "b", "gallery", title_sv="B"))
    assert main(["publish", bundle, "--data", data]) == 0
    capsys.readouterr()
    assert main(["publish", bundle, "--data", data]) == 0
    out = capsys.readouterr().out
    assert "already current" in out and "previous" not in out, out


def test_publish_history_names_who_and_rollback_goes_to_any_kept_version(tmp_path, capsys):
    data = str(tmp_path / "data")
    for name in ("a", "b", "c"):
        bundle = make_bundle(tmp_path / name, "gallery", title_sv=name)
        by = f"Kurator {name.upper()}"
        assert main(["publish", str(bundle), "--data", data, "--by", by]) == 0
    capsys.readouterr()
    assert main(["publish", "--history", "gallery", "--data", data]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3 and lines[0].startswith("* ") and "by Kurator C" in lines[0]
    oldest = lines[2].split()[0]
    assert "by Kurator A" in lines[2] and " UTC " in lines[2]
    assert main(["publish", "--rollback", "gallery", "--to", oldest, "--data", data,
                 "--by", "Kurator D"]) == 0
    assert f"rolled back to version {oldest}" in capsys.readouterr().out
    assert main(["publish", "--history", "gallery", "--data", data]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert first.startswith(f"* {oldest}") and "rollback" in first and "by Kurator D" in first
    assert main(["publish", "--rollback", "gallery", "--to", "nonsense", "--data", data]) == 1
    assert "not a version" in capsys.readouterr().err
    assert main(["publish", "--to", oldest, "--data", data]) == 2  # --to needs --rollback
    assert main(["publish", "--history", "gallery", "--rollback", "gallery",
                 "--data", data]) == 2


def test_serve_refuses_a_folder_without_a_bundle(tmp_path, capsys):
    assert main(["serve", str(tmp_path), "--data", str(tmp_path / "d")]) == 2
    assert "no exhibition.json" in capsys.readouterr().err
    bad = tmp_path / "bad.toml"
    bad.write_text("port = 'x'")
    assert main(["serve", "--config", str(bad)]) == 2


async def test_self_signed_certificate_serves_https_for_local_addresses(tmp_path, bundle,
                                                                       web_dir, clock):
    # The one certificate on the wall clock: the TLS handshake below checks its validity
    # against the machine's clock, which no test can inject into OpenSSL.
    cert, key = self_signed(tmp_path / "tls", clock=time.time)
    # reused while it covers the addresses
    assert self_signed(tmp_path / "tls", clock=time.time) == (cert, key)
    assert "127.0.0.1" in lan_addresses()
    runner = web.AppRunner(create_app(ServerConfig(bundles=[bundle], data_dir=tmp_path / "d",
                                                   web_dir=web_dir), clock=clock))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context_from_files(cert, key))
    await site.start()
    port = runner.addresses[0][1]
    trust = ssl.create_default_context(cafile=str(cert))  # checks the IP in subjectAltName
    try:
        async with aiohttp.ClientSession() as session:
            async with session.get(f"https://127.0.0.1:{port}/healthz", ssl=trust) as response:
                assert response.status == 200
            # A large file: no kernel sendfile through TLS, asyncio's fallback copies it.
            high = next((bundle / "objects" / "angel").glob("angel.high.*.glb"))
            url = f"https://127.0.0.1:{port}/bundles/demo/objects/angel/{high.name}"
            async with session.get(url, ssl=trust) as response:
                assert await response.read() == high.read_bytes()
            async with session.get(url, ssl=trust, headers={"Range": "bytes=0-9,-10"}) as ranged:
                assert ranged.status == 206
                assert high.read_bytes()[-10:] in await ranged.read()
    finally:
        await runner.cleanup()


def test_self_signed_certificate_names_this_machine_for_server_use_only(tmp_path):
    cert_path, key_path = self_signed(tmp_path / "tls", ["gallery.example", "192.0.2.7"],
                                      clock=FakeClock())
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    alt = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert {"localhost", "gallery.example"} <= set(alt.get_values_for_type(x509.DNSName))
    ips = set(alt.get_values_for_type(x509.IPAddress))
    assert {ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("192.0.2.7")} <= ips
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    usage = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usage) == [ExtendedKeyUsageOID.SERVER_AUTH]
    made = datetime.datetime.fromtimestamp(FIXED_NOW, datetime.UTC)  # the injected clock
    assert cert.not_valid_before_utc == made - datetime.timedelta(minutes=5)  # clock skew
    assert cert.not_valid_after_utc == made + datetime.timedelta(days=VALID_DAYS)
    key = load_pem_private_key(key_path.read_bytes(), password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == "secp256r1"
    assert key_path.stat().st_mode & 0o777 == 0o600  # the private key is the owner's alone
    # Asked for another name, it makes a new certificate instead of reusing the old one.
    again, _ = self_signed(tmp_path / "tls", ["other.example"], clock=FakeClock())
    names = x509.load_pem_x509_certificate(again.read_bytes()).extensions.get_extension_for_class(
        x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName)
    assert "other.example" in names and "gallery.example" not in names


def test_a_certificate_without_its_key_is_a_clear_error(tmp_path):
    cert, _ = self_signed(tmp_path / "tls", clock=FakeClock())
    with pytest.raises(TLSError, match="cannot load"):
        context_from_files(cert, cert)


def test_serve_on_a_taken_port_says_so_and_never_announces(tmp_path, bundle, capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code = main(["serve", str(bundle), "--port", str(port), "--data", str(tmp_path / "d")])
    assert code == 1
    err = capsys.readouterr().err
    assert f"cannot listen on 127.0.0.1:{port}" in err
    assert "exhibition(s) on" not in err


def test_serve_announces_the_address_it_listens_on(tmp_path, bundle):
    """--port 0: the announced port is the one the kernel gave, and it answers at once."""
    with announced_server(bundle, tmp_path / "d") as (process, url):
        assert not url.endswith(":0"), url
        with urllib.request.urlopen(f"{url}/healthz", timeout=30) as response:
            assert response.status == 200
    process.wait(timeout=30)


def test_version_is_the_installed_packages(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out == f"vrculture {metadata.version('vrculture')}\n"


def test_guides_are_not_issued_for_an_unknown_exhibition(tmp_path, capsys):
    data = str(tmp_path / "data")
    assert main(["guides", "add", "nowhere", "--data", data]) == 1
    assert "no exhibition 'nowhere'" in capsys.readouterr().err
    assert Store.open(tmp_path / "data", clock=FakeClock()).guide_codes() == []
    # a bundle folder served from the command line is known through --bundle
    folder = make_bundle(tmp_path / "folder", "gallery")
    assert main(["guides", "add", "gallery", "--bundle", str(folder), "--data", data]) == 0
    assert main(["guides", "add", "gallery", "--data", data]) == 1
