"""Per-column min and max of (N, k) arrays.

numpy reduces a C-ordered (N, 3) array over axis 0 with an inner loop 3 items long: 3.4 ms
on 134k float32 positions, against 0.13 ms for three strided 1-D reductions (the bounds are
taken ~20 times per conversion: normalise, levels, writer, error measurement).
"""

from __future__ import annotations

import numpy as np


def column_min(array: np.ndarray) -> np.ndarray:
    return np.array([array[:, k].min() for k in range(array.shape[1])], dtype=array.dtype)


def column_max(array: np.ndarray) -> np.ndarray:
    return np.array([array[:, k].max() for k in range(array.shape[1])], dtype=array.dtype)
