"""Decode EXT_meshopt_compression buffer views (GLBs from gltfpack -cc, or from our own writer).

meshoptimizer's C decoders reject malformed streams with an error code, but they *assert* on
their size arguments, so every precondition of the extension is checked here first. We call
the C library through our own ctypes function objects with full signatures (`lib[name]` gives a
fresh object; the PyPI wrapper declares none and would pass size_t as a 32-bit int).
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable
from functools import cache

import numpy as np

_size = ctypes.c_size_t
_ptr = ctypes.c_void_p
MAX_STRIDE = 256
FILTER_STRIDES = {
    "NONE": None,
    "OCTAHEDRAL": (4, 8),
    "QUATERNION": (8,),
    "EXPONENTIAL": None,  # any multiple of 4
}


class MeshoptError(ValueError):
    """A compressed view that breaks the extension's rules or fails to decode."""


@cache
def _functions() -> dict[str, Callable[..., int | None]]:
    from meshoptimizer._loader import lib

    out: dict[str, Callable[..., int | None]] = {}
    for name in ("meshopt_decodeVertexBuffer", "meshopt_decodeIndexBuffer",
                 "meshopt_decodeIndexSequence"):  # fmt: skip
        fn = lib[name]
        fn.argtypes = [_ptr, _size, _size, _ptr, _size]
        fn.restype = ctypes.c_int
        out[name] = fn
    for name in ("meshopt_decodeFilterOct", "meshopt_decodeFilterQuat", "meshopt_decodeFilterExp"):
        fn = lib[name]
        fn.argtypes = [_ptr, _size, _size]
        fn.restype = None
        out[name] = fn
    return out


def decode_view(
    data: bytes | memoryview, count: int, stride: int, mode: str, filter_name: str
) -> bytes:
    """Decoded bytes (count * stride) of one compressed buffer view."""
    if mode == "ATTRIBUTES":
        if stride <= 0 or stride > MAX_STRIDE or stride % 4:
            raise MeshoptError(f"ATTRIBUTES byteStride {stride} must be 4..256, a multiple of 4")
        function = "meshopt_decodeVertexBuffer"
    elif mode in ("TRIANGLES", "INDICES"):
        if stride not in (2, 4):
            raise MeshoptError(f"{mode} byteStride {stride} must be 2 or 4")
        if mode == "TRIANGLES" and count % 3:
            raise MeshoptError(f"TRIANGLES count {count} is not a multiple of 3")
        function = (
            "meshopt_decodeIndexBuffer" if mode == "TRIANGLES" else ("meshopt_decodeIndexSequence")
        )
        if filter_name != "NONE":
            raise MeshoptError(f"filter {filter_name} is only allowed for ATTRIBUTES")
    else:
        raise MeshoptError(f"unknown mode {mode!r}")
    if filter_name not in FILTER_STRIDES:
        raise MeshoptError(f"unknown filter {filter_name!r}")
    allowed = FILTER_STRIDES[filter_name]
    if allowed is not None and stride not in allowed:
        raise MeshoptError(f"filter {filter_name} cannot have byteStride {stride}")

    source = np.frombuffer(data, dtype=np.uint8)
    out = np.zeros(count * stride, dtype=np.uint8)
    if count:
        fns = _functions()
        rc = fns[function](out.ctypes.data, count, stride, source.ctypes.data, source.size)
        if rc != 0:
            raise MeshoptError(f"compressed data does not decode (error {rc})")
        if filter_name == "OCTAHEDRAL":
            fns["meshopt_decodeFilterOct"](out.ctypes.data, count, stride)
        elif filter_name == "QUATERNION":
            fns["meshopt_decodeFilterQuat"](out.ctypes.data, count, stride)
        elif filter_name == "EXPONENTIAL":
            fns["meshopt_decodeFilterExp"](out.ctypes.data, count, stride)
    return out.tobytes()
