"""The binary pose encoding (docs/rooms-protocol.md) and the tick's frame builder."""

from __future__ import annotations

import math
import random
import re
from pathlib import Path

import numpy as np
import pytest

from vrculture.server.rooms.codec import (
    FrameError,
    decode_part,
    decode_state_frame,
    encode_part,
    encode_pose_frame,
    encode_state_frame,
    pack_rotation,
    parse_pose_frame,
    unpack_rotation,
)
from vrculture.server.rooms.poses import PoseTable, full_row

DOC = Path(__file__).resolve().parents[2] / "docs" / "rooms-protocol.md"
YAW45 = (0.0, math.sin(math.pi / 8), 0.0, math.cos(math.pi / 8))


def _hex(text: str) -> bytes:
    return bytes.fromhex(re.sub(r"[^0-9a-f]", "", text))


def test_worked_example_of_the_spec_matches_the_codec() -> None:
    doc = DOC.read_text(encoding="utf-8")
    pose_line = re.search(r"Pose frame \(22 bytes\): `([^`]+)`", doc).group(1)
    frame = encode_pose_frame(((1.25, 1.6, -3.0), YAW45), ((1.0, 1.2, -2.8), (0, 0, 0, 1)))
    assert frame == _hex(pose_line.replace("|", ""))
    block = re.search(r"```\n(02 00 d2 04.*?)```", doc, re.S).group(1)
    state = _hex("".join(line.split("  ")[0] for line in block.splitlines()))
    assert len(state) == 42
    expected = encode_state_frame(1234, {
        7: {"head": encode_part((1.25, 1.6, -3.0), YAW45),
            "left": encode_part((1.0, 1.2, -2.8), (0, 0, 0, 1))},
        12: {"right": None}})
    assert state == expected
    tick, visitors = decode_state_frame(state)
    assert tick == 1234 and visitors[12] == {"right": None}
    assert visitors[7]["head"][0] == pytest.approx((1.25, 1.6, -3.0))


def test_rotation_error_is_within_the_documented_bound() -> None:
    rng = random.Random(7)
    worst = 0.0
    for _ in range(20000):
        q = [rng.gauss(0, 1) for _ in range(4)]
        norm = math.sqrt(sum(v * v for v in q))
        q = [v / norm for v in q]
        r = unpack_rotation(pack_rotation(q))
        dot = min(1.0, abs(sum(a * b for a, b in zip(q, r, strict=True))))
        worst = max(worst, math.degrees(2 * math.acos(dot)))
    assert worst < 0.25
    assert worst > 0.05  # the bound is tight, not vacuous


def test_positions_within_a_millimetre_and_clamped_outside() -> None:
    rng = random.Random(3)
    for _ in range(2000):
        p = tuple(rng.uniform(-65.5, 65.5) for _ in range(3))
        decoded = decode_part(encode_part(p, (0, 0, 0, 1)))
        assert decoded is not None
        assert max(abs(a - b) for a, b in zip(decoded[0], p, strict=True)) <= 0.001 + 1e-9
    far = decode_part(encode_part((100.0, -100.0, 0.0), (0, 0, 0, 1)))
    assert far is not None and far[0][:2] == (65.534, -65.534)


@pytest.mark.parametrize(
    "frame",
    [b"", b"\x02\x00", b"\x01\x08", b"\x01\x01" + b"\x00" * 9, b"\x01\x03" + b"\x00" * 10,
     b"\x01\x00\x00"],
)
def test_bad_pose_frames_are_refused(frame: bytes) -> None:
    with pytest.raises(FrameError):
        parse_pose_frame(frame)


def test_a_client_cannot_forge_the_hidden_marker() -> None:
    forged = b"\x00\x80" + b"\x10" * 8
    mask, body = parse_pose_frame(b"\x01\x01" + forged)
    row = full_row(mask, body)
    assert row[:2] == (-32767).to_bytes(2, "little", signed=True)
    assert row[10:12] == b"\x00\x80" and row[20:22] == b"\x00\x80"  # untracked hands


def _row(x: float) -> bytes:
    return encode_part((x, 1.6, 0), (0, 0, 0, 1)) * 3


def test_frames_hold_only_news_never_your_own_avatar() -> None:
    table = PoseTable(4)
    a, b = table.add(), table.add()
    table.apply([a, b], [_row(1), _row(2)])
    frames = dict(table.frames(np.array([a, b]), nearest=24, far_period=10))
    assert set(decode_state_frame(frames[a])[1]) == {b + 1}
    assert set(decode_state_frame(frames[b])[1]) == {a + 1}
    table.tick += 1
    table.apply([a], [_row(1)])  # unchanged
    assert table.frames(np.array([a, b]), nearest=24, far_period=10) == []
    table.tick += 1
    moved = encode_part((1.5, 1.6, 0), (0, 0, 0, 1)) + _row(1)[10:]
    table.apply([a], [moved])
    frames = dict(table.frames(np.array([a, b]), nearest=24, far_period=10))
    assert list(frames) == [b]
    parts = decode_state_frame(frames[b])[1][a + 1]
    assert list(parts) == ["head"] and len(frames[b]) == 8 + 2 + 10


def test_a_receiver_that_skipped_ticks_gets_the_newest_state() -> None:
    table = PoseTable(4)
    a, b = table.add(), table.add()
    for step in range(5):
        table.apply([a], [_row(step)])
        table.frames(np.array([], dtype=np.intp), 24, 10)  # b's socket is busy: skipped
        table.tick += 1
    frames = dict(table.frames(np.array([b]), 24, 10))
    assert decode_state_frame(frames[b])[1][a + 1]["head"][0][0] == pytest.approx(4)
