"""Encode side of EXT_meshopt_compression's OCTAHEDRAL and EXPONENTIAL filters.

The `meshoptimizer` wrapper exposes only the decode filters; OCTAHEDRAL calls the C library's
encoder through meshopt_ffi, EXPONENTIAL is numpy. These follow the extension's
specification (the decoder is the reference: tests round-trip through it):
- OCTAHEDRAL, 4-byte elements: bytes x, y are the octahedral projection of a unit vector as
  K-bit signed normalised integers, z holds 2^(K-1)-1 (which tells the decoder K), w is kept.
  Decoded: a unit vector scaled to the component type's maximum (127 for bytes).
- EXPONENTIAL, 4-byte elements: a signed 8-bit exponent e in the top byte and a signed 24-bit
  mantissa m below; decoded value = m * 2^e. A shared exponent per component (as gltfpack's
  default) turns the low mantissa bits into zeros, which the vertex codec compresses well.
"""

from __future__ import annotations

import numpy as np


def encode_octahedral(vectors: np.ndarray, bits: int = 8) -> np.ndarray:
    """(N, 3) unit vectors -> (N, 4) int8 filter input (w = 0).

    meshoptimizer's own encoder (`meshopt_encodeFilterOct`, as gltfpack): the same steps in
    numpy (float64) took 27 ms on 276k normals against 8 ms, and rounded 5 of them differently.
    """
    from vrculture.pipeline.meshopt_ffi import encode_filter_octahedral

    return encode_filter_octahedral(np.asarray(vectors), bits)


def encode_exponential(values: np.ndarray, *, min_exponent: int = -14) -> np.ndarray:
    """(N, C) floats -> (N, C) uint32 filter input, one shared exponent per column.

    The exponent is the smallest that keeps each column's largest magnitude in 23 bits of
    mantissa, but never below `min_exponent` (the step size is 2^min_exponent): precision the
    data does not need would only cost compressed bytes.
    """
    v = np.asarray(values, dtype=np.float64)
    if v.ndim != 2:
        raise ValueError("expected a 2-D array")
    if not np.isfinite(v).all():
        raise ValueError("non-finite values cannot be encoded")
    out = np.zeros(v.shape, dtype=np.uint32)
    for column in range(v.shape[1]):
        largest = float(np.abs(v[:, column]).max()) if len(v) else 0.0
        exponent = int(np.frexp(largest)[1]) - 23 if largest > 0 else min_exponent
        exponent = max(min(exponent, 127), min_exponent, -100)
        mantissa = np.round(v[:, column] / 2.0**exponent).astype(np.int64)
        mantissa = np.clip(mantissa, -(1 << 23) + 1, (1 << 23) - 1)
        out[:, column] = ((exponent & 0xFF) << 24) | (mantissa & 0xFFFFFF)
    return out
