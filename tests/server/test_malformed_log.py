"""A malformed request is logged in one line that names what was wrong, never the bytes of
the offending line: a sensor's HTTP client that ends a header line with a bare LF, or a stray
control byte in a cookie, would otherwise put its bearer token or session cookie into the
server's log (aiohttp's parser error quotes the whole line)."""

from __future__ import annotations

import socket

from .serve_process import announced_server

SECRETS = ("vrf_feedtokenSECRET1", "vrc_curatorSECRET2", "sessionSECRET3", "vrc_querySECRET4",
           "longSECRET5", "longSECRET6", "longSECRET7")
MALFORMED = (
    b"POST /api/feeds/x/readings HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    b"Authorization: Bearer vrf_feedtokenSECRET1\nX-A: b\r\n\r\n",  # a bare LF
    b"POST /api/admin/feeds HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    b"Authorization: Bearer vrc_curatorSECRET2 \x01\r\n\r\n",  # a control byte
    b"GET /studio/ HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: vrc_session=sessionSECRET3\x7f\r\n\r\n",
    b"GET /?token=vrc_querySECRET4\x01 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    # Lines over aiohttp's 8190 bytes: its message quoted their start, the secret included
    # (a browser sends every cookie of the museum's domain; a big one pushes ours over).
    b"GET /studio/ HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: vrculture_studio=longSECRET5; a="
    + b"x" * 9000 + b"\r\n\r\n",
    b"POST /api/feeds/x/readings HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    b"Authorization: Bearer vrf_longSECRET6" + b" " * 9000 + b"\r\n\r\n",
    b"GET /?token=vrc_longSECRET7" + b"x" * 9000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
)


def _send(port: int, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        connection.sendall(request)
        reply = b""
        while chunk := connection.recv(4096):
            reply += chunk
        return reply


def test_malformed_requests_are_logged_without_their_secrets(tmp_path, bundle):
    with announced_server(bundle, tmp_path / "d") as (process, url):
        port = int(url.rsplit(":", 1)[1])
        for request in MALFORMED:
            assert _send(port, request).startswith(b"HTTP/1.0 400")
        process.terminate()
        _, log = process.communicate(timeout=30)
    assert log.count("malformed request refused") == len(MALFORMED), log
    for secret in SECRETS:
        assert secret not in log, log
    assert "header Authorization" in log  # still says where the problem was
