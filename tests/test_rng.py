"""The hashed uniforms: the fast forms compute exactly the SplitMix64 numbers of their definition."""

from __future__ import annotations

import numpy as np
import pytest

from azsim import rng


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_uniforms_and_the_matrix_equal_the_definition_bit_for_bit(seed):
    """uniforms/uniform_matrix fold (id * N_STREAMS + stream + 1) * GOLD + key into one multiply-add; the numbers
    must be those of rng._hash_uniforms on the counters (the layout of random numbers is part of the contract)."""
    gen = np.random.default_rng(seed)
    key = rng.replication_key(rng.replication_seed(seed, 3))
    ids = np.concatenate([np.arange(200, dtype=np.uint64), gen.integers(0, 2**63, 300, dtype=np.uint64),
                          np.array([2**64 - 1, 2**63, 2**58 + 5], dtype=np.uint64)])  # wrap-around ids too
    for stream in (0, 1, 31, 47, 55, rng.N_STREAMS - 1):
        counters = ids * np.uint64(rng.N_STREAMS) + np.uint64(stream)
        assert np.array_equal(rng.uniforms(key, ids, stream), rng._hash_uniforms(key, counters.copy()))
    matrix = rng.uniform_matrix(key, ids, 48)
    assert matrix.shape == (len(ids), 48)
    for stream in range(48):
        counters = ids * np.uint64(rng.N_STREAMS) + np.uint64(stream)
        assert np.array_equal(matrix[:, stream], rng._hash_uniforms(key, counters.copy()))
    assert ((0.0 <= matrix) & (matrix < 1.0)).all()


def test_known_values_do_not_move():
    """Three numbers of one replication's layout, recorded when the layout was fixed: a change of the hash,
    the key or the stream arithmetic changes every result, so it must be deliberate."""
    key = rng.replication_key(rng.replication_seed(20210901, 0))
    u = rng.uniforms(key, np.array([0, 1, 123456], dtype=np.uint64), 6)
    assert u.tolist() == KNOWN


KNOWN = [0.2640765629527747, 0.4451654258604788, 0.7111750174498734]  # recorded from the code before the fast forms
