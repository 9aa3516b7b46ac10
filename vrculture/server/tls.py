"""HTTPS for WebXR: a headset on the gallery's network reaches the server by its LAN address,
and browsers only offer immersive VR in a secure context.

Either the museum's own certificate (`--tls-cert/--tls-key`), or `--self-signed`: a certificate
made here for every address of this machine (kept in DATA/tls/ and reused while it still covers
the same addresses), which each headset accepts once. It is made with `cryptography` (a
declared dependency) and nothing else, so the one path that ships is the one the tests run.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import os
import socket
import ssl
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

VALID_DAYS = 825  # the longest validity Apple/Chrome accept for a leaf certificate


class TLSError(Exception):
    pass


def lan_addresses() -> list[str]:
    """This machine's IPv4/IPv6 addresses a headset might use, loopback included."""
    found = {"127.0.0.1", "::1"}
    try:
        for info in socket.getaddrinfo(socket.gethostname(), None):
            found.add(str(info[4][0]).split("%")[0])
    except OSError:
        pass
    # The address of the default route, without sending anything (UDP connect only).
    for family, probe in ((socket.AF_INET, "10.255.255.255"), (socket.AF_INET6, "2001:db8::1")):
        try:
            with socket.socket(family, socket.SOCK_DGRAM) as sock:
                sock.connect((probe, 9))
                found.add(sock.getsockname()[0])
        except OSError:
            pass
    valid = []
    for address in found:
        try:
            valid.append(str(ipaddress.ip_address(address)))
        except ValueError:
            continue
    return sorted(valid)


def context_from_files(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as error:
        raise TLSError(f"{cert} / {key}: cannot load the certificate and key ({error})") from error
    return context


def self_signed(tls_dir: Path, hostnames: list[str] | None = None, *,
                clock: Callable[[], float] = time.time) -> tuple[Path, Path]:
    """A certificate for this machine's addresses, created when missing or out of date; valid
    from `clock()` (less 5 minutes of clock skew) for VALID_DAYS."""
    addresses = lan_addresses()
    names: list[str] = []
    for name in sorted({"localhost", socket.gethostname(), *(hostnames or [])}):
        try:
            addresses.append(str(ipaddress.ip_address(name)))  # an address given as a name
        except ValueError:
            names.append(name)
    addresses = sorted(set(addresses))
    wanted = {"addresses": addresses, "names": names}
    cert, key, covers = tls_dir / "self-signed.crt", tls_dir / "self-signed.key", \
        tls_dir / "self-signed.json"
    try:
        if cert.is_file() and key.is_file() and json.loads(covers.read_text()) == wanted:
            return cert, key
    except (OSError, ValueError):
        pass
    tls_dir.mkdir(parents=True, exist_ok=True)
    _generate(cert, key, addresses, names,
              datetime.datetime.fromtimestamp(clock(), datetime.UTC))
    _write_atomic(covers, json.dumps(wanted).encode())
    return cert, key


def _generate(cert: Path, key: Path, addresses: list[str], names: list[str],
              now: datetime.datetime) -> None:
    """An EC P-256 leaf certificate for `names` and `addresses`, signed by its own key."""
    private = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "vrculture gallery server"),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, "vrculture")])
    alt: list[x509.GeneralName] = [x509.DNSName(n) for n in names]
    alt += [x509.IPAddress(ipaddress.ip_address(a)) for a in addresses]
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject).issuer_name(subject)
        .public_key(private.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
        .add_extension(x509.SubjectAlternativeName(alt), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(private, hashes.SHA256())
    )
    _write_atomic(key, private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()), mode=0o600)
    _write_atomic(cert, certificate.public_bytes(serialization.Encoding.PEM))


def _write_atomic(path: Path, data: bytes, mode: int = 0o644) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
