"""Safe calls into meshoptimizer's C library where the PyPI wrapper (0.2.30a0) is unsafe.

The wrapper declares no ctypes `argtypes` for `meshopt_simplifyWithAttributes`,
`meshopt_optimizeVertexCacheStrip`, `meshopt_optimizeVertexFetchRemap` and the decode filters,
so ctypes passes `size_t` arguments as 32-bit ints and a Python float not at all (a TypeError,
then a segfault once worked around). We declare the C signatures here, once, and call the
library directly with contiguous arrays of the right dtype.
"""

from __future__ import annotations

import ctypes
from functools import cache

import numpy as np

_size = ctypes.c_size_t
_ptr = ctypes.c_void_p


@cache
def _lib():
    from meshoptimizer._loader import lib

    lib.meshopt_simplifyWithAttributes.argtypes = [
        _ptr, _ptr, _size, _ptr, _size, _size, _ptr, _size, _ptr, _size, _ptr, _size,
        ctypes.c_float, ctypes.c_uint, ctypes.POINTER(ctypes.c_float),
    ]
    lib.meshopt_simplifyWithAttributes.restype = _size
    lib.meshopt_optimizeVertexCacheStrip.argtypes = [_ptr, _ptr, _size, _size]
    lib.meshopt_optimizeVertexCacheStrip.restype = None
    lib.meshopt_spatialSortTriangles.argtypes = [_ptr, _ptr, _size, _ptr, _size, _size]
    lib.meshopt_spatialSortTriangles.restype = None
    lib.meshopt_optimizeVertexFetchRemap.argtypes = [_ptr, _ptr, _size, _size]
    lib.meshopt_optimizeVertexFetchRemap.restype = _size
    lib.meshopt_generateVertexRemap.argtypes = [_ptr, _ptr, _size, _ptr, _size, _size]
    lib.meshopt_generateVertexRemap.restype = _size
    lib.meshopt_encodeFilterOct.argtypes = [_ptr, _size, _size, ctypes.c_int, _ptr]
    lib.meshopt_encodeFilterOct.restype = None
    for name in ("meshopt_decodeFilterOct", "meshopt_decodeFilterExp"):
        getattr(lib, name).argtypes = [_ptr, _size, _size]
        getattr(lib, name).restype = None
    return lib


def simplify_with_attributes(
    indices: np.ndarray,
    positions: np.ndarray,
    attributes: np.ndarray,
    weights: np.ndarray,
    *,
    target_index_count: int,
    target_error: float,
    options: int = 0,
    vertex_lock: np.ndarray | None = None,
) -> tuple[np.ndarray, float]:
    """Return (new index buffer, relative error). Arrays are (N, k) float32 / flat uint32."""
    lib = _lib()
    indices = np.ascontiguousarray(indices.reshape(-1), dtype=np.uint32)
    positions = np.ascontiguousarray(positions, dtype=np.float32)
    attributes = np.ascontiguousarray(attributes, dtype=np.float32)
    weights = np.ascontiguousarray(weights, dtype=np.float32)
    if attributes.shape[0] != positions.shape[0] or attributes.shape[1] != len(weights):
        raise ValueError("attributes must have one row per vertex and one weight per column")
    if len(indices) and int(indices.max()) >= len(positions):
        raise ValueError("index out of range")
    lock = None
    if vertex_lock is not None:
        lock = np.ascontiguousarray(vertex_lock, dtype=np.uint8)
    destination = np.zeros(len(indices), dtype=np.uint32)
    error = ctypes.c_float(0.0)
    count = lib.meshopt_simplifyWithAttributes(
        destination.ctypes.data, indices.ctypes.data, len(indices),
        positions.ctypes.data, len(positions), positions.strides[0],
        attributes.ctypes.data, attributes.strides[0], weights.ctypes.data, len(weights),
        None if lock is None else lock.ctypes.data,
        target_index_count, target_error, options, ctypes.byref(error),
    )
    return destination[:count].copy(), float(error.value)


def vertex_cache_strip(indices: np.ndarray, vertex_count: int) -> np.ndarray:
    """Triangles reordered for the vertex cache with strip-like locality (flat uint32)."""
    lib = _lib()
    indices = np.ascontiguousarray(indices.reshape(-1), dtype=np.uint32)
    if len(indices) and int(indices.max()) >= vertex_count:
        raise ValueError("index out of range")
    destination = np.zeros_like(indices)
    lib.meshopt_optimizeVertexCacheStrip(
        destination.ctypes.data, indices.ctypes.data, len(indices), vertex_count
    )
    return destination


def spatial_sort_triangles(indices: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Triangles reordered along a space-filling curve of their centres (flat uint32)."""
    lib = _lib()
    indices = np.ascontiguousarray(indices.reshape(-1), dtype=np.uint32)
    positions = np.ascontiguousarray(positions, dtype=np.float32)
    if len(indices) and int(indices.max()) >= len(positions):
        raise ValueError("index out of range")
    destination = np.zeros_like(indices)
    lib.meshopt_spatialSortTriangles(destination.ctypes.data, indices.ctypes.data, len(indices),
                                     positions.ctypes.data, len(positions), positions.strides[0])
    return destination


def vertex_fetch_remap(indices: np.ndarray, vertex_count: int) -> tuple[np.ndarray, int]:
    """Remap (old vertex -> new, ~0 for unused) ordering vertices by first use; (remap, count)."""
    lib = _lib()
    indices = np.ascontiguousarray(indices.reshape(-1), dtype=np.uint32)
    if len(indices) and int(indices.max()) >= vertex_count:
        raise ValueError("index out of range")
    remap = np.zeros(vertex_count, dtype=np.uint32)
    unique = lib.meshopt_optimizeVertexFetchRemap(
        remap.ctypes.data, indices.ctypes.data, len(indices), vertex_count
    )
    return remap, int(unique)


def decode_filter(kind: str, data: np.ndarray, stride: int) -> np.ndarray:
    """Apply the OCTAHEDRAL or EXPONENTIAL decode filter to a copy of `data` (for tests)."""
    lib = _lib()
    buffer = np.ascontiguousarray(data).copy()
    count = buffer.nbytes // stride
    function = {"OCTAHEDRAL": lib.meshopt_decodeFilterOct,
                "EXPONENTIAL": lib.meshopt_decodeFilterExp}[kind]
    function(buffer.ctypes.data, count, stride)
    return buffer


def encode_filter_octahedral(vectors: np.ndarray, bits: int) -> np.ndarray:
    """(N, 3) unit vectors -> (N, 4) int8 OCTAHEDRAL filter input (w = 0), by the library's
    encoder (the one gltfpack uses; 3x faster than the same steps in numpy)."""
    lib = _lib()
    if not 2 <= bits <= 8:
        raise ValueError("octahedral bits must be 2..8 for 4-byte elements")
    source = np.zeros((len(vectors), 4), dtype=np.float32)  # the encoder reads 4 floats each
    source[:, :3] = vectors
    destination = np.zeros((len(vectors), 4), dtype=np.int8)
    lib.meshopt_encodeFilterOct(destination.ctypes.data, len(vectors), 4, bits,
                                source.ctypes.data)
    return destination


def unique_rows_remap(rows: np.ndarray) -> tuple[np.ndarray, int]:
    """(remap, unique count): equal rows (bitwise) share one slot, numbered in row order.

    The library's remap over the rows themselves, not through an index buffer: a welded
    source's index buffer holds each vertex ~6 times (1.6M triangles: 0.09 s through the
    indices, against ~0.03 s over the 800k rows).
    """
    lib = _lib()
    rows = np.ascontiguousarray(rows)
    count = len(rows)
    remap = np.zeros(count, dtype=np.uint32)
    if count == 0:
        return remap, 0
    unique = lib.meshopt_generateVertexRemap(remap.ctypes.data, None, count, rows.ctypes.data,
                                             count, rows.strides[0])
    return remap, int(unique)
