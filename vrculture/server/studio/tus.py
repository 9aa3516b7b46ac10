"""The tus 1.0.0 resumable upload protocol's headers: parsed strictly, answered uniformly.

https://tus.io/protocols/resumable-upload (core, creation and termination extensions). Only
the parsing and the protocol's fixed headers live here; routes are in `uploads`.
"""

from __future__ import annotations

import base64
import binascii
import re

from aiohttp import web

from vrculture.server.jsonreply import JSONError

VERSION = "1.0.0"
EXTENSIONS = "creation,termination"
OFFSET_CONTENT_TYPE = "application/offset+octet-stream"
MAX_METADATA_CHARS = 8192  # a file name, a relative path and a few small fields
MAX_METADATA_PAIRS = 16
_NUMBER = re.compile(r"[0-9]{1,19}")
_KEY = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_BASE64 = re.compile(r"[A-Za-z0-9+/]*={0,2}")


def protocol_headers() -> dict[str, str]:
    """The headers every tus reply carries."""
    return {"Tus-Resumable": VERSION, "Cache-Control": "no-store"}


def error(status: int, code: str, message: str,
          headers: dict[str, str] | None = None) -> JSONError:
    return JSONError(status, code, message, headers={**protocol_headers(), **(headers or {})})


def check_version(request: web.Request) -> None:
    """Every request but OPTIONS must say which protocol version it speaks (412 if not ours)."""
    if request.headers.get("Tus-Resumable") != VERSION:
        raise error(412, "tus_version", f"send 'Tus-Resumable: {VERSION}': the only protocol "
                    "version this server speaks", {"Tus-Version": VERSION})


def number_header(request: web.Request, name: str) -> int:
    """A required non-negative integer header (400 if missing or malformed)."""
    raw = request.headers.get(name)
    if raw is None or not _NUMBER.fullmatch(raw.strip()):
        raise error(400, "bad_header", f"{name} must be a non-negative whole number")
    return int(raw.strip())


def parse_metadata(raw: str | None) -> dict[str, str]:
    """`Upload-Metadata`: comma-separated `key base64value` pairs (values decode as UTF-8)."""
    if raw is None or not raw.strip():
        return {}
    if len(raw) > MAX_METADATA_CHARS:
        raise error(400, "bad_metadata", f"Upload-Metadata is limited to {MAX_METADATA_CHARS} "
                    "characters")
    pairs = raw.split(",")
    if len(pairs) > MAX_METADATA_PAIRS:
        raise error(400, "bad_metadata", f"Upload-Metadata has more than {MAX_METADATA_PAIRS} "
                    "keys")
    metadata: dict[str, str] = {}
    for pair in pairs:
        words = pair.strip().split(" ")
        if len(words) > 2 or not _KEY.fullmatch(words[0]) or words[0] in metadata:
            raise error(400, "bad_metadata", "Upload-Metadata must be 'key base64value' pairs "
                        "with distinct keys, separated by commas")
        value = words[1] if len(words) == 2 else ""
        if not _BASE64.fullmatch(value):
            raise error(400, "bad_metadata", f"Upload-Metadata {words[0]!r}: not base64")
        try:
            metadata[words[0]] = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise error(400, "bad_metadata", f"Upload-Metadata {words[0]!r}: not base64 of "
                        "UTF-8 text") from None
    return metadata


def encode_metadata(metadata: dict[str, str]) -> str:
    return ",".join(f"{key} {base64.b64encode(value.encode()).decode()}"
                    for key, value in metadata.items())
