"""Random numbers keyed by (replication, order, decision): common random numbers by construction.

Every random decision about an order reads a uniform computed from a hash of the replication
key, the order id and the decision's stream number (a counter-based generator built on the
SplitMix64 finaliser). The same order therefore meets the same luck under every policy, and
under every seller practice level, whatever order the simulation visits it in. Arrival counts
come from a ``numpy.random.Generator`` seeded from ``SeedSequence(seed, spawn_key=(rep, ...))``.
"""

from __future__ import annotations

import math

import numpy as np

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLD = np.uint64(0x9E3779B97F4A7C15)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)

N_STREAMS = 64
"""Decision streams per order; stream numbers live in :mod:`azsim.world`."""



def _mix(z: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser, in place (z is uint64)."""
    t = np.right_shift(z, _S30)
    z ^= t
    z *= _M1
    np.right_shift(z, _S27, out=t)
    z ^= t
    z *= _M2
    np.right_shift(z, _S31, out=t)
    z ^= t
    return z


def _hash_uniforms(key: np.uint64, counters: np.ndarray) -> np.ndarray:
    """SplitMix64 output number ``counter`` of the sequence seeded by ``key``, as a double in [0, 1): the
    definition :func:`uniforms` and :func:`uniform_matrix` compute in fewer passes (tests/test_rng.py)."""
    z = counters  # a fresh uint64 array the caller owns
    with np.errstate(over="ignore"):
        z += np.uint64(1)
        z *= _GOLD
        z += key
    return _uniforms_of_states(z)


def replication_seed(seed: int, replication: int, variant: int = 0) -> np.random.SeedSequence:
    """The SeedSequence of one replication: child ``replication`` of ``seed``.

    ``variant`` > 0 gives an independent world for the same replication; it exists only to
    measure what common random numbers buy (``compare(..., common_random_numbers=False)``).
    """
    key = (int(replication),) if variant == 0 else (int(replication), 1_000_000 + int(variant))
    return np.random.SeedSequence(int(seed), spawn_key=key)


def replication_key(seq: np.random.SeedSequence, account: bool = False) -> np.uint64:
    """A 64-bit key for the hashed uniforms of one replication.

    ``account=True`` gives the key of account-level draws (reviews, suspensions, months), which
    are indexed by day; a separate key keeps them apart from the orders' draws.
    """
    return np.uint64(seq.generate_state(2, np.uint64)[1 if account else 0])


def chunk_generator(seq: np.random.SeedSequence, chunk: int) -> np.random.Generator:
    """The generator for arrival counts and times of one chunk of days."""
    child = np.random.SeedSequence(seq.entropy, spawn_key=tuple(seq.spawn_key) + (1, int(chunk)))
    return np.random.Generator(np.random.PCG64(child))


def _offsets(key: np.uint64, streams: np.ndarray) -> np.ndarray:
    """``(stream + 1) * GOLD + key`` (mod 2**64) for each stream: with ``id * N_STREAMS * GOLD`` added, the
    SplitMix64 state of counter ``id * N_STREAMS + stream`` (multiplication distributes mod 2**64)."""
    with np.errstate(over="ignore"):
        return (streams.astype(np.uint64) + np.uint64(1)) * _GOLD + np.uint64(key)


_ID_STEP = np.uint64((N_STREAMS * int(_GOLD)) % 2**64)  # N_STREAMS * GOLD, mod 2**64


def _uniforms_of_states(z: np.ndarray) -> np.ndarray:
    """The SplitMix64 outputs of states ``z`` (uint64, owned by the caller), as doubles in [0, 1)."""
    with np.errstate(over="ignore"):
        _mix(z)
    z >>= _S11
    out = z.astype(np.float64)
    out *= 1.0 / 9007199254740992.0
    return out


def uniforms(key: np.uint64, ids: np.ndarray, stream: int) -> np.ndarray:
    """Uniforms in [0, 1) for each id in ``ids`` (uint64) on decision ``stream``: the same numbers as
    :func:`_hash_uniforms` of the counters ``ids * N_STREAMS + stream``, in fewer passes."""
    with np.errstate(over="ignore"):
        z = ids.astype(np.uint64) * _ID_STEP
        z += _offsets(key, np.array([stream]))[0]
    return _uniforms_of_states(z)


def uniform_matrix(key: np.uint64, ids: np.ndarray, n_streams: int) -> np.ndarray:
    """A (len(ids), n_streams) array: column s holds ``uniforms(key, ids, s)``."""
    with np.errstate(over="ignore"):
        z = ids.astype(np.uint64)[:, None] * _ID_STEP + _offsets(key, np.arange(n_streams))
    return _uniforms_of_states(z)


def exponential(u: float, mean: float, _log1p=math.log1p) -> float:
    """Inverse-CDF exponential draw with the given mean from a uniform ``u``."""
    return -mean * _log1p(-u) if mean > 0 else 0.0
