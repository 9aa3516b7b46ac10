"""Binary pose encoding of the rooms protocol (docs/rooms-protocol.md, "Binary frames").

One body part (head, left hand, right hand) is 10 bytes: its position as three little-endian
int16 in steps of 2 mm, then its rotation as a "smallest three" quaternion packed in a u32.
This module is the reference implementation (the viewer has its own in JavaScript); the server's
hot path works on the raw bytes with numpy and only needs `parse_pose_frame`.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence

POSE_FRAME = 0x01  # client -> server: this visitor's own parts
STATE_FRAME = 0x02  # server -> client: the batched update of one tick
PARTS = ("head", "left", "right")
PART_BYTES = 10
VISITOR_HEADER_BYTES = 2  # u16: visitor id in bits 0..12, part mask in bits 13..15
STATE_HEADER_BYTES = 8  # u8 type, u8 flags, u32 tick, u16 count
MAX_VISITOR_ID = 0x1FFF
POS_UNITS_PER_METRE = 500  # 2 mm steps: int16 covers +-65.534 m
POS_LIMIT = 32767
HIDDEN = -32768  # x == HIDDEN in a state frame: the part is no longer tracked (hide it)
_ROT_SCALE = 511 * math.sqrt(2.0)  # maps [-1/sqrt2, 1/sqrt2] onto [-511, 511]

_PART = struct.Struct("<hhhI")
_STATE_HEADER = struct.Struct("<BBIH")

Vec3 = Sequence[float]
Quat = Sequence[float]  # x, y, z, w (three.js / WebXR order)
Part = tuple[Vec3, Quat]


class FrameError(ValueError):
    """A binary frame that does not follow the protocol."""


def quantise_position(position: Vec3) -> tuple[int, int, int]:
    x, y, z = (max(-POS_LIMIT, min(POS_LIMIT, round(v * POS_UNITS_PER_METRE))) for v in position)
    return x, y, z


def pack_rotation(quaternion: Quat) -> int:
    q = [float(v) for v in quaternion]
    norm = math.sqrt(sum(v * v for v in q)) or 1.0
    q = [v / norm for v in q]
    largest = max(range(4), key=lambda i: abs(q[i]))
    if q[largest] < 0:  # q and -q are the same rotation: make the dropped component positive
        q = [-v for v in q]
    word = largest << 30
    shift = 20
    for i in range(4):
        if i == largest:
            continue
        u = max(0, min(1022, round(q[i] * _ROT_SCALE) + 511))
        word |= u << shift
        shift -= 10
    return word


def unpack_rotation(word: int) -> tuple[float, float, float, float]:
    largest = word >> 30
    small = [(((word >> shift) & 0x3FF) - 511) / _ROT_SCALE for shift in (20, 10, 0)]
    small = [max(-1.0, min(1.0, v)) for v in small]
    rest = math.sqrt(max(0.0, 1.0 - sum(v * v for v in small)))
    q: list[float] = []
    for i in range(4):
        q.append(rest if i == largest else small.pop(0))
    return q[0], q[1], q[2], q[3]


def encode_part(position: Vec3, rotation: Quat) -> bytes:
    return _PART.pack(*quantise_position(position), pack_rotation(rotation))


def decode_part(data: bytes) -> Part | None:
    x, y, z, word = _PART.unpack(data)
    if x == HIDDEN:
        return None
    scale = 1.0 / POS_UNITS_PER_METRE
    return (x * scale, y * scale, z * scale), unpack_rotation(word)


def encode_pose_frame(
    head: Part | None, left: Part | None = None, right: Part | None = None
) -> bytes:
    """A client's pose frame; a part that is None is not tracked (other visitors hide it)."""
    mask = 0
    body = b""
    for bit, part in enumerate((head, left, right)):
        if part is not None:
            mask |= 1 << bit
            body += encode_part(*part)
    return bytes((POSE_FRAME, mask)) + body


def parse_pose_frame(data: bytes) -> tuple[int, bytes]:
    """Validate a client's pose frame; returns (mask, the parts' bytes in head/left/right order)."""
    if len(data) < 2 or data[0] != POSE_FRAME:
        raise FrameError("binary frame is not a pose frame (first byte must be 0x01)")
    mask = data[1]
    if mask & ~0b111:
        raise FrameError("pose frame mask has bits other than head/left/right")
    expected = 2 + PART_BYTES * mask.bit_count()
    if len(data) != expected:
        raise FrameError(
            f"pose frame with mask {mask:#05b} must be {expected} bytes, got {len(data)}"
        )
    return mask, bytes(data[2:])


def decode_state_frame(data: bytes) -> tuple[int, dict[int, dict[str, Part | None]]]:
    """Decode a server state frame into (tick, {visitor id: {part name: part or None}})."""
    if len(data) < STATE_HEADER_BYTES or data[0] != STATE_FRAME:
        raise FrameError("not a state frame")
    _, _flags, tick, count = _STATE_HEADER.unpack_from(data, 0)
    offset = STATE_HEADER_BYTES
    visitors: dict[int, dict[str, Part | None]] = {}
    for _ in range(count):
        (word,) = struct.unpack_from("<H", data, offset)
        offset += VISITOR_HEADER_BYTES
        parts: dict[str, Part | None] = {}
        for bit, name in enumerate(PARTS):
            if word >> 13 & (1 << bit):
                if offset + PART_BYTES > len(data):
                    raise FrameError("state frame truncated")
                parts[name] = decode_part(data[offset : offset + PART_BYTES])
                offset += PART_BYTES
        visitors[word & MAX_VISITOR_ID] = parts
    if offset != len(data):
        raise FrameError("state frame has trailing bytes")
    return tick, visitors


def encode_state_frame(tick: int, visitors: dict[int, dict[str, bytes | None]]) -> bytes:
    """Reference encoder (tests, tools): {visitor id: {part name: 10 part bytes or None=hidden}}."""
    out = bytearray(_STATE_HEADER.pack(STATE_FRAME, 0, tick & 0xFFFFFFFF, len(visitors)))
    hidden = _PART.pack(HIDDEN, 0, 0, 0)
    for visitor_id, parts in visitors.items():
        mask = sum(1 << bit for bit, name in enumerate(PARTS) if name in parts)
        out += struct.pack("<H", visitor_id | mask << 13)
        for name in PARTS:
            if name in parts:
                part = parts[name]
                out += part if part is not None else hidden
    return bytes(out)
