"""Our numpy encoders for the EXT_meshopt_compression filters, checked with the C decoders."""

from __future__ import annotations

import numpy as np
import pytest

from vrculture.pipeline.meshopt_ffi import decode_filter
from vrculture.pipeline.writer.filters import encode_exponential, encode_octahedral


def _unit(rng, count):
    v = rng.standard_normal((count, 3))
    return v / np.linalg.norm(v, axis=1, keepdims=True)


@pytest.mark.parametrize("bits, max_degrees", [(8, 1.2), (6, 5.0)])
def test_octahedral_round_trip(bits, max_degrees):
    rng = np.random.default_rng(1)
    normals = np.vstack([np.eye(3), -np.eye(3), _unit(rng, 20000)])
    encoded = encode_octahedral(normals, bits)
    decoded = decode_filter("OCTAHEDRAL", encoded, 4)[:, :3].astype(np.float64)
    assert np.abs(np.linalg.norm(decoded, axis=1) - 127).max() < 1.5  # unit, scaled to 127
    decoded /= np.linalg.norm(decoded, axis=1, keepdims=True)
    angle = np.degrees(np.arccos(np.clip(np.einsum("ij,ij->i", decoded, normals), -1, 1)))
    assert angle.max() < max_degrees
    np.testing.assert_allclose(decoded[:6], normals[:6], atol=1e-6)  # axes are exact


def test_exponential_round_trip_uses_a_shared_exponent():
    rng = np.random.default_rng(2)
    values = np.column_stack([rng.uniform(-3, 7, 5000), rng.uniform(0, 0.001, 5000)])
    encoded = encode_exponential(values)
    assert len(np.unique(encoded[:, 0] >> 24)) == 1  # one exponent per component
    decoded = decode_filter("EXPONENTIAL", encoded, 8).view(np.float32)
    assert np.abs(decoded - values).max() <= 2.0**-15 + 1e-9
    assert np.abs(decoded[:, 1] - values[:, 1]).max() <= 2.0**-15


def test_exponential_keeps_large_values_to_23_bits():
    values = np.array([[1e6, -2.5e5], [3.25, 0.0]])
    decoded = decode_filter("EXPONENTIAL", encode_exponential(values), 8).view(np.float32)
    np.testing.assert_allclose(decoded, values, rtol=2.0**-22, atol=0.25)


def test_exponential_refuses_non_finite():
    with pytest.raises(ValueError):
        encode_exponential(np.array([[np.nan, 1.0]]))
