"""The newest pose of every visitor of one room and the per-tick batched frames built from it.

Everything per pair of visitors is numpy: 500 visitors x 24 nearest x 20 Hz must not touch
Python per pair. Slot s holds visitor id s + 1. `version[s, part]` is the tick at which that
part last changed; `sent[r, s, part]` is the version receiver r last got, so "what changed since
you last got it" is one comparison, and a receiver that skipped ticks (slow socket) simply gets
everything newer on its next frame.
"""

from __future__ import annotations

import struct

import numpy as np

from vrculture.server.rooms.codec import (
    HIDDEN,
    PART_BYTES,
    STATE_FRAME,
    STATE_HEADER_BYTES,
)

PARTS = 3
ROW = PARTS * PART_BYTES
_HIDDEN_PART = struct.pack("<hhhI", HIDDEN, 0, 0, 0)
_HIDDEN_ROW = np.frombuffer(_HIDDEN_PART * PARTS, dtype=np.uint8)
_HEADER = struct.Struct("<BBIH")
_CLAMPED_X = struct.pack("<h", -32767)
MAX_SLOTS = 8191
_FAR_AWAY = np.float32(1e5)  # stand-in place of a head never seen: farther than any room


def full_row(mask: int, body: bytes) -> bytes:
    """Expand a pose frame's parts into the 30-byte row (absent parts = hidden marker)."""
    if mask == 0b111:
        row = body
    else:
        pieces = []
        offset = 0
        for bit in range(PARTS):
            if mask & (1 << bit):
                pieces.append(body[offset : offset + PART_BYTES])
                offset += PART_BYTES
            else:
                pieces.append(_HIDDEN_PART)
        row = b"".join(pieces)
    if mask and b"\x00\x80" in row:
        # A client must not forge the hidden marker for a part it says is tracked.
        parts = [row[i : i + PART_BYTES] for i in range(0, ROW, PART_BYTES)]
        for bit in range(PARTS):
            if mask & (1 << bit) and parts[bit][:2] == b"\x00\x80":
                parts[bit] = _CLAMPED_X + parts[bit][2:]
        row = b"".join(parts)
    return row


class PoseTable:
    def __init__(self, slots: int = 64, far_period: int = 10) -> None:
        self.tick = 1
        self.far_period = far_period
        self._alloc(max(1, slots))

    def _alloc(self, n: int) -> None:
        self.parts = np.tile(_HIDDEN_ROW, (n, 1))
        self.version = np.zeros((n, PARTS), np.int32)
        self.head = np.full((n, 3), np.inf, np.float32)
        self.active = np.zeros(n, bool)
        self.sent = np.zeros((n, n, PARTS), np.int32)
        self.published = np.zeros((n, PARTS), np.int32)
        self.last_far = np.zeros(n, np.int64)

    @property
    def capacity(self) -> int:
        return len(self.active)

    def _grow(self) -> None:
        old = (self.parts, self.version, self.head, self.active, self.sent, self.published,
               self.last_far)
        n = len(self.active)
        self._alloc(min(MAX_SLOTS, n * 2))
        self.parts[:n], self.version[:n], self.head[:n], self.active[:n] = old[:4]
        self.sent[:n, :n] = old[4]
        self.published[:n], self.last_far[:n] = old[5], old[6]

    def add(self) -> int:
        free = np.flatnonzero(~self.active)
        if len(free) == 0:
            if self.capacity >= MAX_SLOTS:
                raise OverflowError("room has no free visitor id")
            self._grow()
            free = np.flatnonzero(~self.active)
        slot = int(free[0])
        self.active[slot] = True
        self.parts[slot] = _HIDDEN_ROW
        self.version[slot] = 0
        self.head[slot] = np.inf
        self.sent[slot, :, :] = 0  # a newcomer has seen nothing...
        self.sent[:, slot, :] = 0  # ...and nobody has seen it
        self.published[slot] = 0
        # Spread the far visitors' updates over the ticks instead of all receivers at once.
        self.last_far[slot] = self.tick - slot % self.far_period
        return slot

    def remove(self, slot: int) -> None:
        self.active[slot] = False
        self.head[slot] = np.inf
        self.version[slot] = 0  # a free slot never counts as changed

    def apply(self, slots: list[int], rows: list[bytes]) -> None:
        """Store the newest rows (30 bytes each) and bump the version of the parts that changed."""
        if not slots:
            return
        idx = np.asarray(slots, dtype=np.intp)
        new = np.frombuffer(b"".join(rows), dtype=np.uint8).reshape(len(slots), ROW)
        changed = (new.reshape(-1, PARTS, PART_BYTES)
                   != self.parts[idx].reshape(-1, PARTS, PART_BYTES)).any(axis=2)
        self.parts[idx] = new
        self.version[idx] = np.where(changed, self.tick, self.version[idx])
        xyz = new[:, :6].copy().view("<i2").astype(np.float32)
        visible = xyz[:, 0] != HIDDEN
        # An untracked head keeps its last place for the nearest-visitors choice.
        self.head[idx[visible]] = xyz[visible] / 500.0

    def frames(
        self, receivers: np.ndarray, nearest: int, far_period: int
    ) -> list[tuple[int, bytes]]:
        """One state frame per receiver slot that has news: [(slot, frame bytes)]."""
        tick = self.tick
        n_active = int(self.active.sum())
        if len(receivers) == 0 or n_active < 2:
            return []
        # Whole rows (every slot as a column): a row gather is a memcpy, where gathering
        # receivers x active columns costs several times more. Free slots have version 0,
        # so they never count as changed.
        seen = self.sent[receivers]  # (R, n, 3)
        changed = self.version[None, :, :] > seen
        rows = np.arange(len(receivers))
        if n_active - 1 > nearest:
            heads = np.where(np.isfinite(self.head), self.head, _FAR_AWAY)
            mine = heads[receivers]
            # Per coordinate, not as a matrix product: BLAS with an inner size of 3 was ~30x
            # slower here (threading overhead), and differences do not cancel catastrophically.
            dist = np.square(mine[:, 0, None] - heads[None, :, 0])
            dist += np.square(mine[:, 1, None] - heads[None, :, 1])
            dist += np.square(mine[:, 2, None] - heads[None, :, 2])
            dist[rows, receivers] = np.inf
            dist[:, ~self.active] = np.inf
            near_idx = np.argpartition(dist, nearest - 1, axis=1)[:, :nearest]
            eligible = np.zeros(dist.shape, bool)
            eligible[rows[:, None], near_idx] = True
            far_due = tick - self.last_far[receivers] >= far_period
            eligible[far_due] = True
            self.last_far[receivers[far_due]] = tick
        else:
            eligible = np.ones(changed.shape[:2], bool)
        eligible[rows, receivers] = False
        include = changed & eligible[:, :, None]
        bits = include.view(np.uint8)
        mask = bits[:, :, 0] | bits[:, :, 1] << 1 | bits[:, :, 2] << 2
        ri, si = np.nonzero(mask)
        if len(ri) == 0:
            return []
        self.sent[receivers] = np.where(include, self.version[None, :, :], seen)
        entry_mask = mask[ri, si].astype(np.uint16)
        table = np.empty((len(ri), 2 + ROW), np.uint8)
        words = (si + 1).astype(np.uint16) | (entry_mask << 13)
        table[:, :2] = words.astype("<u2").view(np.uint8).reshape(-1, 2)
        table[:, 2:] = self.parts[si]
        keep = np.empty(table.shape, bool)
        keep[:, :2] = True
        inc = include[ri, si]  # (M, 3)
        keep[:, 2:] = np.repeat(inc, PART_BYTES, axis=1)
        flat = table[keep].tobytes()
        lengths = 2 + PART_BYTES * inc.sum(axis=1)
        ends = np.cumsum(np.bincount(ri, weights=lengths, minlength=len(receivers)))
        counts = np.bincount(ri, minlength=len(receivers)).tolist()
        out = []
        start = 0
        for r, end in enumerate(ends.astype(np.int64).tolist()):
            if end > start:
                header = _HEADER.pack(STATE_FRAME, 0, tick & 0xFFFFFFFF, counts[r])
                out.append((int(receivers[r]), header + flat[start:end]))
            start = end
        return out

    def changes_of(self, slots: np.ndarray) -> bytes | None:
        """A state frame of these (local) visitors' parts changed since last published."""
        if len(slots) == 0:
            return None
        inc = self.version[slots] > self.published[slots]
        mask = inc[:, 0].astype(np.uint16) | inc[:, 1].astype(np.uint16) << 1 | (
            inc[:, 2].astype(np.uint16) << 2)
        pick = np.flatnonzero(mask)
        if len(pick) == 0:
            return None
        chosen = slots[pick]
        self.published[chosen] = self.version[chosen]
        table = np.empty((len(pick), 2 + ROW), np.uint8)
        words = (chosen + 1).astype("<u2") | (mask[pick] << 13).astype("<u2")
        table[:, :2] = words.view(np.uint8).reshape(-1, 2)
        table[:, 2:] = self.parts[chosen]
        keep = np.empty(table.shape, bool)
        keep[:, :2] = True
        keep[:, 2:] = np.repeat(inc[pick], PART_BYTES, axis=1)
        header = _HEADER.pack(STATE_FRAME, 0, self.tick & 0xFFFFFFFF, len(pick))
        return header + table[keep].tobytes()


assert _HEADER.size == STATE_HEADER_BYTES
